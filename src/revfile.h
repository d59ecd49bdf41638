/*
 * revfile.h -- the revoked-keys file sshd reads (RevokedKeys).
 *
 * sshd refuses every public key when that file is missing or has one line
 * it cannot read, so this file is handled with more care than any other:
 * its directory must be root's all the way down, it is owned by root, mode
 * 0644, and it only ever holds comment lines and canonical "type base64"
 * lines, LF only.  A rewrite is rendered, checked line by line, written to
 * a temporary, read back and compared, and only then renamed over the old
 * one.  A file we did not write and cannot vouch for (a binary KRL, a line
 * with options, a line that is not a key) is left alone: KE_CONFIG.
 */
#ifndef KEYADM_REVFILE_H
#define KEYADM_REVFILE_H

#include <limits.h>
#include <sys/stat.h>

#include "authkeys.h"

struct revfile {
	int		 dirfd;		/* its directory; -1 if none */
	int		 lockfd;	/* holds its lock (safefs_lock); -1 */
	char		 name[NAME_MAX + 1];
	char		 disp[PATH_MAX];	/* for messages (with --root) */
	struct stat	 st;		/* what was read; zero if missing */
	int		 existed;
	struct authkeys	*ak;
};

/*
 * Open, lock and read the file at absolute path inside the tree at rootfd.
 * create: make the last directory (root, 0755) if it is missing; without
 * it a missing directory reads as an empty file (dirfd -1, and
 * revfile_write must not be called).  A missing file reads as empty.  On
 * failure msg holds "<path>: <problem>"; rf needs revfile_close() either
 * way.
 */
int	revfile_open(struct revfile *rf, int rootfd, const char *dispprefix,
	    const char *path, int create, int lock_ms, char *msg,
	    size_t msglen);
/* 1 when blob is listed, else 0. */
/*
 * Release the lock but keep what was read, for lookups only (no
 * revfile_write after it); revfile_close still frees it.
 */
void	revfile_unlock(struct revfile *rf);
int	revfile_contains(const struct revfile *rf, const unsigned char *blob,
	    size_t bloblen);
/*
 * List a key ("type b64"): 0 when added, 1 when already there, KE_POLICY
 * for a key that must not go into the file (ssh-dss, which OpenSSH 10
 * cannot read, or anything keyparse refuses), or another KE_*.
 */
int	revfile_add(struct revfile *rf, const char *type, const char *b64);
/* Unlist every line of blob; returns how many went. */
size_t	revfile_remove(struct revfile *rf, const unsigned char *blob,
	    size_t bloblen);
/* The rendered file (malloc'd); for --dry-run diffs.  0 or KE_NOMEM. */
int	revfile_render(const struct revfile *rf, char **out, size_t *outlen);
/*
 * Check, write, read back and rename.  On success msg may hold a warning
 * (replaced, directory not synced).
 */
int	revfile_write(struct revfile *rf, char *msg, size_t msglen);
void	revfile_close(struct revfile *rf);

#endif
