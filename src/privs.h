/*
 * privs.h -- switch effective ids to an account and back.
 *
 * Order: groups, gid, uid to become; uid, gid, groups to restore.  Only when
 * running with euid 0; otherwise both calls are no-ops returning 0.
 */
#ifndef KEYADM_PRIVS_H
#define KEYADM_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

#define PRIVS_GROUPS_MAX	256

struct privs_saved {
	int	active;		/* 1 when switched */
	uid_t	euid;
	gid_t	egid;
	int	ngroups;
	gid_t	groups[PRIVS_GROUPS_MAX];
};

/* Become uid/gid with supplementary groups; fill save.  KE_INTERNAL on error. */
int	privs_become(struct privs_saved *save, uid_t uid, gid_t gid,
	    const gid_t *groups, size_t ngroups);
/* Undo privs_become; KE_INTERNAL if it cannot (the caller must stop). */
int	privs_restore(struct privs_saved *save);

#endif
