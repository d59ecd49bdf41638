/*
 * withdraw.c -- take keys away from one account (see withdraw.h).
 *
 * Order, as for add: lock the file's directory, BEGIN IMMEDIATE, change the
 * store, replace the file, COMMIT.  A failed write rolls the store back; a
 * failed COMMIT after the write leaves the lines gone and the grants
 * active, which is the safe side, and says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "err.h"
#include "install.h"
#include "msg.h"
#include "withdraw.h"

static int
store_fail(const struct ctx *c, struct store *st, struct withdraw *w,
    int err, char *msg, size_t msglen)
{
	w->store_failed = 1;
	(void)snprintf(msg, msglen, "%.400s%.400s: %.200s", c->dispprefix,
	    c->cfg.database, st != NULL ? store_errmsg(st) :
	    keyadm_strerror(err));
	return err;
}

/* Close the grant of k, if it has one still open: sets k->closed. */
static int
close_grant(struct ctx *c, struct store *st, const struct withdraw *w,
    struct withdraw_key *k)
{
	int	r;

	k->closed = 0;
	if (k->grant_id == 0)
		return 0;
	r = store_grant_close(st, k->grant_id, w->status, c->now,
	    c->actor.name, w->reason);
	if (r < 0)
		return r;
	k->closed = r == 0;
	return 0;
}

/* The event for what happened to k here, if anything did. */
static int
log_key(struct ctx *c, struct store *st, const struct withdraw *w,
    const struct withdraw_key *k)
{
	struct store_event	ev;
	char			detail[1024];

	if (!k->closed && k->lines == 0)
		return 0;
	(void)snprintf(detail, sizeof(detail), "%s%s%zu line%s removed%s",
	    w->reason != NULL ? w->reason : "", w->reason != NULL ? "; " : "",
	    k->lines, k->lines == 1 ? "" : "s", w->no_account ?
	    "; account unknown" : "");
	memset(&ev, 0, sizeof(ev));
	ev.at = c->now;
	ev.actor = c->actor.name;
	ev.actor_uid = c->actor.uid;
	ev.action = w->action;
	ev.user = w->user;
	ev.fingerprint = k->fingerprint;
	ev.detail = detail;
	return store_event_append(st, &ev);
}

/* Close the grants, then log: store only. */
static int
record(struct ctx *c, struct store *st, const struct withdraw *w,
    struct withdraw_key *k)
{
	int	r;

	if ((r = close_grant(c, st, w, k)) != 0)
		return r;
	return log_key(c, st, w, k);
}

/* No file to change (account or directory gone): close the grants. */
static int
close_only(struct ctx *c, struct store *st, struct withdraw *w, char *msg,
    size_t msglen)
{
	size_t	i;
	int	r;

	if (w->dry_run || st == NULL)
		return 0;
	if ((r = store_begin(st)) != 0)
		return store_fail(c, st, w, r, msg, msglen);
	for (i = 0; i < w->n && r == 0; i++)
		r = record(c, st, w, &w->keys[i]);
	if (r == 0 && (r = store_commit(st)) == 0)
		return 0;
	(void)store_rollback(st);
	return store_fail(c, st, w, r, msg, msglen);
}

/* Remove the lines in memory; show the diff when dry. */
static int
edit(struct ctx *c, struct keyfile *kf, struct withdraw *w, int *changed)
{
	char	*before = NULL, *after = NULL;
	size_t	 blen = 0, alen = 0, i;
	int	 r = 0;

	*changed = 0;
	if (w->dry_run && (r = authkeys_render(kf->ak, &before, &blen)) != 0)
		return r;
	for (i = 0; i < w->n; i++) {
		/* a grant that could not be closed (renewed) keeps its line */
		if (w->only_closed && !w->dry_run && !w->keys[i].closed)
			continue;
		w->keys[i].lines = authkeys_remove(kf->ak, w->keys[i].blob,
		    w->keys[i].bloblen);
		if (w->keys[i].lines > 0)
			*changed = 1;
	}
	if (w->dry_run && *changed &&
	    (r = authkeys_render(kf->ak, &after, &alen)) == 0)
		r = report_diff(&c->out, kf->disp, before, blen, after, alen);
	free(before);
	free(after);
	return r;
}

/* Write the file, then commit; the store follows the file. */
static int
apply(struct ctx *c, struct store *st, struct keyfile *kf, struct withdraw *w,
    char *msg, size_t msglen)
{
	char	esc[320];
	size_t	i;
	int	changed, r;

	if ((r = store_begin(st)) != 0)
		return store_fail(c, st, w, r, msg, msglen);
	for (i = 0; i < w->n && r == 0; i++)
		r = close_grant(c, st, w, &w->keys[i]);
	if (r == 0 && (r = edit(c, kf, w, &changed)) != 0) {
		(void)store_rollback(st);
		(void)snprintf(msg, msglen, "%s: %s", w->user,
		    keyadm_strerror(r));
		return r;
	}
	for (i = 0; i < w->n && r == 0; i++)
		r = log_key(c, st, w, &w->keys[i]);
	if (r != 0) {
		(void)store_rollback(st);
		return store_fail(c, st, w, r, msg, msglen);
	}
	msg[0] = '\0';
	if (changed && (r = keyfile_write(kf, msg, msglen)) != 0) {
		(void)store_rollback(st);
		return r;
	}
	if (msg[0] != '\0')
		msg_line(msg);	/* a warning: replaced, not synced */
	if ((r = store_commit(st)) != 0) {
		(void)store_rollback(st);
		w->store_failed = 1;
		msg_escape(kf->disp, strlen(kf->disp), esc, sizeof(esc));
		(void)snprintf(msg, msglen, "%.200s%.200s: %.200s; the lines "
		    "are gone from %.300s but the store still lists the "
		    "grants", c->dispprefix, c->cfg.database,
		    store_errmsg(st), esc);
		return r;
	}
	return 0;
}

int
withdraw_user(struct ctx *c, struct store *st, struct withdraw *w,
    char *msg, size_t msglen)
{
	struct account	acct;
	struct keyfile	kf;
	int		changed, r;

	w->path[0] = '\0';
	w->no_account = 0;
	w->store_failed = 0;
	if ((r = c->lookup(c, w->user, &acct)) == KE_NOUSER) {
		w->no_account = 1;
		return close_only(c, st, w, msg, msglen);
	}
	if (r != 0) {
		(void)snprintf(msg, msglen, "%s: cannot look up the account",
		    w->user);
		return r;
	}
	r = keyfile_open(&kf, c->rootfd, c->dispprefix,
	    c->cfg.authorized_keys_file, &acct, KEYFILE_NOHOME_OK,
	    (int)c->cfg.busy_timeout_ms, msg, msglen);
	(void)snprintf(w->path, sizeof(w->path), "%s", kf.disp);
	if (r == 0 && w->dry_run)
		r = edit(c, &kf, w, &changed);
	else if (r == 0 && kf.dirfd == -1)
		r = close_only(c, st, w, msg, msglen);	/* no directory */
	else if (r == 0)
		r = apply(c, st, &kf, w, msg, msglen);
	keyfile_close(&kf);
	return r;
}
