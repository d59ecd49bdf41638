/*
 * test_pam_sshd.c -- pam_keyadm in a real sshd's session stack, and
 * `keyadm authorized-keys` as a real sshd's AuthorizedKeysCommand.
 *
 * Each test has its own --root tree under /run (the module walks the
 * database's path from "/", and /tmp is world-writable), its own
 * throwaway account and its own sshd on 127.0.0.1 (tests/e2e/sshd.c).
 * sshd names its PAM service after the name it was started as, so it runs
 * through a symbolic link TREE/sshd-bin/keyadm-e2e-XXXXXXXX ->
 * /usr/sbin/sshd, and the test writes /etc/pam.d/keyadm-e2e-XXXXXXXX:
 * auth denied, account permitted, session pam_keyadm with db= the tree's
 * database.  /etc/pam.d/sshd and the system's sshd are never touched.
 * sshd has no RevokedKeys here: whatever stops a key the authorized_keys
 * file still holds is the module.
 *
 * What the tests prove:
 *  - a managed key logs in and its grant records the login: use_count,
 *    last_used_at (the time of the login), last_used_from 127.0.0.1;
 *  - a key revoked for the account only (another account keeps it, so it
 *    is not in the revoked-keys file) and put back by hand is accepted by
 *    sshd, yet the session runs nothing, and history shows login-refused;
 *    in mode=audit it logs in and history shows login-flagged;
 *  - a grant whose expiry passed (in the store only: the line has no
 *    expiry-time) runs nothing;
 *  - a key nobody added logs in with unmanaged=allow (the default) and
 *    runs nothing with unmanaged=deny, while the managed key still does;
 *  - AuthorizedKeysCommand keyadm authorized-keys, run by an unprivileged
 *    account of store_group, lets a user in whose home has no .ssh at all,
 *    and stops letting the key in after a machine-wide revoke.
 *
 * Sanitizer build (KEYADM_SANITIZED): the module is built with ASan and
 * UBSan, so sshd starts with both runtimes in LD_PRELOAD and
 * ASAN_OPTIONS=detect_leaks=0 (sshd's own leaks are not ours) plus the
 * log_path of the inherited ASAN_OPTIONS, so that an error in the module
 * lands where tests/run.sh looks.  Without the runtimes' paths the PAM
 * tests are skipped.
 *
 * Root only; skipped otherwise, without /usr/sbin/sshd, or when
 * KEYADM_PAM_MODULE (set by ctest) does not name the module.  .fini stops
 * sshd and removes the accounts, the PAM service file, the copied keyadm
 * and the tree even when a test fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../cli/run.h"
#include "sshd.h"

#ifndef KEYADM_SANITIZED
#define KEYADM_SANITIZED 0
#endif

#define PAM_DIR		"/etc/pam.d"
#define SERVICE_PREFIX	"keyadm-e2e-"
#define OK_LINE		SSHD_OK_TEXT "\n"

static struct tree		T;
static struct sshd_user		U;	/* who logs in */
static struct sshd_user		CU;	/* AuthorizedKeysCommandUser*/
static struct sshd_server	S = { .pid = -1 };
static char			service[32];	/* keyadm-e2e-XXXXXXXX */
static char			pam_file[PATH_MAX]; /* "" until made */
static char			cmd_dir[PATH_MAX];  /* "" until made */

/* The copied keyadm under cmd_dir: bin/keyadm. */
static void
remove_cmd_dir(void)
{
	char	p[PATH_MAX];

	if (cmd_dir[0] == '\0')
		return;
	xsnprintf(p, sizeof(p), "%s/bin/keyadm", cmd_dir);
	(void)unlink(p);
	xsnprintf(p, sizeof(p), "%s/bin", cmd_dir);
	(void)rmdir(p);
	if (rmdir(cmd_dir) != 0)
		cr_log_warn("rmdir %s: %s", cmd_dir, strerror(errno));
	cmd_dir[0] = '\0';
}

static void
teardown(void)
{
	sshd_stop(&S);
	sshd_user_delete(&U);
	sshd_user_delete(&CU);
	if (pam_file[0] != '\0' && unlink(pam_file) != 0)
		cr_log_warn("unlink %s: %s", pam_file, strerror(errno));
	pam_file[0] = '\0';
	remove_cmd_dir();
	sshd_tree_remove(&T);
}

TestSuite(e2e_pam, .fini = teardown, .timeout = 300);

/* --- helpers ---------------------------------------------------------- */

/* keyadm --root TREE ARGS...; must exit want. */
static void
keyadm_ok(int want, const char *const *args)
{
	struct run_result	r;

	cr_assert_eq(run_keyadm(&r, NULL, args), want, "keyadm %s %s: exit "
	    "%d (want %d): %s", args[2], args[3], r.status, want, r.err);
	run_free(&r);
}

/* The ssh logs in: exit 0 and exactly the echo on stdout. */
static void
ssh_in(const char *key, const char *why)
{
	struct run_result	r;
	char			*log;

	if (sshd_try_ssh(U.name, key, S.port, &r) != 0 ||
	    strcmp(r.out, OK_LINE) != 0) {
		log = sshd_log(&S);
		cr_assert_fail("%s: ssh did not log in: exit %d, stdout %s, "
		    "stderr %s\nsshd log:\n%s", why, r.status, r.out, r.err,
		    log);
	}
	run_free(&r);
}

/*
 * The ssh runs no command: a non-zero exit and no echo.  sshd accepted
 * the key (authorized) or not; with authorized the new part of its log
 * must say "Accepted publickey" and that pam_open_session failed, so the
 * refusal is the session module's.
 */
static void
ssh_no_command(const char *key, int authorized, const char *why)
{
	struct run_result	 r;
	char			*log, *tail;
	size_t			 off;

	log = sshd_log(&S);
	off = strlen(log);
	free(log);
	(void)sshd_try_ssh(U.name, key, S.port, &r);
	log = sshd_log(&S);
	tail = strlen(log) >= off ? log + off : log;
	cr_assert(r.status != 0 && strstr(r.out, SSHD_OK_TEXT) == NULL,
	    "%s: the command ran (exit %d, stdout %s)\nsshd log:\n%s", why,
	    r.status, r.out, log);
	if (authorized) {
		cr_assert(strstr(tail, "Accepted publickey for ") != NULL,
		    "%s: sshd did not accept the key, so this proves nothing "
		    "about the module (ssh exit %d)\nsshd log:\n%s", why,
		    r.status, log);
		cr_assert(strstr(tail, "pam_open_session") != NULL,
		    "%s: sshd did not report a failed PAM session (ssh "
		    "exit %d)\nsshd log:\n%s", why, r.status, log);
	}
	cr_log_info("%s: ssh exit %d", why, r.status);
	free(log);
	run_free(&r);
}

/* TREE/home/U/.ssh/authorized_keys */
static void
ak_path(char *out, size_t outlen)
{
	char	rel[80];

	xsnprintf(rel, sizeof(rel), "home/%s/.ssh/authorized_keys", U.name);
	tree_path(&T, out, outlen, rel);
}

/* Replace U's authorized_keys by hand, as U would own it. */
static void
ak_write(const char *text, size_t len)
{
	char	ak[PATH_MAX];

	ak_path(ak, sizeof(ak));
	spew(ak, text, len, 0600);
	cr_assert_eq(chown(ak, U.uid, U.gid), 0);
}

/* 1 when `keyadm history --user U --key FP` holds that action. */
static int
history_has(const char *fp, const char *action)
{
	struct run_result	 r;
	char			 want[64];
	int			 has;

	cr_assert_eq(run_keyadm(&r, NULL, (const char *[]){ "--root",
	    T.root, "--json", "history", "--user", U.name, "--key", fp,
	    NULL }), 0, "keyadm history: %s", r.err);
	xsnprintf(want, sizeof(want), "\"action\":\"%s\"", action);
	has = strstr(r.out, want) != NULL;
	if (!has)
		cr_log_error("history for %s: %s", fp, r.out);
	run_free(&r);
	return has;
}

/* A field of U's only grant in `keyadm --json list U --status all`. */
static void
grant_field(const char *field, char *out, size_t outlen)
{
	struct run_result	r;

	cr_assert_eq(run_keyadm(&r, NULL, (const char *[]){ "--root",
	    T.root, "--json", "list", U.name, "--status", "all", NULL }), 0,
	    "keyadm list: %s", r.err);
	cr_assert_eq(json_field(r.out, field, out, outlen), 0, "no %s in "
	    "keyadm list --json: %s", field, r.out);
	run_free(&r);
}

/* RFC 3339 UTC ("2025-01-02T03:04:05Z") to epoch seconds. */
static time_t
rfc3339(const char *s)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cr_assert(end != NULL && *end == '\0', "not RFC 3339 UTC: %s", s);
	return timegm(&tm);
}

/* The grant's usage record: use_count n, last used in [t0, t1], from us. */
static void
assert_usage(long n, time_t t0, time_t t1)
{
	char	v[128];
	time_t	at;

	grant_field("use_count", v, sizeof(v));
	cr_assert_eq(strtol(v, NULL, 10), n, "use_count %s, want %ld", v, n);
	grant_field("last_used_from", v, sizeof(v));
	cr_assert_str_eq(v, SSHD_LOOPBACK, "last_used_from %s", v);
	grant_field("last_used_at", v, sizeof(v));
	at = rfc3339(v);
	cr_assert(at >= t0 - 1 && at <= t1 + 1, "last_used_at %s is not "
	    "the time of the login (%lld..%lld)", v, (long long)t0,
	    (long long)t1);
}

/* --- the PAM fixture ------------------------------------------------- */

/* The module's path from ctest, or skip. */
static const char *
module_path(void)
{
	const char	*m = getenv("KEYADM_PAM_MODULE");

	if (m == NULL || m[0] == '\0')
		cr_skip_test("KEYADM_PAM_MODULE is not set: the pam_keyadm "
		    "target is not built (run through ctest)");
	cr_assert(m[0] == '/' && access(m, R_OK) == 0, "KEYADM_PAM_MODULE "
	    "%s: %s", m, strerror(errno));
	return m;
}

/*
 * sshd's environment in the sanitizer build (NULL otherwise): both
 * runtimes preloaded, leak checks off, reports to the log_path of the
 * inherited ASAN_OPTIONS when there is one.
 */
static const char *const *
sanitizer_env(void)
{
#if KEYADM_SANITIZED
	static char		 preload[2 * PATH_MAX + 16];
	static char		 asan[PATH_MAX + 64];
	static const char	*env[3];
	const char		*inh = getenv("ASAN_OPTIONS"), *lp;
	size_t			 n = 0;
#ifdef KEYADM_ASAN_RUNTIME
	const char		*a = KEYADM_ASAN_RUNTIME;
#else
	const char		*a = "";
#endif
#ifdef KEYADM_UBSAN_RUNTIME
	const char		*u = KEYADM_UBSAN_RUNTIME;
#else
	const char		*u = "";
#endif

	if (a[0] != '/' || access(a, R_OK) != 0 || u[0] != '/' ||
	    access(u, R_OK) != 0)
		cr_skip_test("sanitizer build, but the compiler named no "
		    "ASan/UBSan runtime (\"%s\", \"%s\") for sshd to preload: "
		    "an uninstrumented sshd cannot load the ASan-built "
		    "module without them", a, u);
	xsnprintf(preload, sizeof(preload), "LD_PRELOAD=%s %s", a, u);
	xsnprintf(asan, sizeof(asan), "ASAN_OPTIONS=detect_leaks=0");
	if (inh != NULL && (lp = strstr(inh, "log_path=")) != NULL &&
	    (lp == inh || lp[-1] == ':')) {
		n = strcspn(lp, ":");
		cr_assert_lt(n + strlen(asan) + 2, sizeof(asan));
		(void)strcat(asan, ":");
		(void)strncat(asan, lp, n);
	}
	env[0] = preload;
	env[1] = asan;
	env[2] = NULL;
	return env;
#else
	return NULL;
#endif
}

/*
 * /etc/pam.d/SERVICE: auth denied (sshd only checks keys here), account
 * permitted, session pam_keyadm with db= the tree's database, mode and,
 * unless NULL, unmanaged.  Rewritten between logins: sshd reads it anew
 * for every connection.
 */
static void
write_service(const char *mode, const char *unmanaged)
{
	char	text[2 * PATH_MAX + 512], db[PATH_MAX], un[64];
	int	fd, len;

	if (pam_file[0] == '\0') {
		xsnprintf(pam_file, sizeof(pam_file), PAM_DIR "/%s", service);
		fd = open(pam_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
		if (fd == -1) {
			int e = errno;

			pam_file[0] = '\0';	/* not ours to remove */
			cr_assert_fail("create " PAM_DIR "/%s: %s", service,
			    strerror(e));
		}
		(void)close(fd);
	}
	tree_path(&T, db, sizeof(db), "var/lib/keyadm/keyadm.db");
	un[0] = '\0';
	if (unmanaged != NULL)
		xsnprintf(un, sizeof(un), " unmanaged=%s", unmanaged);
	len = snprintf(text, sizeof(text),
	    "# keyadm end-to-end test (tests/e2e/test_pam_sshd.c); the test "
	    "removes this file\n"
	    "auth\trequired\tpam_deny.so\n"
	    "account\trequired\tpam_permit.so\n"
	    "password\trequired\tpam_deny.so\n"
	    "session\trequired\t%s db=%s mode=%s%s\n",
	    module_path(), db, mode, un);
	cr_assert(len > 0 && (size_t)len < sizeof(text));
	spew(pam_file, text, (size_t)len, 0644);
}

/*
 * A tree under /run, the account U with a fresh ed25519 key (key gets the
 * private key's path), the PAM service with mode and unmanaged, and sshd
 * with UsePAM yes started as that service.
 */
static void
pam_setup(const char *mode, const char *unmanaged, char *key, size_t keylen)
{
	struct sshd_conf	 c = { 0 };
	char			 hex[16], bindir[PATH_MAX], prog[PATH_MAX],
				 dir[PATH_MAX];

	sshd_need_root();
	(void)module_path();
	c.env = sanitizer_env();
	tree_make_at(&T, "/run");
	sshd_user_make(&U, &T);
	tree_keygen(&T, "ed25519", 0, "e2e@client", "id_ed25519", key,
	    keylen);

	sshd_random_hex(hex, sizeof(hex), 8);
	xsnprintf(service, sizeof(service), SERVICE_PREFIX "%s", hex);
	write_service(mode, unmanaged);
	xsnprintf(bindir, sizeof(bindir), "%s/sshd-bin", T.base);
	mkdirs(bindir, 0755);
	xsnprintf(prog, sizeof(prog), "%s/%s", bindir, service);
	cr_assert_eq(symlink(SSHD_PATH, prog), 0, "symlink %s: %s", prog,
	    strerror(errno));

	xsnprintf(dir, sizeof(dir), "%s/sshd", T.base);
	c.user = U.name;
	c.akfile = ".ssh/authorized_keys";
	c.use_pam = 1;
	c.program = prog;
	sshd_start(&S, dir, &c);
}

/*
 * keyadm add U KEY.pub [--expires expires]; pub and fp get the public
 * key's path and fingerprint.
 */
static void
add_key(const char *key, char *pub, size_t publen, char *fp, size_t fplen,
    const char *expires)
{
	xsnprintf(pub, publen, "%s.pub", key);
	ssh_keygen_fingerprint(pub, fp, fplen);
	if (expires == NULL)
		keyadm_ok(0, (const char *[]){ "--root", T.root, "add",
		    U.name, pub, NULL });
	else
		keyadm_ok(0, (const char *[]){ "--root", T.root, "add",
		    U.name, pub, "--expires", expires, NULL });
}

/*
 * keyadm revoke --user U (one account only): the line goes, and since the
 * tree's alice keeps the same key, it is not put into the revoked-keys
 * file (revoke lists a key there when no other account keeps it); then
 * the line comes back by hand.  So sshd would let the key in, and the
 * module must tell U's revoked grant from alice's active one.
 */
static void
revoke_for_user_and_put_back(const char *pub)
{
	struct stat	 st;
	char		 ak[PATH_MAX], rf[PATH_MAX], *line, *text, *pubtext;
	char		*sp, *blob;
	size_t		 n;

	ak_path(ak, sizeof(ak));
	line = slurp(ak, &n);
	cr_assert(n > 0, "add left %s empty", ak);
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", "alice", pub,
	    NULL });
	keyadm_ok(0, (const char *[]){ "--root", T.root, "revoke", pub,
	    "--user", U.name, "--reason", "e2e: laptop lost", NULL });
	text = slurp(ak, NULL);
	cr_assert_str_eq(text, "", "revoke left a line: %s", text);
	free(text);

	/* the key's base64 is not in the revoked-keys file */
	pubtext = slurp(pub, NULL);
	sp = strchr(pubtext, ' ');
	cr_assert_not_null(sp);
	blob = sp + 1;
	blob[strcspn(blob, " \n")] = '\0';
	tree_path(&T, rf, sizeof(rf), "etc/ssh/keyadm_revoked_keys");
	if (lstat(rf, &st) == 0) {
		text = slurp(rf, NULL);
		cr_assert(strstr(text, blob) == NULL, "revoke --user put the "
		    "key into %s", rf);
		free(text);
	}
	free(pubtext);

	ak_write(line, n);
	free(line);
}

/* --- the PAM tests ------------------------------------------------- */

Test(e2e_pam, login_with_a_managed_key_is_recorded)
{
	char	key[PATH_MAX], pub[PATH_MAX], fp[128];
	time_t	t0, t1;

	pam_setup("enforce", NULL, key, sizeof(key));
	add_key(key, pub, sizeof(pub), fp, sizeof(fp), NULL);

	t0 = time(NULL);
	ssh_in(key, "first login");
	t1 = time(NULL);
	assert_usage(1, t0, t1);

	t0 = time(NULL);
	ssh_in(key, "second login");
	t1 = time(NULL);
	assert_usage(2, t0, t1);
}

Test(e2e_pam, key_revoked_for_the_account_and_put_back_runs_nothing)
{
	char	key[PATH_MAX], pub[PATH_MAX], fp[128];

	pam_setup("enforce", NULL, key, sizeof(key));
	add_key(key, pub, sizeof(pub), fp, sizeof(fp), NULL);
	ssh_in(key, "before revoke");
	revoke_for_user_and_put_back(pub);
	ssh_no_command(key, 1, "revoked key put back by hand");
	cr_assert(history_has(fp, "login-refused"), "no login-refused event "
	    "for %s", fp);
}

Test(e2e_pam, expired_grant_runs_nothing)
{
	struct run_result	 r;
	char			 key[PATH_MAX], pub[PATH_MAX], fp[128],
				 db[PATH_MAX], sql[256], *pubtext;
	size_t			 n;

	pam_setup("enforce", NULL, key, sizeof(key));
	add_key(key, pub, sizeof(pub), fp, sizeof(fp), "1h");
	ssh_in(key, "before the expiry time");

	/* the time passes, in the store only */
	tree_path(&T, db, sizeof(db), "var/lib/keyadm/keyadm.db");
	xsnprintf(sql, sizeof(sql), "UPDATE grants SET expires_at = "
	    "CAST(strftime('%%s', 'now') AS INTEGER) - 60 WHERE user = '%s' "
	    "AND status = 'active';", U.name);
	cr_assert_eq(run_prog(&r, NULL, 0, (const char *[]){ "sqlite3", db,
	    sql, NULL }, 30), 0, "sqlite3: %s", r.err);
	run_free(&r);
	/* and the line loses its expiry-time: sshd would let it in */
	pubtext = slurp(pub, &n);
	ak_write(pubtext, n);
	free(pubtext);

	ssh_no_command(key, 1, "grant expired in the store");
	cr_assert(history_has(fp, "login-refused"), "no login-refused event "
	    "for %s", fp);
}

Test(e2e_pam, unmanaged_key_allowed_by_default_refused_with_deny)
{
	char	 key[PATH_MAX], pub[PATH_MAX], fp[128], other[PATH_MAX],
		 opub[PATH_MAX], ofp[128], ak[PATH_MAX], *text, *otext, *all;
	size_t	 n, on;

	pam_setup("enforce", NULL, key, sizeof(key));
	add_key(key, pub, sizeof(pub), fp, sizeof(fp), NULL);
	tree_keygen(&T, "ecdsa", 256, "stranger@client", "id_other", other,
	    sizeof(other));
	xsnprintf(opub, sizeof(opub), "%s.pub", other);
	ssh_keygen_fingerprint(opub, ofp, sizeof(ofp));

	/* the stranger's line goes in by hand, after the managed one */
	ak_path(ak, sizeof(ak));
	text = slurp(ak, &n);
	otext = slurp(opub, &on);
	all = malloc(n + on + 1);
	cr_assert_not_null(all);
	memcpy(all, text, n);
	memcpy(all + n, otext, on + 1);
	ak_write(all, n + on);
	free(all);
	free(otext);
	free(text);

	ssh_in(other, "unmanaged key, unmanaged=allow (the default)");
	ssh_in(key, "managed key, unmanaged=allow");

	write_service("enforce", "deny");
	ssh_no_command(other, 1, "unmanaged key, unmanaged=deny");
	ssh_in(key, "managed key, unmanaged=deny");
	cr_assert(history_has(ofp, "login-refused"), "no login-refused event "
	    "for the unmanaged key %s", ofp);
}

Test(e2e_pam, audit_mode_lets_a_revoked_key_in_and_flags_it)
{
	char	key[PATH_MAX], pub[PATH_MAX], fp[128];

	pam_setup("audit", NULL, key, sizeof(key));
	add_key(key, pub, sizeof(pub), fp, sizeof(fp), NULL);
	revoke_for_user_and_put_back(pub);
	ssh_in(key, "revoked key put back, mode=audit");
	cr_assert(history_has(fp, "login-flagged"), "no login-flagged event "
	    "for %s", fp);
}

/* --- AuthorizedKeysCommand -------------------------------------------- */

/*
 * sshd runs the command only when it and every directory above it are
 * owned by root and writable by nobody else.
 */
static void
assert_root_owned_chain(const char *path)
{
	struct stat	st;
	char		p[PATH_MAX], *slash;

	xsnprintf(p, sizeof(p), "%s", path);
	for (;;) {
		cr_assert_eq(stat(p, &st), 0, "%s: %s", p, strerror(errno));
		cr_assert(st.st_uid == 0 && (st.st_mode & 022) == 0,
		    "%s: uid %u mode %04o; sshd would refuse the "
		    "AuthorizedKeysCommand", p, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		if (strcmp(p, "/") == 0)
			break;
		slash = strrchr(p, '/');
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* Copy the built keyadm to /run/keyadm-e2e-XXXXXX/bin/keyadm (0755). */
static void
copy_keyadm(char *out, size_t outlen)
{
	const char	*bin = getenv("KEYADM_BIN");
	char		 p[PATH_MAX], *data;
	size_t		 n;

	cr_assert(bin != NULL && bin[0] == '/', "KEYADM_BIN is not set");
	xsnprintf(cmd_dir, sizeof(cmd_dir), "/run/" SERVICE_PREFIX "XXXXXX");
	if (mkdtemp(cmd_dir) == NULL) {
		int e = errno;

		cmd_dir[0] = '\0';
		cr_assert_fail("mkdtemp: %s", strerror(e));
	}
	cr_assert_eq(chmod(cmd_dir, 0755), 0);
	xsnprintf(p, sizeof(p), "%s/bin", cmd_dir);
	mkdirs(p, 0755);
	data = slurp(bin, &n);
	xsnprintf(out, outlen, "%s/bin/keyadm", cmd_dir);
	spew(out, data, n, 0755);
	free(data);
	assert_root_owned_chain(out);
}

/* keyadm authorized-keys U, run as CU as sshd would; returns stdout. */
static char *
authorized_keys_as_cu(const char *cmd)
{
	struct run_result	 r;
	char			 uid[16], gid[16], *out;

	xsnprintf(uid, sizeof(uid), "%u", (unsigned)CU.uid);
	xsnprintf(gid, sizeof(gid), "%u", (unsigned)CU.gid);
	run_prog(&r, NULL, 0, (const char *[]){ "setpriv", "--reuid", uid,
	    "--regid", gid, "--clear-groups", "--", cmd, "--root", T.root,
	    "authorized-keys", U.name, NULL }, 30);
	cr_assert_eq(r.status, 0, "keyadm authorized-keys as %s: exit %d: %s",
	    CU.name, r.status, r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

Test(e2e_pam, authorized_keys_command_from_the_store_only)
{
	struct stat		 st;
	struct sshd_conf	 c = { 0 };
	struct run_result	 r;
	char			 key[PATH_MAX], pub[PATH_MAX], fp[128],
				 cmd[PATH_MAX], conf[PATH_MAX], text[256],
				 extra[3 * PATH_MAX], dir[PATH_MAX],
				 p[PATH_MAX], rel[80], *out, *pubtext, *blob;

	sshd_need_root();
	tree_make_at(&T, "/run");
	sshd_user_make(&U, &T);
	sshd_sysuser_make(&CU, &T);
	xsnprintf(text, sizeof(text), "store_group = %s\n", CU.name);
	spew(tree_path(&T, conf, sizeof(conf), "etc/keyadm.conf"), text,
	    strlen(text), 0644);
	mkdirs(tree_path(&T, p, sizeof(p), "etc/ssh"), 0755);
	spew(tree_path(&T, p, sizeof(p), "etc/ssh/keyadm_revoked_keys"), "",
	    0, 0644);
	tree_keygen(&T, "ed25519", 0, "e2e@client", "id_ed25519", key,
	    sizeof(key));
	copy_keyadm(cmd, sizeof(cmd));

	xsnprintf(extra, sizeof(extra),
	    "AuthorizedKeysCommand %s --root %s authorized-keys %%u %%t %%k\n"
	    "AuthorizedKeysCommandUser %s\n", cmd, T.root, CU.name);
	xsnprintf(dir, sizeof(dir), "%s/sshd", T.base);
	c.user = U.name;
	c.akfile = "none";
	c.extra = extra;
	sshd_start(&S, dir, &c);

	ssh_no_command(key, 0, "before add");

	/* add as root writes the store, shared with CU's group */
	add_key(key, pub, sizeof(pub), fp, sizeof(fp), NULL);
	tree_path(&T, p, sizeof(p), "var/lib/keyadm");
	cr_assert_eq(stat(p, &st), 0, "%s: %s", p, strerror(errno));
	cr_assert(st.st_gid == CU.gid && (st.st_mode & 07777) == 02750,
	    "%s: gid %u mode %04o, want gid %u mode 2750", p,
	    (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777),
	    (unsigned)CU.gid);
	tree_path(&T, p, sizeof(p), "var/lib/keyadm/keyadm.db");
	cr_assert_eq(stat(p, &st), 0, "%s: %s", p, strerror(errno));
	cr_assert(st.st_gid == CU.gid && (st.st_mode & 07777) == 0640,
	    "%s: gid %u mode %04o, want gid %u mode 0640", p,
	    (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777),
	    (unsigned)CU.gid);

	/* and the home keeps no key at all: only the command can let it in */
	xsnprintf(rel, sizeof(rel), "home/%s/.ssh", U.name);
	run_prog(&r, NULL, 0, (const char *[]){ "rm", "-rf", "--",
	    tree_path(&T, p, sizeof(p), rel), NULL }, 30);
	cr_assert_eq(r.status, 0, "rm -rf %s: %s", p, r.err);
	run_free(&r);
	cr_assert(lstat(p, &st) == -1 && errno == ENOENT, "%s is still there",
	    p);

	pubtext = slurp(pub, NULL);
	blob = strchr(pubtext, ' ');
	cr_assert_not_null(blob);
	blob++;
	blob[strcspn(blob, " \n")] = '\0';
	out = authorized_keys_as_cu(cmd);
	cr_assert(strstr(out, blob) != NULL, "keyadm authorized-keys %s as "
	    "%s does not print the key: %s", U.name, CU.name, out);
	free(out);
	ssh_in(key, "key in the store only, AuthorizedKeysCommand");

	/* revoked on the whole machine: the command no longer prints it */
	keyadm_ok(0, (const char *[]){ "--root", T.root, "revoke", pub,
	    "--reason", "e2e: key leaked", NULL });
	out = authorized_keys_as_cu(cmd);
	cr_assert(strstr(out, blob) == NULL, "keyadm authorized-keys %s as "
	    "%s still prints the revoked key: %s", U.name, CU.name, out);
	free(out);
	ssh_no_command(key, 0, "after revoke, AuthorizedKeysCommand");
	free(pubtext);
}
