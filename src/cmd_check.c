/*
 * cmd_check.c -- keyadm check FILE...|-
 *
 * Parses and judges exactly as add would, and writes nothing.  Files of
 * any size are read in pieces and no key is kept, so memory stays flat
 * (add takes at most INPUT_MAX bytes a file).
 */
#include <getopt.h>
#include <stdio.h>

#include "ctx.h"
#include "err.h"
#include "intake.h"
#include "msg.h"

static const char usage_check[] = "usage: keyadm check FILE...|-";

/* check keeps nothing: a judged key is dropped once reported. */
static int
drop(void *arg, const char *src, size_t lineno, struct pubkey **k,
    const struct policy_result *pr)
{
	(void)arg;
	(void)src;
	(void)lineno;
	(void)k;
	(void)pr;
	return 0;
}

int
cmd_check(struct ctx *c, int argc, char **argv)
{
	struct intake	in;
	int		r;

	if ((r = ctx_help_only(argc, argv, 0, usage_check)) != 0)
		return r > 0 ? 0 : r;
	if (optind >= argc) {
		msg_err(NULL, "%s", usage_check);
		return KE_USAGE;
	}
	/* keys are judged as they are read; none is kept */
	if ((r = intake_init(c, &in, INTAKE_STREAM, drop, NULL)) != 0) {
		intake_free(&in);
		return r;
	}
	report_arr_begin(&c->out, NULL);
	r = intake_files(c, &in, argv + optind, argc - optind);
	report_arr_end(&c->out);
	if (r == 0)
		r = in.err != 0 ? in.err : in.rejected > 0 ? KE_POLICY : 0;
	intake_free(&in);
	return r;
}
