/*
 * fuzz_keyparse_buf.c -- a submitted .pub file: format detection (BOM,
 * CRLF, text around keys, private-key markers, binary data) and every
 * form a key may come in (OpenSSH line, RFC 4716, SPKI PEM, PKCS#1 PEM),
 * through keyparse_buf and keyparse_chunk (a later piece of a long file).
 *
 * Checked besides memory safety:
 *  - a whole-submission failure sets no list and says why; success gives
 *    at least one result;
 *  - every result is a key or a reason, never both;
 *  - every key, whatever form it came in, reads back through
 *    keyparse_line from "type b64" as the same blob and fingerprint
 *    (keyparse.c: every form gets the same checks and fingerprint).
 */
#include "fuzz.h"

#include "err.h"
#include "keyparse.h"

FUZZ_INIT_KEYPARSE()

static void
check_key(const struct pubkey *k)
{
	struct pubkey	*again = NULL;
	char		*line, reason[KEYPARSE_REASON_MAX];
	size_t		 n;
	int		 r;

	FUZZ_CHECK(k->blob != NULL && k->bloblen > 0, "key without blob");
	FUZZ_CHECK(k->b64 != NULL, "key without base64");
	FUZZ_CHECK(strncmp(k->fingerprint, "SHA256:", 7) == 0,
	    "fingerprint is not SHA256:...");
	n = strlen(k->typename) + 1 + strlen(k->b64) + 1;
	if ((line = malloc(n)) == NULL)
		return;
	(void)snprintf(line, n, "%s %s", k->typename, k->b64);
	r = keyparse_line(line, n - 1, &again, reason, sizeof(reason));
	FUZZ_CHECK(r == 0 || r == KE_NOMEM,
	    "an accepted key does not read back from \"type b64\"");
	if (r == 0) {
		FUZZ_CHECK(again->bloblen == k->bloblen &&
		    memcmp(again->blob, k->blob, k->bloblen) == 0,
		    "a key reads back as another blob");
		FUZZ_CHECK(strcmp(again->fingerprint, k->fingerprint) == 0,
		    "a key reads back with another fingerprint");
		FUZZ_CHECK(again->type == k->type && again->bits == k->bits,
		    "a key reads back as another type or size");
	}
	pubkey_free(again);
	free(line);
}

static void
check_list(int r, const struct keyparse_list *l, const char *reason,
    int need_keys)
{
	size_t	i;

	if (r != 0) {
		FUZZ_CHECK(l == NULL, "failure with a list");
		FUZZ_CHECK(fuzz_has_text(reason, KEYPARSE_REASON_MAX),
		    "failure without a reason");
		return;
	}
	FUZZ_CHECK(l != NULL, "success without a list");
	FUZZ_CHECK(!need_keys || l->n > 0, "success with no result");
	for (i = 0; i < l->n; i++) {
		const struct keyparse_result *it = &l->items[i];

		FUZZ_CHECK(it->lineno >= 1, "result without a line number");
		if (it->err == 0) {
			FUZZ_CHECK(it->key != NULL, "result without key");
			check_key(it->key);
		} else {
			FUZZ_CHECK(it->err < 0 && it->key == NULL,
			    "failed result with a key");
			FUZZ_CHECK(fuzz_has_text(it->reason,
			    sizeof(it->reason)), "failed result without reason");
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyparse_list	*l = NULL;
	char			 reason[KEYPARSE_REASON_MAX];
	int			 r;

	if (size > KEYFILE_MAX + 3)	/* intake reads no more */
		return 0;
	r = keyparse_buf(data, size, &l, reason, sizeof(reason));
	check_list(r, l, reason, 1);
	keyparse_list_free(l);

	l = NULL;
	r = keyparse_chunk(data, size, 0, &l, reason, sizeof(reason));
	check_list(r, l, reason, 0);
	keyparse_list_free(l);
	return 0;
}
