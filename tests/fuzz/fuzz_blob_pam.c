/*
 * fuzz_blob_pam.c -- the PAM module's blob reader (blob_judge, static in
 * pam/pam_keyadm.c), reached by compiling the module's source into this
 * file: nothing of the module is exported for the fuzzer.  A separate
 * file because the module's struct keytype and keyparse.h's enum keytype
 * cannot share one translation unit.
 */
#include "../../pam/pam_keyadm.c"

#include "fuzz_blob.h"

int
fuzz_pam_blob_judge(const char *type, size_t tlen, const unsigned char *blob,
    size_t len, char *fp, size_t fplen, int *cert)
{
	struct key	k;
	char		why[WHY_MAX];
	int		r;

	memset(&k, 0, sizeof(k));
	why[0] = '\0';
	r = blob_judge(type, tlen, blob, len, &k, why, sizeof(why));
	if (r != 0 && why[0] == '\0')
		abort();	/* a refusal always says why */
	(void)snprintf(fp, fplen, "%s", k.fp);
	*cert = k.cert;
	return r;
}
