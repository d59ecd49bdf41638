/*
 * accounts.h -- who an account is: uid, gid, groups, home.
 *
 * Under --root the password and group databases are that tree's etc/passwd
 * and etc/group, read through the root directory descriptor; otherwise the
 * system's (getpwnam_r, getgrouplist).  The environment is never consulted.
 */
#ifndef KEYADM_ACCOUNTS_H
#define KEYADM_ACCOUNTS_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "privs.h"

#define USERNAME_MAX	32	/* as useradd's default limit */

struct account {
	char	name[USERNAME_MAX + 1];
	uid_t	uid;
	gid_t	gid;
	char	home[PATH_MAX];
	gid_t	groups[PRIVS_GROUPS_MAX];
	size_t	ngroups;
};

/*
 * 1 if name is an acceptable account name: POSIX portable characters, a
 * final "$" (Samba machines) and "@" after the first (SSSD and winbind
 * users, user@domain); never "/", never leading "-".
 */
int	accounts_valid_name(const char *name);

/*
 * Look name up.  rootfd < 0: the system databases; else the tree's
 * etc/passwd and etc/group.  KE_NOUSER when unknown, KE_CONFIG when the
 * home is not an absolute path, KE_IO when the database cannot be read.
 */
int	accounts_lookup(int rootfd, const char *name, struct account *out);

/*
 * The id of group name into *gid.  rootfd < 0: the system's group
 * database; else the tree's etc/group.  KE_NOUSER when unknown (or not a
 * valid name), KE_IO when the database cannot be read.
 */
int	accounts_group_gid(int rootfd, const char *name, gid_t *gid);

typedef int (*accounts_cb)(const struct account *a, void *arg);

/*
 * Call cb for every account of the password database (rootfd < 0: the
 * system's, through the name service; else the tree's etc/passwd and
 * etc/group, each read once), in the database's order, each name once (the
 * first entry wins, as for a lookup), with its groups.  Entries whose name
 * is not valid (accounts_valid_name) or whose home is not absolute are
 * skipped: sshd could not use them either.  A non-zero return of cb stops
 * the walk and is returned.  KE_IO when the database cannot be read,
 * KE_NOMEM.  Under a tree, no etc/passwd is no account: 0 without a call.
 * cb must not use setpwent/getpwent/endpwent itself (lookups by name are
 * fine).
 */
int	accounts_each(int rootfd, accounts_cb cb, void *arg);

/*
 * Every account accounts_each gives, read once, for a run that looks up
 * many names (import, audit): with the system's files database a lookup
 * by name is a linear scan.  A name not in it may still be one the name
 * service does not enumerate: look it up again with accounts_lookup.
 */
struct accounts_cache;
int	accounts_cache_new(int rootfd, struct accounts_cache **out);
/* 0 and *out, or KE_NOUSER when the name is not in the cache. */
int	accounts_cache_lookup(const struct accounts_cache *ac,
	    const char *name, struct account *out);
void	accounts_cache_free(struct accounts_cache *ac);

#endif
