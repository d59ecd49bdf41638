/*
 * cmd_import.c -- keyadm import FILE|DIR [options] [--reason TEXT]
 *	[--dry-run]
 *
 * Bulk intake for many accounts.  FILE holds "USER<TAB>key line" lines
 * ('#' comments and blank lines skipped); DIR is a keydir: USER.pub or
 * USER@NAME.pub files (gitolite's convention: the part after the last '@'
 * is dropped unless it holds a '.', which makes it part of an e-mail-like
 * user name) and USER/ directories of *.pub files.
 *
 * Two passes.  The first judges every key as add would (one bad key never
 * stops the others: it is reported with file, line and reason) and keeps
 * each accepted key compactly (blob and comment, about 200 bytes a key).
 * The second groups the keys by account and, for each account, under its
 * file's lock and inside a store transaction, installs and records them
 * through addkeys (the core of add): each account's file is written once.
 * The transaction is committed every BATCH_KEYS keys or BATCH_MS
 * milliseconds; only then are its accounts reported as done, so a crash
 * loses nothing reported (a crash before the commit leaves key files
 * ahead of the store: audit shows them, the same import again records
 * them).  An account that fails (unknown, unsafe path, busy file, write
 * error) has recorded no grant, and its keys are reported as rejected;
 * the others go on.  A store failure stops the run.
 *
 * XXX Most of an import's time on a slow disk is two fsyncs per account
 * (file and directory, safefs_replace).  Writing a batch's temporaries,
 * one syncfs(2), the renames and a second syncfs(2) would keep the
 * guarantee at a fraction of the cost, but needs every file of the batch
 * locked at once (docs/BENCHMARKS.md, B3).
 *
 * MUST: keydir entries are opened relative to the directory's descriptor
 * with O_NOFOLLOW (safefs_read_input_at): a link or a FIFO is refused.
 * MUST: a revoked key is rejected (add --force reinstates one key at a
 * time, with a reason); so is a key the account already had revoked.
 * Exit: 0 when every key went in; 1 when any was rejected; another status
 * when the run itself failed.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addkeys.h"
#include "b64.h"
#include "ctx.h"
#include "err.h"
#include "fpr.h"
#include "intake.h"
#include "msg.h"
#include "safefs.h"

#define BATCH_KEYS	20000	/* keys in one store transaction at most */
#define BATCH_MS	500	/* and milliseconds: a busy store for others */
#define PROGRESS_MS	200	/* between two progress lines */
#define TSV_LINE_MAX	(USERNAME_MAX + 1 + KEYLINE_MAX + 2)
#define KEYDIR_MAX	1000000	/* entries of a keydir we take */

static const char usage_import[] =
    "usage: keyadm import FILE|DIR [--restrict] [--from PATTERNS] "
    "[--command CMD] [--option OPT]... [--expires DATE|DURATION] "
    "[--no-options] [--reason TEXT] [--dry-run]";

/* An accepted key, kept small until its account's turn. */
struct imp_key {
	uint32_t	 user;		/* index into imp.users */
	uint32_t	 src;		/* index into imp.srcs */
	uint32_t	 lineno;
	uint32_t	 seq;		/* input order */
	uint32_t	 bloblen;
	uint16_t	 bits;
	uint8_t		 type;		/* enum keytype */
	uint8_t		 dup;		/* the account had it already */
	unsigned char	*data;		/* blob, then the comment's NUL-ended
					   text (empty: none) */
};

/* One key of an account refused in pass 2: stderr now, JSON at the end. */
struct imp_refusal {
	uint32_t	 key;
	int		 err;
	char		*why;		/* shared by an account's keys */
};

struct imp_refusals {
	struct imp_refusal	*v;
	size_t			 n, cap;
	char			**whys;
	size_t			 nwhys, capwhys;
};

/* What one account came to. */
struct imp_acct {
	char		 user[USERNAME_MAX + 1];
	char		 path[PATH_MAX];
	size_t		 counts[ACT_UPDATE + 1];
	int		 changed;
};

struct imp {
	struct ctx		*c;
	struct addkeys_args	 a;
	const char		*input;
	/* pass 1 */
	struct imp_key		*keys;
	size_t			 nkeys, capkeys;
	char			**users;	/* interned names */
	size_t			 nusers, capusers;
	uint32_t		*uhash;		/* open addressing: index + 1 */
	size_t			 caphash;
	char			**srcs;		/* display names of sources */
	size_t			 nsrcs, capsrcs;
	uint32_t		 cur_user;	/* the user being read */
	uint32_t		 cur_src;
	struct intake		 in;
	/* pass 2 */
	struct store		*st;
	struct revfile		 rf;
	int			 rf_open;
	int			 intx;
	struct imp_acct		*batch;		/* done, not yet committed */
	size_t			 nbatch, capbatch, batch_keys;
	struct timespec		 batch_start;
	size_t			 accounts, installed, rejected2, dups;
	size_t			 counts[ACT_UPDATE + 1];
	int			 changed;
	struct imp_refusals	*refused;	/* pass 2's refusals */
	/* progress on a terminal */
	int			 progress;
	struct timespec		 start, last_progress;
	size_t			 done_keys;
};

static int64_t
ms_since(const struct timespec *t)
{
	struct timespec	now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000;
}

static void
progress(struct imp *im, const char *what, int last)
{
	int64_t	ms;

	if (!im->progress || (!last && ms_since(&im->last_progress) <
	    PROGRESS_MS))
		return;
	(void)clock_gettime(CLOCK_MONOTONIC, &im->last_progress);
	ms = ms_since(&im->start);
	(void)fprintf(stderr, "\rkeyadm: import: %s %zu keys, %.0f/s, "
	    "%zu rejected\033[K%s", what, im->done_keys, ms > 0 ?
	    (double)im->done_keys * 1000.0 / (double)ms : 0.0,
	    im->in.rejected + im->rejected2, last ? "\n" : "");
}

/* ---- names ------------------------------------------------------------ */

static uint32_t
name_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int
uhash_grow(struct imp *im)
{
	uint32_t	*t;
	size_t		 cap = im->caphash == 0 ? 256 : im->caphash * 2, i, j;

	if ((t = calloc(cap, sizeof(*t))) == NULL)
		return KE_NOMEM;
	for (i = 0; i < im->nusers; i++) {
		j = name_hash(im->users[i]) & (cap - 1);
		while (t[j] != 0)
			j = (j + 1) & (cap - 1);
		t[j] = (uint32_t)i + 1;
	}
	free(im->uhash);
	im->uhash = t;
	im->caphash = cap;
	return 0;
}

/* The index of user name, added when new. */
static int
user_index(struct imp *im, const char *name, uint32_t *out)
{
	char	**nu;
	size_t	  j;
	int	  r;

	if ((im->nusers + 1) * 2 > im->caphash && (r = uhash_grow(im)) != 0)
		return r;
	j = name_hash(name) & (im->caphash - 1);
	for (; im->uhash[j] != 0; j = (j + 1) & (im->caphash - 1))
		if (strcmp(im->users[im->uhash[j] - 1], name) == 0) {
			*out = im->uhash[j] - 1;
			return 0;
		}
	if (im->nusers >= UINT32_MAX - 1)
		return KE_NOMEM;
	if (im->nusers == im->capusers) {
		size_t n = im->capusers == 0 ? 64 : im->capusers * 2;
		if ((nu = reallocarray(im->users, n, sizeof(*nu))) == NULL)
			return KE_NOMEM;
		im->users = nu;
		im->capusers = n;
	}
	if ((im->users[im->nusers] = strdup(name)) == NULL)
		return KE_NOMEM;
	im->uhash[j] = (uint32_t)im->nusers + 1;
	*out = (uint32_t)im->nusers++;
	return 0;
}

static int
src_add(struct imp *im, const char *disp)
{
	char	**ns;

	if (im->nsrcs >= UINT32_MAX - 1)
		return KE_NOMEM;
	if (im->nsrcs == im->capsrcs) {
		size_t n = im->capsrcs == 0 ? 16 : im->capsrcs * 2;
		if ((ns = reallocarray(im->srcs, n, sizeof(*ns))) == NULL)
			return KE_NOMEM;
		im->srcs = ns;
		im->capsrcs = n;
	}
	if ((im->srcs[im->nsrcs] = strdup(disp)) == NULL)
		return KE_NOMEM;
	im->cur_src = (uint32_t)im->nsrcs++;
	return 0;
}

/* ---- pass 1: judge and keep ------------------------------------------ */

/* intake's hand-over: an accepted key of the current user. */
static int
keep_key(void *arg, const char *src, size_t lineno, struct pubkey **k,
    const struct policy_result *pr)
{
	struct imp	*im = arg;
	struct imp_key	*nk, *e;
	size_t		 clen;
	const char	*com = (*k)->comment != NULL ? (*k)->comment : "";

	(void)src;
	(void)pr;
	if (im->nkeys == im->capkeys) {
		size_t n = im->capkeys == 0 ? 1024 : im->capkeys * 2;
		if (im->capkeys >= UINT32_MAX / 2 ||
		    (nk = reallocarray(im->keys, n, sizeof(*nk))) == NULL)
			return KE_NOMEM;
		im->keys = nk;
		im->capkeys = n;
	}
	clen = strlen(com) + 1;
	e = &im->keys[im->nkeys];
	memset(e, 0, sizeof(*e));
	if ((*k)->bloblen > UINT32_MAX - clen ||
	    (e->data = malloc((*k)->bloblen + clen)) == NULL)
		return KE_NOMEM;
	memcpy(e->data, (*k)->blob, (*k)->bloblen);
	memcpy(e->data + (*k)->bloblen, com, clen);
	e->user = im->cur_user;
	e->src = im->cur_src;
	e->lineno = lineno > UINT32_MAX ? UINT32_MAX : (uint32_t)lineno;
	e->seq = (uint32_t)im->nkeys;
	e->bloblen = (uint32_t)(*k)->bloblen;
	e->bits = (*k)->bits > UINT16_MAX ? UINT16_MAX : (uint16_t)(*k)->bits;
	e->type = (uint8_t)(*k)->type;
	im->nkeys++;
	im->done_keys++;
	progress(im, "read", 0);
	return 0;
}

/* A line or file refused before its key was parsed: report it. */
static void
reject_line(struct imp *im, const char *src, size_t lineno, int err,
    const char *reason)
{
	struct keyparse_result	res;

	memset(&res, 0, sizeof(res));
	res.lineno = lineno;
	res.err = err;
	(void)snprintf(res.reason, sizeof(res.reason), "%s", reason);
	(void)intake_result(im->c, &im->in, src, &res);
}

/* One "USER<TAB>key line" (without its newline). */
static int
tsv_line(struct imp *im, const char *src, size_t lineno, char *line,
    size_t len)
{
	struct keyparse_result	 res;
	char			*tab;
	int			 r;

	if (lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;	/* a UTF-8 byte order mark */
		len -= 3;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
	    line[len - 1] == '\t'))
		len--;
	line[len] = '\0';
	if (len == 0 || line[0] == '#')
		return 0;
	if ((tab = memchr(line, '\t', len)) == NULL) {
		reject_line(im, src, lineno, KE_MALFORMED, "expected USER, a "
		    "tab and a key line");
		return 0;
	}
	*tab = '\0';
	if (!accounts_valid_name(line)) {
		reject_line(im, src, lineno, KE_MALFORMED, "not a valid user "
		    "name");
		return 0;
	}
	if ((r = user_index(im, line, &im->cur_user)) != 0)
		return r;
	memset(&res, 0, sizeof(res));
	res.lineno = lineno;
	res.format = KF_OPENSSH;
	res.err = keyparse_line(tab + 1, len - (size_t)(tab + 1 - line),
	    &res.key, res.reason, sizeof(res.reason));
	return intake_result(im->c, &im->in, src, &res);
}

/* The lines of FILE, read a piece at a time. */
static int
read_tsv(struct imp *im, int fd, const char *src)
{
	char	*buf, *nl, msg[SAFEFS_MSG_MAX];
	size_t	 len = 0, off, lineno = 0;
	ssize_t	 got;
	int	 eof = 0, skipping = 0, r = 0;

	if ((buf = malloc(TSV_LINE_MAX + 1)) == NULL)
		return KE_NOMEM;
	while (r == 0 && (!eof || len > 0)) {
		if (!eof && len < TSV_LINE_MAX) {
			got = read(fd, buf + len, TSV_LINE_MAX - len);
			if (got == -1 && errno == EINTR)
				continue;
			if (got == -1) {
				(void)snprintf(msg, sizeof(msg), "%.300s: "
				    "read: %s", src, strerror(errno));
				msg_line(msg);
				r = KE_IO;
				break;
			}
			eof = got == 0;
			len += (size_t)got;
		}
		for (off = 0; r == 0 && (nl = memchr(buf + off, '\n',
		    len - off)) != NULL; off = (size_t)(nl - buf) + 1) {
			lineno++;
			if (skipping) {
				skipping = 0;
				continue;
			}
			r = tsv_line(im, src, lineno, buf + off,
			    (size_t)(nl - (buf + off)));
		}
		if (off == 0 && len == TSV_LINE_MAX) {
			/* no newline in a whole line's room */
			if (!skipping)
				reject_line(im, src, lineno + 1, KE_MALFORMED,
				    "line too long");
			skipping = 1;
			len = 0;
			continue;
		}
		if (eof && off < len && r == 0) {	/* no final newline */
			lineno++;
			if (!skipping)
				r = tsv_line(im, src, lineno, buf + off,
				    len - off);
			off = len;
		}
		memmove(buf, buf + off, len - off);
		len -= off;
	}
	free(buf);
	return r;
}

/* "alice.pub" -> alice; "alice@laptop.pub" -> alice; "a@b.c.pub" -> a@b.c */
static int
keydir_user(const char *name, char *user, size_t userlen)
{
	size_t		 n = strlen(name);
	const char	*at;

	if (n <= 4 || strcmp(name + n - 4, ".pub") != 0 || name[0] == '.')
		return 0;
	n -= 4;
	if (n >= userlen)
		return -1;
	memcpy(user, name, n);
	user[n] = '\0';
	if ((at = strrchr(user, '@')) != NULL && strchr(at, '.') == NULL)
		user[at - user] = '\0';
	return accounts_valid_name(user) ? 1 : -1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in dirfd (without "." and ".."); *out is freed by
 * free_names(*out, *n) even after an error. */
static int
dir_names(int dirfd, char ***out, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, **nv;
	size_t		 cap = 0, nc;
	int		 fd, r = 0;

	*out = NULL;
	*n = 0;
	if ((fd = dup(dirfd)) == -1)
		return KE_IO;
	if ((d = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return KE_IO;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (*n >= KEYDIR_MAX) {
			r = KE_MALFORMED;
			break;
		}
		if (*n == cap) {
			nc = cap == 0 ? 64 : cap * 2;
			if ((nv = reallocarray(v, nc, sizeof(*v))) == NULL) {
				r = KE_NOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL) {
			r = KE_NOMEM;
			break;
		}
		(*n)++;
	}
	if (r == 0 && errno != 0)
		r = KE_IO;
	(void)closedir(d);
	if (r == 0 && *n > 1)
		qsort(v, *n, sizeof(*v), cmp_names);
	*out = v;
	return r;
}

static void
free_names(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* dir + "/" + name into out; -1 when it does not fit. */
static int
join(char *out, size_t outlen, const char *dir, const char *name)
{
	size_t	a = strlen(dir), b = strlen(name);

	if (a + 1 + b >= outlen)
		return -1;
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
	return 0;
}

/* One keydir file, a submission of user. */
static int
keydir_file(struct imp *im, int dirfd, const char *name, const char *disp,
    const char *user)
{
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	char		 msg[SAFEFS_MSG_MAX];
	int		 r;

	if ((r = user_index(im, user, &im->cur_user)) != 0 ||
	    (r = src_add(im, disp)) != 0)
		return r;
	disp = im->srcs[im->cur_src];
	if ((r = safefs_read_input_at(dirfd, name, disp, INPUT_MAX, &buf,
	    &len, msg, sizeof(msg))) != 0)
		return intake_file_error(im->c, &im->in, disp, r, msg, 1);
	r = intake_buf(im->c, &im->in, disp, buf, len);
	free(buf);
	return r;
}

/* An entry that is neither taken nor passed over in silence. */
static int
keydir_refuse(struct imp *im, const char *disp, int err, const char *why)
{
	int	r;

	if ((r = src_add(im, disp)) != 0)
		return r;
	return intake_file_error(im->c, &im->in, im->srcs[im->cur_src], err,
	    why, 0);
}

static int
entry_kind(int dirfd, const char *name, mode_t *mode)
{
	struct stat	st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	*mode = st.st_mode;
	return 0;
}

/* USER/: every *.pub file in it is user's. */
static int
keydir_userdir(struct imp *im, int dirfd, const char *name,
    const char *disp)
{
	char	**names = NULL, sub[PATH_MAX];
	size_t	  n = 0, i;
	mode_t	  mode;
	int	  fd, r;

	if (!accounts_valid_name(name))
		return keydir_refuse(im, disp, KE_MALFORMED, "not a valid "
		    "user name");
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return keydir_refuse(im, disp, KE_NOINPUT, strerror(errno));
	if ((r = dir_names(fd, &names, &n)) != 0) {
		free_names(names, n);
		(void)close(fd);
		return keydir_refuse(im, disp, r, keyadm_strerror(r));
	}
	for (i = 0; r == 0 && i < n; i++) {
		if (names[i][0] == '.' || strlen(names[i]) <= 4 ||
		    strcmp(names[i] + strlen(names[i]) - 4, ".pub") != 0)
			continue;
		if (join(sub, sizeof(sub), disp, names[i]) == -1) {
			r = keydir_refuse(im, disp, KE_NOINPUT, "a name in it "
			    "is too long");
			break;
		}
		if (entry_kind(fd, names[i], &mode) == 0 && S_ISDIR(mode))
			continue;
		r = keydir_file(im, fd, names[i], sub, name);
	}
	free_names(names, n);
	(void)close(fd);
	return r;
}

/* A keydir: USER.pub, USER@NAME.pub and USER/ directories. */
static int
read_keydir(struct imp *im, int dirfd, const char *top)
{
	char	**names = NULL, disp[PATH_MAX], user[USERNAME_MAX + 1];
	size_t	  n = 0, i;
	mode_t	  mode;
	int	  r, kind;

	if ((r = dir_names(dirfd, &names, &n)) != 0) {
		free_names(names, n);
		msg_err(top, "cannot read the directory: %s",
		    keyadm_strerror(r));
		return r == KE_NOMEM ? r : KE_NOINPUT;
	}
	for (i = 0; r == 0 && i < n; i++) {
		if (names[i][0] == '.')
			continue;
		if (join(disp, sizeof(disp), top, names[i]) == -1) {
			r = keydir_refuse(im, top, KE_NOINPUT, "a name in it "
			    "is too long");
			break;
		}
		if (entry_kind(dirfd, names[i], &mode) == -1)
			continue;	/* gone meanwhile */
		if (S_ISDIR(mode)) {
			r = keydir_userdir(im, dirfd, names[i], disp);
			continue;
		}
		kind = keydir_user(names[i], user, sizeof(user));
		if (kind == 0 && !S_ISLNK(mode))
			continue;	/* not a key file: a README, ... */
		if (kind == -1)
			r = keydir_refuse(im, disp, KE_MALFORMED, "the file "
			    "name does not give a valid user name");
		else if (kind == 0 || S_ISLNK(mode))
			r = keydir_refuse(im, disp, KE_NOINPUT, "is a "
			    "symbolic link; give the file itself");
		else
			r = keydir_file(im, dirfd, names[i], disp, user);
	}
	free_names(names, n);
	return r;
}

/* Pass 1 over FILE, DIR or "-". */
static int
read_input(struct imp *im)
{
	struct stat	 st;
	char		 top[PATH_MAX], msg[SAFEFS_MSG_MAX];
	size_t		 n;
	int		 fd, r;

	if (strcmp(im->input, "-") == 0) {
		if ((r = src_add(im, "standard input")) != 0)
			return r;
		return read_tsv(im, STDIN_FILENO, im->srcs[im->cur_src]);
	}
	n = strlen(im->input);
	while (n > 1 && im->input[n - 1] == '/')
		n--;
	if (n >= sizeof(top)) {
		msg_err(NULL, "%s", "import: the path is too long");
		return KE_USAGE;
	}
	memcpy(top, im->input, n);
	top[n] = '\0';
	if (lstat(top, &st) == 0 && S_ISDIR(st.st_mode)) {
		fd = open(top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1) {
			msg_err(top, "%s", strerror(errno));
			return KE_NOINPUT;
		}
		r = read_keydir(im, fd, top);
		(void)close(fd);
		return r;
	}
	if ((r = safefs_open_input(top, &fd, msg, sizeof(msg))) != 0) {
		msg_line(msg);
		return r;
	}
	if ((r = src_add(im, top)) == 0)
		r = read_tsv(im, fd, im->srcs[im->cur_src]);
	(void)close(fd);
	return r;
}

/* ---- pass 2: account by account -------------------------------------- */

static int
cmp_user_blob(const void *x, const void *y)
{
	const struct imp_key	*a = x, *b = y;
	int			 d;

	if (a->user != b->user)
		return a->user < b->user ? -1 : 1;
	if (a->bloblen != b->bloblen)
		return a->bloblen < b->bloblen ? -1 : 1;
	if ((d = memcmp(a->data, b->data, a->bloblen)) != 0)
		return d;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
cmp_user_seq(const void *x, const void *y)
{
	const struct imp_key	*a = x, *b = y;

	if (a->user != b->user)
		return a->user < b->user ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Group by account, in input order, each key once per account. */
static void
group_keys(struct imp *im)
{
	size_t	i;

	if (im->nkeys < 2)
		return;
	qsort(im->keys, im->nkeys, sizeof(*im->keys), cmp_user_blob);
	for (i = 1; i < im->nkeys; i++)
		if (im->keys[i].user == im->keys[i - 1].user &&
		    im->keys[i].bloblen == im->keys[i - 1].bloblen &&
		    memcmp(im->keys[i].data, im->keys[i - 1].data,
		    im->keys[i].bloblen) == 0) {
			im->keys[i].dup = 1;
			im->dups++;
		}
	qsort(im->keys, im->nkeys, sizeof(*im->keys), cmp_user_seq);
}

/* A struct pubkey again, from what pass 1 kept. */
static int
materialize(const struct imp_key *e, struct pubkey **out)
{
	struct pubkey		*k;
	const unsigned char	*b = e->data;
	const char		*com = (const char *)e->data + e->bloblen;
	size_t			 tlen;

	*out = NULL;
	if (e->bloblen < 4)
		return KE_INTERNAL;
	tlen = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 |
	    b[3];
	if (tlen >= KEYTYPE_MAX || tlen > e->bloblen - 4)
		return KE_INTERNAL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return KE_NOMEM;
	k->type = (enum keytype)e->type;
	memcpy(k->typename, b + 4, tlen);
	k->bits = e->bits;
	k->bloblen = e->bloblen;
	if ((k->blob = malloc(e->bloblen)) == NULL ||
	    (k->b64 = malloc(B64_ENCODED_SIZE(e->bloblen))) == NULL ||
	    (com[0] != '\0' && (k->comment = strdup(com)) == NULL)) {
		pubkey_free(k);
		return KE_NOMEM;
	}
	memcpy(k->blob, b, e->bloblen);
	(void)b64_encode(b, e->bloblen, k->b64, 1);
	if (fpr_sha256(b, e->bloblen, k->fingerprint,
	    sizeof(k->fingerprint)) != 0) {
		pubkey_free(k);
		return KE_INTERNAL;
	}
	*out = k;
	return 0;
}

static int
refuse(struct imp *im, struct imp_refusals *rs, uint32_t key, int err,
    const char *why)
{
	const struct imp_key	*e = &im->keys[key];
	struct imp_refusal	*nv;
	char			**nw, esc[1024];
	size_t			 n;

	if (rs->nwhys == 0 || strcmp(rs->whys[rs->nwhys - 1], why) != 0) {
		if (rs->nwhys == rs->capwhys) {
			n = rs->capwhys == 0 ? 16 : rs->capwhys * 2;
			if ((nw = reallocarray(rs->whys, n,
			    sizeof(*nw))) == NULL)
				return KE_NOMEM;
			rs->whys = nw;
			rs->capwhys = n;
		}
		if ((rs->whys[rs->nwhys] = strdup(why)) == NULL)
			return KE_NOMEM;
		rs->nwhys++;
	}
	if (rs->n == rs->cap) {
		n = rs->cap == 0 ? 64 : rs->cap * 2;
		if ((nv = reallocarray(rs->v, n, sizeof(*nv))) == NULL)
			return KE_NOMEM;
		rs->v = nv;
		rs->cap = n;
	}
	rs->v[rs->n].key = key;
	rs->v[rs->n].err = err;
	rs->v[rs->n].why = rs->whys[rs->nwhys - 1];
	rs->n++;
	im->rejected2++;
	msg_err(NULL, "%s:%u: %s", report_esc(im->srcs[e->src], esc,
	    sizeof(esc)), e->lineno, why);
	return 0;
}

static void
refusals_free(struct imp_refusals *rs)
{
	size_t	i;

	for (i = 0; i < rs->nwhys; i++)
		free(rs->whys[i]);
	free(rs->whys);
	free(rs->v);
}

/* The database, for messages. */
static void
db_msg(struct imp *im, int err, const char *what)
{
	msg_err(NULL, "%s%s: %s%s", im->c->dispprefix, im->c->cfg.database,
	    im->st != NULL ? store_errmsg(im->st) : keyadm_strerror(err),
	    what);
}

static void
report_account(struct imp *im, const struct imp_acct *a)
{
	struct report	*o = &im->c->out;
	char		 user[128], path[PATH_MAX * 2], text[256];
	size_t		 j, off = 0;
	int		 n;

	report_obj_begin(o, NULL);
	report_str(o, "user", a->user);
	report_str(o, "path", a->path);
	report_bool(o, "changed", a->changed);
	text[0] = '\0';
	for (j = 0; j <= ACT_UPDATE; j++) {
		report_int(o, addkeys_action_name((enum addkeys_action)j),
		    (long long)a->counts[j]);
		if (a->counts[j] == 0)
			continue;
		n = snprintf(text + off, sizeof(text) - off, "%s%zu %s%s",
		    off > 0 ? ", " : "", a->counts[j], im->a.dry_run ?
		    "would be " : "",
		    addkeys_action_name((enum addkeys_action)j));
		if (n > 0 && (size_t)n < sizeof(text) - off)
			off += (size_t)n;
	}
	report_obj_end(o);
	report_text(o, "%s: %s in %s", report_esc(a->user, user, sizeof(user)),
	    text, report_esc(a->path, path, sizeof(path)));
}

/* How many accounts of the batch had their key file written. */
static size_t
batch_written(const struct imp *im)
{
	size_t	i, n = 0;

	for (i = 0; i < im->nbatch; i++)
		n += im->batch[i].changed != 0;
	return n;
}

/* Commit the batch; only now are its accounts done and reported. */
static int
batch_commit(struct imp *im)
{
	char	what[160];
	size_t	i, n;
	int	r;

	if (im->intx) {
		im->intx = 0;
		if ((r = store_commit(im->st)) != 0) {
			what[0] = '\0';
			if ((n = batch_written(im)) > 0)
				(void)snprintf(what, sizeof(what), "; the key "
				    "files of %zu account%s were written but "
				    "not recorded: run the same import again "
				    "to record them", n, n == 1 ? "" : "s");
			db_msg(im, r, what);
			(void)store_rollback(im->st);
			return r;
		}
	}
	for (i = 0; i < im->nbatch; i++)
		report_account(im, &im->batch[i]);
	im->nbatch = 0;
	im->batch_keys = 0;
	return 0;
}

static int
batch_add(struct imp *im, const struct addkeys_run *ar, size_t n,
    int changed)
{
	struct imp_acct	*na, *a;
	size_t		 i, c;

	if (im->nbatch == im->capbatch) {
		c = im->capbatch == 0 ? 64 : im->capbatch * 2;
		if ((na = reallocarray(im->batch, c, sizeof(*na))) == NULL)
			return KE_NOMEM;
		im->batch = na;
		im->capbatch = c;
	}
	a = &im->batch[im->nbatch++];
	memset(a, 0, sizeof(*a));
	(void)snprintf(a->user, sizeof(a->user), "%s", ar->acct->name);
	(void)snprintf(a->path, sizeof(a->path), "%s", ar->kf.disp);
	a->changed = changed;
	for (i = 0; i < n; i++) {
		a->counts[ar->acts[i]]++;
		im->counts[ar->acts[i]]++;
	}
	im->changed |= changed;
	im->accounts++;
	im->installed += n;
	im->batch_keys += n;
	return 0;
}

/* Start the batch's transaction if none is open. */
static int
batch_begin(struct imp *im)
{
	int	r;

	if (im->a.dry_run || im->intx)
		return 0;
	if ((r = store_begin(im->st)) != 0)
		return r;
	im->intx = 1;
	(void)clock_gettime(CLOCK_MONOTONIC, &im->batch_start);
	return 0;
}

/* Drop the revoked keys from ain (refused, each with its reason). */
static int
drop_revoked(struct imp *im, struct addkeys_run *ar, struct intake *ain,
    uint32_t *idx)
{
	struct addkeys_revoked	 rs;
	char			 why[256];
	size_t			 i, kept = 0;
	int			 r;

	for (i = 0; i < ain->n; i++) {
		if ((r = addkeys_revoked_state(ar, &im->rf, ain->keys[i].key,
		    &rs)) != 0) {
			db_msg(im, r, "");
			return r;
		}
		if (!rs.listed && rs.revoked_at == 0 && !rs.user_revoked) {
			ain->keys[kept] = ain->keys[i];
			idx[kept++] = idx[i];
			continue;
		}
		(void)snprintf(why, sizeof(why), "%s: %s is revoked; add "
		    "--force reinstates it", ar->acct->name,
		    ain->keys[i].key->fingerprint);
		pubkey_free(ain->keys[i].key);
		if ((r = refuse(im, im->refused, idx[i], KE_POLICY,
		    why)) != 0)
			return r;
	}
	ain->n = kept;
	return 0;
}

/* Refuse every key of ain (the account failed as a whole). */
static int
refuse_all(struct imp *im, const uint32_t *idx, size_t n, int err,
    const char *why)
{
	size_t	i;
	int	r;

	for (i = 0; i < n; i++)
		if ((r = refuse(im, im->refused, idx[i], err, why)) != 0)
			return r;
	return 0;
}

/*
 * Install ain for the account inside the batch's transaction.  What can
 * fail for one account (its path, its lock, its file, a revoke meanwhile)
 * fails before any grant is recorded (addkeys_apply writes the file
 * first), so the others go on; a store failure stops the run.
 */
static int
account_install(struct imp *im, struct addkeys_run *ar, struct intake *ain,
    const uint32_t *idx)
{
	char	why[SAFEFS_MSG_MAX * 2 + 64];
	int	changed = 0, r;

	if ((r = addkeys_alloc(ar, ain->n)) != 0)
		return r;
	if ((r = batch_begin(im)) != 0) {
		db_msg(im, r, "");
		return r;
	}
	if ((r = addkeys_open(ar)) == 0 &&
	    (r = addkeys_plan(ar, ain)) != 0 && r != KE_POLICY) {
		db_msg(im, r, "");
		return r;	/* the store, not the account */
	}
	if (r == 0)
		r = addkeys_apply(ar, ain, &changed);
	if (r == 0)
		return batch_add(im, ar, ain->n, changed);
	if (r == KE_NOMEM || ar->store_failed) {
		msg_line(ar->msg);
		return r;
	}
	if (ar->msg[0] == '\0')
		(void)snprintf(ar->msg, sizeof(ar->msg), "%s: %s",
		    ar->acct->name, keyadm_strerror(r));
	(void)snprintf(why, sizeof(why), "%s; nothing installed for %s",
	    ar->msg, ar->acct->name);
	return refuse_all(im, idx, ain->n, r, why);
}

/* Keys [from, to) of one user: look the account up, then install. */
static int
do_account(struct imp *im, size_t from, size_t to)
{
	struct addkeys_run	 ar;
	struct account		 acct;
	struct intake		 ain;
	uint32_t		*idx;
	const char		*user = im->users[im->keys[from].user];
	char			 why[256];
	size_t			 i, n = 0;
	int			 r;

	if ((idx = calloc(to - from, sizeof(*idx))) == NULL)
		return KE_NOMEM;
	for (i = from; i < to; i++)
		if (!im->keys[i].dup)
			idx[n++] = (uint32_t)i;
	if ((r = im->c->lookup(im->c, user, &acct)) != 0) {
		(void)snprintf(why, sizeof(why), "%s: %s", user,
		    r == KE_NOUSER ? "unknown user" : r == KE_CONFIG ?
		    "home directory is not an absolute path" :
		    "cannot read the password database");
		r = r == KE_NOUSER || r == KE_CONFIG ?
		    refuse_all(im, idx, n, r, why) : r;
		free(idx);
		return r;
	}
	/*
	 * A keydir is often writable by more people than root's keys should
	 * be (gitolite-admin pushers): "root@laptop.pub" there must not
	 * become a key of root.  Root's keys go in one by one with add.
	 */
	if (acct.uid == 0) {
		(void)snprintf(why, sizeof(why), "%s: import does not install "
		    "keys for uid 0; use keyadm add %s FILE", user, user);
		r = refuse_all(im, idx, n, KE_POLICY, why);
		free(idx);
		return r;
	}
	memset(&ain, 0, sizeof(ain));
	if ((ain.keys = calloc(n, sizeof(*ain.keys))) == NULL) {
		free(idx);
		return KE_NOMEM;
	}
	for (i = 0, r = 0; i < n && r == 0; i++) {
		r = materialize(&im->keys[idx[i]], &ain.keys[i].key);
		ain.keys[i].source = im->srcs[im->keys[idx[i]].src];
		ain.keys[i].lineno = im->keys[idx[i]].lineno;
		ain.n = i + (r == 0);
	}
	memset(&ar, 0, sizeof(ar));
	ar.kf.dirfd = -1;
	ar.kf.lockfd = -1;
	ar.c = im->c;
	ar.acct = &acct;
	ar.a = &im->a;
	ar.reason = im->a.reason;
	ar.dry_run = im->a.dry_run;
	ar.st = im->st;
	ar.shared_store = 1;
	ar.no_diff = 1;
	if (r == 0)
		r = drop_revoked(im, &ar, &ain, idx);
	if (r == 0 && ain.n > 0)
		r = account_install(im, &ar, &ain, idx);
	im->done_keys += n;
	progress(im, "installed", 0);
	addkeys_free(&ar, ain.n);
	intake_free(&ain);
	free(idx);
	return r;
}

/* Pass 2: every account in turn, committed in batches. */
static int
install_all(struct imp *im)
{
	struct ctx	*c = im->c;
	size_t		 from, to, n;
	int		 r = 0;

	/* many accounts: read the password database once, not per name */
	if (im->nusers > 16 && c->accounts == NULL && (r = accounts_cache_new(
	    c->rootdir != NULL ? c->rootfd : -1, &c->accounts)) != 0) {
		if (r == KE_NOMEM)
			return r;
		r = 0;		/* look each name up instead */
	}
	group_keys(im);
	im->done_keys = 0;
	for (from = 0; r == 0 && from < im->nkeys; from = to) {
		for (to = from + 1; to < im->nkeys &&
		    im->keys[to].user == im->keys[from].user; to++)
			;
		r = do_account(im, from, to);
		if (r == 0 && im->intx && (im->batch_keys >= BATCH_KEYS ||
		    ms_since(&im->batch_start) >= BATCH_MS))
			r = batch_commit(im);
		if (r == 0 && !im->intx && im->nbatch > 0)
			r = batch_commit(im);	/* a dry run: report now */
	}
	if (r == 0)
		r = batch_commit(im);
	else if (im->intx) {
		im->intx = 0;
		(void)store_rollback(im->st);
		if ((n = batch_written(im)) > 0)
			msg_err(NULL, "import: the key files of %zu account%s "
			    "were written but not recorded: run the same "
			    "import again to record them", n, n == 1 ? "" :
			    "s");
	}
	return r;
}

/* ---- the command ------------------------------------------------------ */

static int
import_args(struct ctx *c, int argc, char **argv, struct imp *im)
{
	int	r;

	if ((r = addkeys_getopt(c, argc, argv, 0, usage_import,
	    &im->a)) != 0)
		return r;
	if (argc - optind != 1) {
		msg_err(NULL, "%s", usage_import);
		return KE_USAGE;
	}
	im->input = argv[optind];
	return addkeys_args_check(&im->a);
}

/* The store (read-only and maybe absent for a dry run) and the
 * revoked-keys file as it is now. */
static int
open_targets(struct imp *im)
{
	struct ctx	*c = im->c;
	char		 msg[SAFEFS_MSG_MAX * 2];
	int		 r;

	r = ctx_store_open(c, im->a.dry_run ? STORE_READONLY : STORE_CREATE,
	    &im->st, msg, sizeof(msg));
	if (r == KE_NOINPUT && im->a.dry_run) {
		im->st = NULL;
		r = 0;
	} else if (r != 0) {
		msg_line(msg);
		return r;
	}
	r = revfile_open(&im->rf, c->rootfd, c->dispprefix,
	    c->cfg.revoked_keys_file, 0, (int)c->cfg.busy_timeout_ms, msg,
	    sizeof(msg));
	im->rf_open = 1;
	if (r != 0) {
		msg_line(msg);
		return r;
	}
	/* a revoke meanwhile is caught in the transaction (addkeys_plan) */
	revfile_unlock(&im->rf);
	return 0;
}

static void
report_refused(struct imp *im)
{
	struct report		*o = &im->c->out;
	const struct imp_key	*e;
	size_t			 i;

	report_arr_begin(o, "refused");
	for (i = 0; i < im->refused->n; i++) {
		e = &im->keys[im->refused->v[i].key];
		report_obj_begin(o, NULL);
		report_str(o, "source", im->srcs[e->src]);
		report_int(o, "line", (long long)e->lineno);
		report_str(o, "user", im->users[e->user]);
		report_str(o, "error", keyadm_strerror(im->refused->v[i].err));
		report_str(o, "reason", im->refused->v[i].why);
		report_obj_end(o);
	}
	report_arr_end(o);
}

static void
report_summary(struct imp *im)
{
	struct report	*o = &im->c->out;
	size_t		 rejected = im->in.rejected + im->rejected2;

	report_int(o, "keys_read", (long long)(im->nkeys + im->in.rejected));
	report_int(o, "accepted", (long long)im->nkeys);
	report_int(o, "duplicates", (long long)im->dups);
	report_int(o, "installed", (long long)im->installed);
	report_int(o, "account_count", (long long)im->accounts);
	report_int(o, "rejected_count", (long long)rejected);
	report_int(o, "added", (long long)im->counts[ACT_ADD]);
	report_int(o, "unchanged", (long long)im->counts[ACT_NONE]);
	report_bool(o, "changed", im->changed);
	report_text(o, "import: %zu keys %s for %zu accounts: %zu added, "
	    "%zu updated, %zu repaired, %zu recorded, %zu unchanged; %zu "
	    "duplicates; %zu rejected%s", im->installed, im->a.dry_run ?
	    "would go" : "went", im->accounts, im->counts[ACT_ADD],
	    im->counts[ACT_UPDATE], im->counts[ACT_REPAIR],
	    im->counts[ACT_RECORD], im->counts[ACT_NONE], im->dups, rejected,
	    im->a.dry_run ? " (dry run)" : "");
}

static void
import_free(struct imp *im)
{
	size_t	i;

	for (i = 0; i < im->nkeys; i++)
		free(im->keys[i].data);
	free(im->keys);
	for (i = 0; i < im->nusers; i++)
		free(im->users[i]);
	free(im->users);
	free(im->uhash);
	for (i = 0; i < im->nsrcs; i++)
		free(im->srcs[i]);
	free(im->srcs);
	free(im->batch);
	refusals_free(im->refused);
	if (im->rf_open)
		revfile_close(&im->rf);
	store_close(im->st);
	intake_free(&im->in);
	sshopts_free(&im->a.so);
	free(im->a.opts);
}

/* Both passes; the report's arrays are opened and closed here. */
static int
import_run(struct imp *im)
{
	struct report	*o = &im->c->out;
	int		 r;

	report_arr_begin(o, "rejected");
	r = intake_init(im->c, &im->in, INTAKE_EVERY | INTAKE_ONLY_REJECTS,
	    keep_key, im);
	if (r == 0)
		r = read_input(im);
	progress(im, "read", 1);
	report_arr_end(o);
	if (r == 0 && im->nkeys == 0 && im->in.rejected == 0) {
		msg_err(im->input, "no public key in it");
		r = KE_MALFORMED;
	}
	report_arr_begin(o, "accounts");
	if (r == 0 && im->nkeys > 0 && (r = open_targets(im)) == 0) {
		(void)clock_gettime(CLOCK_MONOTONIC, &im->start);
		r = install_all(im);
		progress(im, "installed", 1);
	}
	report_arr_end(o);
	report_refused(im);
	report_summary(im);
	return r;
}

int
cmd_import(struct ctx *c, int argc, char **argv)
{
	struct imp_refusals	 rs;
	struct imp		 im;
	int			 r;

	memset(&im, 0, sizeof(im));
	memset(&rs, 0, sizeof(rs));
	im.c = c;
	im.refused = &rs;
	sshopts_init(&im.a.so);
	if ((r = import_args(c, argc, argv, &im)) != 0) {
		sshopts_free(&im.a.so);
		free(im.a.opts);
		return r > 0 ? 0 : r;
	}
	im.progress = !c->quiet && isatty(STDERR_FILENO);
	(void)clock_gettime(CLOCK_MONOTONIC, &im.start);
	im.last_progress = im.start;
	report_obj_begin(&c->out, NULL);
	report_bool(&c->out, "dry_run", im.a.dry_run);
	r = import_run(&im);
	if (r != 0)
		report_str(&c->out, "error", keyadm_strerror(r));
	report_obj_end(&c->out);
	if (r == 0 && im.in.err != 0 && im.in.err != KE_POLICY &&
	    im.nkeys == 0)
		r = im.in.err;		/* nothing usable at all */
	else if (r == 0 && im.in.rejected + im.rejected2 > 0)
		r = KE_POLICY;
	import_free(&im);
	return r;
}
