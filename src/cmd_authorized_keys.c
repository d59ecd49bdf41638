/*
 * cmd_authorized_keys.c -- keyadm authorized-keys USER [TYPE BASE64]
 *
 * sshd's AuthorizedKeysCommand ("keyadm authorized-keys %u %t %k", run
 * as AuthorizedKeysCommandUser, a member of store_group): the lines that
 * let USER in, in authorized_keys format, so that a site can keep keys
 * out of home directories.  sshd runs it on every key offered at every
 * login, as an unprivileged user.
 *
 * MUST: read only the configuration and the store (STORE_READONLY); never
 * a home directory, the password or group database, or a key file; write
 * nothing, append no event, send nothing to syslog.
 * MUST: print only grants that are active, not past their expires_at
 * (c->now) and whose key is not in the revoked-keys file, in grant id
 * order, one "[options ]type base64[ comment]" line each, LF, built by
 * authkeys so that it reads back as stored; a line that would not is
 * skipped with a message.
 * MUST: with TYPE BASE64 (sshd's %t %k), only the line of that key,
 * strictly decoded, its blob's type string equal to TYPE; a certificate
 * matches nothing (keyadm installs no cert-authority lines).
 * MUST: nothing to print is exit 0: an invalid or unknown user, no store
 * yet, a malformed (one message) or unknown presented key.  Only an
 * internal error (a store unreadable, unsafe, corrupt or busy; memory;
 * standard output) exits non-zero, with one message and no output.
 * MUST: one indexed query: grants_user, or keys.fingerprint and
 * grants_key for a presented key.  --json does not apply (usage error).
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authkeys.h"
#include "b64.h"
#include "ctx.h"
#include "err.h"
#include "fpr.h"
#include "keyparse.h"
#include "msg.h"
#include "safefs.h"
#include "store.h"

#define CERT_SUFFIX	"-cert-v01@openssh.com"
#define PRESENTED_MAX	KEYLINE_MAX	/* longest presented base64 decoded */

static const char usage_ak[] =
    "usage: keyadm authorized-keys USER [TYPE BASE64]";

/* One run: the lines are collected, then printed only if all went well. */
struct ak_run {
	const struct ctx	*c;
	const char		*b64;	/* the presented key's, or NULL */
	struct authkeys		*ak;	/* the lines to print */
	int			 cberr;	/* the callback's own error */
};

static int
ak_args(struct ctx *c, int argc, char **argv)
{
	int	n, r;

	/* "+": the operands come from sshd; none after USER is an option */
	if ((r = ctx_help_only(argc, argv, CTX_OPTS_OPERANDS_FIRST,
	    usage_ak)) != 0)
		return r;
	if (c->json) {
		c->out.json = 0;	/* no document, not even its newline */
		msg_err("--json", "does not apply to authorized-keys, which "
		    "prints authorized_keys lines");
		return KE_USAGE;
	}
	n = argc - optind;
	if (n != 1 && n != 3) {
		msg_err(NULL, "%s", usage_ak);
		return KE_USAGE;
	}
	return 0;
}

/* 1 when type is a certificate type. */
static int
is_cert(const char *type, size_t tlen)
{
	size_t	slen = sizeof(CERT_SUFFIX) - 1;

	return tlen > slen && strcmp(type + tlen - slen, CERT_SUFFIX) == 0;
}

/*
 * The presented key (sshd's %t %k) for user: its fingerprint into fp
 * (FPR_MAX bytes) and 0; 1 when it can match nothing (a certificate, or
 * a malformed key, said in one message); KE_INTERNAL.
 */
static int
ak_presented(const char *user, const char *type, const char *b64,
    char *fp)
{
	unsigned char	 blob[PRESENTED_MAX / 4 * 3];
	char		 obj[USERNAME_MAX + 96];
	const char	*why = NULL;
	size_t		 tlen = strlen(type), blen = strlen(b64), slen;
	long		 n = -1;

	if (is_cert(type, tlen))
		return 1;
	if (tlen == 0)
		why = "no key type";
	else if (blen == 0)
		why = "no key";
	else if (blen > PRESENTED_MAX)
		why = "key too long";
	else if ((n = b64_decode(b64, blen, blob, sizeof(blob))) < 0)
		why = "key is not valid base64";
	else if (n < 4 || (slen = (size_t)blob[0] << 24 |
	    (size_t)blob[1] << 16 | (size_t)blob[2] << 8 | blob[3]) !=
	    tlen || slen > (size_t)n - 4 || memcmp(blob + 4, type, tlen) != 0)
		why = "key does not match its type";
	if (why != NULL) {
		/* the type is untrusted: msg_err escapes the whole object */
		(void)snprintf(obj, sizeof(obj), "%.64s%skey for %s", type,
		    tlen > 0 ? " " : "", user);
		msg_err(obj, "%s", why);
		return 1;
	}
	if (fpr_sha256(blob, (size_t)n, fp, FPR_MAX) != 0) {
		msg_err(NULL, "cannot fingerprint the presented key");
		return KE_INTERNAL;
	}
	return 0;
}

static int
ak_grant(const struct store_grant *g, void *arg)
{
	struct ak_run	*ar = arg;
	int		 r;

	if (strcmp(g->status, "active") != 0 || g->listed ||
	    (g->expires_at != 0 && g->expires_at <= ar->c->now))
		return 0;
	/* same fingerprint, so the same blob; the same text, to be sure */
	if (ar->b64 != NULL && strcmp(g->b64, ar->b64) != 0)
		return 0;
	r = authkeys_append(ar->ak, g->options, g->type, g->b64, g->comment);
	if (r == KE_MALFORMED) {
		msg_err(g->user, "grant %lld: not a valid authorized_keys "
		    "line; skipped", (long long)g->id);
		return 0;
	}
	return ar->cberr = r;
}

/* The lines of the grants q selects, into ar->ak; one message on error. */
static int
ak_collect(struct ctx *c, const struct store_grant_query *q,
    struct ak_run *ar)
{
	struct store	*st = NULL;
	char		 msg[SAFEFS_MSG_MAX * 2], db[PATH_MAX * 2];
	int		 r;

	r = ctx_store_open(c, STORE_READONLY, &st, msg, sizeof(msg));
	if (r == KE_NOINPUT && ctx_store_absent(c))
		return 0;	/* no store yet: nothing granted */
	if (r != 0) {
		msg_line(msg);
		return r;
	}
	r = store_grants_find(st, q, ak_grant, ar);
	if (r != 0 && r == ar->cberr)
		msg_err(NULL, "%s", keyadm_strerror(r));
	else if (r != 0) {
		(void)snprintf(db, sizeof(db), "%s%s", c->dispprefix,
		    c->cfg.database);
		msg_err(db, "%s", store_errmsg(st));
	}
	store_close(st);
	return r;
}

/*
 * Write the lines.  Not through report_text: -q must not silence the
 * answer sshd asked for, and the lines are exactly what sshd reads.
 */
static int
ak_print(struct ctx *c, const struct authkeys *ak)
{
	FILE	*f = c->out.out;
	char	*text = NULL;
	size_t	 len = 0;
	int	 r;

	if ((r = authkeys_render(ak, &text, &len)) != 0) {
		msg_err(NULL, "%s", keyadm_strerror(r));
		return r;
	}
	if (len > 0)
		(void)fwrite(text, 1, len, f);
	free(text);
	if (fflush(f) != 0 || ferror(f)) {
		msg_err("standard output", "write error");
		return KE_IO;
	}
	return 0;
}

int
cmd_authorized_keys(struct ctx *c, int argc, char **argv)
{
	struct store_grant_query	 q;
	struct ak_run			 ar;
	char				 fp[FPR_MAX];
	int				 r;

	if ((r = ak_args(c, argc, argv)) != 0)
		return r > 0 ? 0 : r;
	memset(&q, 0, sizeof(q));
	memset(&ar, 0, sizeof(ar));
	ar.c = c;
	q.user = argv[optind];
	q.status = "active";
	if (!accounts_valid_name(q.user)) {
		msg_err(q.user, "not a valid user name");
		return 0;	/* no such account can log in */
	}
	if (argc - optind == 3) {
		if ((r = ak_presented(q.user, argv[optind + 1],
		    argv[optind + 2], fp)) != 0)
			return r > 0 ? 0 : r;
		q.fingerprint = fp;
		ar.b64 = argv[optind + 2];
	}
	if ((r = authkeys_new(&ar.ak)) != 0) {
		msg_err(NULL, "%s", keyadm_strerror(r));
		return r;
	}
	if ((r = ak_collect(c, &q, &ar)) == 0)
		r = ak_print(c, ar.ak);
	authkeys_free(ar.ak);
	return r;
}
