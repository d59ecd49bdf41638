/*
 * cmd_verify.c -- keyadm verify
 *
 * Checks the events log (store_verify_chain): every hash, every link to
 * the event before, ids running 1, 2, 3, ... without a gap, and the
 * append-only triggers as the schema made them.  Exit 0 when all holds,
 * or 1 (KE_FINDINGS) with one line on stderr per problem: the first
 * event that was altered, no longer follows the one before it or comes
 * after a gap in the ids, and triggers that are gone or altered.  Reads
 * the store only; a store that does not exist is KE_NOINPUT: there is
 * nothing to vouch for.
 *
 * Known limits: the hash has no secret, so someone who can write the
 * file can rewrite the log with recomputed hashes, renumbered ids and
 * recreated triggers, and verify passes; deleting the newest events
 * leaves a shorter chain that is just as intact.  So each event also goes
 * to syslog with its id and hash when it is committed (ctx.c), and
 * verify prints the newest hash: compare the ids and hashes with the
 * copy a central log received.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "err.h"
#include "msg.h"
#include "safefs.h"
#include "store.h"

static const char usage_verify[] = "usage: keyadm verify";

static int
verify_args(int argc, char **argv)
{
	int	r;

	if ((r = ctx_help_only(argc, argv, 0, usage_verify)) != 0)
		return r;
	if (optind != argc) {
		msg_err(NULL, "%s", usage_verify);
		return KE_USAGE;
	}
	return 0;
}

/*
 * The verdict: r is 0 (all intact) or KE_FINDINGS; problem is
 * store_errmsg, the chain's problem if it is broken, else the triggers'.
 * "intact" is the chain's (hashes, links, ids), "triggers_intact" the
 * triggers'.
 */
static void
verify_report(struct report *o, int r, const struct store_chain *ch,
    const char *problem)
{
	int	chain_ok = ch->problem == STORE_CHAIN_INTACT;
	int	trig_ok = ch->triggers == STORE_TRIGGERS_INTACT;

	report_obj_begin(o, NULL);
	report_int(o, "events_checked", (long long)ch->checked);
	report_bool(o, "intact", chain_ok);
	report_bool(o, "triggers_intact", trig_ok);
	if (chain_ok)
		report_str(o, "first_bad_id", NULL);
	else
		report_int(o, "first_bad_id", (long long)ch->bad_id);
	report_str(o, "problem", r != 0 ? problem : NULL);
	/* the newest hash vouches for the whole chain only when intact */
	report_str(o, "last_hash", chain_ok && ch->checked > 0 ?
	    ch->last_hash : NULL);
	report_obj_end(o);
	if (!chain_ok)
		report_text(o, "chain broken at event %lld after %lld event%s "
		    "checked", (long long)ch->bad_id, (long long)ch->checked,
		    ch->checked == 1 ? "" : "s");
	else if (ch->checked == 0)
		report_text(o, "0 events checked, chain intact");
	else
		report_text(o, "%lld event%s checked, chain intact; newest "
		    "hash %s", (long long)ch->checked, ch->checked == 1 ? "" :
		    "s", ch->last_hash);
	if (!trig_ok)
		report_text(o, "append-only triggers %s",
		    ch->triggers == STORE_TRIGGERS_MISSING ? "gone" :
		    "altered");
}

int
cmd_verify(struct ctx *c, int argc, char **argv)
{
	struct store		*st = NULL;
	struct store_chain	 ch;
	char			 msg[SAFEFS_MSG_MAX * 2], db[PATH_MAX * 2];
	int			 r;

	if ((r = verify_args(argc, argv)) != 0)
		return r > 0 ? 0 : r;
	(void)snprintf(db, sizeof(db), "%s%s", c->dispprefix, c->cfg.database);
	r = ctx_store_open(c, STORE_READONLY, &st, msg, sizeof(msg));
	if (r == KE_NOINPUT && ctx_store_absent(c)) {
		msg_err(db, "no store: nothing has been recorded");
		return r;
	}
	if (r != 0) {
		msg_line(msg);
		return r;
	}
	r = store_verify_chain(st, &ch);
	if (r != 0)
		msg_err(db, "%s", store_errmsg(st));
	/* a broken chain took store_errmsg; the triggers get a line too */
	if (r == KE_FINDINGS && ch.problem != STORE_CHAIN_INTACT &&
	    ch.triggers != STORE_TRIGGERS_INTACT)
		msg_err(db, "%s", store_triggers_str(ch.triggers));
	if (r == 0 || r == KE_FINDINGS)
		verify_report(&c->out, r, &ch, store_errmsg(st));
	store_close(st);
	return r;
}
