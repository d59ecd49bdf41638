/*
 * keyformat.h -- public-key blocks (RFC 4716, SPKI PEM, PKCS#1 PEM) to
 * OpenSSH one-line form.
 *
 * Only keyparse.c includes this.  keyformat converts and never judges: the
 * line it makes goes through keyparse_line like any other, so every key
 * passes the same checks whatever form it came in.
 */
#ifndef KEYADM_KEYFORMAT_H
#define KEYADM_KEYFORMAT_H

#include <stddef.h>

#include "keyparse.h"

/* What a line of a submission opens. */
enum keyblock {
	KB_NONE = 0,		/* not a BEGIN line */
	KB_RFC4716,		/* ---- BEGIN SSH2 PUBLIC KEY ---- */
	KB_SPKI,		/* -----BEGIN PUBLIC KEY----- */
	KB_PKCS1,		/* -----BEGIN RSA PUBLIC KEY----- */
	KB_OTHER_PEM,		/* any other -----BEGIN xxx----- */
	KB_OTHER_SSH2		/* any other ---- BEGIN xxx ---- */
};

#define KEYFORMAT_HEADER_MAX	1024	/* longest RFC 4716 header, joined */

/* The block a line opens (blanks, CR allowed around it), or KB_NONE. */
enum keyblock	 keyformat_begins(const char *line, size_t len);

/* The enum keyformat a block's result is reported as. */
enum keyformat	 keyformat_of(enum keyblock kb);

/*
 * Convert the block whose BEGIN line starts buf.  On return *used holds
 * the bytes the block took (through its END line, or all of buf when it
 * has none) and *nlines its lines, whatever the outcome.  Returns 0 and
 * sets *line to a malloc'd, NUL-terminated "type base64[ comment]" that the
 * caller frees, or a negative keyadm_err with reason filled (a fixed
 * phrase that never quotes the input) and *line NULL.
 */
int		 keyformat_block(const unsigned char *buf, size_t len,
		    size_t *used, size_t *nlines, char **line, char *reason,
		    size_t reasonlen);

#endif
