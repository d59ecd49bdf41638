/*
 * main.c -- keyadm's entry: global options, the command table, the exit
 * status.
 *
 * MUST: the only exit(); the only place that maps keyadm_err to a status.
 * MUST: before anything else: umask 077, descriptors 0-2 open, all others
 * closed; the environment is not consulted for paths.
 * MUST: a bad configuration stops the run before any command starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "denylist.h"
#include "err.h"
#include "keyparse.h"
#include "msg.h"
#include "safefs.h"
#include "weakkeys.h"

static const char usage_main[] =
"usage: keyadm [--root DIR] [--config FILE] [--json] [-q] [-v] COMMAND [ARGS]\n"
"commands:\n"
"  check FILE...|-                     validate keys; writes nothing\n"
"  add USER FILE...|- [--restrict] [--from PATTERNS] [--command CMD]\n"
"        [--option OPT]... [--expires DATE|DURATION] [--no-options]\n"
"        [--reason TEXT] [--dry-run] [--skip-rejected] [--force]\n"
"                                      validate, record and install keys\n"
"  list [USER] [--status active|revoked|expired|removed|all]\n"
"                                      show grants\n"
"  revoke KEY [--user USER] --reason TEXT [--dry-run]\n"
"                                      take a key away (KEY: SHA256:..., a\n"
"                                      grant id or the .pub file)\n"
"  expire [--dry-run]                  remove grants whose time has passed\n"
"  audit [USER...]                     what the key files really grant, and\n"
"                                      what drifted; exit 1 on findings\n"
"  adopt USER...|--all [--reason TEXT] [--dry-run]\n"
"                                      record keys already in the files\n"
"  history [--user USER] [--key FP] [--since DATE]\n"
"                                      every recorded change, oldest first\n"
"  verify                              check the audit log's hash chain\n"
"  import FILE|DIR [--restrict] [--from PATTERNS] [--command CMD]\n"
"        [--option OPT]... [--expires DATE|DURATION] [--no-options]\n"
"        [--reason TEXT] [--dry-run]\n"
"                                      bulk intake: USER<TAB>key lines, or a\n"
"                                      keydir of USER.pub files\n"
"  authorized-keys USER [TYPE BASE64]  USER's active keys (or that key) as\n"
"                                      authorized_keys lines, for sshd's\n"
"                                      AuthorizedKeysCommand\n";

static const struct {
	const char	*name;
	int		(*fn)(struct ctx *, int, char **);
} commands[] = {
	{ "check", cmd_check },
	{ "add", cmd_add },
	{ "list", cmd_list },
	{ "revoke", cmd_revoke },
	{ "expire", cmd_expire },
	{ "audit", cmd_audit },
	{ "adopt", cmd_adopt },
	{ "history", cmd_history },
	{ "verify", cmd_verify },
	{ "authorized-keys", cmd_authorized_keys },
	{ "import", cmd_import },
};

/* Make sure 0, 1 and 2 are open, so no file we open lands on them. */
static int
sanitize_fds(void)
{
	int	fd;

	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		;
	if (fd < 0)
		return -1;
	(void)close(fd);
	closefrom(3);
	return 0;
}

static int
lookup_account(const struct ctx *c, const char *name, struct account *a)
{
	if (c->accounts != NULL && accounts_cache_lookup(c->accounts, name,
	    a) == 0)
		return 0;
	return accounts_lookup(c->rootdir != NULL ? c->rootfd : -1, name, a);
}

static int
global_args(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'R' },
		{ "config", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "+hqvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'R': c->rootdir = optarg; break;
		case 'C': c->config_path = optarg; break;
		case 'j': c->json = 1; break;
		case 'q': c->quiet = 1; break;
		case 'v': c->verbose++; break;
		case 'h': (void)fputs(usage_main, stdout); return 1;
		case 'V': (void)printf("keyadm %s\n", KEYADM_VERSION); return 1;
		default:
			(void)fputs(usage_main, stderr);
			return KE_USAGE;
		}
	}
	if (optind >= argc) {
		(void)fputs(usage_main, stderr);
		return KE_USAGE;
	}
	return 0;
}

static int
open_root(struct ctx *c)
{
	const char	*dir = c->rootdir != NULL ? c->rootdir : "/";
	size_t		 n;

	c->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->rootfd == -1) {
		msg_err(dir, "%s", strerror(errno));
		return errno == ENOENT ? KE_NOINPUT : KE_IO;
	}
	if (c->rootdir == NULL)
		return 0;
	if (c->rootdir[0] != '/') {
		msg_err(c->rootdir, "--root needs an absolute path");
		return KE_USAGE;
	}
	n = strlen(c->rootdir);
	while (n > 1 && c->rootdir[n - 1] == '/')
		n--;
	if (n >= sizeof(c->dispprefix)) {
		msg_err(NULL, "--root: path too long");
		return KE_USAGE;
	}
	memcpy(c->dispprefix, c->rootdir, n);
	c->dispprefix[n == 1 ? 0 : n] = '\0';
	return 0;
}

/*
 * --config FILE: held to the rules of /etc/keyadm.conf (every directory and
 * the file owned by root or us, not writable by others, no links), since
 * it decides policy and where keys are written.
 */
static int
read_config_path(const char *path, char **buf, size_t *len, char *msg,
    size_t msglen)
{
	char		 abs[PATH_MAX], cwd[PATH_MAX], *slash;
	int		 slashfd, dirfd = -1, r, n;

	if (path[0] == '/')
		n = snprintf(abs, sizeof(abs), "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		n = snprintf(abs, sizeof(abs), "%s/%s", cwd, path);
	else
		n = -1;
	if (n < 0 || (size_t)n >= sizeof(abs) ||
	    (slash = strrchr(abs, '/'))[1] == '\0') {
		(void)snprintf(msg, msglen, "--config: bad path");
		return KE_CONFIG;
	}
	if ((slashfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		(void)snprintf(msg, msglen, "/: %s", strerror(errno));
		return KE_IO;
	}
	*slash = '\0';
	r = safefs_walk(slashfd, "", abs[0] != '\0' ? abs : "/", geteuid(),
	    &dirfd, msg, msglen);
	*slash = '/';
	if (r == 0)
		r = safefs_read(dirfd, abs, slash + 1, geteuid(), CONFIG_MAX,
		    buf, len, NULL, msg, msglen);
	if (r == 0 && *buf == NULL) {
		(void)snprintf(msg, msglen, "%.400s: no such file", abs);
		r = KE_NOINPUT;
	}
	if (dirfd != -1)
		(void)close(dirfd);
	(void)close(slashfd);
	return r;
}

static int
load_config(struct ctx *c)
{
	char	 msg[SAFEFS_MSG_MAX], name[PATH_MAX];
	char	*buf = NULL;
	size_t	 len = 0;
	int	 etcfd = -1, r;

	config_defaults(&c->cfg);
	if (c->config_path != NULL) {
		(void)snprintf(name, sizeof(name), "%s", c->config_path);
		r = read_config_path(c->config_path, &buf, &len, msg,
		    sizeof(msg));
	} else {
		(void)snprintf(name, sizeof(name), "%.3800s%s", c->dispprefix,
		    CONFIG_PATH);
		r = safefs_walk(c->rootfd, c->dispprefix, "/etc", geteuid(),
		    &etcfd, msg, sizeof(msg));
		if (r == 0)
			r = safefs_read(etcfd, name, "keyadm.conf", geteuid(),
			    CONFIG_MAX, &buf, &len, NULL, msg, sizeof(msg));
		if (etcfd != -1)
			(void)close(etcfd);
		if (r == KE_NOINPUT)	/* no /etc at all: defaults */
			r = 0;
	}
	if (r != 0) {
		msg_line(msg);
		free(buf);
		return KE_CONFIG;
	}
	if (buf != NULL)
		r = config_parse(&c->cfg, name, buf, len, msg, sizeof(msg));
	else if (c->verbose)
		msg_err(name, "not present; using the defaults");
	free(buf);
	if (r != 0)
		msg_line(msg);
	return r;
}

/* deny_list = PATH: read it (inside --root) as strictly as the config. */
static int
load_denylist(struct ctx *c)
{
	char	 msg[SAFEFS_MSG_MAX], dir[PATH_MAX], disp[PATH_MAX * 2];
	char	*buf = NULL, *slash;
	size_t	 len = 0;
	int	 dirfd = -1, r;

	if (c->cfg.deny_list[0] == '\0')
		return 0;
	(void)snprintf(dir, sizeof(dir), "%s", c->cfg.deny_list);
	slash = strrchr(dir, '/');
	*slash = '\0';
	(void)snprintf(disp, sizeof(disp), "%s%s", c->dispprefix,
	    c->cfg.deny_list);
	r = safefs_walk(c->rootfd, c->dispprefix, dir[0] ? dir : "/",
	    geteuid(), &dirfd, msg, sizeof(msg));
	if (r == 0)
		r = safefs_read(dirfd, disp, slash + 1, geteuid(), DENYLIST_MAX,
		    &buf, &len, NULL, msg, sizeof(msg));
	if (dirfd != -1)
		(void)close(dirfd);
	if (r == 0 && buf == NULL) {
		(void)snprintf(msg, sizeof(msg), "%.400s: no such file (set by "
		    "deny_list)", disp);
		r = KE_CONFIG;
	}
	if (r == 0)
		r = denylist_parse(disp, buf, len, &c->deny, msg, sizeof(msg));
	free(buf);
	if (r != 0) {
		msg_line(msg);
		return r == KE_NOMEM ? r : KE_CONFIG;
	}
	c->cfg.policy.deny = c->deny;
	return 0;
}

/*
 * Standard output could not be written (errno from the write, or 0): one
 * line, and exit 74 for a command that otherwise succeeded, whose change
 * is made all the same.  A failed command keeps its own status.
 */
static int
output_lost(int r)
{
	int	e = errno;

	if (r != 0)
		return r;
	msg_err("standard output", "cannot write%s%s (the command itself "
	    "was carried out)", e != 0 ? ": " : "", e != 0 ? strerror(e) :
	    "");
	return KE_IO;
}

static int
run(struct ctx *c, int argc, char **argv)
{
	size_t	i;
	int	r;

	if ((r = open_root(c)) != 0 || (r = load_config(c)) != 0 ||
	    (r = load_denylist(c)) != 0)
		return r;
	actor_identify(&c->actor);
	c->now = (int64_t)time(NULL);
	c->lookup = lookup_account;
	report_init(&c->out, stdout, c->json, c->quiet);
	/* stdout stays buffered: msg flushes it before each message */
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) != 0)
			continue;
		if (keyparse_init() != 0) {
			msg_err(NULL, "cannot initialise libssh");
			return KE_INTERNAL;
		}
		r = commands[i].fn(c, argc, argv);
		keyparse_fini();
		errno = 0;
		if (report_finish(&c->out) != 0)
			r = output_lost(r);
		return r;
	}
	msg_err(argv[0], "unknown command; see keyadm --help");
	return KE_USAGE;
}

int
main(int argc, char **argv)
{
	struct ctx	c;
	int		r;

	(void)umask(077);
	if (sanitize_fds() == -1)
		return EXIT_SOFTWARE;
	/*
	 * A reader that goes away (keyadm revoke ... | head -1) must not
	 * kill a run between two accounts: writes fail instead (EPIPE), the
	 * run goes on, and the lost output is reported at the end.
	 */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return EXIT_SOFTWARE;
	memset(&c, 0, sizeof(c));
	c.rootfd = -1;
	msg_open();
	if ((r = global_args(&c, argc, argv)) == 0)
		r = run(&c, argc - optind, argv + optind);
	else if (r > 0)
		r = 0;
	if (c.rootfd != -1)
		(void)close(c.rootfd);
	weakkeys_free(c.weak);
	accounts_cache_free(c.accounts);
	denylist_free(c.deny);
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		r = output_lost(r);
	msg_close();
	exit(keyadm_exit_status(r));
}
