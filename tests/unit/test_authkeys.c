/*
 * test_authkeys.c -- authkeys: lines in memory, parsed as sshd reads them.
 * The invariants A1-A7 are listed at the top of src/authkeys.c.
 * Fixtures: tests/data/authkeys/ (see its README).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "authkeys.h"
#include "b64.h"
#include "err.h"

/* Throwaway ed25519 public keys (tests/data/authkeys/README). */
#define K1 "AAAAC3NzaC1lZDI1NTE5AAAAIDp0EGvuVhcG/o5yvCTQrgedT31zRtvM0DMybJCKqNFO"
#define K2 "AAAAC3NzaC1lZDI1NTE5AAAAIJQZ0G+VziNfuaAk9wXTWvTmir44y/ugUSKFOXmZLcFx"
#define K3 "AAAAC3NzaC1lZDI1NTE5AAAAIHrdDoU0jaaFsu/KIhLMHUlcP2RmVpOFXmlZ9Lixhvgb"

static struct authkeys *
parse_ok(const char *buf, size_t len)
{
	struct authkeys	*ak = NULL;

	cr_assert_eq(authkeys_parse(buf, len, &ak), 0);
	cr_assert_not_null(ak);
	return ak;
}

static struct authkeys *
parse_str(const char *s)
{
	return parse_ok(s, strlen(s));
}

/* Render and compare with want (wantlen bytes). */
static void
assert_renders(const struct authkeys *ak, const char *want, size_t wantlen)
{
	char	*out = NULL;
	size_t	 outlen = 0;

	cr_assert_eq(authkeys_render(ak, &out, &outlen), 0);
	cr_assert_eq(outlen, wantlen, "rendered %zu bytes, want %zu",
	    outlen, wantlen);
	cr_assert_eq(memcmp(out, want, wantlen), 0, "rendering differs");
	cr_assert_eq(out[outlen], '\0');
	free(out);
}

static void
assert_roundtrip(const char *buf, size_t len)
{
	struct authkeys	*ak = parse_ok(buf, len);

	assert_renders(ak, buf, len);
	authkeys_free(ak);
}

static size_t
blob_of(const char *b64, unsigned char *out, size_t cap)
{
	long	n = b64_decode(b64, strlen(b64), out, cap);

	cr_assert_gt(n, 0, "test key does not decode");
	return (size_t)n;
}

/* Number of key lines carrying b64's blob. */
static size_t
count_key(const struct authkeys *ak, const char *b64)
{
	unsigned char	blob[128];
	size_t		len = blob_of(b64, blob, sizeof(blob)), n = 0;
	ssize_t		i = -1;

	while ((i = authkeys_find(ak, blob, len, (size_t)(i + 1))) >= 0)
		n++;
	return n;
}

static char *
read_data(const char *name, size_t *lenp)
{
	const char	*dir = getenv("KEYADM_TESTDATA");
	char		 path[4096];
	char		*buf;
	FILE		*f;
	long		 sz;

	if (dir == NULL)
		dir = "tests/data";
	snprintf(path, sizeof(path), "%s/authkeys/%s", dir, name);
	cr_assert_not_null(f = fopen(path, "rb"), "cannot open %s "
	    "(set KEYADM_TESTDATA)", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	cr_assert_geq(sz = ftell(f), 0);
	rewind(f);
	cr_assert_not_null(buf = malloc((size_t)sz + 1));
	cr_assert_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	*lenp = (size_t)sz;
	return buf;
}

/* A1: tricky inputs render back byte for byte. */
struct rt_case {
	char	name[32];
	char	data[256];
	size_t	len;
};
#define RT(n, s)	{ n, s, sizeof(s) - 1 }

ParameterizedTestParameters(authkeys, roundtrip_tricky)
{
	static struct rt_case cases[] = {
		RT("empty", ""),
		RT("only_newline", "\n"),
		RT("two_newlines", "\n\n"),
		RT("crlf_only", "\r\n"),
		RT("lone_cr", "\r"),
		RT("no_final_newline", "ssh-ed25519 " K1 " a"),
		RT("final_newline", "ssh-ed25519 " K1 " a\n"),
		RT("crlf_lines", "ssh-ed25519 " K1 " a\r\n# c\r\n\r\n"),
		RT("comments_blanks", "# x\n\n   \n\t\n  # y\nssh-ed25519 " K2
		    "\n"),
		RT("quoted_options", "command=\"a b \\\"c\\\"\",no-pty "
		    "ssh-ed25519 " K1 " c d\n"),
		RT("garbage", "garbage\n\x01\x02\xff\xfe\nssh-ed25519 !!\n"),
		RT("leading_blanks", "  \t ssh-ed25519 " K1 "  x  \n"),
		RT("nul_bytes", "ssh-ed25519 " K1 "\0tail\n\0\n"),
		RT("unterminated_quote", "from=\"x ssh-ed25519 " K1 "\n"),
		RT("trailing_blanks_no_nl", "ssh-ed25519 " K1 "   "),
		RT("many_blank_lines_no_nl", "\n\n\n\nx"),
	};

	return cr_make_param_array(struct rt_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct rt_case *c, authkeys, roundtrip_tricky)
{
	struct authkeys	*ak = parse_ok(c->data, c->len);

	assert_renders(ak, c->data, c->len);
	cr_assert_eq(ak->final_newline, c->len > 0 &&
	    c->data[c->len - 1] == '\n', "%s", c->name);
	authkeys_free(ak);
}

/* A1 on the fixture: every oddity in one file. */
Test(authkeys, roundtrip_fixture)
{
	size_t	 len;
	char	*buf = read_data("before/mixed", &len);

	assert_roundtrip(buf, len);
	free(buf);
}

Test(authkeys, roundtrip_very_long_lines)
{
	size_t	 len = 1024 * 1024, i;
	char	*buf;

	cr_assert_not_null(buf = malloc(len));
	for (i = 0; i < len; i++)
		buf[i] = (i % 100000 == 99999) ? '\n' : (char)('a' + i % 26);
	assert_roundtrip(buf, len);
	memcpy(buf, "ssh-ed25519 ", 12);	/* a huge bogus key line */
	assert_roundtrip(buf, len);
	free(buf);
}

/* A3: which lines are keys in the fixture, as sshd reads them. */
Test(authkeys, fixture_key_lines)
{
	static const int want[] = { 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1 };
	struct authkeys	*ak;
	size_t		 len, i;
	char		*buf = read_data("before/mixed", &len);

	ak = parse_ok(buf, len);
	cr_assert_eq(ak->n, sizeof(want) / sizeof(want[0]));
	cr_assert_eq(ak->final_newline, 0);
	for (i = 0; i < ak->n; i++)
		cr_assert_eq(ak->lines[i].is_key, want[i], "line %zu", i + 1);
	cr_assert_eq(count_key(ak, K1), 3);
	cr_assert_eq(count_key(ak, K2), 1);
	cr_assert_eq(count_key(ak, K3), 1);
	authkeys_free(ak);
	free(buf);
}

Test(authkeys, fields_plain)
{
	struct authkeys	*ak = parse_str("ssh-ed25519 " K1 " alice@laptop\n");
	struct authkeys_entry *e = &ak->lines[0];

	cr_assert_eq(ak->n, 1);
	cr_assert(e->is_key);
	cr_assert_null(e->options);
	cr_assert_str_eq(e->type, "ssh-ed25519");
	cr_assert_str_eq(e->b64, K1);
	cr_assert_str_eq(e->comment, "alice@laptop");
	cr_assert_eq(e->bloblen, 51);
	cr_assert_eq(e->rawlen, strlen("ssh-ed25519 " K1 " alice@laptop"));
	authkeys_free(ak);
}

/* A3: double quotes hold blanks; \" does not end them. */
Test(authkeys, fields_quoted_options)
{
	const char *opt = "command=\"echo \\\"a b\\\" c\",from=\"10.0.0.1\"";
	struct authkeys	*ak;
	char		 line[512];

	snprintf(line, sizeof(line), "%s ssh-ed25519 %s two words", opt, K1);
	ak = parse_str(line);
	cr_assert(ak->lines[0].is_key);
	cr_assert_str_eq(ak->lines[0].options, opt);
	cr_assert_str_eq(ak->lines[0].type, "ssh-ed25519");
	cr_assert_str_eq(ak->lines[0].b64, K1);
	cr_assert_str_eq(ak->lines[0].comment, "two words");
	authkeys_free(ak);
}

/* A3: \" outside quotes does not open them either (sshd). */
Test(authkeys, fields_escaped_quote_outside)
{
	struct authkeys	*ak = parse_str("x=a\\\"b ssh-ed25519 " K1 "\n");

	cr_assert(ak->lines[0].is_key);
	cr_assert_str_eq(ak->lines[0].options, "x=a\\\"b");
	authkeys_free(ak);
}

Test(authkeys, unterminated_quote_not_a_key)
{
	struct authkeys	*ak = parse_str("command=\"oops ssh-ed25519 " K1 "\n");

	cr_assert_eq(ak->n, 1);
	cr_assert_eq(ak->lines[0].is_key, 0);
	cr_assert_null(ak->lines[0].blob);
	authkeys_free(ak);
}

Test(authkeys, non_key_lines)
{
	struct authkeys	*ak = parse_str("# ssh-ed25519 " K1 "\n"
	    "   # x\n\n \t \nssh-ed25519\nssh-ed25519 \nssh-ed25519 " K1 "x\n"
	    "no-pty\nfoo-type " K1 "\nssh-ed25519 ====\n");
	size_t		 i;

	cr_assert_eq(ak->n, 10);
	for (i = 0; i < ak->n; i++)
		cr_assert_eq(ak->lines[i].is_key, 0, "line %zu", i + 1);
	authkeys_free(ak);
}

Test(authkeys, leading_blanks_and_crlf)
{
	struct authkeys	*ak = parse_str(" \tssh-ed25519 " K1 "\r\n"
	    "ssh-ed25519 " K2 " bob\r\n");

	cr_assert(ak->lines[0].is_key);
	cr_assert_str_eq(ak->lines[0].b64, K1);
	cr_assert_null(ak->lines[0].comment);
	cr_assert_eq(ak->lines[0].raw[ak->lines[0].rawlen - 1], '\r');
	cr_assert(ak->lines[1].is_key);
	cr_assert_str_eq(ak->lines[1].comment, "bob");
	authkeys_free(ak);
}

/* A3: sshd reads a line as a C string, so a NUL ends it. */
Test(authkeys, nul_ends_the_line_for_sshd)
{
	static const char in[] = "ssh-ed25519 " K1 "\0junk\n";
	struct authkeys	*ak = parse_ok(in, sizeof(in) - 1);

	cr_assert(ak->lines[0].is_key);
	cr_assert_null(ak->lines[0].comment);
	cr_assert_eq(ak->lines[0].rawlen, sizeof(in) - 2);
	authkeys_free(ak);
}

/*
 * A3: a known type word followed by something that is not base64 is read
 * by sshd as an options field, so the next type word can still be a key.
 */
Test(authkeys, type_word_as_options_like_sshd)
{
	struct authkeys	*ak = parse_str("ssh-rsa ssh-ed25519 " K1 " c\n");

	cr_assert(ak->lines[0].is_key);
	cr_assert_str_eq(ak->lines[0].options, "ssh-rsa");
	cr_assert_str_eq(ak->lines[0].type, "ssh-ed25519");
	authkeys_free(ak);
}

/* A4 */
Test(authkeys, same_key_other_options_is_same_key)
{
	struct authkeys	*ak = parse_str("ssh-ed25519 " K1 " a\n"
	    "restrict ssh-ed25519 " K1 "\n"
	    "from=\"x y\" ssh-ed25519 " K1 " other comment\n"
	    "ssh-ed25519 " K2 " a\n");
	unsigned char	 blob[128];
	size_t		 len = blob_of(K1, blob, sizeof(blob));

	cr_assert_eq(authkeys_find(ak, blob, len, 0), 0);
	cr_assert_eq(authkeys_find(ak, blob, len, 1), 1);
	cr_assert_eq(authkeys_find(ak, blob, len, 2), 2);
	cr_assert_eq(authkeys_find(ak, blob, len, 3), -1);
	cr_assert_eq(authkeys_find(ak, blob, len, 99), -1);
	cr_assert_eq(authkeys_find(ak, blob, len - 1, 0), -1);
	cr_assert_eq(count_key(ak, K2), 1);
	cr_assert_eq(count_key(ak, K3), 0);
	authkeys_free(ak);
}

/* A2, A4: every copy goes; everything else stays byte for byte. */
Test(authkeys, remove_all_copies_fixture)
{
	struct authkeys	*ak;
	unsigned char	 blob[128];
	size_t		 len, wantlen, blen = blob_of(K1, blob, sizeof(blob));
	char		*buf = read_data("before/mixed", &len);
	char		*want = read_data("after/mixed-remove-key1", &wantlen);

	ak = parse_ok(buf, len);
	cr_assert_eq(authkeys_remove(ak, blob, blen), 3);
	cr_assert_eq(count_key(ak, K1), 0);
	assert_renders(ak, want, wantlen);
	cr_assert_eq(authkeys_remove(ak, blob, blen), 0);
	authkeys_free(ak);
	free(buf);
	free(want);
}

/* A2: a line that was followed by '\n' keeps it when it becomes last. */
Test(authkeys, remove_last_line_without_newline)
{
	struct authkeys	*ak = parse_str("# a\nssh-ed25519 " K1);
	unsigned char	 blob[128];
	size_t		 blen = blob_of(K1, blob, sizeof(blob));

	cr_assert_eq(authkeys_remove(ak, blob, blen), 1);
	assert_renders(ak, "# a\n", 4);
	authkeys_free(ak);
}

Test(authkeys, remove_middle_keeps_missing_newline)
{
	const char	*want = "# a\n# b";
	struct authkeys	*ak = parse_str("# a\nssh-ed25519 " K1 "\n# b");
	unsigned char	 blob[128];
	size_t		 blen = blob_of(K1, blob, sizeof(blob));

	cr_assert_eq(authkeys_remove(ak, blob, blen), 1);
	assert_renders(ak, want, strlen(want));
	authkeys_free(ak);
}

Test(authkeys, remove_everything)
{
	struct authkeys	*ak = parse_str("ssh-ed25519 " K1 "\nssh-ed25519 "
	    K1 " b");
	unsigned char	 blob[128];
	size_t		 blen = blob_of(K1, blob, sizeof(blob));

	cr_assert_eq(authkeys_remove(ak, blob, blen), 2);
	cr_assert_eq(ak->n, 0);
	assert_renders(ak, "", 0);
	authkeys_free(ak);
}

/* A2: appending to a file without a final newline adds one first. */
Test(authkeys, append_fixture_without_final_newline)
{
	struct authkeys	*ak;
	size_t		 len, wantlen;
	char		*buf = read_data("before/mixed", &len);
	char		*want = read_data("after/mixed-append-key3", &wantlen);

	ak = parse_ok(buf, len);
	cr_assert_eq(authkeys_append(ak,
	    "restrict,expiry-time=\"20300101000000Z\"", "ssh-ed25519", K3,
	    "user3@host"), 0);
	cr_assert_eq(count_key(ak, K3), 2);
	assert_renders(ak, want, wantlen);
	authkeys_free(ak);
	free(buf);
	free(want);
}

Test(authkeys, append_to_new)
{
	const char	*want = "ssh-ed25519 " K1 "\n"
	    "from=\"a b\",command=\"x \\\"y\\\"\" ssh-ed25519 " K2 " bob\n";
	struct authkeys	*ak = NULL;

	cr_assert_eq(authkeys_new(&ak), 0);
	assert_renders(ak, "", 0);
	cr_assert_eq(authkeys_append(ak, NULL, "ssh-ed25519", K1, NULL), 0);
	cr_assert_eq(authkeys_append(ak, "from=\"a b\",command=\"x \\\"y\\\"\"",
	    "ssh-ed25519", K2, "bob"), 0);
	assert_renders(ak, want, strlen(want));
	cr_assert_str_eq(ak->lines[1].options,
	    "from=\"a b\",command=\"x \\\"y\\\"\"");
	cr_assert_str_eq(ak->lines[1].comment, "bob");
	cr_assert_eq(count_key(ak, K2), 1);
	authkeys_free(ak);
}

/* A7: what would not read back is refused and changes nothing. */
Test(authkeys, append_refuses_what_would_not_read_back)
{
	struct authkeys	*ak = parse_str("# x");

	cr_assert_eq(authkeys_append(ak, NULL, "ssh-ed25519", K1, "a\nb"),
	    KE_MALFORMED);
	cr_assert_eq(authkeys_append(ak, NULL, "ssh-ed25519", K1, " lead"),
	    KE_MALFORMED);
	cr_assert_eq(authkeys_append(ak, NULL, "ssh-ed25519", K1, "cr\r"),
	    KE_MALFORMED);
	cr_assert_eq(authkeys_append(ak, "no pty", "ssh-ed25519", K1, NULL),
	    KE_MALFORMED);
	cr_assert_eq(authkeys_append(ak, "command=\"x", "ssh-ed25519", K1,
	    NULL), KE_MALFORMED);
	cr_assert_eq(authkeys_append(ak, NULL, "ssh-ed25519", "AAAA!", NULL),
	    KE_MALFORMED);
	cr_assert_eq(authkeys_append(ak, NULL, "ssh-foo", K1, NULL),
	    KE_MALFORMED);
	cr_assert_eq(authkeys_append(ak, NULL, "", K1, NULL), KE_MALFORMED);
	cr_assert_eq(authkeys_append(ak, NULL, "ssh-ed25519", NULL, NULL),
	    KE_MALFORMED);
	cr_assert_eq(ak->n, 1);
	assert_renders(ak, "# x", 3);
	authkeys_free(ak);
}

/* A5 */
Test(authkeys, cap_bytes)
{
	struct authkeys	*ak = NULL;
	size_t		 len = AUTHKEYS_MAX + 1;
	char		*buf;

	cr_assert_not_null(buf = malloc(len));
	memset(buf, 'a', len);
	cr_assert_eq(authkeys_parse(buf, len, &ak), KE_MALFORMED);
	cr_assert_null(ak);
	cr_assert_eq(authkeys_parse(buf, len - 1, &ak), 0);
	/* at the cap: a line more would not read back, render refuses */
	cr_assert_eq(authkeys_append(ak, NULL, "ssh-ed25519", K1, NULL), 0);
	{
		char	*out = NULL;
		size_t	 outlen = 0;

		cr_assert_eq(authkeys_render(ak, &out, &outlen), KE_MALFORMED);
		cr_assert_null(out);
	}
	authkeys_free(ak);
	free(buf);
}

Test(authkeys, cap_lines)
{
	struct authkeys	*ak = NULL;
	size_t		 len = AUTHKEYS_LINES_MAX + 1;
	char		*buf;

	cr_assert_not_null(buf = malloc(len));
	memset(buf, '\n', len);
	cr_assert_eq(authkeys_parse(buf, len, &ak), KE_MALFORMED);
	cr_assert_null(ak);
	/* the last line has no newline: still one line too many */
	buf[len - 1] = 'x';
	cr_assert_eq(authkeys_parse(buf, len, &ak), KE_MALFORMED);
	cr_assert_eq(authkeys_parse(buf, len - 1, &ak), 0);
	cr_assert_eq(ak->n, AUTHKEYS_LINES_MAX);
	cr_assert_eq(authkeys_append(ak, NULL, "ssh-ed25519", K1, NULL),
	    KE_MALFORMED);
	authkeys_free(ak);
	free(buf);
}

Test(authkeys, bad_arguments)
{
	struct authkeys	*ak = (struct authkeys *)&ak;

	cr_assert_eq(authkeys_parse(NULL, 1, &ak), KE_MALFORMED);
	cr_assert_null(ak);
	cr_assert_eq(authkeys_parse(NULL, 0, &ak), 0);
	cr_assert_eq(ak->n, 0);
	authkeys_free(ak);
	authkeys_free(NULL);
}

/* Make a distinct ed25519-shaped key line for index i. */
static void
fake_key(size_t i, char *b64, size_t cap)
{
	unsigned char	blob[51];

	memcpy(blob, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
	memset(blob + 19, 0, 32);
	memcpy(blob + 19, &i, sizeof(i));
	cr_assert_geq(cap, B64_ENCODED_SIZE(sizeof(blob)));
	b64_encode(blob, sizeof(blob), b64, 1);
}

/* A6: 10,000 keys parse, find, remove, append and render (no timing). */
Test(authkeys, many_keys)
{
	size_t		 n = 10000, i, len = 0, outlen;
	char		*buf, *out, b64[80];
	struct authkeys	*ak;

	cr_assert_not_null(buf = malloc(n * 128));
	for (i = 0; i < n; i++) {
		fake_key(i, b64, sizeof(b64));
		len += (size_t)sprintf(buf + len, "%sssh-ed25519 %s k%zu\n",
		    i % 3 == 0 ? "restrict " : "", b64, i);
	}
	ak = parse_ok(buf, len);
	cr_assert_eq(ak->n, n);
	assert_renders(ak, buf, len);
	cr_assert_eq(count_key(ak, b64), 1);
	cr_assert_eq(authkeys_remove(ak, ak->lines[0].blob,
	    ak->lines[0].bloblen), 1);
	for (i = 0; i < n; i++) {
		fake_key(n + i, b64, sizeof(b64));
		cr_assert_eq(authkeys_append(ak, NULL, "ssh-ed25519", b64,
		    NULL), 0);
	}
	cr_assert_eq(ak->n, 2 * n - 1);
	cr_assert_eq(authkeys_render(ak, &out, &outlen), 0);
	free(out);
	authkeys_free(ak);
	free(buf);
}

/* set: one line replaced in place, the others byte for byte. */
Test(authkeys, set_replaces_one_line_in_place)
{
	const char	in[] = "# top\n ssh-ed25519 " K1 " one\n"
	    "ssh-ed25519 " K2 " two\n";
	const char	want[] = "# top\nrestrict,from=\"10.0.0.0/8\" "
	    "ssh-ed25519 " K1 " one\nssh-ed25519 " K2 " two\n";
	struct authkeys	*ak = parse_str(in);

	cr_assert_eq(authkeys_set(ak, 1, "restrict,from=\"10.0.0.0/8\"",
	    "ssh-ed25519", K1, "one"), 0);
	cr_assert_str_eq(ak->lines[1].options, "restrict,from=\"10.0.0.0/8\"");
	assert_renders(ak, want, sizeof(want) - 1);
	cr_assert_eq(authkeys_set(ak, 3, NULL, "ssh-ed25519", K1, NULL),
	    KE_MALFORMED);
	/* a line that would not read back is refused, the old one kept */
	cr_assert_eq(authkeys_set(ak, 1, "command=\"x", "ssh-ed25519", K1,
	    NULL), KE_MALFORMED);
	assert_renders(ak, want, sizeof(want) - 1);
	authkeys_free(ak);
}

/* set on a last line without '\n' keeps the file's ending. */
Test(authkeys, set_keeps_missing_final_newline)
{
	const char	in[] = "ssh-ed25519 " K1 " one";
	const char	want[] = "no-pty ssh-ed25519 " K1 " one";
	struct authkeys	*ak = parse_str(in);

	cr_assert_eq(authkeys_set(ak, 0, "no-pty", "ssh-ed25519", K1, "one"),
	    0);
	assert_renders(ak, want, sizeof(want) - 1);
	authkeys_free(ak);
}

Test(authkeys, delete_one_line)
{
	const char	in[] = "# a\nssh-ed25519 " K1 "\n# b";
	struct authkeys	*ak = parse_str(in);

	authkeys_delete(ak, 1);
	assert_renders(ak, "# a\n# b", 7);
	authkeys_delete(ak, 1);		/* the last, unterminated line */
	assert_renders(ak, "# a\n", 4);
	authkeys_delete(ak, 5);		/* out of range: nothing */
	assert_renders(ak, "# a\n", 4);
	authkeys_delete(ak, 0);
	assert_renders(ak, "", 0);
	authkeys_free(ak);
}
