/*
 * fpr.c -- key fingerprints (see fpr.h).
 */
#include <string.h>

#include <openssl/evp.h>

#include "b64.h"
#include "err.h"
#include "fpr.h"

#define SHA256_BYTES	32
#define FPR_PREFIX	"SHA256:"

int
fpr_sha256(const unsigned char *blob, size_t len, char *out, size_t outlen)
{
	return fpr_sha256_md(NULL, blob, len, out, outlen);
}

int
fpr_sha256_md(const void *fetched, const unsigned char *blob, size_t len,
    char *out, size_t outlen)
{
	unsigned char	md[SHA256_BYTES];
	unsigned int	mdlen = 0;
	size_t		pl = sizeof(FPR_PREFIX) - 1;

	if (out == NULL || outlen < pl + B64_ENCODED_SIZE(SHA256_BYTES) ||
	    (blob == NULL && len != 0))
		return KE_INTERNAL;
	if (EVP_Digest(blob, len, md, &mdlen, fetched != NULL ? fetched :
	    EVP_sha256(), NULL) != 1 || mdlen != SHA256_BYTES)
		return KE_INTERNAL;
	memcpy(out, FPR_PREFIX, pl);
	(void)b64_encode(md, sizeof(md), out + pl, 0);
	return 0;
}
