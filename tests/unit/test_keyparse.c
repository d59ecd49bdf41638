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

Test(keyparse, refuses_broken_blocks_per_key)
{
	static const struct {
		const char	*text;
		enum keyformat	 format;
		const char	*why;
	} t[] = {
		{ "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"x\"\nAAAA\n"
		    "---- END SSH2 PUBLIC KEY ----\n", KF_RFC4716,
		    "key data does not start with a key type" },
		{ "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n"
		    "-----END PUBLIC KEY-----\n", KF_SPKI,
		    "not a valid SPKI public key" },
		{ "\xef\xbb\xbf\r\n-----BEGIN RSA PUBLIC KEY-----\r\nMII=\r\n",
		    KF_PKCS1, "key block has no END line" },
	};
	struct keyparse_list	*l;
	char			 reason[KEYPARSE_REASON_MAX];
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		l = NULL;
		cr_assert_eq(parse_buf(t[i].text, strlen(t[i].text), &l,
		    reason), 0, "%s", reason);
		cr_assert_eq(l->n, 1);
		cr_assert_eq(l->items[0].format, t[i].format);
		cr_assert_null(l->items[0].key);
		cr_assert_neq(l->items[0].err, 0);
		cr_assert_str_eq(l->items[0].reason, t[i].why);
		keyparse_list_free(l);
	}
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

/* ---- other formats: RFC 4716, SPKI, PKCS#1 (keyformat.c) --------------- */

/* The fingerprint ssh-keygen -l (or the command given) prints. */
static void
cmd_fingerprint(const char *cmd, char *fp, size_t fplen)
{
	FILE	*f;
	char	 line[1024], *a, *b;

	cr_assert_not_null(f = popen(cmd, "r"));
	cr_assert_not_null(fgets(line, sizeof(line), f), "%s", cmd);
	cr_assert_eq(pclose(f), 0, "%s", cmd);
	cr_assert_not_null(a = strchr(line, ' '), "%s", line);
	a++;
	b = a + strcspn(a, " \n");
	*b = '\0';
	cr_assert_lt(strlen(a), fplen);
	snprintf(fp, fplen, "%s", a);
}

/* A file that must hold exactly one key; returns its list. */
static struct keyparse_list *
parse_one_file(const char *path)
{
	struct keyparse_list	*l = NULL;
	char			 reason[KEYPARSE_REASON_MAX], *text;
	size_t			 len;

	text = slurp(path, &len);
	cr_assert_eq(parse_buf(text, len, &l, reason), 0, "%s: %s", path,
	    reason);
	cr_assert_eq(l->n, 1, "%s: %zu results", path, l->n);
	free(text);
	return l;
}

/* One accepted key from a file, in format f, with fingerprint fp. */
static void
expect_file_key(const char *path, enum keyformat f, const char *fp)
{
	struct keyparse_list	*l = parse_one_file(path);
	struct keyparse_result	*it = &l->items[0];

	cr_assert_eq(it->err, 0, "%s: %s", path, it->reason);
	cr_assert_eq(it->format, f, "%s", path);
	cr_assert_eq(it->lineno, 1);
	cr_assert_str_eq(it->key->fingerprint, fp, "%s", path);
	keyparse_list_free(l);
}

Test(keyparse, format_names)
{
	cr_assert_str_eq(keyparse_format_name(KF_OPENSSH), "openssh");
	cr_assert_str_eq(keyparse_format_name(KF_RFC4716), "rfc4716");
	cr_assert_str_eq(keyparse_format_name(KF_SPKI), "spki");
	cr_assert_str_eq(keyparse_format_name(KF_PKCS1), "pkcs1");
}

struct puttyparam {
	char	args[32];	/* puttygen -t/-b */
};

ParameterizedTestParameters(keyparse, puttygen_rfc4716_matches_ssh_keygen)
{
	static struct puttyparam p[] = {
		{ "-t ed25519" }, { "-t rsa -b 2048" }, { "-t rsa -b 4096" },
		{ "-t ecdsa -b 256" }, { "-t ecdsa -b 384" },
		{ "-t ecdsa -b 521" },
	};

	return cr_make_param_array(struct puttyparam, p,
	    sizeof(p) / sizeof(p[0]));
}

/* PuTTYgen's RFC 4716 (64 columns, quoted comment) = its OpenSSH line. */
ParameterizedTest(struct puttyparam *p, keyparse,
    puttygen_rfc4716_matches_ssh_keygen)
{
	char			 dir[64], cmd[512], path[128], fp[128];
	struct keyparse_list	*l;

	make_tmpdir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "puttygen %s -C 'alice at work' "
	    "-o %s/k.ppk --new-passphrase /dev/null && "
	    "puttygen %s/k.ppk -O public -o %s/k.rfc && "
	    "puttygen %s/k.ppk -O public-openssh -o %s/k.pub", p->args, dir,
	    dir, dir, dir, dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -l -f %s/k.pub", dir);
	cmd_fingerprint(cmd, fp, sizeof(fp));
	snprintf(path, sizeof(path), "%s/k.rfc", dir);
	expect_file_key(path, KF_RFC4716, fp);
	l = parse_one_file(path);
	cr_assert_str_eq(l->items[0].key->comment, "alice at work");
	keyparse_list_free(l);
	remove_tmpdir(dir);
}

struct exportparam {
	char		keygen[32];	/* ssh-keygen -t/-b */
	char		mode[16];	/* -e -m MODE, "" for RFC 4716 */
	enum keyformat	format;
};

ParameterizedTestParameters(keyparse, ssh_keygen_exports_match)
{
	static struct exportparam p[] = {
		{ "-t rsa -b 3072", "", KF_RFC4716 },
		{ "-t ecdsa -b 256", "", KF_RFC4716 },
		{ "-t ecdsa -b 521", "", KF_RFC4716 },
		{ "-t ed25519", "", KF_RFC4716 },
		{ "-t rsa -b 2048", "PKCS8", KF_SPKI },
		{ "-t ecdsa -b 256", "PKCS8", KF_SPKI },
		{ "-t ecdsa -b 384", "PKCS8", KF_SPKI },
		{ "-t ecdsa -b 521", "PKCS8", KF_SPKI },
		{ "-t rsa -b 2048", "PEM", KF_PKCS1 },
		{ "-t rsa -b 4096", "PEM", KF_PKCS1 },
	};

	return cr_make_param_array(struct exportparam, p,
	    sizeof(p) / sizeof(p[0]));
}

/* ssh-keygen -e (70-column RFC 4716, SPKI, PKCS#1) = the .pub line. */
ParameterizedTest(struct exportparam *p, keyparse, ssh_keygen_exports_match)
{
	char	dir[64], cmd[512], path[128], fp[128];

	make_tmpdir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "ssh-keygen -q %s -N '' -C c -f %s/id && "
	    "ssh-keygen -e %s%s -f %s/id.pub > %s/id.exp", p->keygen, dir,
	    p->mode[0] != '\0' ? "-m " : "", p->mode, dir, dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -l -f %s/id.pub", dir);
	cmd_fingerprint(cmd, fp, sizeof(fp));
	snprintf(path, sizeof(path), "%s/id.exp", dir);
	expect_file_key(path, p->format, fp);
	remove_tmpdir(dir);
}

struct opensslparam {
	char		genpkey[64];
	char		pubout[32];	/* openssl pkey/rsa output option */
	char		import[16];	/* ssh-keygen -i -m */
	enum keyformat	format;
};

ParameterizedTestParameters(keyparse, openssl_keys_match_ssh_keygen)
{
	static struct opensslparam p[] = {
		{ "-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
		    "pkey -pubout", "PKCS8", KF_SPKI },
		{ "-algorithm EC -pkeyopt ec_paramgen_curve:P-384",
		    "pkey -pubout", "PKCS8", KF_SPKI },
		{ "-algorithm EC -pkeyopt ec_paramgen_curve:P-521",
		    "pkey -pubout", "PKCS8", KF_SPKI },
		{ "-algorithm RSA -pkeyopt rsa_keygen_bits:2048",
		    "pkey -pubout", "PKCS8", KF_SPKI },
		{ "-algorithm RSA -pkeyopt rsa_keygen_bits:3072",
		    "rsa -RSAPublicKey_out", "PEM", KF_PKCS1 },
	};

	return cr_make_param_array(struct opensslparam, p,
	    sizeof(p) / sizeof(p[0]));
}

/* openssl's SPKI / PKCS#1 = what ssh-keygen -i makes of them. */
ParameterizedTest(struct opensslparam *p, keyparse,
    openssl_keys_match_ssh_keygen)
{
	char	dir[64], cmd[1024], path[128], fp[128];

	make_tmpdir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "openssl genpkey %s -out %s/k.pem "
	    "2>/dev/null && openssl %s -in %s/k.pem -out %s/k.pub "
	    "2>/dev/null && ssh-keygen -i -m %s -f %s/k.pub > %s/k.ssh",
	    p->genpkey, dir, p->pubout, dir, dir, p->import, dir, dir);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "ssh-keygen -l -f %s/k.ssh", dir);
	cmd_fingerprint(cmd, fp, sizeof(fp));
	snprintf(path, sizeof(path), "%s/k.pub", dir);
	expect_file_key(path, p->format, fp);
	remove_tmpdir(dir);
}

/* Ed25519 SPKI, which ssh-keygen cannot import: the key is the DER tail. */
Test(keyparse, openssl_ed25519_spki_keeps_the_32_key_bytes)
{
	char			 dir[64], cmd[512], path[128], *der;
	struct keyparse_list	*l;
	struct pubkey		*k;
	size_t			 derlen;

	make_tmpdir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ed25519 "
	    "-out %s/k.pem && openssl pkey -in %s/k.pem -pubout -out %s/k.pub "
	    "&& openssl pkey -in %s/k.pem -pubout -outform DER -out %s/k.der",
	    dir, dir, dir, dir, dir);
	run(cmd);
	snprintf(path, sizeof(path), "%s/k.der", dir);
	der = slurp(path, &derlen);
	cr_assert_eq(derlen, 44);
	snprintf(path, sizeof(path), "%s/k.pub", dir);
	l = parse_one_file(path);
	cr_assert_eq(l->items[0].err, 0, "%s", l->items[0].reason);
	cr_assert_eq(l->items[0].format, KF_SPKI);
	k = l->items[0].key;
	cr_assert_eq(k->type, KT_ED25519);
	cr_assert_eq(k->bloblen, 4 + 11 + 4 + 32);
	cr_assert_eq(memcmp(k->blob + 19, der + derlen - 32, 32), 0);
	cr_assert_null(k->comment);
	keyparse_list_free(l);
	free(der);
	remove_tmpdir(dir);
}

static void
badkeys_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/badkeys/%s", vectors_dir(), name);
}

/* A badkeys file and its .openssh.pub give the same result. */
static void
check_badkeys_sibling(const char *name)
{
	char			 path[512], reason[KEYPARSE_REASON_MAX], *pub;
	struct keyparse_list	*l;
	struct pubkey		*k = NULL;
	int			 r;

	badkeys_path(path, sizeof(path), name);
	l = parse_one_file(path);
	cr_assert_neq(l->items[0].format, KF_OPENSSH, "%s", name);
	strcat(path, ".openssh.pub");
	pub = slurp(path, NULL);
	r = parse(pub, &k, reason);
	cr_assert_eq(l->items[0].err, r, "%s: %s / %s", name,
	    l->items[0].reason, reason);
	if (r == 0) {
		cr_assert_str_eq(l->items[0].key->fingerprint, k->fingerprint,
		    "%s", name);
		cr_assert_eq(l->items[0].key->bloblen, k->bloblen);
		cr_assert_eq(memcmp(l->items[0].key->blob, k->blob,
		    k->bloblen), 0);
	} else
		cr_assert_str_eq(l->items[0].reason, reason, "%s", name);
	pubkey_free(k);
	free(pub);
	keyparse_list_free(l);
}

Test(keyparse, badkeys_vectors_convert_to_their_openssh_blob)
{
	char		 dir[512], path[800], sib[840], *text;
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	badkeys_path(dir, sizeof(dir), "");
	cr_assert_not_null(d = opendir(dir), "no vectors at %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name, ".key") ||
		    strcmp(de->d_name, "ecdsa-explicit-pub.key") == 0)
			continue;
		snprintf(path, sizeof(path), "%s%s", dir, de->d_name);
		snprintf(sib, sizeof(sib), "%s.openssh.pub", path);
		if (access(sib, F_OK) != 0)
			continue;
		text = slurp(path, NULL);
		if (strstr(text, "PRIVATE KEY") != NULL)	/* rsa-large-e */
			expect_private(text, strlen(text));
		else {
			check_badkeys_sibling(de->d_name);
			n++;
		}
		free(text);
	}
	closedir(d);
	cr_assert_geq(n, 20, "only %d vectors checked", n);
}

static void
expect_badkey_refused(const char *name, int err, const char *why)
{
	char			 path[512];
	struct keyparse_list	*l;

	badkeys_path(path, sizeof(path), name);
	l = parse_one_file(path);
	cr_assert_eq(l->items[0].err, err, "%s: %s", name,
	    l->items[0].reason);
	cr_assert_null(l->items[0].key);
	cr_assert_eq(l->items[0].format, KF_SPKI);
	cr_assert_str_eq(l->items[0].reason, why);
	keyparse_list_free(l);
}

Test(keyparse, refuses_ec_key_with_explicit_curve_parameters)
{
	expect_badkey_refused("ecdsa-explicit-pub.key", KE_POLICY,
	    "EC key with explicit curve parameters; ask for a named-curve "
	    "key");
}

Test(keyparse, refuses_other_spki_algorithms)
{
	expect_badkey_refused("x448-ok.key", KE_POLICY,
	    "unsupported key algorithm X448; ask for an Ed25519, ECDSA or "
	    "RSA key");
	expect_badkey_refused("dh-ok.key", KE_POLICY,
	    "unsupported key algorithm DH; ask for an Ed25519, ECDSA or RSA "
	    "key");
	expect_badkey_refused("mldsa44.key", KE_POLICY,
	    "unsupported key algorithm; ask for an Ed25519, ECDSA or RSA key");
	expect_badkey_refused("unsupported/sm2-pub.key", KE_POLICY,
	    "unsupported EC curve; ask for a P-256, P-384 or P-521 key");
}

/* Every file in defect/ and unsupported/ is refused, wholly or per key. */
static int
refuse_dir(const char *sub)
{
	char			 dir[512], path[800], *text;
	char			 reason[KEYPARSE_REASON_MAX];
	struct keyparse_list	*l;
	DIR			*d;
	struct dirent		*de;
	size_t			 len, i;
	int			 n = 0;

	badkeys_path(dir, sizeof(dir), sub);
	cr_assert_not_null(d = opendir(dir), "no vectors at %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = slurp(path, &len);
		l = NULL;
		if (parse_buf(text, len, &l, reason) == 0) {
			for (i = 0; i < l->n; i++)
				cr_assert_neq(l->items[i].err, 0, "%s",
				    path);
			keyparse_list_free(l);
		} else
			cr_assert_null(l);
		free(text);
		n++;
	}
	closedir(d);
	return n;
}

Test(keyparse, refuses_badkeys_defect_and_unsupported_files)
{
	cr_assert_geq(refuse_dir("defect"), 5);
	cr_assert_geq(refuse_dir("unsupported"), 7);
}

Test(keyparse, ignores_description_lines_around_blocks)
{
	char			 path[512];
	struct keyparse_list	*l;

	badkeys_path(path, sizeof(path), "rsa-pattern.key");
	l = parse_one_file(path);
	cr_assert_eq(l->items[0].err, 0, "%s", l->items[0].reason);
	cr_assert_eq(l->items[0].lineno, 5);	/* the BEGIN line */
	cr_assert_eq(l->items[0].format, KF_PKCS1);
	keyparse_list_free(l);
}

ParameterizedTestParameters(keyparse, refuses_puttygen_ppk_files)
{
	static struct puttyparam p[] = {
		{ "2" }, { "3" },
	};

	return cr_make_param_array(struct puttyparam, p,
	    sizeof(p) / sizeof(p[0]));
}

/* .ppk v2 and v3, passphrase or not: private, and nothing of it shown. */
ParameterizedTest(struct puttyparam *p, keyparse, refuses_puttygen_ppk_files)
{
	char	 dir[64], cmd[512], path[128], *text;
	size_t	 len;

	make_tmpdir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "puttygen -t ed25519 --ppk-param "
	    "version=%s -o %s/a.ppk --new-passphrase /dev/null && "
	    "printf 'pw\\n' > %s/pw && puttygen -t rsa -b 2048 --ppk-param "
	    "version=%s -o %s/b.ppk --new-passphrase %s/pw", p->args, dir,
	    dir, p->args, dir, dir);
	run(cmd);
	snprintf(path, sizeof(path), "%s/a.ppk", dir);
	text = slurp(path, &len);
	cr_assert(strstr(text, "PuTTY-User-Key-File-") == text);
	expect_private(text, len);
	free(text);
	snprintf(path, sizeof(path), "%s/b.ppk", dir);
	text = slurp(path, &len);
	expect_private(text, len);
	free(text);
	remove_tmpdir(dir);
}

/* ed25519_1 as an RFC 4716 block with the given headers. */
static char *
rfc4716_text(const char *headers)
{
	struct pubkey	*k = vector_key("ed25519_1.pub");
	char		*buf;

	buf = malloc(strlen(headers) + strlen(k->b64) + 128);
	cr_assert_not_null(buf);
	sprintf(buf, "---- BEGIN SSH2 PUBLIC KEY ----\r\n%s%.40s\r\n%s\r\n"
	    "---- END SSH2 PUBLIC KEY ----\r\n", headers, k->b64,
	    k->b64 + 40);
	pubkey_free(k);
	return buf;
}

/* The one result of an RFC 4716 text with these headers. */
static struct keyparse_list *
rfc4716_parse(const char *headers)
{
	struct keyparse_list	*l = NULL;
	char			 reason[KEYPARSE_REASON_MAX];
	char			*text = rfc4716_text(headers);

	cr_assert_eq(parse_buf(text, strlen(text), &l, reason), 0, "%s",
	    reason);
	cr_assert_eq(l->n, 1);
	cr_assert_eq(l->items[0].format, KF_RFC4716);
	free(text);
	return l;
}

static void
expect_rfc4716_comment(const char *headers, const char *comment)
{
	struct keyparse_list	*l = rfc4716_parse(headers);
	struct pubkey		*want = vector_key("ed25519_1.pub");

	cr_assert_eq(l->items[0].err, 0, "%s", l->items[0].reason);
	cr_assert_str_eq(l->items[0].key->fingerprint, want->fingerprint);
	if (comment == NULL)
		cr_assert_null(l->items[0].key->comment);
	else
		cr_assert_str_eq(l->items[0].key->comment, comment);
	pubkey_free(want);
	keyparse_list_free(l);
}

static void
expect_rfc4716_refused(const char *headers, const char *why)
{
	struct keyparse_list	*l = rfc4716_parse(headers);

	cr_assert_neq(l->items[0].err, 0);
	cr_assert_null(l->items[0].key);
	cr_assert_str_eq(l->items[0].reason, why);
	keyparse_list_free(l);
}

Test(keyparse, rfc4716_headers)
{
	expect_rfc4716_comment("", NULL);
	expect_rfc4716_comment("Comment: \"alice at work, laptop\"\r\n",
	    "alice at work, laptop");
	expect_rfc4716_comment("Comment: plain words\n", "plain words");
	expect_rfc4716_comment("comment: \"case\"\n", "case");
	/* continuation lines, in the comment and in another header */
	expect_rfc4716_comment("Subject: alice\nComment: \"a comment th\\\n"
	    "at goes on\\\n and on\"\nx-Made-By: some\\\n tool\n",
	    "a comment that goes on and on");
	expect_rfc4716_comment("x-private: \"ignored\"\nUnknownTag: also "
	    "ignored\nComment: \"k\"\n", "k");
	expect_rfc4716_comment("Comment: \"Jos\xc3\xa9\"\n", "Jos\xc3\xa9");
}

Test(keyparse, rfc4716_comment_passes_the_comment_checks)
{
	expect_rfc4716_refused("Comment: \"\x1b[2J\x1b[31mroot\"\n",
	    "comment contains control characters");
	expect_rfc4716_refused("Comment: \"a\tb\"\n",
	    "comment contains control characters");
	expect_rfc4716_refused("Comment: \"\xe2\x80\xae" "evil\"\n",
	    "comment contains control characters");
	expect_rfc4716_refused("Comment: \"\xff\"\n",
	    "comment is not valid UTF-8");
}

Test(keyparse, rfc4716_refuses_bad_headers)
{
	char	*big = malloc(1200);

	cr_assert_not_null(big);
	strcpy(big, "Comment: \"");
	memset(big + 10, 'c', 1100);
	strcpy(big + 1110, "\"\n");
	expect_rfc4716_refused(big, "header longer than 1024 bytes in a key "
	    "block");
	/* the same length spread over continuation lines */
	strcpy(big, "x-long: ");
	memset(big + 8, 'c', 600);
	strcpy(big + 608, "\\\n");
	memset(big + 610, 'd', 500);
	strcpy(big + 1110, "\n");
	expect_rfc4716_refused(big, "header longer than 1024 bytes in a key "
	    "block");
	free(big);
	expect_rfc4716_refused("Comment: a\nComment: b\n",
	    "more than one Comment header in a key block");
	expect_rfc4716_refused("Bad Tag: x\n",
	    "malformed header line in a key block");
	expect_rfc4716_refused(": x\n", "malformed header line in a key block");
}

Test(keyparse, rfc4716_refuses_broken_blocks)
{
	struct keyparse_list	*l = NULL;
	char			 reason[KEYPARSE_REASON_MAX], buf[1024];
	char			*text = rfc4716_text("Comment: \"k\"\n");
	struct {
		const char	*what;
		const char	*why;
	} t[] = {
		{ "junk", "unexpected line inside a key block" },
		{ "nested", "BEGIN line inside a key block" },
		{ "noend", "key block has no END line" },
		{ "late", "header line after the key data in a key block" },
		{ "otherend", "END line does not match the BEGIN line" },
	};
	size_t			 i;
	char			*body = strstr(text, "AAAA");
	char			*end = strstr(text, "---- END");

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (i == 0)
			snprintf(buf, sizeof(buf), "%.*sthis is junk!\n%s",
			    (int)(end - text), text, end);
		else if (i == 1)
			snprintf(buf, sizeof(buf), "%.*s%s", (int)(body - text),
			    text, text);
		else if (i == 2)
			snprintf(buf, sizeof(buf), "%.*s", (int)(end - text),
			    text);
		else if (i == 3)
			snprintf(buf, sizeof(buf), "%.*sComment: late\n%s",
			    (int)(end - text), text, end);
		else
			snprintf(buf, sizeof(buf), "%.*s-----END PUBLIC "
			    "KEY-----\n", (int)(end - text), text);
		cr_assert_eq(parse_buf(buf, strlen(buf), &l, reason), 0);
		cr_assert_eq(l->n, 1, "%s: %zu", t[i].what, l->n);
		cr_assert_eq(l->items[0].err, KE_MALFORMED, "%s", t[i].what);
		cr_assert_str_eq(l->items[0].reason, t[i].why, "%s",
		    t[i].what);
		cr_assert_eq(l->items[0].lineno, 1);
		keyparse_list_free(l);
		l = NULL;
	}
	free(text);
}

Test(keyparse, refuses_certificate_blocks)
{
	char			 path[512];
	struct keyparse_list	*l;

	badkeys_path(path, sizeof(path), "rsa-fermat.crt");
	l = parse_one_file(path);
	cr_assert_eq(l->items[0].err, KE_MALFORMED);
	cr_assert_str_eq(l->items[0].reason, "X.509 certificate or request: "
	    "send the SSH public key (the .pub file)");
	keyparse_list_free(l);
}

/* One-line keys, blocks and mail text in one file: judged per key. */
Test(keyparse, judges_mixed_file_per_key)
{
	struct keyparse_list	*l = NULL;
	char			 reason[KEYPARSE_REASON_MAX], path[512];
	char			*a = vector_text("ed25519_1.pub");
	char			*rfc = rfc4716_text("Comment: \"mine\"\n");
	char			*spki, *buf;
	size_t			 i;

	badkeys_path(path, sizeof(path), "ec-p256-rfc-example.key");
	spki = slurp(path, NULL);
	buf = malloc(strlen(a) + strlen(rfc) + strlen(spki) + 256);
	cr_assert_not_null(buf);
	sprintf(buf, "Hi admin, my keys:\n\n%s%s\nThanks,\n%s-- \nBob\n"
	    "Sent from my phone\n", a, rfc, spki);
	cr_assert_eq(parse_buf(buf, strlen(buf), &l, reason), 0, "%s",
	    reason);
	cr_assert_eq(l->n, 3);
	for (i = 0; i < l->n; i++)
		cr_assert_eq(l->items[i].err, 0, "%s", l->items[i].reason);
	cr_assert_eq(l->items[0].format, KF_OPENSSH);
	cr_assert_eq(l->items[0].lineno, 3);
	cr_assert_eq(l->items[1].format, KF_RFC4716);
	cr_assert_eq(l->items[1].lineno, 4);
	cr_assert_str_eq(l->items[1].key->comment, "mine");
	cr_assert_eq(l->items[2].format, KF_SPKI);
	cr_assert_eq(l->items[2].lineno, 13);	/* after its description */
	cr_assert_str_eq(l->items[0].key->fingerprint,
	    l->items[1].key->fingerprint);
	keyparse_list_free(l);
	free(buf);
	free(spki);
	free(rfc);
	free(a);
}

Test(keyparse, text_only_file_has_no_key)
{
	static const char	text[] = "Hello,\nplease add my key.\nThanks,\n"
	    "Bob\n";

	expect_buf(text, strlen(text), KE_MALFORMED,
	    "no public key in the file");
}

/* A one-line key a mail client wrapped: refused with the hint. */
Test(keyparse, wrapped_key_gets_the_hint)
{
	struct keyparse_list	*l = NULL;
	struct pubkey		*k = vector_key("rsa_2.pub");
	char			 reason[KEYPARSE_REASON_MAX], buf[2048];
	size_t			 i;

	for (i = 0; i < 2; i++) {
		if (i == 0)
			snprintf(buf, sizeof(buf), "ssh-rsa %.60s\r\n%.70s\r\n"
			    "%s me@host\r\nRegards\r\n%s\n", k->b64,
			    k->b64 + 60, k->b64 + 130, "ssh-ed25519 AAAA x");
		else
			snprintf(buf, sizeof(buf), "ssh-rsa\n%.70s\n%s\n"
			    "Regards\n%s\n", k->b64, k->b64 + 70,
			    "ssh-ed25519 AAAA x");
		cr_assert_eq(parse_buf(buf, strlen(buf), &l, reason), 0);
		cr_assert_eq(l->n, 2, "%zu", l->n);
		cr_assert_eq(l->items[0].err, KE_MALFORMED);
		cr_assert_str_eq(l->items[0].reason, "the key is broken "
		    "across lines; ask for the .pub file as an attachment");
		cr_assert_eq(l->items[0].lineno, 1);
		cr_assert_eq(l->items[1].lineno, 5);
		cr_assert_str_eq(l->items[1].reason, "key data is truncated");
		keyparse_list_free(l);
		l = NULL;
	}
	pubkey_free(k);
}

/* A complete key followed by a short word is no wrap. */
Test(keyparse, key_then_signature_is_no_wrap)
{
	struct keyparse_list	*l = NULL;
	char			 reason[KEYPARSE_REASON_MAX], buf[1024];
	char			*a = vector_text("ed25519_1.pub");

	a[strcspn(a, "\n")] = '\0';
	*strrchr(a, ' ') = '\0';		/* no comment */
	*strrchr(a, ' ') = '\0';
	snprintf(buf, sizeof(buf), "%s\nRegards\n", a);
	cr_assert_eq(parse_buf(buf, strlen(buf), &l, reason), 0, "%s",
	    reason);
	cr_assert_eq(l->n, 1);
	cr_assert_eq(l->items[0].err, 0, "%s", l->items[0].reason);
	keyparse_list_free(l);
	free(a);
}

Test(keyparse, committed_rfc4716_samples_parse)
{
	char			 path[512];
	const char		*d = getenv("KEYADM_TESTDATA");
	struct keyparse_list	*l;
	struct pubkey		*want = vector_key("ed25519_1.pub");

	snprintf(path, sizeof(path), "%s/keys/rfc4716-continuation.pub",
	    d != NULL ? d : "tests/data");
	l = parse_one_file(path);
	cr_assert_eq(l->items[0].err, 0, "%s", l->items[0].reason);
	cr_assert_str_eq(l->items[0].key->fingerprint, want->fingerprint);
	cr_assert_str_eq(l->items[0].key->comment,
	    "ED25519 test key #1, sent by PuTTYgen with a long comment");
	keyparse_list_free(l);
	pubkey_free(want);
}

/* BER that OpenSSL would take: only DER that re-encodes exactly passes. */
Test(keyparse, refuses_pem_that_is_not_der)
{
	static const char *const files[] = { "pkcs1-ber-indefinite.pem",
	    "pkcs1-ber-long-length.pem", "pkcs1-negative-modulus.pem" };
	const char		*d = getenv("KEYADM_TESTDATA");
	struct keyparse_list	*l;
	char			 path[512];
	size_t			 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/keys/%s",
		    d != NULL ? d : "tests/data", files[i]);
		l = parse_one_file(path);
		cr_assert_eq(l->n, 1, "%s", files[i]);
		cr_assert_eq(l->items[0].err, KE_MALFORMED, "%s", files[i]);
		cr_assert_str_eq(l->items[0].reason,
		    "not DER: the key's encoding is not canonical");
		keyparse_list_free(l);
	}
}

/*
 * Keys OpenSSH fails on with an error: refused at parse time, so that no
 * such line reaches an authorized_keys or the revoked-keys file (where
 * sshd would refuse every key).  Fixtures: tests/data/keys/README.
 */
Test(keyparse, refuses_what_openssh_cannot_read)
{
	static const struct {
		const char	*file;
		const char	*reason;
	} cases[] = {
		{ "ecdsa-small-x.pub", "EC point is not one OpenSSH accepts (a "
		    "coordinate is too small or too large)" },
		{ "rsa-16392.pub", "RSA key larger than 16384 bits: OpenSSH "
		    "cannot read it" },
		{ "sk-app-nul.pub", "sk application contains a NUL byte" },
	};
	const char		*d = getenv("KEYADM_TESTDATA");
	struct keyparse_list	*l;
	char			 path[512];
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/keys/%s",
		    d != NULL ? d : "tests/data", cases[i].file);
		l = parse_one_file(path);
		cr_assert_eq(l->n, 1, "%s", cases[i].file);
		cr_assert_eq(l->items[0].err, KE_MALFORMED, "%s",
		    cases[i].file);
		cr_assert_str_eq(l->items[0].reason, cases[i].reason);
		keyparse_list_free(l);
	}
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

/* ---- keyparse_chunk: one piece of a streamed submission --------------- */

static int
parse_chunk(const char *buf, size_t len, int first,
    struct keyparse_list **l, char *reason)
{
	return keyparse_chunk((const unsigned char *)buf, len, first, l,
	    reason, KEYPARSE_REASON_MAX);
}

/* A piece that must give an empty list and no error. */
static void
expect_empty_chunk(const char *buf, size_t len, int first)
{
	struct keyparse_list	*l = NULL;
	char			 reason[KEYPARSE_REASON_MAX];

	cr_assert_eq(parse_chunk(buf, len, first, &l, reason), 0,
	    "first=%d: %s", first, reason);
	cr_assert_not_null(l, "first=%d: no list", first);
	cr_assert_eq(l->n, 0, "first=%d: %zu results", first, l->n);
	keyparse_list_free(l);
}

Test(keyparse, chunk_blank_piece_is_an_empty_list)
{
	static const char blank[] = " \r\n\n\t\n\r\n   \n";
	static const char comments[] = "# a comment\n\n# another\r\n";
	int	first;

	for (first = 0; first <= 1; first++) {
		expect_empty_chunk(blank, sizeof(blank) - 1, first);
		expect_empty_chunk("\n", 1, first);
		expect_empty_chunk("", 0, first);
		expect_empty_chunk(comments, sizeof(comments) - 1, first);
	}
	/* the first piece may be a BOM and nothing else */
	expect_empty_chunk("\xef\xbb\xbf", 3, 1);
	expect_empty_chunk("\xef\xbb\xbf\r\n\r\n", 7, 1);
}

Test(keyparse, chunk_refuses_private_key_marker)
{
	static const char	 putty[] = "\n\nPuTTY-User-Key-File-3: "
				    "ssh-ed25519\nEncryption: none\n";
	struct keyparse_list	*l = (struct keyparse_list *)0x1;
	char			*a = vector_text("ed25519_1.pub");
	char			 buf[4096], reason[KEYPARSE_REASON_MAX];
	int			 first;

	snprintf(buf, sizeof(buf), "%s\n-----BEGIN OPENSSH PRIVATE KEY-----\n"
	    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
	    "-----END OPENSSH PRIVATE KEY-----\n", a);
	for (first = 0; first <= 1; first++) {
		l = (struct keyparse_list *)0x1;
		cr_assert_eq(parse_chunk(buf, strlen(buf), first, &l, reason),
		    KE_MALFORMED, "first=%d", first);
		cr_assert_null(l);
		cr_assert_str_eq(reason, R_PRIVATE);
		/* never the key material */
		cr_assert_null(strstr(reason, "b3BlbnNzaC1r"));
	}
	/* the PuTTY form, alone in a later piece */
	l = (struct keyparse_list *)0x1;
	cr_assert_eq(parse_chunk(putty, sizeof(putty) - 1, 0, &l, reason),
	    KE_MALFORMED);
	cr_assert_null(l);
	cr_assert_str_eq(reason, R_PRIVATE);
	free(a);
}

Test(keyparse, chunk_refuses_binary_and_oversize)
{
	struct keyparse_list	*l = (struct keyparse_list *)0x1;
	char			*a = vector_text("ed25519_1.pub");
	char			*big, reason[KEYPARSE_REASON_MAX];
	size_t			 len = strlen(a);

	a[len / 2] = '\0';
	cr_assert_eq(parse_chunk(a, len, 0, &l, reason), KE_MALFORMED);
	cr_assert_null(l);
	cr_assert_str_eq(reason, "binary data, not a public key");
	free(a);
	big = malloc(KEYFILE_MAX + 1);
	cr_assert_not_null(big);
	memset(big, '\n', KEYFILE_MAX + 1);
	l = (struct keyparse_list *)0x1;
	cr_assert_eq(parse_chunk(big, KEYFILE_MAX + 1, 0, &l, reason),
	    KE_MALFORMED);
	cr_assert_null(l);
	cr_assert_str_eq(reason, "file too large");
	/* a piece of exactly KEYFILE_MAX bytes is allowed */
	expect_empty_chunk(big, KEYFILE_MAX, 0);
	free(big);
}

Test(keyparse, chunk_strips_bom_only_in_the_first_piece)
{
	struct keyparse_list	*l = NULL;
	char			*a = vector_text("ed25519_1.pub");
	char			 buf[2048], reason[KEYPARSE_REASON_MAX];
	int			 r;

	a[strcspn(a, "\n")] = '\0';
	snprintf(buf, sizeof(buf), "\xef\xbb\xbf%s\r\n", a);
	cr_assert_eq(parse_chunk(buf, strlen(buf), 1, &l, reason), 0, "%s",
	    reason);
	cr_assert_eq(l->n, 1);
	cr_assert_eq(l->items[0].err, 0, "%s", l->items[0].reason);
	cr_assert_eq(l->items[0].lineno, 1);
	cr_assert_str_eq(l->items[0].key->comment, "ED25519 test key #1");
	keyparse_list_free(l);
	/* in a later piece the same bytes are no BOM: no key comes out */
	l = NULL;
	r = parse_chunk(buf, strlen(buf), 0, &l, reason);
	if (r == 0) {
		cr_assert_not_null(l);
		cr_assert(l->n == 0 || l->items[0].err != 0,
		    "a BOM in the middle of a file was stripped");
		keyparse_list_free(l);
	} else {
		cr_assert_null(l);
	}
	free(a);
}

Test(keyparse, chunk_numbers_lines_from_the_start_of_the_piece)
{
	struct keyparse_list	*l = NULL;
	char			*a = vector_text("ed25519_1.pub");
	char			*b = vector_text("ecdsa_1.pub");
	char			 buf[4096], reason[KEYPARSE_REASON_MAX];
	int			 first;

	a[strcspn(a, "\n")] = '\0';
	b[strcspn(b, "\n")] = '\0';
	snprintf(buf, sizeof(buf), "\n# comment\r\n\n%s\r\nssh-ed25519 AAAA "
	    "broken\n\n%s", a, b);	/* no final newline: the file's end */
	for (first = 0; first <= 1; first++) {
		l = NULL;
		cr_assert_eq(parse_chunk(buf, strlen(buf), first, &l, reason),
		    0, "%s", reason);
		cr_assert_eq(l->n, 3);
		cr_assert_eq(l->items[0].lineno, 4);
		cr_assert_eq(l->items[0].err, 0, "%s", l->items[0].reason);
		cr_assert_eq(l->items[1].lineno, 5);
		cr_assert_eq(l->items[1].err, KE_MALFORMED);
		cr_assert_null(l->items[1].key);
		cr_assert_eq(l->items[2].lineno, 7);
		cr_assert_eq(l->items[2].err, 0, "%s", l->items[2].reason);
		cr_assert_eq(l->items[2].key->type, KT_ECDSA_P256);
		keyparse_list_free(l);
	}
	free(a);
	free(b);
}

Test(keyparse, chunk_reads_a_whole_rfc4716_block)
{
	struct keyparse_list	*l = NULL;
	struct pubkey		*k = vector_key("ed25519_1.pub");
	char			 buf[4096], reason[KEYPARSE_REASON_MAX];
	size_t			 n = strlen(k->b64), i, off;

	/* the block's data wrapped at 20 columns, a continued header */
	off = (size_t)snprintf(buf, sizeof(buf), "\n---- BEGIN SSH2 PUBLIC "
	    "KEY ----\nComment: \"a \\\nb\"\n");
	for (i = 0; i < n; i += 20)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "%.20s\n", k->b64 + i);
	snprintf(buf + off, sizeof(buf) - off, "---- END SSH2 PUBLIC KEY "
	    "----\n\n");
	cr_assert_eq(parse_chunk(buf, strlen(buf), 0, &l, reason), 0, "%s",
	    reason);
	cr_assert_eq(l->n, 1);
	cr_assert_eq(l->items[0].err, 0, "%s", l->items[0].reason);
	cr_assert_eq(l->items[0].lineno, 2);
	cr_assert_eq(l->items[0].format, KF_RFC4716);
	cr_assert_str_eq(l->items[0].key->fingerprint, k->fingerprint);
	keyparse_list_free(l);
	pubkey_free(k);
}
