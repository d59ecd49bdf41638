/*
 * withdraw.h -- take keys away from one account: revoke and expire.
 *
 * Holding the key file's lock and a store transaction: close each key's
 * grant (for expire, only if its time has really passed: it may have been
 * renewed meanwhile, and then its lines stay), remove every line carrying
 * each key (sshd tries the next line when one fails, so one leftover line
 * is still access), append an event per key, replace the file, commit.  A file that
 * cannot be changed leaves the grants active: the store never says a key
 * is gone while its line is still there.  With dry_run nothing is written
 * and the change is reported as a diff.
 */
#ifndef KEYADM_WITHDRAW_H
#define KEYADM_WITHDRAW_H

#include <limits.h>

#include "ctx.h"
#include "store.h"

struct withdraw_key {
	const char		*fingerprint;
	const unsigned char	*blob;
	size_t			 bloblen;
	int64_t			 grant_id;	/* 0: no grant to close */
	size_t			 lines;		/* out: lines removed */
	int			 closed;	/* out: grant closed */
};

struct withdraw {
	const char		*user;
	const char		*status;	/* "revoked", "expired" */
	const char		*action;	/* event: "revoke", "expire" */
	const char		*reason;
	int			 dry_run;
	int			 only_closed;	/* keep the lines of a grant
						   that could not be closed */
	struct withdraw_key	*keys;
	size_t			 n;
	char			 path[PATH_MAX];	/* out: display path */
	int			 no_account;	/* out: account is gone */
	int			 store_failed;	/* out: the failure was the
						   store's: the next account
						   would fail the same way */
};

/*
 * Do it for w->user.  st may be NULL for a dry run without a store.  On
 * failure msg holds "<object>: <problem>" and nothing was changed.  A
 * deleted account has its grants closed with nothing else to change.
 */
int	withdraw_user(struct ctx *c, struct store *st, struct withdraw *w,
	    char *msg, size_t msglen);

#endif
