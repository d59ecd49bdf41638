/*
 * intake.c -- submitted files to judged keys.
 *
 * MUST: submitted files are read through safefs (no links, no FIFOs, a
 * size cap unless streamed) and keyparse gets bytes, never a path.
 * MUST: nothing of a refused file's content reaches a message: reasons come
 * from keyparse and policy, which never quote the input.
 * MUST: a streamed file is held KEYFILE_MAX bytes at a time, cut only at a
 * line end outside any PEM or RFC 4716 block, so memory does not grow
 * with the file (only the set of keys seen, 8 bytes a key).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fpset.h"
#include "intake.h"
#include "msg.h"
#include "safefs.h"
#include "weakkeys.h"

#define CHUNK_TARGET	(KEYFILE_MAX / 2)	/* cut a piece after this */

/* Keep the worse of two errors: anything beats a policy refusal. */
static int
worse(int a, int b)
{
	if (a == 0 || a == KE_POLICY)
		return b != 0 ? b : a;
	return a;
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
keep(struct intake *in, const char *src, size_t lineno, struct pubkey **k,
    const struct policy_result *pr)
{
	struct intake_key	*nk;

	nk = reallocarray(in->keys, in->n + 1, sizeof(*in->keys));
	if (nk == NULL)
		return KE_NOMEM;
	in->keys = nk;
	nk[in->n].source = src;
	nk[in->n].lineno = lineno;
	nk[in->n].key = *k;
	nk[in->n].verdict = *pr;
	*k = NULL;			/* handed over */
	in->n++;
	return 0;
}

static int
take_key(struct ctx *c, struct intake *in, const char *src, size_t lineno,
    enum keyformat fmt, struct pubkey **k)
{
	struct policy_result	 pr;
	char			 esc[1024];
	int			 r;

	/* a key submitted twice is judged (and costs) once */
	if (in->seen != NULL && (r = fpset_add(in->seen, (*k)->blob,
	    (*k)->bloblen)) != 0)
		return r == 1 ? 0 : r;
	in->judged++;
	/* the weak-key tables cost a few ms: built for the first RSA key */
	if ((*k)->type == KT_RSA && c->weak == NULL &&
	    (r = intake_prepare(c)) != 0)
		return r;
	policy_check(&c->cfg.policy, *k, &pr);
	if (!(in->flags & INTAKE_ONLY_REJECTS) ||
	    pr.verdict == VERDICT_REJECT)
		report_key(&c->out, src, lineno, keyparse_format_name(fmt), *k,
		    &pr);
	if (pr.verdict == VERDICT_REJECT) {
		msg_err(NULL, "%s:%zu: %s", report_esc(src, esc, sizeof(esc)),
		    lineno, first_reject(&pr));
		in->rejected++;
		return 0;
	}
	if (pr.verdict == VERDICT_WARN)
		in->warned++;
	if (in->take != NULL)
		return in->take(in->arg, src, lineno, k, &pr);
	return keep(in, src, lineno, k, &pr);
}

static void
line_error(struct ctx *c, struct intake *in, const char *src,
    const struct keyparse_result *res)
{
	char	esc[1024];

	report_key_error(&c->out, src, res->lineno, res->err, res->reason);
	msg_err(NULL, "%s:%zu: %s", report_esc(src, esc, sizeof(esc)),
	    res->lineno, res->reason);
	in->rejected++;
	if (res->err != KE_POLICY)
		in->err = worse(in->err, res->err);
}

int
intake_result(struct ctx *c, struct intake *in, const char *src,
    struct keyparse_result *res)
{
	int	r;

	if (res->err != 0) {
		line_error(c, in, src, res);
		return 0;
	}
	r = take_key(c, in, src, res->lineno, res->format, &res->key);
	pubkey_free(res->key);
	res->key = NULL;
	return r;
}

/* The whole file is refused (a private key, binary data, unreadable). */
int
intake_file_error(struct ctx *c, struct intake *in, const char *src, int err,
    const char *msg, int prefixed)
{
	char	esc[1024];

	if (prefixed)
		msg_line(msg);
	else
		msg_err(NULL, "%s: %s", report_esc(src, esc, sizeof(esc)),
		    msg);
	report_key_error(&c->out, src, 0, err, msg);
	if (err == KE_NOMEM)
		return err;
	in->rejected++;
	in->err = worse(in->err, err);
	return 0;
}

/* Every result of a parsed piece, its line numbers moved on by base. */
static int
take_list(struct ctx *c, struct intake *in, const char *src,
    struct keyparse_list *kl, size_t base)
{
	size_t	i;
	int	r = 0;

	for (i = 0; i < kl->n && r == 0; i++) {
		kl->items[i].lineno += base;
		r = intake_result(c, in, src, &kl->items[i]);
	}
	return r;
}

int
intake_buf(struct ctx *c, struct intake *in, const char *src,
    const unsigned char *buf, size_t len)
{
	struct keyparse_list	*kl = NULL;
	char			 msg[SAFEFS_MSG_MAX];
	int			 r;

	if ((r = keyparse_buf(buf, len, &kl, msg, sizeof(msg))) != 0)
		return intake_file_error(c, in, src, r, msg, 0);
	r = take_list(c, in, src, kl, 0);
	keyparse_list_free(kl);
	return r;
}

static int
intake_one(struct ctx *c, struct intake *in, const char *src)
{
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	char		 msg[SAFEFS_MSG_MAX];
	int		 r;

	if ((r = safefs_read_input(src, INPUT_MAX, &buf, &len, msg,
	    sizeof(msg))) != 0)
		return intake_file_error(c, in, src, r, msg, 1);
	r = intake_buf(c, in, src, buf, len);
	free(buf);
	return r;
}

/*
 * Where the piece in buf may end: after the last line that ends outside
 * any block once CHUNK_TARGET bytes are passed; at eof, everything.
 * 0 when more input is needed first.
 */
static size_t
chunk_cut(const unsigned char *buf, size_t len, int eof, int full)
{
	const unsigned char	*nl;
	size_t			 pos = 0, safe = 0, last_nl = 0, n;
	int			 inblock = 0;

	while (pos < len && (nl = memchr(buf + pos, '\n', len - pos)) !=
	    NULL) {
		n = (size_t)(nl - (buf + pos));
		while (n > 0 && (buf[pos] == ' ' || buf[pos] == '\t')) {
			pos++;
			n--;
		}
		if (n >= 10 && (memcmp(buf + pos, "-----BEGIN", 10) == 0 ||
		    memcmp(buf + pos, "---- BEGIN", 10) == 0))
			inblock = 1;
		else if (n >= 8 && (memcmp(buf + pos, "-----END", 8) == 0 ||
		    memcmp(buf + pos, "---- END", 8) == 0))
			inblock = 0;
		pos = (size_t)(nl - buf) + 1;
		last_nl = pos;
		if (!inblock) {
			safe = pos;
			if (safe >= CHUNK_TARGET && !eof)
				return safe;
		}
	}
	if (eof)
		return len;
	if (!full)
		return 0;
	/* a block or a line longer than a piece: keyparse will say so */
	return safe > 0 ? safe : last_nl > 0 ? last_nl : len;
}

static size_t
count_lines(const unsigned char *p, size_t len)
{
	const unsigned char	*end = p + len;
	size_t			 n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* Parse and judge one piece; *stop when the file is refused. */
static int
stream_piece(struct ctx *c, struct intake *in, const char *src,
    const char *disp, const unsigned char *buf, size_t len, int first,
    size_t base, size_t *found, int *stop)
{
	struct keyparse_list	*kl = NULL;
	char			 msg[SAFEFS_MSG_MAX];
	int			 r;

	if ((r = keyparse_chunk(buf, len, first, &kl, msg, sizeof(msg))) !=
	    0) {
		*stop = 1;
		return intake_file_error(c, in, disp, r, msg, 0);
	}
	*found += kl->n;
	r = take_list(c, in, src, kl, base);
	keyparse_list_free(kl);
	return r;
}

/*
 * Read fd in pieces of at most KEYFILE_MAX bytes and judge each.  src
 * names the keys' lines ("-" for standard input), disp the file as a
 * whole in its errors.
 */
static int
stream_fd(struct ctx *c, struct intake *in, const char *src,
    const char *disp, int fd)
{
	unsigned char	*buf;
	size_t		 len = 0, cut, base = 0, found = 0, total = 0;
	ssize_t		 got;
	int		 eof = 0, first = 1, stop = 0, r = 0;
	char		 msg[SAFEFS_MSG_MAX];

	if ((buf = malloc(KEYFILE_MAX)) == NULL)
		return KE_NOMEM;
	while (r == 0 && !stop && (len > 0 || !eof)) {
		if (!eof && len < KEYFILE_MAX) {
			got = read(fd, buf + len, KEYFILE_MAX - len);
			if (got == -1 && errno == EINTR)
				continue;
			if (got == -1) {
				(void)snprintf(msg, sizeof(msg), "read: %s",
				    strerror(errno));
				r = intake_file_error(c, in, disp, KE_IO, msg,
				    0);
				break;
			}
			eof = got == 0;
			len += (size_t)got;
			total += (size_t)got;
			if (!eof && len < KEYFILE_MAX)
				continue;
		}
		if ((cut = chunk_cut(buf, len, eof, len == KEYFILE_MAX)) == 0)
			continue;
		if (cut == KEYFILE_MAX && memchr(buf, '\n', cut) == NULL) {
			(void)snprintf(msg, sizeof(msg), "a line of more than "
			    "%d bytes, not a public key", KEYFILE_MAX);
			r = intake_file_error(c, in, disp, KE_MALFORMED, msg,
			    0);
			stop = 1;
			break;
		}
		r = stream_piece(c, in, src, disp, buf, cut, first, base,
		    &found, &stop);
		base += count_lines(buf, cut);
		memmove(buf, buf + cut, len - cut);
		len -= cut;
		first = 0;
	}
	free(buf);
	if (r == 0 && !stop && found == 0)
		r = intake_file_error(c, in, disp, KE_MALFORMED, total == 0 ?
		    "empty file" : "no public key in the file", 0);
	return r;
}

static int
intake_stream(struct ctx *c, struct intake *in, const char *src)
{
	char	msg[SAFEFS_MSG_MAX];
	int	fd, r;

	if (strcmp(src, "-") == 0)
		return stream_fd(c, in, src, "standard input", STDIN_FILENO);
	if ((r = safefs_open_input(src, &fd, msg, sizeof(msg))) != 0)
		return intake_file_error(c, in, src, r, msg, 1);
	r = stream_fd(c, in, src, src, fd);
	(void)close(fd);
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
intake_init(struct ctx *c, struct intake *in, int flags, intake_take_fn take,
    void *arg)
{
	int	r;

	(void)c;
	memset(in, 0, sizeof(*in));
	in->flags = flags;
	in->take = take;
	in->arg = arg;
	if (!(flags & INTAKE_EVERY) && (r = fpset_new(&in->seen)) != 0) {
		msg_err(NULL, "cannot set up the intake: %s",
		    keyadm_strerror(r));
		return r;
	}
	return 0;
}

int
intake_files(struct ctx *c, struct intake *in, char *const *files,
    int nfiles)
{
	int	i, r;

	for (i = 0; i < nfiles; i++) {
		if (in->flags & INTAKE_STREAM)
			r = intake_stream(c, in, files[i]);
		else
			r = intake_one(c, in, files[i]);
		if (r != 0)
			return r;
	}
	return 0;
}

void
intake_free(struct intake *in)
{
	size_t	i;

	for (i = 0; i < in->n; i++)
		pubkey_free(in->keys[i].key);
	free(in->keys);
	fpset_free(in->seen);
	memset(in, 0, sizeof(*in));
}
