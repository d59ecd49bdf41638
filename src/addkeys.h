/*
 * addkeys.h -- install judged keys for one account: the core of add, and
 * of import for each account it touches.
 *
 * With the account's key file locked and a store transaction open (the
 * caller's): appends the lines that are missing, rewrites the lines whose
 * options change, replaces the file, then records each key and its grant.
 * A failed write has recorded no grant; a failed record after the write
 * leaves the caller to roll back, so the store never claims a line the
 * file lacks.
 *
 * Options (--restrict --from --command --option --expires --no-options):
 * when any is given they are the key's whole set, replacing what it had;
 * without any, a key already installed keeps its options.  --expires
 * alone renews: an installed key keeps its other options.
 */
#ifndef KEYADM_ADDKEYS_H
#define KEYADM_ADDKEYS_H

#include <stdint.h>
#include <sys/types.h>

#include "ctx.h"
#include "install.h"
#include "intake.h"
#include "revfile.h"
#include "sshopts.h"
#include "store.h"

enum addkeys_action {
	ACT_NONE = 0,		/* grant and line present */
	ACT_ADD,		/* new grant, new line */
	ACT_REPAIR,		/* grant known, line was missing */
	ACT_RECORD,		/* line present, grant was missing */
	ACT_UPDATE		/* grant and line present, new options */
};


/* What the command line asked for, beyond the keys. */
struct addkeys_args {
	const char	*reason;
	int		 dry_run;
	int		 skip;
	int		 force;
	int		 opts_given;	/* any option flag: the whole set */
	int		 expiry_only;	/* --expires alone: keep the rest */
	int		 no_options;
	struct sshopts	 so;
	char		*opts;		/* rendered; NULL when none */
};

/* The active grant of one key for the account, as stored. */
struct addkeys_grant {
	int64_t		 id;		/* 0: none */
	char		*options;
	int64_t		 expires_at;
};

struct addkeys_run {
	struct ctx		*c;
	const struct account	*acct;
	const struct addkeys_args	*a;
	const char		*reason;
	int			 dry_run;
	struct store		*st;
	struct keyfile		 kf;
	enum addkeys_action		*acts;
	int64_t			*grant_ids;
	int64_t			*key_ids;
	struct addkeys_grant	*old;		/* the grant before the add */
	char			**newopts;	/* options each grant gets */
	int64_t			*expires;	/* and its expiry (0: never) */
	ssize_t			*lineidx;	/* the key's line, or -1 */
	int			 lines;		/* lines written */
	int			 unlist;	/* --force: unlist after */
	char			*before;	/* dry run: the file as read */
	size_t			 blen;
	char			 msg[SAFEFS_MSG_MAX * 2];
	int			 shared_store;	/* st is the caller's */
	int			 written;	/* the file was replaced */
	int			 store_failed;	/* a store row failed */
	int			 no_diff;	/* dry run: no diff */
};

/* What revocation stands against one key. */
struct addkeys_revoked {
	int	listed;		/* in the revoked-keys file */
	int64_t	key_id;		/* 0: not in the store */
	int64_t	revoked_at;	/* revoked for every account (store) */
	int	user_revoked;	/* the account's last grant was revoked */
};

/* "unchanged", "added", "repaired", "recorded", "updated". */
const char *addkeys_action_name(enum addkeys_action a);

/*
 * One option flag (ch: 'R' --restrict, 'F' --from, 'C' --command,
 * 'o' --option, 'e' --expires, 'N' --no-options) into a; a usage error
 * names the flag on stderr.
 */
int	addkeys_opt(struct ctx *c, struct addkeys_args *a, int ch,
	    const char *arg);
/*
 * The options of add (flags ADDKEYS_GETOPT_ADD) or import, into a:
 * --reason, --dry-run, the key options above, and for add
 * --skip-rejected and --force.  optind is left at the first operand.
 * 0; 1 after --help (usage printed on stdout); or the error, its
 * message (with usage) printed.
 */
#define ADDKEYS_GETOPT_ADD	0x1
int	addkeys_getopt(struct ctx *c, int argc, char **argv, int flags,
	    const char *usage, struct addkeys_args *a);
/* After the flags: refuse what makes no sense, render the options. */
int	addkeys_args_check(struct addkeys_args *a);

/* The per-key arrays of ar for n keys; addkeys_free releases them. */
int	addkeys_alloc(struct addkeys_run *ar, size_t n);
/* Close the file, the store (unless shared_store) and free the arrays. */
void	addkeys_free(struct addkeys_run *ar, size_t n);
/* Open and lock the account's key file (made if missing, unless a dry run). */
int	addkeys_open(struct addkeys_run *ar);
/* Decide, for every key, what must change (ar->acts). */
int	addkeys_plan(struct addkeys_run *ar, const struct intake *in);
/*
 * Record the store rows and replace the file (inside the caller's
 * transaction); a dry run only reports the diff.  *changed: anything to do.
 */
int	addkeys_apply(struct addkeys_run *ar, const struct intake *in,
	    int *changed);
/* What revocation stands against k for ar's account (store may be NULL). */
int	addkeys_revoked_state(struct addkeys_run *ar, const struct revfile *rf,
	    const struct pubkey *k, struct addkeys_revoked *rs);
/* The whole of add for one account: its own store, transaction, report. */
int	addkeys_account(struct addkeys_run *ar, const struct intake *in);

#endif
