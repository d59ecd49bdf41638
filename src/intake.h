/*
 * intake.h -- read submitted files, parse them, judge every key.
 *
 * Shared by check and add so that check runs exactly what add would
 * (doas -C's idea).  Every key's verdict is reported as it is judged.
 */
#ifndef KEYADM_INTAKE_H
#define KEYADM_INTAKE_H

#include "ctx.h"
#include "keyparse.h"
#include "policy.h"

struct intake_key {
	const char		*source;	/* borrowed from argv */
	size_t			 lineno;
	struct pubkey		*key;		/* owned */
	struct policy_result	 verdict;
};

struct intake {
	struct intake_key	*keys;		/* accepted or warned keys */
	size_t			 n;
	size_t			 rejected;	/* refused by policy */
	int			 err;		/* worst non-policy error */
};

/*
 * Get c's policy ready to judge keys: build the weak-key tables once per
 * run (c->weak, c->cfg.policy.weak).  0, or a KE_* after a message.
 */
int	intake_prepare(struct ctx *c);

/*
 * Judge every key in files (paths, or "-" for standard input).  Reports
 * each verdict through c->out and each error on stderr.  Returns 0 when the
 * intake ran (look at in->rejected and in->err), KE_NOMEM otherwise.
 * Duplicate keys in a submission are kept once.
 */
int	intake_files(struct ctx *c, char **files, int nfiles,
	    struct intake *in);
void	intake_free(struct intake *in);

#endif
