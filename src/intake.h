/*
 * intake.h -- read submitted files, parse them, judge every key.
 *
 * Shared by check, add and import so that check runs exactly what add
 * would (doas -C's idea).  Every key's verdict is reported as it is
 * judged (with INTAKE_ONLY_REJECTS, only the refusals).
 */
#ifndef KEYADM_INTAKE_H
#define KEYADM_INTAKE_H

#include "ctx.h"
#include "keyparse.h"
#include "policy.h"

struct fpset;

struct intake_key {
	const char		*source;	/* borrowed from the caller */
	size_t			 lineno;
	struct pubkey		*key;		/* owned */
	struct policy_result	 verdict;
};

/*
 * Where an accepted (or warned) key goes: take it by setting *k = NULL,
 * or leave it to be freed.  A non-zero return stops the intake and is
 * returned.
 */
typedef int (*intake_take_fn)(void *arg, const char *src, size_t lineno,
	    struct pubkey **k, const struct policy_result *pr);

enum intake_flags {
	INTAKE_STREAM = 1 << 0,		/* files of any size, read in pieces */
	INTAKE_ONLY_REJECTS = 1 << 1,	/* report refusals, not every key */
	INTAKE_EVERY = 1 << 2		/* judge repeats too (the caller sorts
					   them out) */
};

struct intake {
	struct intake_key	*keys;		/* accepted or warned keys */
	size_t			 n;
	size_t			 judged;	/* distinct keys judged */
	size_t			 warned;	/* of them: accepted, warned */
	size_t			 rejected;	/* refused (policy or form) */
	int			 err;		/* worst non-policy error */
	int			 flags;
	intake_take_fn		 take;		/* NULL: keep in keys[] */
	void			*arg;
	struct fpset		*seen;		/* NULL: no deduplication */
};

/*
 * Get c's policy ready to judge keys: build the weak-key tables once per
 * run (c->weak, c->cfg.policy.weak).  0, or a KE_* after a message.
 */
int	intake_prepare(struct ctx *c);

/*
 * Start an intake: flags, and where accepted keys go (take NULL: they
 * are kept in in->keys).  Keys already seen in this intake are judged
 * once.  The weak-key tables are built when the first RSA key comes.
 * 0, or a KE_* after a message.
 */
int	intake_init(struct ctx *c, struct intake *in, int flags,
	    intake_take_fn take, void *arg);

/*
 * Judge every key in files (paths, or "-" for standard input).  Reports
 * each verdict through c->out and each error on stderr.  Returns 0 when the
 * intake ran (look at in->rejected and in->err), KE_NOMEM otherwise, or
 * what in->take returned.  Without INTAKE_STREAM a file may hold at most
 * INPUT_MAX bytes; with it, any size, read KEYFILE_MAX at a time.
 */
int	intake_files(struct ctx *c, struct intake *in, char *const *files,
	    int nfiles);

/*
 * Judge one submission already read (a keydir file of import): src names
 * it.  Same rules and reports as one file of intake_files.
 */
int	intake_buf(struct ctx *c, struct intake *in, const char *src,
	    const unsigned char *buf, size_t len);

/*
 * Judge one parsed key (or failed line) found at src:lineno, in the
 * submission format fmt; res->key is taken or freed.
 */
int	intake_result(struct ctx *c, struct intake *in, const char *src,
	    struct keyparse_result *res);

/*
 * A whole submission refused before any key was read (unreadable, a
 * link, a private key): msg says why; prefixed when it already starts
 * with the file's name.  0, or KE_NOMEM when err is KE_NOMEM.
 */
int	intake_file_error(struct ctx *c, struct intake *in, const char *src,
	    int err, const char *msg, int prefixed);

void	intake_free(struct intake *in);

#endif
