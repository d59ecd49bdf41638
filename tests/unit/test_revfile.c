/*
 * test_revfile.c -- the revoked-keys file sshd reads (RevokedKeys), on a
 * mkdtemp tree laid out like a system: <tree>/etc/ssh/revoked_keys, walked
 * from a descriptor of <tree> with an empty display prefix, so paths and
 * messages read "/etc/ssh/revoked_keys".
 *
 * Suites:
 *  revfile       any user: paths refused before anything is opened, and a
 *                tree that is not root's.
 *  revfile_root  needs root (the file and every directory above it must be
 *                root's, so the tree is too): create, read, add, remove,
 *                render, write, refusals, unsafe paths, the lock, and the
 *                replace-only-if-unchanged rule.
 *  revfile_sshd  needs root, ssh-keygen, ssh and sshd: OpenSSH itself reads
 *                what revfile wrote.  sshd runs in inetd mode (sshd -i) as
 *                ssh's ProxyCommand, with its own configuration, host key,
 *                AuthorizedKeysFile and RevokedKeys inside the tree: no
 *                daemon, no port, no account.  OpenSSH 9.2's "ssh-keygen -Q"
 *                reads binary KRLs only (a text list is "Invalid KRL file
 *                ...: KRL file has invalid magic number", exit 255), so the
 *                ssh-keygen test first turns the list into a KRL with
 *                "ssh-keygen -k", whose parser reads the list line by line.
 *
 * Each invariant of revfile.c has tests here:
 *  root's directories only      unsafe_*, symlinked_*, hard_linked_*,
 *                               fifo_*, path_with_dotdot_*, tree_not_roots_*
 *  the lock, read to replace    lock_held_*; and the file is replaced only
 *                               if unchanged: *_since_read_is_busy*
 *  refuse a file not ours       refuses_* (refuses_bad_line and
 *                               refuses_key_line_sshd_cannot_read are
 *                               parameterized over bad files)
 *  write only good LF lines     new_file_*, kept_file_*, last_line_*,
 *                               write_checks_rendered_lines, sshd_reads_*,
 *                               ssh_keygen_reads_the_list
 *  root's, 0644                 create_*, new_file_*, rewrite_makes_*
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "authkeys.h"
#include "b64.h"
#include "err.h"
#include "revfile.h"
#include "safefs.h"

#define OTHER_UID	4242	/* an account that is not root */
#define OTHER_GID	4243
#define RK		"/etc/ssh/revoked_keys"
#define RK_REL		"etc/ssh/revoked_keys"
#define RK_TMP_REL	"etc/ssh/.revoked_keys.keyadm~new"
#define LOCK_MS		2000
#define MSG_LEN		1024
#define SSH_KEYGEN	"/usr/bin/ssh-keygen"
#define SSH		"/usr/bin/ssh"
#define SSHD		"/usr/sbin/sshd"
#define SSHD_PRIVSEP	"/run/sshd"	/* sshd -i will not run without it */
#define RUN_TIMEOUT_S	60	/* any one external program */

/* OpenSSH's test keys (shared/vectors/openssh-sshkey: ed25519_1, ed25519_2,
 * ecdsa_1, rsa_1). */
#define ED1	"AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZ"
#define ED2	"AAAAC3NzaC1lZDI1NTE5AAAAIM9UrIuebd5kTSWbQh8zdTL0Cx0ZIG2jNygK3bVuVgEL"
#define EC1	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAxZW5ZDq1vcnSlYbTPvQGN3PbGgRO0ht5Rcd/JwWr5AAw2iPY4d/5Lxvybfb6ZttqsKJJUwhg38wpF5CCmlpQc="
#define RSA1	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQDLV5lUTt7FrADseB/CGhEZzpoojjEW5y8+ePvLppmK3MmMI18ud6vxzpK3bwZLYkVSyfJYI0HmIuGhdu7yMrW6wb84gbq8C31Xoe9EORcIUuGSvDKdNSM1SjlhDquRblDFB8kToqXyx1lqrXecXylxIUOL0jE+u0rU1967pDJx+w=="
/* ED1's blob with "JUNK" appended, and with its last byte cut off. */
#define ED1_JUNK "AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZSlVOSw=="
#define ED1_CUT	"AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIw="

/* What revfile writes at the top of a file it creates (revfile.c). */
#define HEADER								\
    "# Revoked SSH public keys, kept by keyadm(8); sshd reads it through\n" \
    "# RevokedKeys.  sshd refuses every key if this file is missing or has\n" \
    "# one line it cannot read: edit with care, or with keyadm.\n"

#define BAD_LINE_TAIL	" is not a key sshd can read (sshd refuses " \
			    "every key while it is there); fix it by hand"

static char		tree[PATH_MAX];	/* this test's temp tree */
static int		treefd = -1;	/* its descriptor: the walk's "/" */
static struct revfile	rf;
static char		msg[MSG_LEN];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void
setup(void)
{
	umask(022);
	cr_assert_lt((size_t)snprintf(tree, sizeof(tree), "%s",
	    "/tmp/test_revfile.XXXXXX"), sizeof(tree));
	cr_assert_not_null(mkdtemp(tree));
	treefd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_neq(treefd, -1);
	cr_assert_eq(fchmod(treefd, 0755), 0);
	memset(&rf, 0, sizeof(rf));
	rf.dirfd = -1;
	msg[0] = '\0';
}

static void
teardown(void)
{
	revfile_close(&rf);
	if (treefd != -1)
		(void)close(treefd);
	treefd = -1;
	if (tree[0] != '\0')
		(void)nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tree[0] = '\0';
}

TestSuite(revfile, .init = setup, .fini = teardown);
TestSuite(revfile_root, .init = setup, .fini = teardown);
TestSuite(revfile_sshd, .init = setup, .fini = teardown);

/* A skipped test does not reach .fini: clean up first. */
#define NEED_ROOT() do {						\
	if (geteuid() != 0) {						\
		teardown();						\
		cr_skip_test("needs root");				\
	}								\
} while (0)

/* Root, and the OpenSSH programs the revfile_sshd suite runs. */
#define NEED_OPENSSH() do {						\
	NEED_ROOT();							\
	if (access(SSH_KEYGEN, X_OK) != 0 || access(SSH, X_OK) != 0 ||	\
	    access(SSHD, X_OK) != 0 || access(SSHD_PRIVSEP, F_OK) != 0) { \
		teardown();						\
		cr_skip_test("needs " SSH_KEYGEN ", " SSH ", " SSHD	\
		    " and " SSHD_PRIVSEP);				\
	}								\
} while (0)

/* --- helpers: the tree ------------------------------------------------- */

static void
mkdir_own(const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
	cr_assert_eq(mkdirat(treefd, rel, 0700), 0, "mkdir %s: %s", rel,
	    strerror(errno));
	cr_assert_eq(fchownat(treefd, rel, uid, gid, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(fchmodat(treefd, rel, mode, 0), 0);
}

/* etc and etc/ssh, root's, 0755: what a system has. */
static void
etc_ssh(void)
{
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/ssh", 0755, 0, 0);
}

static void
put_bytes(const char *rel, const char *content, size_t len, mode_t mode,
    uid_t uid, gid_t gid)
{
	int	fd;

	fd = openat(treefd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	cr_assert_neq(fd, -1, "create %s: %s", rel, strerror(errno));
	cr_assert_eq(write(fd, content, len), (ssize_t)len);
	cr_assert_eq(fchown(fd, uid, gid), 0);
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(close(fd), 0);
}

/* A root-owned 0644 file, as an administrator leaves one. */
static void
put(const char *rel, const char *content)
{
	put_bytes(rel, content, strlen(content), 0644, 0, 0);
}

/* Contents of a file of the tree (static buffer, NUL-terminated). */
static const char *
get_bytes(const char *rel, size_t *lenp)
{
	static char	buf[256 * 1024];
	size_t		len = 0;
	ssize_t		n;
	int		fd;

	fd = openat(treefd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	cr_assert_neq(fd, -1, "open %s: %s", rel, strerror(errno));
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	cr_assert_geq(n, 0);
	buf[len] = '\0';
	(void)close(fd);
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

static const char *
get(const char *rel)
{
	return get_bytes(rel, NULL);
}

static void
assert_node(const char *rel, mode_t type, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat	st;

	cr_assert_eq(fstatat(treefd, rel, &st, AT_SYMLINK_NOFOLLOW), 0,
	    "stat %s: %s", rel, strerror(errno));
	cr_assert_eq(st.st_mode & S_IFMT, type, "%s: type %o, want %o", rel,
	    (unsigned)(st.st_mode & S_IFMT), (unsigned)type);
	cr_assert_eq(st.st_mode & 07777, mode, "%s: mode %o, want %o", rel,
	    (unsigned)(st.st_mode & 07777), (unsigned)mode);
	cr_assert_eq(st.st_uid, uid, "%s: uid %lu, want %lu", rel,
	    (unsigned long)st.st_uid, (unsigned long)uid);
	cr_assert_eq(st.st_gid, gid, "%s: gid %lu, want %lu", rel,
	    (unsigned long)st.st_gid, (unsigned long)gid);
}

static int
exists(const char *rel)
{
	struct stat	st;

	return fstatat(treefd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Number of entries in a directory of the tree, "." and ".." excluded. */
static int
count_entries(const char *rel)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, n = 0;

	fd = openat(treefd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_neq(fd, -1, "open %s: %s", rel, strerror(errno));
	d = fdopendir(fd);
	cr_assert_not_null(d);
	/* keyadm's lock file (safefs_lock) is not an entry of interest */
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, SAFEFS_LOCK_NAME) != 0)
			n++;
	(void)closedir(d);
	return n;
}

static void
abspath(char *out, size_t outlen, const char *rel)
{
	cr_assert_lt((size_t)snprintf(out, outlen, "%s/%s", tree, rel),
	    outlen);
}

static struct stat
lstat_of(const char *rel)
{
	struct stat	st;

	cr_assert_eq(fstatat(treefd, rel, &st, AT_SYMLINK_NOFOLLOW), 0,
	    "stat %s: %s", rel, strerror(errno));
	return st;
}

/* rel is the very file it was (same inode, size, mtime and ctime). */
static void
assert_untouched(const char *rel, const struct stat *was)
{
	struct stat	now = lstat_of(rel);

	cr_assert_eq(now.st_ino, was->st_ino, "%s was replaced", rel);
	cr_assert_eq(now.st_size, was->st_size, "%s changed size", rel);
	cr_assert_eq(now.st_mode, was->st_mode, "%s changed mode", rel);
	cr_assert(now.st_mtim.tv_sec == was->st_mtim.tv_sec &&
	    now.st_mtim.tv_nsec == was->st_mtim.tv_nsec, "%s written", rel);
	cr_assert(now.st_ctim.tv_sec == was->st_ctim.tv_sec &&
	    now.st_ctim.tv_nsec == was->st_ctim.tv_nsec, "%s changed", rel);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec	t1;

	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* --- helpers: keys and revfile ----------------------------------------- */

/* Decode a base64 key into out; its length. */
static size_t
blob_of(const char *b64, unsigned char *out, size_t outcap)
{
	long	n;

	n = b64_decode(b64, strlen(b64), out, outcap);
	cr_assert_gt(n, 0, "bad base64 in the test: %s", b64);
	return (size_t)n;
}

static int
contains(const char *b64)
{
	unsigned char	blob[1024];
	size_t		len;

	len = blob_of(b64, blob, sizeof(blob));
	return revfile_contains(&rf, blob, len);
}

static size_t
remove_key(const char *b64)
{
	unsigned char	blob[1024];
	size_t		len;

	len = blob_of(b64, blob, sizeof(blob));
	return revfile_remove(&rf, blob, len);
}

static void
open_ok(const char *path, int create)
{
	int	r;

	revfile_close(&rf);
	msg[0] = '\0';
	r = revfile_open(&rf, treefd, "", path, create, LOCK_MS, msg,
	    sizeof(msg));
	cr_assert_eq(r, 0, "revfile_open %s: %d (%s)", path, r, msg);
	cr_assert_not_null(rf.ak);
}

/* revfile_open must fail with code and exactly want (if not NULL). */
static void
open_fails(const char *path, int create, int code, const char *want)
{
	int	r;

	revfile_close(&rf);
	msg[0] = '\0';
	r = revfile_open(&rf, treefd, "", path, create, LOCK_MS, msg,
	    sizeof(msg));
	cr_assert_eq(r, code, "revfile_open %s (create %d): %d, want %d (%s)",
	    path, create, r, code, msg);
	if (want != NULL)
		cr_assert_str_eq(msg, want);
	revfile_close(&rf);
}

static void
add_ok(const char *type, const char *b64, int want)
{
	int	r;

	r = revfile_add(&rf, type, b64);
	cr_assert_eq(r, want, "revfile_add %s: %d, want %d", type, r, want);
}

static void
write_ok(void)
{
	int	r;

	msg[0] = '\0';
	r = revfile_write(&rf, msg, sizeof(msg));
	cr_assert_eq(r, 0, "revfile_write: %d (%s)", r, msg);
	cr_assert_str_eq(msg, "", "a warning on a plain write: %s", msg);
}

static const char *
rendered(void)
{
	static char	copy[64 * 1024];
	char		*out = NULL;
	size_t		 len = 0;

	cr_assert_eq(revfile_render(&rf, &out, &len), 0);
	cr_assert_not_null(out);
	cr_assert_lt(len, sizeof(copy));
	cr_assert_eq(strlen(out), len);
	memcpy(copy, out, len + 1);
	free(out);
	return copy;
}

/* The text is what sshd reads: LF lines, each blank, '#' or "type b64". */
static void
assert_clean_list(const char *text, size_t len)
{
	const char	*p = text, *nl, *sp;

	cr_assert_gt(len, 0);
	cr_assert_eq(text[len - 1], '\n', "does not end in a newline");
	cr_assert_null(memchr(text, '\r', len), "a CR in the file");
	cr_assert_null(memchr(text, '\0', len), "a NUL in the file");
	for (; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(text + len - p));
		cr_assert_not_null(nl);
		if (*p == '#' || p == nl)
			continue;
		/* a key: exactly two fields, no options, no comment */
		sp = memchr(p, ' ', (size_t)(nl - p));
		cr_assert_not_null(sp, "%.*s", (int)(nl - p), p);
		cr_assert_null(memchr(sp + 1, ' ', (size_t)(nl - sp - 1)),
		    "%.*s", (int)(nl - p), p);
		cr_assert_null(memchr(p, '\t', (size_t)(nl - p)));
	}
}

/* --- helpers: running OpenSSH ------------------------------------------ */

/*
 * Run argv (absolute path first) with stdin from /dev/null and stdout and
 * stderr into the tree file outrel; the exit status, or 128 + signal.
 * The child gets an alarm so nothing outlives RUN_TIMEOUT_S.
 */
static int
run(const char *const *argv, const char *outrel)
{
	char	*v[64];
	pid_t	 pid;
	int	 st, fd, i;

	for (i = 0; argv[i] != NULL; i++)
		cr_assert_lt(i, 63);
	pid = fork();
	cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		for (i = 0; argv[i] != NULL; i++)
			v[i] = strdup(argv[i]);
		v[i] = NULL;
		fd = openat(treefd, outrel, O_WRONLY | O_CREAT | O_TRUNC |
		    O_NOFOLLOW, 0600);
		if (fd == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(126);
		if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(fd, 0) == -1)
			_exit(126);
		(void)alarm(RUN_TIMEOUT_S);
		(void)execv(v[0], v);
		(void)dprintf(2, "exec %s: %s\n", v[0], strerror(errno));
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* ssh-keygen a key pair at the tree file rel (and rel.pub). */
static void
keygen(const char *rel, const char *type, const char *bits,
    const char *comment)
{
	char		 path[PATH_MAX];
	const char	*argv[] = { SSH_KEYGEN, "-q", "-t", type, "-N", "",
			    "-C", comment, "-f", path, "-b", bits, NULL };

	abspath(path, sizeof(path), rel);
	if (bits == NULL)
		argv[10] = NULL;
	cr_assert_eq(run(argv, "keygen.out"), 0, "ssh-keygen -t %s: %s",
	    type, get("keygen.out"));
}

/* The type and base64 fields of the tree's .pub file rel. */
static void
pub_fields(const char *rel, char *type, size_t typelen, char *b64,
    size_t b64len)
{
	const char	*s = get(rel), *sp1, *sp2;

	sp1 = strchr(s, ' ');
	cr_assert_not_null(sp1, "%s: %s", rel, s);
	sp2 = sp1 + strcspn(sp1 + 1, " \n") + 1;
	cr_assert_lt((size_t)(sp1 - s), typelen);
	cr_assert_lt((size_t)(sp2 - sp1 - 1), b64len);
	memcpy(type, s, (size_t)(sp1 - s));
	type[sp1 - s] = '\0';
	memcpy(b64, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	b64[sp2 - sp1 - 1] = '\0';
}

/* List the key of the tree's .pub file rel in the open revfile. */
static void
add_pub(const char *rel)
{
	char	type[64], b64[4096];

	pub_fields(rel, type, sizeof(type), b64, sizeof(b64));
	add_ok(type, b64, 0);
}

/* Unlist it: exactly one line goes. */
static void
remove_pub(const char *rel)
{
	char	type[64], b64[4096];

	pub_fields(rel, type, sizeof(type), b64, sizeof(b64));
	cr_assert_eq(remove_key(b64), 1);
}

/*
 * sshd's own files in the tree: a host key, an AuthorizedKeysFile listing
 * every .pub given (NULL-terminated) and a configuration whose RevokedKeys
 * is the tree's /etc/ssh/revoked_keys.
 */
static void
sshd_setup(const char *const *pubs)
{
	char	conf[4 * PATH_MAX + 1024], hk[PATH_MAX], ak[PATH_MAX];
	char	rk[PATH_MAX], all[64 * 1024];
	size_t	i, n = 0, l;

	if (!exists("sshd"))
		mkdir_own("sshd", 0700, 0, 0);
	keygen("sshd/host_key", "ed25519", NULL, "host");
	for (i = 0; pubs[i] != NULL; i++) {
		const char *s = get(pubs[i]);

		l = strlen(s);
		cr_assert_lt(n + l, sizeof(all));
		memcpy(all + n, s, l);
		n += l;
	}
	all[n] = '\0';
	put_bytes("sshd/authorized_keys", all, n, 0600, 0, 0);
	abspath(hk, sizeof(hk), "sshd/host_key");
	abspath(ak, sizeof(ak), "sshd/authorized_keys");
	abspath(rk, sizeof(rk), RK_REL);
	cr_assert_lt((size_t)snprintf(conf, sizeof(conf),
	    "HostKey %s\n"
	    "AuthorizedKeysFile %s\n"
	    "RevokedKeys %s\n"
	    "AuthenticationMethods publickey\n"
	    "PubkeyAuthentication yes\n"
	    "PasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\n"
	    "PermitRootLogin prohibit-password\n"
	    "StrictModes no\n"
	    "UsePAM no\n"
	    "UseDNS no\n"
	    "PrintMotd no\n"
	    "PrintLastLog no\n"
	    "LogLevel VERBOSE\n", hk, ak, rk), sizeof(conf));
	put_bytes("sshd/sshd_config", conf, strlen(conf), 0600, 0, 0);
}

/*
 * ssh as root with the private key at the tree file keyrel to an sshd -i
 * started as the ProxyCommand; sshd's log goes to sshd/log.  Exit status
 * of ssh; its output is in the tree file "ssh.out".
 */
static int
ssh_login(const char *keyrel)
{
	char		 key[PATH_MAX], conf[PATH_MAX], log[PATH_MAX];
	char		 proxy[3 * PATH_MAX + 64];
	const char	*argv[] = { SSH, "-F", "none", "-i", key,
			    "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
			    "-o", "StrictHostKeyChecking=no",
			    "-o", "UserKnownHostsFile=/dev/null",
			    "-o", "GlobalKnownHostsFile=/dev/null",
			    "-o", "LogLevel=ERROR", "-o", proxy,
			    "root@revfile-test", "echo logged-in", NULL };

	abspath(key, sizeof(key), keyrel);
	abspath(conf, sizeof(conf), "sshd/sshd_config");
	abspath(log, sizeof(log), "sshd/log");
	put_bytes("sshd/log", "", 0, 0600, 0, 0);
	cr_assert_lt((size_t)snprintf(proxy, sizeof(proxy),
	    "ProxyCommand=" SSHD " -i -f %s -E %s", conf, log),
	    sizeof(proxy));
	return run(argv, "ssh.out");
}

/* sshd must let keyrel in: the whole revoked-keys file parsed. */
static void
assert_sshd_admits(const char *keyrel)
{
	int	r;

	r = ssh_login(keyrel);
	cr_assert_eq(r, 0, "sshd refused %s (ssh exit %d): %s\nsshd log:\n%s",
	    keyrel, r, get("ssh.out"), get("sshd/log"));
	cr_assert_str_eq(get("ssh.out"), "logged-in\n");
}

/* sshd must refuse keyrel, saying the revoked-keys file revoked it. */
static void
assert_sshd_revoked(const char *keyrel)
{
	char	rk[PATH_MAX], want[PATH_MAX + 64];
	int	r;

	abspath(rk, sizeof(rk), RK_REL);
	cr_assert_lt((size_t)snprintf(want, sizeof(want), "revoked by file "
	    "%s", rk), sizeof(want));
	r = ssh_login(keyrel);
	cr_assert_eq(r, 255, "sshd let %s in (ssh exit %d): %s", keyrel, r,
	    get("ssh.out"));
	cr_assert_not_null(strstr(get("sshd/log"), want),
	    "%s not refused as revoked: %s\nsshd log:\n%s", keyrel,
	    get("ssh.out"), get("sshd/log"));
}

/* --- paths refused before anything is opened (any user) --------------- */

Test(revfile, path_must_name_a_file_by_absolute_path)
{
	static const char *const bad[] = {
		"etc/ssh/revoked_keys", "revoked_keys", "", "/", "/etc/ssh/",
		"/etc/ssh/.", "/etc/ssh/..",
	};
	char	want[256];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(want, sizeof(want), "%s: not a path keyadm can "
		    "use for revoked_keys_file", bad[i]);
		open_fails(bad[i], 1, KE_CONFIG, want);
		cr_assert_eq(rf.dirfd, -1);
	}
	cr_assert_eq(count_entries("."), 0);
}

/* The walk's "/" itself must be root's. */
Test(revfile, tree_not_roots_refused)
{
	char	want[128];

	if (geteuid() == 0)
		cr_assert_eq(fchown(treefd, OTHER_UID, OTHER_GID), 0);
	(void)snprintf(want, sizeof(want), "/: owned by uid %lu, expected "
	    "root", geteuid() == 0 ? (unsigned long)OTHER_UID :
	    (unsigned long)geteuid());
	open_fails(RK, 1, KE_UNSAFE, want);
	open_fails("/revoked_keys", 1, KE_UNSAFE, want);
	cr_assert_eq(count_entries("."), 0);
}

Test(revfile, close_twice_keeps_errno)
{
	revfile_close(&rf);
	errno = EXDEV;
	revfile_close(&rf);
	cr_assert_eq(errno, EXDEV);
	cr_assert_eq(rf.dirfd, -1);
	cr_assert_null(rf.ak);
}

/* --- opening: directories ---------------------------------------------- */

Test(revfile_root, create_makes_last_directory_root_0755)
{
	NEED_ROOT();
	umask(077);		/* the modes are set, not left to umask */
	mkdir_own("etc", 0755, 0, 0);
	open_ok(RK, 1);
	cr_assert_neq(rf.dirfd, -1);
	cr_assert_eq(rf.existed, 0);
	assert_node("etc/ssh", S_IFDIR, 0755, 0, 0);
	cr_assert(!exists(RK_REL), "open alone wrote the file");
	cr_assert_str_eq(rf.name, "revoked_keys");
	cr_assert_str_eq(rf.disp, RK);
}

Test(revfile_root, look_only_missing_directory_reads_empty)
{
	int	r;

	NEED_ROOT();
	mkdir_own("etc", 0755, 0, 0);
	open_ok(RK, 0);
	cr_assert_eq(rf.dirfd, -1);
	cr_assert_eq(rf.existed, 0);
	cr_assert_eq(contains(ED1), 0);
	cr_assert(!exists("etc/ssh"), "a look created the directory");
	/* and it cannot be written */
	add_ok("ssh-ed25519", ED1, 0);
	r = revfile_write(&rf, msg, sizeof(msg));
	cr_assert_eq(r, KE_INTERNAL, "%d (%s)", r, msg);
	cr_assert_str_eq(msg, RK ": not open for writing");
	revfile_close(&rf);
	cr_assert(!exists("etc/ssh"));
	cr_assert_eq(count_entries("etc"), 0);
}

Test(revfile_root, missing_parent_fails_to_create_reads_empty)
{
	NEED_ROOT();
	open_fails(RK, 1, KE_CANTCREATE, "/etc: no such file or directory");
	cr_assert_eq(count_entries("."), 0);
	/* looking only: no directory holds no keys, and nothing is made */
	open_ok(RK, 0);
	cr_assert_eq(rf.dirfd, -1);
	cr_assert_eq(contains(ED1), 0);
	revfile_close(&rf);
	cr_assert_eq(count_entries("."), 0);
}

Test(revfile_root, missing_file_reads_empty_and_is_not_created)
{
	NEED_ROOT();
	etc_ssh();
	open_ok(RK, 0);
	cr_assert_neq(rf.dirfd, -1);
	cr_assert_eq(rf.existed, 0);
	cr_assert_eq(rf.st.st_ino, 0);
	cr_assert_eq(contains(ED1), 0);
	cr_assert_str_eq(rendered(), HEADER);
	revfile_close(&rf);
	open_ok(RK, 1);
	revfile_close(&rf);
	cr_assert_eq(count_entries("etc/ssh"), 0);
}

Test(revfile_root, file_in_the_root_directory)
{
	NEED_ROOT();
	open_ok("/revoked_keys", 1);
	add_ok("ssh-ed25519", ED1, 0);
	write_ok();
	revfile_close(&rf);
	assert_node("revoked_keys", S_IFREG, 0644, 0, 0);
	cr_assert_str_eq(get("revoked_keys"), HEADER "ssh-ed25519 " ED1 "\n");
}

Test(revfile_root, display_prefix_in_messages)
{
	int	r;

	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "garbage\n");
	r = revfile_open(&rf, treefd, "/srv/img", RK, 1, LOCK_MS, msg,
	    sizeof(msg));
	cr_assert_eq(r, KE_CONFIG, "%d (%s)", r, msg);
	cr_assert_str_eq(rf.disp, "/srv/img" RK);
	cr_assert_str_eq(msg, "/srv/img" RK ": line 1" BAD_LINE_TAIL);
}

/* --- new file ---------------------------------------------------------- */

Test(revfile_root, new_file_header_then_bare_key_lines)
{
	const char	*want = HEADER
			    "ssh-ed25519 " ED1 "\n"
			    "ecdsa-sha2-nistp256 " EC1 "\n"
			    "ssh-rsa " RSA1 "\n";
	const char	*text;
	size_t		 len;

	NEED_ROOT();
	umask(077);
	etc_ssh();
	open_ok(RK, 1);
	add_ok("ssh-ed25519", ED1, 0);
	add_ok("ecdsa-sha2-nistp256", EC1, 0);
	add_ok("ssh-rsa", RSA1, 0);
	cr_assert_str_eq(rendered(), want);
	write_ok();
	revfile_close(&rf);
	assert_node(RK_REL, S_IFREG, 0644, 0, 0);
	text = get_bytes(RK_REL, &len);
	cr_assert_str_eq(text, want);
	assert_clean_list(text, len);
	cr_assert(!exists(RK_TMP_REL), "a temporary was left");
	cr_assert_eq(count_entries("etc/ssh"), 1);
	/* read back: every key listed, nothing else */
	open_ok(RK, 0);
	cr_assert_eq(rf.existed, 1);
	cr_assert_eq(contains(ED1), 1);
	cr_assert_eq(contains(EC1), 1);
	cr_assert_eq(contains(RSA1), 1);
	cr_assert_eq(contains(ED2), 0);
	cr_assert_str_eq(rendered(), want);
}

Test(revfile_root, add_same_key_twice_writes_one_line)
{
	NEED_ROOT();
	etc_ssh();
	open_ok(RK, 1);
	cr_assert_eq(contains(ED1), 0);
	add_ok("ssh-ed25519", ED1, 0);
	cr_assert_eq(contains(ED1), 1);
	add_ok("ssh-ed25519", ED1, 1);
	write_ok();
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), HEADER "ssh-ed25519 " ED1 "\n");
	/* and again on the next run, against the line in the file */
	open_ok(RK, 1);
	add_ok("ssh-ed25519", ED1, 1);
	cr_assert_str_eq(rendered(), HEADER "ssh-ed25519 " ED1 "\n");
}

/* A line already there with a comment is the same key. */
Test(revfile_root, add_finds_a_listed_key_with_comment)
{
	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "  ssh-ed25519 " ED1 " gone@example\n");
	open_ok(RK, 1);
	cr_assert_eq(contains(ED1), 1);
	add_ok("ssh-ed25519", ED1, 1);
	cr_assert_str_eq(rendered(), "  ssh-ed25519 " ED1 " gone@example\n");
}

Test(revfile_root, remove_removes_every_copy)
{
	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "# by hand\n"
	    "ssh-ed25519 " ED1 " first\n"
	    "ssh-ed25519 " ED2 " other\n"
	    "\tssh-ed25519 " ED1 " second copy\n"
	    "ssh-ed25519 " ED1 "\n");
	open_ok(RK, 1);
	cr_assert_eq(contains(ED1), 1);
	cr_assert_eq(remove_key(ED1), 3);
	cr_assert_eq(contains(ED1), 0);
	cr_assert_eq(contains(ED2), 1);
	cr_assert_eq(remove_key(ED1), 0);
	cr_assert_eq(remove_key(EC1), 0);
	write_ok();
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), "# by hand\n"
	    "ssh-ed25519 " ED2 " other\n");
	open_ok(RK, 0);
	cr_assert_eq(contains(ED1), 0);
	cr_assert_eq(contains(ED2), 1);
}

Test(revfile_root, remove_from_a_new_file_leaves_the_header)
{
	NEED_ROOT();
	etc_ssh();
	open_ok(RK, 1);
	add_ok("ssh-ed25519", ED1, 0);
	add_ok("ssh-ed25519", ED2, 0);
	cr_assert_eq(remove_key(ED1), 1);
	cr_assert_eq(contains(ED1), 0);
	cr_assert_str_eq(rendered(), HEADER "ssh-ed25519 " ED2 "\n");
	cr_assert_eq(remove_key(ED2), 1);
	write_ok();
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), HEADER);
}

/* OpenSSH's dsa_1.pub test key (shared/vectors/openssh-sshkey). */
#define DSA1	\
	"AAAAB3NzaC1kc3MAAACBAPqS600VGwdPAQC/p3f0uGyrLVql0cFn1zYd/JGvtabK" \
	"nIYjLaYprje/NcjwI3CZFJiz4Dp3S8kLs+X5/1DMn/Tg1Y4D4yLB+6vCtHcJF7rV" \
	"BFhvw/KZwc7G54ez3khyOtsg82fzpyOc8/mq+/+C5TMKO7DDjMF0k5emWKCsa3Zf" \
	"AAAAFQCjA/+dKkMu4/CWjJPtfl7YNaStNQAAAIEA7uX1BVVtJKjLmWrpw62+l/xS" \
	"XA5rr7MHBuWjiCYV3VHBfXJaQDyRDtGuEJKDwdzqYgacpGApGWL/cuBtJ9nShsUl" \
	"6GRG0Ra03g+Hx9VR5LviJBsjAVB4qVgciU1NGga0Bt2Lecd1X4EGQRBzVXeuOpiq" \
	"GM6jP/I2yDMs0Pboet0AAACBAOdXpyfmobEBaOqZAuvgj1P0uhjG2P31Ufurv22F" \
	"WPBU3A9qrkxbOXwE0LwvjCvrsQV/lrYhJz/tiys40VeahulWZE5SAHMXGIf95LiL" \
	"SgaXMjko7joot+LK84ltLymwZ4QMnYjnZSSclf1UuyQMcUtb34+I0u9Ycnyhp2mS" \
	"FsQt"

Test(revfile_root, add_refuses_what_is_not_a_key)
{
	size_t	n;

	NEED_ROOT();
	etc_ssh();
	open_ok(RK, 1);
	n = rf.ak->n;
	add_ok("ssh-ed25519", "not base64!", KE_INTERNAL);
	add_ok("ssh-ed25519", "", KE_INTERNAL);
	add_ok("no-such-type", ED1, KE_MALFORMED);
	add_ok("no-pty ssh-ed25519", ED1, KE_MALFORMED);
	/* shaped like a key, but not one of that type: never written */
	add_ok("ssh-rsa", ED1, KE_POLICY);
	/* DSA: an OpenSSH without it would fail on the whole file */
	add_ok("ssh-dss", DSA1, KE_POLICY);
	cr_assert_eq(rf.ak->n, n);
	cr_assert_str_eq(rendered(), HEADER);
}

/* --- an existing file is kept ------------------------------------------ */

Test(revfile_root, kept_file_byte_for_byte_apart_from_the_added_line)
{
	const char	*old = "# Revoked by hand, 2024\n"
			    "\n"
			    "   \n"
			    "\t# indented comment\n"
			    "ssh-ed25519 " ED2 " bob@old-laptop (lost)\n"
			    "#ssh-ed25519 " ED1 " commented out\n"
			    "  ssh-rsa " RSA1 "   carol   2019  \n"
			    "\n";
	char		 want[8192];
	const char	*text;
	size_t		 len;

	NEED_ROOT();
	etc_ssh();
	put(RK_REL, old);
	open_ok(RK, 1);
	cr_assert_eq(rf.existed, 1);
	cr_assert_eq(contains(ED2), 1);
	cr_assert_eq(contains(RSA1), 1);
	cr_assert_eq(contains(ED1), 0, "a commented-out key counted");
	cr_assert_str_eq(rendered(), old);
	add_ok("ecdsa-sha2-nistp256", EC1, 0);
	write_ok();
	revfile_close(&rf);
	(void)snprintf(want, sizeof(want), "%secdsa-sha2-nistp256 %s\n", old,
	    EC1);
	text = get_bytes(RK_REL, &len);
	cr_assert_eq(len, strlen(want));
	cr_assert_str_eq(text, want);
	assert_node(RK_REL, S_IFREG, 0644, 0, 0);
}

Test(revfile_root, last_line_without_newline_gets_one)
{
	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "# hand\nssh-ed25519 " ED2 " bob");
	open_ok(RK, 1);
	add_ok("ssh-ed25519", ED1, 0);
	write_ok();
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), "# hand\nssh-ed25519 " ED2 " bob\n"
	    "ssh-ed25519 " ED1 "\n");
}

Test(revfile_root, last_line_without_newline_gets_one_on_any_write)
{
	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "# only\n# two");
	open_ok(RK, 1);
	write_ok();
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), "# only\n# two\n");
	/* and after removing the last line */
	put(RK_REL, "# hand\nssh-ed25519 " ED1);
	open_ok(RK, 1);
	cr_assert_eq(remove_key(ED1), 1);
	write_ok();
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), "# hand\n");
}

Test(revfile_root, empty_existing_file_gets_no_header)
{
	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "");
	open_ok(RK, 1);
	cr_assert_eq(rf.existed, 1);
	add_ok("ssh-ed25519", ED1, 0);
	write_ok();
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), "ssh-ed25519 " ED1 "\n");
}

Test(revfile_root, rewrite_makes_file_root_0644)
{
	NEED_ROOT();
	etc_ssh();
	put_bytes(RK_REL, "# x\n", 4, 0600, 0, OTHER_GID);
	open_ok(RK, 1);
	add_ok("ssh-ed25519", ED1, 0);
	write_ok();
	revfile_close(&rf);
	assert_node(RK_REL, S_IFREG, 0644, 0, 0);
	put_bytes(RK_REL, "# x\n", 4, 0400, 0, 0);
	open_ok(RK, 1);
	write_ok();
	revfile_close(&rf);
	assert_node(RK_REL, S_IFREG, 0644, 0, 0);
}

/* --- refusals: a file keyadm cannot vouch for is left alone ------------ */

Test(revfile_root, refuses_binary_krl)
{
	char		 krl[PATH_MAX], pub[PATH_MAX];
	const char	*argv[] = { SSH_KEYGEN, "-k", "-f", krl, pub, NULL };
	struct stat	 was;
	const char	*text;
	size_t		 len;
	int		 r;

	NEED_ROOT();
	if (access(SSH_KEYGEN, X_OK) != 0) {
		teardown();
		cr_skip_test("needs " SSH_KEYGEN);
	}
	etc_ssh();
	put("ed1.pub", "ssh-ed25519 " ED1 " test\n");
	abspath(krl, sizeof(krl), RK_REL);
	abspath(pub, sizeof(pub), "ed1.pub");
	r = run(argv, "keygen.out");
	cr_assert_eq(r, 0, "ssh-keygen -k: %d: %s", r, get("keygen.out"));
	cr_assert_eq(fchmodat(treefd, RK_REL, 0644, 0), 0);
	text = get_bytes(RK_REL, &len);
	cr_assert_geq(len, 8);
	cr_assert_eq(memcmp(text, "SSHKRL\n\0", 8), 0, "not a KRL");
	was = lstat_of(RK_REL);
	open_fails(RK, 1, KE_CONFIG, RK ": a binary KRL: keyadm keeps a "
	    "text list; point revoked_keys_file at a file of its own");
	open_fails(RK, 0, KE_CONFIG, NULL);
	assert_untouched(RK_REL, &was);
	cr_assert_eq(count_entries("etc/ssh"), 1);
}

/* One file revfile must refuse, and the line it must name. */
#define NUL_FILE	"# ha\0nd\nssh-ed25519 " ED1 "\n"
struct badfile {
	char	name[48];
	char	text[400];
	size_t	len;		/* 0: strlen(text) */
	int	line;
};

static void
refuse_file(const struct badfile *b)
{
	struct stat	 was;
	char		 want[256];
	size_t		 len = b->len ? b->len : strlen(b->text);
	int		 create;

	etc_ssh();
	put_bytes(RK_REL, b->text, len, 0644, 0, 0);
	was = lstat_of(RK_REL);
	(void)snprintf(want, sizeof(want), RK ": line %d" BAD_LINE_TAIL,
	    b->line);
	for (create = 1; create >= 0; create--) {
		revfile_close(&rf);
		msg[0] = '\0';
		cr_assert_eq(revfile_open(&rf, treefd, "", RK, create,
		    LOCK_MS, msg, sizeof(msg)), KE_CONFIG,
		    "%s: accepted (create %d): %s", b->name, create, msg);
		cr_assert_str_eq(msg, want, "%s", b->name);
	}
	revfile_close(&rf);
	assert_untouched(RK_REL, &was);
	cr_assert_eq(count_entries("etc/ssh"), 1);
}

ParameterizedTestParameters(revfile_root, refuses_bad_line)
{
	static struct badfile	bad[] = {
		{ "options", "# hand\nno-pty ssh-ed25519 " ED1 " x\n", 0, 2 },
		{ "quoted options", "command=\"/bin/echo a b\" ssh-ed25519 "
		    ED1 "\n", 0, 1 },
		{ "marker", "@revoked ssh-ed25519 " ED1 "\n", 0, 1 },
		{ "garbage", "# hand\n\nhello world\n", 0, 3 },
		{ "garbage without newline", "# hand\nhello", 0, 2 },
		{ "garbage after keys", "ssh-ed25519 " ED1 "\nssh-ed25519 "
		    ED2 "\n%%%\n", 0, 3 },
		{ "CR after a key", "# hand\nssh-ed25519 " ED1 " x\r\n", 0, 2 },
		{ "CR in a comment", "# hand\r\nssh-ed25519 " ED1 "\n", 0, 1 },
		{ "CR alone", "# hand\n\r\n", 0, 2 },
		{ "NUL in a comment", NUL_FILE, sizeof(NUL_FILE) - 1, 1 },
		{ "byte order mark", "\xef\xbb\xbf# hand\n", 0, 1 },
		{ "vertical tab", "\v# hand\n", 0, 1 },
		{ "unknown key type", "ssh-foo " ED1 "\n", 0, 1 },
		{ "type word alone", "ssh-ed25519\n", 0, 1 },
		{ "bad base64", "ssh-ed25519 AAAA!!!!\n", 0, 1 },
		{ "unpadded base64", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AA\n",
		    0, 1 },
	};

	return cr_make_param_array(struct badfile, bad,
	    sizeof(bad) / sizeof(bad[0]));
}

ParameterizedTest(struct badfile *b, revfile_root, refuses_bad_line)
{
	NEED_ROOT();
	refuse_file(b);
}

/*
 * Key lines whose type word and base64 look right but whose blob is not a
 * key of that type.  sshd fails on each ("invalid format", "key type does
 * not match", "incomplete message") and then refuses every key: see
 * revfile_sshd/sshd_reads_every_file_revfile_accepts.
 */
static struct badfile	bad_blobs[] = {
	{ "blob of three bytes", "# hand\nssh-ed25519 AAAA\n", 0, 2 },
	{ "blob of the type name only", "# hand\nssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5 x\n", 0, 2 },
	{ "type mismatch", "# hand\nssh-rsa " ED1 "\n", 0, 2 },
	{ "trailing bytes", "# hand\nssh-ed25519 " ED1_JUNK "\n", 0, 2 },
	{ "truncated key", "# hand\nssh-ed25519 " ED1_CUT "\n", 0, 2 },
};

ParameterizedTestParameters(revfile_root, refuses_key_line_sshd_cannot_read)
{
	return cr_make_param_array(struct badfile, bad_blobs,
	    sizeof(bad_blobs) / sizeof(bad_blobs[0]));
}

ParameterizedTest(struct badfile *b, revfile_root,
    refuses_key_line_sshd_cannot_read)
{
	NEED_ROOT();
	refuse_file(b);
}

Test(revfile_root, refuses_too_many_lines)
{
	struct stat	 was;
	char		*big;
	size_t		 n = AUTHKEYS_LINES_MAX + 1;

	NEED_ROOT();
	etc_ssh();
	big = malloc(n);
	cr_assert_not_null(big);
	memset(big, '\n', n);
	put_bytes(RK_REL, big, n, 0644, 0, 0);
	free(big);
	was = lstat_of(RK_REL);
	open_fails(RK, 1, KE_CONFIG, RK ": too large to edit");
	assert_untouched(RK_REL, &was);
}

Test(revfile_root, refuses_too_large_file)
{
	struct stat	was;
	char		want[128];
	int		fd;

	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "# big\n");
	fd = openat(treefd, RK_REL, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	cr_assert_neq(fd, -1);
	cr_assert_eq(ftruncate(fd, (off_t)AUTHKEYS_MAX + 1), 0);
	(void)close(fd);
	was = lstat_of(RK_REL);
	(void)snprintf(want, sizeof(want), RK ": larger than %zu bytes",
	    (size_t)AUTHKEYS_MAX);
	open_fails(RK, 1, KE_UNSAFE, want);
	assert_untouched(RK_REL, &was);
}

/* The rendered text is checked again before anything is written. */
Test(revfile_root, write_checks_rendered_lines)
{
	struct stat	was;
	int		r;

	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "# hand\n");
	was = lstat_of(RK_REL);
	open_ok(RK, 1);
	/* a line revfile_add cannot make, put there behind its back */
	cr_assert_eq(authkeys_append(rf.ak, "no-pty", "ssh-ed25519", ED1,
	    NULL), 0);
	r = revfile_write(&rf, msg, sizeof(msg));
	cr_assert_eq(r, KE_INTERNAL, "%d (%s)", r, msg);
	cr_assert_str_eq(msg, RK ": would not read back as a list of keys; "
	    "left as it was");
	revfile_close(&rf);
	assert_untouched(RK_REL, &was);
	cr_assert_str_eq(get(RK_REL), "# hand\n");
	cr_assert_eq(count_entries("etc/ssh"), 1);
}

/* --- unsafe paths ------------------------------------------------------ */

Test(revfile_root, unsafe_parent_owned_by_a_user)
{
	NEED_ROOT();
	mkdir_own("etc", 0755, OTHER_UID, OTHER_GID);
	mkdir_own("etc/ssh", 0755, 0, 0);
	open_fails(RK, 1, KE_UNSAFE, "/etc: owned by uid 4242, expected "
	    "root");
	open_fails(RK, 0, KE_UNSAFE, NULL);
	cr_assert_eq(count_entries("etc/ssh"), 0);
}

Test(revfile_root, unsafe_parent_group_writable)
{
	NEED_ROOT();
	mkdir_own("etc", 0775, 0, OTHER_GID);
	open_fails(RK, 1, KE_UNSAFE, "/etc: writable by group");
	cr_assert_eq(count_entries("etc"), 0, "made etc/ssh in an unsafe etc");
}

Test(revfile_root, unsafe_root_of_tree_world_writable)
{
	NEED_ROOT();
	etc_ssh();
	cr_assert_eq(fchmod(treefd, 01777), 0);
	open_fails(RK, 1, KE_UNSAFE, "/: writable by group and others");
	cr_assert_eq(count_entries("etc/ssh"), 0);
}

Test(revfile_root, unsafe_directory_owned_by_a_user)
{
	NEED_ROOT();
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/ssh", 0755, OTHER_UID, OTHER_GID);
	put(RK_REL, "# x\n");
	open_fails(RK, 1, KE_UNSAFE, "/etc/ssh: owned by uid 4242, expected "
	    "root");
	open_fails(RK, 0, KE_UNSAFE, "/etc/ssh: owned by uid 4242, expected "
	    "root");
	cr_assert_str_eq(get(RK_REL), "# x\n");
	cr_assert_eq(count_entries("etc/ssh"), 1);
}

Test(revfile_root, unsafe_directory_other_writable)
{
	NEED_ROOT();
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/ssh", 0757, 0, 0);
	open_fails(RK, 1, KE_UNSAFE, "/etc/ssh: writable by others");
	open_fails(RK, 0, KE_UNSAFE, "/etc/ssh: writable by others");
	cr_assert_eq(count_entries("etc/ssh"), 0);
}

Test(revfile_root, unsafe_directory_group_writable)
{
	NEED_ROOT();
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/ssh", 0775, 0, OTHER_GID);
	open_fails(RK, 1, KE_UNSAFE, "/etc/ssh: writable by group");
	cr_assert_eq(count_entries("etc/ssh"), 0);
}

Test(revfile_root, unsafe_file_owned_by_a_user)
{
	NEED_ROOT();
	etc_ssh();
	put_bytes(RK_REL, "# x\n", 4, 0644, OTHER_UID, OTHER_GID);
	open_fails(RK, 1, KE_UNSAFE, RK ": owned by uid 4242, expected root");
	assert_node(RK_REL, S_IFREG, 0644, OTHER_UID, OTHER_GID);
	cr_assert_str_eq(get(RK_REL), "# x\n");
}

Test(revfile_root, unsafe_file_group_writable)
{
	NEED_ROOT();
	etc_ssh();
	put_bytes(RK_REL, "# x\n", 4, 0664, 0, OTHER_GID);
	open_fails(RK, 1, KE_UNSAFE, RK ": writable by group");
	cr_assert_str_eq(get(RK_REL), "# x\n");
}

Test(revfile_root, path_with_dotdot_refused)
{
	NEED_ROOT();
	etc_ssh();
	open_fails("/etc/../etc/ssh/revoked_keys", 1, KE_UNSAFE, NULL);
	cr_assert_eq(count_entries("etc/ssh"), 0);
}

Test(revfile_root, symlinked_directory_refused)
{
	NEED_ROOT();
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/elsewhere", 0755, 0, 0);
	put("etc/elsewhere/revoked_keys", "# theirs\n");
	cr_assert_eq(symlinkat("elsewhere", treefd, "etc/ssh"), 0);
	/* a link root did not make (only root's in root's dirs are
	 * followed: see roots_link_followed) */
	cr_assert_eq(fchownat(treefd, "etc/ssh", 2001, 2001,
	    AT_SYMLINK_NOFOLLOW), 0);
	open_fails(RK, 1, KE_UNSAFE, "/etc/ssh: is a symbolic link");
	open_fails(RK, 0, KE_UNSAFE, "/etc/ssh: is a symbolic link");
	assert_node("etc/ssh", S_IFLNK, 0777, 2001, 2001);
	cr_assert_str_eq(get("etc/elsewhere/revoked_keys"), "# theirs\n");
	cr_assert_eq(count_entries("etc/elsewhere"), 1);
	/* a link higher up too */
	cr_assert_eq(unlinkat(treefd, "etc/ssh", 0), 0);
	mkdir_own("etc/elsewhere/ssh", 0755, 0, 0);
	cr_assert_eq(symlinkat("etc/elsewhere", treefd, "sys"), 0);
	cr_assert_eq(fchownat(treefd, "sys", 2001, 2001,
	    AT_SYMLINK_NOFOLLOW), 0);
	open_fails("/sys/ssh/revoked_keys", 1, KE_UNSAFE,
	    "/sys: is a symbolic link");
	cr_assert_eq(count_entries("etc/elsewhere/ssh"), 0);
}

/* /etc/ssh -> elsewhere, made by root in root's /etc: sshd follows it */
Test(revfile_root, roots_link_followed)
{
	NEED_ROOT();
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/elsewhere", 0755, 0, 0);
	put("etc/elsewhere/revoked_keys", "# theirs\n");
	cr_assert_eq(symlinkat("elsewhere", treefd, "etc/ssh"), 0);
	open_ok(RK, 0);
	cr_assert(rf.existed, "the file behind root's link was not read");
	revfile_close(&rf);
}

Test(revfile_root, symlinked_file_refused)
{
	NEED_ROOT();
	etc_ssh();
	put("etc/secret", "# theirs\n");
	cr_assert_eq(symlinkat("../secret", treefd, RK_REL), 0);
	open_fails(RK, 1, KE_UNSAFE, RK ": is a symbolic link");
	open_fails(RK, 0, KE_UNSAFE, RK ": is a symbolic link");
	assert_node(RK_REL, S_IFLNK, 0777, 0, 0);
	cr_assert_str_eq(get("etc/secret"), "# theirs\n");
	assert_node("etc/secret", S_IFREG, 0644, 0, 0);
	/* a dangling one is not "missing" either */
	cr_assert_eq(unlinkat(treefd, RK_REL, 0), 0);
	cr_assert_eq(symlinkat("../nothing-here", treefd, RK_REL), 0);
	open_fails(RK, 1, KE_UNSAFE, RK ": is a symbolic link");
	cr_assert(!exists("etc/nothing-here"));
}

Test(revfile_root, hard_linked_file_refused)
{
	NEED_ROOT();
	etc_ssh();
	put("etc/other", "# theirs\n");
	cr_assert_eq(linkat(treefd, "etc/other", treefd, RK_REL, 0), 0);
	open_fails(RK, 1, KE_UNSAFE, RK ": has 2 hard links");
	open_fails(RK, 0, KE_UNSAFE, RK ": has 2 hard links");
	cr_assert_str_eq(get("etc/other"), "# theirs\n");
	cr_assert_eq(lstat_of("etc/other").st_nlink, 2);
	cr_assert_eq(count_entries("etc/ssh"), 1);
}

Test(revfile_root, fifo_refused_without_blocking)
{
	NEED_ROOT();
	(void)alarm(5);		/* a blocking open kills the test */
	etc_ssh();
	cr_assert_eq(mkfifoat(treefd, RK_REL, 0644), 0);
	open_fails(RK, 1, KE_UNSAFE, RK ": not a regular file");
	open_fails(RK, 0, KE_UNSAFE, RK ": not a regular file");
	assert_node(RK_REL, S_IFIFO, 0644, 0, 0);
	cr_assert_eq(count_entries("etc/ssh"), 1);
	(void)alarm(0);
}

Test(revfile_root, directory_at_the_file_name_refused)
{
	NEED_ROOT();
	etc_ssh();
	mkdir_own(RK_REL, 0755, 0, 0);
	open_fails(RK, 1, KE_UNSAFE, RK ": not a regular file");
	cr_assert_eq(count_entries(RK_REL), 0);
}

/* --- the lock ---------------------------------------------------------- */

struct child_open {
	int	r;
	long	ms;
	char	msg[MSG_LEN];
};

/*
 * revfile_open in a forked child (its own open file description, so its
 * flock contends with ours); what it got.
 */
static struct child_open
open_in_child(int lock_ms)
{
	struct child_open	 co;
	struct revfile		 crf;
	struct timespec		 t0;
	pid_t			 pid;
	int			 p[2], st;

	memset(&co, 0, sizeof(co));
	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		(void)close(p[0]);
		(void)alarm(20);
		(void)clock_gettime(CLOCK_MONOTONIC, &t0);
		co.r = revfile_open(&crf, treefd, "", RK, 1, lock_ms, co.msg,
		    sizeof(co.msg));
		co.ms = ms_since(&t0);
		revfile_close(&crf);
		if (write(p[1], &co, sizeof(co)) != (ssize_t)sizeof(co))
			_exit(1);
		_exit(0);
	}
	(void)close(p[1]);
	cr_assert_eq(read(p[0], &co, sizeof(co)), (ssize_t)sizeof(co));
	(void)close(p[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return co;
}

Test(revfile_root, lock_held_from_open_to_close)
{
	struct child_open	co;

	NEED_ROOT();
	(void)alarm(60);
	etc_ssh();
	put(RK_REL, "# hand\n");
	open_ok(RK, 1);
	/* after the read */
	co = open_in_child(200);
	cr_assert_eq(co.r, KE_BUSY, "second open: %d (%s)", co.r, co.msg);
	cr_assert_str_eq(co.msg, RK ": locked by another process (keyadm, or "
	    "the account itself); try again");
	cr_assert_geq(co.ms, 190, "gave up after %ld ms", co.ms);
	cr_assert_lt(co.ms, 30000, "waited %ld ms (a hang)", co.ms);
	add_ok("ssh-ed25519", ED1, 0);
	/* after the replace, until close */
	write_ok();
	co = open_in_child(100);
	cr_assert_eq(co.r, KE_BUSY, "second open after write: %d (%s)", co.r,
	    co.msg);
	revfile_close(&rf);
	co = open_in_child(100);
	cr_assert_eq(co.r, 0, "after close: %d (%s)", co.r, co.msg);
	cr_assert_str_eq(get(RK_REL), "# hand\nssh-ed25519 " ED1 "\n");
}

/* A directory revfile made is locked too, from the start. */
Test(revfile_root, lock_held_on_a_new_directory)
{
	struct child_open	co;

	NEED_ROOT();
	(void)alarm(60);
	mkdir_own("etc", 0755, 0, 0);
	open_ok(RK, 1);
	co = open_in_child(100);
	cr_assert_eq(co.r, KE_BUSY, "%d (%s)", co.r, co.msg);
	revfile_close(&rf);
}

/* --- replaced only if unchanged since read ----------------------------- */

Test(revfile_root, changed_since_read_is_busy_and_theirs_stays)
{
	int	fd, r;

	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "# hand\n");
	open_ok(RK, 1);
	add_ok("ssh-ed25519", ED1, 0);
	/* someone not using the lock edits the file meanwhile */
	fd = openat(treefd, RK_REL, O_WRONLY | O_APPEND | O_CLOEXEC);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, "ssh-ed25519 " ED2 "\n",
	    strlen("ssh-ed25519 " ED2 "\n")),
	    (ssize_t)strlen("ssh-ed25519 " ED2 "\n"));
	(void)close(fd);
	r = revfile_write(&rf, msg, sizeof(msg));
	cr_assert_eq(r, KE_BUSY, "%d (%s)", r, msg);
	cr_assert_str_eq(msg, RK ": changed by someone else while keyadm "
	    "was working; try again");
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), "# hand\nssh-ed25519 " ED2 "\n");
	cr_assert_eq(count_entries("etc/ssh"), 1, "a temporary was left");
}

Test(revfile_root, replaced_since_read_is_busy_and_theirs_stays)
{
	int	r;

	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "# hand\n");
	open_ok(RK, 1);
	add_ok("ssh-ed25519", ED1, 0);
	/* same bytes, another file renamed over it */
	put("etc/ssh/new", "# hand\n");
	cr_assert_eq(renameat(treefd, "etc/ssh/new", treefd, RK_REL), 0);
	r = revfile_write(&rf, msg, sizeof(msg));
	cr_assert_eq(r, KE_BUSY, "%d (%s)", r, msg);
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), "# hand\n");
	cr_assert_eq(count_entries("etc/ssh"), 1);
}

Test(revfile_root, created_since_read_is_busy_and_theirs_stays)
{
	int	r;

	NEED_ROOT();
	etc_ssh();
	open_ok(RK, 1);
	cr_assert_eq(rf.existed, 0);
	add_ok("ssh-ed25519", ED1, 0);
	put(RK_REL, "# theirs\n");
	r = revfile_write(&rf, msg, sizeof(msg));
	cr_assert_eq(r, KE_BUSY, "%d (%s)", r, msg);
	cr_assert_str_eq(msg, RK ": changed by someone else while keyadm "
	    "was working; try again");
	revfile_close(&rf);
	cr_assert_str_eq(get(RK_REL), "# theirs\n");
	cr_assert_eq(count_entries("etc/ssh"), 1);
}

Test(revfile_root, removed_since_read_is_busy)
{
	int	r;

	NEED_ROOT();
	etc_ssh();
	put(RK_REL, "# hand\n");
	open_ok(RK, 1);
	add_ok("ssh-ed25519", ED1, 0);
	cr_assert_eq(unlinkat(treefd, RK_REL, 0), 0);
	r = revfile_write(&rf, msg, sizeof(msg));
	cr_assert_eq(r, KE_BUSY, "%d (%s)", r, msg);
	revfile_close(&rf);
	cr_assert_eq(count_entries("etc/ssh"), 0);
}

/* --- OpenSSH reads what revfile wrote ---------------------------------- */

/* Keys made now: three to revoke, two left alone. */
static void
make_test_keys(void)
{
	mkdir_own("keys", 0700, 0, 0);
	keygen("keys/rev_ed25519", "ed25519", NULL, "rev-ed25519");
	keygen("keys/rev_ecdsa", "ecdsa", "256", "rev-ecdsa");
	keygen("keys/rev_rsa", "rsa", "2048", "rev-rsa");
	keygen("keys/ok_ed25519", "ed25519", NULL, "ok-ed25519");
	keygen("keys/ok_ecdsa", "ecdsa", "384", "ok-ecdsa");
}

static const char *const all_pubs[] = {
	"keys/rev_ed25519.pub", "keys/rev_ecdsa.pub", "keys/rev_rsa.pub",
	"keys/ok_ed25519.pub", "keys/ok_ecdsa.pub", NULL
};

static void
revoke_test_keys(void)
{
	open_ok(RK, 1);
	add_pub("keys/rev_ed25519.pub");
	add_pub("keys/rev_ecdsa.pub");
	add_pub("keys/rev_rsa.pub");
	write_ok();
	revfile_close(&rf);
}

Test(revfile_sshd, sshd_reads_a_new_list)
{
	const char	*text;
	size_t		 len;

	NEED_OPENSSH();
	(void)alarm(300);
	mkdir_own("etc", 0755, 0, 0);
	make_test_keys();
	revoke_test_keys();
	text = get_bytes(RK_REL, &len);
	cr_assert_eq(strncmp(text, HEADER, strlen(HEADER)), 0);
	assert_clean_list(text, len);
	sshd_setup(all_pubs);
	assert_sshd_revoked("keys/rev_ed25519");
	assert_sshd_revoked("keys/rev_ecdsa");
	assert_sshd_revoked("keys/rev_rsa");
	assert_sshd_admits("keys/ok_ed25519");
	assert_sshd_admits("keys/ok_ecdsa");
}

/* A hand-made list with comments, blanks and commented keys, kept. */
Test(revfile_sshd, sshd_reads_a_kept_list)
{
	const char	*old = "# Revoked by hand\n"
			    "\n"
			    "   \n"
			    "\t# indented comment\n"
			    "  ssh-ed25519 " ED2 " bob@old-laptop (lost)\n"
			    "ssh-rsa " RSA1 "\tcarol\n"
			    "# ecdsa-sha2-nistp256 " EC1 " not yet";

	NEED_OPENSSH();
	(void)alarm(300);
	etc_ssh();
	put(RK_REL, old);
	make_test_keys();
	revoke_test_keys();
	cr_assert_eq(strncmp(get(RK_REL), old, strlen(old)), 0);
	sshd_setup(all_pubs);
	assert_sshd_revoked("keys/rev_ed25519");
	assert_sshd_revoked("keys/rev_rsa");
	assert_sshd_admits("keys/ok_ed25519");
	assert_sshd_admits("keys/ok_ecdsa");
	/* and after a removal, the key gets in again */
	open_ok(RK, 1);
	remove_pub("keys/rev_ed25519.pub");
	write_ok();
	revfile_close(&rf);
	assert_sshd_admits("keys/rev_ed25519");
	assert_sshd_revoked("keys/rev_ecdsa");
}

/*
 * ssh-keygen -Q of OpenSSH 9.2 checks a binary KRL only; ssh-keygen -k
 * reads the list (comments skipped, every other line a key or a fatal
 * "invalid key") and makes one.
 */
Test(revfile_sshd, ssh_keygen_reads_the_list)
{
	char		 rk[PATH_MAX], krl[PATH_MAX], rev[PATH_MAX];
	char		 ok[PATH_MAX], want[2 * PATH_MAX];
	const char	*mk[] = { SSH_KEYGEN, "-k", "-f", krl, rk, NULL };
	const char	*q_rev[] = { SSH_KEYGEN, "-Q", "-f", krl, rev, NULL };
	const char	*q_ok[] = { SSH_KEYGEN, "-Q", "-f", krl, ok, NULL };
	static const char *const types[] = { "ed25519", "ecdsa", "rsa" };
	size_t		 i;
	int		 r;

	NEED_OPENSSH();
	(void)alarm(300);
	mkdir_own("etc", 0755, 0, 0);
	make_test_keys();
	revoke_test_keys();
	abspath(rk, sizeof(rk), RK_REL);
	abspath(krl, sizeof(krl), "list.krl");
	r = run(mk, "krl.out");
	cr_assert_eq(r, 0, "ssh-keygen -k read the list: exit %d: %s", r,
	    get("krl.out"));
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char	rel[64];

		(void)snprintf(rel, sizeof(rel), "keys/rev_%s.pub", types[i]);
		abspath(rev, sizeof(rev), rel);
		r = run(q_rev, "q.out");
		(void)snprintf(want, sizeof(want), "%s (rev-%s): REVOKED\n",
		    rev, types[i]);
		cr_assert_eq(r, 1, "%s: exit %d: %s", rel, r, get("q.out"));
		cr_assert_str_eq(get("q.out"), want);
	}
	abspath(ok, sizeof(ok), "keys/ok_ed25519.pub");
	r = run(q_ok, "q.out");
	(void)snprintf(want, sizeof(want), "%s (ok-ed25519): ok\n", ok);
	cr_assert_eq(r, 0, "exit %d: %s", r, get("q.out"));
	cr_assert_str_eq(get("q.out"), want);
}

/*
 * The point of the module: a file revfile accepts (and would keep and
 * rewrite) is one sshd reads.  A key-shaped line whose blob is not a key
 * makes sshd refuse every key, the free one included.
 */
ParameterizedTestParameters(revfile_sshd,
    sshd_reads_every_file_revfile_accepts)
{
	return cr_make_param_array(struct badfile, bad_blobs,
	    sizeof(bad_blobs) / sizeof(bad_blobs[0]));
}

ParameterizedTest(struct badfile *b, revfile_sshd,
    sshd_reads_every_file_revfile_accepts)
{
	static const char *const pubs[] = { "keys/ok_ed25519.pub", NULL };
	int	r;

	NEED_OPENSSH();
	(void)alarm(120);
	etc_ssh();
	put(RK_REL, b->text);
	r = revfile_open(&rf, treefd, "", RK, 1, LOCK_MS, msg, sizeof(msg));
	revfile_close(&rf);
	if (r != 0)
		return;	/* refused: the administrator must fix it */
	mkdir_own("keys", 0700, 0, 0);
	keygen("keys/ok_ed25519", "ed25519", NULL, "ok-ed25519");
	sshd_setup(pubs);
	r = ssh_login("keys/ok_ed25519");
	cr_assert_eq(r, 0, "%s: revfile accepted the file, but sshd refuses "
	    "every key with it (ssh exit %d); sshd log:\n%s", b->name, r,
	    get("sshd/log"));
}
