/*
 * audit.h -- what the key files really grant, against what the store says.
 *
 * Reads only: audit never changes a file or the store.  Each account's key
 * file is found the way sshd finds it (the configured pattern), opened
 * through install.h (no link followed, no FIFO opened blocking, the
 * account's identity inside its home) and read under the file's lock, and
 * the account's grants are read from the store while that lock is held, so
 * a concurrent add or revoke is seen either wholly before or wholly after.
 *
 * Every finding has a kind whose name is a stable interface (scripts and
 * monitoring match on it), the account (none for the revoked-keys file),
 * the path, the fingerprint and line where there are ones, and a sentence.
 */
#ifndef KEYADM_AUDIT_H
#define KEYADM_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "authkeys.h"
#include "ctx.h"
#include "keyparse.h"
#include "policy.h"
#include "store.h"

enum audit_kind {
	AK_UNSAFE_PATH = 0,	/* a file or directory sshd would ignore,
				   or one keyadm will not touch */
	AK_UNMANAGED_KEY,	/* in a file, no grant in the store */
	AK_UNMANAGED_CA,	/* a cert-authority line: never managed */
	AK_MISSING_GRANT,	/* active grant, no line in the file */
	AK_REVOKED_KEY,		/* revoked key still in a file */
	AK_EXPIRED_KEY,		/* expired grant's key still in a file */
	AK_OPTIONS_CHANGED,	/* a line's options differ from the grant's */
	AK_POLICY_FAIL,		/* fails today's policy */
	AK_BAD_LINE,		/* a line sshd cannot use */
	AK_SHARED_KEY,		/* one key lets in several accounts */
	AK_UNUSED_GRANT,	/* not used for unused_days */
	AK_ORPHAN_GRANT,	/* active grant of an account that is gone */
	AK_REVFILE_UNREADABLE,	/* revoked-keys file sshd cannot read */
	AK_REVFILE_MISSING,	/* missing although keyadm has revoked */
	AK_REVOCATION_NOT_LISTED, /* store: revoked; file: not listed */
	AK_REVOCATION_UNRECORDED, /* file: listed; store: not revoked */
	AK_NKINDS
};

struct audit_finding {
	enum audit_kind	 kind;
	char		*user;		/* NULL: the whole machine */
	char		*path;		/* display path, or NULL */
	char		 fingerprint[FINGERPRINT_MAX];	/* "" when none */
	size_t		 line;		/* 1-based line of path, 0 when none */
	char		*message;	/* one sentence; may quote file text,
					   so escape it on output */
	size_t		 seq;		/* the account's place in the walk */
	size_t		 order;		/* the finding's place */
};

struct audit_seen;			/* audit.c: keys found in files */

/*
 * At most this many findings of one kind are listed for one account (a
 * file of a million junk lines must not take a gigabyte to report); the
 * rest are counted, and one more finding says how many were left out.
 */
#define AUDIT_LIST_MAX	1000

struct audit {
	struct ctx		*c;
	struct store		*st;	/* NULL when there is no store yet */
	struct audit_finding	*f;
	size_t			 n;
	size_t			 cap;
	size_t			 accounts;	/* accounts checked */
	size_t			 counts[AK_NKINDS];
	struct audit_seen	*seen;
	size_t			 nseen;
	size_t			 seencap;
	char			**paths;	/* each account's key file */
	size_t			 npaths;
	size_t			 pathcap;
	size_t			 here[AK_NKINDS];	/* this account's */
	size_t			 hidden[AK_NKINDS];	/* ... not listed */
	int			 capping;	/* while reading its lines */
	char			**revoked;	/* sorted fingerprints revoked
						   for every account */
	size_t			 nrevoked;
	char			**listed;	/* sorted fingerprints in the
						   revoked-keys file */
	size_t			 nlisted;
	int			 partial;	/* only some accounts walked */
};

/* What one line of a key file is, to sshd and to keyadm. */
enum audit_line {
	AL_BLANK = 0,		/* blank or a comment */
	AL_NOT_KEY,		/* no key sshd can read: it skips the line */
	AL_CA,			/* cert-authority: names a CA */
	AL_BAD_KEY,		/* a key keyparse refuses (sshd may not) */
	AL_KEY			/* a key, parsed */
};

/*
 * Classify line e.  fp gets the fingerprint of the line's blob whenever
 * it has one ("" otherwise).  For AL_KEY *k is the key parsed from the
 * line's decoded blob (the caller frees it), and *optbad is 1 when its
 * options are ones keyadm cannot vouch for (reason says why; sshd, less
 * strict, may still use the line).  For AL_BAD_KEY reason says why.
 * Returns the class, or KE_NOMEM / KE_INTERNAL.
 */
int	audit_line_parse(const struct authkeys_entry *e,
	    char fp[FINGERPRINT_MAX], struct pubkey **k, int *optbad,
	    char *reason, size_t reasonlen);

/* The reasons pr rejects a key for, joined with "; ", into buf. */
void	audit_policy_reasons(const struct policy_result *pr, char *buf,
	    size_t len);

/* The stable name of a kind ("unmanaged-key", ...). */
const char	*audit_kind_name(enum audit_kind k);

/* Start an audit; st may be NULL.  0 or KE_NOMEM. */
int	audit_init(struct audit *a, struct ctx *c, struct store *st);
void	audit_free(struct audit *a);

/*
 * The revoked-keys file against the store's revocations.  Call first: the
 * accounts' checks use what it lists.  0, or an error with msg filled
 * (findings are not errors).
 */
int	audit_revfile(struct audit *a, char *msg, size_t msglen);
/*
 * One account's key file.  0; 1 when it stayed locked past the busy
 * timeout and was read without the lock (msg says so: a warning); or an
 * error with msg filled.  An unsafe path, or a file too large to read, is
 * a finding, not an error.
 */
int	audit_account(struct audit *a, const struct account *acct, char *msg,
	    size_t msglen);
/*
 * Active grants of accounts that no longer exist.  only/nonly: the
 * accounts to look at (nonly 0: every account with a grant).
 */
int	audit_orphans(struct audit *a, char *const *only, size_t nonly,
	    char *msg, size_t msglen);
/*
 * After the accounts: keys found in the files of more than one account,
 * or in one account's file while the store grants them to others.
 */
int	audit_shared(struct audit *a, char *msg, size_t msglen);
/*
 * 1 when fp is revoked for every account: recorded in the store or listed
 * in the revoked-keys file (after audit_revfile).
 */
int	audit_revoked(const struct audit *a, const char *fp);
/* Order the findings: machine-wide first, then by account, then found. */
void	audit_sort(struct audit *a);

#endif
