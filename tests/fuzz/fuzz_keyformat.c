/*
 * fuzz_keyformat.c -- one key block (RFC 4716, SPKI PEM, PKCS#1 PEM, or
 * another BEGIN line) as keyparse hands it to keyformat_block: the input
 * starts with its BEGIN line.  The line made from a block then goes
 * through keyparse_line, as in a real submission.
 *
 * Mutating base64 text seldom makes interesting DER, so an input whose
 * first byte is 1, 2 or 3 is taken as the decoded body of a block instead
 * (1: SPKI DER, 2: PKCS#1 DER, 3: SSH blob for RFC 4716), which the
 * target wraps in its BEGIN and END lines, 64 base64 columns wide.
 *
 * Checked besides memory safety: the block's extent lies inside the
 * input and covers at least its BEGIN line; a block is converted into a
 * NUL-terminated line or refused with a reason, never both.
 */
#include "fuzz.h"

#include "b64.h"
#include "err.h"
#include "keyformat.h"
#include "keyparse.h"

#define WRAP_COLS	64

static const char *const wraps[][2] = {
	{ "-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----" },
	{ "-----BEGIN RSA PUBLIC KEY-----", "-----END RSA PUBLIC KEY-----" },
	{ "---- BEGIN SSH2 PUBLIC KEY ----", "---- END SSH2 PUBLIC KEY ----" },
};
#define NWRAPS	(sizeof(wraps) / sizeof(wraps[0]))

FUZZ_INIT_KEYPARSE()

/* keyformat_block on a buffer that starts with a BEGIN line. */
static void
block(const unsigned char *buf, size_t size)
{
	struct pubkey	*k = NULL;
	char		*line = NULL, reason[KEYPARSE_REASON_MAX];
	size_t		 used = 0, nlines = 0;
	int		 r;

	r = keyformat_block(buf, size, &used, &nlines, &line, reason,
	    sizeof(reason));
	FUZZ_CHECK(used > 0 && used <= size, "block extent outside input");
	FUZZ_CHECK(nlines >= 1, "block without lines");
	if (r != 0) {
		FUZZ_CHECK(line == NULL, "refused block with a line");
		FUZZ_CHECK(fuzz_has_text(reason, sizeof(reason)),
		    "refused block without reason");
		return;
	}
	FUZZ_CHECK(line != NULL, "converted block without a line");
	r = keyparse_line(line, strlen(line), &k, reason, sizeof(reason));
	FUZZ_CHECK((r == 0) == (k != NULL), "keyparse_line result");
	pubkey_free(k);
	free(line);
}

/* The body bytes wrapped in the block kind sel names. */
static void
wrapped(size_t sel, const uint8_t *body, size_t n)
{
	char	*b64, *buf;
	size_t	 b64len, len = 0, i, cap;

	if ((b64 = malloc(B64_ENCODED_SIZE(n))) == NULL)
		return;
	b64len = b64_encode(body, n, b64, 1);
	cap = strlen(wraps[sel][0]) + strlen(wraps[sel][1]) + b64len +
	    b64len / WRAP_COLS + 4;
	if ((buf = malloc(cap)) == NULL) {
		free(b64);
		return;
	}
	len += (size_t)snprintf(buf, cap, "%s\n", wraps[sel][0]);
	for (i = 0; i < b64len; i += WRAP_COLS) {
		n = b64len - i < WRAP_COLS ? b64len - i : WRAP_COLS;
		memcpy(buf + len, b64 + i, n);
		len += n;
		buf[len++] = '\n';
	}
	len += (size_t)snprintf(buf + len, cap - len, "%s\n", wraps[sel][1]);
	block((const unsigned char *)buf, len);
	free(buf);
	free(b64);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nl;
	size_t		 first;

	if (size == 0 || size > KEYFILE_MAX)
		return 0;
	if (data[0] >= 1 && data[0] <= NWRAPS) {
		wrapped((size_t)data[0] - 1, data + 1, size - 1);
		return 0;
	}
	nl = memchr(data, '\n', size);
	first = nl != NULL ? (size_t)(nl - data) : size;
	if (keyformat_begins((const char *)data, first) == KB_NONE)
		return 0;	/* keyparse never calls it so */
	(void)keyformat_of(keyformat_begins((const char *)data, first));
	block(data, size);
	return 0;
}
