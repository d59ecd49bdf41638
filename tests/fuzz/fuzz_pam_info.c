/*
 * fuzz_pam_info.c -- SSH_AUTH_INFO_0 as the PAM module reads it from the
 * PAM environment (info_parse, line_judge and the blob reader, static in
 * pam/pam_keyadm.c).  The module's source is compiled into this file, so
 * nothing of it is exported for the fuzzer and no PAM stack, database or
 * sshd is needed.  pam_getenv hands the module a C string: the input is
 * given NUL-terminated, a NUL inside it ends it there as it would.
 *
 * Checked besides memory safety: a refusal says why; an accepted login
 * has at most KEYS_MAX keys, each with a SHA256 fingerprint.
 */
#include "../../pam/pam_keyadm.c"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct login	*lg;
	char		 why[WHY_MAX], *info;
	size_t		 i;
	int		 r;

	if (size > INFO_MAX + 16)
		return 0;
	if ((lg = calloc(1, sizeof(*lg))) == NULL)
		return 0;
	if ((info = fuzz_cstr(data, size)) == NULL) {
		free(lg);
		return 0;
	}
	why[0] = '\0';
	r = info_parse(info, lg, why, sizeof(why));
	if (r != 0) {
		FUZZ_CHECK(r == -1, "info_parse gives another code");
		FUZZ_CHECK(fuzz_has_text(why, sizeof(why)),
		    "refused SSH_AUTH_INFO_0 without reason");
	} else {
		FUZZ_CHECK(lg->nkeys <= KEYS_MAX, "more keys than KEYS_MAX");
		for (i = 0; i < lg->nkeys; i++)
			FUZZ_CHECK(strncmp(lg->keys[i].fp, "SHA256:", 7) == 0,
			    "a judged key without fingerprint");
	}
	free(info);
	free(lg);
	return 0;
}
