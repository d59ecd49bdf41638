/*
 * test_akcmd.c -- the built keyadm in a --root tree: authorized-keys USER
 * [TYPE BASE64], sshd's AuthorizedKeysCommand.
 *
 * Suite "akcmd": what is printed (byte for byte what add wrote into the
 * account's file), for a presented key, after revoke and expire, for a
 * grant whose time has passed; that homes and key files are never read;
 * the exit statuses.  Suite "akcmd_root" (root only, else skipped): a
 * store shared with a group (store_group) is read by an unprivileged
 * member of that group, and refused to anyone else.  Keys come from
 * ssh-keygen at test time; time passes by editing expires_at with the
 * sqlite3 shell, or with --expires 1s and a sleep.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "run.h"

#define DB_REL		"var/lib/keyadm/keyadm.db"
#define AK_REL		"home/alice/.ssh/authorized_keys"
#define USAGE		"keyadm: usage: keyadm authorized-keys USER " \
			"[TYPE BASE64]\n"

static struct tree	T;

/* keyadm --root T ARGS... (NULL-terminated) */
#define ka(r, ...)	tree_ka(&T, (r), NULL, __VA_ARGS__)
/* keyadm ... that must exit 0; the result is freed. */
#define KA_OK(...)	TREE_KA_OK(&T, __VA_ARGS__)
#define tp(buf, rel)	tree_path(&T, (buf), PATH_MAX, (rel))

/* A key of the tests: its files, fingerprint, and .pub fields. */
struct key {
	char	priv[PATH_MAX], pub[PATH_MAX];
	char	fp[128];
	char	type[128];
	char	b64[8192];
};

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

TestSuite(akcmd, .init = setup, .fini = teardown, .timeout = 120);

/* ----------------------------------------------------------- helpers */

/*
 * keyadm authorized-keys ARGS...: must exit 0 with nothing on stderr;
 * its output is returned (free it).
 */
static char * __attribute__((sentinel))
akc(const char *first, ...)
{
	struct run_result	 r;
	const char		*args[16], *a;
	va_list			 ap;
	char			*out;
	int			 n = 0;

	args[n++] = "authorized-keys";
	args[n++] = first;
	va_start(ap, first);
	while ((a = va_arg(ap, const char *)) != NULL) {
		cr_assert_lt(n, 15);
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	cr_assert_eq(tree_kav(&T, &r, NULL, args), 0, "authorized-keys %s: "
	    "exit %d; stderr:\n%s", first, r.status, r.err);
	cr_assert_str_empty(r.err, "authorized-keys %s: stderr:\n%s", first,
	    r.err);
	cr_assert_eq(strlen(r.out), r.outlen, "NUL in the output");
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

/* INBOX/name: a key of type (ssh-keygen -t) with comment name. */
static void
key(struct key *k, const char *type, const char *name)
{
	char	*text;
	int	 n;

	memset(k, 0, sizeof(*k));
	tree_keygen(&T, type, 0, name, name, k->priv, sizeof(k->priv));
	xsnprintf(k->pub, sizeof(k->pub), "%s.pub", k->priv);
	ssh_keygen_fingerprint(k->pub, k->fp, sizeof(k->fp));
	text = slurp(k->pub, NULL);
	n = sscanf(text, "%127s %8191s", k->type, k->b64);
	cr_assert_eq(n, 2, "%s: %s", k->pub, text);
	free(text);
}

/* sqlite3 DB SQL, which must succeed; its output is returned (free it). */
#define sql(text)	tree_sqlite3(&T, (text))

/* The keys of most tests, installed as add installs them. */
struct two {
	struct key	k1;	/* alice, --restrict --from */
	struct key	k2;	/* alice, --expires 30d */
	struct key	k3;	/* bob only */
};

static void
two_keys(struct two *t)
{
	key(&t->k1, "ed25519", "k1");
	key(&t->k2, "ecdsa", "k2");
	key(&t->k3, "ed25519", "k3");
	KA_OK("add", "alice", t->k1.pub, "--restrict", "--from",
	    "10.0.0.0/8,192.168.1.*", "--reason", "ticket 1");
	KA_OK("add", "alice", t->k2.pub, "--expires", "30d");
	KA_OK("add", "bob", t->k3.pub);
}

/* Line n (1-based) of text, with its '\n', into a new string. */
static char *
line_of(const char *text, int n)
{
	const char	*p = text, *e;
	char		*l;

	for (; n > 1; n--) {
		p = strchr(p, '\n');
		cr_assert_not_null(p, "fewer lines than expected:\n%s", text);
		p++;
	}
	e = strchr(p, '\n');
	cr_assert_not_null(e, "no line %d in:\n%s", n, text);
	l = strndup(p, (size_t)(e - p + 1));
	cr_assert_not_null(l);
	return l;
}

/* The account file add wrote. */
static char *
akfile_text(void)
{
	char	p[PATH_MAX];

	return slurp(tp(p, AK_REL), NULL);
}

/* stdout empty, exit code and the exact stderr. */
static void
expect_fail(struct run_result *r, int status, const char *err)
{
	cr_assert_eq(r->status, status, "exit %d, expected %d; stderr:\n%s",
	    r->status, status, r->err);
	cr_assert_eq(r->outlen, 0, "output:\n%s", r->out);
	if (err != NULL)
		cr_assert_str_eq(r->err, err);
}

/* Exactly one line on stderr, starting with "keyadm: ". */
static void
one_message(const struct run_result *r)
{
	const char	*nl = strchr(r->err, '\n');

	cr_assert(strncmp(r->err, "keyadm: ", 8) == 0 && nl != NULL &&
	    nl[1] == '\0', "not one message line:\n%s", r->err);
}

/* ------------------------------------------------------- the listing */

Test(akcmd, prints_the_lines_add_wrote)
{
	struct two	 t;
	struct run_result r;
	char		*out, *file, *bob, outp[PATH_MAX];
	const char	*lf[] = { "ssh-keygen", "-lf", outp, NULL };

	two_keys(&t);
	out = akc("alice", NULL);
	file = akfile_text();
	cr_assert_str_eq(out, file);
	cr_assert(strstr(out, "restrict") != NULL &&
	    strstr(out, "from=\"10.0.0.0/8,192.168.1.*\"") != NULL &&
	    strstr(out, "expiry-time=\"") != NULL, "%s", out);
	/* grant order: k1's line, then k2's */
	cr_assert(strstr(out, t.k1.b64) < strstr(out, t.k2.b64));

	/* ssh-keygen reads it as an authorized_keys file */
	spew(tp(outp, "inbox/printed"), out, strlen(out), 0644);
	cr_assert_eq(run_prog(&r, NULL, 0, lf, 0), 0, "ssh-keygen -l: %s",
	    r.err);
	cr_assert(strstr(r.out, t.k1.fp) != NULL &&
	    strstr(r.out, t.k2.fp) != NULL, "%s", r.out);
	cr_assert_eq(strstr(r.out, t.k3.fp), NULL);
	run_free(&r);

	/* bob: his own key only */
	bob = akc("bob", NULL);
	cr_assert(strstr(bob, t.k3.b64) != NULL && strstr(bob, t.k1.b64) ==
	    NULL, "%s", bob);
	free(bob);
	free(out);
	free(file);
}

Test(akcmd, quiet_still_prints)
{
	struct two		 t;
	struct run_result	 r;
	char			*out;

	two_keys(&t);
	out = akc("alice", NULL);
	cr_assert_eq(ka(&r, "-q", "authorized-keys", "alice", NULL), 0);
	cr_assert_str_eq(r.out, out);
	run_free(&r);
	free(out);
}

Test(akcmd, presented_key_prints_its_line_only)
{
	struct two	 t;
	char		*file, *l1, *l2, *out;

	two_keys(&t);
	file = akfile_text();
	l1 = line_of(file, 1);
	l2 = line_of(file, 2);
	out = akc("alice", t.k1.type, t.k1.b64, NULL);
	cr_assert_str_eq(out, l1);
	free(out);
	out = akc("alice", t.k2.type, t.k2.b64, NULL);
	cr_assert_str_eq(out, l2);
	free(out);
	free(l1);
	free(l2);
	free(file);
}

Test(akcmd, other_unknown_and_certificate_keys_print_nothing)
{
	struct two		 t;
	struct key		 k4, ca;
	struct run_result	 r;
	char			 cert[PATH_MAX], ctype[128], cb64[8192];
	char			*out, *text;
	const char		*sign[] = { "ssh-keygen", "-q", "-s", ca.priv,
				    "-I", "alice-cert", "-n", "alice",
				    t.k1.pub, NULL };

	two_keys(&t);
	key(&k4, "ed25519", "k4");
	/* bob's key, offered for alice */
	out = akc("alice", t.k3.type, t.k3.b64, NULL);
	cr_assert_str_empty(out);
	free(out);
	/* a key nobody ever added */
	out = akc("alice", k4.type, k4.b64, NULL);
	cr_assert_str_empty(out);
	free(out);
	/* alice's own k1, certified: keyadm manages no cert-authority */
	key(&ca, "ed25519", "ca");
	cr_assert_eq(run_prog(&r, NULL, 0, sign, 0), 0, "ssh-keygen -s: %s",
	    r.err);
	run_free(&r);
	xsnprintf(cert, sizeof(cert), "%s/k1-cert.pub", T.inbox);
	text = slurp(cert, NULL);
	cr_assert_eq(sscanf(text, "%127s %8191s", ctype, cb64), 2);
	free(text);
	cr_assert_str_eq(ctype, "ssh-ed25519-cert-v01@openssh.com");
	out = akc("alice", ctype, cb64, NULL);
	cr_assert_str_empty(out);
	free(out);
}

Test(akcmd, malformed_presented_key_is_one_message)
{
	struct two		 t;
	struct run_result	 r;
	char			 bad[8192];

	two_keys(&t);
	/* not base64 */
	ka(&r, "authorized-keys", "alice", "ssh-ed25519", "AAAA*AAA", NULL);
	expect_fail(&r, 0, "keyadm: ssh-ed25519 key for alice: key is not "
	    "valid base64\n");
	run_free(&r);
	/* a bit of padding missing */
	xsnprintf(bad, sizeof(bad), "%s", t.k1.b64);
	bad[strlen(bad) - 1] = '\0';
	ka(&r, "authorized-keys", "alice", t.k1.type, bad, NULL);
	expect_fail(&r, 0, "keyadm: ssh-ed25519 key for alice: key is not "
	    "valid base64\n");
	run_free(&r);
	/* an ed25519 key said to be RSA */
	ka(&r, "authorized-keys", "alice", "ssh-rsa", t.k1.b64, NULL);
	expect_fail(&r, 0, "keyadm: ssh-rsa key for alice: key does not "
	    "match its type\n");
	run_free(&r);
	/* too short to hold a type */
	ka(&r, "authorized-keys", "alice", "ssh-ed25519", "AAA=", NULL);
	expect_fail(&r, 0, "keyadm: ssh-ed25519 key for alice: key does not "
	    "match its type\n");
	run_free(&r);
	/* an untrusted type is escaped */
	ka(&r, "authorized-keys", "alice", "ssh\x1b[2J", t.k1.b64, NULL);
	expect_fail(&r, 0, "keyadm: ssh\\x1b[2J key for alice: key does not "
	    "match its type\n");
	run_free(&r);
	ka(&r, "authorized-keys", "alice", "", t.k1.b64, NULL);
	expect_fail(&r, 0, "keyadm: key for alice: no key type\n");
	run_free(&r);
	ka(&r, "authorized-keys", "alice", "ssh-ed25519", "", NULL);
	expect_fail(&r, 0, "keyadm: ssh-ed25519 key for alice: no key\n");
	run_free(&r);
}

/* ------------------------------------------- revoked, expired, passed */

Test(akcmd, revoked_for_the_account_prints_nothing)
{
	struct two	 t;
	char		*out, *file, *l2;

	two_keys(&t);
	file = akfile_text();
	l2 = line_of(file, 2);
	KA_OK("add", "bob", t.k1.pub);
	KA_OK("revoke", t.k1.fp, "--user", "alice", "--reason", "left");
	out = akc("alice", NULL);
	cr_assert_str_eq(out, l2);
	free(out);
	out = akc("alice", t.k1.type, t.k1.b64, NULL);
	cr_assert_str_empty(out);
	free(out);
	/* bob keeps it */
	out = akc("bob", t.k1.type, t.k1.b64, NULL);
	cr_assert(strstr(out, t.k1.b64) != NULL, "%s", out);
	free(out);
	free(l2);
	free(file);
}

Test(akcmd, revoked_machine_wide_prints_nothing)
{
	struct two	 t;
	char		*out, *file, *l2;

	two_keys(&t);
	file = akfile_text();
	l2 = line_of(file, 2);
	KA_OK("add", "bob", t.k1.pub);
	KA_OK("revoke", t.k1.fp, "--reason", "leaked");
	out = akc("alice", NULL);
	cr_assert_str_eq(out, l2);
	free(out);
	out = akc("alice", t.k1.type, t.k1.b64, NULL);
	cr_assert_str_empty(out);
	free(out);
	out = akc("bob", NULL);
	cr_assert(strstr(out, t.k1.b64) == NULL &&
	    strstr(out, t.k3.b64) != NULL, "%s", out);
	free(out);
	free(l2);
	free(file);
}

/*
 * A key in the revoked-keys file is refused whatever its grants say: a
 * revocations row next to a grant still active prints nothing.
 */
Test(akcmd, listed_key_with_an_active_grant_prints_nothing)
{
	struct two	 t;
	char		 q[1024], *out, *file, *l2;

	two_keys(&t);
	file = akfile_text();
	l2 = line_of(file, 2);
	xsnprintf(q, sizeof(q), "INSERT INTO revocations (key_id, revoked_at, "
	    "revoked_by, revoked_uid, reason) SELECT id, 1, 'test', 0, 'x' "
	    "FROM keys WHERE fingerprint = '%s'", t.k1.fp);
	free(sql(q));
	xsnprintf(q, sizeof(q), "SELECT count(*) FROM grants g JOIN keys k "
	    "ON k.id = g.key_id WHERE k.fingerprint = '%s' AND g.status = "
	    "'active'", t.k1.fp);
	out = sql(q);
	cr_assert_str_eq(out, "1\n");
	free(out);
	out = akc("alice", NULL);
	cr_assert_str_eq(out, l2);
	free(out);
	out = akc("alice", t.k1.type, t.k1.b64, NULL);
	cr_assert_str_empty(out);
	free(out);
	free(l2);
	free(file);
}

/* k2's time has passed (expires_at edited), expire has not run; then it has. */
Test(akcmd, passed_and_expired_grants_print_nothing)
{
	struct two	 t;
	char		 q[1024], *out, *file, *l1;

	two_keys(&t);
	file = akfile_text();
	l1 = line_of(file, 1);
	xsnprintf(q, sizeof(q), "UPDATE grants SET expires_at = %lld WHERE "
	    "key_id = (SELECT id FROM keys WHERE fingerprint = '%s')",
	    (long long)time(NULL) - 60, t.k2.fp);
	free(sql(q));
	out = akc("alice", NULL);
	cr_assert_str_eq(out, l1);
	free(out);
	out = akc("alice", t.k2.type, t.k2.b64, NULL);
	cr_assert_str_empty(out);
	free(out);

	KA_OK("expire");
	out = sql("SELECT status FROM grants ORDER BY id");
	cr_assert_str_eq(out, "active\nexpired\nactive\n");
	free(out);
	out = akc("alice", NULL);
	cr_assert_str_eq(out, l1);
	free(out);
	out = akc("alice", t.k2.type, t.k2.b64, NULL);
	cr_assert_str_empty(out);
	free(out);
	free(l1);
	free(file);
}

/* The real clock: --expires 1s, and a second later it is gone. */
Test(akcmd, grant_past_its_time_prints_nothing)
{
	struct key	 k;
	char		*out;

	key(&k, "ed25519", "k");
	KA_OK("add", "alice", k.pub, "--expires", "1s");
	(void)sleep(2);
	out = akc("alice", NULL);
	cr_assert_str_empty(out);
	free(out);
	out = akc("alice", k.type, k.b64, NULL);
	cr_assert_str_empty(out);
	free(out);
}

/* ------------------------------------------ homes and files not read */

Test(akcmd, never_looks_at_the_home)
{
	struct two	 t;
	char		 p[PATH_MAX], *before, *out;
	const char	*rm[] = { "rm", "-rf", p, NULL };
	struct run_result r;

	two_keys(&t);
	before = akc("alice", NULL);
	cr_assert_str_neq(before, "");
	/* the file a FIFO: opening it would block */
	cr_assert_eq(unlink(tp(p, AK_REL)), 0);
	cr_assert_eq(mkfifo(p, 0600), 0, "mkfifo: %s", strerror(errno));
	out = akc("alice", NULL);
	cr_assert_str_eq(out, before);
	free(out);
	out = akc("alice", t.k1.type, t.k1.b64, NULL);
	cr_assert_str_neq(out, "");
	free(out);
	/* the home gone altogether */
	tp(p, "home/alice");
	cr_assert_eq(run_prog(&r, NULL, 0, rm, 0), 0);
	run_free(&r);
	out = akc("alice", NULL);
	cr_assert_str_eq(out, before);
	free(out);
	/* nor the password database: alice gone from it too */
	spew(tp(p, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n",
	    strlen("root:x:0:0:root:/root:/bin/sh\n"), 0644);
	out = akc("alice", NULL);
	cr_assert_str_eq(out, before);
	free(out);
	free(before);
}

/* Reading appends no event and changes no grant. */
Test(akcmd, writes_nothing)
{
	struct two	 t;
	char		*before, *after, *out;
	const char	*q = "SELECT count(*), max(hash) FROM events; "
			    "SELECT * FROM grants ORDER BY id";

	two_keys(&t);
	before = sql(q);
	out = akc("alice", NULL);
	free(out);
	out = akc("alice", t.k1.type, t.k1.b64, NULL);
	free(out);
	after = sql(q);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);
}

/* --------------------------------------------- nothing to print at all */

Test(akcmd, no_store_unknown_or_invalid_user_prints_nothing)
{
	struct two		 t;
	struct key		 k;
	struct run_result	 r;
	char			 p[PATH_MAX], *out;

	/* no store yet */
	key(&k, "ed25519", "k");
	out = akc("alice", NULL);
	cr_assert_str_empty(out);
	free(out);
	out = akc("alice", k.type, k.b64, NULL);
	cr_assert_str_empty(out);
	free(out);
	cr_assert_eq(access(tp(p, "var/lib/keyadm"), F_OK), -1,
	    "a store was created");

	two_keys(&t);
	/* an account the store does not know, even one in no database */
	out = akc("carol", NULL);
	cr_assert_str_empty(out);
	free(out);
	out = akc("carol", t.k1.type, t.k1.b64, NULL);
	cr_assert_str_empty(out);
	free(out);
	/* not a valid name */
	ka(&r, "authorized-keys", "al/ice", NULL);
	expect_fail(&r, 0, "keyadm: al/ice: not a valid user name\n");
	run_free(&r);
	ka(&r, "authorized-keys", "al\nice", t.k1.type, t.k1.b64, NULL);
	expect_fail(&r, 0, "keyadm: al\\x0aice: not a valid user name\n");
	run_free(&r);
}

Test(akcmd, usage_errors)
{
	struct run_result	r;

	two_keys(&(struct two){ 0 });
	ka(&r, "authorized-keys", NULL);
	expect_fail(&r, 64, USAGE);
	run_free(&r);
	ka(&r, "authorized-keys", "alice", "ssh-ed25519", NULL);
	expect_fail(&r, 64, USAGE);
	run_free(&r);
	ka(&r, "authorized-keys", "alice", "ssh-ed25519", "AAAA", "x", NULL);
	expect_fail(&r, 64, USAGE);
	run_free(&r);
	ka(&r, "--json", "authorized-keys", "alice", NULL);
	expect_fail(&r, 64, "keyadm: --json: does not apply to "
	    "authorized-keys, which prints authorized_keys lines\n");
	run_free(&r);
	ka(&r, "authorized-keys", "--bogus", "alice", NULL);
	expect_fail(&r, 64, "keyadm: --bogus: unknown option or missing "
	    "value\n" USAGE);
	run_free(&r);
	/* operands are never options, wherever they stand */
	ka(&r, "authorized-keys", "alice", "--status", "all", NULL);
	expect_fail(&r, 0, "keyadm: --status key for alice: key is not "
	    "valid base64\n");
	run_free(&r);
	ka(&r, "authorized-keys", "--help", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "usage: keyadm authorized-keys USER "
	    "[TYPE BASE64]\n");
	run_free(&r);
}

/* --------------------------------------------------- internal errors */

Test(akcmd, unsafe_store_is_an_error_without_output)
{
	struct two		t;
	struct run_result	r;
	char			p[PATH_MAX], real[PATH_MAX];

	two_keys(&t);
	cr_assert_eq(chmod(tp(p, "var/lib/keyadm"), 0755), 0);
	ka(&r, "authorized-keys", "alice", NULL);
	expect_fail(&r, 77, NULL);
	one_message(&r);
	cr_assert(strstr(r.err, "mode 0755") != NULL, "%s", r.err);
	run_free(&r);
	ka(&r, "authorized-keys", "alice", t.k1.type, t.k1.b64, NULL);
	expect_fail(&r, 77, NULL);
	one_message(&r);
	run_free(&r);
	cr_assert_eq(chmod(p, 0700), 0);

	/* the database a symbolic link to the real one */
	cr_assert_eq(rename(tp(p, DB_REL), tp(real, DB_REL ".real")), 0);
	cr_assert_eq(symlink("keyadm.db.real", p), 0);
	ka(&r, "authorized-keys", "alice", NULL);
	expect_fail(&r, 77, NULL);
	one_message(&r);
	cr_assert(strstr(r.err, "symbolic link") != NULL, "%s", r.err);
	run_free(&r);
}

/* A table gone from the schema; then a file that is not a database. */
Test(akcmd, corrupt_store_is_an_error_without_output)
{
	struct two		t;
	struct run_result	r;
	char			p[PATH_MAX], junk[8192];

	two_keys(&t);
	free(sql("PRAGMA foreign_keys = OFF; DROP TABLE grants"));
	ka(&r, "authorized-keys", "alice", NULL);
	cr_assert_neq(r.status, 0);
	expect_fail(&r, r.status, NULL);
	one_message(&r);
	run_free(&r);

	/* the -wal would still hold the pages: it goes too */
	(void)unlink(tp(p, DB_REL "-wal"));
	(void)unlink(tp(p, DB_REL "-shm"));
	memset(junk, 'x', sizeof(junk));
	spew(tp(p, DB_REL), junk, sizeof(junk), 0600);
	ka(&r, "authorized-keys", "alice", NULL);
	cr_assert_neq(r.status, 0);
	expect_fail(&r, r.status, NULL);
	one_message(&r);
	run_free(&r);
}

Test(akcmd, write_error_on_stdout)
{
	struct two		 t;
	struct run_result	 r;
	char			 cmd[PATH_MAX * 2];
	const char		*argv[] = { "sh", "-c", cmd, NULL };

	two_keys(&t);
	xsnprintf(cmd, sizeof(cmd), "exec \"$KEYADM_BIN\" --root '%s' "
	    "authorized-keys alice >/dev/full", T.root);
	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 74, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(r.err, "keyadm: standard output: write error\n");
	run_free(&r);
}

/* ------------------------------------- an unprivileged store reader */

static char	grname[32];
static gid_t	grgid;
static int	grmade;

/* groupadd -r a throwaway group; nobody (65534) is the reader. */
static void
root_setup(void)
{
	struct run_result	 r;
	struct group		*gr;
	const char		*add[] = { "groupadd", "-r", grname, NULL };
	int			 tries;

	tree_make(&T);
	if (geteuid() != 0)
		return;
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	for (tries = 0; tries < 5; tries++) {
		xsnprintf(grname, sizeof(grname), "kaak%04lx",
		    random() & 0xffff);
		run_prog(&r, NULL, 0, add, 0);
		if (r.status != 9)	/* 9: the name is taken */
			break;
		run_free(&r);
	}
	cr_assert_eq(r.status, 0, "groupadd %s: %s", grname, r.err);
	run_free(&r);
	grmade = 1;
	gr = getgrnam(grname);
	cr_assert_not_null(gr, "getgrnam %s after groupadd", grname);
	grgid = gr->gr_gid;
}

static void
root_teardown(void)
{
	struct run_result	 r;
	const char		*del[] = { "groupdel", grname, NULL };

	if (grmade) {
		run_prog(&r, NULL, 0, del, 0);
		run_free(&r);
		grmade = 0;
	}
	tree_remove(&T);
}

TestSuite(akcmd_root, .init = root_setup, .fini = root_teardown,
    .timeout = 120);

/* keyadm --root TREE authorized-keys alice as nobody, with groups. */
static void
as_nobody(struct run_result *r, const char *groups)
{
	const char	*bin = getenv("KEYADM_BIN");
	const char	*argv[] = { "setpriv", "--reuid=65534",
			    "--regid=65534", groups, "--", bin, "--root",
			    T.root, "authorized-keys", "alice", NULL };

	cr_assert_not_null(bin);
	run_prog(r, NULL, 0, argv, 0);
}

Test(akcmd_root, store_group_member_reads_the_store)
{
	struct two		 t;
	struct run_result	 r;
	struct stat		 st;
	char			 p[PATH_MAX], text[256], grp[64], *file;
	char			*gtext;
	size_t			 n;

	if (geteuid() != 0)
		cr_skip_test("needs root (groupadd, setpriv)");
	/* the tree knows the group by the same id */
	xsnprintf(text, sizeof(text), "store_group = %s\n", grname);
	spew(tp(p, "etc/keyadm.conf"), text, strlen(text), 0644);
	gtext = slurp(tp(p, "etc/group"), &n);
	xsnprintf(text, sizeof(text), "%s%s:x:%u:\n", gtext, grname,
	    (unsigned)grgid);
	free(gtext);
	spew(p, text, strlen(text), 0644);

	two_keys(&t);
	cr_assert_eq(stat(tp(p, "var/lib/keyadm"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 02750, "%o", st.st_mode);
	cr_assert_eq(st.st_gid, grgid);
	cr_assert_eq(stat(tp(p, DB_REL), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "%o", st.st_mode);
	cr_assert_eq(st.st_gid, grgid);

	file = akfile_text();
	xsnprintf(grp, sizeof(grp), "--groups=%u", (unsigned)grgid);
	as_nobody(&r, grp);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_str_empty(r.err);
	cr_assert_str_eq(r.out, file);
	run_free(&r);
	free(file);

	/* nobody outside the group */
	as_nobody(&r, "--clear-groups");
	cr_assert_neq(r.status, 0);
	expect_fail(&r, r.status, NULL);
	one_message(&r);
	run_free(&r);
}
