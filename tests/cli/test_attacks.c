/*
 * test_attacks.c -- what a local user can stage in their own home, against
 * every command that reads or writes key files (issue 9).
 *
 * Suite "attacks": one ParameterizedTest per command (add, revoke, expire,
 * audit, adopt), each over the table ATTACKS below.  Every case:
 *
 *  1. builds a --root tree (tree_make) with decoys: ROOT/root/.ssh and its
 *     authorized_keys (root's, 0700/0600), ROOT/etc/shadow (0640),
 *     ROOT/etc/ssh/sshd_config, bob's .ssh/authorized_keys (bob's);
 *  2. grants alice k1 (keyadm add), then prepares the command (adopt: an
 *     unmanaged k3 line in alice's file; expire: k1's grant made past due
 *     in the store);
 *  3. stages the attack in alice's home;
 *  4. snapshots every file and directory of the tree outside the store and
 *     the revoked-keys file: type, mode, owner, inode, size, mtime, link
 *     count, SHA-256 of the content, link target (alice's home included
 *     when keyadm must refuse: then nothing at all may change);
 *  5. runs the command (run_keyadm: 30 s, a hang fails the test);
 *  6. checks the outcome: a refusal (77, or 73 where the table says so)
 *     with "keyadm: PATH: REASON" on stderr and the store's grants as they
 *     were, or for audit exit 1 with an unsafe-path finding naming PATH;
 *     or, for attacks that are harmless by construction (the temporary's
 *     name taken over, a million short lines), the command's normal result
 *     with alice's file a fresh regular file of hers;
 *  7. compares the snapshot: no file outside the home changed.
 *
 * Two races (suite "attack_races"): a process of alice's rewriting her file
 * in place while keyadm adds keys (keyadm exits 0 or 75 with a message, and
 * the file is only ever a complete version of hers, possibly with complete
 * key lines after it); and a process of alice's swapping .ssh with a
 * symbolic link to ROOT/root/.ssh (renameat2 RENAME_EXCHANGE) thousands of
 * times while keyadm adds 50 keys: ROOT/root/.ssh is untouched.
 *
 * Suite "attack_pam": pam_keyadm.so reads only the store, so a symbolic
 * link in alice's home changes none of its verdicts (root only: the store
 * must sit under /run for the module's path checks).
 *
 * Cases that need other uids (bob owning alice's .ssh, a device node) are
 * skipped unless root.  The rest are written to run unprivileged too
 * (every account is the runner, keyadm keeps its ids, so only safefs
 * stands between an attack and the decoys), but today keyadm refuses a
 * --root tree its unprivileged runner owns ("owned by uid N, expected
 * root", from the revoked-keys file's walk), as it does for test_cli.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/evp.h>
#include <security/pam_appl.h>

#include "b64.h"
#include "fpr.h"
#include "run.h"

/* ------------------------------------------------------------ keys */

/* Made once with ssh-keygen -t ed25519; fingerprints from ssh-keygen -l. */
#define K1_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIL9uRAPrr+bgtw9ut+DwXPs8MBlPqNQHwbty5EpcjEw4"
#define K1_FP	"SHA256:Yt7bd3RymyiOGZxFNfoo2szFFF9ag+2nVbVM1jQNlTo"
#define K2_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIEYEKIusEoG4WR/V1tv7owOXROqvUBl7A1j8wNzNd2ww"
#define K2_FP	"SHA256:LOtCxUGbwNnmcj5mPb414V6UPG6ZcqJ8HKAs6Whi3bw"
#define K3_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIGga2gOchn+/4SEQm7CSD4I0MqfmALAhcm3DB7StFsem"
#define K3_FP	"SHA256:dx3FGQGn6eAY+rqgZwZO39FZHRLWdGmoyF25qiabx7U"
#define ROOTK_B64 "AAAAC3NzaC1lZDI1NTE5AAAAIJ76qXj1Qel56a5YKBpmfFiIY1C8U7KM+HJ4rfEhDifp"
#define ROOTK_FP "SHA256:ygrrPM7bNIl/Z8y75Nsi5OjnRmsDD/7zzEOyWtBPYeo"
#define BOBK_B64 "AAAAC3NzaC1lZDI1NTE5AAAAIPrzEaPh3yAW5jQGjfHRXF5CWCWbKIa/hGpu+vOOS2Qy"
#define BOBK_FP	"SHA256:ZriPLB9fuIgJ+zSCFL4xBOfZpAWiYvmzIdDPwH+fw5Q"

static const char k1_line[] = "ssh-ed25519 " K1_B64 " alice-k1\n";
static const char k2_line[] = "ssh-ed25519 " K2_B64 " alice-k2\n";
static const char k3_line[] = "ssh-ed25519 " K3_B64 " alice-k3\n";
static const char root_decoy[] =
    "# root's own keys: a decoy\n"
    "ssh-ed25519 " ROOTK_B64 " root-decoy\n";
static const char bob_decoy[] = "ssh-ed25519 " BOBK_B64 " bob-decoy\n";
static const char shadow_decoy[] =
    "root:$6$decoy$Wm1sZWFzZSBkbyBub3QgY3JhY2sgdGhpcw:19000:0:99999:7:::\n"
    "alice:!:19000:0:99999:7:::\nbob:!:19000:0:99999:7:::\n";
static const char sshd_decoy[] = "PermitRootLogin no\nStrictModes yes\n";

/* Paths inside the tree. */
#define A_HOME	"home/alice"
#define A_SSH	"home/alice/.ssh"
#define A_AK	"home/alice/.ssh/authorized_keys"
#define A_TMP	"home/alice/.ssh/.authorized_keys.keyadm~new"
#define A_AK2	"home/alice/.ssh/authorized_keys2"	/* sshd reads it too */
#define R_SSH	"root/.ssh"
#define R_AK	"root/.ssh/authorized_keys"
#define B_SSH	"home/bob/.ssh"
#define B_AK	"home/bob/.ssh/authorized_keys"
#define SHADOW	"etc/shadow"
#define NEWFILE	"etc/keyadm-was-here"	/* must never come to exist */
#define STORE	"var/lib/keyadm/keyadm.db"

#define AUTHKEYS_CAP	(32 * 1024 * 1024)	/* authkeys.h AUTHKEYS_MAX */
#define LINES_CAP	2000000			/* AUTHKEYS_LINES_MAX */

static struct tree	T;
static pid_t		child_pid = -1;		/* a racer, killed in .fini */

/* keyadm --root T ARGS... (NULL-terminated) */
#define ka(r, ...)	tree_ka(&T, (r), NULL, __VA_ARGS__)
#define tp(buf, rel)	tree_path(&T, (buf), PATH_MAX, (rel))

static void
kill_child(void)
{
	int	st;

	if (child_pid > 0) {
		(void)kill(child_pid, SIGKILL);
		(void)waitpid(child_pid, &st, 0);
	}
	child_pid = -1;
}

/* Own rel as alice (or bob), never following a link. */
static void
own(const char *rel, uid_t uid, gid_t gid)
{
	char	p[PATH_MAX];

	cr_assert_eq(lchown(tp(p, rel), uid, gid), 0, "lchown %s: %s", p,
	    strerror(errno));
}

static void
alice_owns(const char *rel)
{
	own(rel, T.alice_uid, T.alice_gid);
}

static void
make_decoys(void)
{
	char	p[PATH_MAX];

	mkdirs(tp(p, R_SSH), 0700);
	spew(tp(p, R_AK), root_decoy, sizeof(root_decoy) - 1, 0600);
	spew(tp(p, SHADOW), shadow_decoy, sizeof(shadow_decoy) - 1, 0640);
	mkdirs(tp(p, "etc/ssh"), 0755);
	spew(tp(p, "etc/ssh/sshd_config"), sshd_decoy, sizeof(sshd_decoy) - 1,
	    0644);
	mkdirs(tp(p, B_SSH), 0700);
	own(B_SSH, T.bob_uid, T.bob_gid);
	spew(tp(p, B_AK), bob_decoy, sizeof(bob_decoy) - 1, 0600);
	own(B_AK, T.bob_uid, T.bob_gid);
	spew(tp(p, "inbox/k1.pub"), k1_line, sizeof(k1_line) - 1, 0644);
	spew(tp(p, "inbox/k2.pub"), k2_line, sizeof(k2_line) - 1, 0644);
	spew(tp(p, "inbox/k3.pub"), k3_line, sizeof(k3_line) - 1, 0644);
}

static void
setup(void)
{
	tree_make(&T);
	set_sudo_actor();
	make_decoys();
}

static void
teardown(void)
{
	kill_child();
	tree_remove(&T);
}

/* A skipped test does not run .fini: clean up first. */
#define SKIP(...) \
	do { \
		teardown(); \
		cr_skip_test(__VA_ARGS__); \
	} while (0)

TestSuite(attacks, .init = setup, .fini = teardown, .timeout = 600);
TestSuite(attack_races, .init = setup, .fini = teardown, .timeout = 600);

/* ------------------------------------------------------- snapshots */

struct ent {
	char		 path[512];	/* relative to the tree */
	mode_t		 mode;
	uid_t		 uid;
	gid_t		 gid;
	nlink_t		 nlink;
	off_t		 size;
	ino_t		 ino;
	dev_t		 rdev;
	struct timespec	 mtim;
	unsigned char	 sha[32];
	char		 link[512];
};

struct snap {
	struct ent	*e;
	size_t		 n, cap;
	int		 skip_home;
};

static struct snap	*cur_snap;
static size_t		 cur_rootlen;

/* Files keyadm may change outside alice's home: the store, the revoked
 * keys file and its temporary; alice's home when asked. */
static int
excluded(const char *rel, int skip_home)
{
	if (strcmp(rel, "var/lib/keyadm") == 0 ||
	    strncmp(rel, "var/lib/keyadm/", 15) == 0)
		return 1;
	if (strncmp(rel, "etc/ssh/", 8) == 0 &&
	    strstr(rel, "keyadm_revoked_keys") != NULL)
		return 1;
	if (skip_home && strncmp(rel, A_HOME, strlen(A_HOME)) == 0 &&
	    strchr("/.", rel[strlen(A_HOME)]) != NULL)	/* "" too */
		return 1;
	return 0;
}

/*
 * SHA-256 of the file's data segments, each with its offset (SEEK_DATA,
 * SEEK_HOLE): a 1 GiB sparse file costs what its data costs.
 */
static void
sha256_file(const char *path, unsigned char out[32])
{
	static char	 buf[1 << 20];
	EVP_MD_CTX	*md;
	unsigned int	 len = 32;
	off_t		 data, hole, off;
	ssize_t		 n;
	size_t		 want;
	int		 fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	cr_assert_neq(fd, -1, "snapshot: open %s: %s", path, strerror(errno));
	md = EVP_MD_CTX_new();
	cr_assert_not_null(md);
	cr_assert_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	for (off = 0; (data = lseek(fd, off, SEEK_DATA)) != -1; off = hole) {
		hole = lseek(fd, data, SEEK_HOLE);
		cr_assert_gt(hole, data, "snapshot: SEEK_HOLE %s", path);
		cr_assert_eq(EVP_DigestUpdate(md, &data, sizeof(data)), 1);
		for (off = data; off < hole; off += n) {
			want = (size_t)(hole - off) < sizeof(buf) ?
			    (size_t)(hole - off) : sizeof(buf);
			n = pread(fd, buf, want, off);
			cr_assert_gt(n, 0, "snapshot: read %s: %s", path,
			    strerror(errno));
			cr_assert_eq(EVP_DigestUpdate(md, buf, (size_t)n), 1);
		}
	}
	cr_assert_eq(errno, ENXIO, "snapshot: SEEK_DATA %s: %s", path,
	    strerror(errno));
	cr_assert_eq(EVP_DigestFinal_ex(md, out, &len), 1);
	EVP_MD_CTX_free(md);
	(void)close(fd);
}

static int
snap_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	const char	*rel = path + cur_rootlen;
	struct ent	*e, *ne;
	ssize_t		 n;

	(void)f;
	while (*rel == '/')
		rel++;
	if (excluded(rel, cur_snap->skip_home))
		return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
	if (cur_snap->n == cur_snap->cap) {
		cur_snap->cap = cur_snap->cap ? cur_snap->cap * 2 : 64;
		ne = reallocarray(cur_snap->e, cur_snap->cap, sizeof(*ne));
		cr_assert_not_null(ne);
		cur_snap->e = ne;
	}
	e = &cur_snap->e[cur_snap->n++];
	memset(e, 0, sizeof(*e));
	xsnprintf(e->path, sizeof(e->path), "%s", rel[0] ? rel : ".");
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->nlink = st->st_nlink;
	e->size = st->st_size;
	e->ino = st->st_ino;
	e->rdev = st->st_rdev;
	e->mtim = st->st_mtim;
	if (S_ISREG(st->st_mode))
		sha256_file(path, e->sha);
	else if (S_ISLNK(st->st_mode)) {
		n = readlink(path, e->link, sizeof(e->link) - 1);
		cr_assert_gt(n, 0, "readlink %s: %s", path, strerror(errno));
		e->link[n] = '\0';
	}
	return FTW_CONTINUE;
}

static int
ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path,
	    ((const struct ent *)b)->path);
}

static void
snap_take(struct snap *s, int skip_home)
{
	memset(s, 0, sizeof(*s));
	s->skip_home = skip_home;
	cur_snap = s;
	cur_rootlen = strlen(T.root);
	cr_assert_eq(nftw(T.root, snap_one, 32, FTW_PHYS | FTW_ACTIONRETVAL),
	    0, "nftw %s: %s", T.root, strerror(errno));
	cur_snap = NULL;
	qsort(s->e, s->n, sizeof(*s->e), ent_cmp);
}

static void
snap_free(struct snap *s)
{
	free(s->e);
	memset(s, 0, sizeof(*s));
}

static void __attribute__((format(printf, 3, 4)))
diff_add(char *buf, size_t len, const char *fmt, ...)
{
	size_t	n = strlen(buf);
	va_list	ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/*
 * What differs between a and b; "" when nothing.  links_may_drop: a hard
 * link the attack made to a decoy may have been removed (the decoy's link
 * count may fall back, nothing else may change).
 */
static void
snap_diff(const struct snap *a, const struct snap *b, int links_may_drop,
    char *out, size_t outlen)
{
	const struct ent	*x, *y;
	size_t			 i = 0, j = 0;
	int			 c, isdir;

	out[0] = '\0';
	while (i < a->n || j < b->n) {
		c = i == a->n ? 1 : j == b->n ? -1 :
		    strcmp(a->e[i].path, b->e[j].path);
		if (c < 0) {
			diff_add(out, outlen, "  vanished: %s\n", a->e[i++].path);
			continue;
		}
		if (c > 0) {
			diff_add(out, outlen, "  appeared: %s\n", b->e[j++].path);
			continue;
		}
		x = &a->e[i++];
		y = &b->e[j++];
		isdir = S_ISDIR(x->mode) && S_ISDIR(y->mode);
		if (x->mode != y->mode)
			diff_add(out, outlen, "  %s: mode %06o -> %06o\n",
			    x->path, (unsigned)x->mode, (unsigned)y->mode);
		if (x->uid != y->uid || x->gid != y->gid)
			diff_add(out, outlen, "  %s: owner %u:%u -> %u:%u\n",
			    x->path, (unsigned)x->uid, (unsigned)x->gid,
			    (unsigned)y->uid, (unsigned)y->gid);
		if (x->ino != y->ino)
			diff_add(out, outlen, "  %s: replaced (inode)\n",
			    x->path);
		if (x->rdev != y->rdev)
			diff_add(out, outlen, "  %s: device number\n", x->path);
		/* the directory keyadm keeps its revoked-keys file in
		 * changes when that file is replaced */
		if ((!isdir || strcmp(x->path, "etc/ssh") != 0) &&
		    (x->mtim.tv_sec != y->mtim.tv_sec ||
		    x->mtim.tv_nsec != y->mtim.tv_nsec))
			diff_add(out, outlen, "  %s: mtime\n", x->path);
		if (isdir)
			continue;	/* entries are compared as paths */
		if (x->size != y->size)
			diff_add(out, outlen, "  %s: size %lld -> %lld\n",
			    x->path, (long long)x->size, (long long)y->size);
		if (x->nlink != y->nlink && !(links_may_drop &&
		    y->nlink < x->nlink && y->nlink >= 1))
			diff_add(out, outlen, "  %s: links %lu -> %lu\n",
			    x->path, (unsigned long)x->nlink,
			    (unsigned long)y->nlink);
		if (memcmp(x->sha, y->sha, sizeof(x->sha)) != 0)
			diff_add(out, outlen, "  %s: content\n", x->path);
		if (strcmp(x->link, y->link) != 0)
			diff_add(out, outlen, "  %s: link target %s -> %s\n",
			    x->path, x->link, y->link);
	}
}

static void
assert_snap_same(const struct snap *before, int links_may_drop,
    const char *what)
{
	struct snap	after;
	char		diff[8192];

	snap_take(&after, before->skip_home);
	snap_diff(before, &after, links_may_drop, diff, sizeof(diff));
	snap_free(&after);
	cr_assert_str_eq(diff, "", "%s: files outside %s changed:\n%s", what,
	    before->skip_home ? "alice's home" : "the store", diff);
}

/* ---------------------------------------------------- store helpers */

static char *
grants_json(void)
{
	struct run_result	 r;
	char			*s;

	cr_assert_eq(ka(&r, "--json", "list", "--status", "all", NULL), 0,
	    "list: %s", r.err);
	s = r.out;
	r.out = NULL;
	run_free(&r);
	return s;
}

/* The status of alice's (latest) grant of fp; "" when none. */
static void
grant_status(const char *fp, char *out, size_t outlen)
{
	char		*j = grants_json(), pat[128];
	const char	*p, *q, *last = NULL;

	xsnprintf(pat, sizeof(pat), "\"fingerprint\":\"%s\"", fp);
	for (p = j; (p = strstr(p, pat)) != NULL; p++)
		last = p;
	out[0] = '\0';
	if (last != NULL && (p = strstr(last, "\"status\":\"")) != NULL) {
		p += 10;
		q = strchr(p, '"');
		cr_assert_not_null(q);
		cr_assert_lt((size_t)(q - p), outlen);
		memcpy(out, p, (size_t)(q - p));
		out[q - p] = '\0';
	}
	free(j);
}

static void
assert_grant(const char *fp, const char *status, const char *what)
{
	char	s[32];

	grant_status(fp, s, sizeof(s));
	cr_assert_str_eq(s, status, "%s: grant of %s is \"%s\", expected "
	    "\"%s\"", what, fp, s, status);
}

#define sql(stmt)	tree_sql_exec(&T, (stmt))

/* ------------------------------------------------------------ attacks */

/* The real home or .ssh moved aside, to put something in its place. */
static void
aside(const char *rel, const char *to)
{
	char	a[PATH_MAX], b[PATH_MAX];

	cr_assert_eq(rename(tp(a, rel), tp(b, to)), 0, "rename %s: %s", a,
	    strerror(errno));
}

/* rel (alice's) becomes a symbolic link to target (absolute in the tree
 * when it starts with '@', else as given). */
static void
link_to(const char *rel, const char *target)
{
	char	p[PATH_MAX], t[PATH_MAX];

	if (target[0] == '@')
		tp(t, target + 1);
	else
		xsnprintf(t, sizeof(t), "%s", target);
	cr_assert_eq(symlink(t, tp(p, rel)), 0, "symlink %s: %s", p,
	    strerror(errno));
	alice_owns(rel);
}

static void
hard_link(const char *rel, const char *target_rel)
{
	char	p[PATH_MAX], t[PATH_MAX];

	cr_assert_eq(link(tp(t, target_rel), tp(p, rel)), 0, "link %s: %s", p,
	    strerror(errno));
}

static void
ak_aside(void)
{
	aside(A_AK, "home/alice/.ssh/authorized_keys.real");
}

static void
st_home_link_root(void)
{
	aside(A_HOME, "home/alice.real");
	link_to(A_HOME, "@root");
}

static void
st_home_link_bob(void)
{
	aside(A_HOME, "home/alice.real");
	link_to(A_HOME, "@home/bob");
}

static void
st_ssh_link_root(void)
{
	aside(A_SSH, "home/alice/.ssh.real");
	link_to(A_SSH, "@" R_SSH);
}

static void
st_ssh_link_bob(void)
{
	aside(A_SSH, "home/alice/.ssh.real");
	link_to(A_SSH, "@" B_SSH);
}

/* even a link to her own directory, relative, is not followed */
static void
st_home_link_dangling(void)
{
	aside(A_HOME, "home/alice.real");
	link_to(A_HOME, "@" NEWFILE);
}

static void
st_ssh_link_dangling(void)
{
	aside(A_SSH, "home/alice/.ssh.real");
	link_to(A_SSH, "@" NEWFILE);
}

static void
st_ssh_link_own(void)
{
	aside(A_SSH, "home/alice/.ssh.real");
	link_to(A_SSH, ".ssh.real");
}

static void
st_ak_link_root(void)
{
	ak_aside();
	link_to(A_AK, "@" R_AK);
}

static void
st_ak_link_bob(void)
{
	ak_aside();
	link_to(A_AK, "@" B_AK);
}

static void
st_ak_link_shadow(void)
{
	ak_aside();
	link_to(A_AK, "@" SHADOW);
}

/* a dangling link: following it to write would create a root file */
static void
st_ak_link_dangling(void)
{
	ak_aside();
	link_to(A_AK, "@" NEWFILE);
}

/* authorized_keys2: sshd's default reads it, audit looks at it */
static void
st_ak2_link_root(void)
{
	link_to(A_AK2, "@" R_AK);
}

static void
st_ak2_fifo(void)
{
	char	p[PATH_MAX];

	cr_assert_eq(mkfifo(tp(p, A_AK2), 0600), 0);
	alice_owns(A_AK2);
}

static void
st_ak2_hardlink_bob(void)
{
	hard_link(A_AK2, B_AK);
}

static void
st_tmp_link_root(void)
{
	link_to(A_TMP, "@" R_AK);
}

static void
st_tmp_link_bob(void)
{
	link_to(A_TMP, "@" B_AK);
}

static void
st_tmp_link_dangling(void)
{
	link_to(A_TMP, "@" NEWFILE);
}

static void
st_tmp_link_root_dir(void)
{
	link_to(A_TMP, "@" R_SSH);
}

static void
st_tmp_hardlink_shadow(void)
{
	hard_link(A_TMP, SHADOW);
}

static void
st_tmp_fifo(void)
{
	char	p[PATH_MAX];

	cr_assert_eq(mkfifo(tp(p, A_TMP), 0600), 0);
	alice_owns(A_TMP);
}

static void
st_tmp_dir(void)
{
	char	p[PATH_MAX];

	mkdirs(tp(p, A_TMP), 0700);
	alice_owns(A_TMP);
	spew(tp(p, A_TMP "/x"), "x\n", 2, 0600);
	alice_owns(A_TMP "/x");
}

static void
st_ak_hardlink_shadow(void)
{
	ak_aside();
	hard_link(A_AK, SHADOW);
}

static void
st_ak_hardlink_bob(void)
{
	ak_aside();
	hard_link(A_AK, B_AK);
}

static void
st_ak_fifo(void)
{
	char	p[PATH_MAX];

	ak_aside();
	cr_assert_eq(mkfifo(tp(p, A_AK), 0600), 0);
	alice_owns(A_AK);
}

static void
st_ak_socket(void)
{
	struct sockaddr_un	sa;
	char			p[PATH_MAX];
	int			fd;

	ak_aside();
	tp(p, A_AK);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	cr_assert_lt(strlen(p), sizeof(sa.sun_path), "socket path too long");
	memcpy(sa.sun_path, p, strlen(p) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_neq(fd, -1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
	    "bind %s: %s", p, strerror(errno));
	cr_assert_eq(listen(fd, 1), 0);
	/* kept open: a listening socket nobody will ever accept on */
	alice_owns(A_AK);
}

static void
st_ak_dir(void)
{
	char	p[PATH_MAX];

	ak_aside();
	mkdirs(tp(p, A_AK), 0700);
	alice_owns(A_AK);
}

/* /dev/zero's numbers: reading it never ends */
static void
st_ak_chardev(void)
{
	char	p[PATH_MAX];

	ak_aside();
	if (mknod(tp(p, A_AK), S_IFCHR | 0600, makedev(1, 5)) == -1)
		SKIP("mknod: %s", strerror(errno));
	alice_owns(A_AK);
}

static void
st_ssh_file(void)
{
	char	p[PATH_MAX];

	aside(A_SSH, "home/alice/.ssh.real");
	spew(tp(p, A_SSH), k1_line, sizeof(k1_line) - 1, 0600);
	alice_owns(A_SSH);
}

static void
st_ssh_fifo(void)
{
	char	p[PATH_MAX];

	aside(A_SSH, "home/alice/.ssh.real");
	cr_assert_eq(mkfifo(tp(p, A_SSH), 0600), 0);
	alice_owns(A_SSH);
}

static void
st_home_bobs(void)
{
	own(A_HOME, T.bob_uid, T.bob_gid);
}

static void
st_ssh_bobs(void)
{
	own(A_SSH, T.bob_uid, T.bob_gid);
}

static void
st_ak_bobs(void)
{
	own(A_AK, T.bob_uid, T.bob_gid);
}

static void
chmod_rel(const char *rel, mode_t mode)
{
	char	p[PATH_MAX];

	cr_assert_eq(chmod(tp(p, rel), mode), 0);
}

static void st_home_g(void) { chmod_rel(A_HOME, 0770); }
static void st_home_o(void) { chmod_rel(A_HOME, 0777); }
static void st_ssh_g(void) { chmod_rel(A_SSH, 0770); }
static void st_ssh_o(void) { chmod_rel(A_SSH, 0707); }
static void st_ak_g(void) { chmod_rel(A_AK, 0660); }
static void st_ak_o(void) { chmod_rel(A_AK, 0666); }

static void
st_ak_sparse(void)
{
	char	p[PATH_MAX];

	/* k1's line stays at the start, then a 1 GiB hole */
	cr_assert_eq(truncate(tp(p, A_AK), (off_t)1 << 30), 0,
	    "truncate: %s", strerror(errno));
}

/* n lines of at most linelen - 1 characters each, appended in big writes */
static void
append_lines(const char *rel, size_t n, int blank)
{
	char	 p[PATH_MAX], *buf;
	size_t	 cap = 1 << 20, len = 0, i;
	int	 w;

	buf = malloc(cap);
	cr_assert_not_null(buf);
	tp(p, rel);
	for (i = 0; i < n; i++) {
		if (cap - len < 64) {
			append_file(p, buf, len);
			len = 0;
		}
		if (blank)
			buf[len++] = '\n';
		else {
			w = snprintf(buf + len, cap - len, "# filler %07zu\n",
			    i);
			len += (size_t)w;
		}
	}
	append_file(p, buf, len);
	free(buf);
}

/* a million comment lines (17 MB): under both caps, so handled */
static void
st_ak_million(void)
{
	append_lines(A_AK, 1000000, 0);
}

/* one line over AUTHKEYS_LINES_MAX, in 2 MB */
static void
st_ak_over_lines(void)
{
	append_lines(A_AK, LINES_CAP, 1);
}

enum outcome {
	REFUSE,		/* every command refuses, audit reports */
	HANDLE,		/* harmless by construction: normal result */
	TMPDIR,		/* writers cannot make their temporary; readers
			   are not concerned */
	AUDIT_ONLY	/* a file only audit reads: audit reports it, the
			   others are not concerned */
};

struct attack {
	const char	*name;
	void		(*stage)(void);
	int		 needs_root;
	enum outcome	 outcome;
	const char	*path;		/* what the message names */
	const char	*reason;	/* a part of the message after it */
	int		 code;		/* exit status of a refusal */
	int		 links;		/* staged a hard link to a decoy */
};

#define SYMLINK	"is a symbolic link"
#define NOTREG	"not a regular file"
#define NOTDIR	"not a directory"
#define BYBOB	"owned by uid 2002, expected 2001 or root"

static const struct attack ATTACKS[] = {
	{ "home_symlink_to_root_home", st_home_link_root, 0, REFUSE,
	    A_HOME, SYMLINK, 77, 0 },
	{ "home_symlink_to_bobs_home", st_home_link_bob, 0, REFUSE,
	    A_HOME, SYMLINK, 77, 0 },
	{ "ssh_symlink_to_root_ssh", st_ssh_link_root, 0, REFUSE,
	    A_SSH, SYMLINK, 77, 0 },
	{ "ssh_symlink_to_bobs_ssh", st_ssh_link_bob, 0, REFUSE,
	    A_SSH, SYMLINK, 77, 0 },
	{ "home_dangling_symlink_into_etc", st_home_link_dangling, 0, REFUSE,
	    A_HOME, SYMLINK, 77, 0 },
	{ "ssh_dangling_symlink_into_etc", st_ssh_link_dangling, 0, REFUSE,
	    A_SSH, SYMLINK, 77, 0 },
	{ "ssh_symlink_to_own_dir", st_ssh_link_own, 0, REFUSE,
	    A_SSH, SYMLINK, 77, 0 },
	{ "ak_symlink_to_root_ak", st_ak_link_root, 0, REFUSE,
	    A_AK, SYMLINK, 77, 0 },
	{ "ak_symlink_to_bobs_ak", st_ak_link_bob, 0, REFUSE,
	    A_AK, SYMLINK, 77, 0 },
	{ "ak_symlink_to_shadow", st_ak_link_shadow, 0, REFUSE,
	    A_AK, SYMLINK, 77, 0 },
	{ "ak_dangling_symlink_into_etc", st_ak_link_dangling, 0, REFUSE,
	    A_AK, SYMLINK, 77, 0 },
	{ "ak2_symlink_to_root_ak", st_ak2_link_root, 0, AUDIT_ONLY,
	    A_AK2, SYMLINK, 0, 0 },
	{ "ak2_fifo", st_ak2_fifo, 0, AUDIT_ONLY, A_AK2, NOTREG, 0, 0 },
	{ "ak2_hard_link_to_bobs_ak", st_ak2_hardlink_bob, 0, AUDIT_ONLY,
	    A_AK2, "has 2 hard links", 0, 0 },
	{ "tmp_symlink_to_root_ak", st_tmp_link_root, 0, HANDLE,
	    NULL, NULL, 0, 0 },
	{ "tmp_symlink_to_bobs_ak", st_tmp_link_bob, 0, HANDLE,
	    NULL, NULL, 0, 0 },
	{ "tmp_dangling_symlink_into_etc", st_tmp_link_dangling, 0, HANDLE,
	    NULL, NULL, 0, 0 },
	{ "tmp_symlink_to_root_ssh_dir", st_tmp_link_root_dir, 0, HANDLE,
	    NULL, NULL, 0, 0 },
	{ "tmp_hard_link_to_shadow", st_tmp_hardlink_shadow, 0, HANDLE,
	    NULL, NULL, 0, 1 },
	{ "tmp_fifo", st_tmp_fifo, 0, HANDLE, NULL, NULL, 0, 0 },
	{ "tmp_directory", st_tmp_dir, 0, TMPDIR,
	    A_AK, "a directory is in the way of the temporary file", 77, 0 },
	{ "ak_hard_link_to_shadow", st_ak_hardlink_shadow, 0, REFUSE,
	    A_AK, "has 2 hard links", 77, 0 },
	{ "ak_hard_link_to_bobs_ak", st_ak_hardlink_bob, 0, REFUSE,
	    A_AK, "has 2 hard links", 77, 0 },
	{ "ak_fifo", st_ak_fifo, 0, REFUSE, A_AK, NOTREG, 77, 0 },
	{ "ak_socket", st_ak_socket, 0, REFUSE, A_AK, NOTREG, 77, 0 },
	{ "ak_directory", st_ak_dir, 0, REFUSE, A_AK, NOTREG, 77, 0 },
	{ "ak_char_device", st_ak_chardev, 1, REFUSE, A_AK, NOTREG, 77, 0 },
	{ "ssh_regular_file", st_ssh_file, 0, REFUSE, A_SSH, NOTDIR, 77, 0 },
	{ "ssh_fifo", st_ssh_fifo, 0, REFUSE, A_SSH, NOTDIR, 77, 0 },
	{ "home_owned_by_bob", st_home_bobs, 1, REFUSE, A_HOME, BYBOB, 77, 0 },
	{ "ssh_owned_by_bob", st_ssh_bobs, 1, REFUSE, A_SSH, BYBOB, 77, 0 },
	{ "ak_owned_by_bob", st_ak_bobs, 1, REFUSE, A_AK, BYBOB, 77, 0 },
	{ "home_group_writable", st_home_g, 0, REFUSE,
	    A_HOME, "writable by group", 77, 0 },
	{ "home_world_writable", st_home_o, 0, REFUSE,
	    A_HOME, "writable by group and others", 77, 0 },
	{ "ssh_group_writable", st_ssh_g, 0, REFUSE,
	    A_SSH, "writable by group", 77, 0 },
	{ "ssh_other_writable", st_ssh_o, 0, REFUSE,
	    A_SSH, "writable by others", 77, 0 },
	{ "ak_group_writable", st_ak_g, 0, REFUSE,
	    A_AK, "writable by group", 77, 0 },
	{ "ak_world_writable", st_ak_o, 0, REFUSE,
	    A_AK, "writable by group and others", 77, 0 },
	{ "ak_sparse_1g", st_ak_sparse, 0, REFUSE,
	    A_AK, "larger than 33554432 bytes", 77, 0 },
	{ "ak_million_lines", st_ak_million, 0, HANDLE, NULL, NULL, 0, 0 },
	{ "ak_over_the_line_cap", st_ak_over_lines, 0, REFUSE,
	    A_AK, "too large", 73, 0 },
};
#define NATTACKS	(sizeof(ATTACKS) / sizeof(ATTACKS[0]))

enum cmd { C_ADD, C_REVOKE, C_EXPIRE, C_AUDIT, C_ADOPT };
static const char *const cmd_names[] = { "add", "revoke", "expire", "audit",
    "adopt" };

struct aparam {
	int	idx;
};

static struct aparam	aparams[NATTACKS];

static struct criterion_test_params
attack_params(void)
{
	size_t	i;

	for (i = 0; i < NATTACKS; i++)
		aparams[i].idx = (int)i;
	return cr_make_param_array(struct aparam, aparams, NATTACKS);
}

/* Every line of stderr is one "keyadm: " message. */
static void
assert_messages(const struct run_result *r, const char *what)
{
	const char	*p = r->err;

	while (*p != '\0') {
		cr_assert(strncmp(p, "keyadm: ", 8) == 0, "%s: stderr line "
		    "not in the form \"keyadm: ...\":\n%s", what, r->err);
		p = strchr(p, '\n');
		cr_assert_not_null(p, "%s: stderr does not end in a newline:"
		    "\n%s", what, r->err);
		p++;
	}
}

/* The state alice's file must be in after a write: hers, 0600, one link,
 * no temporary left; with (or without) these keys. */
static void
assert_fresh_file(const char *what, const char *has, const char *lacks)
{
	struct stat	 st;
	char		 p[PATH_MAX], *text;

	cr_assert_eq(lstat(tp(p, A_AK), &st), 0, "%s: %s: %s", what, p,
	    strerror(errno));
	cr_assert(S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    (st.st_mode & 07777) == 0600 && st.st_uid == T.alice_uid,
	    "%s: authorized_keys is mode %06o, %lu links, uid %u", what,
	    (unsigned)st.st_mode, (unsigned long)st.st_nlink,
	    (unsigned)st.st_uid);
	cr_assert(lstat(tp(p, A_TMP), &st) == -1 && errno == ENOENT,
	    "%s: the temporary is still there (mode %06o)", what,
	    (unsigned)st.st_mode);
	text = slurp(tp(p, A_AK), NULL);
	if (has != NULL)
		cr_assert_not_null(strstr(text, has), "%s: the file lacks %.30s",
		    what, has);
	if (lacks != NULL)
		cr_assert_null(strstr(text, lacks), "%s: the file still has "
		    "%.30s", what, lacks);
	free(text);
}

/* The run of one command; the checks of its outcome. */
static void
attack_run(enum cmd cmd, int idx)
{
	const struct attack	*a = &ATTACKS[idx];
	struct run_result	 r;
	struct snap		 before;
	enum outcome		 out = a->outcome;
	char			 what[160], p[PATH_MAX], want[PATH_MAX + 256];
	char			*grants0, *grants1, *text0 = NULL, *text1;
	size_t			 len0 = 0, len1;
	int			 refuse;

	xsnprintf(what, sizeof(what), "%s, %s", cmd_names[cmd], a->name);
	cr_log_info("attack %s", what);
	if (a->needs_root && geteuid() != 0)
		SKIP("%s: needs root (other uids)", what);

	/* the grant to work on, and what the command needs */
	cr_assert_eq(ka(&r, "add", "alice", tp(p, "inbox/k1.pub"), NULL), 0,
	    "%s: the first add failed: %s", what, r.err);
	run_free(&r);
	if (cmd == C_ADOPT)
		append_file(tp(p, A_AK), k3_line, sizeof(k3_line) - 1);
	if (cmd == C_EXPIRE)
		sql("UPDATE grants SET expires_at = "
		    "CAST(strftime('%s', 'now') AS INTEGER) - 3600 "
		    "WHERE user = 'alice' AND status = 'active'");

	a->stage();

	/* readers are not concerned by the writers' temporary */
	if (out == TMPDIR && (cmd == C_AUDIT || cmd == C_ADOPT))
		out = HANDLE;
	if (out == AUDIT_ONLY && cmd != C_AUDIT)
		out = HANDLE;
	refuse = out != HANDLE;
	if (strcmp(a->name, "ak_million_lines") == 0)
		text0 = slurp(tp(p, A_AK), &len0);
	grants0 = grants_json();
	snap_take(&before, !refuse);

	switch (cmd) {
	case C_ADD:
		ka(&r, "add", "alice", tp(p, "inbox/k2.pub"), NULL);
		break;
	case C_REVOKE:
		ka(&r, "revoke", K1_FP, "--user", "alice", "--reason",
		    "attack test", NULL);
		break;
	case C_EXPIRE:
		ka(&r, "expire", NULL);
		break;
	case C_AUDIT:
		ka(&r, "--json", "audit", "alice", NULL);
		break;
	case C_ADOPT:
		ka(&r, "--json", "adopt", "alice", NULL);
		break;
	}
	cr_log_info("%s: exit %d, stderr: %s", what, r.status, r.err);
	assert_messages(&r, what);

	xsnprintf(want, sizeof(want), "%s: %s", tp(p, refuse ? a->path :
	    A_AK), refuse ? a->reason : "");
	if (refuse && cmd == C_AUDIT) {
		cr_assert_eq(r.status, 1, "%s: audit exit %d, expected 1 "
		    "(findings); stdout:\n%s\nstderr:\n%s", what, r.status,
		    r.out, r.err);
		cr_assert_not_null(strstr(r.out, "\"kind\":\"unsafe-path\""),
		    "%s: no unsafe-path finding:\n%s", what, r.out);
		cr_assert_not_null(strstr(r.out, want), "%s: no finding "
		    "names \"%s\":\n%s", what, want, r.out);
	} else if (refuse) {
		cr_assert_eq(r.status, a->code, "%s: exit %d, expected %d; "
		    "stderr:\n%s", what, r.status, a->code, r.err);
		xsnprintf(want, sizeof(want), "keyadm: %s: %s", tp(p,
		    a->path), a->reason);
		cr_assert_not_null(strstr(r.err, want), "%s: stderr lacks "
		    "\"%s\":\n%s", what, want, r.err);
	} else {
		cr_assert_eq(r.status, 0, "%s: exit %d, expected 0; "
		    "stdout:\n%s\nstderr:\n%s", what, r.status, r.out, r.err);
	}
	/* nothing read through a link reaches the output */
	cr_assert(!mem_contains(r.out, r.outlen, ROOTK_B64) &&
	    !mem_contains(r.out, r.outlen, ROOTK_FP) &&
	    !mem_contains(r.out, r.outlen, BOBK_FP) &&
	    !mem_contains(r.err, r.errlen, ROOTK_FP) &&
	    !mem_contains(r.err, r.errlen, BOBK_FP),
	    "%s: a decoy's key shows in the output:\n%s\n%s", what, r.out,
	    r.err);
	run_free(&r);

	grants1 = grants_json();
	if (refuse) {
		cr_assert_str_eq(grants1, grants0, "%s: the store's grants "
		    "changed on a refusal:\nbefore: %s\nafter: %s", what,
		    grants0, grants1);
	} else {
		switch (cmd) {
		case C_ADD:
			assert_grant(K2_FP, "active", what);
			assert_fresh_file(what, K2_B64, NULL);
			break;
		case C_REVOKE:
			assert_grant(K1_FP, "revoked", what);
			assert_fresh_file(what, NULL, K1_B64);
			break;
		case C_EXPIRE:
			assert_grant(K1_FP, "expired", what);
			assert_fresh_file(what, NULL, K1_B64);
			break;
		case C_AUDIT:
			cr_assert_str_eq(grants1, grants0, "%s", what);
			break;
		case C_ADOPT:
			assert_grant(K3_FP, "active", what);
			break;
		}
	}
	/* never a decoy's key granted to anyone */
	cr_assert(strstr(grants1, ROOTK_FP) == NULL &&
	    strstr(grants1, BOBK_FP) == NULL, "%s: a decoy's key was "
	    "recorded:\n%s", what, grants1);
	free(grants0);
	free(grants1);

	if (text0 != NULL) {
		/* a million lines: every byte kept, k1's line alone goes */
		text1 = slurp(tp(p, A_AK), &len1);
		if (cmd == C_ADD)
			cr_assert(len1 == len0 + sizeof(k2_line) - 1 &&
			    memcmp(text1, text0, len0) == 0 &&
			    memcmp(text1 + len0, k2_line, len1 - len0) == 0,
			    "%s: the file is not the old one plus k2's line",
			    what);
		else if (cmd == C_REVOKE || cmd == C_EXPIRE)
			cr_assert(len1 == len0 - (sizeof(k1_line) - 1) &&
			    memcmp(text0, k1_line, sizeof(k1_line) - 1) == 0 &&
			    memcmp(text1, text0 + sizeof(k1_line) - 1,
			    len1) == 0,
			    "%s: the file is not the old one less k1's line",
			    what);
		else
			cr_assert(len1 == len0 && memcmp(text0, text1,
			    len0) == 0, "%s: the file changed", what);
		free(text0);
		free(text1);
	}

	assert_snap_same(&before, a->links, what);
	snap_free(&before);
	/* a link's target that did not exist still does not */
	cr_assert(access(tp(p, NEWFILE), F_OK) == -1 && errno == ENOENT,
	    "%s: %s was created", what, p);
}

ParameterizedTestParameters(attacks, add)
{
	return attack_params();
}

ParameterizedTest(struct aparam *ap, attacks, add)
{
	attack_run(C_ADD, ap->idx);
}

ParameterizedTestParameters(attacks, revoke)
{
	return attack_params();
}

ParameterizedTest(struct aparam *ap, attacks, revoke)
{
	attack_run(C_REVOKE, ap->idx);
}

ParameterizedTestParameters(attacks, expire)
{
	return attack_params();
}

ParameterizedTest(struct aparam *ap, attacks, expire)
{
	attack_run(C_EXPIRE, ap->idx);
}

ParameterizedTestParameters(attacks, audit)
{
	return attack_params();
}

ParameterizedTest(struct aparam *ap, attacks, audit)
{
	attack_run(C_AUDIT, ap->idx);
}

ParameterizedTestParameters(attacks, adopt)
{
	return attack_params();
}

ParameterizedTest(struct aparam *ap, attacks, adopt)
{
	attack_run(C_ADOPT, ap->idx);
}

/* ------------------------------------------------------------ races */

struct gkey {
	char	b64[128];
	char	fp[FPR_MAX];
	char	line[256];	/* "ssh-ed25519 B64 race-N\n" */
	char	pub[PATH_MAX];
	int	status;		/* keyadm add's exit */
};

/* A new Ed25519 key in-process (OpenSSL), as INBOX/race-N.pub. */
static void
gkey_make(struct gkey *k, int n)
{
	static const char	 type[] = "ssh-ed25519";
	unsigned char		 raw[32], blob[64];
	size_t			 rawlen = sizeof(raw), off = 0;
	EVP_PKEY		*pk;
	char			 name[64];

	pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	cr_assert_not_null(pk, "EVP_PKEY_Q_keygen ED25519 failed");
	cr_assert_eq(EVP_PKEY_get_raw_public_key(pk, raw, &rawlen), 1);
	cr_assert_eq(rawlen, 32);
	EVP_PKEY_free(pk);
	blob[off++] = 0; blob[off++] = 0; blob[off++] = 0;
	blob[off++] = (unsigned char)(sizeof(type) - 1);
	memcpy(blob + off, type, sizeof(type) - 1);
	off += sizeof(type) - 1;
	blob[off++] = 0; blob[off++] = 0; blob[off++] = 0; blob[off++] = 32;
	memcpy(blob + off, raw, 32);
	off += 32;
	cr_assert_lt(B64_ENCODED_SIZE(off), sizeof(k->b64));
	(void)b64_encode(blob, off, k->b64, 1);
	cr_assert_eq(fpr_sha256(blob, off, k->fp, sizeof(k->fp)), 0);
	xsnprintf(k->line, sizeof(k->line), "%s %s race-%d\n", type, k->b64,
	    n);
	xsnprintf(name, sizeof(name), "inbox/race-%d.pub", n);
	spew(tp(k->pub, name), k->line, strlen(k->line), 0644);
	k->status = -1;
}

/* What the racers share with the test. */
struct ctl {
	volatile int		stop;
	volatile int		pause;		/* asked to hold still */
	volatile int		paused;		/* holding still */
	volatile unsigned long	count;		/* versions written, flips */
	volatile unsigned long	last;		/* last complete version */
	volatile int		err;		/* errno of a failed step */
};

static struct ctl *
ctl_new(void)
{
	struct ctl	*c;

	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(c, MAP_FAILED);
	memset((void *)c, 0, sizeof(*c));
	return c;
}

static long long
mono_ms(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap_us(long us)
{
	struct timespec	ts = { 0, us * 1000 };

	(void)nanosleep(&ts, NULL);
}

/* In a forked child: become alice (as root), as a local user would be. */
static void
become_alice(void)
{
	gid_t	g = T.alice_gid;

	if (geteuid() != 0)
		return;
	if (setgroups(1, &g) == -1 || setresgid(g, g, g) == -1 ||
	    setresuid(T.alice_uid, T.alice_uid, T.alice_uid) == -1)
		_exit(90);
}

/* Wait for the racer to finish (it was told to stop); bounded. */
static int
child_wait(void)
{
	long long	deadline = mono_ms() + 20000;
	pid_t		w;
	int		st = 0;

	while ((w = waitpid(child_pid, &st, WNOHANG)) == 0) {
		cr_assert_lt(mono_ms(), deadline, "the racer does not stop");
		nap_us(10000);
	}
	cr_assert_eq(w, child_pid);
	child_pid = -1;
	cr_assert(WIFEXITED(st), "the racer died of signal %d", WTERMSIG(st));
	return WEXITSTATUS(st);
}

/* Hold the racer still between two of its steps; bounded. */
static void
child_pause(struct ctl *c)
{
	long long	deadline = mono_ms() + 20000;

	c->pause = 1;
	while (!c->paused) {
		cr_assert_lt(mono_ms(), deadline, "the racer does not pause");
		nap_us(100);
	}
}

static void
child_resume(struct ctl *c)
{
	c->pause = 0;
	while (c->paused)
		nap_us(50);
}

/* In the racer: hold still while asked. */
static void
racer_checkpoint(struct ctl *c)
{
	if (!c->pause)
		return;
	c->paused = 1;
	__sync_synchronize();
	while (c->pause && !c->stop)
		nap_us(100);
	c->paused = 0;
	__sync_synchronize();
}

#define VERSION_LINES	1500	/* ~50 KB: written in many pieces */

/* Version n of alice's file as her editor writes it. */
static size_t
version_text(char *buf, size_t cap, const char *header, unsigned long n)
{
	size_t	len = strlen(header), i;
	int	w;

	cr_assert_lt(len, cap);
	memcpy(buf, header, len);
	for (i = 0; i < VERSION_LINES; i++) {
		w = snprintf(buf + len, cap - len, "# version %08lu line %04zu "
		    "of alice's own edit\n", n, i);
		cr_assert(w > 0 && (size_t)w < cap - len);
		len += (size_t)w;
	}
	return len;
}

/*
 * The rewriter (alice, in place, as `cat > ~/.ssh/authorized_keys` does):
 * open with O_TRUNC, write 4 KB at a time, close; over and over until told
 * to stop, or 60 s.
 */
static void
rewriter(struct ctl *c, const char *ak, const char *header)
{
	static char	buf[VERSION_LINES * 64 + 4096];
	long long	deadline = mono_ms() + 60000;
	unsigned long	n = 1;
	size_t		len, off, piece;
	ssize_t		w;
	int		fd;

	become_alice();
	while (!c->stop && mono_ms() < deadline) {
		racer_checkpoint(c);
		len = version_text(buf, sizeof(buf), header, n);
		fd = open(ak, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			c->err = errno;
			_exit(91);
		}
		for (off = 0; off < len; off += (size_t)w) {
			piece = len - off < 4096 ? len - off : 4096;
			if ((w = write(fd, buf + off, piece)) <= 0) {
				c->err = errno;
				_exit(92);
			}
		}
		(void)close(fd);
		c->last = n++;
		c->count++;
		/* 0 to 4 ms between edits, and now and then a longer rest
		 * (0.15 s): keyadm meets some edits mid-way, some between
		 * two, and can sometimes finish a run in between */
		nap_us(n % 8 == 0 ? 150000 : (long)(n * 7919 % 5000));
	}
	_exit(0);
}

/*
 * Is text a complete version of alice's (any n) followed by nothing but
 * whole lines of the race keys, each once?  NULL, or what is wrong.
 */
static const char *
judge_text(const char *text, const char *header, const struct gkey *keys,
    size_t nkeys, unsigned long *version, size_t *nkeylines)
{
	static char	 ver[VERSION_LINES * 64 + 4096];
	const char	*p, *nl;
	unsigned long	 n;
	size_t		 vlen, i, len;
	int		*seen;

	*nkeylines = 0;
	if (strncmp(text, header, strlen(header)) != 0)
		return "the first line (k1's) is not there";
	p = text + strlen(header);
	if (sscanf(p, "# version %08lu ", &n) != 1)
		return "no version line after k1's";
	vlen = version_text(ver, sizeof(ver), header, n);
	if (strlen(text) < vlen || memcmp(text, ver, vlen) != 0)
		return "a torn version: not all of alice's lines of one edit";
	*version = n;
	seen = calloc(nkeys, sizeof(*seen));
	cr_assert_not_null(seen);
	for (p = text + vlen; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL) {
			free(seen);
			return "a last line without its newline";
		}
		len = (size_t)(nl - p) + 1;
		for (i = 0; i < nkeys; i++)
			if (strlen(keys[i].line) == len &&
			    memcmp(keys[i].line, p, len) == 0)
				break;
		if (i == nkeys || seen[i]) {
			free(seen);
			return i == nkeys ? "a line that is neither alice's "
			    "nor a whole key line" : "a key line twice";
		}
		seen[i] = 1;
		(*nkeylines)++;
	}
	free(seen);
	return NULL;
}

#define REWRITE_KEYS	24	/* adds while alice rewrites */
#define QUIET_KEYS	3	/* adds after she stopped */

/*
 * Alice rewrites her file in place, over and over, while keyadm adds keys:
 * every add exits 0 or 75 with a message; between two adds (alice held
 * still) the file is one complete version of hers, perhaps followed by
 * whole key lines, never a mix.  Once she stops, adds succeed and append
 * to her last version exactly; audit then finds every granted key whose
 * line her rewrites dropped (missing-grant), so nothing disagrees silently.
 */
Test(attack_races, file_rewritten_in_place_during_adds)
{
	static struct gkey	 keys[REWRITE_KEYS + QUIET_KEYS];
	struct run_result	 r;
	struct ctl		*c = ctl_new();
	char			 ak[PATH_MAX], p[PATH_MAX], header[512];
	char			*text, *aud, *grants;
	const char		*bad;
	unsigned long		 v, v0;
	size_t			 i, nk, ok = 0, busy = 0, missing = 0;

	for (i = 0; i < REWRITE_KEYS + QUIET_KEYS; i++)
		gkey_make(&keys[i], (int)i);
	cr_assert_eq(ka(&r, "add", "alice", tp(p, "inbox/k1.pub"), NULL), 0,
	    "%s", r.err);
	run_free(&r);
	text = slurp(tp(ak, A_AK), NULL);
	cr_assert_lt(strlen(text), sizeof(header));
	xsnprintf(header, sizeof(header), "%s", text);
	free(text);

	child_pid = fork();
	cr_assert_neq(child_pid, -1);
	if (child_pid == 0)
		rewriter(c, ak, header);

	for (i = 0; i < REWRITE_KEYS; i++) {
		ka(&r, "add", "alice", keys[i].pub, NULL);
		keys[i].status = r.status;
		cr_assert(r.status == 0 || r.status == 75, "add %zu while "
		    "alice rewrites: exit %d, expected 0 or 75; stderr:\n%s",
		    i, r.status, r.err);
		if (r.status == 75) {
			busy++;
			cr_assert(strncmp(r.err, "keyadm: ", 8) == 0,
			    "exit 75 without a message: \"%s\"", r.err);
		} else
			ok++;
		assert_messages(&r, "add while alice rewrites");
		run_free(&r);
		child_pause(c);
		text = slurp(ak, NULL);
		bad = judge_text(text, header, keys, REWRITE_KEYS, &v, &nk);
		cr_assert_null(bad, "after add %zu (exit %d), alice's file "
		    "is a mix: %s:\n%.600s", i, keys[i].status, bad, text);
		free(text);
		child_resume(c);
	}
	c->stop = 1;
	cr_assert_eq(child_wait(), 0, "the rewriter failed: %s",
	    strerror(c->err));
	cr_log_info("alice wrote %lu versions; keyadm: %zu added, %zu busy",
	    c->count, ok, busy);
	cr_assert_gt(c->count, 0, "alice never rewrote her file");
	/* a busy run recorded nothing; a run that added, a grant */
	grants = grants_json();
	for (i = 0; i < REWRITE_KEYS; i++)
		cr_assert((strstr(grants, keys[i].fp) != NULL) ==
		    (keys[i].status == 0), "add %zu exited %d but its key is "
		    "%sgranted", i, keys[i].status, keys[i].status == 0 ?
		    "not " : "");
	free(grants);

	/* quiet now: the adds append to her last version exactly */
	text = slurp(ak, NULL);
	cr_assert_null(judge_text(text, header, keys, REWRITE_KEYS, &v0,
	    &nk), "alice's last version is not intact");
	free(text);
	for (i = REWRITE_KEYS; i < REWRITE_KEYS + QUIET_KEYS; i++) {
		cr_assert_eq(ka(&r, "add", "alice", keys[i].pub, NULL), 0,
		    "add after alice stopped: %s", r.err);
		keys[i].status = 0;
		run_free(&r);
	}
	text = slurp(ak, NULL);
	bad = judge_text(text, header, keys, REWRITE_KEYS + QUIET_KEYS, &v,
	    &nk);
	cr_assert_null(bad, "final file: %s", bad);
	cr_assert_eq(v, v0, "the quiet adds changed alice's lines");
	for (i = REWRITE_KEYS; i < REWRITE_KEYS + QUIET_KEYS; i++)
		cr_assert_not_null(strstr(text, keys[i].line), "key %zu "
		    "added after alice stopped is not in the file", i);

	/* what the rewrites dropped, audit reports */
	ka(&r, "--json", "audit", "alice", NULL);
	aud = r.out;
	for (i = 0; i < REWRITE_KEYS; i++) {
		if (keys[i].status != 0 || strstr(text, keys[i].line) != NULL)
			continue;
		missing++;
		cr_assert_not_null(strstr(aud, keys[i].fp), "key %zu was "
		    "added (exit 0) and its line is gone, but audit does not "
		    "mention %s:\n%s", i, keys[i].fp, aud);
	}
	cr_assert(missing == 0 || strstr(aud, "\"missing-grant\"") != NULL,
	    "no missing-grant finding:\n%s", aud);
	cr_assert_null(strstr(aud, "\"unsafe-path\""), "%s", aud);
	cr_log_info("%zu granted lines dropped by alice's rewrites, all "
	    "reported by audit", missing);
	free(text);
	run_free(&r);
	(void)munmap((void *)c, sizeof(*c));
}

#define FLIP_KEYS	50
#define FLIP_MAX	1000000UL	/* flips at most */
#define FLIP_MS		20000		/* or this long at most */

/*
 * The flipper (alice): swap .ssh (her directory) with .ssh-alt (a symbolic
 * link to ROOT/root/.ssh) atomically, until told to stop.  Exit 2: the
 * file system cannot exchange names.
 */
static void
flipper(struct ctl *c, const char *home)
{
	long long	deadline = mono_ms() + FLIP_MS;
	int		hfd;

	become_alice();
	if ((hfd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		c->err = errno;
		_exit(93);
	}
	while (!c->stop && c->count < FLIP_MAX && mono_ms() < deadline) {
		if (renameat2(hfd, ".ssh", hfd, ".ssh-alt",
		    RENAME_EXCHANGE) == -1) {
			c->err = errno;
			_exit(errno == EINVAL || errno == ENOSYS ? 2 : 94);
		}
		c->count++;
		/* a pause now and then, after odd and even flips alike */
		if (c->count % 17 == 0)
			nap_us(20);
	}
	_exit(0);
}

/*
 * While alice flips her .ssh between her directory and a symbolic link to
 * ROOT/root/.ssh, keyadm adds 50 keys one run at a time.  Each run either
 * adds (0) or refuses the link (77); afterwards ROOT/root/.ssh and
 * everything else outside her home is as it was, no race key is anywhere
 * but in her own directory's file, and every key added is there.
 */
Test(attack_races, ssh_dir_flipping_to_roots_while_adding)
{
	static struct gkey	 keys[FLIP_KEYS];
	struct run_result	 r;
	struct snap		 before;
	struct ctl		*c = ctl_new();
	char			 home[PATH_MAX], p[PATH_MAX], real[PATH_MAX];
	char			*text, *grants;
	struct stat		 st;
	size_t			 i, ok = 0, refused = 0, notdir = 0;
	int			 ex;

	for (i = 0; i < FLIP_KEYS; i++)
		gkey_make(&keys[i], (int)i);
	cr_assert_eq(ka(&r, "add", "alice", tp(p, "inbox/k1.pub"), NULL), 0,
	    "%s", r.err);
	run_free(&r);
	link_to("home/alice/.ssh-alt", "@" R_SSH);
	snap_take(&before, 1);

	child_pid = fork();
	cr_assert_neq(child_pid, -1);
	if (child_pid == 0)
		flipper(c, tp(home, A_HOME));
	while (c->count == 0 && child_pid > 0 &&
	    waitpid(child_pid, NULL, WNOHANG) == 0)
		nap_us(100);	/* flipping (or failed at once) */

	for (i = 0; i < FLIP_KEYS; i++) {
		ka(&r, "add", "alice", keys[i].pub, NULL);
		keys[i].status = r.status;
		cr_assert(r.status == 0 || r.status == 77, "add %zu: exit %d, "
		    "expected 0 or 77; stderr:\n%s", i, r.status, r.err);
		if (r.status == 77) {
			refused++;
			/*
			 * openat(O_DIRECTORY|O_NOFOLLOW) fails ENOTDIR on a
			 * link, and safefs looks again (fstatat) to say why:
			 * when the flip is back by then, it says so.
			 */
			cr_assert(strstr(r.err, "/.ssh: is a symbolic link") !=
			    NULL || strstr(r.err, "/.ssh: changed while being "
			    "opened") != NULL, "add %zu: %s", i, r.err);
			if (strstr(r.err, "changed while") != NULL)
				notdir++;
		} else
			ok++;
		run_free(&r);
	}
	c->stop = 1;
	ex = child_wait();
	if (ex == 2)
		SKIP("renameat2 RENAME_EXCHANGE unsupported here");
	cr_assert_eq(ex, 0, "the flipper failed (exit %d): %s", ex,
	    strerror(c->err));
	cr_log_info("%lu flips; %zu adds went through, %zu refused the link "
	    "(%zu of them seeing it flip back)", c->count, ok,
	    refused, notdir);
	cr_assert_gt(c->count, 0, "no flip happened");

	/* ROOT/root/.ssh and the rest: as they were */
	assert_snap_same(&before, 0, "after the flipping race");
	snap_free(&before);

	/* her own directory, under whichever name: every added key, once */
	tp(real, A_SSH);
	cr_assert_eq(lstat(real, &st), 0);
	if (!S_ISDIR(st.st_mode))
		tp(real, "home/alice/.ssh-alt");
	cr_assert_eq(lstat(real, &st), 0);
	cr_assert(S_ISDIR(st.st_mode) && st.st_uid == T.alice_uid);
	xsnprintf(p, sizeof(p), "%s/authorized_keys", real);
	text = slurp(p, NULL);
	grants = grants_json();
	for (i = 0; i < FLIP_KEYS; i++) {
		if (keys[i].status == 0) {
			cr_assert_not_null(strstr(text, keys[i].line),
			    "key %zu added (0) but not in alice's file", i);
			cr_assert_not_null(strstr(grants, keys[i].fp));
		} else {
			cr_assert_null(strstr(text, keys[i].b64),
			    "key %zu refused (77) but in alice's file", i);
			cr_assert_null(strstr(grants, keys[i].fp),
			    "key %zu refused (77) but granted", i);
		}
	}
	free(text);
	free(grants);
	(void)munmap((void *)c, sizeof(*c));
}

/* ------------------------------------------------------------- PAM */

typedef int	(*pam_start_confdir_fn)(const char *, const char *,
		    const struct pam_conv *, const char *, pam_handle_t **);
typedef int	(*pam_set_item_fn)(pam_handle_t *, int, const void *);
typedef int	(*pam_putenv_fn)(pam_handle_t *, const char *);
typedef int	(*pam_open_session_fn)(pam_handle_t *, int);
typedef int	(*pam_end_fn)(pam_handle_t *, int);

static struct {
	void			*lib;
	pam_start_confdir_fn	 start;
	pam_set_item_fn		 set_item;
	pam_putenv_fn		 putenv;
	pam_open_session_fn	 open_session;
	pam_end_fn		 end;
	char			 conf[PATH_MAX];
	char			 args[PATH_MAX + 128];
} P;

static void
setup_pam(void)
{
	if (geteuid() != 0)
		return;		/* skipped: no .fini either */
	tree_make_at(&T, "/run");
	set_sudo_actor();
	make_decoys();
}

TestSuite(attack_pam, .init = setup_pam, .fini = teardown, .timeout = 300);

static int
conv_none(int n, const struct pam_message **m, struct pam_response **resp,
    void *data)
{
	(void)n;
	(void)m;
	(void)data;
	*resp = NULL;
	return PAM_CONV_ERR;
}

/* libpam (dlopen: this test does not link it) and our module's service. */
static void
pam_prepare(void)
{
	const char	*bin = getenv("KEYADM_BIN");
	char		 module[PATH_MAX], p[PATH_MAX], text[PATH_MAX * 3];
	const char	*slash;

	cr_assert(bin != NULL && (slash = strrchr(bin, '/')) != NULL);
	xsnprintf(module, sizeof(module), "%.*s/pam/pam_keyadm.so",
	    (int)(slash - bin), bin);
	if (access(module, R_OK) != 0)
		SKIP("%s not built", module);
	P.lib = dlopen("libpam.so.0", RTLD_NOW | RTLD_GLOBAL);
	if (P.lib == NULL)
		SKIP("libpam: %s", dlerror());
	P.start = (pam_start_confdir_fn)dlsym(P.lib, "pam_start_confdir");
	P.set_item = (pam_set_item_fn)dlsym(P.lib, "pam_set_item");
	P.putenv = (pam_putenv_fn)dlsym(P.lib, "pam_putenv");
	P.open_session = (pam_open_session_fn)dlsym(P.lib,
	    "pam_open_session");
	P.end = (pam_end_fn)dlsym(P.lib, "pam_end");
	if (P.start == NULL)
		SKIP("libpam has no pam_start_confdir");
	cr_assert(P.set_item && P.putenv && P.open_session && P.end);
	xsnprintf(P.conf, sizeof(P.conf), "%s/pamconf", T.root);
	mkdirs(P.conf, 0755);
	xsnprintf(P.args, sizeof(P.args), "db=%s mode=enforce unmanaged=deny",
	    tp(p, STORE));
	/* as in tests/unit/test_pam.c: PAM_IGNORE reads as NO_MODULE_DATA */
	xsnprintf(text, sizeof(text),
	    "session [success=done ignore=ignore default=die] %s %s\n"
	    "session required pam_debug.so open_session=no_module_data\n",
	    module, P.args);
	xsnprintf(p, sizeof(p), "%s/keyadm-attack", P.conf);
	spew(p, text, strlen(text), 0644);
}

/* The session's answer for alice logging in with type b64. */
static int
pam_verdict(const char *b64)
{
	static const struct pam_conv	 conv = { conv_none, NULL };
	pam_handle_t			*h = NULL;
	char				 env[512];
	int				 r;

	cr_assert_eq(P.start("keyadm-attack", "alice", &conv, P.conf, &h),
	    PAM_SUCCESS);
	cr_assert_eq(P.set_item(h, PAM_RHOST, "192.0.2.9"), PAM_SUCCESS);
	xsnprintf(env, sizeof(env), "SSH_AUTH_INFO_0=publickey ssh-ed25519 "
	    "%s\n", b64);
	cr_assert_eq(P.putenv(h, env), PAM_SUCCESS);
	r = P.open_session(h, 0);
	(void)P.end(h, r);
	return r;
}

/*
 * pam_keyadm reads only the store: alice's .ssh made a symbolic link to
 * ROOT/root/.ssh (whose authorized_keys holds root's decoy key) changes
 * no verdict.  k1 (active) passes; k2 (revoked), k3 (unknown, with
 * unmanaged=deny) and root's key (now "in alice's file" through the link)
 * fail, before and after; no file outside the store changes.
 */
Test(attack_pam, symlinked_ssh_dir_changes_no_verdict)
{
	static const char *const b64s[] = { K1_B64, K2_B64, K3_B64, ROOTK_B64 };
	static const char *const names[] = { "k1 (active)", "k2 (revoked)",
	    "k3 (unknown)", "root's decoy key" };
	struct run_result	 r;
	struct snap		 before;
	char			 p[PATH_MAX];
	int			 v0[4], v1[4];
	size_t			 i;

	if (geteuid() != 0)
		cr_skip_test("needs root: the module's store must be under a "
		    "root-owned path (/run)");
	cr_assert_eq(ka(&r, "add", "alice", tp(p, "inbox/k1.pub"), NULL), 0,
	    "%s", r.err);
	run_free(&r);
	cr_assert_eq(ka(&r, "add", "alice", tp(p, "inbox/k2.pub"), NULL), 0,
	    "%s", r.err);
	run_free(&r);
	cr_assert_eq(ka(&r, "revoke", K2_FP, "--reason", "leaked", NULL), 0,
	    "%s", r.err);
	run_free(&r);
	pam_prepare();

	for (i = 0; i < 4; i++)
		v0[i] = pam_verdict(b64s[i]);
	cr_assert_eq(v0[0], PAM_SUCCESS, "k1 (active): %d", v0[0]);
	for (i = 1; i < 4; i++)
		cr_assert_eq(v0[i], PAM_PERM_DENIED, "%s: %d", names[i], v0[i]);

	st_ssh_link_root();
	snap_take(&before, 0);
	for (i = 0; i < 4; i++) {
		v1[i] = pam_verdict(b64s[i]);
		cr_assert_eq(v1[i], v0[i], "%s: the verdict changed from %d to "
		    "%d with a symlinked .ssh", names[i], v0[i], v1[i]);
	}
	assert_snap_same(&before, 0, "pam with a symlinked .ssh");
	snap_free(&before);
}
