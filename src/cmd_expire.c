/*
 * cmd_expire.c -- keyadm expire [--dry-run]
 *
 * For a cron job or a timer.  sshd already refuses a key past its
 * expiry-time; this removes the lines and marks the grants expired, one
 * account at a time (withdraw.h).  One account's failure does not stop the
 * others; the first failure decides the exit status.
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
#include "safefs.h"
#include "store.h"
#include "withdraw.h"

#define EXPIRE_MAX	1000000		/* grants one run handles */

static const char usage_expire[] = "usage: keyadm expire [--dry-run]";

/* One expired grant, copied out of the store. */
struct gone {
	char		*user;
	char		 fingerprint[FINGERPRINT_MAX];
	unsigned char	*blob;
	size_t		 bloblen;
	int64_t		 id;
	int64_t		 expires_at;
};

struct expire_run {
	struct ctx	*c;
	int		 dry_run;
	struct store	*st;
	struct gone	*g;
	size_t		 n;
	int		 store_failed;	/* the store failed: stop there */
	char		 msg[SAFEFS_MSG_MAX * 2];
};

static int
expire_args(int argc, char **argv, int *dry_run)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	optind = 0;	/* 0: a full reset of GNU getopt for the command */
	opterr = 0;	/* our own message, in our own form */
	while ((ch = getopt_long(argc, argv, "hn", longopts, NULL)) != -1) {
		if (ch == 'n')
			*dry_run = 1;
		else if (ch == 'h') {
			(void)printf("%s\n", usage_expire);
			return 1;
		} else {
			msg_usage(argv[optind - 1], usage_expire);
			return KE_USAGE;
		}
	}
	if (optind != argc) {
		msg_err(NULL, "%s", usage_expire);
		return KE_USAGE;
	}
	return 0;
}

static int
gone_cb(const struct store_grant *sg, void *arg)
{
	struct expire_run	*er = arg;
	struct gone		*g, *ng;
	size_t			 n = strlen(sg->b64);
	long			 len;

	if (er->n >= EXPIRE_MAX)
		return 1;	/* the rest next time */
	if ((ng = reallocarray(er->g, er->n + 1, sizeof(*ng))) == NULL)
		return KE_NOMEM;
	er->g = ng;
	g = &er->g[er->n];
	memset(g, 0, sizeof(*g));
	if ((g->user = strdup(sg->user)) == NULL ||
	    (g->blob = malloc(n / 4 * 3 + 3)) == NULL) {
		free(g->user);
		return KE_NOMEM;
	}
	er->n++;
	if ((len = b64_decode(sg->b64, n, g->blob, n / 4 * 3 + 3)) <= 0)
		return KE_INTERNAL;
	g->bloblen = (size_t)len;
	(void)snprintf(g->fingerprint, sizeof(g->fingerprint), "%s",
	    sg->fingerprint);
	g->id = sg->id;
	g->expires_at = sg->expires_at;
	return 0;
}

static int
by_user(const void *a, const void *b)
{
	const struct gone	*x = a, *y = b;
	int			 d = strcmp(x->user, y->user);

	if (d != 0)
		return d;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Report one account's expired grants (its object is open). */
static void
expire_report(struct expire_run *er, const struct withdraw *w, size_t from,
    int r)
{
	struct report	*o = &er->c->out;
	char		 user[128], path[PATH_MAX * 2];
	size_t		 i, lines = 0;

	report_esc(w->user, user, sizeof(user));
	report_esc(w->path, path, sizeof(path));
	for (i = 0; i < w->n; i++)
		lines += w->keys[i].lines;
	report_str(o, "path", w->path[0] != '\0' ? w->path : NULL);
	report_bool(o, "account_exists", !w->no_account);
	report_int(o, "lines_removed", (long long)lines);
	if (r != 0)
		report_str(o, "error", keyadm_strerror(r));
	report_arr_begin(o, "grants");
	for (i = 0; i < w->n; i++) {
		report_obj_begin(o, NULL);
		report_int(o, "id", (long long)w->keys[i].grant_id);
		report_str(o, "fingerprint", w->keys[i].fingerprint);
		report_time(o, "expires_at", er->g[from + i].expires_at);
		report_int(o, "lines_removed", (long long)w->keys[i].lines);
		report_obj_end(o);
		if (r != 0)
			continue;
		report_text(o, "%s: %s %s (grant %lld): %zu line%s removed "
		    "from %s", user, er->dry_run ? "would expire" : "expired",
		    w->keys[i].fingerprint, (long long)w->keys[i].grant_id,
		    w->keys[i].lines, w->keys[i].lines == 1 ? "" : "s",
		    w->no_account ? "(no such account)" : path);
		/* syslog: the expire event, sent by the store's hook */
	}
	report_arr_end(o);
}

/* The grants g[from..to) all belong to one account. */
static int
expire_user(struct expire_run *er, size_t from, size_t to)
{
	struct withdraw		 w;
	struct withdraw_key	*wk;
	size_t			 i;
	int			 r;

	if ((wk = calloc(to - from, sizeof(*wk))) == NULL)
		return KE_NOMEM;
	for (i = from; i < to; i++) {
		wk[i - from].fingerprint = er->g[i].fingerprint;
		wk[i - from].blob = er->g[i].blob;
		wk[i - from].bloblen = er->g[i].bloblen;
		wk[i - from].grant_id = er->g[i].id;
	}
	memset(&w, 0, sizeof(w));
	w.user = er->g[from].user;
	w.status = "expired";
	w.action = "expire";
	w.reason = "expiry time passed";
	w.dry_run = er->dry_run;
	w.only_closed = 1;	/* renewed meanwhile: not expired after all */
	w.keys = wk;
	w.n = to - from;
	/* one object per account: a dry run's diff goes into it */
	report_obj_begin(&er->c->out, NULL);
	report_str(&er->c->out, "user", w.user);
	if ((r = withdraw_user(er->c, er->st, &w, er->msg,
	    sizeof(er->msg))) != 0)
		msg_line(er->msg);
	er->store_failed = w.store_failed;
	expire_report(er, &w, from, r);
	report_obj_end(&er->c->out);
	free(wk);
	return r;
}

static int
expire_all(struct expire_run *er)
{
	struct store_grant_query	q;
	size_t				i, j;
	int				first = 0, r;

	memset(&q, 0, sizeof(q));
	q.expired_by = er->c->now;
	if (er->st != NULL && (r = store_grants_find(er->st, &q, gone_cb,
	    er)) < 0) {
		return ctx_store_fail(er->c, er->st, r);
	}
	if (er->n > 1)
		qsort(er->g, er->n, sizeof(*er->g), by_user);
	report_arr_begin(&er->c->out, "accounts");
	for (i = 0; i < er->n; i = j) {
		for (j = i + 1; j < er->n; j++)
			if (strcmp(er->g[j].user, er->g[i].user) != 0)
				break;
		if ((r = expire_user(er, i, j)) != 0 && first == 0)
			first = r;
		if (er->store_failed)
			break;	/* the next account would fail the same way */
	}
	report_arr_end(&er->c->out);
	if (er->n == 0)
		report_text(&er->c->out, "no grant has expired");
	return first;
}

int
cmd_expire(struct ctx *c, int argc, char **argv)
{
	struct expire_run	er;
	size_t			i;
	int			r;

	memset(&er, 0, sizeof(er));
	er.c = c;
	if ((r = expire_args(argc, argv, &er.dry_run)) != 0)
		return r > 0 ? 0 : r;
	r = ctx_store_open(c, er.dry_run ? STORE_READONLY : 0, &er.st,
	    er.msg, sizeof(er.msg));
	if (r == KE_NOINPUT)
		r = 0;		/* no store yet: nothing to expire */
	else if (r != 0)
		msg_line(er.msg);
	report_obj_begin(&c->out, NULL);
	report_bool(&c->out, "dry_run", er.dry_run);
	if (r == 0)
		r = expire_all(&er);
	/* a dry run says whether it would change */
	report_bool(&c->out, "changed", er.n > 0 && r == 0);
	if (r != 0)
		report_str(&c->out, "error", keyadm_strerror(r));
	report_obj_end(&c->out);
	for (i = 0; i < er.n; i++) {
		free(er.g[i].user);
		free(er.g[i].blob);
	}
	free(er.g);
	store_close(er.st);
	return r;
}
