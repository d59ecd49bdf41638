/*
 * install.c -- open, lock, read and replace an account's key file.
 *
 * MUST: every directory from the root down to the file's directory is
 * checked as sshd's StrictModes would (safefs_walk / safefs_subdir), without
 * following a link.
 * MUST: inside the account's home, every file-system call is made with the
 * account's effective ids (privs), so the kernel checks its permissions too;
 * root's ids are restored before returning, and a failed restore is fatal.
 * MUST: the lock on the file's directory is held from read to replace.
 * MUST: files in a home are the account's, mode 0600, directories 0700;
 * files outside the home (a central layout) are root's, mode 0644, and
 * their directory, made if missing, root's, mode 0755.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "install.h"
#include "msg.h"
#include "privs.h"

int
keyfile_expand(const char *pattern, const struct account *acct, char *out,
    size_t outlen)
{
	char	buf[PATH_MAX], *o = buf;
	size_t	left = sizeof(buf);
	int	n;

	for (; *pattern != '\0'; pattern++) {
		if (*pattern != '%') {
			n = snprintf(o, left, "%c", *pattern);
		} else {
			pattern++;
			if (*pattern == 'h')
				n = snprintf(o, left, "%s", acct->home);
			else if (*pattern == 'u')
				n = snprintf(o, left, "%s", acct->name);
			else if (*pattern == 'U')
				n = snprintf(o, left, "%lu",
				    (unsigned long)acct->uid);
			else if (*pattern == '%')
				n = snprintf(o, left, "%%");
			else
				return KE_CONFIG;
		}
		if (n < 0 || (size_t)n >= left)
			return KE_CONFIG;
		o += n;
		left -= (size_t)n;
	}
	if (buf[0] == '/')
		n = snprintf(out, outlen, "%s", buf);
	else
		n = snprintf(out, outlen, "%s/%s", acct->home, buf);
	if (n < 0 || (size_t)n >= outlen || strstr(out, "/../") != NULL)
		return KE_CONFIG;
	return 0;
}

/* Is dir the home or below it?  Sets *rest to what follows the home. */
static int
under_home(const char *dir, const char *home, const char **rest)
{
	size_t	n = strlen(home);

	while (n > 1 && home[n - 1] == '/')
		n--;
	if (strncmp(dir, home, n) != 0 || (dir[n] != '\0' && dir[n] != '/'))
		return 0;
	*rest = dir + n;
	while (**rest == '/')
		(*rest)++;
	return 1;
}

/* Walk the components of rest below dirfd, creating them if asked. */
static int
walk_below(int *dirfd, char *disp, size_t displen, const char *rest,
    const struct keyfile *kf, int create, char *msg, size_t msglen)
{
	char	comp[NAME_MAX + 1];
	size_t	n;
	int	fd, r;

	while (*rest != '\0') {
		n = strcspn(rest, "/");
		if (n >= sizeof(comp))
			return KE_CONFIG;
		memcpy(comp, rest, n);
		comp[n] = '\0';
		rest += n;
		while (*rest == '/')
			rest++;
		if (strlen(disp) + 1 + n >= displen)
			return KE_CONFIG;
		(void)strcat(strcat(disp, "/"), comp);
		r = safefs_subdir(*dirfd, disp, comp, kf->uid, kf->gid,
		    kf->in_home ? 0700 : 0755, create, &fd, msg, msglen);
		if (r != 0)
			return r;
		(void)close(*dirfd);
		*dirfd = fd;
	}
	return 0;
}

static int
become(const struct keyfile *kf, struct privs_saved *ps)
{
	memset(ps, 0, sizeof(*ps));
	if (!kf->in_home)
		return 0;
	return privs_become(ps, kf->acct->uid, kf->acct->gid,
	    kf->acct->groups, kf->acct->ngroups);
}

/* The directory part: walk as root to the base, then below it. */
static int
open_dir(struct keyfile *kf, int rootfd, const char *dispprefix,
    const char *dir, int flags, char *msg, size_t msglen)
{
	struct privs_saved	 ps;
	const char		*rest = "";
	char			 base[PATH_MAX], disp[PATH_MAX];
	char			 last[NAME_MAX + 1];
	int			 r, r2;

	kf->in_home = under_home(dir, kf->acct->home, &rest);
	if (kf->in_home)
		(void)snprintf(base, sizeof(base), "%s", kf->acct->home);
	else if (strcmp(dir, "/") == 0)
		(void)snprintf(base, sizeof(base), "/");
	else if (safefs_split(dir, base, sizeof(base), last,
	    sizeof(last)) == 0)
		rest = last;	/* a central directory is made if missing */
	else
		return KE_CONFIG;
	kf->uid = kf->in_home ? kf->acct->uid : 0;
	kf->gid = kf->in_home ? kf->acct->gid : 0;
	kf->mode = kf->in_home ? 0600 : 0644;
	/* a central directory root's all the way (perhaps through root's
	 * own link) is taken as it is; otherwise it is judged, or made */
	if (!kf->in_home && strcmp(dir, "/") != 0 &&
	    safefs_walk(rootfd, dispprefix, dir, 0, &kf->dirfd, msg,
	    msglen) == 0)
		return 0;
	msg[0] = '\0';
	r = safefs_walk(rootfd, dispprefix, base, kf->acct->uid, &kf->dirfd,
	    msg, msglen);
	if (r == KE_NOINPUT && (flags & KEYFILE_NOHOME_OK)) {
		kf->dirfd = -1;		/* no home: no keys */
		return 0;
	}
	if (r == KE_NOINPUT)
		r = KE_CANTCREATE;
	if (r != 0)
		return r;
	(void)snprintf(disp, sizeof(disp), "%s%s", dispprefix,
	    strcmp(base, "/") == 0 ? "" : base);
	if ((r = become(kf, &ps)) != 0)
		return r;
	r = walk_below(&kf->dirfd, disp, sizeof(disp), rest, kf,
	    flags & KEYFILE_CREATE, msg, msglen);
	if ((r2 = privs_restore(&ps)) != 0)
		return r2;
	if (r == KE_NOINPUT && !(flags & KEYFILE_CREATE)) {
		/* looking only (dry run): a missing .ssh holds no keys */
		(void)close(kf->dirfd);
		kf->dirfd = -1;
		return 0;
	}
	if (r == KE_NOINPUT)
		r = KE_CANTCREATE;
	return r;
}

/* Does the options text carry the option name (case-insensitive, as sshd)? */
static int
has_option(const char *opts, const char *name)
{
	size_t	n = strlen(name);
	int	inq = 0;

	for (;;) {
		/* opts is at the start of an option */
		if (strncasecmp(opts, name, n) == 0 &&
		    (opts[n] == ',' || opts[n] == '\0' || opts[n] == '='))
			return 1;
		for (; *opts != '\0' && (inq || *opts != ','); opts++) {
			if (*opts == '\\' && opts[1] == '"')
				opts++;
			else if (*opts == '"')
				inq = !inq;
		}
		if (*opts == '\0')
			return 0;
		opts++;		/* past the comma */
	}
}

int
keyfile_open(struct keyfile *kf, int rootfd, const char *dispprefix,
    const char *pattern, const struct account *acct, int flags,
    int lock_ms, char *msg, size_t msglen)
{
	struct privs_saved	 ps;
	char			 dir[PATH_MAX], *buf = NULL;
	char			 esc[PATH_MAX];
	size_t			 len = 0;
	int			 r, r2;

	memset(kf, 0, sizeof(*kf));
	kf->dirfd = -1;
	kf->lockfd = -1;
	kf->acct = acct;
	if ((r = keyfile_expand(pattern, acct, kf->path, sizeof(kf->path))) ||
	    (r = safefs_split(kf->path, dir, sizeof(dir), kf->name,
	    sizeof(kf->name)))) {
		(void)snprintf(msg, msglen, "authorized_keys_file: cannot "
		    "expand for %s", acct->name);
		return r;
	}
	(void)snprintf(kf->disp, sizeof(kf->disp), "%s%s", dispprefix,
	    kf->path);
	if ((r = open_dir(kf, rootfd, dispprefix, dir, flags, msg, msglen)))
		return r;
	if (kf->dirfd == -1)
		return authkeys_new(&kf->ak);
	if (!(flags & KEYFILE_NOLOCK) &&
	    (r = safefs_lock(kf->dirfd, kf->disp, lock_ms, &kf->lockfd, msg,
	    msglen)) != 0)
		return r;
	if ((r = become(kf, &ps)) != 0)
		return r;
	r = safefs_read(kf->dirfd, kf->disp, kf->name, acct->uid,
	    AUTHKEYS_MAX, &buf, &len, &kf->st, msg, msglen);
	if ((r2 = privs_restore(&ps)) != 0)
		r = r2;
	if (r != 0) {
		free(buf);
		return r;
	}
	kf->existed = buf != NULL;
	r = buf != NULL ? authkeys_parse(buf, len, &kf->ak) :
	    authkeys_new(&kf->ak);
	free(buf);
	if (r == KE_MALFORMED) {
		/* only the caps refuse a file: more than we will edit */
		msg_escape(kf->disp, strlen(kf->disp), esc, sizeof(esc));
		(void)snprintf(msg, msglen, "%s: too large to edit (over %d "
		    "bytes or %d lines); trim it by hand", esc, AUTHKEYS_MAX,
		    AUTHKEYS_LINES_MAX);
		r = KE_CANTCREATE;
	} else if (r != 0)
		(void)snprintf(msg, msglen, "%s", keyadm_strerror(r));
	return r;
}

int
keyfile_line_is_ca(const struct authkeys_entry *e)
{
	return e->is_key && e->options != NULL &&
	    has_option(e->options, "cert-authority");
}

/*
 * The first line that grants k to log in as the account: cert-authority
 * lines name a CA, not a login key, and do not count.  -1 when none.
 */
ssize_t
keyfile_find(const struct keyfile *kf, const unsigned char *blob,
    size_t bloblen)
{
	return keyfile_find_from(kf, blob, bloblen, 0);
}

ssize_t
keyfile_find_from(const struct keyfile *kf, const unsigned char *blob,
    size_t bloblen, size_t start)
{
	const struct authkeys_entry	*e;
	ssize_t				 i;

	if (start > (size_t)SSIZE_MAX)
		return -1;
	for (i = (ssize_t)start - 1; (i = authkeys_find(kf->ak, blob,
	    bloblen, (size_t)(i + 1))) >= 0;) {
		e = &kf->ak->lines[i];
		if (!keyfile_line_is_ca(e))
			return i;
	}
	return -1;
}

int
keyfile_write(struct keyfile *kf, char *msg, size_t msglen)
{
	struct privs_saved	 ps;
	char			*buf = NULL, esc[PATH_MAX];
	size_t			 len = 0;
	int			 r, r2;

	if ((r = authkeys_render(kf->ak, &buf, &len)) != 0) {
		msg_escape(kf->disp, strlen(kf->disp), esc, sizeof(esc));
		(void)snprintf(msg, msglen, "%s: %s", esc,
		    keyadm_strerror(r));
		return r;
	}
	if ((r = become(kf, &ps)) != 0) {
		free(buf);
		return r;
	}
	r = safefs_replace(kf->dirfd, kf->disp, kf->name, buf, len, kf->uid,
	    kf->gid, kf->mode, kf->existed ? &kf->st : NULL, msg, msglen);
	if ((r2 = privs_restore(&ps)) != 0)
		r = r2;
	free(buf);
	return r;
}

void
keyfile_close(struct keyfile *kf)
{
	int	saved = errno;

	if (kf->lockfd != -1)
		(void)close(kf->lockfd);	/* releases the lock */
	if (kf->dirfd != -1)
		(void)close(kf->dirfd);
	kf->lockfd = -1;
	kf->dirfd = -1;
	authkeys_free(kf->ak);
	kf->ak = NULL;
	errno = saved;
}
