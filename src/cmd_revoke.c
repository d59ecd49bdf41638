/*
 * cmd_revoke.c -- keyadm revoke KEY [--user USER] --reason TEXT [--dry-run]
 *
 * KEY is a SHA256: fingerprint, a grant id or the .pub file itself.
 * First, unless other accounts keep the key (--user, a grant id), the key
 * goes into the revoked-keys file: from that moment sshd refuses it for
 * every account, even where a copy of its line survives.  Then every line
 * carrying it goes from each account's file and the grants are marked
 * revoked (withdraw.h).  One account's failure does not stop the others;
 * the first failure decides the exit status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "ctx.h"
#include "err.h"
#include "keyparse.h"
#include "msg.h"
#include "revfile.h"
#include "safefs.h"
#include "store.h"
#include "withdraw.h"

#define REVOKE_USERS_MAX	100000	/* accounts one revoke may touch */

static const char usage_revoke[] =
    "usage: keyadm revoke KEY [--user USER] --reason TEXT [--dry-run]";

/* The key being revoked, owned here. */
struct rkey {
	char		 fingerprint[FINGERPRINT_MAX];
	char		 type[KEYTYPE_MAX];
	unsigned int	 bits;
	char		*b64;
	unsigned char	*blob;
	size_t		 bloblen;
	char		*comment;
	int64_t		 key_id;	/* 0: not in the store yet */
};

struct revoke_run {
	struct ctx	*c;
	const char	*user;		/* --user, or the grant's account */
	const char	*reason;
	int		 dry_run;
	struct store	*st;
	struct rkey	 k;
	struct withdraw	*w;		/* one per account */
	char		**users;	/* w[i].user, owned */
	struct withdraw_key *wk;
	size_t		 nw;
	size_t		 others;	/* active elsewhere (with --user) */
	int		 global;	/* goes into the revoked-keys file */
	int		 listed;	/* newly listed there */
	int		 store_failed;	/* the store failed: stop there */
	char		 msg[SAFEFS_MSG_MAX * 2];
};

static int
revoke_args(int argc, char **argv, struct revoke_run *rr)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "reason", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	optind = 0;	/* 0: a full reset of GNU getopt for the command */
	opterr = 0;	/* our own message, in our own form */
	while ((ch = getopt_long(argc, argv, "hnr:u:", longopts, NULL)) != -1) {
		if (ch == 'u')
			rr->user = optarg;
		else if (ch == 'r')
			rr->reason = optarg;
		else if (ch == 'n')
			rr->dry_run = 1;
		else if (ch == 'h') {
			(void)printf("%s\n", usage_revoke);
			return 1;
		} else {
			msg_usage(argv[optind - 1], usage_revoke);
			return KE_USAGE;
		}
	}
	if (argc - optind != 1 || rr->reason == NULL) {
		msg_err(NULL, "%s", usage_revoke);
		return KE_USAGE;
	}
	if (!msg_printable(rr->reason, REASON_MAX) || rr->reason[0] == '\0') {
		msg_err("--reason", "must be one line of 1 to %d printable "
		    "bytes", REASON_MAX);
		return KE_USAGE;
	}
	if (rr->user != NULL && !accounts_valid_name(rr->user)) {
		msg_err(rr->user, "not a valid user name");
		return KE_NOUSER;
	}
	return 0;
}

/* Fill k from type and canonical base64 (stored or parsed). */
static int
rkey_set(struct rkey *k, const char *type, const char *b64,
    const char *comment)
{
	size_t	n = strlen(b64);
	long	len;

	if (strlen(type) >= sizeof(k->type) || n == 0 ||
	    (k->b64 = strdup(b64)) == NULL ||
	    (comment != NULL && (k->comment = strdup(comment)) == NULL) ||
	    (k->blob = malloc(n / 4 * 3 + 3)) == NULL)
		return KE_NOMEM;
	(void)snprintf(k->type, sizeof(k->type), "%s", type);
	if ((len = b64_decode(b64, n, k->blob, n / 4 * 3 + 3)) <= 0)
		return KE_INTERNAL;
	k->bloblen = (size_t)len;
	return 0;
}

static int
key_cb(const struct store_keyrow *row, void *arg)
{
	struct rkey	*k = arg;
	int		 r;

	k->key_id = row->id;
	k->bits = row->bits;
	(void)snprintf(k->fingerprint, sizeof(k->fingerprint), "%s",
	    row->fingerprint);
	r = rkey_set(k, row->type, row->b64, row->comment);
	return r == 0 ? 2 : r;	/* 2: found (1 means unknown) */
}

/* Only the row id: the key itself came from a file. */
static int
id_cb(const struct store_keyrow *row, void *arg)
{
	((struct rkey *)arg)->key_id = row->id;
	return 2;
}

/* A .pub file: exactly one key, parsed strictly; policy does not apply. */
static int
key_from_file(struct revoke_run *rr, const char *path)
{
	struct keyparse_list	*kl = NULL;
	const struct pubkey	*pk;
	unsigned char		*buf = NULL;
	char			 reason[KEYPARSE_REASON_MAX];
	size_t			 len = 0;
	int			 r;

	if ((r = safefs_read_input(path, KEYFILE_MAX, &buf, &len, rr->msg,
	    sizeof(rr->msg))) != 0) {
		msg_line(rr->msg);
		return r;
	}
	r = keyparse_buf(buf, len, &kl, reason, sizeof(reason));
	free(buf);
	if (r != 0) {
		msg_err(path, "%s", reason);
		return r;
	}
	if (kl->n != 1 || kl->items[0].err != 0) {
		if (kl->n != 1) {
			msg_err(path, "holds %zu keys; revoke one at a time",
			    kl->n);
			r = KE_USAGE;
		} else {
			msg_err(path, "line %zu: %s", kl->items[0].lineno,
			    kl->items[0].reason);
			r = kl->items[0].err;
		}
		keyparse_list_free(kl);
		return r;
	}
	pk = kl->items[0].key;
	(void)snprintf(rr->k.fingerprint, sizeof(rr->k.fingerprint), "%s",
	    pk->fingerprint);
	rr->k.bits = pk->bits;
	r = rkey_set(&rr->k, pk->typename, pk->b64, pk->comment);
	keyparse_list_free(kl);
	return r;
}

/* A grant id: all digits, no sign, no leading zero. */
static int
grant_id_of(const char *s, int64_t *id)
{
	char			*end;
	unsigned long long	 v;

	if (s[0] < '1' || s[0] > '9' || strspn(s, "0123456789") != strlen(s))
		return 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v > INT64_MAX)
		return 0;
	*id = (int64_t)v;
	return 1;
}

struct grant_pick {
	char	*user;
	char	 fingerprint[FINGERPRINT_MAX];
	char	 status[16];
};

static int
pick_cb(const struct store_grant *g, void *arg)
{
	struct grant_pick	*gp = arg;

	if ((gp->user = strdup(g->user)) == NULL)
		return KE_NOMEM;
	(void)snprintf(gp->fingerprint, sizeof(gp->fingerprint), "%s",
	    g->fingerprint);
	(void)snprintf(gp->status, sizeof(gp->status), "%s", g->status);
	return 1;
}

/* KEY as a grant id: the key and, unless --user says so too, the user. */
static int
key_from_grant(struct revoke_run *rr, const char *arg, int64_t id,
    char **user)
{
	struct store_grant_query	q;
	struct grant_pick		gp;
	int				r;

	memset(&q, 0, sizeof(q));
	memset(&gp, 0, sizeof(gp));
	q.id = id;
	r = rr->st == NULL ? 0 : store_grants_find(rr->st, &q, pick_cb, &gp);
	if (r == 0) {
		msg_err(arg, "no such grant");
		return KE_NOINPUT;
	}
	if (r < 0)
		return ctx_store_fail(rr->c, rr->st, r);
	*user = gp.user;
	if (rr->user != NULL && strcmp(rr->user, gp.user) != 0) {
		msg_err(arg, "grant %lld is for %s, not %s", (long long)id,
		    gp.user, rr->user);
		return KE_USAGE;
	}
	rr->user = gp.user;
	if ((r = store_key_get(rr->st, gp.fingerprint, key_cb, &rr->k)) == 1) {
		msg_err(arg, "the key of grant %lld is not in the store",
		    (long long)id);
		return KE_INTERNAL;
	}
	if (r != 2)
		return ctx_store_fail(rr->c, rr->st, r);
	return 0;
}

/* KEY to a key: fingerprint, grant id or .pub file. */
static int
resolve(struct revoke_run *rr, const char *arg, char **user)
{
	int64_t	id;
	int	r;

	if (strncmp(arg, "SHA256:", 7) == 0) {
		r = rr->st == NULL ? 1 : store_key_get(rr->st, arg, key_cb,
		    &rr->k);
		if (r == 1) {
			msg_err(arg, "not in the store; give the .pub file to "
			    "revoke a key keyadm never recorded");
			return KE_NOINPUT;
		}
		if (r != 2)
			return ctx_store_fail(rr->c, rr->st, r);
		return 0;
	}
	if (grant_id_of(arg, &id))
		return key_from_grant(rr, arg, id, user);
	if ((r = key_from_file(rr, arg)) != 0)
		return r;
	if (rr->st != NULL && (r = store_key_get(rr->st, rr->k.fingerprint,
	    id_cb, &rr->k)) != 1 && r != 2)
		return ctx_store_fail(rr->c, rr->st, r);
	return 0;
}

/* One more account to take the key from. */
static int
target_add(struct revoke_run *rr, const char *user, int64_t grant_id)
{
	struct withdraw		*w;
	struct withdraw_key	*wk;
	char			*u, **us;

	if (rr->nw >= REVOKE_USERS_MAX)
		return KE_INTERNAL;
	if ((u = strdup(user)) == NULL)
		return KE_NOMEM;
	w = reallocarray(rr->w, rr->nw + 1, sizeof(*w));
	if (w != NULL)
		rr->w = w;
	wk = reallocarray(rr->wk, rr->nw + 1, sizeof(*wk));
	if (wk != NULL)
		rr->wk = wk;
	us = reallocarray(rr->users, rr->nw + 1, sizeof(*us));
	if (us != NULL)
		rr->users = us;
	if (w == NULL || wk == NULL || us == NULL) {
		free(u);
		return KE_NOMEM;
	}
	rr->users[rr->nw] = u;
	memset(&rr->w[rr->nw], 0, sizeof(*w));
	memset(&rr->wk[rr->nw], 0, sizeof(*wk));
	rr->w[rr->nw].user = u;
	rr->wk[rr->nw].grant_id = grant_id;
	rr->nw++;
	return 0;
}

/*
 * Every account that ever had the key (grants come ordered by user): a
 * closed grant's line may have come back by hand.  Its active grant, if
 * any, is the one to close.
 */
static int
target_cb(const struct store_grant *g, void *arg)
{
	struct revoke_run	*rr = arg;
	int			 active = strcmp(g->status, "active") == 0;

	if (rr->user != NULL && strcmp(g->user, rr->user) != 0) {
		rr->others += active;
		return 0;
	}
	if (rr->nw > 0 && strcmp(rr->users[rr->nw - 1], g->user) == 0) {
		if (active)
			rr->wk[rr->nw - 1].grant_id = g->id;
		return 0;
	}
	return target_add(rr, g->user, active ? g->id : 0);
}

static void
targets_free(struct revoke_run *rr)
{
	size_t	i;

	for (i = 0; i < rr->nw; i++)
		free(rr->users[i]);
	free(rr->users);
	free(rr->w);
	free(rr->wk);
	rr->users = NULL;
	rr->w = NULL;
	rr->wk = NULL;
	rr->nw = 0;
	rr->others = 0;
}

/* The accounts that have the key, and whether it goes in the file. */
static int
targets(struct revoke_run *rr)
{
	struct store_grant_query	q;
	struct account			acct;
	size_t				i;
	int				r = 0;

	memset(&q, 0, sizeof(q));
	q.fingerprint = rr->k.fingerprint;
	if (rr->st != NULL && rr->k.key_id != 0 &&
	    (r = store_grants_find(rr->st, &q, target_cb, rr)) != 0) {
		rr->store_failed = 1;
		return r == KE_NOMEM ? r : ctx_store_fail(rr->c, rr->st, r);
	}
	if (rr->user != NULL && rr->nw == 0) {
		/* no grant: the account must exist (a typo is not a no-op) */
		if ((r = rr->c->lookup(rr->c, rr->user, &acct)) != 0) {
			msg_err(rr->user, "%s", r == KE_NOUSER ?
			    "unknown user" : "cannot look up the account");
			return r;
		}
		if ((r = target_add(rr, rr->user, 0)) != 0)
			return r;
	}
	for (i = 0; i < rr->nw; i++) {
		rr->wk[i].fingerprint = rr->k.fingerprint;
		rr->wk[i].blob = rr->k.blob;
		rr->wk[i].bloblen = rr->k.bloblen;
		rr->w[i].status = "revoked";
		rr->w[i].action = "revoke";
		rr->w[i].reason = rr->reason;
		rr->w[i].dry_run = rr->dry_run;
		rr->w[i].keys = &rr->wk[i];
		rr->w[i].n = 1;
	}
	rr->global = rr->user == NULL || rr->others == 0;
	return 0;
}

static int
store_msg(struct revoke_run *rr, int err)
{
	rr->store_failed = 1;
	(void)snprintf(rr->msg, sizeof(rr->msg), "%.400s%.400s: %.200s",
	    rr->c->dispprefix, rr->c->cfg.database, rr->st != NULL ?
	    store_errmsg(rr->st) : keyadm_strerror(err));
	return err;
}

/* Store rows of the listing; in the caller's transaction. */
static int
list_record(struct revoke_run *rr, const struct revfile *rf, int added)
{
	struct ctx		*c = rr->c;
	struct store_key	 sk = { rr->k.fingerprint, rr->k.type,
				    rr->k.bits, rr->k.b64, rr->k.comment };
	struct store_event	 ev;
	char			 detail[REASON_MAX + PATH_MAX + 32];
	int			 r;

	if (rr->k.key_id == 0 && (r = store_key_upsert(rr->st, &sk, c->now,
	    &rr->k.key_id)) != 0)
		return r;
	if ((r = store_revocation_add(rr->st, rr->k.key_id, c->now,
	    c->actor.name, c->actor.uid, rr->reason)) < 0)
		return r;
	if (r == 1 && !added)
		return 0;	/* listed and recorded before */
	(void)snprintf(detail, sizeof(detail), "%s; listed in %s",
	    rr->reason, rf->disp);
	memset(&ev, 0, sizeof(ev));
	ev.at = c->now;
	ev.actor = c->actor.name;
	ev.actor_uid = c->actor.uid;
	ev.action = "revoke";
	ev.fingerprint = rr->k.fingerprint;
	ev.detail = detail;
	return store_event_append(rr->st, &ev);
}

/* Add to the file and record it: lock, BEGIN, rows, file, COMMIT. */
static int
list_apply(struct revoke_run *rr, struct revfile *rf, int added)
{
	int	r;

	if ((r = store_begin(rr->st)) != 0)
		return store_msg(rr, r);
	if ((r = list_record(rr, rf, added)) != 0) {
		(void)store_rollback(rr->st);
		return store_msg(rr, r);
	}
	rr->msg[0] = '\0';
	if (added && (r = revfile_write(rf, rr->msg, sizeof(rr->msg))) != 0) {
		(void)store_rollback(rr->st);
		return r;
	}
	if (rr->msg[0] != '\0')
		msg_line(rr->msg);	/* a warning: replaced, not synced */
	if ((r = store_commit(rr->st)) != 0) {
		(void)store_rollback(rr->st);
		rr->store_failed = 1;
		(void)snprintf(rr->msg, sizeof(rr->msg), "%.200s%.200s: "
		    "%.200s; the key is listed in %.300s but not recorded",
		    rr->c->dispprefix, rr->c->cfg.database,
		    store_errmsg(rr->st), rf->disp);
	}
	return r;
}

/* List the key in the revoked-keys file (or show the diff). */
static int
list_key(struct revoke_run *rr)
{
	struct ctx	*c = rr->c;
	struct revfile	 rf;
	char		*before = NULL, *after = NULL;
	size_t		 blen = 0, alen = 0;
	int		 added, r;

	report_obj_begin(&c->out, "revoked_keys_file");
	r = revfile_open(&rf, c->rootfd, c->dispprefix,
	    c->cfg.revoked_keys_file, !rr->dry_run,
	    (int)c->cfg.busy_timeout_ms, rr->msg, sizeof(rr->msg));
	if (r == 0 && rr->dry_run && rf.existed)
		r = revfile_render(&rf, &before, &blen);
	if (r == 0 && (r = revfile_add(&rf, rr->k.type, rr->k.b64)) >= 0) {
		added = r == 0;
		if (rr->dry_run && added &&
		    (r = revfile_render(&rf, &after, &alen)) == 0)
			r = report_diff(&c->out, rf.disp, before, blen, after,
			    alen);
		else if (!rr->dry_run)
			r = list_apply(rr, &rf, added);
		else
			r = 0;
		rr->listed = r == 0 && added;
	}
	if (r == KE_POLICY)
		(void)snprintf(rr->msg, sizeof(rr->msg), "%.64s: %s keys are "
		    "not written to the revoked-keys file (an OpenSSH without "
		    "DSA would fail on it); remove them everywhere by hand",
		    rr->k.fingerprint, rr->k.type);
	report_str(&c->out, "path", rf.disp);
	report_bool(&c->out, "changed", rr->listed);
	report_obj_end(&c->out);
	if (r == 0)
		report_text(&c->out, "%s (%s): %s %s", rr->k.fingerprint,
		    keyparse_name_label(rr->k.type), rr->listed ?
		    (rr->dry_run ? "would be listed in" : "listed in") :
		    "already listed in", report_esc(rf.disp, rr->msg,
		    sizeof(rr->msg)));
	else
		msg_line(rr->msg);
	free(before);
	free(after);
	revfile_close(&rf);
	return r;
}

/* Take the key from one account and say what happened. */
static int
revoke_one(struct revoke_run *rr, struct withdraw *w)
{
	struct report	*o = &rr->c->out;
	char		 user[128], path[PATH_MAX * 2], gid[48];
	int		 r;

	report_obj_begin(o, NULL);
	report_str(o, "user", w->user);
	r = withdraw_user(rr->c, rr->st, w, rr->msg, sizeof(rr->msg));
	report_str(o, "path", w->path[0] != '\0' ? w->path : NULL);
	report_int(o, "lines_removed", (long long)w->keys[0].lines);
	if (w->keys[0].grant_id != 0)
		report_int(o, "id", (long long)w->keys[0].grant_id);
	else
		report_str(o, "id", NULL);
	report_bool(o, "account_exists", !w->no_account);
	if (r != 0) {
		report_str(o, "error", keyadm_strerror(r));
		msg_line(rr->msg);
	}
	report_obj_end(o);
	if (r != 0)
		return r;
	report_esc(w->user, user, sizeof(user));
	report_esc(w->path, path, sizeof(path));
	if (w->keys[0].grant_id != 0)
		(void)snprintf(gid, sizeof(gid), "grant %lld",
		    (long long)w->keys[0].grant_id);
	else
		(void)snprintf(gid, sizeof(gid), "no grant");
	report_text(o, "%s: %s %s: %zu line%s removed from %s (%s)", user,
	    rr->dry_run ? "would revoke" : "revoked", rr->k.fingerprint,
	    w->keys[0].lines, w->keys[0].lines == 1 ? "" : "s",
	    w->no_account ? "(no such account)" : path, gid);
	/* syslog: the revoke event, sent by the store's hook (withdraw.c) */
	return 0;
}

static int
revoke_store(struct revoke_run *rr)
{
	struct ctx	*c = rr->c;
	int		 r;

	r = ctx_store_open(c, rr->dry_run ? STORE_READONLY : STORE_CREATE,
	    &rr->st, rr->msg, sizeof(rr->msg));
	if (r == KE_NOINPUT && rr->dry_run) {
		rr->st = NULL;
		return 0;
	}
	if (r != 0)
		msg_line(rr->msg);
	return r;
}

/*
 * The revoked-keys file first (sshd refuses the key from then on), then
 * each account; the first failure is returned, the rest still done, but
 * for a failing store: every later step would fail on it the same way
 * (each after the busy timeout, when it is locked), and nothing is
 * changed without it.
 */
static int
revoke_run(struct revoke_run *rr)
{
	struct report	*o = &rr->c->out;
	size_t		 i;
	int		 first = 0, r;

	if (rr->global && (r = list_key(rr)) != 0)
		first = r;
	if (rr->store_failed)
		return first;
	if (rr->global && !rr->dry_run) {
		/* a grant added before the listing committed is seen now */
		targets_free(rr);
		if ((r = targets(rr)) != 0)
			return first != 0 ? first : r;
		rr->global = 1;
	}
	if (!rr->global) {
		report_str(o, "revoked_keys_file", NULL);
		msg_err(rr->k.fingerprint, "still active for %zu other "
		    "account%s: not listed in %s%s (revoke without --user to "
		    "refuse it everywhere)", rr->others, rr->others == 1 ? "" :
		    "s", rr->c->dispprefix, rr->c->cfg.revoked_keys_file);
	}
	report_arr_begin(o, "accounts");
	for (i = 0; i < rr->nw; i++) {
		if ((r = revoke_one(rr, &rr->w[i])) != 0 && first == 0)
			first = r;
		if (rr->w[i].store_failed)
			break;
	}
	report_arr_end(o);
	return first;
}

static int
changed(const struct revoke_run *rr)
{
	size_t	i;

	if (rr->listed)
		return 1;
	for (i = 0; i < rr->nw; i++)
		if (rr->wk[i].lines > 0 || rr->wk[i].closed ||
		    (rr->dry_run && rr->wk[i].grant_id != 0))
			return 1;
	return 0;
}

static void
revoke_free(struct revoke_run *rr, char *grant_user)
{
	targets_free(rr);
	free(rr->k.b64);
	free(rr->k.blob);
	free(rr->k.comment);
	free(grant_user);
	store_close(rr->st);
}

int
cmd_revoke(struct ctx *c, int argc, char **argv)
{
	struct revoke_run	 rr;
	char			*grant_user = NULL;
	int			 r;

	memset(&rr, 0, sizeof(rr));
	rr.c = c;
	if ((r = revoke_args(argc, argv, &rr)) != 0)
		return r > 0 ? 0 : r;
	report_obj_begin(&c->out, NULL);
	if ((r = revoke_store(&rr)) == 0 &&
	    (r = resolve(&rr, argv[optind], &grant_user)) == 0 &&
	    (r = targets(&rr)) == 0) {
		report_str(&c->out, "fingerprint", rr.k.fingerprint);
		report_str(&c->out, "type", rr.k.type);
		report_bool(&c->out, "dry_run", rr.dry_run);
		r = revoke_run(&rr);
		/* a dry run says whether it would change */
		report_bool(&c->out, "changed", changed(&rr));
	}
	if (r != 0)
		report_str(&c->out, "error", keyadm_strerror(r));
	report_obj_end(&c->out);
	revoke_free(&rr, grant_user);
	return r;
}
