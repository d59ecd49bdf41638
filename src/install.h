/*
 * install.h -- an account's authorized_keys file, opened safely.
 *
 * Glue between accounts, safefs, privs and authkeys: expands the configured
 * pattern, walks to the file's directory (as root up to the home, as the
 * account inside it), takes the lock, reads and parses the file, and later
 * replaces it atomically.  Between calls the effective ids are root's again;
 * only the descriptors are kept.
 */
#ifndef KEYADM_INSTALL_H
#define KEYADM_INSTALL_H

#include <limits.h>
#include <sys/stat.h>

#include "accounts.h"
#include "authkeys.h"
#include "safefs.h"

struct keyfile {
	int		 dirfd;		/* directory holding the file */
	int		 lockfd;	/* holds its lock (safefs_lock); -1 */
	char		 name[NAME_MAX + 1];
	char		 path[PATH_MAX];	/* as sshd sees it (in the tree) */
	char		 disp[PATH_MAX];	/* for messages (with --root) */
	int		 in_home;	/* 1: act as the account inside it */
	uid_t		 uid;		/* owner of the file */
	gid_t		 gid;
	mode_t		 mode;
	const struct account *acct;
	struct stat	 st;		/* what was read; zero if missing */
	int		 existed;
	struct authkeys	*ak;
};

/*
 * Expand pattern's tokens (%h %u %U %%) for acct into out; a relative
 * result is taken relative to the home, as sshd does.  KE_CONFIG on an
 * unknown token or an over-long result.
 */
int	keyfile_expand(const char *pattern, const struct account *acct,
	    char *out, size_t outlen);

enum keyfile_flags {
	KEYFILE_CREATE = 1 << 0,	/* make missing directories */
	KEYFILE_NOHOME_OK = 1 << 1,	/* a missing home holds no keys */
	KEYFILE_NOLOCK = 1 << 2		/* read only, without the lock */
};

/*
 * Open, lock and read acct's key file.  KEYFILE_CREATE: make missing
 * directories below the home (0700, owned by the account).  On failure
 * msg holds "<path>: <problem>"; kf needs keyfile_close() either way.
 * Without KEYFILE_CREATE, a missing directory below the home reads as an
 * empty file (kf->dirfd stays -1 and keyfile_write must not be called);
 * so does a missing home (or central directory's parent) with
 * KEYFILE_NOHOME_OK, which is otherwise KE_CANTCREATE.
 */
int	keyfile_open(struct keyfile *kf, int rootfd, const char *dispprefix,
	    const char *pattern, const struct account *acct, int flags,
	    int lock_ms, char *msg, size_t msglen);
/*
 * Index of the first line that lets k log in as the account (lines with
 * cert-authority name a CA and do not count), or -1.
 */
ssize_t	keyfile_find(const struct keyfile *kf, const unsigned char *blob,
	    size_t bloblen);
/* The same, from line start on. */
ssize_t	keyfile_find_from(const struct keyfile *kf, const unsigned char *blob,
	    size_t bloblen, size_t start);
/* 1 when the line names a certificate authority (cert-authority). */
int	keyfile_line_is_ca(const struct authkeys_entry *e);
/*
 * Render kf->ak and replace the file atomically.  On success msg may hold a
 * warning (the file was replaced but its directory could not be synced).
 */
int	keyfile_write(struct keyfile *kf, char *msg, size_t msglen);
/* Release the lock and descriptors, free the parsed file. */
void	keyfile_close(struct keyfile *kf);

#endif
