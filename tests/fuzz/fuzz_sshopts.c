/*
 * fuzz_sshopts.c -- the options field in front of a key in an
 * authorized_keys file, as sshopts_check, sshopts_expiry and
 * sshopts_with_expiry (renewing a key found with options) read it.
 *
 * Checked besides memory safety, from the invariants of sshopts.c:
 *  - check and expiry agree on what is well-formed;
 *  S5 a reason holds printable ASCII only;
 *  - sshopts_with_expiry on a checked string gives a string that checks
 *    and whose expiry is exactly the one asked for (none for 0), or
 *    refuses it as too long (KE_MALFORMED).
 */
#include "fuzz.h"

#include "err.h"
#include "sshopts.h"

#define RENEW_AT	INT64_C(1900000000)	/* 2030-03-17T17:46:40Z */

static void
check_renew(const char *opts, int64_t t)
{
	char	*out = NULL;
	int64_t	 e;
	int	 r;

	r = sshopts_with_expiry(opts, t, &out);
	FUZZ_CHECK(r == 0 || r == KE_MALFORMED || r == KE_NOMEM,
	    "with_expiry gives an unexpected code");
	if (r != 0) {
		FUZZ_CHECK(out == NULL, "refused with_expiry with a result");
		return;
	}
	FUZZ_CHECK(sshopts_check(out, strlen(out), NULL, 0) == 0,
	    "with_expiry made options that do not check");
	FUZZ_CHECK(sshopts_expiry(out, strlen(out), &e) == 0 && e == t,
	    "with_expiry made options with another expiry");
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 reason[SSHOPTS_REASON_MAX], *opts;
	int64_t	 t;
	size_t	 i;
	int	 r, re;

	if (size > SSHOPTS_MAX + 16)
		return 0;
	memset(reason, 0, sizeof(reason));
	r = sshopts_check((const char *)data, size, reason, sizeof(reason));
	re = sshopts_expiry((const char *)data, size, &t);
	FUZZ_CHECK((r == 0) == (re == 0),
	    "sshopts_check and sshopts_expiry disagree");
	FUZZ_CHECK(r == 0 || r == KE_MALFORMED, "check gives an unexpected "
	    "code");
	if (r != 0) {
		FUZZ_CHECK(fuzz_has_text(reason, sizeof(reason)),
		    "refused options without reason");
		for (i = 0; reason[i] != '\0'; i++)
			FUZZ_CHECK(reason[i] >= ' ' && reason[i] <= '~',
			    "S5: reason holds a byte outside printable ASCII");
		return 0;
	}
	FUZZ_CHECK(t >= 0, "negative expiry-time");
	if (memchr(data, '\0', size) != NULL ||
	    (opts = fuzz_cstr(data, size)) == NULL)
		return 0;
	check_renew(opts, RENEW_AT);
	check_renew(opts, 0);
	free(opts);
	return 0;
}
