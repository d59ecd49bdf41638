/*
 * cmd_audit.c -- keyadm audit [USER...]
 *
 * Every account of the password database, or those named: what their key
 * files really grant, against the store.  Reads only.  Exit 0 when clean,
 * 1 (KE_FINDINGS) when there are findings; an error (a file that stayed
 * locked, an unknown named account, ...) is reported on stderr, the other
 * accounts are still audited, and the first error decides the status.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "ctx.h"
#include "err.h"
#include "intake.h"
#include "msg.h"
#include "safefs.h"
#include "store.h"

static const char usage_audit[] = "usage: keyadm audit [USER...]";

#define AUDIT_ERRORS_MAX	100	/* errors kept for --json */

struct audit_run {
	struct audit	 a;
	int		 first;		/* first error */
	size_t		 nerrors;	/* accounts or files not audited */
	char		*errors[AUDIT_ERRORS_MAX];
	int		 codes[AUDIT_ERRORS_MAX];
	char		 msg[SAFEFS_MSG_MAX * 2];
};

/*
 * An error: printed now, kept for --json, and it makes the audit unclean
 * (what could not be read may grant access).  r 1 is a warning only.
 */
static void
note_error(struct audit_run *ar, int r)
{
	if (r == 0)
		return;
	if (ar->msg[0] != '\0')
		msg_line(ar->msg);
	else
		msg_err(NULL, "%s", keyadm_strerror(r));
	if (r > 0) {
		ar->msg[0] = '\0';
		return;
	}
	if (ar->nerrors < AUDIT_ERRORS_MAX) {
		ar->codes[ar->nerrors] = r;
		ar->errors[ar->nerrors] = strdup(ar->msg[0] != '\0' ?
		    ar->msg : keyadm_strerror(r));
	}
	ar->nerrors++;
	ar->msg[0] = '\0';
	if (ar->first == 0)
		ar->first = r;
}

static int
audit_args(int argc, char **argv)
{
	int	r;

	if ((r = ctx_help_only(argc, argv, 0, usage_audit)) != 0)
		return r;
	return ctx_check_users(argv + optind, argc - optind);
}

static int
walk_cb(const struct account *acct, void *arg)
{
	struct audit_run	*ar = arg;
	int			 r;

	r = audit_account(&ar->a, acct, ar->msg, sizeof(ar->msg));
	if (r == KE_NOMEM)
		return r;
	note_error(ar, r);
	return 0;
}

/* The named accounts, each once. */
static void
audit_named(struct audit_run *ar, char **names, int n)
{
	struct ctx	*c = ar->a.c;
	struct account	 acct;
	size_t		 before;
	int		 i, j, r;

	ar->a.partial = 1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(names[j], names[i]) == 0)
				break;
		if (j < i)
			continue;
		if ((r = c->lookup(c, names[i], &acct)) == 0)
			r = audit_account(&ar->a, &acct, ar->msg,
			    sizeof(ar->msg));
		else if (r == KE_NOUSER) {
			/* gone, but perhaps still granted keys */
			before = ar->a.n;
			r = audit_orphans(&ar->a, &names[i], 1, ar->msg,
			    sizeof(ar->msg));
			if (r == 0 && ar->a.n == before) {
				(void)snprintf(ar->msg, sizeof(ar->msg),
				    "%s: no such account", names[i]);
				r = KE_NOUSER;
			}
		} else
			(void)snprintf(ar->msg, sizeof(ar->msg),
			    "%s: cannot look up the account", names[i]);
		note_error(ar, r);
	}
}

static void
audit_all(struct audit_run *ar)
{
	struct ctx	*c = ar->a.c;
	int		 r;

	r = accounts_each(c->rootdir != NULL ? c->rootfd : -1, walk_cb, ar);
	if (r != 0 && ar->msg[0] == '\0')
		(void)snprintf(ar->msg, sizeof(ar->msg), "%.512s%s: cannot list "
		    "the accounts", c->dispprefix, c->rootdir != NULL ?
		    "/etc/passwd" : "password database");
	note_error(ar, r);
	/* one lookup per account with grants: read the database once */
	if (r == 0 && c->accounts == NULL && (r = accounts_cache_new(
	    c->rootdir != NULL ? c->rootfd : -1, &c->accounts)) == KE_NOMEM)
		note_error(ar, r);
	note_error(ar, audit_orphans(&ar->a, NULL, 0, ar->msg,
	    sizeof(ar->msg)));
}

/* Every finding, listed or not. */
static size_t
total(const struct audit *a)
{
	size_t	i, t = 0;

	for (i = 0; i < AK_NKINDS; i++)
		t += a->counts[i];
	return t;
}

static void
print_json(struct report *o, const struct audit_run *ar)
{
	const struct audit		*a = &ar->a;
	const struct audit_finding	*f;
	size_t				 i;

	report_obj_begin(o, NULL);
	report_int(o, "accounts_checked", (long long)a->accounts);
	report_bool(o, "clean", total(a) == 0 && ar->nerrors == 0);
	report_arr_begin(o, "errors");
	for (i = 0; i < ar->nerrors && i < AUDIT_ERRORS_MAX; i++) {
		report_obj_begin(o, NULL);
		report_str(o, "error", keyadm_strerror(ar->codes[i]));
		report_str(o, "message", ar->errors[i] != NULL ?
		    ar->errors[i] : keyadm_strerror(ar->codes[i]));
		report_obj_end(o);
	}
	report_arr_end(o);
	report_obj_begin(o, "counts");
	for (i = 0; i < AK_NKINDS; i++)
		if (a->counts[i] > 0)
			report_int(o, audit_kind_name((enum audit_kind)i),
			    (long long)a->counts[i]);
	report_obj_end(o);
	report_arr_begin(o, "findings");
	for (i = 0; i < a->n; i++) {
		f = &a->f[i];
		report_obj_begin(o, NULL);
		report_str(o, "kind", audit_kind_name(f->kind));
		report_str(o, "user", f->user);
		report_str(o, "path", f->path);
		report_str(o, "fingerprint", f->fingerprint[0] != '\0' ?
		    f->fingerprint : NULL);
		if (f->line > 0)
			report_int(o, "line", (long long)f->line);
		else
			report_str(o, "line", NULL);
		report_str(o, "message", f->message);
		report_obj_end(o);
	}
	report_arr_end(o);
	report_obj_end(o);
}

/* "N findings in K accounts checked: 2 unmanaged-key, 1 ..." */
static void
print_summary(struct report *o, const struct audit *a)
{
	char	line[1024];
	size_t	i, n, t = total(a);

	if (t == 0) {
		report_text(o, "%zu account%s checked, no findings",
		    a->accounts, a->accounts == 1 ? "" : "s");
		return;
	}
	n = (size_t)snprintf(line, sizeof(line), "%zu finding%s in %zu "
	    "account%s checked:", t, t == 1 ? "" : "s", a->accounts,
	    a->accounts == 1 ? "" : "s");
	for (i = 0; i < AK_NKINDS && n < sizeof(line); i++)
		if (a->counts[i] > 0)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    "%s %zu %s", n > 0 && line[n - 1] != ':' ? "," : "",
			    a->counts[i], audit_kind_name((enum audit_kind)i));
	report_text(o, "%s", line);
}

/* Grouped by account: "USER: PATH", then "  kind  [fp  ][line N: ]text". */
static void
print_text(struct report *o, const struct audit_run *ar)
{
	const struct audit		*a = &ar->a;
	const struct audit_finding	*f, *prev = NULL;
	char				 path[PATH_MAX * 2], fp[96], ln[32];
	size_t				 i;

	for (i = 0; i < a->n; i++, prev = f) {
		f = &a->f[i];
		if (i == 0 || (f->user == NULL) != (prev->user == NULL) ||
		    (f->user != NULL && strcmp(f->user, prev->user) != 0) ||
		    (f->user != NULL && f->path != NULL && prev->path != NULL &&
		    strcmp(f->path, prev->path) != 0)) {
			if (f->user == NULL)
				report_text(o, "all accounts:");
			else
				report_text(o, "%s: %s", f->user,
				    report_esc(f->path != NULL ? f->path : "-",
				    path, sizeof(path)));
		}
		(void)snprintf(fp, sizeof(fp), "%s%s", f->fingerprint,
		    f->fingerprint[0] != '\0' ? "  " : "");
		ln[0] = '\0';
		if (f->line > 0)
			(void)snprintf(ln, sizeof(ln), "line %zu: ", f->line);
		report_text(o, "  %s  %s%s%s", audit_kind_name(f->kind), fp, ln,
		    f->message);
	}
	print_summary(o, a);
	if (ar->nerrors > 0)
		report_text(o, "%zu error%s (on standard error): what could not "
		    "be read may grant access", ar->nerrors, ar->nerrors == 1 ?
		    "" : "s");
}

int
cmd_audit(struct ctx *c, int argc, char **argv)
{
	struct audit_run	 ar;
	struct store		*st = NULL;
	size_t			 i;
	int			 r;

	if ((r = audit_args(argc, argv)) != 0)
		return r > 0 ? 0 : r;
	memset(&ar, 0, sizeof(ar));
	r = ctx_store_open(c, STORE_READONLY, &st, ar.msg, sizeof(ar.msg));
	if (r != 0 && r != KE_NOINPUT) {
		msg_line(ar.msg);
		return r;
	}
	ar.msg[0] = '\0';	/* no store yet: every key is unmanaged */
	if ((r = intake_prepare(c)) != 0 ||
	    (r = audit_init(&ar.a, c, st)) != 0) {
		store_close(st);
		return r;
	}
	note_error(&ar, audit_revfile(&ar.a, ar.msg, sizeof(ar.msg)));
	if (optind < argc)
		audit_named(&ar, argv + optind, argc - optind);
	else
		audit_all(&ar);
	note_error(&ar, audit_shared(&ar.a, ar.msg, sizeof(ar.msg)));
	audit_sort(&ar.a);
	if (c->json)
		print_json(&c->out, &ar);
	else
		print_text(&c->out, &ar);
	r = ar.first != 0 ? ar.first : total(&ar.a) > 0 ? KE_FINDINGS : 0;
	for (i = 0; i < ar.nerrors && i < AUDIT_ERRORS_MAX; i++)
		free(ar.errors[i]);
	audit_free(&ar.a);
	store_close(st);
	return r;
}
