/*
 * revfile.c -- the revoked-keys file sshd reads (RevokedKeys).
 *
 * Invariants (each has a test in tests/unit/test_revfile.c):
 * MUST reach the file through root's directories only (safefs_walk with
 *	uid 0): no other account may be able to swap it.
 * MUST hold the directory's lock from read to replace.
 * MUST refuse to rewrite a file holding anything but blank lines, '#'
 *	comments and "type base64[ comment]" key lines without options
 *	whose blob keyparse accepts as a key of that type: a binary KRL or
 *	a bad line is the administrator's to fix.
 * MUST write only LF-terminated blank, comment and "type base64" lines,
 *	check the rendered text line by line before writing, and let
 *	safefs_replace read the temporary back before the rename.
 * MUST keep the file root's, mode 0644.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "err.h"
#include "keyparse.h"
#include "msg.h"
#include "revfile.h"
#include "safefs.h"

#define KRL_MAGIC	"SSHKRL\n"	/* then a NUL: OpenSSH's binary KRL */
#define KRL_MAGIC_LEN	8
#define BLOB_MAX	(16 * 1024)	/* largest key blob we decode */

/* Written at the top of a file keyadm creates. */
static const char header[] =
    "# Revoked SSH public keys, kept by keyadm(8); sshd reads it through\n"
    "# RevokedKeys.  sshd refuses every key if this file is missing or has\n"
    "# one line it cannot read: edit with care, or with keyadm.\n";

static int
fail(char *msg, size_t msglen, int err, const char *disp, const char *fmt,
    ...) __attribute__((format(printf, 5, 6)));

static int
fail(char *msg, size_t msglen, int err, const char *disp, const char *fmt,
    ...)
{
	char	esc[PATH_MAX], text[SAFEFS_MSG_MAX];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	msg_escape(disp, strlen(disp), esc, sizeof(esc));
	(void)snprintf(msg, msglen, "%s: %s", esc, text);
	return err;
}

/* Blank or a '#' comment, as sshd skips them. */
static int
is_blank_or_comment(const struct authkeys_entry *e)
{
	size_t	i = 0;

	while (i < e->rawlen && (e->raw[i] == ' ' || e->raw[i] == '\t'))
		i++;
	return i == e->rawlen || e->raw[i] == '#';
}

/*
 * A key line whose blob is a well-formed key of its type word: the checks
 * of keyparse (type inside the blob, lengths, nothing trailing), which are
 * stricter than sshd's reader.  A line only shaped like a key would make
 * sshd refuse every key.
 */
static int
key_ok(const struct authkeys_entry *e)
{
	struct pubkey	*k = NULL;
	char		 line[KEYLINE_MAX], reason[KEYPARSE_REASON_MAX];
	int		 n;

	n = snprintf(line, sizeof(line), "%s %s", e->type, e->b64);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    keyparse_line(line, (size_t)n, &k, reason, sizeof(reason)) != 0)
		return 0;
	/* DSA: OpenSSH 10 cannot read it, and would fail on the whole file */
	n = strcmp(k->typename, e->type) == 0 && k->type != KT_DSS;
	pubkey_free(k);
	return n;
}

/*
 * Every line something sshd reads without error.  0, or the 1-based
 * number of the first bad line.
 */
static size_t
first_bad_line(const struct authkeys *ak)
{
	const struct authkeys_entry	*e;
	size_t				 i;

	for (i = 0; i < ak->n; i++) {
		e = &ak->lines[i];
		if (memchr(e->raw, '\r', e->rawlen) != NULL ||
		    memchr(e->raw, '\0', e->rawlen) != NULL)
			return i + 1;
		if (e->is_key ? e->options != NULL || !key_ok(e) :
		    !is_blank_or_comment(e))
			return i + 1;
	}
	return 0;
}

/* Reach and lock the directory; a missing one is made or read as empty. */
static int
open_dir(struct revfile *rf, int rootfd, const char *dispprefix,
    const char *dir, int create, int lock_ms, char *msg, size_t msglen)
{
	char	parent[PATH_MAX], last[NAME_MAX + 1], ddisp[PATH_MAX];
	int	pfd = -1, r;

	if (strcmp(dir, "/") == 0) {
		if ((r = safefs_walk(rootfd, dispprefix, dir, 0, &rf->dirfd,
		    msg, msglen)) != 0)
			return r;
		return safefs_lock(rf->dirfd, rf->disp, lock_ms, &rf->lockfd,
		    msg, msglen);
	}
	if (safefs_split(dir, parent, sizeof(parent), last,
	    sizeof(last)) != 0)
		return fail(msg, msglen, KE_CONFIG, rf->disp, "not a path "
		    "keyadm can use for revoked_keys_file");
	/* there already (perhaps through root's own link): as it is */
	r = safefs_walk(rootfd, dispprefix, dir, 0, &rf->dirfd, msg, msglen);
	if (r == 0)
		return safefs_lock(rf->dirfd, rf->disp, lock_ms, &rf->lockfd,
		    msg, msglen);
	if (r != KE_NOINPUT)
		return r;
	if ((r = safefs_walk(rootfd, dispprefix, parent, 0, &pfd, msg,
	    msglen)) == KE_NOINPUT && !create)
		return 0;	/* looking only: no directory, no keys */
	if (r != 0)
		return r == KE_NOINPUT ? KE_CANTCREATE : r;
	(void)snprintf(ddisp, sizeof(ddisp), "%s%s", dispprefix, dir);
	r = safefs_subdir(pfd, ddisp, last, 0, 0, 0755, create, &rf->dirfd,
	    msg, msglen);
	(void)close(pfd);
	if (r == KE_NOINPUT && !create)
		return 0;	/* looking only: no directory, no keys */
	if (r == KE_NOINPUT)
		r = KE_CANTCREATE;
	if (r == 0)
		r = safefs_lock(rf->dirfd, rf->disp, lock_ms, &rf->lockfd,
		    msg, msglen);
	return r;
}

/* Parse what was read, or start a new file with its header. */
static int
load(struct revfile *rf, const char *buf, size_t len, char *msg,
    size_t msglen)
{
	size_t	bad;
	int	r;

	if (buf == NULL)
		r = authkeys_parse(header, sizeof(header) - 1, &rf->ak);
	else if (len >= KRL_MAGIC_LEN && memcmp(buf, KRL_MAGIC,
	    KRL_MAGIC_LEN) == 0)
		return fail(msg, msglen, KE_CONFIG, rf->disp, "a binary KRL: "
		    "keyadm keeps a text list; point revoked_keys_file at a "
		    "file of its own");
	else
		r = authkeys_parse(buf, len, &rf->ak);
	if (r == KE_MALFORMED)
		return fail(msg, msglen, KE_CONFIG, rf->disp, "too large "
		    "to edit");
	if (r != 0)
		return fail(msg, msglen, r, rf->disp, "%s",
		    keyadm_strerror(r));
	if ((bad = first_bad_line(rf->ak)) != 0)
		return fail(msg, msglen, KE_CONFIG, rf->disp, "line %zu is "
		    "not a key sshd can read (sshd refuses every key while "
		    "it is there); fix it by hand", bad);
	return 0;
}

int
revfile_open(struct revfile *rf, int rootfd, const char *dispprefix,
    const char *path, int create, int lock_ms, char *msg, size_t msglen)
{
	char	dir[PATH_MAX], *buf = NULL;
	size_t	len = 0;
	int	r;

	memset(rf, 0, sizeof(*rf));
	rf->dirfd = -1;
	rf->lockfd = -1;
	(void)snprintf(rf->disp, sizeof(rf->disp), "%s%s", dispprefix, path);
	if (safefs_split(path, dir, sizeof(dir), rf->name,
	    sizeof(rf->name)) != 0)
		return fail(msg, msglen, KE_CONFIG, rf->disp, "not a path "
		    "keyadm can use for revoked_keys_file");
	if ((r = open_dir(rf, rootfd, dispprefix, dir, create, lock_ms, msg,
	    msglen)) != 0)
		return r;
	if (rf->dirfd != -1 && (r = safefs_read(rf->dirfd, rf->disp,
	    rf->name, 0, AUTHKEYS_MAX, &buf, &len, &rf->st, msg,
	    msglen)) != 0)
		return r;
	rf->existed = buf != NULL;
	r = load(rf, buf, len, msg, msglen);
	free(buf);
	return r;
}

int
revfile_contains(const struct revfile *rf, const unsigned char *blob,
    size_t bloblen)
{
	return authkeys_find(rf->ak, blob, bloblen, 0) >= 0;
}

int
revfile_add(struct revfile *rf, const char *type, const char *b64)
{
	unsigned char	*blob;
	size_t		 n = strlen(b64);
	long		 len;
	int		 r;

	if ((blob = malloc(n / 4 * 3 + 3)) == NULL)
		return KE_NOMEM;
	len = b64_decode(b64, n, blob, n / 4 * 3 + 3);
	if (len <= 0 || (size_t)len > BLOB_MAX)
		r = KE_INTERNAL;	/* our keys are checked before */
	else if (revfile_contains(rf, blob, (size_t)len))
		r = 1;
	else if ((r = authkeys_append(rf->ak, NULL, type, b64, NULL)) == 0 &&
	    !key_ok(&rf->ak->lines[rf->ak->n - 1])) {
		authkeys_delete(rf->ak, rf->ak->n - 1);
		r = KE_POLICY;	/* a line sshd might fail on: never */
	}
	free(blob);
	return r;
}

size_t
revfile_remove(struct revfile *rf, const unsigned char *blob,
    size_t bloblen)
{
	return authkeys_remove(rf->ak, blob, bloblen);
}

int
revfile_render(const struct revfile *rf, char **out, size_t *outlen)
{
	return authkeys_render(rf->ak, out, outlen);
}

/* The rendered text, parsed again, must be all good lines. */
static int
check_rendered(const char *buf, size_t len)
{
	struct authkeys	*ak = NULL;
	int		 r;

	if (len > 0 && buf[len - 1] != '\n')
		return KE_INTERNAL;
	if ((r = authkeys_parse(buf, len, &ak)) != 0)
		return r;
	r = first_bad_line(ak) == 0 ? 0 : KE_INTERNAL;
	authkeys_free(ak);
	return r;
}

int
revfile_write(struct revfile *rf, char *msg, size_t msglen)
{
	char	*buf = NULL;
	size_t	 len = 0;
	int	 r;

	if (rf->dirfd == -1)
		return fail(msg, msglen, KE_INTERNAL, rf->disp, "not open "
		    "for writing");
	rf->ak->final_newline = 1;	/* LF after every line */
	if ((r = authkeys_render(rf->ak, &buf, &len)) != 0)
		return fail(msg, msglen, r, rf->disp, "%s",
		    keyadm_strerror(r));
	if ((r = check_rendered(buf, len)) != 0)
		r = fail(msg, msglen, r, rf->disp, "would not read back as a "
		    "list of keys; left as it was");
	else
		r = safefs_replace(rf->dirfd, rf->disp, rf->name, buf, len, 0,
		    0, 0644, rf->existed ? &rf->st : NULL, msg, msglen);
	free(buf);
	return r;
}

void
revfile_unlock(struct revfile *rf)
{
	int	saved = errno;

	if (rf->lockfd != -1)
		(void)close(rf->lockfd);	/* releases the lock */
	if (rf->dirfd != -1)
		(void)close(rf->dirfd);
	rf->lockfd = -1;
	rf->dirfd = -1;
	errno = saved;
}

void
revfile_close(struct revfile *rf)
{
	int	saved = errno;

	if (rf->lockfd != -1)
		(void)close(rf->lockfd);	/* releases the lock */
	if (rf->dirfd != -1)
		(void)close(rf->dirfd);
	rf->lockfd = -1;
	rf->dirfd = -1;
	authkeys_free(rf->ak);
	rf->ak = NULL;
	errno = saved;
}
