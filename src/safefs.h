/*
 * safefs.h -- every touch of a path in a directory other users control.
 *
 * Takes directory descriptors, never follows a symbolic link, never opens a
 * FIFO blocking, never writes through a hard link.  Knows nothing of keys.
 * Every function that fails fills msg with "<path>: <problem>" where path is
 * the display path (as an administrator would type it), so the caller can
 * print "keyadm: " + msg.
 */
#ifndef KEYADM_SAFEFS_H
#define KEYADM_SAFEFS_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SAFEFS_MSG_MAX	512	/* size of a message buffer */
#define INPUT_MAX	(64 * 1024)	/* largest submitted key file */
#define SAFEFS_LINKS_MAX 16	/* root's symbolic links followed in a walk */

/*
 * Open the directory at absolute path (inside the tree rooted at rootfd) one
 * component at a time with O_NOFOLLOW.  Every component must be a directory
 * owned by root or by uid, with no group or other write (sshd StrictModes).
 * A symbolic link only root can have made or change (owned by root, in a
 * directory owned by root without group or other write: /bin -> usr/bin)
 * is followed inside the tree; any other link is refused.
 * dispprefix is prepended to path in messages ("" or the --root dir).
 * Returns 0 and *outfd, or KE_UNSAFE (unsafe component), KE_NOINPUT (missing),
 * KE_IO.
 */
int	safefs_walk(int rootfd, const char *dispprefix, const char *path,
	    uid_t uid, int *outfd, char *msg, size_t msglen);

/*
 * Open the subdirectory name of dirfd, creating it with mode if missing and
 * create is set (mkdirat, reopen O_NOFOLLOW, fchown/fchmod on the descriptor).
 * An existing one must be a directory owned by uid (or root), no group/other
 * write.  disp is the display path of the subdirectory.
 */
int	safefs_subdir(int dirfd, const char *disp, const char *name,
	    uid_t uid, gid_t gid, mode_t mode, int create, int *outfd,
	    char *msg, size_t msglen);

/*
 * The lock for changing files in dirfd (exclusive, between keyadm runs),
 * waiting at most timeout_ms; KE_BUSY after.  *lockfd holds it: close it
 * to release.  In a directory owned by our effective uid (root's /etc/ssh,
 * a central layout) the lock is a flock on SAFEFS_LOCK_NAME there, made
 * 0600 when missing, which no other user can open, so none can hold up a
 * revocation; in an account's directory, the directory itself.
 */
#define SAFEFS_LOCK_NAME	".keyadm.lock"
int	safefs_lock(int dirfd, const char *disp, int timeout_ms, int *lockfd,
	    char *msg, size_t msglen);

/*
 * Read the file name in dirfd: O_NOFOLLOW|O_NONBLOCK, must be a regular
 * file, one link, owned by root or uid, no group/other write, at most cap
 * bytes, and the byte count must equal st_size.  A missing file is not an
 * error: *buf = NULL, *len = 0, 0 returned.  On success *buf is malloc'd and
 * NUL-terminated; *st (if not NULL) receives the fstat of what was read
 * (zeroed when missing).
 */
int	safefs_read(int dirfd, const char *disp, const char *name, uid_t uid,
	    size_t cap, char **buf, size_t *len, struct stat *st, char *msg,
	    size_t msglen);

/*
 * Atomically replace name in dirfd with buf.  The caller holds dirfd's lock
 * (safefs_lock).  The temporary is ".NAME.keyadm~new" in dirfd
 * (O_CREAT|O_EXCL|O_NOFOLLOW; one left by a killed run is unlinked first);
 * fchown(uid, gid) and fchmod(mode) on the descriptor, write all, fsync,
 * read back and compare, close, check that name is still what was read
 * (expect: the stat safefs_read gave, or NULL if it was missing; otherwise
 * KE_BUSY), renameat, fsync dirfd.  Any failure unlinks the temporary.
 * KE_CANTCREATE or KE_IO on failure.  When the rename was done but the
 * directory could not be synced, 0 is returned with msg set (a warning for
 * the caller to print); otherwise msg is untouched on success.
 */
int	safefs_replace(int dirfd, const char *disp, const char *name,
	    const char *buf, size_t len, uid_t uid, gid_t gid, mode_t mode,
	    const struct stat *expect, char *msg, size_t msglen);

/*
 * Whether something is at absolute path in the tree, looked at without
 * following any link or judging owners: 0 when a component is missing,
 * 1 otherwise (also when a link or an error is in the way, or path names
 * ".."), so a caller may pass over an unsafe path that leads nowhere.
 */
int	safefs_exists(int rootfd, const char *path);

/*
 * Split an absolute path into its directory ("/" for a top-level name) and
 * its last component, which must be a valid name (not "", ".", ".." and
 * at most NAME_MAX).  0, or KE_CONFIG.
 */
int	safefs_split(const char *path, char *dir, size_t dirlen, char *name,
	    size_t namelen);

/*
 * Read a submitted file by path: O_NOFOLLOW|O_NONBLOCK, regular, one link
 * (a hard link could stand for a file the submitter cannot read), at most cap
 * bytes (more: KE_MALFORMED "larger than N bytes").  KE_NOINPUT when missing
 * or unreadable or not a regular file.  "-" reads standard input (cap too).
 */
int	safefs_read_input(const char *path, size_t cap, unsigned char **buf,
	    size_t *len, char *msg, size_t msglen);

/*
 * Open a submitted file to be read in pieces: the rules of
 * safefs_read_input, without the size cap.  *fd is the caller's to close.
 */
int	safefs_open_input(const char *path, int *fd, char *msg,
	    size_t msglen);

/*
 * safefs_read_input for the entry name of an open directory (a keydir):
 * opened with O_NOFOLLOW|O_NONBLOCK relative to dirfd; disp names it in
 * messages.
 */
int	safefs_read_input_at(int dirfd, const char *name, const char *disp,
	    size_t cap, unsigned char **buf, size_t *len, char *msg,
	    size_t msglen);

#endif
