/*
 * test_sshd.c -- keyadm add, then a real sshd lets the key in.
 *
 * A throwaway system account kae2eXXXX whose home is TREE/home/kae2eXXXX,
 * and a --root tree whose etc/passwd lists the same account with home
 * /home/kae2eXXXX: `keyadm --root TREE add` writes exactly the file the
 * real sshd reads.  sshd runs on 127.0.0.1 on a free high port with its own
 * configuration, host key and pid file (StrictModes yes, public keys only).
 * ssh must fail before the add, succeed after it, and fail with a key that
 * was never added.  sshd's RevokedKeys is the tree's revoked-keys file:
 * after revoke the key stays out even when its line is put back by hand;
 * after its expiry-time it stays out; from= and command= act in sshd as
 * keyadm meant; a central root-owned layout (AuthorizedKeysFile
 * TREE/etc/ssh/authorized_keys/%u) works.
 *
 * Root only (useradd, sshd); skipped otherwise or without /usr/sbin/sshd.
 * .fini stops sshd and deletes the account and the tree even when the test
 * fails.  The sshd and account helpers are in sshd.c.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../cli/run.h"
#include "sshd.h"

static struct tree		T;
static struct sshd_user		U;
static struct sshd_server	S = { .pid = -1 };

static void
teardown(void)
{
	sshd_stop(&S);
	sshd_user_delete(&U);
	sshd_tree_remove(&T);
}

TestSuite(e2e_sshd, .fini = teardown, .timeout = 300);

/*
 * sshd refuses every key while its RevokedKeys file is missing, so each
 * test starts with an empty one, as the package installs it.
 */
static void
empty_revoked_file(void)
{
	char	p[PATH_MAX];

	mkdirs(tree_path(&T, p, sizeof(p), "etc/ssh"), 0755);
	spew(tree_path(&T, p, sizeof(p), "etc/ssh/keyadm_revoked_keys"), "",
	    0, 0644);
}

/*
 * sshd for U only, without PAM, RevokedKeys the tree's revoked-keys file;
 * akfile: sshd's AuthorizedKeysFile.  Returns the port.
 */
static unsigned int
start_sshd(const char *akfile)
{
	char			dir[PATH_MAX], revoked[PATH_MAX];
	struct sshd_conf	c = { 0 };

	xsnprintf(dir, sizeof(dir), "%s/sshd", T.base);
	tree_path(&T, revoked, sizeof(revoked), "etc/ssh/keyadm_revoked_keys");
	c.user = U.name;
	c.akfile = akfile;
	c.revoked = revoked;
	sshd_start(&S, dir, &c);
	return S.port;
}

/* ssh -i key U@127.0.0.1 echo keyadm-e2e-ok; returns the exit status */
static int
try_ssh(const char *keypath, unsigned int port, struct run_result *r)
{
	return sshd_try_ssh(U.name, keypath, port, r);
}

Test(e2e_sshd, add_lets_the_key_in_and_only_that_key)
{
	struct run_result	 r;
	struct stat		 st;
	char			 key1[PATH_MAX], key2[PATH_MAX], pub1[PATH_MAX],
				 ak[PATH_MAX], rel[64], *log;
	const char		*add[] = { "--root", T.root, "add", U.name,
				    pub1, NULL };
	unsigned int		 port;

	sshd_need_root();
	tree_make(&T);
	sshd_user_make(&U, &T);
	tree_keygen(&T, "ed25519", 0, "e2e@client", "id_ed25519", key1,
	    sizeof(key1));
	tree_keygen(&T, "ecdsa", 256, "stranger@client", "id_other", key2,
	    sizeof(key2));
	xsnprintf(pub1, sizeof(pub1), "%s.pub", key1);
	empty_revoked_file();
	port = start_sshd(".ssh/authorized_keys");

	/* before add: no authorized_keys at all, so no way in */
	cr_assert_eq(try_ssh(key1, port, &r), 255, "ssh got in before add "
	    "(exit %d): %s%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "keyadm-e2e-ok") == NULL);
	run_free(&r);

	cr_assert_eq(run_keyadm(&r, NULL, add), 0, "keyadm add: %s", r.err);
	run_free(&r);
	xsnprintf(rel, sizeof(rel), "home/%s/.ssh/authorized_keys", U.name);
	tree_path(&T, ak, sizeof(ak), rel);
	cr_assert_eq(lstat(ak, &st), 0, "%s: %s", ak, strerror(errno));
	cr_assert(st.st_uid == U.uid && st.st_gid == U.gid &&
	    (st.st_mode & 07777) == 0600, "%s: uid %u gid %u mode %04o", ak,
	    (unsigned)st.st_uid, (unsigned)st.st_gid, st.st_mode & 07777);

	/* after add: in */
	if (try_ssh(key1, port, &r) != 0 || strcmp(r.out, "keyadm-e2e-ok\n")) {
		log = sshd_log(&S);
		cr_assert_fail("ssh after add: exit %d, stdout %s, stderr %s\n"
		    "sshd log:\n%s", r.status, r.out, r.err, log);
	}
	run_free(&r);

	/* a key nobody added stays out */
	cr_assert_eq(try_ssh(key2, port, &r), 255, "a key never added got in "
	    "(exit %d): %s", r.status, r.out);
	cr_assert(strstr(r.out, "keyadm-e2e-ok") == NULL);
	run_free(&r);
}

/* --- revoke, expiry, options, central layout ------------------------ */

/*
 * A fresh tree (under parent), account, key and sshd; key gets the private
 * key's path.  akfile NULL: the central layout in the tree,
 * TREE/etc/ssh/authorized_keys/%u.
 */
static unsigned int
setup(const char *parent, const char *akfile, char *key, size_t keylen)
{
	char		central[PATH_MAX];

	sshd_need_root();
	tree_make_at(&T, parent);
	sshd_user_make(&U, &T);
	tree_keygen(&T, "ed25519", 0, "e2e@client", "id_ed25519", key,
	    keylen);
	empty_revoked_file();
	xsnprintf(central, sizeof(central), "%s/etc/ssh/authorized_keys/%%u",
	    T.root);
	return start_sshd(akfile != NULL ? akfile : central);
}

/* keyadm --root TREE ARGS...; must exit want. */
static void
keyadm_ok(int want, const char *const *args)
{
	struct run_result	r;

	cr_assert_eq(run_keyadm(&r, NULL, args), want, "keyadm %s %s: exit "
	    "%d: %s", args[2], args[3], r.status, r.err);
	run_free(&r);
}

static void
ssh_in(const char *key, unsigned int port, const char *want_out)
{
	struct run_result	r;
	char			*log;

	if (try_ssh(key, port, &r) != 0 || strcmp(r.out, want_out) != 0) {
		log = sshd_log(&S);
		cr_assert_fail("ssh: exit %d, stdout %s, stderr %s, want %s\n"
		    "sshd log:\n%s", r.status, r.out, r.err, want_out, log);
	}
	run_free(&r);
}

static void
ssh_out(const char *key, unsigned int port, const char *why)
{
	struct run_result	r;

	cr_assert_eq(try_ssh(key, port, &r), 255, "%s: ssh got in (exit %d): "
	    "%s", why, r.status, r.out);
	cr_assert(strstr(r.out, "keyadm-e2e-ok") == NULL);
	run_free(&r);
}

/* 1 when the sshd log holds text (sshd logs as it goes). */
static int
log_has(const char *text)
{
	return sshd_log_has(&S, text);
}

Test(e2e_sshd, revoke_keeps_the_key_out_even_when_put_back)
{
	char		 key[PATH_MAX], pub[PATH_MAX], ak[PATH_MAX], rel[80];
	char		*line, *text;
	size_t		 n;
	unsigned int	 port;

	port = setup("/tmp", ".ssh/authorized_keys", key, sizeof(key));
	xsnprintf(pub, sizeof(pub), "%s.pub", key);
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", U.name, pub,
	    NULL });
	ssh_in(key, port, "keyadm-e2e-ok\n");
	xsnprintf(rel, sizeof(rel), "home/%s/.ssh/authorized_keys", U.name);
	tree_path(&T, ak, sizeof(ak), rel);
	line = slurp(ak, &n);

	keyadm_ok(0, (const char *[]){ "--root", T.root, "revoke", pub,
	    "--reason", "e2e: laptop lost", NULL });
	ssh_out(key, port, "after revoke");

	/* the line comes back by hand: the revoked-keys file still holds */
	text = slurp(ak, NULL);
	cr_assert_str_eq(text, "", "revoke left a line: %s", text);
	free(text);
	spew(ak, line, n, 0600);
	cr_assert_eq(chown(ak, U.uid, U.gid), 0);
	ssh_out(key, port, "line put back after revoke");
	cr_assert(log_has("revoked"), "sshd did not say the key is revoked");
	free(line);
}

Test(e2e_sshd, expiry_time_is_enforced_by_sshd_then_expire_cleans_up)
{
	struct run_result	 r;
	char			 key[PATH_MAX], pub[PATH_MAX], ak[PATH_MAX],
				 rel[80], *text;
	unsigned int		 port;

	port = setup("/tmp", ".ssh/authorized_keys", key, sizeof(key));
	xsnprintf(pub, sizeof(pub), "%s.pub", key);
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", U.name, pub,
	    "--expires", "4s", NULL });
	ssh_in(key, port, "keyadm-e2e-ok\n");
	(void)sleep(6);
	ssh_out(key, port, "after the expiry time");
	xsnprintf(rel, sizeof(rel), "home/%s/.ssh/authorized_keys", U.name);
	tree_path(&T, ak, sizeof(ak), rel);
	text = slurp(ak, NULL);
	cr_assert(strstr(text, "expiry-time=\"") != NULL, "%s", text);
	free(text);
	keyadm_ok(0, (const char *[]){ "--root", T.root, "expire", NULL });
	text = slurp(ak, NULL);
	cr_assert_str_eq(text, "", "expire left a line: %s", text);
	free(text);
	cr_assert_eq(run_keyadm(&r, NULL, (const char *[]){ "--root", T.root,
	    "--json", "list", U.name, "--status", "expired", NULL }), 0);
	cr_assert(strstr(r.out, "\"status\":\"expired\"") != NULL, "%s",
	    r.out);
	run_free(&r);
}

Test(e2e_sshd, from_and_command_act_in_sshd)
{
	char		 key[PATH_MAX], pub[PATH_MAX];
	unsigned int	 port;

	port = setup("/tmp", ".ssh/authorized_keys", key, sizeof(key));
	xsnprintf(pub, sizeof(pub), "%s.pub", key);
	/* from= a network we are not in: out */
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", U.name, pub,
	    "--from", "10.0.0.0/8,*.invalid", NULL });
	ssh_out(key, port, "from=10.0.0.0/8 but we come from 127.0.0.1");
	/* the same key again with new options: the grant is updated */
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", U.name, pub,
	    "--from", "127.0.0.1", NULL });
	ssh_in(key, port, "keyadm-e2e-ok\n");
	/* command= runs instead of what the client asks for */
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", U.name, pub,
	    "--from", "127.0.0.1", "--restrict", "--command",
	    "echo \"forced by keyadm\"", NULL });
	ssh_in(key, port, "forced by keyadm\n");
}

Test(e2e_sshd, central_root_owned_layout)
{
	struct stat	 st;
	char		 key[PATH_MAX], pub[PATH_MAX], conf[PATH_MAX],
			 text[512], rel[80], ak[PATH_MAX];
	unsigned int	 port;

	/* sshd walks a central file's path up to "/": not under /tmp */
	port = setup("/run", NULL, key, sizeof(key));
	xsnprintf(pub, sizeof(pub), "%s.pub", key);
	xsnprintf(text, sizeof(text), "authorized_keys_file = "
	    "/etc/ssh/authorized_keys/%%u\n");
	spew(tree_path(&T, conf, sizeof(conf), "etc/keyadm.conf"), text,
	    strlen(text), 0644);
	ssh_out(key, port, "before add");
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", U.name, pub,
	    NULL });
	xsnprintf(rel, sizeof(rel), "etc/ssh/authorized_keys/%s", U.name);
	tree_path(&T, ak, sizeof(ak), rel);
	cr_assert_eq(lstat(ak, &st), 0, "%s: %s", ak, strerror(errno));
	cr_assert(st.st_uid == 0 && (st.st_mode & 07777) == 0644,
	    "%s: uid %u mode %04o", ak, (unsigned)st.st_uid,
	    st.st_mode & 07777);
	ssh_in(key, port, "keyadm-e2e-ok\n");
	keyadm_ok(0, (const char *[]){ "--root", T.root, "revoke", pub,
	    "--user", U.name, "--reason", "e2e", NULL });
	ssh_out(key, port, "after revoke");
}
