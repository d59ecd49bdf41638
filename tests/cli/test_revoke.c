/*
 * test_revoke.c -- the built keyadm in a --root tree: revoke, expire, the
 * revoked-keys file, add's options (--restrict --from --command --option
 * --expires --no-options), --force after a revocation, and --dry-run diffs.
 *
 * Suite "revoke".  Every test gets its own tree from tree_make() (.init)
 * and loses it in tree_remove() (.fini).  Outside judges where there is
 * one: OpenSSH's own ssh-keygen reads the revoked-keys file (-k builds a
 * KRL from it, -Q asks that KRL about a key), GNU patch applies each
 * --dry-run diff to a copy of the old file, the sqlite3 shell dumps the
 * store before and after a dry run, and python3's json module parses every
 * --json document (strictly: a repeated key in one object fails too).
 */
#include <sys/file.h>
#include <sys/wait.h>
#include <grp.h>
#include <signal.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "run.h"

#define REVFILE_REL	"etc/ssh/keyadm_revoked_keys"
#define DB_REL		"var/lib/keyadm/keyadm.db"

static struct tree	T;

/* keyadm --root T ARGS... (NULL-terminated), stdin from in */
#define ka(r, in, ...)	tree_ka(&T, (r), (in), __VA_ARGS__)
/* The same from an argv array (NULL-terminated, without --root). */
#define kav(r, args)	tree_kav(&T, (r), NULL, (args))
/* keyadm ... that must exit 0; the result is freed. */
#define KA_OK(...)	TREE_KA_OK(&T, __VA_ARGS__)
#define tp(buf, rel)	tree_path(&T, (buf), PATH_MAX, (rel))
#define akfile(buf, user) tree_akfile(&T, (buf), (user))
#define pyjson(doc, len, code) tree_pyjson(&T, (doc), (len), (code))
#define store_count(sql) tree_store_count(&T, (sql))

static void
setup(void)
{
	tree_make(&T);
}

static void
teardown(void)
{
	tree_remove(&T);
}

TestSuite(revoke, .init = setup, .fini = teardown, .timeout = 120);

/* ----------------------------------------------------------- helpers */

/* INBOX/name{,.pub}; pub gets the public key's path, fp its fingerprint. */
static void
key(const char *type, const char *name, char *pub, char *fp)
{
	tree_keygen_pub(&T, type, 0, name, name, pub, fp);
}

/* Write user's authorized_keys (and .ssh) by hand, owned by the user. */
static void
put_ak(const char *user, const char *text)
{
	tree_put_user_file(&T, user, "authorized_keys", text);
}

/* The file holds exactly text. */
static void
assert_file(const char *path, const char *text)
{
	char	*got;

	got = slurp(path, NULL);
	cr_assert_str_eq(got, text, "%s is:\n%s\nexpected:\n%s", path, got,
	    text);
	free(got);
}

/* The file holds exactly what the file other holds. */
static void
assert_file_as(const char *path, const char *other)
{
	char	*want = slurp(other, NULL);

	assert_file(path, want);
	free(want);
}

/* A whole file, or NULL when it does not exist. */
static char *
slurp_opt(const char *path, size_t *len)
{
	struct stat	st;

	if (lstat(path, &st) == -1) {
		cr_assert_eq(errno, ENOENT);
		*len = 0;
		return NULL;
	}
	return slurp(path, len);
}

/* The same bytes, or both absent. */
static void
assert_same(const char *what, const char *a, size_t alen, const char *b,
    size_t blen)
{
	cr_assert((a == NULL) == (b == NULL), "%s: one exists, the other "
	    "not", what);
	if (a == NULL)
		return;
	cr_assert(alen == blen && memcmp(a, b, alen) == 0,
	    "%s differs:\n%s\n--- versus ---\n%s", what, a, b);
}

/* sqlite3 -readonly DB .dump, or "(no store)". */
static char *
store_dump(void)
{
	struct run_result	 r;
	struct stat		 st;
	char			 db[PATH_MAX], *s;
	const char		*argv[] = { "sqlite3", "-readonly", db, ".dump",
				    NULL };

	tp(db, DB_REL);
	if (lstat(db, &st) == -1) {
		s = strdup("(no store)");
		cr_assert_not_null(s);
		return s;
	}
	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 0, "sqlite3 .dump: %s", r.err);
	s = r.out;
	free(r.err);
	return s;
}

/*
 * The unified diff for path in keyadm's text output: from "--- path" and
 * "+++ path" through the last line that belongs to a hunk.  NULL if none.
 */
static char *
diff_for(const char *out, const char *path)
{
	char		 hdr[PATH_MAX + 8], *d;
	const char	*p, *e, *start;

	xsnprintf(hdr, sizeof(hdr), "--- %s\n", path);
	for (p = out; (p = strstr(p, hdr)) != NULL; p++)
		if (p == out || p[-1] == '\n')
			break;
	if (p == NULL)
		return NULL;
	start = p;
	p = strchr(p, '\n') + 1;	/* "+++ path" next */
	cr_assert(strncmp(p, "+++ ", 4) == 0, "no +++ line after %s", hdr);
	p = strchr(p, '\n') + 1;
	while (*p != '\0' && strchr("@ -+\\", *p) != NULL) {
		e = strchr(p, '\n');
		cr_assert_not_null(e, "diff line without LF");
		/* the next file's header ends this diff */
		if (strncmp(p, "--- ", 4) == 0 && strncmp(e + 1, "+++ ", 4) == 0)
			break;
		p = e + 1;
	}
	d = strndup(start, (size_t)(p - start));
	cr_assert_not_null(d);
	return d;
}

/*
 * GNU patch (no fuzz) applies diff to a copy of old (NULL: no file yet);
 * returns what it made.
 */
static char *
patched(const char *old, size_t oldlen, const char *diff, size_t *len)
{
	struct run_result	 r;
	char			 copy[PATH_MAX], *res;
	const char		*argv[] = { "patch", "-s", "-F", "0", "--batch",
				    "--no-backup-if-mismatch", "-r", "-",
				    copy, NULL };

	xsnprintf(copy, sizeof(copy), "%s/patch-copy", T.base);
	(void)unlink(copy);
	spew(copy, old != NULL ? old : "", old != NULL ? oldlen : 0, 0600);
	run_prog(&r, diff, strlen(diff), argv, 0);
	cr_assert_eq(r.status, 0, "patch does not apply the diff:\n%s%s\n"
	    "diff:\n%s", r.out, r.err, diff);
	run_free(&r);
	res = slurp_opt(copy, len);
	if (res == NULL) {		/* patch removed an emptied file */
		res = strdup("");
		cr_assert_not_null(res);
	}
	(void)unlink(copy);
	return res;
}

/*
 * The dry run's diff for path, applied to before, equals the file the
 * real run then wrote.  No diff means the file must not have changed.
 */
static void
assert_diff_applies(const char *dryout, const char *path, const char *before,
    size_t blen, int expect_diff)
{
	char	*d, *want, *got;
	size_t	 wlen, glen;

	d = diff_for(dryout, path);
	got = slurp_opt(path, &glen);
	if (!expect_diff) {
		cr_assert_null(d, "a diff for %s that must not change:\n%s",
		    path, d);
		assert_same(path, before, blen, got, glen);
		free(got);
		return;
	}
	cr_assert_not_null(d, "no diff for %s in the dry run's output:\n%s",
	    path, dryout);
	cr_assert_not_null(got, "%s was not written", path);
	want = patched(before, blen, d, &wlen);
	cr_assert(wlen == glen && memcmp(want, got, glen) == 0,
	    "the dry run's diff, applied, is not what the real run wrote to "
	    "%s\ndiff:\n%s\npatched:\n%s\nwritten:\n%s", path, d, want, got);
	free(d);
	free(want);
	free(got);
}

/*
 * Build a KRL from the revoked-keys file with ssh-keygen -k (which must
 * parse every line) and ask it about pub with ssh-keygen -Q.  1 revoked,
 * 0 not.
 */
static int
krl_revoked(const char *pub)
{
	struct run_result	r;
	char			krl[PATH_MAX], rf[PATH_MAX];
	const char		*mk[] = { "ssh-keygen", "-k", "-f", krl, rf,
				    NULL };
	const char		*q[] = { "ssh-keygen", "-Q", "-f", krl, pub,
				    NULL };
	int			revoked;

	xsnprintf(krl, sizeof(krl), "%s/test.krl", T.base);
	(void)unlink(krl);
	tp(rf, REVFILE_REL);
	run_prog(&r, NULL, 0, mk, 0);
	cr_assert_eq(r.status, 0, "ssh-keygen -k cannot read %s:\n%s", rf,
	    r.err);
	run_free(&r);
	run_prog(&r, NULL, 0, q, 0);
	cr_assert(r.status == 0 || r.status == 1, "ssh-keygen -Q: %d %s",
	    r.status, r.err);
	revoked = r.status == 1;
	cr_assert(revoked ? strstr(r.out, ": REVOKED") != NULL :
	    strstr(r.out, ": ok") != NULL, "ssh-keygen -Q (exit %d) said:\n%s",
	    r.status, r.out);
	run_free(&r);
	(void)unlink(krl);
	return revoked;
}

/*
 * The revoked-keys file keyadm created: regular, root's (the runner's),
 * 0644, LF only, comment lines and then exactly the keys of pubs[] as
 * "type base64" lines, in that order.
 */
static void
assert_revfile(const char *const *pubs, size_t n)
{
	struct stat	 st;
	char		 rf[PATH_MAX], *text, *line, *save = NULL, *want;
	size_t		 len, k = 0;
	int		 in_keys = 0;

	tp(rf, REVFILE_REL);
	cr_assert_eq(lstat(rf, &st), 0, "%s: %s", rf, strerror(errno));
	cr_assert(S_ISREG(st.st_mode), "%s: not a regular file", rf);
	cr_assert_eq(st.st_mode & 07777, 0644, "%s: mode %04o", rf,
	    st.st_mode & 07777);
	cr_assert_eq(st.st_uid, geteuid(), "%s: owner %u", rf,
	    (unsigned)st.st_uid);
	cr_assert_eq(st.st_nlink, 1);
	text = slurp(rf, &len);
	cr_assert_eq(memchr(text, '\r', len), NULL, "CR in %s", rf);
	cr_assert_eq(memchr(text, '\0', len), NULL, "NUL in %s", rf);
	cr_assert(len > 0 && text[len - 1] == '\n', "%s: no final LF", rf);
	cr_assert_eq(text[0], '#', "%s: no header comment:\n%s", rf, text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			cr_assert(!in_keys, "comment after the keys:\n%s",
			    line);
			continue;
		}
		in_keys = 1;
		cr_assert_lt(k, n, "more keys listed than revoked: %s", line);
		want = pub_typeb64(pubs[k]);
		cr_assert_str_eq(line, want, "key line %zu of %s", k + 1, rf);
		free(want);
		k++;
	}
	cr_assert_eq(k, n, "%s lists %zu keys, expected %zu", rf, k, n);
	free(text);
}

/* The id of the active grant of fp for user, from list --json. */
static long
grant_id(const char *user, const char *fp)
{
	struct run_result	 r;
	char			 pat[256];
	const char		*p, *obj;

	cr_assert_eq(ka(&r, NULL, "--json", "list", user, NULL), 0);
	xsnprintf(pat, sizeof(pat), "\"fingerprint\":\"%s\"", fp);
	p = strstr(r.out, pat);
	cr_assert_not_null(p, "no grant of %s for %s:\n%s", fp, user, r.out);
	for (obj = p; obj > r.out && *obj != '{'; obj--)
		;
	cr_assert(strncmp(obj, "{\"id\":", 6) == 0, "%s", r.out);
	{
		long id = strtol(obj + 6, NULL, 10);
		run_free(&r);
		return id;
	}
}

/* The EXPIRES column of grant id in keyadm list's table. */
static void
list_expires(const char *status, long id, char *out, size_t outlen)
{
	struct run_result	 r;
	char			*line, *save = NULL, *tok, *s2;
	int			 i, found = 0;

	cr_assert_eq(ka(&r, NULL, "list", "--status", status, NULL), 0);
	for (line = strtok_r(r.out, "\n", &save); line != NULL && !found;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strtol(line, NULL, 10) != id)
			continue;
		/* ID USER TYPE BITS FINGERPRINT STATUS EXPIRES ... */
		s2 = NULL;
		tok = strtok_r(line, " ", &s2);
		for (i = 0; i < 6 && tok != NULL; i++)
			tok = strtok_r(NULL, " ", &s2);
		cr_assert_not_null(tok);
		xsnprintf(out, outlen, "%s", tok);
		found = 1;
	}
	cr_assert(found, "grant %ld not in keyadm list", id);
	run_free(&r);
}

/* ------------------------------------------------ revoke: everywhere */

/*
 * Revoke by fingerprint: every line with the key goes from every account
 * (duplicates, lines with options, other comments), everything else stays
 * byte for byte, the grants become revoked, and the key is listed in a
 * file OpenSSH reads.
 */
Test(revoke, revoke_everywhere_removes_every_line_and_lists_the_key)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				 fp1[128], fp2[128], ak[PATH_MAX],
				 text[8192], exp[8192];
	char			*b1, *b3;
	const char		*listed[1];

	key("ed25519", "k1", k1, fp1);
	key("ed25519", "k2", k2, fp2);
	key("ecdsa", "k3", k3, NULL);
	b1 = pub_typeb64(k1);
	b3 = pub_typeb64(k3);
	KA_OK("add", "alice", k1);
	KA_OK("add", "bob", k1, k2);
	/* alice's file: the grant's line, plus copies an admin made */
	xsnprintf(text, sizeof(text),
	    "# alice's keys\r\n"
	    "\n"
	    "%s other comment\n"
	    "from=\"10.0.0.0/8\",no-pty %s with options\n"
	    "%s k3\n"
	    "  # indented, trailing blank \n"
	    "%s\n"
	    "# last line, no LF", b1, b1, b3, b1);
	append_text(akfile(ak, "alice"), text);
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='active'"), 3);

	cr_assert_eq(ka(&r, NULL, "--json", "revoke", fp1, "--reason",
	    "laptop stolen", NULL), 0, "%s", r.err);
	cr_assert_str_eq(r.err, "");
	pyjson(r.out, r.outlen,
	    "assert d['changed'] is True and d['dry_run'] is False\n"
	    "assert d['type'] == 'ssh-ed25519'\n"
	    "assert d['revoked_keys_file']['changed'] is True\n"
	    "assert d['revoked_keys_file']['path'].endswith("
	    "'/etc/ssh/keyadm_revoked_keys')\n"
	    "a = {x['user']: x for x in d['accounts']}\n"
	    "assert sorted(a) == ['alice', 'bob'], a\n"
	    "assert a['alice']['lines_removed'] == 4, a\n"
	    "assert a['bob']['lines_removed'] == 1, a\n"
	    "assert a['alice']['account_exists'] is True\n"
	    "assert a['alice']['path'].endswith("
	    "'/home/alice/.ssh/authorized_keys')\n");
	cr_assert(strstr(r.out, fp1) != NULL);
	run_free(&r);

	xsnprintf(exp, sizeof(exp),
	    "# alice's keys\r\n"
	    "\n"
	    "%s k3\n"
	    "  # indented, trailing blank \n"
	    "# last line, no LF", b3);
	assert_file(akfile(ak, "alice"), exp);
	assert_file_as(akfile(ak, "bob"), k2);

	/* the store: both grants revoked, bob's other key untouched */
	cr_assert_eq(ka(&r, NULL, "--json", "list", "--status", "revoked",
	    NULL), 0);
	pyjson(r.out, r.outlen,
	    "assert sorted(g['user'] for g in d) == ['alice', 'bob'], d\n"
	    "assert all(g['status'] == 'revoked' for g in d)\n");
	cr_assert(strstr(r.out, fp1) != NULL && strstr(r.out, fp2) == NULL);
	run_free(&r);
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='active'"), 1);

	/* the revoked-keys file, and what OpenSSH makes of it */
	listed[0] = k1;
	assert_revfile(listed, 1);
	cr_assert(krl_revoked(k1), "ssh-keygen -Q: k1 not revoked");
	cr_assert(!krl_revoked(k2), "ssh-keygen -Q: k2 revoked too");
	cr_assert(!krl_revoked(k3), "ssh-keygen -Q: k3 revoked too");
	free(b1);
	free(b3);
}

/*
 * A user who can open /etc/ssh (any user: it is 0755) and flocks it holds
 * nothing keyadm waits for: its lock there is a root-only file.  Else one
 * "flock /etc/ssh sleep 1d" would stop every revocation on the host.
 */
Test(revoke, users_flock_on_etc_ssh_does_not_stop_a_revoke)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], fp1[128], dir[PATH_MAX], c;
	const char		*listed[1];
	int			 p[2], fd;
	pid_t			 pid;

	if (geteuid() != 0)
		cr_skip_test("needs root: the holder is another user");
	key("ed25519", "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	KA_OK("add", "bob", k1);
	cr_assert_eq(mkdir(tp(dir, "etc/ssh"), 0755) == 0 || errno == EEXIST,
	    1);
	cr_assert_eq(pipe(p), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		/* the user's descriptor on the directory, then the user */
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) == -1 ||
		    setgroups(0, NULL) == -1 ||
		    setresgid(65534, 65534, 65534) == -1 ||
		    setresuid(65534, 65534, 65534) == -1 ||
		    flock(fd, LOCK_EX) == -1 || write(p[1], "x", 1) != 1)
			_exit(1);
		(void)sleep(60);
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1, "the holder could not lock");
	close(p[0]);
	(void)ka(&r, NULL, "revoke", fp1, "--reason", "left", NULL);
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	run_free(&r);
	listed[0] = k1;
	assert_revfile(listed, 1);
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='active'"), 0);
}

/* KEY in all three forms; the file grows one line per key, in order. */
Test(revoke, revoke_by_fingerprint_pub_file_and_grant_id_accumulate)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				 k4[PATH_MAX], fp1[128], fp3[128], id[32],
				 ak[PATH_MAX];
	const char		*listed[3] = { k1, k2, k3 };

	key("ed25519", "k1", k1, fp1);
	key("ecdsa", "k2", k2, NULL);
	key("ed25519", "k3", k3, fp3);
	key("ed25519", "k4", k4, NULL);
	KA_OK("add", "alice", k1, k2, k3, k4);

	KA_OK("revoke", fp1, "--reason", "one");
	cr_assert_eq(ka(&r, NULL, "revoke", k2, "--reason", "two", NULL), 0,
	    "%s", r.err);
	cr_assert(strstr(r.out, "(ECDSA): listed in ") != NULL, "%s", r.out);
	run_free(&r);
	xsnprintf(id, sizeof(id), "%ld", grant_id("alice", fp3));
	cr_assert_eq(ka(&r, NULL, "--json", "revoke", id, "--reason",
	    "three", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['revoked_keys_file']['changed'] is True\n"
	    "assert len(d['accounts']) == 1, d\n"
	    "assert d['accounts'][0]['user'] == 'alice'\n");
	cr_assert_eq(strtol(strstr(r.out, "\"id\":") + 5, NULL, 10),
	    strtol(id, NULL, 10), "%s", r.out);
	run_free(&r);

	assert_revfile(listed, 3);
	cr_assert(krl_revoked(k1));
	cr_assert(krl_revoked(k2));
	cr_assert(krl_revoked(k3));
	cr_assert(!krl_revoked(k4));
	assert_file_as(akfile(ak, "alice"), k4);
}

/* A key keyadm never recorded can still be revoked from its .pub. */
Test(revoke, revoke_unrecorded_key_from_its_pub_file)
{
	struct run_result	r;
	char			k1[PATH_MAX], fp1[128];
	const char		*listed[1] = { k1 };

	key("ed25519", "k1", k1, fp1);
	cr_assert_eq(ka(&r, NULL, "--json", "revoke", k1, "--reason",
	    "published on a forum", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['accounts'] == [] and d['changed'] is True\n"
	    "assert d['revoked_keys_file']['changed'] is True\n");
	run_free(&r);
	assert_revfile(listed, 1);
	cr_assert(krl_revoked(k1));
	/* and now it is known: by fingerprint it is "already listed" */
	cr_assert_eq(ka(&r, NULL, "revoke", fp1, "--reason", "again", NULL), 0,
	    "%s", r.err);
	cr_assert(strstr(r.out, "already listed") != NULL, "%s", r.out);
	run_free(&r);
}

/* Revoking twice: exit 0, "already listed", changed false, file as it was. */
Test(revoke, revoke_twice_is_already_listed)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], fp1[128], rf[PATH_MAX], *b, *a;
	size_t			 bl, al;

	key("ed25519", "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	KA_OK("revoke", fp1, "--reason", "first");
	b = slurp(tp(rf, REVFILE_REL), &bl);

	cr_assert_eq(ka(&r, NULL, "revoke", fp1, "--reason", "second", NULL),
	    0, "%s", r.err);
	cr_assert(strstr(r.out, "already listed in") != NULL, "%s", r.out);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "revoke", k1, "--reason", "third",
	    NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['changed'] is False, d\n"
	    "assert d['revoked_keys_file']['changed'] is False\n"
	    "a = d['accounts']\n"
	    "assert len(a) == 1 and a[0]['user'] == 'alice', a\n"
	    "assert a[0]['lines_removed'] == 0 and a[0]['id'] is None, a\n");
	run_free(&r);
	a = slurp(rf, &al);
	assert_same(rf, b, bl, a, al);
	free(a);
	free(b);
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='revoked'"), 1);
}

/* An existing file: its lines kept byte for byte, the new key appended. */
Test(revoke, revoke_appends_to_an_existing_revoked_keys_file)
{
	char		 k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX], fp1[128],
			 rf[PATH_MAX], d[PATH_MAX], pre[2048], exp[4096];
	char		*b2, *b1;
	struct stat	 st;

	key("ed25519", "k1", k1, fp1);
	key("ecdsa", "k2", k2, NULL);
	key("ed25519", "k3", k3, NULL);
	b1 = pub_typeb64(k1);
	b2 = pub_typeb64(k2);
	mkdirs(tp(d, "etc/ssh"), 0755);
	xsnprintf(pre, sizeof(pre), "# site list\n\n%s an old comment\n"
	    "# end, no LF", b2);
	spew(tp(rf, REVFILE_REL), pre, strlen(pre), 0600);
	KA_OK("add", "alice", k1);
	KA_OK("revoke", fp1, "--reason", "x");
	xsnprintf(exp, sizeof(exp), "%s\n%s\n", pre, b1);
	assert_file(rf, exp);
	cr_assert_eq(lstat(rf, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "mode %04o",
	    st.st_mode & 07777);
	cr_assert(krl_revoked(k1));
	cr_assert(krl_revoked(k2));
	cr_assert(!krl_revoked(k3));
	free(b1);
	free(b2);
}

/* ----------------------------------------------- revoke: one account */

/*
 * --user while another account keeps the key: only that account's lines
 * and grant go, the key is not listed, and stderr says so.  Revoking the
 * last account lists it.
 */
Test(revoke, revoke_user_while_others_keep_the_key)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], fp1[128], ak[PATH_MAX],
				 rf[PATH_MAX], *bob, *now;
	size_t			 bl, nl;
	const char		*listed[1] = { k1 };

	key("ed25519", "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	KA_OK("add", "bob", k1);
	bob = slurp(akfile(ak, "bob"), &bl);

	cr_assert_eq(ka(&r, NULL, "--json", "revoke", k1, "--user", "alice",
	    "--reason", "left the team", NULL), 0, "%s", r.err);
	cr_assert(strstr(r.err, "not listed in") != NULL &&
	    strstr(r.err, REVFILE_REL) != NULL && strstr(r.err, fp1) != NULL,
	    "stderr must say the key is not listed:\n%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['revoked_keys_file'] is None, d\n"
	    "assert d['changed'] is True\n"
	    "assert [a['user'] for a in d['accounts']] == ['alice']\n"
	    "assert d['accounts'][0]['lines_removed'] == 1\n");
	run_free(&r);
	assert_file(akfile(ak, "alice"), "");
	now = slurp(akfile(ak, "bob"), &nl);
	assert_same("bob's file", bob, bl, now, nl);
	free(now);
	assert_absent(tp(rf, REVFILE_REL));
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='active' and user='bob'"), 1);
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='revoked' and user='alice'"), 1);

	/* the last account that has it: now it is listed */
	cr_assert_eq(ka(&r, NULL, "revoke", fp1, "--user", "bob", "--reason",
	    "left too", NULL), 0, "%s", r.err);
	cr_assert_str_eq(r.err, "");
	run_free(&r);
	assert_file(akfile(ak, "bob"), "");
	assert_revfile(listed, 1);
	cr_assert(krl_revoked(k1));
	free(bob);
}

/* A grant id names one account, like --user. */
Test(revoke, revoke_grant_id_while_others_keep_the_key)
{
	struct run_result	r;
	char			k1[PATH_MAX], fp1[128], ak[PATH_MAX],
				rf[PATH_MAX], ida[32], idb[32];
	const char		*listed[1] = { k1 };

	key("ed25519", "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	KA_OK("add", "bob", k1);
	xsnprintf(ida, sizeof(ida), "%ld", grant_id("alice", fp1));
	xsnprintf(idb, sizeof(idb), "%ld", grant_id("bob", fp1));

	/* a grant id and a --user that disagree */
	cr_assert_eq(ka(&r, NULL, "revoke", ida, "--user", "bob", "--reason",
	    "x", NULL), 64, "%s", r.err);
	run_free(&r);

	cr_assert_eq(ka(&r, NULL, "revoke", ida, "--reason", "x", NULL), 0,
	    "%s", r.err);
	cr_assert(strstr(r.err, "not listed in") != NULL, "%s", r.err);
	run_free(&r);
	assert_absent(tp(rf, REVFILE_REL));
	assert_file(akfile(ak, "alice"), "");
	assert_file_as(akfile(ak, "bob"), k1);

	cr_assert_eq(ka(&r, NULL, "revoke", idb, "--reason", "x", NULL), 0,
	    "%s", r.err);
	run_free(&r);
	assert_revfile(listed, 1);
	assert_file(akfile(ak, "bob"), "");
}

/* An account deleted since: its grant is still revoked, the key listed. */
Test(revoke, revoke_for_an_account_deleted_since)
{
	struct run_result	r;
	char			k1[PATH_MAX], fp1[128], pw[PATH_MAX],
				text[512];
	const char		*listed[1] = { k1 };

	key("ed25519", "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	xsnprintf(text, sizeof(text), "root:x:0:0:root:/root:/bin/sh\n"
	    "bob:x:%u:%u:Bob:/home/bob:/bin/sh\n", (unsigned)T.bob_uid,
	    (unsigned)T.bob_gid);
	spew(tp(pw, "etc/passwd"), text, strlen(text), 0644);
	cr_assert_eq(ka(&r, NULL, "--json", "revoke", fp1, "--reason",
	    "account closed", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "a = d['accounts']\n"
	    "assert len(a) == 1 and a[0]['user'] == 'alice', a\n"
	    "assert a[0]['account_exists'] is False and a[0]['path'] is None\n"
	    "assert d['changed'] is True\n");
	run_free(&r);
	assert_revfile(listed, 1);
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='revoked' and user='alice'"), 1);
}

/*
 * --user naming an account that neither exists nor ever had a grant is a
 * typo, not a no-op: 67 "unknown user".  (An account deleted since, with
 * grants, is revoke_for_an_account_deleted_since.)
 */
Test(revoke, revoke_user_unknown_and_without_grant_is_67)
{
	struct run_result	r;
	char			k1[PATH_MAX], fp1[128], rf[PATH_MAX];

	key("ed25519", "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	cr_assert_eq(ka(&r, NULL, "revoke", fp1, "--user", "zed", "--reason",
	    "typo", NULL), 67, "--user zed (no such account, no grant): exit "
	    "%d, expected 67\nstdout:\n%s\nstderr:\n%s", r.status, r.out,
	    r.err);
	run_free(&r);
	assert_absent(tp(rf, REVFILE_REL));
}

/* ----------------------------------------------- revoke: refusals */

/* Usage, unknown keys and grants; nothing at all changes. */
Test(revoke, revoke_refusals_change_nothing)
{
	static const struct {
		int		 code;
		const char	*args[8];	/* "FP": k1's fingerprint */
		const char	*err;		/* in stderr */
	} cases[] = {
		{ 64, { "revoke", "FP", NULL }, "usage: keyadm revoke" },
		{ 64, { "revoke", "FP", "--user", "alice", NULL },
		    "usage: keyadm revoke" },
		{ 64, { "revoke", "--reason", "x", NULL },
		    "usage: keyadm revoke" },
		{ 64, { "revoke", "FP", "FP", "--reason", "x", NULL },
		    "usage: keyadm revoke" },
		{ 64, { "revoke", "FP", "--reason", "", NULL }, "--reason" },
		{ 64, { "revoke", "FP", "--reason", "two\nlines", NULL },
		    "--reason" },
		{ 64, { "revoke", "FP", "--reason", "tab\there", NULL },
		    "--reason" },
		{ 64, { "revoke", "FP", "--reason", "esc\033[31m", NULL },
		    "--reason" },
		{ 66, { "revoke",
		    "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		    "--reason", "x", NULL }, "not in the store" },
		{ 66, { "revoke", "999", "--reason", "x", NULL },
		    "999: no such grant" },
		{ 66, { "revoke", "NOPE", "--reason", "x", NULL },
		    "no such file" },
		{ 67, { "revoke", "FP", "--user", "bad user", "--reason", "x",
		    NULL }, "not a valid user name" },
	};
	struct run_result	 r;
	char			 k1[PATH_MAX], fp1[128], ak[PATH_MAX],
				 nope[PATH_MAX], rf[PATH_MAX];
	char			*db0, *db1, *f0, *f1;
	const char		*args[8];
	size_t			 i, j, l0, l1;

	key("ed25519", "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	xsnprintf(nope, sizeof(nope), "%s/nope.pub", T.inbox);
	db0 = store_dump();
	f0 = slurp(akfile(ak, "alice"), &l0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (j = 0; cases[i].args[j] != NULL; j++)
			args[j] = strcmp(cases[i].args[j], "FP") == 0 ? fp1 :
			    strcmp(cases[i].args[j], "NOPE") == 0 ? nope :
			    cases[i].args[j];
		args[j] = NULL;
		cr_assert_eq(kav(&r, args), cases[i].code, "case %zu (%s %s "
		    "...): exit %d, expected %d; stderr:\n%s", i, args[1],
		    args[2] != NULL ? args[2] : "", r.status, cases[i].code,
		    r.err);
		cr_assert(strstr(r.err, cases[i].err) != NULL, "case %zu: "
		    "stderr lacks \"%s\":\n%s", i, cases[i].err, r.err);
		cr_assert(strncmp(r.err, "keyadm: ", 8) == 0, "%s", r.err);
		run_free(&r);
	}
	db1 = store_dump();
	cr_assert_str_eq(db0, db1, "a refused revoke changed the store");
	f1 = slurp(akfile(ak, "alice"), &l1);
	assert_same("alice's file", f0, l0, f1, l1);
	assert_absent(tp(rf, REVFILE_REL));
	free(db0);
	free(db1);
	free(f0);
	free(f1);
}

/* A ".pub" holding a private key: refused, and not one piece echoed. */
Test(revoke, revoke_private_key_refused_without_echoing_it)
{
	struct run_result	 r;
	char			 priv[PATH_MAX], stolen[PATH_MAX], rf[PATH_MAX],
				 win[17];
	char			*secret, *line, *save = NULL;
	size_t			 len, i, n;
	int			 json;

	tree_keygen(&T, "ed25519", 0, "victim@host", "victim", priv,
	    sizeof(priv));
	secret = slurp(priv, &len);
	xsnprintf(stolen, sizeof(stolen), "%s/stolen.pub", T.inbox);
	spew(stolen, secret, len, 0600);
	for (json = 0; json <= 1; json++) {
		char *copy = strdup(secret);

		cr_assert_not_null(copy);
		if (json)
			cr_assert_eq(ka(&r, NULL, "--json", "revoke", stolen,
			    "--reason", "x", NULL), 65, "%s", r.err);
		else
			cr_assert_eq(ka(&r, NULL, "revoke", stolen, "--reason",
			    "x", NULL), 65, "%s", r.err);
		cr_assert(strstr(r.err, "private key") != NULL, "%s", r.err);
		/* every 16-character piece of the base64 */
		save = NULL;
		for (line = strtok_r(copy, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (strncmp(line, "-----", 5) == 0)
				continue;
			n = strlen(line);
			for (i = 0; i + 16 <= n; i++) {
				memcpy(win, line + i, 16);
				win[16] = '\0';
				cr_assert(!mem_contains(r.out, r.outlen, win) &&
				    !mem_contains(r.err, r.errlen, win),
				    "private key material printed (%s)", win);
			}
		}
		if (json)
			pyjson(r.out, r.outlen, "assert 'error' in d, d\n");
		run_free(&r);
		free(copy);
	}
	assert_absent(tp(rf, REVFILE_REL));
	free(secret);
}

/* ------------------------------------------------ add after revoke */

Test(revoke, add_after_revoke_needs_force_and_reason)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				 ak[PATH_MAX], *f0, *f1;
	size_t			 l0, l1;
	const char		*listed1[2] = { k1, k2 }, *listed2[1] = { k2 };

	key("ed25519", "k1", k1, fp1);
	key("ed25519", "k2", k2, NULL);
	KA_OK("add", "alice", k1, k2);
	KA_OK("add", "bob", k1);
	KA_OK("revoke", fp1, "--reason", "suspected leak");
	KA_OK("revoke", k2, "--reason", "other");
	assert_revfile(listed1, 2);
	f0 = slurp(akfile(ak, "alice"), &l0);

	cr_assert_eq(ka(&r, NULL, "add", "alice", k1, NULL), 1, "%s", r.err);
	cr_assert(strstr(r.err, "is revoked") != NULL &&
	    strstr(r.err, "--force") != NULL, "%s", r.err);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "add", "alice", k1, "--force", NULL), 64);
	cr_assert(strstr(r.err, "--force") != NULL &&
	    strstr(r.err, "--reason") != NULL, "%s", r.err);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "add", "alice", k1, "--force", "--reason",
	    "", NULL), 64, "%s", r.err);
	run_free(&r);
	f1 = slurp(akfile(ak, "alice"), &l1);
	assert_same("alice's file after refusals", f0, l0, f1, l1);
	free(f1);
	assert_revfile(listed1, 2);

	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", k1, "--force",
	    "--reason", "cleared by security, ticket 12", NULL), 0, "%s",
	    r.err);
	pyjson(r.out, r.outlen,
	    "assert d['changed'] is True\n"
	    "assert d['grants'][0]['action'] == 'added', d\n");
	run_free(&r);
	assert_file_as(akfile(ak, "alice"), k1);
	/* out of the file: sshd would refuse it otherwise; k2 stays */
	assert_revfile(listed2, 1);
	cr_assert(!krl_revoked(k1));
	cr_assert(krl_revoked(k2));
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='active' and user='alice'"), 1);

	/* bob's own grant was revoked: still refused for bob */
	cr_assert_eq(ka(&r, NULL, "add", "bob", k1, NULL), 1, "%s", r.err);
	cr_assert(strstr(r.err, "revoked") != NULL, "%s", r.err);
	run_free(&r);
	free(f0);
}

/* ------------------------------------------------------- add options */

Test(revoke, add_options_are_written_canonically_and_recorded)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], ak[PATH_MAX],
				 line[4096], *b1, *b2;

	key("ed25519", "k1", k1, NULL);
	key("ecdsa", "k2", k2, NULL);
	b1 = pub_typeb64(k1);
	b2 = pub_typeb64(k2);
	/* restrict given last still comes first; expiry-time last */
	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", k1,
	    "--from", "10.0.0.0/8,*.example.com",
	    "--command", "/usr/bin/aspshell",
	    "--option", "no-port-forwarding",
	    "--option", "permitopen=host:22",
	    "--option", "environment=NAME=value",
	    "--expires", "2027-06-30",
	    "--restrict", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "g = d['grants'][0]\n"
	    "assert g['action'] == 'added', g\n"
	    "assert g['options'] == 'restrict,from=\"10.0.0.0/8,*.example.com\","
	    "command=\"/usr/bin/aspshell\",no-port-forwarding,"
	    "permitopen=\"host:22\",environment=\"NAME=value\","
	    "expiry-time=\"20270630000000Z\"', g\n"
	    "assert g['expires_at'] == '2027-06-30T00:00:00Z', g\n");
	run_free(&r);
	xsnprintf(line, sizeof(line), "restrict,from=\"10.0.0.0/8,"
	    "*.example.com\",command=\"/usr/bin/aspshell\",no-port-forwarding,"
	    "permitopen=\"host:22\",environment=\"NAME=value\","
	    "expiry-time=\"20270630000000Z\" %s k1\n", b1);
	assert_file(akfile(ak, "alice"), line);

	cr_assert_eq(ka(&r, NULL, "--json", "list", "alice", NULL), 0);
	pyjson(r.out, r.outlen,
	    "assert len(d) == 1\n"
	    "assert d[0]['options'].startswith('restrict,from=')\n"
	    "assert d[0]['options'].endswith("
	    "',expiry-time=\"20270630000000Z\"')\n"
	    "assert d[0]['expires_at'] == '2027-06-30T00:00:00Z'\n");
	run_free(&r);

	/* '"' written as \"; a duration counts from now */
	cr_assert_eq(ka(&r, NULL, "--json", "add", "bob", k2, "--command",
	    "say \"hi\" now", "--expires", "90d", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "import datetime, re\n"
	    "g = d['grants'][0]\n"
	    "m = re.fullmatch(r'command=\"say \\\\\"hi\\\\\" now\","
	    "expiry-time=\"(\\d{14})Z\"', g['options'])\n"
	    "assert m, g['options']\n"
	    "t = datetime.datetime.strptime(g['expires_at'], "
	    "'%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)\n"
	    "assert t.strftime('%Y%m%d%H%M%S') == m.group(1), g\n"
	    "left = (t - datetime.datetime.now(datetime.timezone.utc))."
	    "total_seconds()\n"
	    "assert abs(left - 90 * 86400) < 120, left\n");
	run_free(&r);
	{
		char *got = slurp(akfile(ak, "bob"), NULL);

		xsnprintf(line, sizeof(line), "command=\"say \\\"hi\\\" now\","
		    "expiry-time=\"");
		cr_assert(strncmp(got, line, strlen(line)) == 0, "%s", got);
		cr_assert(strstr(got, b2) != NULL);
		free(got);
	}
	free(b1);
	free(b2);
}

/* Values sshd would refuse (or keyadm must not write): 64, nothing done. */
Test(revoke, add_bad_option_values_are_refused)
{
	static const struct {
		const char	*flag, *value;	/* value NULL: a lone flag */
	} bad[] = {
		{ "--option", "bogus" },
		{ "--option", "permitopen=host:70000" },
		{ "--option", "permitopen=host" },
		{ "--option", "permitlisten=70000" },
		{ "--from", "10.0.0.1/8" },
		{ "--from", "10.0.0.0/33" },
		{ "--from", "" },
		{ "--option", "environment=BAD-NAME=x" },
		{ "--option", "environment=NOVALUE" },
		{ "--command", "/usr/bin/foo\\" },
		{ "--command", "" },
		{ "--expires", "2020-01-01" },
		{ "--expires", "garbage" },
		{ "--expires", "0d" },
		{ "--expires", "-5d" },
		{ "--option", "expiry-time=20300101000000Z" },
		{ "--option", "principals=alice" },
		{ "--option", "cert-authority" },
		{ "--option", "no-pty=yes" },
	};
	struct run_result	r;
	char			k1[PATH_MAX], p[PATH_MAX], pre[64];
	const char		*args[8];
	size_t			i;

	key("ed25519", "k1", k1, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		args[0] = "add";
		args[1] = "alice";
		args[2] = k1;
		args[3] = bad[i].flag;
		args[4] = bad[i].value;
		args[5] = NULL;
		cr_assert_eq(kav(&r, args), 64, "%s '%s': exit %d, expected 64;"
		    " stderr:\n%s", bad[i].flag, bad[i].value, r.status,
		    r.err);
		xsnprintf(pre, sizeof(pre), "keyadm: %s: ", bad[i].flag);
		cr_assert(strncmp(r.err, pre, strlen(pre)) == 0 &&
		    strchr(r.err, '\n') == r.err + r.errlen - 1,
		    "%s '%s': want one line \"%s...\", got:\n%s", bad[i].flag,
		    bad[i].value, pre, r.err);
		run_free(&r);
	}
	/* --no-options with options */
	cr_assert_eq(ka(&r, NULL, "add", "alice", k1, "--no-options",
	    "--from", "10.0.0.0/8", NULL), 64, "%s", r.err);
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh"));
	assert_absent(tp(p, DB_REL));
}

/* --no-options with --restrict is refused like any other option (64). */
Test(revoke, add_no_options_with_restrict_is_refused)
{
	struct run_result	r;
	char			k1[PATH_MAX], p[PATH_MAX];

	key("ed25519", "k1", k1, NULL);
	cr_assert_eq(ka(&r, NULL, "add", "alice", k1, "--no-options",
	    "--restrict", NULL), 64, "--no-options --restrict: exit %d, "
	    "expected 64; stdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh"));
}

/*
 * The same key again: new options update its line in place (its
 * duplicates go, other lines stay), no options change nothing, and
 * --no-options clears them.
 */
Test(revoke, add_again_updates_options_in_place)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				 ak[PATH_MAX], text[4096], exp[4096];
	char			*b1, *b2, *f0, *f1;
	size_t			 l0, l1;
	long			 id;

	key("ed25519", "k1", k1, fp1);
	key("ed25519", "k2", k2, NULL);
	b1 = pub_typeb64(k1);
	b2 = pub_typeb64(k2);
	xsnprintf(text, sizeof(text), "# top\n%s k2\n\n", b2);
	put_ak("alice", text);
	KA_OK("add", "alice", k1, "--from", "10.0.0.0/8");
	id = grant_id("alice", fp1);
	append_text(akfile(ak, "alice"), "# tail\n");
	{	/* a copy of the key by hand, after the tail */
		char dup[1024];

		xsnprintf(dup, sizeof(dup), "%s hand copy\n", b1);
		append_text(ak, dup);
	}

	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", k1, "--restrict",
	    "--expires", "2027-01-01", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "g = d['grants'][0]\n"
	    "assert d['changed'] is True and g['action'] == 'updated', d\n"
	    "assert g['options'] == "
	    "'restrict,expiry-time=\"20270101000000Z\"', g\n"
	    "assert g['expires_at'] == '2027-01-01T00:00:00Z'\n");
	run_free(&r);
	cr_assert_eq(grant_id("alice", fp1), id, "a new grant, not an update");
	xsnprintf(exp, sizeof(exp), "# top\n%s k2\n\n"
	    "restrict,expiry-time=\"20270101000000Z\" %s k1\n# tail\n", b2,
	    b1);
	assert_file(ak, exp);
	cr_assert_eq(ka(&r, NULL, "--json", "list", "alice", "--status", "all",
	    NULL), 0);
	pyjson(r.out, r.outlen,
	    "assert len(d) == 1, d\n"
	    "assert d[0]['options'] == "
	    "'restrict,expiry-time=\"20270101000000Z\"'\n"
	    "assert d[0]['expires_at'] == '2027-01-01T00:00:00Z'\n");
	run_free(&r);

	/* no option flags: nothing changes, not even the file's inode */
	f0 = slurp(ak, &l0);
	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", k1, NULL), 0);
	pyjson(r.out, r.outlen,
	    "assert d['changed'] is False\n"
	    "assert d['grants'][0]['action'] == 'unchanged', d\n"
	    "assert d['grants'][0]['options'] == "
	    "'restrict,expiry-time=\"20270101000000Z\"'\n");
	run_free(&r);
	f1 = slurp(ak, &l1);
	assert_same(ak, f0, l0, f1, l1);
	free(f0);
	free(f1);

	/* --no-options clears them */
	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", k1, "--no-options",
	    NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "g = d['grants'][0]\n"
	    "assert g['action'] == 'updated' and g['options'] is None, g\n"
	    "assert g['expires_at'] is None\n");
	run_free(&r);
	xsnprintf(exp, sizeof(exp), "# top\n%s k2\n\n%s k1\n# tail\n", b2, b1);
	assert_file(ak, exp);
	cr_assert_eq(ka(&r, NULL, "--json", "list", "alice", NULL), 0);
	pyjson(r.out, r.outlen,
	    "assert d[0]['options'] is None and d[0]['expires_at'] is None\n");
	run_free(&r);
	free(b1);
	free(b2);
}

/* ------------------------------------------------------------ expire */

Test(revoke, expire_removes_passed_grants_only)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				 fp1[128], fp2[128], fp3[128], ak[PATH_MAX],
				 col[32], *b2, *b3, exp[2048];
	long			 a1, a2, b1id, b3id;

	key("ed25519", "k1", k1, fp1);
	key("ed25519", "k2", k2, fp2);
	key("ecdsa", "k3", k3, fp3);
	KA_OK("add", "alice", k1, "--expires", "2s");
	KA_OK("add", "bob", k1, "--expires", "2s");
	KA_OK("add", "alice", k2, "--expires", "90d");
	KA_OK("add", "bob", k3);
	a1 = grant_id("alice", fp1);
	a2 = grant_id("alice", fp2);
	b1id = grant_id("bob", fp1);
	b3id = grant_id("bob", fp3);
	/* 90 days left, or a second less */
	list_expires("active", a2, col, sizeof(col));
	cr_assert(strcmp(col, "89d") == 0 || strcmp(col, "90d") == 0,
	    "EXPIRES of a 90d grant: %s", col);
	list_expires("active", b3id, col, sizeof(col));
	cr_assert_str_eq(col, "never");
	(void)sleep(3);
	list_expires("active", a1, col, sizeof(col));
	cr_assert_str_eq(col, "expired", "EXPIRES of a passed grant: %s",
	    col);

	cr_assert_eq(ka(&r, NULL, "--json", "expire", NULL), 0, "%s", r.err);
	cr_assert_str_eq(r.err, "");
	pyjson(r.out, r.outlen,
	    "assert d['changed'] is True and d['dry_run'] is False\n"
	    "e = sorted((x['user'], x['lines_removed']) for x in d['accounts'])\n"
	    "assert e == [('alice', 1), ('bob', 1)], d\n"
	    "for x in d['accounts']:\n"
	    "    assert x['path'].endswith('/home/%s/.ssh/authorized_keys' % "
	    "x['user'])\n"
	    "    assert x['account_exists'] is True\n"
	    "    assert len(x['grants']) == 1, x\n"
	    "    g = x['grants'][0]\n"
	    "    assert g['fingerprint'].startswith('SHA256:')\n"
	    "    assert isinstance(g['id'], int) and g['lines_removed'] == 1\n"
	    "    assert g['expires_at'].endswith('Z')\n");
	run_free(&r);

	b2 = pub_typeb64(k2);
	b3 = pub_typeb64(k3);
	xsnprintf(exp, sizeof(exp), "expiry-time=\"");
	{
		char *got = slurp(akfile(ak, "alice"), NULL);

		cr_assert(strncmp(got, exp, strlen(exp)) == 0 &&
		    strstr(got, b2) != NULL && strchr(got, '\n') ==
		    got + strlen(got) - 1, "alice's file:\n%s", got);
		free(got);
	}
	xsnprintf(exp, sizeof(exp), "%s k3\n", b3);
	assert_file(akfile(ak, "bob"), exp);

	cr_assert_eq(ka(&r, NULL, "--json", "list", "--status", "expired",
	    NULL), 0);
	pyjson(r.out, r.outlen,
	    "assert sorted(g['user'] for g in d) == ['alice', 'bob'], d\n"
	    "assert all(g['status'] == 'expired' for g in d)\n");
	run_free(&r);
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='active'"), 2);
	list_expires("all", b1id, col, sizeof(col));
	cr_assert_str_eq(col, "-");

	/* nothing left to do */
	cr_assert_eq(ka(&r, NULL, "--json", "expire", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d == {'dry_run': False, 'accounts': [], 'changed': False}, "
	    "d\n");
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "expire", NULL), 0, "%s", r.err);
	run_free(&r);
	free(b2);
	free(b3);
}

Test(revoke, expire_with_nothing_to_do)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], ak[PATH_MAX], *f0, *f1;
	size_t			 l0, l1;

	cr_assert_eq(ka(&r, NULL, "--json", "expire", "--dry-run", NULL), 0,
	    "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['dry_run'] is True and d['accounts'] == [] and "
	    "d['changed'] is False, d\n");
	run_free(&r);
	key("ed25519", "k1", k1, NULL);
	KA_OK("add", "alice", k1, "--expires", "1h");
	f0 = slurp(akfile(ak, "alice"), &l0);
	cr_assert_eq(ka(&r, NULL, "expire", NULL), 0, "%s", r.err);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "expire", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['accounts'] == [] and d['changed'] is False, d\n");
	run_free(&r);
	f1 = slurp(ak, &l1);
	assert_same(ak, f0, l0, f1, l1);
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='active'"), 1);
	free(f0);
	free(f1);
}

/* ------------------------------------------------------------ dry run */

/*
 * revoke --dry-run: a diff for every file that would change, nothing
 * changed (files and store); the diffs applied with patch are exactly
 * what the real run writes.  Once with no revoked-keys file yet, once
 * with one (no final LF).
 */
static void
revoke_dry_run(int revfile_exists)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				 fp1[128], aa[PATH_MAX], ab[PATH_MAX],
				 rf[PATH_MAX], d[PATH_MAX], text[4096];
	char			*b1, *b3, *db0, *db1, *fa, *fb, *frf, *x, *dry;
	size_t			 la, lb, lrf, lx;

	key("ed25519", "k1", k1, fp1);
	key("ed25519", "k2", k2, NULL);
	key("ecdsa", "k3", k3, NULL);
	b1 = pub_typeb64(k1);
	b3 = pub_typeb64(k3);
	KA_OK("add", "alice", k1, k2);
	KA_OK("add", "bob", k1);
	xsnprintf(text, sizeof(text), "# mid\n%s k3\n\n"
	    "no-pty,from=\"192.168.0.0/16\" %s copy\n# a\n# b\n# c\n# d\n"
	    "%s last\n", b3, b1, b1);
	append_text(akfile(aa, "alice"), text);
	akfile(ab, "bob");
	tp(rf, REVFILE_REL);
	if (revfile_exists) {
		mkdirs(tp(d, "etc/ssh"), 0755);
		xsnprintf(text, sizeof(text), "# ours\n%s\n# no LF", b3);
		spew(rf, text, strlen(text), 0644);
	}
	db0 = store_dump();
	fa = slurp(aa, &la);
	fb = slurp(ab, &lb);
	frf = slurp_opt(rf, &lrf);

	cr_assert_eq(ka(&r, NULL, "revoke", fp1, "--reason", "x", "--dry-run",
	    NULL), 0, "%s", r.err);
	cr_assert_str_eq(r.err, "");
	dry = r.out;
	r.out = NULL;
	cr_assert(strstr(dry, "would be listed in") != NULL, "%s", dry);
	cr_assert(strstr(dry, "alice: would revoke") != NULL, "%s", dry);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "revoke", fp1, "--reason", "x",
	    "--dry-run", NULL), 0, "%s", r.err);
	/* a dry run's "changed": whether it would change */
	pyjson(r.out, r.outlen,
	    "assert d['dry_run'] is True and d['changed'] is True\n"
	    "assert d['revoked_keys_file']['changed'] is True\n"
	    "assert d['revoked_keys_file']['diff'].startswith('--- ')\n"
	    "a = {x['user']: x for x in d['accounts']}\n"
	    "assert a['alice']['lines_removed'] == 3, a\n"
	    "assert a['bob']['lines_removed'] == 1, a\n");
	run_free(&r);

	/* nothing changed */
	db1 = store_dump();
	cr_assert_str_eq(db0, db1, "the dry run changed the store");
	free(db1);
	x = slurp(aa, &lx);
	assert_same(aa, fa, la, x, lx);
	free(x);
	x = slurp(ab, &lx);
	assert_same(ab, fb, lb, x, lx);
	free(x);
	x = slurp_opt(rf, &lx);
	assert_same(rf, frf, lrf, x, lx);
	free(x);
	if (!revfile_exists)
		assert_absent(tp(d, "etc/ssh"));

	/* the real run writes what the diffs say */
	KA_OK("revoke", fp1, "--reason", "x");
	assert_diff_applies(dry, aa, fa, la, 1);
	assert_diff_applies(dry, ab, fb, lb, 1);
	assert_diff_applies(dry, rf, frf, lrf, 1);
	cr_assert(krl_revoked(k1));
	cr_assert(krl_revoked(k3) == revfile_exists);
	free(dry);
	free(db0);
	free(fa);
	free(fb);
	free(frf);
	free(b1);
	free(b3);
}

Test(revoke, revoke_dry_run_new_revoked_keys_file)
{
	revoke_dry_run(0);
}

Test(revoke, revoke_dry_run_existing_revoked_keys_file)
{
	revoke_dry_run(1);
}

/* add --dry-run: new line, updated line, and --force's unlisting. */
Test(revoke, add_dry_run_diffs_apply_and_change_nothing)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], k3[PATH_MAX],
				 fp1[128], fp3[128], ak[PATH_MAX],
				 rf[PATH_MAX], text[4096];
	char			*b2, *db0, *db1, *f0, *f1, *r0, *dry;
	size_t			 l0, l1, lr0;

	key("ed25519", "k1", k1, fp1);
	key("ed25519", "k2", k2, NULL);
	key("ecdsa", "k3", k3, fp3);
	b2 = pub_typeb64(k2);
	xsnprintf(text, sizeof(text), "# one\n# two\n# three\n# four\n"
	    "%s hand\n# five\n# six\n# seven\n# eight\n", b2);
	put_ak("alice", text);
	akfile(ak, "alice");
	KA_OK("add", "alice", k1);
	KA_OK("add", "alice", k3);
	KA_OK("revoke", fp3, "--reason", "x");
	tp(rf, REVFILE_REL);

	/* 1: a new key with options (store present) */
	/* 2: k1 updated in place */
	/* 3: k3 back with --force: the revoked-keys file too */
	{
		const char *const runs[3][12] = {
			{ "add", "alice", "K2", "--restrict", "--from",
			    "10.0.0.0/8", "--expires", "2027-01-15", NULL },
			{ "add", "alice", "K1", "--command",
			    "/usr/bin/aspshell", "--option", "no-pty", NULL },
			{ "add", "alice", "K3", "--force", "--reason", "ok",
			    NULL },
		};
		const char	*args[16];
		int		 i, j;

		for (i = 0; i < 3; i++) {
			for (j = 0; runs[i][j] != NULL; j++)
				args[j] = strcmp(runs[i][j], "K1") == 0 ? k1 :
				    strcmp(runs[i][j], "K2") == 0 ? k2 :
				    strcmp(runs[i][j], "K3") == 0 ? k3 :
				    runs[i][j];
			args[j] = "--dry-run";
			args[j + 1] = NULL;
			db0 = store_dump();
			f0 = slurp(ak, &l0);
			r0 = slurp_opt(rf, &lr0);
			cr_assert_eq(kav(&r, args), 0, "run %d: %s", i, r.err);
			cr_assert(strstr(r.out, "(dry run)") != NULL, "%s",
			    r.out);
			dry = r.out;
			r.out = NULL;
			run_free(&r);
			db1 = store_dump();
			cr_assert_str_eq(db0, db1, "run %d: the dry run changed "
			    "the store", i);
			f1 = slurp(ak, &l1);
			assert_same(ak, f0, l0, f1, l1);
			free(f1);
			f1 = slurp_opt(rf, &l1);
			assert_same(rf, r0, lr0, f1, l1);
			free(f1);
			free(db1);
			/* the real thing: same arguments without --dry-run */
			args[j] = NULL;
			cr_assert_eq(kav(&r, args), 0, "run %d: %s", i, r.err);
			run_free(&r);
			assert_diff_applies(dry, ak, f0, l0, 1);
			assert_diff_applies(dry, rf, r0, lr0, i == 2);
			free(dry);
			free(db0);
			free(f0);
			free(r0);
		}
	}
	cr_assert(!krl_revoked(k3));
	free(b2);
}

Test(revoke, expire_dry_run_diff_applies_and_changes_nothing)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], ak[PATH_MAX],
				 *db0, *db1, *f0, *f1, *dry;
	size_t			 l0, l1;

	key("ed25519", "k1", k1, NULL);
	key("ed25519", "k2", k2, NULL);
	put_ak("alice", "# keep\n\n");
	KA_OK("add", "alice", k2);
	KA_OK("add", "alice", k1, "--expires", "1s", "--restrict");
	append_text(akfile(ak, "alice"), "# after\n");
	(void)sleep(2);
	db0 = store_dump();
	f0 = slurp(ak, &l0);
	cr_assert_eq(ka(&r, NULL, "expire", "--dry-run", NULL), 0, "%s",
	    r.err);
	cr_assert(strstr(r.out, "alice: would expire") != NULL, "%s", r.out);
	dry = r.out;
	r.out = NULL;
	run_free(&r);
	db1 = store_dump();
	cr_assert_str_eq(db0, db1, "expire --dry-run changed the store");
	f1 = slurp(ak, &l1);
	assert_same(ak, f0, l0, f1, l1);
	KA_OK("expire");
	assert_diff_applies(dry, ak, f0, l0, 1);
	cr_assert_eq(store_count("select count(*) from grants where "
	    "status='expired'"), 1);
	free(dry);
	free(db0);
	free(db1);
	free(f0);
	free(f1);
}

/*
 * The dry run's diff shows a backslash as it is written: for a line
 * keyadm writes with \" (--command 'say "hi"') the diff must reproduce
 * the file.  Only control and invisible bytes are shown escaped.
 */
Test(revoke, add_dry_run_diff_shows_backslashes_as_written)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], k2[PATH_MAX], ak[PATH_MAX];
	char			*f0, *dry;
	size_t			 l0;

	key("ed25519", "k1", k1, NULL);
	key("ed25519", "k2", k2, NULL);
	KA_OK("add", "alice", k1);
	f0 = slurp(akfile(ak, "alice"), &l0);
	cr_assert_eq(ka(&r, NULL, "add", "alice", k2, "--command",
	    "say \"hi\"", "--dry-run", NULL), 0, "%s", r.err);
	dry = r.out;
	r.out = NULL;
	run_free(&r);
	KA_OK("add", "alice", k2, "--command", "say \"hi\"");
	assert_diff_applies(dry, ak, f0, l0, 1);
	free(dry);
	free(f0);
}

/* ------------------------------------------------------ crash safety */

/*
 * A temporary left by a crash (".authorized_keys.keyadm~new"): a regular
 * file, or a symlink to a file elsewhere; the next add or revoke removes
 * it and leaves the link's target alone.  The same for the revoked-keys
 * file's temporary.
 */
Test(revoke, stale_temporaries_are_removed_not_followed)
{
	struct run_result	 r;
	struct stat		 st0, st1;
	char			 k1[PATH_MAX], k2[PATH_MAX], fp1[128],
				 tmp[PATH_MAX], rtmp[PATH_MAX], outside[PATH_MAX],
				 d[PATH_MAX];
	static const char	 secret[] = "not yours\n";

	key("ed25519", "k1", k1, fp1);
	key("ed25519", "k2", k2, NULL);
	KA_OK("add", "alice", k1);
	tp(tmp, "home/alice/.ssh/.authorized_keys.keyadm~new");
	spew(tmp, "half written\n", 13, 0600);
	cr_assert_eq(lchown(tmp, T.alice_uid, T.alice_gid), 0);
	KA_OK("add", "alice", k2);
	assert_absent(tmp);

	xsnprintf(outside, sizeof(outside), "%s/outside", T.base);
	spew(outside, secret, sizeof(secret) - 1, 0640);
	cr_assert_eq(stat(outside, &st0), 0);
	cr_assert_eq(symlink(outside, tmp), 0);
	mkdirs(tp(d, "etc/ssh"), 0755);
	tp(rtmp, "etc/ssh/.keyadm_revoked_keys.keyadm~new");
	cr_assert_eq(symlink(outside, rtmp), 0);

	cr_assert_eq(ka(&r, NULL, "revoke", fp1, "--reason", "x", NULL), 0,
	    "%s", r.err);
	run_free(&r);
	assert_absent(tmp);
	assert_absent(rtmp);
	assert_file(outside, secret);
	cr_assert_eq(stat(outside, &st1), 0);
	cr_assert_eq(st1.st_mode, st0.st_mode);
	cr_assert_eq(st1.st_uid, st0.st_uid);
	cr_assert_eq(st1.st_ino, st0.st_ino);
	cr_assert_eq(st1.st_mtim.tv_sec, st0.st_mtim.tv_sec);
	cr_assert_eq(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);
	assert_file_as(akfile(d, "alice"), k2);
	cr_assert(krl_revoked(k1));
}

/* --------------------------------------------------------------- JSON */

/* Every new command's --json: one document with the documented fields. */
Test(revoke, json_documents_have_the_documented_fields)
{
	struct run_result	r;
	char			k1[PATH_MAX], k2[PATH_MAX], fp1[128];
	static const char	revoke_fields[] =
	    "assert set(d) >= {'changed', 'dry_run', 'fingerprint', 'type', "
	    "'revoked_keys_file', 'accounts'}, sorted(d)\n"
	    "assert isinstance(d['changed'], bool)\n"
	    "assert isinstance(d['dry_run'], bool)\n"
	    "assert d['fingerprint'].startswith('SHA256:')\n"
	    "assert d['type'] == 'ssh-ed25519'\n"
	    "rf = d['revoked_keys_file']\n"
	    "assert rf is None or (isinstance(rf['path'], str) and "
	    "isinstance(rf['changed'], bool)), rf\n"
	    "for a in d['accounts']:\n"
	    "    assert set(a) >= {'user', 'path', 'lines_removed', 'id', "
	    "'account_exists'}, a\n"
	    "    assert isinstance(a['lines_removed'], int)\n"
	    "    assert isinstance(a['account_exists'], bool)\n";

	key("ed25519", "k1", k1, fp1);
	key("ed25519", "k2", k2, NULL);

	/* add: grants carry options and expires_at (null when none) */
	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", k1, k2,
	    "--expires", "2027-06-30", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert len(d['grants']) == 2\n"
	    "for g in d['grants']:\n"
	    "    assert set(g) >= {'fingerprint', 'action', 'id', 'options', "
	    "'expires_at'}, g\n"
	    "    assert g['expires_at'] == '2027-06-30T00:00:00Z'\n"
	    "    assert g['options'] == 'expiry-time=\"20270630000000Z\"'\n");
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "add", "bob", k1, NULL), 0, "%s",
	    r.err);
	pyjson(r.out, r.outlen,
	    "g = d['grants'][0]\n"
	    "assert 'options' in g and g['options'] is None, g\n"
	    "assert 'expires_at' in g and g['expires_at'] is None, g\n");
	run_free(&r);
	/* a dry run's add */
	cr_assert_eq(ka(&r, NULL, "--json", "add", "bob", k2, "--restrict",
	    "--dry-run", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['dry_run'] is True and d['changed'] is True, d\n"
	    "assert d['grants'][0]['options'] == 'restrict'\n");
	run_free(&r);

	/* revoke: dry run, --user (null file), everywhere */
	cr_assert_eq(ka(&r, NULL, "--json", "revoke", fp1, "--reason", "x",
	    "--dry-run", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen, revoke_fields);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "revoke", fp1, "--user", "bob",
	    "--reason", "x", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen, revoke_fields);
	pyjson(r.out, r.outlen, "assert d['revoked_keys_file'] is None\n");
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "revoke", fp1, "--reason", "x",
	    NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen, revoke_fields);
	pyjson(r.out, r.outlen,
	    "assert d['revoked_keys_file']['changed'] is True\n");
	run_free(&r);

	/* expire: real run, nothing to do */
	cr_assert_eq(ka(&r, NULL, "--json", "expire", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert set(d) >= {'dry_run', 'changed', 'accounts'}, d\n");
	run_free(&r);
	/* a failing revoke still prints one document */
	cr_assert_eq(ka(&r, NULL, "--json", "revoke", "4242", "--reason", "x",
	    NULL), 66);
	pyjson(r.out, r.outlen, "assert 'error' in d, d\n");
	run_free(&r);
}

/*
 * expire --dry-run --json with something to expire: one object per
 * account, its diff inside it.  (Once a bug: the diff landed as a bare
 * member inside the array, before the account's object.)
 */
Test(revoke, expire_dry_run_json_is_valid)
{
	struct run_result	r;
	char			k1[PATH_MAX];

	key("ed25519", "k1", k1, NULL);
	KA_OK("add", "alice", k1, "--expires", "1s");
	(void)sleep(2);
	cr_assert_eq(ka(&r, NULL, "--json", "expire", "--dry-run", NULL), 0,
	    "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['dry_run'] is True and d['changed'] is True\n"
	    "e = d['accounts']\n"
	    "assert len(e) == 1 and set(e[0]) >= {'user', 'path', 'diff', "
	    "'lines_removed', 'grants'}, e\n"
	    "assert e[0]['lines_removed'] == 1\n"
	    "assert e[0]['diff'].startswith('--- ' + e[0]['path']), e\n");
	run_free(&r);
}

/*
 * add --force --json for a listed key: the revoked-keys file's diff and
 * change in their own "revoked_keys_file" object, the authorized_keys
 * diff at the top.  (Once a bug: two "diff" members in one object, so
 * parsers kept only the last.)
 */
Test(revoke, add_force_json_reports_the_revoked_keys_file)
{
	struct run_result	r;
	char			k1[PATH_MAX], fp1[128];

	key("ed25519", "k1", k1, fp1);
	KA_OK("revoke", k1, "--reason", "x");
	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", k1, "--force",
	    "--reason", "back", "--dry-run", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['dry_run'] is True\n"
	    "rf = d['revoked_keys_file']\n"
	    "assert rf['path'].endswith('/etc/ssh/keyadm_revoked_keys'), rf\n"
	    "assert rf['diff'].startswith('--- ' + rf['path'] + '\\n'), rf\n"
	    "assert '\\n-ssh-ed25519 ' in rf['diff'], rf\n"
	    "assert d['diff'].startswith('--- ' + d['path'] + '\\n'), d\n");
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", k1, "--force",
	    "--reason", "back", NULL), 0, "%s", r.err);
	pyjson(r.out, r.outlen,
	    "assert d['changed'] is True\n"
	    "assert d['revoked_keys_file']['changed'] is True, d\n"
	    "assert d['grants'][0]['action'] == 'added'\n");
	run_free(&r);
	cr_assert(!krl_revoked(k1));
}

/*
 * Security review: revoke visits every account that ever had the key, so
 * a line put back by hand after an earlier revoke goes too.
 */
Test(revoke, revoke_again_removes_a_line_put_back)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], fp1[128], ak[PATH_MAX], *line;
	char			*now;
	size_t			 n;

	key("ed25519", "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	line = slurp(akfile(ak, "alice"), &n);
	KA_OK("revoke", fp1, "--reason", "first");
	spew(ak, line, n, 0600);
	cr_assert_eq(chown(ak, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(ka(&r, NULL, "revoke", fp1, "--reason", "again", NULL),
	    0, "%s", r.err);
	run_free(&r);
	now = slurp(ak, NULL);
	cr_assert_str_eq(now, "", "the line came back: %s", now);
	free(now);
	free(line);
}

/*
 * Security review: --expires alone renews a key and keeps its
 * restrictions; any other option flag replaces the whole set.
 */
Test(revoke, expires_alone_keeps_the_other_options)
{
	char	 k1[PATH_MAX], ak[PATH_MAX], *text;

	key("ed25519", "k1", k1, NULL);
	KA_OK("add", "alice", k1, "--restrict", "--from", "10.0.0.0/8",
	    "--expires", "7d");
	KA_OK("add", "alice", k1, "--expires", "90d");
	text = slurp(akfile(ak, "alice"), NULL);
	cr_assert(strncmp(text, "restrict,from=\"10.0.0.0/8\",expiry-time=\"",
	    40) == 0, "%s", text);
	cr_assert_null(strstr(strstr(text, "expiry-time") + 1, "expiry-time"),
	    "two expiry times: %s", text);
	free(text);
	KA_OK("add", "alice", k1, "--from", "10.0.0.0/8");
	text = slurp(ak, NULL);
	cr_assert(strncmp(text, "from=\"10.0.0.0/8\" ssh-ed25519 ", 30) == 0,
	    "%s", text);
	free(text);
}

/*
 * Security review: --force takes the key out of the revoked-keys file
 * only once it is installed; a failed install leaves it listed.
 */
Test(revoke, force_unlists_only_after_the_install)
{
	struct run_result	 r;
	char			 k1[PATH_MAX], fp1[128], rf[PATH_MAX], ssh[PATH_MAX];
	char			*b, *a;
	size_t			 bl, al;
	int			 fd;

	key("ed25519", "k1", k1, fp1);
	KA_OK("add", "alice", k1);
	KA_OK("revoke", fp1, "--reason", "stolen");
	b = slurp(tp(rf, REVFILE_REL), &bl);
	/* alice's .ssh is locked: the install cannot happen */
	fd = open(tp(ssh, "home/alice/.ssh"), O_RDONLY | O_DIRECTORY);
	cr_assert_neq(fd, -1);
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	spew(tp(ssh, "etc/keyadm.conf"), "busy_timeout_ms = 200\n", 22, 0644);
	cr_assert_eq(ka(&r, NULL, "add", "alice", k1, "--force", "--reason",
	    "found it", NULL), 75, "%s", r.err);
	run_free(&r);
	a = slurp(rf, &al);
	assert_same(rf, b, bl, a, al);
	free(a);
	(void)close(fd);
	KA_OK("add", "alice", k1, "--force", "--reason", "found it");
	cr_assert(!krl_revoked(k1));
	free(b);
}
