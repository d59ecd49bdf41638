/*
 * test_keyparse.c -- keyparse and b64: every invariant listed at the top of
 * src/keyparse.c and src/b64.c has a test here.
 *
 * Good keys come from OpenSSH's own vectors ($KEYADM_VECTORS) and from
 * ssh-keygen at test time; bad keys are crafted blobs, one per rule.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* nftw, mkdtemp */
#endif

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "b64.h"
#include "err.h"
#include "keyparse.h"

#define VECTORS_DEFAULT	"/work/shared/vectors"
#define R_PRIVATE	"this is a private key: the user must make a new " \
			"key pair and send only the .pub file"
#define R_OPTIONS	"authorized_keys options are not accepted in a " \
			"submission; only the administrator sets options"
#define R_CERT		"certificate: submit id_xxx.pub, not id_xxx-cert.pub"

/* ---- helpers ---------------------------------------------------------- */

static void
suite_init(void)
{
	cr_assert_eq(keyparse_init(), 0);
}

static void
suite_fini(void)
{
	keyparse_fini();
}

TestSuite(keyparse, .init = suite_init, .fini = suite_fini);

static const char *
vectors_dir(void)
{
	const char	*v = getenv("KEYADM_VECTORS");

	return v != NULL && *v != '\0' ? v : VECTORS_DEFAULT;
}

/* Whole file into a NUL-terminated malloc'd buffer. */
static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	long	 sz;

	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	cr_assert_geq(sz, 0);
	rewind(f);
	buf = malloc((size_t)sz + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	buf[sz] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)sz;
	return buf;
}

static char *
vector_text(const char *name)
{
	char	path[512];

	snprintf(path, sizeof(path), "%s/openssh-sshkey/%s", vectors_dir(),
	    name);
	return slurp(path, NULL);
}

/* Parse one line; returns the error and fills reason. */
static int
parse(const char *line, struct pubkey **k, char *reason)
{
	return keyparse_line(line, strlen(line), k, reason,
	    KEYPARSE_REASON_MAX);
}

static struct pubkey *
vector_key(const char *name)
{
	struct pubkey	*k = NULL;
	char		 reason[KEYPARSE_REASON_MAX];
	char		*text = vector_text(name);
	int		 r;

	r = parse(text, &k, reason);
	cr_assert_eq(r, 0, "%s: %s", name, reason);
	free(text);
	return k;
}

static void
expect_line(const char *line, int err, const char *why)
{
	struct pubkey	*k = (struct pubkey *)0x1;
	char		 reason[KEYPARSE_REASON_MAX];
	int		 r;

	r = parse(line, &k, reason);
	cr_assert_eq(r, err, "got %d (%s), want %d (%s)", r, reason, err,
	    why);
	cr_assert_null(k);
	cr_assert_str_eq(reason, why);
}

/* An SSH wire-format writer for crafted blobs. */
struct wbuf {
	unsigned char	b[16384];
	size_t		n;
};

static void
put_bytes(struct wbuf *w, const void *p, size_t len)
{
	cr_assert_leq(w->n + len, sizeof(w->b));
	memcpy(w->b + w->n, p, len);
	w->n += len;
}

static void
put_u32(struct wbuf *w, uint32_t v)
{
	unsigned char	b[4] = { (unsigned char)(v >> 24),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 8),
	    (unsigned char)v };

	put_bytes(w, b, 4);
}

static void
put_str(struct wbuf *w, const void *p, size_t len)
{
	put_u32(w, (uint32_t)len);
	put_bytes(w, p, len);
}

static void
put_cstr(struct wbuf *w, const char *s)
{
	put_str(w, s, strlen(s));
}

/* "type base64(blob) crafted" into a malloc'd line. */
static char *
blob_line(const char *type, const unsigned char *blob, size_t len)
{
	char	*line;
	size_t	 tl = strlen(type);

	line = malloc(tl + 1 + B64_ENCODED_SIZE(len) + 16);
	cr_assert_not_null(line);
	memcpy(line, type, tl);
	line[tl] = ' ';
	b64_encode(blob, len, line + tl + 1, 1);
	strcat(line, " crafted");
	return line;
}

static void
expect_blob(const char *type, const struct wbuf *w, int err, const char *why)
{
	char	*line = blob_line(type, w->b, w->n);

	expect_line(line, err, why);
	free(line);
}

/* A point on a curve (k * G for a small k), in the given form. */
static size_t
ec_point(int nid, point_conversion_form_t form, unsigned char *out,
    size_t cap)
{
	EC_GROUP	*g = EC_GROUP_new_by_curve_name(nid);
	EC_POINT	*p;
	BIGNUM		*k = BN_new();
	size_t		 n;

	cr_assert(g != NULL && k != NULL);
	p = EC_POINT_new(g);
	cr_assert_not_null(p);
	cr_assert_eq(BN_set_word(k, 123457), 1);
	cr_assert_eq(EC_POINT_mul(g, p, k, NULL, NULL, NULL), 1);
	n = EC_POINT_point2oct(g, p, form, out, cap, NULL);
	cr_assert_gt(n, 0);
	EC_POINT_free(p);
	EC_GROUP_free(g);
	BN_free(k);
	return n;
}

/* The parts of ed25519_1 and rsa_1 that crafted blobs reuse. */
static void
ed25519_raw(unsigned char pk[32])
{
	struct pubkey	*k = vector_key("ed25519_1.pub");

	cr_assert_eq(k->bloblen, 4 + 11 + 4 + 32);
	memcpy(pk, k->blob + 19, 32);
	pubkey_free(k);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
make_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/test_keyparse.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
remove_tmpdir(const char *dir)
{
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void
run(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "command failed: %s", cmd);
}

/* ---- OpenSSH's vectors ------------------------------------------------ */

static const struct {
	const char	*prefix;
	unsigned int	 bits;
	const char	*label;
} vector_bits[] = {
	{ "rsa_1", 1024, "RSA" },	/* also rsa_1_sha1, rsa_1_sha512 */
	{ "rsa_2", 2048, "RSA" },
	{ "dsa_1", 1024, "DSA" },
	{ "dsa_2", 1024, "DSA" },
	{ "ecdsa_1", 256, "ECDSA" },
	{ "ecdsa_2", 521, "ECDSA" },
	{ "ed25519_1", 256, "ED25519" },
	{ "ed25519_2", 256, "ED25519" },
	{ "ecdsa_sk1", 256, "ECDSA-SK" },
	{ "ecdsa_sk2", 256, "ECDSA-SK" },
	{ "ed25519_sk1", 256, "ED25519-SK" },
	{ "ed25519_sk2", 256, "ED25519-SK" },
};

static int
has_suffix(const char *s, const char *suf)
{
	size_t	sl = strlen(s), fl = strlen(suf);

	return sl >= fl && strcmp(s + sl - fl, suf) == 0;
}

/* Check one plain vector key; returns 1 if it was checked. */
static int
check_vector(const char *name)
{
	struct pubkey	*k;
	char		 base[300], fpname[320], *fp;
	size_t		 i, bl;

	snprintf(base, sizeof(base), "%s", name);
	base[strlen(base) - 4] = '\0';			/* ".pub" */
	if ((bl = strlen(base)) > 5 && has_suffix(base, "_sha1"))
		base[bl - 5] = '\0';			/* same key */
	else if (bl > 7 && has_suffix(base, "_sha512"))
		base[bl - 7] = '\0';
	for (i = 0; i < sizeof(vector_bits) / sizeof(vector_bits[0]); i++)
		if (strcmp(base, vector_bits[i].prefix) == 0)
			break;
	cr_assert_lt(i, sizeof(vector_bits) / sizeof(vector_bits[0]),
	    "vector %s is not in the table", name);
	k = vector_key(name);
	snprintf(fpname, sizeof(fpname), "%s.fp", base);
	fp = vector_text(fpname);
	fp[strcspn(fp, "\r\n")] = '\0';
	cr_assert_str_eq(k->fingerprint, fp, "%s", name);
	cr_assert_eq(k->bits, vector_bits[i].bits, "%s", name);
	cr_assert_str_eq(keyparse_type_label(k->type), vector_bits[i].label);
	free(fp);
	pubkey_free(k);
	return 1;
}

Test(keyparse, openssh_vectors_fingerprint_and_bits_match)
{
	char		 dir[512];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	snprintf(dir, sizeof(dir), "%s/openssh-sshkey", vectors_dir());
	cr_assert_not_null(d = opendir(dir), "no vectors at %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name, ".pub") ||
		    has_suffix(de->d_name, ".param.pub") ||
		    has_suffix(de->d_name, "-cert.pub") ||
		    strncmp(de->d_name, "mldsa44", 7) == 0)
			continue;
		n += check_vector(de->d_name);
	}
	closedir(d);
	cr_assert_geq(n, 14, "only %d vectors checked", n);
}

Test(keyparse, openssh_vector_certificates_are_refused)
{
	char		 dir[512], *text;
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	snprintf(dir, sizeof(dir), "%s/openssh-sshkey", vectors_dir());
	cr_assert_not_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name, "-cert.pub"))
			continue;
		text = vector_text(de->d_name);
		expect_line(text, KE_POLICY, R_CERT);
		free(text);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 8);
}

Test(keyparse, mldsa44_is_unsupported)
{
	char	*text = vector_text("mldsa44_ed25519_1.pub");

	expect_line(text, KE_POLICY,
	    "unsupported key type ssh-mldsa44-ed25519@openssh.com");
	free(text);
	text = vector_text("mldsa44_ed25519_2.pub");
	expect_line(text, KE_POLICY,
	    "unsupported key type ssh-mldsa44-ed25519@openssh.com");
	free(text);
}

Test(keyparse, fills_every_pubkey_field)
{
	struct pubkey	*k = vector_key("rsa_1.pub");
	char		*text = vector_text("rsa_1.pub");
	char		*b64 = strchr(text, ' ') + 1;

	*strchr(b64, ' ') = '\0';
	cr_assert_eq(k->type, KT_RSA);
	cr_assert_str_eq(k->typename, "ssh-rsa");
	cr_assert_str_eq(k->b64, b64);
	cr_assert_str_eq(k->comment, "RSA test key #1");
	cr_assert(k->rsa_n > k->blob && k->rsa_n + k->rsa_nlen ==
	    k->blob + k->bloblen);
	cr_assert_eq(k->rsa_nlen, 128);
	cr_assert_neq(k->rsa_n[0], 0);
	cr_assert_eq(k->rsa_elen, 3);
	cr_assert_eq(memcmp(k->rsa_e, "\x01\x00\x01", 3), 0);
	cr_assert_null(k->sk_app);
	free(text);
	pubkey_free(k);
}

Test(keyparse, sk_keys_expose_application)
{
	struct pubkey	*k = vector_key("ed25519_sk1.pub");

	cr_assert_eq(k->sk_applen, 4);
	cr_assert_eq(memcmp(k->sk_app, "ssh:", 4), 0);
	pubkey_free(k);
	k = vector_key("ecdsa_sk1.pub");
	cr_assert_eq(k->sk_applen, 4);
	cr_assert_eq(memcmp(k->sk_app, "ssh:", 4), 0);
	pubkey_free(k);
}

Test(keyparse, type_labels_match_ssh_keygen)
{
	cr_assert_str_eq(keyparse_type_label(KT_RSA), "RSA");
	cr_assert_str_eq(keyparse_type_label(KT_DSS), "DSA");
	cr_assert_str_eq(keyparse_type_label(KT_ECDSA_P256), "ECDSA");
	cr_assert_str_eq(keyparse_type_label(KT_ECDSA_P384), "ECDSA");
	cr_assert_str_eq(keyparse_type_label(KT_ECDSA_P521), "ECDSA");
	cr_assert_str_eq(keyparse_type_label(KT_ED25519), "ED25519");
	cr_assert_str_eq(keyparse_type_label(KT_SK_ECDSA), "ECDSA-SK");
	cr_assert_str_eq(keyparse_type_label(KT_SK_ED25519), "ED25519-SK");
}

Test(keyparse, fingerprint_refuses_small_buffer)
{
	char	out[50];

	cr_assert_eq(keyparse_fingerprint((const unsigned char *)"x", 1, out,
	    sizeof(out)), KE_INTERNAL);
}

/* ---- keys made by ssh-keygen now -------------------------------------- */

struct genparam {
	char		type[16];
	unsigned int	bits;
	char		label[16];
};

ParameterizedTestParameters(keyparse, generated_keys_match_ssh_keygen)
{
	static struct genparam p[] = {
		{ "rsa", 2048, "RSA" }, { "rsa", 3072, "RSA" },
		{ "rsa", 4096, "RSA" }, { "ecdsa", 256, "ECDSA" },
		{ "ecdsa", 384, "ECDSA" }, { "ecdsa", 521, "ECDSA" },
		{ "ed25519", 256, "ED25519" },
	};

	return cr_make_param_array(struct genparam, p,
	    sizeof(p) / sizeof(p[0]));
}

ParameterizedTest(struct genparam *p, keyparse,
    generated_keys_match_ssh_keygen)
{
	char		 dir[64], cmd[512], line[512], want[512], *text;
	struct pubkey	*k = NULL;
	char		 reason[KEYPARSE_REASON_MAX];
	FILE		*f;

	make_tmpdir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t %s -b %u -N '' "
	    "-C 'made by test' -f %s/k", p->type, p->bits, dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -l -f %s/k.pub", dir);
	cr_assert_not_null(f = popen(cmd, "r"));
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_assert_eq(pclose(f), 0);
	line[strcspn(line, "\n")] = '\0';
	snprintf(cmd, sizeof(cmd), "%s/k.pub", dir);
	text = slurp(cmd, NULL);
	cr_assert_eq(parse(text, &k, reason), 0, "%s", reason);
	snprintf(want, sizeof(want), "%u %s %s (%s)", k->bits,
	    k->fingerprint, k->comment, keyparse_type_label(k->type));
	cr_assert_str_eq(want, line);
	cr_assert_eq(k->bits, p->bits);
	cr_assert_str_eq(keyparse_type_label(k->type), p->label);
	pubkey_free(k);
	free(text);
	remove_tmpdir(dir);
}

/* ---- the blob reader, one rule per test ------------------------------- */

Test(keyparse, refuses_ed25519_blob_declared_ssh_rsa)
{
	struct pubkey	*k = vector_key("ed25519_1.pub");
	char		*line = blob_line("ssh-rsa", k->blob, k->bloblen);

	expect_line(line, KE_MALFORMED,
	    "key type word does not match the key inside");
	free(line);
	pubkey_free(k);
}

Test(keyparse, refuses_rsa_blob_declared_ssh_ed25519)
{
	struct pubkey	*k = vector_key("rsa_2.pub");
	char		*line = blob_line("ssh-ed25519", k->blob, k->bloblen);

	expect_line(line, KE_MALFORMED,
	    "key type word does not match the key inside");
	free(line);
	pubkey_free(k);
}

Test(keyparse, refuses_certificate_blob_declared_ssh_ed25519)
{
	char	*text = vector_text("ed25519_1-cert.pub");
	char	*b64 = strchr(text, ' ');
	char	 line[4096];

	snprintf(line, sizeof(line), "ssh-ed25519%s", b64);
	expect_line(line, KE_MALFORMED,
	    "key type word does not match the key inside");
	free(text);
}

Test(keyparse, refuses_sk_blob_declared_ssh_ed25519)
{
	struct pubkey	*k = vector_key("ed25519_sk1.pub");
	char		*line = blob_line("ssh-ed25519", k->blob, k->bloblen);

	expect_line(line, KE_MALFORMED,
	    "key type word does not match the key inside");
	free(line);
	pubkey_free(k);
}

Test(keyparse, refuses_p384_blob_declared_nistp256)
{
	struct wbuf	w = { .n = 0 };
	unsigned char	pt[256];
	size_t		n = ec_point(NID_secp384r1,
	    POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt));

	/* The whole P-384 key under the P-256 type word. */
	put_cstr(&w, "ecdsa-sha2-nistp384");
	put_cstr(&w, "nistp384");
	put_str(&w, pt, n);
	expect_blob("ecdsa-sha2-nistp256", &w, KE_MALFORMED,
	    "key type word does not match the key inside");
	/* The curve lie libssh does not catch: type says 256, curve 384. */
	w.n = 0;
	put_cstr(&w, "ecdsa-sha2-nistp256");
	put_cstr(&w, "nistp384");
	put_str(&w, pt, n);
	expect_blob("ecdsa-sha2-nistp256", &w, KE_MALFORMED,
	    "EC curve name does not match the key type");
}

Test(keyparse, accepts_crafted_p384_key)
{
	struct wbuf	 w = { .n = 0 };
	unsigned char	 pt[256];
	size_t		 n = ec_point(NID_secp384r1,
	    POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt));
	char		*line, reason[KEYPARSE_REASON_MAX];
	struct pubkey	*k = NULL;

	put_cstr(&w, "ecdsa-sha2-nistp384");
	put_cstr(&w, "nistp384");
	put_str(&w, pt, n);
	line = blob_line("ecdsa-sha2-nistp384", w.b, w.n);
	cr_assert_eq(parse(line, &k, reason), 0, "%s", reason);
	cr_assert_eq(k->type, KT_ECDSA_P384);
	cr_assert_eq(k->bits, 384);
	pubkey_free(k);
	free(line);
}

Test(keyparse, refuses_compressed_ec_point)
{
	struct wbuf	w = { .n = 0 };
	unsigned char	pt[256];
	size_t		n = ec_point(NID_X9_62_prime256v1,
	    POINT_CONVERSION_COMPRESSED, pt, sizeof(pt));

	cr_assert_eq(n, 33);
	put_cstr(&w, "ecdsa-sha2-nistp256");
	put_cstr(&w, "nistp256");
	put_str(&w, pt, n);
	expect_blob("ecdsa-sha2-nistp256", &w, KE_MALFORMED,
	    "EC point is compressed; only uncompressed is accepted");
}

Test(keyparse, refuses_ec_point_of_wrong_length)
{
	struct wbuf	w = { .n = 0 };
	unsigned char	pt[256];
	size_t		n = ec_point(NID_X9_62_prime256v1,
	    POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt));

	put_cstr(&w, "ecdsa-sha2-nistp256");
	put_cstr(&w, "nistp256");
	put_str(&w, pt, n - 1);
	expect_blob("ecdsa-sha2-nistp256", &w, KE_MALFORMED,
	    "EC point has the wrong length for its curve");
}

Test(keyparse, refuses_ec_point_not_on_curve)
{
	struct wbuf	w = { .n = 0 };
	unsigned char	pt[256];
	size_t		n = ec_point(NID_X9_62_prime256v1,
	    POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt));

	pt[n - 1] ^= 0x01;
	put_cstr(&w, "ecdsa-sha2-nistp256");
	put_cstr(&w, "nistp256");
	put_str(&w, pt, n);
	expect_blob("ecdsa-sha2-nistp256", &w, KE_MALFORMED,
	    "EC point is not on the curve");
	/* The same lie in a security-key blob. */
	w.n = 0;
	put_cstr(&w, "sk-ecdsa-sha2-nistp256@openssh.com");
	put_cstr(&w, "nistp256");
	put_str(&w, pt, n);
	put_cstr(&w, "ssh:");
	expect_blob("sk-ecdsa-sha2-nistp256@openssh.com", &w, KE_MALFORMED,
	    "EC point is not on the curve");
}

Test(keyparse, refuses_ec_point_with_coordinate_above_p)
{
	struct wbuf	w = { .n = 0 };
	unsigned char	pt[65];

	memset(pt, 0xff, sizeof(pt));
	pt[0] = 0x04;
	put_cstr(&w, "ecdsa-sha2-nistp256");
	put_cstr(&w, "nistp256");
	put_str(&w, pt, sizeof(pt));
	expect_blob("ecdsa-sha2-nistp256", &w, KE_MALFORMED,
	    "EC point is not on the curve");
}

Test(keyparse, refuses_ed25519_of_31_bytes)
{
	struct wbuf	w = { .n = 0 };
	unsigned char	pk[32];

	ed25519_raw(pk);
	put_cstr(&w, "ssh-ed25519");
	put_str(&w, pk, 31);
	expect_blob("ssh-ed25519", &w, KE_MALFORMED,
	    "Ed25519 key is not 32 bytes");
}

Test(keyparse, refuses_ed25519_of_33_bytes)
{
	struct wbuf	w = { .n = 0 };
	unsigned char	pk[33];

	ed25519_raw(pk);
	pk[32] = 0;
	put_cstr(&w, "ssh-ed25519");
	put_str(&w, pk, 33);
	expect_blob("ssh-ed25519", &w, KE_MALFORMED,
	    "Ed25519 key is not 32 bytes");
}

/* ssh-rsa blob with e and n as given (raw mpint bodies). */
static void
rsa_blob(struct wbuf *w, const void *e, size_t elen, const void *n,
    size_t nlen)
{
	w->n = 0;
	put_cstr(w, "ssh-rsa");
	put_str(w, e, elen);
	put_str(w, n, nlen);
}

Test(keyparse, refuses_mpint_with_extra_leading_zero)
{
	struct pubkey	*k = vector_key("rsa_2.pub");
	struct wbuf	 w;
	unsigned char	 n[1024];

	n[0] = 0;
	memcpy(n + 1, k->rsa_n, k->rsa_nlen);
	/* e = 00 01 00 01: the top bit of 01 is clear, the zero is extra. */
	rsa_blob(&w, "\x00\x01\x00\x01", 4, n, k->rsa_nlen + 1);
	expect_blob("ssh-rsa", &w, KE_MALFORMED,
	    "an integer in the key has a needless leading zero");
	/* n = 00 00 <n>. */
	memmove(n + 1, n, k->rsa_nlen + 1);
	rsa_blob(&w, "\x01\x00\x01", 3, n, k->rsa_nlen + 2);
	expect_blob("ssh-rsa", &w, KE_MALFORMED,
	    "an integer in the key has a needless leading zero");
	pubkey_free(k);
}

Test(keyparse, refuses_negative_mpint)
{
	struct pubkey	*k = vector_key("rsa_2.pub");
	struct wbuf	 w;

	cr_assert(k->rsa_n[0] & 0x80);
	/* n without its sign byte reads as negative. */
	rsa_blob(&w, "\x01\x00\x01", 3, k->rsa_n, k->rsa_nlen);
	expect_blob("ssh-rsa", &w, KE_MALFORMED,
	    "an integer in the key is negative");
	pubkey_free(k);
}

Test(keyparse, refuses_zero_length_modulus)
{
	struct wbuf	w;

	rsa_blob(&w, "\x01\x00\x01", 3, "", 0);
	expect_blob("ssh-rsa", &w, KE_MALFORMED,
	    "an integer in the key is zero");
}

Test(keyparse, refuses_negative_dss_parameter)
{
	struct pubkey	*k = vector_key("dsa_1.pub");
	struct wbuf	 w = { .n = 0 };

	/* p is the first mpint after the 4+7 byte type: flip its sign. */
	put_bytes(&w, k->blob, k->bloblen);
	cr_assert_eq(w.b[15], 0x00);
	cr_assert(w.b[16] & 0x80);
	w.b[15] = 0x80;
	expect_blob("ssh-dss", &w, KE_MALFORMED,
	    "an integer in the key is negative");
	pubkey_free(k);
}

Test(keyparse, refuses_trailing_blob_bytes)
{
	static const char *const names[] = { "ed25519_1.pub", "rsa_1.pub",
	    "ecdsa_1.pub", "dsa_1.pub", "ed25519_sk1.pub", "ecdsa_sk1.pub" };
	struct pubkey	*k;
	struct wbuf	 w;
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		k = vector_key(names[i]);
		w.n = 0;
		put_bytes(&w, k->blob, k->bloblen);
		put_bytes(&w, "\0", 1);
		expect_blob(k->typename, &w, KE_MALFORMED,
		    "trailing bytes after the key");
		pubkey_free(k);
	}
}

Test(keyparse, refuses_truncated_blob)
{
	struct wbuf	w = { .n = 0 };

	put_cstr(&w, "ssh-ed25519");
	expect_blob("ssh-ed25519", &w, KE_MALFORMED, "key data is truncated");
	put_bytes(&w, "\0\0", 2);	/* half a length field */
	expect_blob("ssh-ed25519", &w, KE_MALFORMED, "key data is truncated");
}

Test(keyparse, refuses_length_past_end)
{
	struct wbuf	w = { .n = 0 };
	unsigned char	pk[32];

	ed25519_raw(pk);
	put_cstr(&w, "ssh-ed25519");
	put_u32(&w, 32);
	put_bytes(&w, pk, 16);
	expect_blob("ssh-ed25519", &w, KE_MALFORMED,
	    "a length field points past the end of the key data");
	w.n = 0;
	put_u32(&w, 0xffffffffU);
	put_bytes(&w, "ssh-ed25519", 11);
	expect_blob("ssh-ed25519", &w, KE_MALFORMED,
	    "a length field points past the end of the key data");
}

Test(keyparse, refuses_sk_blob_without_application)
{
	struct pubkey	*k = vector_key("ed25519_sk1.pub");
	struct wbuf	 w = { .n = 0 };

	put_bytes(&w, k->blob, k->bloblen - 8);		/* drop "ssh:" */
	expect_blob(k->typename, &w, KE_MALFORMED, "key data is truncated");
	pubkey_free(k);
}

/* ---- lexical rules ---------------------------------------------------- */

Test(keyparse, refuses_bare_type_word)
{
	expect_line("ssh-ed25519", KE_MALFORMED,
	    "no key data after the key type");
	expect_line("ssh-rsa   \t\r\n", KE_MALFORMED,
	    "no key data after the key type");
}

Test(keyparse, refuses_bad_base64)
{
	static const char *const bad[] = {
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5!AAAI",	/* bad char */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAA",		/* no pad */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AA=A",		/* pad inside */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AB==",		/* pad bits */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAA-",		/* url-safe */
		"ssh-ed25519 ====",
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_line(bad[i], KE_MALFORMED,
		    "key data is not valid base64");
}

Test(keyparse, refuses_control_character_in_comment)
{
	char	*text = vector_text("ed25519_1.pub");
	char	 line[512];
	size_t	 i;
	static const char *const tails[] = { "\x01", "\x7f", "\xc2\x85",
	    "a\tb", "\xe2\x80\xae" /* RLO */, "x\ry",
	    "\xe2\x80\x8e" /* LRM */, "\xe2\x80\x8f" /* RLM */,
	    "\xd8\x9c" /* ALM */, "\xe2\x80\x8b" /* ZWSP */,
	    "\xef\xbb\xbf" /* BOM */, "\xe2\x81\xa0" /* WJ */ };

	text[strcspn(text, "\n")] = '\0';
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(line, sizeof(line), "%s x%s", text, tails[i]);
		expect_line(line, KE_MALFORMED,
		    "comment contains control characters");
	}
	free(text);
}

Test(keyparse, refuses_escape_in_comment)
{
	char	*text = vector_text("ed25519_1.pub");
	char	 line[512];

	text[strcspn(text, "\n")] = '\0';
	snprintf(line, sizeof(line), "%s \x1b[2J\x1b[31mroot", text);
	expect_line(line, KE_MALFORMED,
	    "comment contains control characters");
	free(text);
}

Test(keyparse, refuses_invalid_utf8_in_comment)
{
	char	*text = vector_text("ed25519_1.pub");
	char	 line[512];
	static const char *const tails[] = { "\xff", "\xc0\xaf", "\xed\xa0\x80",
	    "\xe2\x82" };
	size_t	 i;

	text[strcspn(text, "\n")] = '\0';
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(line, sizeof(line), "%s a%s", text, tails[i]);
		expect_line(line, KE_MALFORMED, "comment is not valid UTF-8");
	}
	free(text);
}

Test(keyparse, accepts_utf8_comment_and_keeps_it)
{
	char		*text = vector_text("ed25519_1.pub");
	char		 line[512], reason[KEYPARSE_REASON_MAX];
	struct pubkey	*k = NULL;

	text[strcspn(text, "\n")] = '\0';
	*strchr(strchr(text, ' ') + 1, ' ') = '\0';	/* drop the comment */
	snprintf(line, sizeof(line), "  %s \tJos\xc3\xa9 \xd0\xba\xd0\xbb"
	    "\xd1\x8e\xd1\x87 \xf0\x9f\x94\x91  \r\n", text);
	cr_assert_eq(parse(line, &k, reason), 0, "%s", reason);
	cr_assert_str_eq(k->comment, "Jos\xc3\xa9 \xd0\xba\xd0\xbb\xd1\x8e"
	    "\xd1\x87 \xf0\x9f\x94\x91");
	pubkey_free(k);
	snprintf(line, sizeof(line), "%s", text);
	cr_assert_eq(parse(line, &k, reason), 0, "%s", reason);
	cr_assert_null(k->comment);
	pubkey_free(k);
	free(text);
}

Test(keyparse, refuses_overlong_comment)
{
	char	*text = vector_text("ed25519_1.pub");
	char	*line;
	size_t	 tl;

	text[strcspn(text, "\n")] = '\0';
	tl = strlen(text);
	line = malloc(tl + COMMENT_MAX + 2);
	cr_assert_not_null(line);
	memcpy(line, text, tl);
	memset(line + tl, 'c', COMMENT_MAX + 1);
	line[tl + COMMENT_MAX + 1] = '\0';
	expect_line(line, KE_MALFORMED, "comment too long");
	free(line);
	free(text);
}

Test(keyparse, refuses_authorized_keys_options)
{
	static const char *const pre[] = { "restrict", "no-pty",
	    "no-port-forwarding", "cert-authority", "from=\"10.0.0.1\"",
	    "command=\"echo hi\"", "no-pty,no-agent-forwarding",
	    "environment=\"A=b\"", "unknownoption", "RESTRICT" };
	char	*text = vector_text("ed25519_1.pub");
	char	 line[512];
	size_t	 i;

	text[strcspn(text, "\n")] = '\0';
	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		snprintf(line, sizeof(line), "%s %s", pre[i], text);
		expect_line(line, KE_MALFORMED, R_OPTIONS);
	}
	free(text);
}

Test(keyparse, refuses_oversized_line)
{
	char	*line = malloc(KEYLINE_MAX + 64);

	cr_assert_not_null(line);
	strcpy(line, "ssh-rsa ");
	memset(line + 8, 'A', KEYLINE_MAX);
	line[KEYLINE_MAX + 8] = '\0';
	expect_line(line, KE_MALFORMED, "key line too long");
	free(line);
}

Test(keyparse, refuses_overlong_type_word)
{
	char	line[256];

	memset(line, 'x', 100);
	strcpy(line + 100, " AAAA");
	expect_line(line, KE_MALFORMED, "key type word too long");
}

Test(keyparse, reason_never_quotes_odd_type_word)
{
	expect_line("ssh-\x1b[31mrsa AAAA", KE_MALFORMED,
	    "not an OpenSSH public key line");
	expect_line("ssh-\xc3\xa9 AAAA", KE_MALFORMED,
	    "not an OpenSSH public key line");
	expect_line("ssh-foo@example.com AAAA", KE_POLICY,
	    "unsupported key type ssh-foo@example.com");
}

/* ---- whole submissions ------------------------------------------------ */

static int
parse_buf(const char *buf, size_t len, struct keyparse_list **l,
    char *reason)
{
	return keyparse_buf((const unsigned char *)buf, len, l, reason,
	    KEYPARSE_REASON_MAX);
}

static void
expect_buf(const char *buf, size_t len, int err, const char *why)
{
	struct keyparse_list	*l = (struct keyparse_list *)0x1;
	char			 reason[KEYPARSE_REASON_MAX];

	cr_assert_eq(parse_buf(buf, len, &l, reason), err, "%s", reason);
	cr_assert_null(l);
	cr_assert_str_eq(reason, why);
}

Test(keyparse, refuses_empty_input)
{
	expect_buf("", 0, KE_MALFORMED, "empty file");
	expect_buf("\xef\xbb\xbf", 3, KE_MALFORMED, "empty file");
	expect_buf(" \r\n\n\t\n", 6, KE_MALFORMED, "empty file");
	expect_buf("# only a comment\n", 17, KE_MALFORMED,
	    "no public key in the file");
}

Test(keyparse, refuses_binary_junk)
{
	static const char junk[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0";
	static const char junk2[] = "\xff\xfe\x01\x02ssh-rsa";

	expect_buf(junk, sizeof(junk) - 1, KE_MALFORMED,
	    "binary data, not a public key");
	expect_buf(junk2, sizeof(junk2) - 1, KE_MALFORMED,
	    "binary data, not a public key");
}

Test(keyparse, refuses_nul_inside_key_file)
{
	char	*text = vector_text("ed25519_1.pub");
	size_t	 len = strlen(text);

	text[len / 2] = '\0';
	expect_buf(text, len, KE_MALFORMED, "binary data, not a public key");
	free(text);
}

Test(keyparse, refuses_oversized_input)
{
	char	*buf = malloc(KEYFILE_MAX + 1);

	cr_assert_not_null(buf);
	memset(buf, '#', KEYFILE_MAX + 1);
	expect_buf(buf, KEYFILE_MAX + 1, KE_MALFORMED, "file too large");
	free(buf);
}

Test(keyparse, tolerates_bom_crlf_and_blank_lines)
{
	struct keyparse_list	*l = NULL;
	char			*a = vector_text("ed25519_1.pub");
	char			*b = vector_text("ecdsa_1.pub");
	char			 buf[2048], reason[KEYPARSE_REASON_MAX];
	size_t			 i;

	a[strcspn(a, "\n")] = '\0';
	b[strcspn(b, "\n")] = '\0';
	snprintf(buf, sizeof(buf), "\xef\xbb\xbf\r\n  \t\r\n# mine\r\n"
	    "  %s  \r\n\r\n%s\r\n\r\n", a, b);
	cr_assert_eq(parse_buf(buf, strlen(buf), &l, reason), 0, "%s",
	    reason);
	cr_assert_eq(l->n, 2);
	for (i = 0; i < l->n; i++)
		cr_assert_eq(l->items[i].err, 0, "%s", l->items[i].reason);
	cr_assert_eq(l->items[0].lineno, 4);
	cr_assert_eq(l->items[1].lineno, 6);
	cr_assert_str_eq(l->items[0].key->comment, "ED25519 test key #1");
	cr_assert_str_eq(l->items[1].key->comment, "ECDSA test key #1");
	keyparse_list_free(l);
	free(a);
	free(b);
}

Test(keyparse, judges_each_key_of_a_file_on_its_own)
{
	struct keyparse_list	*l = NULL;
	char			*a = vector_text("rsa_2.pub");
	char			*c = vector_text("ed25519_sk1.pub");
	char			*buf, reason[KEYPARSE_REASON_MAX];

	buf = malloc(strlen(a) + strlen(c) + 64);
	cr_assert_not_null(buf);
	sprintf(buf, "%sssh-ed25519 AAAA broken\n%s", a, c);
	cr_assert_eq(parse_buf(buf, strlen(buf), &l, reason), 0, "%s",
	    reason);
	cr_assert_eq(l->n, 3);
	cr_assert_eq(l->items[0].err, 0);
	cr_assert_eq(l->items[0].key->type, KT_RSA);
	cr_assert_eq(l->items[1].err, KE_MALFORMED);
	cr_assert_null(l->items[1].key);
	cr_assert_eq(l->items[1].lineno, 2);
	cr_assert_str_eq(l->items[1].reason, "key data is truncated");
	cr_assert_eq(l->items[2].err, 0);
	cr_assert_eq(l->items[2].key->type, KT_SK_ED25519);
	keyparse_list_free(l);
	free(buf);
	free(a);
	free(c);
}

Test(keyparse, refuses_foreign_formats)
{
	static const char *const texts[] = {
		"---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"x\"\nAAAA\n"
		    "---- END SSH2 PUBLIC KEY ----\n",
		"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n"
		    "-----END PUBLIC KEY-----\n",
		"\xef\xbb\xbf\r\n-----BEGIN RSA PUBLIC KEY-----\r\nMII=\r\n",
	};
	size_t	i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		expect_buf(texts[i], strlen(texts[i]), KE_MALFORMED,
		    "not an OpenSSH public key");
}

/* The private key refusal copies nothing: no line of the body shows. */
static void
expect_private(const char *buf, size_t len)
{
	struct keyparse_list	*l = (struct keyparse_list *)0x1;
	char			 reason[KEYPARSE_REASON_MAX], frag[17];
	const char		*p, *nl;

	cr_assert_eq(parse_buf(buf, len, &l, reason), KE_MALFORMED);
	cr_assert_null(l);
	cr_assert_str_eq(reason, R_PRIVATE);
	for (p = buf; p < buf + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', buf + len - p)) == NULL)
			nl = buf + len;
		if (nl - p < 16 || strncmp(p, "-----", 5) == 0)
			continue;
		memcpy(frag, p, 16);
		frag[16] = '\0';
		cr_assert_null(strstr(reason, frag));
	}
}

struct privparam {
	char	keygen[64];	/* ssh-keygen arguments */
	char	header[64];
};

ParameterizedTestParameters(keyparse, refuses_generated_private_keys)
{
	static struct privparam p[] = {
		{ "-t ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----" },
		{ "-t rsa -b 2048 -m PEM", "-----BEGIN RSA PRIVATE KEY-----" },
		{ "-t ecdsa -m PEM", "-----BEGIN EC PRIVATE KEY-----" },
		{ "-t ecdsa -m PKCS8", "-----BEGIN PRIVATE KEY-----" },
		{ "-t rsa -b 2048 -m PKCS8 -N secretpw",
		    "-----BEGIN ENCRYPTED PRIVATE KEY-----" },
	};

	return cr_make_param_array(struct privparam, p,
	    sizeof(p) / sizeof(p[0]));
}

ParameterizedTest(struct privparam *p, keyparse,
    refuses_generated_private_keys)
{
	char	 dir[64], cmd[512], path[128], *text, *pub, *both;
	size_t	 len, plen;

	make_tmpdir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q %s %s -C c -f %s/id",
	    p->keygen, strstr(p->keygen, "-N") ? "" : "-N ''", dir);
	run(cmd);
	snprintf(path, sizeof(path), "%s/id", dir);
	text = slurp(path, &len);
	cr_assert_eq(strncmp(text, p->header, strlen(p->header)), 0,
	    "%s does not start with %s", path, p->header);
	expect_private(text, len);
	/* A public key first, the private key pasted after it. */
	snprintf(path, sizeof(path), "%s/id.pub", dir);
	pub = slurp(path, &plen);
	both = malloc(plen + len + 1);
	cr_assert_not_null(both);
	memcpy(both, pub, plen);
	memcpy(both + plen, text, len + 1);
	expect_private(both, plen + len);
	free(both);
	free(pub);
	free(text);
	remove_tmpdir(dir);
}

struct headparam {
	char	text[160];
};

ParameterizedTestParameters(keyparse, refuses_every_private_key_header)
{
	static struct headparam p[] = {
		{ "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA"
		    "ABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n" },
		{ "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretsecr"
		    "\n-----END RSA PRIVATE KEY-----\n" },
		{ "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIsecretsecretsecre"
		    "\n-----END EC PRIVATE KEY-----\n" },
		{ "-----BEGIN DSA PRIVATE KEY-----\nMIIBuwIBAAKBgQsecretsecret"
		    "\n-----END DSA PRIVATE KEY-----\n" },
		{ "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIsecretse"
		    "\n-----END PRIVATE KEY-----\n" },
		{ "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0B"
		    "\n-----END ENCRYPTED PRIVATE KEY-----\n" },
		{ "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: "
		    "k\nPublic-Lines: 1\nAAAAB3NzaC1yc2EAAAADAQABAAAAgQsecret\n" },
		{ "PuTTY-User-Key-File-3: ssh-ed25519\r\nEncryption: none\r\n"
		    "Comment: k\r\nPublic-Lines: 1\r\nAAAAC3NzaC1lZDI1NTE5secr\r\n" },
	};

	return cr_make_param_array(struct headparam, p,
	    sizeof(p) / sizeof(p[0]));
}

ParameterizedTest(struct headparam *p, keyparse,
    refuses_every_private_key_header)
{
	expect_private(p->text, strlen(p->text));
}

/* ---- b64 -------------------------------------------------------------- */

Test(keyparse, b64_round_trips_every_length)
{
	unsigned char	in[64], out[64];
	char		enc[B64_ENCODED_SIZE(64)];
	size_t		n, i, el;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		el = b64_encode(in, n, enc, 1);
		cr_assert_eq(el, (n + 2) / 3 * 4);
		cr_assert_eq(strlen(enc), el);
		cr_assert_eq(b64_decode(enc, el, out, sizeof(out)), (long)n);
		cr_assert_eq(memcmp(in, out, n), 0);
	}
}

Test(keyparse, b64_encodes_rfc4648_vectors)
{
	char	enc[16];

	b64_encode((const unsigned char *)"foob", 4, enc, 1);
	cr_assert_str_eq(enc, "Zm9vYg==");
	b64_encode((const unsigned char *)"foob", 4, enc, 0);
	cr_assert_str_eq(enc, "Zm9vYg");
	b64_encode((const unsigned char *)"fooba", 5, enc, 1);
	cr_assert_str_eq(enc, "Zm9vYmE=");
	b64_encode((const unsigned char *)"foobar", 6, enc, 0);
	cr_assert_str_eq(enc, "Zm9vYmFy");
}

Test(keyparse, b64_decode_is_strict)
{
	static const char *const bad[] = { "Zm9vYg=", "Zm9v Yg==",
	    "Zm9vYg==\n", "Zm9vYh==", "Zm9vYmF=", "Zm9vY===", "=m9v",
	    "Zm9vYg=A", "Zm9v-_==", "Zg==Zm9v", "Zm\0v" };
	unsigned char	out[16];
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(b64_decode(bad[i], i == 10 ? 4 : strlen(bad[i]),
		    out, sizeof(out)), -1, "accepted %s", bad[i]);
	cr_assert_eq(b64_decode("Zm9vYmFy", 8, out, 5), -1, "overflow");
	cr_assert_eq(b64_decode("Zm9vYmE=", 8, out, 5), 5);
}
