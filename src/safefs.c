/*
 * safefs.c -- every touch of a path in a directory other users control.
 *
 * keyadm runs as root and writes into homes that other users own, so every
 * operation here works from directory descriptors and judges what it opened
 * (fstat), never what a name pointed to a moment earlier.  Knows nothing of
 * keys.  Messages are "<display path>: <problem>".
 *
 * Display paths: safefs_walk names dispprefix + the path so far; the other
 * functions name disp, the display path of the object they act on (the
 * subdirectory, the file read or replaced, the locked directory).
 *
 * Invariants (each has a test in tests/unit/test_safefs.c):
 *
 * MUST open every path component on its own with O_NOFOLLOW from a directory
 *	descriptor; a symbolic link in a walked path is refused unless only
 *	root could have made it or can change it (owned by root, in a
 *	directory owned by root that nobody else may write, as /bin ->
 *	usr/bin or /home -> /srv/home): such a link is read and the walk
 *	starts again from the tree's root on the path it names, at most
 *	SAFEFS_LINKS_MAX times.
 * MUST accept a directory, the walk's root included, only if it is owned by
 *	root or the account and not writable by group or others (sshd
 *	StrictModes).
 * MUST refuse ".." and relative paths: a walk never leaves its tree.
 * MUST create a directory with mkdirat, then set owner and mode through a
 *	descriptor reopened with O_NOFOLLOW, never by name.
 * MUST never open anything but a regular file or a directory: a FIFO,
 *	socket or device is refused from lstat before open, and the open
 *	uses O_NONBLOCK|O_NOCTTY in case one is swapped in meanwhile.
 * MUST read only a regular file with one link, owned by root or the account,
 *	not group or other writable, at most cap bytes and exactly st_size.
 * MUST change a file only by renaming a new temporary (".NAME.keyadm~new"
 *	in the same directory, O_CREAT|O_EXCL|O_NOFOLLOW) over it: never write
 *	through the old name, a symbolic link or a hard link.  Callers hold
 *	the directory's lock, so a temporary that is already there is the
 *	leftover of a killed run: it is unlinked (unlinkat removes a link,
 *	never what it points to) and the create is tried again.
 * MUST read the temporary back and compare it with what was meant before
 *	it is renamed into place.
 * MUST refuse to replace a file that changed since it was read (KE_BUSY).
 * MUST unlink the temporary on every failure before the rename.
 * MUST fsync the file before the rename and the directory after it.
 * MUST escape the bytes of paths in messages: paths are untrusted.
 * MUST keep errno of the failing call intact through cleanup.
 */
#include <sys/file.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "safefs.h"

#define DISP_MAX	(PATH_MAX + 256)	/* longest display path built */
/* after "." NAME: the temporary; no account name has a '~', so in a
 * central layout no account's file is ever taken for one */
#define TMP_SUFFIX	".keyadm~new"
#define TMP_TRIES	4	/* creates tried before giving up */
#define LOCK_TICK_MS	50	/* a lock wait looks at the clock this often */
#define DIR_OPEN	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define FILE_OPEN	(O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | \
			    O_NOCTTY)
#define MODE_BITS	(S_IRWXU | S_IRWXG | S_IRWXO)

static int	fail(char *, size_t, int, const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
static void	escape(char *, size_t, const char *);
static int	errcode(int, int);
static void	close_keep(int);
static void	unlink_keep(int, const char *);
static int	valid_name(const char *);
static int	check_owner_mode(const struct stat *, const char *, uid_t,
		    char *, size_t);
static int	check_dir(int, const char *, uid_t, char *, size_t);
static int	open_dir_error(int, const char *, const char *, uid_t, int,
		    char *, size_t);
static int	open_dir(int, const char *, const char *, uid_t, int *,
		    char *, size_t);
static int	next_comp(const char **, char *, size_t);
static int	walk_step(int *, const char *, const char *, uid_t, char *,
		    size_t);
static int	make_dir(int, const char *, const char *, uid_t, gid_t,
		    mode_t, int *, char *, size_t);
static long	ms_since(const struct timespec *);
static int	check_file(const struct stat *, const char *, uid_t, size_t,
		    char *, size_t);
static int	open_file(int, const char *, const char *, uid_t, size_t,
		    int *, struct stat *, char *, size_t);
static int	read_exact(int, const char *, const struct stat *, char **,
		    char *, size_t);
static int	temp_name(const char *, char *, size_t);
static int	make_temp(int, const char *, const char *, char *, size_t,
		    int *, char *, size_t);
static int	write_all(int, const char *, size_t);
static int	fill_temp(int, const char *, const char *, size_t, uid_t,
		    gid_t, mode_t, char *, size_t);
static int	same_file(const struct stat *, const struct stat *);
static int	check_expect(int, const char *, const char *,
		    const struct stat *, char *, size_t);
static int	input_errno(const char *, int, char *, size_t);
static int	open_input(const char *, size_t, int *, char *, size_t);
static int	read_capped(int, const char *, size_t, unsigned char **,
		    size_t *, char *, size_t);

/*
 * Fill msg with "<escaped obj>: <fmt ...>" and return code.  errno is kept.
 */
static int
fail(char *msg, size_t msglen, int code, const char *obj, const char *fmt,
    ...)
{
	va_list	ap;
	size_t	n;
	int	saved_errno = errno;

	if (msg != NULL && msglen > 0) {
		escape(msg, msglen, obj);
		n = strlen(msg);
		if (msglen - n > 2) {
			msg[n++] = ':';
			msg[n++] = ' ';
			va_start(ap, fmt);
			(void)vsnprintf(msg + n, msglen - n, fmt, ap);
			va_end(ap);
		}
	}
	errno = saved_errno;
	return code;
}

/*
 * Copy s to out (always NUL-terminated), writing every byte that is not
 * printable ASCII, and the backslash itself, as \xNN.  Truncates whole
 * characters only.
 */
static void
escape(char *out, size_t outlen, const char *s)
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		c;
	size_t			o = 0;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (o + 4 >= outlen)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0xf];
	}
	out[o] = '\0';
}

/* The error code for a failed write-side system call. */
static int
errcode(int e, int dflt)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EFBIG:
		return KE_IO;
	case EACCES:
	case EROFS:
	case EPERM:
		return KE_CANTCREATE;
	default:
		return dflt;
	}
}

static void
close_keep(int fd)
{
	int	saved_errno = errno;

	if (fd != -1)
		(void)close(fd);
	errno = saved_errno;
}

static void
unlink_keep(int dirfd, const char *name)
{
	int	saved_errno = errno;

	(void)unlinkat(dirfd, name, 0);
	errno = saved_errno;
}

/* A single path component: not empty, no '/', not "." or "..". */
static int
valid_name(const char *name)
{
	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL)
		return 0;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	return strlen(name) <= NAME_MAX;
}

int
safefs_split(const char *path, char *dir, size_t dirlen, char *name,
    size_t namelen)
{
	const char	*slash;
	size_t		 n;

	if (path == NULL || path[0] != '/' ||
	    (slash = strrchr(path, '/')) == NULL || !valid_name(slash + 1) ||
	    strlen(slash + 1) >= namelen)
		return KE_CONFIG;
	n = (size_t)(slash - path);
	if (n == 0)
		n = 1;		/* the name is in "/" */
	if (n >= dirlen)
		return KE_CONFIG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	memcpy(name, slash + 1, strlen(slash + 1) + 1);
	return 0;
}

/* Owned by root or uid and not writable by group or others. */
static int
check_owner_mode(const struct stat *st, const char *disp, uid_t uid,
    char *msg, size_t msglen)
{
	mode_t	w = st->st_mode & (S_IWGRP | S_IWOTH);

	if (st->st_uid != 0 && st->st_uid != uid) {
		if (uid == 0)
			return fail(msg, msglen, KE_UNSAFE, disp,
			    "owned by uid %ju, expected root",
			    (uintmax_t)st->st_uid);
		return fail(msg, msglen, KE_UNSAFE, disp,
		    "owned by uid %ju, expected %ju or root",
		    (uintmax_t)st->st_uid, (uintmax_t)uid);
	}
	if (w == (S_IWGRP | S_IWOTH))
		return fail(msg, msglen, KE_UNSAFE, disp,
		    "writable by group and others");
	if (w == S_IWGRP)
		return fail(msg, msglen, KE_UNSAFE, disp, "writable by group");
	if (w == S_IWOTH)
		return fail(msg, msglen, KE_UNSAFE, disp, "writable by others");
	return 0;
}

/* fd must be a directory that sshd's StrictModes would accept for uid. */
static int
check_dir(int fd, const char *disp, uid_t uid, char *msg, size_t msglen)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return fail(msg, msglen, KE_IO, disp, "cannot stat: %s",
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(msg, msglen, KE_UNSAFE, disp, "not a directory");
	return check_owner_mode(&st, disp, uid, msg, msglen);
}

/*
 * Why the directory name in dfd could not be opened (errno e).  A denied
 * open, as happens with the account's ids, is judged by the lstat of the
 * entry first, so a foreign owner is reported as such.
 */
static int
open_dir_error(int dfd, const char *name, const char *disp, uid_t uid,
    int e, char *msg, size_t msglen)
{
	struct stat	st;
	int		r, have;

	have = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	errno = e;
	if (e == ELOOP || (have && S_ISLNK(st.st_mode)))
		return fail(msg, msglen, KE_UNSAFE, disp, "is a symbolic link");
	/* not a directory when opened, one now: someone is swapping it */
	if (e == ENOTDIR && have && S_ISDIR(st.st_mode))
		return fail(msg, msglen, KE_UNSAFE, disp, "changed while being "
		    "opened (a symbolic link or a file a moment ago, a "
		    "directory now)");
	if (e == ENOTDIR || (e == EACCES && have && !S_ISDIR(st.st_mode)))
		return fail(msg, msglen, KE_UNSAFE, disp, "not a directory");
	if (e == ENOENT)
		return fail(msg, msglen, KE_NOINPUT, disp,
		    "no such file or directory");
	if (e == EACCES && have &&
	    (r = check_owner_mode(&st, disp, uid, msg, msglen)) != 0)
		return r;
	if (e == EACCES)
		return fail(msg, msglen, KE_UNSAFE, disp, "permission denied");
	return fail(msg, msglen, KE_IO, disp, "%s", strerror(e));
}

/*
 * Open the directory name in dfd without following a symbolic link.  On
 * failure errno is that of openat (ENOENT for a missing one).
 */
static int
open_dir(int dfd, const char *name, const char *disp, uid_t uid, int *fdp,
    char *msg, size_t msglen)
{
	int	fd;

	*fdp = -1;
	if ((fd = openat(dfd, name, DIR_OPEN)) == -1)
		return open_dir_error(dfd, name, disp, uid, errno, msg, msglen);
	*fdp = fd;
	return 0;
}

/*
 * Copy the next path component of *pp into comp, skipping empty ones and
 * ".".  Returns 1 for a component, 0 at the end, -1 if one is too long.
 */
static int
next_comp(const char **pp, char *comp, size_t complen)
{
	const char	*p = *pp;
	size_t		 n;

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			*pp = p;
			return 0;
		}
		n = strcspn(p, "/");
		if (n >= complen)
			return -1;
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (strcmp(comp, ".") != 0)
			break;
	}
	*pp = p;
	return 1;
}

/* Step from *dfdp into the directory comp and check it. */
static int
walk_step(int *dfdp, const char *comp, const char *disp, uid_t uid,
    char *msg, size_t msglen)
{
	int	fd, r;

	if ((r = open_dir(*dfdp, comp, disp, uid, &fd, msg, msglen)) != 0)
		return r;
	close_keep(*dfdp);
	*dfdp = fd;
	return check_dir(fd, disp, uid, msg, msglen);
}

/*
 * ".." after a name in a link's target ("x/../home"): the kernel resolves
 * it after x, which may be a link itself, so taking it lexically could
 * land elsewhere than sshd does.  Leading ".." ("../usr/bin") is exact.
 */
static int
dotdot_inside(const char *target)
{
	char		 comp[NAME_MAX + 1];
	const char	*p = target;
	int		 more, named = 0;

	while ((more = next_comp(&p, comp, sizeof(comp))) == 1) {
		if (strcmp(comp, "..") != 0)
			named = 1;
		else if (named)
			return 1;
	}
	return more == -1;
}

/*
 * Is comp in dfd a symbolic link only root could have made or can change:
 * owned by root, in a directory owned by root that nobody else may write?
 * (/bin -> usr/bin, /home -> /srv/home.)  Then its target goes into
 * target and 1 is returned; else 0.
 */
static int
trusted_link(int dfd, const char *comp, char *target, size_t targetlen)
{
	struct stat	st, dst;
	ssize_t		n;

	if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISLNK(st.st_mode) || st.st_uid != 0 ||
	    fstat(dfd, &dst) == -1 || dst.st_uid != 0 ||
	    (dst.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return 0;
	n = readlinkat(dfd, comp, target, targetlen);
	if (n <= 0 || (size_t)n >= targetlen)
		return 0;
	target[n] = '\0';
	return !dotdot_inside(target);
}

/*
 * The path a trusted link leads to: target (absolute: from the tree's
 * root; relative: from dir, the link's directory) followed by rest, with
 * "." and ".." taken lexically (dir holds no link, so that is exact; ".."
 * stops at the tree's root).  0, or -1 when too long.
 */
static int
link_path(const char *dir, const char *target, const char *rest, char *out,
    size_t outlen)
{
	char		 buf[PATH_MAX * 2 + 4], comp[NAME_MAX + 1];
	const char	*p = buf;
	size_t		 n = 0, cl;
	int		 more;

	if (snprintf(buf, sizeof(buf), "%s/%s/%s", target[0] == '/' ? "" :
	    dir, target, rest) >= (int)sizeof(buf))
		return -1;
	out[0] = '\0';
	while ((more = next_comp(&p, comp, sizeof(comp))) == 1) {
		if (strcmp(comp, "..") == 0) {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;		/* the '/' before it */
			out[n] = '\0';
			continue;
		}
		cl = strlen(comp);
		if (n + 1 + cl >= outlen)
			return -1;
		out[n++] = '/';
		memcpy(out + n, comp, cl + 1);
		n += cl;
	}
	if (more == -1)
		return -1;
	if (n == 0)
		(void)snprintf(out, outlen, "/");
	return 0;
}

/* One walk of path; 1 with path rewritten when a trusted link was met. */
static int
walk_once(int rootfd, size_t plen, char *disp, char *path, size_t pathlen,
    uid_t uid, int *dfdp, char *msg, size_t msglen)
{
	char		 comp[NAME_MAX + 1], target[PATH_MAX], next[PATH_MAX];
	const char	*p = path;
	size_t		 dlen = plen;
	int		 r, more;

	disp[plen] = '\0';
	if (plen + strlen(path) >= DISP_MAX)
		return fail(msg, msglen, KE_UNSAFE, path, "path too long");
	if ((*dfdp = fcntl(rootfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return fail(msg, msglen, KE_IO, plen ? disp : "/", "%s",
		    strerror(errno));
	r = check_dir(*dfdp, plen ? disp : "/", uid, msg, msglen);
	while (r == 0 && (more = next_comp(&p, comp, sizeof(comp))) != 0) {
		if (more == -1)
			return fail(msg, msglen, KE_UNSAFE, path,
			    "file name too long");
		disp[dlen++] = '/';
		memcpy(disp + dlen, comp, strlen(comp) + 1);
		if (trusted_link(*dfdp, comp, target, sizeof(target))) {
			disp[dlen - 1] = '\0';
			if (link_path(disp + plen, target, p, next,
			    sizeof(next)) != 0 || strlen(next) >= pathlen)
				return fail(msg, msglen, KE_UNSAFE, disp,
				    "path too long");
			memcpy(path, next, strlen(next) + 1);
			return 1;
		}
		dlen += strlen(comp);
		r = walk_step(dfdp, comp, disp, uid, msg, msglen);
	}
	return r;
}

int
safefs_walk(int rootfd, const char *dispprefix, const char *path, uid_t uid,
    int *outfd, char *msg, size_t msglen)
{
	char		 disp[DISP_MAX], cur[PATH_MAX];
	const char	*p = path;
	char		 comp[NAME_MAX + 1];
	size_t		 plen;
	int		 dfd = -1, r, more, links = 0;

	*outfd = -1;
	plen = strlen(dispprefix);
	while (plen > 0 && dispprefix[plen - 1] == '/')
		plen--;
	if (path[0] != '/')
		return fail(msg, msglen, KE_UNSAFE, path,
		    "not an absolute path");
	if (plen + strlen(path) >= sizeof(disp) || strlen(path) >= sizeof(cur))
		return fail(msg, msglen, KE_UNSAFE, path, "path too long");
	while ((more = next_comp(&p, comp, sizeof(comp))) == 1)
		if (strcmp(comp, "..") == 0)
			return fail(msg, msglen, KE_UNSAFE, path, "refers to "
			    "a parent directory (\"..\")");
	memcpy(disp, dispprefix, plen);
	memcpy(cur, path, strlen(path) + 1);
	while ((r = walk_once(rootfd, plen, disp, cur, sizeof(cur), uid, &dfd,
	    msg, msglen)) == 1) {
		close_keep(dfd);
		dfd = -1;
		if (++links > SAFEFS_LINKS_MAX)
			return fail(msg, msglen, KE_UNSAFE, path, "too many "
			    "symbolic links");
	}
	if (r != 0) {
		if (dfd != -1)
			close_keep(dfd);
		return r;
	}
	*outfd = dfd;
	return 0;
}

int
safefs_exists(int rootfd, const char *path)
{
	char		 comp[NAME_MAX + 1];
	const char	*p = path;
	struct stat	 st;
	int		 dfd, fd, found = 1;

	if ((dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return 1;
	while (next_comp(&p, comp, sizeof(comp)) == 1) {
		if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			found = errno != ENOENT;
			break;
		}
		/* the end, or a link or file in the way: cannot say no */
		if (!S_ISDIR(st.st_mode) || strcmp(comp, "..") == 0)
			break;
		fd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close_keep(dfd);
		if ((dfd = fd) == -1)
			return errno != ENOENT;
	}
	close_keep(dfd);
	return found;
}

/*
 * mkdirat name, reopen it without following links, make sure it is the one
 * we made, set owner (as root) and mode on the descriptor.  A directory that
 * appeared meanwhile is opened as it is, for the caller to judge.
 */
static int
make_dir(int dirfd, const char *disp, const char *name, uid_t uid, gid_t gid,
    mode_t mode, int *fdp, char *msg, size_t msglen)
{
	struct stat	st;
	int		fd, r, made = 1;

	*fdp = -1;
	if (mkdirat(dirfd, name, mode & MODE_BITS) == -1) {
		if (errno != EEXIST)
			return fail(msg, msglen, errcode(errno, KE_CANTCREATE),
			    disp, "cannot create directory: %s",
			    strerror(errno));
		made = 0;
	}
	if ((r = open_dir(dirfd, name, disp, uid, &fd, msg, msglen)) != 0)
		return r;
	if (made) {
		if (fstat(fd, &st) == -1)
			r = fail(msg, msglen, KE_IO, disp, "cannot stat: %s",
			    strerror(errno));
		else if (st.st_uid != geteuid())
			r = fail(msg, msglen, KE_UNSAFE, disp,
			    "replaced by someone else while being created");
		else if (geteuid() == 0 && fchown(fd, uid, gid) == -1)
			r = fail(msg, msglen, errcode(errno, KE_CANTCREATE),
			    disp, "cannot set owner: %s", strerror(errno));
		else if (fchmod(fd, mode & MODE_BITS) == -1)
			r = fail(msg, msglen, errcode(errno, KE_CANTCREATE),
			    disp, "cannot set mode: %s", strerror(errno));
	}
	if (r != 0) {
		close_keep(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

int
safefs_subdir(int dirfd, const char *disp, const char *name, uid_t uid,
    gid_t gid, mode_t mode, int create, int *outfd, char *msg,
    size_t msglen)
{
	int	fd, r;

	*outfd = -1;
	if (!valid_name(name) || (mode & (S_IWGRP | S_IWOTH)) != 0)
		return fail(msg, msglen, KE_INTERNAL, disp,
		    "bad arguments to safefs_subdir");
	r = open_dir(dirfd, name, disp, uid, &fd, msg, msglen);
	if (r == KE_NOINPUT && errno == ENOENT && create)
		r = make_dir(dirfd, disp, name, uid, gid, mode, &fd, msg,
		    msglen);
	if (r != 0)
		return r;
	if ((r = check_dir(fd, disp, uid, msg, msglen)) != 0) {
		close_keep(fd);
		return r;
	}
	*outfd = fd;
	return 0;
}

/* Milliseconds elapsed since start on the monotonic clock. */
static long
ms_since(const struct timespec *start)
{
	struct timespec	now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return LONG_MAX;	/* cannot tell: treat as timed out */
	return (long)(now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* SIGALRM only interrupts a blocking flock; nothing else to do. */
static void
on_alarm(int sig)
{
	(void)sig;
}

/*
 * Wait in flock itself, queued in the kernel, not in a sleep loop that
 * others can overtake forever.  A repeating timer (no SA_RESTART) breaks
 * the wait every LOCK_TICK_MS to look at the clock; the old handler and
 * timer are put back.  0, or -1 with errno (EWOULDBLOCK when timed out).
 */
static int
flock_wait(int fd, int timeout_ms)
{
	struct sigaction	sa, old_sa;
	struct itimerval	it, old_it, zero;
	struct timespec		start;
	int			r, e;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK || timeout_ms <= 0 ||
	    clock_gettime(CLOCK_MONOTONIC, &start) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	(void)sigemptyset(&sa.sa_mask);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = LOCK_TICK_MS * 1000;
	it.it_interval = it.it_value;
	memset(&zero, 0, sizeof(zero));
	if (sigaction(SIGALRM, &sa, &old_sa) == -1)
		return -1;
	if (setitimer(ITIMER_REAL, &it, &old_it) == -1) {
		e = errno;
		(void)sigaction(SIGALRM, &old_sa, NULL);
		errno = e;
		return -1;
	}
	while ((r = flock(fd, LOCK_EX)) == -1 && errno == EINTR &&
	    ms_since(&start) < timeout_ms)
		continue;
	e = r == -1 && errno == EINTR ? EWOULDBLOCK : errno;
	(void)setitimer(ITIMER_REAL, &zero, NULL);
	(void)setitimer(ITIMER_REAL, &old_it, NULL);
	(void)sigaction(SIGALRM, &old_sa, NULL);
	errno = e;
	return r;
}

/*
 * The descriptor to hold the lock of dirfd on.  A directory of ours (owned
 * by our effective uid: root's /etc/ssh, a central layout) is locked
 * through SAFEFS_LOCK_NAME in it, a file only we can open: anyone who can
 * open the directory could flock it, and so hold up every revocation.
 * Where that file cannot be made (a read-only or full file system: nothing
 * is written there then anyway), and in a directory of an account (its
 * owner can stop keyadm there in other ways), the directory itself.
 */
static int
lock_target(int dirfd, const char *disp, int *fdp, char *msg, size_t msglen)
{
	struct stat	st;
	int		fd;

	*fdp = -1;
	if (fstat(dirfd, &st) == -1)
		return fail(msg, msglen, KE_IO, disp, "cannot stat: %s",
		    strerror(errno));
	if (st.st_uid != geteuid())
		fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if ((fd = openat(dirfd, SAFEFS_LOCK_NAME, O_RDONLY | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600)) == -1 &&
	    (errno == EROFS || errno == ENOSPC || errno == EDQUOT))
		fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (fd == -1 && errno == ELOOP)
		return fail(msg, msglen, KE_UNSAFE, disp, "%s is a symbolic "
		    "link", SAFEFS_LOCK_NAME);
	if (fd == -1)
		return fail(msg, msglen, errcode(errno, KE_IO), disp,
		    "cannot open the lock: %s", strerror(errno));
	if (fstat(fd, &st) == -1 || (!S_ISDIR(st.st_mode) &&
	    (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1))) {
		(void)close(fd);
		return fail(msg, msglen, KE_UNSAFE, disp, "%s is not a file "
		    "of keyadm's (a regular file of one link, ours)",
		    SAFEFS_LOCK_NAME);
	}
	*fdp = fd;
	return 0;
}

int
safefs_lock(int dirfd, const char *disp, int timeout_ms, int *lockfd,
    char *msg, size_t msglen)
{
	int	fd, r, e;

	*lockfd = -1;
	if ((r = lock_target(dirfd, disp, &fd, msg, msglen)) != 0)
		return r;
	if (flock_wait(fd, timeout_ms) == 0) {
		*lockfd = fd;
		return 0;
	}
	e = errno;
	(void)close(fd);
	if (e == EWOULDBLOCK)
		return fail(msg, msglen, KE_BUSY, disp,
		    "locked by another process (keyadm, or the "
		    "account itself); try again");
	return fail(msg, msglen, KE_IO, disp, "cannot lock: %s",
	    strerror(e));
}

/* What a file must be before it is read. */
static int
check_file(const struct stat *st, const char *disp, uid_t uid, size_t cap,
    char *msg, size_t msglen)
{
	int	r;

	if (S_ISLNK(st->st_mode))
		return fail(msg, msglen, KE_UNSAFE, disp, "is a symbolic link");
	if (!S_ISREG(st->st_mode))
		return fail(msg, msglen, KE_UNSAFE, disp,
		    "not a regular file");
	if (st->st_nlink != 1)
		return fail(msg, msglen, KE_UNSAFE, disp, "has %ju hard links",
		    (uintmax_t)st->st_nlink);
	if ((r = check_owner_mode(st, disp, uid, msg, msglen)) != 0)
		return r;
	if (st->st_size < 0 || (uintmax_t)st->st_size > cap)
		return fail(msg, msglen, KE_UNSAFE, disp,
		    "larger than %zu bytes", cap);
	return 0;
}

/*
 * Open name for reading after lstat said it is a safe regular file, then
 * check the descriptor again.  Missing: 0 with *fdp == -1.
 */
static int
open_file(int dirfd, const char *disp, const char *name, uid_t uid,
    size_t cap, int *fdp, struct stat *st, char *msg, size_t msglen)
{
	struct stat	pre;
	int		fd, r;

	*fdp = -1;
	if (fstatat(dirfd, name, &pre, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : fail(msg, msglen, KE_IO, disp,
		    "cannot stat: %s", strerror(errno));
	if ((r = check_file(&pre, disp, uid, cap, msg, msglen)) != 0)
		return r;
	if ((fd = openat(dirfd, name, FILE_OPEN)) == -1) {
		if (errno == ENOENT)
			return 0;	/* removed meanwhile: missing now */
		if (errno == ELOOP)
			return fail(msg, msglen, KE_UNSAFE, disp,
			    "is a symbolic link");
		if (errno == ENXIO)
			return fail(msg, msglen, KE_UNSAFE, disp,
			    "not a regular file");
		if (errno == EACCES)
			return fail(msg, msglen, KE_UNSAFE, disp,
			    "permission denied");
		return fail(msg, msglen, KE_IO, disp, "%s", strerror(errno));
	}
	if (fstat(fd, st) == -1)
		r = fail(msg, msglen, KE_IO, disp, "cannot stat: %s",
		    strerror(errno));
	else if (st->st_dev != pre.st_dev || st->st_ino != pre.st_ino)
		r = fail(msg, msglen, KE_BUSY, disp, "changed while being read; "
		    "try again");
	else
		r = check_file(st, disp, uid, cap, msg, msglen);
	if (r != 0) {
		close_keep(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

/* Read exactly st_size bytes, trying for one more to notice growth. */
static int
read_exact(int fd, const char *disp, const struct stat *st, char **out,
    char *msg, size_t msglen)
{
	size_t	want = (size_t)st->st_size, total = 0;
	ssize_t	n;
	char	*p;

	if ((p = malloc(want + 1)) == NULL)
		return fail(msg, msglen, KE_NOMEM, disp, "out of memory");
	while (total <= want) {
		n = read(fd, p + total, want + 1 - total);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(p);
			return fail(msg, msglen, KE_IO, disp, "read: %s",
			    strerror(errno));
		}
		if (n == 0)
			break;
		total += (size_t)n;
	}
	if (total != want) {
		free(p);
		return fail(msg, msglen, KE_BUSY, disp,
		    "changed while being read; try again");
	}
	p[total] = '\0';
	*out = p;
	return 0;
}

int
safefs_read(int dirfd, const char *disp, const char *name, uid_t uid,
    size_t cap, char **buf, size_t *len, struct stat *st, char *msg,
    size_t msglen)
{
	struct stat	sb;
	char		*p = NULL;
	int		fd, r;

	*buf = NULL;
	*len = 0;
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (!valid_name(name) || cap >= SIZE_MAX - 1)
		return fail(msg, msglen, KE_INTERNAL, disp,
		    "bad arguments to safefs_read");
	r = open_file(dirfd, disp, name, uid, cap, &fd, &sb, msg, msglen);
	if (r != 0 || fd == -1)
		return r;
	r = read_exact(fd, disp, &sb, &p, msg, msglen);
	close_keep(fd);
	if (r != 0)
		return r;
	*buf = p;
	*len = (size_t)sb.st_size;
	if (st != NULL)
		*st = sb;
	return 0;
}

/* "." name ".keyadm~new"; -1 if it does not fit. */
static int
temp_name(const char *name, char *tmp, size_t tmplen)
{
	int	w;

	w = snprintf(tmp, tmplen, ".%s" TMP_SUFFIX, name);
	if (w < 0 || (size_t)w >= tmplen || (size_t)w > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Create the temporary next to name; *fdp open for reading and writing.
 * One left by a killed run is removed first (we hold the lock).
 */
static int
make_temp(int dirfd, const char *disp, const char *name, char *tmp,
    size_t tmplen, int *fdp, char *msg, size_t msglen)
{
	int	i, fd;

	*fdp = -1;
	if (temp_name(name, tmp, tmplen) == -1)
		return fail(msg, msglen, KE_CANTCREATE, disp,
		    "cannot name a temporary file: %s", strerror(errno));
	for (i = 0; i < TMP_TRIES; i++) {
		fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
		if (fd != -1) {
			*fdp = fd;
			return 0;
		}
		if (errno != EEXIST)
			return fail(msg, msglen, errcode(errno, KE_CANTCREATE),
			    disp, "cannot create a temporary file: %s",
			    strerror(errno));
		if (unlinkat(dirfd, tmp, 0) == 0 || errno == ENOENT)
			continue;
		if (errno == EISDIR || errno == EPERM)	/* planted */
			return fail(msg, msglen, KE_UNSAFE, disp, "a "
			    "directory is in the way of the temporary file "
			    "%s; nothing written (remove it)", tmp);
		return fail(msg, msglen, errcode(errno, KE_CANTCREATE), disp,
		    "cannot remove a stale temporary file: %s",
		    strerror(errno));
	}
	return fail(msg, msglen, KE_CANTCREATE, disp,
	    "cannot create a temporary file: %s", strerror(EEXIST));
}

/* Write all of buf, through short writes and EINTR. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read len bytes back from the start of fd and compare them with buf:
 * 0, or -1 with errno (EIO when they differ).
 */
static int
read_back(int fd, const char *buf, size_t len)
{
	char	chunk[8192];
	size_t	off = 0, want;
	ssize_t	n;

	while (off < len) {
		want = len - off < sizeof(chunk) ? len - off : sizeof(chunk);
		n = pread(fd, chunk, want, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0 || memcmp(chunk, buf + off, (size_t)n) != 0) {
			errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Owner, mode, contents, fsync, read back, close: fd closed always. */
static int
fill_temp(int fd, const char *disp, const char *buf, size_t len, uid_t uid,
    gid_t gid, mode_t mode, char *msg, size_t msglen)
{
	int	r = 0;

	if (geteuid() == 0 && fchown(fd, uid, gid) == -1)
		r = fail(msg, msglen, errcode(errno, KE_CANTCREATE), disp,
		    "cannot set owner: %s", strerror(errno));
	else if (fchmod(fd, mode & MODE_BITS) == -1)
		r = fail(msg, msglen, errcode(errno, KE_CANTCREATE), disp,
		    "cannot set mode: %s", strerror(errno));
	else if (write_all(fd, buf, len) == -1)
		r = fail(msg, msglen, errcode(errno, KE_IO), disp,
		    "write: %s", strerror(errno));
	else if (fsync(fd) == -1)
		r = fail(msg, msglen, errcode(errno, KE_IO), disp,
		    "fsync: %s", strerror(errno));
	else if (read_back(fd, buf, len) == -1)
		r = fail(msg, msglen, KE_IO, disp, "the temporary file does "
		    "not read back as written: %s", strerror(errno));
	if (r != 0) {
		close_keep(fd);
		return r;
	}
	if (close(fd) == -1)
		return fail(msg, msglen, errcode(errno, KE_IO), disp,
		    "close: %s", strerror(errno));
	return 0;
}

/* Is now the same, unchanged regular file that was read as expect? */
static int
same_file(const struct stat *now, const struct stat *expect)
{
	return S_ISREG(now->st_mode) && now->st_nlink == 1 &&
	    now->st_dev == expect->st_dev && now->st_ino == expect->st_ino &&
	    now->st_size == expect->st_size &&
	    now->st_mtim.tv_sec == expect->st_mtim.tv_sec &&
	    now->st_mtim.tv_nsec == expect->st_mtim.tv_nsec &&
	    /* the owner can reset mtime, but not ctime */
	    now->st_ctim.tv_sec == expect->st_ctim.tv_sec &&
	    now->st_ctim.tv_nsec == expect->st_ctim.tv_nsec;
}

/*
 * name must still be what was read: missing if expect is NULL (or the
 * zeroed stat safefs_read gives for a missing file), else the same file.
 * XXX A window remains between this check and renameat (there is no
 * compare-and-swap rename); whatever wins it, renameat replaces the name
 * itself and never writes through a link.
 */
static int
check_expect(int dirfd, const char *disp, const char *name,
    const struct stat *expect, char *msg, size_t msglen)
{
	struct stat	now;
	int		missing = expect == NULL || expect->st_nlink == 0;

	if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			return fail(msg, msglen, KE_IO, disp,
			    "cannot stat: %s", strerror(errno));
		if (missing)
			return 0;
	} else if (!missing && same_file(&now, expect))
		return 0;
	return fail(msg, msglen, KE_BUSY, disp, "changed by someone else "
	    "while keyadm was working; try again");
}

int
safefs_replace(int dirfd, const char *disp, const char *name,
    const char *buf, size_t len, uid_t uid, gid_t gid, mode_t mode,
    const struct stat *expect, char *msg, size_t msglen)
{
	char	tmp[NAME_MAX + 1];
	int	fd, r;

	if (!valid_name(name) || (buf == NULL && len > 0) ||
	    (mode & (S_IWGRP | S_IWOTH)) != 0)
		return fail(msg, msglen, KE_INTERNAL, disp,
		    "bad arguments to safefs_replace");
	if ((r = make_temp(dirfd, disp, name, tmp, sizeof(tmp), &fd, msg,
	    msglen)) != 0)
		return r;
	r = fill_temp(fd, disp, buf, len, uid, gid, mode, msg, msglen);
	if (r == 0)
		r = check_expect(dirfd, disp, name, expect, msg, msglen);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) == -1)
		r = fail(msg, msglen, errcode(errno, KE_CANTCREATE), disp,
		    "cannot rename the temporary file: %s", strerror(errno));
	if (r != 0) {
		unlink_keep(dirfd, tmp);
		return r;
	}
	/*
	 * The new file is in place: a failed directory sync is a warning
	 * (msg set, 0 returned), so the caller records what is now true.
	 */
	if (fsync(dirfd) == -1)
		(void)fail(msg, msglen, KE_IO, disp, "replaced, but cannot "
		    "sync its directory: %s", strerror(errno));
	return 0;
}

/* The message for a failed lstat or open of a submitted file. */
static int
input_errno(const char *path, int e, char *msg, size_t msglen)
{
	errno = e;
	if (path[0] == '\0')	/* "keyadm: : ..." would name nothing */
		path = "\"\" (an empty file name)";
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return fail(msg, msglen, KE_NOINPUT, path,
		    "no such file or directory");
	case EACCES:
		return fail(msg, msglen, KE_NOINPUT, path, "permission denied");
	case ELOOP:
		return fail(msg, msglen, KE_NOINPUT, path,
		    "is a symbolic link; give the file itself");
	case ENXIO:
		return fail(msg, msglen, KE_NOINPUT, path,
		    "not a regular file");
	default:
		return fail(msg, msglen, KE_NOINPUT, path, "%s", strerror(e));
	}
}

/* Open a submitted file: lstat says regular, then the descriptor agrees. */
static int
open_input(const char *path, size_t cap, int *fdp, char *msg, size_t msglen)
{
	struct stat	pre, st;
	int		fd, r = 0;

	*fdp = -1;
	if (lstat(path, &pre) == -1)
		return input_errno(path, errno, msg, msglen);
	if (S_ISLNK(pre.st_mode))
		return input_errno(path, ELOOP, msg, msglen);
	if (!S_ISREG(pre.st_mode))
		return fail(msg, msglen, KE_NOINPUT, path,
		    "not a regular file");
	if ((fd = open(path, FILE_OPEN)) == -1)
		return input_errno(path, errno, msg, msglen);
	if (fstat(fd, &st) == -1)
		r = fail(msg, msglen, KE_IO, path, "cannot stat: %s",
		    strerror(errno));
	else if (!S_ISREG(st.st_mode) || st.st_dev != pre.st_dev ||
	    st.st_ino != pre.st_ino)
		r = fail(msg, msglen, KE_NOINPUT, path,
		    "not a regular file");
	else if (st.st_nlink != 1)
		r = fail(msg, msglen, KE_NOINPUT, path, "has %lu hard links; "
		    "give a copy of the file", (unsigned long)st.st_nlink);
	else if (st.st_size < 0 || (uintmax_t)st.st_size > cap)
		r = fail(msg, msglen, KE_MALFORMED, path,
		    "larger than %zu bytes, not a public key", cap);
	if (r != 0) {
		close_keep(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

/* Read fd to its end, but no more than cap bytes. */
static int
read_capped(int fd, const char *disp, size_t cap, unsigned char **out,
    size_t *outlen, char *msg, size_t msglen)
{
	unsigned char	*p;
	size_t		 total = 0;
	ssize_t		 n;

	if ((p = malloc(cap + 2)) == NULL)
		return fail(msg, msglen, KE_NOMEM, disp, "out of memory");
	while (total <= cap) {
		n = read(fd, p + total, cap + 1 - total);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(p);
			return fail(msg, msglen, KE_NOINPUT, disp, "read: %s",
			    strerror(errno));
		}
		if (n == 0)
			break;
		total += (size_t)n;
	}
	if (total > cap) {
		free(p);
		return fail(msg, msglen, KE_MALFORMED, disp,
		    "larger than %zu bytes, not a public key", cap);
	}
	p[total] = '\0';
	*out = p;
	*outlen = total;
	return 0;
}

int
safefs_read_input(const char *path, size_t cap, unsigned char **buf,
    size_t *len, char *msg, size_t msglen)
{
	int	fd, r;

	*buf = NULL;
	*len = 0;
	if (path == NULL || cap >= SIZE_MAX - 2)
		return fail(msg, msglen, KE_INTERNAL, "safefs_read_input",
		    "bad arguments");
	if (strcmp(path, "-") == 0)
		return read_capped(STDIN_FILENO, "standard input", cap, buf,
		    len, msg, msglen);
	if ((r = open_input(path, cap, &fd, msg, msglen)) != 0)
		return r;
	r = read_capped(fd, path, cap, buf, len, msg, msglen);
	close_keep(fd);
	return r;
}

int
safefs_open_input(const char *path, int *fd, char *msg, size_t msglen)
{
	*fd = -1;
	if (path == NULL)
		return fail(msg, msglen, KE_INTERNAL, "safefs_open_input",
		    "bad arguments");
	return open_input(path, (size_t)INT64_MAX, fd, msg, msglen);
}

int
safefs_read_input_at(int dirfd, const char *name, const char *disp,
    size_t cap, unsigned char **buf, size_t *len, char *msg, size_t msglen)
{
	struct stat	st;
	int		fd, r = 0;

	*buf = NULL;
	*len = 0;
	if (cap >= SIZE_MAX - 2)
		return fail(msg, msglen, KE_INTERNAL, disp, "bad arguments");
	if ((fd = openat(dirfd, name, FILE_OPEN)) == -1)
		return input_errno(disp, errno, msg, msglen);
	if (fstat(fd, &st) == -1)
		r = fail(msg, msglen, KE_IO, disp, "cannot stat: %s",
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		r = fail(msg, msglen, KE_NOINPUT, disp, "not a regular file");
	else if (st.st_nlink != 1)
		r = fail(msg, msglen, KE_NOINPUT, disp, "has %lu hard links; "
		    "give a copy of the file", (unsigned long)st.st_nlink);
	else if (st.st_size < 0 || (uintmax_t)st.st_size > cap)
		r = fail(msg, msglen, KE_MALFORMED, disp,
		    "larger than %zu bytes, not a public key", cap);
	if (r == 0)
		r = read_capped(fd, disp, cap, buf, len, msg, msglen);
	close_keep(fd);
	return r;
}
