/*
 * test_accounts.c -- account names, lookups, walks and the actor.
 *
 * Suite "accounts".  Tree lookups and walks read <tree>/etc/passwd and
 * etc/group of a mkdtemp tree through a descriptor of it (.init makes it,
 * .fini removes it); the system is only read: a lookup of "root" and a walk
 * that must include it.  actor_identify is run in the
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

/* --- accounts_each in a tree ------------------------------------------ */

/*
 * The first "alice" and the first "rel" decide those names; NIS lines,
 * invalid names, a relative or empty home, comments, blank lines and lines
 * the C library cannot parse give no account.
 */
#define WALK_PASSWD \
	"# the accounts\n" \
	"root:x:0:0:root:/root:/bin/sh\n" \
	"\n" \
	"alice:x:1001:1001:Alice:/home/alice:/bin/sh\n" \
	"+::::::\n" \
	"+@admins::::::\n" \
	"-mallory::::::\n" \
	"this is not a passwd entry\n" \
	"bob:x:1002:100::/home/bob:/bin/sh\n" \
	"al ice:x:1006:1006::/home/alice2:/bin/sh\n" \
	"../x:x:1007:1007::/tmp:/bin/sh\n" \
	"alice:x:0:0::/root:/bin/sh\n" \
	"rel:x:1003:1003::home/rel:/bin/sh\n" \
	"nohome:x:1004:1004:::/bin/sh\n" \
	"rel:x:1013:1013::/home/rel:/bin/sh\n" \
	"carol:x:1008:1008::/home/carol:/bin/sh\n" \
	"   # an indented comment\n" \
	"dave:x:notanumber:1::/home/dave:/bin/sh\n" \
	"machine$:x:1005:1005::/var/empty:/usr/sbin/nologin\n"
#define WALK_GROUP \
	"root:x:0:\n" \
	"users:x:100:bob\n" \
	"wheel:x:10:bob,alice\n" \
	"alice:x:1001:alice\n" \
	"dev:x:2000:carol,alice,dave\n" \
	"ops:x:2001:alicex,xalice\n" \
	"twice:x:2002:bob,bob\n" \
	"# a comment\n" \
	"bad:x:nope:alice\n" \
	"+:::\n" \
	"svc:x:2003:machine$\n"

/* What a walk handed out, in order. */
struct walked {
	struct account	*a;
	size_t		 n, cap;
	size_t		 stop_at;	/* return stop at the stop_at'th */
	int		 stop;
};

static int
collect(const struct account *a, void *arg)
{
	struct walked	*w = arg;
	struct account	*p;

	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 16 : w->cap * 2;
		p = reallocarray(w->a, w->cap, sizeof(*p));
		cr_assert_not_null(p);
		w->a = p;
	}
	w->a[w->n++] = *a;
	return w->stop_at != 0 && w->n == w->stop_at ? w->stop : 0;
}

static const struct account *
walked_find(const struct walked *w, const char *name)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->a[i].name, name) == 0)
			return &w->a[i];
	return NULL;
}

static void
mketc_walk(void)
{
	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd", WALK_PASSWD);
	put_at(treefd, "etc/group", WALK_GROUP);
}

static void
assert_groups(const struct account *a, const gid_t *want, size_t n)
{
	size_t	i;

	cr_assert_eq(a->ngroups, n, "%s: ngroups %zu, want %zu", a->name,
	    a->ngroups, n);
	for (i = 0; i < n; i++)
		cr_assert_eq(a->groups[i], want[i], "%s: groups[%zu] %lu, "
		    "want %lu", a->name, i, (unsigned long)a->groups[i],
		    (unsigned long)want[i]);
}

Test(accounts, each_tree_accounts_in_order)
{
	static const char	*want[] = { "root", "alice", "bob", "carol",
				    "machine$" };
	struct walked		 w = { 0 };
	const struct account	*a;
	size_t			 i;

	mketc_walk();
	cr_assert_eq(accounts_each(treefd, collect, &w), 0);
	cr_assert_eq(w.n, 5, "%zu accounts", w.n);
	for (i = 0; i < w.n; i++)
		cr_assert_str_eq(w.a[i].name, want[i]);
	cr_assert_not_null(a = walked_find(&w, "alice"));
	cr_assert_eq(a->uid, 1001, "the first alice wins");
	cr_assert_eq(a->gid, 1001);
	cr_assert_str_eq(a->home, "/home/alice");
	cr_assert_not_null(a = walked_find(&w, "root"));
	cr_assert_eq(a->uid, 0);
	cr_assert_str_eq(a->home, "/root");
	cr_assert_not_null(a = walked_find(&w, "machine$"));
	cr_assert_eq(a->uid, 1005);
	cr_assert_str_eq(a->home, "/var/empty");
	/* the first rel has a relative home: the second is not used either */
	cr_assert_null(walked_find(&w, "rel"));
	cr_assert_null(walked_find(&w, "nohome"));
	cr_assert_null(walked_find(&w, "dave"));
	free(w.a);
}

Test(accounts, each_tree_supplementary_groups)
{
	static const gid_t	 root[] = { 0 }, alice[] = { 1001, 10, 2000 },
				 bob[] = { 100, 10, 2002 },
				 carol[] = { 1008, 2000 },
				 machine[] = { 1005, 2003 };
	struct walked		 w = { 0 };

	mketc_walk();
	cr_assert_eq(accounts_each(treefd, collect, &w), 0);
	cr_assert_eq(w.n, 5);
	assert_groups(walked_find(&w, "root"), root, 1);
	/* alice's primary group lists her: not twice; ops is not hers */
	assert_groups(walked_find(&w, "alice"), alice, 3);
	/* bob: users is his primary; twice lists him twice */
	assert_groups(walked_find(&w, "bob"), bob, 3);
	assert_groups(walked_find(&w, "carol"), carol, 2);
	assert_groups(walked_find(&w, "machine$"), machine, 2);
	free(w.a);
}

/* The walk hands out what accounts_lookup finds, and only that. */
Test(accounts, each_tree_agrees_with_lookup)
{
	static const char	*nouser[] = { "dave", "mallory", "al ice" };
	struct walked		 w = { 0 };
	struct account		 l;
	const struct account	*a;
	size_t			 i;

	mketc_walk();
	cr_assert_eq(accounts_each(treefd, collect, &w), 0);
	for (i = 0; i < w.n; i++) {
		a = &w.a[i];
		cr_assert_eq(accounts_lookup(treefd, a->name, &l), 0);
		cr_assert_eq(l.uid, a->uid, "%s", a->name);
		cr_assert_eq(l.gid, a->gid, "%s", a->name);
		cr_assert_str_eq(l.home, a->home);
		assert_groups(a, l.groups, l.ngroups);
	}
	cr_assert_eq(accounts_lookup(treefd, "rel", &l), KE_CONFIG);
	cr_assert_eq(accounts_lookup(treefd, "nohome", &l), KE_CONFIG);
	for (i = 0; i < sizeof(nouser) / sizeof(nouser[0]); i++)
		cr_assert_eq(accounts_lookup(treefd, nouser[i], &l),
		    KE_NOUSER, "%s", nouser[i]);
	free(w.a);
}

Test(accounts, each_tree_without_group_file)
{
	struct walked	w = { 0 };
	size_t		i;

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd", WALK_PASSWD);
	cr_assert_eq(accounts_each(treefd, collect, &w), 0);
	cr_assert_eq(w.n, 5);
	for (i = 0; i < w.n; i++)
		assert_groups(&w.a[i], &w.a[i].gid, 1);
	free(w.a);
}

/* An empty tree has no accounts: 0, and the callback is never called. */
Test(accounts, each_tree_without_passwd)
{
	struct walked	w = { 0 };

	cr_assert_eq(accounts_each(treefd, collect, &w), 0);
	cr_assert_eq(w.n, 0);
	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	cr_assert_eq(accounts_each(treefd, collect, &w), 0);
	cr_assert_eq(w.n, 0);
	put_at(treefd, "etc/group", WALK_GROUP);
	cr_assert_eq(accounts_each(treefd, collect, &w), 0);
	cr_assert_eq(w.n, 0);
	put_at(treefd, "etc/passwd", "");
	cr_assert_eq(accounts_each(treefd, collect, &w), 0);
	cr_assert_eq(w.n, 0);
}

Test(accounts, each_tree_callback_stops_the_walk)
{
	static const struct {
		size_t	at;
		int	stop;
	}		stops[] = { { 1, 42 }, { 2, 1 }, { 3, KE_POLICY },
			    { 5, -1000 } };
	struct walked	w = { 0 };
	size_t		i;

	mketc_walk();
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		w.n = 0;
		w.stop_at = stops[i].at;
		w.stop = stops[i].stop;
		cr_assert_eq(accounts_each(treefd, collect, &w),
		    stops[i].stop);
		cr_assert_eq(w.n, stops[i].at, "called %zu times, not %zu",
		    w.n, stops[i].at);
	}
	free(w.a);
}

Test(accounts, each_tree_symlinked_passwd_refused)
{
	struct walked	w = { 0 };

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd.real", WALK_PASSWD);
	put_at(treefd, "etc/group", WALK_GROUP);
	cr_assert_eq(symlinkat("passwd.real", treefd, "etc/passwd"), 0);
	cr_assert_eq(accounts_each(treefd, collect, &w), KE_IO);
	cr_assert_eq(w.n, 0, "a linked etc/passwd was read");
}

/* etc/group is read before the first call: nothing is handed out. */
Test(accounts, each_tree_symlinked_group_refused)
{
	struct walked	w = { 0 };

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd", WALK_PASSWD);
	put_at(treefd, "etc/group.real", WALK_GROUP);
	cr_assert_eq(symlinkat("group.real", treefd, "etc/group"), 0);
	cr_assert_eq(accounts_each(treefd, collect, &w), KE_IO);
	cr_assert_eq(w.n, 0);
}

Test(accounts, each_tree_symlinked_etc_refused)
{
	struct walked	w = { 0 };
	int		ofd;

	(void)snprintf(other, sizeof(other), "/tmp/test_accounts_o.XXXXXX");
	cr_assert_not_null(mkdtemp(other));
	ofd = open(other, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_neq(ofd, -1);
	put_at(ofd, "passwd", "mallory:x:0:0::/root:/bin/sh\n");
	(void)close(ofd);
	cr_assert_eq(symlinkat(other, treefd, "etc"), 0);
	/* root's own link in root's tree is followed, but inside the tree:
	 * its absolute target is not the one outside */
	if (geteuid() == 0) {
		cr_assert_eq(accounts_each(treefd, collect, &w), 0);
		cr_assert_eq(w.n, 0, "a linked etc/ led out of the tree");
		cr_assert_eq(fchownat(treefd, "etc", 2001, 2001,
		    AT_SYMLINK_NOFOLLOW), 0);
	}
	/* anyone else's link is not followed at all */
	cr_assert_neq(accounts_each(treefd, collect, &w), 0);
	cr_assert_eq(w.n, 0, "a linked etc/ was followed");
}

Test(accounts, each_tree_passwd_not_a_file)
{
	struct walked	w = { 0 };

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	cr_assert_eq(mkfifoat(treefd, "etc/passwd", 0644), 0);
	cr_assert_eq(accounts_each(treefd, collect, &w), KE_IO);
	cr_assert_eq(unlinkat(treefd, "etc/passwd", 0), 0);
	cr_assert_eq(mkdirat(treefd, "etc/passwd", 0755), 0);
	cr_assert_eq(accounts_each(treefd, collect, &w), KE_IO);
	cr_assert_eq(w.n, 0);
}

/* An entry larger than the walk's buffer may grow to is an error. */
Test(accounts, each_tree_entry_over_the_cap)
{
	struct walked	 w = { 0 };
	char		*p;
	size_t		 big = 17 * 1024 * 1024;
	int		 fd;

	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	cr_assert_not_null(p = malloc(big + 1));
	memset(p, 'x', big);
	p[big] = '\0';
	fd = openat(treefd, "etc/passwd", O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0644);
	cr_assert_neq(fd, -1);
	cr_assert_gt(dprintf(fd, "alice:x:1001:1001::/home/alice:/bin/sh\n"
	    "bob:x:1002:1002:%s:/home/bob:/bin/sh\n", p), (int)big);
	cr_assert_eq(close(fd), 0);
	free(p);
	cr_assert_eq(accounts_each(treefd, collect, &w), KE_IO);
	cr_assert_eq(w.n, 1);
	cr_assert_str_eq(w.a[0].name, "alice");
	free(w.a);
}

#define BIG_USERS	20000
#define BIG_GROUPS	2000
#define BIG_DUPS	1000
#define BIG_LONG	777	/* this account's entry needs a larger buffer */

/*
 * Account i: uid 100000 + i, primary group 50000 + i % BIG_GROUPS, listed
 * in its primary group (not to be repeated), in the next two, and in "all"
 * (60000, an entry of some 160 KB).  BIG_DUPS later entries reuse names.
 */
static void
put_big_tree(void)
{
	char	*pw = NULL, *gr = NULL;
	size_t	 pwlen = 0, grlen = 0;
	FILE	*f;
	int	 i, g, k, m;

	cr_assert_not_null(f = open_memstream(&pw, &pwlen));
	for (i = 0; i < BIG_USERS; i++) {
		fprintf(f, "u%05d:x:%d:%d:", i, 100000 + i,
		    50000 + i % BIG_GROUPS);
		for (k = 0; i == BIG_LONG && k < 100000; k++)
			fputc('g', f);
		fprintf(f, ":/home/u%05d:/bin/sh\n", i);
		if (i % 1000 == 0)
			fprintf(f, "+@netgroup%d::::::\n# %d\n\n", i, i);
	}
	for (i = 0; i < BIG_DUPS; i++)
		fprintf(f, "u%05d:x:0:0::/root:/bin/sh\n", i * 7);
	cr_assert_eq(fclose(f), 0);
	cr_assert_not_null(f = open_memstream(&gr, &grlen));
	for (g = 0; g < BIG_GROUPS; g++) {
		fprintf(f, "g%04d:x:%d:", g, 50000 + g);
		for (k = 0; k < BIG_USERS / BIG_GROUPS; k++)
			for (m = 0; m < 3; m++)
				fprintf(f, "%su%05d", k + m == 0 ? "" : ",",
				    k * BIG_GROUPS +
				    (g - m + BIG_GROUPS) % BIG_GROUPS);
		fputc('\n', f);
	}
	fprintf(f, "all:x:60000:");
	for (i = 0; i < BIG_USERS; i++)
		fprintf(f, "%su%05d", i == 0 ? "" : ",", i);
	fputc('\n', f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(mkdirat(treefd, "etc", 0755), 0);
	put_at(treefd, "etc/passwd", pw);
	put_at(treefd, "etc/group", gr);
	free(pw);
	free(gr);
}

struct bigwalk {
	unsigned char	seen[BIG_USERS];
	size_t		n;
};

static int
check_big(const struct account *a, void *arg)
{
	struct bigwalk	*b = arg;
	char		 home[32];
	int		 i;

	cr_assert_eq(sscanf(a->name, "u%05d", &i), 1, "%s", a->name);
	cr_assert(i >= 0 && i < BIG_USERS);
	cr_assert_eq(b->seen[i], 0, "%s handed out twice", a->name);
	b->seen[i] = 1;
	b->n++;
	cr_assert_eq(a->uid, (uid_t)(100000 + i), "%s: a later entry won",
	    a->name);
	(void)snprintf(home, sizeof(home), "/home/u%05d", i);
	cr_assert_str_eq(a->home, home);
	cr_assert_eq(a->ngroups, 4, "%s: %zu groups", a->name, a->ngroups);
	cr_assert_eq(a->groups[0], (gid_t)(50000 + i % BIG_GROUPS));
	cr_assert(has_group(a, (gid_t)(50000 + (i + 1) % BIG_GROUPS)));
	cr_assert(has_group(a, (gid_t)(50000 + (i + 2) % BIG_GROUPS)));
	cr_assert_eq(a->groups[3], 60000);
	return 0;
}

Test(accounts, each_tree_large, .timeout = 600)
{
	static const int	 probe[] = { 0, BIG_LONG, 12345,
				    BIG_USERS - 1 };
	struct bigwalk		*b;
	struct account		 l;
	char			 name[16];
	size_t			 i;

	put_big_tree();
	cr_assert_not_null(b = calloc(1, sizeof(*b)));
	cr_assert_eq(accounts_each(treefd, check_big, b), 0);
	cr_assert_eq(b->n, BIG_USERS, "%zu accounts", b->n);
	for (i = 0; i < BIG_USERS; i++)
		cr_assert_eq(b->seen[i], 1, "u%05zu missing", i);
	free(b);
	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		(void)snprintf(name, sizeof(name), "u%05d", probe[i]);
		cr_assert_eq(accounts_lookup(treefd, name, &l), 0, "%s", name);
		cr_assert_eq(check_big(&l, &(struct bigwalk){ { 0 }, 0 }), 0);
	}
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

Test(accounts, each_system_includes_root)
{
	struct walked		 w = { 0 };
	const struct account	*a;
	size_t			 i, j;

	cr_assert_eq(accounts_each(-1, collect, &w), 0);
	cr_assert_not_null(a = walked_find(&w, "root"));
	cr_assert_eq(a->uid, 0);
	cr_assert_str_eq(a->home, "/root");
	cr_assert_geq(a->ngroups, 1);
	cr_assert_eq(a->groups[0], a->gid);
	for (i = 0; i < w.n; i++) {
		cr_assert_eq(accounts_valid_name(w.a[i].name), 1);
		cr_assert_eq(w.a[i].home[0], '/');
		for (j = i + 1; j < w.n; j++)
			cr_assert_str_neq(w.a[i].name, w.a[j].name);
	}
	w.n = 0;
	w.stop_at = 1;
	w.stop = 7;
	cr_assert_eq(accounts_each(-1, collect, &w), 7);
	cr_assert_eq(w.n, 1);
	free(w.a);
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
