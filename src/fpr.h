/*
 * fpr.h -- key fingerprints as ssh-keygen -l prints them.
 *
 * Only libcrypto: the PAM module uses it without libssh.
 */
#ifndef KEYADM_FPR_H
#define KEYADM_FPR_H

#include <stddef.h>

#define FPR_MAX		64	/* "SHA256:" + 43 + NUL fits */

/*
 * "SHA256:" + unpadded base64 of the SHA-256 of blob into out (at least
 * FPR_MAX bytes).  0, or KE_INTERNAL.
 */
int	fpr_sha256(const unsigned char *blob, size_t len, char *out,
	    size_t outlen);
/*
 * The same with SHA-256 fetched once by the caller (an EVP_MD *, passed
 * as void * so that this header needs no OpenSSL): OpenSSL 3 fetches the
 * algorithm anew on every EVP_Digest with EVP_sha256(), which costs more
 * than hashing a key.  md NULL: as fpr_sha256.
 */
int	fpr_sha256_md(const void *md, const unsigned char *blob, size_t len,
	    char *out, size_t outlen);

#endif
