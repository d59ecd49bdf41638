/*
 * test_install.c -- keyfile_expand, and keyfile_open / keyfile_write on a
 * mkdtemp tree laid out like a system (<tree>/home/alice, walked from a
 * descriptor of <tree>, so paths read "/home/alice/...").
 *
 * Suites: install (any user: expansion, and the whole open/append/write
 * cycle with the runner's own uid -- when the runner is root, the test's
 * process first gives the tree to uid 4242 and drops to it for good), and
 * install_root (needs root: the account is uid 4242 and root does the
 * walking and switches ids; skipped otherwise).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "authkeys.h"
#include "err.h"
#include "install.h"

#define OTHER_UID	4242
#define OTHER_GID	4243
#define PATTERN		"%h/.ssh/authorized_keys"
#define AK_REL		"home/alice/.ssh/authorized_keys"
#define K1		"AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
#define KEYLINE		"ssh-ed25519 " K1 " alice@test\n"
#define LOCK_MS		2000

static char		tree[PATH_MAX];
static int		treefd = -1;
static struct account	ac;
static struct keyfile	kf;
static char		msg[1024];

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
	(void)snprintf(tree, sizeof(tree), "/tmp/test_install.XXXXXX");
	cr_assert_not_null(mkdtemp(tree));
	cr_assert_eq(chmod(tree, 0755), 0);
	treefd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_neq(treefd, -1);
	memset(&kf, 0, sizeof(kf));
	kf.dirfd = -1;
	msg[0] = '\0';
}

static void
teardown(void)
{
	keyfile_close(&kf);
	if (treefd != -1)
		(void)close(treefd);
	treefd = -1;
	if (tree[0] != '\0')
		(void)nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tree[0] = '\0';
}

TestSuite(install, .init = setup, .fini = teardown);
TestSuite(install_root, .init = setup, .fini = teardown);

#define NEED_ROOT() do {						\
	if (geteuid() != 0) {						\
		teardown();						\
		cr_skip_test("needs root");				\
	}								\
} while (0)

/* --- helpers ----------------------------------------------------------- */

static void
set_acct(const char *home, uid_t uid, gid_t gid)
{
	memset(&ac, 0, sizeof(ac));
	(void)snprintf(ac.name, sizeof(ac.name), "alice");
	(void)snprintf(ac.home, sizeof(ac.home), "%s", home);
	ac.uid = uid;
	ac.gid = gid;
	ac.groups[0] = gid;
	ac.ngroups = 1;
}

static void
mkdir_own(const char *rel, mode_t mode, uid_t uid, gid_t gid)
{
	cr_assert_eq(mkdirat(treefd, rel, 0700), 0, "mkdir %s: %s", rel,
	    strerror(errno));
	cr_assert_eq(fchownat(treefd, rel, uid, gid, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(fchmodat(treefd, rel, mode, 0), 0);
}

static void
put(const char *rel, const char *content, mode_t mode, uid_t uid, gid_t gid)
{
	int	fd;

	fd = openat(treefd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	cr_assert_neq(fd, -1, "create %s: %s", rel, strerror(errno));
	cr_assert_eq(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	cr_assert_eq(fchown(fd, uid, gid), 0);
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(close(fd), 0);
}

/* Contents of a file of the tree (static buffer). */
static const char *
get(const char *rel)
{
	static char	buf[64 * 1024];
	ssize_t		n;
	int		fd;

	fd = openat(treefd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	cr_assert_neq(fd, -1, "open %s: %s", rel, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	cr_assert_geq(n, 0);
	buf[n] = '\0';
	(void)close(fd);
	return buf;
}

static void
assert_node(const char *rel, mode_t type, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat	st;

	cr_assert_eq(fstatat(treefd, rel, &st, AT_SYMLINK_NOFOLLOW), 0,
	    "stat %s: %s", rel, strerror(errno));
	cr_assert_eq(st.st_mode & S_IFMT, type, "%s: type", rel);
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

/*
 * The non-root set-up: <tree>/home (root's when we are root) and
 * home/alice owned by the account, which is the runner.  As root, give the
 * tree to OTHER_UID and become it for the rest of this test's process.
 */
static void
nonroot_home(void)
{
	if (geteuid() == 0) {
		cr_assert_eq(chown(tree, OTHER_UID, OTHER_GID), 0);
		mkdir_own("home", 0755, OTHER_UID, OTHER_GID);
		mkdir_own("home/alice", 0755, OTHER_UID, OTHER_GID);
		cr_assert_eq(setgroups(0, NULL), 0);
		cr_assert_eq(setresgid(OTHER_GID, OTHER_GID, OTHER_GID), 0);
		cr_assert_eq(setresuid(OTHER_UID, OTHER_UID, OTHER_UID), 0);
		cr_assert_neq(geteuid(), 0);
	} else {
		mkdir_own("home", 0755, geteuid(), getegid());
		mkdir_own("home/alice", 0755, geteuid(), getegid());
	}
	set_acct("/home/alice", geteuid(), getegid());
}

/* As root: home root's, home/alice the account's (OTHER_UID). */
static void
root_home(void)
{
	mkdir_own("home", 0755, 0, 0);
	mkdir_own("home/alice", 0755, OTHER_UID, OTHER_GID);
	set_acct("/home/alice", OTHER_UID, OTHER_GID);
}

static void
open_ok(const char *pattern, int create)
{
	int	r;

	keyfile_close(&kf);
	r = keyfile_open(&kf, treefd, "", pattern, &ac, create, LOCK_MS,
	    msg, sizeof(msg));
	cr_assert_eq(r, 0, "keyfile_open %s: %d (%s)", pattern, r, msg);
	cr_assert_not_null(kf.ak);
}

/* Open with create, append the key, write, close. */
static void
install_key(const char *pattern)
{
	int	r;

	open_ok(pattern, 1);
	cr_assert_neq(kf.dirfd, -1);
	cr_assert_eq(authkeys_append(kf.ak, NULL, "ssh-ed25519", K1,
	    "alice@test"), 0);
	r = keyfile_write(&kf, msg, sizeof(msg));
	cr_assert_eq(r, 0, "keyfile_write: %d (%s)", r, msg);
	keyfile_close(&kf);
}

static void
assert_sees_key(const char *pattern)
{
	open_ok(pattern, 0);
	cr_assert_eq(kf.existed, 1);
	cr_assert_eq(kf.ak->n, 1);
	cr_assert(kf.ak->lines[0].is_key);
	cr_assert_str_eq(kf.ak->lines[0].b64, K1);
	cr_assert_str_eq(kf.ak->lines[0].comment, "alice@test");
	cr_assert_eq(authkeys_find(kf.ak, kf.ak->lines[0].blob,
	    kf.ak->lines[0].bloblen, 0), 0);
	keyfile_close(&kf);
}

/* --- keyfile_expand ---------------------------------------------------- */

static int
expand(const char *pattern, char *out, size_t outlen)
{
	return keyfile_expand(pattern, &ac, out, outlen);
}

static void
expand_eq(const char *pattern, const char *want)
{
	char	out[PATH_MAX];
	int	r;

	r = expand(pattern, out, sizeof(out));
	cr_assert_eq(r, 0, "\"%s\": %d", pattern, r);
	cr_assert_str_eq(out, want, "\"%s\"", pattern);
}

static void
expand_bad(const char *pattern)
{
	char	out[PATH_MAX];

	cr_assert_eq(expand(pattern, out, sizeof(out)), KE_CONFIG, "\"%s\"",
	    pattern);
}

Test(install, expand_tokens)
{
	set_acct("/home/alice", 1001, 1001);
	expand_eq("%h/.ssh/authorized_keys", "/home/alice/.ssh/authorized_keys");
	expand_eq("/etc/ssh/authorized_keys/%u", "/etc/ssh/authorized_keys/alice");
	expand_eq("/etc/ssh/keys/%U", "/etc/ssh/keys/1001");
	expand_eq("/etc/ssh/100%%/%u", "/etc/ssh/100%/alice");
	expand_eq("/k/%u.%U/%%h%%u", "/k/alice.1001/%h%u");
	expand_eq("/plain", "/plain");
	set_acct("/home/alice", 0, 0);
	expand_eq("/k/%U", "/k/0");
	set_acct("/home/alice", 4294967294U, 0);
	expand_eq("/k/%U", "/k/4294967294");
}

Test(install, expand_relative_is_under_home)
{
	set_acct("/home/alice", 1001, 1001);
	expand_eq(".ssh/authorized_keys", "/home/alice/.ssh/authorized_keys");
	expand_eq("%u/keys", "/home/alice/alice/keys");
	expand_eq("authorized_keys", "/home/alice/authorized_keys");
	expand_eq("%%keys", "/home/alice/%keys");
}

Test(install, expand_unknown_token)
{
	set_acct("/home/alice", 1001, 1001);
	expand_bad("%x/keys");
	expand_bad("/keys/%H");
	expand_bad("/keys/%d");
	expand_bad("/keys/%");		/* a lone '%' at the end */
	expand_bad("%");
	expand_bad("/keys/%u%");
}

Test(install, expand_overflow)
{
	char	out[64], pat[PATH_MAX + 64];
	size_t	n = strlen("/home/alice/.ssh/authorized_keys");

	set_acct("/home/alice", 1001, 1001);
	/* exactly fits, one byte short */
	cr_assert_eq(expand(PATTERN, out, n + 1), 0);
	cr_assert_str_eq(out, "/home/alice/.ssh/authorized_keys");
	cr_assert_eq(expand(PATTERN, out, n), KE_CONFIG);
	cr_assert_eq(expand(".ssh/authorized_keys", out, n), KE_CONFIG);
	cr_assert_eq(expand("/x", out, 1), KE_CONFIG);
	/* longer than PATH_MAX before the output buffer is reached */
	memset(pat, 'a', sizeof(pat) - 1);
	pat[0] = '/';
	pat[sizeof(pat) - 1] = '\0';
	expand_bad(pat);
	/* a long home, many times */
	memset(pat, 0, sizeof(pat));
	memset(ac.home, 'h', PATH_MAX - 1);
	ac.home[0] = '/';
	ac.home[PATH_MAX - 1] = '\0';
	expand_bad("%h/x");
	expand_bad("x");		/* relative: home + "/x" */
}

Test(install, expand_refuses_parent_directory)
{
	set_acct("/home/alice", 1001, 1001);
	expand_bad("%h/../bob/.ssh/authorized_keys");
	expand_bad("../bob/.ssh/authorized_keys");	/* under the home */
	expand_bad("/etc/ssh/../../root/.ssh/authorized_keys");
	expand_bad("%h/.ssh/../../bob/k");
	set_acct("/home/../root", 0, 0);
	expand_bad(PATTERN);
	/* ".." as part of a name is not a parent */
	set_acct("/home/alice", 1001, 1001);
	expand_eq("%h/..keys/x", "/home/alice/..keys/x");
	expand_eq("%h/keys../x", "/home/alice/keys../x");
}

/* --- keyfile_open / keyfile_write as the account (any user) ------------ */

Test(install, create_write_as_runner)
{
	nonroot_home();
	install_key(PATTERN);
	assert_node("home/alice/.ssh", S_IFDIR, 0700, ac.uid, ac.gid);
	assert_node(AK_REL, S_IFREG, 0600, ac.uid, ac.gid);
	cr_assert_str_eq(get(AK_REL), KEYLINE);
}

Test(install, second_open_sees_key_as_runner)
{
	nonroot_home();
	install_key(PATTERN);
	assert_sees_key(PATTERN);
	/* and the create flag changes nothing for an existing file */
	open_ok(PATTERN, 1);
	cr_assert_eq(kf.existed, 1);
	cr_assert_eq(kf.ak->n, 1);
}

Test(install, keyfile_fields_as_runner)
{
	nonroot_home();
	open_ok(PATTERN, 1);
	cr_assert_str_eq(kf.path, "/home/alice/.ssh/authorized_keys");
	cr_assert_str_eq(kf.disp, "/home/alice/.ssh/authorized_keys");
	cr_assert_str_eq(kf.name, "authorized_keys");
	cr_assert_eq(kf.in_home, 1);
	cr_assert_eq(kf.mode, 0600);
	cr_assert_eq(kf.uid, ac.uid);
	cr_assert_eq(kf.existed, 0);
	cr_assert_eq(kf.ak->n, 0);
}

Test(install, display_prefix)
{
	int	r;

	nonroot_home();
	r = keyfile_open(&kf, treefd, "/srv/img", PATTERN, &ac, 1, LOCK_MS,
	    msg, sizeof(msg));
	cr_assert_eq(r, 0, "%s", msg);
	cr_assert_str_eq(kf.path, "/home/alice/.ssh/authorized_keys");
	cr_assert_str_eq(kf.disp, "/srv/img/home/alice/.ssh/authorized_keys");
}

Test(install, keeps_existing_lines_as_runner)
{
	const char	*old = "# managed by hand\r\n"
			    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g bob";

	nonroot_home();
	mkdir_own("home/alice/.ssh", 0700, ac.uid, ac.gid);
	put(AK_REL, old, 0600, ac.uid, ac.gid);
	open_ok(PATTERN, 1);
	cr_assert_eq(kf.existed, 1);
	cr_assert_eq(kf.ak->n, 2);
	cr_assert_eq(authkeys_append(kf.ak, NULL, "ssh-ed25519", K1,
	    "alice@test"), 0);
	cr_assert_eq(keyfile_write(&kf, msg, sizeof(msg)), 0, "%s", msg);
	keyfile_close(&kf);
	cr_assert_str_eq(get(AK_REL), "# managed by hand\r\n"
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g bob\n"
	    KEYLINE);
	assert_node(AK_REL, S_IFREG, 0600, ac.uid, ac.gid);
}

Test(install, dry_open_without_ssh_as_runner)
{
	nonroot_home();
	open_ok(PATTERN, 0);
	cr_assert_eq(kf.dirfd, -1);
	cr_assert_eq(kf.existed, 0);
	cr_assert_eq(kf.ak->n, 0);
	keyfile_close(&kf);
	cr_assert(!exists("home/alice/.ssh"), "a dry open created .ssh");
}

Test(install, dry_open_with_empty_ssh_as_runner)
{
	nonroot_home();
	mkdir_own("home/alice/.ssh", 0700, ac.uid, ac.gid);
	open_ok(PATTERN, 0);
	cr_assert_neq(kf.dirfd, -1);
	cr_assert_eq(kf.existed, 0);
	cr_assert_eq(kf.ak->n, 0);
	keyfile_close(&kf);
	cr_assert(!exists(AK_REL));
}

Test(install, missing_home_as_runner)
{
	int	r;

	nonroot_home();
	set_acct("/home/nobody-here", ac.uid, ac.gid);
	r = keyfile_open(&kf, treefd, "", PATTERN, &ac, 1, LOCK_MS, msg,
	    sizeof(msg));
	cr_assert_eq(r, KE_CANTCREATE, "%d (%s)", r, msg);
	cr_assert(strncmp(msg, "/home/nobody-here", 17) == 0, "%s", msg);
}

Test(install, bad_pattern_message)
{
	int	r;

	nonroot_home();
	r = keyfile_open(&kf, treefd, "", "%h/%q", &ac, 1, LOCK_MS, msg,
	    sizeof(msg));
	cr_assert_eq(r, KE_CONFIG);
	cr_assert_str_eq(msg, "authorized_keys_file: cannot expand for alice");
	r = keyfile_open(&kf, treefd, "", "%h/.ssh/", &ac, 1, LOCK_MS, msg,
	    sizeof(msg));
	cr_assert_eq(r, KE_CONFIG, "a pattern naming a directory");
}

Test(install, pattern_ending_in_dotdot_refused_as_runner)
{
	int	r;

	nonroot_home();
	mkdir_own("home/alice/.ssh", 0700, ac.uid, ac.gid);
	r = keyfile_open(&kf, treefd, "", "%h/.ssh/..", &ac, 1, LOCK_MS,
	    msg, sizeof(msg));
	cr_assert_neq(r, 0, "\"%%h/.ssh/..\" opened (%s)", msg);
}

Test(install, symlinked_ssh_refused_as_runner)
{
	int	r;

	nonroot_home();
	mkdir_own("home/alice/elsewhere", 0700, ac.uid, ac.gid);
	cr_assert_eq(symlinkat("elsewhere", treefd, "home/alice/.ssh"), 0);
	r = keyfile_open(&kf, treefd, "", PATTERN, &ac, 1, LOCK_MS, msg,
	    sizeof(msg));
	cr_assert_neq(r, 0);
	cr_assert(!exists("home/alice/elsewhere/authorized_keys"));
}

Test(install, lock_held_until_close_as_runner)
{
	struct keyfile	kf2;
	char		msg2[512];
	int		r;

	nonroot_home();
	open_ok(PATTERN, 1);
	r = keyfile_open(&kf2, treefd, "", PATTERN, &ac, 1, 100, msg2,
	    sizeof(msg2));
	keyfile_close(&kf2);
	cr_assert_eq(r, KE_BUSY, "%d (%s)", r, msg2);
	keyfile_close(&kf);
	r = keyfile_open(&kf2, treefd, "", PATTERN, &ac, 1, 100, msg2,
	    sizeof(msg2));
	keyfile_close(&kf2);
	cr_assert_eq(r, 0, "%d (%s)", r, msg2);
}

/* --- as root, for another account -------------------------------------- */

Test(install_root, create_write_for_account)
{
	NEED_ROOT();
	root_home();
	install_key(PATTERN);
	assert_node("home/alice/.ssh", S_IFDIR, 0700, OTHER_UID, OTHER_GID);
	assert_node(AK_REL, S_IFREG, 0600, OTHER_UID, OTHER_GID);
	cr_assert_str_eq(get(AK_REL), KEYLINE);
	cr_assert_eq(geteuid(), 0, "root's ids restored");
	cr_assert_eq(getegid(), 0);
}

Test(install_root, second_open_sees_key)
{
	NEED_ROOT();
	root_home();
	install_key(PATTERN);
	assert_sees_key(PATTERN);
	cr_assert_eq(geteuid(), 0);
}

Test(install_root, dry_open_without_ssh)
{
	NEED_ROOT();
	root_home();
	open_ok(PATTERN, 0);
	cr_assert_eq(kf.dirfd, -1);
	cr_assert_eq(kf.ak->n, 0);
	keyfile_close(&kf);
	cr_assert(!exists("home/alice/.ssh"));
	cr_assert_eq(geteuid(), 0);
}

Test(install_root, central_pattern)
{
	NEED_ROOT();
	root_home();
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/ssh", 0755, 0, 0);
	mkdir_own("etc/ssh/authorized_keys", 0755, 0, 0);
	open_ok("/etc/ssh/authorized_keys/%u", 1);
	cr_assert_eq(kf.in_home, 0);
	cr_assert_eq(kf.mode, 0644);
	keyfile_close(&kf);
	install_key("/etc/ssh/authorized_keys/%u");
	assert_node("etc/ssh/authorized_keys/alice", S_IFREG, 0644, 0, 0);
	cr_assert_str_eq(get("etc/ssh/authorized_keys/alice"), KEYLINE);
	cr_assert(!exists("home/alice/.ssh"));
	assert_sees_key("/etc/ssh/authorized_keys/%u");
}

Test(install_root, central_pattern_missing_directory)
{
	int	r;

	NEED_ROOT();
	root_home();
	mkdir_own("etc", 0755, 0, 0);
	r = keyfile_open(&kf, treefd, "", "/etc/ssh/authorized_keys/%u",
	    &ac, 1, LOCK_MS, msg, sizeof(msg));
	cr_assert_eq(r, KE_CANTCREATE, "%d (%s)", r, msg);
	cr_assert(!exists("etc/ssh"), "created a directory outside the home");
}

/* The last directory of a central layout is made, root's and 0755. */
Test(install_root, central_pattern_makes_its_directory)
{
	NEED_ROOT();
	root_home();
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/ssh", 0755, 0, 0);
	open_ok("/etc/ssh/authorized_keys/%u", 0);	/* looking only */
	cr_assert_eq(kf.dirfd, -1);
	keyfile_close(&kf);
	cr_assert(!exists("etc/ssh/authorized_keys"));
	install_key("/etc/ssh/authorized_keys/%u");
	assert_node("etc/ssh/authorized_keys", S_IFDIR, 0755, 0, 0);
	assert_node("etc/ssh/authorized_keys/alice", S_IFREG, 0644, 0, 0);
	cr_assert(!exists("home/alice/.ssh"));
}

/* A central directory others can write is refused, never used. */
Test(install_root, central_pattern_unsafe_directory)
{
	int	r;

	NEED_ROOT();
	root_home();
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/ssh", 0755, 0, 0);
	mkdir_own("etc/ssh/authorized_keys", 0775, 0, OTHER_GID);
	r = keyfile_open(&kf, treefd, "", "/etc/ssh/authorized_keys/%u",
	    &ac, 1, LOCK_MS, msg, sizeof(msg));
	cr_assert_eq(r, KE_UNSAFE, "%d (%s)", r, msg);
	cr_assert(!exists("etc/ssh/authorized_keys/alice"));
}

Test(install_root, home_of_someone_else_refused)
{
	int	r;

	NEED_ROOT();
	mkdir_own("home", 0755, 0, 0);
	mkdir_own("home/alice", 0755, OTHER_UID + 1, OTHER_GID);
	set_acct("/home/alice", OTHER_UID, OTHER_GID);
	r = keyfile_open(&kf, treefd, "", PATTERN, &ac, 1, LOCK_MS, msg,
	    sizeof(msg));
	cr_assert_eq(r, KE_UNSAFE, "%d (%s)", r, msg);
	cr_assert(!exists("home/alice/.ssh"));
}

Test(install_root, ssh_made_by_account_not_root)
{
	NEED_ROOT();
	root_home();
	/* the account cannot write its home: creating .ssh must fail, as it
	 * would for the account itself, not succeed with root's rights */
	cr_assert_eq(fchmodat(treefd, "home/alice", 0555, 0), 0);
	cr_assert_neq(keyfile_open(&kf, treefd, "", PATTERN, &ac, 1,
	    LOCK_MS, msg, sizeof(msg)), 0);
	cr_assert(!exists("home/alice/.ssh"));
	cr_assert_eq(geteuid(), 0);
}

/* An account whose home is "/": a central file is still outside the home. */
Test(install_root, central_pattern_home_is_root_dir)
{
	NEED_ROOT();
	set_acct("/", OTHER_UID, OTHER_GID);
	mkdir_own("etc", 0755, 0, 0);
	mkdir_own("etc/ssh", 0755, 0, 0);
	mkdir_own("etc/ssh/authorized_keys", 0755, 0, 0);
	install_key("/etc/ssh/authorized_keys/%u");
	assert_node("etc/ssh/authorized_keys/alice", S_IFREG, 0644, 0, 0);
}
