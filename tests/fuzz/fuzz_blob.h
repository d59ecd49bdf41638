/* fuzz_blob.h -- the PAM module's blob reader, for fuzz_blob.c. */
#ifndef KEYADM_FUZZ_BLOB_H
#define KEYADM_FUZZ_BLOB_H

#include <stddef.h>

/*
 * blob_judge of pam_keyadm.c on a blob declared as type: 0 with the
 * fingerprint in fp and *cert set, or -1.
 */
int	fuzz_pam_blob_judge(const char *type, size_t tlen,
	    const unsigned char *blob, size_t len, char *fp, size_t fplen,
	    int *cert);

#endif
