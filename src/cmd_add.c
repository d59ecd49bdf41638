/*
 * cmd_add.c -- keyadm add USER FILE...|- [options] [--reason TEXT]
 *	[--dry-run] [--skip-rejected] [--force]
 *
 * Judges every submitted key; installs nothing unless every key passes.
 * A revoked key (listed in the revoked-keys file, or whose last grant for
 * the account was revoked) is refused unless --force and --reason say to
 * reinstate it; then it is first taken out of the revoked-keys file.
 * Then, holding the file's lock and a store transaction: records each key
 * and its grant, appends the lines that are missing, rewrites the lines
 * whose options change, replaces the file, and commits.  A failed write
 * rolls the store back, so the store never claims a line the file lacks.
 *
 * The work is addkeys.c's (shared with import); this file parses the
 * command line and hands the judged keys over.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addkeys.h"
#include "ctx.h"
#include "err.h"
#include "intake.h"
#include "msg.h"

static const char usage_add[] =
    "usage: keyadm add USER FILE...|- [--restrict] [--from PATTERNS] "
    "[--command CMD] [--option OPT]... [--expires DATE|DURATION] "
    "[--no-options] [--reason TEXT] [--dry-run] [--skip-rejected] "
    "[--force]";

static int
add_args(struct ctx *c, int argc, char **argv, struct addkeys_args *a)
{
	int	r;

	if ((r = addkeys_getopt(c, argc, argv, ADDKEYS_GETOPT_ADD, usage_add,
	    a)) != 0)
		return r;
	if (argc - optind < 2) {
		msg_err(NULL, "%s", usage_add);
		return KE_USAGE;
	}
	return addkeys_args_check(a);
}

int
cmd_add(struct ctx *c, int argc, char **argv)
{
	struct addkeys_run	ar;
	struct addkeys_args	a;
	struct account	acct;
	struct intake	in;
	int		worst = 0, r;

	memset(&a, 0, sizeof(a));
	memset(&in, 0, sizeof(in));
	sshopts_init(&a.so);
	if ((r = add_args(c, argc, argv, &a)) != 0) {
		sshopts_free(&a.so);
		free(a.opts);
		return r > 0 ? 0 : r;
	}
	if ((r = c->lookup(c, argv[optind], &acct)) != 0) {
		msg_err(argv[optind], "%s", r == KE_NOUSER ? "unknown user" :
		    r == KE_CONFIG ? "home directory is not an absolute path" :
		    "cannot read the password database");
		/* --json: one document on every failure, as documented */
		report_obj_begin(&c->out, NULL);
		report_bool(&c->out, "changed", 0);
		report_bool(&c->out, "dry_run", a.dry_run);
		report_str(&c->out, "user", argv[optind]);
		report_str(&c->out, "error", keyadm_strerror(r));
		report_obj_end(&c->out);
		sshopts_free(&a.so);
		free(a.opts);
		return r;
	}
	memset(&ar, 0, sizeof(ar));
	ar.kf.dirfd = -1;
	ar.kf.lockfd = -1;
	ar.c = c;
	ar.acct = &acct;
	ar.a = &a;
	ar.reason = a.reason;
	ar.dry_run = a.dry_run;
	report_obj_begin(&c->out, NULL);
	report_arr_begin(&c->out, "verdicts");
	if ((r = intake_init(c, &in, 0, NULL, NULL)) == 0)
		r = intake_files(c, &in, argv + optind + 1, argc - optind - 1);
	report_arr_end(&c->out);
	if (r == 0 && (in.err != 0 || in.rejected > 0)) {
		worst = in.err != 0 ? in.err : KE_POLICY;
		if (!a.skip || in.n == 0) {
			r = worst;
			msg_err(acct.name, "nothing installed: %s",
			    in.err != 0 ? "the submission has errors" :
			    "a key was refused");
		} else
			msg_err(acct.name, "--skip-rejected: installing the "
			    "%zu accepted key%s, skipping the rest", in.n,
			    in.n == 1 ? "" : "s");
	}
	if (r == 0)
		r = addkeys_account(&ar, &in);
	report_bool(&c->out, "skipped_rejected", a.skip && worst != 0);
	if (r != 0)
		report_bool(&c->out, "changed", 0);	/* nothing was done */
	else
		r = worst;	/* what was skipped still decides the status */
	if (r != 0)
		report_str(&c->out, "error", keyadm_strerror(r));
	report_obj_end(&c->out);
	addkeys_free(&ar, in.n);
	intake_free(&in);
	sshopts_free(&a.so);
	free(a.opts);
	return r;
}
