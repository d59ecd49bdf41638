/*
 * privs.c -- switch effective ids to an account and back.
 *
 * keyadm does its work in a user's home with that user's file-system
 * identity, so the kernel checks her permissions as well as ours (sshd and
 * pam-u2f do the same).  Only the effective ids change; the real and saved
 * ids stay root, which is what lets privs_restore return.
 *
 * Invariants (each has a test in tests/unit/test_safefs.c):
 *
 * MUST do nothing, and succeed, when not running with euid 0.
 * MUST become in the order groups, gid, uid and restore in the order uid,
 *	gid, groups: only root may set groups and gid.
 * MUST verify every switch with geteuid/getegid (and getgroups on restore);
 *	any failure is KE_INTERNAL and the caller stops.
 * MUST undo a half-done privs_become before reporting its failure.
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "privs.h"

static int	restore_ids(const struct privs_saved *);
static int	groups_are(const gid_t *, int);

/* Put back euid, egid and groups from save; -1 if any step fails. */
static int
restore_ids(const struct privs_saved *save)
{
	int	r = 0;

	if (seteuid(save->euid) == -1)
		r = -1;
	if (setegid(save->egid) == -1)
		r = -1;
	if (setgroups((size_t)save->ngroups, save->groups) == -1)
		r = -1;
	if (geteuid() != save->euid || getegid() != save->egid)
		r = -1;
	return r;
}

/* Are the supplementary groups exactly groups[0..n)? */
static int
groups_are(const gid_t *groups, int n)
{
	gid_t	now[PRIVS_GROUPS_MAX];
	int	got;

	if ((got = getgroups(PRIVS_GROUPS_MAX, now)) == -1 || got != n)
		return 0;
	return n == 0 || memcmp(now, groups, (size_t)n * sizeof(gid_t)) == 0;
}

int
privs_become(struct privs_saved *save, uid_t uid, gid_t gid,
    const gid_t *groups, size_t ngroups)
{
	int	n, saved_errno;

	memset(save, 0, sizeof(*save));
	if (geteuid() != 0)
		return 0;	/* not root, or already switched: nothing to do */
	if (ngroups > PRIVS_GROUPS_MAX || (groups == NULL && ngroups > 0))
		return KE_INTERNAL;
	save->euid = geteuid();
	save->egid = getegid();
	if ((n = getgroups(PRIVS_GROUPS_MAX, save->groups)) == -1)
		return KE_INTERNAL;
	save->ngroups = n;
	if (setgroups(ngroups, groups) == -1 || setegid(gid) == -1 ||
	    seteuid(uid) == -1 || geteuid() != uid || getegid() != gid)
		goto undo;
	save->active = 1;
	return 0;
 undo:
	saved_errno = errno;
	(void)restore_ids(save);
	errno = saved_errno;
	return KE_INTERNAL;
}

int
privs_restore(struct privs_saved *save)
{
	if (!save->active)
		return 0;
	if (restore_ids(save) == -1 ||
	    !groups_are(save->groups, save->ngroups))
		return KE_INTERNAL;
	save->active = 0;
	return 0;
}
