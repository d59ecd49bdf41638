/*
 * cmd_history.c -- keyadm history [--user USER] [--key FP] [--since DATE]
 *
 * The audit trail (the events table), oldest first.  Reads the store only;
 * a store that does not exist yet has no events.  Untrusted text (actor,
 * detail) is escaped in text mode and JSON-escaped under --json.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "err.h"
#include "msg.h"
#include "safefs.h"
#include "sshopts.h"
#include "store.h"

#define FP_B64_LEN	43	/* unpadded base64 of a SHA-256 digest */

static const char usage_history[] =
    "usage: keyadm history [--user USER] [--key SHA256:FINGERPRINT] "
    "[--since DATE|DURATION]";

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* "SHA256:" and exactly 43 base64 characters, as ssh-keygen -l prints. */
static int
is_fingerprint(const char *s)
{
	return strncmp(s, "SHA256:", 7) == 0 && strlen(s + 7) == FP_B64_LEN &&
	    strspn(s + 7, b64_alphabet) == FP_B64_LEN;
}

/* After the loop: the values, checked. */
static int
history_check(struct ctx *c, struct store_event_query *q,
    const char *since)
{
	char	reason[SSHOPTS_REASON_MAX];

	if (q->user != NULL && !accounts_valid_name(q->user)) {
		msg_err(q->user, "not a valid user name");
		return KE_NOUSER;
	}
	if (q->fingerprint != NULL && !is_fingerprint(q->fingerprint)) {
		msg_err(q->fingerprint, "not a SHA256 fingerprint");
		return KE_USAGE;
	}
	reason[0] = '\0';
	if (since != NULL && sshopts_parse_since(since, c->now, &q->since,
	    reason, sizeof(reason)) != 0) {
		msg_err("--since", "%s", reason);
		return KE_USAGE;
	}
	return 0;
}

static int
history_args(struct ctx *c, int argc, char **argv,
    struct store_event_query *q)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "key", required_argument, NULL, 'k' },
		{ "since", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*since = NULL;
	int		 ch;

	optind = 0;	/* 0: a full reset of GNU getopt for the command */
	opterr = 0;	/* our own message, in our own form */
	while ((ch = getopt_long(argc, argv, "hk:s:u:", longopts,
	    NULL)) != -1) {
		if (ch == 'u')
			q->user = optarg;
		else if (ch == 'k')
			q->fingerprint = optarg;
		else if (ch == 's')
			since = optarg;
		else if (ch == 'h') {
			(void)printf("%s\n", usage_history);
			return 1;
		} else {
			msg_usage(argv[optind - 1], usage_history);
			return KE_USAGE;
		}
	}
	if (optind != argc) {
		msg_err(NULL, "%s", usage_history);
		return KE_USAGE;
	}
	return history_check(c, q, since);
}

static void
history_header(struct report *o)
{
	report_text(o, "%-20s %-12s %-10s %-12s %-50s %s", "TIME", "ACTOR",
	    "ACTION", "USER", "FINGERPRINT", "DETAIL");
}

static int
history_cb(const struct store_event_row *e, void *arg)
{
	struct report	*o = arg;
	char		 t[32], actor[128], action[64], user[128], fp[128];
	char		 detail[MSG_MAX];

	if (!o->json) {
		report_text(o, "%-20s %-12s %-10s %-12s %-50s %s",
		    report_fmt_time(e->at, t, sizeof(t)),
		    report_esc(e->actor, actor, sizeof(actor)),
		    report_esc(e->action, action, sizeof(action)),
		    e->user != NULL ? report_esc(e->user, user,
		    sizeof(user)) : "-", e->fingerprint != NULL ?
		    report_esc(e->fingerprint, fp, sizeof(fp)) : "-",
		    e->detail != NULL ? report_esc(e->detail, detail,
		    sizeof(detail)) : "-");
		return 0;
	}
	report_obj_begin(o, NULL);
	report_int(o, "id", (long long)e->id);
	report_time(o, "at", e->at);
	report_str(o, "actor", e->actor);
	report_int(o, "actor_uid", e->actor_uid);
	report_str(o, "action", e->action);
	report_str(o, "user", e->user);
	report_str(o, "fingerprint", e->fingerprint);
	report_str(o, "detail", e->detail);
	report_str(o, "hash", e->hash);
	report_obj_end(o);
	return 0;
}

int
cmd_history(struct ctx *c, int argc, char **argv)
{
	struct store_event_query	 q;
	struct store			*st = NULL;
	char				 msg[SAFEFS_MSG_MAX * 2];
	char				 db[PATH_MAX * 2];
	int				 r;

	memset(&q, 0, sizeof(q));
	if ((r = history_args(c, argc, argv, &q)) != 0)
		return r > 0 ? 0 : r;
	r = ctx_store_open(c, STORE_READONLY, &st, msg, sizeof(msg));
	if (r == KE_NOINPUT && ctx_store_absent(c))
		r = 0;		/* no store yet: nothing has happened */
	else if (r != 0) {
		msg_line(msg);
		return r;
	}
	report_arr_begin(&c->out, NULL);
	history_header(&c->out);
	if (st != NULL)
		r = store_events_find(st, &q, history_cb, &c->out);
	report_arr_end(&c->out);
	if (r != 0) {
		(void)snprintf(db, sizeof(db), "%s%s", c->dispprefix,
		    c->cfg.database);
		msg_err(db, "%s", store_errmsg(st));
	}
	store_close(st);
	return r;
}
