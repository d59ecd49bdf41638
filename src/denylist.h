/*
 * denylist.h -- fingerprints of keys that must never be installed
 * (published, leaked or otherwise known compromised keys).
 *
 * No I/O: the caller reads the file (deny_list = PATH) through safefs and
 * hands over its bytes.  Lookups are a binary search.
 */
#ifndef KEYADM_DENYLIST_H
#define KEYADM_DENYLIST_H

#include <stddef.h>

#include "keyparse.h"

#define DENYLIST_MAX	(64 * 1024 * 1024)	/* largest file we read */

struct denylist {
	char	(*fps)[FINGERPRINT_MAX];	/* sorted */
	size_t	  n;
};

/*
 * Parse a deny list: one entry a line, either a fingerprint "SHA256:..."
 * or an OpenSSH public key line ("type base64 [comment]", whose fingerprint
 * is taken), optionally followed by blank space and a note; '#' comments
 * and blank lines are ignored.  KE_CONFIG with "<name>:<line>: <problem>"
 * in msg for a line that is neither.
 */
int	denylist_parse(const char *name, const char *buf, size_t len,
	    struct denylist **out, char *msg, size_t msglen);
/* 1 when fingerprint is listed. */
int	denylist_contains(const struct denylist *dl, const char *fingerprint);
void	denylist_free(struct denylist *dl);

#endif
