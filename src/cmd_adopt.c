/*
 * cmd_adopt.c -- keyadm adopt USER...|--all [--reason TEXT] [--dry-run]
 *
 * How keyadm takes over a server: the keys already in the accounts' files
 * become managed grants (added by the administrator running adopt, reason
 * "adopted"), and the files stay exactly as they are.
 *
 * MUST NOT write a key file: adopt only records.
 * MUST NOT adopt a revoked key (revoked for every account, listed in the
 *	revoked-keys file, or last revoked for this account): "refused",
 *	exit 1; audit keeps reporting it.
 * MUST adopt a key that fails today's policy only with a warning, and
 *	list it so (verdict "reject").
 * MUST record an account's keys while holding its file's lock, in one
 *	transaction, rechecking inside it what a concurrent run may change.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "ctx.h"
#include "err.h"
#include "install.h"
#include "intake.h"
#include "msg.h"
#include "report.h"
#include "safefs.h"
#include "sshopts.h"
#include "store.h"

static const char usage_adopt[] =
    "usage: keyadm adopt USER...|--all [--reason TEXT] [--dry-run]";

enum adopt_action {
	AA_SKIPPED = 0,		/* sshd cannot use the line, or a CA */
	AA_MANAGED,		/* already an active grant */
	AA_REFUSED,		/* revoked: never adopted */
	AA_ADOPTED
};

static const char *const action_names[] = {
	[AA_SKIPPED] = "skipped",
	[AA_MANAGED] = "managed",
	[AA_REFUSED] = "refused",
	[AA_ADOPTED] = "adopted",
};

/* One key line of the file, and what adopt makes of it. */
struct adopt_item {
	size_t			 line;		/* 1-based */
	char			 fp[FINGERPRINT_MAX];	/* "" when none */
	struct pubkey		*k;		/* NULL unless a key */
	int			 cls;		/* enum audit_line */
	const char		*options;	/* borrowed from the file */
	int64_t			 expires;
	enum adopt_action	 action;
	struct policy_result	 pr;
	int64_t			 grant_id;
	char			 detail[KEYPARSE_REASON_MAX + 64];
};

struct adopt_run {
	struct ctx		*c;
	struct store		*st;	/* NULL: dry run without a store */
	struct audit		 rev;	/* what is revoked */
	int			 all;
	int			 dry_run;
	const char		*reason;
	int			 first;	/* first error */
	int			 refused;
	int			 changed;
	const struct account	*acct;
	struct keyfile		 kf;
	struct adopt_item	*items;
	size_t			 n;
	char			 msg[SAFEFS_MSG_MAX * 2];
};

static int
adopt_args(struct adopt_run *ar, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	optind = 0;	/* 0: a full reset of GNU getopt for the command */
	opterr = 0;	/* our own message, in our own form */
	while ((ch = getopt_long(argc, argv, "hanr:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			(void)printf("%s\n", usage_adopt);
			return 1;
		case 'a': ar->all = 1; break;
		case 'n': ar->dry_run = 1; break;
		case 'r': ar->reason = optarg; break;
		default:
			msg_usage(argv[optind - 1], usage_adopt);
			return KE_USAGE;
		}
	}
	if (ar->all == (optind < argc)) {
		msg_err(NULL, "%s", usage_adopt);
		return KE_USAGE;
	}
	if (!msg_printable(ar->reason, REASON_MAX)) {
		msg_err("--reason", "control characters or too long (at most "
		    "%d bytes)", REASON_MAX);
		return KE_USAGE;
	}
	return ctx_check_users(argv + optind, argc - optind);
}

static void
items_free(struct adopt_run *ar)
{
	size_t	i;

	for (i = 0; i < ar->n; i++)
		pubkey_free(ar->items[i].k);
	free(ar->items);
	ar->items = NULL;
	ar->n = 0;
}

static int
cmp_item(const void *x, const void *y)
{
	const struct adopt_item	*p = *(struct adopt_item *const *)x;
	const struct adopt_item	*q = *(struct adopt_item *const *)y;
	int			 d = strcmp(p->fp, q->fp);

	return d != 0 ? d : p->line < q->line ? -1 : p->line > q->line;
}

/*
 * Lines v[0..n) carry the same key.  sshd takes the first line whose
 * options let the login in and goes on to the next when one does not, so
 * lines that differ grant more than any one of them: refuse them all.
 * Lines alike are one key, adopted from the first.
 */
static void
same_key(struct adopt_item **v, size_t n)
{
	size_t	i;
	int	alike = 1;

	for (i = 1; i < n; i++)
		if (v[i]->cls != AL_KEY || v[0]->cls != AL_KEY ||
		    strcmp(v[i]->options != NULL ? v[i]->options : "",
		    v[0]->options != NULL ? v[0]->options : "") != 0)
			alike = 0;
	for (i = 0; i < n; i++) {
		if (alike && i == 0)
			continue;
		v[i]->action = alike ? AA_SKIPPED : AA_REFUSED;
		if (alike)
			(void)snprintf(v[i]->detail, sizeof(v[i]->detail),
			    "the same key as line %zu", v[0]->line);
		else
			(void)snprintf(v[i]->detail, sizeof(v[i]->detail),
			    "also on line %zu with other options: sshd may "
			    "use any of them; leave one line, then adopt",
			    v[i == 0 ? 1 : 0]->line);
	}
}

/* Group the lines of each key (CA lines apart: they grant no login). */
static int
mark_duplicates(struct adopt_run *ar)
{
	struct adopt_item	**v;
	size_t			  i, j, m = 0;

	if ((v = calloc(ar->n + 1, sizeof(*v))) == NULL)
		return KE_NOMEM;
	for (i = 0; i < ar->n; i++)
		if (ar->items[i].fp[0] != '\0' && ar->items[i].cls != AL_CA)
			v[m++] = &ar->items[i];
	if (m > 1)
		qsort(v, m, sizeof(*v), cmp_item);
	for (i = 0; i < m; i = j) {
		for (j = i + 1; j < m && strcmp(v[j]->fp, v[i]->fp) == 0; j++)
			;
		if (j - i > 1)
			same_key(v + i, j - i);
	}
	free(v);
	return 0;
}

/* What each line of the file is; keys start out as "adopted". */
static int
classify(struct adopt_run *ar)
{
	const struct authkeys_entry	*e;
	struct adopt_item		*it;
	char				 why[KEYPARSE_REASON_MAX];
	size_t				 i;
	int				 r, optbad;

	if ((ar->items = calloc(ar->kf.ak->n + 1, sizeof(*it))) == NULL)
		return KE_NOMEM;
	for (i = 0; i < ar->kf.ak->n; i++) {
		e = &ar->kf.ak->lines[i];
		it = &ar->items[ar->n];
		memset(it, 0, sizeof(*it));
		it->line = i + 1;
		r = audit_line_parse(e, it->fp, &it->k, &optbad, why,
		    sizeof(why));
		if (r < 0)
			return r;
		if (r == AL_BLANK)
			continue;
		ar->n++;
		it->cls = r;
		it->options = e->options;
		it->action = r == AL_KEY && !optbad ? AA_ADOPTED : AA_SKIPPED;
		(void)snprintf(it->detail, sizeof(it->detail), "%s%s",
		    r == AL_NOT_KEY ? "not a key line: sshd skips it" :
		    r == AL_CA ? "a certificate authority: keyadm does not "
		    "manage it" : r == AL_BAD_KEY ? "a key keyadm cannot read: "
		    : optbad ? "options keyadm cannot check: " : "",
		    r == AL_BAD_KEY || optbad ? why : "");
		if (optbad)
			(void)snprintf(it->detail + strlen(it->detail),
			    sizeof(it->detail) - strlen(it->detail), "; fix "
			    "the line, then adopt");
		if (it->action == AA_ADOPTED && e->options != NULL &&
		    sshopts_expiry(e->options, strlen(e->options),
		    &it->expires) != 0)
			it->expires = 0;
		if (it->action == AA_ADOPTED && it->expires != 0 &&
		    it->expires <= ar->c->now) {
			it->action = AA_SKIPPED;
			(void)snprintf(it->detail, sizeof(it->detail),
			    "its expiry-time has passed");
		}
	}
	return mark_duplicates(ar);
}

struct keystate {
	int64_t	key_id;
	int64_t	revoked_at;
};

static int
keystate_cb(const struct store_keyrow *k, void *arg)
{
	struct keystate	*ks = arg;

	ks->key_id = k->id;
	ks->revoked_at = k->revoked_at;
	return 0;
}

/* Revoked, or already granted?  Inside the transaction when recording. */
static int
judge(struct adopt_run *ar, struct adopt_item *it)
{
	struct keystate	ks;
	char		status[16];
	int		r;

	if (audit_revoked(&ar->rev, it->fp)) {
		it->action = AA_REFUSED;
		(void)snprintf(it->detail, sizeof(it->detail), "revoked for "
		    "every account");
		return 0;
	}
	memset(&ks, 0, sizeof(ks));
	if (ar->st == NULL || (r = store_key_get(ar->st, it->fp, keystate_cb,
	    &ks)) == 1)
		return 0;
	if (r < 0)
		return r;
	if (ks.revoked_at != 0) {
		it->action = AA_REFUSED;
		(void)snprintf(it->detail, sizeof(it->detail), "revoked for "
		    "every account");
		return 0;
	}
	if ((r = store_grant_find_active(ar->st, ar->acct->name, ks.key_id,
	    &it->grant_id)) == 0) {
		it->action = AA_MANAGED;
		return 0;
	}
	if (r < 0 || (r = store_grant_last_status(ar->st, ar->acct->name,
	    ks.key_id, status, sizeof(status))) < 0)
		return r;
	if (r == 0 && strcmp(status, "revoked") == 0) {
		it->action = AA_REFUSED;
		(void)snprintf(it->detail, sizeof(it->detail), "revoked for "
		    "this account; keyadm add --force reinstates it");
	} else if (r == 0 && (strcmp(status, "expired") == 0 ||
	    strcmp(status, "removed") == 0)) {
		/* taken away on purpose: only add gives it back */
		it->action = AA_REFUSED;
		(void)snprintf(it->detail, sizeof(it->detail), "its grant "
		    "was %s; keyadm add grants it again", status);
	}
	return 0;
}

/* Record one adopted key: the key, the grant, the event. */
static int
record(struct adopt_run *ar, struct adopt_item *it)
{
	const struct authkeys_entry	*e = &ar->kf.ak->lines[it->line - 1];
	struct ctx			*c = ar->c;
	struct store_key		 sk;
	struct store_grant_new		 g;
	struct store_event		 ev;
	char				 detail[REASON_MAX + SSHOPTS_MAX + 256];
	char				 why[512];
	int64_t				 key_id;
	int				 r;

	memset(&sk, 0, sizeof(sk));
	sk.fingerprint = it->fp;
	sk.type = it->k->typename;
	sk.bits = it->k->bits;
	sk.b64 = it->k->b64;
	if (e->comment != NULL && msg_printable(e->comment, COMMENT_MAX))
		sk.comment = e->comment;
	if ((r = store_key_upsert(ar->st, &sk, c->now, &key_id)) != 0)
		return r;
	memset(&g, 0, sizeof(g));
	g.key_id = key_id;
	g.user = ar->acct->name;
	g.options = it->options;
	g.expires_at = it->expires;
	g.added_by = c->actor.name;
	g.added_uid = c->actor.uid;
	g.reason = ar->reason;
	g.path = ar->kf.path;
	if ((r = store_grant_add(ar->st, &g, c->now, &it->grant_id)) != 0)
		return r;
	audit_policy_reasons(&it->pr, why, sizeof(why));
	(void)snprintf(detail, sizeof(detail), "%s%s%s%s%s", ar->reason,
	    it->options != NULL ? "; options: " : "",
	    it->options != NULL ? it->options : "",
	    why[0] != '\0' ? "; fails policy: " : "", why);
	memset(&ev, 0, sizeof(ev));
	ev.at = c->now;
	ev.actor = c->actor.name;
	ev.actor_uid = c->actor.uid;
	ev.action = "adopt";
	ev.user = ar->acct->name;
	ev.fingerprint = it->fp;
	ev.detail = detail;
	return store_event_append(ar->st, &ev);
}

/* Judge every candidate and record the adopted ones, in one transaction. */
static int
settle(struct adopt_run *ar)
{
	struct adopt_item	*it;
	size_t			 i, adopted = 0;
	int			 r, tx = 0;

	for (i = 0; i < ar->n; i++)
		if (ar->items[i].action == AA_ADOPTED)
			break;
	if (i == ar->n)
		return 0;
	if (!ar->dry_run && ar->st == NULL &&
	    (r = ctx_store_open(ar->c, STORE_CREATE, &ar->st, ar->msg,
	    sizeof(ar->msg))) != 0)
		return r;	/* the first key to record makes the store */
	if (!ar->dry_run) {
		if ((r = store_begin(ar->st)) != 0)
			return r;
		tx = 1;
	}
	for (i = 0, r = 0; i < ar->n && r == 0; i++) {
		it = &ar->items[i];
		if (it->action != AA_ADOPTED || (r = judge(ar, it)) != 0 ||
		    it->action != AA_ADOPTED)
			continue;
		policy_check(&ar->c->cfg.policy, it->k, &it->pr);
		adopted++;
		if (tx)
			r = record(ar, it);
	}
	if (r == 0 && (!tx || (r = store_commit(ar->st)) == 0)) {
		if (adopted > 0)
			ar->changed = 1;
		return 0;
	}
	if (tx)
		(void)store_rollback(ar->st);
	return r;
}

static void
report_item(struct adopt_run *ar, const struct adopt_item *it)
{
	struct report	*o = &ar->c->out;
	char		 why[512], det[sizeof(it->detail) * 4 + 8];
	const char	*user = ar->acct->name;
	size_t		 i;

	audit_policy_reasons(&it->pr, why, sizeof(why));
	report_obj_begin(o, NULL);
	report_int(o, "line", (long long)it->line);
	report_str(o, "fingerprint", it->fp[0] != '\0' ? it->fp : NULL);
	report_str(o, "type", it->k != NULL ? it->k->typename : NULL);
	if (it->k != NULL)
		report_int(o, "bits", it->k->bits);
	else
		report_str(o, "bits", NULL);
	report_str(o, "comment", ar->kf.ak->lines[it->line - 1].comment);
	report_str(o, "action", action_names[it->action]);
	if (it->grant_id != 0)
		report_int(o, "id", (long long)it->grant_id);
	else
		report_str(o, "id", NULL);
	report_str(o, "options", it->options);
	report_str(o, "verdict", it->action == AA_ADOPTED ?
	    policy_verdict_name(it->pr.verdict) : NULL);
	report_arr_begin(o, "reasons");
	for (i = 0; it->action == AA_ADOPTED && i < it->pr.n; i++)
		report_str(o, NULL, it->pr.reasons[i].text);
	report_arr_end(o);
	report_str(o, "detail", it->detail[0] != '\0' ? it->detail : NULL);
	report_obj_end(o);
	if (it->action == AA_ADOPTED)
		report_text(o, "%s: %s %s (%s) from line %zu%s%s%s", user,
		    ar->dry_run ? "would adopt" : "adopted", it->fp,
		    keyparse_type_label(it->k->type), it->line,
		    why[0] != '\0' ? "; fails policy: " : "", why,
		    ar->dry_run ? " (dry run)" : "");
	else if (it->action == AA_MANAGED)
		report_text(o, "%s: already managed %s (line %zu)", user,
		    it->fp, it->line);
	else
		report_text(o, "%s: %s %s%sline %zu: %s", user,
		    action_names[it->action], it->fp, it->fp[0] != '\0' ?
		    " " : "", it->line, report_esc(it->detail, det,
		    sizeof(det)));
	if (it->action == AA_ADOPTED && why[0] != '\0')
		msg_err(user, "%s: %s although it fails policy: %s", it->fp,
		    ar->dry_run ? "would be adopted" : "adopted", why);
}

static void
report_account(struct adopt_run *ar, int err)
{
	struct report	*o = &ar->c->out;
	char		 path[PATH_MAX * 2];
	size_t		 i;

	if (ar->all && err == 0 && ar->n == 0)
		return;		/* --all: accounts without keys say nothing */
	report_obj_begin(o, NULL);
	report_str(o, "user", ar->acct->name);
	report_str(o, "path", ar->kf.disp[0] != '\0' ? ar->kf.disp : NULL);
	report_arr_begin(o, "keys");
	for (i = 0; i < ar->n; i++)
		report_item(ar, &ar->items[i]);
	report_arr_end(o);
	if (err != 0)
		report_str(o, "error", keyadm_strerror(err));
	report_obj_end(o);
	if (err == 0 && ar->n == 0)
		report_text(o, "%s: no keys in %s", ar->acct->name,
		    report_esc(ar->kf.disp, path, sizeof(path)));
	for (i = 0; i < ar->n; i++)
		if (ar->items[i].action == AA_REFUSED)
			ar->refused++;
}

static void
note_error(struct adopt_run *ar, int r)
{
	if (r == 0)
		return;
	if (ar->msg[0] != '\0')
		msg_line(ar->msg);
	else
		msg_err(NULL, "%s", keyadm_strerror(r));
	ar->msg[0] = '\0';
	if (ar->first == 0)
		ar->first = r;
}

/* One account: lock its file, judge and record its keys, report. */
static int
adopt_account(struct adopt_run *ar, const struct account *acct)
{
	struct ctx	*c = ar->c;
	int		 r;

	ar->acct = acct;
	r = keyfile_open(&ar->kf, c->rootfd, c->dispprefix,
	    c->cfg.authorized_keys_file, acct, KEYFILE_NOHOME_OK,
	    (int)c->cfg.busy_timeout_ms, ar->msg, sizeof(ar->msg));
	if (r == 0) {
		ar->msg[0] = '\0';
		if ((r = classify(ar)) == 0 && (r = settle(ar)) != 0 &&
		    ar->st != NULL)
			(void)snprintf(ar->msg, sizeof(ar->msg),
			    "%.300s%.300s: %.300s", c->dispprefix,
			    c->cfg.database,
			    store_errmsg(ar->st));
	}
	report_account(ar, r);
	items_free(ar);
	keyfile_close(&ar->kf);
	note_error(ar, r);
	return r == KE_NOMEM ? r : 0;
}

static int
walk_cb(const struct account *acct, void *arg)
{
	return adopt_account(arg, acct);
}

static void
adopt_named(struct adopt_run *ar, char **names, int n)
{
	struct account	acct;
	int		i, j, r;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(names[j], names[i]) != 0; j++)
			;
		if (j < i)
			continue;	/* named twice */
		if ((r = ar->c->lookup(ar->c, names[i], &acct)) == 0) {
			if (adopt_account(ar, &acct) != 0)
				return;
			continue;
		}
		(void)snprintf(ar->msg, sizeof(ar->msg), "%s: %s", names[i],
		    r == KE_NOUSER ? "no such account" :
		    "cannot look up the account");
		note_error(ar, r);
	}
}

/* The store, and what is revoked (a revoked-keys file we cannot read
 * stops everything: we could not tell a revoked key from another). */
static int
adopt_open(struct adopt_run *ar)
{
	int	r;

	r = ctx_store_open(ar->c, ar->dry_run ? STORE_READONLY : 0, &ar->st,
	    ar->msg, sizeof(ar->msg));
	if (r == KE_NOINPUT)
		r = 0;	/* nothing recorded yet; made when there is something */
	if (r != 0) {
		msg_line(ar->msg);
		return r;
	}
	if ((r = intake_prepare(ar->c)) != 0 ||
	    (r = audit_init(&ar->rev, ar->c, ar->st)) != 0)
		return r;
	ar->msg[0] = '\0';
	if ((r = audit_revfile(&ar->rev, ar->msg, sizeof(ar->msg))) != 0) {
		msg_line(ar->msg);
		return r;
	}
	if (ar->rev.counts[AK_REVFILE_UNREADABLE] > 0 ||
	    ar->rev.counts[AK_UNSAFE_PATH] > 0) {
		msg_err(NULL, "%s; nothing adopted", ar->rev.f[0].message);
		return ar->rev.counts[AK_UNSAFE_PATH] > 0 ? KE_UNSAFE :
		    KE_CONFIG;
	}
	return 0;
}

int
cmd_adopt(struct ctx *c, int argc, char **argv)
{
	struct adopt_run	ar;
	int			r;

	memset(&ar, 0, sizeof(ar));
	ar.c = c;
	ar.reason = "adopted";
	if ((r = adopt_args(&ar, argc, argv)) != 0)
		return r > 0 ? 0 : r;
	if ((r = adopt_open(&ar)) == 0) {
		report_obj_begin(&c->out, NULL);
		report_bool(&c->out, "dry_run", ar.dry_run);
		report_arr_begin(&c->out, "accounts");
		if (ar.all)
			r = accounts_each(c->rootdir != NULL ? c->rootfd : -1,
			    walk_cb, &ar);
		else
			adopt_named(&ar, argv + optind, argc - optind);
		report_arr_end(&c->out);
		report_bool(&c->out, "changed", ar.changed);
		report_obj_end(&c->out);
		if (r != 0 && ar.first == 0)
			(void)snprintf(ar.msg, sizeof(ar.msg), "%.512s%s: cannot "
			    "list the accounts", c->dispprefix, c->rootdir !=
			    NULL ? "/etc/passwd" : "password database");
		note_error(&ar, r);
		r = ar.first != 0 ? ar.first : ar.refused > 0 ? KE_POLICY : 0;
	}
	audit_free(&ar.rev);
	store_close(ar.st);
	return r;
}
