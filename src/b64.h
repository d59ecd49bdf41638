/*
 * b64.h -- strict base64 (RFC 4648, padded), no allocation surprises.
 */
#ifndef KEYADM_B64_H
#define KEYADM_B64_H

#include <stddef.h>

/* Bytes needed to encode n bytes, including the NUL. */
#define B64_ENCODED_SIZE(n)	((((n) + 2) / 3) * 4 + 1)

/*
 * Decode exactly len characters of padded base64 into out (capacity outcap).
 * Refuses whitespace, bad characters, bad padding and non-zero trailing bits.
 * Returns the decoded length, or -1.
 */
long	b64_decode(const char *in, size_t len, unsigned char *out,
	    size_t outcap);
/* 1 when s (len > 0 bytes) holds only base64 alphabet characters and '='. */
int	b64_is_text(const char *s, size_t len);
/* Encode; out must hold B64_ENCODED_SIZE(len).  Returns chars written. */
size_t	b64_encode(const unsigned char *in, size_t len, char *out,
	    int pad);

#endif
