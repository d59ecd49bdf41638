/*
 * test_accounts.c -- account names, lookups and the actor.
 *
 * Suite "accounts".  Tree lookups read <tree>/etc/passwd and etc/group of a
 * mkdtemp tree through a descriptor of it (.init makes it, .fini removes
 * it); the only system lookup is of "root".  actor_identify is run in the
 * test's own process (Criterion forks one per test), so setting SUDO_* or
 * dropping the real uid there touches nothing else.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "accounts.h"
#include "actor.h"
#include "err.h"

#define PASSWD \
	"root:x:0:0:root:/root:/bin/sh\n" \
	"alice:x:1001:1001:Alice:/home/alice:/bin/sh\n" \
	"bob:x:1002:100::/home/bob:/bin/sh\n" \
	"rel:x:1003:1003::home/rel:/bin/sh\n" \
	"nohome:x:1004:1004:::/bin/sh\n" \
	"machine$:x:1005:1005::/var/empty:/usr/sbin/nologin\n"
#define GROUP \
	"root:x:0:\n" \
	"users:x:100:bob\n" \
	"wheel:x:10:bob,alice\n" \
	"alice:x:1001:alice\n" \
	"dev:x:2000:carol,alice,dave\n" \
	"ops:x:2001:alicex,xalice\n"

static char	tree[PATH_MAX];
static char	other[PATH_MAX];	/* a second tree, outside the first */
static int	treefd = -1;

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
	(void)snprintf(tree, sizeof(tree), "/tmp/test_accounts.XXXXXX");
	cr_assert_not_null(mkdtemp(tree));
	cr_assert_eq(chmod(tree, 0755), 0);
	treefd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_neq(treefd, -1);
	other[0] = '\0';
}

static void
teardown(void)
{
	if (treefd != -1)
		(void)close(treefd);
	treefd = -1;
	if (tree[0] != '\0')
		(void)nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (other[0] != '\0')
		(void)nftw(other, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tree[0] = other[0] = '\0';
}

TestSuite(accounts, .init = setup, .fini = teardown);

static void
put_at(int dfd, const char *rel, const char *content)
{
	int	fd;

	fd = openat(dfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	cr_assert_neq(fd, -1, "create %s: %s", rel, strerror(errno));
	cr_assert_eq(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	cr_assert_eq(close(fd), 0);
}

static void
mketc(void)
{
	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd", PASSWD);
	put_at(treefd, "etc/group", GROUP);
}

static int
has_group(const struct account *a, gid_t g)
{
	size_t	i;

	for (i = 0; i < a->ngroups; i++)
		if (a->groups[i] == g)
			return 1;
	return 0;
}

/* --- accounts_valid_name ----------------------------------------------- */

Test(accounts, valid_names)
{
	static const char	*good[] = { "alice", "a", "A", "Alice_B",
				    "user-1", "first.last", "_svc", "0",
				    "x-", "machine$", "a.b_c-d$",
				    "abcdefghijabcdefghijabcdefghij12" };
	size_t			 i;

	cr_assert_eq(strlen(good[11]), USERNAME_MAX);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert_eq(accounts_valid_name(good[i]), 1, "\"%s\"",
		    good[i]);
}

Test(accounts, invalid_names)
{
	static const char	*bad[] = { "", "-alice", "-", "a/b", "/",
				    "../x", ".", "..", "a b", "a\tb", "a\nb",
				    "a\x1b", "\x7f", "al:ice", "al$ice", "$$",
				    "a$b$", "al\\ice", "al*", "al\xc3\xa9",
				    "a;rm", "%u", "abcdefghijabcdefghijabcdefghij123"
				    };
	size_t			 i;

	cr_assert_eq(strlen(bad[22]), USERNAME_MAX + 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(accounts_valid_name(bad[i]), 0, "\"%s\"",
		    bad[i]);
}

Test(accounts, dollar_only_at_the_end)
{
	cr_assert_eq(accounts_valid_name("host$"), 1);
	cr_assert_eq(accounts_valid_name("ho$t"), 0);
	cr_assert_eq(accounts_valid_name("$host"), 0);
}

/* --- accounts_lookup in a tree ----------------------------------------- */

Test(accounts, tree_lookup_found)
{
	struct account	a;

	mketc();
	cr_assert_eq(accounts_lookup(treefd, "alice", &a), 0);
	cr_assert_str_eq(a.name, "alice");
	cr_assert_eq(a.uid, 1001);
	cr_assert_eq(a.gid, 1001);
	cr_assert_str_eq(a.home, "/home/alice");
	cr_assert_eq(a.groups[0], 1001, "primary group first");
}

Test(accounts, tree_lookup_supplementary_groups)
{
	struct account	a;

	mketc();
	cr_assert_eq(accounts_lookup(treefd, "alice", &a), 0);
	/* 1001 (primary, listed once), wheel 10, dev 2000; not ops */
	cr_assert_eq(a.ngroups, 3, "ngroups %zu", a.ngroups);
	cr_assert(has_group(&a, 1001));
	cr_assert(has_group(&a, 10));
	cr_assert(has_group(&a, 2000));
	cr_assert(!has_group(&a, 2001), "member name matched as substring");
	cr_assert(!has_group(&a, 100));

	cr_assert_eq(accounts_lookup(treefd, "bob", &a), 0);
	cr_assert_eq(a.gid, 100);
	cr_assert_eq(a.ngroups, 2);
	cr_assert_eq(a.groups[0], 100);
	cr_assert(has_group(&a, 10));
}

Test(accounts, tree_lookup_without_group_file)
{
	struct account	a;

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd", PASSWD);
	cr_assert_eq(accounts_lookup(treefd, "alice", &a), 0);
	cr_assert_eq(a.ngroups, 1);
	cr_assert_eq(a.groups[0], 1001);
}

Test(accounts, tree_lookup_dollar_name)
{
	struct account	a;

	mketc();
	cr_assert_eq(accounts_lookup(treefd, "machine$", &a), 0);
	cr_assert_eq(a.uid, 1005);
}

Test(accounts, tree_lookup_unknown)
{
	struct account	a;

	mketc();
	cr_assert_eq(accounts_lookup(treefd, "carol", &a), KE_NOUSER);
	cr_assert_eq(accounts_lookup(treefd, "alic", &a), KE_NOUSER);
	cr_assert_eq(accounts_lookup(treefd, "alicex", &a), KE_NOUSER);
	cr_assert_eq(accounts_lookup(treefd, "ALICE", &a), KE_NOUSER);
}

Test(accounts, tree_lookup_invalid_name_is_nouser)
{
	struct account	a;

	mketc();
	cr_assert_eq(accounts_lookup(treefd, "../alice", &a), KE_NOUSER);
	cr_assert_eq(accounts_lookup(treefd, "", &a), KE_NOUSER);
	cr_assert_eq(accounts_lookup(treefd, "-alice", &a), KE_NOUSER);
	cr_assert_eq(a.uid, 0);
	cr_assert_str_eq(a.home, "");
}

Test(accounts, tree_lookup_relative_home)
{
	struct account	a;

	mketc();
	cr_assert_eq(accounts_lookup(treefd, "rel", &a), KE_CONFIG);
	cr_assert_eq(accounts_lookup(treefd, "nohome", &a), KE_CONFIG);
}

Test(accounts, tree_without_passwd)
{
	struct account	a;

	cr_assert_eq(accounts_lookup(treefd, "alice", &a), KE_NOUSER);
	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	cr_assert_eq(accounts_lookup(treefd, "alice", &a), KE_NOUSER);
}

Test(accounts, tree_symlinked_passwd_not_followed)
{
	struct account	a;
	char		target[PATH_MAX + 16];

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd.real", PASSWD);
	cr_assert_eq(symlinkat("passwd.real", treefd, "etc/passwd"), 0);
	cr_assert_neq(accounts_lookup(treefd, "alice", &a), 0);
	cr_assert_eq(accounts_lookup(treefd, "alice", &a), KE_IO);

	/* an absolute link, too */
	cr_assert_eq(unlinkat(treefd, "etc/passwd", 0), 0);
	(void)snprintf(target, sizeof(target), "%s/etc/passwd.real", tree);
	cr_assert_eq(symlinkat(target, treefd, "etc/passwd"), 0);
	cr_assert_neq(accounts_lookup(treefd, "alice", &a), 0);
}

Test(accounts, tree_symlinked_group_not_followed)
{
	struct account	a;
	int		r;

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd", PASSWD);
	put_at(treefd, "etc/group.real", GROUP);
	cr_assert_eq(symlinkat("group.real", treefd, "etc/group"), 0);
	r = accounts_lookup(treefd, "alice", &a);
	cr_assert_neq(r, 0, "a linked etc/group was read");
	cr_assert(a.ngroups <= 1 || !has_group(&a, 10));
}

/*
 * Regression (was a bug in src/accounts.c:62, open_tree_file): O_NOFOLLOW guards only the last
 * component, so when the tree's etc is a symbolic link (here to another
 * directory, outside the tree), openat(rootfd, "etc/passwd") follows it and
 * the lookup reads a password file that is not the tree's.  An absolute
 * link "etc -> /etc" in an image reads the host's /etc/passwd.
 * Input: <tree>/etc -> <other>, <other>/passwd holds "mallory".
 * Expected: an error (KE_IO, as for a linked etc/passwd).
 * Actual: 0, mallory found with the other tree's uid and home.
 */
Test(accounts, tree_symlinked_etc_not_followed)
{
	struct account	a;
	int		ofd, r;

	(void)snprintf(other, sizeof(other), "/tmp/test_accounts_o.XXXXXX");
	cr_assert_not_null(mkdtemp(other));
	ofd = open(other, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_neq(ofd, -1);
	put_at(ofd, "passwd", "mallory:x:0:0::/root:/bin/sh\n");
	(void)close(ofd);
	cr_assert_eq(symlinkat(other, treefd, "etc"), 0);
	r = accounts_lookup(treefd, "mallory", &a);
	cr_expect_neq(r, 0, "a symlinked etc/ was followed "
	    "out of the tree (mallory uid %lu home %s)",
	    (unsigned long)a.uid, a.home);
}

Test(accounts, tree_passwd_fifo_does_not_hang)
{
	struct account	a;

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	cr_assert_eq(mkfifoat(treefd, "etc/passwd", 0644), 0);
	cr_assert_neq(accounts_lookup(treefd, "alice", &a), 0);
}

/*
 * Regression (was a minor bug; src/accounts.c:85, lookup_tree): "while (fgetpwent_r(...) ==
 * 0)" takes every error for the end of the file, and the file is not
 * checked to be a regular one, so an etc/passwd that cannot be read (here a
 * directory: EISDIR) gives KE_NOUSER ("unknown user", exit 67) instead of
 * the KE_IO that accounts.h promises.  Fails closed either way.
 */
Test(accounts, tree_passwd_directory)
{
	struct account	a;
	int		r;

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	cr_assert_eq(mkdirat(treefd, "etc/passwd", 0755), 0);
	r = accounts_lookup(treefd, "alice", &a);
	cr_assert_neq(r, 0);
	cr_expect_eq(r, KE_IO, "unreadable etc/passwd gave "
	    "%d, not KE_IO", r);
}

Test(accounts, tree_first_entry_wins)
{
	struct account	a;

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd", "alice:x:1001:1001::/home/alice:/bin/sh\n"
	    "alice:x:0:0::/root:/bin/sh\n");
	cr_assert_eq(accounts_lookup(treefd, "alice", &a), 0);
	cr_assert_eq(a.uid, 1001);
	cr_assert_str_eq(a.home, "/home/alice");
}

/* --- the system databases ---------------------------------------------- */

Test(accounts, system_root)
{
	struct account	a;

	cr_assert_eq(accounts_lookup(-1, "root", &a), 0);
	cr_assert_str_eq(a.name, "root");
	cr_assert_eq(a.uid, 0);
	cr_assert_eq(a.home[0], '/');
	cr_assert_geq(a.ngroups, 1);
	cr_assert_eq(a.groups[0], a.gid);
}

Test(accounts, system_unknown)
{
	struct account	a;

	cr_assert_eq(accounts_lookup(-1, "no-such-user-kA9", &a), KE_NOUSER);
}

/* --- actor_identify ---------------------------------------------------- */

Test(accounts, actor_sudo_as_root)
{
	struct actor	a;

	if (getuid() != 0) {
		teardown();	/* a skipped test does not reach .fini */
		cr_skip_test("needs a real uid of 0");
	}
	cr_assert_eq(setenv("SUDO_USER", "ka-admin", 1), 0);
	cr_assert_eq(setenv("SUDO_UID", "4242", 1), 0);
	actor_identify(&a);
	cr_assert_str_eq(a.how, "sudo");
	cr_assert_str_eq(a.name, "ka-admin");
	cr_assert_eq(a.uid, 4242);
	cr_assert_eq(setenv("SUDO_UID", "0", 1), 0);
	actor_identify(&a);
	cr_assert_str_eq(a.how, "sudo");
	cr_assert_eq(a.uid, 0);
}

Test(accounts, actor_sudo_malformed_ignored)
{
	static const char	*uids[] = { "", "x", "12x", "-1", " 42", "+42",
				    "4294967296", "2147483648",
				    "99999999999999999999", "0x10" };
	static const char	*users[] = { "", "-rf", "../x", "a b",
				    "a\x1b", "abcdefghijabcdefghijabcdefghij123" };
	struct actor		 a;
	size_t			 i;

	if (getuid() != 0) {
		teardown();	/* a skipped test does not reach .fini */
		cr_skip_test("needs a real uid of 0");
	}
	cr_assert_eq(setenv("SUDO_USER", "ka-admin", 1), 0);
	for (i = 0; i < sizeof(uids) / sizeof(uids[0]); i++) {
		cr_assert_eq(setenv("SUDO_UID", uids[i], 1), 0);
		actor_identify(&a);
		cr_assert_str_neq(a.how, "sudo", "SUDO_UID \"%s\"", uids[i]);
		cr_assert_str_neq(a.name, "ka-admin");
	}
	cr_assert_eq(unsetenv("SUDO_UID"), 0);
	actor_identify(&a);
	cr_assert_str_neq(a.how, "sudo", "SUDO_UID unset");

	cr_assert_eq(setenv("SUDO_UID", "4242", 1), 0);
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		cr_assert_eq(setenv("SUDO_USER", users[i], 1), 0);
		actor_identify(&a);
		cr_assert_str_neq(a.how, "sudo", "SUDO_USER \"%s\"", users[i]);
		cr_assert_neq(a.uid, 4242);
	}
	cr_assert_eq(unsetenv("SUDO_USER"), 0);
	actor_identify(&a);
	cr_assert_str_neq(a.how, "sudo", "SUDO_USER unset");
}

Test(accounts, actor_without_sudo)
{
	struct actor	a;

	cr_assert_eq(unsetenv("SUDO_USER"), 0);
	cr_assert_eq(unsetenv("SUDO_UID"), 0);
	actor_identify(&a);
	cr_assert(strcmp(a.how, "loginuid") == 0 || strcmp(a.how, "uid") == 0,
	    "how \"%s\"", a.how);
	cr_assert_neq(a.name[0], '\0');
	if (strcmp(a.how, "uid") == 0)
		cr_assert_eq(a.uid, (long)getuid());
}

/* Not root: SUDO_* are anyone's to set and must be ignored. */
Test(accounts, actor_sudo_ignored_when_not_root)
{
	struct actor	a;

	if (getuid() == 0) {
		/* this test's own process: drop to a uid with no name */
		cr_assert_eq(chown(tree, 4242, 4243), 0);	/* for .fini */
		cr_assert_eq(setgroups(0, NULL), 0);
		cr_assert_eq(setresgid(4243, 4243, 4243), 0);
		cr_assert_eq(setresuid(4242, 4242, 4242), 0);
	}
	cr_assert_eq(setenv("SUDO_USER", "root", 1), 0);
	cr_assert_eq(setenv("SUDO_UID", "0", 1), 0);
	actor_identify(&a);
	cr_assert_str_neq(a.how, "sudo");
	cr_assert_str_neq(a.name, "root");
	if (strcmp(a.how, "uid") == 0) {
		cr_assert_eq(a.uid, (long)getuid());
		if (getuid() == 4242 && getpwuid(4242) == NULL)
			cr_assert_str_eq(a.name, "uid 4242");
	}
}
