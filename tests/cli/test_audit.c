/*
 * test_audit.c -- the built keyadm in a --root tree: audit and adopt.
 *
 * Suite "audit": each test drifts one fresh tree (tree_make, .init) by
 * hand the way an administrator, a user or an intruder would, runs
 * `keyadm --json audit` and checks the exact findings (kind, account,
 * path, fingerprint, line), the counts object, the exit status, and that
 * audit changed nothing: every run is bracketed by a snapshot of the whole
 * tree (content, mode, owner, inode, links, mtime and ctime of every entry,
 * without following links or opening FIFOs) and a logical dump of the
 * store taken from a copy of its files, so the checking itself cannot
 * disturb the store.  Timing: every audit must finish quickly, including
 * against FIFOs and links.
 *
 * Suite "adopt": keys already present in files become grants without the
 * files changing (snapshot of the homes and etc), audit is then clean,
 * list shows the grants with their options, and the events table (and
 * keyadm history) holds one "adopt" event per adopted key.
 *
 * Fingerprints are ssh-keygen's (ssh_keygen_fingerprint); python3's json
 * module parses every --json document, strictly (no repeated keys).
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "run.h"

#define REVFILE_REL	"etc/ssh/keyadm_revoked_keys"
#define DB_REL		"var/lib/keyadm/keyadm.db"
#define STORE_DIR_REL	"var/lib/keyadm"

static struct tree	T;

/* keyadm --root T ARGS... (NULL-terminated); from an array: run_argv */
#define ka(r, ...)	tree_ka(&T, (r), NULL, __VA_ARGS__)
#define run_argv(r, args) tree_kav(&T, (r), NULL, (args))
/* keyadm ... that must exit 0; the result is freed. */
#define KA_OK(...)	TREE_KA_OK(&T, __VA_ARGS__)
#define tp(buf, rel)	tree_path(&T, (buf), PATH_MAX, (rel))
#define akfile(buf, user) tree_akfile(&T, (buf), (user))
#define pyjson(doc, len, code) tree_pyjson(&T, (doc), (len), (code))
#define store_count(sql) tree_store_count(&T, (sql))
#define put_ssh_file(...) tree_put_ssh_file(&T, __VA_ARGS__)

static void
setup(void)
{
	char	p[PATH_MAX];

	tree_make(&T);
	/* scratch space for store copies, outside every snapshot */
	mkdirs(tp(p, "dbcopy"), 0700);
	if (geteuid() == 0)
		set_sudo_actor();
}

static void
teardown(void)
{
	tree_remove(&T);
}

TestSuite(audit, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(adopt, .init = setup, .fini = teardown, .timeout = 120);

/* ----------------------------------------------------------- helpers */

/* INBOX/name{,.pub} (comment: name); pub gets the .pub, fp its print. */
static void
key(const char *type, unsigned int bits, const char *name, char *pub,
    char *fp)
{
	tree_keygen_pub(&T, type, bits, name, name, pub, fp);
}

/* The .pub's single line, "type base64 comment\n" (caller frees). */
static char *
publine(const char *pub)
{
	return slurp(pub, NULL);
}

/* Write user's .ssh/name by hand, owned by the user. */
static void
put_user_file(const char *user, const char *name, const char *text)
{
	tree_put_user_file(&T, user, name, text);
}

/* Write user's authorized_keys (and .ssh) by hand, owned by the user. */
static void
put_ak(const char *user, const char *text)
{
	put_user_file(user, "authorized_keys", text);
}

/* Append the .pub's line to user's authorized_keys, by hand. */
static void
append_pub(const char *user, const char *pub)
{
	char	ak[PATH_MAX], *l = publine(pub);

	append_text(akfile(ak, user), l);
	free(l);
}

/* Rewrite an existing file in place (same inode, owner, mode). */
static void
rewrite(const char *path, const char *text)
{
	struct stat	st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	spew(path, text, strlen(text), st.st_mode & 07777);
}

/* Remove every line of path that contains needle. */
static void
drop_lines_with(const char *path, const char *needle)
{
	char	*text = slurp(path, NULL), *out, *p, *e;
	size_t	 n = 0, len;
	int	 dropped = 0;

	out = calloc(1, strlen(text) + 1);
	cr_assert_not_null(out);
	for (p = text; *p != '\0'; p = e) {
		e = strchr(p, '\n');
		e = e != NULL ? e + 1 : p + strlen(p);
		len = (size_t)(e - p);
		if (memmem(p, len, needle, strlen(needle)) != NULL) {
			dropped++;
			continue;
		}
		memcpy(out + n, p, len);
		n += len;
	}
	cr_assert_gt(dropped, 0, "no line of %s holds %s", path, needle);
	rewrite(path, out);
	free(out);
	free(text);
}

static void
set_conf(const char *text)
{
	char	p[PATH_MAX];

	spew(tp(p, "etc/keyadm.conf"), text, strlen(text), 0644);
}

/* ------------------------------------------- snapshots: nothing changed */

struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static struct sbuf	snap_buf;
static size_t		snap_skip;	/* strlen of the walk's top */

static void
sbuf_add(struct sbuf *b, const char *s)
{
	size_t	n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* FNV-1a of a regular file's bytes (no link followed, no FIFO opened). */
static uint64_t
file_hash(const char *path)
{
	unsigned char	buf[8192];
	uint64_t	h = 1469598103934665603ULL;
	ssize_t		n, i;
	int		fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++) {
			h ^= buf[i];
			h *= 1099511628211ULL;
		}
	(void)close(fd);
	return h;
}

static int
snap_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	const char	*rel = path + snap_skip;
	char		 line[PATH_MAX * 3], target[PATH_MAX];
	ssize_t		 n;
	uint64_t	 h = 0;

	(void)type;
	(void)f;
	/* the store is compared on its own (store_state) */
	if (strncmp(rel, "/" STORE_DIR_REL, strlen(STORE_DIR_REL) + 1) == 0 ||
	    strncmp(rel, "/dbcopy", 7) == 0)
		return 0;
	target[0] = '\0';
	if (S_ISREG(st->st_mode))
		h = file_hash(path);
	if (S_ISLNK(st->st_mode) &&
	    (n = readlink(path, target, sizeof(target) - 1)) >= 0)
		target[n] = '\0';
	xsnprintf(line, sizeof(line),
	    "%s mode=%o uid=%u gid=%u size=%lld ino=%llu nlink=%lu "
	    "mtime=%lld.%09ld ctime=%lld.%09ld hash=%016llx -> %s\n",
	    rel[0] != '\0' ? rel : "/", (unsigned)st->st_mode,
	    (unsigned)st->st_uid, (unsigned)st->st_gid,
	    (long long)st->st_size, (unsigned long long)st->st_ino,
	    (unsigned long)st->st_nlink, (long long)st->st_mtim.tv_sec,
	    st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
	    st->st_ctim.tv_nsec, (unsigned long long)h, target);
	sbuf_add(&snap_buf, line);
	return 0;
}

/* Everything under ROOT/rel except the store's directory (caller frees). */
static char *
snapshot(const char *rel)
{
	char	top[PATH_MAX];

	memset(&snap_buf, 0, sizeof(snap_buf));
	sbuf_add(&snap_buf, "");
	if (rel[0] == '\0')
		xsnprintf(top, sizeof(top), "%s", T.root);
	else
		tp(top, rel);
	snap_skip = strlen(T.root);
	cr_assert_eq(nftw(top, snap_one, 32, FTW_PHYS), 0, "nftw %s: %s",
	    top, strerror(errno));
	return snap_buf.p;
}

/* The first line that differs, for the message. */
static void
assert_snap_eq(const char *what, const char *a, const char *b)
{
	const char	*p = a, *q = b, *la = a, *lb = b;

	if (strcmp(a, b) == 0)
		return;
	while (*p != '\0' && *p == *q) {
		if (*p == '\n') {
			la = p + 1;
			lb = q + 1;
		}
		p++;
		q++;
	}
	cr_assert_fail("%s changed something; first difference:\nbefore: "
	    "%.*s\nafter:  %.*s", what, (int)strcspn(la, "\n"), la,
	    (int)strcspn(lb, "\n"), lb);
}

static int
exists(const char *path)
{
	struct stat	st;

	return lstat(path, &st) == 0;
}

static void
copy_file(const char *from, const char *to)
{
	char	*d;
	size_t	 n;

	d = slurp(from, &n);
	spew(to, d, n, 0600);
	free(d);
}

/*
 * The store as it is: "(no store)", or the sqlite3 .dump of a copy of the
 * database and its -wal (so that reading cannot disturb the original),
 * and in *raw the main file's hash with the -wal's size.
 */
static char *
store_state(char *raw, size_t rawlen)
{
	struct run_result	 r;
	char			 db[PATH_MAX], wal[PATH_MAX], cdir[PATH_MAX],
				 cdb[PATH_MAX], cwal[PATH_MAX], *s;
	struct stat		 st;
	const char		*argv[] = { "sqlite3", cdb, ".dump", NULL };
	long long		 wsize = -1;

	tp(db, DB_REL);
	xsnprintf(wal, sizeof(wal), "%s-wal", db);
	if (!exists(db)) {
		xsnprintf(raw, rawlen, "(no store)%s", exists(wal) ?
		    " but a -wal" : "");
		s = strdup("(no store)");
		cr_assert_not_null(s);
		return s;
	}
	xsnprintf(cdir, sizeof(cdir), "%s/dbcopy", T.base);
	xsnprintf(cdb, sizeof(cdb), "%s/k.db", cdir);
	xsnprintf(cwal, sizeof(cwal), "%s/k.db-wal", cdir);
	(void)unlink(cdb);
	(void)unlink(cwal);
	copy_file(db, cdb);
	if (lstat(wal, &st) == 0) {
		wsize = (long long)st.st_size;
		copy_file(wal, cwal);
	}
	xsnprintf(raw, rawlen, "db=%016llx wal=%lld",
	    (unsigned long long)file_hash(db), wsize);
	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 0, "sqlite3 .dump: %s", r.err);
	s = r.out;
	free(r.err);
	(void)unlink(cdb);
	(void)unlink(cwal);
	xsnprintf(cwal, sizeof(cwal), "%s/k.db-shm", cdir);
	(void)unlink(cwal);
	return s;
}

/* Change the store behind keyadm's back (aging grants). */
static void
store_exec(const char *sql)
{
	struct run_result	r;
	char			db[PATH_MAX];
	const char		*argv[] = { "sqlite3", db, sql, NULL };

	tp(db, DB_REL);
	cr_assert(exists(db), "no store to change");
	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 0, "sqlite3 %s: %s", sql, r.err);
	run_free(&r);
}

/* ------------------------------------------------------ running audit */

/*
 * keyadm --root T [mode] audit [USER...]: exit status want, and nothing
 * in the tree or the store changed (run_keyadm kills a hang; no timing
 * threshold: the machines are shared and noisy).  mode is
 * "--json", "-q" or "" (text).  The result stays in r.
 */
static void __attribute__((sentinel))
aud(struct run_result *r, int want, const char *mode, ...)
{
	const char	*args[64], *a;
	char		*tb, *ta, *sb, *sa, rawb[128], rawa[128];
	va_list		 ap;
	long long	 wb, wa;
	unsigned long long hb, ha;
	int		 n = 0;

	if (mode[0] != '\0')
		args[n++] = mode;
	args[n++] = "audit";
	va_start(ap, mode);
	while ((a = va_arg(ap, const char *)) != NULL) {
		cr_assert_lt(n, 62);
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;

	tb = snapshot("");
	sb = store_state(rawb, sizeof(rawb));
	run_argv(r, args);
	ta = snapshot("");
	sa = store_state(rawa, sizeof(rawa));

	cr_assert_eq(r->status, want, "audit exited %d, expected %d\n"
	    "stdout:\n%s\nstderr:\n%s", r->status, want, r->out, r->err);
	assert_snap_eq("audit (the tree)", tb, ta);
	cr_assert_str_eq(sb, sa, "audit changed the store:\nbefore:\n%s\n"
	    "after:\n%s", sb, sa);
	/* without a pending -wal, the main file must not change either */
	if (sscanf(rawb, "db=%llx wal=%lld", &hb, &wb) == 2 && wb <= 0) {
		cr_assert_eq(sscanf(rawa, "db=%llx wal=%lld", &ha, &wa), 2,
		    "the store is gone after audit: %s", rawa);
		cr_assert_eq(ha, hb, "audit rewrote the database file");
		cr_assert_leq(wa, 0, "audit left a -wal of %lld bytes", wa);
	}
	free(tb);
	free(ta);
	free(sb);
	free(sa);
}

/*
 * The --json document of an audit: the documented shape, counts that
 * agree with the findings, errors (a list of {error, message}) exactly
 * when the exit status is neither 0 nor 1, clean == no findings and no
 * errors, machine-wide findings first and then the accounts in walk
 * order, and findings that match
 * expect exactly: a python list of F(kind, user, path=, fp=, line=,
 * msg=(substrings), opt=) where ANY matches anything, a tuple any of its
 * members, fp and line default to null, and opt=True allows but does not
 * require one.
 * accounts < 0: accounts_checked not checked.
 */
static void
expect_findings(const struct run_result *r, int accounts, const char *expect)
{
	char	*code;
	size_t	 n;
	static const char fmt[] =
	    "ANY = object()\n"
	    "def F(kind, user, path=ANY, fp=None, line=None, msg=(), "
	    "opt=False):\n"
	    "    return dict(kind=kind, user=user, path=path, fingerprint=fp, "
	    "line=line, msg=msg, opt=opt)\n"
	    "KINDS = {'unsafe-path', 'unmanaged-key', 'unmanaged-ca', "
	    "'missing-grant', 'revoked-key', 'expired-key', 'options-changed', "
	    "'policy-fail', 'bad-line', 'shared-key', 'unused-grant', "
	    "'orphan-grant', 'revoked-file-unreadable', 'revoked-file-missing', "
	    "'revocation-not-listed', 'revocation-unrecorded'}\n"
	    "K = %d\n"
	    "STATUS = %d\n"
	    "EXP = %s\n"
	    "assert type(d) is dict, d\n"
	    "assert set(d) >= {'accounts_checked', 'clean', 'counts', "
	    "'findings'}, sorted(d)\n"
	    "assert type(d['accounts_checked']) is int\n"
	    "assert K < 0 or d['accounts_checked'] == K, "
	    "('accounts_checked', d['accounts_checked'], K)\n"
	    "fs = d['findings']\n"
	    "assert type(fs) is list\n"
	    "for f in fs:\n"
	    "    assert type(f) is dict\n"
	    "    assert set(f) >= {'kind', 'user', 'path', 'fingerprint', "
	    "'line', 'message'}, f\n"
	    "    assert f['kind'] in KINDS, f\n"
	    "    assert f['user'] is None or type(f['user']) is str, f\n"
	    "    assert f['path'] is None or f['path'].startswith(ROOT + '/'), "
	    "f\n"
	    "    assert f['fingerprint'] is None or "
	    "f['fingerprint'].startswith('SHA256:'), f\n"
	    "    assert f['line'] is None or (type(f['line']) is int and "
	    "f['line'] >= 1), f\n"
	    "    assert type(f['message']) is str and f['message'], f\n"
	    "cnt = {}\n"
	    "for f in fs: cnt[f['kind']] = cnt.get(f['kind'], 0) + 1\n"
	    "assert d['counts'] == cnt, ('counts', d['counts'], cnt)\n"
	    "es = d.get('errors')\n"
	    "assert type(es) is list, ('errors', es)\n"
	    "for e in es:\n"
	    "    assert type(e) is dict and set(e) >= {'error', 'message'}, e\n"
	    "    assert type(e['error']) is str and e['error'], e\n"
	    "    assert type(e['message']) is str and e['message'], e\n"
	    "assert (STATUS in (0, 1)) == (len(es) == 0), "
	    "('exit', STATUS, 'errors', es)\n"
	    "assert d['clean'] is (len(fs) == 0 and len(es) == 0), "
	    "('clean', d['clean'], 'errors', es)\n"
	    "WALK = [None, 'root', 'alice', 'bob']\n"
	    "us = [f['user'] for f in fs]\n"
	    "nn = [i for i, u in enumerate(us) if u is None]\n"
	    "assert nn == list(range(len(nn))), "
	    "('machine-wide findings not first', us)\n"
	    "ix = [WALK.index(u) for u in us if u in WALK]\n"
	    "assert ix == sorted(ix), ('not in walk order', us)\n"
	    "def match(e, f):\n"
	    "    for k in ('kind', 'user', 'path', 'fingerprint', 'line'):\n"
	    "        if e[k] is ANY: continue\n"
	    "        if type(e[k]) is tuple:\n"
	    "            if f[k] not in e[k]: return False\n"
	    "        elif f[k] != e[k]: return False\n"
	    "    return all(m in f['message'] for m in e['msg'])\n"
	    "rest = list(fs)\n"
	    "for e in EXP:\n"
	    "    m = [f for f in rest if match(e, f)]\n"
	    "    if not m:\n"
	    "        assert e['opt'], ('missing finding', "
	    "{k: v for k, v in e.items() if v is not ANY}, 'in', fs)\n"
	    "        continue\n"
	    "    rest.remove(m[0])\n"
	    "assert not rest, ('unexpected findings', rest)\n";

	n = sizeof(fmt) + strlen(expect) + 32;
	code = malloc(n);
	cr_assert_not_null(code);
	xsnprintf(code, n, fmt, accounts, r->status, expect);
	pyjson(r->out, r->outlen, code);
	free(code);
}

/* audit --json of the whole tree: exit want, exactly expect. */
static void
audit_expect(int want, int accounts, const char *expect)
{
	struct run_result	r;

	aud(&r, want, "--json", NULL);
	expect_findings(&r, accounts, expect);
	run_free(&r);
}

/* Neither stdout nor stderr mentions s (a fingerprint that must stay
 * unread), in --json nor in text. */
static void
audit_never_mentions(const char *s, int want)
{
	struct run_result	r;

	aud(&r, want, "--json", NULL);
	cr_assert(strstr(r.out, s) == NULL && strstr(r.err, s) == NULL,
	    "audit --json mentions %s:\n%s\n%s", s, r.out, r.err);
	run_free(&r);
	aud(&r, want, "", NULL);
	cr_assert(strstr(r.out, s) == NULL && strstr(r.err, s) == NULL,
	    "audit mentions %s:\n%s\n%s", s, r.out, r.err);
	run_free(&r);
}

/* Every line of stderr has the "keyadm: " form; at least one when any. */
static void
assert_stderr_form(const struct run_result *r, int need)
{
	const char	*p;

	if (need)
		cr_assert_gt(r->errlen, 0, "nothing on stderr");
	for (p = r->err; *p != '\0'; p = strchr(p, '\n') + 1) {
		cr_assert(strncmp(p, "keyadm: ", 8) == 0,
		    "stderr line not in \"keyadm: \" form:\n%s", r->err);
		cr_assert_not_null(strchr(p, '\n'), "stderr without LF");
	}
}

/* ========================================================== audit */

/* A fresh tree: no store, no key file, no revoked-keys file: clean. */
Test(audit, fresh_tree_without_store_is_clean_and_creates_nothing)
{
	struct run_result	r;
	char			p[PATH_MAX];

	audit_expect(0, 3, "[]");
	assert_absent(tp(p, STORE_DIR_REL));
	assert_absent(tp(p, REVFILE_REL));

	aud(&r, 0, "", NULL);
	cr_assert_str_eq(r.out, "3 accounts checked, no findings\n",
	    "text output of a clean audit:\n%s", r.out);
	cr_assert_str_eq(r.err, "");
	run_free(&r);
	aud(&r, 0, "-q", NULL);
	cr_assert_eq(r.outlen, 0, "-q printed:\n%s", r.out);
	run_free(&r);
	assert_absent(tp(p, STORE_DIR_REL));
}

/* After add (never any revoke, so no revoked-keys file): clean. */
Test(audit, clean_after_add)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				p[PATH_MAX];

	key("ed25519", 0, "k1", k1, NULL);
	key("ecdsa", 0, "k2", k2, NULL);
	key("ed25519", 0, "k3", k3, NULL);
	KA_OK("add", "alice", k1, k2);
	KA_OK("add", "bob", k3, "--from", "10.0.0.0/8", "--restrict");
	assert_absent(tp(p, REVFILE_REL));

	audit_expect(0, 3, "[]");
	aud(&r, 0, "", NULL);
	cr_assert_str_eq(r.out, "3 accounts checked, no findings\n", "%s",
	    r.out);
	run_free(&r);
	/* named accounts only */
	aud(&r, 0, "--json", "bob", NULL);
	expect_findings(&r, 1, "[]");
	run_free(&r);
}

Test(audit, hand_added_key_is_unmanaged)
{
	char	k1[PATH_MAX], k2[PATH_MAX], fp2[128], exp[1024];

	key("ed25519", 0, "k1", k1, NULL);
	key("ed25519", 0, "k2", k2, fp2);
	KA_OK("add", "alice", k1);
	append_pub("alice", k2);

	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=2)]", fp2);
	audit_expect(1, 3, exp);
}

Test(audit, deleted_line_is_a_missing_grant)
{
	char	k1[PATH_MAX], k2[PATH_MAX], fp1[128], fp2[128], ak[PATH_MAX],
		exp[1024], *b1;

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, fp2);
	KA_OK("add", "alice", k1, k2);
	b1 = pub_typeb64(k1);
	drop_lines_with(akfile(ak, "alice"), b1);
	free(b1);

	xsnprintf(exp, sizeof(exp), "[F('missing-grant', 'alice', "
	    "path=AK('alice'), fp='%s')]", fp1);
	audit_expect(1, 3, exp);

	/* the whole file gone: both grants are missing */
	cr_assert_eq(unlink(ak), 0);
	xsnprintf(exp, sizeof(exp), "[F('missing-grant', 'alice', "
	    "path=AK('alice'), fp='%s'), F('missing-grant', 'alice', "
	    "path=AK('alice'), fp='%s')]", fp1, fp2);
	audit_expect(1, 3, exp);
}

/* add, revoke (everywhere), then the line put back by hand. */
Test(audit, revoked_key_put_back)
{
	char	k1[PATH_MAX], k2[PATH_MAX], fp1[128], exp[1024];

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, NULL);
	KA_OK("add", "alice", k2, k1);
	KA_OK("revoke", fp1, "--reason", "stolen");
	audit_expect(0, 3, "[]");
	append_pub("alice", k1);

	xsnprintf(exp, sizeof(exp), "[F('revoked-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=2)]", fp1);
	audit_expect(1, 3, exp);
}

/*
 * revoke --user alice of alice's only key, put back.  (revoke lists a
 * key no other account holds in the revoked-keys file too; the next test
 * has the case where it is not listed.)
 */
Test(audit, key_revoked_for_one_account_put_back)
{
	char	k1[PATH_MAX], fp1[128], exp[1024];

	key("ed25519", 0, "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	KA_OK("revoke", fp1, "--user", "alice", "--reason", "left the team");
	audit_expect(0, 3, "[]");
	append_pub("alice", k1);

	xsnprintf(exp, sizeof(exp), "[F('revoked-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=1)]", fp1);
	audit_expect(1, 3, exp);
}

/*
 * The same while bob keeps the key: alice's copy is revoked-key (never
 * unmanaged-key); shared-key reports for the pair are allowed, not
 * required (the key does let in two accounts).
 */
Test(audit, key_revoked_for_one_account_while_another_keeps_it)
{
	char	k1[PATH_MAX], fp1[128], exp[1024];

	key("ed25519", 0, "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	KA_OK("add", "bob", k1);
	KA_OK("revoke", fp1, "--user", "alice", "--reason", "left the team");
	audit_expect(0, 3, "[]");
	append_pub("alice", k1);

	xsnprintf(exp, sizeof(exp), "[F('revoked-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=1), "
	    "F('shared-key', 'alice', fp='%s', line=ANY, opt=True), "
	    "F('shared-key', 'bob', fp='%s', line=ANY, opt=True)]",
	    fp1, fp1, fp1);
	audit_expect(1, 3, exp);
}

/* --expires 1s, time passes, expire never runs: the line is still there. */
Test(audit, expired_grant_still_in_the_file)
{
	char	k1[PATH_MAX], k2[PATH_MAX], fp1[128], exp[1024];

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, NULL);
	KA_OK("add", "alice", k2);
	KA_OK("add", "alice", k1, "--expires", "1s");
	(void)sleep(2);

	xsnprintf(exp, sizeof(exp), "[F('expired-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=2)]", fp1);
	audit_expect(1, 3, exp);
	/* after expire the file and the store agree again */
	KA_OK("expire");
	audit_expect(0, 3, "[]");
}

Test(audit, options_edited_by_hand)
{
	char	k1[PATH_MAX], k2[PATH_MAX], fp1[128], ak[PATH_MAX],
		exp[1024], text[4096], *l1, *l2;

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, NULL);
	KA_OK("add", "alice", k2);
	KA_OK("add", "alice", k1, "--from", "10.0.0.0/8");
	l1 = publine(k1);
	l2 = publine(k2);
	/* the from= option dropped */
	xsnprintf(text, sizeof(text), "%s%s", l2, l1);
	rewrite(akfile(ak, "alice"), text);
	xsnprintf(exp, sizeof(exp), "[F('options-changed', 'alice', "
	    "path=AK('alice'), fp='%s', line=2)]", fp1);
	audit_expect(1, 3, exp);

	/* widened to another network */
	xsnprintf(text, sizeof(text), "%sfrom=\"0.0.0.0/0\" %s", l2, l1);
	rewrite(ak, text);
	audit_expect(1, 3, exp);

	/* and put back as keyadm wrote it: clean */
	xsnprintf(text, sizeof(text), "%sfrom=\"10.0.0.0/8\" %s", l2, l1);
	rewrite(ak, text);
	audit_expect(0, 3, "[]");
	free(l1);
	free(l2);
}

Test(audit, fips_profile_fails_an_ed25519_grant)
{
	char	k1[PATH_MAX], fp1[128], exp[1024];

	key("ed25519", 0, "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	audit_expect(0, 3, "[]");
	set_conf("profile = fips\n");

	xsnprintf(exp, sizeof(exp), "[F('policy-fail', 'alice', "
	    "path=AK('alice'), fp='%s', line=1)]", fp1);
	audit_expect(1, 3, exp);
}

Test(audit, hand_added_rsa_1024_is_unmanaged_and_fails_policy)
{
	char	k1[PATH_MAX], kr[PATH_MAX], fpr[128], exp[1024];

	key("ed25519", 0, "k1", k1, NULL);
	key("rsa", 1024, "weak", kr, fpr);
	KA_OK("add", "bob", k1);
	append_pub("bob", kr);

	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'bob', "
	    "path=AK('bob'), fp='%s', line=2), F('policy-fail', 'bob', "
	    "path=AK('bob'), fp='%s', line=2)]", fpr, fpr);
	audit_expect(1, 3, exp);
}

/* Comments and blanks are nothing; garbage is bad-line; a CA is never
 * managed. */
Test(audit, bad_lines_comments_and_cert_authority)
{
	char	k1[PATH_MAX], ca[PATH_MAX], fpca[128], ak[PATH_MAX],
		exp[1024], text[4096], *l1, *lca;

	key("ed25519", 0, "k1", k1, NULL);
	key("ed25519", 0, "ca", ca, fpca);
	KA_OK("add", "alice", k1);
	l1 = publine(k1);
	lca = publine(ca);
	xsnprintf(text, sizeof(text),
	    "# alice's keys\n"			/* 1 */
	    "\n"				/* 2 */
	    "   \t \n"				/* 3 */
	    "%s"				/* 4 */
	    "    # indented comment\n"		/* 5 */
	    "this is not a key\n"		/* 6 */
	    "cert-authority %s",		/* 7 */
	    l1, lca);
	rewrite(akfile(ak, "alice"), text);

	xsnprintf(exp, sizeof(exp), "[F('bad-line', 'alice', "
	    "path=AK('alice'), line=6), F('unmanaged-ca', 'alice', "
	    "path=AK('alice'), fp='%s', line=7)]", fpca);
	audit_expect(1, 3, exp);
	free(l1);
	free(lca);
}

/*
 * File text quoted in findings is escaped: no terminal control bytes
 * reach stdout or stderr, in text or JSON.
 */
Test(audit, untrusted_file_text_is_escaped)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], text[4096], *b1;
	size_t			 i;
	const char		*modes[] = { "", "--json" };

	key("ed25519", 0, "k1", k1, NULL);
	b1 = pub_typeb64(k1);
	xsnprintf(text, sizeof(text),
	    "\033]0;owned\007 \033[2J not a key\n"
	    "%s evil\033[31m\rcomment\n", b1);
	free(b1);
	put_ak("alice", text);
	for (i = 0; i < 2; i++) {
		aud(&r, 1, modes[i], NULL);
		cr_assert(memchr(r.out, '\033', r.outlen) == NULL &&
		    memchr(r.out, '\007', r.outlen) == NULL &&
		    memchr(r.out, '\r', r.outlen) == NULL,
		    "control bytes on stdout (%s):\n%s", modes[i], r.out);
		cr_assert(memchr(r.err, '\033', r.errlen) == NULL &&
		    memchr(r.err, '\007', r.errlen) == NULL,
		    "control bytes on stderr:\n%s", r.err);
		if (i == 1)
			pyjson(r.out, r.outlen,
			    "k = sorted((f['kind'], f['line']) "
			    "for f in d['findings'])\n"
			    "assert k == [('bad-line', 1), ('unmanaged-key', 2)], "
			    "k\n");
		run_free(&r);
	}
}

/* ------------------------------------------------------ unsafe paths */

/*
 * alice's file holds a managed key, a hand-added one and garbage; after
 * the damage done by the caller the only finding for alice is
 * unsafe-path at path_rel, and nothing of the file is reported.
 */
static void
unsafe_setup(char *fp2)
{
	char	k1[PATH_MAX], k2[PATH_MAX], ak[PATH_MAX];

	key("ed25519", 0, "k1", k1, NULL);
	key("ed25519", 0, "k2", k2, fp2);
	KA_OK("add", "alice", k1);
	append_pub("alice", k2);
	append_text(akfile(ak, "alice"), "this is not a key\n");
}

/*
 * The finding's path is the offending component or the key file it
 * guards (the account's header names the key file); either way the
 * message starts with the offending component, "PATH: problem".
 */
static void
unsafe_expect(const char *path_rel, const char *fp2)
{
	char	exp[1024];

	xsnprintf(exp, sizeof(exp), "[F('unsafe-path', 'alice', "
	    "path=(ROOT + '/%s', AK('alice')), msg=(ROOT + '/%s: ',))]",
	    path_rel, path_rel);
	audit_expect(1, 3, exp);
	if (fp2 != NULL)
		audit_never_mentions(fp2, 1);
}

Test(audit, home_world_writable_is_unsafe)
{
	char	fp2[128], p[PATH_MAX];

	unsafe_setup(fp2);
	cr_assert_eq(chmod(tp(p, "home/alice"), 0777), 0);
	unsafe_expect("home/alice", fp2);
}

Test(audit, ssh_dir_world_writable_is_unsafe)
{
	char	fp2[128], p[PATH_MAX];

	unsafe_setup(fp2);
	cr_assert_eq(chmod(tp(p, "home/alice/.ssh"), 0777), 0);
	unsafe_expect("home/alice/.ssh", fp2);
}

/* A symlink to a root-only file with a real key line: never read. */
Test(audit, authorized_keys_symlink_to_a_root_only_file)
{
	char	ks[PATH_MAX], fps[128], ak[PATH_MAX], shadow[PATH_MAX], *ls;

	key("ed25519", 0, "secret", ks, fps);
	ls = publine(ks);
	spew(tp(shadow, "etc/shadow-like"), ls, strlen(ls), 0600);
	free(ls);
	cr_assert_eq(unlink(ks), 0);	/* only the target holds it now */
	mkdirs(tp(ak, "home/alice/.ssh"), 0700);
	cr_assert_eq(lchown(ak, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(symlink(shadow, akfile(ak, "alice")), 0);
	cr_assert_eq(lchown(ak, T.alice_uid, T.alice_gid), 0);

	unsafe_expect("home/alice/.ssh/authorized_keys", NULL);
	audit_never_mentions(fps, 1);
}

Test(audit, authorized_keys_fifo_is_unsafe_and_does_not_hang)
{
	char	ak[PATH_MAX], p[PATH_MAX];

	mkdirs(tp(p, "home/alice/.ssh"), 0700);
	cr_assert_eq(lchown(p, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(mkfifo(akfile(ak, "alice"), 0600), 0);
	cr_assert_eq(lchown(ak, T.alice_uid, T.alice_gid), 0);
	unsafe_expect("home/alice/.ssh/authorized_keys", NULL);
}

Test(audit, authorized_keys_with_a_second_hard_link_is_unsafe)
{
	char	fp2[128], ak[PATH_MAX], p[PATH_MAX];

	unsafe_setup(fp2);
	cr_assert_eq(link(akfile(ak, "alice"), tp(p, "home/alice/keys-copy")),
	    0, "link: %s", strerror(errno));
	unsafe_expect("home/alice/.ssh/authorized_keys", fp2);
}

Test(audit, authorized_keys_owned_by_another_account_is_unsafe)
{
	char	fp2[128], ak[PATH_MAX];

	if (geteuid() != 0)
		cr_skip_test("needs root: alice and bob share a uid otherwise");
	unsafe_setup(fp2);
	cr_assert_eq(lchown(akfile(ak, "alice"), T.bob_uid, T.bob_gid), 0);
	unsafe_expect("home/alice/.ssh/authorized_keys", fp2);
}

/* No home, or no .ssh (bob, root), and no grants: nothing to report. */
Test(audit, missing_home_or_ssh_dir_without_grants_is_clean)
{
	char	k1[PATH_MAX], p[PATH_MAX];

	key("ed25519", 0, "k1", k1, NULL);
	/* a store exists, with a grant for bob only */
	KA_OK("add", "bob", k1);
	cr_assert_eq(rmdir(tp(p, "home/alice")), 0);
	/* root has neither .ssh nor grants either */
	audit_expect(0, 3, "[]");
}

/*
 * A stock Debian: bin's home is /bin (root's link to usr/bin), mail's is
 * /var/mail (root:mail 2775).  Neither has keys: audit must be clean, or
 * cron mails every night.  Once a key is granted to an account behind a
 * group-writable home, the unsafe path is reported again.
 */
Test(audit, system_accounts_behind_roots_link_or_writable_dir_are_clean)
{
	char	p[PATH_MAX], k1[PATH_MAX], exp[1024];

	mkdirs(tp(p, "usr/bin"), 0755);
	cr_assert_eq(symlink("usr/bin", tp(p, "bin")), 0);
	mkdirs(tp(p, "var/mail"), 02775);
	cr_assert_eq(chmod(tp(p, "var/mail"), 02775), 0);
	append_text(tp(p, "etc/passwd"),
	    "bin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
	    "mail:x:8:8:mail:/var/mail:/usr/sbin/nologin\n");
	audit_expect(0, 5, "[]");
	/* through root's link, keys are found and audited as sshd would */
	key("ed25519", 0, "k1", k1, NULL);
	mkdirs(tp(p, "usr/bin/.ssh"), 0700);
	cr_assert_eq(chown(tp(p, "usr/bin/.ssh"), 2, 2), 0);
	KA_OK("add", "bin", k1);
	cr_assert(exists(tp(p, "usr/bin/.ssh/authorized_keys")));
	audit_expect(0, 5, "[]");
	/* a grant behind the group-writable home: that is worth a line */
	store_exec("INSERT INTO grants (key_id, user, added_at, added_by, "
	    "added_uid) SELECT id, 'mail', 0, 'root', 0 FROM keys LIMIT 1");
	xsnprintf(exp, sizeof(exp), "[F('unsafe-path', 'mail', path=ANY, "
	    "msg=(ROOT + '/var/mail: ',))]");
	audit_expect(1, 5, exp);
}

/* ------------------------------------------------- across accounts */

Test(audit, one_key_for_two_accounts_is_shared)
{
	char	k1[PATH_MAX], k2[PATH_MAX], fp1[128], exp[1024];

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, NULL);
	KA_OK("add", "alice", k2, k1);
	KA_OK("add", "bob", k1);

	xsnprintf(exp, sizeof(exp), "[F('shared-key', 'alice', fp='%s', "
	    "line=ANY, msg=('bob',)), F('shared-key', 'bob', fp='%s', "
	    "line=ANY, msg=('alice',))]", fp1, fp1);
	audit_expect(1, 3, exp);
}

Test(audit, unused_grant_after_unused_days)
{
	char	k1[PATH_MAX], fp1[128], exp[1024];

	key("ed25519", 0, "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	audit_expect(0, 3, "[]");
	store_exec("UPDATE grants SET added_at = added_at - 200*86400");

	xsnprintf(exp, sizeof(exp), "[F('unused-grant', 'alice', "
	    "fp='%s', line=ANY)]", fp1);
	audit_expect(1, 3, exp);

	set_conf("unused_days = 365\n");
	audit_expect(0, 3, "[]");

	/* back to the default 90 days, but used yesterday: not unused */
	set_conf("# default unused_days\n");
	audit_expect(1, 3, exp);
	store_exec("UPDATE grants SET last_used_at = "
	    "CAST(strftime('%s', 'now') AS INTEGER) - 86400, use_count = 1");
	audit_expect(0, 3, "[]");
}

Test(audit, grant_of_a_deleted_account_is_an_orphan)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				exp[1024], pw[PATH_MAX], text[1024];

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, NULL);
	KA_OK("add", "bob", k1);
	KA_OK("add", "alice", k2);
	xsnprintf(text, sizeof(text),
	    "root:x:0:0:root:/root:/bin/sh\n"
	    "alice:x:%u:%u:Alice:/home/alice:/bin/sh\n",
	    (unsigned)T.alice_uid, (unsigned)T.alice_gid);
	rewrite(tp(pw, "etc/passwd"), text);

	xsnprintf(exp, sizeof(exp), "[F('orphan-grant', 'bob', fp='%s')]",
	    fp1);
	audit_expect(1, 2, exp);

	/* named: bob does not exist but has grants, so it is not 67 */
	aud(&r, 1, "--json", "bob", NULL);
	expect_findings(&r, -1, exp);
	run_free(&r);
	/* alice alone: bob's orphan is not hers */
	aud(&r, 0, "--json", "alice", NULL);
	expect_findings(&r, 1, "[]");
	run_free(&r);
}

/* ----------------------------------------------- the revoked-keys file */

/* add k1 to alice and revoke it: the store has a revocation. */
static void
revoked_setup(char *k1, char *fp1)
{
	char	k0[PATH_MAX];

	key("ed25519", 0, "k0", k0, NULL);
	key("ed25519", 0, "k1", k1, fp1);
	KA_OK("add", "alice", k0, k1);
	KA_OK("revoke", fp1, "--reason", "stolen");
	audit_expect(0, 3, "[]");
}

Test(audit, revoked_keys_file_deleted)
{
	char	k1[PATH_MAX], fp1[128], rf[PATH_MAX], exp[1024];

	revoked_setup(k1, fp1);
	cr_assert_eq(unlink(tp(rf, REVFILE_REL)), 0);
	/* not-listed on top is redundant; tolerated */
	xsnprintf(exp, sizeof(exp), "[F('revoked-file-missing', None, "
	    "path=RF), F('revocation-not-listed', None, fp='%s', opt=True)]",
	    fp1);
	audit_expect(1, 3, exp);
}

Test(audit, revoked_keys_file_garbage)
{
	char	k1[PATH_MAX], fp1[128], rf[PATH_MAX], exp[1024];

	revoked_setup(k1, fp1);
	rewrite(tp(rf, REVFILE_REL), "this is not a key list\n");
	xsnprintf(exp, sizeof(exp), "[F('revoked-file-unreadable', None, "
	    "path=RF), F('revocation-not-listed', None, fp='%s', opt=True)]",
	    fp1);
	audit_expect(1, 3, exp);
}

Test(audit, revoked_key_removed_from_the_file_by_hand)
{
	char	k1[PATH_MAX], fp1[128], rf[PATH_MAX], exp[1024], *b1;

	revoked_setup(k1, fp1);
	b1 = pub_typeb64(k1);
	drop_lines_with(tp(rf, REVFILE_REL), b1);
	free(b1);
	xsnprintf(exp, sizeof(exp), "[F('revocation-not-listed', None, "
	    "fp='%s')]", fp1);
	audit_expect(1, 3, exp);
}

Test(audit, key_listed_in_the_file_by_hand)
{
	char	k1[PATH_MAX], k2[PATH_MAX], fp1[128], fp2[128], rf[PATH_MAX],
		exp[1024], *b2;

	key("ed25519", 0, "k2", k2, fp2);
	revoked_setup(k1, fp1);
	b2 = pub_typeb64(k2);
	append_text(tp(rf, REVFILE_REL), b2);
	append_text(rf, "\n");
	free(b2);
	xsnprintf(exp, sizeof(exp), "[F('revocation-unrecorded', None, "
	    "fp='%s', line=ANY)]", fp2);
	audit_expect(1, 3, exp);
}

/* ------------------------------------------------- named accounts */

Test(audit, named_accounts_only)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], fp2[128],
				exp[1024];

	key("ed25519", 0, "k1", k1, NULL);
	key("ed25519", 0, "k2", k2, fp2);
	KA_OK("add", "alice", k1);
	put_ak("bob", "");
	append_pub("bob", k2);

	aud(&r, 0, "--json", "alice", NULL);
	expect_findings(&r, 1, "[]");
	cr_assert(strstr(r.out, fp2) == NULL, "%s", r.out);
	run_free(&r);

	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'bob', "
	    "path=AK('bob'), fp='%s', line=1)]", fp2);
	aud(&r, 1, "--json", "bob", NULL);
	expect_findings(&r, 1, exp);
	run_free(&r);
	aud(&r, 1, "--json", "alice", "bob", NULL);
	expect_findings(&r, 2, exp);
	run_free(&r);
}

Test(audit, unknown_named_account_is_67)
{
	struct run_result	r;

	aud(&r, 67, "--json", "nosuchuser", NULL);
	cr_assert(strncmp(r.err, "keyadm: nosuchuser: ", 20) == 0,
	    "stderr:\n%s", r.err);
	assert_stderr_form(&r, 1);
	run_free(&r);
	aud(&r, 67, "", "nosuchuser", NULL);
	cr_assert(strncmp(r.err, "keyadm: nosuchuser: ", 20) == 0,
	    "stderr:\n%s", r.err);
	run_free(&r);
	/* an error takes precedence over findings */
	put_ak("alice", "this is not a key\n");
	aud(&r, 67, "--json", "alice", "nosuchuser", NULL);
	cr_assert_not_null(strstr(r.err, "keyadm: nosuchuser: "), "%s", r.err);
	run_free(&r);
}

Test(audit, bad_config_is_78)
{
	struct run_result	r;
	char			conf[PATH_MAX];

	set_conf("unused_days = 0\n");
	aud(&r, 78, "--json", NULL);
	tp(conf, "etc/keyadm.conf");
	cr_assert_not_null(strstr(r.err, conf), "stderr:\n%s", r.err);
	run_free(&r);
}

/* ------------------------------------------------ text mode and -q */

Test(audit, text_report_headers_lines_and_summary)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				 k4[PATH_MAX], fp2[128], fp3[128], fp4[128],
				 ak[PATH_MAX], rf[PATH_MAX], want[PATH_MAX * 2],
				 code[2048], *b3;
	const char		*p, *last;

	key("ed25519", 0, "k1", k1, NULL);
	key("ed25519", 0, "k2", k2, fp2);
	key("ed25519", 0, "k3", k3, fp3);
	key("ed25519", 0, "k4", k4, fp4);
	KA_OK("add", "alice", k1);
	KA_OK("add", "bob", k4);
	KA_OK("revoke", fp4, "--reason", "gone");
	/* machine-wide: a key listed in the revoked-keys file by hand */
	b3 = pub_typeb64(k3);
	append_text(tp(rf, REVFILE_REL), b3);
	append_text(rf, "\n");
	free(b3);
	append_pub("alice", k2);				/* line 2 */
	/* line 3 */
	append_text(akfile(ak, "alice"), "this is not a key\n");

	aud(&r, 1, "", NULL);
	assert_stderr_form(&r, 0);
	/* machine-wide first, under "all accounts:" */
	cr_assert(strncmp(r.out, "all accounts:\n", 14) == 0,
	    "text report does not start with the machine-wide section:\n%s",
	    r.out);
	xsnprintf(want, sizeof(want), "\n  revocation-unrecorded  %s  ", fp3);
	cr_assert_not_null(strstr(r.out, want), "no line \"%s\":\n%s",
	    want + 1, r.out);
	xsnprintf(want, sizeof(want), "\nalice: %s\n", ak);
	p = strstr(r.out, want);
	cr_assert_not_null(p, "no header \"alice: PATH\":\n%s", r.out);
	cr_assert_gt(p, strstr(r.out, "revocation-unrecorded"),
	    "alice's section before the machine-wide one:\n%s", r.out);
	xsnprintf(want, sizeof(want), "\n  unmanaged-key  %s  line 2: ", fp2);
	cr_assert_not_null(strstr(p, want), "no line \"%s\":\n%s", want + 1,
	    r.out);
	cr_assert_not_null(strstr(p, "\n  bad-line  line 3: "), "%s", r.out);
	cr_assert_null(strstr(r.out, "\nbob:"), "bob has no findings:\n%s",
	    r.out);
	cr_assert_null(strstr(r.out, "\nroot:"), "%s", r.out);
	/* the last line: the summary */
	cr_assert(r.outlen > 0 && r.out[r.outlen - 1] == '\n', "%s", r.out);
	r.out[r.outlen - 1] = '\0';
	last = strrchr(r.out, '\n');
	last = last != NULL ? last + 1 : r.out;
	cr_assert(strncmp(last, "3 findings in 3 accounts checked: ", 34) == 0,
	    "summary line: %s", last);
	cr_assert_not_null(strstr(last, "unmanaged-key"), "%s", last);
	cr_assert_not_null(strstr(last, "bad-line"), "%s", last);
	cr_assert_not_null(strstr(last, "revocation-unrecorded"), "%s", last);
	run_free(&r);

	aud(&r, 1, "-q", NULL);
	cr_assert_eq(r.outlen, 0, "-q printed:\n%s", r.out);
	run_free(&r);

	/* the same findings in JSON, in the same order */
	aud(&r, 1, "--json", NULL);
	cr_assert(json_valid(r.out, r.outlen), "%s", r.out);
	xsnprintf(code, sizeof(code),
	    "k = [(f['kind'], f['user'], f['fingerprint'], f['line']) "
	    "for f in d['findings']]\n"
	    "assert k[0][:3] == ('revocation-unrecorded', None, '%s'), k\n"
	    "assert k[1:] == [('unmanaged-key', 'alice', '%s', 2), "
	    "('bad-line', 'alice', None, 3)], k\n"
	    "assert d['counts'] == {'revocation-unrecorded': 1, "
	    "'unmanaged-key': 1, 'bad-line': 1}, d['counts']\n"
	    "assert d['clean'] is False and d['accounts_checked'] == 3\n"
	    "assert d['findings'][0]['path'] == RF\n"
	    "assert d['findings'][1]['path'] == AK('alice')\n", fp3, fp2);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
}

/* ------------------------------------------------------ busy key file */

/*
 * A user can hold the lock of their own .ssh for ever: past
 * busy_timeout_ms audit warns and reads the file without the lock (it is
 * only ever replaced whole), so what the user put there is still
 * reported, and the exit status is the findings' (0 or 1), not 75.
 */
Test(audit, locked_key_file_is_read_without_the_lock_with_a_warning)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				fp2[128], fp3[128], ssh[PATH_MAX],
				ak[PATH_MAX], exp[1024], warn[PATH_MAX + 128],
				*b3;
	int			fd;
	long long		t0;

	key("ed25519", 0, "k1", k1, NULL);
	key("ed25519", 0, "k2", k2, fp2);
	key("ed25519", 0, "k3", k3, fp3);
	KA_OK("add", "alice", k1);
	append_pub("alice", k3);		/* by hand: line 2 */
	put_ak("bob", "");
	append_pub("bob", k2);
	set_conf("busy_timeout_ms = 300\n");
	xsnprintf(warn, sizeof(warn), "keyadm: %s: locked for longer than "
	    "busy_timeout_ms; read without the lock\n", akfile(ak, "alice"));

	fd = open(tp(ssh, "home/alice/.ssh"), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	cr_assert_neq(fd, -1);
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	t0 = now_ms();
	aud(&r, 1, "--json", NULL);
	/* a hang, not a speed test: busy_timeout_ms must have been used */
	cr_assert_lt(now_ms() - t0, 60000, "a 300 ms lock wait took long");
	assert_stderr_form(&r, 1);
	cr_assert_str_eq(r.err, warn, "stderr:\n%s", r.err);
	/* alice's file was read all the same, and bob was audited */
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=2), F('unmanaged-key', 'bob', "
	    "path=AK('bob'), fp='%s', line=1)]", fp3, fp2);
	expect_findings(&r, 3, exp);
	pyjson(r.out, r.outlen, "assert d['errors'] == [], d\n");
	run_free(&r);

	/* text: the warning is no error, the summary says nothing of one */
	aud(&r, 1, "", NULL);
	cr_assert_str_eq(r.err, warn, "stderr:\n%s", r.err);
	cr_assert_null(strstr(r.out, "error"), "%s", r.out);
	xsnprintf(exp, sizeof(exp), "\n  unmanaged-key  %s  line 2: ", fp3);
	cr_assert_not_null(strstr(r.out, exp), "%s", r.out);
	run_free(&r);

	/* still locked, nothing to report: 0 and clean, with the warning */
	b3 = pub_typeb64(k3);
	drop_lines_with(ak, b3);
	free(b3);
	aud(&r, 0, "--json", "alice", NULL);
	cr_assert_str_eq(r.err, warn, "stderr:\n%s", r.err);
	expect_findings(&r, 1, "[]");
	run_free(&r);
	aud(&r, 0, "", "alice", NULL);
	cr_assert_str_eq(r.out, "1 account checked, no findings\n", "%s",
	    r.out);
	cr_assert_str_eq(r.err, warn, "stderr:\n%s", r.err);
	run_free(&r);
	(void)close(fd);

	/* unlocked: no warning */
	aud(&r, 1, "--json", NULL);
	cr_assert_str_eq(r.err, "", "stderr:\n%s", r.err);
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'bob', "
	    "path=AK('bob'), fp='%s', line=1)]", fp2);
	expect_findings(&r, 3, exp);
	run_free(&r);
}

/* ------------------------------------------------------------ errors */

/* The last line of out (without its LF), in place. */
static const char *
last_line(struct run_result *r)
{
	const char	*l;

	cr_assert(r->outlen > 0 && r->out[r->outlen - 1] == '\n',
	    "output does not end in a LF:\n%s", r->out);
	r->out[--r->outlen] = '\0';
	l = strrchr(r->out, '\n');
	return l != NULL ? l + 1 : r->out;
}

/*
 * What could not be read may grant access: an error is listed in
 * "errors", makes "clean" false even without a finding, and the text
 * report ends by counting the errors.
 */
Test(audit, errors_are_listed_and_make_the_audit_unclean)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], fp2[128],
				 exp[1024];
	const char		*l;

	key("ed25519", 0, "k1", k1, NULL);
	key("ed25519", 0, "k2", k2, fp2);
	KA_OK("add", "alice", k1);
	aud(&r, 0, "--json", "alice", NULL);
	expect_findings(&r, 1, "[]");
	pyjson(r.out, r.outlen, "assert d['errors'] == [] and "
	    "d['clean'] is True, d\n");
	run_free(&r);

	/* alice is clean, nosuchuser is an error: not clean */
	aud(&r, 67, "--json", "alice", "nosuchuser", NULL);
	expect_findings(&r, 1, "[]");
	pyjson(r.out, r.outlen,
	    "assert d['clean'] is False, d\n"
	    "assert d['findings'] == [] and d['counts'] == {}, d\n"
	    "es = d['errors']\n"
	    "assert len(es) == 1, es\n"
	    "assert 'nosuchuser' in es[0]['message'], es\n");
	cr_assert_str_eq(r.err, "keyadm: nosuchuser: no such account\n",
	    "stderr:\n%s", r.err);
	run_free(&r);

	/* text: the summary, then the count of errors */
	aud(&r, 67, "", "alice", "nosuchuser", NULL);
	cr_assert_str_eq(r.out, "1 account checked, no findings\n"
	    "1 error (on standard error): what could not be read may grant "
	    "access\n", "text output:\n%s", r.out);
	run_free(&r);
	aud(&r, 67, "", "nosuchuser", "alice", "nobody-else", NULL);
	l = last_line(&r);
	cr_assert_str_eq(l, "2 errors (on standard error): what could not "
	    "be read may grant access", "text output:\n%s", r.out);
	run_free(&r);

	/* findings and errors together */
	append_pub("alice", k2);
	aud(&r, 67, "--json", "nosuchuser", "alice", "nobody-else", NULL);
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=2)]", fp2);
	expect_findings(&r, 1, exp);
	pyjson(r.out, r.outlen,
	    "es = d['errors']\n"
	    "assert len(es) == 2, es\n"
	    "assert 'nosuchuser' in es[0]['message'], es\n"
	    "assert 'nobody-else' in es[1]['message'], es\n"
	    "assert es[0]['error'] == es[1]['error'], es\n");
	run_free(&r);
	aud(&r, 67, "", "alice", "nosuchuser", NULL);
	l = last_line(&r);
	cr_assert_str_eq(l, "1 error (on standard error): what could not be "
	    "read may grant access", "text output:\n%s", r.out);
	cr_assert_not_null(strstr(r.out, "1 finding in 1 account checked: "),
	    "%s", r.out);
	run_free(&r);
	/* without an error, no such line */
	aud(&r, 1, "", "alice", NULL);
	cr_assert_null(strstr(r.out, "error"), "%s", r.out);
	run_free(&r);
}

/* ------------------------------------------------ too large to read */

/*
 * More lines than keyadm reads (AUTHKEYS_LINES_MAX, in few bytes): keys
 * in it go unseen, so it is an unsafe-path finding, not an error exit.
 * At the cap exactly, it is read.
 */
#define LINES_MAX	2000000

Test(audit, key_file_over_the_line_cap_is_unsafe_not_an_error)
{
	char	k1[PATH_MAX], fp1[128], ak[PATH_MAX], exp[1024], *l1, *text;
	size_t	n;

	key("ed25519", 0, "k1", k1, fp1);
	l1 = publine(k1);
	n = strlen(l1);
	/* one key line and LINES_MAX - 1 empty ones: LINES_MAX lines */
	text = malloc(n + LINES_MAX + 1);
	cr_assert_not_null(text);
	memcpy(text, l1, n);
	memset(text + n, '\n', LINES_MAX - 1);
	text[n + LINES_MAX - 1] = '\0';
	put_ak("alice", text);
	free(text);
	free(l1);
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=1)]", fp1);
	audit_expect(1, 3, exp);

	/* two more empty lines: over the cap */
	append_text(akfile(ak, "alice"), "\n\n");
	xsnprintf(exp, sizeof(exp), "[F('unsafe-path', 'alice', "
	    "path=AK('alice'), msg=(AK('alice') + ': ', 'too large'))]");
	audit_expect(1, 3, exp);
	audit_never_mentions(fp1, 1);
}

/* --------------------------------------------- other files sshd reads */

/*
 * sshd's default AuthorizedKeysFile also names .ssh/authorized_keys2:
 * audit reads it (audit_key_files) and never takes a key there for
 * granted unless the store grants it, with the same options.
 */
Test(audit, authorized_keys2_is_audited)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				 k4[PATH_MAX], k5[PATH_MAX], fp1[128],
				 fp2[128], fp3[128], fp4[128], fp5[128],
				 ak[PATH_MAX], ak2[PATH_MAX], text[8192],
				 exp[2048], want[PATH_MAX * 2], *l1, *l2, *l3,
				 *l4;
	const char		*h1, *h2, *p5;

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, fp2);
	key("ed25519", 0, "k3", k3, fp3);
	key("ed25519", 0, "k4", k4, fp4);
	key("ed25519", 0, "k5", k5, fp5);
	KA_OK("add", "alice", k1, "--from", "10.0.0.0/8");
	KA_OK("add", "alice", k3, k4);
	KA_OK("revoke", fp3, "--reason", "stolen");		/* everywhere */
	KA_OK("add", "bob", k4);
	KA_OK("revoke", fp4, "--user", "alice", "--reason", "moved");
	audit_expect(0, 3, "[]");
	l1 = publine(k1);
	l2 = publine(k2);
	l3 = publine(k3);
	l4 = publine(k4);
	xsnprintf(text, sizeof(text),
	    "from=\"10.0.0.0/8\" %s"	/* 1: granted, same options */
	    "%s"			/* 2: by hand */
	    "%s"			/* 3: revoked everywhere */
	    "%s",			/* 4: revoked for alice */
	    l1, l2, l3, l4);
	put_user_file("alice", "authorized_keys2", text);
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK2('alice'), fp='%s', line=2, msg=('sshd also reads', "
	    "'never manages')), F('revoked-key', 'alice', path=AK2('alice'), "
	    "fp='%s', line=3, msg=('remove the line by hand',)), "
	    "F('revoked-key', 'alice', path=AK2('alice'), "
	    "fp='%s', line=4, msg=('remove the line by hand',)), "
	    "F('shared-key', 'alice', fp='%s', line=ANY, opt=True), "
	    "F('shared-key', 'bob', fp='%s', line=ANY, opt=True)]",
	    fp2, fp3, fp4, fp4, fp4);
	audit_expect(1, 3, exp);

	/* the granted key there without its from=: it grants more */
	xsnprintf(ak2, sizeof(ak2), "%s2", akfile(ak, "alice"));
	rewrite(ak2, l1);
	xsnprintf(exp, sizeof(exp), "[F('options-changed', 'alice', "
	    "path=AK2('alice'), fp='%s', line=1)]", fp1);
	audit_expect(1, 3, exp);

	/*
	 * text: one "USER: PATH" header per file of the account (k5 by hand
	 * in authorized_keys, line 2)
	 */
	xsnprintf(text, sizeof(text), "%s%s", l1, l2);
	rewrite(ak2, text);
	append_pub("alice", k5);
	aud(&r, 1, "", NULL);
	xsnprintf(want, sizeof(want), "alice: %s\n", ak);
	h1 = strstr(r.out, want);
	cr_assert(h1 == r.out || (h1 != NULL && h1[-1] == '\n'),
	    "no header \"%s\":\n%s", want, r.out);
	xsnprintf(want, sizeof(want), "\nalice: %s\n", ak2);
	h2 = strstr(r.out, want);
	cr_assert_not_null(h2, "no header \"%s\":\n%s", want + 1, r.out);
	cr_assert_gt(h2, h1, "%s", r.out);
	xsnprintf(want, sizeof(want), "\n  unmanaged-key  %s  line 2: ", fp5);
	p5 = strstr(h1, want);
	cr_assert(p5 != NULL && p5 < h2, "no \"%s\" under %s:\n%s", want + 1,
	    ak, r.out);
	xsnprintf(want, sizeof(want), "\n  unmanaged-key  %s  line 2: ", fp2);
	cr_assert_not_null(strstr(h2, want), "no \"%s\" under %s:\n%s",
	    want + 1, ak2, r.out);
	cr_assert_null(strstr(h2 + 1, "\nalice: "), "a third header:\n%s",
	    r.out);
	run_free(&r);
	free(l1);
	free(l2);
	free(l3);
	free(l4);
}

/* audit_key_files: "none", and patterns with %u and %h. */
Test(audit, audit_key_files_none_and_patterns)
{
	char	k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX], fp1[128], fp2[128],
		fp3[128], exp[2048], *l2, *l3;

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, fp2);
	key("ed25519", 0, "k3", k3, fp3);
	l2 = publine(k2);
	l3 = publine(k3);
	put_ak("alice", "");
	put_user_file("alice", "authorized_keys2", l2);
	put_user_file("alice", "extra_alice", l3);
	free(l2);
	free(l3);

	/* the default: .ssh/authorized_keys2 */
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK2('alice'), fp='%s', line=1)]", fp2);
	audit_expect(1, 3, exp);

	set_conf("audit_key_files = none\n");
	audit_expect(0, 3, "[]");

	set_conf("audit_key_files = .ssh/extra_%u \t %h/.ssh/authorized_keys2\n");
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=ROOT + '/home/alice/.ssh/extra_alice', fp='%s', line=1, "
	    "msg=('sshd also reads',)), F('unmanaged-key', 'alice', "
	    "path=AK2('alice'), fp='%s', line=1)]", fp3, fp2);
	audit_expect(1, 3, exp);

	set_conf("audit_key_files = .ssh/extra_%u\n");
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=ROOT + '/home/alice/.ssh/extra_alice', fp='%s', line=1)]",
	    fp3);
	audit_expect(1, 3, exp);

	/* the managed file named again is still audited once */
	set_conf("audit_key_files = .ssh/authorized_keys "
	    "%h/.ssh/authorized_keys\n");
	audit_expect(0, 3, "[]");
	append_pub("alice", k1);
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=1, msg=('keyadm adopt',))]",
	    fp1);
	audit_expect(1, 3, exp);
}

/*
 * An unsafe authorized_keys2 (a link to a file the account could not
 * write) is one unsafe-path finding and is never read; a missing one is
 * nothing.
 */
Test(audit, authorized_keys2_unsafe_or_missing)
{
	char	k1[PATH_MAX], ks[PATH_MAX], fps[128], ak2[PATH_MAX],
		shadow[PATH_MAX], ak[PATH_MAX], *ls;

	key("ed25519", 0, "k1", k1, NULL);
	KA_OK("add", "alice", k1);
	xsnprintf(ak2, sizeof(ak2), "%s2", akfile(ak, "alice"));
	assert_absent(ak2);
	audit_expect(0, 3, "[]");

	key("ed25519", 0, "secret", ks, fps);
	ls = publine(ks);
	spew(tp(shadow, "etc/shadow-like"), ls, strlen(ls), 0600);
	free(ls);
	cr_assert_eq(unlink(ks), 0);
	cr_assert_eq(symlink(shadow, ak2), 0);
	cr_assert_eq(lchown(ak2, T.alice_uid, T.alice_gid), 0);
	audit_expect(1, 3, "[F('unsafe-path', 'alice', path=AK2('alice'), "
	    "msg=(AK2('alice') + ': ',))]");
	audit_never_mentions(fps, 1);
}

/* ------------------------------------ lines keyadm refuses, sshd takes */

/*
 * Options keyadm's checker refuses but sshd 9.2 reads (a service name in
 * permitopen, IPv4 shorthand in from=) let the key in: such a key is
 * judged as a key, not as a line sshd skips.  So is a key whose base64
 * holds VT or FF (sshd's decoder passes over them).
 */
Test(audit, lines_sshd_accepts_are_judged_as_keys)
{
	char	k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX], k4[PATH_MAX],
		k5[PATH_MAX], fp2[128], fp3[128], fp4[128], fp5[128],
		ak[PATH_MAX], line[1024], exp[2048], *l2, *l3, *l4, *b5, *sp;

	key("ed25519", 0, "k1", k1, NULL);
	key("ed25519", 0, "k2", k2, fp2);
	key("ed25519", 0, "k3", k3, fp3);
	key("ed25519", 0, "k4", k4, fp4);
	key("ed25519", 0, "k5", k5, fp5);
	KA_OK("add", "alice", k1, k4);
	KA_OK("revoke", fp4, "--reason", "stolen");
	l2 = publine(k2);
	l3 = publine(k3);
	l4 = publine(k4);
	akfile(ak, "alice");
	xsnprintf(line, sizeof(line), "permitopen=\"localhost:ssh\" %s", l2);
	append_text(ak, line);					/* 2 */
	xsnprintf(line, sizeof(line), "from=\"127.1\" %s", l3);
	append_text(ak, line);					/* 3 */
	xsnprintf(line, sizeof(line), "from=\"127.1\" %s", l4);
	append_text(ak, line);					/* 4 */
	b5 = pub_typeb64(k5);
	sp = strchr(b5, ' ') + 1;
	cr_assert_gt(strlen(sp), 40);
	*(sp - 1) = '\0';
	xsnprintf(line, sizeof(line), "%s %.10s\v%.20s\f%s k5\n", b5, sp,
	    sp + 10, sp + 30);
	append_text(ak, line);					/* 5 */
	free(b5);
	free(l2);
	free(l3);
	free(l4);

	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=2), F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=3), F('revoked-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=4), F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=5)]", fp2, fp3, fp4, fp5);
	audit_expect(1, 3, exp);
}

/* ------------------------------------------------- names and links */

/*
 * A new account in ROOT/etc/passwd and etc/group: uid and gid id as root
 * (the runner's otherwise), passwd home home; home_dir (ROOT-relative,
 * NULL: none) is made 0700 and owned by it.
 */
static void
new_account(const char *name, unsigned int id, const char *home,
    const char *home_dir, uid_t *uid, gid_t *gid)
{
	char	p[PATH_MAX], line[PATH_MAX];

	*uid = T.as_root ? (uid_t)id : geteuid();
	*gid = T.as_root ? (gid_t)id : getegid();
	xsnprintf(line, sizeof(line), "%s:x:%u:%u:%s:%s:/bin/sh\n", name,
	    (unsigned)*uid, (unsigned)*gid, name, home);
	append_text(tp(p, "etc/passwd"), line);
	xsnprintf(line, sizeof(line), "grp%u:x:%u:\n", id, (unsigned)*gid);
	append_text(tp(p, "etc/group"), line);
	if (home_dir != NULL) {
		mkdirs(tp(p, home_dir), 0700);
		cr_assert_eq(lchown(p, *uid, *gid), 0);
	}
}

/* SSSD and winbind name users user@domain: such an account is walked,
 * audited and managed like any other. */
Test(audit, account_name_with_an_at_sign)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				 fp2[128], ak[PATH_MAX], exp[1024], code[1024],
				 *l2, *b1, *text;
	const char		*carol = "carol@corp.example";
	uid_t			 uid;
	gid_t			 gid;

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, fp2);
	new_account(carol, 2003, "/home/carol", "home/carol", &uid, &gid);
	l2 = publine(k2);
	put_ssh_file("home/carol", uid, gid, "authorized_keys", l2, ak);
	free(l2);

	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', '%s', "
	    "path=ROOT + '/home/carol/.ssh/authorized_keys', fp='%s', "
	    "line=1)]", carol, fp2);
	audit_expect(1, 4, exp);
	aud(&r, 1, "--json", carol, NULL);
	expect_findings(&r, 1, exp);
	run_free(&r);

	/* add installs for it, and the grant is listed under that name */
	KA_OK("add", carol, k1);
	text = slurp(ak, NULL);
	b1 = pub_typeb64(k1);
	cr_assert_not_null(strstr(text, b1), "%s", text);
	free(b1);
	free(text);
	audit_expect(1, 4, exp);
	cr_assert_eq(ka(&r, "--json", "list", carol, NULL), 0, "%s", r.err);
	xsnprintf(code, sizeof(code), "assert [(g['user'], g['fingerprint']) "
	    "for g in d] == [('%s', '%s')], d\n", carol, fp1);
	pyjson(r.out, r.outlen, code);
	run_free(&r);

	/* a leading '@' is no account name */
	aud(&r, 67, "--json", "@corp.example", NULL);
	cr_assert_not_null(strstr(r.err, "not a valid user name"), "%s",
	    r.err);
	run_free(&r);
}

/*
 * A link root made in a directory only root may write is followed, as
 * sshd follows it (dave's home is /home2/dave, ROOT/home2 -> home); a
 * link the account made in its own home is not, even once root owns it.
 */
Test(audit, roots_link_is_followed_but_not_the_accounts)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				 k4[PATH_MAX], fp2[128], fp3[128], p[PATH_MAX],
				 real[PATH_MAX], ssh[PATH_MAX], exp[2048],
				 *b1, *text, *l3;
	uid_t			 uid;
	gid_t			 gid;

	if (!T.as_root)
		cr_skip_test("needs root: the link must be root's");
	key("ed25519", 0, "k1", k1, NULL);
	key("ed25519", 0, "k2", k2, fp2);
	key("ed25519", 0, "k3", k3, fp3);
	key("ed25519", 0, "k4", k4, NULL);
	cr_assert_eq(symlink("home", tp(p, "home2")), 0);
	new_account("dave", 2004, "/home2/dave", "home/dave", &uid, &gid);

	KA_OK("add", "dave", k1);
	text = slurp(tp(p, "home/dave/.ssh/authorized_keys"), NULL);
	b1 = pub_typeb64(k1);
	cr_assert_not_null(strstr(text, b1), "%s", text);
	free(b1);
	free(text);
	audit_expect(0, 4, "[]");
	append_text(p, "# by hand\n");
	text = publine(k2);
	append_text(p, text);
	free(text);
	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'dave', "
	    "path=ROOT + '/home2/dave/.ssh/authorized_keys', fp='%s', "
	    "line=3)]", fp2);
	audit_expect(1, 4, exp);

	/* alice moves her .ssh and links it back */
	l3 = publine(k3);
	put_ak("alice", l3);
	free(l3);
	cr_assert_eq(rename(tp(ssh, "home/alice/.ssh"),
	    tp(real, "home/alice/real-ssh")), 0);
	cr_assert_eq(symlink("real-ssh", ssh), 0);
	cr_assert_eq(lchown(ssh, T.alice_uid, T.alice_gid), 0);
	xsnprintf(exp, sizeof(exp), "[F('unsafe-path', 'alice', "
	    "path=(ROOT + '/home/alice/.ssh', AK('alice')), "
	    "msg=(ROOT + '/home/alice/.ssh: ',)), F('unmanaged-key', 'dave', "
	    "path=ROOT + '/home2/dave/.ssh/authorized_keys', fp='%s', "
	    "line=3)]", fp2);
	audit_expect(1, 4, exp);
	audit_never_mentions(fp3, 1);
	/* add does not write through it either */
	text = slurp(tp(p, "home/alice/real-ssh/authorized_keys"), NULL);
	cr_assert_eq(ka(&r, "add", "alice", k4, NULL), 77, "add exited %d:\n%s",
	    r.status, r.err);
	run_free(&r);
	cr_assert(file_equals(p, text, strlen(text)), "add wrote through "
	    "alice's link");
	free(text);

	/* the same link owned by root: alice's home is still hers */
	cr_assert_eq(lchown(ssh, 0, 0), 0);
	audit_expect(1, 4, exp);
	audit_never_mentions(fp3, 1);
}

/*
 * Root's link whose target has ".." after a name ("usr/../home"): the
 * kernel takes ".." after usr, which may itself be a link, so keyadm does
 * not follow it: an unsafe path, the keys behind it unread, add refused.
 */
Test(audit, roots_link_with_dotdot_after_a_name_is_not_followed)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				 p[PATH_MAX], ak[PATH_MAX], *l1, *text;
	uid_t			 uid;
	gid_t			 gid;

	if (!T.as_root)
		cr_skip_test("needs root: the link must be root's");
	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, NULL);
	mkdirs(tp(p, "usr"), 0755);
	cr_assert_eq(symlink("usr/../home", tp(p, "home3")), 0);
	new_account("erin", 2005, "/home3/erin", "home/erin", &uid, &gid);
	l1 = publine(k1);
	put_ssh_file("home/erin", uid, gid, "authorized_keys", l1, ak);
	free(l1);

	audit_expect(1, 4, "[F('unsafe-path', 'erin', path=ANY, "
	    "msg=(ROOT + '/home3: is a symbolic link',))]");
	audit_never_mentions(fp1, 1);
	text = slurp(ak, NULL);
	cr_assert_eq(ka(&r, "add", "erin", k2, NULL), 77, "add exited %d:\n%s",
	    r.status, r.err);
	run_free(&r);
	cr_assert(file_equals(ak, text, strlen(text)), "add wrote through "
	    "the link");
	free(text);
}

/* ========================================================== adopt */

/* keyadm --json adopt ARGS...: exit want; the homes stay as they were. */
static void __attribute__((sentinel))
adopt(struct run_result *r, int want, ...)
{
	const char	*args[64], *a;
	char		*hb, *ha, *eb, *ea;
	va_list		 ap;
	int		 n = 0;

	args[n++] = "--json";
	args[n++] = "adopt";
	va_start(ap, want);
	while ((a = va_arg(ap, const char *)) != NULL) {
		cr_assert_lt(n, 62);
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	hb = snapshot("home");
	eb = snapshot("etc");
	run_argv(r, args);
	ha = snapshot("home");
	ea = snapshot("etc");
	cr_assert_eq(r->status, want, "adopt exited %d, expected %d\n"
	    "stdout:\n%s\nstderr:\n%s", r->status, want, r->out, r->err);
	assert_snap_eq("adopt (the homes)", hb, ha);
	assert_snap_eq("adopt (etc)", eb, ea);
	free(hb);
	free(ha);
	free(eb);
	free(ea);
}

/* python: K = {fingerprint: key object} of user's account in d. */
#define PY_KEYS(user)							\
	"A = {a['user']: a for a in d['accounts']}\n"			\
	"assert '" user "' in A, d\n"					\
	"for a in d['accounts']:\n"					\
	"    assert set(a) >= {'user', 'path', 'keys'}, a\n"		\
	"    for k in a['keys']:\n"					\
	"        assert set(k) >= {'line', 'fingerprint', 'type', 'bits', "\
	"'comment', 'action', 'id', 'options', 'verdict', 'reasons', "	\
	"'detail'}, k\n"						\
	"        assert k['action'] in ('adopted', 'managed', 'refused', "	\
	"'skipped'), k\n"						\
	"        assert type(k['reasons']) is list, k\n"		\
	"K = {k['fingerprint']: k for k in A['" user "']['keys']}\n"

/* active grants in the store for user and fp */
static long
active_grants(const char *user, const char *fp)
{
	char	sql[512];

	xsnprintf(sql, sizeof(sql), "SELECT count(*) FROM grants g JOIN keys k "
	    "ON k.id = g.key_id WHERE g.status = 'active' AND g.user = '%s' "
	    "AND k.fingerprint = '%s'", user, fp);
	return store_count(sql);
}

static long
adopt_events(const char *user, const char *fp)
{
	char	sql[512];

	xsnprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE "
	    "action = 'adopt' AND user = '%s' AND fingerprint = '%s'", user,
	    fp);
	return store_count(sql);
}

Test(adopt, records_keys_in_place_with_their_options)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				fp2[128], text[4096], code[4096], *l1, *l2;
	const char		*by = geteuid() == 0 ? "ka-admin" : "";

	key("ed25519", 0, "k1", k1, fp1);
	key("ecdsa", 0, "k2", k2, fp2);
	l1 = publine(k1);
	l2 = publine(k2);
	xsnprintf(text, sizeof(text),
	    "# alice's own keys\n"
	    "\n"
	    "%s"
	    "from=\"10.0.0.0/8\",no-pty %s", l1, l2);
	put_ak("alice", text);
	free(l1);
	free(l2);

	adopt(&r, 0, "alice", NULL);
	cr_assert_str_eq(r.err, "", "stderr:\n%s", r.err);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "assert d['dry_run'] is False and d['changed'] is True, d\n"
	    "assert [a['user'] for a in d['accounts']] == ['alice'], d\n"
	    "assert A['alice']['path'] == AK('alice'), A\n"
	    "assert 'error' not in A['alice'] or A['alice']['error'] is None\n"
	    "assert sorted(K) == sorted(['%s', '%s']), K\n"
	    "a, b = K['%s'], K['%s']\n"
	    "assert a['line'] == 3 and b['line'] == 4, (a, b)\n"
	    "assert a['action'] == 'adopted' and b['action'] == 'adopted'\n"
	    "assert type(a['id']) is int and type(b['id']) is int\n"
	    "assert a['id'] != b['id']\n"
	    "assert a['type'] == 'ssh-ed25519' and a['bits'] == 256, a\n"
	    "assert b['type'] == 'ecdsa-sha2-nistp256' and b['bits'] == 256\n"
	    "assert a['comment'] == 'k1' and b['comment'] == 'k2'\n"
	    "assert a['options'] in (None, ''), a\n"
	    "assert b['options'] == 'from=\"10.0.0.0/8\",no-pty', b\n"
	    "assert a['verdict'] == 'accept' and b['verdict'] == 'accept'\n",
	    fp1, fp2, fp1, fp2);
	pyjson(r.out, r.outlen, code);
	run_free(&r);

	/* list: both active, as adopted, by the administrator */
	cr_assert_eq(ka(&r, "--json", "list", "alice", NULL), 0, "%s",
	    r.err);
	xsnprintf(code, sizeof(code),
	    "G = {g['fingerprint']: g for g in d}\n"
	    "assert sorted(G) == sorted(['%s', '%s']), d\n"
	    "for g in d:\n"
	    "    assert g['status'] == 'active' and g['user'] == 'alice', g\n"
	    "    assert g['reason'] == 'adopted', g\n"
	    "    assert '%s' == '' or g['added_by'] == '%s', g\n"
	    "assert G['%s']['options'] == 'from=\"10.0.0.0/8\",no-pty', G\n"
	    "assert G['%s']['options'] in (None, ''), G\n",
	    fp1, fp2, by, by, fp2, fp1);
	pyjson(r.out, r.outlen, code);
	run_free(&r);

	/* one adopt event per key, in the store and in history */
	cr_assert_eq(adopt_events("alice", fp1), 1);
	cr_assert_eq(adopt_events("alice", fp2), 1);
	cr_assert_eq(store_count("SELECT count(*) FROM events WHERE "
	    "action = 'adopt'"), 2);
	cr_assert_eq(ka(&r, "--json", "history", "--user", "alice", NULL), 0,
	    "%s", r.err);
	xsnprintf(code, sizeof(code),
	    "ev = [e for e in d if e['action'] == 'adopt']\n"
	    "assert sorted(e['fingerprint'] for e in ev) == "
	    "sorted(['%s', '%s']), d\n"
	    "assert all(e['user'] == 'alice' for e in ev), ev\n"
	    "assert '%s' == '' or all(e['actor'] == '%s' for e in ev), ev\n",
	    fp1, fp2, by, by);
	pyjson(r.out, r.outlen, code);
	run_free(&r);

	/* and audit has nothing more to say */
	audit_expect(0, 3, "[]");
}

Test(adopt, managed_keys_and_a_second_run_change_nothing)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				fp2[128], code[4096], raw[128], *s1, *s2;
	long			events;

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, fp2);
	KA_OK("add", "alice", k1);
	append_pub("alice", k2);

	adopt(&r, 0, "alice", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "assert d['changed'] is True, d\n"
	    "assert K['%s']['action'] == 'managed' and "
	    "K['%s']['id'] == 1, K\n"
	    "assert K['%s']['action'] == 'adopted' and "
	    "type(K['%s']['id']) is int, K\n",
	    fp1, fp1, fp2, fp2);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	cr_assert_eq(adopt_events("alice", fp1), 0, "a managed key adopted");
	cr_assert_eq(adopt_events("alice", fp2), 1);
	cr_assert_eq(active_grants("alice", fp1), 1);
	cr_assert_eq(active_grants("alice", fp2), 1);

	s1 = store_state(raw, sizeof(raw));
	events = store_count("SELECT count(*) FROM events");
	adopt(&r, 0, "alice", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "assert d['changed'] is False, d\n"
	    "assert all(k['action'] == 'managed' for k in K.values()), K\n"
	    "assert all(type(k['id']) is int for k in K.values()), K\n");
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	s2 = store_state(raw, sizeof(raw));
	cr_assert_str_eq(s1, s2, "the second adopt changed the store");
	cr_assert_eq(store_count("SELECT count(*) FROM events"), events);
	free(s1);
	free(s2);
	audit_expect(0, 3, "[]");
}

Test(adopt, dry_run_records_nothing)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				p[PATH_MAX], code[2048], raw[128], *s1, *s2;

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, NULL);
	put_ak("alice", "");
	append_pub("alice", k1);

	/* no store yet: none is made */
	adopt(&r, 0, "alice", "--dry-run", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "assert d['dry_run'] is True and d['changed'] is True, d\n"
	    "assert K['%s']['action'] == 'adopted', K\n"
	    "assert K['%s']['id'] is None, K\n", fp1, fp1);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	assert_absent(tp(p, STORE_DIR_REL));

	/* a store: unchanged by the dry run */
	KA_OK("add", "bob", k2);
	s1 = store_state(raw, sizeof(raw));
	adopt(&r, 0, "--dry-run", "alice", NULL);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	s2 = store_state(raw, sizeof(raw));
	cr_assert_str_eq(s1, s2, "the dry run changed the store");
	free(s1);
	free(s2);
	cr_assert_eq(active_grants("alice", fp1), 0);

	/* for real, then a dry run would change nothing */
	adopt(&r, 0, "alice", NULL);
	run_free(&r);
	cr_assert_eq(active_grants("alice", fp1), 1);
	adopt(&r, 0, "alice", "--dry-run", NULL);
	pyjson(r.out, r.outlen, PY_KEYS("alice")
	    "assert d['dry_run'] is True and d['changed'] is False, d\n"
	    "assert all(k['action'] == 'managed' for k in K.values()), K\n");
	run_free(&r);
}

/* A key today's policy refuses is adopted, with a warning and "reject". */
Test(adopt, policy_failure_is_adopted_with_a_warning)
{
	struct run_result	r;
	char			kr[PATH_MAX], fpr[128], code[2048], exp[1024];

	key("rsa", 1024, "weak", kr, fpr);
	put_ak("alice", "");
	append_pub("alice", kr);

	adopt(&r, 0, "alice", NULL);
	assert_stderr_form(&r, 1);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "k = K['%s']\n"
	    "assert k['action'] == 'adopted' and type(k['id']) is int, k\n"
	    "assert k['verdict'] == 'reject' and k['reasons'], k\n"
	    "assert k['type'] == 'ssh-rsa' and k['bits'] == 1024, k\n"
	    "assert d['changed'] is True\n", fpr);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	cr_assert_eq(active_grants("alice", fpr), 1);

	xsnprintf(exp, sizeof(exp), "[F('policy-fail', 'alice', "
	    "path=AK('alice'), fp='%s', line=1)]", fpr);
	audit_expect(1, 3, exp);
}

/* Revoked keys are never adopted back: refused, exit 1. */
Test(adopt, revoked_keys_are_refused)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				fp1[128], fp2[128], fp3[128], code[2048],
				exp[1024];

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, fp2);
	key("ed25519", 0, "k3", k3, fp3);
	KA_OK("add", "alice", k1, k3);
	KA_OK("add", "bob", k3);
	KA_OK("revoke", fp1, "--reason", "stolen");		/* everywhere */
	/* alice only; bob keeps k3, so it is not in the revoked-keys file */
	KA_OK("revoke", fp3, "--user", "alice", "--reason", "moved");
	append_pub("alice", k1);
	append_pub("alice", k2);
	append_pub("alice", k3);

	adopt(&r, 1, "alice", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "assert K['%s']['action'] == 'refused' and "
	    "K['%s']['id'] is None, K\n"
	    "assert K['%s']['action'] == 'adopted', K\n"
	    "assert K['%s']['action'] == 'refused' and "
	    "K['%s']['id'] is None, K\n",
	    fp1, fp1, fp2, fp3, fp3);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	cr_assert_eq(active_grants("alice", fp1), 0);
	cr_assert_eq(active_grants("alice", fp2), 1);
	cr_assert_eq(active_grants("alice", fp3), 0);
	cr_assert_eq(active_grants("bob", fp3), 1);
	cr_assert_eq(adopt_events("alice", fp1), 0);
	cr_assert_eq(adopt_events("alice", fp3), 0);

	xsnprintf(exp, sizeof(exp), "[F('revoked-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=1), F('revoked-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=3), "
	    "F('shared-key', 'alice', fp='%s', line=ANY, opt=True), "
	    "F('shared-key', 'bob', fp='%s', line=ANY, opt=True)]",
	    fp1, fp3, fp3, fp3);
	audit_expect(1, 3, exp);
}

/* Bad lines, CA lines and lines past their expiry-time are skipped. */
Test(adopt, unusable_ca_and_expired_lines_are_skipped)
{
	struct run_result	r;
	char			k1[PATH_MAX], k4[PATH_MAX], k5[PATH_MAX],
				ca[PATH_MAX], fp1[128], fp4[128], fp5[128],
				fpca[128], text[8192], code[4096], *l1, *l4,
				*l5, *lca;

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k4", k4, fp4);
	key("ed25519", 0, "k5", k5, fp5);
	key("ed25519", 0, "ca", ca, fpca);
	l1 = publine(k1);
	l4 = publine(k4);
	l5 = publine(k5);
	lca = publine(ca);
	xsnprintf(text, sizeof(text),
	    "this is not a key\n"				/* 1 */
	    "cert-authority %s"					/* 2 */
	    "expiry-time=\"20000101000000Z\" %s"		/* 3 */
	    "%s"						/* 4 */
	    "expiry-time=\"20991231000000Z\",no-pty %s",	/* 5 */
	    lca, l4, l1, l5);
	put_ak("alice", text);

	adopt(&r, 0, "alice", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "L = {k['line']: k for k in A['alice']['keys']}\n"
	    "assert L[1]['action'] == 'skipped' and L[1]['id'] is None, L\n"
	    "assert L[2]['action'] == 'skipped', L\n"
	    "assert L[3]['action'] == 'skipped', L\n"
	    "assert L[3]['fingerprint'] == '%s', L\n"
	    "assert L[4]['action'] == 'adopted', L\n"
	    "assert L[4]['fingerprint'] == '%s', L\n"
	    "assert L[5]['action'] == 'adopted', L\n"
	    "assert L[5]['options'] == "
	    "'expiry-time=\"20991231000000Z\",no-pty', L\n"
	    "assert d['changed'] is True\n", fp4, fp1);
	pyjson(r.out, r.outlen, code);
	run_free(&r);

	cr_assert_eq(ka(&r, "--json", "list", "--status", "all", NULL), 0,
	    "%s", r.err);
	xsnprintf(code, sizeof(code),
	    "G = {g['fingerprint']: g for g in d}\n"
	    "assert sorted(G) == sorted(['%s', '%s']), d\n"
	    "assert G['%s']['options'] == "
	    "'expiry-time=\"20991231000000Z\",no-pty', G\n"
	    "assert G['%s']['expires_at'] == '2099-12-31T00:00:00Z', G\n",
	    fp1, fp5, fp5, fp5);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	cr_assert_eq(active_grants("alice", fpca), 0);
	cr_assert_eq(active_grants("alice", fp4), 0);
	free(l1);
	free(l4);
	free(l5);
	free(lca);
}

/* An unsafe file for a named account: 77, the others still adopted. */
Test(adopt, unsafe_file_is_77_and_other_accounts_are_adopted)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				fp2[128], ssh[PATH_MAX], code[2048];

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, fp2);
	put_ak("alice", "");
	append_pub("alice", k1);
	put_ak("bob", "");
	append_pub("bob", k2);
	cr_assert_eq(chmod(tp(ssh, "home/alice/.ssh"), 0777), 0);

	adopt(&r, 77, "alice", "bob", NULL);
	assert_stderr_form(&r, 1);
	cr_assert_not_null(strstr(r.err, ssh), "the message does not name "
	    "the path:\n%s", r.err);
	xsnprintf(code, sizeof(code), PY_KEYS("bob")
	    "assert K['%s']['action'] == 'adopted', K\n"
	    "assert A['alice'].get('error'), A['alice']\n"
	    "assert not any(k['action'] == 'adopted' "
	    "for k in A['alice']['keys']), A\n", fp2);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	cr_assert_eq(active_grants("bob", fp2), 1);
	cr_assert_eq(active_grants("alice", fp1), 0);
}

Test(adopt, unknown_user_is_67)
{
	struct run_result	r;
	char			p[PATH_MAX];

	adopt(&r, 67, "nosuchuser", NULL);
	cr_assert(strncmp(r.err, "keyadm: nosuchuser: ", 20) == 0,
	    "stderr:\n%s", r.err);
	run_free(&r);
	assert_absent(tp(p, STORE_DIR_REL));
}

/* --all: every account with at least one key line, and --reason. */
Test(adopt, all_accounts_with_keys)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				fp2[128], code[2048];

	key("ed25519", 0, "k1", k1, fp1);
	key("ed25519", 0, "k2", k2, fp2);
	put_ak("alice", "# keys\n");
	append_pub("alice", k1);
	/* bob: an empty file with only a comment has no key line */
	put_ak("bob", "# nothing yet\n");

	adopt(&r, 0, "--all", "--reason", "ticket 7", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "assert [a['user'] for a in d['accounts']] == ['alice'], d\n"
	    "assert K['%s']['action'] == 'adopted'\n", fp1);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	cr_assert_eq(ka(&r, "--json", "list", "alice", NULL), 0);
	pyjson(r.out, r.outlen,
	    "assert len(d) == 1 and d[0]['reason'] == 'ticket 7', d\n");
	run_free(&r);

	append_pub("bob", k2);
	adopt(&r, 0, "--all", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("bob")
	    "assert [a['user'] for a in d['accounts']] == ['alice', 'bob'], d\n"
	    "assert K['%s']['action'] == 'adopted'\n"
	    "assert [k['action'] for k in A['alice']['keys']] == "
	    "['managed'], A\n", fp2);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	audit_expect(0, 3, "[]");
}

/*
 * One key on two lines with other options: sshd takes the first line
 * whose options let the login in, so together they grant more than
 * either.  Both are refused (exit 1), nothing is recorded, and audit
 * still reports both lines.
 */
static void
adopt_refuses_pair(const char *opt1, const char *opt2)
{
	struct run_result	r;
	char			k1[PATH_MAX], fp1[128], text[4096],
				code[2048], exp[1024], raw[128], *l1, *s1,
				*s2;

	key("ed25519", 0, "k1", k1, fp1);
	l1 = publine(k1);
	xsnprintf(text, sizeof(text), "%s%s%s%s%s%s", opt1, opt1[0] != '\0' ?
	    " " : "", l1, opt2, opt2[0] != '\0' ? " " : "", l1);
	put_ak("alice", text);
	free(l1);

	s1 = store_state(raw, sizeof(raw));
	adopt(&r, 1, "alice", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "L = {k['line']: k for k in A['alice']['keys']}\n"
	    "assert sorted(L) == [1, 2], L\n"
	    "for n, o in ((1, 2), (2, 1)):\n"
	    "    k = L[n]\n"
	    "    assert k['fingerprint'] == '%s', k\n"
	    "    assert k['action'] == 'refused' and k['id'] is None, k\n"
	    "    assert 'other options' in k['detail'], k\n"
	    "    assert 'line %%d' %% o in k['detail'], k\n"
	    "assert d['changed'] is False, d\n", fp1);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	s2 = store_state(raw, sizeof(raw));
	cr_assert_str_eq(s1, s2, "a refused adopt changed the store");
	free(s1);
	free(s2);
	cr_assert_eq(active_grants("alice", fp1), 0);
	cr_assert_eq(adopt_events("alice", fp1), 0);

	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=1), F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=2)]", fp1, fp1);
	audit_expect(1, 3, exp);
}

/* a store to leave unchanged: bob's grant */
static void
some_store(void)
{
	char	k0[PATH_MAX];

	key("ed25519", 0, "k0", k0, NULL);
	KA_OK("add", "bob", k0);
}

Test(adopt, same_key_with_an_impossible_expiry_and_a_command_is_refused)
{
	some_store();
	adopt_refuses_pair("expiry-time=\"20990230000000\"",
	    "restrict,command=\"/bin/false\"");
}

Test(adopt, same_key_with_and_without_from_is_refused)
{
	some_store();
	adopt_refuses_pair("from=\"10.0.0.0/8\"", "");
}

/* The same key twice, alike: adopted from the first line. */
Test(adopt, same_key_twice_alike_is_adopted_once)
{
	struct run_result	r;
	char			k1[PATH_MAX], fp1[128], text[4096],
				code[2048], *l1;

	key("ed25519", 0, "k1", k1, fp1);
	l1 = publine(k1);
	xsnprintf(text, sizeof(text), "from=\"10.0.0.0/8\" %s"
	    "from=\"10.0.0.0/8\" %s", l1, l1);
	put_ak("alice", text);
	free(l1);

	adopt(&r, 0, "alice", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "L = {k['line']: k for k in A['alice']['keys']}\n"
	    "assert sorted(L) == [1, 2], L\n"
	    "assert L[1]['action'] == 'adopted' and "
	    "type(L[1]['id']) is int, L\n"
	    "assert L[1]['options'] == 'from=\"10.0.0.0/8\"', L\n"
	    "assert L[2]['action'] == 'skipped' and L[2]['id'] is None, L\n"
	    "assert 'line 1' in L[2]['detail'], L\n"
	    "assert L[1]['fingerprint'] == L[2]['fingerprint'] == '%s', L\n"
	    "assert d['changed'] is True, d\n", fp1);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	cr_assert_eq(active_grants("alice", fp1), 1);
	cr_assert_eq(adopt_events("alice", fp1), 1);
	audit_expect(0, 3, "[]");
}

/*
 * Options keyadm cannot check but sshd may use (a service name in
 * permitopen): not adopted ("skipped", saying why), nothing recorded.
 */
Test(adopt, options_keyadm_cannot_check_are_skipped)
{
	struct run_result	r;
	char			k1[PATH_MAX], fp1[128], text[4096],
				code[2048], exp[1024], raw[128], *l1, *s1,
				*s2;

	some_store();
	key("ed25519", 0, "k1", k1, fp1);
	l1 = publine(k1);
	xsnprintf(text, sizeof(text), "permitopen=\"localhost:ssh\" %s", l1);
	put_ak("alice", text);
	free(l1);

	s1 = store_state(raw, sizeof(raw));
	adopt(&r, 0, "alice", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "k = K['%s']\n"
	    "assert k['action'] == 'skipped' and k['id'] is None, k\n"
	    "assert k['options'] == 'permitopen=\"localhost:ssh\"', k\n"
	    "assert 'options' in k['detail'], k\n"
	    "assert 'permitopen' in k['detail'], k\n"
	    "assert d['changed'] is False, d\n", fp1);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	s2 = store_state(raw, sizeof(raw));
	cr_assert_str_eq(s1, s2, "a skipped adopt changed the store");
	free(s1);
	free(s2);
	cr_assert_eq(active_grants("alice", fp1), 0);

	xsnprintf(exp, sizeof(exp), "[F('unmanaged-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=1)]", fp1);
	audit_expect(1, 3, exp);
}

/* A grant that expired was taken away on purpose: adopt refuses it. */
Test(adopt, key_whose_grant_expired_is_refused)
{
	struct run_result	r;
	char			k0[PATH_MAX], k1[PATH_MAX], fp0[128],
				fp1[128], code[2048], exp[1024];

	key("ed25519", 0, "k0", k0, fp0);
	key("ed25519", 0, "k1", k1, fp1);
	KA_OK("add", "alice", k0);
	KA_OK("add", "alice", k1, "--expires", "1s");
	(void)usleep(1100 * 1000);
	KA_OK("expire");
	cr_assert_eq(active_grants("alice", fp1), 0);
	append_pub("alice", k1);				/* line 2 */

	adopt(&r, 1, "alice", NULL);
	xsnprintf(code, sizeof(code), PY_KEYS("alice")
	    "assert K['%s']['action'] == 'managed', K\n"
	    "k = K['%s']\n"
	    "assert k['action'] == 'refused' and k['id'] is None, k\n"
	    "assert k['line'] == 2 and 'expired' in k['detail'], k\n"
	    "assert d['changed'] is False, d\n", fp0, fp1);
	pyjson(r.out, r.outlen, code);
	run_free(&r);
	cr_assert_eq(active_grants("alice", fp1), 0);
	cr_assert_eq(adopt_events("alice", fp1), 0);

	xsnprintf(exp, sizeof(exp), "[F('expired-key', 'alice', "
	    "path=AK('alice'), fp='%s', line=2)]", fp1);
	audit_expect(1, 3, exp);
}
