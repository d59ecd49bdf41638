/*
 * test_sshopts.c -- sshopts: authorized_keys options as sshd 9.2 reads them.
 * The invariants S1-S6 are listed at the top of src/sshopts.c.
 *
 * Suites: sshopts (pure, no I/O) and sshopts_sshd, which feeds rendered
 * and hand-written options to the real /usr/sbin/sshd (root only; skipped
 * otherwise).  The verdicts in the tables were taken from OpenSSH_9.2p1.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "err.h"
#include "sshopts.h"

#define T_2026	INT64_C(1767225600)	/* 2026-01-01T00:00:00Z */
#define T_MAX	INT64_C(253402300799)	/* 9999-12-31T23:59:59Z */

/* A reason must be printable ASCII, never empty (S5). */
static void
assert_reason(const char *r)
{
	const unsigned char	*p = (const unsigned char *)r;

	cr_assert_neq(*p, '\0', "empty reason");
	for (; *p != '\0'; p++)
		cr_assert(*p >= 0x20 && *p < 0x7f, "byte 0x%02x in reason",
		    *p);
}

static void
check_ok(const char *s)
{
	char	r[SSHOPTS_REASON_MAX] = "";

	cr_assert_eq(sshopts_check(s, strlen(s), r, sizeof(r)), 0,
	    "refused [%s]: %s", s, r);
}

static void
check_bad(const char *s, const char *want)
{
	char	r[SSHOPTS_REASON_MAX] = "";

	cr_assert_eq(sshopts_check(s, strlen(s), r, sizeof(r)), KE_MALFORMED,
	    "accepted [%s]", s);
	assert_reason(r);
	if (want != NULL)
		cr_assert_str_eq(r, want, "[%s]", s);
}

static char *
render(const struct sshopts *o)
{
	char	*s = NULL;

	cr_assert_eq(sshopts_render(o, &s), 0);
	cr_assert_not_null(s);
	check_ok(s);				/* S2 */
	return s;
}

static void
assert_renders(const struct sshopts *o, const char *want)
{
	char	*s = render(o);

	cr_assert_str_eq(s, want);
	free(s);
}

static void
add_ok(struct sshopts *o, const char *opt)
{
	char	r[SSHOPTS_REASON_MAX] = "";

	cr_assert_eq(sshopts_add(o, opt, r, sizeof(r)), 0, "refused [%s]: %s",
	    opt, r);
}

static void
add_bad(struct sshopts *o, const char *opt, const char *want)
{
	char	r[SSHOPTS_REASON_MAX] = "";

	cr_assert_eq(sshopts_add(o, opt, r, sizeof(r)), KE_USAGE,
	    "accepted [%s]", opt);
	assert_reason(r);
	if (want != NULL)
		cr_assert_str_eq(r, want, "[%s]", opt);
}

static void
addv_bad(struct sshopts *o, const char *name, const char *v,
    const char *want)
{
	char	r[SSHOPTS_REASON_MAX] = "";

	cr_assert_eq(sshopts_add_value(o, name, v, r, sizeof(r)), KE_USAGE,
	    "accepted %s [%s]", name, v);
	assert_reason(r);
	if (want != NULL)
		cr_assert_str_eq(r, want, "%s [%s]", name, v);
}

/*
 * The value of the first name="..." option in s, decoded the way sshd's
 * opt_dequote does (written here from the rules, not from sshopts.c).
 */
static char *
sshd_value(const char *s, const char *name)
{
	size_t		 n = strlen(name);
	const char	*p = s;
	char		*out, *o;
	int		 q;

	cr_assert_not_null(out = malloc(strlen(s) + 1));
	while (*p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == '=' &&
		    p[n + 1] == '"') {
			for (p += n + 2, o = out; *p != '\0' && *p != '"';
			    p++) {
				if (p[0] == '\\' && p[1] == '"')
					p++;
				*o++ = *p;
			}
			cr_assert_eq(*p, '"', "no closing quote in [%s]", s);
			*o = '\0';
			return out;
		}
		for (q = 0; *p != '\0' && (q || *p != ','); p++) {
			if (p[0] == '\\' && p[1] == '"')
				p++;
			else if (*p == '"')
				q = !q;
		}
		if (*p == ',')
			p++;
	}
	free(out);
	return NULL;
}

static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

/* xorshift64: a reproducible stream for the property tests. */
static uint64_t
rnd(uint64_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 7;
	*st ^= *st << 17;
	return *st;
}

/* ---- sshopts_check: what sshd accepts --------------------------------- */

Test(sshopts, check_accepts_every_flag_in_any_case)
{
	static const char *const flags[] = {
		"restrict", "agent-forwarding", "no-agent-forwarding",
		"port-forwarding", "no-port-forwarding", "pty", "no-pty",
		"user-rc", "no-user-rc", "X11-forwarding", "no-X11-forwarding",
		"touch-required", "no-touch-required", "verify-required",
		"no-verify-required",
	};
	char	up[64], lo[64];
	size_t	i, j;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		for (j = 0; flags[i][j] != '\0'; j++) {
			up[j] = (char)(flags[i][j] >= 'a' &&
			    flags[i][j] <= 'z' ? flags[i][j] - 32 :
			    flags[i][j]);
			lo[j] = (char)(flags[i][j] >= 'A' &&
			    flags[i][j] <= 'Z' ? flags[i][j] + 32 :
			    flags[i][j]);
		}
		up[j] = lo[j] = '\0';
		check_ok(flags[i]);
		check_ok(up);
		check_ok(lo);
	}
	check_ok("restrict,pty,no-pty,X11-FORWARDING,no-x11-forwarding");
}

/* sshd skips empty items: options are followed by a blank in a file. */
Test(sshopts, check_empty_items_like_sshd)
{
	check_ok("");
	check_ok(",");
	check_ok(",no-pty");
	check_ok("no-pty,");
	check_ok("no-pty,,pty");
	check_ok(",,,restrict,,,");
	cr_assert_eq(sshopts_check(NULL, 0, NULL, 0), 0);
}

Test(sshopts, check_accepts_values)
{
	static const char *const good[] = {
		"command=\"\"",
		"command=\"/usr/bin/rsync --server -e.LsfxC . /backup\"",
		"command=\"echo \\\"hi there\\\"\"",
		"command=\"a\\b\\\\c\"",	/* backslashes literal */
		"command=\"x,y=z \\\"\"",
		"COMMAND=\"true\"",
		"command=\"echo h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x94\x91\"",
		"environment=\"A=\"",
		"environment=\"_X1=v\"",
		"environment=\"1A=b\"",
		"environment=\"PATH=/usr/bin:/bin\"",
		"environment=\"LANG=fr_FR.UTF-8\",environment=\"LANG=C\"",
		"environment=\"GREETING=gr\xc3\xbc\xc3\x9f \\\"dich\\\"\"",
		"expiry-time=\"20270630\"",
		"expiry-time=\"20270630Z\"",
		"expiry-time=\"20270630z\"",
		"expiry-time=\"20270630UTC\"",
		"expiry-time=\"20270630utc\"",
		"expiry-time=\"202706301230\"",
		"expiry-time=\"202706301230Z\"",
		"expiry-time=\"20270630123045\"",
		"expiry-time=\"20270630123045Z\"",
		"expiry-time=\"19700101000001Z\"",
		"expiry-time=\"99991231235959Z\"",
		"expiry-time=\"20280229Z\"",
		"expiry-time=\"20000229Z\"",
		"expiry-time=\"20991231\",expiry-time=\"20980101Z\"",
		"permitopen=\"host.example.com:22\"",
		"permitopen=\"*:22\"",
		"permitopen=\"h:*\"",
		"permitopen=\"*:*\"",
		"permitopen=\"10.0.0.1:65535\"",
		"permitopen=\"h:1\"",
		"permitopen=\"[::1]:22\"",
		"permitopen=\"[2001:db8::1]:*\"",
		"permitopen=\"a:1\",permitopen=\"b:2\",PERMITOPEN=\"a:1\"",
		"permitlisten=\"22\"",
		"permitlisten=\"*\"",
		"permitlisten=\"localhost:8080\"",
		"permitlisten=\"*.example.com:80\"",
		"permitlisten=\"host?:80\"",
		"permitlisten=\"[::1]:22\"",
		"permitlisten=\"0.0.0.0:*\"",
		"tunnel=\"0\"",
		"tunnel=\"05\"",
		"tunnel=\"any\"",
		"tunnel=\"ANY\"",
		"tunnel=\"2147483645\"",
		"tunnel=\"1\",tunnel=\"2\"",
		"restrict,command=\"true\",no-pty",
	};
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		check_ok(good[i]);
}

Test(sshopts, check_accepts_from_lists)
{
	static const char *const good[] = {
		"*",
		"10.0.0.0/8",
		"10.0.0.0/08",			/* sshd: strtoul */
		"0.0.0.0/0",
		"10.0.0.1/32",
		"10.0.0.1",
		"::/0",
		"::1/128",
		"::1",
		"2001:db8::/32",
		"::ffff:10.0.0.1",
		"*.example.com,!bad.example.com",
		"10.0.0.?",
		"10.0.*",
		"2001:db8:*",
		"host-1.example.com",
		"LOCALHOST",
		"!10.0.0.1,10.0.0.0/8",
		"!192.168.0.0/16,*",
		"a,b,c,d,e",
	};
	char	opt[128];
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(opt, sizeof(opt), "from=\"%s\"", good[i]);
		check_ok(opt);
	}
}

/* ---- sshopts_check: what it refuses, one vector per rule -------------- */

struct bad_case {
	char	opts[96];
	char	reason[SSHOPTS_REASON_MAX];
};

ParameterizedTestParameters(sshopts, check_refuses)
{
	static struct bad_case cases[] = {
		/* names and shape */
		{ "no-such", "unknown option \"no-such\"" },
		{ "no-restrict", "unknown option \"no-restrict\"" },
		{ "ptyx", "unknown option \"ptyx\"" },
		{ "no-pty,frm=\"x\"", "unknown option \"frm\"" },
		{ "\x01\x02", "unknown option" },
		{ "caf\xc3\xa9", "unknown option" },
		{ "\"no-pty\"", "unknown option" },
		{ "no-pty x", "blank outside double quotes" },
		{ "no-pty\tx", "blank outside double quotes" },
		{ "no-pty=\"x\"", "no-pty takes no value" },
		{ "Restrict=\"x\"", "restrict takes no value" },
		{ "command", "command needs a value" },
		{ "from,no-pty", "from needs a value" },
		{ "command=x", "command: value not in double quotes" },
		{ "command=", "command: value not in double quotes" },
		{ "command=\"abc", "command: missing closing quote" },
		{ "command=\"abc\\\"", "command: missing closing quote" },
		{ "command=\"a\"b", "command: text after closing quote" },
		{ "command=\"a\" b", "command: blank after closing quote" },
		/* repeats sshd refuses */
		{ "command=\"a\",command=\"b\"",
		    "command: given more than once" },
		{ "Command=\"a\",COMMAND=\"a\"",
		    "command: given more than once" },
		{ "from=\"10.0.0.1\",FROM=\"10.0.0.2\"",
		    "from: given more than once" },
		/* CA lines */
		{ "cert-authority", "cert-authority: keyadm does not manage "
		    "CA keys" },
		{ "principals=\"alice\"", "principals: keyadm does not "
		    "manage CA keys" },
		/* text */
		{ "command=\"a\tb\"", "command: control character in value" },
		{ "command=\"a\rb\"", "command: control character in value" },
		{ "command=\"\x7f\"", "command: control character in value" },
		{ "command=\"\xc3\x28\"", "command: invalid or unprintable "
		    "UTF-8" },
		{ "command=\"\xc0\xaf\"", "command: invalid or unprintable "
		    "UTF-8" },
		{ "command=\"\xe0\x80\xaf\"", "command: invalid or "
		    "unprintable UTF-8" },
		{ "command=\"\xed\xa0\x80\"", "command: invalid or "
		    "unprintable UTF-8" },
		{ "command=\"\xf4\x90\x80\x80\"", "command: invalid or "
		    "unprintable UTF-8" },
		{ "command=\"\xc2\x85\"", "command: invalid or unprintable "
		    "UTF-8" },
		{ "command=\"\xe2\x82\"", "command: invalid or unprintable "
		    "UTF-8" },
		{ "from=\"h\xc3\xa9\"", "from: non-ASCII character in value" },
		/* environment */
		{ "environment=\"NOEQUALS\"", "environment: expected "
		    "NAME=value" },
		{ "environment=\"=x\"", "environment: expected NAME=value" },
		{ "environment=\"A-B=1\"", "environment: name may hold only "
		    "letters, digits and _" },
		{ "environment=\"A B=1\"", "environment: name may hold only "
		    "letters, digits and _" },
		/* expiry-time */
		{ "expiry-time=\"2027\"", "expiry-time: expected "
		    "YYYYMMDD[HHMM[SS]][Z]" },
		{ "expiry-time=\"2027063\"", "expiry-time: expected "
		    "YYYYMMDD[HHMM[SS]][Z]" },
		{ "expiry-time=\"2027063012Z\"", "expiry-time: expected "
		    "YYYYMMDD[HHMM[SS]][Z]" },
		{ "expiry-time=\"2027-06-30\"", "expiry-time: expected "
		    "YYYYMMDD[HHMM[SS]][Z]" },
		{ "expiry-time=\" 20270630\"", "expiry-time: expected "
		    "YYYYMMDD[HHMM[SS]][Z]" },
		{ "expiry-time=\"Z\"", "expiry-time: expected "
		    "YYYYMMDD[HHMM[SS]][Z]" },
		{ "expiry-time=\"20270630ZZ\"", "expiry-time: expected "
		    "YYYYMMDD[HHMM[SS]][Z]" },
		{ "expiry-time=\"\"", "expiry-time: expected "
		    "YYYYMMDD[HHMM[SS]][Z]" },
		{ "expiry-time=\"20270631Z\"", "expiry-time: no such date or "
		    "time" },
		{ "expiry-time=\"20270229Z\"", "expiry-time: no such date or "
		    "time" },
		{ "expiry-time=\"21000229Z\"", "expiry-time: no such date or "
		    "time" },
		{ "expiry-time=\"20271301Z\"", "expiry-time: no such date or "
		    "time" },
		{ "expiry-time=\"20270100Z\"", "expiry-time: no such date or "
		    "time" },
		{ "expiry-time=\"20270101240000Z\"", "expiry-time: no such "
		    "date or time" },
		{ "expiry-time=\"20270101236000Z\"", "expiry-time: no such "
		    "date or time" },
		{ "expiry-time=\"20270101235960Z\"", "expiry-time: no such "
		    "date or time" },
		{ "expiry-time=\"19700101Z\"", "expiry-time: not after 1970" },
		{ "expiry-time=\"19691231Z\"", "expiry-time: not after 1970" },
		/* from= */
		{ "from=\"\"", "from: empty pattern" },
		{ "from=\"a,,b\"", "from: empty pattern" },
		{ "from=\"a,\"", "from: empty pattern" },
		{ "from=\",a\"", "from: empty pattern" },
		{ "from=\"!\"", "from: empty pattern" },
		{ "from=\"!10.0.0.1\"", "from: only negated patterns, so no "
		    "host matches" },
		{ "from=\"!a,!b\"", "from: only negated patterns, so no host "
		    "matches" },
		{ "from=\"10.0.0.1/8\"", "from: 10.0.0.1/8 has host bits set" },
		{ "from=\"1.2.3.4/0\"", "from: 1.2.3.4/0 has host bits set" },
		{ "from=\"10.0.0.1/31\"", "from: 10.0.0.1/31 has host bits "
		    "set" },
		{ "from=\"::1/0\"", "from: ::1/0 has host bits set" },
		{ "from=\"::1/127\"", "from: ::1/127 has host bits set" },
		{ "from=\"2001:db8::1/64\"", "from: 2001:db8::1/64 has host "
		    "bits set" },
		{ "from=\"10.0.0.0/33\"", "from: 10.0.0.0/33 mask length out "
		    "of range" },
		{ "from=\"::/129\"", "from: ::/129 mask length out of range" },
		{ "from=\"10.0.0.0/\"", "from: 10.0.0.0/ is not "
		    "address/masklen" },
		{ "from=\"10.0.0.0/x\"", "from: 10.0.0.0/x is not "
		    "address/masklen" },
		{ "from=\"10.0.0.0/1234\"", "from: 10.0.0.0/1234 is not "
		    "address/masklen" },
		{ "from=\"10.0.0.256/32\"", "from: 10.0.0.256/32 is not "
		    "address/masklen" },
		{ "from=\"10.0.0/24\"", "from: 10.0.0/24 is not "
		    "address/masklen" },
		{ "from=\"host/24\"", "from: host/24 is not address/masklen" },
		{ "from=\"/8\"", "from: /8 is not address/masklen" },
		{ "from=\"127.1\"", "from: 127.1 is not a dotted-quad "
		    "address" },
		{ "from=\"0x7f.0.0.1\"", "from: 0x7f.0.0.1 is not a "
		    "dotted-quad address" },
		{ "from=\"10\"", "from: 10 is not a dotted-quad address" },
		{ "from=\"2001:db8::g\"", "from: 2001:db8::g is not an IPv6 "
		    "address" },
		{ "from=\"fe80::1%eth0\"", "from: bad character in pattern" },
		{ "from=\"a b\"", "from: bad character in pattern" },
		{ "from=\"[::1]\"", "from: bad character in pattern" },
		{ "from=\"a\\\"b\"", "from: bad character in pattern" },
		/* permitopen= */
		{ "permitopen=\"host\"", "permitopen: expected host:port" },
		{ "permitopen=\"\"", "permitopen: expected host:port" },
		{ "permitopen=\"host/22\"", "permitopen: expected host:port" },
		{ "permitopen=\":22\"", "permitopen: missing host" },
		{ "permitopen=\"h:\"", "permitopen: port must be a number "
		    "or *" },
		{ "permitopen=\"h:ssh\"", "permitopen: port must be a number "
		    "or *" },
		{ "permitopen=\"h:+22\"", "permitopen: port must be a number "
		    "or *" },
		{ "permitopen=\"h: 22\"", "permitopen: port must be a number "
		    "or *" },
		{ "permitopen=\"h:0\"", "permitopen: port 0 out of range" },
		{ "permitopen=\"h:70000\"", "permitopen: port 70000 out of "
		    "range" },
		{ "permitopen=\"h:65536\"", "permitopen: port 65536 out of "
		    "range" },
		{ "permitopen=\"h:123456\"", "permitopen: port out of range" },
		{ "permitopen=\"::1:22\"", "permitopen: an IPv6 address needs "
		    "[brackets]" },
		{ "permitopen=\"[::1]\"", "permitopen: expected "
		    "[address]:port" },
		{ "permitopen=\"[::1]22\"", "permitopen: expected "
		    "[address]:port" },
		{ "permitopen=\"[::1:22\"", "permitopen: expected "
		    "[address]:port" },
		{ "permitopen=\"[foo]:22\"", "permitopen: only an IPv6 "
		    "address goes in brackets" },
		{ "permitopen=\"[10.0.0.1]:22\"", "permitopen: only an IPv6 "
		    "address goes in brackets" },
		{ "permitopen=\"[]:22\"", "permitopen: only an IPv6 address "
		    "goes in brackets" },
		{ "permitopen=\"h*:22\"", "permitopen: host may be a name, an "
		    "address or *, not a pattern" },
		{ "permitopen=\"?:22\"", "permitopen: host may be a name, an "
		    "address or *, not a pattern" },
		{ "permitopen=\"ho st:22\"", "permitopen: bad character in "
		    "host" },
		/* permitlisten= */
		{ "permitlisten=\"0\"", "permitlisten: port 0 out of range" },
		{ "permitlisten=\"\"", "permitlisten: port must be a number "
		    "or *" },
		{ "permitlisten=\"localhost\"", "permitlisten: port must be "
		    "a number or *" },
		{ "permitlisten=\"[::1]\"", "permitlisten: expected "
		    "[address]:port" },
		{ "permitlisten=\":80\"", "permitlisten: missing host" },
		{ "permitlisten=\"h/80\"", "permitlisten: port must be a "
		    "number or *" },
		/* tunnel= */
		{ "tunnel=\"\"", "tunnel: expected a device number or any" },
		{ "tunnel=\"-1\"", "tunnel: expected a device number or any" },
		{ "tunnel=\"+5\"", "tunnel: expected a device number or any" },
		{ "tunnel=\" 5\"", "tunnel: expected a device number or any" },
		{ "tunnel=\"anyx\"", "tunnel: expected a device number or "
		    "any" },
		{ "tunnel=\"2147483646\"", "tunnel: device number out of "
		    "range" },
		{ "tunnel=\"99999999999999999999\"", "tunnel: device number "
		    "out of range" },
		/* the first error wins */
		{ "no-pty,no-such,command=x", "unknown option \"no-such\"" },
	};

	return cr_make_param_array(struct bad_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, sshopts, check_refuses)
{
	check_bad(c->opts, c->reason);
}

/* The length given is what counts, not a NUL (fields point into lines). */
Test(sshopts, check_uses_len)
{
	const char	*s = "no-pty no-such";
	const char	 nul[] = "no-pty\0,pty";
	char		 r[SSHOPTS_REASON_MAX];

	cr_assert_eq(sshopts_check(s, 6, r, sizeof(r)), 0);
	cr_assert_eq(sshopts_check(s, 7, r, sizeof(r)), KE_MALFORMED);
	cr_assert_eq(sshopts_check("command=\"x\"", 10, r, sizeof(r)),
	    KE_MALFORMED);
	cr_assert_str_eq(r, "command: missing closing quote");
	cr_assert_eq(sshopts_check(nul, sizeof(nul) - 1, r, sizeof(r)),
	    KE_MALFORMED);
	cr_assert_str_eq(r, "NUL byte in options");
}

Test(sshopts, check_refuses_over_max)
{
	char	*s;
	size_t	 n = SSHOPTS_MAX + 1, i;
	char	 r[SSHOPTS_REASON_MAX];

	cr_assert_not_null(s = malloc(n + 1));
	for (i = 0; i < n; i++)
		s[i] = ',';
	s[n] = '\0';
	cr_assert_eq(sshopts_check(s, n - 1, r, sizeof(r)), 0);
	cr_assert_eq(sshopts_check(s, n, r, sizeof(r)), KE_MALFORMED);
	cr_assert_str_eq(r, "options longer than 8192 bytes");
	free(s);
}

/* A NULL or tiny reason buffer is fine; a reason is cut, not overrun. */
Test(sshopts, check_reason_buffers)
{
	char	r[8];

	memset(r, 'x', sizeof(r));
	cr_assert_eq(sshopts_check("no-such", 7, NULL, 0), KE_MALFORMED);
	cr_assert_eq(sshopts_check("no-such", 7, r, 0), KE_MALFORMED);
	cr_assert_eq(r[0], 'x');
	cr_assert_eq(sshopts_check("no-such", 7, r, sizeof(r)), KE_MALFORMED);
	cr_assert_str_eq(r, "unknown");
}

/* Repeats that sshd takes: earliest expiry, first env, last tunnel... */
Test(sshopts, check_accepts_repeats_sshd_takes)
{
	check_ok("no-pty,no-pty,NO-PTY,restrict,restrict");
	check_ok("expiry-time=\"20270101Z\",expiry-time=\"20260101Z\"");
	check_ok("environment=\"A=1\",environment=\"A=2\"");
	check_ok("permitopen=\"a:1\",permitopen=\"a:1\"");
	check_ok("permitlisten=\"1\",permitlisten=\"1\"");
	check_ok("tunnel=\"1\",tunnel=\"any\"");
	check_ok("command=\"a\",from=\"*\",no-pty");
}

/* S5: whatever the input, a reason is printable ASCII. */
Test(sshopts, check_reasons_printable_for_any_bytes)
{
	static const char	 alpha[] = "ab=\",\\ \t\x01\x7f\x80\xc3\xa9"
	    "\xff/:!*0123456789.-cmdfroxpty";
	uint64_t		 st = 0x9e3779b97f4a7c15ULL;
	char			 s[48], r[SSHOPTS_REASON_MAX];
	size_t			 i, n, k;
	int			 rc;

	for (k = 0; k < 20000; k++) {
		n = rnd(&st) % (sizeof(s) - 1);
		for (i = 0; i < n; i++)
			s[i] = alpha[rnd(&st) % (sizeof(alpha) - 1)];
		if (k % 3 == 0 && n > 9)
			memcpy(s, k % 2 ? "command=\"" : "from=\"   ", 9);
		r[0] = '\0';
		rc = sshopts_check(s, n, r, sizeof(r));
		cr_assert(rc == 0 || rc == KE_MALFORMED);
		if (rc != 0)
			assert_reason(r);
	}
}

/* ---- CIDR edge cases -------------------------------------------------- */

Test(sshopts, cidr_ipv4_every_masklen)
{
	char	opt[64];
	int	len;

	for (len = 0; len <= 32; len++) {
		/* 255.255.255.255/len has host bits unless len == 32. */
		snprintf(opt, sizeof(opt), "from=\"255.255.255.255/%d\"", len);
		if (len == 32)
			check_ok(opt);
		else
			check_bad(opt, NULL);
		snprintf(opt, sizeof(opt), "from=\"0.0.0.0/%d\"", len);
		check_ok(opt);
		/* the lowest network bit alone is never a host bit */
		snprintf(opt, sizeof(opt), "from=\"%u.%u.%u.%u/%d\"",
		    len >= 1 && len <= 8 ? 1u << (8 - len) : 0,
		    len >= 9 && len <= 16 ? 1u << (16 - len) : 0,
		    len >= 17 && len <= 24 ? 1u << (24 - len) : 0,
		    len >= 25 ? 1u << (32 - len) : 0, len);
		check_ok(opt);
	}
	check_ok("from=\"192.168.1.128/25\"");
	check_bad("from=\"192.168.1.64/25\"",
	    "from: 192.168.1.64/25 has host bits set");
	check_ok("from=\"172.16.0.0/12\"");
	check_bad("from=\"172.17.0.0/12\"",
	    "from: 172.17.0.0/12 has host bits set");
	check_bad("from=\"0.0.0.0/33\"",
	    "from: 0.0.0.0/33 mask length out of range");
}

Test(sshopts, cidr_ipv6_every_masklen)
{
	char	opt[96];
	int	len;

	for (len = 0; len <= 128; len++) {
		snprintf(opt, sizeof(opt), "from=\"::/%d\"", len);
		check_ok(opt);
		snprintf(opt, sizeof(opt),
		    "from=\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/%d\"", len);
		if (len == 128)
			check_ok(opt);
		else
			check_bad(opt, NULL);
	}
	check_ok("from=\"2001:db8::/32\"");
	check_ok("from=\"2001:db8:8000::/33\"");
	check_bad("from=\"2001:db8:4000::/33\"",
	    "from: 2001:db8:4000::/33 has host bits set");
	check_ok("from=\"fe80::/10\"");
	check_bad("from=\"fec0::/9\"", "from: fec0::/9 has host bits set");
	check_ok("from=\"::ffff:10.0.0.0/104\"");
	check_bad("from=\"::ffff:10.0.0.1/104\"", NULL);
	check_bad("from=\"::/200\"", "from: ::/200 mask length out of range");
}

/* ---- sshopts_add and sshopts_add_value -------------------------------- */

Test(sshopts, add_flags_canonical_spelling)
{
	struct sshopts	o;

	sshopts_init(&o);
	add_ok(&o, "NO-x11-FORWARDING");
	add_ok(&o, "No-Agent-Forwarding");
	add_ok(&o, "PTY");
	add_ok(&o, "touch-REQUIRED");
	add_ok(&o, "Verify-Required");
	assert_renders(&o, "no-X11-forwarding,no-agent-forwarding,pty,"
	    "touch-required,verify-required");
	sshopts_free(&o);
}

Test(sshopts, add_restrict_first_flags_once)
{
	struct sshopts	o;

	sshopts_init(&o);
	add_ok(&o, "no-pty");
	add_ok(&o, "port-forwarding");
	add_ok(&o, "RESTRICT");
	add_ok(&o, "no-pty");
	add_ok(&o, "restrict");
	cr_assert(o.restrict_);
	cr_assert_eq(o.n, 2);
	assert_renders(&o, "restrict,no-pty,port-forwarding");
	sshopts_free(&o);
}

Test(sshopts, add_refuses_contradicting_flags)
{
	struct sshopts	o;

	sshopts_init(&o);
	add_ok(&o, "no-pty");
	add_bad(&o, "pty", "pty contradicts no-pty");
	add_ok(&o, "X11-forwarding");
	add_bad(&o, "no-x11-forwarding",
	    "no-X11-forwarding contradicts X11-forwarding");
	add_ok(&o, "no-touch-required");
	add_bad(&o, "touch-required",
	    "touch-required contradicts no-touch-required");
	add_ok(&o, "restrict");			/* restrict,pty is fine */
	assert_renders(&o, "restrict,no-pty,X11-forwarding,"
	    "no-touch-required");
	sshopts_free(&o);
}

Test(sshopts, add_name_value_forms)
{
	struct sshopts	o;

	sshopts_init(&o);
	add_ok(&o, "command=echo hi");
	add_ok(&o, "environment=\"A=b c\"");
	add_ok(&o, "permitopen=h:22");
	add_ok(&o, "PermitListen=\"8080\"");
	add_ok(&o, "Tunnel=any");
	assert_renders(&o, "command=\"echo hi\",environment=\"A=b c\","
	    "permitopen=\"h:22\",permitlisten=\"8080\",tunnel=\"any\"");
	sshopts_free(&o);
}

/* A value is literal: only one outer pair of quotes is taken off. */
Test(sshopts, add_value_taken_literally)
{
	struct sshopts	 o;
	char		*s, *v;

	sshopts_init(&o);
	add_ok(&o, "command=\"echo \\\"hi\\\"\"");
	s = render(&o);
	cr_assert_str_eq(s, "command=\"echo \\\\\"hi\\\\\"\"");
	cr_assert_not_null(v = sshd_value(s, "command"));
	cr_assert_str_eq(v, "echo \\\"hi\\\"");
	free(v);
	free(s);
	sshopts_free(&o);

	sshopts_init(&o);
	add_ok(&o, "command=\"x");		/* one quote: kept */
	assert_renders(&o, "command=\"\\\"x\"");
	sshopts_free(&o);

	sshopts_init(&o);
	add_ok(&o, "command=\"\"x\"\"");	/* inner pair kept */
	assert_renders(&o, "command=\"\\\"x\\\"\"");
	sshopts_free(&o);

	sshopts_init(&o);
	add_ok(&o, "command=a=b,c");		/* '=' and ',' inside */
	assert_renders(&o, "command=\"a=b,c\"");
	sshopts_free(&o);
}

Test(sshopts, add_refuses_what_keyadm_sets_elsewhere)
{
	struct sshopts	o;

	sshopts_init(&o);
	add_bad(&o, "expiry-time=20270101", "expiry-time: use --expires");
	add_bad(&o, "EXPIRY-TIME=\"20270101Z\"", "expiry-time: use --expires");
	add_bad(&o, "expiry-time", "expiry-time: use --expires");
	add_bad(&o, "principals=alice",
	    "principals: keyadm does not manage CA keys");
	add_bad(&o, "cert-authority",
	    "cert-authority: keyadm does not manage CA keys");
	addv_bad(&o, "expiry-time", "20270101Z", "expiry-time: use --expires");
	addv_bad(&o, "principals", "a", "principals: keyadm does not manage "
	    "CA keys");
	cr_assert_eq(o.n, 0);
	sshopts_free(&o);
}

Test(sshopts, add_refuses_bad_shapes)
{
	struct sshopts	o;

	sshopts_init(&o);
	add_bad(&o, "no-such", "unknown option \"no-such\"");
	add_bad(&o, "no-such=1", "unknown option \"no-such\"");
	add_bad(&o, "", "unknown option");
	add_bad(&o, "=x", "unknown option");
	add_bad(&o, "bad\x1b[2Jname", "unknown option");
	add_bad(&o, "no-pty=1", "no-pty takes no value");
	add_bad(&o, "restrict=", "restrict takes no value");
	add_bad(&o, "command", "command needs a value: command=...");
	add_bad(&o, "command=", "command: empty value");
	add_bad(&o, "command=\"\"", "command: empty value");
	add_bad(&o, "from=", "from: empty value");
	addv_bad(&o, "command", "", "command: empty value");
	addv_bad(&o, "command", NULL, "command: empty value");
	addv_bad(&o, "no-pty", "x", "no-pty takes no value");
	addv_bad(&o, "nope", "x", "unknown option \"nope\"");
	cr_assert_eq(o.n, 0);
	cr_assert_eq(o.restrict_, 0);
	sshopts_free(&o);
}

/* No escape can express a final backslash: the closing quote would go. */
Test(sshopts, add_refuses_final_backslash)
{
	struct sshopts	o;

	sshopts_init(&o);
	addv_bad(&o, "command", "ls \\",
	    "command: a value cannot end in a backslash");
	add_bad(&o, "environment=A=\\",
	    "environment: a value cannot end in a backslash");
	add_bad(&o, "command=\"x\\\\\"",
	    "command: a value cannot end in a backslash");
	add_ok(&o, "command=a\\b");		/* inside is fine */
	assert_renders(&o, "command=\"a\\b\"");
	sshopts_free(&o);
}

Test(sshopts, add_refuses_control_characters)
{
	struct sshopts	o;

	sshopts_init(&o);
	addv_bad(&o, "command", "echo a\nrm -rf /",
	    "command: control character in value");
	addv_bad(&o, "command", "a\rb", "command: control character in value");
	addv_bad(&o, "command", "a\tb", "command: control character in value");
	addv_bad(&o, "environment", "A=\x1b[31m",
	    "environment: control character in value");
	addv_bad(&o, "command", "\xff", "command: invalid or unprintable "
	    "UTF-8");
	cr_assert_eq(sshopts_add_value(&o, "command", "echo \xc3\xa9t\xc3\xa9",
	    NULL, 0), 0);
	assert_renders(&o, "command=\"echo \xc3\xa9t\xc3\xa9\"");
	sshopts_free(&o);
}

Test(sshopts, add_value_from_and_command)
{
	struct sshopts	o;

	sshopts_init(&o);
	cr_assert_eq(sshopts_add_value(&o, "from",
	    "10.0.0.0/8,!10.1.0.0/16,*.example.com", NULL, 0), 0);
	cr_assert_eq(sshopts_add_value(&o, "Command", "/usr/bin/backup",
	    NULL, 0), 0);
	addv_bad(&o, "from", "10.0.0.1/8", "from: 10.0.0.1/8 has host bits "
	    "set");
	addv_bad(&o, "FROM", "!10.0.0.1", NULL);
	assert_renders(&o, "from=\"10.0.0.0/8,!10.1.0.0/16,*.example.com\","
	    "command=\"/usr/bin/backup\"");
	sshopts_free(&o);
}

Test(sshopts, add_validates_like_check)
{
	struct sshopts	o;

	sshopts_init(&o);
	add_bad(&o, "permitopen=host:70000",
	    "permitopen: port 70000 out of range");
	add_bad(&o, "permitopen=\"[foo]:22\"",
	    "permitopen: only an IPv6 address goes in brackets");
	add_bad(&o, "permitlisten=0", "permitlisten: port 0 out of range");
	add_bad(&o, "environment=A-B=1",
	    "environment: name may hold only letters, digits and _");
	add_bad(&o, "tunnel=2147483646", "tunnel: device number out of range");
	add_bad(&o, "from=127.1", "from: 127.1 is not a dotted-quad address");
	cr_assert_eq(o.n, 0);
	sshopts_free(&o);
}

Test(sshopts, add_repeats)
{
	struct sshopts	o;

	sshopts_init(&o);
	add_ok(&o, "command=a");
	add_ok(&o, "command=\"a\"");		/* the same: kept once */
	add_bad(&o, "command=b", "command: given more than once");
	add_ok(&o, "from=10.0.0.1");
	add_bad(&o, "from=10.0.0.2", "from: given more than once");
	add_ok(&o, "tunnel=1");
	add_bad(&o, "tunnel=2", "tunnel: given more than once");
	add_ok(&o, "environment=LANG=C");
	add_ok(&o, "environment=LANG=C");
	add_bad(&o, "environment=LANG=fr", "environment: LANG set twice");
	add_ok(&o, "environment=LANGUAGE=fr");	/* a different name */
	add_ok(&o, "environment=lang=fr");	/* names are case-sensitive */
	add_ok(&o, "permitopen=a:1");
	add_ok(&o, "permitopen=b:2");
	add_ok(&o, "permitopen=a:1");
	add_ok(&o, "permitlisten=1");
	add_ok(&o, "permitlisten=2");
	assert_renders(&o, "command=\"a\",from=\"10.0.0.1\",tunnel=\"1\","
	    "environment=\"LANG=C\",environment=\"LANGUAGE=fr\","
	    "environment=\"lang=fr\",permitopen=\"a:1\",permitopen=\"b:2\","
	    "permitlisten=\"1\",permitlisten=\"2\"");
	sshopts_free(&o);
}

Test(sshopts, add_refuses_too_many)
{
	struct sshopts	o;
	char		opt[32];
	int		i;

	sshopts_init(&o);
	add_ok(&o, "restrict");			/* not an item */
	for (i = 1; i <= SSHOPTS_ITEMS_MAX; i++) {
		snprintf(opt, sizeof(opt), "permitopen=h:%d", i);
		add_ok(&o, opt);
	}
	add_ok(&o, "permitopen=h:1");		/* a repeat still fits */
	add_bad(&o, "permitopen=h:65", "too many options (at most 64)");
	add_bad(&o, "no-pty", "too many options (at most 64)");
	cr_assert_eq(o.n, SSHOPTS_ITEMS_MAX);
	sshopts_free(&o);
}

Test(sshopts, add_and_render_length_caps)
{
	struct sshopts	 o;
	char		*v, *s = NULL;
	size_t		 fit = SSHOPTS_MAX - strlen("command=\"\"");

	cr_assert_not_null(v = malloc(SSHOPTS_MAX + 2));
	memset(v, 'a', SSHOPTS_MAX + 1);
	v[SSHOPTS_MAX + 1] = '\0';
	sshopts_init(&o);
	addv_bad(&o, "command", v, "command: value too long");
	v[fit + 1] = '\0';
	addv_bad(&o, "command", v, "command: value too long");
	v[fit] = '\0';
	cr_assert_eq(sshopts_add_value(&o, "command", v, NULL, 0), 0);
	s = render(&o);
	cr_assert_eq(strlen(s), SSHOPTS_MAX);
	free(s);
	add_ok(&o, "no-pty");		/* the whole is now too long */
	cr_assert_eq(sshopts_render(&o, &s), KE_USAGE);
	cr_assert_null(s);
	sshopts_free(&o);
	/* quotes double in size when rendered */
	sshopts_init(&o);
	memset(v, '"', fit);
	v[fit / 2 + 1] = '\0';
	addv_bad(&o, "command", v, "command: value too long");
	v[fit / 2] = '\0';
	cr_assert_eq(sshopts_add_value(&o, "command", v, NULL, 0), 0);
	sshopts_free(&o);
	free(v);
}

/* A refused add leaves what was there. */
Test(sshopts, add_failure_changes_nothing)
{
	struct sshopts	 o;
	char		*before, *after;

	sshopts_init(&o);
	add_ok(&o, "no-pty");
	add_ok(&o, "command=x");
	before = render(&o);
	add_bad(&o, "pty", NULL);
	add_bad(&o, "command=y", NULL);
	add_bad(&o, "from=10.0.0.1/8", NULL);
	add_bad(&o, "restrict=1", NULL);
	after = render(&o);
	cr_assert_str_eq(before, after);
	cr_assert_eq(o.restrict_, 0);
	free(before);
	free(after);
	sshopts_free(&o);
}

Test(sshopts, free_and_reuse)
{
	struct sshopts	o;

	sshopts_free(NULL);
	sshopts_init(&o);
	sshopts_free(&o);
	add_ok(&o, "restrict");
	add_ok(&o, "command=x");
	sshopts_set_expiry(&o, T_2026);
	sshopts_free(&o);
	cr_assert_eq(o.n, 0);
	cr_assert_eq(o.restrict_, 0);
	cr_assert_eq(o.expires, 0);
	assert_renders(&o, "");
	sshopts_free(&o);
}

/* ---- sshopts_render --------------------------------------------------- */

Test(sshopts, render_empty)
{
	struct sshopts	o;

	sshopts_init(&o);
	assert_renders(&o, "");
	sshopts_free(&o);
}

Test(sshopts, render_order_restrict_first_expiry_last)
{
	struct sshopts	o;

	sshopts_init(&o);
	sshopts_set_expiry(&o, utc(2027, 6, 30, 12, 30, 45));
	add_ok(&o, "command=backup");
	add_ok(&o, "no-pty");
	cr_assert_eq(sshopts_add_value(&o, "from", "10.0.0.0/8", NULL, 0), 0);
	add_ok(&o, "restrict");
	assert_renders(&o, "restrict,command=\"backup\",no-pty,"
	    "from=\"10.0.0.0/8\",expiry-time=\"20270630123045Z\"");
	sshopts_free(&o);
}

Test(sshopts, render_expiry_alone_and_bounds)
{
	struct sshopts	 o;
	char		*s = NULL;

	sshopts_init(&o);
	sshopts_set_expiry(&o, 1);
	assert_renders(&o, "expiry-time=\"19700101000001Z\"");
	sshopts_set_expiry(&o, T_MAX);
	assert_renders(&o, "expiry-time=\"99991231235959Z\"");
	sshopts_set_expiry(&o, 0);
	assert_renders(&o, "");
	sshopts_set_expiry(&o, -5);
	cr_assert_eq(o.expires, 0);
	assert_renders(&o, "");
	sshopts_set_expiry(&o, T_MAX + 1);
	cr_assert_eq(sshopts_render(&o, &s), KE_USAGE);
	cr_assert_null(s);
	sshopts_free(&o);
}

/* S2 also guards items not made here: render refuses to emit them. */
Test(sshopts, render_refuses_foreign_items)
{
	struct sshopts	 o;
	char		*s = NULL;

	sshopts_init(&o);
	cr_assert_not_null(o.items[o.n++] = strdup("no-such"));
	cr_assert_eq(sshopts_render(&o, &s), KE_INTERNAL);
	cr_assert_null(s);
	sshopts_free(&o);
	sshopts_init(&o);
	add_ok(&o, "command=a");
	cr_assert_not_null(o.items[o.n++] = strdup("command=\"b\""));
	cr_assert_eq(sshopts_render(&o, &s), KE_INTERNAL);
	cr_assert_null(s);
	sshopts_free(&o);
}

/* Render then read back: the expiry sshd sees is the one set. */
Test(sshopts, render_expiry_reads_back)
{
	struct sshopts	 o;
	char		*s;
	int64_t		 t, got;
	uint64_t	 st = 42;
	int		 k;

	for (k = 0; k < 2000; k++) {
		t = 1 + (int64_t)(rnd(&st) % (uint64_t)T_MAX);
		sshopts_init(&o);
		add_ok(&o, "no-pty");
		sshopts_set_expiry(&o, t);
		s = render(&o);
		cr_assert_eq(sshopts_expiry(s, strlen(s), &got), 0);
		cr_assert_eq(got, t, "%s", s);
		free(s);
		sshopts_free(&o);
	}
}

static void
random_value(uint64_t *st, char *v, size_t cap)
{
	static const char *const parts[] = {
		"a", "Z", "0", " ", "\"", "\\", "\\\"", "\"\\", ",", "=",
		"'", "\xc3\xa9", "\xe2\x82\xac", "$", ";", "!", "*",
	};
	size_t	n = 1 + rnd(st) % 24, len = 0, i, k;

	for (i = 0; i < n; i++) {
		k = rnd(st) % (sizeof(parts) / sizeof(parts[0]));
		if (len + strlen(parts[k]) + 1 >= cap)
			break;
		memcpy(v + len, parts[k], strlen(parts[k]));
		len += strlen(parts[k]);
	}
	v[len] = '\0';
}

/*
 * S2 as a property: quotes and backslashes anywhere; what sshd decodes is
 * what was added, and the rendering passes sshopts_check.  A value ending
 * in a backslash must be refused, everything else accepted.
 */
Test(sshopts, render_roundtrip_property)
{
	struct sshopts	 o;
	uint64_t	 st = 0x1234567887654321ULL;
	char		 v[128], env[140], r[SSHOPTS_REASON_MAX];
	char		*s, *got;
	int		 k, rc, tested = 0;

	for (k = 0; k < 5000; k++) {
		random_value(&st, v, sizeof(v));
		snprintf(env, sizeof(env), "V_%d=%s", k, v);
		sshopts_init(&o);
		rc = sshopts_add_value(&o, "command", v, r, sizeof(r));
		if (v[strlen(v) - 1] == '\\') {
			cr_assert_eq(rc, KE_USAGE, "[%s]", v);
			sshopts_free(&o);
			continue;
		}
		cr_assert_eq(rc, 0, "[%s]: %s", v, r);
		cr_assert_eq(sshopts_add_value(&o, "environment", env, r,
		    sizeof(r)), 0, "[%s]: %s", env, r);
		add_ok(&o, "restrict");
		sshopts_set_expiry(&o, T_2026);
		s = render(&o);
		cr_assert_not_null(got = sshd_value(s, "command"));
		cr_assert_str_eq(got, v);
		free(got);
		cr_assert_not_null(got = sshd_value(s, "environment"));
		cr_assert_str_eq(got, env);
		free(got);
		free(s);
		sshopts_free(&o);
		tested++;
	}
	cr_assert_gt(tested, 3000);
}

/* Every kind of option together still passes the checker. */
Test(sshopts, render_everything_passes_check)
{
	static const char *const opts[] = {
		"no-agent-forwarding", "no-port-forwarding", "no-pty",
		"no-user-rc", "no-X11-forwarding", "verify-required",
		"no-touch-required", "command=a \"b\" \\c",
		"environment=A=\"1\"", "permitopen=[::1]:22",
		"permitopen=*:*", "permitlisten=8080", "permitlisten=[::]:*",
		"tunnel=ANY", "from=::1,10.0.0.0/8,!*.evil.example",
	};
	struct sshopts	 o;
	char		*s;
	size_t		 i;

	sshopts_init(&o);
	add_ok(&o, "restrict");
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		add_ok(&o, opts[i]);
	sshopts_set_expiry(&o, T_2026);
	s = render(&o);
	cr_assert_str_eq(s, "restrict,no-agent-forwarding,no-port-forwarding,"
	    "no-pty,no-user-rc,no-X11-forwarding,verify-required,"
	    "no-touch-required,command=\"a \\\"b\\\" \\c\","
	    "environment=\"A=\\\"1\\\"\",permitopen=\"[::1]:22\","
	    "permitopen=\"*:*\",permitlisten=\"8080\","
	    "permitlisten=\"[::]:*\",tunnel=\"ANY\","
	    "from=\"::1,10.0.0.0/8,!*.evil.example\","
	    "expiry-time=\"20260101000000Z\"");
	free(s);
	sshopts_free(&o);
}

/* ---- sshopts_expiry --------------------------------------------------- */

static int64_t
expiry_of(const char *s)
{
	int64_t	t = -1;

	cr_assert_eq(sshopts_expiry(s, strlen(s), &t), 0, "[%s]", s);
	return t;
}

Test(sshopts, expiry_utc_forms)
{
	cr_assert_eq(expiry_of(""), 0);
	cr_assert_eq(expiry_of("no-pty,command=\"x\""), 0);
	cr_assert_eq(expiry_of("expiry-time=\"20270630Z\""),
	    utc(2027, 6, 30, 0, 0, 0));
	cr_assert_eq(expiry_of("expiry-time=\"202706301230z\""),
	    utc(2027, 6, 30, 12, 30, 0));
	cr_assert_eq(expiry_of("EXPIRY-TIME=\"20270630123045UTC\""),
	    utc(2027, 6, 30, 12, 30, 45));
	cr_assert_eq(expiry_of("expiry-time=\"20280229Utc\""),
	    utc(2028, 2, 29, 0, 0, 0));
	cr_assert_eq(expiry_of("expiry-time=\"19700101000001Z\""), 1);
	cr_assert_eq(expiry_of("expiry-time=\"99991231235959Z\""), T_MAX);
}

/* sshd keeps the earliest of several. */
Test(sshopts, expiry_earliest_wins)
{
	cr_assert_eq(expiry_of("expiry-time=\"20300101Z\",no-pty,"
	    "expiry-time=\"20270101Z\",expiry-time=\"20290101Z\""),
	    utc(2027, 1, 1, 0, 0, 0));
	cr_assert_eq(expiry_of("expiry-time=\"20270101000001Z\","
	    "expiry-time=\"20270101Z\""), utc(2027, 1, 1, 0, 0, 0));
}

Test(sshopts, expiry_malformed)
{
	int64_t	t = 99;

	cr_assert_eq(sshopts_expiry("expiry-time=\"20270230Z\"", 23, &t),
	    KE_MALFORMED);
	cr_assert_eq(t, 0);
	t = 99;
	cr_assert_eq(sshopts_expiry("expiry-time=\"20270101Z\",no-such", 31,
	    &t), KE_MALFORMED);
	cr_assert_eq(t, 0);
}

/* Without Z: local time, standard time as sshd's mktime gets tm_isdst 0. */
Test(sshopts, expiry_local_time_like_sshd)
{
	cr_assert_eq(setenv("TZ", "UTC0", 1), 0);
	tzset();
	cr_assert_eq(expiry_of("expiry-time=\"20270630\""),
	    utc(2027, 6, 30, 0, 0, 0));
	cr_assert_eq(setenv("TZ", "XST5", 1), 0);	/* UTC-5, no DST */
	tzset();
	cr_assert_eq(expiry_of("expiry-time=\"202701011200\""),
	    utc(2027, 1, 1, 17, 0, 0));
	cr_assert_eq(expiry_of("expiry-time=\"202701011200Z\""),
	    utc(2027, 1, 1, 12, 0, 0));
	cr_assert_eq(setenv("TZ", "XST-2XDT,M3.5.0,M10.5.0", 1), 0);
	tzset();
	cr_assert_eq(expiry_of("expiry-time=\"20270101120000\""),
	    utc(2027, 1, 1, 10, 0, 0));
	/* summer: tm_isdst 0 makes mktime read it as standard time */
	cr_assert_eq(expiry_of("expiry-time=\"20270701120000\""),
	    utc(2027, 7, 1, 10, 0, 0));
}

/* ---- sshopts_parse_expires -------------------------------------------- */

static int64_t
expires_ok(const char *arg, int64_t now)
{
	char	r[SSHOPTS_REASON_MAX] = "";
	int64_t	t = -1;

	cr_assert_eq(sshopts_parse_expires(arg, now, &t, r, sizeof(r)), 0,
	    "refused [%s]: %s", arg, r);
	return t;
}

static void
expires_bad(const char *arg, int64_t now, const char *want)
{
	char	r[SSHOPTS_REASON_MAX] = "";
	int64_t	t = -1;

	cr_assert_eq(sshopts_parse_expires(arg, now, &t, r, sizeof(r)),
	    KE_USAGE, "accepted [%s]", arg);
	cr_assert_eq(t, 0);
	assert_reason(r);
	if (want != NULL)
		cr_assert_str_eq(r, want, "[%s]", arg);
}

Test(sshopts, expires_dates_are_utc_midnight)
{
	cr_assert_eq(expires_ok("2027-06-30", T_2026),
	    utc(2027, 6, 30, 0, 0, 0));
	cr_assert_eq(expires_ok("2026-01-02", T_2026), T_2026 + 86400);
	cr_assert_eq(expires_ok("9999-12-31", T_2026),
	    utc(9999, 12, 31, 0, 0, 0));
	cr_assert_eq(expires_ok("2000-02-29", 0), utc(2000, 2, 29, 0, 0, 0));
	cr_assert_eq(expires_ok("2028-02-29", T_2026),
	    utc(2028, 2, 29, 0, 0, 0));
	cr_assert_eq(expires_ok("2027-04-30", T_2026),
	    utc(2027, 4, 30, 0, 0, 0));
	cr_assert_eq(expires_ok("2027-12-31", T_2026),
	    utc(2027, 12, 31, 0, 0, 0));
}

Test(sshopts, expires_rfc3339_utc)
{
	cr_assert_eq(expires_ok("2027-06-30T12:30Z", T_2026),
	    utc(2027, 6, 30, 12, 30, 0));
	cr_assert_eq(expires_ok("2027-06-30T12:30:45Z", T_2026),
	    utc(2027, 6, 30, 12, 30, 45));
	cr_assert_eq(expires_ok("2027-06-30t12:30:45z", T_2026),
	    utc(2027, 6, 30, 12, 30, 45));
	cr_assert_eq(expires_ok("2027-12-31T23:59:59Z", T_2026),
	    utc(2027, 12, 31, 23, 59, 59));
	cr_assert_eq(expires_ok("9999-12-31T23:59:59Z", T_2026), T_MAX);
	cr_assert_eq(expires_ok("2026-01-01T00:00:01Z", T_2026), T_2026 + 1);
}

Test(sshopts, expires_durations)
{
	cr_assert_eq(expires_ok("30s", T_2026), T_2026 + 30);
	cr_assert_eq(expires_ok("90m", T_2026), T_2026 + 90 * 60);
	cr_assert_eq(expires_ok("12h", T_2026), T_2026 + 12 * 3600);
	cr_assert_eq(expires_ok("30d", T_2026), T_2026 + 30 * 86400);
	cr_assert_eq(expires_ok("2w", T_2026), T_2026 + 14 * 86400);
	cr_assert_eq(expires_ok("1s", 0), 1);
	cr_assert_eq(expires_ok("007d", T_2026), T_2026 + 7 * 86400);
	cr_assert_eq(expires_ok("1s", T_MAX - 1), T_MAX);
}

Test(sshopts, expires_refusals)
{
	static const char	generic[] = "expected YYYY-MM-DD, "
	    "YYYY-MM-DDTHH:MM[:SS]Z or a duration such as 30d";

	expires_bad(NULL, T_2026, generic);
	expires_bad("", T_2026, generic);
	expires_bad("0d", T_2026, "a duration must be more than 0");
	expires_bad("000s", T_2026, "a duration must be more than 0");
	expires_bad("-5d", T_2026, "must be in the future, not negative");
	expires_bad("-2027-01-01", T_2026, "must be in the future, not "
	    "negative");
	expires_bad("+5d", T_2026, generic);
	expires_bad("5", T_2026, generic);
	expires_bad("d", T_2026, generic);
	expires_bad("5y", T_2026, generic);
	expires_bad("5D", T_2026, generic);
	expires_bad("1h30m", T_2026, generic);
	expires_bad(" 5d", T_2026, generic);
	expires_bad("5d ", T_2026, generic);
	expires_bad("tomorrow", T_2026, generic);
	expires_bad("2027/06/30", T_2026, generic);
	expires_bad("2027-6-30", T_2026, generic);
	expires_bad("27-06-30", T_2026, generic);
	expires_bad("10000-01-01", T_2026, generic);
	expires_bad("2027-06-30T12:30", T_2026, generic);
	expires_bad("2027-06-30T12:30+02:00", T_2026, generic);
	expires_bad("2027-06-30 12:30Z", T_2026, generic);
	expires_bad("2027-06-30T12-30Z", T_2026, generic);
	expires_bad("2027-06-30T12:30:4Z", T_2026, generic);
	expires_bad("20270630", T_2026, generic);
	expires_bad("2027-02-29", T_2026, "no such date or time");
	expires_bad("2100-02-29", T_2026, "no such date or time");
	expires_bad("2027-04-31", T_2026, "no such date or time");
	expires_bad("2027-13-01", T_2026, "no such date or time");
	expires_bad("2027-00-10", T_2026, "no such date or time");
	expires_bad("2027-01-00", T_2026, "no such date or time");
	expires_bad("2027-12-31T24:00Z", T_2026, "no such date or time");
	expires_bad("2027-06-30T12:60Z", T_2026, "no such date or time");
	expires_bad("2027-06-30T12:30:60Z", T_2026, "no such date or time");
	expires_bad("2025-12-31", T_2026, "not in the future");
	expires_bad("2026-01-01", T_2026, "not in the future");
	expires_bad("2026-01-01T00:00:00Z", T_2026, "not in the future");
	expires_bad("1969-12-31", 0, "not in the future");
	expires_bad("0000-01-01", 0, "not in the future");
}

Test(sshopts, expires_overflow)
{
	expires_bad("500000w", T_2026, "too far in the future (after 9999)");
	expires_bad("99999999999999999999w", T_2026,
	    "too far in the future (after 9999)");
	expires_bad("9223372036854775807s", T_2026,
	    "too far in the future (after 9999)");
	expires_bad("9223372036854775808s", 0,
	    "too far in the future (after 9999)");
	expires_bad("2s", T_MAX - 1, "too far in the future (after 9999)");
	expires_bad("1s", T_MAX, "too far in the future (after 9999)");
}

/* S6: the time zone does not move --expires. */
Test(sshopts, expires_ignores_tz)
{
	static const char *const zones[] = {
		"UTC0", "XST5", "XST-14", "XST+3:30XDT,M3.2.0,M11.1.0",
	};
	size_t	i;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		cr_assert_eq(setenv("TZ", zones[i], 1), 0);
		tzset();
		cr_assert_eq(expires_ok("2027-06-30", T_2026),
		    INT64_C(1814313600));
		cr_assert_eq(expires_ok("2027-06-30T12:30:45Z", T_2026),
		    INT64_C(1814358645));
		cr_assert_eq(expiry_of("expiry-time=\"20270630123045Z\""),
		    INT64_C(1814358645));
	}
}

/* Our calendar arithmetic against glibc's timegm over many dates. */
Test(sshopts, expires_matches_timegm)
{
	static const int	mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	uint64_t		st = 7;
	char			arg[32];
	int			k, y, mo, d, h, mi, s, last;

	for (k = 0; k < 20000; k++) {
		y = 1970 + (int)(rnd(&st) % 8030);
		mo = 1 + (int)(rnd(&st) % 12);
		last = mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 &&
		    y % 100 != 0) || y % 400 == 0));
		d = k % 7 == 0 ? last : 1 + (int)(rnd(&st) % (unsigned)last);
		h = (int)(rnd(&st) % 24);
		mi = (int)(rnd(&st) % 60);
		s = (int)(rnd(&st) % 60);
		snprintf(arg, sizeof(arg), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    y, mo, d, h, mi, s);
		cr_assert_eq(expires_ok(arg, -1), utc(y, mo, d, h, mi, s),
		    "%s", arg);
	}
}

/* ---- sshopts_format_time ---------------------------------------------- */

static void
assert_format(int64_t t, const char *want)
{
	char	out[SSHOPTS_TIME_LEN];

	memset(out, 'x', sizeof(out));
	sshopts_format_time(t, out);
	cr_assert_str_eq(out, want, "%lld", (long long)t);
}

Test(sshopts, format_time)
{
	assert_format(0, "19700101000000Z");
	assert_format(1, "19700101000001Z");
	assert_format(INT64_C(951782400), "20000229000000Z");
	assert_format(INT64_C(1814358645), "20270630123045Z");
	assert_format(utc(2028, 2, 29, 23, 59, 59), "20280229235959Z");
	assert_format(T_MAX, "99991231235959Z");
	/* clamped, never more than 15 characters */
	assert_format(T_MAX + 1, "99991231235959Z");
	assert_format(INT64_MAX, "99991231235959Z");
	assert_format(-1, "19700101000000Z");
	assert_format(INT64_MIN, "19700101000000Z");
}

Test(sshopts, format_time_ignores_tz)
{
	cr_assert_eq(setenv("TZ", "XST-9", 1), 0);
	tzset();
	assert_format(INT64_C(1814358645), "20270630123045Z");
}

/* ---- sshopts_sshd: the real sshd reads what we write ------------------ */

#define SSHD_BIN	"/usr/sbin/sshd"
#define SSH_BIN		"/usr/bin/ssh"
#define KEYGEN_BIN	"/usr/bin/ssh-keygen"

/* Scratch for the sshd suite: one directory, removed by .fini. */
static char	sdir[PATH_MAX];

static void
path_in(char *out, size_t len, const char *name)
{
	cr_assert_lt((size_t)snprintf(out, len, "%s/%s", sdir, name), len);
}

/* Start argv with stdout and stderr to log; the pid. */
static pid_t
spawn(const char *const argv[], const char *log)
{
	char	*v[32];
	pid_t	 pid;
	int	 fd, nul, i;

	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		for (i = 0; i < 31 && argv[i] != NULL; i++)
			if ((v[i] = strdup(argv[i])) == NULL)
				_exit(126);
		v[i] = NULL;
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		nul = open("/dev/null", O_RDONLY);
		if (fd == -1 || nul == -1 || dup2(nul, 0) == -1 ||
		    dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(126);
		(void)execv(v[0], v);
		_exit(127);
	}
	return pid;
}

/* Wait for pid at most ms milliseconds, then kill it; its status. */
static int
reap(pid_t pid, int ms)
{
	int	st = -1;

	for (; ms > 0; ms -= 20) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		(void)usleep(20000);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	return -1;
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	cr_assert_not_null(buf = calloc(1, 1 << 20));
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, (1 << 20) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			s, port;

	cr_assert_neq(s = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(s);
	return port;
}

static void
sshd_setup(void)
{
	char		 hk[PATH_MAX], uk[PATH_MAX], log[PATH_MAX];
	const char	*kg1[] = { KEYGEN_BIN, "-q", "-t", "ed25519", "-N",
			    "", "-f", hk, NULL };
	const char	*kg2[] = { KEYGEN_BIN, "-q", "-t", "ed25519", "-N",
			    "", "-f", uk, NULL };

	sdir[0] = '\0';
	if (geteuid() != 0 || access(SSHD_BIN, X_OK) != 0 ||
	    access(SSH_BIN, X_OK) != 0 || access(KEYGEN_BIN, X_OK) != 0 ||
	    access("/run/sshd", F_OK) != 0)
		return;
	snprintf(sdir, sizeof(sdir), "/tmp/test_sshopts.XXXXXX");
	cr_assert_not_null(mkdtemp(sdir));
	path_in(hk, sizeof(hk), "hk");
	path_in(uk, sizeof(uk), "uk");
	path_in(log, sizeof(log), "keygen.log");
	cr_assert_eq(reap(spawn(kg1, log), 30000), 0);
	cr_assert_eq(reap(spawn(kg2, log), 30000), 0);
}

static void
sshd_teardown(void)
{
	static const char *const names[] = {
		"hk", "hk.pub", "uk", "uk.pub", "ak", "cfg", "log",
		"keygen.log", "ssh.log",
	};
	char	p[PATH_MAX];
	size_t	i;

	if (sdir[0] == '\0')
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_in(p, sizeof(p), names[i]);
		(void)unlink(p);
	}
	(void)rmdir(sdir);
}

static void
write_file(const char *name, const char *text)
{
	char	 p[PATH_MAX];
	FILE	*f;

	path_in(p, sizeof(p), name);
	cr_assert_not_null(f = fopen(p, "w"));
	cr_assert_geq(fputs(text, f), 0);
	cr_assert_eq(fclose(f), 0);
}

/* The user key's "type base64" from uk.pub. */
static void
user_key(char *out, size_t len)
{
	char	 p[PATH_MAX], *buf, *sp;

	path_in(p, sizeof(p), "uk.pub");
	buf = slurp(p);
	cr_assert_not_null(sp = strchr(buf, ' '));
	cr_assert_not_null(sp = strchr(sp + 1, ' '));
	*sp = '\0';
	cr_assert_lt(strlen(buf), len);
	strcpy(out, buf);
	free(buf);
}

/* Start sshd -d for one connection on port; its pid once it listens. */
static pid_t
start_sshd(const char *port)
{
	char		 cfg[PATH_MAX * 3], cfgp[PATH_MAX], log[PATH_MAX];
	char		*text = NULL;
	const char	*argv[] = { SSHD_BIN, "-d", "-e", "-f", cfgp, "-p",
			    port, NULL };
	pid_t		 pid;
	int		 i;

	path_in(cfgp, sizeof(cfgp), "cfg");
	path_in(log, sizeof(log), "log");
	snprintf(cfg, sizeof(cfg), "ListenAddress 127.0.0.1\nHostKey %s/hk\n"
	    "AuthorizedKeysFile %s/ak\nStrictModes no\nUsePAM no\n"
	    "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\nLoginGraceTime 20\n"
	    "PidFile none\nLogLevel DEBUG\n", sdir, sdir);
	write_file("cfg", cfg);
	pid = spawn(argv, log);
	for (i = 0; i < 250; i++) {		/* 5 s */
		free(text);
		text = slurp(log);
		if (strstr(text, "Server listening") != NULL)
			break;
		(void)usleep(20000);
	}
	cr_assert_not_null(strstr(text, "Server listening"),
	    "sshd did not start: %.500s", text);
	free(text);
	return pid;
}

/*
 * One try: 1 when sshd -d lets the key in with opts in front of it, 0 when
 * our sshd saw the connection and did not, -1 when it never saw one (the
 * port was taken by someone else meanwhile, or the machine is too busy):
 * then the caller tries again rather than count a refusal.
 */
static int
sshd_try(const char *opts)
{
	char		 key[256], line[SSHOPTS_MAX + 512], log[PATH_MAX];
	char		 slog[PATH_MAX], uk[PATH_MAX], port[16], *text;
	const char	*ssh[] = { SSH_BIN, "-F", "/dev/null", "-i", uk,
			    "-p", port, "-o", "BatchMode=yes",
			    "-o", "IdentitiesOnly=yes",
			    "-o", "IdentityAgent=none",
			    "-o", "ConnectTimeout=10",
			    "-o", "StrictHostKeyChecking=no",
			    "-o", "UserKnownHostsFile=/dev/null",
			    "-o", "GlobalKnownHostsFile=/dev/null",
			    "root@127.0.0.1", "exit 0", NULL };
	pid_t		 pid, cpid;
	int		 i, ok, done, st, seen;

	user_key(key, sizeof(key));
	snprintf(line, sizeof(line), "%s %s\n", opts, key);
	write_file("ak", line);
	path_in(log, sizeof(log), "log");
	path_in(slog, sizeof(slog), "ssh.log");
	path_in(uk, sizeof(uk), "uk");
	snprintf(port, sizeof(port), "%d", free_port());
	pid = start_sshd(port);
	cpid = spawn(ssh, slog);
	/* The verdict is in the log; the session itself does not matter. */
	for (i = 0, ok = 0, done = 0; i < 1500 && !ok && !done; i++) {
		done = waitpid(cpid, &st, WNOHANG) == cpid;
		text = slurp(log);
		ok = strstr(text, "Accepted publickey") != NULL;
		free(text);
		if (!ok && !done)
			(void)usleep(20000);
	}
	if (!done)
		(void)reap(cpid, 0);
	(void)kill(pid, SIGTERM);
	(void)reap(pid, 5000);
	if (ok)
		return 1;
	text = slurp(log);
	/* our sshd took the connection and the client gave up: a refusal */
	seen = done && strstr(text, "Connection from 127.0.0.1") != NULL;
	free(text);
	return seen ? 0 : -1;
}

/* Whether sshd lets the key in with opts; a try that saw nothing is redone. */
static int
sshd_accepts(const char *opts)
{
	char	slog[PATH_MAX], log[PATH_MAX], *ct, *st;
	int	i, r = -1;

	/* a busy machine (the ASan run) can lose a try: back off, redo */
	for (i = 0; i < 6 && r == -1; i++) {
		if (i > 0)
			(void)sleep((unsigned int)i);
		r = sshd_try(opts);
	}
	if (r == -1) {
		path_in(slog, sizeof(slog), "ssh.log");
		path_in(log, sizeof(log), "log");
		ct = slurp(slog);
		st = slurp(log);
		cr_assert_fail("sshd never saw our connection for [%s]; ssh "
		    "said: %.600s; sshd said: %.600s", opts, ct, st);
	}
	return r;
}

TestSuite(sshopts_sshd, .init = sshd_setup, .fini = sshd_teardown,
    .timeout = 300);

static void
need_sshd(void)
{
	if (sdir[0] == '\0')
		cr_skip_test("needs root, " SSHD_BIN ", ssh and /run/sshd");
}

/* S2 against the real thing: what keyadm renders, sshd takes. */
Test(sshopts_sshd, rendered_options_accepted)
{
	static const char *const cmds[] = {
		"exit 0 # \"quoted\" \\back\\slash\\\" end",
		"exit 0 # a,b=c \"\" \\\\ \xc3\xa9",
	};
	struct sshopts	 o;
	char		*s;
	size_t		 i;

	need_sshd();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		sshopts_init(&o);
		add_ok(&o, "restrict");
		add_ok(&o, "no-touch-required");
		add_ok(&o, "environment=A_1=\"x\" \\y");
		add_ok(&o, "permitopen=[::1]:22");
		add_ok(&o, "permitopen=localhost:*");
		add_ok(&o, "permitlisten=8080");
		add_ok(&o, "tunnel=any");
		cr_assert_eq(sshopts_add_value(&o, "from",
		    "!10.9.9.9,127.0.0.0/8,::1,*.example.com", NULL, 0), 0);
		cr_assert_eq(sshopts_add_value(&o, "command", cmds[i],
		    NULL, 0), 0);
		sshopts_set_expiry(&o, utc(2099, 12, 31, 23, 59, 59));
		s = render(&o);
		cr_assert(sshd_accepts(s), "sshd refused [%s]", s);
		free(s);
		sshopts_free(&o);
	}
}

/* Both agree: accepted by sshopts_check and by sshd, or by neither. */
Test(sshopts_sshd, check_agrees_with_sshd)
{
	static const char *const cases[] = {
		",no-pty", "no-pty,,PTY", "NO-PTY,",
		"expiry-time=\"20990101UTC\"",
		"expiry-time=\"209901011200\"", "from=\"127.0.0.0/8\"",
		"from=\"127.0.0.1,!10.0.0.1\"", "tunnel=\"2147483645\"",
		"environment=\"1A=b\"", "permitlisten=\"*\"", "command=\"\"",
		"no-verify-required",
		"no-such", "no-restrict", "pty=\"x\"", "command=x",
		"command=\"a\",command=\"b\"",
		"from=\"127.0.0.1\",from=\"127.0.0.1\"",
		"expiry-time=\"19700101Z\"", "expiry-time=\"2099010112Z\"",
		"expiry-time=\"20991231246000Z\"", "permitopen=\"h:0\"",
		"permitlisten=\"0\"", "permitlisten=\"[::1]\"",
		"tunnel=\"2147483646\"", "environment=\"A-B=c\"",
		"environment=\"=c\"", "from=\"127.0.0.1/8\"",
		"from=\"127.0.0.0/33\"", "from=\"127.0.0.1,,x\"", "from=\"\"",
		"from=\"!127.0.0.1\"", "from=\"1.2.3.4/0\"",
	};
	size_t	i;
	int	ours, theirs;

	need_sshd();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ours = sshopts_check(cases[i], strlen(cases[i]), NULL, 0) == 0;
		theirs = sshd_accepts(cases[i]);
		cr_expect_eq(ours, theirs, "[%s]: sshopts %d, sshd %d",
		    cases[i], ours, theirs);
	}
}

/* --expires alone: the other options stay, every old expiry-time goes. */
Test(sshopts, with_expiry_keeps_the_rest)
{
	static const struct {
		const char	*in;
		int64_t		 t;
		const char	*want;
	} cases[] = {
		{ NULL, 1800000000, "expiry-time=\"20270115080000Z\"" },
		{ "", 1800000000, "expiry-time=\"20270115080000Z\"" },
		{ "restrict,from=\"10.0.0.0/8\"", 1800000000,
		    "restrict,from=\"10.0.0.0/8\","
		    "expiry-time=\"20270115080000Z\"" },
		{ "EXPIRY-TIME=\"20990101Z\",no-pty,expiry-time=\"20980101\"",
		    1800000000, "no-pty,expiry-time=\"20270115080000Z\"" },
		{ "command=\"a,\\\"expiry-time=x\\\",b\",no-pty", 0,
		    "command=\"a,\\\"expiry-time=x\\\",b\",no-pty" },
		{ "expiry-time=\"20990101Z\"", 0, "" },
	};
	char	*out;
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(sshopts_with_expiry(cases[i].in, cases[i].t,
		    &out), 0, "case %zu", i);
		cr_assert_str_eq(out, cases[i].want, "case %zu", i);
		free(out);
	}
	cr_assert_eq(sshopts_with_expiry("no-such", 1, &out), KE_MALFORMED);
	cr_assert_null(out);
}

/* ---- sshopts_parse_since ---------------------------------------------- */

static int64_t
since_ok(const char *arg, int64_t now)
{
	char	r[SSHOPTS_REASON_MAX] = "";
	int64_t	t = -1;

	cr_assert_eq(sshopts_parse_since(arg, now, &t, r, sizeof(r)), 0,
	    "refused [%s]: %s", arg, r);
	return t;
}

static void
since_bad(const char *arg, int64_t now, const char *want)
{
	char	r[SSHOPTS_REASON_MAX] = "";
	int64_t	t = -1;

	cr_assert_eq(sshopts_parse_since(arg, now, &t, r, sizeof(r)),
	    KE_USAGE, "accepted [%s]", arg);
	cr_assert_eq(t, 0);
	assert_reason(r);
	if (want != NULL)
		cr_assert_str_eq(r, want, "[%s]", arg);
}

/* Dates and times mean what they mean for --expires, past or future. */
Test(sshopts, since_dates_and_times)
{
	cr_assert_eq(since_ok("2027-06-30", T_2026),
	    utc(2027, 6, 30, 0, 0, 0));
	cr_assert_eq(since_ok("2025-12-31", T_2026), T_2026 - 86400);
	cr_assert_eq(since_ok("2026-01-01", T_2026), T_2026);
	cr_assert_eq(since_ok("2026-01-01T00:00:00Z", T_2026), T_2026);
	cr_assert_eq(since_ok("2020-02-29T12:30Z", T_2026),
	    utc(2020, 2, 29, 12, 30, 0));
	cr_assert_eq(since_ok("1970-01-01", T_2026), 0);
	cr_assert_eq(since_ok("9999-12-31T23:59:59Z", T_2026), T_MAX);
	/* the same parser: --expires reads them alike */
	cr_assert_eq(since_ok("2027-06-30t12:30:45z", T_2026),
	    expires_ok("2027-06-30T12:30:45Z", T_2026));
}

/* A duration counts back from now. */
Test(sshopts, since_durations_count_back)
{
	cr_assert_eq(since_ok("30s", T_2026), T_2026 - 30);
	cr_assert_eq(since_ok("90m", T_2026), T_2026 - 90 * 60);
	cr_assert_eq(since_ok("12h", T_2026), T_2026 - 12 * 3600);
	cr_assert_eq(since_ok("1d", T_2026), T_2026 - 86400);
	cr_assert_eq(since_ok("2w", T_2026), T_2026 - 14 * 86400);
	cr_assert_eq(since_ok("007d", T_2026), T_2026 - 7 * 86400);
	/* before 1970 is allowed: it only means "everything" */
	cr_assert_eq(since_ok("2s", 1), -1);
	cr_assert_eq(since_ok("400000w", T_2026),
	    T_2026 - INT64_C(400000) * 7 * 86400);
}

Test(sshopts, since_refusals)
{
	static const char	generic[] = "expected YYYY-MM-DD, "
	    "YYYY-MM-DDTHH:MM[:SS]Z or a duration such as 30d";

	since_bad(NULL, T_2026, generic);
	since_bad("", T_2026, generic);
	since_bad("0d", T_2026, "a duration must be more than 0");
	since_bad("-5d", T_2026, "a duration counts back from now: give it "
	    "without a sign");
	since_bad("+5d", T_2026, generic);
	since_bad("5", T_2026, generic);
	since_bad("5y", T_2026, generic);
	since_bad("1h30m", T_2026, generic);
	since_bad("yesterday", T_2026, generic);
	since_bad("2027-06-30T12:30", T_2026, generic);
	since_bad("2027-06-30T12:30+02:00", T_2026, generic);
	since_bad("2027-02-29", T_2026, "no such date or time");
	since_bad("2027-06-30T24:00Z", T_2026, "no such date or time");
	since_bad("99999999999999999999w", T_2026, "too far in the past");
	since_bad("9223372036854775807s", T_2026, "too far in the past");
	since_bad("420000w", T_2026, "too far in the past");
}
