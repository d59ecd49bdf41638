/*
 * keyformat.c -- public-key blocks to OpenSSH one-line form.
 *
 * Owns: reading an RFC 4716 "SSH2 PUBLIC KEY" block, an SPKI PEM
 * "PUBLIC KEY" block or a PKCS#1 PEM "RSA PUBLIC KEY" block out of a
 * submission and writing the one OpenSSH line "type base64[ comment]" that
 * says the same key.  It converts and never judges: keyparse runs the line
 * through keyparse_line, so a key gets the same checks (blob reader, libssh
 * import, byte-for-byte re-export) and the same fingerprint whatever form
 * it came in.  Includes OpenSSL, never libssh.
 *
 * Invariants (each has a test in tests/unit/test_keyparse.c):
 * - A block ends at its own END line.  A missing END, a BEGIN inside the
 *   block, an END of another kind, or a line that is neither a header (RFC
 *   4716 only, and only before the key data) nor base64 refuses the whole
 *   block; the cursor still moves past it so that the caller goes on with
 *   the next key.
 * - Sizes are capped before anything is copied: the key data at
 *   KEYLINE_MAX base64 characters, a joined RFC 4716 header at
 *   KEYFORMAT_HEADER_MAX bytes.
 * - The RFC 4716 Comment header (one at most, outer quotes removed) becomes
 *   the comment of the line and is not checked here: keyparse_line applies
 *   the comment rules.  Other headers (Subject, x-*, unknown tags, as RFC
 *   4716 says) are read and ignored.
 * - The type word of an RFC 4716 line is the first string of the blob,
 *   used only when it is made of type characters; keyparse_line then
 *   checks the blob against it as for any line.
 * - SPKI and PKCS#1 are decoded with OpenSSL's DER decoders and must use
 *   every byte; the SSH blob is written here: "ssh-rsa" e n (mpints),
 *   "ecdsa-sha2-nistpN" "nistpN" point (the SPKI bit string as is),
 *   "ssh-ed25519" 32 bytes.  An EC key must name one of the three curves;
 *   explicit curve parameters are refused.  Any other algorithm is refused
 *   and named from our own table, never from the input.
 * - A reason is a fixed phrase; nothing of the input is ever quoted.
 * - OpenSSL's error queue is left empty for libssh after every failure.
 * - No mutable globals.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "b64.h"
#include "err.h"
#include "keyformat.h"

#define BLOB_CAP	(KEYLINE_MAX / 4 * 3)	/* largest blob we write */
#define TAG_MAX		64			/* RFC 4716 header-tag */
#define ED25519_LEN	32

#define RFC_BEGIN	"---- BEGIN SSH2 PUBLIC KEY ----"
#define RFC_END		"---- END SSH2 PUBLIC KEY ----"
#define SPKI_BEGIN	"-----BEGIN PUBLIC KEY-----"
#define SPKI_END	"-----END PUBLIC KEY-----"
#define PKCS1_BEGIN	"-----BEGIN RSA PUBLIC KEY-----"
#define PKCS1_END	"-----END RSA PUBLIC KEY-----"

#define R_NOEND		"key block has no END line"
#define R_NESTED	"BEGIN line inside a key block"
#define R_BADEND	"END line does not match the BEGIN line"
#define R_JUNK		"unexpected line inside a key block"
#define R_LATEHDR	"header line after the key data in a key block"
#define R_BIGHDR	"header longer than 1024 bytes in a key block"
#define R_BADHDR	"malformed header line in a key block"
#define R_TWOCOMMENTS	"more than one Comment header in a key block"
#define R_BIG		"key block too long"
#define R_EMPTY		"no key data in the key block"
#define R_B64		"key data is not valid base64"
#define R_NOTYPE	"key data does not start with a key type"
#define R_SPKI		"not a valid SPKI public key"
#define R_PKCS1		"not a valid RSA public key"
#define R_EXPLICIT	"EC key with explicit curve parameters; ask for a " \
			"named-curve key"
#define R_NOCURVE	"EC key without a named curve"
#define R_CURVE		"unsupported EC curve; ask for a P-256, P-384 or " \
			"P-521 key"
#define R_ALG		"unsupported key algorithm; ask for an Ed25519, " \
			"ECDSA or RSA key"
#define R_ED25519	"Ed25519 key is not 32 bytes"
#define R_NEGATIVE	"an integer in the key is negative"
#define R_NOT_DER	"not DER: the key's encoding is not canonical"
#define R_CERT		"X.509 certificate or request: send the SSH public " \
			"key (the .pub file)"
#define R_OTHER		"unsupported key block: send the SSH public key " \
			"(the .pub file)"
#define R_NOMEM		"out of memory"
#define R_INTERNAL	"internal error while converting the key"

/* A cursor over the lines of a submission, from a block's BEGIN line. */
struct cursor {
	const unsigned char	*p;
	size_t			 left;
	size_t			 used;
	size_t			 nlines;
};

/* Base64 of a block's key data, joined. */
struct body {
	char	b64[KEYLINE_MAX];
	size_t	len;
};

/* What an RFC 4716 block gives: key data and the Comment header. */
struct rfcblock {
	struct body	body;
	char		comment[KEYFORMAT_HEADER_MAX];
	size_t		commentlen;
	int		have_comment;
};

/* A bounded writer of an SSH wire blob. */
struct wbuf {
	unsigned char	*b;
	size_t		 n;
	size_t		 cap;
};

static const struct {
	int		 nid;
	const char	*curve;
} curves[] = {
	{ NID_X9_62_prime256v1, "nistp256" },
	{ NID_secp384r1, "nistp384" },
	{ NID_secp521r1, "nistp521" },
};

/* Names for refusals of algorithms people do send. */
static const struct {
	int		 nid;
	const char	*name;
} foreign_algs[] = {
	{ NID_X25519, "X25519" }, { NID_X448, "X448" }, { NID_ED448, "Ed448" },
	{ NID_dsa, "DSA" }, { NID_dhKeyAgreement, "DH" },
	{ NID_dhpublicnumber, "DH" }, { NID_rsassaPss, "RSA-PSS" },
	{ NID_sm2, "SM2" },
};

static int
fail(char *reason, size_t reasonlen, int err, const char *msg)
{
	if (reason != NULL && reasonlen > 0)
		(void)snprintf(reason, reasonlen, "%s", msg);
	return err;
}

/* OpenSSL failed on untrusted input: leave no error behind for libssh. */
static int
ossl_fail(char *reason, size_t reasonlen, int err, const char *msg)
{
	ERR_clear_error();
	return fail(reason, reasonlen, err, msg);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Drop trailing blanks and CR (transport damage). */
static void
trim_end(const char *s, size_t *len)
{
	while (*len > 0 && (is_blank(s[*len - 1]) || s[*len - 1] == '\r'))
		(*len)--;
}

/* Drop outer blanks and a CR. */
static void
trim(const char **s, size_t *len)
{
	trim_end(*s, len);
	while (*len > 0 && is_blank(**s)) {
		(*s)++;
		(*len)--;
	}
}

static int
eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static int
starts(const char *s, size_t len, const char *lit)
{
	size_t	n = strlen(lit);

	return len >= n && memcmp(s, lit, n) == 0;
}

static int
is_end(const char *s, size_t len)
{
	return starts(s, len, "-----END") || starts(s, len, "---- END");
}

static int
is_begin(const char *s, size_t len)
{
	return starts(s, len, "-----BEGIN") || starts(s, len, "---- BEGIN");
}

/*
 * Next line without its LF and trailing blanks; 0 at the end of the input.
 * Leading blanks stay: they are part of an RFC 4716 continuation line.
 */
static int
cur_raw(struct cursor *c, const char **s, size_t *len)
{
	const unsigned char	*nl;
	size_t			 n, adv;

	if (c->left == 0)
		return 0;
	nl = memchr(c->p, '\n', c->left);
	n = nl == NULL ? c->left : (size_t)(nl - c->p);
	adv = nl == NULL ? n : n + 1;
	*s = (const char *)c->p;
	*len = n;
	c->p += adv;
	c->left -= adv;
	c->used += adv;
	c->nlines++;
	trim_end(*s, len);
	return 1;
}

/* Next line without its LF and outer blanks; 0 at the end of the input. */
static int
cur_next(struct cursor *c, const char **s, size_t *len)
{
	if (!cur_raw(c, s, len))
		return 0;
	trim(s, len);
	return 1;
}

/* Move past the next END line (or to the end); returns err. */
static int
skip_block(struct cursor *c, int err, char *reason, size_t reasonlen,
    const char *msg)
{
	const char	*s;
	size_t		 len;

	while (cur_next(c, &s, &len))
		if (is_end(s, len))
			break;
	return fail(reason, reasonlen, err, msg);
}

static int
body_add(struct body *b, const char *s, size_t len)
{
	if (len > sizeof(b->b64) - b->len)
		return -1;
	memcpy(b->b64 + b->len, s, len);
	b->len += len;
	return 0;
}

/* Strict decode of the joined key data into a malloc'd buffer. */
static int
body_decode(const struct body *b, unsigned char **out, size_t *outlen,
    char *reason, size_t reasonlen)
{
	size_t	cap = b->len / 4 * 3;
	long	n;

	*out = NULL;
	if (b->len == 0)
		return fail(reason, reasonlen, KE_MALFORMED, R_EMPTY);
	if (b->len % 4 != 0)
		return fail(reason, reasonlen, KE_MALFORMED, R_B64);
	if ((*out = malloc(cap)) == NULL)
		return fail(reason, reasonlen, KE_NOMEM, R_NOMEM);
	if ((n = b64_decode(b->b64, b->len, *out, cap)) <= 0) {
		free(*out);
		*out = NULL;
		return fail(reason, reasonlen, KE_MALFORMED, R_B64);
	}
	*outlen = (size_t)n;
	return 0;
}

/* [A-Za-z0-9@._-]+: what a type word read from a blob may hold. */
static int
is_type_word(const unsigned char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > KEYTYPE_MAX - 1)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '@' ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/*
 * "type base64[ comment]" for a blob, the type word being the blob's first
 * string.  *out is malloc'd.
 */
static int
make_line(const unsigned char *blob, size_t len, const char *comment,
    size_t clen, char **out, char *reason, size_t reasonlen)
{
	size_t	tl, bl, need;
	char	*l;

	*out = NULL;
	if (len < 4)
		return fail(reason, reasonlen, KE_MALFORMED, R_NOTYPE);
	tl = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
	    (size_t)blob[2] << 8 | (size_t)blob[3];
	if (tl > len - 4 || !is_type_word(blob + 4, tl))
		return fail(reason, reasonlen, KE_MALFORMED, R_NOTYPE);
	if (len > BLOB_CAP || clen > KEYFORMAT_HEADER_MAX)
		return fail(reason, reasonlen, KE_MALFORMED, R_BIG);
	need = tl + 1 + B64_ENCODED_SIZE(len) + 1 + clen;
	if ((l = malloc(need)) == NULL)
		return fail(reason, reasonlen, KE_NOMEM, R_NOMEM);
	memcpy(l, blob + 4, tl);
	l[tl] = ' ';
	bl = b64_encode(blob, len, l + tl + 1, 1);
	if (clen > 0) {
		l[tl + 1 + bl] = ' ';
		memcpy(l + tl + 2 + bl, comment, clen);
		l[tl + 2 + bl + clen] = '\0';
	}
	*out = l;
	return 0;
}

/* ---- RFC 4716 ---------------------------------------------------------- */

/* A header's tag: printable ASCII but space and ':', 1..TAG_MAX bytes. */
static int
tag_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > TAG_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == ':')
			return 0;
	return 1;
}

/* A header starts with "tag:"; base64 never holds a ':'. */
static int
is_header(const char *s, size_t len)
{
	return memchr(s, ':', len) != NULL;
}

/* Join a header and its '\' continuation lines into hdr. */
static int
join_header(struct cursor *c, const char *s, size_t len, char *hdr,
    size_t *hlen, char *reason, size_t reasonlen)
{
	int	cont;

	*hlen = 0;
	for (;;) {
		if ((cont = len > 0 && s[len - 1] == '\\'))
			len--;
		if (len > KEYFORMAT_HEADER_MAX - *hlen)
			return skip_block(c, KE_MALFORMED, reason, reasonlen,
			    R_BIGHDR);
		memcpy(hdr + *hlen, s, len);
		*hlen += len;
		if (!cont)
			return 0;
		if (!cur_raw(c, &s, &len))
			return fail(reason, reasonlen, KE_MALFORMED, R_NOEND);
		if (is_begin(s, len))
			return skip_block(c, KE_MALFORMED, reason, reasonlen,
			    R_NESTED);
		if (is_end(s, len))
			return fail(reason, reasonlen, KE_MALFORMED, R_BADHDR);
	}
}

/* One header, continuations joined; keeps the Comment. */
static int
rfc_header(struct cursor *c, const char *s, size_t len, struct rfcblock *rb,
    char *reason, size_t reasonlen)
{
	char		 hdr[KEYFORMAT_HEADER_MAX];
	const char	*v, *colon;
	size_t		 hlen, vlen, tlen;
	int		 ret;

	if ((ret = join_header(c, s, len, hdr, &hlen, reason, reasonlen)) != 0)
		return ret;
	colon = memchr(hdr, ':', hlen);
	tlen = (size_t)(colon - hdr);
	if (!tag_ok(hdr, tlen))
		return skip_block(c, KE_MALFORMED, reason, reasonlen, R_BADHDR);
	v = colon + 1;
	vlen = hlen - tlen - 1;
	trim(&v, &vlen);
	if (tlen != 7 || strncasecmp(hdr, "Comment", 7) != 0)
		return 0;		/* Subject, x-*, unknown: ignored */
	if (rb->have_comment)
		return skip_block(c, KE_MALFORMED, reason, reasonlen,
		    R_TWOCOMMENTS);
	if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
		v++;
		vlen -= 2;
	}
	memcpy(rb->comment, v, vlen);
	rb->commentlen = vlen;
	rb->have_comment = 1;
	return 0;
}

/* Headers, then key data, up to the END line. */
static int
rfc_read(struct cursor *c, struct rfcblock *rb, char *reason,
    size_t reasonlen)
{
	const char	*s;
	size_t		 len;
	int		 ret;

	while (cur_next(c, &s, &len)) {
		if (eq(s, len, RFC_END))
			return 0;
		if (is_end(s, len))
			return fail(reason, reasonlen, KE_MALFORMED, R_BADEND);
		if (is_begin(s, len))
			return skip_block(c, KE_MALFORMED, reason, reasonlen,
			    R_NESTED);
		if (len == 0)
			continue;
		if (is_header(s, len)) {
			if (rb->body.len > 0)
				return skip_block(c, KE_MALFORMED, reason,
				    reasonlen, R_LATEHDR);
			if ((ret = rfc_header(c, s, len, rb, reason,
			    reasonlen)) != 0)
				return ret;
		} else if (!b64_is_text(s, len))
			return skip_block(c, KE_MALFORMED, reason, reasonlen,
			    R_JUNK);
		else if (body_add(&rb->body, s, len) != 0)
			return skip_block(c, KE_MALFORMED, reason, reasonlen,
			    R_BIG);
	}
	return fail(reason, reasonlen, KE_MALFORMED, R_NOEND);
}

static int
rfc4716_block(struct cursor *c, char **line, char *reason, size_t reasonlen)
{
	struct rfcblock	*rb;
	unsigned char	*blob = NULL;
	size_t		 bloblen = 0;
	int		 ret;

	if ((rb = calloc(1, sizeof(*rb))) == NULL)
		return skip_block(c, KE_NOMEM, reason, reasonlen, R_NOMEM);
	if ((ret = rfc_read(c, rb, reason, reasonlen)) == 0 &&
	    (ret = body_decode(&rb->body, &blob, &bloblen, reason,
	    reasonlen)) == 0)
		ret = make_line(blob, bloblen, rb->comment, rb->commentlen,
		    line, reason, reasonlen);
	free(blob);
	free(rb);
	return ret;
}

/* ---- the SSH wire blob ------------------------------------------------- */

static int
put(struct wbuf *w, const void *p, size_t len)
{
	if (len > w->cap - w->n)
		return -1;
	memcpy(w->b + w->n, p, len);
	w->n += len;
	return 0;
}

static int
put_str(struct wbuf *w, const void *p, size_t len)
{
	unsigned char	l[4];

	if (len > UINT32_MAX)
		return -1;
	l[0] = (unsigned char)(len >> 24);
	l[1] = (unsigned char)(len >> 16);
	l[2] = (unsigned char)(len >> 8);
	l[3] = (unsigned char)len;
	return put(w, l, 4) == 0 ? put(w, p, len) : -1;
}

static int
put_cstr(struct wbuf *w, const char *s)
{
	return put_str(w, s, strlen(s));
}

/* A non-negative BIGNUM as an SSH mpint (zero is the empty string). */
static int
put_mpint(struct wbuf *w, const BIGNUM *bn)
{
	unsigned char	buf[BLOB_CAP];
	int		nb = BN_num_bytes(bn);
	size_t		pad;

	if (nb < 0 || (size_t)nb >= sizeof(buf))
		return -1;
	pad = nb > 0 && BN_num_bits(bn) % 8 == 0;
	buf[0] = 0;
	if (BN_bn2bin(bn, buf + pad) != nb)
		return -1;
	return put_str(w, buf, (size_t)nb + pad);
}

/*
 * Is der exactly what OpenSSL writes back (relen bytes at re, which this
 * frees)?  OpenSSL's decoders also take BER (indefinite or long-form
 * lengths) and read a negative INTEGER's bytes as a magnitude; only DER
 * that re-encodes byte for byte is accepted.
 */
static int
der_same(const unsigned char *der, size_t len, int relen, unsigned char *re)
{
	int	same;

	same = relen > 0 && (size_t)relen == len && memcmp(der, re, len) == 0;
	OPENSSL_free(re);
	return same;
}

/* PKCS#1 RSAPublicKey DER to "ssh-rsa" e n. */
static int
rsa_blob(const unsigned char *der, size_t len, struct wbuf *w, char *reason,
    size_t reasonlen)
{
	const unsigned char	*p = der;
	unsigned char		*re = NULL;
	EVP_PKEY		*pk = NULL;
	BIGNUM			*e = NULL, *n = NULL;
	int			 relen, ret;

	if (len > LONG_MAX ||
	    (pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len)) == NULL ||
	    p != der + len ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1) {
		ret = ossl_fail(reason, reasonlen, KE_MALFORMED, R_PKCS1);
		goto out;
	}
	relen = i2d_PublicKey(pk, &re);		/* sets re */
	if (!der_same(der, len, relen, re)) {
		ret = fail(reason, reasonlen, KE_MALFORMED, R_NOT_DER);
		goto out;
	}
	if (BN_is_negative(e) || BN_is_negative(n)) {
		ret = fail(reason, reasonlen, KE_MALFORMED, R_NEGATIVE);
		goto out;
	}
	if (put_cstr(w, "ssh-rsa") != 0 || put_mpint(w, e) != 0 ||
	    put_mpint(w, n) != 0) {
		ret = fail(reason, reasonlen, KE_MALFORMED, R_BIG);
		goto out;
	}
	ret = 0;
out:
	BN_free(e);
	BN_free(n);
	EVP_PKEY_free(pk);
	return ret;
}

/* id-ecPublicKey: the named curve, then "ecdsa-sha2-nistpN" "nistpN" Q. */
static int
ec_blob(const X509_ALGOR *alg, const unsigned char *pt, size_t len,
    struct wbuf *w, char *reason, size_t reasonlen)
{
	const ASN1_OBJECT	*obj;
	const void		*pval;
	char			 type[32];
	int			 ptype, nid;
	size_t			 i;

	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	if (ptype == V_ASN1_SEQUENCE)
		return fail(reason, reasonlen, KE_POLICY, R_EXPLICIT);
	if (ptype != V_ASN1_OBJECT || pval == NULL)
		return fail(reason, reasonlen, KE_MALFORMED, R_NOCURVE);
	nid = OBJ_obj2nid(pval);
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].nid == nid)
			break;
	if (i == sizeof(curves) / sizeof(curves[0]))
		return fail(reason, reasonlen, KE_POLICY, R_CURVE);
	(void)snprintf(type, sizeof(type), "ecdsa-sha2-%s", curves[i].curve);
	if (put_cstr(w, type) != 0 || put_cstr(w, curves[i].curve) != 0 ||
	    put_str(w, pt, len) != 0)
		return fail(reason, reasonlen, KE_MALFORMED, R_BIG);
	return 0;
}

static int
ed25519_blob(const unsigned char *pk, size_t len, struct wbuf *w,
    char *reason, size_t reasonlen)
{
	if (len != ED25519_LEN)
		return fail(reason, reasonlen, KE_MALFORMED, R_ED25519);
	if (put_cstr(w, "ssh-ed25519") != 0 || put_str(w, pk, len) != 0)
		return fail(reason, reasonlen, KE_INTERNAL, R_INTERNAL);
	return 0;
}

static int
unsupported_alg(int nid, char *reason, size_t reasonlen)
{
	size_t	i;

	for (i = 0; i < sizeof(foreign_algs) / sizeof(foreign_algs[0]); i++)
		if (foreign_algs[i].nid == nid) {
			if (reason != NULL && reasonlen > 0)
				(void)snprintf(reason, reasonlen,
				    "unsupported key algorithm %s; ask for an "
				    "Ed25519, ECDSA or RSA key",
				    foreign_algs[i].name);
			return KE_POLICY;
		}
	return fail(reason, reasonlen, KE_POLICY, R_ALG);
}

/* SubjectPublicKeyInfo DER to an SSH blob. */
static int
spki_blob(const unsigned char *der, size_t len, struct wbuf *w, char *reason,
    size_t reasonlen)
{
	const unsigned char	*p = der, *pk;
	unsigned char		*re = NULL;
	X509_PUBKEY		*xp = NULL;
	ASN1_OBJECT		*obj;
	X509_ALGOR		*alg;
	int			 pklen, relen, ret;

	if (len > LONG_MAX ||
	    (xp = d2i_X509_PUBKEY(NULL, &p, (long)len)) == NULL ||
	    p != der + len ||
	    X509_PUBKEY_get0_param(&obj, &pk, &pklen, &alg, xp) != 1 ||
	    pklen < 0) {
		ret = ossl_fail(reason, reasonlen, KE_MALFORMED, R_SPKI);
		goto out;
	}
	relen = i2d_X509_PUBKEY(xp, &re);	/* sets re */
	if (!der_same(der, len, relen, re)) {
		ret = fail(reason, reasonlen, KE_MALFORMED, R_NOT_DER);
		goto out;
	}
	switch (OBJ_obj2nid(obj)) {
	case NID_rsaEncryption:
		ret = rsa_blob(pk, (size_t)pklen, w, reason, reasonlen);
		break;
	case NID_X9_62_id_ecPublicKey:
		ret = ec_blob(alg, pk, (size_t)pklen, w, reason, reasonlen);
		break;
	case NID_ED25519:
		ret = ed25519_blob(pk, (size_t)pklen, w, reason, reasonlen);
		break;
	default:
		ret = unsupported_alg(OBJ_obj2nid(obj), reason, reasonlen);
		break;
	}
out:
	X509_PUBKEY_free(xp);
	ERR_clear_error();
	return ret;
}

/* ---- PEM --------------------------------------------------------------- */

/* Base64 lines up to the END line named end. */
static int
pem_read(struct cursor *c, const char *end, struct body *b, char *reason,
    size_t reasonlen)
{
	const char	*s;
	size_t		 len;

	while (cur_next(c, &s, &len)) {
		if (eq(s, len, end))
			return 0;
		if (is_end(s, len))
			return fail(reason, reasonlen, KE_MALFORMED, R_BADEND);
		if (is_begin(s, len))
			return skip_block(c, KE_MALFORMED, reason, reasonlen,
			    R_NESTED);
		if (len == 0)
			continue;
		if (!b64_is_text(s, len))
			return skip_block(c, KE_MALFORMED, reason, reasonlen,
			    R_JUNK);
		if (body_add(b, s, len) != 0)
			return skip_block(c, KE_MALFORMED, reason, reasonlen,
			    R_BIG);
	}
	return fail(reason, reasonlen, KE_MALFORMED, R_NOEND);
}

static int
pem_block(struct cursor *c, enum keyblock kb, char **line, char *reason,
    size_t reasonlen)
{
	struct body	*b;
	struct wbuf	 w = { NULL, 0, BLOB_CAP };
	unsigned char	*der = NULL;
	size_t		 derlen = 0;
	int		 ret;

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (w.b = malloc(w.cap)) == NULL) {
		free(b);
		return skip_block(c, KE_NOMEM, reason, reasonlen, R_NOMEM);
	}
	if ((ret = pem_read(c, kb == KB_SPKI ? SPKI_END : PKCS1_END, b,
	    reason, reasonlen)) != 0 ||
	    (ret = body_decode(b, &der, &derlen, reason, reasonlen)) != 0)
		goto out;
	if (kb == KB_SPKI)
		ret = spki_blob(der, derlen, &w, reason, reasonlen);
	else
		ret = rsa_blob(der, derlen, &w, reason, reasonlen);
	if (ret == 0)
		ret = make_line(w.b, w.n, NULL, 0, line, reason, reasonlen);
out:
	free(der);
	free(w.b);
	free(b);
	return ret;
}

/* Certificates, requests and anything else: refused, skipped whole. */
static int
other_block(struct cursor *c, const char *begin, size_t len, char *reason,
    size_t reasonlen)
{
	static const char	cert[] = "CERTIFICATE";

	if (memmem(begin, len, cert, sizeof(cert) - 1) != NULL)
		return skip_block(c, KE_MALFORMED, reason, reasonlen, R_CERT);
	return skip_block(c, KE_MALFORMED, reason, reasonlen, R_OTHER);
}

/* ---- interface --------------------------------------------------------- */

enum keyblock
keyformat_begins(const char *line, size_t len)
{
	if (line == NULL)
		return KB_NONE;
	trim(&line, &len);
	if (eq(line, len, RFC_BEGIN))
		return KB_RFC4716;
	if (eq(line, len, SPKI_BEGIN))
		return KB_SPKI;
	if (eq(line, len, PKCS1_BEGIN))
		return KB_PKCS1;
	if (starts(line, len, "-----BEGIN "))
		return KB_OTHER_PEM;
	if (starts(line, len, "---- BEGIN "))
		return KB_OTHER_SSH2;
	return KB_NONE;
}

enum keyformat
keyformat_of(enum keyblock kb)
{
	switch (kb) {
	case KB_RFC4716:
	case KB_OTHER_SSH2:
		return KF_RFC4716;
	case KB_PKCS1:
		return KF_PKCS1;
	case KB_SPKI:
	case KB_OTHER_PEM:
		return KF_SPKI;
	case KB_NONE:
	default:
		return KF_OPENSSH;
	}
}

int
keyformat_block(const unsigned char *buf, size_t len, size_t *used,
    size_t *nlines, char **line, char *reason, size_t reasonlen)
{
	struct cursor	 c = { buf, len, 0, 0 };
	const char	*s;
	size_t		 slen;
	enum keyblock	 kb = KB_NONE;
	int		 ret;

	if (used == NULL || nlines == NULL || line == NULL)
		return fail(reason, reasonlen, KE_INTERNAL, R_INTERNAL);
	*line = NULL;
	if (buf == NULL || !cur_next(&c, &s, &slen) ||
	    (kb = keyformat_begins(s, slen)) == KB_NONE)
		ret = fail(reason, reasonlen, KE_INTERNAL, R_INTERNAL);
	else if (kb == KB_RFC4716)
		ret = rfc4716_block(&c, line, reason, reasonlen);
	else if (kb == KB_SPKI || kb == KB_PKCS1)
		ret = pem_block(&c, kb, line, reason, reasonlen);
	else
		ret = other_block(&c, s, slen, reason, reasonlen);
	*used = c.used;
	*nlines = c.nlines;
	return ret;
}
