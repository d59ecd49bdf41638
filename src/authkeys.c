/*
 * authkeys.c -- an authorized_keys file as lines in memory.
 *
 * Owns: splitting a buffer into lines, deciding which lines carry a key the
 * way sshd reads them, and finding, adding, removing and rendering lines.
 * No I/O of any kind; safefs reads and writes the file.
 *
 * Invariants (each has a test in tests/unit/test_authkeys.c):
 *  A1. authkeys_render(authkeys_parse(buf)) == buf, byte for byte, for any
 *      input within the caps (CR, NUL, blanks, garbage, no final newline).
 *  A2. A line's raw bytes are never rewritten; only whole lines are added
 *      or removed.  Lines never merge: a line appended to a file that did
 *      not end in '\n' is separated from it by one.
 *  A3. A line is a key line (is_key) exactly when sshd would read a key
 *      from it: blanks skipped, empty and '#' lines ignored, then either
 *      "type b64 [comment]" or "options type b64 [comment]", where options
 *      run to the first blank outside double quotes and \" never toggles
 *      quoting; an unterminated quote makes the line unusable.  The base64
 *      must decode (b64_decode); the blob itself is keyparse's business.
 *  A4. Keys are identified by their decoded blob only: options, comment and
 *      the spelling of the line do not matter.
 *  A5. Caps: more than AUTHKEYS_MAX bytes or AUTHKEYS_LINES_MAX lines is
 *      KE_MALFORMED, on parse, append and render alike, so we never write
 *      a file we would refuse to read back.
 *  A6. Roughly linear: parse counts lines and allocates the array once,
 *      append grows it geometrically, remove compacts in one pass, render
 *      sizes the output and allocates once.
 *  A7. An appended line reads back as exactly the fields it was built
 *      from, or append refuses it (KE_MALFORMED) and changes nothing.
 *
 * Memory: each entry owns one allocation that starts at raw; options,
 * type, b64, comment and blob point into it.  Free only through this file.
 */
#include <stdlib.h>
#include <string.h>

#include "authkeys.h"
#include "b64.h"
#include "err.h"

struct span {
	const char	*p;
	size_t		 len;
};

/* Fields of one line as found by scan_line; blob is in the scratch. */
struct fields {
	int		 has_opt;
	struct span	 opt;
	struct span	 type;
	struct span	 b64;
	struct span	 com;		/* len 0: no comment */
	size_t		 bloblen;
};

/* Per-parse work space, sized for the longest line. */
struct scratch {
	char		*txt;		/* base64 without sshd-ignored spaces */
	unsigned char	*bin;		/* decoded blob */
	size_t		 cap;		/* bytes in each */
};

/* Key type words sshd reads without options in front of them. */
static const char *const keytypes[] = {
	"ssh-rsa", "ssh-dss", "ssh-ed25519",
	"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com",
	"ssh-rsa-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com",
	"ssh-ed25519-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"sk-ssh-ed25519-cert-v01@openssh.com",
};

#define IS_BLANK(c)	((c) == ' ' || (c) == '\t')

static int
keytype_known(struct span t)
{
	size_t	i;

	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++) {
		if (strlen(keytypes[i]) == t.len &&
		    memcmp(keytypes[i], t.p, t.len) == 0)
			return 1;
	}
	return 0;
}

static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && IS_BLANK(*p))
		p++;
	return p;
}

static const char *
token_end(const char *p, const char *end)
{
	while (p < end && !IS_BLANK(*p))
		p++;
	return p;
}

/*
 * Decode a base64 token into s->bin.  sshd's decoder skips the other
 * white space (CR, VT, FF) anywhere in the token, so we drop it too.
 */
static int
decode_b64(struct span tok, struct scratch *s, size_t *bloblen)
{
	size_t	i, n = 0;
	long	r;

	if (tok.len == 0 || tok.len > s->cap)
		return -1;
	for (i = 0; i < tok.len; i++) {
		if (tok.p[i] != '\r' && tok.p[i] != '\v' && tok.p[i] != '\f')
			s->txt[n++] = tok.p[i];
	}
	if (n == 0 || (r = b64_decode(s->txt, n, s->bin, s->cap)) <= 0)
		return -1;
	*bloblen = (size_t)r;
	return 0;
}

/* "type b64 [comment]" from p; 0 when it holds a key. */
static int
read_key(const char *p, const char *end, struct fields *f,
    struct scratch *s)
{
	const char	*q;

	q = token_end(p, end);
	f->type.p = p;
	f->type.len = (size_t)(q - p);
	if (q == end || !keytype_known(f->type))
		return -1;
	p = skip_blanks(q, end);
	q = token_end(p, end);
	f->b64.p = p;
	f->b64.len = (size_t)(q - p);
	if (decode_b64(f->b64, s, &f->bloblen) != 0)
		return -1;
	p = skip_blanks(q, end);
	f->com.p = p;
	f->com.len = (size_t)(end - p);
	return 0;
}

/* End of an options field, or NULL when a quote is left open. */
static const char *
skip_options(const char *p, const char *end)
{
	int	quoted = 0;

	for (; p < end && (quoted || !IS_BLANK(*p)); p++) {
		if (*p == '\\' && p + 1 < end && p[1] == '"')
			p++;		/* \" never toggles quoting */
		else if (*p == '"')
			quoted = !quoted;
	}
	return quoted ? NULL : p;
}

/*
 * Decide, as sshd does, whether a line holds a key; fill f if so.
 * sshd sees a C string, so a NUL ends the line for this purpose; a final
 * CR (CRLF files) is not part of any field.
 */
static int
scan_line(const char *raw, size_t rawlen, struct fields *f,
    struct scratch *s)
{
	const char	*p, *end, *nul;

	memset(f, 0, sizeof(*f));
	end = raw + rawlen;
	if ((nul = memchr(raw, '\0', rawlen)) != NULL)
		end = nul;
	if (end > raw && end[-1] == '\r')
		end--;
	p = skip_blanks(raw, end);
	if (p == end || *p == '#')
		return 0;
	if (read_key(p, end, f, s) == 0)
		return 1;
	f->opt.p = p;
	if ((p = skip_options(p, end)) == NULL)
		return 0;
	f->opt.len = (size_t)(p - f->opt.p);
	f->has_opt = 1;
	if (read_key(skip_blanks(p, end), end, f, s) == 0)
		return 1;
	memset(f, 0, sizeof(*f));
	return 0;
}

static char *
put_str(char **cur, struct span sp)
{
	char	*start = *cur;

	memcpy(start, sp.p, sp.len);
	start[sp.len] = '\0';
	*cur += sp.len + 1;
	return start;
}

/* Fill e with one allocation holding the raw bytes and the fields. */
static int
entry_build(struct authkeys_entry *e, const char *raw, size_t rawlen,
    int is_key, const struct fields *f, const struct scratch *s)
{
	size_t	 sz;
	char	*blk, *cur;

	memset(e, 0, sizeof(*e));
	sz = rawlen + 1;
	if (is_key)
		sz += f->opt.len + f->type.len + f->b64.len + f->com.len + 4 +
		    f->bloblen;
	if ((blk = malloc(sz)) == NULL)
		return KE_NOMEM;
	cur = blk;
	e->raw = put_str(&cur, (struct span){ raw, rawlen });
	e->rawlen = rawlen;
	if (!is_key)
		return 0;
	e->is_key = 1;
	if (f->has_opt)
		e->options = put_str(&cur, f->opt);
	e->type = put_str(&cur, f->type);
	e->b64 = put_str(&cur, f->b64);
	if (f->com.len > 0)
		e->comment = put_str(&cur, f->com);
	e->blob = (unsigned char *)cur;
	e->bloblen = f->bloblen;
	memcpy(e->blob, s->bin, f->bloblen);
	return 0;
}

static int
scratch_init(struct scratch *s, size_t linemax)
{
	s->cap = linemax + 1;
	s->txt = malloc(s->cap);
	s->bin = malloc(s->cap);
	if (s->txt == NULL || s->bin == NULL) {
		free(s->txt);
		free(s->bin);
		return KE_NOMEM;
	}
	return 0;
}

static void
scratch_free(struct scratch *s)
{
	free(s->txt);
	free(s->bin);
}

/* Parse one line into e. */
static int
line_parse(struct authkeys_entry *e, const char *raw, size_t rawlen,
    struct scratch *s)
{
	struct fields	f;
	int		is_key;

	is_key = scan_line(raw, rawlen, &f, s);
	return entry_build(e, raw, rawlen, is_key, &f, s);
}

/* Number of lines and the longest one; KE_MALFORMED over the caps. */
static int
count_lines(const char *buf, size_t len, size_t *n, size_t *linemax)
{
	const char	*p = buf, *end = buf + len, *nl;
	size_t		 l;

	*n = *linemax = 0;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		l = (size_t)(nl - p);
		if (l > *linemax)
			*linemax = l;
		if (++*n > AUTHKEYS_LINES_MAX)
			return KE_MALFORMED;
		p = nl + 1;
	}
	return 0;
}

static int
ak_alloc(size_t cap, struct authkeys **out)
{
	struct authkeys	*ak;

	*out = NULL;
	if ((ak = calloc(1, sizeof(*ak))) == NULL)
		return KE_NOMEM;
	if ((ak->lines = calloc(cap, sizeof(*ak->lines))) == NULL) {
		free(ak);
		return KE_NOMEM;
	}
	ak->cap = cap;
	*out = ak;
	return 0;
}

static int
split_lines(struct authkeys *ak, const char *buf, size_t len,
    struct scratch *s)
{
	const char	*p = buf, *end = buf + len, *nl;
	int		 r;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		r = line_parse(&ak->lines[ak->n], p, (size_t)(nl - p), s);
		if (r != 0)
			return r;
		ak->n++;
		p = nl + 1;
	}
	return 0;
}

int
authkeys_parse(const char *buf, size_t len, struct authkeys **out)
{
	struct authkeys	*ak = NULL;
	struct scratch	 s;
	size_t		 n, linemax;
	int		 r;

	*out = NULL;
	if ((buf == NULL && len != 0) || len > AUTHKEYS_MAX)
		return KE_MALFORMED;
	if ((r = count_lines(buf, len, &n, &linemax)) != 0)
		return r;
	if ((r = ak_alloc(n > 0 ? n : 1, &ak)) != 0)
		return r;
	ak->final_newline = len > 0 && buf[len - 1] == '\n';
	if ((r = scratch_init(&s, linemax)) != 0)
		goto out;
	r = split_lines(ak, buf, len, &s);
	scratch_free(&s);
	if (r == 0) {
		*out = ak;
		ak = NULL;
	}
 out:
	authkeys_free(ak);
	return r;
}

int
authkeys_new(struct authkeys **out)
{
	int	r;

	if ((r = ak_alloc(16, out)) != 0)
		return r;
	(*out)->final_newline = 1;
	return 0;
}

ssize_t
authkeys_find(const struct authkeys *ak, const unsigned char *blob,
    size_t bloblen, size_t start)
{
	const struct authkeys_entry	*e;
	size_t				 i;

	if (ak == NULL || blob == NULL)
		return -1;
	for (i = start; i < ak->n; i++) {
		e = &ak->lines[i];
		if (e->is_key && e->bloblen == bloblen &&
		    memcmp(e->blob, blob, bloblen) == 0)
			return (ssize_t)i;
	}
	return -1;
}

/* Room for one more line; doubles the array. */
static int
ak_grow(struct authkeys *ak)
{
	struct authkeys_entry	*nl;
	size_t			 ncap;

	if (ak->n < ak->cap)
		return 0;
	if (ak->n >= AUTHKEYS_LINES_MAX)
		return KE_MALFORMED;
	ncap = ak->cap < 16 ? 16 : ak->cap * 2;
	if (ncap > AUTHKEYS_LINES_MAX)
		ncap = AUTHKEYS_LINES_MAX;
	if ((nl = reallocarray(ak->lines, ncap, sizeof(*nl))) == NULL)
		return KE_NOMEM;
	ak->lines = nl;
	ak->cap = ncap;
	return 0;
}

static int
span_eq(struct span sp, const char *s)
{
	if (s == NULL || *s == '\0')
		return sp.len == 0;
	return strlen(s) == sp.len && memcmp(s, sp.p, sp.len) == 0;
}

/* "[options ]type b64[ comment]" into a new string. */
static char *
line_join(const char *options, const char *type, const char *b64,
    const char *comment, size_t *lenp)
{
	const char	*parts[4] = { options, type, b64, comment };
	size_t		 len = 0, i, l;
	char		*line, *cur;

	for (i = 0; i < 4; i++) {
		if (parts[i] != NULL && *parts[i] != '\0')
			len += strlen(parts[i]) + 1;
	}
	*lenp = len;
	if (len > AUTHKEYS_MAX || (line = malloc(len)) == NULL)
		return NULL;
	for (cur = line, i = 0; i < 4; i++) {
		if (parts[i] == NULL || *parts[i] == '\0')
			continue;
		if (cur != line)
			*cur++ = ' ';
		l = strlen(parts[i]);
		memcpy(cur, parts[i], l);
		cur += l;
	}
	*cur = '\0';
	*lenp = (size_t)(cur - line);
	return line;
}

/* A7: the line must read back as the fields it was built from. */
static int
line_check(const char *line, size_t len, const char *options,
    const char *type, const char *b64, const char *comment,
    struct fields *f, struct scratch *s)
{
	if (memchr(line, '\n', len) != NULL || scan_line(line, len, f, s) == 0)
		return KE_MALFORMED;
	if (f->has_opt != (options != NULL && *options != '\0') ||
	    (f->has_opt && !span_eq(f->opt, options)) ||
	    !span_eq(f->type, type) || !span_eq(f->b64, b64) ||
	    !span_eq(f->com, comment))
		return KE_MALFORMED;
	return 0;
}

/* Build the entry for "[options ]type b64[ comment]" into *e. */
static int
entry_make(struct authkeys_entry *e, const char *options, const char *type,
    const char *b64, const char *comment)
{
	struct scratch	 s;
	struct fields	 f;
	char		*line;
	size_t		 len = 0;
	int		 r;

	if (type == NULL || *type == '\0' || b64 == NULL || *b64 == '\0')
		return KE_MALFORMED;
	if ((line = line_join(options, type, b64, comment, &len)) == NULL)
		return len > AUTHKEYS_MAX ? KE_MALFORMED : KE_NOMEM;
	if ((r = scratch_init(&s, len)) != 0) {
		free(line);
		return r;
	}
	if ((r = line_check(line, len, options, type, b64, comment, &f,
	    &s)) == 0)
		r = entry_build(e, line, len, 1, &f, &s);
	scratch_free(&s);
	free(line);
	return r;
}

int
authkeys_append(struct authkeys *ak, const char *options, const char *type,
    const char *b64, const char *comment)
{
	int	r;

	if (ak == NULL)
		return KE_MALFORMED;
	if ((r = ak_grow(ak)) == 0 && (r = entry_make(&ak->lines[ak->n],
	    options, type, b64, comment)) == 0) {
		ak->n++;
		ak->final_newline = 1;	/* A2: ours ends in '\n' */
	}
	return r;
}

int
authkeys_set(struct authkeys *ak, size_t idx, const char *options,
    const char *type, const char *b64, const char *comment)
{
	struct authkeys_entry	e;
	int			r;

	if (ak == NULL || idx >= ak->n)
		return KE_MALFORMED;
	if ((r = entry_make(&e, options, type, b64, comment)) != 0)
		return r;
	free(ak->lines[idx].raw);
	ak->lines[idx] = e;
	return 0;
}

void
authkeys_delete(struct authkeys *ak, size_t idx)
{
	if (ak == NULL || idx >= ak->n)
		return;
	free(ak->lines[idx].raw);
	memmove(&ak->lines[idx], &ak->lines[idx + 1],
	    (ak->n - idx - 1) * sizeof(ak->lines[0]));
	ak->n--;
	/* The line now last was followed by '\n' in the input. */
	if (idx == ak->n)
		ak->final_newline = 1;
}

/*
 * Kept lines move to the front in order, removed ones to the back, and are
 * freed only at the end: blob may point into a line being removed.
 */
size_t
authkeys_remove(struct authkeys *ak, const unsigned char *blob,
    size_t bloblen)
{
	struct authkeys_entry	*e, tmp;
	size_t			 i, kept = 0;
	int			 last_gone = 0;

	if (ak == NULL || blob == NULL)
		return 0;
	for (i = 0; i < ak->n; i++) {
		e = &ak->lines[i];
		if (e->is_key && e->bloblen == bloblen &&
		    memcmp(e->blob, blob, bloblen) == 0) {
			last_gone = i + 1 == ak->n;
			continue;
		}
		tmp = ak->lines[kept];
		ak->lines[kept++] = *e;
		*e = tmp;
	}
	for (i = kept; i < ak->n; i++)
		free(ak->lines[i].raw);
	/* The line now last was followed by '\n' in the input. */
	if (last_gone)
		ak->final_newline = 1;
	i = ak->n - kept;
	ak->n = kept;
	return i;
}

/* Bytes of the rendering, without the NUL; KE_MALFORMED over the cap. */
static int
render_size(const struct authkeys *ak, size_t *sz)
{
	size_t	i, total = 0;

	for (i = 0; i < ak->n; i++) {
		if (ak->lines[i].rawlen > AUTHKEYS_MAX - total)
			return KE_MALFORMED;
		total += ak->lines[i].rawlen;
		if (i + 1 < ak->n || ak->final_newline) {
			if (total >= AUTHKEYS_MAX)
				return KE_MALFORMED;
			total++;
		}
	}
	*sz = total;
	return 0;
}

int
authkeys_render(const struct authkeys *ak, char **out, size_t *outlen)
{
	size_t	 sz, i;
	char	*buf, *cur;
	int	 r;

	*out = NULL;
	*outlen = 0;
	if (ak == NULL)
		return KE_INTERNAL;
	if ((r = render_size(ak, &sz)) != 0)
		return r;
	if ((buf = malloc(sz + 1)) == NULL)
		return KE_NOMEM;
	for (cur = buf, i = 0; i < ak->n; i++) {
		memcpy(cur, ak->lines[i].raw, ak->lines[i].rawlen);
		cur += ak->lines[i].rawlen;
		if (i + 1 < ak->n || ak->final_newline)
			*cur++ = '\n';
	}
	*cur = '\0';
	*out = buf;
	*outlen = sz;
	return 0;
}

void
authkeys_free(struct authkeys *ak)
{
	size_t	i;

	if (ak == NULL)
		return;
	for (i = 0; i < ak->n; i++)
		free(ak->lines[i].raw);
	free(ak->lines);
	free(ak);
}
