/*
 * test_report.c -- msg_escape and everything report writes on stdout.
 *
 * Suite "report".  msg_escape: what passes, what is escaped, and truncation
 * for every small buffer size (a canary after the buffer catches an
 * overrun).  The JSON writer writes into an open_memstream; every document
 * is compared byte for byte and then handed to python3's json module, which
 * must accept it.
 */
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "err.h"
#include "msg.h"
#include "report.h"

#define CANARY	0x5a
#define GUARD	32

/* --- helpers ----------------------------------------------------------- */

/* Escape a C string into a big buffer (static). */
static const char *
esc(const char *in, size_t inlen)
{
	static char	out[4096];

	memset(out, CANARY, sizeof(out));
	msg_escape(in, inlen, out, sizeof(out));
	return out;
}

#define ESC(s)	esc((s), sizeof(s) - 1)

static void
esc_eq(const char *in, size_t inlen, const char *want)
{
	cr_assert_str_eq(esc(in, inlen), want);
}

#define ESC_EQ(s, w)	esc_eq((s), sizeof(s) - 1, (w))

static struct report	R;
static char		*membuf;
static size_t		 memlen;
static FILE		*memf;

static void
mem_open(int json, int quiet)
{
	membuf = NULL;
	memlen = 0;
	memf = open_memstream(&membuf, &memlen);
	cr_assert_not_null(memf);
	report_init(&R, memf, json, quiet);
}

/* Finish the report and return what was written (owned by the fixture). */
static const char *
mem_text(void)
{
	cr_assert_eq(report_finish(&R), 0);
	cr_assert_eq(fclose(memf), 0);
	memf = NULL;
	return membuf;
}

static void
mem_free(void)
{
	if (memf != NULL)
		(void)fclose(memf);
	memf = NULL;
	free(membuf);
	membuf = NULL;
}

TestSuite(report, .fini = mem_free);

/* 1 if python3's json module parses doc as exactly one document. */
static int
json_valid(const char *doc)
{
	FILE	*p;
	int	 st;

	p = popen("python3 -c 'import json,sys; json.load(sys.stdin)'", "w");
	cr_assert_not_null(p, "popen python3");
	(void)fputs(doc, p);
	st = pclose(p);
	cr_assert_neq(st, -1);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void
assert_json(const char *doc, const char *want)
{
	cr_assert_str_eq(doc, want);
	cr_assert(json_valid(doc), "python3 refused: %s", doc);
}

/* --- msg_escape -------------------------------------------------------- */

Test(report, escape_printable_ascii_passes)
{
	char	in[96];
	size_t	i, n = 0;

	for (i = 0x20; i < 0x7f; i++)
		if (i != '\\')
			in[n++] = (char)i;
	in[n] = '\0';
	esc_eq(in, n, in);
}

Test(report, escape_backslash_doubled)
{
	ESC_EQ("a\\b", "a\\\\b");
	ESC_EQ("\\\\", "\\\\\\\\");
	/* an escape-looking input cannot pass for an escape */
	ESC_EQ("\\x1b", "\\\\x1b");
}

Test(report, escape_control_characters)
{
	char	in[1], want[8];
	int	c;

	for (c = 0; c < 0x20; c++) {
		in[0] = (char)c;
		(void)snprintf(want, sizeof(want), "\\x%02x", c);
		esc_eq(in, 1, want);
	}
	ESC_EQ("\x1b[31mred", "\\x1b[31mred");
	ESC_EQ("\x7f", "\\x7f");
	ESC_EQ("a\nb\r\tc", "a\\x0ab\\x0d\\x09c");
	/* a NUL inside the counted input is escaped, not an end */
	ESC_EQ("a\0b", "a\\x00b");
}

Test(report, escape_valid_utf8_passes)
{
	ESC_EQ("caf\xc3\xa9", "caf\xc3\xa9");			/* U+00E9 */
	ESC_EQ("\xc2\xa0", "\xc2\xa0");				/* U+00A0 */
	ESC_EQ("\xdf\xbf", "\xdf\xbf");				/* U+07FF */
	ESC_EQ("\xe0\xa0\x80", "\xe0\xa0\x80");			/* U+0800 */
	ESC_EQ("\xe2\x82\xac", "\xe2\x82\xac");			/* euro */
	ESC_EQ("\xed\x9f\xbf", "\xed\x9f\xbf");			/* U+D7FF */
	ESC_EQ("\xee\x80\x80", "\xee\x80\x80");			/* U+E000 */
	ESC_EQ("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac");
	ESC_EQ("\xf0\x9f\x94\x91", "\xf0\x9f\x94\x91");		/* key */
	ESC_EQ("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");		/* U+10FFFF */
}

Test(report, escape_invalid_utf8)
{
	/* stray continuation bytes, bytes never valid */
	ESC_EQ("\x80", "\\x80");
	ESC_EQ("\xbf", "\\xbf");
	ESC_EQ("\xfe\xff", "\\xfe\\xff");
	ESC_EQ("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
	/* a lead byte without enough continuation bytes */
	ESC_EQ("\xc3", "\\xc3");
	ESC_EQ("\xc3(", "\\xc3(");
	ESC_EQ("\xe2\x82", "\\xe2\\x82");
	ESC_EQ("\xe2\x82z", "\\xe2\\x82z");
	ESC_EQ("\xf0\x9f\x94", "\\xf0\\x9f\\x94");
	/* beyond U+10FFFF */
	ESC_EQ("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
}

Test(report, escape_overlong_forms)
{
	ESC_EQ("\xc0\xaf", "\\xc0\\xaf");		/* '/' in 2 bytes */
	ESC_EQ("\xc1\xbf", "\\xc1\\xbf");
	ESC_EQ("\xc0\x80", "\\xc0\\x80");		/* NUL in 2 bytes */
	ESC_EQ("\xe0\x80\xaf", "\\xe0\\x80\\xaf");
	ESC_EQ("\xe0\x9f\xbf", "\\xe0\\x9f\\xbf");	/* U+07FF in 3 */
	ESC_EQ("\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf");
	ESC_EQ("\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf");
}

Test(report, escape_surrogates)
{
	ESC_EQ("\xed\xa0\x80", "\\xed\\xa0\\x80");	/* U+D800 */
	ESC_EQ("\xed\xbf\xbf", "\\xed\\xbf\\xbf");	/* U+DFFF */
	ESC_EQ("\xed\xa0\xbd\xed\xb8\x80",
	    "\\xed\\xa0\\xbd\\xed\\xb8\\x80");		/* CESU-8 pair */
}

Test(report, escape_c1_controls)
{
	ESC_EQ("\xc2\x80", "\\xc2\\x80");
	ESC_EQ("\xc2\x9b", "\\xc2\\x9b");		/* CSI */
	ESC_EQ("\xc2\x9f", "\\xc2\\x9f");
}

Test(report, escape_bidi_and_line_separators)
{
	static const char	*cps[] = {
		"\xe2\x80\xa8", "\xe2\x80\xa9",			/* LS PS */
		"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac",	/* LRE RLE PDF */
		"\xe2\x80\xad", "\xe2\x80\xae",			/* LRO RLO */
		"\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8",	/* LRI RLI FSI */
		"\xe2\x81\xa9",					/* PDI */
	};
	char	want[32];
	size_t	i;

	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		const unsigned char *u = (const unsigned char *)cps[i];

		(void)snprintf(want, sizeof(want), "\\x%02x\\x%02x\\x%02x",
		    u[0], u[1], u[2]);
		esc_eq(cps[i], 3, want);
	}
	/* neighbours pass */
	ESC_EQ("\xe2\x80\xa7", "\xe2\x80\xa7");		/* U+2027 */
	ESC_EQ("\xe2\x80\xaf", "\xe2\x80\xaf");		/* U+202F */
	ESC_EQ("\xe2\x81\xaa", "\xe2\x81\xaa");		/* U+206A */
	ESC_EQ("alice\xe2\x80\xae" "cod.exe", "alice\\xe2\\x80\\xae" "cod.exe");
}

/*
 * Every small buffer size, many inputs: never a byte past outlen, always a
 * terminated string (outlen > 0), never a split escape or UTF-8 sequence,
 * and a cut result ends in "..." when there is room for it.
 */
Test(report, escape_truncation_never_overflows)
{
	static const struct { const char *s; size_t n; } ins[] = {
		{ "", 0 }, { "a", 1 }, { "ab", 2 }, { "abcdefgh", 8 },
		{ "abcdefghijklmnopqrstuvwxyz0123456789", 36 },
		{ "\\\\\\\\\\\\\\\\\\\\", 10 },
		{ "\x01\x02\x03\x04\x05\x06\x07\x08", 8 },
		{ "a\x1b" "b\x1b" "c\x1b" "d\x1b", 8 },
		{ "\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91", 12 },
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 12 },
		{ "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6", 10 },
		{ "x\xe2\x82\xac" "y\xed\xa0\x80" "z\x7f\\", 12 },
	};
	char	full[256], buf[16 + GUARD];
	size_t	i, outlen, j, len;

	for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
		msg_escape(ins[i].s, ins[i].n, full, sizeof(full));
		for (outlen = 0; outlen <= 16; outlen++) {
			memset(buf, CANARY, sizeof(buf));
			msg_escape(ins[i].s, ins[i].n, buf, outlen);
			for (j = outlen; j < sizeof(buf); j++)
				cr_assert_eq((unsigned char)buf[j], CANARY,
				    "input %zu outlen %zu: byte %zu written",
				    i, outlen, j);
			if (outlen == 0)
				continue;
			len = strnlen(buf, outlen);
			cr_assert_lt(len, outlen, "input %zu outlen %zu: "
			    "not terminated", i, outlen);
			if (strcmp(buf, full) == 0)
				continue;
			/* cut: a prefix of the full escape, then "..." */
			if (outlen < 4) {
				cr_assert_eq(len, 0, "input %zu outlen %zu", i,
				    outlen);
				continue;
			}
			cr_assert_geq(len, 3);
			cr_assert_str_eq(buf + len - 3, "...",
			    "input %zu outlen %zu: \"%s\"", i, outlen, buf);
			cr_assert_eq(memcmp(buf, full, len - 3), 0,
			    "input %zu outlen %zu: \"%s\" is not a prefix of "
			    "\"%s\"", i, outlen, buf, full);
			/* the cut falls between whole units */
			if (len > 3) {
				size_t k = len - 3;
				unsigned char nx = (unsigned char)full[k];
				cr_assert((nx & 0xc0) != 0x80,
				    "input %zu outlen %zu: UTF-8 split", i,
				    outlen);
				cr_assert(!(k >= 1 && full[k - 1] == '\\' &&
				    nx == 'x'), "escape split");
			}
		}
	}
}

Test(report, escape_long_input_ends_in_dots)
{
	char	in[3000], out[1024];

	memset(in, 'a', sizeof(in));
	msg_escape(in, sizeof(in), out, sizeof(out));
	cr_assert_lt(strlen(out), sizeof(out));
	cr_assert_str_eq(out + strlen(out) - 3, "...");
}

/*
 * Regression (was a bug in src/msg.c:66, msg_escape): the loop stops as soon as fewer than 8
 * bytes are left, even when the rest of the input would fit, so text that
 * fits is cut and gets "..." (outlen 16, "abcdefghij" -> "abcdefghi...",
 * longer than the input it replaces; outlen 5, "a" -> "...").  With the
 * real buffers, a path of 1017..1023 bytes in msg_err loses its tail.
 * Expected: an escaped form of at most outlen - 1 bytes is written whole.
 */
Test(report, escape_output_that_fits_is_not_cut)
{
	char	buf[16];

	msg_escape("abcdefghij", 10, buf, sizeof(buf));
	cr_expect_str_eq(buf, "abcdefghij", "got \"%s\"", buf);
	msg_escape("a", 1, buf, 5);
	cr_expect_str_eq(buf, "a", "got \"%s\"", buf);
	msg_escape("\x1b", 1, buf, 5);
	cr_expect_str_eq(buf, "\\x1b", "got \"%s\"", buf);
}

Test(report, report_esc_null_and_wrapper)
{
	char	buf[64];

	cr_assert_str_eq(report_esc(NULL, buf, sizeof(buf)), "");
	cr_assert_str_eq(report_esc("a\tb\\", buf, sizeof(buf)),
	    "a\\x09b\\\\");
}

/* --- the JSON writer --------------------------------------------------- */

Test(report, json_nesting_and_commas)
{
	mem_open(1, 0);
	report_obj_begin(&R, NULL);
	report_str(&R, "a", "x");
	report_int(&R, "n", -42);
	report_bool(&R, "t", 1);
	report_bool(&R, "f", 0);
	report_arr_begin(&R, "list");
	report_int(&R, NULL, 1);
	report_obj_begin(&R, NULL);
	report_obj_end(&R);
	report_arr_begin(&R, NULL);
	report_arr_end(&R);
	report_obj_begin(&R, NULL);
	report_str(&R, "k", "v");
	report_arr_begin(&R, "in");
	report_str(&R, NULL, "p");
	report_str(&R, NULL, "q");
	report_arr_end(&R);
	report_obj_end(&R);
	report_int(&R, NULL, 2);
	report_arr_end(&R);
	report_obj_begin(&R, "empty");
	report_obj_end(&R);
	report_int(&R, "last", 9223372036854775807LL);
	report_obj_end(&R);
	assert_json(mem_text(), "{\"a\":\"x\",\"n\":-42,\"t\":true,\"f\":false,"
	    "\"list\":[1,{},[],{\"k\":\"v\",\"in\":[\"p\",\"q\"]},2],"
	    "\"empty\":{},\"last\":9223372036854775807}\n");
}

Test(report, json_nesting_to_the_limit)
{
	char	want[128];
	int	i, n = REPORT_DEPTH_MAX - 1;
	size_t	o = 0;

	mem_open(1, 0);
	for (i = 0; i < n; i++) {
		report_arr_begin(&R, NULL);
		report_int(&R, NULL, i);
		want[o++] = '[';
		o += (size_t)snprintf(want + o, sizeof(want) - o, "%d,", i);
	}
	want[--o] = '\0';	/* no comma after the innermost value */
	for (i = 0; i < n; i++) {
		report_arr_end(&R);
		want[o++] = ']';
	}
	want[o++] = '\n';
	want[o] = '\0';
	assert_json(mem_text(), want);
}

Test(report, json_null_for_null_string)
{
	mem_open(1, 0);
	report_arr_begin(&R, NULL);
	report_str(&R, NULL, NULL);
	report_obj_begin(&R, NULL);
	report_str(&R, "c", NULL);
	report_str(&R, "d", "");
	report_obj_end(&R);
	report_arr_end(&R);
	assert_json(mem_text(), "[null,{\"c\":null,\"d\":\"\"}]\n");
}

Test(report, json_string_escaping)
{
	mem_open(1, 0);
	report_obj_begin(&R, NULL);
	report_str(&R, "q", "say \"hi\"");
	report_str(&R, "b", "C:\\dir\\");
	report_str(&R, "nl", "a\nb\tc\rd");
	report_str(&R, "ctl", "\x01\x1b[0m\x1f\x7f");
	report_str(&R, "k\"ey\n", "v");
	report_obj_end(&R);
	assert_json(mem_text(), "{\"q\":\"say \\\"hi\\\"\","
	    "\"b\":\"C:\\\\dir\\\\\","
	    "\"nl\":\"a\\nb\\tc\\u000dd\","
	    "\"ctl\":\"\\u0001\\u001b[0m\\u001f\\u007f\","
	    "\"k\\\"ey\\n\":\"v\"}\n");
}

Test(report, json_utf8_valid_passes_invalid_is_replaced)
{
	mem_open(1, 0);
	report_arr_begin(&R, NULL);
	report_str(&R, NULL, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
	report_str(&R, NULL, "a\xff" "b");
	report_str(&R, NULL, "\xc0\xaf");		/* overlong */
	report_str(&R, NULL, "\xed\xa0\x80");		/* surrogate */
	report_str(&R, NULL, "\xc2\x9b");		/* C1 */
	report_str(&R, NULL, "x\xe2\x80\xaey");		/* RLO */
	report_str(&R, NULL, "\xe2\x82");		/* cut at the end */
	report_str(&R, NULL, "\x80\x80\x80\x80\x80");	/* stray tail */
	report_arr_end(&R);
	assert_json(mem_text(), "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91\","
	    "\"a\\ufffdb\",\"\\ufffd\",\"\\ufffd\",\"\\ufffd\","
	    "\"x\\ufffdy\",\"\\ufffd\",\"\\ufffd\\ufffd\"]\n");
}

Test(report, json_every_byte_gives_valid_json)
{
	char	s[256];
	int	i;

	for (i = 1; i < 256; i++)
		s[i - 1] = (char)i;
	s[255] = '\0';
	mem_open(1, 0);
	report_obj_begin(&R, NULL);
	report_str(&R, "all", s);
	report_obj_end(&R);
	cr_assert(json_valid(mem_text()), "%s", membuf);
}

Test(report, json_time)
{
	mem_open(1, 0);
	report_obj_begin(&R, NULL);
	report_time(&R, "zero", 0);
	report_time(&R, "one", 1);
	report_time(&R, "t", 1704164645);
	report_time(&R, "y2038", 2147483648LL);
	report_obj_end(&R);
	assert_json(mem_text(), "{\"zero\":null,"
	    "\"one\":\"1970-01-01T00:00:01Z\","
	    "\"t\":\"2024-01-02T03:04:05Z\","
	    "\"y2038\":\"2038-01-19T03:14:08Z\"}\n");
}

/*
 * Regression (was a minor bug; src/report.c:148, report_fmt_time/report_time): a time that
 * gmtime_r or strftime cannot format (here INT64_MAX, as a damaged store
 * could hold) comes out in JSON as the string "-", which is neither the
 * RFC 3339 time nor the null that report.h promises.  Expected: null (or a
 * valid time); actual: "t":"-".
 */
Test(report, json_time_unformattable_is_not_a_dash)
{
	const char	*doc;

	mem_open(1, 0);
	report_obj_begin(&R, NULL);
	report_time(&R, "t", INT64_MAX);
	report_obj_end(&R);
	doc = mem_text();
	cr_assert(json_valid(doc), "%s", doc);
	cr_expect_str_neq(doc, "{\"t\":\"-\"}\n", "%s",
	    doc);
}

Test(report, fmt_time_text)
{
	char	buf[32];

	cr_assert_str_eq(report_fmt_time(0, buf, sizeof(buf)), "-");
	cr_assert_str_eq(report_fmt_time(1704164645, buf, sizeof(buf)),
	    "2024-01-02T03:04:05Z");
	/* too small a buffer: "-", never a partial time */
	cr_assert_str_eq(report_fmt_time(1704164645, buf, 10), "-");
}

Test(report, json_writer_silent_in_text_mode)
{
	mem_open(0, 0);
	report_obj_begin(&R, NULL);
	report_str(&R, "a", "b");
	report_int(&R, "n", 1);
	report_bool(&R, "t", 1);
	report_time(&R, "z", 5);
	report_arr_begin(&R, "l");
	report_arr_end(&R);
	report_obj_end(&R);
	cr_assert_str_eq(mem_text(), "");
}

Test(report, text_lines)
{
	mem_open(0, 0);
	report_text(&R, "one %d", 1);
	report_text(&R, "%s", "two");
	cr_assert_str_eq(mem_text(), "one 1\ntwo\n");
}

Test(report, text_suppressed_by_quiet)
{
	mem_open(0, 1);
	report_text(&R, "hidden %d", 1);
	cr_assert_str_eq(mem_text(), "");
}

Test(report, text_suppressed_by_json)
{
	mem_open(1, 0);
	report_arr_begin(&R, NULL);
	report_text(&R, "hidden");
	report_arr_end(&R);
	assert_json(mem_text(), "[]\n");
}

Test(report, json_quiet_still_writes_json)
{
	mem_open(1, 1);
	report_obj_begin(&R, NULL);
	report_int(&R, "n", 1);
	report_obj_end(&R);
	assert_json(mem_text(), "{\"n\":1}\n");
}

Test(report, finish_reports_write_error)
{
	FILE	*f = fopen("/dev/full", "w");
	int	 i;

	if (f == NULL)
		cr_skip_test("no /dev/full");
	report_init(&R, f, 1, 0);
	report_arr_begin(&R, NULL);
	for (i = 0; i < 100; i++)
		report_str(&R, NULL, "filler");
	report_arr_end(&R);
	cr_assert_eq(report_finish(&R), KE_IO);
	(void)fclose(f);
}

/* --- report_key, report_key_error, report_grant ------------------------ */

static void
sample_key(struct pubkey *k, char *comment)
{
	memset(k, 0, sizeof(*k));
	k->type = KT_ED25519;
	(void)snprintf(k->typename, sizeof(k->typename), "ssh-ed25519");
	(void)snprintf(k->fingerprint, sizeof(k->fingerprint),
	    "SHA256:abcDEF+/0123");
	k->bits = 256;
	k->comment = comment;
}

static void
sample_result(struct policy_result *pr)
{
	memset(pr, 0, sizeof(*pr));
	pr->verdict = VERDICT_WARN;
	pr->n = 1;
	pr->reasons[0].code = PR_RSA_SMALL_WARN;
	pr->reasons[0].severity = VERDICT_WARN;
	(void)snprintf(pr->reasons[0].text, sizeof(pr->reasons[0].text),
	    "a \"quoted\" reason");
}

Test(report, key_json_fields)
{
	struct pubkey		k;
	struct policy_result	pr;
	char			com[] = "al\"ice\x1b@host";

	sample_key(&k, com);
	sample_result(&pr);
	mem_open(1, 0);
	report_arr_begin(&R, NULL);
	report_key(&R, "keys/a\x01.pub", 3, "openssh", &k, &pr);
	k.comment = NULL;
	pr.n = 0;
	pr.verdict = VERDICT_ACCEPT;
	report_key(&R, "-", 1, "openssh", &k, &pr);
	report_arr_end(&R);
	assert_json(mem_text(), "[{\"source\":\"keys/a\\u0001.pub\",\"line\":3,"
	    "\"format\":\"openssh\",\"verdict\":\"warn\",\"type\":\"ssh-ed25519\",\"bits\":256,"
	    "\"fingerprint\":\"SHA256:abcDEF+/0123\","
	    "\"comment\":\"al\\\"ice\\u001b@host\","
	    "\"reasons\":[{\"code\":\"rsa_small\",\"severity\":\"warn\","
	    "\"text\":\"a \\\"quoted\\\" reason\"}]},"
	    "{\"source\":\"-\",\"line\":1,\"format\":\"openssh\","
	    "\"verdict\":\"accept\","
	    "\"type\":\"ssh-ed25519\",\"bits\":256,"
	    "\"fingerprint\":\"SHA256:abcDEF+/0123\",\"comment\":null,"
	    "\"reasons\":[]}]\n");
}

Test(report, key_text_escapes_source_and_comment)
{
	struct pubkey		k;
	struct policy_result	pr;
	char			com[] = "evil\x1b[2J";

	sample_key(&k, com);
	sample_result(&pr);
	mem_open(0, 0);
	report_key(&R, "a\\b\n.pub", 3, "openssh", &k, &pr);
	k.comment = NULL;
	pr.n = 0;
	pr.verdict = VERDICT_ACCEPT;
	report_key(&R, "k.pub", 1, "openssh", &k, &pr);
	cr_assert_str_eq(mem_text(),
	    "a\\\\b\\x0a.pub:3: warn: 256 SHA256:abcDEF+/0123 evil\\x1b[2J "
	    "(ED25519)\n"
	    "a\\\\b\\x0a.pub:3:   warn: a \"quoted\" reason\n"
	    "k.pub:1: accept: 256 SHA256:abcDEF+/0123 no comment (ED25519)\n");
}

Test(report, key_error_json)
{
	char	want[1024];

	mem_open(1, 0);
	report_arr_begin(&R, NULL);
	report_key_error(&R, "a.pub", 2, KE_MALFORMED, "bad \"base64\"");
	report_key_error(&R, "b.pub", 0, KE_NOINPUT, "b.pub: missing");
	report_key_error(&R, "c.pub", 1, KE_POLICY, "no");
	report_arr_end(&R);
	(void)snprintf(want, sizeof(want), "[{\"source\":\"a.pub\",\"line\":2,"
	    "\"verdict\":\"reject\",\"error\":\"malformed\",\"reasons\":"
	    "[{\"code\":\"malformed\",\"severity\":\"reject\","
	    "\"text\":\"bad \\\"base64\\\"\"}]},"
	    "{\"source\":\"b.pub\",\"verdict\":\"reject\",\"error\":\"%s\","
	    "\"reasons\":[{\"code\":\"malformed\",\"severity\":\"reject\","
	    "\"text\":\"b.pub: missing\"}]},"
	    "{\"source\":\"c.pub\",\"line\":1,\"verdict\":\"reject\","
	    "\"error\":\"refused\",\"reasons\":[{\"code\":\"refused\","
	    "\"severity\":\"reject\",\"text\":\"no\"}]}]\n",
	    keyadm_strerror(KE_NOINPUT));
	assert_json(mem_text(), want);
}

static void
sample_grant(struct store_grant *g)
{
	memset(g, 0, sizeof(*g));
	g->id = 7;
	g->user = "alice";
	g->fingerprint = "SHA256:abcDEF+/0123";
	g->type = "ssh-ed25519";
	g->bits = 256;
	g->b64 = "AAAA";
	g->comment = "alice@laptop";
	g->options = NULL;
	g->status = "active";
	g->added_at = 1704164645;
	g->added_by = "root";
	g->added_uid = 0;
	g->reason = NULL;
	g->expires_at = 0;
	g->last_used_at = 2147483648LL;
	g->last_used_from = "192.0.2.7";
	g->use_count = 12;
	g->path = "/home/alice/.ssh/authorized_keys";
}

Test(report, grant_json_fields)
{
	struct store_grant	g;

	sample_grant(&g);
	mem_open(1, 0);
	report_obj_begin(&R, NULL);
	report_arr_begin(&R, "grants");
	report_grant_header(&R);
	report_grant(&R, &g, 1704164645);
	g.id = 8;
	g.options = "no-pty,from=\"10.0.0.0/8\"";
	g.reason = "ticket\t42";
	g.expires_at = 1;
	g.last_used_at = 0;
	g.last_used_from = NULL;
	g.use_count = 0;
	g.comment = NULL;
	g.added_uid = 1001;
	g.added_by = "bob\xff";
	report_grant(&R, &g, 1704164645);
	report_arr_end(&R);
	report_obj_end(&R);
	assert_json(mem_text(), "{\"grants\":["
	    "{\"id\":7,\"user\":\"alice\",\"fingerprint\":\"SHA256:abcDEF+/0123\","
	    "\"type\":\"ssh-ed25519\",\"bits\":256,\"comment\":\"alice@laptop\","
	    "\"status\":\"active\",\"options\":null,"
	    "\"added_at\":\"2024-01-02T03:04:05Z\",\"added_by\":\"root\","
	    "\"added_uid\":0,\"reason\":null,\"expires_at\":null,"
	    "\"last_used_at\":\"2038-01-19T03:14:08Z\","
	    "\"last_used_from\":\"192.0.2.7\",\"use_count\":12,"
	    "\"path\":\"/home/alice/.ssh/authorized_keys\"},"
	    "{\"id\":8,\"user\":\"alice\",\"fingerprint\":\"SHA256:abcDEF+/0123\","
	    "\"type\":\"ssh-ed25519\",\"bits\":256,\"comment\":null,"
	    "\"status\":\"active\",\"options\":\"no-pty,from=\\\"10.0.0.0/8\\\"\","
	    "\"added_at\":\"2024-01-02T03:04:05Z\",\"added_by\":\"bob\\ufffd\","
	    "\"added_uid\":1001,\"reason\":\"ticket\\t42\","
	    "\"expires_at\":\"1970-01-01T00:00:01Z\",\"last_used_at\":null,"
	    "\"last_used_from\":null,\"use_count\":0,"
	    "\"path\":\"/home/alice/.ssh/authorized_keys\"}]}\n");
}

Test(report, grant_text_row)
{
	struct store_grant	g;
	char			want[512];

	sample_grant(&g);
	g.comment = "x\x1b";
	mem_open(0, 0);
	report_grant_header(&R);
	report_grant(&R, &g, 1704164645);
	(void)snprintf(want, sizeof(want),
	    "%-5s %-12s %-10s %5s %-50s %-8s %-8s %-20s %-12s %-20s %-15s "
	    "%s\n"
	    "%-5d %-12s %-10s %5u %-50s %-8s %-8s %-20s %-12s %-20s %-15s "
	    "%s\n",
	    "ID", "USER", "TYPE", "BITS", "FINGERPRINT", "STATUS", "EXPIRES",
	    "ADDED", "BY", "LAST-USED", "FROM", "COMMENT",
	    7, "alice", "ED25519", 256, "SHA256:abcDEF+/0123", "active",
	    "never", "2024-01-02T03:04:05Z", "root", "2038-01-19T03:14:08Z",
	    "192.0.2.7", "x\\x1b");
	cr_assert_str_eq(mem_text(), want);
}

/* The EXPIRES column: time left from now, in the largest fitting unit. */
Test(report, grant_text_time_left)
{
	static const struct {
		int64_t		 left;
		const char	*want;
	} cases[] = {
		{ 90 * 86400, "90d" }, { 2 * 86400, "2d" },
		{ 2 * 86400 - 1, "47h" }, { 2 * 3600, "2h" },
		{ 2 * 3600 - 1, "120m" }, { 61, "2m" }, { 1, "1m" },
		{ 0, "expired" }, { -5, "expired" },
	};
	struct store_grant	g;
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t;

		sample_grant(&g);
		g.expires_at = 1800000000;
		mem_open(0, 0);
		report_grant(&R, &g, 1800000000 - cases[i].left);
		t = mem_text();
		cr_assert(strstr(t, cases[i].want) != NULL, "left %lld: %s",
		    (long long)cases[i].left, t);
		mem_free();
		g.status = "revoked";	/* a closed grant shows "-" */
		mem_open(0, 0);
		report_grant(&R, &g, 1800000000 - cases[i].left);
		t = mem_text();
		cr_assert(strstr(t, " - ") != NULL, "%s", t);
		mem_free();
	}
}

/* msg_escape_view: the same as msg_escape, but a backslash stays one. */
Test(report, escape_view_keeps_backslashes)
{
	char	out[64];

	msg_escape_view("a\\\"b", 4, out, sizeof(out));
	cr_assert_str_eq(out, "a\\\"b");
	msg_escape("a\\\"b", 4, out, sizeof(out));
	cr_assert_str_eq(out, "a\\\\\"b");
	msg_escape_view("x\ry\x1b\xe2\x80\xae", 7, out, sizeof(out));
	cr_assert_str_eq(out, "x\\x0dy\\x1b\\xe2\\x80\\xae");
	msg_escape_view("caf\xc3\xa9", 5, out, sizeof(out));
	cr_assert_str_eq(out, "caf\xc3\xa9");
}

/* msg_printable: what a --reason may be. */
Test(report, printable_reason)
{
	char	long_reason[REASON_MAX + 2];

	cr_assert(msg_printable("ticket 4711: laptop \\ stolen", REASON_MAX));
	cr_assert(msg_printable("caf\xc3\xa9", REASON_MAX));
	cr_assert(!msg_printable("two\nlines", REASON_MAX));
	cr_assert(!msg_printable("bell\a", REASON_MAX));
	cr_assert(!msg_printable("bidi\xe2\x80\xae", REASON_MAX));
	cr_assert(!msg_printable("bad\xff", REASON_MAX));
	memset(long_reason, 'x', sizeof(long_reason) - 1);
	long_reason[REASON_MAX] = '\0';
	cr_assert(msg_printable(long_reason, REASON_MAX));
	long_reason[REASON_MAX] = 'x';
	long_reason[REASON_MAX + 1] = '\0';
	cr_assert(!msg_printable(long_reason, REASON_MAX));
}
