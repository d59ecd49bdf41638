/*
 * sshopts.c -- authorized_keys options, checked the way sshd parses them.
 *
 * Owns: the grammar of the options field in front of a key as OpenSSH 9.2's
 * sshd reads it (sshauthopt_parse, and the from= match made at login), the
 * canonical string keyadm writes, and the syntax of --expires.  No I/O, no
 * globals; the only library state touched is mktime's time zone, for an
 * expiry-time without 'Z' (local time, as for sshd).
 *
 * The grammar, as sshd 9.2 has it (checked against the running binary):
 *  - options are separated by ','; empty items (a leading, doubled or
 *    trailing ',') are skipped; names are matched without regard to case;
 *  - a flag takes no value; the others are name="value", where \" stands
 *    for '"' and a backslash before anything else stands for itself, so a
 *    value ending in a backslash cannot be written at all;
 *  - command= and from= may appear once (principals= too, refused here
 *    anyway); expiry-time= any number of times (the earliest wins);
 *    environment= (the first for a name wins), permitopen= and
 *    permitlisten= (a list), tunnel= (the last wins) and flags likewise.
 *
 * Invariants (each has a test in tests/unit/test_sshopts.c):
 *  S1. sshopts_check refuses all that sshd refuses, cert-authority and
 *      principals=, and what sshd takes but silently misreads or can never
 *      match: a control character in any value, bad UTF-8 in command= or
 *      environment=, non-ASCII elsewhere; a from= entry with '/' that is not
 *      address/masklen, host bits set, IPv4 shorthand ("127.1", hex), a
 *      ':' entry that is not IPv6, an empty entry, a list of negations
 *      only; a permitopen/permitlisten port that is not 1-65535 or "*"
 *      (sshd also takes service names, signs and blanks), "host/port", an
 *      empty host, brackets round anything but IPv6, patterns in a
 *      permitopen host; an expiry-time that names no real date or time
 *      (sshd normalises Feb 30 and :60), or before 1970; a tunnel= with a
 *      sign or blank.  Options longer than SSHOPTS_MAX are refused.
 *  S2. sshopts_render's output passes sshopts_check, and the value sshd
 *      decodes from each item is byte for byte the value that was added.
 *  S3. Rendered: "restrict" first, then items in the order added, a
 *      repeated item once, expiry-time last; names spelled as in sshd(8).
 *  S4. sshopts_add refuses what would make sshd refuse the line, a repeat
 *      whose meaning is unclear (command, from, tunnel, one environment
 *      name twice) and contradicting flags (pty after no-pty).
 *  S5. A reason never holds a byte outside printable ASCII: user text is
 *      quoted only when short printable ASCII, or after its characters
 *      were checked.
 *  S6. --expires and a UTC expiry-time do not depend on TZ; no time after
 *      9999-12-31T23:59:59Z is produced or formatted.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "err.h"
#include "sshopts.h"

#define TIME_MAX	INT64_C(253402300799)	/* 9999-12-31T23:59:59Z */
#define PATTERN_MAX	255	/* longest from= entry or host name */
#define TUNNEL_MAX	2147483645	/* sshd's SSH_TUNID_MAX */
#define QUOTE_MAX	32	/* longest user text quoted in a reason */
#define ECHO_MAX	"64"	/* longest checked text echoed (format) */

enum optid {
	OPT_FLAG,		/* a flag: no value, no special rule */
	OPT_RESTRICT,
	OPT_CERTAUTH,
	OPT_COMMAND,		/* this and the rest take a value */
	OPT_ENV,
	OPT_EXPIRY,
	OPT_FROM,
	OPT_LISTEN,
	OPT_OPEN,
	OPT_PRINCIPALS,
	OPT_TUNNEL
};
#define HAS_VALUE(id)	((id) >= OPT_COMMAND)

struct optdef {
	const char	*name;		/* as sshd(8) spells it */
	enum optid	 id;
};

static const struct optdef optdefs[] = {
	{ "restrict", OPT_RESTRICT },
	{ "cert-authority", OPT_CERTAUTH },
	{ "agent-forwarding", OPT_FLAG },
	{ "no-agent-forwarding", OPT_FLAG },
	{ "port-forwarding", OPT_FLAG },
	{ "no-port-forwarding", OPT_FLAG },
	{ "pty", OPT_FLAG },
	{ "no-pty", OPT_FLAG },
	{ "user-rc", OPT_FLAG },
	{ "no-user-rc", OPT_FLAG },
	{ "X11-forwarding", OPT_FLAG },
	{ "no-X11-forwarding", OPT_FLAG },
	{ "touch-required", OPT_FLAG },
	{ "no-touch-required", OPT_FLAG },
	{ "verify-required", OPT_FLAG },
	{ "no-verify-required", OPT_FLAG },
	{ "command", OPT_COMMAND },
	{ "environment", OPT_ENV },
	{ "expiry-time", OPT_EXPIRY },
	{ "from", OPT_FROM },
	{ "permitlisten", OPT_LISTEN },
	{ "permitopen", OPT_OPEN },
	{ "principals", OPT_PRINCIPALS },
	{ "tunnel", OPT_TUNNEL },
};
#define NOPTDEFS	(sizeof(optdefs) / sizeof(optdefs[0]))

/* What a check has met so far. */
struct seen {
	int	command;
	int	from;
	int64_t	expiry;		/* the earliest expiry-time, or 0 */
};

/* A calendar date and time of day, fields as written. */
struct civil {
	int	y, mo, d, h, mi, s;
};

static void	say(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
say(char *reason, size_t len, const char *fmt, ...)
{
	va_list	ap;

	if (reason == NULL || len == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(reason, len, fmt, ap);
	va_end(ap);
}

/* Whether n bytes at s may go into a reason: short printable ASCII. */
static int
quotable(const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	if (n == 0 || n > QUOTE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (u[i] < 0x21 || u[i] > 0x7e || u[i] == '"' || u[i] == '\\')
			return 0;
	return 1;
}

static void
say_unknown(const char *name, size_t n, char *reason, size_t rlen)
{
	if (quotable(name, n))
		say(reason, rlen, "unknown option \"%.*s\"", (int)n, name);
	else
		say(reason, rlen, "unknown option");
}

static const struct optdef *
optdef_find(const char *name, size_t n)
{
	size_t	i;

	for (i = 0; i < NOPTDEFS; i++) {
		if (strlen(optdefs[i].name) == n &&
		    strncasecmp(optdefs[i].name, name, n) == 0)
			return &optdefs[i];
	}
	return NULL;
}

/* The flag that undoes d ("pty" for "no-pty" and back), or NULL. */
static const struct optdef *
opposite(const struct optdef *d)
{
	const char	*a = d->name, *b;
	size_t		 i;

	for (i = 0; i < NOPTDEFS; i++) {
		if (optdefs[i].id != OPT_FLAG)
			continue;
		b = optdefs[i].name;
		if ((strncmp(a, "no-", 3) == 0 && strcmp(a + 3, b) == 0) ||
		    (strncmp(b, "no-", 3) == 0 && strcmp(b + 3, a) == 0))
			return &optdefs[i];
	}
	return NULL;
}

/* The n decimal digits at s as a number (n <= 9), or -1. */
static int
num(const char *s, size_t n)
{
	size_t	i;
	int	v = 0;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
all_digits(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/*
 * Length of the printable UTF-8 character at s (n > 0 bytes left), or 0
 * for a control character (C0, DEL, C1), a malformed, truncated or
 * overlong sequence, a surrogate, or a code point above U+10FFFF.
 */
static size_t
utf8_printable(const unsigned char *s, size_t n)
{
	uint32_t	cp, min;
	size_t		len, i;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp < 0xa0 || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A value must be printable text: ASCII, or UTF-8 when utf8 is set. */
static int
check_text(const char *name, const char *v, int utf8, char *reason,
    size_t rlen)
{
	const unsigned char	*s = (const unsigned char *)v;
	size_t			 n = strlen(v), i, k;

	for (i = 0; i < n; i += k) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			say(reason, rlen, "%s: control character in value",
			    name);
			return -1;
		}
		if (s[i] >= 0x80 && !utf8) {
			say(reason, rlen, "%s: non-ASCII character in value",
			    name);
			return -1;
		}
		if ((k = utf8_printable(s + i, n - i)) == 0) {
			say(reason, rlen, "%s: invalid or unprintable UTF-8",
			    name);
			return -1;
		}
	}
	return 0;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
civil_valid(const struct civil *c)
{
	static const int	mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int			last;

	if (c->y < 0 || c->y > 9999 || c->mo < 1 || c->mo > 12)
		return 0;
	last = mdays[c->mo - 1] + (c->mo == 2 && is_leap(c->y));
	return c->d >= 1 && c->d <= last && c->h >= 0 && c->h <= 23 &&
	    c->mi >= 0 && c->mi <= 59 && c->s >= 0 && c->s <= 59;
}

/*
 * Seconds since the epoch of a valid c read as UTC, in the proleptic
 * Gregorian calendar: days are counted in 400-year eras of 146097 days
 * from 0000-03-01, so that February, with its leap day, ends each year.
 */
static int64_t
civil_utc(const struct civil *c)
{
	int64_t	y = c->y, era, yoe, doy, doe;
	int64_t	mo = c->mo;

	if (mo <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + c->d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400 +
	    c->h * 3600 + c->mi * 60 + c->s;
}

/* c as local time, as sshd computes it (mktime, tm_isdst 0); -1 if not. */
static int64_t
civil_local(const struct civil *c)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = c->y - 1900;
	tm.tm_mon = c->mo - 1;
	tm.tm_mday = c->d;
	tm.tm_hour = c->h;
	tm.tm_min = c->mi;
	tm.tm_sec = c->s;
	tm.tm_isdst = 0;
	return (int64_t)mktime(&tm);
}

/* The l digits of YYYYMMDD[HHMM[SS]] at v into c. */
static int
civil_digits(const char *v, size_t l, struct civil *c)
{
	memset(c, 0, sizeof(*c));
	if (l != 8 && l != 12 && l != 14)
		return -1;
	if ((c->y = num(v, 4)) < 0 || (c->mo = num(v + 4, 2)) < 0 ||
	    (c->d = num(v + 6, 2)) < 0)
		return -1;
	if (l >= 12 && ((c->h = num(v + 8, 2)) < 0 ||
	    (c->mi = num(v + 10, 2)) < 0))
		return -1;
	if (l == 14 && (c->s = num(v + 12, 2)) < 0)
		return -1;
	return 0;
}

/*
 * expiry-time as sshd's parse_absolute_time reads it: 8, 12 or 14 digits,
 * then 'Z' or "UTC" (any case) for UTC, else local time.  sshd refuses a
 * result of 0 or less; it normalises impossible dates, which we refuse.
 */
static int
parse_sshtime(const char *v, int64_t *t, char *reason, size_t rlen)
{
	struct civil	c;
	size_t		l = strlen(v);
	int		utc = 0;

	if (l > 1 && (v[l - 1] == 'Z' || v[l - 1] == 'z')) {
		utc = 1;
		l--;
	} else if (l > 3 && strcasecmp(v + l - 3, "UTC") == 0) {
		utc = 1;
		l -= 3;
	}
	if (civil_digits(v, l, &c) != 0) {
		say(reason, rlen, "expiry-time: expected "
		    "YYYYMMDD[HHMM[SS]][Z]");
		return -1;
	}
	if (!civil_valid(&c)) {
		say(reason, rlen, "expiry-time: no such date or time");
		return -1;
	}
	*t = utc ? civil_utc(&c) : civil_local(&c);
	if (*t <= 0) {
		say(reason, rlen, "expiry-time: not after 1970");
		return -1;
	}
	return 0;
}

static int
check_env(const char *v, char *reason, size_t rlen)
{
	const char	*eq = strchr(v, '='), *p;

	if (eq == NULL || eq == v) {
		say(reason, rlen, "environment: expected NAME=value");
		return -1;
	}
	for (p = v; p < eq; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '_')) {
			say(reason, rlen, "environment: name may hold only "
			    "letters, digits and _");
			return -1;
		}
	}
	return 0;
}

static int
check_tunnel(const char *v, char *reason, size_t rlen)
{
	uint64_t	n = 0;
	size_t		i, len = strlen(v);

	if (strcasecmp(v, "any") == 0)
		return 0;
	if (!all_digits(v, len)) {
		say(reason, rlen, "tunnel: expected a device number or any");
		return -1;
	}
	for (i = 0; i < len && n <= TUNNEL_MAX; i++)
		n = n * 10 + (uint64_t)(v[i] - '0');
	if (n > TUNNEL_MAX) {
		say(reason, rlen, "tunnel: device number out of range");
		return -1;
	}
	return 0;
}

/* A host name character; wild adds the pattern characters * and ?. */
static int
hostchar(char ch, int wild)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ||
	    (wild && (ch == '*' || ch == '?'));
}

/* Whether the n bytes of a at b have any bit set from bit len on. */
static int
host_bits(const unsigned char *a, size_t n, int len)
{
	size_t	i;
	int	keep;

	for (i = 0; i < n; i++) {
		keep = len - (int)i * 8;
		if (keep >= 8)
			continue;
		if (a[i] & (keep <= 0 ? 0xff : 0xff >> keep))
			return 1;
	}
	return 0;
}

/* A from= entry holding '/': address/masklen as addr_pton_cidr has it. */
static int
check_cidr(const char *s, char *reason, size_t rlen)
{
	unsigned char	 a[16];
	char		 addr[PATTERN_MAX + 1];
	const char	*slash = strchr(s, '/');
	size_t		 alen = (size_t)(slash - s), bytes = 0;
	int		 len, max = -1;

	memcpy(addr, s, alen);
	addr[alen] = '\0';
	len = strlen(slash + 1) <= 3 ? num(slash + 1, strlen(slash + 1)) : -1;
	if (inet_pton(AF_INET, addr, a) == 1)
		max = 32, bytes = 4;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		max = 128, bytes = 16;
	if (max < 0 || len < 0) {
		say(reason, rlen, "from: %." ECHO_MAX "s is not "
		    "address/masklen", s);
		return -1;
	}
	if (len > max) {
		say(reason, rlen, "from: %." ECHO_MAX "s mask length out "
		    "of range", s);
		return -1;
	}
	if (host_bits(a, bytes, len)) {
		say(reason, rlen, "from: %." ECHO_MAX "s has host bits set",
		    s);
		return -1;
	}
	return 0;
}

/* A from= entry without '/' that sshd would read as an address. */
static int
check_from_addr(const char *s, char *reason, size_t rlen)
{
	unsigned char	a[16];
	struct in_addr	in;

	if (strpbrk(s, "*?") != NULL)
		return 0;
	if (strchr(s, ':') != NULL && inet_pton(AF_INET6, s, a) != 1) {
		say(reason, rlen, "from: %." ECHO_MAX "s is not an IPv6 "
		    "address", s);
		return -1;
	}
	/* sshd's getaddrinfo takes "127.1" and "0x7f.0.0.1" as addresses. */
	if (inet_aton(s, &in) != 0 && inet_pton(AF_INET, s, a) != 1) {
		say(reason, rlen, "from: %." ECHO_MAX "s is not a "
		    "dotted-quad address", s);
		return -1;
	}
	return 0;
}

/* One entry of a from= list, n bytes at p; counts positive entries. */
static int
check_from_entry(const char *p, size_t n, int *pos, char *reason,
    size_t rlen)
{
	char	buf[PATTERN_MAX + 1];
	size_t	i;

	if (n > 0 && *p == '!')
		p++, n--;
	else
		(*pos)++;
	if (n == 0) {
		say(reason, rlen, "from: empty pattern");
		return -1;
	}
	if (n > PATTERN_MAX) {
		say(reason, rlen, "from: pattern too long");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!hostchar(p[i], 1) && p[i] != ':' && p[i] != '/') {
			say(reason, rlen, "from: bad character in pattern");
			return -1;
		}
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (strchr(buf, '/') != NULL)
		return check_cidr(buf, reason, rlen);
	return check_from_addr(buf, reason, rlen);
}

static int
check_from(const char *v, char *reason, size_t rlen)
{
	const char	*p = v, *e;
	size_t		 n;
	int		 pos = 0;

	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (check_from_entry(p, n, &pos, reason, rlen) != 0)
			return -1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	if (pos == 0) {
		say(reason, rlen, "from: only negated patterns, so no host "
		    "matches");
		return -1;
	}
	return 0;
}

static int
check_port(const char *name, const char *port, char *reason, size_t rlen)
{
	size_t	n = strlen(port);
	int	v;

	if (strcmp(port, "*") == 0)
		return 0;
	if (!all_digits(port, n)) {
		say(reason, rlen, "%s: port must be a number or *", name);
		return -1;
	}
	if (n > 5 || (v = num(port, n)) < 1 || v > 65535) {
		if (n <= 5)
			say(reason, rlen, "%s: port %s out of range", name,
			    port);
		else
			say(reason, rlen, "%s: port out of range", name);
		return -1;
	}
	return 0;
}

/* The host of permitopen (literal or "*") or permitlisten (a pattern). */
static int
check_host(const char *name, const char *h, size_t n, int wild,
    char *reason, size_t rlen)
{
	size_t	i;

	if (n == 0) {
		say(reason, rlen, "%s: missing host", name);
		return -1;
	}
	if (n > PATTERN_MAX) {
		say(reason, rlen, "%s: host too long", name);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!hostchar(h[i], 1)) {
			say(reason, rlen, "%s: bad character in host", name);
			return -1;
		}
		if (!wild && !hostchar(h[i], 0) && !(n == 1 && *h == '*')) {
			say(reason, rlen, "%s: host may be a name, an "
			    "address or *, not a pattern", name);
			return -1;
		}
	}
	return 0;
}

/* "[v6]:port": the address in brackets must be IPv6. */
static int
check_bracketed(const char *name, const char *v, const char **port,
    char *reason, size_t rlen)
{
	unsigned char	 a[16];
	char		 addr[64];
	const char	*close = strchr(v, ']');
	size_t		 n;

	if (close == NULL || close[1] != ':') {
		say(reason, rlen, "%s: expected [address]:port", name);
		return -1;
	}
	n = (size_t)(close - v - 1);
	if (n >= sizeof(addr))
		n = sizeof(addr) - 1;	/* too long for IPv6 anyway */
	memcpy(addr, v + 1, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET6, addr, a) != 1) {
		say(reason, rlen, "%s: only an IPv6 address goes in brackets",
		    name);
		return -1;
	}
	*port = close + 2;
	return 0;
}

/* permitopen "host:port"; permitlisten "[host:]port" (hpdelim2). */
static int
check_permit(const struct optdef *d, const char *v, char *reason,
    size_t rlen)
{
	const char	*colon, *port;
	int		 listen = d->id == OPT_LISTEN;

	if (listen && strchr(v, ':') == NULL)
		port = v;			/* sshd reads "*:port" */
	else if (v[0] == '[') {
		if (check_bracketed(d->name, v, &port, reason, rlen) != 0)
			return -1;
	} else {
		if ((colon = strchr(v, ':')) == NULL) {
			say(reason, rlen, "%s: expected host:port", d->name);
			return -1;
		}
		port = colon + 1;
		if (strchr(port, ':') != NULL) {
			say(reason, rlen, "%s: an IPv6 address needs "
			    "[brackets]", d->name);
			return -1;
		}
		if (check_host(d->name, v, (size_t)(colon - v), listen,
		    reason, rlen) != 0)
			return -1;
	}
	return check_port(d->name, port, reason, rlen);
}

/* Whether sshd would take value v for d; *t gets an expiry-time. */
static int
check_value(const struct optdef *d, const char *v, int64_t *t,
    char *reason, size_t rlen)
{
	int	utf8 = d->id == OPT_COMMAND || d->id == OPT_ENV;

	*t = 0;
	if (check_text(d->name, v, utf8, reason, rlen) != 0)
		return -1;
	switch (d->id) {
	case OPT_COMMAND:
		return 0;
	case OPT_ENV:
		return check_env(v, reason, rlen);
	case OPT_EXPIRY:
		return parse_sshtime(v, t, reason, rlen);
	case OPT_FROM:
		return check_from(v, reason, rlen);
	case OPT_LISTEN:
	case OPT_OPEN:
		return check_permit(d, v, reason, rlen);
	case OPT_TUNNEL:
		return check_tunnel(v, reason, rlen);
	default:
		say(reason, rlen, "%s: keyadm does not manage CA keys",
		    d->name);
		return -1;
	}
}

/*
 * The quoted value after the '=' at *pp into val, as sshd's opt_dequote
 * reads it; *pp ends past the closing quote.
 */
static int
dequote(const char **pp, const char *end, const char *name, char *val,
    char *reason, size_t rlen)
{
	const char	*p = *pp + 1;
	size_t		 n = 0;

	if (p == end || *p != '"') {
		say(reason, rlen, "%s: value not in double quotes", name);
		return -1;
	}
	for (p++; p < end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < end && p[1] == '"')
			p++;
		val[n++] = *p;
	}
	if (p == end) {
		say(reason, rlen, "%s: missing closing quote", name);
		return -1;
	}
	val[n] = '\0';
	*pp = p + 1;
	return 0;
}

/* The value of d, *qp at its '='; *qp ends past the closing quote. */
static int
check_valued(const struct optdef *d, const char **qp, const char *end,
    struct seen *sn, char *val, char *reason, size_t rlen)
{
	const char	*q = *qp;
	int64_t		 t = 0;

	if (q == end || *q != '=') {
		say(reason, rlen, "%s needs a value", d->name);
		return -1;
	}
	if ((d->id == OPT_COMMAND && sn->command++) ||
	    (d->id == OPT_FROM && sn->from++)) {
		say(reason, rlen, "%s: given more than once", d->name);
		return -1;
	}
	if (dequote(&q, end, d->name, val, reason, rlen) != 0 ||
	    check_value(d, val, &t, reason, rlen) != 0)
		return -1;
	if (q < end && *q != ',') {
		say(reason, rlen, "%s: %s after closing quote", d->name,
		    *q == ' ' || *q == '\t' ? "blank" : "text");
		return -1;
	}
	if (t != 0 && (sn->expiry == 0 || t < sn->expiry))
		sn->expiry = t;
	*qp = q;
	return 0;
}

/* The option at *pp (not a comma); *pp ends at the next ',' or the end. */
static int
check_one(const char **pp, const char *end, struct seen *sn, char *val,
    char *reason, size_t rlen)
{
	const struct optdef	*d;
	const char		*p = *pp, *q;

	for (q = p; q < end && *q != ',' && *q != '='; q++) {
		if (*q == ' ' || *q == '\t') {
			say(reason, rlen, "blank outside double quotes");
			return -1;
		}
	}
	if ((d = optdef_find(p, (size_t)(q - p))) == NULL) {
		say_unknown(p, (size_t)(q - p), reason, rlen);
		return -1;
	}
	if (d->id == OPT_CERTAUTH || d->id == OPT_PRINCIPALS) {
		say(reason, rlen, "%s: keyadm does not manage CA keys",
		    d->name);
		return -1;
	}
	if (HAS_VALUE(d->id) &&
	    check_valued(d, &q, end, sn, val, reason, rlen) != 0)
		return -1;
	if (!HAS_VALUE(d->id) && q < end && *q == '=') {
		say(reason, rlen, "%s takes no value", d->name);
		return -1;
	}
	*pp = q;
	return 0;
}

/* sshopts_check, also giving the earliest expiry-time (0: none). */
static int
check_opts(const char *opts, size_t len, int64_t *expiry, char *reason,
    size_t rlen)
{
	char		 val[SSHOPTS_MAX + 1];
	struct seen	 sn;
	const char	*p = opts, *end = opts + len;

	*expiry = 0;
	if (len == 0)
		return 0;
	if (len > SSHOPTS_MAX) {
		say(reason, rlen, "options longer than %d bytes", SSHOPTS_MAX);
		return KE_MALFORMED;
	}
	if (memchr(opts, '\0', len) != NULL) {
		say(reason, rlen, "NUL byte in options");
		return KE_MALFORMED;
	}
	memset(&sn, 0, sizeof(sn));
	while (p < end) {
		if (*p == ',') {		/* sshd skips empty items */
			p++;
			continue;
		}
		if (check_one(&p, end, &sn, val, reason, rlen) != 0)
			return KE_MALFORMED;
	}
	*expiry = sn.expiry;
	return 0;
}

int
sshopts_check(const char *opts, size_t len, char *reason, size_t reasonlen)
{
	int64_t	t;

	return check_opts(opts, len, &t, reason, reasonlen);
}

int
sshopts_expiry(const char *opts, size_t len, int64_t *t)
{
	int64_t	e;

	*t = 0;
	if (check_opts(opts, len, &e, NULL, 0) != 0)
		return KE_MALFORMED;
	*t = e;
	return 0;
}

void
sshopts_init(struct sshopts *o)
{
	memset(o, 0, sizeof(*o));
}

void
sshopts_free(struct sshopts *o)
{
	size_t	i;

	if (o == NULL)
		return;
	for (i = 0; i < o->n; i++)
		free(o->items[i]);
	memset(o, 0, sizeof(*o));
}

/* Options an administrator may not give through --option and friends. */
static int
refused_via_add(const struct optdef *d, char *reason, size_t rlen)
{
	switch (d->id) {
	case OPT_EXPIRY:
		say(reason, rlen, "expiry-time: use --expires");
		return 1;
	case OPT_CERTAUTH:
	case OPT_PRINCIPALS:
		say(reason, rlen, "%s: keyadm does not manage CA keys",
		    d->name);
		return 1;
	default:
		return 0;
	}
}

static int
has_item(const struct sshopts *o, const char *item)
{
	size_t	i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->items[i], item) == 0)
			return 1;
	return 0;
}

/* Takes item over, even on failure. */
static int
push_item(struct sshopts *o, char *item, char *reason, size_t rlen)
{
	if (o->n >= SSHOPTS_ITEMS_MAX) {
		free(item);
		say(reason, rlen, "too many options (at most %d)",
		    SSHOPTS_ITEMS_MAX);
		return KE_USAGE;
	}
	o->items[o->n++] = item;
	return 0;
}

static int
add_flag(struct sshopts *o, const struct optdef *d, char *reason,
    size_t rlen)
{
	const struct optdef	*opp;
	char			*item;

	if (d->id == OPT_RESTRICT) {
		o->restrict_ = 1;
		return 0;
	}
	if (has_item(o, d->name))
		return 0;
	if ((opp = opposite(d)) != NULL && has_item(o, opp->name)) {
		say(reason, rlen, "%s contradicts %s", d->name, opp->name);
		return KE_USAGE;
	}
	if ((item = strdup(d->name)) == NULL)
		return KE_NOMEM;
	return push_item(o, item, reason, rlen);
}

/* name="v" with '"' written as \" into a new *out. */
static int
render_item(const char *name, const char *v, char **out)
{
	size_t	 nlen = strlen(name), vlen = strlen(v), i, o;
	char	*s;

	*out = NULL;
	if (vlen > SSHOPTS_MAX)
		return KE_USAGE;
	if ((s = malloc(nlen + 2 * vlen + 4)) == NULL)
		return KE_NOMEM;
	memcpy(s, name, nlen);
	o = nlen;
	s[o++] = '=';
	s[o++] = '"';
	for (i = 0; i < vlen; i++) {
		if (v[i] == '"')
			s[o++] = '\\';
		s[o++] = v[i];
	}
	s[o++] = '"';
	s[o] = '\0';
	if (o > SSHOPTS_MAX) {
		free(s);
		return KE_USAGE;
	}
	*out = s;
	return 0;
}

/* Whether an item is name="..." for the option called name. */
static int
item_is(const char *item, const char *name)
{
	size_t	n = strlen(name);

	return strncmp(item, name, n) == 0 && item[n] == '=';
}

/* Repeats that sshd refuses or resolves silently (S4). */
static int
check_repeat(const struct sshopts *o, const struct optdef *d, const char *v,
    char *reason, size_t rlen)
{
	static const char	 envpfx[] = "environment=\"";
	size_t			 i, nlen = strcspn(v, "=");

	for (i = 0; i < o->n; i++) {
		if (d->id == OPT_ENV) {
			if (strncmp(o->items[i], envpfx, sizeof(envpfx) - 1)
			    != 0 || strncmp(o->items[i] + sizeof(envpfx) - 1,
			    v, nlen + 1) != 0)
				continue;
			if (quotable(v, nlen))
				say(reason, rlen, "environment: %.*s set "
				    "twice", (int)nlen, v);
			else
				say(reason, rlen, "environment: name set "
				    "twice");
			return KE_USAGE;
		}
		if ((d->id == OPT_COMMAND || d->id == OPT_FROM ||
		    d->id == OPT_TUNNEL) && item_is(o->items[i], d->name)) {
			say(reason, rlen, "%s: given more than once", d->name);
			return KE_USAGE;
		}
	}
	return 0;
}

static int
add_value(struct sshopts *o, const struct optdef *d, const char *v,
    char *reason, size_t rlen)
{
	char	*item = NULL;
	size_t	 n = strlen(v);
	int64_t	 t;
	int	 r;

	if (refused_via_add(d, reason, rlen))
		return KE_USAGE;
	if (n == 0) {
		say(reason, rlen, "%s: empty value", d->name);
		return KE_USAGE;
	}
	if (v[n - 1] == '\\') {
		say(reason, rlen, "%s: a value cannot end in a backslash",
		    d->name);
		return KE_USAGE;
	}
	if (check_value(d, v, &t, reason, rlen) != 0)
		return KE_USAGE;
	if ((r = render_item(d->name, v, &item)) != 0) {
		if (r == KE_USAGE)
			say(reason, rlen, "%s: value too long", d->name);
		return r;
	}
	if (has_item(o, item)) {
		free(item);
		return 0;
	}
	if ((r = check_repeat(o, d, v, reason, rlen)) != 0) {
		free(item);
		return r;
	}
	return push_item(o, item, reason, rlen);
}

int
sshopts_add(struct sshopts *o, const char *opt, char *reason,
    size_t reasonlen)
{
	const struct optdef	*d;
	const char		*eq = strchr(opt, '=');
	char			*v;
	size_t			 n, vlen;
	int			 r;

	n = eq != NULL ? (size_t)(eq - opt) : strlen(opt);
	if ((d = optdef_find(opt, n)) == NULL) {
		say_unknown(opt, n, reason, reasonlen);
		return KE_USAGE;
	}
	if (refused_via_add(d, reason, reasonlen))
		return KE_USAGE;
	if (!HAS_VALUE(d->id)) {
		if (eq != NULL) {
			say(reason, reasonlen, "%s takes no value", d->name);
			return KE_USAGE;
		}
		return add_flag(o, d, reason, reasonlen);
	}
	if (eq == NULL) {
		say(reason, reasonlen, "%s needs a value: %s=...", d->name,
		    d->name);
		return KE_USAGE;
	}
	vlen = strlen(eq + 1);
	if (vlen >= 2 && eq[1] == '"' && eq[vlen] == '"')
		v = strndup(eq + 2, vlen - 2);	/* optional quotes */
	else
		v = strdup(eq + 1);
	if (v == NULL)
		return KE_NOMEM;
	r = add_value(o, d, v, reason, reasonlen);
	free(v);
	return r;
}

int
sshopts_add_value(struct sshopts *o, const char *name, const char *value,
    char *reason, size_t reasonlen)
{
	const struct optdef	*d;

	if ((d = optdef_find(name, strlen(name))) == NULL) {
		say_unknown(name, strlen(name), reason, reasonlen);
		return KE_USAGE;
	}
	if (!HAS_VALUE(d->id)) {
		say(reason, reasonlen, "%s takes no value", d->name);
		return KE_USAGE;
	}
	return add_value(o, d, value != NULL ? value : "", reason, reasonlen);
}

void
sshopts_set_expiry(struct sshopts *o, int64_t t)
{
	o->expires = t > 0 ? t : 0;
}

/* Append s to the string being built at *p, after a ',' unless first. */
static void
join(char **p, const char *s, int *first)
{
	size_t	n = strlen(s);

	if (!*first)
		*(*p)++ = ',';
	*first = 0;
	memcpy(*p, s, n);
	*p += n;
}

int
sshopts_render(const struct sshopts *o, char **out)
{
	char	 when[SSHOPTS_TIME_LEN], exp[SSHOPTS_TIME_LEN + 16];
	char	*s, *p;
	size_t	 len = 0, i;
	int	 first = 1;

	*out = NULL;
	if (o->expires > TIME_MAX || o->n > SSHOPTS_ITEMS_MAX)
		return KE_USAGE;
	sshopts_format_time(o->expires, when);
	memcpy(exp, "expiry-time=\"", 13);
	memcpy(exp + 13, when, SSHOPTS_TIME_LEN - 1);
	memcpy(exp + 13 + SSHOPTS_TIME_LEN - 1, "\"", 2);
	if (o->restrict_)
		len += strlen("restrict") + 1;
	for (i = 0; i < o->n && len <= SSHOPTS_MAX + 1; i++)
		len += strlen(o->items[i]) + 1;
	if (o->expires > 0)
		len += strlen(exp) + 1;
	if (len > 0)
		len--;				/* no final ',' */
	if (len > SSHOPTS_MAX)
		return KE_USAGE;
	if ((s = p = malloc(len + 1)) == NULL)
		return KE_NOMEM;
	if (o->restrict_)
		join(&p, "restrict", &first);
	for (i = 0; i < o->n; i++)
		join(&p, o->items[i], &first);
	if (o->expires > 0)
		join(&p, exp, &first);
	*p = '\0';
	if (sshopts_check(s, len, NULL, 0) != 0) {	/* S2, never */
		free(s);
		return KE_INTERNAL;
	}
	*out = s;
	return 0;
}

/* n decimal digits of v, zero-padded, at out. */
static void
put_digits(char *out, int v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void
sshopts_format_time(int64_t t, char out[SSHOPTS_TIME_LEN])
{
	struct tm	tm;
	time_t		tt;

	if (t < 0)
		t = 0;
	if (t > TIME_MAX)
		t = TIME_MAX;
	tt = (time_t)t;
	memset(&tm, 0, sizeof(tm));
	if (gmtime_r(&tt, &tm) == NULL) {	/* cannot fail in range */
		memcpy(out, "19700101000000Z", SSHOPTS_TIME_LEN);
		return;
	}
	put_digits(out, tm.tm_year + 1900, 4);
	put_digits(out + 4, tm.tm_mon + 1, 2);
	put_digits(out + 6, tm.tm_mday, 2);
	put_digits(out + 8, tm.tm_hour, 2);
	put_digits(out + 10, tm.tm_min, 2);
	put_digits(out + 12, tm.tm_sec, 2);
	out[14] = 'Z';
	out[15] = '\0';
}

/*
 * A duration (digits, then s, m, h, d or w) counted from now: forward
 * (sign 1, --expires) or back (sign -1, --since).
 */
static int
parse_duration(const char *a, size_t n, int64_t now, int sign, int64_t *t,
    char *reason, size_t rlen)
{
	int64_t	mult, room, v = 0;
	size_t	i;

	switch (a[n - 1]) {
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		mult = 7 * 86400;
		break;
	}
	for (i = 0; i + 1 < n && v <= TIME_MAX; i++)
		v = v * 10 + (a[i] - '0');
	if (v == 0) {
		say(reason, rlen, "a duration must be more than 0");
		return -1;
	}
	/* no overflow: now and the result stay within +-TIME_MAX */
	if (sign > 0)
		room = now < 0 ? TIME_MAX : TIME_MAX - now;
	else
		room = now > 0 ? TIME_MAX : TIME_MAX + now;
	if (now >= TIME_MAX || now <= -TIME_MAX || v > room / mult) {
		say(reason, rlen, sign > 0 ? "too far in the future (after "
		    "9999)" : "too far in the past");
		return -1;
	}
	*t = sign > 0 ? now + v * mult : now - v * mult;
	return 0;
}

/* --expires as YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, UTC. */
static int
expires_date(const char *a, size_t n, int64_t *t)
{
	struct civil	c;

	memset(&c, 0, sizeof(c));
	if (a[4] != '-' || a[7] != '-' || (c.y = num(a, 4)) < 0 ||
	    (c.mo = num(a + 5, 2)) < 0 || (c.d = num(a + 8, 2)) < 0)
		return -1;
	if (n > 10 && ((a[10] != 'T' && a[10] != 't') || a[13] != ':' ||
	    (a[n - 1] != 'Z' && a[n - 1] != 'z') ||
	    (c.h = num(a + 11, 2)) < 0 || (c.mi = num(a + 14, 2)) < 0))
		return -1;
	if (n == 20 && (a[16] != ':' || (c.s = num(a + 17, 2)) < 0))
		return -1;
	if (!civil_valid(&c))
		return -2;
	*t = civil_utc(&c);
	return 0;
}

/*
 * A time given on the command line: a date, a UTC time, or a duration
 * from now (forward for sign 1, back for sign -1).  0, or KE_USAGE with
 * reason.
 */
static int
parse_when(const char *arg, int64_t now, int sign, int64_t *t,
    char *reason, size_t reasonlen)
{
	size_t	n = arg != NULL ? strlen(arg) : 0;
	int	r = -1;

	*t = 0;
	if (n > 1 && strchr("smhdw", arg[n - 1]) != NULL &&
	    all_digits(arg, n - 1)) {
		if (parse_duration(arg, n, now, sign, t, reason,
		    reasonlen) != 0)
			return KE_USAGE;
		return 0;
	}
	if (n == 10 || n == 17 || n == 20)
		r = expires_date(arg, n, t);
	if (r == -2) {
		say(reason, reasonlen, "no such date or time");
		return KE_USAGE;
	}
	if (r != 0) {
		say(reason, reasonlen, n > 0 && arg[0] == '-' ? (sign > 0 ?
		    "must be in the future, not negative" : "a duration "
		    "counts back from now: give it without a sign") :
		    "expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or a "
		    "duration such as 30d");
		*t = 0;
		return KE_USAGE;
	}
	return 0;
}

int
sshopts_parse_expires(const char *arg, int64_t now, int64_t *t,
    char *reason, size_t reasonlen)
{
	int64_t	v;
	int	r;

	*t = 0;
	if ((r = parse_when(arg, now, 1, &v, reason, reasonlen)) != 0)
		return r;
	if (v <= now) {
		say(reason, reasonlen, "not in the future");
		return KE_USAGE;
	}
	*t = v;
	return 0;
}

int
sshopts_parse_since(const char *arg, int64_t now, int64_t *t, char *reason,
    size_t reasonlen)
{
	return parse_when(arg, now, -1, t, reason, reasonlen);
}

/* End of the option at p (the next ',' outside double quotes, or end). */
static const char *
item_end(const char *p, const char *end)
{
	int	inq = 0;

	for (; p < end && (inq || *p != ','); p++) {
		if (inq && *p == '\\' && p + 1 < end && p[1] == '"')
			p++;
		else if (*p == '"')
			inq = !inq;
	}
	return p;
}

int
sshopts_with_expiry(const char *opts, int64_t t, char **out)
{
	static const char	 name[] = "expiry-time";
	const char		*p, *e, *end;
	char			*s, stamp[SSHOPTS_TIME_LEN];
	size_t			 len = 0, n;

	*out = NULL;
	if (opts == NULL)
		opts = "";
	n = strlen(opts);
	if (sshopts_check(opts, n, NULL, 0) != 0)
		return KE_MALFORMED;
	if ((s = malloc(n + sizeof(name) + SSHOPTS_TIME_LEN + 8)) == NULL)
		return KE_NOMEM;
	for (p = opts, end = opts + n; p < end; p = e + (e < end)) {
		e = item_end(p, end);
		if (e == p || ((size_t)(e - p) >= sizeof(name) - 1 &&
		    strncasecmp(p, name, sizeof(name) - 1) == 0 &&
		    (p[sizeof(name) - 1] == '=' || p + sizeof(name) - 1 == e)))
			continue;	/* empty, or an expiry-time */
		if (len > 0)
			s[len++] = ',';
		memcpy(s + len, p, (size_t)(e - p));
		len += (size_t)(e - p);
	}
	if (t > 0) {
		sshopts_format_time(t, stamp);
		len += (size_t)sprintf(s + len, "%s%s=\"%s\"", len > 0 ? "," :
		    "", name, stamp);
	}
	s[len] = '\0';
	if (len > SSHOPTS_MAX || sshopts_check(s, len, NULL, 0) != 0) {
		free(s);
		return KE_MALFORMED;
	}
	*out = s;
	return 0;
}
