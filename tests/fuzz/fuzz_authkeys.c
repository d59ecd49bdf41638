/*
 * fuzz_authkeys.c -- an authorized_keys file (a user's, so untrusted) as
 * authkeys_parse reads it, and the options field of each key line as
 * sshopts_check judges it (audit and install do the same).
 *
 * Checked besides memory safety, from the invariants of authkeys.c:
 *  A1  render(parse(buf)) == buf, byte for byte;
 *  A4  every key line is found again by its blob (authkeys_find), and
 *      authkeys_remove takes every line of that blob and nothing else;
 *  A7  appending a key line's own fields either reads back as exactly
 *      those fields or is refused with KE_MALFORMED.
 */
#include "fuzz.h"

#include "authkeys.h"
#include "err.h"
#include "sshopts.h"

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A1 on ak against the bytes it was parsed from. */
static void
check_render(const struct authkeys *ak, const uint8_t *data, size_t size)
{
	char	*out = NULL;
	size_t	 outlen = 0;
	int	 r;

	r = authkeys_render(ak, &out, &outlen);
	FUZZ_CHECK(r == 0 || r == KE_NOMEM, "render of a parsed file fails");
	if (r == 0)
		FUZZ_CHECK(outlen == size && (size == 0 ||
		    memcmp(out, data, size) == 0),
		    "A1: render(parse(buf)) != buf");
	free(out);
}

/* A7: append e's fields; they must read back as they were. */
static void
check_append(struct authkeys *ak, const struct authkeys_entry *e0)
{
	struct authkeys_entry	 e = *e0;	/* its strings stay valid */
	struct authkeys		*back = NULL;
	const struct authkeys_entry *last;
	char			*out = NULL;
	size_t			 outlen = 0, n0 = ak->n;
	int			 r;

	r = authkeys_append(ak, e.options, e.type, e.b64, e.comment);
	FUZZ_CHECK(r == 0 || r == KE_MALFORMED || r == KE_NOMEM,
	    "append gives an unexpected code");
	if (r != 0) {
		FUZZ_CHECK(ak->n == n0, "A7: a refused append changed the file");
		return;
	}
	if (authkeys_render(ak, &out, &outlen) != 0)
		return;
	if (authkeys_parse(out, outlen, &back) == 0) {
		FUZZ_CHECK(back->n > 0, "appended file reads back empty");
		last = &back->lines[back->n - 1];
		FUZZ_CHECK(last->is_key, "A7: appended line is not a key line");
		FUZZ_CHECK(str_eq(last->options, e.options) &&
		    str_eq(last->type, e.type) && str_eq(last->b64, e.b64) &&
		    str_eq(last->comment, e.comment),
		    "A7: appended line reads back as other fields");
		FUZZ_CHECK(last->bloblen == e.bloblen &&
		    memcmp(last->blob, e.blob, e.bloblen) == 0,
		    "A7: appended line reads back as another blob");
	}
	authkeys_free(back);
	free(out);
}

/* A4: remove every line of the blob of line idx, and only those. */
static void
check_remove(struct authkeys *ak, size_t idx)
{
	const struct authkeys_entry	*e = &ak->lines[idx], *l;
	unsigned char			*blob;
	size_t				 i, n0 = ak->n, nblob = 0, bl, gone;

	for (i = 0; i < ak->n; i++) {
		l = &ak->lines[i];
		if (l->is_key && l->bloblen == e->bloblen &&
		    memcmp(l->blob, e->blob, e->bloblen) == 0)
			nblob++;
	}
	/* the blob lives in the line that remove frees: copy it */
	bl = e->bloblen;
	if ((blob = malloc(bl + 1)) == NULL)
		return;
	memcpy(blob, e->blob, bl);
	gone = authkeys_remove(ak, blob, bl);
	FUZZ_CHECK(gone == nblob && ak->n == n0 - gone,
	    "A4: remove took other lines, or not all of its key");
	FUZZ_CHECK(authkeys_find(ak, blob, bl, 0) == -1,
	    "A4: a removed key is still found");
	free(blob);
}

/* Each key line: found by its blob, its options judged. */
static size_t
check_lines(const struct authkeys *ak)
{
	const struct authkeys_entry	*e;
	char				 reason[SSHOPTS_REASON_MAX];
	size_t				 i, first = (size_t)-1, olen;
	ssize_t				 at;
	int64_t				 t;
	int				 r;

	for (i = 0; i < ak->n; i++) {
		e = &ak->lines[i];
		if (!e->is_key)
			continue;
		FUZZ_CHECK(e->type != NULL && e->b64 != NULL &&
		    e->blob != NULL, "key line without its fields");
		at = authkeys_find(ak, e->blob, e->bloblen, 0);
		FUZZ_CHECK(at >= 0 && (size_t)at <= i,
		    "A4: a key line is not found by its blob");
		if (first == (size_t)-1)
			first = i;
		if (e->options == NULL)
			continue;
		olen = strlen(e->options);
		r = sshopts_check(e->options, olen, reason, sizeof(reason));
		FUZZ_CHECK(r == 0 || fuzz_has_text(reason, sizeof(reason)),
		    "refused options without reason");
		FUZZ_CHECK((sshopts_expiry(e->options, olen, &t) == 0) ==
		    (r == 0), "sshopts_expiry and sshopts_check disagree");
	}
	return first;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authkeys	*ak = NULL;
	size_t		 first;
	int		 r;

	if (size > 256 * 1024)
		return 0;
	r = authkeys_parse((const char *)data, size, &ak);
	FUZZ_CHECK(r == 0 || r == KE_NOMEM, "parse of a small file fails");
	if (r != 0)
		return 0;
	check_render(ak, data, size);
	if ((first = check_lines(ak)) != (size_t)-1) {
		check_append(ak, &ak->lines[first]);
		authkeys_free(ak);
		ak = NULL;
		if (authkeys_parse((const char *)data, size, &ak) == 0)
			check_remove(ak, first);
	}
	authkeys_free(ak);
	return 0;
}
