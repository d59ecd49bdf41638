/*
 * test_safefs.c -- attack tests for safefs and the id switch of privs.
 *
 * Every test gets its own mkdtemp tree (the fixture), laid out like a real
 * system: <tree>/home/alice/.ssh/authorized_keys, walked from a descriptor
 * of <tree> with an empty display prefix, so messages read "/home/alice...".
 * Suites: safefs (any user), safefs_root (needs root: foreign owners, device
 * nodes, privs), privs.  The fixture's two statics are the only state; each
 * Criterion test runs in its own process.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "err.h"
#include "privs.h"
#include "safefs.h"

#define OTHER_UID	4242	/* an account that is not us */
#define OTHER_GID	4243
#define ALICE_UID	1001
#define AK		"authorized_keys"
#define AK_DISP		"/home/alice/.ssh/authorized_keys"
#define KEYLINE		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice\n"

static char	tree[PATH_MAX];	/* the temp tree of this test */
static int	treefd = -1;	/* a descriptor of it: the walk's "/" */

/* A skipped test does not reach .fini: clean up first. */
#define NEED_ROOT() do {						\
	if (geteuid() != 0) {						\
		teardown();						\
		cr_skip_test("needs root");				\
	}								\
} while (0)

static void
setup(void)
{
	umask(022);
	cr_assert_lt((size_t)snprintf(tree, sizeof(tree), "%s",
	    "/tmp/test_safefs.XXXXXX"), sizeof(tree));
	cr_assert_not_null(mkdtemp(tree));
	treefd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_neq(treefd, -1);
	cr_assert_eq(fchmod(treefd, 0755), 0);
}

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
teardown(void)
{
	if (treefd != -1)
		close(treefd);
	treefd = -1;
	if (tree[0] != '\0')
		nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tree[0] = '\0';
}

TestSuite(safefs, .init = setup, .fini = teardown);
TestSuite(safefs_root, .init = setup, .fini = teardown);
TestSuite(privs, .init = setup, .fini = teardown);

/* --- helpers ----------------------------------------------------------- */

static void
mkdir_mode(const char *rel, mode_t mode)
{
	cr_assert_eq(mkdirat(treefd, rel, 0700), 0, "mkdir %s: %s", rel,
	    strerror(errno));
	cr_assert_eq(fchmodat(treefd, rel, mode, 0), 0);
}

/* <tree>/home 0755, home/alice 0755, home/alice/.ssh 0700. */
static void
mkhome(void)
{
	mkdir_mode("home", 0755);
	mkdir_mode("home/alice", 0755);
	mkdir_mode("home/alice/.ssh", 0700);
}

static void
put(const char *rel, const char *content, mode_t mode)
{
	int	fd;

	fd = openat(treefd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	cr_assert_neq(fd, -1, "create %s: %s", rel, strerror(errno));
	cr_assert_eq(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(close(fd), 0);
}

/* Contents of a file of the tree (static buffer), "" if missing. */
static const char *
get(const char *rel)
{
	static char	buf[128 * 1024];
	ssize_t		n;
	int		fd;

	buf[0] = '\0';
	if ((fd = openat(treefd, rel, O_RDONLY | O_NOFOLLOW)) == -1)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static int
dirfd_of(const char *rel)
{
	int	fd;

	fd = openat(treefd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_neq(fd, -1, "open %s: %s", rel, strerror(errno));
	return fd;
}

static void
abspath(char *out, size_t outlen, const char *rel)
{
	cr_assert_lt((size_t)snprintf(out, outlen, "%s/%s", tree, rel),
	    outlen);
}

/* Number of entries in a directory of the tree, "." and ".." excluded. */
static int
count_entries(const char *rel)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	d = fdopendir(dirfd_of(rel));
	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Walk to /home/alice/.ssh as uid and expect failure with code and msg. */
static void
walk_fails(const char *path, uid_t uid, int code, const char *want)
{
	char	msg[SAFEFS_MSG_MAX];
	int	fd = 12345, r;

	r = safefs_walk(treefd, "", path, uid, &fd, msg, sizeof(msg));
	cr_assert_eq(r, code, "walk %s: got %d (%s)", path, r, msg);
	cr_assert_eq(fd, -1);
	cr_assert_str_eq(msg, want);
}

/* safefs_read of .ssh/authorized_keys expecting failure. */
static void
read_fails(uid_t uid, size_t cap, int code, const char *want)
{
	char	 msg[SAFEFS_MSG_MAX], *buf = (char *)1;
	size_t	 len = 99;
	int	 dfd, r;

	dfd = dirfd_of("home/alice/.ssh");
	r = safefs_read(dfd, AK_DISP, AK, uid, cap, &buf, &len, NULL, msg,
	    sizeof(msg));
	cr_assert_eq(r, code, "got %d (%s)", r, msg);
	cr_assert_null(buf);
	cr_assert_eq(len, 0);
	cr_assert_str_eq(msg, want);
	close(dfd);
}

static void
input_fails(const char *path, size_t cap, int code, const char *problem)
{
	char		 msg[SAFEFS_MSG_MAX], want[PATH_MAX + 128];
	unsigned char	*buf = (unsigned char *)1;
	size_t		 len = 99;
	int		 r;

	r = safefs_read_input(path, cap, &buf, &len, msg, sizeof(msg));
	cr_assert_eq(r, code, "got %d (%s)", r, msg);
	cr_assert_null(buf);
	cr_assert_eq(len, 0);
	cr_assert_lt((size_t)snprintf(want, sizeof(want), "%s: %s", path,
	    problem), sizeof(want));
	cr_assert_str_eq(msg, want);
}

/* --- safefs_walk ------------------------------------------------------- */

Test(safefs, walk_opens_each_component)
{
	struct stat	a, b;
	char		msg[SAFEFS_MSG_MAX];
	int		fd;

	mkhome();
	cr_assert_eq(safefs_walk(treefd, "", "/home/alice/.ssh", geteuid(),
	    &fd, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(fstat(fd, &a), 0);
	cr_assert_eq(fstatat(treefd, "home/alice/.ssh", &b, 0), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_eq(a.st_dev, b.st_dev);
	cr_assert_neq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
}

Test(safefs, walk_skips_empty_and_dot_components)
{
	char	msg[SAFEFS_MSG_MAX];
	int	fd;

	mkhome();
	cr_assert_eq(safefs_walk(treefd, "", "//home/./alice//.ssh/",
	    geteuid(), &fd, msg, sizeof(msg)), 0, "%s", msg);
	close(fd);
	cr_assert_eq(safefs_walk(treefd, "", "/", geteuid(), &fd, msg,
	    sizeof(msg)), 0, "%s", msg);
	close(fd);
}

/*
 * As root, make the link rel someone else's (uid 2001), as a link an
 * account planted would be; a link root made in root's directory is
 * followed (see walk_follows_*).  As another user it is ours already.
 */
static void
not_roots(const char *rel)
{
	if (geteuid() == 0)
		cr_assert_eq(fchownat(treefd, rel, 2001, 2001,
		    AT_SYMLINK_NOFOLLOW), 0, "lchown %s: %s", rel,
		    strerror(errno));
}

Test(safefs, walk_refuses_symlinked_ssh_dir)
{
	mkdir_mode("home", 0755);
	mkdir_mode("home/alice", 0755);
	mkdir_mode("elsewhere", 0700);
	cr_assert_eq(symlinkat("../../elsewhere", treefd, "home/alice/.ssh"),
	    0);
	not_roots("home/alice/.ssh");
	walk_fails("/home/alice/.ssh", geteuid(), KE_UNSAFE,
	    "/home/alice/.ssh: is a symbolic link");
}

Test(safefs, walk_refuses_symlinked_middle_component)
{
	mkdir_mode("real", 0755);
	mkdir_mode("real/alice", 0755);
	mkdir_mode("real/alice/.ssh", 0700);
	cr_assert_eq(symlinkat("real", treefd, "home"), 0);
	not_roots("home");
	walk_fails("/home/alice/.ssh", geteuid(), KE_UNSAFE,
	    "/home: is a symbolic link");
}

Test(safefs, walk_refuses_symlink_to_a_file)
{
	mkdir_mode("home", 0755);
	put("home/target", "x", 0644);
	cr_assert_eq(symlinkat("target", treefd, "home/alice"), 0);
	not_roots("home/alice");
	walk_fails("/home/alice/.ssh", geteuid(), KE_UNSAFE,
	    "/home/alice: is a symbolic link");
}

/* The walk to path ends in the directory rel of the tree. */
static void
walk_reaches(const char *path, uid_t uid, const char *rel)
{
	struct stat	a, b;
	char		msg[SAFEFS_MSG_MAX];
	int		fd = -1;

	cr_assert_eq(safefs_walk(treefd, "", path, uid, &fd, msg,
	    sizeof(msg)), 0, "walk %s: %s", path, msg);
	cr_assert_eq(fstat(fd, &a), 0);
	cr_assert_eq(fstatat(treefd, rel, &b, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev,
	    "walk %s did not end in %s", path, rel);
	close(fd);
}

static void
need_root(void)
{
	if (geteuid() != 0)
		cr_skip("root's links are followed: needs root to make one");
}

/* /home -> srv/home, as root made it: sshd follows it, so do we. */
Test(safefs, walk_follows_roots_link_in_roots_dir)
{
	need_root();
	mkdir_mode("srv", 0755);
	mkdir_mode("srv/home", 0755);
	mkdir_mode("srv/home/alice", 0755);
	mkdir_mode("srv/home/alice/.ssh", 0700);
	cr_assert_eq(symlinkat("srv/home", treefd, "home"), 0);
	walk_reaches("/home/alice/.ssh", 0, "srv/home/alice/.ssh");
	/* absolute targets are taken inside the tree, ".." stops at its
	 * root, and links may lead to links */
	cr_assert_eq(symlinkat("/srv/home/alice", treefd, "srv/a1"), 0);
	cr_assert_eq(symlinkat("../../../../a1", treefd, "srv/home/a2"), 0);
	cr_assert_eq(symlinkat("/srv/a1", treefd, "a1"), 0);
	walk_reaches("/srv/a1/.ssh", 0, "srv/home/alice/.ssh");
	walk_reaches("/srv/home/a2/.ssh", 0, "srv/home/alice/.ssh");
}

Test(safefs, walk_refuses_roots_link_in_a_dir_others_control)
{
	need_root();
	mkdir_mode("real", 0755);
	mkdir_mode("real/.ssh", 0700);
	mkdir_mode("home", 0755);
	mkdir_mode("home/alice", 0755);
	/* root's link, but in the account's own directory: she can swap it */
	cr_assert_eq(fchownat(treefd, "home/alice", 2001, 2001, 0), 0);
	cr_assert_eq(symlinkat("../../real/.ssh", treefd, "home/alice/.ssh"),
	    0);
	walk_fails("/home/alice/.ssh", 2001, KE_UNSAFE,
	    "/home/alice/.ssh: is a symbolic link");
	/* root's link in root's directory that a group may write */
	mkdir_mode("pub", 0775);
	cr_assert_eq(symlinkat("../real", treefd, "pub/r"), 0);
	walk_fails("/pub/r/.ssh", 0, KE_UNSAFE, "/pub: writable by group");
	cr_assert_eq(fchmodat(treefd, "pub", 0755, 0), 0);
	walk_reaches("/pub/r/.ssh", 0, "real/.ssh");
}

/* "x/../home" resolves after x, which may itself be a link: refused */
Test(safefs, walk_refuses_roots_link_with_dotdot_after_a_name)
{
	need_root();
	mkdir_mode("srv", 0755);
	mkdir_mode("srv/home", 0755);
	mkdir_mode("opt", 0755);
	mkdir_mode("opt/home", 0755);
	cr_assert_eq(symlinkat("../opt/y", treefd, "srv/x"), 0);
	cr_assert_eq(symlinkat("srv/x/../home", treefd, "home"), 0);
	walk_fails("/home", 0, KE_UNSAFE, "/home: is a symbolic link");
}

Test(safefs, walk_link_loops_and_links_to_files_are_refused)
{
	need_root();
	cr_assert_eq(symlinkat("b", treefd, "a"), 0);
	cr_assert_eq(symlinkat("a", treefd, "b"), 0);
	walk_fails("/a/x", 0, KE_UNSAFE, "/a/x: too many symbolic links");
	put("file", "x", 0644);
	cr_assert_eq(symlinkat("file", treefd, "f"), 0);
	walk_fails("/f/x", 0, KE_UNSAFE, "/file: not a directory");
	cr_assert_eq(symlinkat("nowhere", treefd, "n"), 0);
	walk_fails("/n/x", 0, KE_NOINPUT, "/nowhere: no such file or "
	    "directory");
}

Test(safefs, exists_looks_without_following)
{
	mkhome();
	put("home/alice/.ssh/authorized_keys", "x", 0600);
	cr_assert_eq(safefs_exists(treefd, "/home/alice/.ssh/authorized_keys"),
	    1);
	cr_assert_eq(safefs_exists(treefd, "/home/alice/.ssh"), 1);
	cr_assert_eq(safefs_exists(treefd, "/home/alice/.ssh/nope"), 0);
	cr_assert_eq(safefs_exists(treefd, "/home/bob/.ssh/authorized_keys"),
	    0);
	/* a link in the way, or a file: cannot say no */
	cr_assert_eq(symlinkat("alice", treefd, "home/carol"), 0);
	cr_assert_eq(safefs_exists(treefd, "/home/carol/nope"), 1);
	cr_assert_eq(safefs_exists(treefd,
	    "/home/alice/.ssh/authorized_keys/x"), 1);
	/* a group-writable directory is looked into all the same */
	cr_assert_eq(fchmodat(treefd, "home/alice", 0777, 0), 0);
	cr_assert_eq(safefs_exists(treefd, "/home/alice/.ssh/nope"), 0);
}

Test(safefs, walk_refuses_group_writable_dir)
{
	mkhome();
	cr_assert_eq(fchmodat(treefd, "home/alice", 0775, 0), 0);
	walk_fails("/home/alice/.ssh", geteuid(), KE_UNSAFE,
	    "/home/alice: writable by group");
}

Test(safefs, walk_refuses_world_writable_dir)
{
	mkhome();
	cr_assert_eq(fchmodat(treefd, "home/alice/.ssh", 0702, 0), 0);
	walk_fails("/home/alice/.ssh", geteuid(), KE_UNSAFE,
	    "/home/alice/.ssh: writable by others");
}

Test(safefs, walk_refuses_sticky_world_writable_dir)
{
	mkhome();
	cr_assert_eq(fchmodat(treefd, "home", 01777, 0), 0);
	walk_fails("/home/alice/.ssh", geteuid(), KE_UNSAFE,
	    "/home: writable by group and others");
}

Test(safefs, walk_checks_the_root_itself)
{
	char	msg[SAFEFS_MSG_MAX];
	int	fd = 12345;

	mkhome();
	cr_assert_eq(fchmod(treefd, 0775), 0);
	cr_assert_eq(safefs_walk(treefd, "/srv/root/", "/home", geteuid(),
	    &fd, msg, sizeof(msg)), KE_UNSAFE);
	cr_assert_str_eq(msg, "/srv/root: writable by group");
	cr_assert_eq(fd, -1);
	walk_fails("/home", geteuid(), KE_UNSAFE, "/: writable by group");
}

Test(safefs, walk_names_the_display_prefix)
{
	char	msg[SAFEFS_MSG_MAX];
	int	fd;

	mkhome();
	cr_assert_eq(safefs_walk(treefd, "/srv/root", "/home/bob", geteuid(),
	    &fd, msg, sizeof(msg)), KE_NOINPUT);
	cr_assert_str_eq(msg, "/srv/root/home/bob: no such file or directory");
}

Test(safefs, walk_refuses_non_directory_component)
{
	mkdir_mode("home", 0755);
	put("home/alice", "not a dir", 0644);
	walk_fails("/home/alice/.ssh", geteuid(), KE_UNSAFE,
	    "/home/alice: not a directory");
}

Test(safefs, walk_refuses_fifo_component_without_blocking)
{
	(void)alarm(5);	/* a blocking call kills the test */
	mkdir_mode("home", 0755);
	cr_assert_eq(mkfifoat(treefd, "home/alice", 0600), 0);
	walk_fails("/home/alice/.ssh", geteuid(), KE_UNSAFE,
	    "/home/alice: not a directory");
}

Test(safefs, walk_refuses_dotdot)
{
	mkhome();
	walk_fails("/home/alice/../alice/.ssh", geteuid(), KE_UNSAFE,
	    "/home/alice/../alice/.ssh: refers to a parent directory (\"..\")");
	walk_fails("/..", geteuid(), KE_UNSAFE,
	    "/..: refers to a parent directory (\"..\")");
}

Test(safefs, walk_refuses_relative_path)
{
	mkhome();
	walk_fails("home/alice", geteuid(), KE_UNSAFE,
	    "home/alice: not an absolute path");
}

Test(safefs, walk_reports_missing_component)
{
	mkhome();
	walk_fails("/home/bob/.ssh", geteuid(), KE_NOINPUT,
	    "/home/bob: no such file or directory");
}

Test(safefs, walk_escapes_untrusted_path_bytes)
{
	mkhome();
	walk_fails("/home/bo\033[2Jb\\", geteuid(), KE_NOINPUT,
	    "/home/bo\\x1b[2Jb\\x5c: no such file or directory");
}

/* --- safefs_subdir ----------------------------------------------------- */

Test(safefs, subdir_creates_with_exact_mode)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX];
	int		afd, fd;

	mkdir_mode("home", 0755);
	mkdir_mode("home/alice", 0755);
	umask(077);		/* the mode must not depend on the umask */
	afd = dirfd_of("home/alice");
	cr_assert_eq(safefs_subdir(afd, "/home/alice/.ssh", ".ssh", geteuid(),
	    getegid(), 0711, 1, &fd, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0711);
	cr_assert_eq(st.st_uid, geteuid());
	close(fd);
	/* Existing now: opened as it is. */
	cr_assert_eq(safefs_subdir(afd, "/home/alice/.ssh", ".ssh", geteuid(),
	    getegid(), 0700, 1, &fd, msg, sizeof(msg)), 0, "%s", msg);
	close(fd);
	close(afd);
}

Test(safefs, subdir_missing_without_create)
{
	char	msg[SAFEFS_MSG_MAX];
	int	afd, fd = 12345;

	mkdir_mode("home", 0755);
	mkdir_mode("home/alice", 0755);
	afd = dirfd_of("home/alice");
	cr_assert_eq(safefs_subdir(afd, "/home/alice/.ssh", ".ssh", geteuid(),
	    getegid(), 0700, 0, &fd, msg, sizeof(msg)), KE_NOINPUT);
	cr_assert_str_eq(msg, "/home/alice/.ssh: no such file or directory");
	cr_assert_eq(fd, -1);
	cr_assert_eq(faccessat(treefd, "home/alice/.ssh", F_OK, 0), -1);
}

Test(safefs, subdir_refuses_symlink_even_with_create)
{
	char	msg[SAFEFS_MSG_MAX];
	int	afd, fd = 12345;

	mkdir_mode("home", 0755);
	mkdir_mode("home/alice", 0755);
	mkdir_mode("elsewhere", 0755);
	cr_assert_eq(symlinkat("../../elsewhere", treefd, "home/alice/.ssh"),
	    0);
	afd = dirfd_of("home/alice");
	cr_assert_eq(safefs_subdir(afd, "/home/alice/.ssh", ".ssh", geteuid(),
	    getegid(), 0700, 1, &fd, msg, sizeof(msg)), KE_UNSAFE);
	cr_assert_str_eq(msg, "/home/alice/.ssh: is a symbolic link");
	cr_assert_eq(fd, -1);
	/* Nothing was done through the link. */
	cr_assert_eq(count_entries("elsewhere"), 0);
}

Test(safefs, subdir_refuses_unsafe_existing_dir)
{
	char	msg[SAFEFS_MSG_MAX];
	int	afd, fd = 12345;

	mkhome();
	cr_assert_eq(fchmodat(treefd, "home/alice/.ssh", 0770, 0), 0);
	afd = dirfd_of("home/alice");
	cr_assert_eq(safefs_subdir(afd, "/home/alice/.ssh", ".ssh", geteuid(),
	    getegid(), 0700, 1, &fd, msg, sizeof(msg)), KE_UNSAFE);
	cr_assert_str_eq(msg, "/home/alice/.ssh: writable by group");
	cr_assert_eq(fd, -1);
}

Test(safefs, subdir_refuses_a_file)
{
	char	msg[SAFEFS_MSG_MAX];
	int	afd, fd;

	mkdir_mode("home", 0755);
	mkdir_mode("home/alice", 0755);
	put("home/alice/.ssh", "x", 0600);
	afd = dirfd_of("home/alice");
	cr_assert_eq(safefs_subdir(afd, "/home/alice/.ssh", ".ssh", geteuid(),
	    getegid(), 0700, 1, &fd, msg, sizeof(msg)), KE_UNSAFE);
	cr_assert_str_eq(msg, "/home/alice/.ssh: not a directory");
}

Test(safefs, subdir_refuses_names_with_slash_or_dotdot)
{
	char	msg[SAFEFS_MSG_MAX];
	int	fd;

	mkhome();
	cr_assert_eq(safefs_subdir(treefd, "/x", "home/alice", geteuid(),
	    getegid(), 0700, 1, &fd, msg, sizeof(msg)), KE_INTERNAL);
	cr_assert_eq(safefs_subdir(treefd, "/x", "..", geteuid(),
	    getegid(), 0700, 1, &fd, msg, sizeof(msg)), KE_INTERNAL);
}

Test(safefs, writable_modes_are_refused_before_creating)
{
	char	msg[SAFEFS_MSG_MAX];
	int	dfd, fd;

	mkhome();
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_subdir(dfd, "/x", "sub", geteuid(), getegid(),
	    0770, 1, &fd, msg, sizeof(msg)), KE_INTERNAL);
	cr_assert_eq(safefs_replace(dfd, AK_DISP, AK, "x", 1, geteuid(),
	    getegid(), 0666, NULL, msg, sizeof(msg)), KE_INTERNAL);
	cr_assert_eq(count_entries("home/alice/.ssh"), 0);
	close(dfd);
}

/* --- safefs_lock ------------------------------------------------------- */

/*
 * Fork a child that holds the lock of rel for hold_ms: as another keyadm
 * would (safefs_lock), or as any user who can open the directory could
 * (a flock on it; as uid OTHER_UID when we are root).
 */
static pid_t
hold_lock_of(const char *rel, int as_user, int hold_ms)
{
	char	c, msg[SAFEFS_MSG_MAX];
	int	p[2], fd, lfd;
	pid_t	pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (as_user && geteuid() == 0 && (setgroups(0, NULL) == -1 ||
		    setresgid(OTHER_GID, OTHER_GID, OTHER_GID) == -1 ||
		    setresuid(OTHER_UID, OTHER_UID, OTHER_UID) == -1))
			_exit(1);
		if ((fd = openat(treefd, rel, O_RDONLY | O_DIRECTORY)) == -1)
			_exit(1);
		if (as_user ? flock(fd, LOCK_EX) == -1 :
		    safefs_lock(fd, rel, 0, &lfd, msg, sizeof(msg)) != 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		usleep((useconds_t)hold_ms * 1000);
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1, "the holder could not lock %s",
	    rel);
	close(p[0]);
	return pid;
}

/* Another keyadm holds the lock on home/alice/.ssh for hold_ms. */
static pid_t
hold_lock(int hold_ms)
{
	return hold_lock_of("home/alice/.ssh", 0, hold_ms);
}

Test(safefs, lock_is_busy_while_another_holds_it)
{
	struct timespec	t0;
	char		msg[SAFEFS_MSG_MAX];
	long		ms;
	pid_t		pid;
	int		fd, lfd;

	(void)alarm(20);	/* a blocking call kills the test */
	mkhome();
	pid = hold_lock(30000);
	fd = dirfd_of("home/alice/.ssh");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(safefs_lock(fd, "/home/alice/.ssh", 300, &lfd, msg,
	    sizeof(msg)), KE_BUSY);
	cr_assert_eq(lfd, -1);
	ms = ms_since(&t0);
	cr_assert_str_eq(msg, "/home/alice/.ssh: locked by another process (keyadm, or the account itself); try again");
	cr_assert_geq(ms, 290, "gave up after %ld ms", ms);
	cr_assert_lt(ms, 30000, "waited %ld ms (a hang)", ms);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* The holder is gone: now it is ours. */
	cr_assert_eq(safefs_lock(fd, "/home/alice/.ssh", 0, &lfd, msg,
	    sizeof(msg)), 0, "%s", msg);
	cr_assert_geq(lfd, 0);
	close(lfd);
	close(fd);
}

Test(safefs, lock_waits_for_release)
{
	char	msg[SAFEFS_MSG_MAX];
	pid_t	pid;
	int	fd, lfd;

	(void)alarm(20);	/* a blocking call kills the test */
	mkhome();
	pid = hold_lock(200);
	fd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_lock(fd, "/home/alice/.ssh", 10000, &lfd, msg,
	    sizeof(msg)), 0, "%s", msg);
	waitpid(pid, NULL, 0);
	close(lfd);
	close(fd);
}

/*
 * A directory of ours (root's /etc/ssh) is locked through a file in it
 * that nobody else can open: a user's flock on the directory itself does
 * not hold keyadm up (it could stop every revocation).
 */
Test(safefs, users_flock_on_our_directory_does_not_hold_keyadm_up)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX];
	pid_t		pid;
	int		fd, lfd, lfd2;

	(void)alarm(20);
	mkhome();
	pid = hold_lock_of("home/alice", 1, 30000);
	fd = dirfd_of("home/alice");
	cr_assert_eq(safefs_lock(fd, "/home/alice", 300, &lfd, msg,
	    sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(fstatat(fd, SAFEFS_LOCK_NAME, &st, AT_SYMLINK_NOFOLLOW),
	    0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(st.st_uid, geteuid());
	/* and keyadm against keyadm still excludes */
	cr_assert_eq(safefs_lock(fd, "/home/alice", 100, &lfd2, msg,
	    sizeof(msg)), KE_BUSY, "%s", msg);
	close(lfd);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
}

/* A lock file that is not a plain file of ours is refused, not used. */
Test(safefs, lock_file_planted_as_a_link_is_refused)
{
	char	msg[SAFEFS_MSG_MAX];
	int	fd, lfd;

	mkhome();
	cr_assert_eq(symlinkat("/etc/shadow", treefd, "home/alice/"
	    SAFEFS_LOCK_NAME), 0);
	fd = dirfd_of("home/alice");
	cr_assert_eq(safefs_lock(fd, "/home/alice", 100, &lfd, msg,
	    sizeof(msg)), KE_UNSAFE);
	cr_assert_str_eq(msg, "/home/alice: " SAFEFS_LOCK_NAME " is a "
	    "symbolic link");
	cr_assert_eq(lfd, -1);
	close(fd);
}

/* --- safefs_read ------------------------------------------------------- */

Test(safefs, read_missing_file_is_not_an_error)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX], *buf = (char *)1;
	size_t		len = 99;
	int		dfd;

	mkhome();
	dfd = dirfd_of("home/alice/.ssh");
	memset(&st, 0xff, sizeof(st));
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), INPUT_MAX, &buf,
	    &len, &st, msg, sizeof(msg)), 0);
	cr_assert_null(buf);
	cr_assert_eq(len, 0);
	cr_assert_eq(st.st_ino, 0);
	cr_assert_eq(st.st_nlink, 0);
}

Test(safefs, read_returns_contents_and_stat)
{
	struct stat	st, want;
	char		msg[SAFEFS_MSG_MAX], *buf;
	size_t		len;
	int		dfd;

	mkhome();
	put("home/alice/.ssh/" AK, KEYLINE, 0600);
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), INPUT_MAX, &buf,
	    &len, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(len, strlen(KEYLINE));
	cr_assert_str_eq(buf, KEYLINE);
	cr_assert_eq(fstatat(dfd, AK, &want, 0), 0);
	cr_assert_eq(st.st_ino, want.st_ino);
	free(buf);
	close(dfd);
}

Test(safefs, read_accepts_exactly_cap_bytes)
{
	char	msg[SAFEFS_MSG_MAX], *buf;
	size_t	len;
	int	dfd;

	mkhome();
	put("home/alice/.ssh/" AK, "0123456789abcdef", 0600);
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), 16, &buf, &len,
	    NULL, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(len, 16);
	cr_assert_eq(buf[16], '\0');
	free(buf);
	close(dfd);
}

Test(safefs, read_refuses_symlink_to_a_secret)
{
	mkhome();
	put("secret", "root's private key\n", 0600);
	cr_assert_eq(symlinkat("../../../secret", treefd,
	    "home/alice/.ssh/" AK), 0);
	read_fails(geteuid(), INPUT_MAX, KE_UNSAFE,
	    AK_DISP ": is a symbolic link");
}

Test(safefs, read_refuses_fifo_without_blocking)
{
	(void)alarm(5);	/* a blocking call kills the test */
	mkhome();
	cr_assert_eq(mkfifoat(treefd, "home/alice/.ssh/" AK, 0600), 0);
	read_fails(geteuid(), INPUT_MAX, KE_UNSAFE,
	    AK_DISP ": not a regular file");
}

Test(safefs, read_refuses_directory)
{
	mkhome();
	mkdir_mode("home/alice/.ssh/" AK, 0700);
	read_fails(geteuid(), INPUT_MAX, KE_UNSAFE,
	    AK_DISP ": not a regular file");
}

Test(safefs, read_refuses_socket)
{
	struct sockaddr_un	sun;
	int			s;

	(void)alarm(5);	/* a blocking call kills the test */
	mkhome();
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	abspath(sun.sun_path, sizeof(sun.sun_path), "home/alice/.ssh/" AK);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_neq(s, -1);
	cr_assert_eq(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0,
	    "bind: %s", strerror(errno));
	read_fails(geteuid(), INPUT_MAX, KE_UNSAFE,
	    AK_DISP ": not a regular file");
	close(s);
}

Test(safefs, read_refuses_hard_link)
{
	mkhome();
	put("home/alice/.ssh/" AK, KEYLINE, 0600);
	cr_assert_eq(linkat(treefd, "home/alice/.ssh/" AK, treefd,
	    "home/alice/other", 0), 0);
	read_fails(geteuid(), INPUT_MAX, KE_UNSAFE,
	    AK_DISP ": has 2 hard links");
}

Test(safefs, read_refuses_too_large)
{
	mkhome();
	put("home/alice/.ssh/" AK, "0123456789abcdefX", 0600);
	read_fails(geteuid(), 16, KE_UNSAFE, AK_DISP ": larger than 16 bytes");
}

Test(safefs, read_refuses_group_writable_file)
{
	mkhome();
	put("home/alice/.ssh/" AK, KEYLINE, 0620);
	read_fails(geteuid(), INPUT_MAX, KE_UNSAFE,
	    AK_DISP ": writable by group");
}

Test(safefs, read_refuses_world_writable_file)
{
	mkhome();
	put("home/alice/.ssh/" AK, KEYLINE, 0606);
	read_fails(geteuid(), INPUT_MAX, KE_UNSAFE,
	    AK_DISP ": writable by others");
}

/* --- safefs_replace ---------------------------------------------------- */

/* Replace .ssh/authorized_keys with s, as we are, mode 0600. */
static int
replace_ak(const char *s, const struct stat *expect, char *msg)
{
	int	dfd, r;

	dfd = dirfd_of("home/alice/.ssh");
	r = safefs_replace(dfd, AK_DISP, AK, s, strlen(s), geteuid(),
	    getegid(), 0600, expect, msg, SAFEFS_MSG_MAX);
	close(dfd);
	return r;
}

Test(safefs, replace_writes_contents_and_mode)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX];
	int		dfd;

	mkhome();
	umask(0777);		/* the mode must not depend on the umask */
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_replace(dfd, AK_DISP, AK, KEYLINE,
	    strlen(KEYLINE), geteuid(), getegid(), 0644, NULL, msg,
	    sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(get("home/alice/.ssh/" AK), KEYLINE);
	cr_assert_eq(fstatat(dfd, AK, &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0644);
	cr_assert_eq(st.st_uid, geteuid());
	cr_assert_eq(st.st_nlink, 1);
	close(dfd);
}

Test(safefs, replace_leaves_no_temporary)
{
	char	msg[SAFEFS_MSG_MAX];

	mkhome();
	cr_assert_eq(replace_ak(KEYLINE, NULL, msg), 0, "%s", msg);
	cr_assert_eq(count_entries("home/alice/.ssh"), 1);
	cr_assert_eq(replace_ak("", NULL, msg), KE_BUSY);
	cr_assert_eq(count_entries("home/alice/.ssh"), 1);
}

/* A temporary left by a killed run is removed, whatever it is. */
Test(safefs, replace_removes_a_stale_temporary)
{
	char	msg[SAFEFS_MSG_MAX];

	mkhome();
	put("home/alice/.ssh/." AK ".keyadm~new", "half a fi", 0600);
	cr_assert_eq(replace_ak(KEYLINE, NULL, msg), 0, "%s", msg);
	cr_assert_str_eq(get("home/alice/.ssh/" AK), KEYLINE);
	cr_assert_eq(count_entries("home/alice/.ssh"), 1);
}

/* A symbolic link planted at the temporary's name is unlinked, not used. */
Test(safefs, replace_never_writes_through_a_planted_temporary)
{
	char	msg[SAFEFS_MSG_MAX], target[PATH_MAX], link[PATH_MAX];

	mkhome();
	put("victim", "precious\n", 0644);
	abspath(target, sizeof(target), "victim");
	abspath(link, sizeof(link), "home/alice/.ssh/." AK ".keyadm~new");
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(replace_ak(KEYLINE, NULL, msg), 0, "%s", msg);
	cr_assert_str_eq(get("home/alice/.ssh/" AK), KEYLINE);
	cr_assert_str_eq(get("victim"), "precious\n");
	cr_assert_eq(count_entries("home/alice/.ssh"), 1);
}

/* A directory at the temporary's name stops the write, cleanly. */
Test(safefs, replace_fails_on_a_directory_at_the_temporary)
{
	char	msg[SAFEFS_MSG_MAX];

	mkhome();
	mkdir_mode("home/alice/.ssh/." AK ".keyadm~new", 0700);
	cr_assert_eq(replace_ak(KEYLINE, NULL, msg), KE_UNSAFE);
	cr_assert(strstr(msg, "a directory is in the way of the temporary "
	    "file ." AK ".keyadm~new; nothing written") != NULL, "%s", msg);
	cr_assert_eq(count_entries("home/alice/.ssh"), 1);
}

Test(safefs, replace_writes_an_empty_file)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX], *buf;
	size_t		len;
	int		dfd;

	mkhome();
	put("home/alice/.ssh/" AK, KEYLINE, 0600);
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), INPUT_MAX, &buf,
	    &len, &st, msg, sizeof(msg)), 0);
	free(buf);
	cr_assert_eq(safefs_replace(dfd, AK_DISP, AK, NULL, 0, geteuid(),
	    getegid(), 0600, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(get("home/alice/.ssh/" AK), "");
	close(dfd);
}

Test(safefs, replace_fully_replaces_longer_old_contents)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX], old[4096], *buf;
	size_t		len;
	int		dfd;

	mkhome();
	memset(old, 'A', sizeof(old) - 1);
	old[sizeof(old) - 1] = '\0';
	put("home/alice/.ssh/" AK, old, 0600);
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), INPUT_MAX, &buf,
	    &len, &st, msg, sizeof(msg)), 0, "%s", msg);
	free(buf);
	cr_assert_eq(safefs_replace(dfd, AK_DISP, AK, "b\n", 2, geteuid(),
	    getegid(), 0600, &st, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(get("home/alice/.ssh/" AK), "b\n");
	close(dfd);
}

Test(safefs, replace_leaves_an_open_reader_the_old_file)
{
	struct stat	st, now;
	char		msg[SAFEFS_MSG_MAX], rd[64], *buf;
	size_t		len;
	int		dfd, reader;
	ssize_t		n;

	mkhome();
	put("home/alice/.ssh/" AK, "old contents\n", 0600);
	reader = openat(treefd, "home/alice/.ssh/" AK, O_RDONLY);
	cr_assert_neq(reader, -1);
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), INPUT_MAX, &buf,
	    &len, &st, msg, sizeof(msg)), 0, "%s", msg);
	free(buf);
	cr_assert_eq(safefs_replace(dfd, AK_DISP, AK, KEYLINE,
	    strlen(KEYLINE), geteuid(), getegid(), 0600, &st, msg,
	    sizeof(msg)), 0, "%s", msg);
	n = read(reader, rd, sizeof(rd) - 1);
	cr_assert_eq(n, 13);
	rd[n] = '\0';
	cr_assert_str_eq(rd, "old contents\n");
	cr_assert_str_eq(get("home/alice/.ssh/" AK), KEYLINE);
	cr_assert_eq(fstatat(dfd, AK, &now, 0), 0);
	cr_assert_neq(now.st_ino, st.st_ino);
	close(reader);
	close(dfd);
}

Test(safefs, replace_refuses_file_changed_since_read)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX], *buf;
	size_t		len;
	int		dfd, fd;

	mkhome();
	put("home/alice/.ssh/" AK, KEYLINE, 0600);
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), INPUT_MAX, &buf,
	    &len, &st, msg, sizeof(msg)), 0, "%s", msg);
	free(buf);
	fd = openat(dfd, AK, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "# mine\n", 7), 7);
	close(fd);
	cr_assert_eq(safefs_replace(dfd, AK_DISP, AK, "new\n", 4, geteuid(),
	    getegid(), 0600, &st, msg, sizeof(msg)), KE_BUSY);
	cr_assert_str_eq(msg, AK_DISP ": changed by someone else while "
	    "keyadm was working; try again");
	cr_assert_str_eq(get("home/alice/.ssh/" AK), KEYLINE "# mine\n");
	cr_assert_eq(count_entries("home/alice/.ssh"), 1);
	close(dfd);
}

Test(safefs, replace_refuses_file_swapped_since_read)
{
	struct timespec	times[2];
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX], *buf;
	size_t		len;
	int		dfd;

	mkhome();
	put("home/alice/.ssh/" AK, KEYLINE, 0600);
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), INPUT_MAX, &buf,
	    &len, &st, msg, sizeof(msg)), 0, "%s", msg);
	free(buf);
	/* Same size and times, another inode. */
	put("home/alice/.ssh/swap", KEYLINE, 0600);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	cr_assert_eq(utimensat(dfd, "swap", times, 0), 0);
	cr_assert_eq(renameat(dfd, "swap", dfd, AK), 0);
	cr_assert_eq(replace_ak("new\n", &st, msg), KE_BUSY);
	cr_assert_str_eq(get("home/alice/.ssh/" AK), KEYLINE);
	cr_assert_eq(count_entries("home/alice/.ssh"), 1);
	close(dfd);
}

Test(safefs, replace_refuses_file_created_since_read)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX], *buf;
	size_t		len;
	int		dfd;

	mkhome();
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), INPUT_MAX, &buf,
	    &len, &st, msg, sizeof(msg)), 0);
	cr_assert_null(buf);
	put("home/alice/.ssh/" AK, "theirs\n", 0600);
	/* Both NULL and the zeroed stat of a missing file mean "missing". */
	cr_assert_eq(replace_ak("new\n", NULL, msg), KE_BUSY);
	cr_assert_eq(replace_ak("new\n", &st, msg), KE_BUSY);
	cr_assert_str_eq(get("home/alice/.ssh/" AK), "theirs\n");
	cr_assert_eq(unlinkat(dfd, AK, 0), 0);
	cr_assert_eq(replace_ak("new\n", &st, msg), 0, "%s", msg);
	cr_assert_str_eq(get("home/alice/.ssh/" AK), "new\n");
	close(dfd);
}

Test(safefs, replace_refuses_file_removed_since_read)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX], *buf;
	size_t		len;
	int		dfd;

	mkhome();
	put("home/alice/.ssh/" AK, KEYLINE, 0600);
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_read(dfd, AK_DISP, AK, geteuid(), INPUT_MAX, &buf,
	    &len, &st, msg, sizeof(msg)), 0);
	free(buf);
	cr_assert_eq(unlinkat(dfd, AK, 0), 0);
	cr_assert_eq(replace_ak("new\n", &st, msg), KE_BUSY);
	cr_assert_eq(count_entries("home/alice/.ssh"), 0);
	close(dfd);
}

Test(safefs, replace_never_writes_through_a_symlink)
{
	struct stat	lst;
	char		msg[SAFEFS_MSG_MAX], secret[PATH_MAX];
	int		dfd;

	mkhome();
	put("secret", "root's private key\n", 0600);
	abspath(secret, sizeof(secret), "secret");
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(symlinkat(secret, dfd, AK), 0);
	cr_assert_eq(fstatat(dfd, AK, &lst, AT_SYMLINK_NOFOLLOW), 0);
	/* Planted after a read that found nothing, or "expected" itself. */
	cr_assert_eq(replace_ak(KEYLINE, NULL, msg), KE_BUSY);
	cr_assert_eq(replace_ak(KEYLINE, &lst, msg), KE_BUSY);
	cr_assert_str_eq(get("secret"), "root's private key\n");
	cr_assert_eq(fstatat(dfd, AK, &lst, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert(S_ISLNK(lst.st_mode));
	cr_assert_eq(count_entries("home/alice/.ssh"), 1);
	close(dfd);
}

/*
 * A user who races us, planting and removing a symlink at the target all
 * the time, sometimes wins the window between the check and renameat: the
 * rename then replaces the link itself.  Whatever happens, the file the
 * link points to is never written and no temporary is left.
 */
Test(safefs, replace_racing_symlink_never_reaches_its_target)
{
	char	msg[SAFEFS_MSG_MAX], secret[PATH_MAX];
	int	dfd, i, r, ok = 0;
	pid_t	pid;

	(void)alarm(60);	/* a blocking call kills the test */
	mkhome();
	put("secret", "root's private key\n", 0600);
	abspath(secret, sizeof(secret), "secret");
	dfd = dirfd_of("home/alice/.ssh");
	if ((pid = fork()) == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			if (symlinkat(secret, dfd, AK) == -1 ||
			    unlinkat(dfd, AK, 0) == -1)
				continue;
		}
	}
	cr_assert_neq(pid, -1);
	for (i = 0; i < 300; i++) {
		r = replace_ak(KEYLINE, NULL, msg);
		cr_assert(r == 0 || r == KE_BUSY, "got %d: %s", r, msg);
		ok += r == 0;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_str_eq(get("secret"), "root's private key\n");
	(void)unlinkat(dfd, AK, 0);
	cr_assert_eq(count_entries("home/alice/.ssh"), 0);
	cr_log_info("%d of 300 replaces won the race", ok);
	close(dfd);
}

Test(safefs, replace_never_writes_through_a_hard_link)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX];
	int		dfd;

	mkhome();
	put("victim", "root's private key\n", 0600);
	cr_assert_eq(linkat(treefd, "victim", treefd, "home/alice/.ssh/" AK,
	    0), 0);
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(fstatat(dfd, AK, &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(replace_ak(KEYLINE, &st, msg), KE_BUSY);
	cr_assert_str_eq(get("victim"), "root's private key\n");
	cr_assert_eq(count_entries("home/alice/.ssh"), 1);
	close(dfd);
}

Test(safefs, replace_refuses_too_long_name)
{
	char	msg[SAFEFS_MSG_MAX], name[NAME_MAX + 1];
	int	dfd;

	mkhome();
	memset(name, 'k', NAME_MAX - 4);
	name[NAME_MAX - 4] = '\0';
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_replace(dfd, "/k", name, "x", 1, geteuid(),
	    getegid(), 0600, NULL, msg, sizeof(msg)), KE_CANTCREATE);
	cr_assert_eq(count_entries("home/alice/.ssh"), 0);
	close(dfd);
}

/* --- safefs_read_input ------------------------------------------------- */

Test(safefs, read_input_reads_a_file)
{
	char		 msg[SAFEFS_MSG_MAX], path[PATH_MAX];
	unsigned char	*buf;
	size_t		 len;

	put("alice.pub", KEYLINE, 0644);
	abspath(path, sizeof(path), "alice.pub");
	cr_assert_eq(safefs_read_input(path, INPUT_MAX, &buf, &len, msg,
	    sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(len, strlen(KEYLINE));
	cr_assert_eq(memcmp(buf, KEYLINE, len), 0);
	free(buf);
}

Test(safefs, read_input_reads_stdin)
{
	char		 msg[SAFEFS_MSG_MAX];
	unsigned char	*buf;
	size_t		 len;
	int		 fd;

	put("alice.pub", KEYLINE, 0644);
	fd = openat(treefd, "alice.pub", O_RDONLY);
	cr_assert_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	cr_assert_eq(safefs_read_input("-", INPUT_MAX, &buf, &len, msg,
	    sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(len, strlen(KEYLINE));
	cr_assert_eq(memcmp(buf, KEYLINE, len), 0);
	free(buf);
}

Test(safefs, read_input_caps_stdin)
{
	char		 msg[SAFEFS_MSG_MAX];
	unsigned char	*buf = (unsigned char *)1;
	size_t		 len = 9;
	int		 p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "0123456789abcdefX", 17), 17);
	close(p[1]);
	cr_assert_eq(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	cr_assert_eq(safefs_read_input("-", 16, &buf, &len, msg,
	    sizeof(msg)), KE_MALFORMED);
	cr_assert_str_eq(msg,
	    "standard input: larger than 16 bytes, not a public key");
	cr_assert_null(buf);
	cr_assert_eq(len, 0);
}

Test(safefs, read_input_missing)
{
	char	path[PATH_MAX];

	abspath(path, sizeof(path), "nokey.pub");
	input_fails(path, INPUT_MAX, KE_NOINPUT, "no such file or directory");
}

Test(safefs, read_input_refuses_symlink)
{
	char	path[PATH_MAX];

	put("id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0600);
	cr_assert_eq(symlinkat("id_ed25519", treefd, "alice.pub"), 0);
	abspath(path, sizeof(path), "alice.pub");
	input_fails(path, INPUT_MAX, KE_NOINPUT,
	    "is a symbolic link; give the file itself");
}

Test(safefs, read_input_refuses_directory)
{
	char	path[PATH_MAX];

	mkdir_mode("keys", 0755);
	abspath(path, sizeof(path), "keys");
	input_fails(path, INPUT_MAX, KE_NOINPUT, "not a regular file");
}

Test(safefs, read_input_refuses_fifo_without_blocking)
{
	char	path[PATH_MAX];

	(void)alarm(5);	/* a blocking call kills the test */
	cr_assert_eq(mkfifoat(treefd, "alice.pub", 0644), 0);
	abspath(path, sizeof(path), "alice.pub");
	input_fails(path, INPUT_MAX, KE_NOINPUT, "not a regular file");
}

Test(safefs, read_input_refuses_too_large)
{
	char	path[PATH_MAX], *big;

	big = malloc(INPUT_MAX + 2);
	cr_assert_not_null(big);
	memset(big, 'A', INPUT_MAX + 1);
	big[INPUT_MAX + 1] = '\0';
	put("big.pub", big, 0644);
	abspath(path, sizeof(path), "big.pub");
	input_fails(path, INPUT_MAX, KE_MALFORMED,
	    "larger than 65536 bytes, not a public key");
	free(big);
}

Test(safefs, read_input_escapes_path_in_message)
{
	char		 msg[SAFEFS_MSG_MAX];
	unsigned char	*buf;
	size_t		 len;

	cr_assert_eq(safefs_read_input("/nonexistent/\033]0;pwn\007.pub",
	    INPUT_MAX, &buf, &len, msg, sizeof(msg)), KE_NOINPUT);
	cr_assert_str_eq(msg, "/nonexistent/\\x1b]0;pwn\\x07.pub: "
	    "no such file or directory");
}

/* --- privs (any user) -------------------------------------------------- */

/* In a child that is not root (dropped for good if need be): 0 if no-op. */
static int
noop_child(void)
{
	struct privs_saved	save;
	gid_t			g = OTHER_GID;
	uid_t			me;

	if (geteuid() == 0 && (setgroups(0, NULL) == -1 ||
	    setresgid(OTHER_GID, OTHER_GID, OTHER_GID) == -1 ||
	    setresuid(OTHER_UID, OTHER_UID, OTHER_UID) == -1))
		return 1;
	me = geteuid();
	if (privs_become(&save, 1, 1, &g, 1) != 0 || save.active != 0 ||
	    geteuid() != me)
		return 2;
	if (privs_restore(&save) != 0 || geteuid() != me)
		return 3;
	return 0;
}

Test(privs, become_is_a_noop_when_not_root)
{
	pid_t	pid;
	int	status;

	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0)
		_exit(noop_child());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "step %d failed",
	    WEXITSTATUS(status));
}

Test(privs, restore_without_become_is_a_noop)
{
	struct privs_saved	save;
	uid_t			me = geteuid();

	memset(&save, 0, sizeof(save));
	cr_assert_eq(privs_restore(&save), 0);
	cr_assert_eq(geteuid(), me);
}

/* --- root only --------------------------------------------------------- */

Test(safefs_root, walk_refuses_ssh_owned_by_another_user)
{
	NEED_ROOT();
	mkhome();
	cr_assert_eq(fchownat(treefd, "home/alice", ALICE_UID, ALICE_UID, 0),
	    0);
	cr_assert_eq(fchownat(treefd, "home/alice/.ssh", OTHER_UID,
	    OTHER_GID, 0), 0);
	walk_fails("/home/alice/.ssh", ALICE_UID, KE_UNSAFE,
	    "/home/alice/.ssh: owned by uid 4242, expected 1001 or root");
}

Test(safefs_root, walk_accepts_dirs_owned_by_the_user)
{
	char	msg[SAFEFS_MSG_MAX];
	int	fd;

	NEED_ROOT();
	mkhome();
	cr_assert_eq(fchownat(treefd, "home/alice", ALICE_UID, ALICE_UID, 0),
	    0);
	cr_assert_eq(fchownat(treefd, "home/alice/.ssh", ALICE_UID,
	    ALICE_UID, 0), 0);
	cr_assert_eq(safefs_walk(treefd, "", "/home/alice/.ssh", ALICE_UID,
	    &fd, msg, sizeof(msg)), 0, "%s", msg);
	close(fd);
	/* Walking for root, a user's directory is foreign. */
	walk_fails("/home/alice/.ssh", 0, KE_UNSAFE,
	    "/home/alice: owned by uid 1001, expected root");
}

/* safefs_subdir of home/alice/.ssh with the ids of OTHER_UID. */
static int
subdir_as_user(char *msg)
{
	struct privs_saved	save;
	gid_t			g = OTHER_GID;
	int			afd, fd = 12345, r;

	afd = dirfd_of("home/alice");
	cr_assert_eq(privs_become(&save, OTHER_UID, OTHER_GID, &g, 1), 0);
	r = safefs_subdir(afd, "/home/alice/.ssh", ".ssh", OTHER_UID,
	    OTHER_GID, 0700, 1, &fd, msg, SAFEFS_MSG_MAX);
	cr_assert_eq(privs_restore(&save), 0);
	cr_assert_eq(fd, -1);
	close(afd);
	return r;
}

/* As the account, a denied open still reports the foreign owner. */
Test(safefs_root, subdir_as_user_reports_foreign_owner)
{
	char	msg[SAFEFS_MSG_MAX];

	NEED_ROOT();
	mkhome();
	cr_assert_eq(fchownat(treefd, "home/alice", OTHER_UID, OTHER_GID, 0),
	    0);
	cr_assert_eq(fchownat(treefd, "home/alice/.ssh", ALICE_UID,
	    ALICE_UID, 0), 0);
	cr_assert_eq(subdir_as_user(msg), KE_UNSAFE);
	cr_assert_str_eq(msg,
	    "/home/alice/.ssh: owned by uid 1001, expected 4242 or root");
	/* Root's own 0700 directory: sshd could not read it either. */
	cr_assert_eq(fchownat(treefd, "home/alice/.ssh", 0, 0, 0), 0);
	cr_assert_eq(subdir_as_user(msg), KE_UNSAFE);
	cr_assert_str_eq(msg, "/home/alice/.ssh: permission denied");
}

Test(safefs_root, read_as_user_of_unreadable_file)
{
	struct privs_saved	 save;
	char			 msg[SAFEFS_MSG_MAX], *buf;
	size_t			 len;
	gid_t			 g = OTHER_GID;
	int			 dfd, r;

	NEED_ROOT();
	mkhome();
	cr_assert_eq(fchownat(treefd, "home/alice/.ssh", OTHER_UID,
	    OTHER_GID, 0), 0);
	put("home/alice/.ssh/" AK, KEYLINE, 0600);	/* root's */
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(privs_become(&save, OTHER_UID, OTHER_GID, &g, 1), 0);
	r = safefs_read(dfd, AK_DISP, AK, OTHER_UID, INPUT_MAX, &buf, &len,
	    NULL, msg, sizeof(msg));
	cr_assert_eq(privs_restore(&save), 0);
	cr_assert_eq(r, KE_UNSAFE);
	cr_assert_str_eq(msg, AK_DISP ": permission denied");
	cr_assert_null(buf);
	close(dfd);
}

Test(safefs_root, subdir_created_for_the_user)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX];
	int		afd, fd;

	NEED_ROOT();
	mkdir_mode("home", 0755);
	mkdir_mode("home/alice", 0755);
	cr_assert_eq(fchownat(treefd, "home/alice", OTHER_UID, OTHER_GID, 0),
	    0);
	afd = dirfd_of("home/alice");
	cr_assert_eq(safefs_subdir(afd, "/home/alice/.ssh", ".ssh", OTHER_UID,
	    OTHER_GID, 0700, 1, &fd, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(fstatat(afd, ".ssh", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_uid, OTHER_UID);
	cr_assert_eq(st.st_gid, OTHER_GID);
	cr_assert_eq(st.st_mode & 07777, 0700);
	close(fd);
	close(afd);
}

Test(safefs_root, read_refuses_file_of_another_user)
{
	NEED_ROOT();
	mkhome();
	put("home/alice/.ssh/" AK, KEYLINE, 0600);
	cr_assert_eq(fchownat(treefd, "home/alice/.ssh/" AK, OTHER_UID,
	    OTHER_GID, 0), 0);
	read_fails(ALICE_UID, INPUT_MAX, KE_UNSAFE,
	    AK_DISP ": owned by uid 4242, expected 1001 or root");
}

Test(safefs_root, read_refuses_device)
{
	(void)alarm(5);	/* a blocking call kills the test */
	NEED_ROOT();
	mkhome();
	cr_assert_eq(mknodat(treefd, "home/alice/.ssh/" AK, S_IFCHR | 0600,
	    makedev(1, 3)), 0);
	read_fails(0, INPUT_MAX, KE_UNSAFE, AK_DISP ": not a regular file");
}

Test(safefs_root, replace_sets_owner)
{
	struct stat	st;
	char		msg[SAFEFS_MSG_MAX];
	int		dfd;

	NEED_ROOT();
	mkhome();
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(safefs_replace(dfd, AK_DISP, AK, KEYLINE,
	    strlen(KEYLINE), OTHER_UID, OTHER_GID, 0600, NULL, msg,
	    sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(fstatat(dfd, AK, &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(st.st_uid, OTHER_UID);
	cr_assert_eq(st.st_gid, OTHER_GID);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_str_eq(get("home/alice/.ssh/" AK), KEYLINE);
	close(dfd);
}

Test(safefs_root, replace_as_user_in_root_dir_fails_cleanly)
{
	struct privs_saved	save;
	char			msg[SAFEFS_MSG_MAX];
	gid_t			g = OTHER_GID;
	int			dfd, r;

	NEED_ROOT();
	mkhome();
	dfd = dirfd_of("home/alice/.ssh");
	cr_assert_eq(privs_become(&save, OTHER_UID, OTHER_GID, &g, 1), 0);
	r = safefs_replace(dfd, AK_DISP, AK, KEYLINE, strlen(KEYLINE),
	    OTHER_UID, OTHER_GID, 0600, NULL, msg, sizeof(msg));
	cr_assert_eq(privs_restore(&save), 0);
	cr_assert_eq(r, KE_CANTCREATE, "got %d: %s", r, msg);
	cr_assert_str_eq(msg, AK_DISP ": cannot create a temporary file: "
	    "Permission denied");
	cr_assert_eq(count_entries("home/alice/.ssh"), 0);
	close(dfd);
}

Test(safefs_root, read_input_permission_denied)
{
	struct privs_saved	 save;
	char			 msg[SAFEFS_MSG_MAX], path[PATH_MAX];
	char			 want[PATH_MAX + 64];
	unsigned char		*buf;
	size_t			 len;
	gid_t			 g = OTHER_GID;
	int			 r;

	NEED_ROOT();
	put("root.pub", KEYLINE, 0600);
	abspath(path, sizeof(path), "root.pub");
	cr_assert_eq(privs_become(&save, OTHER_UID, OTHER_GID, &g, 1), 0);
	r = safefs_read_input(path, INPUT_MAX, &buf, &len, msg, sizeof(msg));
	cr_assert_eq(privs_restore(&save), 0);
	cr_assert_eq(r, KE_NOINPUT);
	cr_assert_lt((size_t)snprintf(want, sizeof(want),
	    "%s: permission denied", path), sizeof(want));
	cr_assert_str_eq(msg, want);
}

Test(safefs_root, privs_become_and_restore)
{
	struct privs_saved	save;
	struct stat		st;
	gid_t			before[PRIVS_GROUPS_MAX], now[PRIVS_GROUPS_MAX];
	gid_t			want[2] = { OTHER_GID, 4244 };
	int			nbefore, n, fd;

	NEED_ROOT();
	mkdir_mode("home", 0755);
	mkdir_mode("home/other", 0700);
	cr_assert_eq(fchownat(treefd, "home/other", OTHER_UID, OTHER_GID, 0),
	    0);
	put("rootonly", "x", 0600);
	nbefore = getgroups(PRIVS_GROUPS_MAX, before);
	cr_assert_geq(nbefore, 0);
	cr_assert_eq(privs_become(&save, OTHER_UID, OTHER_GID, want, 2), 0);
	cr_assert_eq(save.active, 1);
	cr_assert_eq(geteuid(), OTHER_UID);
	cr_assert_eq(getegid(), OTHER_GID);
	cr_assert_eq(getuid(), 0);	/* only the effective ids moved */
	n = getgroups(PRIVS_GROUPS_MAX, now);
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(now, want, sizeof(want)), 0);
	fd = openat(treefd, "home/other/f", O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert_neq(fd, -1, "create as user: %s", strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_uid, OTHER_UID);
	cr_assert_eq(st.st_gid, OTHER_GID);
	close(fd);
	/* The kernel checks the user's permissions now. */
	cr_assert_eq(openat(treefd, "rootonly", O_RDONLY), -1);
	cr_assert_eq(errno, EACCES);
	cr_assert_eq(privs_restore(&save), 0);
	cr_assert_eq(save.active, 0);
	cr_assert_eq(geteuid(), 0);
	cr_assert_eq(getegid(), 0);
	n = getgroups(PRIVS_GROUPS_MAX, now);
	cr_assert_eq(n, nbefore);
	cr_assert_eq(memcmp(now, before, (size_t)n * sizeof(gid_t)), 0);
	fd = openat(treefd, "rootonly", O_RDONLY);
	cr_assert_neq(fd, -1);
	close(fd);
}

Test(safefs_root, privs_become_refuses_too_many_groups)
{
	struct privs_saved	save;
	gid_t			g[PRIVS_GROUPS_MAX + 1];

	NEED_ROOT();
	memset(g, 0, sizeof(g));
	cr_assert_eq(privs_become(&save, OTHER_UID, OTHER_GID, g,
	    PRIVS_GROUPS_MAX + 1), KE_INTERNAL);
	cr_assert_eq(save.active, 0);
	cr_assert_eq(geteuid(), 0);
	cr_assert_eq(getegid(), 0);
}
