/*
 * test_udiff.c -- udiff: a unified diff as GNU diff -u prints it.
 * The invariants are listed at the top of src/udiff.c.
 *
 * GNU diff and patch on this machine are the reference, run in a mkdtemp
 * tree.  Where the edit is unambiguous (all lines distinct) our output
 * must be GNU's byte for byte.  Where several alignments are minimal and
 * GNU may pick another, patch must turn the old text into the new one
 * with our diff, and our counts of - and + lines must equal GNU's (both
 * are minimal).  Random cases are seeded, so a failure repeats.
 */
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "err.h"
#include "udiff.h"

static char	tree[PATH_MAX];	/* this test's mkdtemp directory */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	const char	*tmp = getenv("TMPDIR");

	snprintf(tree, sizeof(tree), "%s/test_udiff.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(tree));
}

static void
teardown(void)
{
	if (tree[0] != '\0')
		(void)nftw(tree, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(udiff, .init = setup, .fini = teardown);

static void
put(const char *name, const char *data, size_t len)
{
	char	 path[PATH_MAX];
	FILE	*f;

	cr_assert_lt((size_t)snprintf(path, sizeof(path), "%s/%s", tree,
	    name), sizeof(path));
	cr_assert_not_null(f = fopen(path, "wb"), "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static char *
get(const char *name, size_t *lenp)
{
	char	 path[PATH_MAX], *buf;
	FILE	*f;
	long	 sz;

	cr_assert_lt((size_t)snprintf(path, sizeof(path), "%s/%s", tree,
	    name), sizeof(path));
	cr_assert_not_null(f = fopen(path, "rb"), "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	cr_assert_geq(sz = ftell(f), 0);
	rewind(f);
	cr_assert_not_null(buf = malloc((size_t)sz + 1));
	cr_assert_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	buf[sz] = '\0';
	*lenp = (size_t)sz;
	return buf;
}

/* Run a shell command inside the tree; its exit status. */
static int
sh(const char *fmt, ...)
{
	char	cmd[2 * PATH_MAX], rest[PATH_MAX];
	va_list	ap;
	int	st;

	va_start(ap, fmt);
	cr_assert_lt((size_t)vsnprintf(rest, sizeof(rest), fmt, ap),
	    sizeof(rest));
	va_end(ap);
	cr_assert_lt((size_t)snprintf(cmd, sizeof(cmd), "cd '%s' && %s",
	    tree, rest), sizeof(cmd));
	st = system(cmd);
	cr_assert_neq(st, -1, "%s", cmd);
	cr_assert(WIFEXITED(st), "%s: killed", cmd);
	return WEXITSTATUS(st);
}

/* Our diff, labelled "old" and "new"; checks the returned string. */
static char *
mine(const char *a, size_t alen, const char *b, size_t blen, size_t *lenp)
{
	char	*out = NULL;
	size_t	 len = 1;

	cr_assert_eq(udiff(a, alen, b, blen, "old", "new", &out, &len), 0);
	cr_assert_not_null(out);
	cr_assert_eq(out[len], '\0');
	cr_assert_eq(strlen(out), len, "a NUL inside the output");
	*lenp = len;
	return out;
}

static char *
gnu(const char *a, size_t alen, const char *b, size_t blen, size_t *lenp)
{
	int	st;

	put("old", a, alen);
	put("new", b, blen);
	st = sh("diff -u --label old --label new old new > gnu.out");
	cr_assert(st == 0 || st == 1, "diff exited %d", st);
	return get("gnu.out", lenp);
}

static void
assert_as_gnu(const char *a, size_t alen, const char *b, size_t blen,
    const char *what)
{
	char	*m, *g;
	size_t	 mlen, glen;

	m = mine(a, alen, b, blen, &mlen);
	g = gnu(a, alen, b, blen, &glen);
	cr_assert(mlen == glen && memcmp(m, g, mlen) == 0,
	    "%s: ours:\n%s\nGNU diff's:\n%s", what, m, g);
	free(m);
	free(g);
}

/* patch(1) turns a into b with diff d. */
static void
assert_patches(const char *a, size_t alen, const char *b, size_t blen,
    const char *d, size_t dlen, const char *what)
{
	char	*res;
	size_t	 rlen;

	if (dlen == 0) {
		cr_assert(alen == blen && memcmp(a, b, alen) == 0,
		    "%s: empty diff of different texts", what);
		return;
	}
	put("old", a, alen);
	put("p", d, dlen);
	cr_assert_eq(sh("patch -s -f -o res old p"), 0, "%s: patch failed "
	    "on:\n%s", what, d);
	res = get("res", &rlen);
	cr_assert(rlen == blen && memcmp(res, b, blen) == 0,
	    "%s: patch gave another text with:\n%s", what, d);
	free(res);
}

/* Lines a hunk removes and adds (the two header lines skipped). */
static void
count_changes(const char *d, size_t *minus, size_t *plus)
{
	const char	*p = d;
	size_t		 line = 0;

	*minus = *plus = 0;
	for (; *p != '\0'; line++) {
		if (line >= 2 && *p == '-')
			(*minus)++;
		if (line >= 2 && *p == '+')
			(*plus)++;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
}

static size_t
count_str(const char *s, const char *needle)
{
	size_t	n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s++;
	}
	return n;
}

/*
 * Fixed cases: the edge cases of the format, compared with GNU diff.
 */
struct fixed_case {
	char	name[32];
	char	a[256];
	size_t	alen;
	char	b[256];
	size_t	blen;
};
#define FX(n, a, b)	{ n, a, sizeof(a) - 1, b, sizeof(b) - 1 }
#define TEN	"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"

ParameterizedTestParameters(udiff, fixed_as_gnu)
{
	static struct fixed_case cases[] = {
		FX("both_empty", "", ""),
		FX("identical", "a\nb\n", "a\nb\n"),
		FX("identical_no_newline", "a\nb", "a\nb"),
		FX("create_from_empty", "", "a\nb\n"),
		FX("create_one_line", "", "a\n"),
		FX("create_no_newline", "", "a\nb"),
		FX("delete_to_empty", "a\nb\n", ""),
		FX("delete_one_line", "a\n", ""),
		FX("delete_no_newline", "a\nb", ""),
		FX("one_line_files", "a\n", "b\n"),
		FX("one_line_no_newline", "a", "b"),
		FX("one_line_old_no_newline", "a", "a\n"),
		FX("one_line_new_no_newline", "a\n", "a"),
		FX("add_final_newline", "a\nb\nc", "a\nb\nc\n"),
		FX("drop_final_newline", "a\nb\nc\n", "a\nb\nc"),
		FX("context_without_newline", "x\ny\nz", "X\ny\nz"),
		FX("change_and_no_newline_far", TEN "11", "1\nX\n3\n4\n5\n6\n"
		    "7\n8\n9\n10\n11\n"),
		FX("change_at_start", TEN, "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"),
		FX("change_at_end", TEN, "1\n2\n3\n4\n5\n6\n7\n8\n9\nX\n"),
		FX("insert_at_start", TEN, "0\n" TEN),
		FX("append_at_end", TEN, TEN "11\n"),
		FX("delete_first", TEN, "2\n3\n4\n5\n6\n7\n8\n9\n10\n"),
		FX("delete_last", TEN, "1\n2\n3\n4\n5\n6\n7\n8\n9\n"),
		FX("insert_middle", TEN, "1\n2\n3\n4\n5\nX\n6\n7\n8\n9\n10\n"),
		FX("replace_block", TEN, "1\n2\n3\nX\nY\n9\n10\n"),
		FX("everything_replaced", "a\nb\nc\n", "x\ny\n"),
		FX("blank_lines", "\n\n\n", "\n\n"),
		FX("only_newline", "\n", ""),
		FX("gap_6_one_hunk", TEN TEN, "1\n2\n3\nX\n5\n6\n7\n8\n9\n10\n"
		    "Y\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"),
		FX("gap_7_two_hunks", TEN TEN, "1\n2\n3\nX\n5\n6\n7\n8\n9\n10\n"
		    "1\nY\n3\n4\n5\n6\n7\n8\n9\n10\n"),
		FX("crowded_changes", TEN TEN, "1\nA\n3\nB\n5\nC\n7\nD\n9\n"
		    "E\n1\n2\n3\n4\n5\n6\n7\n8\n9\nF\n"),
		FX("key_added", "ssh-ed25519 AAAAK1 a@h\nssh-rsa AAAAK2 b@h\n",
		    "ssh-ed25519 AAAAK1 a@h\nssh-rsa AAAAK2 b@h\n"
		    "ssh-ed25519 AAAAK3 c@h\n"),
		FX("key_revoked_no_newline", "# keys\nssh-ed25519 AAAAK1 a@h\n"
		    "ssh-rsa AAAAK2 b@h", "# keys\nssh-ed25519 AAAAK1 a@h\n"),
	};

	return cr_make_param_array(struct fixed_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fixed_case *c, udiff, fixed_as_gnu)
{
	char	*m;
	size_t	 len;

	assert_as_gnu(c->a, c->alen, c->b, c->blen, c->name);
	m = mine(c->a, c->alen, c->b, c->blen, &len);
	assert_patches(c->a, c->alen, c->b, c->blen, m, len, c->name);
	free(m);
}

/* The format itself, written out, in case GNU diff ever changes. */
static void
assert_diff(const char *a, const char *b, const char *want)
{
	char	*m;
	size_t	 len;

	m = mine(a, strlen(a), b, strlen(b), &len);
	cr_assert_str_eq(m, want);
	free(m);
}

Test(udiff, format_written_out)
{
	assert_diff("", "", "");
	assert_diff("same\n", "same\n", "");
	assert_diff("", "a\nb\n",
	    "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n");
	assert_diff("a\nb\n", "",
	    "--- old\n+++ new\n@@ -1,2 +0,0 @@\n-a\n-b\n");
	assert_diff("a", "b",
	    "--- old\n+++ new\n@@ -1 +1 @@\n-a\n"
	    "\\ No newline at end of file\n+b\n"
	    "\\ No newline at end of file\n");
	assert_diff("x\ny", "z\ny",
	    "--- old\n+++ new\n@@ -1,2 +1,2 @@\n-x\n+z\n y\n"
	    "\\ No newline at end of file\n");
	assert_diff("1\n2\n3\n4\n5\n", "1\n2\n3\n4\n5\n6\n",
	    "--- old\n+++ new\n@@ -3,3 +3,4 @@\n 3\n 4\n 5\n+6\n");
	assert_diff("1\n2\n3\n4\n5\n6\n7\n8\n", "1\n2\n3\n4\n6\n7\n8\n",
	    "--- old\n+++ new\n@@ -2,7 +2,6 @@\n 2\n 3\n 4\n-5\n 6\n 7\n"
	    " 8\n");
}

/* Changes 6 lines apart share a hunk; 7 apart they do not (GNU's rule). */
Test(udiff, hunks_merge_at_gap_6_split_at_7)
{
	const char	*a = TEN TEN;
	const char	*b6 = "1\n2\n3\nX\n5\n6\n7\n8\n9\n10\nY\n2\n3\n4\n5\n"
	    "6\n7\n8\n9\n10\n";
	const char	*b7 = "1\n2\n3\nX\n5\n6\n7\n8\n9\n10\n1\nY\n3\n4\n5\n"
	    "6\n7\n8\n9\n10\n";
	char		*m;
	size_t		 len;

	m = mine(a, strlen(a), b6, strlen(b6), &len);
	cr_assert_eq(count_str(m, "@@ -"), 1, "%s", m);
	cr_assert(strstr(m, "@@ -1,14 +1,14 @@\n") != NULL, "%s", m);
	free(m);
	m = mine(a, strlen(a), b7, strlen(b7), &len);
	cr_assert_eq(count_str(m, "@@ -"), 2, "%s", m);
	cr_assert(strstr(m, "@@ -1,7 +1,7 @@\n") != NULL, "%s", m);
	cr_assert(strstr(m, "@@ -9,7 +9,7 @@\n") != NULL, "%s", m);
	free(m);
}

/*
 * Random texts.  Lines are "w<n>", or "" for 0, drawn from k values (k ==
 * 0: every line distinct, so the minimal edit is unique).
 */
#define RLINES	400

struct rng {
	uint64_t	s;
};

struct rtext {
	unsigned int	v[3 * RLINES];
	size_t		n;
	int		nonl;	/* no '\n' after the last line */
};

static uint64_t
rnd(struct rng *r)
{
	uint64_t	z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
below(struct rng *r, size_t n)
{
	return n == 0 ? 0 : (size_t)(rnd(r) % n);
}

static unsigned int
value(struct rng *r, unsigned int k, unsigned int *fresh)
{
	return k == 0 ? (*fresh)++ : (unsigned int)below(r, k);
}

static char *
render(const struct rtext *t, size_t *lenp)
{
	char	*buf, *p;
	size_t	 i;

	cr_assert_not_null(buf = malloc(t->n * 16 + 1));
	p = buf;
	for (i = 0; i < t->n; i++) {
		if (t->v[i] != 0)
			p += sprintf(p, "w%u", t->v[i]);
		*p++ = '\n';
	}
	if (t->nonl && t->n > 0)
		p--;
	*p = '\0';
	*lenp = (size_t)(p - buf);
	return buf;
}

/* A random text of up to max lines, from k values. */
static void
random_text(struct rng *r, struct rtext *t, size_t max, unsigned int k,
    unsigned int *fresh)
{
	size_t	i;

	t->n = below(r, max + 1);
	for (i = 0; i < t->n; i++)
		t->v[i] = value(r, k, fresh);
	t->nonl = below(r, 5) == 0;
}

/* b: a with up to 5 insertions, deletions or replacements. */
static void
random_edit(struct rng *r, const struct rtext *a, struct rtext *b,
    unsigned int k, unsigned int *fresh)
{
	size_t	ops = below(r, 6), at, m, i;

	*b = *a;
	while (ops-- > 0) {
		at = below(r, b->n + 1);
		m = 1 + below(r, 3);
		switch (below(r, 3)) {
		case 0:		/* insert m lines */
			memmove(b->v + at + m, b->v + at,
			    (b->n - at) * sizeof(b->v[0]));
			for (i = 0; i < m; i++)
				b->v[at + i] = value(r, k, fresh);
			b->n += m;
			break;
		case 1:		/* delete up to m lines */
			m = m < b->n - at ? m : b->n - at;
			memmove(b->v + at, b->v + at + m,
			    (b->n - at - m) * sizeof(b->v[0]));
			b->n -= m;
			break;
		default:	/* replace one line */
			if (at < b->n)
				b->v[at] = value(r, k, fresh);
			break;
		}
	}
	if (below(r, 6) == 0)
		b->nonl = !b->nonl;
}

/* cases random edits; k == 0 exact, else patch and counts. */
static void
random_cases(uint64_t seed, int cases, size_t max, unsigned int k)
{
	struct rng	 r = { seed };
	struct rtext	 ta, tb;
	unsigned int	 fresh = 1;
	char		*a, *b, *m, *g, what[64];
	size_t		 alen, blen, mlen, glen, mm, mp, gm, gp;
	int		 i;

	for (i = 0; i < cases; i++) {
		snprintf(what, sizeof(what), "seed %llu case %d",
		    (unsigned long long)seed, i);
		random_text(&r, &ta, max, k, &fresh);
		random_edit(&r, &ta, &tb, k, &fresh);
		a = render(&ta, &alen);
		b = render(&tb, &blen);
		m = mine(a, alen, b, blen, &mlen);
		if (k == 0)
			assert_as_gnu(a, alen, b, blen, what);
		else {
			g = gnu(a, alen, b, blen, &glen);
			count_changes(m, &mm, &mp);
			count_changes(g, &gm, &gp);
			cr_assert(mm == gm && mp == gp, "%s: -%zu +%zu, GNU "
			    "-%zu +%zu\nours:\n%s\nGNU's:\n%s", what, mm, mp,
			    gm, gp, m, g);
			free(g);
			assert_patches(a, alen, b, blen, m, mlen, what);
		}
		free(a);
		free(b);
		free(m);
	}
}

Test(udiff, random_distinct_lines_as_gnu, .timeout = 300)
{
	random_cases(1, 150, 60, 0);
	random_cases(2, 30, RLINES, 0);
}

Test(udiff, random_two_values_patch_and_counts, .timeout = 300)
{
	random_cases(3, 100, 40, 2);
}

Test(udiff, random_three_values_patch_and_counts, .timeout = 300)
{
	random_cases(4, 100, 60, 3);
}

Test(udiff, random_eight_values_patch_and_counts, .timeout = 300)
{
	random_cases(5, 80, 80, 8);
	random_cases(6, 20, RLINES, 8);
}

/*
 * Escaping: content lines and labels are untrusted.
 */

/* No byte of d is a control character but '\n'. */
static void
assert_clean(const char *d, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		cr_assert(d[i] == '\n' || ((unsigned char)d[i] >= 0x20 &&
		    (unsigned char)d[i] != 0x7f), "raw byte 0x%02x at %zu",
		    (unsigned char)d[i], i);
}

Test(udiff, control_bytes_escaped)
{
	const char	 a[] = "ssh-ed25519 AAAAK1 a\x1b[31mred\x07@h\r\n"
	    "keep\n";
	const char	 b[] = "keep\n";
	char		*m;
	size_t		 len;

	m = mine(a, sizeof(a) - 1, b, sizeof(b) - 1, &len);
	cr_assert_str_eq(m, "--- old\n+++ new\n@@ -1,2 +1 @@\n"
	    "-ssh-ed25519 AAAAK1 a\\x1b[31mred\\x07@h\\x0d\n keep\n");
	assert_clean(m, len);
	free(m);
}

Test(udiff, nul_and_invalid_utf8_escaped)
{
	const char	 a[] = "a\0b\xff\xc3(\n\xc3\xa9t\xc3\xa9\n";
	const char	 b[] = "a\0c\n\xc3\xa9t\xc3\xa9\n";
	char		*m;
	size_t		 len;

	/* NUL is an ordinary byte: "a\0b" and "a\0c" differ */
	m = mine(a, sizeof(a) - 1, b, sizeof(b) - 1, &len);
	cr_assert_str_eq(m, "--- old\n+++ new\n@@ -1,2 +1,2 @@\n"
	    "-a\\x00b\\xff\\xc3(\n+a\\x00c\n \xc3\xa9t\xc3\xa9\n");
	assert_clean(m, len);
	free(m);
	m = mine(a, sizeof(a) - 1, a, sizeof(a) - 1, &len);
	cr_assert_str_eq(m, "");
	free(m);
}

/* A backslash is shown as it is: the diff reproduces such lines. */
Test(udiff, backslash_kept)
{
	assert_diff("a\\nb\n", "c\n", "--- old\n+++ new\n@@ -1 +1 @@\n"
	    "-a\\nb\n+c\n");
	assert_diff("x\n", "command=\"say \\\"hi\\\"\" k\n",
	    "--- old\n+++ new\n@@ -1 +1 @@\n-x\n"
	    "+command=\"say \\\"hi\\\"\" k\n");
}

Test(udiff, labels_escaped)
{
	char	*m = NULL;
	size_t	 len;

	cr_assert_eq(udiff("a\n", 2, "b\n", 2, "/home/e\nvil/ak",
	    "x\x1b]0;t\x07", &m, &len), 0);
	cr_assert_str_eq(m, "--- /home/e\\x0avil/ak\n+++ x\\x1b]0;t\\x07\n"
	    "@@ -1 +1 @@\n-a\n+b\n");
	free(m);
}

/* A line far longer than any fixed buffer, all of it escaped. */
Test(udiff, long_line_escaped_whole)
{
	size_t	 n = 1024 * 1024, len, i;
	char	*a, *m, *p;

	cr_assert_not_null(a = malloc(n + 1));
	for (i = 0; i < n; i++)
		a[i] = i % 2 ? '\x01' : 'k';
	a[n] = '\n';
	m = mine(a, n + 1, "", 0, &len);
	cr_assert_not_null(p = strstr(m, "\n-k\\x01k\\x01"));
	/* headers, hunk line, '-', n/2 of "k" and n/2 of "\x01", '\n' */
	cr_assert_eq(len, strlen("--- old\n+++ new\n@@ -1 +0,0 @@\n") + 1 +
	    n / 2 * 5 + 1);
	cr_assert_eq(m[len - 1], '\n');
	cr_assert_null(strstr(m, "..."), "the line was cut");
	assert_clean(m, len);
	free(a);
	free(m);
}

/*
 * The interface.
 */
Test(udiff, equal_texts_give_empty_string)
{
	char	*m = NULL;
	size_t	 len = 7;

	cr_assert_eq(udiff(NULL, 0, "", 0, "a", "b", &m, &len), 0);
	cr_assert_str_eq(m, "");
	cr_assert_eq(len, 0);
	free(m);
	cr_assert_eq(udiff("x\n", 2, "x\n", 2, "a", "b", &m, NULL), 0);
	cr_assert_str_eq(m, "");
	free(m);
}

Test(udiff, bad_arguments_refused)
{
	char	*m = (char *)1;

	cr_assert_eq(udiff("a", 1, "b", 1, "a", "b", NULL, NULL),
	    KE_INTERNAL);
	cr_assert_eq(udiff(NULL, 1, "b", 1, "a", "b", &m, NULL),
	    KE_INTERNAL);
	cr_assert_null(m);
	cr_assert_eq(udiff("a", 1, "b", 1, NULL, "b", &m, NULL),
	    KE_INTERNAL);
}

/*
 * Size: a big file and a small change must be quick (linear, not
 * quadratic); no timing threshold, the test must just finish.
 */
#define BIG_LINES	200000

/* BIG_LINES distinct key-like lines. */
static char *
big_text(size_t *lenp)
{
	char	*buf, *p;
	size_t	 i;

	cr_assert_not_null(buf = malloc(BIG_LINES * 80 + 1));
	p = buf;
	for (i = 0; i < BIG_LINES; i++)
		p += sprintf(p, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI%020zu "
		    "user%zu@host\n", i * 2654435761u % 1000000007u, i);
	*lenp = (size_t)(p - buf);
	return buf;
}

Test(udiff, big_file_one_change, .timeout = 300)
{
	const char	 key[] = "ssh-ed25519 AAAAnew new@host\n";
	char		*a, *b, *m, *cut;
	size_t		 alen, blen, len, at, minus, plus;

	a = big_text(&alen);
	cut = memchr(a + alen / 2, '\n', alen - alen / 2);
	at = (size_t)(cut - a) + 1;
	cr_assert_not_null(b = malloc(alen + sizeof(key)));
	memcpy(b, a, at);
	memcpy(b + at, key, sizeof(key) - 1);
	memcpy(b + at + sizeof(key) - 1, a + at, alen - at);
	blen = alen + sizeof(key) - 1;
	m = mine(a, alen, b, blen, &len);
	count_changes(m, &minus, &plus);
	cr_assert(minus == 0 && plus == 1, "%s", m);
	cr_assert_lt(len, 1024);
	assert_as_gnu(a, alen, b, blen, "big file, one line added");
	free(m);
	free(a);
	free(b);
}

/* A revocation at the top and the bottom: the whole file lies between. */
Test(udiff, big_file_changes_at_both_ends, .timeout = 300)
{
	char	*a, *first, *last;
	size_t	 alen;

	a = big_text(&alen);
	first = (char *)memchr(a, '\n', alen) + 1;
	last = (char *)memrchr(a, '\n', alen - 1) + 1;
	assert_as_gnu(a, alen, first, (size_t)(last - first),
	    "big file, first and last lines removed");
	free(a);
}

/*
 * Two unrelated texts of 4 values: the search passes its cost bound and
 * settles for a split, as GNU diff does; the diff must still be correct.
 */
Test(udiff, costly_search_still_correct, .timeout = 300)
{
	struct rng	 r = { 42 };
	char		*a, *b, *m;
	size_t		 n = 16000, alen = 0, blen = 0, len, i;

	cr_assert_not_null(a = malloc(3 * n));
	cr_assert_not_null(b = malloc(3 * n));
	for (i = 0; i < n; i++) {
		alen += (size_t)sprintf(a + alen, "%c\n",
		    (int)('a' + below(&r, 4)));
		blen += (size_t)sprintf(b + blen, "%c\n",
		    (int)('a' + below(&r, 4)));
	}
	m = mine(a, alen, b, blen, &len);
	assert_patches(a, alen, b, blen, m, len, "unrelated texts");
	free(m);
	free(a);
	free(b);
}
