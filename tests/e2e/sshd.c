/*
 * sshd.c -- a real sshd and throwaway accounts for the end-to-end tests.
 *
 * Invariants:
 *  - sshd listens on 127.0.0.1 only, never on the system's port or
 *    configuration: its sshd_config, host key, pid file and log live in a
 *    directory the test names.
 *  - Every account made here is named kae2e... and recorded (u->made)
 *    before anything can fail, so .fini deletes it.
 *  - Nothing waits without a bound: sshd's start-up, its stop, ssh itself
 *    (ConnectTimeout and run_prog's limit), useradd/userdel retries.
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
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sshd.h"

#define START_WAIT_MS	15000	/* sshd must listen within this */
#define STOP_WAIT_MS	5000	/* then SIGKILL */
#define PORT_LOW	20000	/* ports: [PORT_LOW, ephemeral range) */
#define START_TRIES	5	/* ports tried when one is taken meanwhile */
#define LOCK_TRIES	50	/* passwd file locked: retries 0.2 s apart */
#define BUSY_TRIES	50	/* account in use (userdel): 0.2 s apart */

/* Exit codes of useradd(8) and userdel(8). */
#define UA_NAME_TAKEN	9
#define UA_LOCKED	10	/* cannot lock or update the passwd file */
#define UD_IN_USE	8

void
sshd_need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: makes accounts and runs sshd");
	if (access(SSHD_PATH, X_OK) != 0)
		cr_skip_test(SSHD_PATH " is missing: install openssh-server");
}

void
sshd_random_hex(char *out, size_t outlen, unsigned int n)
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		b[32];
	unsigned int		i;

	cr_assert(n < outlen && n <= sizeof(b));
	cr_assert_eq(getrandom(b, n, 0), (ssize_t)n, "getrandom: %s",
	    strerror(errno));
	for (i = 0; i < n; i++)
		out[i] = hex[b[i] & 0xf];
	out[n] = '\0';
}

/* The first port of the kernel's ephemeral range (clients' source ports). */
static unsigned int
ephemeral_low(void)
{
	unsigned int	 lo = 32768, hi;
	FILE		*f;

	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	if (f != NULL) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768;
		(void)fclose(f);
	}
	if (lo < PORT_LOW + 1000)
		lo = 32768;	/* an odd range: still stay clear of 1024 */
	return lo;
}

unsigned int
sshd_free_port(void)
{
	struct sockaddr_in	sin;
	unsigned int		lo = ephemeral_low(), port;
	uint32_t		rnd;
	int			s, tries, ok;

	for (tries = 0; tries < 200; tries++) {
		cr_assert_eq(getrandom(&rnd, sizeof(rnd), 0),
		    (ssize_t)sizeof(rnd));
		port = PORT_LOW + rnd % (lo - PORT_LOW);
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert_neq(s, -1, "socket: %s", strerror(errno));
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons((uint16_t)port);
		/* no SO_REUSEADDR: even a TIME_WAIT socket makes it busy */
		ok = bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0;
		(void)close(s);
		if (ok)
			return port;
	}
	cr_assert_fail("no free port on " SSHD_LOOPBACK " in %u..%u",
	    PORT_LOW, lo - 1);
	return 0;
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

/* --- accounts -------------------------------------------------------- */

/* Run a shadow-utils tool, retrying while the passwd file is locked. */
static int
run_shadow(const char *const *argv, struct run_result *r)
{
	int	tries;

	for (tries = 0; ; tries++) {
		run_prog(r, NULL, 0, argv, 0);
		if (r->status != UA_LOCKED || tries >= LOCK_TRIES)
			return r->status;
		run_free(r);
		(void)usleep(200000);
	}
}

/* Append text to a file of the tree (etc/passwd, etc/group). */
static void
tree_append(const struct tree *t, const char *rel, const char *text)
{
	char	 p[PATH_MAX], *old, *all;
	size_t	 n, len;

	old = slurp(tree_path(t, p, sizeof(p), rel), &n);
	len = n + strlen(text);
	all = malloc(len + 1);
	cr_assert_not_null(all);
	memcpy(all, old, n);
	memcpy(all + n, text, strlen(text) + 1);
	spew(p, all, len, 0644);
	free(all);
	free(old);
}

/*
 * useradd with a fresh name kae2e<tag>XXXX in argv[namearg]; argv[homearg]
 * (when homearg is not 0) gets that name's home, TREE/home/NAME.  Fills
 * u->name, u->home, u->made, uid and gid.
 */
static void
useradd_fresh(struct sshd_user *u, const struct tree *t, const char *tag,
    const char **argv, size_t homearg, size_t namearg)
{
	struct run_result	 r;
	struct passwd		*pw;
	char			 hex[8];
	int			 tries, st = UA_NAME_TAKEN;

	for (tries = 0; tries < 8 && st == UA_NAME_TAKEN; tries++) {
		sshd_random_hex(hex, sizeof(hex), 4);
		xsnprintf(u->name, sizeof(u->name), "kae2e%s%s", tag, hex);
		if (homearg != 0) {
			xsnprintf(u->home, sizeof(u->home), "%s/home/%s",
			    t->root, u->name);
			argv[homearg] = u->home;
		}
		argv[namearg] = u->name;
		st = run_shadow(argv, &r);
		if (st != 0)
			cr_log_warn("%s %s: exit %d: %s", argv[0], u->name,
			    st, r.err);
		run_free(&r);
	}
	cr_assert_eq(st, 0, "%s: no account made (exit %d)", argv[0], st);
	u->made = 1;
	pw = getpwnam(u->name);
	cr_assert_not_null(pw, "getpwnam %s after useradd", u->name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
}

void
sshd_user_make(struct sshd_user *u, const struct tree *t)
{
	struct run_result	 r;
	char			 home[PATH_MAX], line[512];
	const char		*add[] = { "useradd", "-M", "-d", NULL, "-s",
				    "/bin/sh", NULL, NULL };
	const char		*unlock[] = { "usermod", "-p", "*", NULL,
				    NULL };

	memset(u, 0, sizeof(*u));
	cr_assert_eq(chmod(tree_path(t, home, sizeof(home), "home"), 0755),
	    0);
	useradd_fresh(u, t, "", add, 3, 6);
	unlock[3] = u->name;
	cr_assert_eq(run_shadow(unlock, &r), 0, "usermod -p: %s", r.err);
	run_free(&r);
	cr_assert_str_eq(getpwnam(u->name)->pw_dir, u->home);

	mkdirs(u->home, 0700);
	cr_assert_eq(chown(u->home, u->uid, u->gid), 0);

	/* the tree sees the same account, its home relative to the tree */
	xsnprintf(line, sizeof(line), "%s:x:%u:%u:keyadm e2e:/home/%s:"
	    "/bin/sh\n", u->name, (unsigned)u->uid, (unsigned)u->gid, u->name);
	tree_append(t, "etc/passwd", line);
	xsnprintf(line, sizeof(line), "%s:x:%u:\n", u->name, (unsigned)u->gid);
	tree_append(t, "etc/group", line);
}

void
sshd_sysuser_make(struct sshd_user *u, const struct tree *t)
{
	char		 line[512];
	const char	*add[] = { "useradd", "-r", "-U", "-M", "-d",
			    "/nonexistent", "-s", "/usr/sbin/nologin", NULL,
			    NULL };

	memset(u, 0, sizeof(*u));
	useradd_fresh(u, t, "s", add, 0, 8);
	xsnprintf(u->home, sizeof(u->home), "/nonexistent");
	xsnprintf(line, sizeof(line), "%s:x:%u:%u:keyadm e2e:/nonexistent:"
	    "/usr/sbin/nologin\n", u->name, (unsigned)u->uid,
	    (unsigned)u->gid);
	tree_append(t, "etc/passwd", line);
	xsnprintf(line, sizeof(line), "%s:x:%u:\n", u->name, (unsigned)u->gid);
	tree_append(t, "etc/group", line);
}

void
sshd_user_delete(struct sshd_user *u)
{
	struct run_result	 r;
	const char		*argv[] = { "userdel", u->name, NULL };
	int			 tries;

	if (!u->made)
		return;
	u->made = 0;
	/* a session sshd is still closing keeps the account busy briefly */
	for (tries = 0; run_shadow(argv, &r) == UD_IN_USE &&
	    tries < BUSY_TRIES; tries++) {
		run_free(&r);
		(void)usleep(200000);
	}
	if (r.status != 0)
		cr_log_warn("userdel %s: exit %d: %s", u->name, r.status,
		    r.err);
	run_free(&r);
}

/* --- sshd ------------------------------------------------------------ */

char *
sshd_log(const struct sshd_server *s)
{
	struct stat	st;

	if (s->log[0] == '\0' || stat(s->log, &st) != 0)
		return strdup("(no sshd log)");
	return slurp(s->log, NULL);
}

int
sshd_log_has(const struct sshd_server *s, const char *text)
{
	char	*log = sshd_log(s);
	int	 has = strstr(log, text) != NULL;

	free(log);
	return has;
}

static void
write_conf(struct sshd_server *s, const struct sshd_conf *c,
    const char *hostkey, const char *pidfile)
{
	char	text[8192], revoked[PATH_MAX + 16];
	int	len;

	revoked[0] = '\0';
	if (c->revoked != NULL)
		xsnprintf(revoked, sizeof(revoked), "RevokedKeys %s\n",
		    c->revoked);
	len = snprintf(text, sizeof(text),
	    "Port %u\n"
	    "ListenAddress " SSHD_LOOPBACK "\n"
	    "AddressFamily inet\n"
	    "HostKey %s\n"
	    "PidFile %s\n"
	    "StrictModes yes\n"
	    "PubkeyAuthentication yes\n"
	    "PasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\n"
	    "HostbasedAuthentication no\n"
	    "UsePAM %s\n"
	    "AuthorizedKeysFile %s\n"
	    "%s"
	    "AllowUsers %s\n"
	    "LogLevel VERBOSE\n"
	    "MaxAuthTries 3\n"
	    "LoginGraceTime 20\n"
	    "%s",
	    s->port, hostkey, pidfile, c->use_pam ? "yes" : "no", c->akfile,
	    revoked, c->user, c->extra != NULL ? c->extra : "");
	cr_assert(len > 0 && (size_t)len < sizeof(text), "sshd_config too "
	    "long");
	spew(s->conf, text, (size_t)len, 0600);
}

/* In the child: stdin /dev/null, stdout and stderr the log, then exec. */
static void
exec_sshd(const char *program, const char *conf, int logfd,
    const char *const *env)
{
	int	nul, i;

	(void)signal(SIGPIPE, SIG_DFL);
	nul = open("/dev/null", O_RDONLY);
	if (nul == -1 || dup2(nul, 0) == -1 || dup2(logfd, 1) == -1 ||
	    dup2(logfd, 2) == -1)
		_exit(126);
	for (i = 0; env != NULL && env[i] != NULL; i++) {
		char	name[128];
		size_t	n = strcspn(env[i], "=");

		if (env[i][n] != '=' || n >= sizeof(name))
			_exit(126);
		memcpy(name, env[i], n);
		name[n] = '\0';
		if (setenv(name, env[i] + n + 1, 1) != 0)
			_exit(126);
	}
	(void)execl(program, program, "-D", "-e", "-f", conf, (char *)NULL);
	(void)dprintf(2, "exec %s: %s\n", program, strerror(errno));
	_exit(127);
}

/*
 * Start sshd once on s->port.  Returns 0 when it listens, 1 when it died
 * because the port was taken meanwhile; fails the test otherwise.
 */
static int
start_once(struct sshd_server *s, const char *program,
    const char *const *env)
{
	char		 want[64], *log;
	long long	 waited = 0;
	int		 fd, st;

	fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_neq(fd, -1, "open %s: %s", s->log, strerror(errno));
	s->pid = fork();
	cr_assert_neq(s->pid, -1, "fork: %s", strerror(errno));
	if (s->pid == 0)
		exec_sshd(program, s->conf, fd, env);
	(void)close(fd);

	/* ours listens when it says so; anybody's would accept connections */
	xsnprintf(want, sizeof(want), "Server listening on " SSHD_LOOPBACK
	    " port %u", s->port);
	for (;;) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = -1;
			if (sshd_log_has(s, "Address already in use"))
				return 1;
			log = sshd_log(s);
			cr_assert_fail("sshd exited during start-up (status "
			    "%#x):\n%s", (unsigned)st, log);
		}
		if (sshd_log_has(s, want) && port_accepts(s->port))
			return 0;
		if (waited >= START_WAIT_MS) {
			log = sshd_log(s);
			cr_assert_fail("sshd did not listen on " SSHD_LOOPBACK
			    ":%u within %d ms:\n%s", s->port, START_WAIT_MS,
			    log);
		}
		(void)usleep(50000);
		waited += 50;
	}
}

void
sshd_start(struct sshd_server *s, const char *dir, const struct sshd_conf *c)
{
	struct run_result	 r;
	char			 hostkey[PATH_MAX], pidfile[PATH_MAX];
	const char		*program = c->program != NULL ? c->program :
				    SSHD_PATH;
	const char		*kg[] = { "ssh-keygen", "-q", "-t", "ed25519",
				    "-N", "", "-C", "keyadm-e2e-host", "-f",
				    hostkey, NULL };
	const char		*test[] = { program, "-t", "-f", s->conf,
				    NULL };
	int			 tries;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	cr_assert(program[0] == '/', "sshd re-executes itself: it needs an "
	    "absolute path, not %s", program);
	xsnprintf(s->dir, sizeof(s->dir), "%s", dir);
	mkdirs(s->dir, 0700);
	mkdirs("/run/sshd", 0755);	/* sshd's privilege separation dir */
	xsnprintf(hostkey, sizeof(hostkey), "%s/host_ed25519_key", s->dir);
	xsnprintf(s->conf, sizeof(s->conf), "%s/sshd_config", s->dir);
	xsnprintf(pidfile, sizeof(pidfile), "%s/sshd.pid", s->dir);
	xsnprintf(s->log, sizeof(s->log), "%s/sshd.log", s->dir);
	(void)unlink(hostkey);
	run_prog(&r, NULL, 0, kg, 60);
	cr_assert_eq(r.status, 0, "ssh-keygen host key: %s", r.err);
	run_free(&r);

	for (tries = 0; tries < START_TRIES; tries++) {
		s->port = sshd_free_port();
		write_conf(s, c, hostkey, pidfile);
		run_prog(&r, NULL, 0, test, 30);
		cr_assert_eq(r.status, 0, "sshd -t rejects the config: %s",
		    r.err);
		run_free(&r);
		if (start_once(s, program, c->env) == 0)
			return;
	}
	cr_assert_fail("sshd: %d ports were taken before it could bind one",
	    START_TRIES);
}

void
sshd_stop(struct sshd_server *s)
{
	int	st, waited;

	if (s->pid <= 0)
		return;
	(void)kill(s->pid, SIGTERM);
	for (waited = 0; waited < STOP_WAIT_MS; waited += 50) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = -1;
			return;
		}
		(void)usleep(50000);
	}
	(void)kill(s->pid, SIGKILL);
	(void)waitpid(s->pid, &st, 0);
	s->pid = -1;
}

int
sshd_try_ssh(const char *user, const char *key, unsigned int port,
    struct run_result *r)
{
	char		 portstr[16], dest[64];
	const char	*argv[] = { "ssh", "-F", "/dev/null", "-i", key,
			    "-p", portstr, "-o", "BatchMode=yes",
			    "-o", "StrictHostKeyChecking=no",
			    "-o", "UserKnownHostsFile=/dev/null",
			    "-o", "GlobalKnownHostsFile=/dev/null",
			    "-o", "IdentitiesOnly=yes",
			    "-o", "IdentityAgent=none",
			    "-o", "PreferredAuthentications=publickey",
			    "-o", "ConnectTimeout=10",
			    "-o", "LogLevel=ERROR",
			    dest, "echo", SSHD_OK_TEXT, NULL };

	xsnprintf(portstr, sizeof(portstr), "%u", port);
	xsnprintf(dest, sizeof(dest), "%s@" SSHD_LOOPBACK, user);
	return run_prog(r, NULL, 0, argv, 60);
}

/* --- trees ------------------------------------------------------------ */

void
sshd_tree_remove(struct tree *t)
{
	tree_remove(t);		/* it knows trees under /run too */
}
