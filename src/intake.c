/*
 * intake.c -- submitted files to judged keys.
 *
 * MUST: submitted files are read through safefs_read_input (no links, no
 * FIFOs, size cap) and keyparse gets bytes, never a path.
 * MUST: nothing of a refused file's content reaches a message: reasons come
 * from keyparse and policy, which never quote the input.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "intake.h"
#include "msg.h"
#include "safefs.h"
#include "weakkeys.h"

/* Keep the worse of two errors: anything beats a policy refusal. */
static int
worse(int a, int b)
{
	if (a == 0 || a == KE_POLICY)
		return b != 0 ? b : a;
	return a;
}

static int
seen(const struct intake *in, const struct pubkey *k)
{
	size_t	i;

	for (i = 0; i < in->n; i++)
		if (strcmp(in->keys[i].key->fingerprint, k->fingerprint) == 0)
			return 1;
	return 0;
}

/* The text of the first reason that rejects (not a mere warning). */
static const char *
first_reject(const struct policy_result *pr)
{
	size_t	i;

	for (i = 0; i < pr->n; i++)
		if (pr->reasons[i].severity == VERDICT_REJECT)
			return pr->reasons[i].text;
	return "refused by policy";
}

static int
take_key(struct ctx *c, struct intake *in, const char *src,
    struct keyparse_result *res)
{
	struct intake_key	*nk;
	struct policy_result	 pr;
	char			 esc[1024];

	/* a key submitted twice is judged (and costs) once */
	if (seen(in, res->key))
		return 0;
	policy_check(&c->cfg.policy, res->key, &pr);
	report_key(&c->out, src, res->lineno, keyparse_format_name(res->format),
	    res->key, &pr);
	if (pr.verdict == VERDICT_REJECT) {
		msg_err(NULL, "%s:%zu: %s", report_esc(src, esc, sizeof(esc)),
		    res->lineno, first_reject(&pr));
		in->rejected++;
		return 0;
	}
	nk = reallocarray(in->keys, in->n + 1, sizeof(*in->keys));
	if (nk == NULL)
		return KE_NOMEM;
	in->keys = nk;
	nk[in->n].source = src;
	nk[in->n].lineno = res->lineno;
	nk[in->n].key = res->key;
	nk[in->n].verdict = pr;
	res->key = NULL;		/* handed over */
	in->n++;
	return 0;
}

static void
line_error(struct ctx *c, struct intake *in, const char *src,
    const struct keyparse_result *res)
{
	char	esc[1024];

	report_key_error(&c->out, src, res->lineno, res->err, res->reason);
	msg_err(NULL, "%s:%zu: %s", report_esc(src, esc, sizeof(esc)),
	    res->lineno, res->reason);
	if (res->err == KE_POLICY)
		in->rejected++;
	else
		in->err = worse(in->err, res->err);
}

static int
intake_one(struct ctx *c, struct intake *in, const char *src)
{
	struct keyparse_list	*kl = NULL;
	unsigned char		*buf = NULL;
	size_t			 len = 0, i;
	char			 msg[SAFEFS_MSG_MAX], esc[1024];
	int			 r;

	if ((r = safefs_read_input(src, INPUT_MAX, &buf, &len, msg,
	    sizeof(msg))) != 0) {
		msg_line(msg);
		report_key_error(&c->out, src, 0, r, msg);
		in->err = worse(in->err, r);
		return 0;
	}
	r = keyparse_buf(buf, len, &kl, msg, sizeof(msg));
	free(buf);
	if (r != 0) {
		msg_err(NULL, "%s: %s", report_esc(src, esc, sizeof(esc)), msg);
		report_key_error(&c->out, src, 0, r, msg);
		if (r == KE_NOMEM)
			return r;
		in->err = worse(in->err, r);
		return 0;
	}
	for (i = 0, r = 0; i < kl->n && r == 0; i++) {
		if (kl->items[i].err != 0)
			line_error(c, in, src, &kl->items[i]);
		else
			r = take_key(c, in, src, &kl->items[i]);
	}
	keyparse_list_free(kl);
	return r;
}

int
intake_prepare(struct ctx *c)
{
	int	r;

	/* the weak-key tables are built once, by the first caller */
	if (c->weak == NULL) {
		if ((r = weakkeys_new(&c->weak)) != 0) {
			msg_err(NULL, "cannot build the weak-key tables");
			return r;
		}
		c->cfg.policy.weak = c->weak;
	}
	return 0;
}

int
intake_files(struct ctx *c, char **files, int nfiles, struct intake *in)
{
	int	i, r;

	memset(in, 0, sizeof(*in));
	if ((r = intake_prepare(c)) != 0)
		return r;
	for (i = 0; i < nfiles; i++)
		if ((r = intake_one(c, in, files[i])) != 0)
			return r;
	return 0;
}

void
intake_free(struct intake *in)
{
	size_t	i;

	for (i = 0; i < in->n; i++)
		pubkey_free(in->keys[i].key);
	free(in->keys);
	memset(in, 0, sizeof(*in));
}
