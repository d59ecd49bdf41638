/*
 * msg.c -- messages on stderr, events in syslog.
 *
 * MUST: untrusted text is escaped before it reaches a terminal or the log
 * (msg_escape), and never used as a format.
 * MUST: one line per message, no trailing period, prefixed "keyadm: ".
 * MUST: standard output is flushed before a message, so a log that takes
 * both shows them in order while stdout itself stays fully buffered.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "msg.h"

void
msg_open(void)
{
	openlog("keyadm", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void
msg_close(void)
{
	closelog();
}

/* Length of a valid, printable UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_printable(const unsigned char *s, size_t n)
{
	unsigned int	cp;
	size_t		len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, C1 controls, out of range */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0 || cp > 0x10ffff ||
	    cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) ||
	    cp == 0xfeff)
		return 0;
	return len;
}

/*
 * The escaped form of the character at s (n bytes left) into item (room for
 * 8 bytes); returns its length and sets *used to the input bytes it takes.
 */
static size_t
escape_one(const unsigned char *s, size_t n, char *item, size_t *used,
    int keep_bs)
{
	size_t	u;

	*used = 1;
	if (s[0] == '\\' && !keep_bs) {
		memcpy(item, "\\\\", 2);
		return 2;
	}
	if (s[0] >= 0x20 && s[0] < 0x7f) {
		item[0] = (char)s[0];
		return 1;
	}
	if ((u = utf8_printable(s, n)) != 0) {
		memcpy(item, s, u);
		*used = u;
		return u;
	}
	(void)snprintf(item, 8, "\\x%02x", s[0]);
	return 4;
}

/* msg_escape, doubling backslashes or not. */
static void
escape(const char *in, size_t inlen, char *out, size_t outlen, int keep_bs)
{
	const unsigned char	*s = (const unsigned char *)in;
	char			 item[8];
	size_t			 i, o, len, used, total = 0;

	if (outlen == 0)
		return;
	for (i = 0; i < inlen; i += used)
		total += escape_one(s + i, inlen - i, item, &used, keep_bs);
	for (i = 0, o = 0; i < inlen; i += used) {
		len = escape_one(s + i, inlen - i, item, &used, keep_bs);
		/* all of it fits, or this item leaves room for "..." */
		if (total >= outlen && o + len + 3 >= outlen)
			break;
		memcpy(out + o, item, len);
		o += len;
	}
	if (i < inlen && outlen - 1 - o >= 3) {	/* a cut says so */
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

void
msg_escape(const char *in, size_t inlen, char *out, size_t outlen)
{
	escape(in, inlen, out, outlen, 0);
}

void
msg_escape_view(const char *in, size_t inlen, char *out, size_t outlen)
{
	escape(in, inlen, out, outlen, 1);
}

void
msg_usage(const char *arg, const char *usage)
{
	if (arg != NULL)
		msg_err(arg, "unknown option or missing value");
	msg_err(NULL, "%s", usage);
}

void
msg_line(const char *line)
{
	(void)fflush(stdout);	/* what came before stays before in a log */
	(void)fprintf(stderr, "keyadm: %s\n", line);
}

void
msg_err(const char *object, const char *fmt, ...)
{
	char	problem[MSG_MAX], obj[MSG_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	(void)fflush(stdout);	/* what came before stays before in a log */
	if (object == NULL) {
		(void)fprintf(stderr, "keyadm: %s\n", problem);
		return;
	}
	msg_escape(object, strlen(object), obj, sizeof(obj));
	(void)fprintf(stderr, "keyadm: %s: %s\n", obj, problem);
}

void
msg_syslog(int prio, const char *fmt, ...)
{
	char	line[MSG_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	syslog(prio, "%s", line);
}

int
msg_printable(const char *s, size_t max)
{
	char	copy[MSG_MAX + 1], esc[MSG_MAX * 4 + 1], *p;
	size_t	n = strlen(s);

	if (n > max || n > MSG_MAX)
		return 0;
	memcpy(copy, s, n + 1);
	for (p = copy; *p != '\0'; p++)
		if (*p == '\\')
			*p = '/';	/* msg_escape doubles backslashes */
	msg_escape(copy, n, esc, sizeof(esc));
	return strcmp(esc, copy) == 0;
}
