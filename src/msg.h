/*
 * msg.h -- one-line messages on stderr and security events in syslog.
 *
 * Every message reads "keyadm: <object>: <problem>".  The object is escaped
 * here (it is often a path or a file name from an untrusted tree); the
 * problem is our own text, already safe.  msg never exits.
 */
#ifndef KEYADM_MSG_H
#define KEYADM_MSG_H

#include <stdarg.h>

#define MSG_MAX	1024	/* longest line we print */

/* Open syslog (LOG_AUTHPRIV).  Call once from main. */
void	msg_open(void);
void	msg_close(void);

/* "keyadm: <object>: <problem>" on stderr.  object may be NULL. */
void	msg_err(const char *object, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Print a message that already has the "<object>: <problem>" form. */
void	msg_line(const char *line);
/* The same line also to syslog at priority prio (LOG_NOTICE, ...). */
void	msg_syslog(int prio, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Escape untrusted text for a terminal or a log: printable ASCII and valid
 * UTF-8 printable characters pass; everything else becomes \xNN; a backslash
 * becomes \\.  Always NUL-terminates out (truncating with "...").
 */
void	msg_escape(const char *in, size_t inlen, char *out, size_t outlen);

#endif
