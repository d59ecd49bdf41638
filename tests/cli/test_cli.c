/*
 * test_cli.c -- the built keyadm, end to end, in a --root tree.
 *
 * Suite "cli": exit statuses, the exact "keyadm: <object>: <problem>" lines
 * on stderr, stdout (text and --json) and the state of files and store.
 * Suite "cli_root": attacks on the path to authorized_keys that need other
 * uids; skipped unless run as root.
 *
 * Every test gets its own tree from tree_make() (.init) and loses it in
 * tree_remove() (.fini).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "run.h"

static struct tree	T;
static struct locker	L = LOCKER_INIT;

/* keyadm --root T ARGS... (NULL-terminated), stdin from in */
#define ka(r, in, ...)	tree_ka(&T, (r), (in), __VA_ARGS__)
#define tp(buf, rel)	tree_path(&T, (buf), PATH_MAX, (rel))

static void
setup(void)
{
	tree_make(&T);
	if (geteuid() == 0)
		set_sudo_actor();
}

static void
teardown(void)
{
	locker_release(&L);
	tree_remove(&T);
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 300);
/* Not root: no tree, since a skipped test does not run .fini. */
static void
setup_root(void)
{
	if (geteuid() == 0)
		setup();
}

TestSuite(cli_root, .init = setup_root, .fini = teardown, .timeout = 300);

static const char *
datafile(char *buf, const char *name)
{
	const char	*d = getenv("KEYADM_TESTDATA");

	cr_assert_not_null(d, "KEYADM_TESTDATA not set (run through ctest)");
	xsnprintf(buf, PATH_MAX, "%s/cli/%s", d, name);
	return buf;
}

/* Make INBOX/name{,.pub}; pub gets the public key's path. */
static void
key(const char *type, unsigned int bits, const char *comment,
    const char *name, char *pub)
{
	tree_keygen_pub(&T, type, bits, comment, name, pub, NULL);
}

static void
assert_mode_owner(const char *path, mode_t type, mode_t mode, uid_t uid,
    gid_t gid)
{
	struct stat	st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(st.st_mode & S_IFMT, type, "%s: wrong file type", path);
	cr_assert_eq(st.st_mode & 07777, mode, "%s: mode %04o, expected %04o",
	    path, st.st_mode & 07777, mode);
	cr_assert_eq(st.st_uid, uid, "%s: uid %u, expected %u", path,
	    (unsigned)st.st_uid, (unsigned)uid);
	cr_assert_eq(st.st_gid, gid, "%s: gid %u, expected %u", path,
	    (unsigned)st.st_gid, (unsigned)gid);
}

static void
assert_stderr(const struct run_result *r, const char *expected)
{
	cr_assert_str_eq(r->err, expected, "stderr was:\n%s\nexpected:\n%s",
	    r->err, expected);
}

/* "keyadm: " fmt "\n" */
static void __attribute__((format(printf, 2, 3)))
assert_stderr_line(const struct run_result *r, const char *fmt, ...)
{
	char	exp[PATH_MAX * 3], line[PATH_MAX * 3];
	va_list	ap;

	va_start(ap, fmt);
	if (vsnprintf(line, sizeof(line), fmt, ap) >= (int)sizeof(line))
		cr_assert_fail("message too long");
	va_end(ap);
	xsnprintf(exp, sizeof(exp), "keyadm: %s\n", line);
	assert_stderr(r, exp);
}

static void
assert_json(const struct run_result *r)
{
	cr_assert(json_valid(r->out, r->outlen),
	    "stdout is not one JSON document:\n%s", r->out);
}

static void
assert_field(const char *json, const char *k, const char *expected)
{
	char	v[1024];

	cr_assert_eq(json_field(json, k, v, sizeof(v)), 0,
	    "no \"%s\" in %s", k, json);
	cr_assert_str_eq(v, expected, "\"%s\" is %s, expected %s", k, v,
	    expected);
}

/* No grant at all in the store (list --status all is an empty array). */
static void
assert_no_grants(void)
{
	struct run_result	r;

	cr_assert_eq(ka(&r, NULL, "--json", "list", "--status", "all", NULL),
	    0, "list: %s", r.err);
	cr_assert_str_eq(r.out, "[]\n", "grants recorded: %s", r.out);
	run_free(&r);
}

/* ------------------------------------------------------------- check */

static void
check_good(const char *type, unsigned int bits, const char *typeword,
    const char *label, unsigned int expbits)
{
	struct run_result	r;
	char			pub[PATH_MAX], fp[128], line[PATH_MAX * 2], b[16];

	key(type, bits, "user@laptop", "k", pub);
	ssh_keygen_fingerprint(pub, fp, sizeof(fp));

	cr_assert_eq(ka(&r, NULL, "check", pub, NULL), 0, "%s", r.err);
	assert_stderr(&r, "");
	xsnprintf(line, sizeof(line), "%s:1: accept: %u %s user@laptop "
	    "(%s)\n", pub, expbits, fp, label);
	cr_assert_str_eq(r.out, line);
	run_free(&r);

	cr_assert_eq(ka(&r, NULL, "--json", "check", pub, NULL), 0);
	assert_stderr(&r, "");
	assert_json(&r);
	assert_field(r.out, "verdict", "accept");
	assert_field(r.out, "type", typeword);
	xsnprintf(b, sizeof(b), "%u", expbits);
	assert_field(r.out, "bits", b);
	assert_field(r.out, "fingerprint", fp);
	assert_field(r.out, "comment", "user@laptop");
	cr_assert(strstr(r.out, "\"reasons\":[]") != NULL, "%s", r.out);
	run_free(&r);
}

Test(cli, check_accepts_ed25519_with_ssh_keygen_fingerprint)
{
	check_good("ed25519", 0, "ssh-ed25519", "ED25519", 256);
}

Test(cli, check_accepts_ecdsa_p256)
{
	check_good("ecdsa", 256, "ecdsa-sha2-nistp256", "ECDSA", 256);
}

Test(cli, check_accepts_ecdsa_p384)
{
	check_good("ecdsa", 384, "ecdsa-sha2-nistp384", "ECDSA", 384);
}

Test(cli, check_accepts_ecdsa_p521)
{
	check_good("ecdsa", 521, "ecdsa-sha2-nistp521", "ECDSA", 521);
}

Test(cli, check_accepts_rsa_3072)
{
	check_good("rsa", 3072, "ssh-rsa", "RSA", 3072);
}

Test(cli, check_warns_on_rsa_2048)
{
	struct run_result	r;
	char			pub[PATH_MAX], fp[128];

	key("rsa", 2048, "old@box", "k", pub);
	ssh_keygen_fingerprint(pub, fp, sizeof(fp));
	cr_assert_eq(ka(&r, NULL, "--json", "check", pub, NULL), 0, "%s",
	    r.err);
	assert_stderr(&r, "");
	assert_json(&r);
	assert_field(r.out, "verdict", "warn");
	assert_field(r.out, "bits", "2048");
	assert_field(r.out, "fingerprint", fp);
	assert_field(r.out, "severity", "warn");
	assert_field(r.out, "text",
	    "RSA key of 2048 bits: accepted, but 3072 or more is recommended");
	run_free(&r);
}

Test(cli, check_refuses_rsa_1024)
{
	struct run_result	r;
	char			pub[PATH_MAX];

	key("rsa", 1024, "old@box", "k", pub);
	cr_assert_eq(ka(&r, NULL, "check", pub, NULL), 1);
	assert_stderr_line(&r, "%s:1: RSA key of 1024 bits is below the "
	    "minimum of 2048", pub);
	cr_assert(strstr(r.out, ":1: reject: 1024 SHA256:") != NULL, "%s",
	    r.out);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "check", pub, NULL), 1);
	assert_json(&r);
	assert_field(r.out, "verdict", "reject");
	run_free(&r);
}

Test(cli, check_empty_file_is_malformed)
{
	struct run_result	r;
	char			p[PATH_MAX];

	spew(tp(p, "inbox/empty.pub"), "", 0, 0644);
	cr_assert_eq(ka(&r, NULL, "check", p, NULL), 65);
	assert_stderr_line(&r, "%s: empty file", p);
	run_free(&r);
}

Test(cli, check_binary_junk_is_malformed)
{
	struct run_result	r;
	char			p[PATH_MAX];

	cr_assert_eq(ka(&r, NULL, "check", datafile(p, "junk.bin"), NULL), 65);
	assert_stderr_line(&r, "%s: binary data, not a public key", p);
	cr_assert_eq(r.outlen, 0, "junk reached stdout: %s", r.out);
	run_free(&r);
}

Test(cli, check_10mb_file_is_malformed)
{
	struct run_result	 r;
	char			 p[PATH_MAX];
	size_t			 n = 10u * 1024 * 1024;
	char			*big = malloc(n);

	cr_assert_not_null(big);
	memset(big, 'A', n);
	spew(tp(p, "inbox/big.pub"), big, n, 0644);
	cr_assert_eq(ka(&r, NULL, "check", p, NULL), 65);
	/* check reads any size in pieces: a piece without a line end is not
	 * a key */
	assert_stderr_line(&r, "%s: a line of more than 65536 bytes, not a "
	    "public key", p);
	run_free(&r);

	/* add still caps a submission */
	cr_assert_eq(ka(&r, NULL, "add", "alice", p, NULL), 65);
	cr_assert(mem_contains(r.err, r.errlen, "big.pub: larger than 65536 "
	    "bytes, not a public key\n"), "stderr: %s", r.err);
	run_free(&r);

	/* the same on standard input: keyadm stops reading, we must not hang */
	{
		const char *argv[] = { "--root", T.root, "check", "-", NULL };
		cr_assert_eq(run_keyadm_buf(&r, big, n, argv), 65);
		assert_stderr_line(&r, "standard input: a line of more than "
		    "65536 bytes, not a public key");
		run_free(&r);
	}
	free(big);
}

Test(cli, check_bad_base64_is_malformed)
{
	struct run_result	r;
	char			p[PATH_MAX];

	cr_assert_eq(ka(&r, NULL, "check", datafile(p, "bad-base64.pub"),
	    NULL), 65);
	assert_stderr_line(&r, "%s:1: key data is not valid base64", p);
	run_free(&r);
}

Test(cli, check_truncated_blob_is_malformed)
{
	struct run_result	r;
	char			p[PATH_MAX];

	cr_assert_eq(ka(&r, NULL, "check", datafile(p, "truncated.pub"),
	    NULL), 65);
	assert_stderr_line(&r, "%s:1: a length field points past the end of "
	    "the key data", p);
	run_free(&r);
}

Test(cli, check_missing_file)
{
	struct run_result	r;
	char			p[PATH_MAX];

	cr_assert_eq(ka(&r, NULL, "check", tp(p, "inbox/nope.pub"), NULL), 66);
	assert_stderr_line(&r, "%s: no such file or directory", p);
	run_free(&r);
}

Test(cli, check_refuses_a_symlinked_input)
{
	struct run_result	r;
	char			pub[PATH_MAX], l[PATH_MAX];

	key("ed25519", 0, "a@b", "k", pub);
	cr_assert_eq(symlink(pub, tp(l, "inbox/link.pub")), 0);
	cr_assert_eq(ka(&r, NULL, "check", l, NULL), 66);
	assert_stderr_line(&r, "%s: is a symbolic link; give the file itself",
	    l);
	cr_assert_eq(r.outlen, 0, "%s", r.out);
	run_free(&r);
}

Test(cli, check_reads_standard_input)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], fp[128], exp[512];
	char			*text;

	key("ed25519", 0, "stdin@host", "k", pub);
	ssh_keygen_fingerprint(pub, fp, sizeof(fp));
	text = slurp(pub, NULL);
	cr_assert_eq(ka(&r, text, "check", "-", NULL), 0, "%s", r.err);
	assert_stderr(&r, "");
	xsnprintf(exp, sizeof(exp), "-:1: accept: 256 %s stdin@host "
	    "(ED25519)\n", fp);
	cr_assert_str_eq(r.out, exp);
	run_free(&r);
	cr_assert_eq(ka(&r, text, "--json", "check", "-", NULL), 0);
	assert_json(&r);
	assert_field(r.out, "source", "-");
	assert_field(r.out, "fingerprint", fp);
	run_free(&r);
	free(text);
}

Test(cli, check_json_is_one_document_for_several_files)
{
	struct run_result	r;
	char			a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];

	key("ed25519", 0, "a@x", "a", a);
	key("ecdsa", 256, "b@x", "b", b);
	key("rsa", 1024, "c@x", "c", c);
	cr_assert_eq(ka(&r, NULL, "--json", "check", a, b, c, NULL), 1);
	assert_json(&r);
	cr_assert_eq(r.out[0], '[', "%s", r.out);
	cr_assert(strstr(r.out, "\"verdict\":\"accept\"") != NULL);
	cr_assert(strstr(r.out, "\"verdict\":\"reject\"") != NULL);
	cr_assert(strstr(r.out, "\"code\":\"rsa_too_small\"") != NULL, "%s",
	    r.out);
	run_free(&r);
}

Test(cli, check_writes_nothing)
{
	struct run_result	r;
	char			pub[PATH_MAX], p[PATH_MAX];

	key("ed25519", 0, "a@b", "k", pub);
	cr_assert_eq(ka(&r, NULL, "check", pub, NULL), 0);
	run_free(&r);
	assert_absent(tp(p, "var/lib/keyadm"));
	assert_absent(tp(p, "home/alice/.ssh"));
}

Test(cli, check_refuses_a_private_key_without_echoing_it)
{
	struct run_result	 r;
	char			 priv[PATH_MAX], *secret, *line, *save = NULL;

	tree_keygen(&T, "ed25519", 0, "a@b", "k", priv, sizeof(priv));
	cr_assert_eq(ka(&r, NULL, "check", priv, NULL), 65);
	assert_stderr_line(&r, "%s: this is a private key: the user must make "
	    "a new key pair and send only the .pub file", priv);
	secret = slurp(priv, NULL);
	for (line = strtok_r(secret, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "-----", 5) == 0)
			continue;
		cr_assert(!mem_contains(r.out, r.outlen, line) &&
		    !mem_contains(r.err, r.errlen, line),
		    "private key material printed");
	}
	free(secret);
	run_free(&r);
}

/* --------------------------------------------------------------- add */

Test(cli, add_installs_the_canonical_line)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], fp[128], ak[PATH_MAX],
				 d[PATH_MAX], exp[PATH_MAX * 2];
	char			*pubtext;
	size_t			 publen;

	key("ed25519", 0, "alice@laptop", "alice", pub);
	ssh_keygen_fingerprint(pub, fp, sizeof(fp));
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 0, "%s", r.err);
	assert_stderr(&r, "");
	xsnprintf(exp, sizeof(exp), "alice: added %s (ED25519) in "
	    "%s/home/alice/.ssh/authorized_keys\n", fp, T.root);
	cr_assert(strstr(r.out, exp) != NULL, "stdout:\n%s", r.out);
	run_free(&r);

	/* ssh-keygen's .pub is exactly the canonical "type base64 comment\n" */
	pubtext = slurp(pub, &publen);
	tp(ak, "home/alice/.ssh/authorized_keys");
	cr_assert(file_equals(ak, pubtext, publen), "authorized_keys:\n%s",
	    slurp(ak, NULL));
	free(pubtext);
	assert_mode_owner(tp(d, "home/alice/.ssh"), S_IFDIR, 0700, T.alice_uid,
	    T.alice_gid);
	assert_mode_owner(ak, S_IFREG, 0600, T.alice_uid, T.alice_gid);
	assert_mode_owner(tp(d, "home/alice"), S_IFDIR, 0700, T.alice_uid,
	    T.alice_gid);
	/* nothing for bob, no temporaries left */
	assert_absent(tp(d, "home/bob/.ssh"));
}

Test(cli, add_again_changes_nothing)
{
	struct run_result	 r;
	struct stat		 before, after;
	struct timespec		 old[2] = { { 1000000000, 0 },
				    { 1000000000, 0 } };
	char			 pub[PATH_MAX], ak[PATH_MAX], *b1, *b2;
	size_t			 l1, l2;

	key("ed25519", 0, "alice@laptop", "alice", pub);
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 0, "%s", r.err);
	run_free(&r);
	tp(ak, "home/alice/.ssh/authorized_keys");
	/* an old mtime makes any rewrite visible whatever the clock's grain */
	cr_assert_eq(utimensat(AT_FDCWD, ak, old, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(stat(ak, &before), 0);
	b1 = slurp(ak, &l1);

	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", pub, NULL), 0,
	    "%s", r.err);
	assert_stderr(&r, "");
	assert_json(&r);
	assert_field(r.out, "changed", "false");
	assert_field(r.out, "action", "unchanged");
	assert_field(r.out, "id", "1");
	run_free(&r);

	cr_assert_eq(stat(ak, &after), 0);
	b2 = slurp(ak, &l2);
	cr_assert(l1 == l2 && memcmp(b1, b2, l1) == 0, "file changed");
	cr_assert_eq(before.st_ino, after.st_ino, "file replaced");
	cr_assert_eq(before.st_mtim.tv_sec, after.st_mtim.tv_sec,
	    "file rewritten");
	cr_assert_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	free(b1);
	free(b2);

	/* still exactly one grant */
	cr_assert_eq(ka(&r, NULL, "--json", "list", NULL), 0);
	cr_assert(strstr(r.out, "\"id\":1,") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "\"id\":2,") == NULL, "%s", r.out);
	run_free(&r);
}

Test(cli, add_keeps_unmanaged_lines_byte_for_byte)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], ak[PATH_MAX], d[PATH_MAX],
				 src[PATH_MAX];
	char			*pre, *pubtext, *exp, *got;
	size_t			 prelen, publen, gotlen;

	key("ed25519", 0, "alice@new", "alice", pub);
	pre = slurp(datafile(src, "preexisting-authorized_keys"), &prelen);
	mkdirs(tp(d, "home/alice/.ssh"), 0700);
	tp(ak, "home/alice/.ssh/authorized_keys");
	spew(ak, pre, prelen, 0600);
	cr_assert_eq(lchown(d, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(lchown(ak, T.alice_uid, T.alice_gid), 0);

	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 0, "%s", r.err);
	assert_stderr(&r, "");
	run_free(&r);

	pubtext = slurp(pub, &publen);
	exp = malloc(prelen + publen + 1);
	cr_assert_not_null(exp);
	memcpy(exp, pre, prelen);
	memcpy(exp + prelen, pubtext, publen);
	got = slurp(ak, &gotlen);
	cr_assert(gotlen == prelen + publen &&
	    memcmp(got, exp, gotlen) == 0,
	    "authorized_keys is not the old file plus one line:\n%s", got);
	assert_mode_owner(ak, S_IFREG, 0600, T.alice_uid, T.alice_gid);
	free(pre);
	free(pubtext);
	free(exp);
	free(got);
}

Test(cli, add_unknown_user)
{
	struct run_result	r;
	char			pub[PATH_MAX], p[PATH_MAX];

	key("ed25519", 0, "c@x", "k", pub);
	cr_assert_eq(ka(&r, NULL, "add", "carol", pub, NULL), 67);
	assert_stderr_line(&r, "carol: unknown user");
	run_free(&r);
	assert_absent(tp(p, "home/carol"));
	assert_absent(tp(p, "var/lib/keyadm/keyadm.db"));
}

Test(cli, add_refused_key_installs_and_records_nothing)
{
	struct run_result	r;
	char			pub[PATH_MAX], p[PATH_MAX], exp[PATH_MAX * 2];

	key("rsa", 1024, "weak@old", "weak", pub);
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 1);
	xsnprintf(exp, sizeof(exp), "keyadm: %s:1: RSA key of 1024 bits "
	    "is below the minimum of 2048\n"
	    "keyadm: alice: nothing installed: a key was refused\n", pub);
	assert_stderr(&r, exp);
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh"));
	assert_no_grants();
}

Test(cli, add_private_key_is_refused_and_never_echoed)
{
	struct run_result	 r;
	char			 priv[PATH_MAX], p[PATH_MAX], exp[PATH_MAX * 2];
	char			*secret, *line, *save = NULL;

	tree_keygen(&T, "ecdsa", 256, "b@x", "k", priv, sizeof(priv));
	cr_assert_eq(ka(&r, NULL, "add", "alice", priv, NULL), 65);
	xsnprintf(exp, sizeof(exp), "keyadm: %s: this is a private key: "
	    "the user must make a new key pair and send only the .pub file\n"
	    "keyadm: alice: nothing installed: the submission has errors\n",
	    priv);
	assert_stderr(&r, exp);
	secret = slurp(priv, NULL);
	for (line = strtok_r(secret, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "-----", 5) == 0)
			continue;
		cr_assert(!mem_contains(r.out, r.outlen, line) &&
		    !mem_contains(r.err, r.errlen, line),
		    "private key material printed");
	}
	free(secret);
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh"));
	assert_no_grants();
}

static void
dry_run(int have_ssh_dir)
{
	struct run_result	r;
	char			pub[PATH_MAX], fp[128], p[PATH_MAX],
				exp[PATH_MAX * 2];

	key("ed25519", 0, "a@x", "k", pub);
	ssh_keygen_fingerprint(pub, fp, sizeof(fp));
	if (have_ssh_dir) {
		mkdirs(tp(p, "home/alice/.ssh"), 0700);
		cr_assert_eq(lchown(p, T.alice_uid, T.alice_gid), 0);
	}
	cr_assert_eq(ka(&r, NULL, "add", "--dry-run", "alice", pub, NULL), 0,
	    "%s%s", have_ssh_dir ? "" : "a dry run must not need an existing "
	    ".ssh (once a bug: exit 73); stderr:\n",
	    r.err);
	assert_stderr(&r, "");
	xsnprintf(exp, sizeof(exp), "alice: would be added %s (ED25519) "
	    "in %s/home/alice/.ssh/authorized_keys (dry run)\n", fp, T.root);
	cr_assert(strstr(r.out, exp) != NULL, "stdout:\n%s", r.out);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "add", "--dry-run", "alice", pub,
	    NULL), 0);
	assert_json(&r);
	assert_field(r.out, "dry_run", "true");
	assert_field(r.out, "changed", "true");
	assert_field(r.out, "action", "added");
	run_free(&r);
	if (have_ssh_dir)
		assert_absent(tp(p, "home/alice/.ssh/authorized_keys"));
	else
		assert_absent(tp(p, "home/alice/.ssh"));
	assert_absent(tp(p, "var/lib/keyadm"));
	assert_no_grants();
}

Test(cli, add_dry_run_writes_nothing)
{
	dry_run(1);
}

/* The usual case: an account that never had a key has no .ssh. */
Test(cli, add_dry_run_for_an_account_without_ssh_dir)
{
	dry_run(0);
}

/*
 * keyadm(8), DESIGN.md and the usage line all put the options after the
 * files: "add USER FILE...|- [--reason TEXT] [--dry-run]", and the man page's
 * example is  keyadm add alice alice.pub --reason "ticket 4711".
 * (Regression: getopt once stopped at USER and took the options for files.)
 */
Test(cli, add_takes_options_after_the_files_as_documented)
{
	struct run_result	r;
	char			pub[PATH_MAX], p[PATH_MAX];

	key("ed25519", 0, "a@x", "k", pub);
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, "--dry-run", NULL), 0,
	    "options after the files must be options; stderr:\n%s", r.err);
	assert_stderr(&r, "");
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh"));
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, "--reason",
	    "ticket 4711", NULL), 0, "stderr:\n%s", r.err);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "list", NULL), 0);
	assert_field(r.out, "reason", "ticket 4711");
	run_free(&r);
}

Test(cli, add_reads_standard_input)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], ak[PATH_MAX], *text;
	size_t			 len;

	key("ed25519", 0, "piped@host", "k", pub);
	text = slurp(pub, &len);
	cr_assert_eq(ka(&r, text, "add", "alice", "-", NULL), 0, "%s", r.err);
	assert_stderr(&r, "");
	run_free(&r);
	cr_assert(file_equals(tp(ak, "home/alice/.ssh/authorized_keys"), text,
	    len));
	free(text);
}

/*
 * Output that cannot be written is one line and exit 74, and never stops
 * the change half way: a reader that went away (EPIPE, not a SIGPIPE
 * death) and a full device both leave the key added.
 */
static void
add_with_stdout(const char *how, const char *want_err)
{
	static const char	 py[] =
	    "import os, subprocess, sys\n"
	    "if sys.argv[1] == 'pipe':\n"
	    "    r, w = os.pipe(); os.close(r)\n"
	    "else:\n"
	    "    w = os.open('/dev/full', os.O_WRONLY)\n"
	    "p = subprocess.run(sys.argv[2:], stdout=w)\n"
	    "sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)\n";
	struct run_result	 r;
	char			 pub[PATH_MAX], ak[PATH_MAX], want[256], *text;
	const char		*argv[] = { "python3", "-c", py, how,
				    getenv("KEYADM_BIN"), "--root", T.root,
				    "add", "alice", pub, NULL };
	size_t			 len;

	key("ed25519", 0, "out@host", "k", pub);
	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 74, "%s: exit %d (141: killed by SIGPIPE): %s",
	    how, r.status, r.err);
	xsnprintf(want, sizeof(want), "keyadm: standard output: cannot "
	    "write: %s (the command itself was carried out)\n", want_err);
	cr_assert_str_eq(r.err, want);
	run_free(&r);
	text = slurp(pub, &len);
	cr_assert(file_equals(tp(ak, "home/alice/.ssh/authorized_keys"), text,
	    len), "%s: the key was not added", how);
	free(text);
}

Test(cli, add_to_a_closed_pipe_finishes_and_says_so)
{
	add_with_stdout("pipe", "Broken pipe");
}

Test(cli, add_to_a_full_device_finishes_and_says_so)
{
	add_with_stdout("full", "No space left on device");
}

/* An empty file name is named as such, not as an empty object. */
Test(cli, empty_file_name_is_named)
{
	struct run_result	r;

	cr_assert_eq(ka(&r, NULL, "check", "", NULL), 66);
	assert_stderr(&r, "keyadm: \"\" (an empty file name): no such file or "
	    "directory\n");
	run_free(&r);
}

Test(cli, list_shows_the_grant)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], fp[128], v[128];
	char			*line, *tok, *save = NULL, *col[16];
	const char		*by = geteuid() == 0 ? "ka-admin" : NULL;
	int			 n;

	key("ecdsa", 384, "alice@desk", "alice", pub);
	ssh_keygen_fingerprint(pub, fp, sizeof(fp));
	cr_assert_eq(ka(&r, NULL, "add", "--reason", "ticket 4711", "alice",
	    pub, NULL), 0, "%s", r.err);
	run_free(&r);

	cr_assert_eq(ka(&r, NULL, "list", NULL), 0, "%s", r.err);
	assert_stderr(&r, "");
	cr_assert(strncmp(r.out, "ID ", 3) == 0, "%s", r.out);
	/* the grant's row, by columns (the widths are not the interface) */
	line = strstr(r.out, fp);
	cr_assert_not_null(line, "fingerprint not listed:\n%s", r.out);
	while (line > r.out && line[-1] != '\n')
		line--;
	if ((tok = strchr(line, '\n')) != NULL)
		*tok = '\0';
	n = 0;
	for (tok = strtok_r(line, " ", &save); tok != NULL && n < 16;
	    tok = strtok_r(NULL, " ", &save))
		col[n++] = tok;
	cr_assert_eq(n, 12, "list row has %d columns:\n%s", n, r.out);
	cr_assert_str_eq(col[0], "1");
	cr_assert_str_eq(col[1], "alice");
	cr_assert(strcmp(col[2], "ecdsa-sha2-nistp384") == 0 ||
	    strcmp(col[2], "ECDSA") == 0, "type column %s", col[2]);
	cr_assert_str_eq(col[3], "384");
	cr_assert_str_eq(col[4], fp);
	cr_assert_str_eq(col[5], "active");
	cr_assert_str_eq(col[6], "never");	/* EXPIRES: time left */
	cr_assert(strlen(col[7]) == 20 && col[7][10] == 'T', "added %s",
	    col[7]);
	if (by != NULL)
		cr_assert_str_eq(col[8], by);
	cr_assert_str_eq(col[9], "never");	/* LAST-USED */
	cr_assert_str_eq(col[10], "-");		/* FROM */
	cr_assert_str_eq(col[11], "alice@desk");
	run_free(&r);

	cr_assert_eq(ka(&r, NULL, "--json", "list", "alice", NULL), 0);
	assert_json(&r);
	assert_field(r.out, "id", "1");
	assert_field(r.out, "user", "alice");
	assert_field(r.out, "fingerprint", fp);
	assert_field(r.out, "type", "ecdsa-sha2-nistp384");
	assert_field(r.out, "bits", "384");
	assert_field(r.out, "comment", "alice@desk");
	assert_field(r.out, "status", "active");
	assert_field(r.out, "reason", "ticket 4711");
	assert_field(r.out, "path", "/home/alice/.ssh/authorized_keys");
	assert_field(r.out, "last_used_at", "null");
	assert_field(r.out, "last_used_from", "null");
	assert_field(r.out, "use_count", "0");
	if (by != NULL) {
		assert_field(r.out, "added_by", by);
		assert_field(r.out, "added_uid", "4242");
	}
	cr_assert_eq(json_field(r.out, "added_at", v, sizeof(v)), 0);
	cr_assert(strlen(v) == 20 && v[4] == '-' && v[10] == 'T' &&
	    v[19] == 'Z', "added_at %s is not RFC 3339 UTC", v);
	run_free(&r);

	/* another account's list is empty */
	cr_assert_eq(ka(&r, NULL, "--json", "list", "bob", NULL), 0);
	cr_assert_str_eq(r.out, "[]\n");
	run_free(&r);
}

Test(cli, store_modes)
{
	struct run_result	r;
	char			pub[PATH_MAX], p[PATH_MAX];

	key("ed25519", 0, "a@x", "k", pub);
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 0, "%s", r.err);
	run_free(&r);
	assert_mode_owner(tp(p, "var/lib/keyadm"), S_IFDIR, 0700, geteuid(),
	    getegid());
	assert_mode_owner(tp(p, "var/lib/keyadm/keyadm.db"), S_IFREG, 0600,
	    geteuid(), getegid());
}

/* store_group: the tree's group may read the store, nobody else. */
Test(cli, store_group_shares_the_store)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], p[PATH_MAX], *gr, line[4096];
	size_t			 n;
	gid_t			 g = 4343;

	if (geteuid() != 0)
		cr_skip("store_group is applied by root runs only");
	key("ed25519", 0, "a@x", "k", pub);
	spew(tp(p, "etc/keyadm.conf"), "store_group = kagroup\n", 21, 0644);
	/* an unknown group stops the command before anything is written */
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 78);
	assert_stderr_line(&r, "store_group kagroup: no such group");
	run_free(&r);
	cr_assert(access(tp(p, "home/alice/.ssh/authorized_keys"), F_OK) != 0);

	gr = slurp(tp(p, "etc/group"), &n);
	xsnprintf(line, sizeof(line), "%skagroup:x:%u:\n", gr, (unsigned)g);
	spew(p, line, strlen(line), 0644);
	free(gr);
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 0, "%s", r.err);
	run_free(&r);
	assert_mode_owner(tp(p, "var/lib/keyadm"), S_IFDIR, 02750, geteuid(),
	    g);
	assert_mode_owner(tp(p, "var/lib/keyadm/keyadm.db"), S_IFREG, 0640,
	    geteuid(), g);
	assert_mode_owner(tp(p, "var/lib/keyadm/keyadm.db-wal"), S_IFREG,
	    0640, geteuid(), g);
	assert_mode_owner(tp(p, "var/lib/keyadm/keyadm.db-shm"), S_IFREG,
	    0640, geteuid(), g);

	/* a store made private first is shared by the next run, even list */
	spew(tp(p, "etc/keyadm.conf"), "", 0, 0644);
	cr_assert_eq(chmod(tp(p, "var/lib/keyadm"), 0700), 0);
	cr_assert_eq(chmod(tp(p, "var/lib/keyadm/keyadm.db"), 0600), 0);
	cr_assert_eq(ka(&r, NULL, "list", NULL), 0, "%s", r.err);
	run_free(&r);
	assert_mode_owner(tp(p, "var/lib/keyadm/keyadm.db"), S_IFREG, 0600,
	    geteuid(), g);
	spew(tp(p, "etc/keyadm.conf"), "store_group = kagroup\n", 21, 0644);
	cr_assert_eq(ka(&r, NULL, "list", NULL), 0, "%s", r.err);
	run_free(&r);
	assert_mode_owner(tp(p, "var/lib/keyadm"), S_IFDIR, 02750, 0, g);
	assert_mode_owner(tp(p, "var/lib/keyadm/keyadm.db"), S_IFREG, 0640, 0,
	    g);

	/* never group write, never others */
	cr_assert_eq(chmod(tp(p, "var/lib/keyadm/keyadm.db"), 0660), 0);
	cr_assert_eq(ka(&r, NULL, "list", NULL), 77);
	run_free(&r);
}

/* A pre-existing authorized_keys for alice, returned for comparison. */
static char *
alice_file(size_t *len)
{
	char	d[PATH_MAX], ak[PATH_MAX], src[PATH_MAX], *pre;

	pre = slurp(datafile(src, "preexisting-authorized_keys"), len);
	mkdirs(tp(d, "home/alice/.ssh"), 0700);
	spew(tp(ak, "home/alice/.ssh/authorized_keys"), pre, *len, 0600);
	cr_assert_eq(lchown(d, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(lchown(ak, T.alice_uid, T.alice_gid), 0);
	return pre;
}

static void
store_refused(const char *dbtext_or_null)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], p[PATH_MAX], db[PATH_MAX],
				 pre_err[PATH_MAX * 2];
	char			*pre;
	size_t			 prelen;
	sqlite3			*h;

	key("ed25519", 0, "a@x", "k", pub);
	pre = alice_file(&prelen);
	mkdirs(tp(p, "var/lib/keyadm"), 0700);
	tp(db, "var/lib/keyadm/keyadm.db");
	if (dbtext_or_null != NULL) {
		spew(db, dbtext_or_null, strlen(dbtext_or_null), 0600);
	} else {
		cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
		cr_assert_eq(sqlite3_exec(h, "CREATE TABLE notes(x TEXT);"
		    "INSERT INTO notes VALUES('mine');", NULL, NULL, NULL),
		    SQLITE_OK);
		cr_assert_eq(sqlite3_close(h), SQLITE_OK);
		cr_assert_eq(chmod(db, 0600), 0);
	}
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 78, "%s", r.err);
	xsnprintf(pre_err, sizeof(pre_err), "keyadm: %s: not a keyadm "
	    "database", db);
	cr_assert(strncmp(r.err, pre_err, strlen(pre_err)) == 0 &&
	    strchr(r.err, '\n') == r.err + r.errlen - 1,
	    "stderr:\n%s\nexpected one line starting:\n%s", r.err, pre_err);
	run_free(&r);
	cr_assert(file_equals(tp(p, "home/alice/.ssh/authorized_keys"), pre,
	    prelen), "authorized_keys changed");
	free(pre);
}

Test(cli, store_that_is_not_sqlite_is_refused)
{
	store_refused("this is not a database, just text\n");
}

Test(cli, store_of_another_application_is_refused)
{
	store_refused(NULL);
}

Test(cli, locked_store_is_busy_and_changes_nothing)
{
	struct run_result	 r;
	char			 a[PATH_MAX], b[PATH_MAX], p[PATH_MAX],
				 db[PATH_MAX], ak[PATH_MAX], fpb[128];
	char			*before;
	size_t			 blen;

	key("ed25519", 0, "first@x", "a", a);
	key("ed25519", 0, "second@x", "b", b);
	ssh_keygen_fingerprint(b, fpb, sizeof(fpb));
	spew(tp(p, "etc/keyadm.conf"), "busy_timeout_ms = 200\n", 22, 0644);
	cr_assert_eq(ka(&r, NULL, "add", "alice", a, NULL), 0, "%s", r.err);
	run_free(&r);
	before = slurp(tp(ak, "home/alice/.ssh/authorized_keys"), &blen);

	locker_hold(&L, tp(db, "var/lib/keyadm/keyadm.db"));
	cr_assert_eq(ka(&r, NULL, "add", "alice", b, NULL), 75, "%s", r.err);
	assert_stderr_line(&r, "%s: database is locked; try again", db);
	run_free(&r);
	locker_release(&L);

	cr_assert(file_equals(ak, before, blen), "authorized_keys changed");
	free(before);
	cr_assert_eq(ka(&r, NULL, "--json", "list", "--status", "all", NULL),
	    0, "%s", r.err);
	cr_assert(strstr(r.out, fpb) == NULL, "grant recorded: %s", r.out);
	cr_assert(strstr(r.out, "\"id\":1,") != NULL, "%s", r.out);
	run_free(&r);
}

Test(cli, bad_config_line_stops_the_run)
{
	struct run_result	r;
	char			pub[PATH_MAX], conf[PATH_MAX], p[PATH_MAX];

	key("ed25519", 0, "a@x", "k", pub);
	spew(tp(conf, "etc/keyadm.conf"), "# ok\nprofile = default\n"
	    "no_such_setting = 1\n", 41, 0644);
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 78);
	assert_stderr_line(&r, "%s:3: unknown setting", conf);
	cr_assert_eq(r.outlen, 0, "%s", r.out);
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh"));
	assert_absent(tp(p, "var/lib/keyadm"));

	spew(conf, "busy_timeout_ms = soon\n", 23, 0644);
	cr_assert_eq(ka(&r, NULL, "check", pub, NULL), 78);
	assert_stderr_line(&r, "%s:1: bad value for busy_timeout_ms", conf);
	run_free(&r);
}

/* ------------------------------------------------------------- usage */

Test(cli, usage_without_a_command)
{
	struct run_result	r;
	const char		*argv[] = { NULL };

	cr_assert_eq(run_keyadm(&r, NULL, argv), 64);
	cr_assert(strncmp(r.err, "usage: keyadm ", 14) == 0, "%s", r.err);
	cr_assert_eq(r.outlen, 0);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, NULL), 64);
	run_free(&r);
}

Test(cli, usage_unknown_command)
{
	struct run_result	r;

	cr_assert_eq(ka(&r, NULL, "frobnicate", NULL), 64);
	assert_stderr_line(&r, "frobnicate: unknown command; see keyadm "
	    "--help");
	run_free(&r);
}

Test(cli, usage_unknown_option)
{
	struct run_result	r;

	cr_assert_eq(ka(&r, NULL, "--no-such-option", "list", NULL), 64);
	cr_assert(strstr(r.err, "usage: keyadm ") != NULL, "%s", r.err);
	run_free(&r);
}

Test(cli, help_exits_0)
{
	struct run_result	r;
	const char		*argv[] = { "--help", NULL };

	cr_assert_eq(run_keyadm(&r, NULL, argv), 0);
	cr_assert(strncmp(r.out, "usage: keyadm ", 14) == 0, "%s", r.out);
	cr_assert(strstr(r.out, "  check ") != NULL);
	cr_assert(strstr(r.out, "  add ") != NULL);
	cr_assert(strstr(r.out, "  list ") != NULL);
	assert_stderr(&r, "");
	run_free(&r);
}

Test(cli, version)
{
	struct run_result	r;
	const char		*argv[] = { "--version", NULL };

	cr_assert_eq(run_keyadm(&r, NULL, argv), 0);
	cr_assert_str_eq(r.out, "keyadm 0.1.0\n");
	assert_stderr(&r, "");
	run_free(&r);
}

/* ------------------------------------------------------ cli_root attacks */

struct decoys {
	char	ak[PATH_MAX];		/* TREE/root/.ssh/authorized_keys */
	char	etc[PATH_MAX];		/* TREE/etc/sudoers */
};

static const char decoy_ak[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRlY295ZGVjb3lkZWNveWRlY295ZGVjb3k"
    "AAAAAAAA root@decoy\n";
static const char decoy_etc[] = "root ALL=(ALL:ALL) ALL\n";

static void
root_only(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: other uids own the homes");
}

static void
make_decoys(struct decoys *d)
{
	char	p[PATH_MAX];

	mkdirs(tp(p, "root/.ssh"), 0700);
	spew(tp(d->ak, "root/.ssh/authorized_keys"), decoy_ak,
	    sizeof(decoy_ak) - 1, 0600);
	spew(tp(d->etc, "etc/sudoers"), decoy_etc, sizeof(decoy_etc) - 1,
	    0440);
}

/* bob's home and .ssh made as he would make them */
static void
bob_ssh(void)
{
	char	p[PATH_MAX];

	mkdirs(tp(p, "home/bob/.ssh"), 0700);
	cr_assert_eq(lchown(p, T.bob_uid, T.bob_gid), 0);
}

/* add for bob must fail with 77 and the line; decoys and store untouched */
static void
attack(const struct decoys *d, const char *fmt_path_reason_rel,
    const char *reason)
{
	struct run_result	r;
	char			pub[PATH_MAX], p[PATH_MAX];
	struct stat		st;

	key("ed25519", 0, "mallory@evil", "evil", pub);
	cr_assert_eq(ka(&r, NULL, "add", "bob", pub, NULL), 77,
	    "stderr:\n%s", r.err);
	assert_stderr_line(&r, "%s: %s", tp(p, fmt_path_reason_rel), reason);
	run_free(&r);
	cr_assert(file_equals(d->ak, decoy_ak, sizeof(decoy_ak) - 1),
	    "root's authorized_keys changed");
	cr_assert_eq(lstat(d->ak, &st), 0);
	cr_assert(st.st_uid == 0 && (st.st_mode & 07777) == 0600,
	    "root's authorized_keys owner or mode changed");
	cr_assert(file_equals(d->etc, decoy_etc, sizeof(decoy_etc) - 1),
	    "etc/sudoers changed");
	cr_assert_eq(lstat(d->etc, &st), 0);
	cr_assert(st.st_uid == 0 && (st.st_mode & 07777) == 0440,
	    "etc/sudoers owner or mode changed");
	assert_no_grants();
}

Test(cli_root, ssh_dir_is_a_symlink_to_roots)
{
	struct decoys	d;
	char		p[PATH_MAX], target[PATH_MAX];

	root_only();
	make_decoys(&d);
	cr_assert_eq(symlink(tp(target, "root/.ssh"),
	    tp(p, "home/bob/.ssh")), 0);
	attack(&d, "home/bob/.ssh", "is a symbolic link");
}

Test(cli_root, authorized_keys_is_a_symlink_to_a_root_file)
{
	struct decoys	d;
	char		p[PATH_MAX];

	root_only();
	make_decoys(&d);
	bob_ssh();
	cr_assert_eq(symlink(d.ak, tp(p, "home/bob/.ssh/authorized_keys")), 0);
	cr_assert_eq(lchown(p, T.bob_uid, T.bob_gid), 0);
	attack(&d, "home/bob/.ssh/authorized_keys", "is a symbolic link");
}

Test(cli_root, authorized_keys_is_a_symlink_to_etc)
{
	struct decoys	d;
	char		p[PATH_MAX];

	root_only();
	make_decoys(&d);
	bob_ssh();
	cr_assert_eq(symlink(d.etc, tp(p, "home/bob/.ssh/authorized_keys")),
	    0);
	cr_assert_eq(lchown(p, T.bob_uid, T.bob_gid), 0);
	attack(&d, "home/bob/.ssh/authorized_keys", "is a symbolic link");
}

Test(cli_root, authorized_keys_is_a_hard_link_to_a_root_file)
{
	struct decoys	d;
	char		p[PATH_MAX];

	root_only();
	make_decoys(&d);
	bob_ssh();
	cr_assert_eq(link(d.ak, tp(p, "home/bob/.ssh/authorized_keys")), 0,
	    "link: %s", strerror(errno));
	attack(&d, "home/bob/.ssh/authorized_keys", "has 2 hard links");
}

Test(cli_root, authorized_keys_is_a_fifo)
{
	struct decoys	d;
	char		p[PATH_MAX];

	root_only();
	make_decoys(&d);
	bob_ssh();
	cr_assert_eq(mkfifo(tp(p, "home/bob/.ssh/authorized_keys"), 0600), 0);
	cr_assert_eq(lchown(p, T.bob_uid, T.bob_gid), 0);
	attack(&d, "home/bob/.ssh/authorized_keys", "not a regular file");
}

Test(cli_root, home_is_group_writable)
{
	struct decoys	d;
	char		p[PATH_MAX];

	root_only();
	make_decoys(&d);
	cr_assert_eq(chmod(tp(p, "home/bob"), 0770), 0);
	attack(&d, "home/bob", "writable by group");
}

Test(cli_root, ssh_dir_owned_by_another_uid)
{
	struct decoys	d;
	char		p[PATH_MAX];

	root_only();
	make_decoys(&d);
	mkdirs(tp(p, "home/bob/.ssh"), 0755);
	cr_assert_eq(lchown(p, T.alice_uid, T.alice_gid), 0);
	attack(&d, "home/bob/.ssh", "owned by uid 2001, expected 2002 or root");
}

/*
 * Regression (safefs open_dir, via install.c walk_below, run as bob): the
 * EACCES of opening alice's 0700 directory must be reported as the
 * ownership finding and 77, not "permission denied" and 73.
 */
Test(cli_root, private_ssh_dir_owned_by_another_uid)
{
	struct decoys	d;
	char		p[PATH_MAX];

	root_only();
	make_decoys(&d);
	mkdirs(tp(p, "home/bob/.ssh"), 0700);
	cr_assert_eq(lchown(p, T.alice_uid, T.alice_gid), 0);
	attack(&d, "home/bob/.ssh", "owned by uid 2001, expected 2002 or root");
}

Test(cli_root, home_owned_by_another_uid)
{
	struct decoys	d;
	char		p[PATH_MAX];

	root_only();
	make_decoys(&d);
	cr_assert_eq(lchown(tp(p, "home/bob"), T.alice_uid, T.alice_gid), 0);
	attack(&d, "home/bob", "owned by uid 2001, expected 2002 or root");
}

Test(cli_root, add_sets_the_accounts_owner_as_root)
{
	struct run_result	r;
	char			pub[PATH_MAX], p[PATH_MAX];

	root_only();
	key("ed25519", 0, "bob@x", "bob", pub);
	cr_assert_eq(ka(&r, NULL, "add", "bob", pub, NULL), 0, "%s", r.err);
	run_free(&r);
	assert_mode_owner(tp(p, "home/bob/.ssh"), S_IFDIR, 0700, 2002, 2002);
	assert_mode_owner(tp(p, "home/bob/.ssh/authorized_keys"), S_IFREG,
	    0600, 2002, 2002);
	assert_absent(tp(p, "home/alice/.ssh"));
}

/*
 * Review findings, each pinned by a test.
 */

/* A cert-authority line names a CA: the key still needs its own line. */
Test(cli, add_does_not_count_a_cert_authority_line)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], ak[PATH_MAX], d[PATH_MAX];
	char			*pubtext, *pre, *got;
	size_t			 publen, gotlen;

	key("ed25519", 0, "ca@x", "ca", pub);
	pubtext = slurp(pub, &publen);
	pre = malloc(publen + 32);
	cr_assert_not_null(pre);
	xsnprintf(pre, publen + 32, "cert-authority %s", pubtext);
	mkdirs(tp(d, "home/alice/.ssh"), 0700);
	spew(tp(ak, "home/alice/.ssh/authorized_keys"), pre, strlen(pre),
	    0600);
	cr_assert_eq(lchown(d, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(lchown(ak, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", pub, NULL), 0,
	    "%s", r.err);
	cr_assert(mem_contains(r.out, r.outlen, "\"action\":\"added\""),
	    "%s", r.out);
	run_free(&r);
	got = slurp(ak, &gotlen);
	cr_assert(gotlen == strlen(pre) + publen &&
	    memcmp(got, pre, strlen(pre)) == 0 &&
	    memcmp(got + strlen(pre), pubtext, publen) == 0,
	    "expected the CA line kept and a plain line added:\n%s", got);
	free(got);
	free(pre);
	free(pubtext);
}

/* A hand-made line with options is recorded with those options. */
Test(cli, add_records_a_present_line_with_its_options)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], ak[PATH_MAX], d[PATH_MAX],
				 line[8192], opts[256];
	char			*pubtext;
	size_t			 publen;

	key("ed25519", 0, "o@x", "o", pub);
	pubtext = slurp(pub, &publen);
	xsnprintf(line, sizeof(line), "from=\"10.0.0.1\" %s", pubtext);
	mkdirs(tp(d, "home/alice/.ssh"), 0700);
	spew(tp(ak, "home/alice/.ssh/authorized_keys"), line, strlen(line),
	    0600);
	cr_assert_eq(lchown(d, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(lchown(ak, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 0, "%s", r.err);
	cr_assert(mem_contains(r.err, r.errlen, "already there with options"),
	    "%s", r.err);
	run_free(&r);
	cr_assert(file_equals(ak, line, strlen(line)), "file was rewritten");
	cr_assert_eq(ka(&r, NULL, "--json", "list", "alice", NULL), 0);
	cr_assert_eq(json_field(r.out, "options", opts, sizeof(opts)), 0,
	    "%s", r.out);
	cr_assert_str_eq(opts, "from=\\\"10.0.0.1\\\"");
	run_free(&r);
	free(pubtext);
}

Test(cli, add_refuses_a_reason_with_control_characters)
{
	struct run_result	r;
	char			pub[PATH_MAX], p[PATH_MAX];

	key("ed25519", 0, "a@x", "k", pub);
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, "--reason",
	    "ok\033[2Jgone", NULL), 64);
	assert_stderr(&r, "keyadm: --reason: must be one line of at most "
	    "1024 printable bytes\n");
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh/authorized_keys"));
}

Test(cli, check_refuses_a_submitted_file_with_two_links)
{
	struct run_result	r;
	char			pub[PATH_MAX], ln[PATH_MAX];

	key("ed25519", 0, "a@x", "k", pub);
	tp(ln, "inbox/second-name.pub");
	cr_assert_eq(link(pub, ln), 0);
	cr_assert_eq(ka(&r, NULL, "check", ln, NULL), 66);
	assert_stderr_line(&r, "%s: has 2 hard links; give a copy of the file",
	    ln);
	run_free(&r);
}

Test(cli, check_never_echoes_a_secret_first_word)
{
	struct run_result	r;
	char			f[PATH_MAX];
	static const char	secret[] = "ghp_SuperSecretTokenValue123";

	tp(f, "inbox/secret.pub");
	spew(f, secret, sizeof(secret) - 1, 0644);
	cr_assert_eq(ka(&r, NULL, "--json", "check", f, NULL), 65);
	cr_assert(!mem_contains(r.err, r.errlen, "Secret"), "%s", r.err);
	cr_assert(!mem_contains(r.out, r.outlen, "Secret"), "%s", r.out);
	run_free(&r);
}

Test(cli, config_option_refuses_a_group_writable_file)
{
	struct run_result	r;
	char			conf[PATH_MAX], pub[PATH_MAX];

	/*
	 * Refused either for the file itself or, when the tree lies in a
	 * world-writable /tmp, for that directory: both are 78.
	 */
	key("ed25519", 0, "a@x", "k", pub);
	tp(conf, "etc/other.conf");
	spew(conf, "profile = fips\n", 15, 0664);
	cr_assert_eq(chmod(conf, 0664), 0);
	cr_assert_eq(ka(&r, NULL, "--config", conf, "check", pub, NULL), 78);
	cr_assert(mem_contains(r.err, r.errlen, "writable by group"), "%s",
	    r.err);
	run_free(&r);
}

/*
 * Issue 3: formats, weak keys, the deny list, --skip-rejected.
 */

static const char *
vector(char *buf, const char *rel)
{
	const char	*v = getenv("KEYADM_VECTORS");

	xsnprintf(buf, PATH_MAX, "%s/%s", v != NULL ? v :
	    "/work/shared/vectors", rel);
	return buf;
}

/* PuTTYgen's RFC 4716 export installs as the canonical OpenSSH line. */
Test(cli, add_puttygen_rfc4716_installs_the_canonical_line)
{
	struct run_result	 r;
	char			 ppk[PATH_MAX], rfc[PATH_MAX], one[PATH_MAX],
				 ak[PATH_MAX];
	char			*want, *got;
	size_t			 wantlen, gotlen;

	tp(ppk, "inbox/p.ppk");
	tp(rfc, "inbox/p.pub");
	tp(one, "inbox/p.openssh");
	{
		const char *const a1[] = { "puttygen", "-t", "ed25519", "-C",
		    "alice putty key", "-o", ppk, "--new-passphrase",
		    "/dev/null", NULL };
		const char *const a2[] = { "puttygen", ppk, "-O", "public",
		    "-o", rfc, NULL };
		const char *const a3[] = { "puttygen", ppk, "-O",
		    "public-openssh", "-o", one, NULL };
		cr_assert_eq(run_prog(&r, NULL, 0, a1, 0), 0, "%s", r.err);
		run_free(&r);
		cr_assert_eq(run_prog(&r, NULL, 0, a2, 0), 0, "%s", r.err);
		run_free(&r);
		cr_assert_eq(run_prog(&r, NULL, 0, a3, 0), 0, "%s", r.err);
		run_free(&r);
	}
	cr_assert_eq(ka(&r, NULL, "--json", "check", rfc, NULL), 0, "%s",
	    r.err);
	cr_assert(mem_contains(r.out, r.outlen, "\"format\":\"rfc4716\""),
	    "%s", r.out);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "add", "alice", rfc, NULL), 0, "%s", r.err);
	run_free(&r);
	want = slurp(one, &wantlen);
	got = slurp(tp(ak, "home/alice/.ssh/authorized_keys"), &gotlen);
	cr_assert(gotlen == wantlen && memcmp(got, want, gotlen) == 0,
	    "installed:\n%s\nputtygen's OpenSSH form:\n%s", got, want);
	free(want);
	free(got);
}

Test(cli, add_refuses_a_puttygen_private_key)
{
	struct run_result	r;
	char			ppk[PATH_MAX], p[PATH_MAX];
	const char *const	a[] = { "puttygen", "-t", "ed25519", "-o", ppk,
				    "--new-passphrase", "/dev/null", NULL };

	tp(ppk, "inbox/q.ppk");
	cr_assert_eq(run_prog(&r, NULL, 0, a, 0), 0, "%s", r.err);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "add", "alice", ppk, NULL), 65);
	cr_assert(mem_contains(r.err, r.errlen, "this is a private key"),
	    "%s", r.err);
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh/authorized_keys"));
}

Test(cli, check_refuses_the_roca_vector_with_its_reason)
{
	struct run_result	r;
	char			v[PATH_MAX];

	cr_assert_eq(ka(&r, NULL, "--json", "check",
	    vector(v, "badkeys/rsa-roca.key"), NULL), 1, "%s", r.err);
	cr_assert(mem_contains(r.out, r.outlen, "\"code\":\"rsa_roca\""),
	    "%s", r.out);
	cr_assert(mem_contains(r.out, r.outlen, "\"format\":\"pkcs1\""),
	    "%s", r.out);
	run_free(&r);
}

Test(cli, add_skip_rejected_installs_the_good_keys_and_exits_1)
{
	struct run_result	 r;
	char			 good[PATH_MAX], weak[PATH_MAX], both[PATH_MAX],
				 ak[PATH_MAX];
	char			*g, *w, *b, *got;
	size_t			 gl, wl, gotlen;

	key("ed25519", 0, "good@x", "good", good);
	key("rsa", 1024, "weak@x", "weak", weak);
	g = slurp(good, &gl);
	w = slurp(weak, &wl);
	b = malloc(gl + wl + 1);
	cr_assert_not_null(b);
	memcpy(b, w, wl);
	memcpy(b + wl, g, gl);
	spew(tp(both, "inbox/both.pub"), b, gl + wl, 0644);
	cr_assert_eq(ka(&r, NULL, "add", "alice", both, NULL), 1);
	run_free(&r);
	assert_absent(tp(ak, "home/alice/.ssh/authorized_keys"));
	cr_assert_eq(ka(&r, NULL, "--json", "add", "alice", both,
	    "--skip-rejected", NULL), 1, "%s", r.err);
	cr_assert(mem_contains(r.out, r.outlen, "\"skipped_rejected\":true"),
	    "%s", r.out);
	cr_assert(mem_contains(r.out, r.outlen, "\"changed\":true"), "%s",
	    r.out);
	run_free(&r);
	got = slurp(ak, &gotlen);
	cr_assert(gotlen == gl && memcmp(got, g, gl) == 0,
	    "only the good key is installed:\n%s", got);
	free(g);
	free(w);
	free(b);
	free(got);
}

Test(cli, deny_list_refuses_a_listed_key)
{
	struct run_result	r;
	char			pub[PATH_MAX], fp[128], conf[PATH_MAX],
				deny[PATH_MAX], text[256], p[PATH_MAX];

	key("ed25519", 0, "leaked@x", "leaked", pub);
	ssh_keygen_fingerprint(pub, fp, sizeof(fp));
	xsnprintf(text, sizeof(text), "# leaked on a paste site\n%s\n", fp);
	spew(tp(deny, "etc/keyadm.deny"), text, strlen(text), 0644);
	spew(tp(conf, "etc/keyadm.conf"), "deny_list = /etc/keyadm.deny\n",
	    29, 0644);
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub, NULL), 1);
	cr_assert(mem_contains(r.err, r.errlen, "known compromised key"),
	    "%s", r.err);
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh/authorized_keys"));
	/* a deny list that cannot be read stops everything: fail closed */
	cr_assert_eq(unlink(deny), 0);
	cr_assert_eq(ka(&r, NULL, "check", pub, NULL), 78);
	assert_stderr_line(&r, "%s: no such file (set by deny_list)", deny);
	run_free(&r);
}

Test(cli, check_gives_a_hint_for_a_key_broken_across_lines)
{
	struct run_result	 r;
	char			 pub[PATH_MAX], bad[PATH_MAX];
	char			*t, *sp;
	size_t			 len;

	key("rsa", 3072, "", "wrapped", pub);
	t = slurp(pub, &len);
	/* a mail client wraps the base64 after 60 characters */
	sp = strchr(t, ' ');
	cr_assert_not_null(sp);
	memmove(sp + 61 + 1, sp + 61, len - (size_t)(sp + 61 - t) + 1);
	sp[61] = '\n';
	spew(tp(bad, "inbox/wrapped-mail.pub"), t, len + 1, 0644);
	cr_assert_eq(ka(&r, NULL, "check", bad, NULL), 65);
	cr_assert(mem_contains(r.err, r.errlen, "broken across lines"), "%s",
	    r.err);
	run_free(&r);
	free(t);
}

/* The line on stderr gives the reason for the refusal, not a warning. */
Test(cli, a_refusal_names_its_rejecting_reason)
{
	struct run_result	r;
	char			f[PATH_MAX];

	cr_assert_eq(ka(&r, NULL, "check",
	    datafile(f, "rsa2048-divisible-by-3.pub"), NULL), 1);
	assert_stderr_line(&r, "%s:1: the modulus is divisible by 3: it is "
	    "trivially factored", f);
	run_free(&r);
}

/* Run SQL on the tree's store, as pam_keyadm's records would change it. */
static void
store_sql(const char *sql)
{
	struct run_result	 r;
	char			 db[PATH_MAX];
	const char		*argv[] = { "sqlite3", db, sql, NULL };

	tp(db, "var/lib/keyadm/keyadm.db");
	run_prog(&r, NULL, 0, argv, 30);
	cr_assert_eq(r.status, 0, "sqlite3 %s: %s", sql, r.err);
	run_free(&r);
}

Test(cli, list_shows_last_use_and_unused_for)
{
	struct run_result	 r;
	char			 pub1[PATH_MAX], pub2[PATH_MAX], pub3[PATH_MAX];
	char			 fp1[128], fp2[128], fp3[128], sql[512], v[64];

	key("ed25519", 0, "used@x", "u1", pub1);
	key("ed25519", 0, "stale@x", "u2", pub2);
	key("ed25519", 0, "new@x", "u3", pub3);
	ssh_keygen_fingerprint(pub1, fp1, sizeof(fp1));
	ssh_keygen_fingerprint(pub2, fp2, sizeof(fp2));
	ssh_keygen_fingerprint(pub3, fp3, sizeof(fp3));
	cr_assert_eq(ka(&r, NULL, "add", "alice", pub1, pub2, pub3, NULL), 0,
	    "%s", r.err);
	run_free(&r);
	/* 1: used a day ago from 192.0.2.7; 2: added 200 days ago, never
	 * used; 3: added now, never used */
	xsnprintf(sql, sizeof(sql), "UPDATE grants SET added_at = added_at - "
	    "200 * 86400, last_used_at = strftime('%%s', 'now') - 86400, "
	    "last_used_from = '192.0.2.7', use_count = 5 WHERE id = 1; "
	    "UPDATE grants SET added_at = added_at - 200 * 86400 WHERE id = 2");
	store_sql(sql);

	cr_assert_eq(ka(&r, NULL, "--json", "list", "alice", NULL), 0, "%s",
	    r.err);
	assert_json(&r);
	cr_assert_eq(json_field(r.out, "last_used_at", v, sizeof(v)), 0);
	cr_assert(strlen(v) == 20 && v[10] == 'T' && v[19] == 'Z',
	    "last_used_at %s", v);
	assert_field(r.out, "last_used_from", "192.0.2.7");
	assert_field(r.out, "use_count", "5");
	run_free(&r);

	cr_assert_eq(ka(&r, NULL, "list", NULL), 0, "%s", r.err);
	cr_assert(strstr(r.out, " 192.0.2.7 ") != NULL, "%s", r.out);
	run_free(&r);

	/* unused for 90 days: only the stale one */
	cr_assert_eq(ka(&r, NULL, "--json", "list", "--unused-for", "90",
	    NULL), 0, "%s", r.err);
	assert_json(&r);
	cr_assert_not_null(strstr(r.out, fp2), "%s", r.out);
	cr_assert_null(strstr(r.out, fp1), "used yesterday:\n%s", r.out);
	cr_assert_null(strstr(r.out, fp3), "added today:\n%s", r.out);
	run_free(&r);

	/* unused for 0 days: all three; for 1 day... the day-old use counts */
	cr_assert_eq(ka(&r, NULL, "--json", "list", "alice", "--unused-for",
	    "0", NULL), 0, "%s", r.err);
	cr_assert(strstr(r.out, fp1) && strstr(r.out, fp2) &&
	    strstr(r.out, fp3), "%s", r.out);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "--json", "list", "--unused-for", "2",
	    NULL), 0, "%s", r.err);
	cr_assert(strstr(r.out, fp2) && !strstr(r.out, fp1) &&
	    !strstr(r.out, fp3), "%s", r.out);
	run_free(&r);

	/* bad values */
	cr_assert_eq(ka(&r, NULL, "list", "--unused-for", "x", NULL), 64);
	assert_stderr_line(&r, "--unused-for: must be a number of days from 0 "
	    "to 36500");
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "list", "--unused-for", "-1", NULL), 64);
	run_free(&r);
	cr_assert_eq(ka(&r, NULL, "list", "--unused-for", "36501", NULL), 64);
	run_free(&r);
}

/* ------------------------------------------- check: files of any size */

/*
 * check reads a file in pieces of at most 64 KiB, cut at line ends outside
 * PEM and RFC 4716 blocks.  Whatever the cuts, the result must be the one
 * of reading the file whole: line numbers of the whole file, a block read
 * as one key wherever it lies, a private key anywhere refusing the file.
 * Keys here are random Ed25519 blobs (fingerprints computed with OpenSSL)
 * and ssh-keygen's keys for the blocks that straddle the marks.
 */
#include <sys/random.h>

#include <openssl/evp.h>

#include "b64.h"

#define STREAM_PIECE	65536	/* KEYFILE_MAX */

struct stext {
	char	*p;
	size_t	 len, cap;
	long	 lines;		/* complete lines so far */
};

static void __attribute__((format(printf, 2, 3)))
st_add(struct stext *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;
	size_t	i;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	va_start(ap, fmt);
	(void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	for (i = b->len; i < b->len + (size_t)n; i++)
		b->lines += b->p[i] == '\n';
	b->len += (size_t)n;
}

/* A random Ed25519 key: blob, "ssh-ed25519 BASE64", fingerprint. */
struct skey {
	unsigned char	blob[51];
	char		tb[128];
	char		b64[80];
	char		fp[64];
};

static void
st_key(struct skey *k)
{
	static const unsigned char head[] = { 0, 0, 0, 11, 's', 's', 'h',
	    '-', 'e', 'd', '2', '5', '5', '1', '9', 0, 0, 0, 32 };
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;
	char		enc[B64_ENCODED_SIZE(EVP_MAX_MD_SIZE)];

	memcpy(k->blob, head, sizeof(head));
	cr_assert_eq(getrandom(k->blob + 19, 32, 0), 32);
	(void)b64_encode(k->blob, sizeof(k->blob), k->b64, 1);
	xsnprintf(k->tb, sizeof(k->tb), "ssh-ed25519 %s", k->b64);
	cr_assert_eq(EVP_Digest(k->blob, sizeof(k->blob), md, &mdlen,
	    EVP_sha256(), NULL), 1);
	(void)b64_encode(md, mdlen, enc, 0);
	xsnprintf(k->fp, sizeof(k->fp), "SHA256:%s", enc);
}

/* An RFC 4716 block of k, its data wrapped at 70 columns. */
static void
st_rfc4716(struct stext *b, const struct skey *k, long n)
{
	size_t	i, len = strlen(k->b64);

	st_add(b, "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"block %ld\"\n",
	    n);
	for (i = 0; i < len; i += 70)
		st_add(b, "%.70s\n", k->b64 + i);
	st_add(b, "---- END SSH2 PUBLIC KEY ----\n");
}

/* python3 with d = the JSON document json: eval(expr) printed as JSON (or
 * as is for a string), without the newline (free it). */
static char *
st_py(const char *json, size_t len, const char *expr)
{
	static const char script[] =
	    "import json,sys\n"
	    "d=json.load(sys.stdin)\n"
	    "r=eval(sys.argv[1])\n"
	    "print(r if isinstance(r,str) else json.dumps(r))\n";
	struct run_result	 r;
	const char		*argv[] = { "python3", "-c", script, expr,
				    NULL };
	char			*out;

	run_prog(&r, json, len, argv, 0);
	cr_assert_eq(r.status, 0, "python3 on %s: %s", expr, r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	if (out[0] != '\0' && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	return out;
}

#define st_expect(r, expr, want) do {					\
	char *got_ = st_py((r)->out, (r)->outlen, (expr));		\
	cr_assert_str_eq(got_, (want), "%s: %.3000s\nexpected %s",	\
	    (expr), got_, (want));					\
	free(got_);							\
} while (0)

/* The reason keyadm check gives for line alone in a file of its own. */
static char *
st_reason_alone(const char *line)
{
	struct run_result	 r;
	char			 p[PATH_MAX], text[512], pre[PATH_MAX + 16];
	char			*why;

	xsnprintf(text, sizeof(text), "%s\n", line);
	spew(tp(p, "inbox/alone.pub"), text, strlen(text), 0644);
	cr_assert_eq(ka(&r, NULL, "check", p, NULL), 65, "%s", r.err);
	xsnprintf(pre, sizeof(pre), "keyadm: %s:1: ", p);
	cr_assert_eq(strncmp(r.err, pre, strlen(pre)), 0, "%s", r.err);
	why = strdup(r.err + strlen(pre));
	cr_assert_not_null(why);
	run_free(&r);
	return why;
}

/*
 * A file of about total bytes: key lines with comments, blank lines and
 * CRLF lines in between; bad (may be NULL) on line bad_at.  expect gets
 * the JSON list [[line, fingerprint], ...] of the good keys in order.
 */
static void
st_big(struct stext *b, size_t total, const char *bad, long bad_at,
    struct stext *expect)
{
	struct skey	k;
	long		n = 0;

	st_add(expect, "[");
	while (b->len < total || (bad != NULL && b->lines < bad_at)) {
		if (bad != NULL && b->lines + 1 == bad_at) {
			st_add(b, "%s\n", bad);
			continue;
		}
		n++;
		if (n % 7 == 0) {
			st_add(b, "# user %ld\n", n);
			continue;
		}
		if (n % 11 == 0) {
			st_add(b, n % 2 ? "\n" : "  \r\n");
			continue;
		}
		st_key(&k);
		st_add(expect, "%s[%ld, \"%s\"]", expect->len > 1 ? ", " : "",
		    b->lines + 1, k.fp);
		st_add(b, "%s user%ld@host%s\n", k.tb, n, n % 5 ? "" : "\r");
	}
	st_add(expect, "]");
}

Test(cli, check_streams_a_large_file_with_the_whole_files_line_numbers)
{
	static const char bad[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA "
	    "late@host";
	struct run_result	 r;
	struct stext		 b = { NULL, 0, 0, 0 }, e = { NULL, 0, 0, 0 };
	char			 p[PATH_MAX], ep[PATH_MAX], want[PATH_MAX * 2];
	char			 expr[PATH_MAX * 2], *why;
	long			 bad_at = 3187;

	why = st_reason_alone(bad);
	st_big(&b, 300 * 1024, bad, bad_at, &e);
	cr_assert_gt(b.len, 200 * 1024);
	cr_assert_gt(b.lines, bad_at + 100, "the bad line is not late");
	spew(tp(p, "inbox/big.pub"), b.p, b.len, 0644);
	spew(tp(ep, "inbox/expect.json"), e.p, e.len, 0644);

	cr_assert_eq(ka(&r, NULL, "check", p, NULL), 65, "%s", r.err);
	xsnprintf(want, sizeof(want), "keyadm: %s:%ld: %s", p, bad_at, why);
	assert_stderr(&r, want);
	run_free(&r);

	/* every good key reported, with its line in the whole file */
	cr_assert_eq(ka(&r, NULL, "--json", "check", p, NULL), 65);
	assert_stderr(&r, want);
	assert_json(&r);
	xsnprintf(expr, sizeof(expr), "[[x['line'], x['fingerprint']] for x "
	    "in d if x['verdict'] == 'accept'] == json.load(open('%s'))", ep);
	st_expect(&r, expr, "true");
	st_expect(&r, "[x['line'] for x in d if x['verdict'] != 'accept']",
	    "[3187]");
	run_free(&r);

	/* standard input: the same */
	{
		const char *argv[] = { "--root", T.root, "--json", "check",
		    "-", NULL };
		cr_assert_eq(run_keyadm_buf(&r, b.p, b.len, argv), 65);
		xsnprintf(want, sizeof(want), "keyadm: -:%ld: %s", bad_at,
		    why);
		assert_stderr(&r, want);
		st_expect(&r, expr, "true");
		st_expect(&r, "[x['line'] for x in d if x['verdict'] != "
		    "'accept']", "[3187]");
		run_free(&r);
	}
	free(why);
	free(b.p);
	free(e.p);
}

/* A key of ssh-keygen's in a block: its text and fingerprint. */
struct sblock {
	char	*text;
	char	 fp[128];
	char	 format[16];
};

static void
st_block(struct sblock *s, const char *type, unsigned int bits,
    const char *name, const char *mode, const char *format)
{
	struct run_result	 r;
	char			 pub[PATH_MAX];
	const char		*argv[] = { "ssh-keygen", "-e", "-m", mode,
				    "-f", pub, NULL };

	key(type, bits, name, name, pub);
	ssh_keygen_fingerprint(pub, s->fp, sizeof(s->fp));
	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 0, "ssh-keygen -e -m %s: %s", mode, r.err);
	s->text = r.out;
	r.out = NULL;
	run_free(&r);
	cr_assert(strncmp(s->text, "----", 4) == 0, "%s", s->text);
	xsnprintf(s->format, sizeof(s->format), "%s", format);
}

Test(cli, check_reads_blocks_that_straddle_the_piece_marks)
{
	struct run_result	 r;
	struct stext		 b = { NULL, 0, 0, 0 }, e = { NULL, 0, 0, 0 };
	struct sblock		 sb[6];
	struct skey		 k;
	char			 p[PATH_MAX], ep[PATH_MAX], expr[PATH_MAX * 2];
	size_t			 mark, blen, i, straddle = 0;
	long			 n = 0, nkeys = 0, start_line;

	st_block(&sb[0], "ecdsa", 521, "s1", "RFC4716", "rfc4716");
	st_block(&sb[1], "ecdsa", 521, "s2", "PKCS8", "spki");
	st_block(&sb[2], "rsa", 3072, "s3", "PEM", "pkcs1");
	st_block(&sb[3], "ecdsa", 384, "s4", "RFC4716", "rfc4716");
	st_block(&sb[4], "rsa", 3072, "s5", "PKCS8", "spki");
	st_block(&sb[5], "ecdsa", 256, "s6", "PEM", "x");
	free(sb[5].text);		/* no PKCS#1 for ECDSA: SPKI */
	st_block(&sb[5], "ecdsa", 256, "s6b", "PKCS8", "spki");

	st_add(&e, "[");
	for (i = 0; i < 6; i++) {
		mark = (i + 1) * (STREAM_PIECE / 2);
		blen = strlen(sb[i].text);
		/* one-line keys up to the block */
		while (b.len + 120 < mark - blen / 2) {
			st_key(&k);
			st_add(&e, "%s[%ld, \"%s\"]", e.len > 1 ? ", " : "",
			    b.lines + 1, k.fp);
			st_add(&b, "%s k%ld\n", k.tb, ++n);
			nkeys++;
		}
		while (b.len < mark - blen / 2)
			st_add(&b, "#\n");
		/* ssh-keygen's block across the mark */
		start_line = b.lines + 1;
		cr_assert(b.len < mark && b.len + blen > mark);
		straddle++;
		st_add(&b, "%s", sb[i].text);
		st_add(&e, ", [%ld, \"%s\"]", start_line, sb[i].fp);
		nkeys++;
		/* then blocks back to back: wherever a cut falls after the
		 * mark (a piece ends at the first line end past it), it
		 * falls in one */
		while (b.len < mark + 3500) {
			st_key(&k);
			st_add(&e, ", [%ld, \"%s\"]", b.lines + 1, k.fp);
			st_rfc4716(&b, &k, ++n);
			nkeys++;
		}
	}
	for (i = 0; i < 40; i++) {
		st_key(&k);
		st_add(&e, ", [%ld, \"%s\"]", b.lines + 1, k.fp);
		st_add(&b, "%s k%ld\n", k.tb, ++n);
		nkeys++;
	}
	st_add(&e, "]");
	cr_assert_eq(straddle, 6);
	spew(tp(p, "inbox/blocks.pub"), b.p, b.len, 0644);
	spew(tp(ep, "inbox/expect.json"), e.p, e.len, 0644);

	cr_assert_eq(ka(&r, NULL, "--json", "check", p, NULL), 0, "%s", r.err);
	assert_stderr(&r, "");
	assert_json(&r);
	xsnprintf(expr, sizeof(expr), "[[x['line'], x['fingerprint']] for x "
	    "in d] == json.load(open('%s'))", ep);
	st_expect(&r, expr, "true");
	xsnprintf(expr, sizeof(expr), "len(d) == %ld and all(x['verdict'] == "
	    "'accept' for x in d)", nkeys);
	st_expect(&r, expr, "true");
	for (i = 0; i < 6; i++) {
		xsnprintf(expr, sizeof(expr), "[x['format'] for x in d if "
		    "x['fingerprint'] == '%s']", sb[i].fp);
		xsnprintf(p, sizeof(p), "[\"%s\"]", sb[i].format);
		st_expect(&r, expr, p);
	}
	run_free(&r);
	/* standard input: the same keys */
	{
		const char *argv[] = { "--root", T.root, "--json", "check",
		    "-", NULL };
		cr_assert_eq(run_keyadm_buf(&r, b.p, b.len, argv), 0, "%s",
		    r.err);
		xsnprintf(expr, sizeof(expr), "[[x['line'], x['fingerprint']] "
		    "for x in d] == json.load(open('%s'))", ep);
		st_expect(&r, expr, "true");
		run_free(&r);
	}
	for (i = 0; i < 6; i++)
		free(sb[i].text);
	free(b.p);
	free(e.p);
}

Test(cli, check_refuses_a_large_file_with_a_private_key_late_in_it)
{
	struct run_result	 r;
	struct stext		 b = { NULL, 0, 0, 0 }, e = { NULL, 0, 0, 0 };
	struct stext		 e2 = { NULL, 0, 0, 0 };
	char			 p[PATH_MAX], priv[PATH_MAX], *secret, *line;
	char			*save = NULL;
	const char		*argv[] = { "--root", T.root, "check", "-",
				    NULL };

	tree_keygen(&T, "ed25519", 0, "secret@host", "k", priv, sizeof(priv));
	secret = slurp(priv, NULL);
	st_big(&b, 170 * 1024, NULL, 0, &e);
	st_add(&b, "%s", secret);
	st_big(&b, 230 * 1024, NULL, 0, &e2);
	spew(tp(p, "inbox/big.pub"), b.p, b.len, 0644);

	cr_assert_eq(ka(&r, NULL, "check", p, NULL), 65, "%s", r.err);
	cr_assert(mem_contains(r.err, r.errlen, p) && mem_contains(r.err,
	    r.errlen, ": this is a private key: the user must make a new key "
	    "pair and send only the .pub file\n"), "%s", r.err);
	for (line = strtok_r(secret, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "-----", 5) == 0)
			continue;
		cr_assert(!mem_contains(r.out, r.outlen, line) &&
		    !mem_contains(r.err, r.errlen, line),
		    "private key material printed");
	}
	run_free(&r);

	cr_assert_eq(run_keyadm_buf(&r, b.p, b.len, argv), 65, "%s", r.err);
	cr_assert(mem_contains(r.err, r.errlen, ": this is a private key: "
	    "the user must make a new key pair and send only the .pub "
	    "file\n"), "%s", r.err);
	free(secret);
	secret = slurp(priv, NULL);
	save = NULL;
	for (line = strtok_r(secret, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "-----", 5) == 0)
			continue;
		cr_assert(!mem_contains(r.out, r.outlen, line) &&
		    !mem_contains(r.err, r.errlen, line),
		    "private key material printed");
	}
	run_free(&r);
	free(secret);
	free(b.p);
	free(e.p);
	free(e2.p);
}

Test(cli, check_file_without_keys_of_any_size)
{
	struct run_result	 r;
	struct stext		 b = { NULL, 0, 0, 0 };
	char			 p[PATH_MAX], want[PATH_MAX * 2];
	const char		*argv[] = { "--root", T.root, "check", "-",
				    NULL };
	int			 big;

	for (big = 0; big <= 1; big++) {
		/* blank lines only */
		b.len = 0;
		b.lines = 0;
		while (b.len < (big ? 150 * 1024 : 100))
			st_add(&b, b.lines % 3 ? "\n" : "  \t\r\n");
		spew(tp(p, "inbox/blank.pub"), b.p, b.len, 0644);
		cr_assert_eq(ka(&r, NULL, "check", p, NULL), 65, "%s", r.err);
		xsnprintf(want, sizeof(want), "keyadm: %s: empty file\n", p);
		if (strcmp(r.err, want) != 0)
			xsnprintf(want, sizeof(want), "keyadm: %s: no public "
			    "key in the file\n", p);
		assert_stderr(&r, want);
		cr_assert_eq(r.outlen, 0, "%s", r.out);
		run_free(&r);
		/* comments only */
		b.len = 0;
		b.lines = 0;
		while (b.len < (big ? 150 * 1024 : 100))
			st_add(&b, "# no key here, line %ld\n", b.lines + 1);
		spew(tp(p, "inbox/comments.pub"), b.p, b.len, 0644);
		cr_assert_eq(ka(&r, NULL, "check", p, NULL), 65, "%s", r.err);
		assert_stderr_line(&r, "%s: no public key in the file", p);
		cr_assert_eq(r.outlen, 0, "%s", r.out);
		run_free(&r);
		cr_assert_eq(run_keyadm_buf(&r, b.p, b.len, argv), 65);
		assert_stderr_line(&r, "standard input: no public key in the "
		    "file");
		run_free(&r);
	}
	free(b.p);
}

Test(cli, check_judges_a_repeated_key_once)
{
	struct run_result	 r;
	struct stext		 b = { NULL, 0, 0, 0 }, e = { NULL, 0, 0, 0 };
	struct skey		 k1, k2;
	char			 p[PATH_MAX], expr[512];

	st_key(&k1);
	st_key(&k2);
	st_add(&b, "%s a\n%s b\n%s a again\n", k1.tb, k2.tb, k1.tb);
	spew(tp(p, "inbox/two.pub"), b.p, b.len, 0644);
	cr_assert_eq(ka(&r, NULL, "--json", "check", p, NULL), 0, "%s", r.err);
	xsnprintf(expr, sizeof(expr), "[[x['line'], x['fingerprint']] for x "
	    "in d] == [[1, '%s'], [2, '%s']]", k1.fp, k2.fp);
	st_expect(&r, expr, "true");
	run_free(&r);
	/* the repeat far away, in another piece */
	b.len = 0;
	b.lines = 0;
	st_add(&b, "%s first\n", k1.tb);
	st_big(&b, 150 * 1024, NULL, 0, &e);
	st_add(&b, "%s again\n", k1.tb);
	spew(tp(p, "inbox/big.pub"), b.p, b.len, 0644);
	cr_assert_eq(ka(&r, NULL, "--json", "check", p, NULL), 0, "%s", r.err);
	xsnprintf(expr, sizeof(expr), "[x['line'] for x in d if "
	    "x['fingerprint'] == '%s']", k1.fp);
	st_expect(&r, expr, "[1]");
	run_free(&r);
	free(b.p);
	free(e.p);
}

Test(cli, add_still_refuses_a_file_over_64k)
{
	struct run_result	 r;
	struct stext		 b = { NULL, 0, 0, 0 }, e = { NULL, 0, 0, 0 };
	char			 p[PATH_MAX];

	st_big(&b, 70 * 1024, NULL, 0, &e);
	spew(tp(p, "inbox/big.pub"), b.p, b.len, 0644);
	cr_assert_eq(ka(&r, NULL, "add", "alice", p, NULL), 65, "%s", r.err);
	cr_assert(mem_contains(r.err, r.errlen, "big.pub: larger than 65536 "
	    "bytes, not a public key\n"), "stderr: %s", r.err);
	run_free(&r);
	assert_absent(tp(p, "home/alice/.ssh"));
	assert_absent(tp(p, "var/lib/keyadm/keyadm.db"));
	/* check takes it */
	cr_assert_eq(ka(&r, NULL, "check", tp(p, "inbox/big.pub"), NULL), 0,
	    "%s", r.err);
	run_free(&r);
	free(b.p);
	free(e.p);
}

Test(cli, check_result_does_not_depend_on_where_pieces_are_cut)
{
	struct run_result	 r;
	struct stext		 b = { NULL, 0, 0, 0 }, s = { NULL, 0, 0, 0 };
	struct skey		 k;
	char			 p[PATH_MAX], err[1024];
	long			 n = 0;
	int			 status;

	/* text between the keys, as pasted from a mail; some of its lines
	 * start with a non-ASCII letter.  A small file like it is fine: */
	st_key(&k);
	st_add(&s, "%s a\n\xc3\x89quipe r\xc3\xa9seau: cl\xc3\xa9 de Zo\xc3\xa9"
	    "\n%s b\n", k.tb, k.tb);
	spew(tp(p, "inbox/small.pub"), s.p, s.len, 0644);
	cr_assert_eq(ka(&r, NULL, "check", p, NULL), 0, "%s", r.err);
	assert_stderr(&r, "");
	run_free(&r);
	/* ... and so must a big one be, with such lines where pieces end */
	while (b.len < 150 * 1024) {
		size_t mod = b.len % (STREAM_PIECE / 2);
		if (mod > STREAM_PIECE / 2 - 2000 || (b.len > 1000 &&
		    mod < 3000))
			st_add(&b, "\xc3\x89quipe r\xc3\xa9seau, ligne %ld\n",
			    ++n);
		else {
			st_key(&k);
			st_add(&b, "%s k%ld\n", k.tb, ++n);
		}
	}
	spew(tp(p, "inbox/big.pub"), b.p, b.len, 0644);
	free(b.p);
	free(s.p);
	(void)ka(&r, NULL, "check", p, NULL);
	status = r.status;
	xsnprintf(err, sizeof(err), "%.1000s", r.err);
	run_free(&r);			/* nothing left to leak on failure */
	cr_assert_eq(status, 0, "exit %d: %s", status, err);
	cr_assert_str_empty(err);
}
