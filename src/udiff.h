/*
 * udiff.h -- a unified diff of two texts, as `diff -u` prints it.
 *
 * No I/O.  Used by --dry-run to show what a change would do to each file.
 * Lines are split on '\n'; a last line without one gets the
 * "\ No newline at end of file" marker.  Content lines are untrusted: each
 * is escaped with msg_escape_view() (control and invisible bytes as
 * \xNN, a backslash as itself) before it goes into the output.
 */
#ifndef KEYADM_UDIFF_H
#define KEYADM_UDIFF_H

#include <stddef.h>

#define UDIFF_CONTEXT	3	/* lines of context around a change */

/*
 * Diff old (alen bytes) against new (blen bytes).  Headers are
 * "--- alabel" and "+++ blabel", then "@@ -l,s +l,s @@" hunks.  *out is
 * malloc'd and NUL-terminated, "" when the texts are equal.  0 or
 * KE_NOMEM.
 */
int	udiff(const char *a, size_t alen, const char *b, size_t blen,
	    const char *alabel, const char *blabel, char **out,
	    size_t *outlen);

#endif
