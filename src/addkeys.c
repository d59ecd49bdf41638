/*
 * addkeys.c -- install judged keys for one account (addkeys.h).
 *
 * MUST: the file first, then the store rows, then the caller commits: a
 * write that fails has recorded nothing (only keys rows, which grant
 * nothing); store rows that fail after the write leave the file ahead of
 * the store, which the caller rolls back and says so (audit shows it,
 * the same add again records it).
 * MUST: a revoked key is refused unless --force; with it, it leaves the
 * revoked-keys file only after the install (add_unrevoke).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "addkeys.h"
#include "err.h"
#include "msg.h"

static const char *const act_names[] = {
	"unchanged", "added", "repaired", "recorded", "updated"
};

const char *
addkeys_action_name(enum addkeys_action a)
{
	return act_names[a];
}


/* One option flag into a->so; usage errors name the flag. */
int
addkeys_opt(struct ctx *c, struct addkeys_args *a, int ch, const char *arg)
{
	char	reason[SSHOPTS_REASON_MAX];
	int64_t	t;
	int	r = 0;

	reason[0] = '\0';
	a->opts_given = 1;
	if (ch == 'R')
		r = sshopts_add(&a->so, "restrict", reason, sizeof(reason));
	else if (ch == 'F')
		r = sshopts_add_value(&a->so, "from", arg, reason,
		    sizeof(reason));
	else if (ch == 'C')
		r = sshopts_add_value(&a->so, "command", arg, reason,
		    sizeof(reason));
	else if (ch == 'o')
		r = sshopts_add(&a->so, arg, reason, sizeof(reason));
	else if (ch == 'e') {
		if ((r = sshopts_parse_expires(arg, c->now, &t, reason,
		    sizeof(reason))) == 0)
			sshopts_set_expiry(&a->so, t);
	} else
		a->no_options = 1;
	if (r == 0)
		return 0;
	/* "--from: from: ..." says it twice */
	if ((ch == 'F' && strncmp(reason, "from: ", 6) == 0) ||
	    (ch == 'C' && strncmp(reason, "command: ", 9) == 0))
		msg_err(ch == 'F' ? "--from" : "--command", "%s",
		    strchr(reason, ' ') + 1);
	else
		msg_err(ch == 'R' ? "--restrict" : ch == 'F' ? "--from" :
		    ch == 'C' ? "--command" : ch == 'o' ? "--option" :
		    "--expires", "%s", reason);
	return r;
}

/* After the loop: the combinations that make no sense. */
int
addkeys_args_check(struct addkeys_args *a)
{
	int	r;

	if (a->reason != NULL && !msg_printable(a->reason, REASON_MAX)) {
		msg_err("--reason", "must be one line of at most %d printable "
		    "bytes", REASON_MAX);
		return KE_USAGE;
	}
	if (a->force && (a->reason == NULL || a->reason[0] == '\0')) {
		msg_err("--force", "needs --reason: say why a revoked key "
		    "comes back");
		return KE_USAGE;
	}
	if (a->no_options && (a->so.n > 0 || a->so.restrict_ ||
	    a->so.expires != 0)) {
		msg_err("--no-options", "cannot go with other options");
		return KE_USAGE;
	}
	if (!a->opts_given || a->no_options)
		return 0;
	a->expiry_only = a->so.n == 0 && !a->so.restrict_ &&
	    a->so.expires != 0;
	if ((r = sshopts_render(&a->so, &a->opts)) != 0) {
		msg_err("--option", "%s", r == KE_USAGE ? "the options are "
		    "too long" : keyadm_strerror(r));
		return r;
	}
	if (a->opts[0] == '\0') {
		free(a->opts);
		a->opts = NULL;
	}
	return 0;
}

int
addkeys_getopt(struct ctx *c, int argc, char **argv, int flags,
    const char *usage, struct addkeys_args *a)
{
	static const struct option longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "skip-rejected", no_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "restrict", no_argument, NULL, 'R' },
		{ "from", required_argument, NULL, 'F' },
		{ "command", required_argument, NULL, 'C' },
		{ "option", required_argument, NULL, 'o' },
		{ "expires", required_argument, NULL, 'e' },
		{ "no-options", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	add = (flags & ADDKEYS_GETOPT_ADD) != 0, ch, r;

	optind = 0;	/* 0: a full reset of GNU getopt for the command */
	opterr = 0;	/* our own message, in our own form */
	while ((ch = getopt_long(argc, argv, add ? "hnr:sfo:" : "hnr:o:",
	    longopts, NULL)) != -1) {
		if (ch == 'r')
			a->reason = optarg;
		else if (ch == 'n')
			a->dry_run = 1;
		else if (ch == 's' && add)
			a->skip = 1;
		else if (ch == 'f' && add)
			a->force = 1;
		else if (ch != 0 && strchr("RFCoeN", ch) != NULL) {
			if ((r = addkeys_opt(c, a, ch, optarg)) != 0)
				return r;
		} else if (ch == 'h') {
			(void)printf("%s\n", usage);
			return 1;
		} else {
			msg_usage(argv[optind - 1], usage);
			return KE_USAGE;
		}
	}
	return 0;
}

/* A store failure as "<database>: <problem>". */
static void
store_msg(struct addkeys_run *ar, int err)
{
	(void)snprintf(ar->msg, sizeof(ar->msg), "%.400s%.400s: %.200s",
	    ar->c->dispprefix, ar->c->cfg.database, ar->st != NULL ?
	    store_errmsg(ar->st) : keyadm_strerror(err));
}

/* Open the store: read-only (and maybe absent) for a dry run. */
static int
add_store(struct addkeys_run *ar)
{
	struct ctx	*c = ar->c;
	int		 r;

	r = ctx_store_open(c, ar->dry_run ? STORE_READONLY : STORE_CREATE,
	    &ar->st, ar->msg, sizeof(ar->msg));
	if (r == KE_NOINPUT && ar->dry_run) {
		ar->st = NULL;
		return 0;
	}
	if (r != 0)
		msg_line(ar->msg);
	return r;
}

static int
grant_cb(const struct store_grant *g, void *arg)
{
	struct addkeys_grant	*ag = arg;

	ag->id = g->id;
	ag->expires_at = g->expires_at;
	if (g->options != NULL && (ag->options = strdup(g->options)) == NULL)
		return KE_NOMEM;
	return 1;
}

static int
revoked_at_cb(const struct store_keyrow *k, void *arg)
{
	*(int64_t *)arg = k->revoked_at;
	return 0;
}

/*
 * Inside the transaction: a revoke that ran since add_revoked() looked
 * may have listed the key, or revoked this account's grant, meanwhile.
 * Without --force that is a refusal.
 */
static int
add_recheck(struct addkeys_run *ar, const struct pubkey *k, int64_t key_id)
{
	char	status[16];
	int64_t	at = 0;
	int	r;

	if (ar->dry_run || ar->a->force)
		return 0;
	if ((r = store_key_get(ar->st, k->fingerprint, revoked_at_cb,
	    &at)) < 0)
		return r;
	/* and a revoke --user for this account (its newest grant) */
	if (at == 0 && (r = store_grant_last_status(ar->st, ar->acct->name,
	    key_id, status, sizeof(status))) < 0)
		return r;
	if (at == 0 && (r == 1 || strcmp(status, "revoked") != 0))
		return 0;
	(void)snprintf(ar->msg, sizeof(ar->msg), "%.128s: %s was revoked "
	    "meanwhile; nothing installed", ar->acct->name, k->fingerprint);
	return KE_POLICY;
}

/* The active grant of k for the account, into ar->old[i]. */
static int
add_lookup(struct addkeys_run *ar, const struct pubkey *k, size_t i)
{
	struct store_key		sk = { k->fingerprint, k->typename,
					    k->bits, k->b64, k->comment };
	struct store_grant_query	q;
	int				r;

	if (ar->st == NULL)
		return 0;
	if (!ar->dry_run && ((r = store_key_upsert(ar->st, &sk, ar->c->now,
	    &ar->key_ids[i])) != 0 ||
	    (r = add_recheck(ar, k, ar->key_ids[i])) != 0))
		return r;
	memset(&q, 0, sizeof(q));
	q.fingerprint = k->fingerprint;
	q.user = ar->acct->name;
	q.status = "active";
	r = store_grants_find(ar->st, &q, grant_cb, &ar->old[i]);
	ar->grant_ids[i] = ar->old[i].id;
	return r < 0 ? r : 0;
}

/* Two option strings alike ("" and NULL are both none)? */
static int
same_opts(const char *x, const char *y)
{
	return strcmp(x != NULL ? x : "", y != NULL ? y : "") == 0;
}

/* Another line after idx that lets the same key in? */
static int
has_duplicate(const struct addkeys_run *ar, ssize_t idx, const struct pubkey *k)
{
	return keyfile_find_from(&ar->kf, k->blob, k->bloblen,
	    (size_t)idx + 1) >= 0;
}

/*
 * The options and expiry key i ends up with: the ones asked for, else
 * the grant's, else (recording a line) the line's own.
 */
static int
add_target_opts(struct addkeys_run *ar, size_t i)
{
	const struct authkeys_entry	*e = NULL;
	const char			*o;
	int64_t				 t = 0;
	int				 r;

	if (ar->lineidx[i] >= 0)
		e = &ar->kf.ak->lines[ar->lineidx[i]];
	if (ar->a->expiry_only && (ar->old[i].id != 0 || e != NULL)) {
		/* a renewal: the key keeps its restrictions */
		o = ar->old[i].id != 0 ? ar->old[i].options : e->options;
		ar->expires[i] = ar->a->so.expires;
		r = sshopts_with_expiry(o, ar->a->so.expires, &ar->newopts[i]);
		if (r == KE_MALFORMED)
			(void)snprintf(ar->msg, sizeof(ar->msg), "%.128s: the "
			    "key's options cannot be renewed as they are; give "
			    "them in full with --expires", ar->acct->name);
		if (r == 0 && ar->newopts[i][0] == '\0') {
			free(ar->newopts[i]);
			ar->newopts[i] = NULL;
		}
		return r;
	}
	if (ar->a->opts_given) {
		o = ar->a->opts;
		t = ar->a->so.expires;
	} else if (ar->old[i].id != 0) {
		o = ar->old[i].options;
		t = ar->old[i].expires_at;
	} else {
		o = e != NULL ? e->options : NULL;
		if (o != NULL && sshopts_expiry(o, strlen(o), &t) != 0)
			t = 0;	/* sshd will judge the line; we note none */
	}
	if (o != NULL && (ar->newopts[i] = strdup(o)) == NULL)
		return KE_NOMEM;
	ar->expires[i] = t;
	return 0;
}

/* Decide, for every key, what must change. */
int
addkeys_plan(struct addkeys_run *ar, const struct intake *in)
{
	const struct pubkey		*k;
	const struct authkeys_entry	*e;
	size_t				 i;
	int				 r, differs;

	for (i = 0; i < in->n; i++) {
		k = in->keys[i].key;
		ar->lineidx[i] = keyfile_find(&ar->kf, k->blob, k->bloblen);
		if ((r = add_lookup(ar, k, i)) != 0 ||
		    (r = add_target_opts(ar, i)) != 0)
			return r;
		if (ar->lineidx[i] < 0) {
			ar->acts[i] = ar->grant_ids[i] != 0 ? ACT_REPAIR :
			    ACT_ADD;
			continue;
		}
		e = &ar->kf.ak->lines[ar->lineidx[i]];
		differs = ar->a->opts_given && (!same_opts(e->options,
		    ar->newopts[i]) || has_duplicate(ar, ar->lineidx[i], k) ||
		    (ar->grant_ids[i] != 0 && !same_opts(ar->old[i].options,
		    ar->newopts[i])));
		if (ar->grant_ids[i] == 0)
			ar->acts[i] = ACT_RECORD;
		else
			ar->acts[i] = differs ? ACT_UPDATE : ACT_NONE;
		if (!differs)
			ar->lineidx[i] = -1;	/* the line stays as it is */
	}
	return 0;
}

/* Give the key's first line the new options; drop its other lines. */
static int
add_rewrite(struct addkeys_run *ar, const struct pubkey *k, size_t i)
{
	const struct authkeys_entry	*e;
	char				*type, *b64, *com = NULL;
	ssize_t				 idx, j;
	int				 r = KE_NOMEM;

	if ((idx = keyfile_find(&ar->kf, k->blob, k->bloblen)) < 0)
		return KE_INTERNAL;
	e = &ar->kf.ak->lines[idx];
	type = strdup(e->type);
	b64 = strdup(e->b64);
	if (e->comment != NULL)
		com = strdup(e->comment);
	if (type != NULL && b64 != NULL && (e->comment == NULL || com != NULL))
		r = authkeys_set(ar->kf.ak, (size_t)idx, ar->newopts[i], type,
		    b64, com);
	free(type);
	free(b64);
	free(com);
	while (r == 0 && (j = keyfile_find_from(&ar->kf, k->blob, k->bloblen,
	    (size_t)idx + 1)) >= 0)
		authkeys_delete(ar->kf.ak, (size_t)j);
	return r;
}

/* The event's detail: the reason, and the options when there are any. */
static void
add_detail(const struct addkeys_run *ar, size_t i, char *buf, size_t len)
{
	const char	*reason = ar->reason != NULL ? ar->reason : "";
	const char	*opts = ar->newopts[i];

	if (opts == NULL || ar->acts[i] == ACT_NONE)
		(void)snprintf(buf, len, "%s", reason);
	else
		(void)snprintf(buf, len, "%s%soptions: %s", reason,
		    reason[0] != '\0' ? "; " : "", opts);
}

static int
add_record(struct addkeys_run *ar, const struct pubkey *k, size_t i)
{
	struct ctx		*c = ar->c;
	struct store_grant_new	 g;
	struct store_event	 ev;
	char			 detail[REASON_MAX + SSHOPTS_MAX + 16];
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
		g.options = ar->newopts[i];
		g.expires_at = ar->expires[i];
		if ((r = store_grant_add(ar->st, &g, c->now,
		    &ar->grant_ids[i])) != 0)
			return r;
	} else if ((ar->acts[i] == ACT_UPDATE || ar->a->opts_given) &&
	    (r = store_grant_set_options(ar->st, ar->grant_ids[i],
	    ar->newopts[i], ar->expires[i])) < 0)
		return r;
	add_detail(ar, i, detail, sizeof(detail));
	memset(&ev, 0, sizeof(ev));
	ev.at = c->now;
	ev.actor = c->actor.name;
	ev.actor_uid = c->actor.uid;
	ev.action = act_names[ar->acts[i]];
	ev.user = ar->acct->name;
	ev.fingerprint = k->fingerprint;
	ev.detail = detail[0] != '\0' ? detail : NULL;
	return store_event_append(ar->st, &ev);
}

/* The new lines and options, in memory. */
static int
add_edit(struct addkeys_run *ar, const struct intake *in, int *changed)
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
			if ((r = authkeys_append(ar->kf.ak, ar->newopts[i],
			    k->typename, k->b64, k->comment)) != 0)
				return r;
			ar->lines++;
		} else if (ar->lineidx[i] >= 0) {
			if ((r = add_rewrite(ar, k, i)) != 0)
				return r;
			ar->lines++;
		}
	}
	return 0;
}

/* Store rows, then lines, then the file (the caller commits). */
int
addkeys_apply(struct addkeys_run *ar, const struct intake *in, int *changed)
{
	char	*after = NULL, esc[600];
	size_t	 i, alen = 0;
	int	 r;

	if ((r = add_edit(ar, in, changed)) != 0) {
		(void)snprintf(ar->msg, sizeof(ar->msg), "%.600s: %s",
		    report_esc(ar->kf.disp, esc, sizeof(esc)), r ==
		    KE_MALFORMED ? "a line with these "
		    "options would not read back as written" :
		    keyadm_strerror(r));
		return r;
	}
	if (ar->dry_run) {
		if (ar->lines > 0 && !ar->no_diff &&
		    (r = authkeys_render(ar->kf.ak, &after, &alen)) == 0)
			r = report_diff(&ar->c->out, ar->kf.disp, ar->before,
			    ar->blen, after, alen);
		free(after);
		return r;
	}
	/*
	 * The file first: a write that fails has then recorded nothing, so
	 * a caller may go on with other accounts in the same transaction.
	 */
	if (ar->lines > 0) {
		ar->msg[0] = '\0';
		if ((r = keyfile_write(&ar->kf, ar->msg,
		    sizeof(ar->msg))) != 0)
			return r;
		ar->written = 1;
		if (ar->msg[0] != '\0') {
			msg_line(ar->msg);	/* replaced, not synced */
			ar->msg[0] = '\0';
		}
	}
	for (i = 0; i < in->n; i++)
		if ((r = add_record(ar, in->keys[i].key, i)) != 0) {
			ar->store_failed = 1;
			store_msg(ar, r);
			return r;
		}
	return 0;
}

static void
add_report(struct addkeys_run *ar, const struct intake *in, int changed)
{
	struct report	*o = &ar->c->out;
	char		 user[128], path[PATH_MAX * 2], when[32];
	size_t		 i;

	report_esc(ar->acct->name, user, sizeof(user));
	report_esc(ar->kf.disp, path, sizeof(path));
	/* in a dry run: whether it would change (as Ansible's check mode) */
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
		report_str(o, "options", ar->newopts[i]);
		report_time(o, "expires_at", ar->expires[i]);
		report_obj_end(o);
		report_text(o, "%s: %s%s %s (%s) in %s%s%s%s", user,
		    ar->dry_run ? "would be " : "", act_names[ar->acts[i]],
		    k->fingerprint, keyparse_type_label(k->type), path,
		    ar->expires[i] != 0 ? ", expires " : "",
		    ar->expires[i] != 0 ? report_fmt_time(ar->expires[i],
		    when, sizeof(when)) : "", ar->dry_run ? " (dry run)" : "");
	}
	report_arr_end(o);
}

/* Record a failure that matters to an auditor (unsafe path, write error). */
static void
add_log_failure(struct addkeys_run *ar, int err)
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

/*
 * A note per key recorded as it was found.  Each change reaches syslog
 * as its event (add_record), through the store's hook once committed.
 */
static void
add_log(const struct addkeys_run *ar, const struct intake *in)
{
	size_t	i;

	if (ar->dry_run)
		return;
	for (i = 0; i < in->n; i++) {
		if (ar->acts[i] == ACT_NONE)
			continue;
		if (ar->acts[i] == ACT_RECORD && !ar->a->opts_given &&
		    ar->newopts[i] != NULL)
			msg_err(ar->kf.disp, "%s was already there with "
			    "options; recorded as it is",
			    in->keys[i].key->fingerprint);
	}
}


static int
rev_cb(const struct store_keyrow *k, void *arg)
{
	struct addkeys_revoked	*rs = arg;

	rs->key_id = k->id;
	rs->revoked_at = k->revoked_at;
	return 0;
}

int
addkeys_revoked_state(struct addkeys_run *ar, const struct revfile *rf,
    const struct pubkey *k, struct addkeys_revoked *rs)
{
	char	status[16];
	int	r;

	memset(rs, 0, sizeof(*rs));
	rs->listed = revfile_contains(rf, k->blob, k->bloblen);
	if (ar->st == NULL)
		return 0;
	if ((r = store_key_get(ar->st, k->fingerprint, rev_cb, rs)) < 0)
		return r;
	if (rs->key_id == 0)
		return 0;
	r = store_grant_last_status(ar->st, ar->acct->name, rs->key_id,
	    status, sizeof(status));
	if (r < 0)
		return r;
	rs->user_revoked = r == 0 && strcmp(status, "revoked") == 0;
	return 0;
}

/* --force: unlist and forget the revocations, in one transaction. */
static int
unrevoke(struct addkeys_run *ar, struct revfile *rf, const struct intake *in,
    const struct addkeys_revoked *rs)
{
	struct store_event	ev;
	size_t			i, gone = 0;
	int			r;

	if ((r = store_begin(ar->st)) != 0)
		return r;
	for (i = 0; i < in->n && r >= 0; i++) {
		if (!rs[i].listed && rs[i].revoked_at == 0)
			continue;
		gone += revfile_remove(rf, in->keys[i].key->blob,
		    in->keys[i].key->bloblen);
		if (rs[i].revoked_at != 0 &&
		    (r = store_revocation_remove(ar->st, rs[i].key_id)) < 0)
			break;
		memset(&ev, 0, sizeof(ev));
		ev.at = ar->c->now;
		ev.actor = ar->c->actor.name;
		ev.actor_uid = ar->c->actor.uid;
		ev.action = "reinstate";
		ev.user = ar->acct->name;
		ev.fingerprint = in->keys[i].key->fingerprint;
		ev.detail = ar->reason;
		r = store_event_append(ar->st, &ev);
	}
	ar->msg[0] = '\0';
	if (r >= 0 && gone > 0)
		r = revfile_write(rf, ar->msg, sizeof(ar->msg));
	if (r >= 0 && (r = store_commit(ar->st)) == 0)
		return 0;
	(void)store_rollback(ar->st);
	if (ar->msg[0] == '\0')
		store_msg(ar, r);
	return r;
}

/* The dry run's view of --force: the diff of the revoked-keys file. */
static int
unrevoke_dry(struct addkeys_run *ar, struct revfile *rf,
    const struct intake *in)
{
	char	*before = NULL, *after = NULL;
	size_t	 blen = 0, alen = 0, i, gone = 0;
	int	 r;

	if ((r = revfile_render(rf, &before, &blen)) != 0)
		return r;
	for (i = 0; i < in->n; i++)
		gone += revfile_remove(rf, in->keys[i].key->blob,
		    in->keys[i].key->bloblen);
	if (gone > 0 && (r = revfile_render(rf, &after, &alen)) == 0)
		r = report_diff(&ar->c->out, rf->disp, before, blen, after,
		    alen);
	free(before);
	free(after);
	return r;
}

/* Say why one revoked key is refused. */
static void
refuse_revoked(const struct addkeys_run *ar, const struct pubkey *k,
    const struct addkeys_revoked *rs, const struct revfile *rf)
{
	char	esc[PATH_MAX * 2];

	report_esc(rf->disp, esc, sizeof(esc));
	msg_err(ar->acct->name, "%s is revoked (%s%s); give --force and "
	    "--reason to reinstate it", k->fingerprint, rs->listed ?
	    "listed in " : rs->revoked_at != 0 ? "revoked for every account" :
	    "its grant was revoked", rs->listed ? esc : "");
}

/*
 * A revoked key needs --force; with it, it leaves the revoked-keys file
 * before anything else happens (sshd would refuse it otherwise).
 */
static int
add_revoked(struct addkeys_run *ar, const struct intake *in)
{
	struct ctx		*c = ar->c;
	struct addkeys_revoked	*rs;
	struct revfile		 rf;
	size_t			 i, hit = 0, unlist = 0;
	int			 r;

	if ((rs = calloc(in->n, sizeof(*rs))) == NULL)
		return KE_NOMEM;
	r = revfile_open(&rf, c->rootfd, c->dispprefix,
	    c->cfg.revoked_keys_file, 0, (int)c->cfg.busy_timeout_ms,
	    ar->msg, sizeof(ar->msg));
	for (i = 0; r == 0 && i < in->n; i++) {
		if ((r = addkeys_revoked_state(ar, &rf, in->keys[i].key,
		    &rs[i])) != 0) {
			store_msg(ar, r);
			break;
		}
		if (!rs[i].listed && rs[i].revoked_at == 0 &&
		    !rs[i].user_revoked)
			continue;
		hit++;
		unlist += rs[i].listed || rs[i].revoked_at != 0;
		if (!ar->a->force)
			refuse_revoked(ar, in->keys[i].key, &rs[i], &rf);
	}
	if (r == 0 && hit > 0 && !ar->a->force) {
		(void)snprintf(ar->msg, sizeof(ar->msg), "%.128s: nothing "
		    "installed: a key is revoked", ar->acct->name);
		r = KE_POLICY;
	} else if (r == 0 && unlist > 0 && !ar->dry_run)
		ar->unlist = 1;		/* after the install: add_unrevoke */
	else if (r == 0 && unlist > 0) {
		report_obj_begin(&c->out, "revoked_keys_file");
		report_str(&c->out, "path", rf.disp);
		r = unrevoke_dry(ar, &rf, in);
		/* a dry run says whether it would change */
		report_bool(&c->out, "changed", r == 0);
		report_obj_end(&c->out);
		if (r == 0)
			report_text(&c->out, "%s: would reinstate %zu revoked "
			    "key%s: %s", ar->acct->name, unlist, unlist == 1 ?
			    "" : "s", report_esc(rf.disp, ar->msg,
			    sizeof(ar->msg)));
	}
	revfile_close(&rf);
	free(rs);
	return r;
}

/*
 * --force, after the key is installed: only now does it leave the
 * revoked-keys file (before, a failed install would have un-revoked it
 * for every account and installed nothing).
 */
static int
add_unrevoke(struct addkeys_run *ar, const struct intake *in)
{
	struct ctx		*c = ar->c;
	struct addkeys_revoked	*rs;
	struct revfile		 rf;
	size_t			 i, n = 0;
	int			 r;

	if ((rs = calloc(in->n, sizeof(*rs))) == NULL)
		return KE_NOMEM;
	r = revfile_open(&rf, c->rootfd, c->dispprefix,
	    c->cfg.revoked_keys_file, 0, (int)c->cfg.busy_timeout_ms,
	    ar->msg, sizeof(ar->msg));
	for (i = 0; r == 0 && i < in->n; i++) {
		if ((r = addkeys_revoked_state(ar, &rf, in->keys[i].key,
		    &rs[i])) != 0)
			store_msg(ar, r);
		n += rs[i].listed || rs[i].revoked_at != 0;
	}
	report_obj_begin(&c->out, "revoked_keys_file");
	report_str(&c->out, "path", rf.disp);
	if (r == 0 && n > 0)
		r = unrevoke(ar, &rf, in, rs);
	report_bool(&c->out, "changed", r == 0 && n > 0);
	report_obj_end(&c->out);
	if (r == 0 && n > 0)
		report_text(&c->out, "%s: reinstated %zu revoked key%s: %s",
		    ar->acct->name, n, n == 1 ? "" : "s",
		    report_esc(rf.disp, ar->msg, sizeof(ar->msg)));
	else if (r != 0)
		msg_err(ar->acct->name, "the key is installed, but is still "
		    "listed in the revoked-keys file, so sshd refuses it: "
		    "run the same add again");
	revfile_close(&rf);
	free(rs);
	return r;
}

int
addkeys_alloc(struct addkeys_run *ar, size_t n)
{
	ar->acts = calloc(n, sizeof(*ar->acts));
	ar->grant_ids = calloc(n, sizeof(*ar->grant_ids));
	ar->key_ids = calloc(n, sizeof(*ar->key_ids));
	ar->lineidx = calloc(n, sizeof(*ar->lineidx));
	ar->old = calloc(n, sizeof(*ar->old));
	ar->newopts = calloc(n, sizeof(*ar->newopts));
	ar->expires = calloc(n, sizeof(*ar->expires));
	if (ar->acts == NULL || ar->grant_ids == NULL || ar->key_ids == NULL ||
	    ar->lineidx == NULL || ar->old == NULL || ar->newopts == NULL ||
	    ar->expires == NULL)
		return KE_NOMEM;
	return 0;
}

void
addkeys_free(struct addkeys_run *ar, size_t n)
{
	size_t	i;

	keyfile_close(&ar->kf);
	if (!ar->shared_store)
		store_close(ar->st);
	for (i = 0; i < n && ar->old != NULL; i++)
		free(ar->old[i].options);
	for (i = 0; i < n && ar->newopts != NULL; i++)
		free(ar->newopts[i]);
	free(ar->acts);
	free(ar->grant_ids);
	free(ar->key_ids);
	free(ar->lineidx);
	free(ar->old);
	free(ar->newopts);
	free(ar->expires);
	free(ar->before);
}

/* Open the account's file (and keep its text for a dry run's diff). */
int
addkeys_open(struct addkeys_run *ar)
{
	struct ctx	*c = ar->c;
	int		 r;

	r = keyfile_open(&ar->kf, c->rootfd, c->dispprefix,
	    c->cfg.authorized_keys_file, ar->acct,
	    ar->dry_run ? 0 : KEYFILE_CREATE,
	    (int)c->cfg.busy_timeout_ms, ar->msg, sizeof(ar->msg));
	if (r != 0)
		return r;
	ar->msg[0] = '\0';	/* safefs may leave a note on success */
	if (c->verbose)
		msg_err(ar->kf.disp, "%s, %zu lines, owner uid %lu, mode %04o",
		    ar->kf.existed ? "read" : "not present yet",
		    ar->kf.ak->n, (unsigned long)ar->kf.uid,
		    (unsigned)ar->kf.mode);
	if (ar->dry_run && ar->kf.existed)
		r = authkeys_render(ar->kf.ak, &ar->before, &ar->blen);
	return r;
}

int
addkeys_account(struct addkeys_run *ar, const struct intake *in)
{
	struct ctx	*c = ar->c;
	int		 changed = 0, intx = 0, r;

	if ((r = add_store(ar)) != 0)
		return r;
	if (c->verbose)
		msg_err(NULL, "store %s%s%s", c->dispprefix, c->cfg.database,
		    ar->st == NULL ? " (not created yet)" : "");
	if ((r = addkeys_alloc(ar, in->n)) == 0 &&
	    (r = add_revoked(ar, in)) == 0 &&
	    (r = addkeys_open(ar)) == 0 && !ar->dry_run &&
	    (r = store_begin(ar->st)) == 0)
		intx = 1;
	if (r == 0)
		r = addkeys_plan(ar, in);
	if (r == 0)
		r = addkeys_apply(ar, in, &changed);
	if (r == 0 && intx)
		r = store_commit(ar->st);
	if (r != 0 && ar->written) {
		/* the file is new, the store is not: say how to repair */
		(void)snprintf(ar->msg, sizeof(ar->msg), "%.300s%.300s: "
		    "%.200s; the key file was updated: run the same add "
		    "again to record it", c->dispprefix, c->cfg.database,
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
	if (ar->unlist && (r = add_unrevoke(ar, in)) != 0) {
		if (ar->msg[0] != '\0')
			msg_line(ar->msg);
		return r;
	}
	return 0;
}
