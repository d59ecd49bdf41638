/*
 * b64.c -- strict base64 (RFC 4648 section 4, the standard alphabet).
 *
 * Invariants:
 * - b64_decode accepts exactly the canonical padded encoding of some byte
 *   string and nothing else: the length is a multiple of 4, only the
 *   alphabet appears before the padding, padding is "=" or "==" at the very
 *   end, and the unused bits of the last symbol are zero.  Hence decoding is
 *   one-to-one: a string that decodes equals the encoding of its output.
 * - No whitespace, no line breaks, no URL-safe alphabet.
 * - Never writes more than outcap bytes; never reads beyond in[len - 1].
 * - No allocation.
 */
#include <limits.h>
#include <stddef.h>

#include "b64.h"

#define B64_BAD	0xff

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of each byte as a base64 symbol, or B64_BAD ('=' included). */
static const unsigned char b64_value[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0x3e, 0xff, 0xff, 0xff, 0x3f,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,
	0x3c, 0x3d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
	0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
	0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
	0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30,
	0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/*
 * Decode the last quantum q[0..3], which may carry padding.  Writes 1..3
 * bytes to out (room checked by the caller) and returns how many, or -1.
 */
static int
b64_decode_last(const unsigned char *q, unsigned char *out)
{
	unsigned int	a, b, c, d;

	a = b64_value[q[0]];
	b = b64_value[q[1]];
	if (a == B64_BAD || b == B64_BAD)
		return -1;
	if (q[2] == '=') {
		/* "xx==": one byte; the low 4 bits of b must be zero. */
		if (q[3] != '=' || (b & 0x0f) != 0)
			return -1;
		out[0] = (unsigned char)(a << 2 | b >> 4);
		return 1;
	}
	c = b64_value[q[2]];
	if (c == B64_BAD)
		return -1;
	if (q[3] == '=') {
		/* "xxx=": two bytes; the low 2 bits of c must be zero. */
		if ((c & 0x03) != 0)
			return -1;
		out[0] = (unsigned char)(a << 2 | b >> 4);
		out[1] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
		return 2;
	}
	d = b64_value[q[3]];
	if (d == B64_BAD)
		return -1;
	out[0] = (unsigned char)(a << 2 | b >> 4);
	out[1] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
	out[2] = (unsigned char)((c & 0x03) << 6 | d);
	return 3;
}

/* Number of decoded bytes the padded input of length len would yield. */
static size_t
b64_decoded_len(const unsigned char *in, size_t len)
{
	size_t	n;

	n = len / 4 * 3;
	if (len > 0 && in[len - 1] == '=')
		n--;
	if (len > 1 && in[len - 2] == '=')
		n--;
	return n;
}

long
b64_decode(const char *in, size_t len, unsigned char *out, size_t outcap)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i, o, need;
	unsigned int		 a, b, c, d;
	int			 r;

	if (len % 4 != 0 || len / 4 * 3 > LONG_MAX)
		return -1;
	if (len == 0)
		return 0;
	need = b64_decoded_len(p, len);
	if (need > outcap)
		return -1;
	for (i = 0, o = 0; i + 4 < len; i += 4, o += 3) {
		a = b64_value[p[i]];
		b = b64_value[p[i + 1]];
		c = b64_value[p[i + 2]];
		d = b64_value[p[i + 3]];
		if ((a | b | c | d) > 63)	/* B64_BAD has high bits */
			return -1;
		out[o] = (unsigned char)(a << 2 | b >> 4);
		out[o + 1] = (unsigned char)((b & 0x0f) << 4 | c >> 2);
		out[o + 2] = (unsigned char)((c & 0x03) << 6 | d);
	}
	if ((r = b64_decode_last(p + i, out + o)) < 0)
		return -1;
	o += (size_t)r;
	if (o != need)
		return -1;
	return (long)o;
}

size_t
b64_encode(const unsigned char *in, size_t len, char *out, int pad)
{
	size_t		i, o;
	unsigned int	v;

	for (i = 0, o = 0; i + 3 <= len; i += 3) {
		v = (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 0x3f];
		out[o++] = b64_alphabet[(v >> 6) & 0x3f];
		out[o++] = b64_alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		v = (unsigned int)in[i] << 16;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 0x3f];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		v = (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 0x3f];
		out[o++] = b64_alphabet[(v >> 6) & 0x3f];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int
b64_is_text(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '+' || s[i] == '/' || s[i] == '='))
			return 0;
	return len > 0;
}
