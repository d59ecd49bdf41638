/*
 * fuzz_denylist.c -- the deny list of compromised keys (deny_list = PATH
 * in keyadm.conf: a file often fetched from elsewhere), as
 * denylist_parse reads it.  main reads it with safefs_read, which hands
 * over the bytes NUL-terminated; the parser must keep within len all the
 * same, so it is given libFuzzer's exact-size buffer, with nothing after.
 *
 * Checked besides memory safety: an error leaves no list and names the
 * file; a parsed list is sorted and finds every fingerprint it holds.
 */
#include "fuzz.h"

#include "denylist.h"
#include "err.h"
#include "keyparse.h"

#define NAME	"/etc/keyadm/deny"

FUZZ_INIT_KEYPARSE()

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct denylist	*dl = NULL;
	char		 msg[1024];
	size_t		 i;
	int		 r;

	if (size > 1024 * 1024)
		return 0;
	msg[0] = '\0';
	r = denylist_parse(NAME, (const char *)data, size, &dl, msg,
	    sizeof(msg));
	if (r != 0) {
		FUZZ_CHECK(dl == NULL, "refused list with a list");
		FUZZ_CHECK(r == KE_NOMEM || strncmp(msg, NAME ":",
		    sizeof(NAME)) == 0, "list error does not name the file");
	} else {
		FUZZ_CHECK(dl != NULL, "parsed list missing");
		for (i = 0; i < dl->n; i++) {
			FUZZ_CHECK(strncmp(dl->fps[i], "SHA256:", 7) == 0,
			    "an entry is not a SHA256 fingerprint");
			FUZZ_CHECK(i == 0 || strcmp(dl->fps[i - 1],
			    dl->fps[i]) <= 0, "list not sorted");
			FUZZ_CHECK(denylist_contains(dl, dl->fps[i]),
			    "a listed fingerprint is not found");
		}
	}
	denylist_free(dl);
	return 0;
}
