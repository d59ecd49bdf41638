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
#define REASON_MAX	1024	/* longest --reason */

/* Open syslog (LOG_AUTHPRIV).  Call once from main. */
void	msg_open(void);
void	msg_close(void);

/* "keyadm: <object>: <problem>" on stderr.  object may be NULL. */
void	msg_err(const char *object, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * A command-line option getopt did not accept: "<arg>: unknown option or
 * missing value", then the usage line.  arg may be NULL.
 */
void	msg_usage(const char *arg, const char *usage);
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
/*
 * The same, but a backslash stays one backslash: for showing file
 * content where fidelity matters more than a reversible form (diffs).
 * Text without control or invisible characters comes out unchanged.
 */
void	msg_escape_view(const char *in, size_t inlen, char *out,
	    size_t outlen);

/*
 * 1 when s is at most max bytes (max <= MSG_MAX) of text without control or
 * invisible characters (printable UTF-8 allowed): text msg_escape leaves
 * as it is, such as a --reason.
 */
int	msg_printable(const char *s, size_t max);

#endif
