/*
 * audit.c -- what the key files really grant, against what the store says.
 *
 * MUST only read: no file and no row is ever written here.
 * MUST reach every key file through keyfile_open (no link followed, no FIFO
 *	opened blocking, the account's own identity inside its home) and read
 *	the account's grants while its lock is held.
 * MUST NOT read a file it finds unsafe: that is one unsafe-path finding,
 *	and nothing from the file (its keys do not count, for sshd either).
 * MUST store messages display-safe: file text, paths and names in them
 *	are escaped (msg_escape) when the message is built.
 * MUST stay n log n in the number of keys: grants and keys found are
 *	sorted and searched, never compared pairwise.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "authkeys.h"
#include "b64.h"
#include "err.h"
#include "install.h"
#include "msg.h"
#include "policy.h"
#include "report.h"
#include "revfile.h"
#include "safefs.h"
#include "sshopts.h"

#define FINDING_TEXT_MAX	1024	/* longest message */
#define QUOTE_MAX		200	/* most bytes of file text quoted */
#define DAY			86400

static const char *const kind_names[AK_NKINDS] = {
	[AK_UNSAFE_PATH] = "unsafe-path",
	[AK_UNMANAGED_KEY] = "unmanaged-key",
	[AK_UNMANAGED_CA] = "unmanaged-ca",
	[AK_MISSING_GRANT] = "missing-grant",
	[AK_REVOKED_KEY] = "revoked-key",
	[AK_EXPIRED_KEY] = "expired-key",
	[AK_OPTIONS_CHANGED] = "options-changed",
	[AK_POLICY_FAIL] = "policy-fail",
	[AK_BAD_LINE] = "bad-line",
	[AK_SHARED_KEY] = "shared-key",
	[AK_UNUSED_GRANT] = "unused-grant",
	[AK_ORPHAN_GRANT] = "orphan-grant",
	[AK_REVFILE_UNREADABLE] = "revoked-file-unreadable",
	[AK_REVFILE_MISSING] = "revoked-file-missing",
	[AK_REVOCATION_NOT_LISTED] = "revocation-not-listed",
	[AK_REVOCATION_UNRECORDED] = "revocation-unrecorded",
};

/* A key found in an account's file, for shared-key. */
struct audit_seen {
	char	fingerprint[FINGERPRINT_MAX];
	char	user[USERNAME_MAX + 1];
	size_t	seq;		/* a->paths[seq - 1] is its file */
};

/* One grant of the account being audited (copied out of the store). */
struct ugrant {
	char	 fingerprint[FINGERPRINT_MAX];
	int64_t	 id;
	char	 status[16];
	char	*options;
	char	*added_by;
	char	*path;
	int64_t	 added_at;
	int64_t	 expires_at;
	int64_t	 last_used_at;
	int	 seen;
};

struct ugrants {
	struct ugrant	*g;
	size_t		 n;
	size_t		 cap;
};

const char *
audit_kind_name(enum audit_kind k)
{
	if ((int)k < 0 || k >= AK_NKINDS)
		return "unknown";
	return kind_names[k];
}

/* Escape untrusted text into buf, quoting at most QUOTE_MAX bytes. */
static const char *
esc(const char *s, char *buf, size_t buflen)
{
	size_t	n;

	if (s == NULL)
		return "-";
	n = strlen(s);
	msg_escape(s, n > QUOTE_MAX ? QUOTE_MAX : n, buf, buflen);
	if (n > QUOTE_MAX && strlen(buf) + 4 <= buflen)
		(void)strcat(buf, "...");	/* cut: say so */
	return buf;
}

static int
add_finding(struct audit *a, enum audit_kind kind, const char *user,
    const char *path, const char *fp, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static int
add_finding(struct audit *a, enum audit_kind kind, const char *user,
    const char *path, const char *fp, size_t line, const char *fmt, ...)
{
	struct audit_finding	*f, *nf;
	char			 text[FINDING_TEXT_MAX];
	size_t			 ncap;
	va_list			 ap;

	if (a->capping && a->here[kind]++ >= AUDIT_LIST_MAX) {
		a->hidden[kind]++;
		a->counts[kind]++;
		return 0;
	}
	if (a->n == a->cap) {
		ncap = a->cap == 0 ? 16 : a->cap * 2;
		if ((nf = reallocarray(a->f, ncap, sizeof(*nf))) == NULL)
			return KE_NOMEM;
		a->f = nf;
		a->cap = ncap;
	}
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	f = &a->f[a->n];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->line = line;
	f->seq = user != NULL ? a->accounts : 0;
	f->order = a->n;
	if (fp != NULL)
		(void)snprintf(f->fingerprint, sizeof(f->fingerprint), "%s",
		    fp);
	if ((user != NULL && (f->user = strdup(user)) == NULL) ||
	    (path != NULL && (f->path = strdup(path)) == NULL) ||
	    (f->message = strdup(text)) == NULL) {
		free(f->user);
		free(f->path);
		return KE_NOMEM;
	}
	a->counts[kind]++;
	a->n++;
	return 0;
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static int
in_sorted(char *const *v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(*v), cmp_str) != NULL;
}

static void
free_strv(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Append a copy of s to *v (n, cap). */
static int
strv_push(char ***v, size_t *n, size_t *cap, const char *s)
{
	char	**nv;
	size_t	  ncap;

	if (*n == *cap) {
		ncap = *cap == 0 ? 16 : *cap * 2;
		if ((nv = reallocarray(*v, ncap, sizeof(*nv))) == NULL)
			return KE_NOMEM;
		*v = nv;
		*cap = ncap;
	}
	if (((*v)[*n] = strdup(s)) == NULL)
		return KE_NOMEM;
	(*n)++;
	return 0;
}

struct revoked_acc {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

static int
revoked_cb(const struct store_revocation *rv, void *arg)
{
	struct revoked_acc	*acc = arg;

	return strv_push(&acc->v, &acc->n, &acc->cap, rv->fingerprint);
}

int
audit_init(struct audit *a, struct ctx *c, struct store *st)
{
	struct revoked_acc	acc;
	int			r;

	memset(a, 0, sizeof(*a));
	a->c = c;
	a->st = st;
	if (st == NULL)
		return 0;
	memset(&acc, 0, sizeof(acc));
	if ((r = store_revocations_each(st, revoked_cb, &acc)) != 0) {
		free_strv(acc.v, acc.n);
		return ctx_store_fail(c, st, r);
	}
	if (acc.n > 1)
		qsort(acc.v, acc.n, sizeof(*acc.v), cmp_str);
	a->revoked = acc.v;
	a->nrevoked = acc.n;
	return 0;
}

void
audit_free(struct audit *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++) {
		free(a->f[i].user);
		free(a->f[i].path);
		free(a->f[i].message);
	}
	free(a->f);
	free(a->seen);
	free_strv(a->paths, a->npaths);
	free_strv(a->revoked, a->nrevoked);
	free_strv(a->listed, a->nlisted);
	memset(a, 0, sizeof(*a));
}

/* --- the revoked-keys file ---------------------------------------- */

/* The fingerprints of the keys the file lists, sorted, into a->listed. */
static int
revfile_collect(struct audit *a, const struct revfile *rf)
{
	char	fp[FINGERPRINT_MAX];
	size_t	i, cap = 0;
	int	r;

	for (i = 0; i < rf->ak->n; i++) {
		const struct authkeys_entry *e = &rf->ak->lines[i];
		if (!e->is_key)
			continue;
		if ((r = keyparse_fingerprint(e->blob, e->bloblen, fp,
		    sizeof(fp))) != 0 ||
		    (r = strv_push(&a->listed, &a->nlisted, &cap, fp)) != 0)
			return r;
	}
	if (a->nlisted > 1)
		qsort(a->listed, a->nlisted, sizeof(*a->listed), cmp_str);
	return 0;
}

/* The file against the store, both ways. */
static int
revfile_compare(struct audit *a, const char *disp)
{
	char	pesc[PATH_MAX];
	size_t	i;
	int	r;

	esc(disp, pesc, sizeof(pesc));
	for (i = 0; i < a->nrevoked; i++)
		if (!in_sorted(a->listed, a->nlisted, a->revoked[i]) &&
		    (r = add_finding(a, AK_REVOCATION_NOT_LISTED, NULL, disp,
		    a->revoked[i], 0, "revoked by keyadm but not listed in "
		    "%s: sshd still accepts it where a copy is left; keyadm "
		    "revoke lists it again", pesc)) != 0)
			return r;
	for (i = 0; i < a->nlisted; i++) {
		if (i > 0 && strcmp(a->listed[i], a->listed[i - 1]) == 0)
			continue;
		if (!in_sorted(a->revoked, a->nrevoked, a->listed[i]) &&
		    (r = add_finding(a, AK_REVOCATION_UNRECORDED, NULL, disp,
		    a->listed[i], 0, "listed in %s but not recorded as "
		    "revoked: keyadm revoke with the .pub file records it",
		    pesc)) != 0)
			return r;
	}
	return 0;
}

int
audit_revfile(struct audit *a, char *msg, size_t msglen)
{
	struct ctx	*c = a->c;
	struct revfile	 rf;
	char		 pesc[PATH_MAX];
	int		 r, ever = 0;

	r = revfile_open(&rf, c->rootfd, c->dispprefix,
	    c->cfg.revoked_keys_file, 0, (int)c->cfg.busy_timeout_ms, msg,
	    msglen);
	esc(rf.disp, pesc, sizeof(pesc));
	if (r == KE_CONFIG || r == KE_UNSAFE) {
		r = add_finding(a, r == KE_UNSAFE ? AK_UNSAFE_PATH :
		    AK_REVFILE_UNREADABLE, NULL, rf.disp, NULL, 0, "%s%s", msg,
		    r == KE_UNSAFE ? "" : "; sshd refuses every key while "
		    "RevokedKeys names a file it cannot read");
		revfile_close(&rf);
		return r;
	}
	if (r == 0 && !rf.existed && a->st != NULL &&
	    (ever = store_ever_revoked(a->st)) < 0)
		r = ever;
	if (r == 0 && !rf.existed && ever)
		r = add_finding(a, AK_REVFILE_MISSING, NULL, rf.disp, NULL, 0,
		    "%s is missing but keyadm has revoked keys: they are "
		    "accepted again, and sshd refuses every key if "
		    "RevokedKeys names it", pesc);
	if (r == 0)
		r = revfile_collect(a, &rf);
	if (r == 0 && (rf.existed || ever))
		r = revfile_compare(a, rf.disp);
	revfile_close(&rf);
	return r;
}

/* --- one account ---------------------------------------------------- */

static int
cmp_ugrant(const void *x, const void *y)
{
	const struct ugrant	*p = x, *q = y;
	int			 d = strcmp(p->fingerprint, q->fingerprint);

	if (d != 0)
		return d;
	return p->id < q->id ? -1 : p->id > q->id;
}

static int
ugrant_cb(const struct store_grant *g, void *arg)
{
	struct ugrants	*ug = arg;
	struct ugrant	*u, *nv;
	size_t		 ncap;

	if (ug->n == ug->cap) {
		ncap = ug->cap == 0 ? 16 : ug->cap * 2;
		if ((nv = reallocarray(ug->g, ncap, sizeof(*nv))) == NULL)
			return KE_NOMEM;
		ug->g = nv;
		ug->cap = ncap;
	}
	u = &ug->g[ug->n];
	memset(u, 0, sizeof(*u));
	(void)snprintf(u->fingerprint, sizeof(u->fingerprint), "%s",
	    g->fingerprint);
	(void)snprintf(u->status, sizeof(u->status), "%s", g->status);
	u->id = g->id;
	u->added_at = g->added_at;
	u->expires_at = g->expires_at;
	u->last_used_at = g->last_used_at;
	ug->n++;
	if ((g->options != NULL && (u->options = strdup(g->options)) ==
	    NULL) || (g->added_by != NULL && (u->added_by =
	    strdup(g->added_by)) == NULL) || (g->path != NULL &&
	    (u->path = strdup(g->path)) == NULL))
		return KE_NOMEM;
	return 0;
}

static void
ugrants_free(struct ugrants *ug)
{
	size_t	i;

	for (i = 0; i < ug->n; i++) {
		free(ug->g[i].options);
		free(ug->g[i].added_by);
		free(ug->g[i].path);
	}
	free(ug->g);
	memset(ug, 0, sizeof(*ug));
}

static int
ugrants_load(struct audit *a, const char *user, struct ugrants *ug)
{
	struct store_grant_query	q;
	int				r;

	memset(ug, 0, sizeof(*ug));
	if (a->st == NULL)
		return 0;
	memset(&q, 0, sizeof(q));
	q.user = user;
	if ((r = store_grants_find(a->st, &q, ugrant_cb, ug)) != 0)
		return r;
	if (ug->n > 1)
		qsort(ug->g, ug->n, sizeof(*ug->g), cmp_ugrant);
	return 0;
}

/*
 * The grants of fp: *active gets the active one (or NULL), *last the
 * newest of all (or NULL).
 */
static void
ugrants_lookup(struct ugrants *ug, const char *fp, struct ugrant **active,
    struct ugrant **last)
{
	size_t	lo = 0, hi = ug->n, mid;

	*active = *last = NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(ug->g[mid].fingerprint, fp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ug->n && strcmp(ug->g[lo].fingerprint, fp) == 0; lo++) {
		if (strcmp(ug->g[lo].status, "active") == 0)
			*active = &ug->g[lo];
		*last = &ug->g[lo];
	}
}

struct acct_run {
	struct audit		*a;
	const struct account	*acct;
	struct keyfile		*kf;
	struct ugrants		 ug;
	int			 other;	/* a file sshd reads, keyadm not */
	char			 pesc[PATH_MAX];	/* escaped path */
};

/* Blank, or a comment: sshd passes over it without a word. */
static int
skippable(const struct authkeys_entry *e)
{
	size_t	i = 0;

	while (i < e->rawlen && (e->raw[i] == ' ' || e->raw[i] == '\t' ||
	    e->raw[i] == '\r'))
		i++;
	return i == e->rawlen || e->raw[i] == '#';
}

static int
same_opts(const char *x, const char *y)
{
	return strcmp(x != NULL ? x : "", y != NULL ? y : "") == 0;
}

/* A key in the file that has no active grant here. */
static int
check_ungranted(struct acct_run *ar, const char *fp, size_t line,
    const struct ugrant *last)
{
	struct audit	*a = ar->a;
	const char	*u = ar->acct->name;
	char		 t[32];

	/* keyadm revoke edits authorized_keys_file only */
	if (last != NULL && strcmp(last->status, "revoked") == 0)
		return add_finding(a, AK_REVOKED_KEY, u, ar->kf->disp, fp,
		    line, "revoked for this account but still in the file; "
		    "%s%s%s", ar->other ? "remove the line by hand (keyadm "
		    "does not edit this file)" : "keyadm revoke --user ",
		    ar->other ? "" : u, ar->other ? "" : " removes it");
	if (last != NULL && strcmp(last->status, "expired") == 0)
		return add_finding(a, AK_EXPIRED_KEY, u, ar->kf->disp, fp,
		    line, "its grant expired at %s but the key is still in "
		    "the file", report_fmt_time(last->expires_at, t,
		    sizeof(t)));
	if (ar->other)
		return add_finding(a, AK_UNMANAGED_KEY, u, ar->kf->disp, fp,
		    line, "in a file sshd also reads (audit_key_files) but "
		    "keyadm never manages: move it with keyadm add, or remove "
		    "it");
	return add_finding(a, AK_UNMANAGED_KEY, u, ar->kf->disp, fp, line,
	    "not recorded by keyadm (added by hand?); keyadm adopt %s "
	    "records it, keyadm revoke KEY.pub --user %s removes it", u, u);
}

/* The key on line idx against the store. */
static int
check_granted(struct acct_run *ar, const char *fp, size_t idx)
{
	const struct authkeys_entry	*e = &ar->kf->ak->lines[idx];
	struct audit			*a = ar->a;
	struct ugrant			*act, *last;
	const char			*u = ar->acct->name;
	char				 t[32], o1[QUOTE_MAX * 4 + 8];
	char				 o2[QUOTE_MAX * 4 + 8];

	ugrants_lookup(&ar->ug, fp, &act, &last);
	if (act != NULL && !ar->other)
		act->seen = 1;
	if (audit_revoked(a, fp) && ar->other)
		return add_finding(a, AK_REVOKED_KEY, u, ar->kf->disp, fp,
		    idx + 1, "revoked for every account but still in the "
		    "file; remove the line by hand (keyadm does not edit this "
		    "file)");
	if (audit_revoked(a, fp))
		return add_finding(a, AK_REVOKED_KEY, u, ar->kf->disp, fp,
		    idx + 1, "revoked for every account but still in the "
		    "file; keyadm revoke %s --user %s removes it", fp, u);
	if (act == NULL)
		return check_ungranted(ar, fp, idx + 1, last);
	if (act->expires_at != 0 && act->expires_at <= a->c->now)
		return add_finding(a, AK_EXPIRED_KEY, u, ar->kf->disp, fp,
		    idx + 1, "expired at %s but still in the file; keyadm "
		    "expire removes it", report_fmt_time(act->expires_at, t,
		    sizeof(t)));
	if (!same_opts(e->options, act->options))
		return add_finding(a, AK_OPTIONS_CHANGED, u, ar->kf->disp, fp,
		    idx + 1, "options changed by hand: the file has \"%s\", "
		    "keyadm granted \"%s\"; %s", e->options != NULL ?
		    esc(e->options, o1, sizeof(o1)) : "", act->options != NULL ?
		    esc(act->options, o2, sizeof(o2)) : "", ar->other ?
		    "remove this line: keyadm keeps the key in "
		    "authorized_keys_file" : "keyadm add with the options puts "
		    "them back");
	return 0;
}

static int
seen_push(struct audit *a, const char *fp, const char *user)
{
	struct audit_seen	*nv, *s;
	size_t			 ncap;

	if (a->nseen == a->seencap) {
		ncap = a->seencap == 0 ? 64 : a->seencap * 2;
		if ((nv = reallocarray(a->seen, ncap, sizeof(*nv))) == NULL)
			return KE_NOMEM;
		a->seen = nv;
		a->seencap = ncap;
	}
	s = &a->seen[a->nseen];
	memset(s, 0, sizeof(*s));
	(void)snprintf(s->fingerprint, sizeof(s->fingerprint), "%s", fp);
	(void)snprintf(s->user, sizeof(s->user), "%s", user);
	s->seq = a->accounts;
	a->nseen++;
	return 0;
}

void
audit_policy_reasons(const struct policy_result *pr, char *buf, size_t len)
{
	size_t	i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < pr->n && n < len; i++) {
		if (pr->reasons[i].severity != VERDICT_REJECT)
			continue;
		(void)snprintf(buf + n, len - n, "%s%s", n > 0 ? "; " : "",
		    pr->reasons[i].text);
		n = strlen(buf);
	}
}

/* Today's policy on a key found in a file. */
static int
check_policy(struct acct_run *ar, const struct pubkey *k, size_t line)
{
	struct policy_result	pr;
	char			text[FINDING_TEXT_MAX];

	policy_check(&ar->a->c->cfg.policy, k, &pr);
	if (pr.verdict != VERDICT_REJECT)
		return 0;
	audit_policy_reasons(&pr, text, sizeof(text));
	return add_finding(ar->a, AK_POLICY_FAIL, ar->acct->name,
	    ar->kf->disp, k->fingerprint, line, "fails today's policy: %s",
	    text);
}

/*
 * Parse the line's key as keyadm takes keys, from its decoded blob
 * written out again (sshd's decoder passes over blanks a text copy of the
 * base64 would keep).
 */
static int
parse_key(const struct authkeys_entry *e, struct pubkey **k, char *reason,
    size_t reasonlen)
{
	char	*text;
	size_t	 tl = strlen(e->type), n;
	int	 r;

	if (e->bloblen > KEYLINE_MAX) {
		(void)snprintf(reason, reasonlen, "key longer than %d bytes",
		    KEYLINE_MAX);
		return KE_MALFORMED;
	}
	if ((text = malloc(tl + 1 + B64_ENCODED_SIZE(e->bloblen))) == NULL)
		return KE_NOMEM;
	memcpy(text, e->type, tl);
	text[tl] = ' ';
	n = b64_encode(e->blob, e->bloblen, text + tl + 1, 1);
	r = keyparse_line(text, tl + 1 + n, k, reason, reasonlen);
	free(text);
	return r;
}

int
audit_line_parse(const struct authkeys_entry *e, char fp[FINGERPRINT_MAX],
    struct pubkey **k, int *optbad, char *reason, size_t reasonlen)
{
	int	r;

	*k = NULL;
	*optbad = 0;
	fp[0] = '\0';
	reason[0] = '\0';
	if (!e->is_key)
		return skippable(e) ? AL_BLANK : AL_NOT_KEY;
	if ((r = keyparse_fingerprint(e->blob, e->bloblen, fp,
	    FINGERPRINT_MAX)) != 0)
		return r;
	if (keyfile_line_is_ca(e))
		return AL_CA;
	if ((r = parse_key(e, k, reason, reasonlen)) == KE_NOMEM ||
	    r == KE_INTERNAL)
		return r;
	if (r != 0)
		return AL_BAD_KEY;
	if (e->options != NULL && sshopts_check(e->options,
	    strlen(e->options), reason, reasonlen) != 0)
		*optbad = 1;
	return AL_KEY;
}

/* One line of the file. */
static int
check_line(struct acct_run *ar, size_t idx)
{
	const struct authkeys_entry	*e = &ar->kf->ak->lines[idx];
	struct pubkey			*k = NULL;
	const char			*u = ar->acct->name, *d = ar->kf->disp;
	char				 fp[FINGERPRINT_MAX];
	char				 reason[KEYPARSE_REASON_MAX];
	int				 r, optbad;

	r = audit_line_parse(e, fp, &k, &optbad, reason, sizeof(reason));
	switch (r) {
	case AL_BLANK:
		return 0;
	case AL_NOT_KEY:
		return add_finding(ar->a, AK_BAD_LINE, u, d, NULL, idx + 1,
		    "not a key line: sshd skips it");
	case AL_CA:
		return add_finding(ar->a, AK_UNMANAGED_CA, u, d, fp, idx + 1,
		    "a certificate authority: every certificate it signs "
		    "for this account logs in; keyadm does not manage it");
	case AL_BAD_KEY:
		/* sshd may still take it: judge it by its blob all the same */
		if ((r = add_finding(ar->a, AK_BAD_LINE, u, d, fp, idx + 1,
		    "a key keyadm cannot read (%s); sshd may still accept it",
		    reason)) == 0 && (r = seen_push(ar->a, fp, u)) == 0)
			r = check_granted(ar, fp, idx);
		return r;
	case AL_KEY:
		break;
	default:
		return r;
	}
	if ((r = check_policy(ar, k, idx + 1)) == 0 &&
	    (r = seen_push(ar->a, fp, u)) == 0)
		r = check_granted(ar, fp, idx);
	pubkey_free(k);
	return r;
}

/* Active grants: in the file?  Used lately? */
static int
check_grants(struct acct_run *ar)
{
	struct audit	*a = ar->a;
	const char	*u = ar->acct->name, *d = ar->kf->disp;
	const int64_t	 now = a->c->now;
	struct ugrant	*g;
	char		 t[32], by[128], p[PATH_MAX];
	int64_t		 used;
	size_t		 i;
	int		 r = 0, moved;

	for (i = 0; i < ar->ug.n && r == 0; i++) {
		g = &ar->ug.g[i];
		if (strcmp(g->status, "active") != 0)
			continue;
		if (g->expires_at != 0 && g->expires_at <= now)
			continue;	/* keyadm expire's to close */
		moved = g->path != NULL && strcmp(g->path, ar->kf->path) != 0;
		if (!g->seen)
			r = add_finding(a, AK_MISSING_GRANT, u, d,
			    g->fingerprint, 0, "granted %s by %s but not in "
			    "the file%s%s; keyadm add reinstalls it, keyadm "
			    "revoke retires it", report_fmt_time(g->added_at,
			    t, sizeof(t)), esc(g->added_by, by, sizeof(by)),
			    moved ? "; it was installed in " : "",
			    moved ? esc(g->path, p, sizeof(p)) : "");
		used = g->last_used_at != 0 ? g->last_used_at : g->added_at;
		if (r == 0 && now - used > (int64_t)a->c->cfg.unused_days * DAY)
			r = add_finding(a, AK_UNUSED_GRANT, u, d,
			    g->fingerprint, 0, "%s %s (unused_days is %u)",
			    g->last_used_at != 0 ? "last used" :
			    "never used since it was granted",
			    report_fmt_time(used, t, sizeof(t)),
			    a->c->cfg.unused_days);
	}
	return r;
}

/*
 * The way to the key file is unsafe.  Nothing to see if it leads nowhere
 * and nothing is granted there (a system account whose home is /var/mail,
 * group-writable: sshd would ignore keys there, and there are none).
 */
static int
unsafe_path(struct audit *a, const struct account *acct,
    const struct keyfile *kf, const struct ugrants *ug, const char *why)
{
	size_t	i;

	if (!safefs_exists(a->c->rootfd, kf->path)) {
		for (i = 0; i < ug->n; i++)
			if (strcmp(ug->g[i].status, "active") == 0)
				break;
		if (i == ug->n)
			return 0;	/* leads nowhere, grants nothing */
	}
	return add_finding(a, AK_UNSAFE_PATH, acct->name, kf->disp, NULL, 0,
	    "%s; keyadm will not read or change it", why);
}

/* One finding for each kind with findings left out of the list. */
static int
flush_hidden(struct audit *a, const char *user, const char *path,
    const size_t *hidden)
{
	size_t	k;
	int	r;

	for (k = 0; k < AK_NKINDS; k++) {
		if (hidden[k] == 0)
			continue;
		if ((r = add_finding(a, (enum audit_kind)k, user, path, NULL,
		    0, "and %zu more %s findings in this file, not listed",
		    hidden[k], audit_kind_name((enum audit_kind)k))) != 0)
			return r;
		a->counts[k]--;		/* counted when they were found */
	}
	return 0;
}

/* Has this account an unsafe-path finding for the same reason already? */
static int
said_unsafe(const struct audit *a, const char *why)
{
	size_t	i, n = strlen(why);

	for (i = a->n; i > 0 && a->f[i - 1].seq == a->accounts; i--)
		if (a->f[i - 1].kind == AK_UNSAFE_PATH &&
		    strncmp(a->f[i - 1].message, why, n) == 0)
			return 1;
	return 0;
}

/* The account's other key file pattern pat, read without its lock. */
static int
audit_other(struct audit *a, const struct account *acct, const char *pat,
    struct ugrants *ug, char *msg, size_t msglen)
{
	struct ctx	*c = a->c;
	struct keyfile	 kf;
	struct acct_run	 ar;
	size_t		 i;
	int		 r;

	r = keyfile_open(&kf, c->rootfd, c->dispprefix, pat, acct,
	    KEYFILE_NOHOME_OK | KEYFILE_NOLOCK, 0, msg, msglen);
	if (r == KE_UNSAFE || r == KE_CANTCREATE) {
		r = safefs_exists(c->rootfd, kf.path) &&
		    !said_unsafe(a, msg) ? add_finding(a, AK_UNSAFE_PATH,
		    acct->name, kf.disp, NULL, 0, "%s; keyadm will not read "
		    "it, sshd may", msg) : 0;
		keyfile_close(&kf);
		return r;
	}
	memset(&ar, 0, sizeof(ar));
	ar.a = a;
	ar.acct = acct;
	ar.kf = &kf;
	ar.ug = *ug;		/* borrowed: revoked or expired here? */
	ar.other = 1;
	a->capping = 1;
	for (i = 0; r == 0 && i < kf.ak->n; i++)
		r = check_line(&ar, i);
	a->capping = 0;
	if (r == 0)
		r = flush_hidden(a, acct->name, kf.disp, a->hidden);
	keyfile_close(&kf);
	return r;
}

/*
 * Each of audit_key_files that is not the managed file itself: sshd
 * reads them (its default AuthorizedKeysFile also names
 * .ssh/authorized_keys2), so a key there grants access as well.
 */
static int
audit_others(struct audit *a, const struct account *acct,
    struct ugrants *ug, char *msg, size_t msglen)
{
	const char	*p = a->c->cfg.audit_key_files;
	char		 pat[PATH_MAX], mine[PATH_MAX], path[PATH_MAX];
	size_t		 n;
	int		 r;

	if (*p == '\0')
		return 0;
	if ((r = keyfile_expand(a->c->cfg.authorized_keys_file, acct, mine,
	    sizeof(mine))) != 0)
		return r;
	for (r = 0; r == 0 && *(p += strspn(p, " \t")) != '\0'; p += n) {
		n = strcspn(p, " \t");
		(void)snprintf(pat, sizeof(pat), "%.*s", (int)n, p);
		memset(a->here, 0, sizeof(a->here));
		memset(a->hidden, 0, sizeof(a->hidden));
		if ((r = keyfile_expand(pat, acct, path, sizeof(path))) == 0 &&
		    strcmp(path, mine) != 0)
			r = audit_other(a, acct, pat, ug, msg, msglen);
	}
	return r;
}

int
audit_account(struct audit *a, const struct account *acct, char *msg,
    size_t msglen)
{
	struct ctx	*c = a->c;
	struct keyfile	 kf;
	struct acct_run	 ar;
	size_t		 i;
	char		 pesc[PATH_MAX];
	int		 r, r2, unlocked = 0;

	r = keyfile_open(&kf, c->rootfd, c->dispprefix,
	    c->cfg.authorized_keys_file, acct, KEYFILE_NOHOME_OK,
	    (int)c->cfg.busy_timeout_ms, msg, msglen);
	if (r == KE_BUSY) {
		/* the account can hold its own lock for ever: files are only
		 * ever replaced whole, so read without it */
		keyfile_close(&kf);
		r = keyfile_open(&kf, c->rootfd, c->dispprefix,
		    c->cfg.authorized_keys_file, acct, KEYFILE_NOHOME_OK |
		    KEYFILE_NOLOCK, 0, msg, msglen);
		unlocked = r == 0;
	}
	if (r != 0 && r != KE_UNSAFE && r != KE_CANTCREATE) {
		keyfile_close(&kf);
		return r;
	}
	a->accounts++;
	if ((r2 = strv_push(&a->paths, &a->npaths, &a->pathcap,
	    kf.disp)) != 0) {
		keyfile_close(&kf);
		return r2;
	}
	memset(&ar, 0, sizeof(ar));
	ar.a = a;
	ar.acct = acct;
	ar.kf = &kf;
	/* under the file's lock: a concurrent change is wholly in or out */
	if ((r2 = ugrants_load(a, acct->name, &ar.ug)) != 0) {
		(void)snprintf(msg, msglen, "%s%s: %s", c->dispprefix,
		    c->cfg.database, store_errmsg(a->st));
		ugrants_free(&ar.ug);
		keyfile_close(&kf);
		return r2;
	}
	if (r == KE_UNSAFE || r == KE_CANTCREATE) {
		/* too large to read is as good as unsafe: unseen keys */
		if ((r = unsafe_path(a, acct, &kf, &ar.ug, msg)) == 0)
			r = audit_others(a, acct, &ar.ug, msg, msglen);
		ugrants_free(&ar.ug);
		keyfile_close(&kf);
		return r;
	}
	msg[0] = '\0';		/* safefs may leave a note on success */
	memset(a->here, 0, sizeof(a->here));
	memset(a->hidden, 0, sizeof(a->hidden));
	a->capping = 1;
	for (i = 0; i < kf.ak->n && r == 0; i++)
		r = check_line(&ar, i);
	a->capping = 0;
	if (r == 0)
		r = flush_hidden(a, acct->name, kf.disp, a->hidden);
	if (r == 0)
		r = check_grants(&ar);
	if (r == 0)
		r = audit_others(a, acct, &ar.ug, msg, msglen);
	ugrants_free(&ar.ug);
	keyfile_close(&kf);
	if (r != 0 && msg[0] == '\0')
		(void)snprintf(msg, msglen, "%s: %s", acct->name,
		    keyadm_strerror(r));
	if (r == 0 && unlocked) {
		(void)snprintf(msg, msglen, "%.400s: locked for longer than "
		    "busy_timeout_ms; read without the lock",
		    esc(kf.disp, pesc, sizeof(pesc)));
		return 1;
	}
	return r;
}

/* --- across accounts -------------------------------------------------- */

static int
orphan_cb(const struct store_grant *g, void *arg)
{
	struct ugrants	*ug = arg;
	int		 r;

	if ((r = ugrant_cb(g, ug)) != 0)
		return r;
	/* keep the user in the status field's place: the path is unused */
	free(ug->g[ug->n - 1].path);
	return (ug->g[ug->n - 1].path = strdup(g->user)) == NULL ?
	    KE_NOMEM : 0;
}

static int
listed_name(char *const *only, size_t nonly, const char *user)
{
	size_t	i;

	for (i = 0; i < nonly; i++)
		if (strcmp(only[i], user) == 0)
			return 1;
	return nonly == 0;
}

int
audit_orphans(struct audit *a, char *const *only, size_t nonly, char *msg,
    size_t msglen)
{
	struct store_grant_query	 q;
	struct ugrants			 ug;
	struct account			 acct;
	const char			*user;
	size_t				 i;
	int				 r = 0, gone = 0;

	if (a->st == NULL)
		return 0;
	memset(&q, 0, sizeof(q));
	memset(&ug, 0, sizeof(ug));
	q.status = "active";
	if ((r = store_grants_find(a->st, &q, orphan_cb, &ug)) != 0)
		(void)snprintf(msg, msglen, "%s%s: %s", a->c->dispprefix,
		    a->c->cfg.database, store_errmsg(a->st));
	for (i = 0; i < ug.n && r == 0; i++) {
		user = ug.g[i].path;	/* ordered by user */
		if (!listed_name(only, nonly, user))
			continue;
		if (i == 0 || strcmp(user, ug.g[i - 1].path) != 0) {
			r = a->c->lookup(a->c, user, &acct);
			gone = r == KE_NOUSER;
			if (r == KE_NOUSER)
				r = 0;
			else if (r != 0)
				(void)snprintf(msg, msglen, "%s: cannot look up "
				    "the account", user);
		}
		if (r == 0 && gone)
			r = add_finding(a, AK_ORPHAN_GRANT, user, NULL,
			    ug.g[i].fingerprint, 0, "the account is gone but "
			    "grant %jd is still active; keyadm revoke closes it",
			    (intmax_t)ug.g[i].id);
	}
	ugrants_free(&ug);
	return r;
}

static int
cmp_seen(const void *x, const void *y)
{
	const struct audit_seen	*p = x, *q = y;
	int			 d = strcmp(p->fingerprint, q->fingerprint);

	if (d != 0)
		return d;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

static int
cmp_seen_seq(const void *x, const void *y)
{
	const struct audit_seen	*p = x, *q = y;

	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* Append ", name" to list (at most a few names, then a count). */
static void
name_list_add(char *list, size_t len, size_t *count, const char *name)
{
	size_t	n = strlen(list);

	if (++*count <= 8)
		(void)snprintf(list + n, len - n, "%s%s", n > 0 ? ", " : "",
		    name);
}

/*
 * Entries seen[from..to) share a fingerprint; each account gets a finding
 * (up to AUDIT_LIST_MAX of them per account: per[] counts the rest).
 */
static int
shared_group(struct audit *a, size_t from, size_t to,
    const char *store_others, size_t *per)
{
	const struct audit_seen	*s;
	char			 others[512];
	size_t			 i, j, count;
	int			 r;

	for (i = from; i < to; i++) {
		s = &a->seen[i];
		if (i > from && s->seq == a->seen[i - 1].seq)
			continue;	/* one finding per account */
		others[0] = '\0';
		count = 0;
		for (j = from; j < to && count <= 8; j++)
			if (a->seen[j].seq != s->seq &&
			    (j == from || a->seen[j].seq != a->seen[j - 1].seq))
				name_list_add(others, sizeof(others), &count,
				    a->seen[j].user);
		if (store_others != NULL)
			name_list_add(others, sizeof(others), &count,
			    store_others);
		if (count == 0)
			continue;
		if (per[s->seq - 1]++ >= AUDIT_LIST_MAX) {
			a->counts[AK_SHARED_KEY]++;
			continue;
		}
		if ((r = add_finding(a, AK_SHARED_KEY, s->user,
		    a->paths[s->seq - 1], s->fingerprint, 0, "the same key "
		    "also lets in %s%s", others, count > 8 ? " and more" :
		    "")) != 0)
			return r;
		a->f[a->n - 1].seq = s->seq;
	}
	return 0;
}

/* "and N more" for the accounts whose shared keys were not all listed. */
static int
shared_flush(struct audit *a, const size_t *per)
{
	size_t	hidden[AK_NKINDS], i, k, n;
	int	r;

	for (i = 0; i < a->nseen; i++) {
		k = a->seen[i].seq - 1;
		if (per[k] <= AUDIT_LIST_MAX || (i > 0 &&
		    a->seen[i - 1].seq == a->seen[i].seq))
			continue;
		memset(hidden, 0, sizeof(hidden));
		hidden[AK_SHARED_KEY] = per[k] - AUDIT_LIST_MAX;
		n = a->n;
		if ((r = flush_hidden(a, a->seen[i].user, a->paths[k],
		    hidden)) != 0)
			return r;
		if (a->n > n)
			a->f[a->n - 1].seq = a->seen[i].seq;
	}
	return 0;
}

struct others_acc {
	const char	*user;
	char		 list[256];
	size_t		 count;
};

static int
others_cb(const struct store_grant *g, void *arg)
{
	struct others_acc	*o = arg;

	if (strcmp(g->user, o->user) != 0)
		name_list_add(o->list, sizeof(o->list), &o->count, g->user);
	return 0;
}

int
audit_shared(struct audit *a, char *msg, size_t msglen)
{
	struct store_grant_query	 q;
	struct others_acc		 o;
	size_t				*per, i, j;
	int				 r = 0;

	if (a->nseen == 0)
		return 0;
	if ((per = calloc(a->npaths, sizeof(*per))) == NULL)
		return KE_NOMEM;
	qsort(a->seen, a->nseen, sizeof(*a->seen), cmp_seen);
	for (i = 0; i < a->nseen && r == 0; i = j) {
		for (j = i + 1; j < a->nseen; j++)
			if (strcmp(a->seen[j].fingerprint,
			    a->seen[i].fingerprint) != 0)
				break;
		memset(&o, 0, sizeof(o));
		/* only some accounts walked: the store knows the others */
		if (a->partial && a->st != NULL) {
			memset(&q, 0, sizeof(q));
			q.fingerprint = a->seen[i].fingerprint;
			q.status = "active";
			o.user = a->seen[i].user;
			if ((r = store_grants_find(a->st, &q, others_cb,
			    &o)) != 0) {
				(void)snprintf(msg, msglen, "%s%s: %s",
				    a->c->dispprefix, a->c->cfg.database,
				    store_errmsg(a->st));
				break;
			}
		}
		r = shared_group(a, i, j, o.count > 0 ? o.list : NULL, per);
	}
	if (r == 0) {
		/* flush_hidden walks by account: order seen that way */
		qsort(a->seen, a->nseen, sizeof(*a->seen), cmp_seen_seq);
		r = shared_flush(a, per);
	}
	free(per);
	return r;
}

int
audit_revoked(const struct audit *a, const char *fp)
{
	return in_sorted(a->revoked, a->nrevoked, fp) ||
	    in_sorted(a->listed, a->nlisted, fp);
}

static int
cmp_finding(const void *x, const void *y)
{
	const struct audit_finding	*p = x, *q = y;

	if ((p->user == NULL) != (q->user == NULL))
		return p->user == NULL ? -1 : 1;
	if (p->seq != q->seq)
		return p->seq < q->seq ? -1 : 1;
	return p->order < q->order ? -1 : p->order > q->order;
}

void
audit_sort(struct audit *a)
{
	if (a->n > 1)
		qsort(a->f, a->n, sizeof(*a->f), cmp_finding);
}
