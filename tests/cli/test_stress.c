/*
 * test_stress.c -- keyadm under concurrent load and killed mid-write.
 *
 * Suite "stress" (root only: the trees hold accounts with their own uids;
 * the crash sweep also needs strace, see tests/deps.sh):
 *
 *  - concurrent_adds_one_account: 8 processes add 200 keys each to alice at
 *    once.  Nothing may be lost: every key ends up exactly once in the file
 *    and as one active grant with one "added" event, every run exits 0
 *    (exit 75, busy, is a finding, not something to retry), and the event
 *    hash chain is intact.  The store and .ssh exist before (one seed key).
 *  - concurrent_adds_two_accounts: the same with 4 processes for alice and
 *    4 for bob, a quarter of the keys granted to both: store contention
 *    without the shared file lock.
 *  - concurrent_first_use: 8 processes add one key each to a tree with no
 *    store and no .ssh yet, so they race to create both (10 rounds).
 *  - crash_sweep_add: keyadm add killed with SIGKILL at the entry of one
 *    system call after another (strace fault injection); each time the
 *    file must be the old or the new one byte for byte, the store must be
 *    old or new and never claim a line the file lacks (file new and store
 *    old is the one allowed disagreement), and the same add run again must
 *    leave the new state, an intact event chain and no temporary behind.
 *  - crash_sweep_revoke, crash_sweep_expire: the same for revoke (the
 *    revoked-keys file, then two accounts) and expire (two accounts),
 *    which commit once per step: a killed run must leave the first steps
 *    done and the rest not, a file possibly ahead of its store but never
 *    behind it; the revoked-keys file must always read as a list of keys
 *    (ssh-keygen -k); the rerun must reach the new state.
 *
 * KEYS_PER_RUN: one key per keyadm run (the most contention) costs 1,600
 * runs of ~50 ms CPU each, over a minute on two cores; eight keys a run
 * keep every run contending for the same lock and store at 200 runs.
 *
 * The sweep is generic (struct sweep: arguments, old-state builder, the
 * files the command may replace, the SQL that describes the store, and the
 * judge of a killed run), so revoke and expire can reuse it.  strace counts
 * "when=N" per system call name, so a kill point is "the Nth openat", taken
 * from a trace of an unkilled run; address space randomisation is off in
 * traced runs so that every run makes the same calls (see spawn()).
 *
 * Keys are made in-process with OpenSSL's Ed25519 (libcrypto is already
 * linked through keyadm_core): 1,600 runs of ssh-keygen take 30-50 s on
 * two cores.  Their format and fingerprints are checked against
 * ssh-keygen -l on a sample.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "run.h"
#include "store.h"

/*
 * Kill points after the first change: every system call in the plain
 * build; every other one under ASan, which runs about three times slower
 * and makes twice the calls (the plain build keeps the full guarantee).
 */
#if defined(__SANITIZE_ADDRESS__)
#define DENSE_STEP	2
#else
#define DENSE_STEP	1
#endif

#define NWORKERS	8	/* concurrent keyadm processes */
#define KEYS_PER_WORKER	200
#define NKEYS		(NWORKERS * KEYS_PER_WORKER)
#define KEYS_PER_RUN	8	/* keys given to one keyadm add (above) */
#define WORKER_WAIT_S	240	/* all workers together; longer is a hang */
#define KILL_RUN_S	60	/* one strace'd run */
#define SWEEP_FILES_MAX	4
#define SWEEP_SAMPLE	30	/* kill points before the dense region */
#define DB_DIR		"var/lib/keyadm"
#define DB_NAME		"keyadm.db"

/* What a command may change: its files and its store. */
struct snap {
	char	*file[SWEEP_FILES_MAX];	/* NULL: the file is absent */
	size_t	 len[SWEEP_FILES_MAX];
	char	*store;			/* store_sql's rows; NULL: no store */
};

/* The state before the command, and after it ran to the end. */
struct sweep_ref {
	struct snap	old, new;
};

/* One system call of the reference run: its name and its ordinal. */
struct call {
	char		name[32];
	unsigned int	nth;	/* 1: the first call of that name */
	int		inert;	/* changes no file (call_inert) */
};

struct gkey;

static struct tree	T;	/* the --root tree of the test */
static struct tree	AUX;	/* template, scratch copies, logs */

/*
 * What a test allocates and a failed assertion (a jump to the test's end)
 * would leak: .fini frees it, so ASan's leak report names keyadm only.
 */
static struct {
	struct gkey	*keys;		/* gkeys_make */
	char		*report;	/* run_workers: the workers' logs */
	struct call	*calls;		/* sweep_run */
	unsigned char	(*seen)[32];
	struct sweep_ref ref;
	struct snap	 now;
	char		*krl_ok[4];	/* krl_check: texts ssh-keygen read */
	size_t		 krl_oklen[4];
	char		 tmpl[PATH_MAX];	/* sweep_run: the old state */
	char		*note_ref;	/* sweep_run: note_sql's rows, unkilled */
	char		*note_diff;	/* the first rerun that differed */
} G;

static void	snap_free(struct snap *);

static void
setup(void)
{
	if (geteuid() != 0)
		return;
	tree_make(&T);
	memset(&AUX, 0, sizeof(AUX));
	xsnprintf(AUX.base, sizeof(AUX.base), "/tmp/keyadm-stress.XXXXXX");
	cr_assert_not_null(mkdtemp(AUX.base), "mkdtemp: %s", strerror(errno));
	set_sudo_actor();	/* a fixed actor, as in the other tests */
}

static void
teardown(void)
{
	size_t	i;

	tree_remove(&T);
	tree_remove(&AUX);
	free(G.keys);
	free(G.report);
	free(G.calls);
	free(G.seen);
	snap_free(&G.ref.old);
	snap_free(&G.ref.new);
	snap_free(&G.now);
	free(G.note_ref);
	free(G.note_diff);
	for (i = 0; i < 4; i++)
		free(G.krl_ok[i]);
	memset(&G, 0, sizeof(G));
}

TestSuite(stress, .init = setup, .fini = teardown, .timeout = 300);

static void
need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: accounts with their own uids");
}

static const char *
bin(void)
{
	const char	*b = getenv("KEYADM_BIN");

	cr_assert(b != NULL && b[0] == '/',
	    "KEYADM_BIN must name the built keyadm (run through ctest)");
	return b;
}

static const char *
auxpath(char *buf, const char *rel)
{
	xsnprintf(buf, PATH_MAX, "%s/%s", AUX.base, rel);
	return buf;
}

/* ---- processes ---------------------------------------------------------- */

/*
 * fork and exec argv (argv[0] absolute or found in PATH) with stdin and
 * stdout on /dev/null and stderr to errpath (NULL: /dev/null).  Usable
 * from a worker process: never asserts in the child.
 *
 * traced: argv is strace running keyadm.  LeakSanitizer cannot work under
 * ptrace, so it is turned off; and address space randomisation is, so
 * that every run makes the same system calls (ASan reads /proc/self/maps
 * in as many read calls as its randomised text needs).
 */
static pid_t
spawn(const char *const argv[], const char *errpath, int traced)
{
	const char	*old;
	char		 opts[1024];
	pid_t		 pid;
	int		 nul, fd;

	if ((pid = fork()) != 0)
		return pid;
	(void)signal(SIGPIPE, SIG_DFL);
	if (traced) {
		if (personality(ADDR_NO_RANDOMIZE) == -1)
			_exit(126);
		old = getenv("ASAN_OPTIONS");
		(void)snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0",
		    old != NULL ? old : "", old != NULL && *old ? ":" : "");
		(void)setenv("ASAN_OPTIONS", opts, 1);
	}
	nul = open("/dev/null", O_RDWR);
	fd = errpath != NULL ? open(errpath, O_WRONLY | O_CREAT | O_TRUNC,
	    0600) : nul;
	if (nul == -1 || fd == -1 || dup2(nul, 0) == -1 ||
	    dup2(nul, 1) == -1 || dup2(fd, 2) == -1)
		_exit(126);
	(void)execvp(argv[0], (char *const *)(uintptr_t)argv);
	(void)dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Reap pid within timeout_ms; on timeout kill it, reap it, return -1. */
static int
reap(pid_t pid, long long timeout_ms, int *status)
{
	long long	deadline = now_ms() + timeout_ms;
	pid_t		w;

	for (;;) {
		w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return 0;
		if (w == -1 && errno != EINTR)
			return -1;
		if (now_ms() > deadline) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, status, 0);
			return -1;
		}
		(void)usleep(2000);
	}
}

static void
status_text(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		(void)snprintf(buf, len, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		(void)snprintf(buf, len, "killed by signal %d (%s)",
		    WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		(void)snprintf(buf, len, "status 0x%x", st);
}

/* ---- trees -------------------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP)
		return rmdir(path) == -1 ? -1 : 0;
	return unlink(path) == -1 ? -1 : 0;
}

/* rm -rf path (no error if missing). */
static void
rm_rf(const char *path)
{
	struct stat	st;

	if (lstat(path, &st) == -1 && errno == ENOENT)
		return;
	cr_assert_eq(nftw(path, rm_one, 32, FTW_PHYS | FTW_DEPTH), 0,
	    "rm -rf %s: %s", path, strerror(errno));
}

static void
copy_file(const char *src, const char *dst, const struct stat *st)
{
	char	buf[65536];
	ssize_t	n;
	int	in, out;

	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	cr_assert_neq(in, -1, "open %s: %s", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	cr_assert_neq(out, -1, "create %s: %s", dst, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n, "write %s", dst);
	cr_assert_eq(n, 0, "read %s: %s", src, strerror(errno));
	cr_assert_eq(fchown(out, st->st_uid, st->st_gid), 0);
	cr_assert_eq(fchmod(out, st->st_mode & 07777), 0);
	(void)close(in);
	cr_assert_eq(close(out), 0);
}

/*
 * Copy the tree src to dst (which must not exist), keeping modes and
 * owners: the template of a sweep.  Directories, regular files and
 * symbolic links only.
 */
static void
copy_tree(const char *src, const char *dst)
{
	struct stat	 st;
	struct dirent	*de;
	char		 s[PATH_MAX], d[PATH_MAX], lnk[PATH_MAX];
	DIR		*dir;
	ssize_t		 n;

	cr_assert_eq(lstat(src, &st), 0, "%s: %s", src, strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		n = readlink(src, lnk, sizeof(lnk) - 1);
		cr_assert_gt(n, 0);
		lnk[n] = '\0';
		cr_assert_eq(symlink(lnk, dst), 0);
		cr_assert_eq(lchown(dst, st.st_uid, st.st_gid), 0);
		return;
	}
	if (S_ISREG(st.st_mode)) {
		copy_file(src, dst, &st);
		return;
	}
	cr_assert(S_ISDIR(st.st_mode), "%s: cannot copy this type", src);
	cr_assert_eq(mkdir(dst, 0700), 0, "mkdir %s: %s", dst,
	    strerror(errno));
	cr_assert_not_null(dir = opendir(src));
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		xsnprintf(s, sizeof(s), "%s/%s", src, de->d_name);
		xsnprintf(d, sizeof(d), "%s/%s", dst, de->d_name);
		copy_tree(s, d);
	}
	(void)closedir(dir);
	cr_assert_eq(chown(dst, st.st_uid, st.st_gid), 0);
	cr_assert_eq(chmod(dst, st.st_mode & 07777), 0);
}

/* ---- keys --------------------------------------------------------------- */

struct gkey {
	char	b64[96];	/* the blob, base64 */
	char	fp[64];		/* "SHA256:..." unpadded */
	char	line[192];	/* "ssh-ed25519 B64 COMMENT\n" */
};

static void
put_string(unsigned char **p, const void *s, size_t n)
{
	(*p)[0] = (unsigned char)(n >> 24);
	(*p)[1] = (unsigned char)(n >> 16);
	(*p)[2] = (unsigned char)(n >> 8);
	(*p)[3] = (unsigned char)n;
	memcpy(*p + 4, s, n);
	*p += 4 + n;
}

/* A fresh Ed25519 key as OpenSSH writes its public half. */
static void
gkey_make(struct gkey *k, const char *comment)
{
	EVP_PKEY	*pk;
	unsigned char	 raw[32], blob[64], *p = blob, md[32];
	unsigned char	 b64[96];
	size_t		 rawlen = sizeof(raw);
	unsigned int	 mdlen = 0;
	int		 n;
	char		*eq;

	pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	cr_assert_not_null(pk, "EVP_PKEY_Q_keygen ED25519 failed");
	cr_assert_eq(EVP_PKEY_get_raw_public_key(pk, raw, &rawlen), 1);
	cr_assert_eq(rawlen, 32);
	EVP_PKEY_free(pk);
	put_string(&p, "ssh-ed25519", 11);
	put_string(&p, raw, 32);
	n = EVP_EncodeBlock(b64, blob, (int)(p - blob));
	cr_assert(n > 0 && (size_t)n < sizeof(k->b64));
	memcpy(k->b64, b64, (size_t)n + 1);
	cr_assert_eq(EVP_Digest(blob, (size_t)(p - blob), md, &mdlen,
	    EVP_sha256(), NULL), 1);
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	cr_assert_gt(n, 0);
	if ((eq = strchr((char *)b64, '=')) != NULL)
		*eq = '\0';
	xsnprintf(k->fp, sizeof(k->fp), "SHA256:%s", b64);
	xsnprintf(k->line, sizeof(k->line), "ssh-ed25519 %s %s\n", k->b64,
	    comment);
}

/* INBOX/NAME.pub holding k. */
static void
gkey_write(const struct gkey *k, const char *name, char *path)
{
	xsnprintf(path, PATH_MAX, "%s/%s.pub", T.inbox, name);
	spew(path, k->line, strlen(k->line), 0644);
}

/*
 * n keys "stress-NNNN" written as INBOX/kNNNN.pub; paths[i] gets each.
 * The array is G.keys (the previous one is freed).
 */
static struct gkey *
gkeys_make(size_t n, char (*paths)[PATH_MAX])
{
	struct gkey	*k;
	char		 name[32];
	size_t		 i;

	free(G.keys);
	cr_assert_not_null(k = G.keys = calloc(n, sizeof(*k)));
	for (i = 0; i < n; i++) {
		xsnprintf(name, sizeof(name), "stress-%04zu", i);
		gkey_make(&k[i], name);
		xsnprintf(name, sizeof(name), "k%04zu", i);
		gkey_write(&k[i], name, paths[i]);
	}
	return k;
}

/* Our format and fingerprint are what ssh-keygen makes of them. */
static void
gkey_vouch(const struct gkey *k, const char *path)
{
	char	fp[128];

	ssh_keygen_fingerprint(path, fp, sizeof(fp));
	cr_assert_str_eq(fp, k->fp, "%s: ssh-keygen says %s, we say %s",
	    path, fp, k->fp);
}

/* ---- the store ---------------------------------------------------------- */

/*
 * Run sql on a copy of the tree's store (database, -wal, -shm: exactly
 * what the next keyadm would open), so that reading it changes nothing
 * and a hot WAL is recovered in the copy.  Rows come back as text, one per
 * line, columns separated by '|'; NULL is "NULL".  First checks
 * PRAGMA integrity_check.  No database: NULL.
 */
static char *
store_text(const struct tree *t, const char *sql, const char *where)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	sqlite3		*h;
	sqlite3_stmt	*st;
	struct stat	 sb;
	const char	*tail = sql, *v;
	char		 src[PATH_MAX], dst[PATH_MAX], dbdir[PATH_MAX];
	char		*out = NULL;
	size_t		 len = 0, cap = 0, need;
	int		 rc, i, ncol;

	xsnprintf(dbdir, sizeof(dbdir), "%s/" DB_DIR "/" DB_NAME, t->root);
	if (lstat(dbdir, &sb) == -1 && errno == ENOENT)
		return NULL;
	rm_rf(auxpath(dst, "db"));
	cr_assert_eq(mkdir(dst, 0700), 0);
	for (i = 0; i < 3; i++) {
		xsnprintf(src, sizeof(src), "%s%s", dbdir, sfx[i]);
		if (lstat(src, &sb) == -1)
			continue;
		xsnprintf(dst, sizeof(dst), "%s/db/" DB_NAME "%s", AUX.base,
		    sfx[i]);
		copy_file(src, dst, &sb);
	}
	xsnprintf(dst, sizeof(dst), "%s/db/" DB_NAME, AUX.base);
	rc = sqlite3_open_v2(dst, &h, SQLITE_OPEN_READWRITE, NULL);
	cr_assert_eq(rc, SQLITE_OK, "%s: open store copy: %s", where,
	    sqlite3_errstr(rc));
	/* a scratch copy: its recovery and checkpoint need not be durable */
	cr_assert_eq(sqlite3_exec(h, "PRAGMA synchronous = OFF", NULL, NULL,
	    NULL), SQLITE_OK, "%s: %s", where, sqlite3_errmsg(h));
	rc = sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL);
	cr_assert_eq(rc, SQLITE_OK, "%s: %s", where, sqlite3_errmsg(h));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s: integrity_check: %s",
	    where, sqlite3_errmsg(h));
	v = (const char *)sqlite3_column_text(st, 0);
	cr_assert(v != NULL && strcmp(v, "ok") == 0,
	    "%s: the store is damaged: %s", where, v ? v : "NULL");
	(void)sqlite3_finalize(st);
	cr_assert_not_null(out = calloc(1, cap = 4096));
	while (*tail != '\0') {
		rc = sqlite3_prepare_v2(h, tail, -1, &st, &tail);
		cr_assert_eq(rc, SQLITE_OK, "%s: %s: %s", where, sql,
		    sqlite3_errmsg(h));
		if (st == NULL)
			break;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			ncol = sqlite3_column_count(st);
			for (i = 0; i < ncol; i++) {
				v = (const char *)sqlite3_column_text(st, i);
				if (v == NULL)
					v = "NULL";
				need = len + strlen(v) + 2;
				if (need >= cap) {
					while (need >= cap)
						cap *= 2;
					cr_assert_not_null(out = realloc(out,
					    cap));
				}
				len += (size_t)sprintf(out + len, "%s%c", v,
				    i + 1 < ncol ? '|' : '\n');
			}
		}
		cr_assert_eq(rc, SQLITE_DONE, "%s: %s: %s", where, sql,
		    sqlite3_errmsg(h));
		(void)sqlite3_finalize(st);
	}
	cr_assert_eq(sqlite3_close(h), SQLITE_OK);
	return out;
}

/* The event log's hash chain, as keyadm itself checks it. */
static void
assert_chain(const struct tree *t, const char *where)
{
	struct store	*s = NULL;
	struct store_chain ch;
	char		 msg[512] = "";
	int		 rootfd, r;

	rootfd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_neq(rootfd, -1);
	r = store_open(rootfd, "", "/" DB_DIR "/" DB_NAME, STORE_READONLY,
	    5000, &s, msg, sizeof(msg));
	cr_assert_eq(r, 0, "%s: store_open: %s", where, msg);
	r = store_verify_chain(s, &ch);
	cr_assert_eq(r, 0, "%s: the events hash chain is broken at event "
	    "%lld (%d: %s)", where, (long long)ch.bad_id, r, store_errmsg(s));
	store_close(s);
	(void)close(rootfd);
}

/* ---- concurrent adds ---------------------------------------------------- */

struct job {
	const char	*user;
	char		(*paths)[PATH_MAX];	/* the keys this worker adds */
	size_t		 n;
	size_t		 per_run;
};

/*
 * A worker process: wait for the start signal on fd, then add the job's
 * keys, per_run at a time, one keyadm run after another.  Writes a report
 * to logpath: a line per failed run, then "runs N failed F slowest MS".
 * Exits 0 when every run exited 0.  Never asserts (not a test process).
 */
static void __attribute__((noreturn))
worker(const struct job *j, int startfd, const char *logpath,
    const char *errpath)
{
	const char	*argv[8 + 64];
	char		 st[64], err[512];
	long long	 t0, ms, slowest = 0;
	size_t		 i, k, runs = 0, failed = 0;
	ssize_t		 n;
	FILE		*log;
	pid_t		 pid;
	int		 status, a, fd;

	if ((log = fopen(logpath, "w")) == NULL)
		_exit(2);
	while (read(startfd, st, 1) == -1 && errno == EINTR)
		continue;	/* EOF: go */
	(void)close(startfd);
	for (i = 0; i < j->n; i += j->per_run) {
		a = 0;
		argv[a++] = bin();
		argv[a++] = "--root";
		argv[a++] = T.root;
		argv[a++] = "add";
		argv[a++] = j->user;
		for (k = i; k < i + j->per_run && k < j->n && a < 8 + 62; k++)
			argv[a++] = j->paths[k];
		argv[a] = NULL;
		t0 = now_ms();
		pid = spawn(argv, errpath, 0);
		if (pid == -1 || reap(pid, 120000, &status) == -1) {
			(void)fprintf(log, "run %zu: did not finish\n", runs);
			failed++;
			runs++;
			continue;
		}
		ms = now_ms() - t0;
		if (ms > slowest)
			slowest = ms;
		runs++;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		failed++;
		status_text(status, st, sizeof(st));
		err[0] = '\0';
		if ((fd = open(errpath, O_RDONLY)) != -1) {
			n = read(fd, err, sizeof(err) - 1);
			err[n > 0 ? n : 0] = '\0';
			(void)close(fd);
		}
		(void)fprintf(log, "%s %s: %s after %lld ms: %s", j->user,
		    j->paths[i] + strlen(T.inbox) + 1, st, ms, err);
		if (err[0] == '\0' || err[strlen(err) - 1] != '\n')
			(void)fputc('\n', log);
	}
	(void)fprintf(log, "runs %zu failed %zu slowest %lld\n", runs, failed,
	    slowest);
	(void)fclose(log);
	_exit(failed == 0 ? 0 : 1);
}

/*
 * Run the jobs at once, one worker process each.  Fails the test when a
 * run failed (with every failure in the message) or the workers hang.
 */
static void
run_workers(const struct job *jobs, size_t njobs, const char *what)
{
	pid_t		 pids[NWORKERS];
	char		 logp[NWORKERS][PATH_MAX], errp[PATH_MAX], name[32];
	char		*text, *p;
	size_t		 i, alllen = 0, tl;
	long long	 t0, left, slowest = 0, sl;
	size_t		 runs = 0, failed = 0, r, f;
	int		 go[2], status, hung = 0;

	cr_assert_leq(njobs, NWORKERS);
	(void)bin();	/* asserts here, not in a worker */
	cr_assert_eq(pipe(go), 0);
	for (i = 0; i < njobs; i++) {
		xsnprintf(name, sizeof(name), "worker%zu.log", i);
		auxpath(logp[i], name);
		xsnprintf(name, sizeof(name), "worker%zu.err", i);
		auxpath(errp, name);
		pids[i] = fork();
		cr_assert_neq(pids[i], -1, "fork: %s", strerror(errno));
		if (pids[i] == 0) {
			(void)close(go[1]);
			worker(&jobs[i], go[0], logp[i], errp);
		}
	}
	(void)close(go[0]);
	t0 = now_ms();
	(void)close(go[1]);	/* all go */
	for (i = 0; i < njobs; i++) {
		left = t0 + WORKER_WAIT_S * 1000LL - now_ms();
		if (reap(pids[i], left > 0 ? left : 0, &status) == -1 ||
		    !WIFEXITED(status))
			hung = 1;
	}
	cr_log_info("%s: %zu workers done in %lld ms", what, njobs,
	    now_ms() - t0);
	for (i = 0; i < njobs; i++) {
		text = slurp(logp[i], &tl);
		/* the last line is the summary */
		for (p = text + tl; p > text && p[-1] == '\n'; p--)
			continue;
		while (p > text && p[-1] != '\n')
			p--;
		if (sscanf(p, "runs %zu failed %zu slowest %lld",
		    &r, &f, &sl) != 3) {
			hung = 1;
		} else {
			runs += r;
			failed += f;
			if (sl > slowest)
				slowest = sl;
		}
		G.report = realloc(G.report, alllen + tl + 1);
		cr_assert_not_null(G.report);
		memcpy(G.report + alllen, text, tl + 1);
		alllen += tl;
		free(text);
	}
	(void)fprintf(stderr, "stress: %s: %zu runs in %lld ms, slowest run "
	    "%lld ms, %zu failed\n", what, runs, now_ms() - t0, slowest,
	    failed);
	cr_assert(!hung, "%s: a worker did not finish within %d s (or died): "
	    "%s", what, WORKER_WAIT_S, G.report);
	cr_assert_eq(failed, 0, "%s: %zu of %zu keyadm add runs failed:\n%s",
	    what, failed, runs, G.report);
	free(G.report);
	G.report = NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The account's file holds each of the n keys on exactly one line, and
 * beyond them only the extra lines (the seed), nothing else: no lost, no
 * doubled, no torn line.
 */
static void
assert_file_keys(const char *user, const struct gkey *const *keys, size_t n,
    size_t extra)
{
	char		  path[PATH_MAX], rel[64], *text, *line, *save, *b64;
	const char	**sorted, **hit;
	unsigned int	 *seen;
	size_t		  i, len, lines = 0, strange = 0, lost = 0, twice = 0;
	char		  first[256] = "";

	xsnprintf(rel, sizeof(rel), "home/%s/.ssh/authorized_keys", user);
	text = slurp(tree_path(&T, path, sizeof(path), rel), &len);
	cr_assert_eq(strlen(text), len, "%s holds a NUL byte", path);
	cr_assert_not_null(sorted = calloc(n, sizeof(*sorted)));
	cr_assert_not_null(seen = calloc(n, sizeof(*seen)));
	for (i = 0; i < n; i++)
		sorted[i] = keys[i]->b64;
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lines++;
		if (strncmp(line, "ssh-ed25519 ", 12) != 0) {
			strange++;
			if (first[0] == '\0')
				xsnprintf(first, sizeof(first), "%.200s", line);
			continue;
		}
		b64 = line + 12;
		b64[strcspn(b64, " ")] = '\0';
		hit = bsearch(&b64, sorted, n, sizeof(*sorted), cmp_str);
		if (hit != NULL)
			seen[hit - sorted]++;
	}
	for (i = 0; i < n; i++) {
		lost += seen[i] == 0;
		twice += seen[i] > 1;
	}
	cr_assert_eq(strange, 0, "%s: %zu lines that are no key line, e.g. "
	    "\"%s\"", path, strange, first);
	cr_assert_eq(lost, 0, "%s: %zu of %zu keys are missing", path, lost, n);
	cr_assert_eq(twice, 0, "%s: %zu keys are there more than once", path,
	    twice);
	cr_assert_eq(lines, n + extra, "%s: %zu lines, expected %zu", path,
	    lines, n + extra);
	free(sorted);
	free(seen);
	free(text);
}

/*
 * The store's active grants for user are exactly the fingerprints of the
 * n keys plus extra (NULL-terminated), one grant each, and the events
 * record one "added" per key.
 */
static void
assert_store_keys(const char *user, const struct gkey *const *keys, size_t n,
    const char *const *extra)
{
	const char	**want;
	char		  sql[512], *text, *expect, *p;
	size_t		  i, nw = n, len = 0;

	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		nw++;
	cr_assert_not_null(want = calloc(nw, sizeof(*want)));
	for (i = 0; i < n; i++)
		want[i] = keys[i]->fp;
	for (i = n; i < nw; i++)
		want[i] = extra[i - n];
	qsort(want, nw, sizeof(*want), cmp_str);
	cr_assert_not_null(expect = calloc(nw, 64));
	for (i = 0; i < nw; i++)
		len += (size_t)sprintf(expect + len, "%s\n", want[i]);
	/* user names are ours ("alice", "bob"): no quoting needed */
	xsnprintf(sql, sizeof(sql), "SELECT k.fingerprint FROM grants g "
	    "JOIN keys k ON k.id = g.key_id WHERE g.user = '%s' AND "
	    "g.status = 'active' ORDER BY 1", user);
	text = store_text(&T, sql, user);
	cr_assert_not_null(text, "no store");
	if (strcmp(text, expect) != 0) {
		size_t got = 0;
		for (p = text; *p != '\0'; p++)
			got += *p == '\n';
		cr_assert_fail("store: %zu active grants for %s, expected the "
		    "%zu keys added", got, user, nw);
	}
	free(text);
	xsnprintf(sql, sizeof(sql), "SELECT count(*), count(DISTINCT "
	    "fingerprint) FROM events WHERE user = '%s' AND action = 'added'",
	    user);
	text = store_text(&T, sql, user);
	xsnprintf(sql, sizeof(sql), "%zu|%zu\n", nw, nw);
	cr_assert_str_eq(text, sql, "events for %s: count|distinct 'added' "
	    "is %s, expected %s", user, text, sql);
	free(text);
	free(want);
	free(expect);
}

/* keyadm --root T add USER PATH: exit 0 (for the seed). */
static void
add_one(const char *user, const char *path)
{
	struct run_result	 r;
	const char		*argv[] = { "--root", T.root, "add", user, path,
				    NULL };

	run_keyadm(&r, NULL, argv);
	cr_assert_eq(r.status, 0, "add %s %s: exit %d: %s", user, path,
	    r.status, r.err);
	run_free(&r);
}

Test(stress, concurrent_adds_one_account)
{
	static char	 paths[NKEYS + 1][PATH_MAX];
	const struct gkey *mine[NKEYS];
	struct job	 jobs[NWORKERS];
	struct gkey	*k;
	const char	*seedfp[2] = { NULL, NULL };
	char		 what[96];
	long long	 t0;
	size_t		 i;

	need_root();
	t0 = now_ms();
	k = gkeys_make(NKEYS + 1, paths);	/* the last one: the seed */
	cr_log_info("%d keys made in %lld ms", NKEYS + 1, now_ms() - t0);
	gkey_vouch(&k[0], paths[0]);
	gkey_vouch(&k[NKEYS], paths[NKEYS]);
	/* the store and .ssh exist: this is about steady-state contention */
	add_one("alice", paths[NKEYS]);
	seedfp[0] = k[NKEYS].fp;
	for (i = 0; i < NWORKERS; i++) {
		jobs[i].user = "alice";
		jobs[i].paths = &paths[i * KEYS_PER_WORKER];
		jobs[i].n = KEYS_PER_WORKER;
		jobs[i].per_run = KEYS_PER_RUN;
	}
	xsnprintf(what, sizeof(what), "%d workers x %d keys (%d a run) to "
	    "alice", NWORKERS, KEYS_PER_WORKER, KEYS_PER_RUN);
	run_workers(jobs, NWORKERS, what);
	for (i = 0; i < NKEYS; i++)
		mine[i] = &k[i];
	assert_file_keys("alice", mine, NKEYS, 1);
	assert_store_keys("alice", mine, NKEYS, seedfp);
	assert_chain(&T, "after the concurrent adds");
}

Test(stress, concurrent_adds_two_accounts)
{
	static char	 paths[NKEYS + 1][PATH_MAX];
	static char	 bpaths[NKEYS][PATH_MAX];
	const struct gkey *a[NKEYS], *b[NKEYS];
	const char	*seedfp[2] = { NULL, NULL };
	struct job	 jobs[NWORKERS];
	struct gkey	*k;
	char		 what[96];
	size_t		 i, half = NKEYS / 2, quarter = NKEYS / 4, na, nb;

	need_root();
	/*
	 * alice gets keys [0, half), bob [quarter, quarter + half): a
	 * quarter of all keys is granted to both, so the keys table sees
	 * the same rows from both sides.  Four workers per account.
	 */
	k = gkeys_make(NKEYS + 1, paths);	/* the last one: the seed */
	for (i = 0; i < half; i++)
		memcpy(bpaths[i], paths[quarter + i], PATH_MAX);
	/* store and files exist (first use has its own test) */
	add_one("alice", paths[NKEYS]);
	add_one("bob", paths[NKEYS]);
	seedfp[0] = k[NKEYS].fp;
	for (i = 0; i < NWORKERS; i++) {
		jobs[i].user = i % 2 == 0 ? "alice" : "bob";
		jobs[i].paths = i % 2 == 0 ? &paths[(i / 2) * (half / 4)] :
		    &bpaths[(i / 2) * (half / 4)];
		jobs[i].n = half / 4;
		jobs[i].per_run = KEYS_PER_RUN;
	}
	xsnprintf(what, sizeof(what), "%d workers x %zu keys (%d a run) to "
	    "alice, %d to bob", NWORKERS / 2, half / 4, KEYS_PER_RUN,
	    NWORKERS / 2);
	run_workers(jobs, NWORKERS, what);
	for (i = 0, na = 0; i < half; i++)
		a[na++] = &k[i];
	for (i = 0, nb = 0; i < half; i++)
		b[nb++] = &k[quarter + i];
	assert_file_keys("alice", a, na, 1);
	assert_file_keys("bob", b, nb, 1);
	assert_store_keys("alice", a, na, seedfp);
	assert_store_keys("bob", b, nb, seedfp);
	assert_chain(&T, "after the concurrent adds");
}

#define FIRST_USE_ROUNDS	10

Test(stress, concurrent_first_use)
{
	static char	 paths[NWORKERS][PATH_MAX];
	const struct gkey *mine[NWORKERS];
	struct job	 jobs[NWORKERS];
	struct gkey	*k;
	char		 what[64];
	size_t		 i;
	int		 round;

	need_root();
	for (round = 0; round < FIRST_USE_ROUNDS; round++) {
		if (round > 0) {
			tree_remove(&T);
			tree_make(&T);
		}
		/* no store, no .ssh: all eight race to create them */
		k = gkeys_make(NWORKERS, paths);
		for (i = 0; i < NWORKERS; i++) {
			jobs[i].user = "alice";
			jobs[i].paths = &paths[i];
			jobs[i].n = 1;
			jobs[i].per_run = 1;
			mine[i] = &k[i];
		}
		xsnprintf(what, sizeof(what), "first use, round %d", round);
		run_workers(jobs, NWORKERS, what);
		assert_file_keys("alice", mine, NWORKERS, 0);
		assert_store_keys("alice", mine, NWORKERS, NULL);
		assert_chain(&T, what);
	}
}

/* ---- crash sweep -------------------------------------------------------- */

enum { IS_NEITHER = 0, IS_OLD = 1, IS_NEW = 2 };	/* a bit mask */

#define SWEEP_STAGES_MAX	8

/*
 * One atomic change of a command that makes several in a fixed order
 * (revoke: the revoked-keys file, its COMMIT, then per account the file
 * and its COMMIT), and what a killed run left of it.
 */
struct stage {
	char	name[40];	/* "alice's file" */
	int	cls;		/* IS_OLD, IS_NEW, both (unchanged), neither */
};

struct sweep {
	const char	*what;		/* for messages: "add" */
	/* keyadm arguments after "--root ROOT", NULL-terminated */
	const char	*const *argv;
	/* make the old state in the tree (T, fresh from tree_make) */
	void		(*build_old)(void);
	/* tree-relative files the command may replace, NULL-terminated */
	const char	*const *files;
	/*
	 * SQL whose rows describe the store (one or more statements): no
	 * times or ids that a rerun would set differently.
	 */
	const char	*store_sql;
	/*
	 * Every system call from the first openat whose line in the trace
	 * contains this text is a kill point; before it, SWEEP_SAMPLE calls
	 * evenly spread (loading, configuration, intake, opening the store).
	 */
	const char	*dense_from;
	/*
	 * Judge the state a killed run left (each file is already known to
	 * be old or new): fail the test, naming where, if it is not allowed.
	 */
	void		(*check_killed)(const struct sweep *sw,
			    const struct sweep_ref *ref, const struct snap *now,
			    const char *where);
	/* Optional: judge the old and the new state themselves. */
	void		(*check_ref)(const struct sweep *sw,
			    const struct sweep_ref *ref);
	/*
	 * Optional, for a command that changes things in steps: the stages
	 * of now, in the order a run makes them (at most SWEEP_STAGES_MAX).
	 * The tally describes a killed run's state by them.
	 */
	size_t		(*stages)(const struct sweep *sw,
			    const struct sweep_ref *ref, const struct snap *now,
			    struct stage *st);
	/*
	 * Optional: SQL whose rows a rerun should leave as an unkilled run
	 * does, but cannot always (an event's count of the lines removed,
	 * when a killed run removed them unrecorded).  A difference is
	 * counted and shown, not failed.
	 */
	const char	*note_sql;
};

static void
snap_take(const struct sweep *sw, struct snap *s, const char *where)
{
	char	path[PATH_MAX];
	size_t	i;

	memset(s, 0, sizeof(*s));
	for (i = 0; sw->files[i] != NULL; i++) {
		cr_assert_lt(i, SWEEP_FILES_MAX);
		tree_path(&T, path, sizeof(path), sw->files[i]);
		if (access(path, F_OK) == 0)
			s->file[i] = slurp(path, &s->len[i]);
	}
	s->store = store_text(&T, sw->store_sql, where);
}

static void
snap_free(struct snap *s)
{
	size_t	i;

	for (i = 0; i < SWEEP_FILES_MAX; i++)
		free(s->file[i]);
	free(s->store);
	memset(s, 0, sizeof(*s));
}

static int
same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	if (a == NULL || b == NULL)
		return a == b;
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Is file i of now the old one, the new one (or both, if they agree)? */
static int
file_class(const struct sweep_ref *ref, const struct snap *now, size_t i)
{
	return (same_bytes(now->file[i], now->len[i], ref->old.file[i],
	    ref->old.len[i]) ? IS_OLD : 0) |
	    (same_bytes(now->file[i], now->len[i], ref->new.file[i],
	    ref->new.len[i]) ? IS_NEW : 0);
}

static int
store_class(const struct sweep_ref *ref, const struct snap *now)
{
	const char	*o = ref->old.store, *n = ref->new.store;
	const char	*s = now->store;

	return (same_bytes(s, s ? strlen(s) : 0, o, o ? strlen(o) : 0) ?
	    IS_OLD : 0) |
	    (same_bytes(s, s ? strlen(s) : 0, n, n ? strlen(n) : 0) ?
	    IS_NEW : 0);
}

static const char *
class_name(int c)
{
	static const char *const names[] = { "neither", "old", "new",
		"old=new" };

	return names[c & 3];
}

/*
 * How many strays sit next to the files: names in their directories that
 * are neither one of the files nor in the template of the old state (set
 * G.tmpl first).  A temporary (".NAME.keyadm~new" in safefs.c) is one, by
 * whatever name.
 */
static size_t
temporaries(const struct sweep *sw, char *names, size_t nameslen)
{
	struct dirent	*de;
	struct stat	 st;
	char		 rel[PATH_MAX], dir[PATH_MAX], was[PATH_MAX], *slash;
	size_t		 i, j, n = 0, rl;
	DIR		*d;

	cr_assert_neq(G.tmpl[0], '\0');
	if (nameslen > 0)
		names[0] = '\0';
	for (i = 0; sw->files[i] != NULL; i++) {
		xsnprintf(rel, sizeof(rel), "%s", sw->files[i]);
		cr_assert_not_null(slash = strrchr(rel, '/'));
		*slash = '\0';
		rl = strlen(rel);
		for (j = 0; j < i; j++)		/* each directory once */
			if (strncmp(sw->files[j], rel, rl) == 0 &&
			    sw->files[j][rl] == '/' &&
			    strchr(sw->files[j] + rl + 1, '/') == NULL)
				break;
		if (j < i || (d = opendir(tree_path(&T, dir, sizeof(dir),
		    rel))) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			for (j = 0; sw->files[j] != NULL; j++)
				if (strncmp(sw->files[j], rel, rl) == 0 &&
				    sw->files[j][rl] == '/' &&
				    strcmp(sw->files[j] + rl + 1,
				    de->d_name) == 0)
					break;
			xsnprintf(was, sizeof(was), "%s/%s/%s", G.tmpl, rel,
			    de->d_name);
			if (sw->files[j] != NULL || lstat(was, &st) == 0)
				continue;
			n++;
			if (strlen(names) + strlen(de->d_name) + 2 < nameslen)
				(void)strcat(strcat(names, " "), de->d_name);
		}
		(void)closedir(d);
	}
	return n;
}

/*
 * A call that changes no file's name, bytes, mode or owner: a run killed
 * after it leaves what a run killed before it leaves, but for the times
 * keyadm writes.  Locks die with the process, and fsync matters for a
 * crash of the machine, not of a process.  Memory stores into the
 * store's -shm (mapped) are no input (digest_walk).  Any call not named
 * here counts as a change, an openat only with O_CREAT or O_TRUNC.
 */
static int
call_inert(const char *name, const char *line)
{
	static const char *const inert[] = {
		"access", "brk", "clock_gettime", "close", "close_range",
		"connect", "exit_group", "faccessat", "faccessat2", "fcntl",
		"fdatasync", "flock", "fstat", "fsync", "futex", "getdents64",
		"getegid", "geteuid", "getgid", "getgroups", "getpid",
		"getrandom", "gettid", "getuid", "lseek", "lstat",
		"madvise", "mprotect", "munmap", "newfstatat", "pread64",
		"prlimit64", "read", "readlink", "readlinkat", "rt_sigaction",
		"rt_sigprocmask", "sched_yield", "setgroups", "setresgid",
		"setresuid", "socket", "stat", "statx", "umask", "uname",
		NULL
	};
	size_t	i;

	if (strcmp(name, "openat") == 0)
		return strstr(line, "O_CREAT") == NULL &&
		    strstr(line, "O_TRUNC") == NULL;
	for (i = 0; inert[i] != NULL; i++)
		if (strcmp(name, inert[i]) == 0)
			return 1;
	return 0;
}

/*
 * The calls of a strace -f -o log, in order; *dense is the index of the
 * first openat whose line contains marker.  strace counts "when=" per
 * system call (each name on its own), so a kill point is a name and an
 * ordinal, not a global index.
 */
static struct call *
trace_calls(const char *path, const char *marker, size_t *np, size_t *dense)
{
	struct call	*c = NULL;
	char		*text, *line, *save, *p;
	size_t		 n = 0, cap = 0, i, len, k;

	*dense = SIZE_MAX;
	text = slurp(path, NULL);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		p = line + strspn(line, "0123456789");
		p += strspn(p, " ");
		len = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (len == 0 || len >= sizeof(c->name) || p[len] != '(')
			continue;	/* "<... resumed>", "+++", "---" */
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			cr_assert_not_null(c = realloc(c, cap * sizeof(*c)));
		}
		memcpy(c[n].name, p, len);
		c[n].name[len] = '\0';
		for (i = 0, k = 1; i < n; i++)
			k += strcmp(c[i].name, c[n].name) == 0;
		c[n].nth = (unsigned int)k;
		c[n].inert = call_inert(c[n].name, p);
		if (*dense == SIZE_MAX && strcmp(c[n].name, "openat") == 0 &&
		    strstr(p, marker) != NULL)
			*dense = n;
		n++;
	}
	free(text);
	cr_assert_gt(n, 0, "%s: no system calls traced", path);
	cr_assert_neq(*dense, SIZE_MAX, "%s: no openat with %s traced", path,
	    marker);
	*np = n;
	return c;
}

/*
 * The tree-relative directories a command can change: those of its files,
 * and the store's.  NULL-terminated, in dirs (at most max - 1).
 */
static void
changing_dirs(const struct sweep *sw, char (*dirs)[PATH_MAX], size_t max)
{
	size_t	i, j, n = 0;
	char	*slash;

	for (i = 0; sw->files[i] != NULL; i++) {
		cr_assert_lt(n + 2, max);
		xsnprintf(dirs[n], PATH_MAX, "%s", sw->files[i]);
		cr_assert_not_null(slash = strrchr(dirs[n], '/'));
		*slash = '\0';
		for (j = 0; j < n && strcmp(dirs[j], dirs[n]) != 0; j++)
			continue;
		n += j == n;
	}
	xsnprintf(dirs[n++], PATH_MAX, "%s", DB_DIR);
	dirs[n][0] = '\0';
}

/* What the command can change in T becomes the template's again. */
static void
restore(const struct sweep *sw, const char *tmpl)
{
	char		dirs[SWEEP_FILES_MAX + 2][PATH_MAX];
	char		src[PATH_MAX], dst[PATH_MAX];
	struct stat	st;
	size_t		i;

	changing_dirs(sw, dirs, SWEEP_FILES_MAX + 2);
	for (i = 0; dirs[i][0] != '\0'; i++) {
		xsnprintf(src, sizeof(src), "%s/%s", tmpl, dirs[i]);
		rm_rf(tree_path(&T, dst, sizeof(dst), dirs[i]));
		if (lstat(src, &st) == 0)
			copy_tree(src, dst);
	}
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static uint32_t
get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/*
 * Feed the store's WAL into md without what is random in it: SQLite
 * draws the salts at random when it starts the log, and the header's and
 * every frame's checksums chain from them, so two runs killed at the same
 * call leave logs that differ in those bytes only (the salt and checksum
 * words of the header, 16-31, and of each frame header, 8-23).  A kill
 * comes at a system call's entry, so no frame is half written, and no run
 * restarts the log (one connection, far from a checkpoint), so no frame
 * of an older generation is left to tell apart by its salt.
 */
static void
digest_wal(EVP_MD_CTX *md, const char *path)
{
	unsigned char	*w;
	size_t		 len, off, page;

	w = (unsigned char *)slurp(path, &len);
	if (len >= 32) {
		memset(w + 16, 0, 16);
		page = get_be32(w + 8);
		for (off = 32; page > 0 && off + 24 <= len; off += 24 + page)
			memset(w + off + 8, 0, 16);
	}
	(void)EVP_DigestUpdate(md, w, len);
	free(w);
}

/*
 * Feed path (names, types, modes, owners, sizes, bytes) into md.  Of the
 * store's -shm, name, mode and owner only: the first connection to a WAL
 * database that no other holds truncates it and rebuilds the index from
 * the log (keyadm's does, see the ftruncate in a trace), so its bytes are
 * no input; they hold the salts too.  The WAL: digest_wal.
 */
static void
digest_walk(EVP_MD_CTX *md, const char *path, const char *rel)
{
	struct dirent	**ents;
	struct stat	  st;
	char		  sub[PATH_MAX], subrel[PATH_MAX], buf[65536];
	ssize_t		  n;
	int		  i, k, fd, shm;

	(void)EVP_DigestUpdate(md, rel, strlen(rel) + 1);
	if (lstat(path, &st) == -1) {
		(void)EVP_DigestUpdate(md, "-", 2);
		return;
	}
	shm = S_ISREG(st.st_mode) &&
	    strcmp(rel, DB_DIR "/" DB_NAME "-shm") == 0;
	n = snprintf(buf, sizeof(buf), "%o %u %u %lld", (unsigned)st.st_mode,
	    (unsigned)st.st_uid, (unsigned)st.st_gid,
	    shm ? 0LL : (long long)st.st_size);
	(void)EVP_DigestUpdate(md, buf, (size_t)n + 1);
	if (shm)
		return;
	if (S_ISREG(st.st_mode) &&
	    strcmp(rel, DB_DIR "/" DB_NAME "-wal") == 0) {
		digest_wal(md, path);
		return;
	}
	if (S_ISREG(st.st_mode)) {
		cr_assert_neq(fd = open(path, O_RDONLY | O_NOFOLLOW), -1);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			(void)EVP_DigestUpdate(md, buf, (size_t)n);
		(void)close(fd);
		return;
	}
	if (!S_ISDIR(st.st_mode))
		return;
	k = scandir(path, &ents, NULL, by_name);
	cr_assert_geq(k, 0, "scandir %s: %s", path, strerror(errno));
	for (i = 0; i < k; i++) {
		if (strcmp(ents[i]->d_name, ".") != 0 &&
		    strcmp(ents[i]->d_name, "..") != 0) {
			xsnprintf(sub, sizeof(sub), "%s/%s", path,
			    ents[i]->d_name);
			xsnprintf(subrel, sizeof(subrel), "%s/%s", rel,
			    ents[i]->d_name);
			digest_walk(md, sub, subrel);
		}
		free(ents[i]);
	}
	free(ents);
}

/*
 * A digest of everything the command can change in T: two killed runs
 * that left the same digest leave keyadm exactly the same input.
 */
static void
tree_digest(const struct sweep *sw, unsigned char out[32])
{
	char		 dirs[SWEEP_FILES_MAX + 2][PATH_MAX], path[PATH_MAX];
	EVP_MD_CTX	*md;
	unsigned int	 len = 32;
	size_t		 i;

	changing_dirs(sw, dirs, SWEEP_FILES_MAX + 2);
	cr_assert_not_null(md = EVP_MD_CTX_new());
	cr_assert_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	for (i = 0; dirs[i][0] != '\0'; i++)
		digest_walk(md, tree_path(&T, path, sizeof(path), dirs[i]),
		    dirs[i]);
	cr_assert_eq(EVP_DigestFinal_ex(md, out, &len), 1);
	EVP_MD_CTX_free(md);
}

/* strace [-o log | inject] keyadm --root T ARGS; returns the wait status. */
static int
traced_run(const struct sweep *sw, const char *log, const char *inject)
{
	const char	*argv[64];
	pid_t		 pid;
	int		 a = 0, i, status;

	argv[a++] = "strace";
	argv[a++] = "-f";
	argv[a++] = "-qq";
	argv[a++] = "-o";
	argv[a++] = log != NULL ? log : "/dev/null";
	if (inject != NULL) {
		argv[a++] = "-e";
		argv[a++] = "trace=all";
		argv[a++] = "-e";
		argv[a++] = inject;
	}
	argv[a++] = bin();
	argv[a++] = "--root";
	argv[a++] = T.root;
	for (i = 0; sw->argv[i] != NULL; i++) {
		cr_assert_lt(a, 63);
		argv[a++] = sw->argv[i];
	}
	argv[a] = NULL;
	pid = spawn(argv, NULL, 1);
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	cr_assert_eq(reap(pid, KILL_RUN_S * 1000LL, &status), 0,
	    "%s: strace %s did not finish within %d s", sw->what,
	    inject ? inject : "", KILL_RUN_S);
	return status;
}

/* keyadm --root T ARGS, untraced: must exit 0. */
static void
plain_run(const struct sweep *sw, const char *where)
{
	struct run_result	 r;
	const char		*argv[64];
	int			 a = 0, i;

	argv[a++] = "--root";
	argv[a++] = T.root;
	for (i = 0; sw->argv[i] != NULL; i++) {
		cr_assert_lt(a, 63);
		argv[a++] = sw->argv[i];
	}
	argv[a] = NULL;
	run_keyadm(&r, NULL, argv);
	cr_assert_eq(r.status, 0, "%s: keyadm %s exited %d: %s", where,
	    sw->what, r.status, r.err);
	run_free(&r);
}

/* The rerun left exactly the new state, and no temporary. */
static void
assert_new(const struct sweep *sw, const struct sweep_ref *ref,
    const char *where)
{
	struct snap	*now = &G.now;	/* .fini frees it after a failure */
	char		 names[512];
	size_t		 i;

	snap_take(sw, now, where);
	for (i = 0; sw->files[i] != NULL; i++)
		cr_assert(file_class(ref, now, i) & IS_NEW, "%s: %s is %s, "
		    "not the new one:\n%s", where, sw->files[i],
		    class_name(file_class(ref, now, i)),
		    now->file[i] ? now->file[i] : "(absent)");
	cr_assert(store_class(ref, now) & IS_NEW, "%s: the store is %s, not "
	    "the new one:\n%s\nexpected:\n%s", where,
	    class_name(store_class(ref, now)),
	    now->store ? now->store : "(none)",
	    ref->new.store ? ref->new.store : "(none)");
	cr_assert_eq(temporaries(sw, names, sizeof(names)), 0,
	    "%s: temporary files left behind:%s", where, names);
	assert_chain(&T, where);
	snap_free(now);
}

struct tally {
	char		what[192];
	unsigned int	n;
};

static void
tally_add(struct tally *t, size_t max, const char *what)
{
	size_t	i;

	for (i = 0; i < max && t[i].what[0] != '\0'; i++)
		if (strcmp(t[i].what, what) == 0)
			break;
	cr_assert_lt(i, max);
	xsnprintf(t[i].what, sizeof(t[i].what), "%s", what);
	t[i].n++;
}

/* "alice's file new, alice's grants old, ..." */
static void
stages_text(const struct stage *st, size_t n, char *buf, size_t len)
{
	size_t	i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		xsnprintf(buf + strlen(buf), len - strlen(buf), "%s%s %s",
		    i > 0 ? ", " : "", st[i].name, class_name(st[i].cls));
}

/* The lines of a (NUL-terminated) that b lacks, each after prefix. */
static void
lines_missing(const char *a, const char *b, const char *prefix, char **out,
    size_t *outlen)
{
	const char	*p, *nl, *q, *qn;
	size_t		 n, need;
	int		 found;

	for (p = a; *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		n = (size_t)(nl - p);
		for (found = 0, q = b; !found && *q != '\0'; q = qn) {
			qn = strchr(q, '\n');
			qn = qn != NULL ? qn + 1 : q + strlen(q);
			found = (size_t)(qn - q) == n && memcmp(p, q, n) == 0;
		}
		if (found)
			continue;
		need = *outlen + strlen(prefix) + n + 2;
		cr_assert_not_null(*out = realloc(*out, need));
		*outlen += (size_t)sprintf(*out + *outlen, "%s%.*s", prefix,
		    (int)n, p);
		if ((*out)[*outlen - 1] != '\n')
			(*out)[(*outlen)++] = '\n', (*out)[*outlen] = '\0';
	}
}

/*
 * After a rerun: note_sql's rows against an unkilled run's.  A difference
 * is tallied under the killed run's state; the first is kept in
 * G.note_diff ("- " the unkilled run's row, "+ " the rerun's).
 */
static void
note_rerun(const struct sweep *sw, const char *state, struct tally *notes,
    const char *where)
{
	char	*text, *d = NULL;
	size_t	 dl = 0;

	text = store_text(&T, sw->note_sql, where);
	cr_assert_not_null(text);
	if (strcmp(text, G.note_ref) != 0) {
		tally_add(notes, 32, state);
		if (G.note_diff == NULL) {
			lines_missing(G.note_ref, text, "    - ", &d, &dl);
			lines_missing(text, G.note_ref, "    + ", &d, &dl);
			cr_assert_not_null(G.note_diff = malloc(strlen(where) +
			    (d != NULL ? dl : 0) + 4));
			(void)sprintf(G.note_diff, "%s:\n%s", where,
			    d != NULL ? d : "    (order only)\n");
			free(d);
		}
	}
	free(text);
}

/*
 * Kill keyadm at one system call after another and judge what is left,
 * then run the same command again and expect the new state.  Every kill
 * point starts from the same old state (a copy of a template tree).
 */
static void
sweep_run(const struct sweep *sw)
{
	struct sweep_ref	*ref = &G.ref;
	struct snap		*now = &G.now;
	struct tally		 tally[32], notes[32];
	struct stage		 stages[SWEEP_STAGES_MAX];
	struct call		*calls;
	char			 tmpl[PATH_MAX], trace[PATH_MAX];
	char			 inject[128], where[256], st[64], desc[192];
	char			 names[512], prevdesc[192] = "";
	unsigned char		(*seen)[32];	/* states rerun already */
	size_t			 ncalls, dense, i, points = 0, left = 0, f;
	size_t			 nseen = 0, step, prev = SIZE_MAX, same = 0;
	long long		 t0 = now_ms();
	int			 status;

	memset(tally, 0, sizeof(tally));
	memset(notes, 0, sizeof(notes));
	/* the old state, its template and the reference run */
	sw->build_old();
	auxpath(tmpl, "template");
	copy_tree(T.root, tmpl);
	xsnprintf(G.tmpl, sizeof(G.tmpl), "%s", tmpl);
	snap_take(sw, &ref->old, "old state");
	cr_assert_eq(temporaries(sw, names, sizeof(names)), 0);
	status = traced_run(sw, auxpath(trace, "trace"), NULL);
	status_text(status, st, sizeof(st));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: the traced reference run: %s", sw->what, st);
	snap_take(sw, &ref->new, "new state");
	calls = G.calls = trace_calls(trace, sw->dense_from, &ncalls, &dense);
	cr_assert_not_null(seen = G.seen = calloc(ncalls, sizeof(*seen)));
	/* strace does not change the outcome */
	restore(sw, tmpl);
	plain_run(sw, "untraced reference run");
	assert_new(sw, ref, "untraced reference run");
	if (sw->note_sql != NULL) {
		free(G.note_ref);
		G.note_ref = store_text(&T, sw->note_sql, "note_sql");
		cr_assert_not_null(G.note_ref);
	}
	if (sw->check_ref != NULL)
		sw->check_ref(sw, ref);

	step = dense / SWEEP_SAMPLE + 1;
	for (i = 0; i < ncalls; i++) {
		if (i < dense && i % step != 0)
			continue;
		if (i >= dense && (i - dense) % DENSE_STEP != 0)
			continue;
		/*
		 * strace does not inject into the execve it starts the
		 * tracee with; a kill there is a run that never began.
		 */
		if (i == 0 && strcmp(calls[i].name, "execve") == 0)
			continue;
		points++;
		restore(sw, tmpl);
		xsnprintf(inject, sizeof(inject),
		    "inject=%s:signal=SIGKILL:when=%u", calls[i].name,
		    calls[i].nth);
		xsnprintf(where, sizeof(where), "%s killed at system call %zu "
		    "of %zu (%s #%u)", sw->what, i + 1, ncalls, calls[i].name,
		    calls[i].nth);
		status = traced_run(sw, NULL, inject);
		status_text(status, st, sizeof(st));
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		    "%s: strace %s: %s, expected death by SIGKILL", where,
		    inject, st);
		snap_take(sw, now, where);
		for (f = 0; sw->files[f] != NULL; f++)
			cr_assert(file_class(ref, now, f) != IS_NEITHER,
			    "%s: %s is neither the old nor the new file:\n%s",
			    where, sw->files[f], now->file[f] ?
			    now->file[f] : "(absent)");
		sw->check_killed(sw, ref, now, where);
		if (sw->stages != NULL) {
			stages_text(stages, sw->stages(sw, ref, now, stages),
			    desc, sizeof(desc));
		} else {
			for (f = 0, desc[0] = '\0'; sw->files[f] != NULL; f++)
				xsnprintf(desc + strlen(desc), sizeof(desc) -
				    strlen(desc), "%s%s", f > 0 ? "/" :
				    "file ", class_name(file_class(ref, now,
				    f)));
			xsnprintf(desc + strlen(desc), sizeof(desc) -
			    strlen(desc), ", store %s",
			    class_name(store_class(ref, now)));
		}
		xsnprintf(desc + strlen(desc), sizeof(desc) - strlen(desc),
		    "%s", temporaries(sw, names, sizeof(names)) > 0 ?
		    ", temporary left" : "");
		left += temporaries(sw, names, sizeof(names)) > 0;
		tally_add(tally, 32, desc);
		snap_free(now);
		/*
		 * The same command again repairs everything.  keyadm is
		 * deterministic: a state already repaired once (most kills
		 * before the first write leave the old state as it was)
		 * need not be tried again.  What SQLite draws at random is
		 * left out of the digest (digest_walk); the times keyadm
		 * writes cannot be, so a kill right after the last one, with
		 * an inert call between them and judged the same, is the
		 * same state too.
		 */
		f = prev;
		prev = i;
		if (f != SIZE_MAX && f + 1 == i && calls[f].inert &&
		    strcmp(prevdesc, desc) == 0) {
			same++;
			continue;
		}
		xsnprintf(prevdesc, sizeof(prevdesc), "%s", desc);
		tree_digest(sw, seen[nseen]);
		for (f = 0; f < nseen; f++)
			if (memcmp(seen[f], seen[nseen], 32) == 0)
				break;
		if (f < nseen)
			continue;
		nseen++;
		xsnprintf(where, sizeof(where), "rerun after %s killed at "
		    "system call %zu of %zu (%s #%u)", sw->what, i + 1, ncalls,
		    calls[i].name, calls[i].nth);
		plain_run(sw, where);
		assert_new(sw, ref, where);
		if (sw->note_sql != NULL)
			note_rerun(sw, desc, notes, where);
	}
	(void)fprintf(stderr, "stress: sweep %s: %zu system calls, every one "
	    "from #%zu (%s #%u), every %zuth before: %zu kill points in "
	    "%lld ms; %zu left a temporary; %zu distinct states rerun, %zu "
	    "not (the state of the kill before)\n",
	    sw->what, ncalls, dense + 1, calls[dense].name, calls[dense].nth,
	    step, points, now_ms() - t0, left, nseen, same);
	for (i = 0; i < 32 && tally[i].what[0] != '\0'; i++)
		(void)fprintf(stderr, "stress: sweep %s:   %4u x %s\n",
		    sw->what, tally[i].n, tally[i].what);
	for (i = 0; i < 32 && notes[i].what[0] != '\0'; i++)
		(void)fprintf(stderr, "stress: sweep %s: note: %u reruns after "
		    "%s differ from an unkilled run in the rows of note_sql\n",
		    sw->what, notes[i].n, notes[i].what);
	if (G.note_diff != NULL)
		(void)fprintf(stderr, "stress: sweep %s: note: the first, %s",
		    sw->what, G.note_diff);
	free(G.note_ref);
	free(G.note_diff);
	G.note_ref = NULL;
	G.note_diff = NULL;
	free(G.calls);
	free(G.seen);
	G.calls = NULL;
	G.seen = NULL;
	snap_free(&ref->old);
	snap_free(&ref->new);
}

/* ---- the sweep of add --------------------------------------------------- */

#define SWEEP_USER	"alice"
#define SWEEP_KEYFILE	"home/alice/.ssh/authorized_keys"

static char	add_newkey[PATH_MAX];	/* the key the swept add installs */

/*
 * Old state: alice's file holds a comment, one managed key (the store's
 * only grant), a blank line and an unmanaged key with an option.
 */
static void
add_build_old(void)
{
	struct gkey	 managed, unmanaged, fresh;
	char		 path[PATH_MAX], file[PATH_MAX], *text, *all;
	size_t		 len, alllen;
	static const char head[] = "# alice's keys (edited by hand)\n";
	char		 tail[256];

	gkey_make(&managed, "managed@desk");
	gkey_make(&unmanaged, "unmanaged@laptop");
	gkey_make(&fresh, "new@phone");
	gkey_write(&managed, "managed", path);
	gkey_vouch(&managed, path);
	add_one(SWEEP_USER, path);
	gkey_write(&fresh, "new", add_newkey);
	tree_path(&T, file, sizeof(file), SWEEP_KEYFILE);
	text = slurp(file, &len);
	xsnprintf(tail, sizeof(tail), "\nfrom=\"10.0.0.0/8\" %s",
	    unmanaged.line);
	alllen = strlen(head) + len + strlen(tail);
	cr_assert_not_null(all = malloc(alllen + 1));
	(void)snprintf(all, alllen + 1, "%s%s%s", head, text, tail);
	spew(file, all, alllen, 0600);	/* keeps alice as the owner */
	free(text);
	free(all);
}

static const char add_store_sql[] =
    "SELECT g.user, g.status, k.type || ' ' || k.blob_b64, k.fingerprint, "
    "k.bits, k.comment, g.options, g.expires_at, g.added_by, g.added_uid, "
    "g.reason, g.path FROM grants g JOIN keys k ON k.id = g.key_id "
    "ORDER BY k.fingerprint, g.user, g.status;"
    "SELECT fingerprint, type, bits, blob_b64, comment FROM keys "
    "ORDER BY fingerprint;";

/*
 * add writes the file before it commits: file and store both old, both
 * new, or the file new and the store old (killed between rename and
 * COMMIT).  Never a grant whose line is missing from the file.
 */
static void
add_check_killed(const struct sweep *sw, const struct sweep_ref *ref,
    const struct snap *now, const char *where)
{
	char	*rows, *line, *save, *f[4];
	int	 fc = file_class(ref, now, 0), sc = store_class(ref, now), i;

	(void)sw;
	cr_assert_neq(sc, IS_NEITHER, "%s: the store is neither old nor "
	    "new:\n%s", where, now->store ? now->store : "(none)");
	cr_assert(!(fc == IS_OLD && sc == IS_NEW), "%s: the store has the new "
	    "grant, the file is the old one", where);
	if (now->store == NULL)
		return;
	cr_assert_not_null(rows = strdup(now->store));
	for (line = strtok_r(rows, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < 4; i++)
			f[i] = strsep(&line, "|");
		if (f[2] == NULL || strcmp(f[0], SWEEP_USER) != 0 ||
		    strcmp(f[1], "active") != 0)
			continue;
		cr_assert(now->file[0] != NULL && mem_contains(now->file[0],
		    now->len[0], f[2]), "%s: the store has an active grant "
		    "%s whose key is not in the file", where, f[3]);
	}
	free(rows);
}

/* How many keys ssh-keygen -l finds in text (written to AUX/keys). */
static size_t
keygen_count(const char *text, size_t len)
{
	struct run_result	 r;
	char			 path[PATH_MAX];
	const char		*argv[] = { "ssh-keygen", "-l", "-f", path,
				    NULL };
	size_t			 n = 0;
	char			*p;

	spew(auxpath(path, "keys"), text, len, 0600);
	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 0, "ssh-keygen -l: %s", r.err);
	for (p = r.out; *p != '\0'; p++)
		n += *p == '\n';
	run_free(&r);
	return n;
}

/* ssh-keygen reads both files: 2 keys before, 3 after. */
static void
add_check_ref(const struct sweep *sw, const struct sweep_ref *ref)
{
	(void)sw;
	cr_assert_not_null(ref->old.file[0]);
	cr_assert_not_null(ref->new.file[0]);
	cr_assert_eq(keygen_count(ref->old.file[0], ref->old.len[0]), 2);
	cr_assert_eq(keygen_count(ref->new.file[0], ref->new.len[0]), 3);
	cr_assert_not_null(ref->old.store);
	cr_assert_not_null(ref->new.store);
}

Test(stress, crash_sweep_add)
{
	static const char *const files[] = { SWEEP_KEYFILE, NULL };
	const char	*argv[] = { "add", SWEEP_USER, add_newkey,
			    "--reason", "crash sweep", NULL };
	struct sweep	 sw = {
		.what = "add",
		.argv = argv,
		.build_old = add_build_old,
		.files = files,
		.store_sql = add_store_sql,
		.dense_from = "\".ssh\"",	/* from the walk into .ssh */
		.check_killed = add_check_killed,
		.check_ref = add_check_ref,
	};

	need_root();
	if (system("strace -V >/dev/null 2>&1") != 0)
		cr_skip_test("strace is not installed (tests/deps.sh)");
	sweep_run(&sw);
}

/* ---- the sweeps of revoke and expire ------------------------------------ */

/*
 * Both commit in steps, one transaction each: revoke lists the key in the
 * revoked-keys file (lock, BEGIN IMMEDIATE, revocations row and event,
 * replace the file, COMMIT), then takes it from each account in turn
 * (withdraw.c: lock .ssh, BEGIN, close the grant, event, replace the
 * file, COMMIT); expire does the second part for each account with a
 * grant past its time.  Each rename and each COMMIT is atomic and they
 * happen in one order, so a killed run leaves the first k of them done
 * and the rest not: for revoke, of [revoked-keys file, revocation,
 * alice's file, alice's grants, bob's file, bob's grants], 7 states;
 * for expire, of the last four, 5.  Exactly those are allowed.  In
 * words: a file may be ahead of its store (the key listed but the
 * revocation not recorded; the lines gone but the grant still active),
 * never behind it, and no account is touched before the listing is
 * committed or before the previous account is.
 *
 * Every row of withdraw_store_sql starts with the step it belongs to
 * (an account, "list" for the revocations and the listing's events, "keys"
 * for the keys table, which neither command changes here), so that the
 * store is judged step by step, each part old or new.
 */
#define REVFILE		"etc/ssh/keyadm_revoked_keys"
#define ALICE_KEYFILE	"home/alice/.ssh/authorized_keys"
#define BOB_KEYFILE	"home/bob/.ssh/authorized_keys"

static const char withdraw_store_sql[] =
    "SELECT 'keys', fingerprint, type, bits, blob_b64, comment FROM keys "
    "ORDER BY fingerprint;"
    "SELECT 'list', 'revocation', k.fingerprint, "
    "k.type || ' ' || k.blob_b64, r.revoked_by, r.revoked_uid, r.reason "
    "FROM revocations r JOIN keys k ON k.id = r.key_id "
    "ORDER BY k.fingerprint;"
    "SELECT g.user, 'grant', g.status, k.type || ' ' || k.blob_b64, "
    "k.fingerprint, g.options, g.expires_at, g.added_by, g.added_uid, "
    "g.reason, g.path, g.revoked_at IS NOT NULL, g.revoked_by, "
    "g.revoked_reason FROM grants g JOIN keys k ON k.id = g.key_id "
    "ORDER BY g.user, k.fingerprint, g.id;"
    "SELECT coalesce(e.user, 'list'), 'event', e.action, e.fingerprint, "
    "e.actor, e.actor_uid FROM events e ORDER BY e.id;";

/* The events in full: their detail counts the lines removed. */
static const char withdraw_note_sql[] =
    "SELECT coalesce(user, '-'), action, fingerprint, detail FROM events "
    "ORDER BY id;";

/* keyadm --root T ARGS... (NULL-terminated): must exit 0. */
static void __attribute__((sentinel))
ka_ok(const char *first, ...)
{
	struct run_result	 r;
	const char		*argv[32], *a;
	va_list			 ap;
	int			 n = 0;

	argv[n++] = "--root";
	argv[n++] = T.root;
	va_start(ap, first);
	for (a = first; a != NULL; a = va_arg(ap, const char *)) {
		cr_assert_lt(n, 31);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	run_keyadm(&r, NULL, argv);
	cr_assert_eq(r.status, 0, "keyadm %s %s: exit %d: %s", first,
	    n > 3 ? argv[3] : "", r.status, r.err);
	run_free(&r);
}

/* ROOT/rel becomes head + what it holds + tail (owner and mode kept). */
static void
wrap_file(const char *rel, const char *head, const char *tail)
{
	char	 path[PATH_MAX], *text, *all;
	size_t	 len, alllen;

	tree_path(&T, path, sizeof(path), rel);
	text = slurp(path, &len);
	alllen = strlen(head) + len + strlen(tail);
	cr_assert_not_null(all = malloc(alllen + 1));
	(void)snprintf(all, alllen + 1, "%s%s%s", head, text, tail);
	spew(path, all, alllen, 0600);	/* an existing file keeps its mode */
	free(text);
	free(all);
}

/* The rows of a store text whose first column is tag (NULL: no store). */
static char *
store_part(const char *text, const char *tag)
{
	const char	*p, *nl;
	size_t		 len = 0, tl = strlen(tag), n;
	char		*out;

	if (text == NULL)
		return NULL;
	cr_assert_not_null(out = malloc(strlen(text) + 1));
	for (p = text; *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		n = (size_t)(nl - p);
		if (n > tl && strncmp(p, tag, tl) == 0 && p[tl] == '|') {
			memcpy(out + len, p, n);
			len += n;
		}
	}
	out[len] = '\0';
	return out;
}

/* Is the part tag of now's store that of the old store, the new, both? */
static int
store_part_class(const struct sweep_ref *ref, const struct snap *now,
    const char *tag)
{
	char	*o = store_part(ref->old.store, tag);
	char	*n = store_part(ref->new.store, tag);
	char	*s = store_part(now->store, tag);
	int	 c;

	c = (same_bytes(s, s ? strlen(s) : 0, o, o ? strlen(o) : 0) ?
	    IS_OLD : 0) | (same_bytes(s, s ? strlen(s) : 0, n,
	    n ? strlen(n) : 0) ? IS_NEW : 0);
	free(o);
	free(n);
	free(s);
	return c;
}

/* Every row of text belongs to one of tags (NULL-terminated). */
static void
assert_tags(const char *text, const char *const *tags, const char *what,
    const char *where)
{
	const char	*p, *nl;
	size_t		 i, tl;

	for (p = text != NULL ? text : ""; *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		for (i = 0; tags[i] != NULL; i++) {
			tl = strlen(tags[i]);
			if (strncmp(p, tags[i], tl) == 0 && p[tl] == '|')
				break;
		}
		cr_assert_not_null(tags[i], "%s: the %s store has a row of no "
		    "known step: %.*s", where, what, (int)(nl - p), p);
	}
}

/*
 * The store of now, parted by step: rows of the known tags only, and the
 * part "keys", which the command does not change, unchanged.
 */
static void
assert_store_parts(const struct sweep_ref *ref, const struct snap *now,
    const char *const *tags, const char *where)
{
	cr_assert_not_null(now->store, "%s: the store is gone", where);
	assert_tags(ref->old.store, tags, "old", where);
	assert_tags(ref->new.store, tags, "new", where);
	assert_tags(now->store, tags, "killed run's", where);
	cr_assert_eq(store_part_class(ref, now, "keys"), IS_OLD | IS_NEW,
	    "%s: the keys table changed:\n%s", where, now->store);
}

static void
stage_set(struct stage *st, int cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
stage_set(struct stage *st, int cls, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(st->name, sizeof(st->name), fmt, ap);
	va_end(ap);
	st->cls = cls;
}

/*
 * The stages happen in order, each atomic: the first k new, the rest old
 * (a stage that is both, unchanged, fits either).
 */
static void
assert_progress(const struct stage *st, size_t n, const char *where)
{
	char	desc[256];
	size_t	i, k;

	stages_text(st, n, desc, sizeof(desc));
	for (i = 0; i < n; i++)
		cr_assert_neq(st[i].cls, IS_NEITHER, "%s: %s is neither old "
		    "nor new (%s)", where, st[i].name, desc);
	for (k = 0; k < n && (st[k].cls & IS_NEW) != 0; k++)
		continue;
	for (i = k; i < n; i++)
		cr_assert(st[i].cls & IS_OLD, "%s: %s is new while %s, which "
		    "comes first, is old (%s)", where, st[i].name, st[k].name,
		    desc);
}

/* The accounts of a withdraw sweep and the index of each one's file. */
struct acct_file {
	const char	*user;
	size_t		 file;
};

/*
 * The store never says a key is gone while a line of it is still there:
 * a grant that is closed (status) has no line of its key in that
 * account's file.
 */
static void
assert_closed_lines_gone(const struct snap *now, const struct acct_file *af,
    size_t naf, const char *status, const char *where)
{
	char	*rows, *line, *save, *f[4], *b64;
	size_t	 i;
	int	 k;

	cr_assert_not_null(rows = strdup(now->store));
	for (line = strtok_r(rows, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (k = 0; k < 4; k++)
			f[k] = strsep(&line, "|");
		if (f[3] == NULL || strcmp(f[1], "grant") != 0 ||
		    strcmp(f[2], status) != 0)
			continue;
		for (i = 0; i < naf && strcmp(af[i].user, f[0]) != 0; i++)
			continue;
		if (i == naf)
			continue;	/* not an account of the sweep */
		cr_assert_not_null(b64 = strchr(f[3], ' '));
		b64++;
		cr_assert(now->file[af[i].file] == NULL ||
		    !mem_contains(now->file[af[i].file],
		    now->len[af[i].file], b64), "%s: %s's grant of %s is "
		    "%s, but %s's file still has a line with the key", where,
		    f[0], b64, status, f[0]);
	}
	free(rows);
}

/*
 * ssh-keygen -k builds a KRL from text as a revoked-keys file: it fails
 * on any line it cannot read, as sshd then refuses every key.  With a key
 * (NULL: only the check), 1 when that KRL revokes it (ssh-keygen -Q).
 * A text ssh-keygen -k already read is not given to it again (it takes
 * 60 ms, and a killed run's file is one of two texts).
 */
static int
krl_check(const char *text, size_t len, const struct gkey *k,
    const char *where)
{
	struct run_result	 r;
	char			 rf[PATH_MAX], krl[PATH_MAX], pub[PATH_MAX];
	const char		*mk[] = { "ssh-keygen", "-k", "-f", krl, rf,
				    NULL };
	const char		*q[] = { "ssh-keygen", "-Q", "-f", krl, pub,
				    NULL };
	size_t			 i;
	int			 revoked;

	cr_assert_not_null(text, "%s: no revoked-keys file", where);
	for (i = 0; k == NULL && i < 4 && G.krl_ok[i] != NULL; i++)
		if (same_bytes(text, len, G.krl_ok[i], G.krl_oklen[i]))
			return 0;
	spew(auxpath(rf, "revoked_keys"), text, len, 0644);
	(void)unlink(auxpath(krl, "revoked.krl"));
	run_prog(&r, NULL, 0, mk, 0);
	cr_assert_eq(r.status, 0, "%s: ssh-keygen -k cannot read the "
	    "revoked-keys file (sshd would refuse every key): %s\n%s", where,
	    r.err, text);
	run_free(&r);
	for (i = 0; i < 4 && G.krl_ok[i] != NULL; i++)
		continue;
	if (i < 4) {
		cr_assert_not_null(G.krl_ok[i] = malloc(len + 1));
		memcpy(G.krl_ok[i], text, len);
		G.krl_oklen[i] = len;
	}
	if (k == NULL)
		return 0;
	spew(auxpath(pub, "query.pub"), k->line, strlen(k->line), 0644);
	run_prog(&r, NULL, 0, q, 0);
	cr_assert(r.status == 0 || r.status == 1, "%s: ssh-keygen -Q: exit "
	    "%d: %s", where, r.status, r.err);
	revoked = r.status == 1;
	cr_assert(revoked ? strstr(r.out, ": REVOKED") != NULL :
	    strstr(r.out, ": ok") != NULL, "%s: ssh-keygen -Q (exit %d) "
	    "said:\n%s", where, r.status, r.out);
	run_free(&r);
	return revoked;
}

/* How many times text holds b64. */
static size_t
count_of(const char *text, size_t len, const char *b64)
{
	const char	*p = text, *end = text + len;
	size_t		 n = 0, bl = strlen(b64);

	while (p != NULL && (size_t)(end - p) >= bl &&
	    (p = memmem(p, (size_t)(end - p), b64, bl)) != NULL) {
		n++;
		p += bl;
	}
	return n;
}

/* ---- revoke ---- */

static struct gkey	rv_key;		/* the key the swept revoke takes */
static struct gkey	rv_other;	/* listed before */
static struct gkey	rv_bobs;	/* bob's own managed key */

static const struct acct_file	rv_accts[] = {
	{ "alice", 1 }, { "bob", 2 }
};

/*
 * Old state: the store and the revoked-keys file list another key (by an
 * earlier revoke, plus a comment added by hand).  alice and bob hold the
 * key as active grants; alice's file has a second line of it (with an
 * option and another comment), a comment and an unmanaged key; bob's
 * has his own managed key and an unmanaged one.
 */
static void
revoke_build_old(void)
{
	struct gkey	 ua, ub;
	char		 path[PATH_MAX], dup[256], tail[512];

	gkey_make(&rv_other, "other@old");
	gkey_make(&rv_key, "shared@laptop");
	gkey_make(&rv_bobs, "bob@desk");
	gkey_make(&ua, "alice-unmanaged@tablet");
	gkey_make(&ub, "bob-unmanaged@build");
	gkey_write(&rv_other, "other", path);
	ka_ok("revoke", path, "--reason", "an older revocation", NULL);
	wrap_file(REVFILE, "", "# reviewed by hand\n");
	gkey_write(&rv_key, "shared", path);
	gkey_vouch(&rv_key, path);
	ka_ok("add", "alice", path, NULL);
	ka_ok("add", "bob", path, NULL);
	gkey_write(&rv_bobs, "bobs", path);
	ka_ok("add", "bob", path, NULL);
	xsnprintf(dup, sizeof(dup), "ssh-ed25519 %s copy@old-laptop",
	    rv_key.b64);
	xsnprintf(tail, sizeof(tail), "from=\"10.0.0.0/8\" %s\n\n%s", dup,
	    ua.line);
	wrap_file(ALICE_KEYFILE, "# alice's keys (edited by hand)\n", tail);
	xsnprintf(tail, sizeof(tail), "restrict %s", ub.line);
	wrap_file(BOB_KEYFILE, "", tail);
}

static size_t
revoke_stages(const struct sweep *sw, const struct sweep_ref *ref,
    const struct snap *now, struct stage *st)
{
	size_t	i, n = 0;

	(void)sw;
	stage_set(&st[n++], file_class(ref, now, 0), "revoked-keys file");
	stage_set(&st[n++], store_part_class(ref, now, "list"),
	    "revocation");
	for (i = 0; i < 2; i++) {
		stage_set(&st[n++], file_class(ref, now, rv_accts[i].file),
		    "%s's file", rv_accts[i].user);
		stage_set(&st[n++], store_part_class(ref, now,
		    rv_accts[i].user), "%s's grant", rv_accts[i].user);
	}
	return n;
}

static void
revoke_check_killed(const struct sweep *sw, const struct sweep_ref *ref,
    const struct snap *now, const char *where)
{
	static const char *const tags[] = { "keys", "list", "alice", "bob",
		NULL };
	struct stage	 st[SWEEP_STAGES_MAX];
	char		*rows, *line, *save, *f[4], *b64;
	int		 k;

	assert_store_parts(ref, now, tags, where);
	(void)krl_check(now->file[0], now->len[0], NULL, where);
	/* a revocations row only for a key listed in the file */
	cr_assert_not_null(rows = strdup(now->store));
	for (line = strtok_r(rows, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (k = 0; k < 4; k++)
			f[k] = strsep(&line, "|");
		if (f[3] == NULL || strcmp(f[1], "revocation") != 0)
			continue;
		cr_assert_not_null(b64 = strchr(f[3], ' '));
		cr_assert(mem_contains(now->file[0], now->len[0], b64 + 1),
		    "%s: the store records the revocation of %s, but the "
		    "revoked-keys file does not list it", where, f[2]);
	}
	free(rows);
	assert_closed_lines_gone(now, rv_accts, 2, "revoked", where);
	assert_progress(st, revoke_stages(sw, ref, now, st), where);
}

static void
revoke_check_ref(const struct sweep *sw, const struct sweep_ref *ref)
{
	const struct snap	*o = &ref->old, *n = &ref->new;
	char			 row[256];
	size_t			 i;

	(void)sw;
	for (i = 0; i < 3; i++) {
		cr_assert_not_null(o->file[i]);
		cr_assert_not_null(n->file[i]);
	}
	cr_assert_not_null(o->store);
	cr_assert_not_null(n->store);
	/* what sshd will make of the revoked-keys file */
	cr_assert(krl_check(o->file[0], o->len[0], &rv_other, "old"));
	cr_assert(!krl_check(o->file[0], o->len[0], &rv_key, "old"));
	cr_assert(krl_check(n->file[0], n->len[0], &rv_other, "new"));
	cr_assert(krl_check(n->file[0], n->len[0], &rv_key, "new"));
	cr_assert(krl_check(n->file[0], n->len[0], &rv_bobs, "new") == 0);
	/* every line of the key goes, and only those */
	cr_assert_eq(count_of(o->file[1], o->len[1], rv_key.b64), 2);
	cr_assert_eq(count_of(o->file[2], o->len[2], rv_key.b64), 1);
	for (i = 1; i < 3; i++)
		cr_assert_eq(count_of(n->file[i], n->len[i], rv_key.b64), 0);
	cr_assert_eq(keygen_count(o->file[1], o->len[1]), 3);
	cr_assert_eq(keygen_count(n->file[1], n->len[1]), 1);
	cr_assert_eq(keygen_count(o->file[2], o->len[2]), 3);
	cr_assert_eq(keygen_count(n->file[2], n->len[2]), 2);
	/* the grants: both closed as revoked, bob's own key untouched */
	cr_assert_null(strstr(o->store, "|grant|revoked|"));
	for (i = 0; i < 2; i++) {
		xsnprintf(row, sizeof(row), "%s|grant|revoked|ssh-ed25519 "
		    "%s|", rv_accts[i].user, rv_key.b64);
		cr_assert_not_null(strstr(n->store, row), "new store:\n%s",
		    n->store);
	}
	xsnprintf(row, sizeof(row), "bob|grant|active|ssh-ed25519 %s|",
	    rv_bobs.b64);
	cr_assert_not_null(strstr(n->store, row), "new store:\n%s", n->store);
	xsnprintf(row, sizeof(row), "list|revocation|%s|", rv_key.fp);
	cr_assert_null(strstr(o->store, row));
	cr_assert_not_null(strstr(n->store, row));
}

Test(stress, crash_sweep_revoke)
{
	static const char *const files[] = { REVFILE, ALICE_KEYFILE,
		BOB_KEYFILE, NULL };
	const char	*argv[] = { "revoke", rv_key.fp, "--reason",
			    "crash sweep", NULL };
	struct sweep	 sw = {
		.what = "revoke",
		.argv = argv,
		.build_old = revoke_build_old,
		.files = files,
		.store_sql = withdraw_store_sql,
		.dense_from = "\"ssh\"",	/* the walk into etc/ssh */
		.check_killed = revoke_check_killed,
		.check_ref = revoke_check_ref,
		.stages = revoke_stages,
		.note_sql = withdraw_note_sql,
	};

	need_root();
	if (system("strace -V >/dev/null 2>&1") != 0)
		cr_skip_test("strace is not installed (tests/deps.sh)");
	sweep_run(&sw);
}

/* ---- expire ---- */

static struct gkey	ex_alice;	/* alice's grant, expired */
static struct gkey	ex_bob;		/* bob's expired; alice's not */
static struct gkey	ex_bobs;	/* bob's, not expired */

static const struct acct_file	ex_accts[] = {
	{ "alice", 0 }, { "bob", 1 }
};

/*
 * Old state: alice holds one key whose grant has expired and one whose
 * grant has not (in 30 days); bob holds the second key, expired for him
 * (a second line of it, with an option, too), and a key of his own that
 * has not.  Each file also has an unmanaged key.  --expires 1s and a wait
 * of two seconds make the expired ones: add refuses a past time.
 */
static void
expire_build_old(void)
{
	struct gkey	 ua, ub;
	char		 pa[PATH_MAX], pb[PATH_MAX], pn[PATH_MAX];
	char		 tail[512];
	time_t		 t1;

	gkey_make(&ex_alice, "alice@old-phone");
	gkey_make(&ex_bob, "shared@contractor");
	gkey_make(&ex_bobs, "bob@desk");
	gkey_make(&ua, "alice-unmanaged@tablet");
	gkey_make(&ub, "bob-unmanaged@build");
	gkey_write(&ex_alice, "alice-old", pa);
	gkey_write(&ex_bob, "shared", pb);
	gkey_write(&ex_bobs, "bobs", pn);
	ka_ok("add", "alice", pa, "--expires", "1s", NULL);
	ka_ok("add", "bob", pb, "--expires", "1s", NULL);
	t1 = time(NULL);
	ka_ok("add", "alice", pb, "--expires", "30d", NULL);
	ka_ok("add", "bob", pn, "--expires", "30d", NULL);
	xsnprintf(tail, sizeof(tail), "\n%s", ua.line);
	wrap_file(ALICE_KEYFILE, "# alice's keys (edited by hand)\n", tail);
	xsnprintf(tail, sizeof(tail), "from=\"192.0.2.0/24\" ssh-ed25519 %s "
	    "copy\n%s", ex_bob.b64, ub.line);
	wrap_file(BOB_KEYFILE, "", tail);
	while (time(NULL) < t1 + 2)
		(void)usleep(100000);
}

static size_t
expire_stages(const struct sweep *sw, const struct sweep_ref *ref,
    const struct snap *now, struct stage *st)
{
	size_t	i, n = 0;

	(void)sw;
	for (i = 0; i < 2; i++) {
		stage_set(&st[n++], file_class(ref, now, ex_accts[i].file),
		    "%s's file", ex_accts[i].user);
		stage_set(&st[n++], store_part_class(ref, now,
		    ex_accts[i].user), "%s's grants", ex_accts[i].user);
	}
	return n;
}

static void
expire_check_killed(const struct sweep *sw, const struct sweep_ref *ref,
    const struct snap *now, const char *where)
{
	static const char *const tags[] = { "keys", "alice", "bob", NULL };
	struct stage	 st[SWEEP_STAGES_MAX];

	assert_store_parts(ref, now, tags, where);
	assert_closed_lines_gone(now, ex_accts, 2, "expired", where);
	assert_progress(st, expire_stages(sw, ref, now, st), where);
}

static void
expire_check_ref(const struct sweep *sw, const struct sweep_ref *ref)
{
	const struct snap	*o = &ref->old, *n = &ref->new;
	char			 row[256];

	(void)sw;
	cr_assert_not_null(o->file[0]);
	cr_assert_not_null(o->file[1]);
	cr_assert_not_null(n->file[0]);
	cr_assert_not_null(n->file[1]);
	cr_assert_not_null(o->store);
	cr_assert_not_null(n->store);
	cr_assert_eq(keygen_count(o->file[0], o->len[0]), 3);
	cr_assert_eq(keygen_count(n->file[0], n->len[0]), 2);
	cr_assert_eq(keygen_count(o->file[1], o->len[1]), 4);
	cr_assert_eq(keygen_count(n->file[1], n->len[1]), 2);
	cr_assert_eq(count_of(n->file[0], n->len[0], ex_alice.b64), 0);
	cr_assert_eq(count_of(n->file[0], n->len[0], ex_bob.b64), 1);
	cr_assert_eq(count_of(o->file[1], o->len[1], ex_bob.b64), 2);
	cr_assert_eq(count_of(n->file[1], n->len[1], ex_bob.b64), 0);
	cr_assert_eq(count_of(n->file[1], n->len[1], ex_bobs.b64), 1);
	cr_assert_null(strstr(o->store, "|grant|expired|"));
	xsnprintf(row, sizeof(row), "alice|grant|expired|ssh-ed25519 %s|",
	    ex_alice.b64);
	cr_assert_not_null(strstr(n->store, row), "new store:\n%s", n->store);
	xsnprintf(row, sizeof(row), "bob|grant|expired|ssh-ed25519 %s|",
	    ex_bob.b64);
	cr_assert_not_null(strstr(n->store, row), "new store:\n%s", n->store);
	xsnprintf(row, sizeof(row), "alice|grant|active|ssh-ed25519 %s|",
	    ex_bob.b64);
	cr_assert_not_null(strstr(n->store, row), "new store:\n%s", n->store);
	xsnprintf(row, sizeof(row), "bob|grant|active|ssh-ed25519 %s|",
	    ex_bobs.b64);
	cr_assert_not_null(strstr(n->store, row), "new store:\n%s", n->store);
}

Test(stress, crash_sweep_expire)
{
	static const char *const files[] = { ALICE_KEYFILE, BOB_KEYFILE,
		NULL };
	const char	*argv[] = { "expire", NULL };
	struct sweep	 sw = {
		.what = "expire",
		.argv = argv,
		.build_old = expire_build_old,
		.files = files,
		.store_sql = withdraw_store_sql,
		.dense_from = "\".ssh\"",	/* the walk into alice's .ssh */
		.check_killed = expire_check_killed,
		.check_ref = expire_check_ref,
		.stages = expire_stages,
		.note_sql = withdraw_note_sql,
	};

	need_root();
	if (system("strace -V >/dev/null 2>&1") != 0)
		cr_skip_test("strace is not installed (tests/deps.sh)");
	sweep_run(&sw);
}
