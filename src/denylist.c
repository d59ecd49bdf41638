/*
 * denylist.c -- the deny list of known compromised keys.
 *
 * MUST: a line that is neither a fingerprint nor a key is an error naming
 * the file and line (fail closed: a typo must not silently let a key in).
 * MUST: the list is sorted once, so a lookup is O(log n).
 * MUST: nothing of a listed key is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "denylist.h"
#include "err.h"

#define FP_PREFIX	"SHA256:"
#define FP_B64_LEN	43	/* unpadded base64 of 32 bytes */

static int
fp_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* A "SHA256:" + 43 base64 characters token. */
static int
is_fingerprint(const char *tok, size_t len)
{
	size_t	i, pl = sizeof(FP_PREFIX) - 1;

	if (len != pl + FP_B64_LEN || strncmp(tok, FP_PREFIX, pl) != 0)
		return 0;
	for (i = pl; i < len; i++)
		if (!((tok[i] >= 'A' && tok[i] <= 'Z') ||
		    (tok[i] >= 'a' && tok[i] <= 'z') ||
		    (tok[i] >= '0' && tok[i] <= '9') || tok[i] == '+' ||
		    tok[i] == '/'))
			return 0;
	return 1;
}

/* "type base64 ...": the fingerprint of the decoded blob. */
static int
key_fingerprint(const char *line, size_t len, char *fp)
{
	unsigned char	*blob;
	const char	*b, *e;
	size_t		 tl;
	long		 n;
	int		 r;

	if ((b = memchr(line, ' ', len)) == NULL)
		return -1;
	while (b < line + len && *b == ' ')
		b++;
	for (e = b; e < line + len && *e != ' ' && *e != '\t'; e++)
		;
	if (e == b || (size_t)(e - b) > KEYLINE_MAX)
		return -1;
	if ((blob = malloc((size_t)(e - b))) == NULL)
		return -1;
	n = b64_decode(b, (size_t)(e - b), blob, (size_t)(e - b));
	/* the blob must open with the type word, as every SSH key does */
	tl = (size_t)(memchr(line, ' ', len) == NULL ? 0 :
	    (const char *)memchr(line, ' ', len) - line);
	if (n < 4 || (size_t)n - 4 < tl || tl == 0 ||
	    ((size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
	    (size_t)blob[2] << 8 | blob[3]) != tl ||
	    memcmp(blob + 4, line, tl) != 0)
		r = -1;
	else
		r = keyparse_fingerprint(blob, (size_t)n, fp, FINGERPRINT_MAX);
	free(blob);
	return r == 0 ? 0 : -1;
}

static int
add_line(struct denylist *dl, size_t *cap, const char *line, size_t len)
{
	char	(*nf)[FINGERPRINT_MAX];
	size_t	 tl;

	/* within len: the buffer need not be NUL-terminated */
	for (tl = 0; tl < len && line[tl] != ' ' && line[tl] != '\t' &&
	    line[tl] != '\r' && line[tl] != '\n'; tl++)
		;
	if (dl->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((nf = reallocarray(dl->fps, *cap, sizeof(*nf))) == NULL)
			return KE_NOMEM;
		dl->fps = nf;
	}
	if (is_fingerprint(line, tl)) {
		memcpy(dl->fps[dl->n], line, tl);
		dl->fps[dl->n][tl] = '\0';
	} else if (key_fingerprint(line, len, dl->fps[dl->n]) != 0)
		return KE_CONFIG;
	dl->n++;
	return 0;
}

int
denylist_parse(const char *name, const char *buf, size_t len,
    struct denylist **out, char *msg, size_t msglen)
{
	struct denylist	*dl;
	size_t		 start, end, lineno = 0, cap = 0;
	int		 r = 0;

	*out = NULL;
	if (len > DENYLIST_MAX || (dl = calloc(1, sizeof(*dl))) == NULL)
		return len > DENYLIST_MAX ? KE_CONFIG : KE_NOMEM;
	for (start = 0; start < len && r == 0; start = end + 1) {
		lineno++;
		for (end = start; end < len && buf[end] != '\n'; end++)
			;
		while (start < end && (buf[start] == ' ' ||
		    buf[start] == '\t'))
			start++;
		if (start == end || buf[start] == '#' || buf[start] == '\r')
			continue;
		if ((r = add_line(dl, &cap, buf + start, end - start)) != 0)
			(void)snprintf(msg, msglen, "%s:%zu: not a SHA256 "
			    "fingerprint or a public key", name, lineno);
	}
	if (r != 0) {
		denylist_free(dl);
		return r;
	}
	if (dl->n > 0)	/* qsort must not see the NULL of an empty list */
		qsort(dl->fps, dl->n, sizeof(*dl->fps), fp_cmp);
	*out = dl;
	return 0;
}

int
denylist_contains(const struct denylist *dl, const char *fingerprint)
{
	if (dl == NULL || dl->n == 0)
		return 0;
	return bsearch(fingerprint, dl->fps, dl->n, sizeof(*dl->fps),
	    fp_cmp) != NULL;
}

void
denylist_free(struct denylist *dl)
{
	if (dl == NULL)
		return;
	free(dl->fps);
	free(dl);
}
