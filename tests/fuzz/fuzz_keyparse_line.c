/*
 * fuzz_keyparse_line.c -- one OpenSSH public key line, "type base64
 * [comment]", as keyparse_line judges it: the lexical checks, strict
 * base64, the blob reader, then libssh's import and re-export.
 *
 * Checked besides memory safety: a key or a reason, never both; an
 * accepted key's base64 is the canonical encoding of its blob and its
 * fingerprint is that of the blob.
 */
#include "fuzz.h"

#include "b64.h"
#include "keyparse.h"

FUZZ_INIT_KEYPARSE()

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pubkey	*k = NULL;
	char		 reason[KEYPARSE_REASON_MAX], fp[FINGERPRINT_MAX];
	char		*enc;
	int		 r;

	if (size > KEYLINE_MAX + COMMENT_MAX + KEYTYPE_MAX + 8)
		return 0;
	r = keyparse_line((const char *)data, size, &k, reason,
	    sizeof(reason));
	if (r != 0) {
		FUZZ_CHECK(k == NULL, "refused line with a key");
		FUZZ_CHECK(fuzz_has_text(reason, sizeof(reason)),
		    "refused line without reason");
		return 0;
	}
	FUZZ_CHECK(k != NULL && k->blob != NULL && k->b64 != NULL,
	    "accepted line without key");
	FUZZ_CHECK(keyparse_fingerprint(k->blob, k->bloblen, fp,
	    sizeof(fp)) == 0 && strcmp(fp, k->fingerprint) == 0,
	    "fingerprint is not that of the blob");
	if ((enc = malloc(B64_ENCODED_SIZE(k->bloblen))) != NULL) {
		(void)b64_encode(k->blob, k->bloblen, enc, 1);
		FUZZ_CHECK(strcmp(enc, k->b64) == 0,
		    "base64 kept is not the canonical encoding of the blob");
		free(enc);
	}
	FUZZ_CHECK(k->comment == NULL || strlen(k->comment) <= COMMENT_MAX,
	    "comment longer than COMMENT_MAX");
	pubkey_free(k);
	return 0;
}
