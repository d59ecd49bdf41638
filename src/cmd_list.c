/*
 * cmd_list.c -- keyadm list [USER] [--status active|revoked|expired|all]
 * [--unused-for DAYS]
 *
 * Reads the store only; a store that does not exist yet lists nothing.
 * Last use comes from pam_keyadm (last_used_at, last_used_from,
 * use_count); --unused-for DAYS keeps the grants with no login in the
 * last DAYS days, counting a never-used grant from when it was added.
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
    "[--status active|revoked|expired|removed|all] [--unused-for DAYS]";

#define DAY		86400
#define UNUSED_MAX	36500	/* days: a hundred years */

struct list_args {
	struct ctx	*c;
	int64_t		 before;	/* --unused-for: no use since; 0: all */
};

static int
list_cb(const struct store_grant *g, void *arg)
{
	struct list_args	*la = arg;
	int64_t			 used;

	used = g->last_used_at != 0 ? g->last_used_at : g->added_at;
	if (la->before != 0 && used > la->before)
		return 0;
	report_grant(&la->c->out, g, la->c->now);
	return 0;
}

/* DAYS of --unused-for: a whole number 0..UNUSED_MAX. */
static int
parse_days(const char *v, unsigned int *days)
{
	unsigned long	n = 0;
	const char	*p;

	if (*v == '\0' || strlen(v) > 5)
		return -1;
	for (p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n > UNUSED_MAX)
		return -1;
	*days = (unsigned int)n;
	return 0;
}

static int
list_args(int argc, char **argv, const char **status, int *unused,
    unsigned int *days)
{
	static const struct option longopts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "unused-for", required_argument, NULL, 'u' },
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
		if (ch == 'u') {
			if (parse_days(optarg, days) != 0) {
				msg_err("--unused-for", "must be a number of "
				    "days from 0 to %d", UNUSED_MAX);
				return KE_USAGE;
			}
			*unused = 1;
			continue;
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
	struct list_args la = { c, 0 };
	const char	*status = "active", *user = NULL;
	char		 msg[SAFEFS_MSG_MAX * 2];
	unsigned int	 days = 0;
	int		 r, unused = 0;

	if ((r = list_args(argc, argv, &status, &unused, &days)) != 0)
		return r > 0 ? 0 : r;
	/* "unused for 0 days": every grant, which is what it says */
	if (unused)
		la.before = c->now - (int64_t)days * DAY;
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
		    NULL : status, list_cb, &la);
	report_arr_end(&c->out);
	if (r != 0 && st != NULL)
		(void)ctx_store_fail(c, st, r);
	store_close(st);
	return r;
}
