/*
 * test_faults.c -- the built keyadm in a --root tree whose store or file
 * system is damaged, locked, read-only or full.
 *
 * Every fault test builds one template tree (TPL): alice and bob both
 * hold key a, alice also key e whose grant has expired (its expires_at
 * set back in the store), an import file for key i, busy_timeout_ms =
 * 300.  Then, for each of the commands add, revoke (key a, every
 * account), expire, import, audit, list and verify:
 *
 *  - REF, a copy of TPL, runs the command without the fault: its exit
 *    status and stdout, and the key files it leaves ("new"), are the
 *    reference;
 *  - W, another copy (on a tmpfs of the test's own for the file-system
 *    faults), gets the fault and runs the command.  Then:
 *    the exit status is one the fault allows (documented in keyadm(8)
 *    EXIT STATUS; the reference status where the fault must not matter);
 *    stderr is "keyadm: <object>: <problem>" lines, none twice, each
 *    naming the database (store faults: exactly one line) or the cause
 *    (file-system faults); each key file (both authorized_keys and the
 *    revoked-keys file) holds, byte for byte, its old content (TPL) or
 *    its new one (REF); no ".NAME.keyadm~new" temporary is left; run
 *    again on the same state, the command gives the same status and
 *    stderr (stable);
 *  - for the faults that go away (a lock released, the file system
 *    writable or with room again) the same command is run once more and
 *    must end as REF did, files included, and verify must find the
 *    chain intact.
 *
 * Suite "faults": damaged stores (truncated, corrupted, newer schema),
 * locks, a file size limit (RLIMIT_FSIZE, the full disk any user can
 * make), stores left at schema version 0.  Suite "faults_root" (root,
 * else skipped): read-only and full file systems, each a tmpfs mounted
 * in a mount namespace of the test process's own (unshare), so that
 * nothing outlives the test; skipped with a message when the container
 * forbids it.
 *
 * The statuses a fault allows (keyadm(8) EXIT STATUS): a damaged store
 * 70, 74 or 78 from every command; a newer schema 78; a store locked by
 * a writer 75 from the commands that write, while readers see the
 * reference result (WAL); the store directory's flock 75 from all; a
 * file system that refuses writes 73 or 74 from the commands that write
 * (import also 1, "a key was refused"), the reference result from
 * readers; RLIMIT_FSIZE 0 also fails readers (73 or 74), since SQLite
 * sizes the -shm file at every first open.
 *
 * Schema version 0: a store whose first migration never committed (its
 * creator killed) must be set up by the next writing command; reading
 * commands run as root must not tell root to "run keyadm as root".  A
 * store with history cut to 0 bytes is indistinguishable from that, and
 * is set up anew (asserted as it is: audit and syslog show the loss).
 *
 * A failing expectation here is a bug in keyadm, not in this file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* unshare, CLONE_NEWNS */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "run.h"

#define DB_REL		"var/lib/keyadm/keyadm.db"
#define DBDIR_REL	"var/lib/keyadm"
#define REV_REL		"etc/ssh/keyadm_revoked_keys"
#define PAGE		4096		/* SQLite's default page size */
#define MNT_SIZE	"8m"		/* the tmpfs of a file-system fault */
#define STORE_MNT_SIZE	"1m"		/* the tmpfs over the store's dir */
#define AS_REF		(-1)		/* "the reference status" */
#define NFILES		3

/* The key files whose content must be old or new, never half of each. */
static const char *const files_rel[NFILES] = {
	"home/alice/.ssh/authorized_keys",
	"home/bob/.ssh/authorized_keys",
	REV_REL
};
/* Where keyadm writes its ".NAME.keyadm~new" temporaries. */
static const char *const dirs_rel[NFILES] = {
	"home/alice/.ssh", "home/bob/.ssh", "etc/ssh"
};

enum cmd { C_ADD, C_REVOKE, C_EXPIRE, C_IMPORT, C_AUDIT, C_LIST, C_VERIFY,
	C_N };
static const char *const cmd_name[C_N] = { "add", "revoke", "expire",
	"import", "audit", "list", "verify" };
#define WRITER(c)	((c) <= C_IMPORT)

static struct tree	TPL, W, REF;
static int		tpl_made, w_made, ref_made;
static char		FPA[128];	/* key a, held by alice and bob */
static char		MNT[PATH_MAX];	/* this test's tmpfs, or "" */
static char		SMNT[PATH_MAX];	/* a tmpfs over W's store dir, or "" */
static char		BIND[PATH_MAX];	/* a read-only bind mount, or "" */
static int		flock_fd = -1;
static sqlite3		*locker;
static struct rlimit	saved_fsize;
static int		fsize_limited;

/* ---------------------------------------------------------- fixtures */

static void
release_all(void)
{
	if (locker != NULL) {
		(void)sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL);
		(void)sqlite3_close(locker);
		locker = NULL;
	}
	if (flock_fd != -1)
		(void)close(flock_fd);
	flock_fd = -1;
	if (fsize_limited) {
		(void)setrlimit(RLIMIT_FSIZE, &saved_fsize);
		fsize_limited = 0;
	}
}

static void
unmount_all(void)
{
	if (BIND[0] != '\0')
		(void)umount2(BIND, MNT_DETACH);
	BIND[0] = '\0';
	if (SMNT[0] != '\0')
		(void)umount2(SMNT, MNT_DETACH);
	SMNT[0] = '\0';
}

static void
setup(void)
{
	tpl_made = w_made = ref_made = 0;
	MNT[0] = SMNT[0] = BIND[0] = '\0';
	if (geteuid() == 0)
		set_sudo_actor();	/* a fixed actor, as the other tests */
}

static void
teardown(void)
{
	release_all();
	unmount_all();
	if (w_made)
		tree_remove(&W);
	if (ref_made)
		tree_remove(&REF);
	if (tpl_made)
		tree_remove(&TPL);
	w_made = ref_made = tpl_made = 0;
	if (MNT[0] != '\0') {
		(void)umount2(MNT, MNT_DETACH);
		(void)rmdir(MNT);
	}
	MNT[0] = '\0';
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 900);
TestSuite(faults_root, .init = setup, .fini = teardown, .timeout = 900);

/* ----------------------------------------------------------- helpers */

#define tpath(t, buf, rel) tree_path((t), (buf), PATH_MAX, (rel))
/* keyadm --root t->root ARGS... (NULL-terminated) */
#define ka(t, r, ...)	tree_ka((t), (r), NULL, __VA_ARGS__)
/* keyadm ... that must exit 0; the result is freed. */
#define KA_OK(t, ...)	TREE_KA_OK((t), __VA_ARGS__)

/* One of the commands under test on tree t. */
static int
run_cmd(const struct tree *t, enum cmd c, struct run_result *r)
{
	char	p[PATH_MAX];

	switch (c) {
	case C_ADD:
		return ka(t, r, "add", "alice", tpath(t, p, "inbox/b.pub"),
		    NULL);
	case C_REVOKE:
		return ka(t, r, "revoke", FPA, "--reason", "fault test",
		    NULL);
	case C_EXPIRE:
		return ka(t, r, "expire", NULL);
	case C_IMPORT:
		return ka(t, r, "import", tpath(t, p, "inbox/import.txt"),
		    NULL);
	case C_AUDIT:
		return ka(t, r, "audit", NULL);
	case C_LIST:
		return ka(t, r, "list", "--status", "all", NULL);
	default:
		return ka(t, r, "verify", NULL);
	}
}

/* text with every occurrence of root replaced by "ROOT" (free it). */
static char *
unroot(const char *text, const char *root)
{
	size_t	 rl = strlen(root), n = 0, cap = strlen(text) + 1;
	char	*out = malloc(cap);
	const char *p;

	cr_assert_not_null(out);
	for (p = text; *p != '\0';) {
		if (strncmp(p, root, rl) == 0) {
			/* "ROOT" is never longer than a mkdtemp path */
			memcpy(out + n, "ROOT", 4);
			n += 4;
			p += rl;
		} else
			out[n++] = *p++;
	}
	out[n] = '\0';
	return out;
}

/* Run a program that must succeed (cp, ...). */
static void
prog_ok(const char *const argv[])
{
	struct run_result	r;

	run_prog(&r, NULL, 0, argv, 120);
	cr_assert_eq(r.status, 0, "%s failed: %s", argv[0], r.err);
	run_free(&r);
}

/* dst := a copy of src made under parent (same accounts, same bytes). */
static void
tree_clone(const struct tree *src, struct tree *dst, const char *parent)
{
	char	from[PATH_MAX + 2];

	*dst = *src;
	xsnprintf(dst->base, sizeof(dst->base), "%s/keyadm-cli.XXXXXX",
	    parent);
	cr_assert_not_null(mkdtemp(dst->base), "mkdtemp: %s",
	    strerror(errno));
	cr_assert_eq(chmod(dst->base, 0755), 0);
	xsnprintf(dst->root, sizeof(dst->root), "%s", dst->base);
	xsnprintf(dst->inbox, sizeof(dst->inbox), "%s/inbox", dst->root);
	xsnprintf(from, sizeof(from), "%s/.", src->root);
	prog_ok((const char *[]){ "cp", "-a", from, dst->root, NULL });
}

/* Run one SQL text on the store of t with the SQLite API. */
#define sql(t, text)	tree_sql_exec((t), (text))

/* An integer from one SQL query on the store of t. */
static long long
sql_int(const struct tree *t, const char *query)
{
	char		 db[PATH_MAX];
	sqlite3		*h;
	sqlite3_stmt	*st;
	long long	 v;

	cr_assert_eq(sqlite3_open_v2(tpath(t, db, DB_REL), &h,
	    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, query, -1, &st, NULL), SQLITE_OK,
	    "%s", sqlite3_errmsg(h));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", query);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/*
 * The template: keys a, b, e, i in the inbox; a for alice and bob, e for
 * alice with its grant expired; the import file for i.
 */
static void
tpl_make(void)
{
	char			 p[PATH_MAX], text[1024], *pub;
	size_t			 len;
	static const char *const names[] = { "a", "b", "e", "i" };
	size_t			 i;

	tree_make(&TPL);
	tpl_made = 1;
	for (i = 0; i < 4; i++) {
		xsnprintf(text, sizeof(text), "%s@faults", names[i]);
		tree_keygen(&TPL, "ed25519", 0, text, names[i], NULL, 0);
	}
	spew(tpath(&TPL, p, "etc/keyadm.conf"), "busy_timeout_ms = 300\n",
	    22, 0644);
	KA_OK(&TPL, "add", "alice", tpath(&TPL, p, "inbox/a.pub"));
	KA_OK(&TPL, "add", "bob", tpath(&TPL, p, "inbox/a.pub"));
	KA_OK(&TPL, "add", "alice", tpath(&TPL, p, "inbox/e.pub"),
	    "--expires", "1d");
	sql(&TPL, "UPDATE grants SET expires_at = 1000 WHERE key_id = "
	    "(SELECT id FROM keys WHERE comment = 'e@faults')");
	/* -wal and -shm as after a plain run of keyadm */
	KA_OK(&TPL, "list");
	ssh_keygen_fingerprint(tpath(&TPL, p, "inbox/a.pub"), FPA,
	    sizeof(FPA));
	pub = slurp(tpath(&TPL, p, "inbox/i.pub"), &len);
	xsnprintf(text, sizeof(text), "alice\t%s", pub);
	free(pub);
	spew(tpath(&TPL, p, "inbox/import.txt"), text, strlen(text), 0644);
}

/* The key files of t: content, or absent. */
struct fstate {
	int	 present;
	char	*data;
	size_t	 len;
};

static void
snap(const struct tree *t, struct fstate s[NFILES])
{
	struct stat	st;
	char		p[PATH_MAX];
	size_t		i;

	for (i = 0; i < NFILES; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		if (lstat(tpath(t, p, files_rel[i]), &st) == -1) {
			cr_assert_eq(errno, ENOENT, "%s: %s", p,
			    strerror(errno));
			continue;
		}
		cr_assert(S_ISREG(st.st_mode), "%s: not a regular file", p);
		s[i].present = 1;
		s[i].data = slurp(p, &s[i].len);
	}
}

static void
snap_free(struct fstate s[NFILES])
{
	size_t	i;

	for (i = 0; i < NFILES; i++)
		free(s[i].data);
}

static int
fs_eq(const struct fstate *a, const struct fstate *b)
{
	if (a->present != b->present)
		return 0;
	return !a->present || (a->len == b->len &&
	    memcmp(a->data, b->data, a->len) == 0);
}

/* 1 when every file of s is as in old. */
static int
all_old(const struct fstate *s, const struct fstate *old)
{
	size_t	i;

	for (i = 0; i < NFILES; i++)
		if (!fs_eq(&s[i], &old[i]))
			return 0;
	return 1;
}

/* Each file old or new, byte for byte; no temporary left. */
static void
expect_files(const char *what, const struct tree *t,
    const struct fstate *old, const struct fstate *new)
{
	struct fstate	 now[NFILES];
	struct dirent	*e;
	DIR		*d;
	char		 p[PATH_MAX];
	size_t		 i;

	snap(t, now);
	for (i = 0; i < NFILES; i++)
		cr_expect(fs_eq(&now[i], &old[i]) || fs_eq(&now[i], &new[i]),
		    "%s: %s is neither its old nor its new content:\n"
		    "---- now (%s)\n%.*s---- old\n%.*s---- new\n%.*s", what,
		    files_rel[i], now[i].present ? "present" : "absent",
		    (int)now[i].len, now[i].data ? now[i].data : "",
		    (int)old[i].len, old[i].data ? old[i].data : "",
		    (int)new[i].len, new[i].data ? new[i].data : "");
	snap_free(now);
	for (i = 0; i < NFILES; i++) {
		if ((d = opendir(tpath(t, p, dirs_rel[i]))) == NULL)
			continue;
		while ((e = readdir(d)) != NULL)
			cr_expect(strstr(e->d_name, "keyadm~new") == NULL,
			    "%s: temporary %s/%s left behind", what,
			    dirs_rel[i], e->d_name);
		closedir(d);
	}
}

/* ------------------------------------------------------------ faults */

enum kind {
	K_STORE,	/* the store is damaged: 70, 74 or 78 */
	K_NEWER,	/* a newer schema: 78 */
	K_LOCK_SQL,	/* a writer of the store: writers 75 */
	K_LOCK_DIR,	/* the store's directory flock: everyone 75 */
	K_FS		/* a file system that refuses writes: 73, 74 */
};

struct fault {
	const char	*name;
	enum kind	 kind;
	void		(*apply)(struct tree *w);
	void		(*undo)(struct tree *w);	/* NULL: for good */
	unsigned int	 may_pass;	/* 1 << cmd: the reference result is
					   also right (reads what is intact) */
	const char	*msg;		/* K_STORE..K_LOCK_DIR: the problem,
					   as a prefix; NULL: any */
	const char	*cause[4];	/* K_FS: each line names one */
	int		 readers_fail;	/* K_FS: reads fail too (73, 74) */
};

static int
in(int v, const int *set, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (set[i] == v)
			return 1;
	return 0;
}

/* Is status right for c under f, given the reference status? */
static int
status_ok(const struct fault *f, enum cmd c, int status, int refstatus)
{
	static const int store[] = { 70, 74, 78 }, fs[] = { 73, 74 },
	    fs_import[] = { 1, 73, 74 };

	if ((f->may_pass & (1u << c)) && status == refstatus)
		return 1;
	switch (f->kind) {
	case K_STORE:
		return in(status, store, 3);
	case K_NEWER:
		return status == 78;
	case K_LOCK_SQL:
		return WRITER(c) ? status == 75 : status == refstatus;
	case K_LOCK_DIR:
		return status == 75;
	default:
		/* import: 1 when an account's keys were refused (keyadm.8) */
		if (!WRITER(c))
			return f->readers_fail ? in(status, fs, 2) :
			    status == refstatus;
		return c == C_IMPORT ? in(status, fs_import, 3) :
		    in(status, fs, 2);
	}
}

/* Does this failure leave the reference's status, stdout and stderr? */
static int
transparent(const struct fault *f, enum cmd c)
{
	return (f->kind == K_LOCK_SQL || (f->kind == K_FS &&
	    !f->readers_fail)) && !WRITER(c);
}

/* The lines of stderr: well formed, none twice, saying what they must. */
static void
expect_stderr(const char *what, const struct fault *f, const struct tree *t,
    const struct run_result *r)
{
	char		 db[PATH_MAX], pfx[PATH_MAX + 64], *copy, *line,
			*save = NULL, *lines[64];
	size_t		 n = 0, i, j;
	int		 named, twice = 0;

	xsnprintf(db, sizeof(db), "%s/%s", t->root, DB_REL);
	cr_expect(r->errlen > 0 && r->err[r->errlen - 1] == '\n',
	    "%s: exit %d without a whole line on stderr: \"%s\"", what,
	    r->status, r->err);
	copy = strdup(r->err);
	cr_assert_not_null(copy);
	for (line = strtok_r(copy, "\n", &save); line != NULL && n < 64;
	    line = strtok_r(NULL, "\n", &save))
		lines[n++] = line;
	if (f->kind != K_FS)
		cr_expect_eq(n, 1, "%s: %zu lines on stderr, expected one:\n%s",
		    what, n, r->err);
	for (i = 0; i < n; i++) {
		cr_expect(strncmp(lines[i], "keyadm: ", 8) == 0 &&
		    strstr(lines[i] + 8, ": ") != NULL &&
		    strstr(lines[i] + 8, ": ") != lines[i] + 8,
		    "%s: not \"keyadm: <object>: <problem>\": %s", what,
		    lines[i]);
		for (j = 0; j < i && !twice; j++)
			twice = strcmp(lines[i], lines[j]) == 0;
		if (f->kind != K_FS) {
			xsnprintf(pfx, sizeof(pfx), "keyadm: %s: %s", db,
			    f->msg != NULL ? f->msg : "");
			cr_expect(strncmp(lines[i], pfx, strlen(pfx)) == 0,
			    "%s: expected a line starting \"%s\", got:\n%s",
			    what, pfx, r->err);
			continue;
		}
		for (j = 0, named = 0; j < 4 && f->cause[j] != NULL; j++)
			named |= strstr(lines[i], f->cause[j]) != NULL;
		cr_expect(named, "%s: this line does not say why (\"%s\"...): "
		    "%s", what, f->cause[0], lines[i]);
	}
	cr_expect(!twice, "%s: the same line more than once:\n%s", what,
	    r->err);
	free(copy);
}

/* A message that says files changed must be true. */
static void
expect_claims(const char *what, const struct run_result *r,
    const struct tree *t, const struct fstate *old)
{
	static const char *const claims[] = { "were written", "was updated",
	    "are gone from", "is listed in" };
	struct fstate	now[NFILES];
	size_t		i;
	int		claimed = 0;

	for (i = 0; i < 4; i++)
		claimed |= strstr(r->err, claims[i]) != NULL;
	if (!claimed)
		return;
	snap(t, now);
	cr_expect(!all_old(now, old), "%s: stderr says a file changed, but "
	    "none did:\n%s", what, r->err);
	snap_free(now);
}

/* One command under one fault; see the top of the file. */
static void
fault_cmd(const struct fault *f, enum cmd c)
{
	struct run_result	 ref, r1, r2, r3;
	struct fstate		 old[NFILES], new[NFILES], after[NFILES];
	char			 what[256], *o1, *o2;
	int			 refstatus;

	xsnprintf(what, sizeof(what), "%s, %s", f->name, cmd_name[c]);
	snap(&TPL, old);
	tree_clone(&TPL, &REF, "/tmp");
	ref_made = 1;
	refstatus = run_cmd(&REF, c, &ref);
	snap(&REF, new);
	cr_assert(refstatus == 0 || (c == C_AUDIT && refstatus == 1),
	    "%s: the reference run failed (%d): %s", what, refstatus,
	    ref.err);

	tree_clone(&TPL, &W, MNT[0] != '\0' ? MNT : "/tmp");
	w_made = 1;
	f->apply(&W);
	(void)run_cmd(&W, c, &r1);
	cr_expect(status_ok(f, c, r1.status, refstatus),
	    "%s: exit status %d is not one this fault allows (the "
	    "reference gave %d); stderr:\n%s", what, r1.status, refstatus,
	    r1.err);
	if (transparent(f, c) || ((f->may_pass & (1u << c)) &&
	    r1.status == refstatus)) {
		o1 = unroot(r1.out, W.root);
		o2 = unroot(ref.out, REF.root);
		cr_expect_str_eq(o1, o2, "%s: stdout differs from the "
		    "reference", what);
		free(o1);
		free(o2);
		cr_expect_str_eq(r1.err, "", "%s: stderr: %s", what, r1.err);
	} else if (r1.status != 0)
		expect_stderr(what, f, &W, &r1);
	expect_files(what, &W, old, new);
	expect_claims(what, &r1, &W, old);

	/* stable: the same state gives the same answer */
	snap(&W, after);
	if (all_old(after, old) && r1.status != refstatus) {
		(void)run_cmd(&W, c, &r2);
		o1 = unroot(r1.err, W.root);
		o2 = unroot(r2.err, W.root);
		cr_expect_eq(r2.status, r1.status, "%s: exit %d, then %d on "
		    "the same state", what, r1.status, r2.status);
		cr_expect_str_eq(o2, o1, "%s: another message on the same "
		    "state", what);
		free(o1);
		free(o2);
		run_free(&r2);
	}
	snap_free(after);

	/* the fault gone, the same command ends as the reference did */
	if (f->undo != NULL) {
		f->undo(&W);
		(void)run_cmd(&W, c, &r2);
		cr_expect_eq(r2.status, refstatus, "%s: once the fault is "
		    "gone, exit %d (the reference gave %d); stderr:\n%s",
		    what, r2.status, refstatus, r2.err);
		snap(&W, after);
		if (WRITER(c))
			cr_expect(all_old(after, new), "%s: once the fault "
			    "is gone, the same command does not leave the "
			    "files the reference left", what);
		snap_free(after);
		run_free(&r2);
		(void)ka(&W, &r3, "verify", NULL);
		cr_expect_eq(r3.status, 0, "%s: verify afterwards: %d %s",
		    what, r3.status, r3.err);
		run_free(&r3);
	}
	run_free(&r1);
	run_free(&ref);
	snap_free(old);
	snap_free(new);
	release_all();
	unmount_all();
	tree_remove(&W);
	w_made = 0;
	tree_remove(&REF);
	ref_made = 0;
}

static void
fault_all(const struct fault *f)
{
	int	c;

	for (c = 0; c < C_N; c++)
		fault_cmd(f, (enum cmd)c);
}

/* ---------------------------------------------------- store damage */

static off_t
db_size(const struct tree *t)
{
	struct stat	st;
	char		p[PATH_MAX];

	cr_assert_eq(stat(tpath(t, p, DB_REL), &st), 0);
	return st.st_size;
}

static void
cut(struct tree *w, off_t at)
{
	char	p[PATH_MAX];

	cr_assert_lt(at, db_size(w), "the store is too small to cut");
	cr_assert_eq(truncate(tpath(w, p, DB_REL), at), 0, "%s",
	    strerror(errno));
}

static void
put(struct tree *w, off_t at, const void *data, size_t len)
{
	char	p[PATH_MAX];
	int	fd;

	fd = open(tpath(w, p, DB_REL), O_WRONLY | O_CLOEXEC);
	cr_assert_neq(fd, -1, "%s: %s", p, strerror(errno));
	cr_assert_eq(pwrite(fd, data, len, at), (ssize_t)len);
	cr_assert_eq(close(fd), 0);
}

static void cut_in_header(struct tree *w) { cut(w, 50); }
static void cut_after_header(struct tree *w) { cut(w, 100); }
static void cut_after_page1(struct tree *w) { cut(w, PAGE); }

/* Half way, and not on a page boundary. */
static void
cut_in_middle(struct tree *w)
{
	cut(w, db_size(w) / 2 + 123);
}

static void
corrupt_magic(struct tree *w)
{
	put(w, 0, "KEYADM-NOT-SQLITE", 16);
}

/* Page 1 after the 100-byte header: sqlite_schema's own b-tree page. */
static void
corrupt_schema(struct tree *w)
{
	static char	zero[3000];

	put(w, 200, zero, sizeof(zero));
}

/* Every other page gets a page-type byte no b-tree page has. */
static void
corrupt_btree_pages(struct tree *w)
{
	off_t	pg, n = db_size(w) / PAGE;

	for (pg = 1; pg < n; pg++)
		put(w, pg * PAGE, "\xee", 1);
}

/* The events table's root page: bytes from a fixed pseudo-random run. */
static void
corrupt_events_page(struct tree *w)
{
	unsigned char	buf[PAGE];
	unsigned int	x = 12345;
	long long	root;
	size_t		i;

	root = sql_int(w, "SELECT rootpage FROM sqlite_schema "
	    "WHERE name = 'events'");
	cr_assert_gt(root, 1);
	for (i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	/* keep the page type (a leaf of a table), garble the rest */
	buf[0] = 0x0d;
	put(w, (off_t)(root - 1) * PAGE + 8, buf, sizeof(buf) - 8);
}

static void
newer_schema(struct tree *w)
{
	sql(w, "PRAGMA user_version = 99");
}

#define STORE_FAULT(fname, fn, pass, m) \
	static const struct fault fname = { .name = #fname, \
	    .kind = K_STORE, .apply = fn, .may_pass = pass, .msg = m }

STORE_FAULT(truncated_in_header, cut_in_header, 0, NULL);
STORE_FAULT(truncated_after_header, cut_after_header, 0, NULL);
STORE_FAULT(truncated_after_first_page, cut_after_page1, 0, NULL);
STORE_FAULT(truncated_in_middle, cut_in_middle, 0, NULL);
STORE_FAULT(corrupted_header_magic, corrupt_magic, 0, NULL);
STORE_FAULT(corrupted_schema_page, corrupt_schema, 0, NULL);
STORE_FAULT(corrupted_btree_pages, corrupt_btree_pages, 0, NULL);
/* list and audit read no event: they may not notice */
STORE_FAULT(corrupted_events_page, corrupt_events_page,
    (1u << C_LIST) | (1u << C_AUDIT), NULL);

Test(faults, truncated_inside_the_header)
{
	tpl_make();
	fault_all(&truncated_in_header);
}

Test(faults, truncated_after_the_header)
{
	tpl_make();
	fault_all(&truncated_after_header);
}

Test(faults, truncated_after_the_first_page)
{
	tpl_make();
	fault_all(&truncated_after_first_page);
}

Test(faults, truncated_in_the_middle)
{
	tpl_make();
	fault_all(&truncated_in_middle);
}

Test(faults, corrupted_header_magic)
{
	tpl_make();
	fault_all(&corrupted_header_magic);
}

Test(faults, corrupted_schema_page)
{
	tpl_make();
	fault_all(&corrupted_schema_page);
}

Test(faults, corrupted_btree_pages)
{
	tpl_make();
	fault_all(&corrupted_btree_pages);
}

Test(faults, corrupted_events_page)
{
	tpl_make();
	fault_all(&corrupted_events_page);
}

Test(faults, newer_schema_is_refused_by_every_command)
{
	static const struct fault f = { .name = "newer_schema",
	    .kind = K_NEWER, .apply = newer_schema,
	    .msg = "database schema version 99 is newer than this keyadm (" };

	tpl_make();
	fault_all(&f);
}

/* ------------------------------------------------------------ locks */

/* This process holds BEGIN EXCLUSIVE (SQLite's locks are per process). */
static void
lock_sql(struct tree *w)
{
	char	db[PATH_MAX];

	cr_assert_eq(sqlite3_open_v2(tpath(w, db, DB_REL), &locker,
	    SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(locker, "BEGIN EXCLUSIVE", NULL, NULL,
	    NULL), SQLITE_OK, "%s", sqlite3_errmsg(locker));
}

/* The flock store_open takes on the database directory, held here. */
static void
lock_dir(struct tree *w)
{
	char	d[PATH_MAX];

	flock_fd = open(tpath(w, d, DBDIR_REL), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	cr_assert_neq(flock_fd, -1, "%s: %s", d, strerror(errno));
	cr_assert_eq(flock(flock_fd, LOCK_EX | LOCK_NB), 0);
}

static void
unlock_any(struct tree *w)
{
	(void)w;
	release_all();
}

Test(faults, locked_by_an_exclusive_transaction)
{
	static const struct fault f = { .name = "locked_sql",
	    .kind = K_LOCK_SQL, .apply = lock_sql, .undo = unlock_any,
	    .msg = "database is locked; try again" };

	tpl_make();
	fault_all(&f);
}

Test(faults, locked_directory_beyond_the_busy_timeout)
{
	static const struct fault f = { .name = "locked_dir",
	    .kind = K_LOCK_DIR, .apply = lock_dir, .undo = unlock_any,
	    .msg = "being created or upgraded by another process; "
	    "try again" };

	tpl_make();
	fault_all(&f);
}

/* ----------------------------------------------- a file size limit */

/*
 * RLIMIT_FSIZE 0 for what this process runs next (keyadm inherits it):
 * every write to a file fails with EFBIG, as on a full disk, and as a
 * shell's "ulimit -f 0" would make it.  SIGXFSZ is ignored, so that the
 * write fails instead of killing keyadm; ignored signals stay ignored
 * across exec.  This process only writes to pipes until undo.
 */
static void
limit_fsize(struct tree *w)
{
	struct rlimit	rl;

	(void)w;
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
	(void)signal(SIGXFSZ, SIG_IGN);
	rl.rlim_cur = 0;
	rl.rlim_max = saved_fsize.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	fsize_limited = 1;
}

static void
unlimit_fsize(struct tree *w)
{
	(void)w;
	release_all();
}

Test(faults, file_size_limit_zero)
{
	/* reads fail too: SQLite sizes the -shm file at every first open */
	static const struct fault f = { .name = "fsize_0", .kind = K_FS,
	    .apply = limit_fsize, .undo = unlimit_fsize, .readers_fail = 1,
	    .cause = { "File too large", "disk I/O error", "disk is full",
	    NULL } };

	tpl_make();
	fault_all(&f);
}

/* ------------------------------------------------ schema version 0 */

/*
 * store_open creates the file (0 bytes), switches it to WAL (page 1
 * written, user_version 0) and only then runs the first migration in a
 * transaction; a run killed before that commit leaves one of these.
 */
static void
make_v0(struct tree *t, int wal_header)
{
	char	p[PATH_MAX], db[PATH_MAX];
	sqlite3	*h;

	mkdirs(tpath(t, p, DBDIR_REL), 0700);
	spew(tpath(t, db, DB_REL), "", 0, 0600);
	if (!wal_header)
		return;
	cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "PRAGMA journal_mode = WAL", NULL, NULL,
	    NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_close(h), SQLITE_OK);
	cr_assert_eq(sql_int(t, "PRAGMA user_version"), 0);
}

static void
v0_reads(int wal_header)
{
	static const enum cmd readers[] = { C_AUDIT, C_LIST, C_VERIFY };
	struct run_result	r;
	size_t			i;

	tree_make(&TPL);
	tpl_made = 1;
	make_v0(&TPL, wal_header);
	for (i = 0; i < 3; i++) {
		(void)run_cmd(&TPL, readers[i], &r);
		cr_log_info("schema v0 store (%s), %s as uid %u: exit %d: %s",
		    wal_header ? "WAL header" : "0 bytes",
		    cmd_name[readers[i]], (unsigned)geteuid(), r.status,
		    r.err);
		/* as root, "run keyadm as root" cannot help */
		if (geteuid() == 0)
			cr_expect_null(strstr(r.err, "run keyadm as root"),
			    "%s on a schema version 0 store tells root to "
			    "run keyadm as root: %s", cmd_name[readers[i]],
			    r.err);
		run_free(&r);
	}
}

Test(faults_root, schema_v0_empty_file_read_as_root)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: the advice is about root");
	v0_reads(0);
}

Test(faults_root, schema_v0_wal_header_read_as_root)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: the advice is about root");
	v0_reads(1);
}

/* A writing command sets the store up, and then everything works. */
static void
v0_write(int wal_header)
{
	struct run_result	r;
	char			p[PATH_MAX], fp[128];

	tree_make(&TPL);
	tpl_made = 1;
	tree_keygen(&TPL, "ed25519", 0, "b@faults", "b", NULL, 0);
	ssh_keygen_fingerprint(tpath(&TPL, p, "inbox/b.pub"), fp,
	    sizeof(fp));
	make_v0(&TPL, wal_header);
	cr_assert_eq(ka(&TPL, &r, "add", "alice", tpath(&TPL, p,
	    "inbox/b.pub"), NULL), 0, "add on a schema v0 store: %s", r.err);
	run_free(&r);
	cr_assert_gt(sql_int(&TPL, "PRAGMA user_version"), 0);
	cr_assert_eq(ka(&TPL, &r, "list", NULL), 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, fp), "%s", r.out);
	run_free(&r);
	cr_assert_eq(ka(&TPL, &r, "verify", NULL), 0, "%s", r.err);
	run_free(&r);
}

Test(faults, schema_v0_empty_file_is_set_up_by_add)
{
	v0_write(0);
}

Test(faults, schema_v0_wal_header_is_set_up_by_add)
{
	v0_write(1);
}

/*
 * A store with history cut to 0 bytes is taken for one a killed first
 * run left: a write sets up a new, empty store without a word.  What
 * shows it: audit finds the keys in the files unmanaged, and the events
 * start again at 1 (compare with the syslog copy).
 */
Test(faults, empty_store_file_with_history_is_set_up_again)
{
	struct run_result	r;
	char			p[PATH_MAX];

	tpl_make();
	cut(&TPL, 0);
	cr_assert_eq(ka(&TPL, &r, "add", "alice", tpath(&TPL, p,
	    "inbox/b.pub"), NULL), 0, "%s", r.err);
	cr_log_info("add on a store cut to 0 bytes: exit %d, stderr \"%s\"",
	    r.status, r.err);
	run_free(&r);
	cr_assert_eq(sql_int(&TPL, "SELECT min(id) FROM events"), 1);
	cr_assert_eq(sql_int(&TPL, "SELECT count(*) FROM grants"), 1,
	    "the old grants are gone, only the new one is there");
	cr_assert_eq(ka(&TPL, &r, "audit", "alice", NULL), 1, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "unmanaged-key"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(ka(&TPL, &r, "verify", NULL), 0, "%s", r.err);
	run_free(&r);
}

/* ------------------------------------------- file systems (root) */

/*
 * A tmpfs of this test in a mount namespace of this process's own: the
 * mounts go when the process does, whatever happens.  Skips (before
 * anything is made) when that is not allowed here.
 */
static void
private_tmpfs(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to mount a tmpfs");
	if (unshare(CLONE_NEWNS) == -1)
		cr_skip_test("unshare(CLONE_NEWNS): %s: no file-system "
		    "faults in this container", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		cr_skip_test("making / private: %s", strerror(errno));
	xsnprintf(MNT, sizeof(MNT), "/tmp/keyadm-faults.XXXXXX");
	cr_assert_not_null(mkdtemp(MNT));
	if (mount("tmpfs", MNT, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=" MNT_SIZE ",mode=0755") == -1) {
		int e = errno;

		(void)rmdir(MNT);
		MNT[0] = '\0';
		cr_skip_test("mount -t tmpfs: %s: no file-system faults in "
		    "this container", strerror(e));
	}
}

static void
remount(const char *dir, unsigned long flags)
{
	cr_assert_eq(mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_NOSUID |
	    MS_NODEV | flags, NULL), 0, "remount %s: %s", dir,
	    strerror(errno));
}

static void
ro_all(struct tree *w)
{
	(void)w;
	remount(MNT, MS_RDONLY);
}

static void
rw_all(struct tree *w)
{
	(void)w;
	remount(MNT, 0);
}

/* rel of w read-only by a bind mount onto itself. */
static void
ro_bind(struct tree *w, const char *rel)
{
	tpath(w, BIND, rel);
	cr_assert_eq(mount(BIND, BIND, NULL, MS_BIND, NULL), 0, "%s",
	    strerror(errno));
	cr_assert_eq(mount(NULL, BIND, NULL, MS_REMOUNT | MS_BIND |
	    MS_RDONLY, NULL), 0, "%s", strerror(errno));
}

static void ro_home(struct tree *w) { ro_bind(w, "home"); }
static void ro_store(struct tree *w) { ro_bind(w, DBDIR_REL); }

static void
unbind(struct tree *w)
{
	(void)w;
	unmount_all();
}

/* Write dir/filler until the file system is full. */
static void
fill(const char *dir)
{
	static char	chunk[65536];
	char		p[PATH_MAX];
	size_t		sz;
	ssize_t		n;
	int		fd;

	xsnprintf(p, sizeof(p), "%s/filler", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_neq(fd, -1, "%s: %s", p, strerror(errno));
	for (sz = sizeof(chunk); sz >= 1; sz /= 2)
		while ((n = write(fd, chunk, sz)) > 0)
			;
	cr_assert_eq(errno, ENOSPC, "filling %s: %s", dir, strerror(errno));
	(void)close(fd);
}

static void
unfill(const char *dir)
{
	char	p[PATH_MAX];

	xsnprintf(p, sizeof(p), "%s/filler", dir);
	cr_assert_eq(unlink(p), 0, "%s: %s", p, strerror(errno));
}

static void full_all(struct tree *w) { (void)w; fill(MNT); }
static void room_all(struct tree *w) { (void)w; unfill(MNT); }

/* A small tmpfs over W's store directory, with the store, then full. */
static void
full_store(struct tree *w)
{
	char	d[PATH_MAX], keep[PATH_MAX], from[PATH_MAX + 2];

	tpath(w, d, DBDIR_REL);
	xsnprintf(keep, sizeof(keep), "%s.keep", d);
	cr_assert_eq(rename(d, keep), 0);
	cr_assert_eq(mkdir(d, 0700), 0);
	cr_assert_eq(mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=" STORE_MNT_SIZE ",mode=0700"), 0, "%s", strerror(errno));
	xsnprintf(SMNT, sizeof(SMNT), "%s", d);
	xsnprintf(from, sizeof(from), "%s/.", keep);
	prog_ok((const char *[]){ "cp", "-a", from, d, NULL });
	prog_ok((const char *[]){ "rm", "-rf", keep, NULL });
	fill(d);
}

static void
room_store(struct tree *w)
{
	char	d[PATH_MAX];

	unfill(tpath(w, d, DBDIR_REL));
}

#define FS_FAULT(fname, ap, un, ...) \
	static const struct fault fname = { .name = #fname, .kind = K_FS, \
	    .apply = ap, .undo = un, .cause = { __VA_ARGS__, NULL } }

FS_FAULT(read_only_fs, ro_all, rw_all, "Read-only file system",
    "readonly database");
FS_FAULT(read_only_home, ro_home, unbind, "Read-only file system",
    "readonly database");
FS_FAULT(read_only_store, ro_store, unbind, "Read-only file system",
    "readonly database");
FS_FAULT(full_fs, full_all, room_all, "No space left on device",
    "disk is full");
FS_FAULT(full_store_fs, full_store, room_store, "No space left on device",
    "disk is full");

Test(faults_root, read_only_file_system)
{
	private_tmpfs();
	tpl_make();
	fault_all(&read_only_fs);
}

Test(faults_root, read_only_homes)
{
	private_tmpfs();
	tpl_make();
	fault_all(&read_only_home);
}

Test(faults_root, read_only_store_directory)
{
	private_tmpfs();
	tpl_make();
	fault_all(&read_only_store);
}

Test(faults_root, full_file_system)
{
	private_tmpfs();
	tpl_make();
	fault_all(&full_fs);
}

Test(faults_root, full_store_file_system)
{
	private_tmpfs();
	tpl_make();
	fault_all(&full_store_fs);
}
