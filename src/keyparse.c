/*
 * keyparse.c -- untrusted bytes to checked public keys.
 *
 * Owns: turning the bytes of a submitted .pub file into struct pubkey, with
 * a precise reason for every refusal.  The only file that includes libssh.
 *
 * Invariants (each one has a test in tests/unit/test_keyparse.c):
 * - Checks run in this order and a later stage never sees what an earlier
 *   one refused: the submission as a whole (size, private-key markers, NUL
 *   bytes); then per key the lexical checks (length,
 *   "type SP base64 [SP comment]", type word, options, comment text, strict
 *   base64); then our own bounded reader of the decoded blob; only then
 *   libssh, whose re-export must equal the decoded input byte for byte.
 * - libssh never sees a token we have not checked: it gets a NUL-terminated
 *   copy of base64 that decoded strictly into a blob that passed the reader.
 * - Every length read from a blob is compared with the bytes that remain
 *   before anything is read through it; no pointer arithmetic on an
 *   unchecked length, no addition that can overflow.
 * - A reason is a fixed phrase.  The only input it ever quotes is an
 *   unknown type word that has the shape of a key type name (lowercase,
 *   "ssh-"/"sk-"/... prefix or "@openssh.com" suffix; looks_like_type).  Nothing of a private key's content
 *   is copied into a reason, a result, or anywhere else.
 * - The fingerprint is "SHA256:" + unpadded base64 of SHA-256 over the
 *   canonical blob, as ssh-keygen -l prints it.
 * - A submission is judged per key.  A BEGIN line opens a block (RFC 4716,
 *   SPKI, PKCS#1, or another kind that is refused) which keyformat.c turns
 *   into one OpenSSH line; that line then goes through keyparse_line like
 *   any other, so every form gets the same checks and fingerprint.  A
 *   block's result carries the line number of its BEGIN.
 * - Outside blocks, a line is a key line when its first word is a key type
 *   (known, certificate, or type-shaped and followed by "AAAA", the start
 *   of every blob), or when a later word is a known type followed by
 *   "AAAA" (options in front of a key).  Any other line is text (a mail
 *   signature, a description) and is ignored.
 * - A key line that fails and is followed by lines of bare base64 was
 *   broken by a mail client: it is refused with a hint, never repaired.
 * - No mutable globals; libssh's one-time initialisation is the only state.
 *
 * libssh 0.10.6 (Debian 12) imports and re-exports every type we accept,
 * sk-ecdsa and sk-ed25519 included; checked against OpenSSH's vectors.  It
 * would also accept most of what the blob reader refuses, which is why the
 * reader comes first.
 */
#ifndef _GNU_SOURCE

#define _GNU_SOURCE		/* memmem */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libssh/libssh.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "b64.h"
#include "err.h"
#include "fpr.h"
#include "keyformat.h"
#include "keyparse.h"

/*
 * One-time library state (STYLE.md 4), set by keyparse_init: SHA-256
 * fetched once, since OpenSSL 3 fetches it anew for every EVP_sha256()
 * digest, which costs more than hashing a key.
 */
static EVP_MD	*sha256_md;

#define ED25519_PK_LEN	32
#define SSH_BIGNUM_MAX	2048	/* bytes: OpenSSH reads no larger bignum */
#define BLOB_MAX	(KEYLINE_MAX / 4 * 3)	/* largest blob a line holds */

#define R_OPTIONS	"authorized_keys options are not accepted in a " \
			"submission; only the administrator sets options"
#define R_PRIVATE	"this is a private key: the user must make a new " \
			"key pair and send only the .pub file"
#define R_CERT		"certificate: submit id_xxx.pub, not id_xxx-cert.pub"
#define R_WRAPPED	"the key is broken across lines; ask for the .pub " \
			"file as an attachment"
#define WRAP_MIN	16	/* shortest bare base64 line taken as a wrap */
#define CERT_SUFFIX	"-cert-v01@openssh.com"

/* One object, so a reader's "why" can be told apart by address. */
static const char r_internal[] = "internal error while checking the key";

struct keytype_info {
	const char		*name;	/* type word, also first blob string */
	enum keytype		 type;
	enum ssh_keytypes_e	 sshtype;
	const char		*label;	/* as ssh-keygen -l prints it */
	const char		*curve;	/* ECDSA curve string, or NULL */
	int			 nid;	/* OpenSSL curve, or NID_undef */
	unsigned int		 bits;	/* fixed size, or 0: read from blob */
};

static const struct keytype_info keytypes[] = {
	{ "ssh-rsa", KT_RSA, SSH_KEYTYPE_RSA, "RSA", NULL, NID_undef, 0 },
	{ "ssh-dss", KT_DSS, SSH_KEYTYPE_DSS, "DSA", NULL, NID_undef, 0 },
	{ "ecdsa-sha2-nistp256", KT_ECDSA_P256, SSH_KEYTYPE_ECDSA_P256,
	    "ECDSA", "nistp256", NID_X9_62_prime256v1, 256 },
	{ "ecdsa-sha2-nistp384", KT_ECDSA_P384, SSH_KEYTYPE_ECDSA_P384,
	    "ECDSA", "nistp384", NID_secp384r1, 384 },
	{ "ecdsa-sha2-nistp521", KT_ECDSA_P521, SSH_KEYTYPE_ECDSA_P521,
	    "ECDSA", "nistp521", NID_secp521r1, 521 },
	{ "ssh-ed25519", KT_ED25519, SSH_KEYTYPE_ED25519, "ED25519", NULL,
	    NID_undef, 256 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", KT_SK_ECDSA,
	    SSH_KEYTYPE_SK_ECDSA, "ECDSA-SK", "nistp256",
	    NID_X9_62_prime256v1, 256 },
	{ "sk-ssh-ed25519@openssh.com", KT_SK_ED25519, SSH_KEYTYPE_SK_ED25519,
	    "ED25519-SK", NULL, NID_undef, 256 },
};
#define NKEYTYPES	(sizeof(keytypes) / sizeof(keytypes[0]))

/* First words of authorized_keys options, as sshd's auth-options.c knows. */
static const char *const option_words[] = {
	"agent-forwarding", "cert-authority", "command", "environment",
	"expiry-time", "from", "no-agent-forwarding", "no-port-forwarding",
	"no-pty", "no-touch-required", "no-user-rc", "no-x11-forwarding",
	"permitlisten", "permitopen", "port-forwarding", "principals", "pty",
	"restrict", "tunnel", "user-rc", "verify-required", "x11-forwarding",
};

/* Markers of private keys anywhere in a submission. */
static const char *const private_markers[] = {
	"PRIVATE KEY-----",		/* OpenSSH, PEM, PKCS#8, encrypted */
	"PRIVATE KEY ----",		/* ssh.com / RFC 4716 style */
	"PuTTY-User-Key-File-",		/* .ppk v2 and v3 */
};

/* One key line split into its fields; pointers into the caller's line. */
struct lineparts {
	const char	*type;
	size_t		 typelen;
	const char	*b64;
	size_t		 b64len;
	const char	*comment;
	size_t		 commentlen;
};

/* A bounded reader over a decoded blob. */
struct blobrd {
	const unsigned char	*p;
	size_t			 left;
};

static int
fail(char *reason, size_t reasonlen, int err, const char *msg)
{
	if (reason != NULL && reasonlen > 0)
		(void)snprintf(reason, reasonlen, "%s", msg);
	return err;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* [A-Za-z0-9@._-]: the only bytes a reason may quote. */
static int
is_typechar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '@' || c == '.' || c == '_' ||
	    c == '-';
}

static int
word_eq(const char *w, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(w, s, len) == 0;
}

static const struct keytype_info *
lookup_type(const char *w, size_t len)
{
	size_t	i;

	for (i = 0; i < NKEYTYPES; i++)
		if (word_eq(w, len, keytypes[i].name))
			return &keytypes[i];
	return NULL;
}

static int
is_cert_word(const char *w, size_t len)
{
	size_t	sl = sizeof(CERT_SUFFIX) - 1;

	return len > sl && memcmp(w + len - sl, CERT_SUFFIX, sl) == 0;
}

static int
is_option_word(const char *w, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(option_words) / sizeof(option_words[0]); i++)
		if (strlen(option_words[i]) == len &&
		    strncasecmp(w, option_words[i], len) == 0)
			return 1;
	return 0;
}

/*
 * Whether a line whose first word is no key type looks like an
 * authorized_keys line with options: the first word holds an option's
 * punctuation or is an option name, or a key type word comes second.
 */
static int
looks_like_options(const struct lineparts *lp)
{
	if (memchr(lp->type, '=', lp->typelen) != NULL ||
	    memchr(lp->type, ',', lp->typelen) != NULL ||
	    memchr(lp->type, '"', lp->typelen) != NULL)
		return 1;
	if (is_option_word(lp->type, lp->typelen))
		return 1;
	return lp->b64len > 0 && (lookup_type(lp->b64, lp->b64len) != NULL ||
	    is_cert_word(lp->b64, lp->b64len));
}

/* Next blank-separated token of s[0..len); returns bytes consumed. */
static size_t
next_token(const char *s, size_t len, const char **tok, size_t *toklen)
{
	size_t	i = 0, start;

	while (i < len && is_blank(s[i]))
		i++;
	start = i;
	while (i < len && !is_blank(s[i]))
		i++;
	*tok = s + start;
	*toklen = i - start;
	return i;
}

/* Split a line into type, base64 and comment; outer blanks and CR/LF go. */
static int
split_line(const char *line, size_t len, struct lineparts *lp, char *reason,
    size_t reasonlen)
{
	size_t	used;

	memset(lp, 0, sizeof(*lp));
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > KEYLINE_MAX)
		return fail(reason, reasonlen, KE_MALFORMED,
		    "key line too long");
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	used = next_token(line, len, &lp->type, &lp->typelen);
	line += used;
	len -= used;
	if (lp->typelen == 0)
		return fail(reason, reasonlen, KE_MALFORMED,
		    "no key on this line");
	used = next_token(line, len, &lp->b64, &lp->b64len);
	line += used;
	len -= used;
	while (len > 0 && is_blank(*line)) {
		line++;
		len--;
	}
	lp->comment = line;
	lp->commentlen = len;
	return 0;
}

/* Judge the type word; on success *tip is the known type. */
/*
 * Is an unknown first word worth quoting?  Only when it has the shape of a
 * key type name: lowercase, and starting with a known family prefix or
 * ending in "@openssh.com".  A line of someone's private key or a secret
 * read by mistake never has that shape (base64 has no '-'), so it is never
 * echoed.
 */
static int
looks_like_type(const struct lineparts *lp)
{
	static const char *const prefixes[] = {
		"ssh-", "sk-", "ecdsa-", "rsa-", "x509v3-", "pgp-", "spki-"
	};
	static const char suffix[] = "@openssh.com";
	size_t	i, sl = sizeof(suffix) - 1;
	int	known = 0;

	if (lp->typelen > 48)
		return 0;
	for (i = 0; i < lp->typelen; i++)
		if (!((lp->type[i] >= 'a' && lp->type[i] <= 'z') ||
		    (lp->type[i] >= '0' && lp->type[i] <= '9') ||
		    lp->type[i] == '-' || lp->type[i] == '.' ||
		    lp->type[i] == '@'))
			return 0;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (lp->typelen > strlen(prefixes[i]) &&
		    strncmp(lp->type, prefixes[i], strlen(prefixes[i])) == 0)
			known = 1;
	if (lp->typelen > sl &&
	    memcmp(lp->type + lp->typelen - sl, suffix, sl) == 0)
		known = 1;
	return known;
}

static int
judge_type(const struct lineparts *lp, const struct keytype_info **tip,
    char *reason, size_t reasonlen)
{
	size_t	i;

	if ((*tip = lookup_type(lp->type, lp->typelen)) != NULL)
		return 0;
	if (looks_like_options(lp))
		return fail(reason, reasonlen, KE_MALFORMED, R_OPTIONS);
	if (lp->typelen > KEYTYPE_MAX - 1)
		return fail(reason, reasonlen, KE_MALFORMED,
		    "key type word too long");
	for (i = 0; i < lp->typelen; i++)
		if (!is_typechar(lp->type[i]))
			return fail(reason, reasonlen, KE_MALFORMED,
			    "not an OpenSSH public key line");
	if (is_cert_word(lp->type, lp->typelen))
		return fail(reason, reasonlen, KE_POLICY, R_CERT);
	if (!looks_like_type(lp))
		return fail(reason, reasonlen, KE_MALFORMED,
		    "not an OpenSSH public key line");
	if (reason != NULL && reasonlen > 0)
		(void)snprintf(reason, reasonlen, "unsupported key type %.*s",
		    (int)lp->typelen, lp->type);
	return KE_POLICY;
}

/*
 * Decode one UTF-8 sequence at s (left > 0 bytes).  Returns its length and
 * sets *cp, or 0 for an invalid, overlong, surrogate or out-of-range one.
 */
static size_t
utf8_next(const unsigned char *s, size_t left, uint32_t *cp)
{
	size_t		n, i;
	uint32_t	c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Code points a comment must not hold: C0, DEL, C1, and the line
 * separators and bidirectional overrides that rearrange what a terminal or
 * log reader shows.
 */
static int
is_control_cp(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	    c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) ||
	    c == 0xfeff;
}

static int
check_comment(const char *s, size_t len, char *reason, size_t reasonlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 cp;

	if (len > COMMENT_MAX - 1)
		return fail(reason, reasonlen, KE_MALFORMED,
		    "comment too long");
	for (i = 0; i < len; i += n) {
		if ((n = utf8_next(p + i, len - i, &cp)) == 0)
			return fail(reason, reasonlen, KE_MALFORMED,
			    "comment is not valid UTF-8");
		if (is_control_cp(cp))
			return fail(reason, reasonlen, KE_MALFORMED,
			    "comment contains control characters");
	}
	return 0;
}

/* Read one SSH string.  Returns NULL, or why not. */
static const char *
rd_string(struct blobrd *r, const unsigned char **s, size_t *len)
{
	uint32_t	n;

	if (r->left < 4)
		return "key data is truncated";
	n = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | (uint32_t)r->p[3];
	r->p += 4;
	r->left -= 4;
	if (n > r->left)
		return "a length field points past the end of the key data";
	*s = r->p;
	*len = n;
	r->p += n;
	r->left -= n;
	return NULL;
}

/*
 * Read a positive mpint in its one canonical form; *mag and *maglen get its
 * magnitude without the sign byte (never empty, first byte non-zero).
 */
static const char *
rd_mpint(struct blobrd *r, const unsigned char **mag, size_t *maglen)
{
	const unsigned char	*s;
	size_t			 n;
	const char		*why;

	if ((why = rd_string(r, &s, &n)) != NULL)
		return why;
	if (n == 0)
		return "an integer in the key is zero";
	if (s[0] & 0x80)
		return "an integer in the key is negative";
	if (s[0] == 0 && (n == 1 || (s[1] & 0x80) == 0))
		return "an integer in the key has a needless leading zero";
	if (s[0] == 0) {
		s++;
		n--;
	}
	*mag = s;
	*maglen = n;
	return NULL;
}

/* Bit length of a magnitude whose first byte is non-zero. */
static unsigned int
mag_bits(const unsigned char *mag, size_t len)
{
	unsigned int	bits;
	unsigned char	top;

	if (len == 0 || len > BLOB_MAX)
		return 0;
	bits = (unsigned int)(len - 1) * 8;
	for (top = mag[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

static const char *
check_rsa(struct blobrd *r, struct pubkey *k)
{
	const char	*why;

	if ((why = rd_mpint(r, &k->rsa_e, &k->rsa_elen)) != NULL ||
	    (why = rd_mpint(r, &k->rsa_n, &k->rsa_nlen)) != NULL)
		return why;
	/* OpenSSH reads no bignum over 2048 bytes: the line would be an
	 * error for sshd, which in a revoked-keys file refuses every key */
	if (k->rsa_nlen > SSH_BIGNUM_MAX || k->rsa_elen > SSH_BIGNUM_MAX)
		return "RSA key larger than 16384 bits: OpenSSH cannot read it";
	k->bits = mag_bits(k->rsa_n, k->rsa_nlen);
	return NULL;
}

static const char *
check_dss(struct blobrd *r, struct pubkey *k)
{
	const unsigned char	*p, *m;
	size_t			 plen, mlen;
	const char		*why;

	if ((why = rd_mpint(r, &p, &plen)) != NULL ||
	    (why = rd_mpint(r, &m, &mlen)) != NULL ||	/* q */
	    (why = rd_mpint(r, &m, &mlen)) != NULL ||	/* g */
	    (why = rd_mpint(r, &m, &mlen)) != NULL)	/* y */
		return why;
	k->bits = mag_bits(p, plen);
	return NULL;
}

/* An uncompressed point of the right length that lies on the curve. */
/*
 * The further rules OpenSSH applies to a public point (sshd refuses the
 * key, and in a revoked-keys file every key, otherwise): both coordinates
 * longer than half the group order's bits and below order - 1, and the
 * order times the point is the point at infinity.  NULL when it holds.
 */
static const char *
ec_point_sane(const EC_GROUP *g, const EC_POINT *p)
{
	BN_CTX		*ctx;
	BIGNUM		*x, *y, *lim;
	EC_POINT	*nq = NULL;
	const BIGNUM	*order = EC_GROUP_get0_order(g);
	const BIGNUM	*cofactor = EC_GROUP_get0_cofactor(g);
	const char	*why = r_internal;
	int		 half;

	if ((ctx = BN_CTX_new()) == NULL)
		return r_internal;
	BN_CTX_start(ctx);
	x = BN_CTX_get(ctx);
	y = BN_CTX_get(ctx);
	lim = BN_CTX_get(ctx);
	if (lim == NULL || order == NULL || cofactor == NULL ||
	    EC_POINT_get_affine_coordinates(g, p, x, y, ctx) != 1 ||
	    BN_copy(lim, order) == NULL || BN_sub_word(lim, 1) != 1)
		goto out;
	/*
	 * The order times the point: on a curve of cofactor 1 (P-256, P-384,
	 * P-521) every point on the curve but infinity, which the caller
	 * has ruled out, is in the group of that order (Lagrange), so the
	 * scalar multiplication OpenSSH does (most of the cost of an ECDSA
	 * key) can only give infinity there; it is done for other curves.
	 */
	if (!BN_is_one(cofactor) && ((nq = EC_POINT_new(g)) == NULL ||
	    EC_POINT_mul(g, nq, NULL, p, order, ctx) != 1))
		goto out;
	half = BN_num_bits(order) / 2;
	if (BN_num_bits(x) <= half || BN_num_bits(y) <= half ||
	    BN_cmp(x, lim) >= 0 || BN_cmp(y, lim) >= 0)
		why = "EC point is not one OpenSSH accepts (a coordinate is "
		    "too small or too large)";
	else if (nq != NULL && EC_POINT_is_at_infinity(g, nq) != 1)
		why = "EC point is not in the group of the curve's order";
	else
		why = NULL;
out:
	ERR_clear_error();
	EC_POINT_free(nq);
	BN_CTX_end(ctx);
	BN_CTX_free(ctx);
	return why;
}

static const char *
check_ec_point(const unsigned char *pt, size_t len,
    const struct keytype_info *ti)
{
	EC_GROUP	*g;
	EC_POINT	*p = NULL;
	const char	*why = "EC point is not on the curve";
	size_t		 flen = (ti->bits + 7) / 8;

	if (len == 0)
		return "EC point is empty";
	if (pt[0] == 0x02 || pt[0] == 0x03)
		return "EC point is compressed; only uncompressed is accepted";
	if (pt[0] != 0x04)
		return "EC point encoding is invalid";
	if (len != 1 + 2 * flen)
		return "EC point has the wrong length for its curve";
	/*
	 * XXX A fresh group costs about 25us, a fifth of an ECDSA key's time
	 * (libssh's import is most of the rest).  Groups built once in
	 * keyparse_init would be faster, at the price of static state.
	 */
	if ((g = EC_GROUP_new_by_curve_name(ti->nid)) == NULL ||
	    (p = EC_POINT_new(g)) == NULL) {
		why = r_internal;
		goto out;
	}
	/* oct2point refuses coordinates >= p and, in OpenSSL 3, off-curve. */
	if (EC_POINT_oct2point(g, p, pt, len, NULL) == 1 &&
	    EC_POINT_is_on_curve(g, p, NULL) == 1 &&
	    EC_POINT_is_at_infinity(g, p) == 0)
		why = ec_point_sane(g, p);
	else
		ERR_clear_error();	/* leave no error behind for libssh */
out:
	EC_POINT_free(p);
	EC_GROUP_free(g);
	return why;
}

/* ECDSA and sk-ECDSA: curve name matching the type word, then the point. */
static const char *
check_ecdsa(struct blobrd *r, const struct keytype_info *ti)
{
	const unsigned char	*s;
	size_t			 len;
	const char		*why;

	if ((why = rd_string(r, &s, &len)) != NULL)
		return why;
	if (len != strlen(ti->curve) || memcmp(s, ti->curve, len) != 0)
		return "EC curve name does not match the key type";
	if ((why = rd_string(r, &s, &len)) != NULL)
		return why;
	return check_ec_point(s, len, ti);
}

static const char *
check_ed25519(struct blobrd *r)
{
	const unsigned char	*s;
	size_t			 len;
	const char		*why;

	if ((why = rd_string(r, &s, &len)) != NULL)
		return why;
	if (len != ED25519_PK_LEN)
		return "Ed25519 key is not 32 bytes";
	return NULL;
}

/* The application string of sk keys; policy judges its content. */
static const char *
check_sk_app(struct blobrd *r, struct pubkey *k)
{
	const char	*why;

	if ((why = rd_string(r, &k->sk_app, &k->sk_applen)) != NULL)
		return why;
	/* OpenSSH reads it as a C string: a NUL inside is an error */
	if (memchr(k->sk_app, '\0', k->sk_applen) != NULL)
		return "sk application contains a NUL byte";
	return NULL;
}

/*
 * The structure of k->blob for type ti.  Fills bits and the pointers into
 * the blob.  Returns NULL, or why the blob is refused.
 */
static const char *
check_blob(const struct keytype_info *ti, struct pubkey *k)
{
	struct blobrd		 r = { k->blob, k->bloblen };
	const unsigned char	*s;
	size_t			 len;
	const char		*why;

	if ((why = rd_string(&r, &s, &len)) != NULL)
		return why;
	if (len != strlen(ti->name) || memcmp(s, ti->name, len) != 0)
		return "key type word does not match the key inside";
	switch (ti->type) {
	case KT_RSA:
		why = check_rsa(&r, k);
		break;
	case KT_DSS:
		why = check_dss(&r, k);
		break;
	case KT_ECDSA_P256:
	case KT_ECDSA_P384:
	case KT_ECDSA_P521:
		why = check_ecdsa(&r, ti);
		break;
	case KT_ED25519:
		why = check_ed25519(&r);
		break;
	case KT_SK_ECDSA:
		if ((why = check_ecdsa(&r, ti)) == NULL)
			why = check_sk_app(&r, k);
		break;
	case KT_SK_ED25519:
		if ((why = check_ed25519(&r)) == NULL)
			why = check_sk_app(&r, k);
		break;
	default:
		return r_internal;
	}
	if (why == NULL && r.left != 0)
		why = "trailing bytes after the key";
	if (why == NULL && ti->bits != 0)
		k->bits = ti->bits;
	return why;
}

/*
 * libssh imports the checked key and exports it again; the export must
 * decode to exactly our blob.
 */
static int
check_libssh(const struct keytype_info *ti, const struct pubkey *k,
    char *reason, size_t reasonlen)
{
	unsigned char	 buf[BLOB_MAX];
	ssh_key		 key = NULL;
	char		*exp = NULL;
	long		 n;
	int		 ret;

	if (ssh_pki_import_pubkey_base64(k->b64, ti->sshtype, &key) != SSH_OK) {
		ret = fail(reason, reasonlen, KE_MALFORMED,
		    "libssh refused the key");
		goto out;
	}
	if (ssh_pki_export_pubkey_base64(key, &exp) != SSH_OK) {
		ret = fail(reason, reasonlen, KE_INTERNAL, r_internal);
		goto out;
	}
	n = b64_decode(exp, strlen(exp), buf, sizeof(buf));
	if (n < 0 || (size_t)n != k->bloblen ||
	    memcmp(buf, k->blob, k->bloblen) != 0) {
		ret = fail(reason, reasonlen, KE_MALFORMED,
		    "non-canonical key encoding");
		goto out;
	}
	ret = 0;
out:
	ssh_string_free_char(exp);
	ssh_key_free(key);
	return ret;
}

static char *
copy_str(const char *s, size_t len)
{
	char	*p;

	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Decode the base64 field into a fresh k->blob. */
static int
decode_blob(const struct lineparts *lp, struct pubkey *k, char *reason,
    size_t reasonlen)
{
	size_t	cap;
	long	n;

	if (lp->b64len == 0)
		return fail(reason, reasonlen, KE_MALFORMED,
		    "no key data after the key type");
	cap = lp->b64len / 4 * 3;
	if (lp->b64len % 4 != 0 || cap == 0)
		return fail(reason, reasonlen, KE_MALFORMED,
		    "key data is not valid base64");
	if ((k->blob = malloc(cap)) == NULL)
		return fail(reason, reasonlen, KE_NOMEM, "out of memory");
	if ((n = b64_decode(lp->b64, lp->b64len, k->blob, cap)) <= 0)
		return fail(reason, reasonlen, KE_MALFORMED,
		    "key data is not valid base64");
	k->bloblen = (size_t)n;
	return 0;
}

/*
 * Build a pubkey from checked line parts: decode, check the structure,
 * keep the base64 (strict decoding makes it the canonical encoding of the
 * blob), the comment and the fingerprint.
 */
static int
pubkey_build(const struct keytype_info *ti, const struct lineparts *lp,
    struct pubkey **out, char *reason, size_t reasonlen)
{
	struct pubkey	*k;
	const char	*why;
	int		 ret;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return fail(reason, reasonlen, KE_NOMEM, "out of memory");
	k->type = ti->type;
	(void)snprintf(k->typename, sizeof(k->typename), "%s", ti->name);
	if ((ret = decode_blob(lp, k, reason, reasonlen)) != 0)
		goto out;
	if ((why = check_blob(ti, k)) != NULL) {
		ret = fail(reason, reasonlen,
		    why == r_internal ? KE_INTERNAL : KE_MALFORMED, why);
		goto out;
	}
	if ((k->b64 = copy_str(lp->b64, lp->b64len)) == NULL ||
	    (lp->commentlen > 0 &&
	    (k->comment = copy_str(lp->comment, lp->commentlen)) == NULL)) {
		ret = fail(reason, reasonlen, KE_NOMEM, "out of memory");
		goto out;
	}
	if ((ret = keyparse_fingerprint(k->blob, k->bloblen, k->fingerprint,
	    sizeof(k->fingerprint))) != 0) {
		(void)fail(reason, reasonlen, ret, r_internal);
		goto out;
	}
	*out = k;
	k = NULL;
out:
	pubkey_free(k);
	return ret;
}

int
keyparse_line(const char *line, size_t len, struct pubkey **out,
    char *reason, size_t reasonlen)
{
	const struct keytype_info	*ti;
	struct lineparts		 lp;
	struct pubkey			*k = NULL;
	int				 ret;

	(void)fail(reason, reasonlen, 0, "");
	if (out == NULL)
		return fail(reason, reasonlen, KE_INTERNAL, r_internal);
	*out = NULL;
	if (line == NULL)
		return fail(reason, reasonlen, KE_INTERNAL, r_internal);
	if ((ret = split_line(line, len, &lp, reason, reasonlen)) != 0 ||
	    (ret = judge_type(&lp, &ti, reason, reasonlen)) != 0 ||
	    (ret = check_comment(lp.comment, lp.commentlen, reason,
	    reasonlen)) != 0 ||
	    (ret = pubkey_build(ti, &lp, &k, reason, reasonlen)) != 0 ||
	    (ret = check_libssh(ti, k, reason, reasonlen)) != 0)
		goto out;
	*out = k;
	k = NULL;
out:
	pubkey_free(k);
	return ret;
}

/* Whether the submission holds a private key marker anywhere. */
static int
has_private_marker(const unsigned char *buf, size_t len)
{
	size_t	i, n;

	n = sizeof(private_markers) / sizeof(private_markers[0]);
	for (i = 0; i < n; i++)
		if (memmem(buf, len, private_markers[i],
		    strlen(private_markers[i])) != NULL)
			return 1;
	return 0;
}

/* Next line of the cursor (without its LF); 0 at the end. */
static int
next_line(const unsigned char **p, size_t *left, const char **line,
    size_t *len)
{
	const unsigned char	*nl;

	if (*left == 0)
		return 0;
	*line = (const char *)*p;
	if ((nl = memchr(*p, '\n', *left)) == NULL) {
		*len = *left;
		*p += *left;
		*left = 0;
	} else {
		*len = (size_t)(nl - *p);
		*p = nl + 1;
		*left -= *len + 1;
	}
	return 1;
}

/* Skip blanks and CR; returns the offset of the first other byte. */
static size_t
skip_space(const char *s, size_t len)
{
	size_t	i = 0;

	while (i < len && (is_blank(s[i]) || s[i] == '\r'))
		i++;
	return i;
}

static int
starts_with(const char *s, size_t len, const char *prefix)
{
	size_t	pl = strlen(prefix);

	return len >= pl && memcmp(s, prefix, pl) == 0;
}

/*
 * Whether a line outside a block carries a key (see the invariants);
 * s starts at its first non-blank byte.
 */
static int
is_key_line(const char *s, size_t len)
{
	struct lineparts	 lp;
	const char		*w, *next;
	size_t			 used, wl, nl;

	memset(&lp, 0, sizeof(lp));
	used = next_token(s, len, &lp.type, &lp.typelen);
	used += next_token(s + used, len - used, &next, &nl);
	if (lookup_type(lp.type, lp.typelen) != NULL ||
	    is_cert_word(lp.type, lp.typelen))
		return 1;
	if (looks_like_type(&lp) && starts_with(next, nl, "AAAA"))
		return 1;
	while (nl > 0) {
		w = next;
		wl = nl;
		used += next_token(s + used, len - used, &next, &nl);
		if ((lookup_type(w, wl) != NULL || is_cert_word(w, wl)) &&
		    starts_with(next, nl, "AAAA"))
			return 1;
	}
	return 0;
}

/* The submission being scanned, line by line. */
struct scan {
	const unsigned char	*p;
	size_t			 left;
	size_t			 lineno;
};

/*
 * Is the line (a key line that failed) the start of a key a mail client
 * broke: a known type word, perhaps the start of the base64, no comment,
 * and next a line of bare base64?
 */
static int
is_wrapped(const struct scan *s, const char *line, size_t len)
{
	struct scan	 peek = *s;
	const char	*t, *b, *c, *nline;
	size_t		 tl, bl, cl, used, nlen, off;

	while (len > 0 && (line[len - 1] == '\r' || is_blank(line[len - 1])))
		len--;
	used = next_token(line, len, &t, &tl);
	used += next_token(line + used, len - used, &b, &bl);
	(void)next_token(line + used, len - used, &c, &cl);
	if (lookup_type(t, tl) == NULL || cl > 0 ||
	    (bl > 0 && !b64_is_text(b, bl)))
		return 0;
	if (!next_line(&peek.p, &peek.left, &nline, &nlen))
		return 0;
	while (nlen > 0 && (nline[nlen - 1] == '\r' ||
	    is_blank(nline[nlen - 1])))
		nlen--;
	off = next_token(nline, nlen, &t, &tl);
	return tl >= WRAP_MIN && b64_is_text(t, tl) && off == nlen;
}

/* Move past the bare base64 lines of a broken key, its last one too. */
static void
skip_wrapped(struct scan *s)
{
	struct scan	 peek;
	const char	*line, *t, *c;
	size_t		 len, tl, cl, used;

	for (;;) {
		peek = *s;
		if (!next_line(&peek.p, &peek.left, &line, &len))
			return;
		while (len > 0 && (line[len - 1] == '\r' ||
		    is_blank(line[len - 1])))
			len--;
		used = next_token(line, len, &t, &tl);
		(void)next_token(line + used, len - used, &c, &cl);
		if (!b64_is_text(t, tl))
			return;
		*s = peek;
		s->lineno++;
		if (cl > 0)
			return;		/* the comment ends the key */
	}
}

/* Room for one more result, zeroed. */
static struct keyparse_result *
list_add(struct keyparse_list *l, size_t *cap)
{
	struct keyparse_result	*p;
	size_t			 ncap;

	if (l->n == *cap) {
		ncap = *cap == 0 ? 8 : *cap * 2;
		if ((p = reallocarray(l->items, ncap, sizeof(*p))) == NULL)
			return NULL;
		memset(p + *cap, 0, (ncap - *cap) * sizeof(*p));
		l->items = p;
		*cap = ncap;
	}
	return &l->items[l->n++];
}

/* A block from its BEGIN line at start: convert, then judge the line. */
static void
judge_block(struct scan *s, const unsigned char *start, size_t left,
    struct keyparse_result *it)
{
	char	*line = NULL;
	size_t	 used = 0, nlines = 0;

	it->err = keyformat_block(start, left, &used, &nlines, &line,
	    it->reason, sizeof(it->reason));
	if (used > left)
		used = left;		/* cannot happen; stay in bounds */
	s->p = start + used;
	s->left = left - used;
	if (nlines > 0)
		s->lineno += nlines - 1;
	if (it->err == 0)
		it->err = keyparse_line(line, strlen(line), &it->key,
		    it->reason, sizeof(it->reason));
	free(line);
}

/* The next line of the submission: a block, a key line, or text. */
static int
scan_one(struct scan *s, struct keyparse_list *l, size_t *cap)
{
	const unsigned char	*start = s->p;
	size_t			 left = s->left, llen, off;
	const char		*line;
	struct keyparse_result	*it;
	enum keyblock		 kb;

	if (!next_line(&s->p, &s->left, &line, &llen))
		return 0;
	s->lineno++;
	off = skip_space(line, llen);
	kb = keyformat_begins(line, llen);
	if (kb == KB_NONE && (off == llen || line[off] == '#' ||
	    !is_key_line(line + off, llen - off)))
		return 0;
	if ((it = list_add(l, cap)) == NULL)
		return KE_NOMEM;
	it->lineno = s->lineno;
	it->format = keyformat_of(kb);
	if (kb != KB_NONE) {
		judge_block(s, start, left, it);
		return 0;
	}
	it->err = keyparse_line(line, llen, &it->key, it->reason,
	    sizeof(it->reason));
	if (it->err != 0 && it->err != KE_NOMEM && is_wrapped(s, line, llen)) {
		(void)fail(it->reason, sizeof(it->reason), KE_MALFORMED,
		    R_WRAPPED);
		it->err = KE_MALFORMED;
		skip_wrapped(s);
	}
	return 0;
}

/* Refusals of the whole submission. */
static int
judge_buf(const unsigned char *buf, size_t len, char *reason,
    size_t reasonlen)
{
	size_t	off;

	if (has_private_marker(buf, len))
		return fail(reason, reasonlen, KE_MALFORMED, R_PRIVATE);
	if (memchr(buf, '\0', len) != NULL)
		return fail(reason, reasonlen, KE_MALFORMED,
		    "binary data, not a public key");
	for (off = 0; off < len && (buf[off] == ' ' || buf[off] == '\t' ||
	    buf[off] == '\r' || buf[off] == '\n'); off++)
		;
	if (off == len)
		return fail(reason, reasonlen, KE_MALFORMED, "empty file");
	if (buf[off] < 0x21 || buf[off] > 0x7e)
		return fail(reason, reasonlen, KE_MALFORMED,
		    "binary data, not a public key");
	return 0;
}

/* Scan every key of buf into a new list (which may be empty). */
static int
scan_all(const unsigned char *buf, size_t len, struct keyparse_list **out,
    char *reason, size_t reasonlen)
{
	struct keyparse_list	*l;
	struct scan		 s;
	size_t			 cap = 0;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return fail(reason, reasonlen, KE_NOMEM, "out of memory");
	s.p = buf;
	s.left = len;
	s.lineno = 0;
	while (s.left > 0)
		if (scan_one(&s, l, &cap) != 0) {
			keyparse_list_free(l);
			return fail(reason, reasonlen, KE_NOMEM,
			    "out of memory");
		}
	*out = l;
	return 0;
}

int
keyparse_buf(const unsigned char *buf, size_t len,
    struct keyparse_list **out, char *reason, size_t reasonlen)
{
	struct keyparse_list	*l = NULL;
	int			 ret;

	(void)fail(reason, reasonlen, 0, "");
	if (out == NULL || (buf == NULL && len != 0))
		return fail(reason, reasonlen, KE_INTERNAL, r_internal);
	*out = NULL;
	if (len > KEYFILE_MAX)
		return fail(reason, reasonlen, KE_MALFORMED, "file too large");
	if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf) {
		buf += 3;
		len -= 3;
	}
	if (len == 0)
		return fail(reason, reasonlen, KE_MALFORMED, "empty file");
	if ((ret = judge_buf(buf, len, reason, reasonlen)) != 0 ||
	    (ret = scan_all(buf, len, &l, reason, reasonlen)) != 0)
		return ret;
	if (l->n == 0) {
		keyparse_list_free(l);
		return fail(reason, reasonlen, KE_MALFORMED,
		    "no public key in the file");
	}
	*out = l;
	return 0;
}

int
keyparse_chunk(const unsigned char *buf, size_t len, int first,
    struct keyparse_list **out, char *reason, size_t reasonlen)
{
	size_t	off;
	int	ret;

	(void)fail(reason, reasonlen, 0, "");
	if (out == NULL || (buf == NULL && len != 0))
		return fail(reason, reasonlen, KE_INTERNAL, r_internal);
	*out = NULL;
	if (len > KEYFILE_MAX)
		return fail(reason, reasonlen, KE_MALFORMED, "file too large");
	if (first && len >= 3 && buf[0] == 0xef && buf[1] == 0xbb &&
	    buf[2] == 0xbf) {
		buf += 3;
		len -= 3;
	}
	for (off = 0; off < len && (buf[off] == ' ' || buf[off] == '\t' ||
	    buf[off] == '\r' || buf[off] == '\n'); off++)
		;
	/*
	 * A blank piece of a longer file holds nothing, and is no error.  The
	 * rule on the first byte is about the start of a file: a later piece
	 * may begin with any line of text (a mail's "Équipe"), so only the
	 * private-key and NUL rules apply to it.
	 */
	if (off < len && first &&
	    (ret = judge_buf(buf, len, reason, reasonlen)) != 0)
		return ret;
	if (off < len && !first) {
		if (has_private_marker(buf, len))
			return fail(reason, reasonlen, KE_MALFORMED, R_PRIVATE);
		if (memchr(buf, '\0', len) != NULL)
			return fail(reason, reasonlen, KE_MALFORMED,
			    "binary data, not a public key");
	}
	return scan_all(buf, len, out, reason, reasonlen);
}

const char *
keyparse_type_label(enum keytype t)
{
	size_t	i;

	for (i = 0; i < NKEYTYPES; i++)
		if (keytypes[i].type == t)
			return keytypes[i].label;
	return "UNKNOWN";
}

const char *
keyparse_format_name(enum keyformat f)
{
	switch (f) {
	case KF_RFC4716:
		return "rfc4716";
	case KF_SPKI:
		return "spki";
	case KF_PKCS1:
		return "pkcs1";
	case KF_OPENSSH:
	default:
		return "openssh";
	}
}

const char *
keyparse_name_label(const char *typename)
{
	size_t	i;

	for (i = 0; i < NKEYTYPES; i++)
		if (strcmp(keytypes[i].name, typename) == 0)
			return keytypes[i].label;
	return "UNKNOWN";
}

int
keyparse_fingerprint(const unsigned char *blob, size_t len, char *out,
    size_t outlen)
{
	return fpr_sha256_md(sha256_md, blob, len, out, outlen);
}

void
pubkey_free(struct pubkey *k)
{
	if (k == NULL)
		return;
	free(k->blob);
	free(k->b64);
	free(k->comment);
	free(k);
}

void
keyparse_list_free(struct keyparse_list *l)
{
	size_t	i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		pubkey_free(l->items[i].key);
	free(l->items);
	free(l);
}

int
keyparse_init(void)
{
	if (sha256_md == NULL)	/* NULL again: fpr fetches each time */
		sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return ssh_init() == SSH_OK ? 0 : KE_INTERNAL;
}

void
keyparse_fini(void)
{
	EVP_MD_free(sha256_md);
	sha256_md = NULL;
	(void)ssh_finalize();
}
