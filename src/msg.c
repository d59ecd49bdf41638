/*
 * msg.c -- messages on stderr, events in syslog.
 *
 * MUST: untrusted text is escaped before it reaches a terminal or the log
 * (msg_escape), and never used as a format.
 * MUST: one line per message, no trailing period, prefixed "keyadm: ".
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
	    cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return len;
}

void
msg_escape(const char *in, size_t inlen, char *out, size_t outlen)
{
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 i = 0, o = 0, u;

	if (outlen == 0)
		return;
	while (i < inlen) {
		if (outlen - o < 8) {	/* room for "\xNN" or "...\0" */
			if (outlen >= 4) {
				o = o > outlen - 4 ? outlen - 4 : o;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (s[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
			i++;
		} else if (s[i] >= 0x20 && s[i] < 0x7f) {
			out[o++] = (char)s[i++];
		} else if ((u = utf8_printable(s + i, inlen - i)) != 0) {
			memcpy(out + o, s + i, u);
			o += u;
			i += u;
		} else {
			(void)snprintf(out + o, outlen - o, "\\x%02x", s[i]);
			o += 4;
			i++;
		}
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

void
msg_line(const char *line)
{
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
