/*
 * run.c -- run programs under test with a time limit; --root trees; keys.
 *
 * Shared by tests/cli/test_cli.c and tests/e2e/test_sshd.c.  Helpers fail
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

#include "run.h"

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

static long long
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

void
spew(const char *path, const void *data, size_t len, mode_t mode)
{
	const char	*p = data;
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	cr_assert_neq(fd, -1, "open %s: %s", path, strerror(errno));
	while (len > 0) {
		n = write(fd, p, len);
		cr_assert_gt(n, 0, "write %s: %s", path, strerror(errno));
		p += n;
		len -= (size_t)n;
	}
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
