/*
 * cmd_add.c -- keyadm add USER FILE...|- [--reason TEXT] [--dry-run]
 *
 * Judges every submitted key; installs nothing unless every key passes.
 * Then, holding the file's lock and a store transaction: records each key
 * and its grant, appends the lines that are missing, replaces the file, and
 * commits.  A failed write rolls the store back, so the store never claims
 * a line the file lacks.  Adding a key already installed changes nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ctx.h"
#include "err.h"
#include "install.h"
#include "intake.h"
#include "msg.h"
#include "store.h"

#define REASON_MAX	1024

static const char usage_add[] =
    "usage: keyadm add USER FILE...|- [--reason TEXT] [--dry-run] "
    "[--skip-rejected]";

enum add_action {
	ACT_NONE = 0,		/* grant and line present */
	ACT_ADD,		/* new grant, new line */
	ACT_REPAIR,		/* grant known, line was missing */
	ACT_RECORD		/* line present, grant was missing */
};

static const char *const act_names[] = {
	"unchanged", "added", "repaired", "recorded"
};

struct add_run {
	struct ctx		*c;
	const struct account	*acct;
	const char		*reason;
	int			 dry_run;
	struct store		*st;
	struct keyfile		 kf;
	enum add_action		*acts;
	int64_t			*grant_ids;
	int64_t			*key_ids;
	ssize_t			*lineidx;	/* line carrying the key, or -1 */
	int			 lines;		/* lines appended */
	char			 msg[SAFEFS_MSG_MAX * 2];
};

/*
 * Text with no control or invisible characters (printable UTF-8 allowed),
 * at most max bytes: msg_escape must leave it as it is.
 */
static int
printable(const char *s, size_t max)
{
	char	copy[REASON_MAX + 1], esc[REASON_MAX * 4 + 1], *p;
	size_t	n = strlen(s);

	if (n > max || n >= sizeof(copy))
		return 0;
	memcpy(copy, s, n + 1);
	for (p = copy; *p != '\0'; p++)
		if (*p == '\\')
			*p = '/';	/* msg_escape doubles backslashes */
	msg_escape(copy, n, esc, sizeof(esc));
	return strcmp(esc, copy) == 0;
}

static int
add_args(struct ctx *c, int argc, char **argv, const char **reason,
    int *dry_run, int *skip)
{
	static const struct option longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "skip-rejected", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	(void)c;
	optind = 0;	/* 0: a full reset of GNU getopt for the command */
	while ((ch = getopt_long(argc, argv, "hnr:s", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			*reason = optarg;
			break;
		case 'n':
			*dry_run = 1;
			break;
		case 's':
			*skip = 1;
			break;
		case 'h':
			(void)printf("%s\n", usage_add);
			return 1;
		default:
			msg_err(NULL, "%s", usage_add);
			return KE_USAGE;
		}
	}
	if (argc - optind < 2) {
		msg_err(NULL, "%s", usage_add);
		return KE_USAGE;
	}
	if (*reason != NULL && !printable(*reason, REASON_MAX)) {
		msg_err("--reason", "must be one line of at most %d printable "
		    "bytes", REASON_MAX);
		return KE_USAGE;
	}
	return 0;
}

/* A store failure as "<database>: <problem>". */
static void
store_msg(struct add_run *ar, int err)
{
	(void)snprintf(ar->msg, sizeof(ar->msg), "%.400s%.400s: %.200s",
	    ar->c->dispprefix, ar->c->cfg.database, ar->st != NULL ?
	    store_errmsg(ar->st) : keyadm_strerror(err));
}

/* Open the store: read-only (and maybe absent) for a dry run. */
static int
add_store(struct add_run *ar)
{
	struct ctx	*c = ar->c;
	int		 r;

	r = store_open(c->rootfd, c->dispprefix, c->cfg.database,
	    ar->dry_run ? STORE_READONLY : STORE_CREATE,
	    (int)c->cfg.busy_timeout_ms, &ar->st, ar->msg, sizeof(ar->msg));
	if (r == KE_NOINPUT && ar->dry_run) {
		ar->st = NULL;
		return 0;
	}
	if (r != 0)
		msg_line(ar->msg);
	return r;
}

struct find_arg {
	const char	*fingerprint;
	int64_t		 id;
};

static int
find_cb(const struct store_grant *g, void *arg)
{
	struct find_arg	*fa = arg;

	if (strcmp(g->fingerprint, fa->fingerprint) != 0)
		return 0;
	fa->id = g->id;
	return 1;
}

/* Active grant id of k for the account, or 0; read-only (dry run). */
static int
add_lookup(struct add_run *ar, const struct pubkey *k, size_t i)
{
	struct find_arg	fa = { k->fingerprint, 0 };
	struct store_key sk = { k->fingerprint, k->typename, k->bits, k->b64,
			    k->comment };
	int		r;

	if (ar->st == NULL)
		return 0;
	if (ar->dry_run) {
		r = store_grants_list(ar->st, ar->acct->name, "active",
		    find_cb, &fa);
		ar->grant_ids[i] = fa.id;
		return r < 0 ? r : 0;
	}
	if ((r = store_key_upsert(ar->st, &sk, ar->c->now,
	    &ar->key_ids[i])) != 0)
		return r;
	r = store_grant_find_active(ar->st, ar->acct->name, ar->key_ids[i],
	    &ar->grant_ids[i]);
	return r < 0 ? r : 0;
}

/* Decide, for every key, what must change. */
static int
add_plan(struct add_run *ar, const struct intake *in)
{
	const struct pubkey	*k;
	size_t			 i;
	int			 present, r;

	for (i = 0; i < in->n; i++) {
		k = in->keys[i].key;
		ar->lineidx[i] = keyfile_find(&ar->kf, k->blob, k->bloblen);
		present = ar->lineidx[i] >= 0;
		ar->grant_ids[i] = 0;
		if ((r = add_lookup(ar, k, i)) != 0)
			return r;
		if (ar->grant_ids[i] != 0)
			ar->acts[i] = present ? ACT_NONE : ACT_REPAIR;
		else
			ar->acts[i] = present ? ACT_RECORD : ACT_ADD;
	}
	return 0;
}

static int
add_record(struct add_run *ar, const struct pubkey *k, size_t i)
{
	struct ctx		*c = ar->c;
	struct store_grant_new	 g;
	struct store_event	 ev;
	int			 r;

	if (ar->acts[i] == ACT_NONE)
		return 0;
	if (ar->acts[i] == ACT_ADD || ar->acts[i] == ACT_RECORD) {
		memset(&g, 0, sizeof(g));
		g.key_id = ar->key_ids[i];
		g.user = ar->acct->name;
		g.added_by = c->actor.name;
		g.added_uid = c->actor.uid;
		g.reason = ar->reason;
		g.path = ar->kf.path;
		/* a line found in the file keeps the options it has there */
		if (ar->acts[i] == ACT_RECORD)
			g.options = ar->kf.ak->lines[ar->lineidx[i]].options;
		if ((r = store_grant_add(ar->st, &g, c->now,
		    &ar->grant_ids[i])) != 0)
			return r;
	}
	memset(&ev, 0, sizeof(ev));
	ev.at = c->now;
	ev.actor = c->actor.name;
	ev.actor_uid = c->actor.uid;
	ev.action = act_names[ar->acts[i]];
	ev.user = ar->acct->name;
	ev.fingerprint = k->fingerprint;
	ev.detail = ar->reason;
	return store_event_append(ar->st, &ev);
}

/* Store rows, then lines, then the file, then commit. */
static int
add_apply(struct add_run *ar, const struct intake *in, int *changed)
{
	const struct pubkey	*k;
	size_t			 i;
	int			 r;

	*changed = 0;
	for (i = 0; i < in->n; i++) {
		k = in->keys[i].key;
		if (ar->acts[i] != ACT_NONE)
			*changed = 1;
		if (ar->acts[i] == ACT_ADD || ar->acts[i] == ACT_REPAIR) {
			if ((r = authkeys_append(ar->kf.ak, NULL, k->typename,
			    k->b64, k->comment)) != 0)
				return r;
			ar->lines++;
		}
		if (!ar->dry_run && (r = add_record(ar, k, i)) != 0) {
			store_msg(ar, r);
			return r;
		}
	}
	if (ar->lines == 0 || ar->dry_run)
		return 0;
	ar->msg[0] = '\0';
	if ((r = keyfile_write(&ar->kf, ar->msg, sizeof(ar->msg))) != 0)
		return r;
	if (ar->msg[0] != '\0') {
		msg_line(ar->msg);	/* a warning: replaced, not synced */
		ar->msg[0] = '\0';
	}
	return 0;
}

static void
add_report(struct add_run *ar, const struct intake *in, int changed)
{
	struct report	*o = &ar->c->out;
	char		 user[128], path[PATH_MAX * 2];
	size_t		 i;

	report_esc(ar->acct->name, user, sizeof(user));
	report_esc(ar->kf.disp, path, sizeof(path));
	report_bool(o, "changed", changed);
	report_bool(o, "dry_run", ar->dry_run);
	report_str(o, "user", ar->acct->name);
	report_str(o, "path", ar->kf.disp);
	report_arr_begin(o, "grants");
	for (i = 0; i < in->n; i++) {
		const struct pubkey *k = in->keys[i].key;
		report_obj_begin(o, NULL);
		report_str(o, "fingerprint", k->fingerprint);
		report_str(o, "action", act_names[ar->acts[i]]);
		if (ar->grant_ids[i] != 0)
			report_int(o, "id", (long long)ar->grant_ids[i]);
		else
			report_str(o, "id", NULL);
		report_obj_end(o);
		report_text(o, "%s: %s%s %s (%s) in %s%s", user,
		    ar->dry_run ? "would be " : "", act_names[ar->acts[i]],
		    k->fingerprint, keyparse_type_label(k->type), path,
		    ar->dry_run ? " (dry run)" : "");
	}
	report_arr_end(o);
}

/* Record a failure that matters to an auditor (unsafe path, write error). */
static void
add_log_failure(struct add_run *ar, int err)
{
	struct store_event	ev;
	char			esc[sizeof(ar->msg)];

	report_esc(ar->msg, esc, sizeof(esc));
	msg_syslog(LOG_WARNING, "add refused for %s by %s (uid %ld): %s",
	    ar->acct->name, ar->c->actor.name, ar->c->actor.uid, esc);
	if (ar->st == NULL || ar->dry_run || err == KE_BUSY)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.at = ar->c->now;
	ev.actor = ar->c->actor.name;
	ev.actor_uid = ar->c->actor.uid;
	ev.action = "add-failed";
	ev.user = ar->acct->name;
	ev.detail = ar->msg;
	if (store_begin(ar->st) == 0) {
		if (store_event_append(ar->st, &ev) == 0)
			(void)store_commit(ar->st);
		else
			(void)store_rollback(ar->st);
	}
}

/* One syslog line per key that changed, with its fingerprint. */
static void
add_log(const struct add_run *ar, const struct intake *in)
{
	size_t	i;

	if (ar->dry_run)
		return;
	for (i = 0; i < in->n; i++) {
		if (ar->acts[i] == ACT_NONE)
			continue;
		msg_syslog(LOG_NOTICE, "%s %s for %s by %s (uid %ld), grant "
		    "%lld", act_names[ar->acts[i]],
		    in->keys[i].key->fingerprint, ar->acct->name,
		    ar->c->actor.name, ar->c->actor.uid,
		    (long long)ar->grant_ids[i]);
		if (ar->acts[i] == ACT_RECORD &&
		    ar->kf.ak->lines[ar->lineidx[i]].options != NULL)
			msg_err(ar->kf.disp, "line %zd: %s was already there "
			    "with options; recorded as it is",
			    ar->lineidx[i] + 1, in->keys[i].key->fingerprint);
	}
}

static int
add_run(struct add_run *ar, const struct intake *in)
{
	struct ctx	*c = ar->c;
	int		 changed = 0, intx = 0, r;

	if ((r = add_store(ar)) != 0)
		return r;
	if (c->verbose)
		msg_err(NULL, "store %s%s%s", c->dispprefix, c->cfg.database,
		    ar->st == NULL ? " (not created yet)" : "");
	ar->acts = calloc(in->n, sizeof(*ar->acts));
	ar->grant_ids = calloc(in->n, sizeof(*ar->grant_ids));
	ar->key_ids = calloc(in->n, sizeof(*ar->key_ids));
	ar->lineidx = calloc(in->n, sizeof(*ar->lineidx));
	if (ar->acts == NULL || ar->grant_ids == NULL || ar->key_ids == NULL ||
	    ar->lineidx == NULL)
		return KE_NOMEM;
	r = keyfile_open(&ar->kf, c->rootfd, c->dispprefix,
	    c->cfg.authorized_keys_file, ar->acct, !ar->dry_run,
	    (int)c->cfg.busy_timeout_ms, ar->msg, sizeof(ar->msg));
	if (r == 0)
		ar->msg[0] = '\0';	/* safefs may leave a note on success */
	if (r == 0 && c->verbose)
		msg_err(ar->kf.disp, "%s, %zu lines, owner uid %lu, mode %04o",
		    ar->kf.existed ? "read" : "not present yet",
		    ar->kf.ak->n, (unsigned long)ar->kf.uid,
		    (unsigned)ar->kf.mode);
	if (r == 0 && !ar->dry_run && (r = store_begin(ar->st)) == 0)
		intx = 1;
	if (r == 0)
		r = add_plan(ar, in);
	if (r == 0)
		r = add_apply(ar, in, &changed);
	if (r == 0 && intx && (r = store_commit(ar->st)) != 0 &&
	    ar->lines > 0) {
		/* the file is new, the store is not: say how to repair */
		(void)snprintf(ar->msg, sizeof(ar->msg), "%.300s%.300s: %.200s; "
		    "the key file was updated: run the same add again to record "
		    "it", c->dispprefix, c->cfg.database,
		    store_errmsg(ar->st));
	}
	if (r != 0) {
		if (intx)
			(void)store_rollback(ar->st);
		if (ar->msg[0] == '\0')
			store_msg(ar, r);
		msg_line(ar->msg);
		add_log_failure(ar, r);
		return r;
	}
	add_report(ar, in, changed);
	add_log(ar, in);
	return 0;
}

int
cmd_add(struct ctx *c, int argc, char **argv)
{
	struct add_run	ar;
	struct account	acct;
	struct intake	in;
	const char	*reason = NULL;
	int		dry_run = 0, skip = 0, worst = 0, r;

	if ((r = add_args(c, argc, argv, &reason, &dry_run, &skip)) != 0)
		return r > 0 ? 0 : r;
	if ((r = c->lookup(c, argv[optind], &acct)) != 0) {
		msg_err(argv[optind], "%s", r == KE_NOUSER ? "unknown user" :
		    r == KE_CONFIG ? "home directory is not an absolute path" :
		    "cannot read the password database");
		return r;
	}
	memset(&ar, 0, sizeof(ar));
	ar.kf.dirfd = -1;
	ar.c = c;
	ar.acct = &acct;
	ar.reason = reason;
	ar.dry_run = dry_run;
	report_obj_begin(&c->out, NULL);
	report_arr_begin(&c->out, "verdicts");
	r = intake_files(c, argv + optind + 1, argc - optind - 1, &in);
	report_arr_end(&c->out);
	if (r == 0 && (in.err != 0 || in.rejected > 0)) {
		worst = in.err != 0 ? in.err : KE_POLICY;
		if (!skip || in.n == 0) {
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
		r = add_run(&ar, &in);
	report_bool(&c->out, "skipped_rejected", skip && worst != 0);
	if (r != 0)
		report_bool(&c->out, "changed", 0);	/* nothing was done */
	else
		r = worst;	/* what was skipped still decides the status */
	if (r != 0)
		report_str(&c->out, "error", keyadm_strerror(r));
	report_obj_end(&c->out);
	keyfile_close(&ar.kf);
	store_close(ar.st);
	free(ar.acts);
	free(ar.grant_ids);
	free(ar.key_ids);
	free(ar.lineidx);
	intake_free(&in);
	return r;
}
