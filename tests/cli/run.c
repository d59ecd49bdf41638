/*
 * run.c -- run programs under test with a time limit; --root trees; keys.
 *
 * Shared by the tests in tests/cli/ and tests/e2e/.  Helpers fail
 * the current test themselves when the test machinery breaks, so a test's
 * own assertions are about keyadm only.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "run.h"

/* keyadm's default paths in a --root tree */
#define DB_REL		"var/lib/keyadm/keyadm.db"
#define REVFILE_REL	"etc/ssh/keyadm_revoked_keys"

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
buf_add(struct buf *b, const char *data, size_t n)
{
	size_t	ncap;
	char	*np;

	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 4096;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		cr_assert_not_null(np, "out of memory capturing output");
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

long long
now_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char **
dup_argv(const char *path, const char *const argv[], int skip_first)
{
	char	**v;
	size_t	  n = 0, i, j = 0;

	while (argv[n] != NULL)
		n++;
	v = calloc(n + 2, sizeof(*v));
	cr_assert_not_null(v);
	v[j++] = strdup(path);
	for (i = skip_first ? 1 : 0; i < n; i++)
		v[j++] = strdup(argv[i]);
	v[j] = NULL;
	for (i = 0; i < j; i++)
		cr_assert_not_null(v[i]);
	return v;
}

static void
free_argv(char **v)
{
	size_t	i;

	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* In the child: wire the pipes to 0, 1, 2 and exec. */
static void
child_exec(int in, int out, int err, char **v, int search)
{
	(void)signal(SIGPIPE, SIG_DFL);
	(void)signal(SIGALRM, SIG_DFL);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		_exit(126);
	if (search)
		(void)execvp(v[0], v);
	else
		(void)execv(v[0], v);
	(void)dprintf(2, "exec %s: %s\n", v[0], strerror(errno));
	_exit(127);
}

static int
run_argv(struct run_result *res, const void *stdin_data, size_t len,
    char **v, int search, unsigned int timeout_s)
{
	struct buf	 ob = { NULL, 0, 0 }, eb = { NULL, 0, 0 };
	struct pollfd	 pfd[3];
	const char	*data = stdin_data;
	size_t		 off = 0;
	long long	 deadline;
	pid_t		 pid, w;
	char		 chunk[65536];
	ssize_t		 n;
	int		 inp[2], outp[2], errp[2], status = 0, i, nfd;
	int		 fds[3], timed_out = 0;

	memset(res, 0, sizeof(*res));
	if (timeout_s == 0)
		timeout_s = RUN_TIMEOUT_S;
	(void)signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe2(inp, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(outp, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(errp, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0)
		child_exec(inp[0], outp[1], errp[1], v, search);
	(void)close(inp[0]);
	(void)close(outp[1]);
	(void)close(errp[1]);
	fds[0] = inp[1];
	fds[1] = outp[0];
	fds[2] = errp[0];
	for (i = 0; i < 3; i++)
		(void)fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	if (data == NULL || len == 0) {
		(void)close(fds[0]);
		fds[0] = -1;
	}
	deadline = now_ms() + (long long)timeout_s * 1000;
	while (fds[1] != -1 || fds[2] != -1) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		nfd = 0;
		for (i = 0; i < 3; i++) {
			pfd[i].fd = fds[i];	/* -1 is ignored by poll */
			pfd[i].events = i == 0 ? POLLOUT : POLLIN;
			pfd[i].revents = 0;
		}
		nfd = poll(pfd, 3, (int)(left > 1000 ? 1000 : left));
		if (nfd == -1 && errno == EINTR)
			continue;
		cr_assert_neq(nfd, -1, "poll: %s", strerror(errno));
		if (fds[0] != -1 && pfd[0].revents != 0) {
			n = write(fds[0], data + off, len - off > sizeof(chunk) ?
			    sizeof(chunk) : len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n == -1 && errno != EAGAIN && errno != EINTR) ||
			    off == len || (pfd[0].revents & (POLLERR | POLLHUP))) {
				(void)close(fds[0]);	/* EPIPE: reader gone */
				fds[0] = -1;
			}
		}
		for (i = 1; i < 3; i++) {
			if (fds[i] == -1 || pfd[i].revents == 0)
				continue;
			n = read(fds[i], chunk, sizeof(chunk));
			if (n > 0)
				buf_add(i == 1 ? &ob : &eb, chunk, (size_t)n);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				(void)close(fds[i]);
				fds[i] = -1;
			}
		}
	}
	for (i = 0; i < 3; i++)
		if (fds[i] != -1)
			(void)close(fds[i]);
	if (timed_out)
		(void)kill(pid, SIGKILL);
	/* output is closed: the child is exiting; bound the wait anyway */
	while ((w = waitpid(pid, &status, timed_out ? 0 : WNOHANG)) == 0) {
		if (now_ms() > deadline) {
			timed_out = 1;
			(void)kill(pid, SIGKILL);
			continue;
		}
		(void)usleep(10000);
	}
	if (w == -1 && errno == EINTR)
		w = waitpid(pid, &status, 0);
	buf_add(&ob, "", 0);
	buf_add(&eb, "", 0);
	res->out = ob.p;
	res->outlen = ob.len;
	res->err = eb.p;
	res->errlen = eb.len;
	cr_assert(!timed_out, "%s did not finish within %u s (a hang); "
	    "stderr so far: %s", v[0], timeout_s, res->err);
	cr_assert_eq(w, pid, "waitpid: %s", strerror(errno));
	cr_assert(!WIFSIGNALED(status), "%s was killed by signal %d (%s); "
	    "stderr: %s", v[0], WTERMSIG(status), strsignal(WTERMSIG(status)),
	    res->err);
	cr_assert(WIFEXITED(status));
	res->status = WEXITSTATUS(status);
	return res->status;
}

int
run_prog(struct run_result *out, const void *stdin_data, size_t len,
    const char *const argv[], unsigned int timeout_s)
{
	char	**v = dup_argv(argv[0], argv, 1);
	int	  r;

	r = run_argv(out, stdin_data, len, v, argv[0][0] != '/', timeout_s);
	free_argv(v);
	return r;
}

int
run_keyadm_buf(struct run_result *out, const void *stdin_data, size_t len,
    const char *const argv[])
{
	const char	*bin = getenv("KEYADM_BIN");
	char		**v;
	int		  r;

	cr_assert(bin != NULL && bin[0] == '/',
	    "KEYADM_BIN must name the built keyadm (run through ctest)");
	v = dup_argv(bin, argv, 0);
	r = run_argv(out, stdin_data, len, v, 0, 0);
	free_argv(v);
	return r;
}

int
run_keyadm(struct run_result *out, const char *stdin_data,
    const char *const argv[])
{
	return run_keyadm_buf(out, stdin_data,
	    stdin_data != NULL ? strlen(stdin_data) : 0, argv);
}

void
run_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

const char *
tree_path(const struct tree *t, char *out, size_t outlen, const char *rel)
{
	int	n;

	n = snprintf(out, outlen, "%s/%s", t->root, rel);
	cr_assert(n > 0 && (size_t)n < outlen, "path too long: %s", rel);
	return out;
}

void
mkdirs(const char *path, mode_t mode)
{
	char	buf[PATH_MAX], *p;

	cr_assert_lt(strlen(path), sizeof(buf));
	xsnprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		cr_assert(mkdir(buf, 0755) == 0 || errno == EEXIST,
		    "mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	cr_assert(mkdir(buf, mode) == 0 || errno == EEXIST, "mkdir %s: %s",
	    buf, strerror(errno));
	cr_assert_eq(chmod(buf, mode), 0, "chmod %s: %s", buf,
	    strerror(errno));
}

static void
write_all(int fd, const void *data, size_t len, const char *path)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		cr_assert_gt(n, 0, "write %s: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

void
spew(const char *path, const void *data, size_t len, mode_t mode)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	cr_assert_neq(fd, -1, "open %s: %s", path, strerror(errno));
	write_all(fd, data, len, path);
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(close(fd), 0);
}

char *
slurp(const char *path, size_t *len)
{
	struct buf	b = { NULL, 0, 0 };
	char		chunk[8192];
	ssize_t		n;
	int		fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	cr_assert_neq(fd, -1, "open %s: %s", path, strerror(errno));
	buf_add(&b, "", 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	cr_assert_eq(n, 0, "read %s: %s", path, strerror(errno));
	(void)close(fd);
	if (len != NULL)
		*len = b.len;
	return b.p;
}

int
file_equals(const char *path, const void *data, size_t len)
{
	struct stat	 st;
	char		*p;
	size_t		 n;
	int		 eq;

	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	p = slurp(path, &n);
	eq = n == len && memcmp(p, data, len) == 0;
	free(p);
	return eq;
}

void
tree_make(struct tree *t)
{
	tree_make_at(t, "/tmp");
}

void
tree_make_at(struct tree *t, const char *parent)
{
	char	path[PATH_MAX], text[1024];
	int	n;

	memset(t, 0, sizeof(*t));
	xsnprintf(t->base, sizeof(t->base), "%s/keyadm-cli.XXXXXX", parent);
	cr_assert_not_null(mkdtemp(t->base), "mkdtemp: %s", strerror(errno));
	cr_assert_eq(chmod(t->base, 0755), 0);
	xsnprintf(t->root, sizeof(t->root), "%s", t->base);
	t->as_root = geteuid() == 0;
	if (t->as_root) {
		t->alice_uid = 2001;
		t->alice_gid = 2001;
		t->bob_uid = 2002;
		t->bob_gid = 2002;
	} else {
		t->alice_uid = t->bob_uid = geteuid();
		t->alice_gid = t->bob_gid = getegid();
	}
	mkdirs(tree_path(t, path, sizeof(path), "etc"), 0755);
	mkdirs(tree_path(t, path, sizeof(path), "var/lib"), 0755);
	mkdirs(tree_path(t, path, sizeof(path), "root"), 0700);
	mkdirs(tree_path(t, path, sizeof(path), "home/alice"), 0700);
	mkdirs(tree_path(t, path, sizeof(path), "home/bob"), 0700);
	mkdirs(tree_path(t, path, sizeof(path), "inbox"), 0755);
	if (t->as_root) {
		cr_assert_eq(chown(tree_path(t, path, sizeof(path),
		    "home/alice"), t->alice_uid, t->alice_gid), 0);
		cr_assert_eq(chown(tree_path(t, path, sizeof(path),
		    "home/bob"), t->bob_uid, t->bob_gid), 0);
	}
	n = snprintf(text, sizeof(text),
	    "root:x:0:0:root:/root:/bin/sh\n"
	    "alice:x:%u:%u:Alice:/home/alice:/bin/sh\n"
	    "bob:x:%u:%u:Bob:/home/bob:/bin/sh\n",
	    (unsigned)t->alice_uid, (unsigned)t->alice_gid,
	    (unsigned)t->bob_uid, (unsigned)t->bob_gid);
	spew(tree_path(t, path, sizeof(path), "etc/passwd"), text, (size_t)n,
	    0644);
	n = snprintf(text, sizeof(text), "root:x:0:\nalice:x:%u:\nbob:x:%u:\n",
	    (unsigned)t->alice_gid, (unsigned)t->bob_gid);
	spew(tree_path(t, path, sizeof(path), "etc/group"), text, (size_t)n,
	    0644);
	xsnprintf(t->inbox, sizeof(t->inbox), "%s/inbox", t->root);
}

/* Pre-order pass: make every directory ours to descend and empty. */
static int
rm_prep(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type == FTW_D || type == FTW_DNR)
		(void)chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP || type == FTW_D || type == FTW_DNR)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

void
tree_remove(struct tree *t)
{
	const char	*slash = strrchr(t->base, '/');

	/* only what tree_make or tree_make_at made: PARENT/keyadm-cli.XXXXXX
	 * (or an older /tmp/keyadm-*), never "/" or a parent */
	if (t->base[0] != '/' || slash == NULL || slash == t->base ||
	    (strncmp(slash, "/keyadm-cli.", 12) != 0 &&
	    strncmp(t->base, "/tmp/keyadm-", 12) != 0))
		return;
	(void)nftw(t->base, rm_prep, 32, FTW_PHYS);
	(void)nftw(t->base, rm_one, 32, FTW_PHYS | FTW_DEPTH);
	t->base[0] = '\0';
}

void
tree_keygen(const struct tree *t, const char *type, unsigned int bits,
    const char *comment, const char *name, char *priv, size_t privlen)
{
	struct run_result	 r;
	char			 path[PATH_MAX], bitstr[16];
	const char		*argv[16];
	int			 i = 0;

	xsnprintf(path, sizeof(path), "%s/%s", t->inbox, name);
	xsnprintf(bitstr, sizeof(bitstr), "%u", bits);
	argv[i++] = "ssh-keygen";
	argv[i++] = "-q";
	argv[i++] = "-t";
	argv[i++] = type;
	if (bits != 0) {
		argv[i++] = "-b";
		argv[i++] = bitstr;
	}
	argv[i++] = "-N";
	argv[i++] = "";
	argv[i++] = "-C";
	argv[i++] = comment;
	argv[i++] = "-f";
	argv[i++] = path;
	argv[i] = NULL;
	(void)unlink(path);
	run_prog(&r, NULL, 0, argv, 120);
	cr_assert_eq(r.status, 0, "ssh-keygen -t %s failed: %s", type, r.err);
	run_free(&r);
	if (priv != NULL) {
		cr_assert_lt(strlen(path), privlen);
		xsnprintf(priv, privlen, "%s", path);
	}
}

void
ssh_keygen_fingerprint(const char *pubpath, char *out, size_t outlen)
{
	struct run_result	 r;
	const char		*argv[] = { "ssh-keygen", "-l", "-f", pubpath,
				    NULL };
	const char		*sp, *end;

	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 0, "ssh-keygen -l -f %s: %s", pubpath, r.err);
	/* "256 SHA256:xxxx comment (ED25519)" */
	sp = strchr(r.out, ' ');
	cr_assert_not_null(sp, "odd ssh-keygen -l output: %s", r.out);
	sp++;
	end = sp + strcspn(sp, " \n");
	cr_assert_lt((size_t)(end - sp), outlen);
	memcpy(out, sp, (size_t)(end - sp));
	out[end - sp] = '\0';
	cr_assert(strncmp(out, "SHA256:", 7) == 0, "odd fingerprint %s", out);
	run_free(&r);
}

int
json_field(const char *json, const char *key, char *out, size_t outlen)
{
	char		 pat[128];
	const char	*p, *e;
	size_t		 n;

	xsnprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(json, pat)) == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p == '"') {
		p++;
		for (e = p; *e != '\0' && *e != '"'; e++)
			if (*e == '\\' && e[1] != '\0')
				e++;
	} else {
		e = p + strcspn(p, ",}] \n");
	}
	n = (size_t)(e - p);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int
json_valid(const char *text, size_t len)
{
	struct run_result	 r;
	const char		*argv[] = { "python3", "-c",
	    "import json,sys; json.load(sys.stdin)", NULL };
	int			 ok;

	run_prog(&r, text, len, argv, 0);
	ok = r.status == 0;
	if (!ok)
		cr_log_error("python3 json: %s", r.err);
	run_free(&r);
	return ok;
}

int
text_lines(const char *text)
{
	int	n = 0;

	for (; *text != '\0'; text++)
		n += *text == '\n';
	return n;
}

int
mem_contains(const void *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

void
xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < len, "text too long for its buffer");
}

int
tree_kav(const struct tree *t, struct run_result *r, const char *in,
    const char *const args[])
{
	const char	*argv[TREE_KA_MAX + 1];
	int		 n = 0, i;

	argv[n++] = "--root";
	argv[n++] = t->root;
	for (i = 0; args[i] != NULL; i++) {
		cr_assert_lt(n, TREE_KA_MAX, "too many words for keyadm");
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return run_keyadm(r, in, argv);
}

int
tree_ka_v(const struct tree *t, struct run_result *r, const char *in,
    va_list ap)
{
	const char	*args[TREE_KA_MAX + 1], *a;
	int		 n = 0;

	while ((a = va_arg(ap, const char *)) != NULL) {
		cr_assert_lt(n, TREE_KA_MAX, "too many words for keyadm");
		args[n++] = a;
	}
	args[n] = NULL;
	return tree_kav(t, r, in, args);
}

int
tree_ka(const struct tree *t, struct run_result *r, const char *in, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, in);
	rc = tree_ka_v(t, r, in, ap);
	va_end(ap);
	return rc;
}

void
set_sudo_actor(void)
{
	(void)setenv("SUDO_USER", "ka-admin", 1);
	(void)setenv("SUDO_UID", "4242", 1);
}

const char *
tree_akfile(const struct tree *t, char *out, const char *user)
{
	char	rel[PATH_MAX];

	xsnprintf(rel, sizeof(rel), "home/%s/.ssh/authorized_keys", user);
	return tree_path(t, out, PATH_MAX, rel);
}

void
tree_put_ssh_file(const struct tree *t, const char *home_rel, uid_t uid,
    gid_t gid, const char *name, const char *text, char *path)
{
	char	d[PATH_MAX], f[PATH_MAX], rel[PATH_MAX];

	xsnprintf(rel, sizeof(rel), "%s/.ssh", home_rel);
	mkdirs(tree_path(t, d, sizeof(d), rel), 0700);
	cr_assert_eq(lchown(d, uid, gid), 0);
	xsnprintf(f, sizeof(f), "%s/%s", d, name);
	spew(f, text, strlen(text), 0600);
	cr_assert_eq(lchown(f, uid, gid), 0);
	if (path != NULL)
		xsnprintf(path, PATH_MAX, "%s", f);
}

void
tree_put_user_file(const struct tree *t, const char *user, const char *name,
    const char *text)
{
	char	home[64];
	int	alice = strcmp(user, "alice") == 0;

	xsnprintf(home, sizeof(home), "home/%s", user);
	tree_put_ssh_file(t, home, alice ? t->alice_uid : t->bob_uid,
	    alice ? t->alice_gid : t->bob_gid, name, text, NULL);
}

char *
tree_sqlite3(const struct tree *t, const char *sql)
{
	struct run_result	 r;
	char			 db[PATH_MAX], *out;
	const char		*argv[] = { "sqlite3", db, sql, NULL };

	tree_path(t, db, sizeof(db), DB_REL);
	cr_assert_eq(run_prog(&r, NULL, 0, argv, 0), 0, "sqlite3 %s: %s",
	    sql, r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

void
tree_sql_exec(const struct tree *t, const char *sql)
{
	sqlite3	*h;
	char	 db[PATH_MAX], *err = NULL;

	tree_path(t, db, sizeof(db), DB_REL);
	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK, "open %s", db);
	cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, &err), SQLITE_OK,
	    "%s: %s", sql, err ? err : "?");
	cr_assert_eq(sqlite3_close(h), SQLITE_OK);
}

long
tree_store_count(const struct tree *t, const char *sql)
{
	struct run_result	r;
	char			db[PATH_MAX];
	const char		*argv[] = { "sqlite3", "-readonly", db, sql,
				    NULL };
	long			n;

	tree_path(t, db, sizeof(db), DB_REL);
	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 0, "sqlite3 %s: %s", sql, r.err);
	n = strtol(r.out, NULL, 10);
	run_free(&r);
	return n;
}

void
tree_keygen_pub(const struct tree *t, const char *type, unsigned int bits,
    const char *comment, const char *name, char *pub, char *fp)
{
	char	priv[PATH_MAX];

	tree_keygen(t, type, bits, comment, name, priv, sizeof(priv));
	xsnprintf(pub, PATH_MAX, "%s.pub", priv);
	if (fp != NULL)
		ssh_keygen_fingerprint(pub, fp, FP_LEN);
}

char *
pub_typeb64(const char *pub)
{
	char	*t = slurp(pub, NULL), *sp;

	sp = strchr(t, ' ');
	cr_assert_not_null(sp, "%s: no key line", pub);
	sp = strchr(sp + 1, ' ');
	if (sp == NULL)
		sp = t + strcspn(t, "\n");
	*sp = '\0';
	return t;
}

void
append_file(const char *path, const void *data, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	cr_assert_neq(fd, -1, "open %s: %s", path, strerror(errno));
	write_all(fd, data, len, path);
	cr_assert_eq(close(fd), 0);
}

void
append_text(const char *path, const char *text)
{
	append_file(path, text, strlen(text));
}

void
assert_absent(const char *path)
{
	struct stat	st;

	cr_assert(lstat(path, &st) == -1 && errno == ENOENT,
	    "%s exists but must not", path);
}

const char *
python3(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" :
	    "python3";
}

void
tree_pyjson(const struct tree *t, const char *doc, size_t len,
    const char *code)
{
	struct run_result	 r;
	char			*prog, *pre;
	size_t			 n;
	static const char	 prefmt[] =
	    "import json, sys\n"
	    "def nodup(pairs):\n"
	    "    keys = [k for k, _ in pairs]\n"
	    "    assert len(keys) == len(set(keys)), "
	    "'repeated key in one object: %%r' %% keys\n"
	    "    return dict(pairs)\n"
	    "ROOT = '%s'\n"
	    "def AK(u): return ROOT + '/home/' + u + '/.ssh/authorized_keys'\n"
	    "def AK2(u): return AK(u) + '2'\n"
	    "RF = ROOT + '/" REVFILE_REL "'\n"
	    "text = sys.stdin.read()\n"
	    "d = json.loads(text, object_pairs_hook=nodup)\n";
	const char		*argv[] = { python3(), "-c", NULL, NULL };

	n = strlen(prefmt) + strlen(t->root) + 1;
	pre = malloc(n);
	cr_assert_not_null(pre);
	xsnprintf(pre, n, prefmt, t->root);
	n = strlen(pre) + strlen(code) + 2;
	prog = malloc(n);
	cr_assert_not_null(prog);
	xsnprintf(prog, n, "%s%s\n", pre, code);
	argv[2] = prog;
	run_prog(&r, doc, len, argv, 60);
	cr_assert_eq(r.status, 0, "JSON check failed:\n%s\non:\n%s\ncheck:\n%s",
	    r.err, doc, code);
	run_free(&r);
	free(prog);
	free(pre);
}

void
locker_hold(struct locker *l, const char *db)
{
	int	ready[2], hold[2];
	char	c;
	ssize_t	n;

	cr_assert_eq(pipe2(ready, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(hold, O_CLOEXEC), 0);
	l->pid = fork();
	cr_assert_neq(l->pid, -1);
	if (l->pid == 0) {
		sqlite3	*h;

		(void)close(ready[0]);
		(void)close(hold[1]);
		(void)alarm(120);	/* never outlive the test by much */
		if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) !=
		    SQLITE_OK || sqlite3_exec(h, "BEGIN EXCLUSIVE", NULL, NULL,
		    NULL) != SQLITE_OK)
			_exit(2);
		if (write(ready[1], "L", 1) != 1)
			_exit(3);
		while (read(hold[0], &c, 1) == -1 && errno == EINTR)
			;
		(void)sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		(void)sqlite3_close(h);
		_exit(0);
	}
	(void)close(ready[1]);
	(void)close(hold[0]);
	l->fd = hold[1];
	while ((n = read(ready[0], &c, 1)) == -1 && errno == EINTR)
		;
	(void)close(ready[0]);
	cr_assert_eq(n, 1, "the locking child could not lock %s", db);
}

void
locker_release(struct locker *l)
{
	int	st;

	if (l->fd != -1)
		(void)close(l->fd);	/* the locker rolls back and exits */
	l->fd = -1;
	if (l->pid > 0) {
		(void)kill(l->pid, SIGTERM);
		(void)waitpid(l->pid, &st, 0);
	}
	l->pid = -1;
}
