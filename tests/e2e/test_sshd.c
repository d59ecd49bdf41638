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
 * .fini stops sshd and deletes the account even when the test fails.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "../cli/run.h"

#define SSHD_PATH	"/usr/sbin/sshd"
#define LOOPBACK	"127.0.0.1"
#define START_WAIT_MS	10000

static struct tree	T;
static char		user[32];
static int		user_made;
static pid_t		sshd_pid = -1;
static char		sshd_dir[PATH_MAX], sshd_log[PATH_MAX];

static void
stop_sshd(void)
{
	int	st, i;

	if (sshd_pid <= 0)
		return;
	(void)kill(sshd_pid, SIGTERM);
	for (i = 0; i < 100; i++) {	/* at most 5 s, then SIGKILL */
		if (waitpid(sshd_pid, &st, WNOHANG) == sshd_pid) {
			sshd_pid = -1;
			return;
		}
		(void)usleep(50000);
	}
	(void)kill(sshd_pid, SIGKILL);
	(void)waitpid(sshd_pid, &st, 0);
	sshd_pid = -1;
}

static void
delete_user(void)
{
	struct run_result	 r;
	const char		*argv[] = { "userdel", user, NULL };

	if (!user_made)
		return;
	user_made = 0;
	run_prog(&r, NULL, 0, argv, 0);
	if (r.status != 0)
		cr_log_warn("userdel %s: exit %d: %s", user, r.status, r.err);
	run_free(&r);
}

static void
teardown(void)
{
	stop_sshd();
	delete_user();
	tree_remove(&T);
}

TestSuite(e2e_sshd, .fini = teardown, .timeout = 300);

static void
need_root_and_sshd(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: makes an account and runs sshd");
	if (access(SSHD_PATH, X_OK) != 0)
		cr_skip_test(SSHD_PATH " is missing: install openssh-server");
}

static char *
log_text(void)
{
	struct stat	st;

	if (sshd_log[0] == '\0' || stat(sshd_log, &st) != 0)
		return strdup("(no sshd log)");
	return slurp(sshd_log, NULL);
}

/* A port on 127.0.0.1 that nothing listens on right now. */
static unsigned int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s;
	unsigned int		port;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_neq(s, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;	/* the kernel picks from the ephemeral range */
	cr_assert_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0,
	    "bind: %s", strerror(errno));
	cr_assert_eq(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	(void)close(s);
	cr_assert_gt(port, 1024u);
	return port;
}

static int
port_accepts(unsigned int port)
{
	struct sockaddr_in	sin;
	int			s, ok;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	ok = connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	(void)close(s);
	return ok;
}

/* The throwaway account, real (useradd) and in the tree's etc/passwd. */
static void
make_user(uid_t *uid, gid_t *gid)
{
	struct run_result	 r;
	struct passwd		*pw;
	char			 home[PATH_MAX], p[PATH_MAX], line[512];
	char			*pwtext, *grtext;
	size_t			 n;
	const char		*add[] = { "useradd", "-M", "-d", home, "-s",
				    "/bin/sh", user, NULL };
	const char		*unlock[] = { "usermod", "-p", "*", user,
				    NULL };

	int			 tries;

	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	tree_path(&T, home, sizeof(home), "home");
	cr_assert_eq(chmod(home, 0755), 0);
	for (tries = 0; tries < 5; tries++) {
		xsnprintf(user, sizeof(user), "kae2e%04lx",
		    random() & 0xffff);
		xsnprintf(home, sizeof(home), "%s/home/%s", T.root, user);
		run_prog(&r, NULL, 0, add, 0);
		if (r.status != 9)	/* 9: the name is taken; pick another */
			break;
		run_free(&r);
	}
	cr_assert_eq(r.status, 0, "useradd %s: %s", user, r.err);
	run_free(&r);
	user_made = 1;
	run_prog(&r, NULL, 0, unlock, 0);
	cr_assert_eq(r.status, 0, "usermod -p: %s", r.err);
	run_free(&r);

	pw = getpwnam(user);
	cr_assert_not_null(pw, "getpwnam %s after useradd", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	cr_assert_str_eq(pw->pw_dir, home);

	mkdirs(home, 0700);
	cr_assert_eq(chown(home, *uid, *gid), 0);

	/* the tree sees the same account, its home relative to the tree */
	pwtext = slurp(tree_path(&T, p, sizeof(p), "etc/passwd"), &n);
	xsnprintf(line, sizeof(line), "%s%s:x:%u:%u:keyadm e2e:/home/%s:"
	    "/bin/sh\n", pwtext, user, (unsigned)*uid, (unsigned)*gid, user);
	spew(p, line, strlen(line), 0644);
	free(pwtext);
	grtext = slurp(tree_path(&T, p, sizeof(p), "etc/group"), &n);
	xsnprintf(line, sizeof(line), "%s%s:x:%u:\n", grtext, user,
	    (unsigned)*gid);
	spew(p, line, strlen(line), 0644);
	free(grtext);
}

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

/* akfile: sshd's AuthorizedKeysFile. */
static void
start_sshd(unsigned int port, const char *akfile)
{
	struct run_result	 r;
	char			 conf[PATH_MAX], hostkey[PATH_MAX],
				 pidfile[PATH_MAX], text[4096], *log,
				 revoked[PATH_MAX];
	const char		*kg[] = { "ssh-keygen", "-q", "-t", "ed25519",
				    "-N", "", "-C", "keyadm-e2e-host", "-f",
				    hostkey, NULL };
	const char		*test[] = { SSHD_PATH, "-t", "-f", conf,
				    NULL };
	long long		 waited = 0;
	int			 fd, st, len;

	xsnprintf(sshd_dir, sizeof(sshd_dir), "%s/sshd", T.base);
	mkdirs(sshd_dir, 0700);
	mkdirs("/run/sshd", 0755);	/* sshd's privilege separation dir */
	xsnprintf(hostkey, sizeof(hostkey), "%s/host_ed25519_key", sshd_dir);
	xsnprintf(conf, sizeof(conf), "%s/sshd_config", sshd_dir);
	xsnprintf(pidfile, sizeof(pidfile), "%s/sshd.pid", sshd_dir);
	xsnprintf(sshd_log, sizeof(sshd_log), "%s/sshd.log", sshd_dir);
	tree_path(&T, revoked, sizeof(revoked), "etc/ssh/keyadm_revoked_keys");
	run_prog(&r, NULL, 0, kg, 60);
	cr_assert_eq(r.status, 0, "ssh-keygen host key: %s", r.err);
	run_free(&r);

	len = snprintf(text, sizeof(text),
	    "Port %u\n"
	    "ListenAddress " LOOPBACK "\n"
	    "AddressFamily inet\n"
	    "HostKey %s\n"
	    "PidFile %s\n"
	    "StrictModes yes\n"
	    "PubkeyAuthentication yes\n"
	    "PasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\n"
	    "HostbasedAuthentication no\n"
	    "UsePAM no\n"
	    "AuthorizedKeysFile %s\n"
	    "RevokedKeys %s\n"
	    "AllowUsers %s\n"
	    "LogLevel VERBOSE\n"
	    "MaxAuthTries 3\n"
	    "LoginGraceTime 20\n",
	    port, hostkey, pidfile, akfile, revoked, user);
	cr_assert(len > 0 && (size_t)len < sizeof(text));
	spew(conf, text, (size_t)len, 0600);

	run_prog(&r, NULL, 0, test, 30);
	cr_assert_eq(r.status, 0, "sshd -t rejects the config: %s", r.err);
	run_free(&r);

	fd = open(sshd_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_neq(fd, -1);
	sshd_pid = fork();
	cr_assert_neq(sshd_pid, -1);
	if (sshd_pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		(void)signal(SIGPIPE, SIG_DFL);
		if (nul == -1 || dup2(nul, 0) == -1 || dup2(fd, 1) == -1 ||
		    dup2(fd, 2) == -1)
			_exit(126);
		(void)execl(SSHD_PATH, SSHD_PATH, "-D", "-e", "-f", conf,
		    (char *)NULL);
		_exit(127);
	}
	(void)close(fd);

	/* bounded wait for the listener; sshd must not die meanwhile */
	while (!port_accepts(port)) {
		if (waitpid(sshd_pid, &st, WNOHANG) == sshd_pid) {
			sshd_pid = -1;
			log = log_text();
			cr_assert_fail("sshd exited during start-up:\n%s", log);
		}
		if (waited >= START_WAIT_MS) {
			log = log_text();
			cr_assert_fail("sshd did not listen on " LOOPBACK
			    ":%u within %d ms:\n%s", port, START_WAIT_MS, log);
		}
		(void)usleep(100000);
		waited += 100;
	}
}

/* ssh -i key user@127.0.0.1 echo keyadm-e2e-ok; returns the exit status */
static int
try_ssh(const char *keypath, unsigned int port, struct run_result *r)
{
	char		 portstr[16], dest[64];
	const char	*argv[] = { "ssh", "-F", "/dev/null", "-i", keypath,
			    "-p", portstr, "-o", "BatchMode=yes",
			    "-o", "StrictHostKeyChecking=no",
			    "-o", "UserKnownHostsFile=/dev/null",
			    "-o", "GlobalKnownHostsFile=/dev/null",
			    "-o", "IdentitiesOnly=yes",
			    "-o", "IdentityAgent=none",
			    "-o", "PreferredAuthentications=publickey",
			    "-o", "ConnectTimeout=10",
			    "-o", "LogLevel=ERROR",
			    dest, "echo", "keyadm-e2e-ok", NULL };

	xsnprintf(portstr, sizeof(portstr), "%u", port);
	xsnprintf(dest, sizeof(dest), "%s@" LOOPBACK, user);
	return run_prog(r, NULL, 0, argv, 60);
}

Test(e2e_sshd, add_lets_the_key_in_and_only_that_key)
{
	struct run_result	 r;
	struct stat		 st;
	char			 key1[PATH_MAX], key2[PATH_MAX], pub1[PATH_MAX],
				 ak[PATH_MAX], rel[64], *log;
	const char		*add[] = { "--root", T.root, "add", user, pub1,
				    NULL };
	unsigned int		 port;
	uid_t			 uid;
	gid_t			 gid;

	need_root_and_sshd();
	tree_make(&T);
	make_user(&uid, &gid);
	tree_keygen(&T, "ed25519", 0, "e2e@client", "id_ed25519", key1,
	    sizeof(key1));
	tree_keygen(&T, "ecdsa", 256, "stranger@client", "id_other", key2,
	    sizeof(key2));
	xsnprintf(pub1, sizeof(pub1), "%s.pub", key1);
	port = free_port();
	empty_revoked_file();
	start_sshd(port, ".ssh/authorized_keys");

	/* before add: no authorized_keys at all, so no way in */
	cr_assert_eq(try_ssh(key1, port, &r), 255, "ssh got in before add "
	    "(exit %d): %s%s", r.status, r.out, r.err);
	cr_assert(strstr(r.out, "keyadm-e2e-ok") == NULL);
	run_free(&r);

	cr_assert_eq(run_keyadm(&r, NULL, add), 0, "keyadm add: %s", r.err);
	run_free(&r);
	xsnprintf(rel, sizeof(rel), "home/%s/.ssh/authorized_keys", user);
	tree_path(&T, ak, sizeof(ak), rel);
	cr_assert_eq(lstat(ak, &st), 0, "%s: %s", ak, strerror(errno));
	cr_assert(st.st_uid == uid && st.st_gid == gid &&
	    (st.st_mode & 07777) == 0600, "%s: uid %u gid %u mode %04o", ak,
	    (unsigned)st.st_uid, (unsigned)st.st_gid, st.st_mode & 07777);

	/* after add: in */
	if (try_ssh(key1, port, &r) != 0 || strcmp(r.out, "keyadm-e2e-ok\n")) {
		log = log_text();
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
	unsigned int	port;
	uid_t		uid;
	gid_t		gid;

	need_root_and_sshd();
	tree_make_at(&T, parent);
	make_user(&uid, &gid);
	tree_keygen(&T, "ed25519", 0, "e2e@client", "id_ed25519", key,
	    keylen);
	empty_revoked_file();
	xsnprintf(central, sizeof(central), "%s/etc/ssh/authorized_keys/%%u",
	    T.root);
	port = free_port();
	start_sshd(port, akfile != NULL ? akfile : central);
	return port;
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
		log = log_text();
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
	char	*log = log_text();
	int	 has = strstr(log, text) != NULL;

	free(log);
	return has;
}

Test(e2e_sshd, revoke_keeps_the_key_out_even_when_put_back)
{
	char		 key[PATH_MAX], pub[PATH_MAX], ak[PATH_MAX], rel[80];
	char		*line, *text;
	size_t		 n;
	unsigned int	 port;

	port = setup("/tmp", ".ssh/authorized_keys", key, sizeof(key));
	xsnprintf(pub, sizeof(pub), "%s.pub", key);
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", user, pub,
	    NULL });
	ssh_in(key, port, "keyadm-e2e-ok\n");
	xsnprintf(rel, sizeof(rel), "home/%s/.ssh/authorized_keys", user);
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
	cr_assert_eq(chown(ak, getpwnam(user)->pw_uid,
	    getpwnam(user)->pw_gid), 0);
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
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", user, pub,
	    "--expires", "4s", NULL });
	ssh_in(key, port, "keyadm-e2e-ok\n");
	(void)sleep(6);
	ssh_out(key, port, "after the expiry time");
	xsnprintf(rel, sizeof(rel), "home/%s/.ssh/authorized_keys", user);
	tree_path(&T, ak, sizeof(ak), rel);
	text = slurp(ak, NULL);
	cr_assert(strstr(text, "expiry-time=\"") != NULL, "%s", text);
	free(text);
	keyadm_ok(0, (const char *[]){ "--root", T.root, "expire", NULL });
	text = slurp(ak, NULL);
	cr_assert_str_eq(text, "", "expire left a line: %s", text);
	free(text);
	cr_assert_eq(run_keyadm(&r, NULL, (const char *[]){ "--root", T.root,
	    "--json", "list", user, "--status", "expired", NULL }), 0);
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
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", user, pub,
	    "--from", "10.0.0.0/8,*.invalid", NULL });
	ssh_out(key, port, "from=10.0.0.0/8 but we come from 127.0.0.1");
	/* the same key again with new options: the grant is updated */
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", user, pub,
	    "--from", "127.0.0.1", NULL });
	ssh_in(key, port, "keyadm-e2e-ok\n");
	/* command= runs instead of what the client asks for */
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", user, pub,
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
	keyadm_ok(0, (const char *[]){ "--root", T.root, "add", user, pub,
	    NULL });
	xsnprintf(rel, sizeof(rel), "etc/ssh/authorized_keys/%s", user);
	tree_path(&T, ak, sizeof(ak), rel);
	cr_assert_eq(lstat(ak, &st), 0, "%s: %s", ak, strerror(errno));
	cr_assert(st.st_uid == 0 && (st.st_mode & 07777) == 0644,
	    "%s: uid %u mode %04o", ak, (unsigned)st.st_uid,
	    st.st_mode & 07777);
	ssh_in(key, port, "keyadm-e2e-ok\n");
	keyadm_ok(0, (const char *[]){ "--root", T.root, "revoke", pub,
	    "--user", user, "--reason", "e2e", NULL });
	ssh_out(key, port, "after revoke");
}
