/*
 * test_import.c -- the built keyadm in a --root tree: import FILE|DIR,
 * bulk intake for many accounts.
 *
 * Suite "import": the two input forms (USER<TAB>key lines from a file or
 * standard input; a gitolite-style keydir), what is refused and how it is
 * reported (stderr "keyadm: SOURCE:LINE: reason", JSON "rejected" and
 * "refused"), that every account's file gets its keys once and the store
 * the same events as add, that a second run and a dry run change nothing,
 * the exit statuses, 2000 keys over 50 accounts, and a run killed with
 * SIGKILL at several points and then run again.  Suite "import_root"
 * (root only, else skipped): owners and modes of what is written for
 * accounts of other uids, and a home owned by another account.
 *
 * Most keys are random Ed25519 blobs made here (keyadm takes any 32
 * bytes); their fingerprints are computed here with OpenSSL, not by
 * keyadm.  Keys in other formats come from ssh-keygen.  Extra accounts
 * are appended to ROOT/etc/passwd and ROOT/etc/group with homes made as
 * tree_make makes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "b64.h"
#include "run.h"

#define DB_REL		"var/lib/keyadm/keyadm.db"
#define REVOKED_REL	"etc/ssh/keyadm_revoked_keys"
#define USAGE		"keyadm: usage: keyadm import FILE|DIR [--restrict] " \
			"[--from PATTERNS] [--command CMD] [--option OPT]... " \
			"[--expires DATE|DURATION] [--no-options] " \
			"[--reason TEXT] [--dry-run]\n"
#define R_PRIVATE	"this is a private key: the user must make a new " \
			"key pair and send only the .pub file"
#define R_OPTIONS	"authorized_keys options are not accepted in a " \
			"submission; only the administrator sets options"

static struct tree	T;
static unsigned int	next_id;	/* uid and gid of the next account */
static struct locker	L = LOCKER_INIT;

/* keyadm --root T ARGS... (NULL-terminated), stdin from in */
#define ka(r, in, ...)	tree_ka(&T, (r), (in), __VA_ARGS__)
/* keyadm ... that must exit 0; the result is freed. */
#define KA_OK(...)	TREE_KA_OK(&T, __VA_ARGS__)
#define tp(buf, rel)	tree_path(&T, (buf), PATH_MAX, (rel))
/* ROOT/home/USER/.ssh/authorized_keys */
#define akpath(buf, user) tree_akfile(&T, (buf), (user))

static void
setup(void)
{
	tree_make(&T);
	next_id = 3001;
}

static void
teardown(void)
{
	locker_release(&L);
	tree_remove(&T);
}

TestSuite(import, .init = setup, .fini = teardown, .timeout = 300);

/* Not root: no tree, since a skipped test does not run .fini. */
static void
setup_root(void)
{
	if (geteuid() == 0)
		setup();
}

TestSuite(import_root, .init = setup_root, .fini = teardown,
    .timeout = 300);

/* ----------------------------------------------------------- helpers */

/* The account's file, or "" when there is none (free it). */
static char *
ak(const char *user)
{
	char		p[PATH_MAX], *s;
	struct stat	st;

	if (lstat(akpath(p, user), &st) == -1) {
		cr_assert_eq(errno, ENOENT, "%s: %s", p, strerror(errno));
		s = strdup("");
		cr_assert_not_null(s);
		return s;
	}
	return slurp(p, NULL);
}

/* INBOX/name := text (0644); path gets its path. */
static const char *
input(char *path, const char *name, const char *text)
{
	xsnprintf(path, PATH_MAX, "%s/%s", T.inbox, name);
	spew(path, text, strlen(text), 0644);
	return path;
}

/* A growing text. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void __attribute__((format(printf, 2, 3)))
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		if (b->cap - b->len < 512 || b->p == NULL) {
			b->cap = b->cap == 0 ? 4096 : b->cap * 2;
			b->p = realloc(b->p, b->cap);
			cr_assert_not_null(b->p);
		}
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		cr_assert_geq(n, 0);
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
}

/* A random Ed25519 public key: "ssh-ed25519 BASE64", its line with a
 * comment, and its fingerprint as ssh-keygen -l would print it. */
struct rk {
	char	tb[128];
	char	line[192];
	char	fp[64];
};

/* "SHA256:" + unpadded base64 of SHA-256(blob), by OpenSSL directly. */
static void
fingerprint(const unsigned char *blob, size_t len, char *out, size_t outlen)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;
	char		enc[B64_ENCODED_SIZE(EVP_MAX_MD_SIZE)];

	cr_assert_eq(EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL),
	    1);
	(void)b64_encode(md, mdlen, enc, 0);
	xsnprintf(out, outlen, "SHA256:%s", enc);
}

static void
rkey(struct rk *k, const char *comment)
{
	static const unsigned char head[] = { 0, 0, 0, 11, 's', 's', 'h',
	    '-', 'e', 'd', '2', '5', '5', '1', '9', 0, 0, 0, 32 };
	unsigned char	blob[51];
	char		enc[B64_ENCODED_SIZE(sizeof(blob))];

	memcpy(blob, head, sizeof(head));
	cr_assert_eq(getrandom(blob + 19, 32, 0), 32);
	(void)b64_encode(blob, sizeof(blob), enc, 1);
	xsnprintf(k->tb, sizeof(k->tb), "ssh-ed25519 %s", enc);
	xsnprintf(k->line, sizeof(k->line), "%s %s", k->tb, comment);
	fingerprint(blob, sizeof(blob), k->fp, sizeof(k->fp));
}

/* Another account: NAME, home ROOT/home/NAME (0700, its own as root). */
static void
account_home(const char *name, const char *home)
{
	char		path[PATH_MAX], line[512];
	unsigned int	id = T.as_root ? next_id++ : (unsigned)geteuid();
	unsigned int	gid = T.as_root ? id : (unsigned)getegid();
	int		fd, n;

	n = snprintf(line, sizeof(line), "%s:x:%u:%u:%s:%s:/bin/sh\n", name,
	    id, gid, name, home);
	cr_assert(n > 0 && (size_t)n < sizeof(line));
	fd = open(tp(path, "etc/passwd"), O_WRONLY | O_APPEND | O_CLOEXEC);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, line, (size_t)n), n);
	cr_assert_eq(close(fd), 0);
	n = snprintf(line, sizeof(line), "%s:x:%u:\n", name, gid);
	fd = open(tp(path, "etc/group"), O_WRONLY | O_APPEND | O_CLOEXEC);
	cr_assert_neq(fd, -1);
	cr_assert_eq(write(fd, line, (size_t)n), n);
	cr_assert_eq(close(fd), 0);
}

static void
account(const char *name)
{
	char	home[PATH_MAX], rel[PATH_MAX];
	uid_t	uid;

	uid = T.as_root ? next_id : geteuid();
	xsnprintf(home, sizeof(home), "/home/%s", name);
	account_home(name, home);
	xsnprintf(rel, sizeof(rel), "home/%s", name);
	mkdirs(tp(home, rel), 0700);
	if (T.as_root)
		cr_assert_eq(chown(home, uid, uid), 0);
}

/* python3: d = the JSON document json; prints eval(expr) (JSON for
 * anything but a string).  The output without its newline (free it). */
static char *
pyj(const char *json, const char *expr)
{
	static const char script[] =
	    "import json,sys\n"
	    "d=json.load(sys.stdin)\n"
	    "r=eval(sys.argv[1])\n"
	    "print(r if isinstance(r,str) else json.dumps(r))\n";
	struct run_result	 r;
	const char		*argv[] = { "python3", "-c", script, expr,
				    NULL };
	char			*out;

	run_prog(&r, json, strlen(json), argv, 0);
	cr_assert_eq(r.status, 0, "python3 on %s: %s\nJSON:\n%.2000s", expr,
	    r.err, json);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	if (out[0] != '\0' && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	return out;
}

#define expect_json(json, expr, want) do {				\
	char *got_ = pyj((json), (expr));				\
	cr_assert_str_eq(got_, (want), "%s: %s, expected %s",		\
	    (expr), got_, (want));					\
	free(got_);							\
} while (0)

/* keyadm --json ARGS... that must exit 0: the document (free it). */
static char * __attribute__((sentinel))
ka_json(const char *first, ...)
{
	struct run_result	 r;
	const char		*args[32], *a;
	va_list			 ap;
	char			*out;
	int			 n = 0;

	args[n++] = "--json";
	args[n++] = first;
	va_start(ap, first);
	while ((a = va_arg(ap, const char *)) != NULL) {
		cr_assert_lt(n, 31);
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	tree_kav(&T, &r, NULL, args);
	cr_assert_eq(r.status, 0, "keyadm --json %s: exit %d\n%s", first,
	    r.status, r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

/* Active grants (keyadm --json list [USER]). */
static long
grants(const char *user)
{
	char	*j = user != NULL ? ka_json("list", user, NULL) :
		    ka_json("list", NULL), *n;
	long	 v;

	n = pyj(j, "len(d)");
	v = strtol(n, NULL, 10);
	free(n);
	free(j);
	return v;
}

static long
events(void)
{
	char	*j = ka_json("history", NULL), *n;
	long	 v;

	n = pyj(j, "len(d)");
	v = strtol(n, NULL, 10);
	free(n);
	free(j);
	return v;
}

static void
expect_audit_clean(void)
{
	struct run_result	r;

	ka(&r, NULL, "audit", NULL);
	cr_assert_eq(r.status, 0, "audit: exit %d\n%s%s", r.status, r.out,
	    r.err);
	run_free(&r);
}

static void
expect_chain_intact(void)
{
	char	*j = ka_json("verify", NULL);

	expect_json(j, "d['intact']", "true");
	expect_json(j, "d['problem']", "null");
	free(j);
}

/* The fingerprints of USER's active grants equal fps (n of them). */
static void
expect_grant_fps(const char *user, const char *const *fps, size_t n)
{
	struct sbuf	 e = { NULL, 0, 0 };
	char		*j = ka_json("list", user, NULL);
	size_t		 i;

	sb_add(&e, "sorted(g['fingerprint'] for g in d) == sorted([");
	for (i = 0; i < n; i++)
		sb_add(&e, "%s'%s'", i > 0 ? "," : "", fps[i]);
	sb_add(&e, "])");
	expect_json(j, e.p, "true");
	free(e.p);
	free(j);
}

/* Number of lines of text equal to line (without its newline). */
static int
line_count(const char *text, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p = text;
	int		 c = 0;

	while (*p != '\0') {
		const char *e = strchr(p, '\n');
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
		if (l == n && memcmp(p, line, n) == 0)
			c++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return c;
}

/* text with every from replaced by to (free it). */
static char *
replace_all(const char *text, const char *from, const char *to)
{
	struct sbuf	 b = { NULL, 0, 0 };
	const char	*p = text, *q;

	sb_add(&b, "%s", "");
	while ((q = strstr(p, from)) != NULL) {
		sb_add(&b, "%.*s%s", (int)(q - p), p, to);
		p = q + strlen(from);
	}
	sb_add(&b, "%s", p);
	return b.p;
}

/* The last line of text (which ends in a newline). */
static const char *
last_line(const char *text)
{
	size_t	n = strlen(text);

	cr_assert(n > 0 && text[n - 1] == '\n', "%s", text);
	for (n--; n > 0 && text[n - 1] != '\n'; n--)
		;
	return text + n;
}

/* The line of text starting with prefix, without its newline (free). */
static char *
out_line(const char *text, const char *prefix)
{
	const char	*p = text, *e;
	char		*l;

	for (;;) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			break;
		p = strchr(p, '\n');
		cr_assert_not_null(p, "no line %s in:\n%s", prefix, text);
		p++;
	}
	e = p + strcspn(p, "\n");
	l = strndup(p, (size_t)(e - p));
	cr_assert_not_null(l);
	return l;
}

/* Keep only the lines of text that start with prefix (in place). */
static void
only_lines(char *text, const char *prefix)
{
	char	*r = text, *w = text, *e;
	size_t	 n;

	while (*r != '\0') {
		e = strchr(r, '\n');
		n = e != NULL ? (size_t)(e - r) + 1 : strlen(r);
		if (strncmp(r, prefix, strlen(prefix)) == 0) {
			memmove(w, r, n);
			w += n;
		}
		r += n;
	}
	*w = '\0';
}

/* A progress line is only for a terminal: stderr is a pipe here. */
static void
no_progress(const struct run_result *r)
{
	cr_assert_null(memchr(r->err, '\r', r->errlen),
	    "a progress line on a pipe:\n%s", r->err);
	cr_assert_null(strstr(r->err, "\033["), "terminal escapes on a pipe");
}

/* Every file below ROOT: path, mode, owner, content hash (free it). */
static char *
snapshot(void)
{
	static const char script[] =
	    "import os,sys,stat,hashlib\n"
	    "root=sys.argv[1]\n"
	    "for dp,dns,fns in os.walk(root):\n"
	    "  dns.sort()\n"
	    "  for n in sorted(dns+fns):\n"
	    "    p=os.path.join(dp,n); st=os.lstat(p); h=''\n"
	    "    if stat.S_ISREG(st.st_mode):\n"
	    "      h=hashlib.sha256(open(p,'rb').read()).hexdigest()\n"
	    "    elif stat.S_ISLNK(st.st_mode): h=os.readlink(p)\n"
	    "    print(os.path.relpath(p,root),oct(st.st_mode),st.st_uid,"
	    "st.st_gid,st.st_size,h)\n";
	struct run_result	 r;
	const char		*argv[] = { "python3", "-c", script, T.root,
				    NULL };
	char			*out;

	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 0, "snapshot: %s", r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

/* Text of ssh-keygen ARGS (must succeed; free it). */
static char * __attribute__((sentinel))
keygen_out(const char *first, ...)
{
	struct run_result	 r;
	const char		*argv[16], *a;
	va_list			 ap;
	char			*out;
	int			 n = 0;

	argv[n++] = "ssh-keygen";
	argv[n++] = first;
	va_start(ap, first);
	while ((a = va_arg(ap, const char *)) != NULL) {
		cr_assert_lt(n, 15);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	run_prog(&r, NULL, 0, argv, 0);
	cr_assert_eq(r.status, 0, "ssh-keygen %s: %s", first, r.err);
	out = r.out;
	r.out = NULL;
	run_free(&r);
	return out;
}

/* INBOX/name{,.pub} by ssh-keygen; pub its path, fp its fingerprint. */
static void
sshkey(const char *type, const char *name, char *pub, char *fp)
{
	char	priv[PATH_MAX];

	tree_keygen(&T, type, 0, name, name, priv, sizeof(priv));
	xsnprintf(pub, PATH_MAX, "%s.pub", priv);
	ssh_keygen_fingerprint(pub, fp, 64);
}

/* The stderr line "keyadm: SRC:LINE: " + reason is there, once. */
static void
expect_msg(const struct run_result *r, const char *src, int line,
    const char *reason)
{
	char	want[2048];

	if (line > 0)
		xsnprintf(want, sizeof(want), "keyadm: %s:%d: %s\n", src, line,
		    reason);
	else
		xsnprintf(want, sizeof(want), "keyadm: %s: %s\n", src, reason);
	cr_assert_not_null(strstr(r->err, want), "missing on stderr: %s"
	    "stderr:\n%s", want, r->err);
	cr_assert_null(strstr(strstr(r->err, want) + 1, want),
	    "said twice: %s", want);
}

/* ---------------------------------------------------- a file of lines */

Test(import, tsv_installs_each_accounts_keys)
{
	struct run_result	r;
	struct rk		k1, k2, k3;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], want[PATH_MAX * 2], *a, *b;
	char			p[PATH_MAX];

	rkey(&k1, "alice@laptop");
	rkey(&k2, "bob@work");
	rkey(&k3, "alice@phone");
	/* comments, blank lines, CRLF, trailing blanks, a commented key */
	sb_add(&in, "# import of the old server\n\nalice\t%s\nbob\t%s\r\n"
	    "  \n#bob\t%s\nalice\t%s  \n", k1.line, k2.line, k3.line, k3.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
	cr_assert_str_empty(r.err);
	xsnprintf(want, sizeof(want), "alice: 2 added in %s\n",
	    akpath(p, "alice"));
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	xsnprintf(want, sizeof(want), "bob: 1 added in %s\n", akpath(p, "bob"));
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	/* the summary comes last */
	cr_assert_eq(text_lines(r.out), 3, "%s", r.out);
	cr_assert_eq(strncmp(last_line(r.out), "import: ", 8), 0,
	    "the summary is not the last line:\n%s", r.out);
	run_free(&r);

	/* the lines as add writes them: the key and its comment */
	a = ak("alice");
	xsnprintf(want, sizeof(want), "%s\n%s\n", k1.line, k3.line);
	cr_assert_str_eq(a, want);
	b = ak("bob");
	xsnprintf(want, sizeof(want), "%s\n", k2.line);
	cr_assert_str_eq(b, want);
	free(a);
	free(b);
	cr_assert_eq(grants("alice"), 2);
	cr_assert_eq(grants("bob"), 1);
	cr_assert_eq(events(), 3, "one event per key");
	expect_audit_clean();
	expect_chain_intact();
	free(in.p);
}

Test(import, json_report_has_every_field)
{
	struct run_result	r;
	struct rk		k1, k2, k3;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], p[PATH_MAX], expr[PATH_MAX * 2];

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	sb_add(&in, "alice\t%s\nbob\t%s\nalice\t%s\n", k1.line, k2.line,
	    k3.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_empty(r.err);
	cr_assert(json_valid(r.out, r.outlen), "%s", r.out);
	expect_json(r.out, "sorted(d.keys())", "[\"accepted\", "
	    "\"account_count\", \"accounts\", \"added\", \"changed\", \"dry_run\", "
	    "\"duplicates\", \"installed\", \"keys_read\", \"refused\", "
	    "\"rejected\", \"rejected_count\", \"unchanged\"]");
	expect_json(r.out, "d['dry_run']", "false");
	expect_json(r.out, "d['rejected']", "[]");
	expect_json(r.out, "d['refused']", "[]");
	expect_json(r.out, "d['keys_read']", "3");
	expect_json(r.out, "d['accepted']", "3");
	expect_json(r.out, "d['duplicates']", "0");
	expect_json(r.out, "d['installed']", "3");
	expect_json(r.out, "d['account_count']", "2");
	expect_json(r.out, "d['rejected_count']", "0");
	expect_json(r.out, "d['added']", "3");
	expect_json(r.out, "d['unchanged']", "0");
	expect_json(r.out, "d['changed']", "true");
	expect_json(r.out, "sorted(a['user'] for a in d['accounts'])",
	    "[\"alice\", \"bob\"]");
	expect_json(r.out, "sorted(sorted(a.keys()) for a in d['accounts'])"
	    "[0]", "[\"added\", \"changed\", \"path\", \"recorded\", "
	    "\"repaired\", \"unchanged\", \"updated\", \"user\"]");
	xsnprintf(expr, sizeof(expr), "[(a['path'], a['changed'], "
	    "a['added'], a['unchanged'], a['repaired'], a['recorded'], "
	    "a['updated']) for a in d['accounts'] if a['user'] == 'alice'] "
	    "== [('%s', True, 2, 0, 0, 0, 0)]", akpath(p, "alice"));
	expect_json(r.out, expr, "true");
	xsnprintf(expr, sizeof(expr), "[(a['path'], a['changed'], "
	    "a['added'], a['unchanged']) for a in d['accounts'] if "
	    "a['user'] == 'bob'] == [('%s', True, 1, 0)]", akpath(p, "bob"));
	expect_json(r.out, expr, "true");
	run_free(&r);
	free(in.p);
}

Test(import, second_run_changes_nothing)
{
	struct run_result	r;
	struct rk		k[5];
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], *before, *after;
	long			nev;
	int			i;

	for (i = 0; i < 5; i++) {
		rkey(&k[i], "k");
		sb_add(&in, "%s\t%s\n", i % 2 ? "bob" : "alice", k[i].line);
	}
	input(path, "keys.tsv", in.p);
	KA_OK("import", path, "--reason", "first");
	before = snapshot();
	nev = events();
	cr_assert_eq(nev, 5);

	ka(&r, NULL, "--json", "import", path, "--reason", "again", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_empty(r.err);
	expect_json(r.out, "d['changed']", "false");
	expect_json(r.out, "d['added']", "0");
	expect_json(r.out, "d['unchanged']", "5");
	expect_json(r.out, "d['installed']", "5");
	expect_json(r.out, "[(a['user'], a['changed'], a['unchanged'], "
	    "a['added'], a['repaired'], a['recorded'], a['updated']) for a "
	    "in sorted(d['accounts'], key=lambda a: a['user'])]",
	    "[[\"alice\", false, 3, 0, 0, 0, 0], "
	    "[\"bob\", false, 2, 0, 0, 0, 0]]");
	run_free(&r);
	cr_assert_eq(events(), nev, "a no-op run recorded events");
	after = snapshot();
	/* the key files, byte for byte, modes and owners too */
	cr_assert_not_null(strstr(before, "home/alice/.ssh/authorized_keys "));
	cr_assert_not_null(strstr(before, "home/bob/.ssh/authorized_keys "));
	only_lines(before, "home/");
	only_lines(after, "home/");
	cr_assert_str_eq(after, before, "a second run changed the files");
	free(before);
	free(after);
	/* and the text form says so */
	ka(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "alice: 3 unchanged in "), "%s",
	    r.out);
	run_free(&r);
	cr_assert_eq(events(), nev);
	expect_audit_clean();
	free(in.p);
}

Test(import, same_key_twice_for_one_account_is_one_grant)
{
	struct run_result	r;
	struct rk		k1, k2;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], *a, *b;

	rkey(&k1, "first");
	rkey(&k2, "other");
	sb_add(&in, "alice\t%s\nbob\t%s\nalice\t%s\nalice\t%s again\n",
	    k1.line, k1.line, k2.line, k1.tb);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 0, "a duplicate is no refusal: %s", r.err);
	expect_json(r.out, "d['duplicates']", "1");
	expect_json(r.out, "d['accepted']", "4");
	expect_json(r.out, "d['installed']", "3");
	expect_json(r.out, "d['rejected_count']", "0");
	run_free(&r);
	a = ak("alice");
	b = ak("bob");
	cr_assert_eq(line_count(a, k1.line), 1, "%s", a);
	cr_assert_eq(text_lines(a), 2, "%s", a);
	cr_assert_eq(line_count(b, k1.line), 1, "the same key for another "
	    "account is installed there too:\n%s", b);
	cr_assert_eq(text_lines(b), 1, "%s", b);
	cr_assert_eq(grants("alice"), 2);
	cr_assert_eq(grants("bob"), 1);
	free(a);
	free(b);
	free(in.p);
}

Test(import, rejected_lines_are_reported_with_source_and_line)
{
	struct run_result	r;
	struct rk		k1, k2, k3;
	struct sbuf		in = { NULL, 0, 0 };
	const char		*v = getenv("KEYADM_VECTORS");
	char			path[PATH_MAX], vp[PATH_MAX], *dsa, *rsa, *a;
	char			*why, expr[512];
	int			i;
	static const int	bad[] = { 3, 4, 5, 6, 7, 8 };

	cr_assert_not_null(v, "KEYADM_VECTORS not set (run through ctest)");
	xsnprintf(vp, sizeof(vp), "%s/openssh-sshkey/dsa_1.pub", v);
	dsa = slurp(vp, NULL);
	dsa[strcspn(dsa, "\n")] = '\0';
	xsnprintf(vp, sizeof(vp), "%s/openssh-sshkey/rsa_1.pub", v);
	rsa = slurp(vp, NULL);			/* 1024 bits */
	rsa[strcspn(rsa, "\n")] = '\0';
	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	sb_add(&in, "# bulk\n"			/* 1 */
	    "alice\t%s\n"			/* 2 good */
	    "alice %s\n"			/* 3 no tab */
	    "bad user!\t%s\n"			/* 4 bad name */
	    "alice\tssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA x\n" /* 5 */
	    "bob\trestrict %s\n"		/* 6 options */
	    "bob\t%s\n"				/* 7 DSA */
	    "bob\t%s\n"				/* 8 RSA 1024 */
	    "bob\t%s\n",			/* 9 good */
	    k1.line, k2.line, k2.line, k3.line, dsa, rsa, k3.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	no_progress(&r);
	expect_msg(&r, path, 3, "expected USER, a tab and a key line");
	expect_msg(&r, path, 4, "not a valid user name");
	expect_msg(&r, path, 6, R_OPTIONS);
	/* one line per refusal on stderr, each SOURCE:LINE: reason */
	cr_assert_eq(text_lines(r.err), 6, "%s", r.err);
	for (i = 0; i < 6; i++) {
		char pre[PATH_MAX + 32];
		xsnprintf(pre, sizeof(pre), "keyadm: %s:%d: ", path, bad[i]);
		cr_assert_not_null(strstr(r.err, pre), "no message for line "
		    "%d:\n%s", bad[i], r.err);
	}
	/* the JSON says the same */
	expect_json(r.out, "[x['line'] for x in d['rejected']]",
	    "[3, 4, 5, 6, 7, 8]");
	expect_json(r.out, "sorted(set(x['source'] for x in d['rejected']))"
	    "[0]", path);
	expect_json(r.out, "set(x['verdict'] for x in d['rejected']) == "
	    "{'reject'}", "true");
	/* every object says where, what and why; a line refused before
	 * its key was judged also gives the error */
	expect_json(r.out, "all(x['reasons'] and x['reasons'][0]['text'] "
	    "and x['reasons'][0]['severity'] == 'reject' for x in "
	    "d['rejected'])", "true");
	expect_json(r.out, "[(x['line'], x['error']) for x in d['rejected'] "
	    "if x['line'] < 7]", "[[3, \"malformed\"], [4, \"malformed\"], "
	    "[5, \"malformed\"], [6, \"malformed\"]]");
	expect_json(r.out, "[(x['line'], x['fingerprint']) for x in "
	    "d['rejected'] if x['line'] >= 7]", "[[7, \"SHA256:kOLgXSoAT8O5T6r"
	    "36n5NJUYigbux1d7gdH/rmWiJm6s\"], [8, \"SHA256:l6itGumSMcRBBAFteC"
	    "gmjQBIXqLK/jFGUH3viHX1RmE\"]]");
	for (i = 0; i < 6; i++) {
		xsnprintf(expr, sizeof(expr), "[x['reasons'][0]['text'] for x "
		    "in d['rejected'] if x['line'] == %d][0]", bad[i]);
		why = pyj(r.out, expr);
		expect_msg(&r, path, bad[i], why);
		free(why);
	}
	expect_json(r.out, "d['rejected_count']", "6");
	expect_json(r.out, "d['accepted']", "2");
	expect_json(r.out, "d['installed']", "2");
	expect_json(r.out, "d['refused']", "[]");
	/* the DSA and 1024-bit RSA keys never reach a file */
	run_free(&r);
	a = ak("alice");
	cr_assert_eq(line_count(a, k1.line), 1, "%s", a);
	cr_assert_eq(text_lines(a), 1, "%s", a);
	free(a);
	a = ak("bob");
	cr_assert_eq(line_count(a, k3.line), 1, "%s", a);
	cr_assert_eq(text_lines(a), 1, "%s", a);
	free(a);
	cr_assert_eq(grants(NULL), 2);
	expect_audit_clean();
	free(in.p);
	free(dsa);
	free(rsa);
}

Test(import, unknown_account_is_refused_others_get_their_keys)
{
	struct run_result	r;
	struct rk		k1, k2, k3;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], *a;

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	sb_add(&in, "\ncarol\t%s\nalice\t%s\ncarol\t%s\n", k1.line, k2.line,
	    k3.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	expect_msg(&r, path, 2, "carol: unknown user");
	expect_msg(&r, path, 4, "carol: unknown user");
	cr_assert_eq(text_lines(r.err), 2, "%s", r.err);
	expect_json(r.out, "[(x['line'], x['user'], x['error'], "
	    "x['reason']) for x in d['refused']]", "[[2, \"carol\", "
	    "\"unknown user\", \"carol: unknown user\"], [4, \"carol\", "
	    "\"unknown user\", \"carol: unknown user\"]]");
	expect_json(r.out, "sorted(set(x['source'] for x in d['refused']))"
	    "[0]", path);
	expect_json(r.out, "d['rejected_count']", "2");
	expect_json(r.out, "d['installed']", "1");
	expect_json(r.out, "[a['user'] for a in d['accounts']]",
	    "[\"alice\"]");
	expect_json(r.out, "d['rejected']", "[]");
	run_free(&r);
	a = ak("alice");
	cr_assert_eq(line_count(a, k2.line), 1, "%s", a);
	free(a);
	cr_assert_eq(grants(NULL), 1);
	expect_audit_clean();
	expect_chain_intact();
	free(in.p);
}

/* add KEY for alice, then revoke it for every account. */
static void
revoke_everywhere(const struct rk *k)
{
	char	path[PATH_MAX];
	char	line[256];

	xsnprintf(line, sizeof(line), "%s\n", k->line);
	input(path, "revoked.pub", line);
	KA_OK("add", "alice", path);
	KA_OK("revoke", k->fp, "--reason", "leaked");
}

Test(import, revoked_key_is_refused_for_every_account)
{
	struct run_result	r;
	struct rk		k1, k2;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], why[512], *a, *b;

	rkey(&k1, "leaked");
	rkey(&k2, "fine");
	revoke_everywhere(&k1);
	sb_add(&in, "bob\t%s\nalice\t%s\nbob\t%s\n", k1.line, k1.line,
	    k2.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	xsnprintf(why, sizeof(why), "bob: %s is revoked; add --force "
	    "reinstates it", k1.fp);
	expect_msg(&r, path, 1, why);
	xsnprintf(why, sizeof(why), "alice: %s is revoked; add --force "
	    "reinstates it", k1.fp);
	expect_msg(&r, path, 2, why);
	expect_json(r.out, "[(x['line'], x['user'], x['error']) for x in "
	    "d['refused']]", "[[1, \"bob\", \"refused by policy\"], "
	    "[2, \"alice\", \"refused by policy\"]]");
	expect_json(r.out, "d['installed']", "1");
	run_free(&r);
	a = ak("alice");
	b = ak("bob");
	cr_assert_eq(line_count(a, k1.line), 0, "%s", a);
	cr_assert_eq(line_count(b, k1.line), 0, "%s", b);
	cr_assert_eq(line_count(b, k2.line), 1, "%s", b);
	free(a);
	free(b);
	cr_assert_eq(grants("bob"), 1);
	cr_assert_eq(grants("alice"), 0);
	expect_audit_clean();
	free(in.p);
}

Test(import, key_revoked_in_the_store_is_refused_when_not_listed)
{
	struct run_result	r;
	struct rk		k1;
	char			path[PATH_MAX], rev[PATH_MAX], line[256];
	char			*text, *kept, *p, *e, why[512], *b;
	struct stat		st;
	size_t			n = 0;

	rkey(&k1, "leaked");
	revoke_everywhere(&k1);
	/* the revoked-keys file loses the line; the store still knows */
	tp(rev, REVOKED_REL);
	cr_assert_eq(stat(rev, &st), 0);
	text = slurp(rev, NULL);
	cr_assert_not_null(strstr(text, k1.tb), "%s", text);
	kept = calloc(1, strlen(text) + 1);
	cr_assert_not_null(kept);
	for (p = text; *p != '\0'; p = e) {
		e = strchr(p, '\n');
		e = e != NULL ? e + 1 : p + strlen(p);
		if (strncmp(p, k1.tb, strlen(k1.tb)) != 0) {
			memcpy(kept + n, p, (size_t)(e - p));
			n += (size_t)(e - p);
		}
	}
	spew(rev, kept, n, st.st_mode & 07777);
	free(text);
	text = slurp(rev, NULL);
	cr_assert_null(strstr(text, k1.tb), "%s", text);
	xsnprintf(line, sizeof(line), "bob\t%s\n", k1.line);
	input(path, "keys.tsv", line);
	ka(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	xsnprintf(why, sizeof(why), "bob: %s is revoked; add --force "
	    "reinstates it", k1.fp);
	expect_msg(&r, path, 1, why);
	run_free(&r);
	b = ak("bob");
	cr_assert_eq(line_count(b, k1.line), 0, "%s", b);
	free(b);
	free(text);
	free(kept);
}

Test(import, key_listed_as_revoked_is_refused_when_unknown_to_the_store)
{
	struct run_result	r;
	struct rk		k1, k2;
	char			path[PATH_MAX], line[512], why[512], *a;

	rkey(&k1, "listed");
	rkey(&k2, "fine");
	mkdirs(tp(path, "etc/ssh"), 0755);
	xsnprintf(line, sizeof(line), "%s\n", k1.tb);
	spew(tp(path, REVOKED_REL), line, strlen(line), 0644);
	xsnprintf(line, sizeof(line), "alice\t%s\nalice\t%s\n", k1.line,
	    k2.line);
	input(path, "keys.tsv", line);
	ka(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	xsnprintf(why, sizeof(why), "alice: %s is revoked; add --force "
	    "reinstates it", k1.fp);
	expect_msg(&r, path, 1, why);
	cr_assert_eq(text_lines(r.err), 1, "%s", r.err);
	run_free(&r);
	a = ak("alice");
	cr_assert_eq(line_count(a, k1.line), 0, "%s", a);
	cr_assert_eq(line_count(a, k2.line), 1, "%s", a);
	free(a);
	cr_assert_eq(grants("alice"), 1);
}

Test(import, unsafe_account_path_is_refused_others_get_their_keys)
{
	struct run_result	r;
	struct rk		k1, k2, k3;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], other[PATH_MAX], link[PATH_MAX];
	char			*b, *msg;
	struct stat		st;

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	/* alice's .ssh is a link to a directory of hers elsewhere */
	mkdirs(tp(other, "elsewhere"), 0700);
	if (T.as_root)
		cr_assert_eq(chown(other, T.alice_uid, T.alice_gid), 0);
	cr_assert_eq(symlink(other, tp(link, "home/alice/.ssh")), 0);
	if (T.as_root)
		cr_assert_eq(lchown(link, T.alice_uid, T.alice_gid), 0);
	sb_add(&in, "alice\t%s\nbob\t%s\nalice\t%s\n", k1.line, k2.line,
	    k3.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	cr_assert_eq(text_lines(r.err), 2, "one message per key:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, ":1: "), "%s", r.err);
	cr_assert_not_null(strstr(r.err, ":3: "), "%s", r.err);
	cr_assert_not_null(strstr(r.err, ".ssh"), "the path is named:\n%s",
	    r.err);
	cr_assert_not_null(strstr(r.err, "nothing installed for alice"),
	    "%s", r.err);
	expect_json(r.out, "[(x['line'], x['user']) for x in d['refused']]",
	    "[[1, \"alice\"], [3, \"alice\"]]");
	msg = pyj(r.out, "d['refused'][0]['reason']");
	expect_msg(&r, path, 1, msg);
	free(msg);
	expect_json(r.out, "[a['user'] for a in d['accounts']]", "[\"bob\"]");
	run_free(&r);
	/* nothing went through the link, nothing was recorded for alice */
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISLNK(st.st_mode), ".ssh is no longer the link");
	xsnprintf(path, sizeof(path), "%s/authorized_keys", other);
	cr_assert(lstat(path, &st) == -1 && errno == ENOENT,
	    "written through the link");
	cr_assert_eq(grants("alice"), 0);
	b = ak("bob");
	cr_assert_eq(line_count(b, k2.line), 1, "%s", b);
	free(b);
	cr_assert_eq(grants("bob"), 1);
	expect_chain_intact();
	free(in.p);
}

Test(import, account_without_usable_home_is_refused)
{
	struct run_result	r;
	struct rk		k1, k2, k3;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], *a;

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	account_home("ghost", "home/ghost");		/* not absolute */
	account_home("nohome", "/home/nohome");		/* never made */
	sb_add(&in, "ghost\t%s\nnohome\t%s\nalice\t%s\n", k1.line, k2.line,
	    k3.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	expect_msg(&r, path, 1, "ghost: home directory is not an absolute "
	    "path");
	cr_assert_not_null(strstr(r.err, ":2: "), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "nothing installed for nohome"),
	    "%s", r.err);
	expect_json(r.out, "[(x['line'], x['user']) for x in d['refused']]",
	    "[[1, \"ghost\"], [2, \"nohome\"]]");
	expect_json(r.out, "d['installed']", "1");
	run_free(&r);
	a = ak("alice");
	cr_assert_eq(line_count(a, k3.line), 1, "%s", a);
	free(a);
	cr_assert_eq(grants(NULL), 1);
	expect_chain_intact();
	free(in.p);
}

Test(import, options_apply_to_every_key_as_add_writes_them)
{
	struct run_result	r;
	struct rk		k0, k1, k2, k3;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], one[256], prefix[1024];
	char			want[2048], *b, *a, *sp, *j;
	const char		*opts[] = { "--restrict", "--from",
				    "10.0.0.0/8,192.168.1.*", "--command",
				    "/usr/bin/rsync --server \"x\"",
				    "--option", "no-pty", "--expires",
				    "2031-01-01", "--reason", "bulk intake" };

	rkey(&k0, "control");
	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	/* what add writes with these options: the control */
	xsnprintf(one, sizeof(one), "%s\n", k0.line);
	input(path, "control.pub", one);
	KA_OK("add", "bob", path, opts[0], opts[1], opts[2], opts[3], opts[4],
	    opts[5], opts[6], opts[7], opts[8], opts[9], opts[10]);
	b = ak("bob");
	sp = strstr(b, k0.tb);
	cr_assert_not_null(sp, "%s", b);
	cr_assert(sp > b + 1 && sp[-1] == ' ', "add wrote no options: %s", b);
	xsnprintf(prefix, sizeof(prefix), "%.*s", (int)(sp - b), b);
	cr_assert_not_null(strstr(prefix, "restrict"), "%s", prefix);
	cr_assert_not_null(strstr(prefix, "from=\"10.0.0.0/8,192.168.1.*\""),
	    "%s", prefix);
	cr_assert_not_null(strstr(prefix, "expiry-time=\"20310101"), "%s",
	    prefix);
	free(b);

	sb_add(&in, "alice\t%s\nalice\t%s\nbob\t%s\n", k1.line, k2.line,
	    k3.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "import", path, opts[0], opts[1], opts[2], opts[3],
	    opts[4], opts[5], opts[6], opts[7], opts[8], opts[9], opts[10],
	    NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	a = ak("alice");
	xsnprintf(want, sizeof(want), "%s%s\n%s%s\n", prefix, k1.line,
	    prefix, k2.line);
	cr_assert_str_eq(a, want);
	free(a);
	b = ak("bob");
	xsnprintf(want, sizeof(want), "%s%s", prefix, k3.line);
	cr_assert_eq(line_count(b, want), 1, "%s", b);
	free(b);
	/* the store: the same options, expiry and reason as add's grant */
	j = ka_json("list", NULL);
	expect_json(j, "len(d)", "4");
	expect_json(j, "len(set((g['options'], g['expires_at'], g['reason'])"
	    " for g in d))", "1");
	expect_json(j, "d[0]['reason']", "bulk intake");
	expect_json(j, "d[0]['expires_at'].startswith('2031-01-01T')",
	    "true");
	free(j);

	/* the same options again: nothing to do */
	ka(&r, NULL, "--json", "import", path, opts[0], opts[1], opts[2],
	    opts[3], opts[4], opts[5], opts[6], opts[7], opts[8], NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	expect_json(r.out, "(d['changed'], d['unchanged'])", "[false, 3]");
	run_free(&r);
	/* --no-options: every key loses them ("updated", as add says) */
	ka(&r, NULL, "--json", "import", path, "--no-options", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	expect_json(r.out, "d['changed']", "true");
	expect_json(r.out, "sum(a['updated'] for a in d['accounts'])", "3");
	run_free(&r);
	a = ak("alice");
	xsnprintf(want, sizeof(want), "%s\n%s\n", k1.line, k2.line);
	cr_assert_str_eq(a, want);
	free(a);
	expect_audit_clean();
	expect_chain_intact();
	free(in.p);
}

Test(import, repairs_and_records_as_add_does)
{
	struct run_result	r;
	struct rk		k1, k2, k3;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], p[PATH_MAX], text[1024], *a;

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	sb_add(&in, "alice\t%s\nalice\t%s\n", k1.line, k2.line);
	input(path, "keys.tsv", in.p);
	KA_OK("import", path);
	/* k1's line is lost; k3 was put in by hand (unmanaged) */
	xsnprintf(text, sizeof(text), "%s\n%s\n", k2.line, k3.line);
	spew(akpath(p, "alice"), text, strlen(text), 0600);
	sb_add(&in, "alice\t%s\n", k3.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	expect_json(r.out, "[(a['repaired'], a['unchanged'], a['recorded'], "
	    "a['added']) for a in d['accounts']]", "[[1, 1, 1, 0]]");
	expect_json(r.out, "d['changed']", "true");
	run_free(&r);
	a = ak("alice");
	cr_assert_eq(line_count(a, k1.line), 1, "%s", a);
	cr_assert_eq(line_count(a, k2.line), 1, "%s", a);
	cr_assert_eq(line_count(a, k3.line), 1, "%s", a);
	cr_assert_eq(text_lines(a), 3, "%s", a);
	free(a);
	cr_assert_eq(grants("alice"), 3);
	expect_audit_clean();
	expect_chain_intact();
	free(in.p);
}

Test(import, dry_run_changes_nothing)
{
	struct run_result	r;
	struct rk		k0, k1, k2, k3;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], one[256], want[PATH_MAX * 2];
	char			p[PATH_MAX], *before, *after, *line;
	long			nev;

	rkey(&k0, "k0");
	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	xsnprintf(one, sizeof(one), "%s\n", k0.line);
	input(path, "k0.pub", one);
	KA_OK("add", "alice", path);
	sb_add(&in, "alice\t%s\nbob\t%s\nbob\t%s\ncarol\t%s\nalice\t%s\n",
	    k1.line, k2.line, k3.line, k3.line, k0.line);
	input(path, "keys.tsv", in.p);
	nev = events();
	before = snapshot();
	ka(&r, NULL, "import", path, "--dry-run", NULL);
	cr_assert_eq(r.status, 1, "carol is refused even in a dry run: %d\n%s",
	    r.status, r.err);
	expect_msg(&r, path, 4, "carol: unknown user");
	line = out_line(r.out, "alice: ");
	cr_assert_not_null(strstr(line, "1 would be added"), "%s", r.out);
	cr_assert_not_null(strstr(line, "1 would be unchanged"), "%s", r.out);
	xsnprintf(want, sizeof(want), " in %s", akpath(p, "alice"));
	cr_assert_not_null(strstr(line, want), "%s", r.out);
	free(line);
	xsnprintf(want, sizeof(want), "bob: 2 would be added in %s\n",
	    akpath(p, "bob"));
	cr_assert_not_null(strstr(r.out, want), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "import: "), "%s", r.out);
	run_free(&r);
	after = snapshot();
	cr_assert_str_eq(after, before, "a dry run changed the tree");
	free(after);
	cr_assert_eq(events(), nev);

	ka(&r, NULL, "--json", "import", path, "--dry-run", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	expect_json(r.out, "d['dry_run']", "true");
	expect_json(r.out, "sorted((a['user'], a['added']) for a in "
	    "d['accounts'])", "[[\"alice\", 1], [\"bob\", 2]]");
	run_free(&r);
	after = snapshot();
	cr_assert_str_eq(after, before, "a dry run changed the tree");
	free(after);
	free(before);
	free(in.p);
}

Test(import, dry_run_without_a_store_makes_none)
{
	struct run_result	r;
	struct rk		k1, k2;
	char			path[PATH_MAX], text[512], db[PATH_MAX];
	char			*before, *after;
	struct stat		st;

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	xsnprintf(text, sizeof(text), "alice\t%s\nbob\t%s\n", k1.line,
	    k2.line);
	input(path, "keys.tsv", text);
	before = snapshot();
	ka(&r, NULL, "import", path, "--dry-run", NULL);
	cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
	cr_assert_str_empty(r.err);
	cr_assert_not_null(strstr(r.out, "alice: 1 would be added in "),
	    "%s", r.out);
	cr_assert_not_null(strstr(r.out, "bob: 1 would be added in "), "%s",
	    r.out);
	run_free(&r);
	after = snapshot();
	cr_assert_str_eq(after, before, "a dry run changed the tree");
	cr_assert(lstat(tp(db, DB_REL), &st) == -1 && errno == ENOENT,
	    "a dry run made the store");
	free(before);
	free(after);
}

/* ------------------------------------------------------ exit statuses */

Test(import, usage_errors_exit_64)
{
	struct run_result	r;
	struct rk		k1;
	char			path[PATH_MAX], text[256], db[PATH_MAX];
	struct stat		st;

	rkey(&k1, "k1");
	xsnprintf(text, sizeof(text), "alice\t%s\n", k1.line);
	input(path, "keys.tsv", text);
	ka(&r, NULL, "import", NULL);
	cr_assert_eq(r.status, 64);
	cr_assert_str_eq(r.err, USAGE);
	cr_assert_eq(r.outlen, 0, "%s", r.out);
	run_free(&r);
	ka(&r, NULL, "import", path, path, NULL);
	cr_assert_eq(r.status, 64);
	cr_assert_str_eq(r.err, USAGE);
	cr_assert_eq(r.outlen, 0, "%s", r.out);
	run_free(&r);
	ka(&r, NULL, "import", path, "--bogus", NULL);
	cr_assert_eq(r.status, 64);
	cr_assert_eq(strncmp(r.err, "keyadm: --bogus: ", 17), 0, "%s", r.err);
	cr_assert_eq(r.outlen, 0, "%s", r.out);
	run_free(&r);
	ka(&r, NULL, "import", path, "--expires", "soon", NULL);
	cr_assert_eq(r.status, 64, "%s", r.err);
	cr_assert_eq(strncmp(r.err, "keyadm: --expires: ", 19), 0, "%s",
	    r.err);
	run_free(&r);
	ka(&r, NULL, "import", path, "--no-options", "--restrict", NULL);
	cr_assert_eq(r.status, 64, "%s", r.err);
	run_free(&r);
	ka(&r, NULL, "import", path, "--reason", "two\nlines", NULL);
	cr_assert_eq(r.status, 64, "%s", r.err);
	run_free(&r);
	/* nothing was done */
	cr_assert(lstat(tp(db, DB_REL), &st) == -1 && errno == ENOENT);
	cr_assert(lstat(akpath(db, "alice"), &st) == -1 && errno == ENOENT);
}

Test(import, missing_input_exits_66)
{
	struct run_result	r;
	char			path[PATH_MAX], want[PATH_MAX + 64], db[PATH_MAX];
	struct stat		st;

	xsnprintf(path, sizeof(path), "%s/no-such.tsv", T.inbox);
	ka(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 66, "exit %d\n%s", r.status, r.err);
	xsnprintf(want, sizeof(want), "keyadm: %s: no such file or "
	    "directory\n", path);
	cr_assert_str_eq(r.err, want);
	run_free(&r);
	xsnprintf(path, sizeof(path), "%s/no-such-dir/", T.inbox);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 66, "exit %d\n%s", r.status, r.err);
	cr_assert(json_valid(r.out, r.outlen), "%s", r.out);
	expect_json(r.out, "d['error']", "input missing or unreadable");
	run_free(&r);
	cr_assert(lstat(tp(db, DB_REL), &st) == -1 && errno == ENOENT);
}

Test(import, input_without_keys_exits_65)
{
	struct run_result	r;
	char			path[PATH_MAX], dir[PATH_MAX], want[PATH_MAX * 2];
	char			db[PATH_MAX];
	struct stat		st;

	input(path, "empty.tsv", "");
	ka(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 65, "exit %d\n%s", r.status, r.err);
	xsnprintf(want, sizeof(want), "keyadm: %s: no public key in it\n",
	    path);
	cr_assert_str_eq(r.err, want);
	run_free(&r);
	input(path, "comments.tsv", "# nothing yet\n\n   \r\n# alice\tx\n");
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 65, "exit %d\n%s", r.status, r.err);
	xsnprintf(want, sizeof(want), "keyadm: %s: no public key in it\n",
	    path);
	cr_assert_str_eq(r.err, want);
	cr_assert(json_valid(r.out, r.outlen), "%s", r.out);
	expect_json(r.out, "d['error']", "malformed input");
	expect_json(r.out, "d['accounts']", "[]");
	run_free(&r);
	/* a keydir with nothing in it, or nothing but other files */
	xsnprintf(dir, sizeof(dir), "%s/keydir", T.inbox);
	mkdirs(dir, 0755);
	ka(&r, NULL, "import", dir, NULL);
	cr_assert_eq(r.status, 65, "exit %d\n%s", r.status, r.err);
	run_free(&r);
	xsnprintf(path, sizeof(path), "%s/README", dir);
	spew(path, "keys go here\n", 13, 0644);
	mkdirs(tp(path, "inbox/keydir/.git"), 0755);
	ka(&r, NULL, "import", dir, NULL);
	cr_assert_eq(r.status, 65, "exit %d\n%s", r.status, r.err);
	run_free(&r);
	cr_assert(lstat(tp(db, DB_REL), &st) == -1 && errno == ENOENT);
}

Test(import, standard_input)
{
	struct run_result	r;
	struct rk		k1, k2;
	char			text[512], *a;

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	xsnprintf(text, sizeof(text), "alice\t%s\nbob\tssh-ed25519 AAAA\n"
	    "bob\t%s", k1.line, k2.line);		/* no final newline */
	ka(&r, text, "import", "-", NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	cr_assert_eq(strncmp(r.err, "keyadm: standard input:2: ", 26), 0,
	    "%s", r.err);
	cr_assert_eq(text_lines(r.err), 1, "%s", r.err);
	run_free(&r);
	a = ak("alice");
	cr_assert_eq(line_count(a, k1.line), 1, "%s", a);
	free(a);
	a = ak("bob");
	cr_assert_eq(line_count(a, k2.line), 1, "the last line, without its "
	    "newline, is read too:\n%s", a);
	free(a);
	/* nothing at all on standard input */
	ka(&r, NULL, "import", "-", NULL);
	cr_assert_eq(r.status, 65, "exit %d\n%s", r.status, r.err);
	run_free(&r);
}

Test(import, overlong_line_is_refused_alone)
{
	struct run_result	r;
	struct rk		k1, k2;
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], *a;
	size_t			i;

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	sb_add(&in, "alice\t%s\nalice\tssh-ed25519 ", k1.line);
	for (i = 0; i < 100000 / 64; i++)
		sb_add(&in, "%s", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAA");
	sb_add(&in, " x\nbob\t%s\n", k2.line);
	input(path, "keys.tsv", in.p);
	ka(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	cr_assert_eq(text_lines(r.err), 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, ":2: "), "the long line is line 2:\n"
	    "%s", r.err);
	run_free(&r);
	a = ak("alice");
	cr_assert_eq(line_count(a, k1.line), 1, "%s", a);
	cr_assert_eq(text_lines(a), 1, "%s", a);
	free(a);
	a = ak("bob");
	cr_assert_eq(line_count(a, k2.line), 1, "line 3 after the long one is "
	    "read:\n%s", a);
	free(a);
	free(in.p);
}

/* Writes of NAME into dir seen by the inotify descriptor fd so far. */
static int
writes_seen(int fd, const char *name)
{
	char				 buf[65536]
					    __attribute__((aligned(8)));
	const struct inotify_event	*ev;
	ssize_t				 n;
	char				*p;
	int				 c = 0;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			cr_assert(!(ev->mask & IN_Q_OVERFLOW), "events lost");
			if (ev->len > 0 && strcmp(ev->name, name) == 0 &&
			    (ev->mask & (IN_MOVED_TO | IN_CLOSE_WRITE)))
				c++;
		}
	cr_assert(n == -1 && errno == EAGAIN, "inotify read: %s",
	    strerror(errno));
	return c;
}

Test(import, each_accounts_file_is_written_once)
{
	struct rk		k[12];
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], dir[PATH_MAX], *a;
	int			fd, wa, wb, i;

	/* alice's and bob's keys interleaved, and the keydir form too */
	for (i = 0; i < 12; i++) {
		rkey(&k[i], "k");
		sb_add(&in, "%s\t%s\n", i % 2 ? "bob" : "alice", k[i].line);
	}
	input(path, "keys.tsv", in.p);
	mkdirs(tp(dir, "home/alice/.ssh"), 0700);
	if (T.as_root)
		cr_assert_eq(chown(dir, T.alice_uid, T.alice_gid), 0);
	mkdirs(tp(dir, "home/bob/.ssh"), 0700);
	if (T.as_root)
		cr_assert_eq(chown(dir, T.bob_uid, T.bob_gid), 0);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert_neq(fd, -1, "inotify: %s", strerror(errno));
	wa = inotify_add_watch(fd, tp(dir, "home/alice/.ssh"), IN_MOVED_TO |
	    IN_CLOSE_WRITE);
	cr_assert_neq(wa, -1);
	KA_OK("import", path);
	cr_assert_eq(writes_seen(fd, "authorized_keys"), 1,
	    "alice's file was not written exactly once");
	wb = inotify_add_watch(fd, tp(dir, "home/bob/.ssh"), IN_MOVED_TO |
	    IN_CLOSE_WRITE);
	cr_assert_neq(wb, -1);
	/* a second run writes nothing at all */
	KA_OK("import", path);
	cr_assert_eq(writes_seen(fd, "authorized_keys"), 0,
	    "a no-op run rewrote a file");
	(void)close(fd);
	a = ak("alice");
	cr_assert_eq(text_lines(a), 6, "%s", a);
	free(a);
	free(in.p);
}

/* -------------------------------------------------------------- keydir */

/* dir/name := text */
static void
kd_file(const char *dir, const char *name, const char *text)
{
	char	path[PATH_MAX];

	xsnprintf(path, sizeof(path), "%s/%s", dir, name);
	spew(path, text, strlen(text), 0644);
}

/*
 * A keydir is written by more people than root's keys should be: a file
 * named for root is refused (exit 1), the others are installed.
 */
Test(import, keydir_never_installs_for_root)
{
	struct run_result	r;
	struct rk		k1, k2;
	char			dir[PATH_MAX], src[PATH_MAX + 32], p[PATH_MAX];
	char			text[1024], *a;
	struct stat		st;

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	xsnprintf(dir, sizeof(dir), "%s/keydir", T.inbox);
	mkdirs(dir, 0755);
	xsnprintf(text, sizeof(text), "%s\n", k1.line);
	kd_file(dir, "root@laptop.pub", text);
	xsnprintf(text, sizeof(text), "%s\n", k2.line);
	kd_file(dir, "alice.pub", text);
	ka(&r, NULL, "import", dir, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	xsnprintf(src, sizeof(src), "%s/root@laptop.pub", dir);
	expect_msg(&r, src, 1, "root: import does not install keys for uid "
	    "0; use keyadm add root FILE");
	run_free(&r);
	cr_assert_neq(lstat(tp(p, "root/.ssh/authorized_keys"), &st), 0,
	    "root got a key");
	a = ak("alice");
	cr_assert_eq(line_count(a, k2.line), 1, "%s", a);
	free(a);
	cr_assert_eq(grants(NULL), 1);
}

Test(import, keydir_maps_file_names_to_accounts)
{
	struct run_result	r;
	struct rk		k1, k2, k5, k6, k7, k8, kx, kh, ks;
	char			dir[PATH_MAX], sub[PATH_MAX], pub3[PATH_MAX];
	char			pub4[PATH_MAX], fp3[64], fp4[64], text[8192];
	char			pub9[PATH_MAX], fp9[64], *pkcs1;
	char			*rfc, *pem, *a;
	const char		*fps_a[5], *fps_b[2], *fps_c[2];

	account("a@corp.example");
	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k5, "k5");
	rkey(&k6, "k6");
	rkey(&k7, "k7");
	rkey(&k8, "k8");
	rkey(&kx, "not imported");
	rkey(&kh, "hidden");
	rkey(&ks, "in a subdirectory");
	sshkey("ecdsa", "k3", pub3, fp3);
	sshkey("ecdsa", "k4", pub4, fp4);
	sshkey("rsa", "k9", pub9, fp9);
	rfc = keygen_out("-e", "-f", pub3, NULL);	/* RFC 4716 */
	cr_assert_not_null(strstr(rfc, "---- BEGIN SSH2 PUBLIC KEY ----"),
	    "%s", rfc);
	pem = keygen_out("-e", "-m", "PKCS8", "-f", pub4, NULL);
	cr_assert_not_null(strstr(pem, "-----BEGIN PUBLIC KEY-----"), "%s",
	    pem);
	pkcs1 = keygen_out("-e", "-m", "PEM", "-f", pub9, NULL);
	cr_assert_not_null(strstr(pkcs1, "-----BEGIN RSA PUBLIC KEY-----"),
	    "%s", pkcs1);

	xsnprintf(dir, sizeof(dir), "%s/keydir", T.inbox);
	mkdirs(dir, 0755);
	xsnprintf(text, sizeof(text), "%s\n", k1.line);
	kd_file(dir, "alice.pub", text);
	/* several keys in one file, in four formats */
	xsnprintf(text, sizeof(text), "%s\r\n\n%s\n%s%s", k2.line, rfc, pem,
	    pkcs1);
	kd_file(dir, "alice@laptop.pub", text);
	/* USER/: every .pub in it is USER's, whatever its name */
	xsnprintf(sub, sizeof(sub), "%s/bob", dir);
	mkdirs(sub, 0755);
	xsnprintf(text, sizeof(text), "%s\n", k5.line);
	kd_file(sub, "work.pub", text);
	xsnprintf(text, sizeof(text), "%s\n", k6.line);
	kd_file(sub, "alice.pub", text);
	xsnprintf(text, sizeof(text), "%s\n", kh.line);
	kd_file(sub, ".old.pub", text);
	xsnprintf(text, sizeof(text), "%s\n", kx.line);
	kd_file(sub, "notes.txt", text);
	xsnprintf(sub, sizeof(sub), "%s/bob/deeper", dir);
	mkdirs(sub, 0755);
	xsnprintf(text, sizeof(text), "%s\n", ks.line);
	kd_file(sub, "x.pub", text);
	/* a '.' after the '@': the whole is the user name */
	xsnprintf(text, sizeof(text), "%s\n", k7.line);
	kd_file(dir, "a@corp.example.pub", text);
	xsnprintf(text, sizeof(text), "%s\n", k8.line);
	kd_file(dir, "a@corp.example@desk.pub", text);
	/* passed over in silence: hidden entries, other files */
	xsnprintf(text, sizeof(text), "%s\n", kh.line);
	kd_file(dir, ".alice.pub", text);
	xsnprintf(sub, sizeof(sub), "%s/.git", dir);
	mkdirs(sub, 0755);
	kd_file(sub, "bob.pub", text);
	xsnprintf(text, sizeof(text), "%s\n", kx.line);
	kd_file(dir, "README", "alice and bob\n");
	kd_file(dir, "alice.pub.orig", text);
	kd_file(dir, "alice.txt", text);

	ka(&r, NULL, "--json", "import", dir, NULL);
	cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
	cr_assert_str_empty(r.err);
	expect_json(r.out, "d['rejected']", "[]");
	expect_json(r.out, "d['refused']", "[]");
	expect_json(r.out, "sorted((a['user'], a['added']) for a in "
	    "d['accounts'])", "[[\"a@corp.example\", 2], [\"alice\", 5], "
	    "[\"bob\", 2]]");
	expect_json(r.out, "d['installed']", "9");
	run_free(&r);
	fps_a[0] = k1.fp;
	fps_a[1] = k2.fp;
	fps_a[2] = fp3;
	fps_a[3] = fp4;
	fps_a[4] = fp9;
	expect_grant_fps("alice", fps_a, 5);
	fps_b[0] = k5.fp;
	fps_b[1] = k6.fp;
	expect_grant_fps("bob", fps_b, 2);
	fps_c[0] = k7.fp;
	fps_c[1] = k8.fp;
	expect_grant_fps("a@corp.example", fps_c, 2);
	cr_assert_eq(grants(NULL), 9);
	a = ak("alice");
	cr_assert_null(strstr(a, "BEGIN"), "%s", a);
	cr_assert_eq(text_lines(a), 5, "%s", a);
	free(a);
	expect_audit_clean();
	expect_chain_intact();
	free(rfc);
	free(pem);
	free(pkcs1);
}

Test(import, keydir_refuses_links_fifos_and_private_keys)
{
	struct run_result	r;
	struct rk		k1, k2, k3, k4, k5;
	char			dir[PATH_MAX], sub[PATH_MAX], path[PATH_MAX];
	char			target[PATH_MAX], priv[PATH_MAX], text[512];
	char			want[PATH_MAX], *pk, *a, *l, *e, *roca;

	cr_assert_not_null(getenv("KEYADM_VECTORS"), "run through ctest");
	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	rkey(&k4, "k4");
	rkey(&k5, "k5");
	tree_keygen(&T, "ed25519", 0, "priv", "priv", priv, sizeof(priv));
	xsnprintf(dir, sizeof(dir), "%s/keydir", T.inbox);
	mkdirs(dir, 0755);
	xsnprintf(text, sizeof(text), "%s\n", k1.line);
	kd_file(dir, "alice.pub", text);
	/* a link to a good key file */
	xsnprintf(text, sizeof(text), "%s\n", k2.line);
	xsnprintf(target, sizeof(target), "%s/k2.pub", T.inbox);
	spew(target, text, strlen(text), 0644);
	xsnprintf(path, sizeof(path), "%s/bob@link.pub", dir);
	cr_assert_eq(symlink(target, path), 0);
	/* a FIFO nobody writes to: must not block */
	xsnprintf(path, sizeof(path), "%s/bob@pipe.pub", dir);
	cr_assert_eq(mkfifo(path, 0644), 0);
	/* a private key under a .pub name */
	pk = slurp(priv, NULL);
	kd_file(dir, "alice@oops.pub", pk);
	/* the same inside a USER/ directory */
	xsnprintf(sub, sizeof(sub), "%s/bob", dir);
	mkdirs(sub, 0755);
	xsnprintf(text, sizeof(text), "%s\n", k3.line);
	kd_file(sub, "good.pub", text);
	xsnprintf(path, sizeof(path), "%s/bob/link.pub", dir);
	cr_assert_eq(symlink(target, path), 0);
	xsnprintf(path, sizeof(path), "%s/bob/pipe.pub", dir);
	cr_assert_eq(mkfifo(path, 0644), 0);
	/* a link to a directory, as USER/ */
	xsnprintf(target, sizeof(target), "%s/bobdir", T.inbox);
	mkdirs(target, 0755);
	xsnprintf(text, sizeof(text), "%s\n", k4.line);
	kd_file(target, "x.pub", text);
	xsnprintf(path, sizeof(path), "%s/alice@dir", dir);	/* no .pub */
	cr_assert_eq(symlink(target, path), 0);
	/* a weak key (ROCA), judged as add judges it */
	xsnprintf(path, sizeof(path), "%s/badkeys/rsa-roca.key",
	    getenv("KEYADM_VECTORS"));
	roca = slurp(path, NULL);
	kd_file(dir, "bob@roca.pub", roca);
	free(roca);

	ka(&r, NULL, "--json", "import", dir, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	no_progress(&r);
	xsnprintf(path, sizeof(path), "%s/bob@link.pub", dir);
	expect_msg(&r, path, 0, "is a symbolic link; give the file itself");
	xsnprintf(path, sizeof(path), "%s/alice@dir", dir);
	expect_msg(&r, path, 0, "is a symbolic link; give the file itself");
	xsnprintf(path, sizeof(path), "%s/bob@pipe.pub", dir);
	expect_msg(&r, path, 0, "not a regular file");
	xsnprintf(path, sizeof(path), "%s/alice@oops.pub", dir);
	expect_msg(&r, path, 0, R_PRIVATE);
	xsnprintf(want, sizeof(want), "keyadm: %s/bob/link.pub: ", dir);
	cr_assert_not_null(strstr(r.err, want), "%s", r.err);
	xsnprintf(want, sizeof(want), "keyadm: %s/bob/pipe.pub: ", dir);
	cr_assert_not_null(strstr(r.err, want), "%s", r.err);
	xsnprintf(want, sizeof(want), "keyadm: %s/bob@roca.pub:1: ", dir);
	cr_assert_not_null(strstr(r.err, want), "%s", r.err);
	cr_assert_eq(text_lines(r.err), 7, "%s", r.err);
	/* the JSON names every refused file */
	expect_json(r.out, "len(d['rejected'])", "7");
	expect_json(r.out, "sorted(x['source'][len(x['source']) - "
	    "x['source'][::-1].index('/'):] for x in d['rejected'])",
	    "[\"alice@dir\", \"alice@oops.pub\", \"bob@link.pub\", "
	    "\"bob@pipe.pub\", \"bob@roca.pub\", \"link.pub\", "
	    "\"pipe.pub\"]");
	expect_json(r.out, "[(x['line'], x['format'], 'rsa_roca' in "
	    "[y['code'] for y in x['reasons']]) for x in d['rejected'] if "
	    "x['source'].endswith('roca.pub')]", "[[1, \"pkcs1\", true]]");
	expect_json(r.out, "sorted(set(x['verdict'] for x in d['rejected']))",
	    "[\"reject\"]");
	/* no line of the private key shows anywhere */
	for (l = pk; *l != '\0'; l = e + 1) {
		e = strchr(l, '\n');
		if (e == NULL)
			break;
		*e = '\0';
		if (strncmp(l, "-----", 5) != 0 && strlen(l) > 8) {
			cr_assert_null(strstr(r.out, l), "private key in "
			    "stdout");
			cr_assert_null(strstr(r.err, l), "private key in "
			    "stderr");
		}
	}
	run_free(&r);
	/* the good keys went in, nothing through the links */
	a = ak("alice");
	cr_assert_eq(line_count(a, k1.line), 1, "%s", a);
	cr_assert_eq(text_lines(a), 1, "%s", a);
	free(a);
	a = ak("bob");
	cr_assert_eq(line_count(a, k3.line), 1, "%s", a);
	cr_assert_eq(text_lines(a), 1, "%s", a);
	free(a);
	cr_assert_eq(grants(NULL), 2);
	free(pk);
}

/* ----------------------------------------------------------- in bulk */

#define BULK_ACCOUNTS	50

/* BULK_ACCOUNTS accounts u1..u50 and n keys, key i for u(i % 50 + 1);
 * the input file's path into path, the keys into *keys (free it). */
static void
bulk(size_t n, char *path, struct rk **keys)
{
	struct sbuf	in = { NULL, 0, 0 };
	char		name[32];
	size_t		i;

	for (i = 1; i <= BULK_ACCOUNTS; i++) {
		xsnprintf(name, sizeof(name), "u%zu", i);
		account(name);
	}
	*keys = calloc(n, sizeof(**keys));
	cr_assert_not_null(*keys);
	for (i = 0; i < n; i++) {
		xsnprintf(name, sizeof(name), "key%zu", i);
		rkey(&(*keys)[i], name);
		sb_add(&in, "u%zu\t%s\n", i % BULK_ACCOUNTS + 1,
		    (*keys)[i].line);
	}
	input(path, "bulk.tsv", in.p);
	free(in.p);
}

/* Every bulk account's file holds exactly its keys, each once. */
static void
expect_bulk_files(const struct rk *keys, size_t n)
{
	char	name[32], *a;
	size_t	u, i;

	for (u = 1; u <= BULK_ACCOUNTS; u++) {
		xsnprintf(name, sizeof(name), "u%zu", u);
		a = ak(name);
		cr_assert_eq((size_t)text_lines(a), n / BULK_ACCOUNTS,
		    "%s: %d lines", name, text_lines(a));
		for (i = u - 1; i < n; i += BULK_ACCOUNTS)
			cr_assert_eq(line_count(a, keys[i].line), 1,
			    "%s: key %zu", name, i);
		free(a);
	}
}

Test(import, two_thousand_keys_over_fifty_accounts)
{
	struct run_result	 r;
	struct rk		*keys;
	char			 path[PATH_MAX];

	bulk(2000, path, &keys);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
	cr_assert_str_empty(r.err);
	no_progress(&r);
	expect_json(r.out, "(d['keys_read'], d['accepted'], d['installed'], "
	    "d['added'], d['account_count'], d['rejected_count'])",
	    "[2000, 2000, 2000, 2000, 50, 0]");
	/* every account reported once, after its batch was committed */
	expect_json(r.out, "len(d['accounts'])", "50");
	expect_json(r.out, "len(set(a['user'] for a in d['accounts']))",
	    "50");
	expect_json(r.out, "sorted(set(a['added'] for a in d['accounts']))",
	    "[40]");
	run_free(&r);
	expect_bulk_files(keys, 2000);
	cr_assert_eq(grants(NULL), 2000);
	cr_assert_eq(events(), 2000);
	expect_audit_clean();
	expect_chain_intact();

	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	expect_json(r.out, "(d['changed'], d['unchanged'], d['added'])",
	    "[false, 2000, 0]");
	run_free(&r);
	cr_assert_eq(events(), 2000);
	free(keys);
}

/* Each bulk account's file, if any, holds only its own keys, whole lines,
 * each at most once. */
static void
expect_bulk_partial(const struct rk *keys, size_t n)
{
	char	name[32], *a, *l, *e;
	size_t	u, i;
	int	found;

	for (u = 1; u <= BULK_ACCOUNTS; u++) {
		xsnprintf(name, sizeof(name), "u%zu", u);
		a = ak(name);
		cr_assert(a[0] == '\0' || a[strlen(a) - 1] == '\n',
		    "%s: a partial last line", name);
		for (l = a; *l != '\0'; l = e + 1) {
			e = strchr(l, '\n');
			*e = '\0';
			found = 0;
			for (i = u - 1; i < n && !found; i += BULK_ACCOUNTS)
				found = strcmp(l, keys[i].line) == 0;
			cr_assert(found, "%s: a line that is none of its keys: "
			    "%s", name, l);
			*e = '\n';
		}
		for (i = u - 1; i < n; i += BULK_ACCOUNTS)
			cr_assert_leq(line_count(a, keys[i].line), 1,
			    "%s: key %zu twice", name, i);
		free(a);
	}
}

/* Start keyadm import path, output to /dev/null. */
static pid_t
spawn_import(const char *path)
{
	const char	*bin = getenv("KEYADM_BIN");
	pid_t		 pid;
	int		 fd;

	cr_assert_not_null(bin);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd == -1 || dup2(fd, 0) == -1 || dup2(fd, 1) == -1 ||
		    dup2(fd, 2) == -1)
			_exit(126);
		execl(bin, bin, "--root", T.root, "import", path,
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

Test(import, killed_run_is_completed_by_the_next)
{
	struct run_result	 r;
	struct rk		*keys;
	char			 path[PATH_MAX];
	unsigned int		 delay_ms = 1;
	pid_t			 pid;
	int			 st, killed = 0, runs = 0;

	bulk(3000, path, &keys);
	/*
	 * SIGKILL after 1 ms, then later and later until a run gets to its
	 * end: the crashes land anywhere from pass 1 to the last commit, and
	 * each run takes up where the killed one left off.
	 */
	for (;;) {
		struct timespec ts = { (time_t)(delay_ms / 1000),
		    (long)(delay_ms % 1000) * 1000000L };
		pid = spawn_import(path);
		(void)nanosleep(&ts, NULL);
		(void)kill(pid, SIGKILL);
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		runs++;
		if (!WIFSIGNALED(st)) {
			cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			    "import ended with status %d", st);
			break;
		}
		killed++;
		cr_assert_lt(runs, 60, "never got to its end");
		/* killed: each file is the old one or the new one, whole */
		expect_bulk_partial(keys, 3000);
		delay_ms += delay_ms / 3 + 3;
	}
	cr_log_info("%d of %d runs were killed", killed, runs);
	cr_assert_gt(killed, 0, "no run was killed: nothing tested");
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
	cr_assert_str_empty(r.err);
	expect_json(r.out, "(d['installed'], d['account_count'], "
	    "d['rejected_count'], d['changed'])", "[3000, 50, 0, false]");
	run_free(&r);
	expect_bulk_files(keys, 3000);
	cr_assert_eq(grants(NULL), 3000);
	expect_audit_clean();
	expect_chain_intact();
	free(keys);
}

Test(import, many_accounts_are_looked_up_as_few_are)
{
	struct run_result	r1, r2;
	struct rk		k[24], kd1, kd2, kg, kc;
	struct sbuf		in1 = { NULL, 0, 0 }, in2 = { NULL, 0, 0 };
	char			path[PATH_MAX], name[32], rel[PATH_MAX];
	char			*a, *e1, *e2;
	int			i;

	/* the same name twice: the first entry is the account */
	account("dup");
	account_home("dup", "/home/dup2");
	mkdirs(tp(rel, "home/dup2"), 0700);
	if (T.as_root)
		cr_assert_eq(chown(rel, next_id - 1, next_id - 1), 0);
	account_home("ghost", "home/ghost");
	for (i = 0; i < 20; i++) {
		xsnprintf(name, sizeof(name), "m%d", i);
		account(name);
	}
	rkey(&kd1, "dup1");
	rkey(&kd2, "dup2");
	rkey(&kg, "ghost");
	rkey(&kc, "carol");
	/* a few names: each looked up on its own */
	sb_add(&in1, "dup\t%s\nghost\t%s\ncarol\t%s\n", kd1.line, kg.line,
	    kc.line);
	input(path, "few.tsv", in1.p);
	ka(&r1, NULL, "import", path, NULL);
	cr_assert_eq(r1.status, 1, "%s", r1.err);
	/* many names: the password database read once */
	sb_add(&in2, "dup\t%s\nghost\t%s\ncarol\t%s\n", kd2.line, kg.line,
	    kc.line);
	for (i = 0; i < 20; i++) {
		rkey(&k[i], "m");
		sb_add(&in2, "m%d\t%s\n", i, k[i].line);
	}
	input(path, "many.tsv", in2.p);
	ka(&r2, NULL, "import", path, NULL);
	cr_assert_eq(r2.status, 1, "%s", r2.err);
	/* the same refusals, file names aside */
	xsnprintf(rel, sizeof(rel), "%s/few.tsv", T.inbox);
	e1 = replace_all(r1.err, rel, "FILE");
	xsnprintf(rel, sizeof(rel), "%s/many.tsv", T.inbox);
	e2 = replace_all(r2.err, rel, "FILE");
	cr_assert_str_eq(e1, e2);
	cr_assert_str_eq(e1, "keyadm: FILE:2: ghost: home directory is not an "
	    "absolute path\nkeyadm: FILE:3: carol: unknown user\n");
	cr_assert_eq(text_lines(r1.err), 2, "%s", r1.err);
	cr_assert_eq(text_lines(r2.err), 2, "%s", r2.err);
	cr_assert_not_null(strstr(r1.err, "ghost: home directory is not an "
	    "absolute path\n"), "%s", r1.err);
	cr_assert_not_null(strstr(r2.err, "ghost: home directory is not an "
	    "absolute path\n"), "%s", r2.err);
	cr_assert_not_null(strstr(r1.err, ":3: carol: unknown user\n"), "%s",
	    r1.err);
	cr_assert_not_null(strstr(r2.err, ":3: carol: unknown user\n"), "%s",
	    r2.err);
	run_free(&r1);
	run_free(&r2);
	free(e1);
	free(e2);
	/* both runs wrote dup's keys into the first entry's home */
	a = ak("dup");
	cr_assert_eq(line_count(a, kd1.line), 1, "%s", a);
	cr_assert_eq(line_count(a, kd2.line), 1, "%s", a);
	free(a);
	a = ak("dup2");
	cr_assert_str_empty(a, "written to the second entry's home:\n%s", a);
	free(a);
	for (i = 0; i < 20; i++) {
		xsnprintf(name, sizeof(name), "m%d", i);
		a = ak(name);
		cr_assert_eq(line_count(a, k[i].line), 1, "%s: %s", name, a);
		free(a);
	}
	cr_assert_eq(grants(NULL), 22);
	free(in1.p);
	free(in2.p);
}

Test(import, other_lines_of_a_file_stay_byte_for_byte)
{
	struct run_result	r;
	struct rk		k0, k1, k2;
	char			path[PATH_MAX], p[PATH_MAX], text[2048], *a;
	char			before[2048];
	struct stat		st;

	rkey(&k0, "by hand");
	rkey(&k1, "k1");
	rkey(&k2, "k2");
	mkdirs(tp(p, "home/alice/.ssh"), 0700);
	if (T.as_root)
		cr_assert_eq(chown(p, T.alice_uid, T.alice_gid), 0);
	xsnprintf(before, sizeof(before), "# alice's keys\r\n\n"
	    "no-pty %s\n   \n# end\n", k0.line);
	spew(akpath(p, "alice"), before, strlen(before), 0600);
	if (T.as_root)
		cr_assert_eq(chown(p, T.alice_uid, T.alice_gid), 0);
	xsnprintf(text, sizeof(text), "alice\t%s\nalice\t%s\n", k1.line,
	    k2.line);
	input(path, "keys.tsv", text);
	ka(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	a = ak("alice");
	cr_assert_eq(strncmp(a, before, strlen(before)), 0, "the lines "
	    "before changed:\n%s", a);
	xsnprintf(text, sizeof(text), "%s%s\n%s\n", before, k1.line,
	    k2.line);
	cr_assert_str_eq(a, text);
	free(a);
	cr_assert_eq(lstat(akpath(p, "alice"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(st.st_uid, T.alice_uid);
	/* the unmanaged line is not taken over */
	cr_assert_eq(grants("alice"), 2);
}

Test(import, keydir_names_that_give_no_user_are_refused)
{
	struct run_result	r;
	struct rk		k1, k2, k3;
	char			dir[PATH_MAX], sub[PATH_MAX], text[512], *a;

	rkey(&k1, "k1");
	rkey(&k2, "k2");
	rkey(&k3, "k3");
	xsnprintf(dir, sizeof(dir), "%s/keydir", T.inbox);
	mkdirs(dir, 0755);
	xsnprintf(text, sizeof(text), "%s\n", k1.line);
	kd_file(dir, "bad!.pub", text);
	kd_file(dir, "-alice.pub", text);
	xsnprintf(sub, sizeof(sub), "%s/not valid", dir);
	mkdirs(sub, 0755);
	xsnprintf(text, sizeof(text), "%s\n", k2.line);
	kd_file(sub, "a.pub", text);
	xsnprintf(text, sizeof(text), "%s\n", k3.line);
	kd_file(dir, "bob.pub", text);
	ka(&r, NULL, "--json", "import", dir, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	xsnprintf(sub, sizeof(sub), "%s/bad!.pub", dir);
	expect_msg(&r, sub, 0, "the file name does not give a valid user "
	    "name");
	xsnprintf(sub, sizeof(sub), "%s/-alice.pub", dir);
	expect_msg(&r, sub, 0, "the file name does not give a valid user "
	    "name");
	xsnprintf(sub, sizeof(sub), "%s/not valid", dir);
	expect_msg(&r, sub, 0, "not a valid user name");
	cr_assert_eq(text_lines(r.err), 3, "%s", r.err);
	expect_json(r.out, "len(d['rejected'])", "3");
	expect_json(r.out, "[(a['user'], a['added']) for a in d['accounts']]",
	    "[[\"bob\", 1]]");
	run_free(&r);
	a = ak("alice");
	cr_assert_str_empty(a, "%s", a);
	free(a);
	cr_assert_eq(grants(NULL), 1);
}

Test(import, busy_store_changes_nothing)
{
	struct run_result	r;
	struct rk		k0, k1, k2;
	char			path[PATH_MAX], p[PATH_MAX], db[PATH_MAX];
	char			text[512], *before, *b;
	size_t			blen;
	struct stat		st;

	rkey(&k0, "k0");
	rkey(&k1, "k1");
	rkey(&k2, "k2");
	spew(tp(p, "etc/keyadm.conf"), "busy_timeout_ms = 200\n", 22, 0644);
	xsnprintf(text, sizeof(text), "%s\n", k0.line);
	input(path, "k0.pub", text);
	KA_OK("add", "alice", path);
	before = slurp(akpath(p, "alice"), &blen);
	xsnprintf(text, sizeof(text), "alice\t%s\nbob\t%s\n", k1.line,
	    k2.line);
	input(path, "keys.tsv", text);

	locker_hold(&L, tp(db, DB_REL));
	ka(&r, NULL, "import", path, NULL);
	cr_assert_eq(r.status, 75, "exit %d\n%s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, "database is locked; try again"),
	    "%s", r.err);
	run_free(&r);
	locker_release(&L);
	/* no file was written ahead of the store */
	cr_assert(file_equals(akpath(p, "alice"), before, blen),
	    "alice's file changed");
	cr_assert(lstat(akpath(p, "bob"), &st) == -1 && errno == ENOENT,
	    "bob's file was written");
	cr_assert_eq(grants(NULL), 1);
	/* and once the store is free, the same import does it all */
	KA_OK("import", path);
	b = ak("bob");
	cr_assert_eq(line_count(b, k2.line), 1, "%s", b);
	free(b);
	cr_assert_eq(grants(NULL), 3);
	expect_audit_clean();
	free(before);
}

/* ------------------------------------------------------------- as root */

Test(import_root, files_belong_to_each_account)
{
	struct rk		k[6];
	struct sbuf		in = { NULL, 0, 0 };
	char			path[PATH_MAX], p[PATH_MAX], name[16];
	struct stat		st;
	unsigned int		uid;
	int			i;

	if (geteuid() != 0)
		cr_skip_test("needs root (accounts of other uids)");
	for (i = 0; i < 3; i++) {
		xsnprintf(name, sizeof(name), "acct%d", i);
		account(name);
	}
	for (i = 0; i < 6; i++) {
		rkey(&k[i], "k");
		sb_add(&in, "acct%d\t%s\n", i % 3, k[i].line);
	}
	input(path, "keys.tsv", in.p);
	KA_OK("import", path);
	for (i = 0; i < 3; i++) {
		uid = 3001 + (unsigned)i;
		xsnprintf(name, sizeof(name), "acct%d", i);
		xsnprintf(p, sizeof(p), "%s/home/%s/.ssh", T.root, name);
		cr_assert_eq(lstat(p, &st), 0, "%s", p);
		cr_assert(S_ISDIR(st.st_mode));
		cr_assert_eq(st.st_mode & 07777, 0700, "%s: %o", p,
		    st.st_mode & 07777);
		cr_assert_eq(st.st_uid, uid, "%s: uid %u", p, st.st_uid);
		cr_assert_eq(st.st_gid, uid, "%s: gid %u", p, st.st_gid);
		cr_assert_eq(lstat(akpath(p, name), &st), 0, "%s", p);
		cr_assert(S_ISREG(st.st_mode));
		cr_assert_eq(st.st_mode & 07777, 0600, "%s: %o", p,
		    st.st_mode & 07777);
		cr_assert_eq(st.st_uid, uid, "%s: uid %u", p, st.st_uid);
		cr_assert_eq(st.st_gid, uid, "%s: gid %u", p, st.st_gid);
		cr_assert_eq(st.st_nlink, 1);
	}
	expect_audit_clean();
	free(in.p);
}

Test(import_root, home_of_another_account_is_refused)
{
	struct run_result	r;
	struct rk		k1, k2;
	char			path[PATH_MAX], home[PATH_MAX], text[512], *a;

	if (geteuid() != 0)
		cr_skip_test("needs root (chown to another uid)");
	rkey(&k1, "k1");
	rkey(&k2, "k2");
	/* bob's home belongs to alice: writing there for bob is unsafe */
	cr_assert_eq(chown(tp(home, "home/bob"), T.alice_uid, T.alice_gid), 0);
	xsnprintf(text, sizeof(text), "bob\t%s\nalice\t%s\n", k1.line,
	    k2.line);
	input(path, "keys.tsv", text);
	ka(&r, NULL, "--json", "import", path, NULL);
	cr_assert_eq(r.status, 1, "exit %d\n%s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, "nothing installed for bob"), "%s",
	    r.err);
	expect_json(r.out, "[(x['line'], x['user']) for x in d['refused']]",
	    "[[1, \"bob\"]]");
	run_free(&r);
	cr_assert_eq(grants("bob"), 0);
	a = ak("alice");
	cr_assert_eq(line_count(a, k2.line), 1, "%s", a);
	free(a);
	xsnprintf(path, sizeof(path), "%s/home/bob/.ssh", T.root);
	cr_assert(access(path, F_OK) == -1, "%s was made", path);
}

Test(import, utf8_byte_order_mark_before_the_first_user)
{
	struct run_result	r;
	struct rk		k1;
	char			text[512], *a;

	rkey(&k1, "k1");
	xsnprintf(text, sizeof(text), "\xef\xbb\xbf" "alice\t%s\n", k1.line);
	ka(&r, text, "import", "-", NULL);
	cr_assert_eq(r.status, 0, "exit %d\n%s", r.status, r.err);
	run_free(&r);
	a = ak("alice");
	cr_assert_eq(line_count(a, k1.line), 1, "%s", a);
	free(a);
}

Test(import, json_add_of_an_unknown_user_is_one_document)
{
	struct run_result	r;
	struct rk		k1;
	char			p[PATH_MAX];

	rkey(&k1, "k1");
	xsnprintf(p, sizeof(p), "%s/k1.pub", T.inbox);
	spew(p, k1.line, strlen(k1.line), 0644);
	ka(&r, NULL, "--json", "add", "nosuchuser", p, NULL);
	cr_assert_eq(r.status, 67, "exit %d\n%s", r.status, r.err);
	cr_assert(json_valid(r.out, r.outlen), "not one JSON document: %s",
	    r.out);
	cr_assert(mem_contains(r.out, r.outlen, "\"changed\":false"), "%s",
	    r.out);
	cr_assert(mem_contains(r.out, r.outlen, "\"error\":\"unknown user\""),
	    "%s", r.out);
	run_free(&r);
}
