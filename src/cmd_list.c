/*
 * cmd_list.c -- keyadm list [USER] [--status active|revoked|expired|all]
 *
 * Reads the store only; a store that does not exist yet lists nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "err.h"
#include "msg.h"
#include "safefs.h"
#include "store.h"

static const char usage_list[] =
    "usage: keyadm list [USER] "
    "[--status active|revoked|expired|removed|all]";

static int
list_cb(const struct store_grant *g, void *arg)
{
	struct ctx	*c = arg;

	report_grant(&c->out, g, c->now);
	return 0;
}

static int
list_args(int argc, char **argv, const char **status)
{
	static const struct option longopts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	optind = 0;	/* 0: a full reset of GNU getopt for the command */
	opterr = 0;	/* our own message, in our own form */
	while ((ch = getopt_long(argc, argv, "hs:", longopts, NULL)) != -1) {
		if (ch == 'h') {
			(void)printf("%s\n", usage_list);
			return 1;
		}
		if (ch != 's') {
			msg_usage(argv[optind - 1], usage_list);
			return KE_USAGE;
		}
		*status = optarg;
	}
	if (strcmp(*status, "active") != 0 && strcmp(*status, "revoked") != 0 &&
	    strcmp(*status, "expired") != 0 && strcmp(*status, "removed") != 0 &&
	    strcmp(*status, "all") != 0) {
		msg_err("--status", "must be active, revoked, expired, removed "
		    "or all");
		return KE_USAGE;
	}
	if (argc - optind > 1) {
		msg_err(NULL, "%s", usage_list);
		return KE_USAGE;
	}
	return 0;
}

int
cmd_list(struct ctx *c, int argc, char **argv)
{
	struct store	*st = NULL;
	const char	*status = "active", *user = NULL;
	char		 msg[SAFEFS_MSG_MAX * 2];
	int		 r;

	if ((r = list_args(argc, argv, &status)) != 0)
		return r > 0 ? 0 : r;
	if (optind < argc) {
		user = argv[optind];
		/* an account deleted since still has its grants listed */
		if (!accounts_valid_name(user)) {
			msg_err(user, "not a valid user name");
			return KE_NOUSER;
		}
	}
	r = ctx_store_open(c, STORE_READONLY, &st, msg, sizeof(msg));
	if (r != 0 && r != KE_NOINPUT) {
		msg_line(msg);
		return r;
	}
	if (r == KE_NOINPUT)
		r = 0;		/* no store yet: nothing granted */
	report_arr_begin(&c->out, NULL);
	report_grant_header(&c->out);
	if (st != NULL)
		r = store_grants_list(st, user, strcmp(status, "all") == 0 ?
		    NULL : status, list_cb, c);
	report_arr_end(&c->out);
	if (r != 0 && st != NULL) {
		msg_err(c->cfg.database, "%s", store_errmsg(st));
	}
	store_close(st);
	return r;
}
