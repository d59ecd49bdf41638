/*
 * test_weakkeys.c -- weakkeys: every invariant listed at the top of
 * src/weakkeys.c has a test here.
 *
 * Weak keys come from badkeys' vectors ($KEYADM_VECTORS/badkeys, as
 * .openssh.pub) and are built here with OpenSSL; negative controls are real
 * keys, fresh OpenSSL primes and ssh-keygen keys.  The vectors are read by
 * a tiny reader of our own ("ssh-rsa" e n) so that these tests do not
 * depend on what keyparse accepts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* mkdtemp */
#endif

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "err.h"
#include "weakkeys.h"

#define VECTORS_DEFAULT	"/work/shared/vectors"
#define D_FERMAT	"the primes are too close together: Fermat's method " \
			"factors the modulus"
#define D_ROCA		"Infineon RSALib key (ROCA, CVE-2017-15361): " \
			"factorable; the user must make a new key on other " \
			"hardware/software"

TestSuite(weakkeys, .timeout = 300);

/* ---- helpers ---------------------------------------------------------- */

struct rsakey {
	unsigned char	*blob;
	const unsigned char *e, *n;
	size_t		 elen, nlen;
};

static struct weakkeys *
wk_get(void)
{
	struct weakkeys	*wk = NULL;

	cr_assert_eq(weakkeys_new(&wk), 0);
	cr_assert_not_null(wk);
	return wk;
}

static const char *
vectors_dir(void)
{
	const char	*v = getenv("KEYADM_VECTORS");

	return v != NULL && *v != '\0' ? v : VECTORS_DEFAULT;
}

/* One SSH string: 4-byte big-endian length, then the bytes. */
static int
get_string(const unsigned char **p, size_t *left, const unsigned char **s,
    size_t *slen)
{
	size_t	len;

	if (*left < 4)
		return -1;
	len = (size_t)(*p)[0] << 24 | (size_t)(*p)[1] << 16 |
	    (size_t)(*p)[2] << 8 | (*p)[3];
	if (len > *left - 4)
		return -1;
	*s = *p + 4;
	*slen = len;
	*p += 4 + len;
	*left -= 4 + len;
	return 0;
}

/* Read "ssh-rsa BASE64" from $KEYADM_VECTORS/badkeys/<name>. */
static void
read_vector(const char *name, struct rsakey *k)
{
	char		 path[1024], line[16384], *b64, *sp;
	FILE		*f;
	size_t		 len, left, tlen;
	int		 dec;
	const unsigned char *p, *type;

	snprintf(path, sizeof(path), "%s/badkeys/%s", vectors_dir(), name);
	cr_assert_not_null(f = fopen(path, "r"), "cannot open %s", path);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	fclose(f);
	cr_assert_not_null(sp = strchr(line, ' '));
	b64 = sp + 1;
	b64[strcspn(b64, " \r\n")] = '\0';
	len = strlen(b64);
	cr_assert_not_null(k->blob = malloc(len));
	dec = EVP_DecodeBlock(k->blob, (unsigned char *)b64, (int)len);
	cr_assert_gt(dec, 0);
	left = (size_t)dec - (len > 0 && b64[len - 1] == '=') -
	    (len > 1 && b64[len - 2] == '=');
	p = k->blob;
	cr_assert_eq(get_string(&p, &left, &type, &tlen), 0);
	cr_assert(tlen == 7 && memcmp(type, "ssh-rsa", 7) == 0);
	cr_assert_eq(get_string(&p, &left, &k->e, &k->elen), 0);
	cr_assert_eq(get_string(&p, &left, &k->n, &k->nlen), 0);
	cr_assert_eq(left, 0);
}

static enum weak_kind
judge_vector(const struct weakkeys *wk, const char *name, char *detail,
    size_t detaillen)
{
	struct rsakey	 k;
	enum weak_kind	 kind;

	read_vector(name, &k);
	cr_assert_eq(weakkeys_rsa(wk, k.n, k.nlen, k.e, k.elen, &kind,
	    detail, detaillen), 0, "%s", name);
	free(k.blob);
	return kind;
}

static void
expect_vector(const struct weakkeys *wk, const char *name,
    enum weak_kind want)
{
	char		detail[WEAK_DETAIL_MAX];
	enum weak_kind	got = judge_vector(wk, name, detail, sizeof(detail));

	cr_expect_eq(got, want, "%s: got %s, want %s", name,
	    weakkeys_name(got), weakkeys_name(want));
	cr_expect_eq(detail[0] == '\0', want == WEAK_NONE, "%s", name);
}

/* Judge BIGNUMs n and e. */
static enum weak_kind
judge_bn(const struct weakkeys *wk, const BIGNUM *n, const BIGNUM *e,
    char *detail, size_t detaillen)
{
	unsigned char	*nb, *eb;
	size_t		 nlen = (size_t)BN_num_bytes(n);
	size_t		 elen = (size_t)BN_num_bytes(e);
	enum weak_kind	 kind;
	char		 dummy[WEAK_DETAIL_MAX];

	cr_assert_not_null(nb = malloc(nlen + 1));
	cr_assert_not_null(eb = malloc(elen + 1));
	cr_assert_eq(BN_bn2bin(n, nb), (int)nlen);
	cr_assert_eq(BN_bn2bin(e, eb), (int)elen);
	if (detail == NULL) {
		detail = dummy;
		detaillen = sizeof(dummy);
	}
	cr_assert_eq(weakkeys_rsa(wk, nb, nlen, eb, elen, &kind, detail,
	    detaillen), 0);
	free(nb);
	free(eb);
	return kind;
}

static BIGNUM *
bn_word(BN_ULONG w)
{
	BIGNUM	*b = BN_new();

	cr_assert_not_null(b);
	cr_assert(BN_set_word(b, w));
	return b;
}

static BIGNUM *
prime(int bits)
{
	BIGNUM	*p = BN_new();

	cr_assert_not_null(p);
	cr_assert(BN_generate_prime_ex(p, bits, 0, NULL, NULL, NULL));
	return p;
}

/* The next prime after p (p odd). */
static BIGNUM *
next_prime(const BIGNUM *p, BN_CTX *ctx)
{
	BIGNUM	*q = BN_dup(p);

	cr_assert_not_null(q);
	do
		cr_assert(BN_add_word(q, 2));
	while (BN_check_prime(q, ctx, NULL) != 1);
	return q;
}

static BIGNUM *
mul(const BIGNUM *a, const BIGNUM *b, BN_CTX *ctx)
{
	BIGNUM	*r = BN_new();

	cr_assert_not_null(r);
	cr_assert(BN_mul(r, a, b, ctx));
	return r;
}

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- names and degenerate input --------------------------------------- */

Test(weakkeys, names_are_stable)
{
	static const char *const want[] = { "none", "modulus_even",
	    "small_factor", "modulus_square", "fermat", "roca",
	    "small_private_exponent", "sparse_modulus" };
	int	i;

	for (i = WEAK_NONE; i <= WEAK_SPARSE; i++)
		cr_expect_str_eq(weakkeys_name((enum weak_kind)i), want[i]);
	cr_expect_str_eq(weakkeys_name((enum weak_kind)99), "unknown");
}

Test(weakkeys, new_and_free)
{
	struct weakkeys	*wk = wk_get();

	weakkeys_free(wk);
	weakkeys_free(NULL);
}

Test(weakkeys, degenerate_inputs_do_not_crash)
{
	struct weakkeys		*wk = wk_get();
	static const unsigned char zero[4] = { 0, 0, 0, 0 };
	static const unsigned char one[3] = { 0, 0, 1 };
	static const unsigned char e3[1] = { 3 };
	enum weak_kind		 kind;
	char			 d[WEAK_DETAIL_MAX];

	cr_expect_eq(weakkeys_rsa(wk, NULL, 0, e3, 1, &kind, d, sizeof(d)), 0);
	cr_expect_eq(kind, WEAK_N_EVEN, "nlen 0: 0 is even");
	cr_expect_eq(weakkeys_rsa(wk, zero, 4, NULL, 0, &kind, d, sizeof(d)),
	    0);
	cr_expect_eq(kind, WEAK_N_EVEN, "n = 0, e empty");
	cr_expect_eq(weakkeys_rsa(wk, one, 3, zero, 1, &kind, d, sizeof(d)),
	    0);
	cr_expect_eq(kind, WEAK_N_SQUARE, "n = 1 = 1^2");
	cr_expect_eq(weakkeys_rsa(wk, one, 3, e3, 1, &kind, NULL, 0), 0);
	cr_expect_eq(weakkeys_rsa(wk, one, 3, e3, 1, &kind, d, 1), 0);
	cr_expect_eq(d[0], '\0', "truncated detail is terminated");
	weakkeys_free(wk);
}

Test(weakkeys, zero_exponent_and_e_above_n_are_judged)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*p = prime(1024), *q = prime(1024), *n = mul(p, q, ctx);
	BIGNUM		*z = BN_new(), *big = BN_new();

	cr_assert(z != NULL && big != NULL && BN_lshift(big, n, 5));
	BN_zero(z);
	cr_expect_eq(judge_bn(wk, n, z, NULL, 0), WEAK_NONE, "e = 0");
	cr_assert(BN_add_word(big, 1));
	cr_expect_eq(judge_bn(wk, n, big, NULL, 0), WEAK_NONE, "e > n");
	BN_free(p), BN_free(q), BN_free(n), BN_free(z), BN_free(big);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

/* ---- the badkeys vectors ---------------------------------------------- */

Test(weakkeys, vector_roca)
{
	struct weakkeys	*wk = wk_get();
	char		 d[WEAK_DETAIL_MAX];

	cr_expect_eq(judge_vector(wk, "rsa-roca.key.openssh.pub", d,
	    sizeof(d)), WEAK_ROCA);
	cr_expect_str_eq(d, D_ROCA);
	weakkeys_free(wk);
}

Test(weakkeys, vectors_fermat)
{
	struct weakkeys	*wk = wk_get();
	char		 d[WEAK_DETAIL_MAX];

	expect_vector(wk, "rsa-fermat-pkcs1.key.openssh.pub", WEAK_N_SQUARE);
	expect_vector(wk, "rsa-fermat-pkcs8.key.openssh.pub", WEAK_FERMAT);
	expect_vector(wk, "rsa-fermat.crt.openssh.pub", WEAK_FERMAT);
	cr_expect_eq(judge_vector(wk, "rsa-fermat.csr.openssh.pub", d,
	    sizeof(d)), WEAK_FERMAT);
	cr_expect_str_eq(d, D_FERMAT);
	weakkeys_free(wk);
}

Test(weakkeys, vectors_small_factors_name_the_factor)
{
	struct weakkeys	*wk = wk_get();
	char		 d[WEAK_DETAIL_MAX];

	cr_expect_eq(judge_vector(wk, "rsa-smallfactors-valid.key.openssh.pub",
	    d, sizeof(d)), WEAK_SMALL_FACTOR);
	cr_expect_str_eq(d, "the modulus is divisible by 31337: it is "
	    "trivially factored");
	/* 3, 5, 23, 47 and 83 divide it: the smallest is named */
	cr_expect_eq(judge_vector(wk,
	    "rsa-smallfactors-corrupt.key.openssh.pub", d, sizeof(d)),
	    WEAK_SMALL_FACTOR);
	cr_expect_not_null(strstr(d, "divisible by 3:"), "%s", d);
	weakkeys_free(wk);
}

Test(weakkeys, vector_small_d)
{
	struct weakkeys	*wk = wk_get();

	expect_vector(wk, "rsa-small-d.key.openssh.pub", WEAK_SMALL_D);
	weakkeys_free(wk);
}

Test(weakkeys, vectors_sparse)
{
	struct weakkeys	*wk = wk_get();

	expect_vector(wk, "rsapoly32.key.openssh.pub", WEAK_SPARSE);
	expect_vector(wk, "rsapoly128.key.openssh.pub", WEAK_SPARSE);
	expect_vector(wk, "rsa-pattern.key.openssh.pub", WEAK_SPARSE);
	weakkeys_free(wk);
}

Test(weakkeys, vectors_negative_controls)
{
	struct weakkeys	*wk = wk_get();
	static const char *const ok[] = {
		"rsa-ok.key.openssh.pub", "jwk-rsa-ok.json.openssh.pub",
		"jwk-rsa-rfc7517.json.openssh.pub",
		"rsa-large-e.key.openssh.pub", "rsa-vanity.key.openssh.pub",
		"dnssec/dnssec-root-rsa.dnskey.openssh.pub",
		"dnssec/dnssec-rsa-large-e.dnskey.openssh.pub",
		"dkim/dkim-valid-gmail.txt.openssh.pub",
		"dkim/dkim-comment-quotes.txt.openssh.pub",
		/* shared primes need a database of other keys: not here */
		"rsa-sharedprimes.key.openssh.pub",
		/* a blocklist entry, not a mathematical weakness */
		"rsa-debianweak.key.openssh.pub",
	};
	size_t	 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_vector(wk, ok[i], WEAK_NONE);
	weakkeys_free(wk);
}

Test(weakkeys, vectors_degenerate_n_zero)
{
	struct weakkeys	*wk = wk_get();

	expect_vector(wk, "rsanzero.key.openssh.pub", WEAK_N_EVEN);
	expect_vector(wk, "rsazerozero.key.openssh.pub", WEAK_N_EVEN);
	weakkeys_free(wk);
}

/* ---- hand-built weak keys --------------------------------------------- */

Test(weakkeys, even_modulus)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*p = prime(1024), *two = bn_word(2), *n, *e = bn_word(65537);
	char		 d[WEAK_DETAIL_MAX];

	n = mul(p, two, ctx);
	cr_expect_eq(judge_bn(wk, n, e, d, sizeof(d)), WEAK_N_EVEN);
	cr_expect_str_eq(d, "the modulus is even: it is trivially factored");
	BN_free(p), BN_free(two), BN_free(n), BN_free(e);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

Test(weakkeys, square_and_close_primes)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*p = prime(1024), *q, *n, *e = bn_word(65537);

	q = next_prime(p, ctx);
	n = mul(p, p, ctx);
	cr_expect_eq(judge_bn(wk, n, e, NULL, 0), WEAK_N_SQUARE, "p^2");
	BN_free(n);
	n = mul(p, q, ctx);
	cr_expect_eq(judge_bn(wk, n, e, NULL, 0), WEAK_FERMAT,
	    "p * nextprime(p)");
	BN_free(p), BN_free(q), BN_free(n), BN_free(e);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

/* Fermat finds p, q when (p + q) / 2 - ceil(sqrt(n)) < FERMAT_ROUNDS. */
Test(weakkeys, fermat_round_limit)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*p = prime(1024), *q, *n, *e = bn_word(65537), *t;

	/* q ~ p + 2^540: (p - q)^2 / 8 sqrt(n) ~ 2^(1080 - 3 - 1024) */
	cr_assert_not_null(t = BN_new());
	cr_assert(BN_set_word(t, 1) && BN_lshift(t, t, 540) &&
	    BN_add(t, t, p));
	q = next_prime(t, ctx);
	n = mul(p, q, ctx);
	cr_expect_eq(judge_bn(wk, n, e, NULL, 0), WEAK_NONE,
	    "primes 2^540 apart are beyond 100 Fermat steps");
	BN_free(p), BN_free(q), BN_free(n), BN_free(e), BN_free(t);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

/* e = d^-1 mod (p-1)(q-1). */
static BIGNUM *
exponent_for(const BIGNUM *p, const BIGNUM *q, const BIGNUM *d, BN_CTX *ctx)
{
	BIGNUM	*p1 = BN_dup(p), *q1 = BN_dup(q), *phi = BN_new(), *e;

	cr_assert(p1 != NULL && q1 != NULL && phi != NULL);
	cr_assert(BN_sub_word(p1, 1) && BN_sub_word(q1, 1) &&
	    BN_mul(phi, p1, q1, ctx));
	e = BN_mod_inverse(NULL, d, phi, ctx);
	BN_free(p1), BN_free(q1), BN_free(phi);
	return e;
}

Test(weakkeys, small_private_exponent)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*p = prime(1024), *q = prime(1024), *n, *e, *d;
	int		 bits[] = { 17, 300, 500 }, i, tries;

	n = mul(p, q, ctx);
	for (i = 0; i < 3; i++) {
		cr_assert_not_null(d = BN_new());
		for (e = NULL, tries = 0; e == NULL && tries < 100; tries++) {
			cr_assert(BN_rand(d, bits[i], BN_RAND_TOP_ONE,
			    BN_RAND_BOTTOM_ODD));
			e = exponent_for(p, q, d, ctx);
		}
		cr_assert_not_null(e);
		cr_expect_eq(judge_bn(wk, n, e, NULL, 0), WEAK_SMALL_D,
		    "d of %d bits", bits[i]);
		BN_free(d), BN_free(e);
	}
	/* d of 1500 bits: e is large but d is not small */
	cr_assert_not_null(d = BN_new());
	for (e = NULL; e == NULL; ) {
		cr_assert(BN_rand(d, 1500, BN_RAND_TOP_ONE,
		    BN_RAND_BOTTOM_ODD));
		e = exponent_for(p, q, d, ctx);
	}
	cr_expect_eq(judge_bn(wk, n, e, NULL, 0), WEAK_NONE);
	BN_free(p), BN_free(q), BN_free(n), BN_free(d), BN_free(e);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

/* A key that trips several checks gets the first in the documented order. */
Test(weakkeys, first_finding_wins)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*nine = bn_word(9), *four = bn_word(4), *e3 = bn_word(3);
	BIGNUM		*p = prime(1024), *q, *n, *d = bn_word(65537), *e;
	char		 det[WEAK_DETAIL_MAX];

	cr_expect_eq(judge_bn(wk, four, e3, NULL, 0), WEAK_N_EVEN);
	cr_expect_eq(judge_bn(wk, nine, e3, det, sizeof(det)),
	    WEAK_SMALL_FACTOR, "9 = 3^2: small factor before square");
	cr_expect_not_null(strstr(det, "divisible by 3:"));
	q = next_prime(p, ctx);
	n = mul(p, q, ctx);
	cr_assert_not_null(e = exponent_for(p, q, d, ctx));
	cr_expect_eq(judge_bn(wk, n, e, NULL, 0), WEAK_FERMAT,
	    "close primes and small d: Fermat comes first");
	BN_free(nine), BN_free(four), BN_free(e3), BN_free(p), BN_free(q);
	BN_free(n), BN_free(d), BN_free(e);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

/* ---- small factors against a reference gcd ---------------------------- */

static BIGNUM *
reference_primorial(void)
{
	BIGNUM		*P = bn_word(1);
	unsigned int	 w, f;
	int		 isprime;

	for (w = 2; w < 65536; w++) {
		for (isprime = 1, f = 2; f * f <= w && isprime; f++)
			isprime = w % f != 0;
		if (isprime)
			cr_assert(BN_mul_word(P, w));
	}
	return P;
}

static unsigned int
smallest_factor(const BIGNUM *n)
{
	unsigned int	w;

	for (w = 2; w < 65536; w++)
		if (BN_mod_word(n, w) == 0)
			return w;
	return 0;
}

static void
strip_small_factors(BIGNUM *n, BN_CTX *ctx)
{
	BN_ULONG	w;

	(void)ctx;
	for (w = 2; w < 65536; w++)
		while (!BN_is_one(n) && BN_mod_word(n, w) == 0)
			cr_assert(BN_div_word(n, w) != (BN_ULONG)-1);
}

/*
 * Every width of n (the Montgomery chunk sets and the path below 960
 * bits): the answer agrees with gcd(n, P) and names the smallest factor.
 */
Test(weakkeys, small_factor_matches_reference_gcd)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*P = reference_primorial(), *n = BN_new(), *g = BN_new();
	BIGNUM		*e = bn_word(65537), *pm = BN_new();
	static const int widths[] = { 40, 200, 512, 900, 959, 960, 1000,
	    1024, 1100, 2047, 2048, 2100, 3072, 4000, 4096, 5000, 8192 };
	size_t		 i;
	int		 t, hits = 0, misses = 0;
	enum weak_kind	 kind;
	char		 d[WEAK_DETAIL_MAX], want[64];

	cr_assert(n != NULL && g != NULL);
	for (i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		for (t = 0; t < 12; t++) {
			cr_assert(BN_rand(n, widths[i], BN_RAND_TOP_ONE,
			    BN_RAND_BOTTOM_ODD));
			/* odd t: no factor below 2^16, or only 65521 */
			if (t % 2 == 1)
				strip_small_factors(n, ctx);
			if (t == 3 && !BN_is_one(n))
				cr_assert(BN_mul_word(n, 65521));
			if (BN_is_one(n))
				continue;
			/* gcd(n, P) = gcd(n, P mod n): the cheap way round */
			cr_assert(BN_nnmod(pm, P, n, ctx));
			cr_assert(BN_gcd(g, n, pm, ctx));
			kind = judge_bn(wk, n, e, d, sizeof(d));
			if (!BN_is_one(g)) {
				hits++;
				cr_expect_eq(kind, WEAK_SMALL_FACTOR,
				    "width %d", widths[i]);
				snprintf(want, sizeof(want), "divisible by %u:",
				    smallest_factor(n));
				cr_expect_not_null(strstr(d, want), "%s", d);
			} else {
				misses++;
				cr_expect_neq(kind, WEAK_SMALL_FACTOR,
				    "width %d", widths[i]);
			}
		}
	}
	cr_expect_gt(hits, 20);
	cr_expect_gt(misses, 20);
	BN_free(P), BN_free(n), BN_free(g), BN_free(e), BN_free(pm);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

Test(weakkeys, small_moduli)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*e = bn_word(3), *a, *b, *n;
	char		 d[WEAK_DETAIL_MAX];

	/* two primes below 2^16: the smaller is named */
	a = bn_word(65521), b = bn_word(65519), n = mul(a, b, ctx);
	cr_expect_eq(judge_bn(wk, n, e, d, sizeof(d)), WEAK_SMALL_FACTOR);
	cr_expect_not_null(strstr(d, "divisible by 65519:"), "%s", d);
	BN_free(a), BN_free(b), BN_free(n);
	/* a small prime alone */
	n = bn_word(31337);
	cr_expect_eq(judge_bn(wk, n, e, d, sizeof(d)), WEAK_SMALL_FACTOR);
	BN_free(n);
	/* two primes just above 2^16: close, so Fermat */
	a = bn_word(65537), b = bn_word(65539), n = mul(a, b, ctx);
	cr_expect_eq(judge_bn(wk, n, e, NULL, 0), WEAK_FERMAT);
	BN_free(a), BN_free(b), BN_free(n), BN_free(e);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

/* ---- ROCA --------------------------------------------------------------- */

/* An RSALib-style prime: k * M + (65537^a mod M), M = 2 * 3 * ... * 167. */
static BIGNUM *
rsalib_prime(int bits, BN_CTX *ctx)
{
	BIGNUM		*M = bn_word(1), *g = bn_word(65537), *a = BN_new();
	BIGNUM		*k = BN_new(), *p = BN_new(), *t = BN_new();
	unsigned int	 w, f, np = 0;
	int		 isprime;

	cr_assert(a != NULL && k != NULL && p != NULL && t != NULL);
	for (w = 2; np < 39; w++) {
		for (isprime = 1, f = 2; f * f <= w && isprime; f++)
			isprime = w % f != 0;
		if (isprime && ++np)
			cr_assert(BN_mul_word(M, w));
	}
	cr_assert_eq(w - 1, 167);
	do {
		cr_assert(BN_rand(a, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
		cr_assert(BN_mod_exp(t, g, a, M, ctx));
		cr_assert(BN_rand(k, bits - BN_num_bits(M), BN_RAND_TOP_TWO,
		    BN_RAND_BOTTOM_ANY));
		cr_assert(BN_mul(p, k, M, ctx) && BN_add(p, p, t));
	} while (BN_check_prime(p, ctx, NULL) != 1);
	BN_free(M), BN_free(g), BN_free(a), BN_free(k), BN_free(t);
	return p;
}

Test(weakkeys, roca_hand_built)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*p, *q, *n, *e = bn_word(65537), *r = prime(1024);
	int		 i;

	for (i = 0; i < 3; i++) {
		p = rsalib_prime(1024, ctx);
		q = rsalib_prime(1024, ctx);
		n = mul(p, q, ctx);
		cr_expect_eq(judge_bn(wk, n, e, NULL, 0), WEAK_ROCA);
		BN_free(n);
		/* one RSALib prime is not enough for the fingerprint */
		n = mul(p, r, ctx);
		cr_expect_eq(judge_bn(wk, n, e, NULL, 0), WEAK_NONE);
		BN_free(n), BN_free(p), BN_free(q);
	}
	BN_free(e), BN_free(r);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

/* ---- false positives ---------------------------------------------------- */

/* All pairs of 160 random 512-bit primes: 12,720 moduli, none weak. */
Test(weakkeys, no_false_positives_1024)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*pr[160], *n = BN_new(), *e = bn_word(65537);
	size_t		 i, j, count = 0, bad = 0;
	enum weak_kind	 kind;

	cr_assert_not_null(n);
	for (i = 0; i < 160; i++)
		pr[i] = prime(512);
	for (i = 0; i < 160; i++)
		for (j = i + 1; j < 160; j++) {
			cr_assert(BN_mul(n, pr[i], pr[j], ctx));
			kind = judge_bn(wk, n, e, NULL, 0);
			count++;
			if (kind != WEAK_NONE) {
				bad++;
				cr_log_error("false positive: %s",
				    weakkeys_name(kind));
			}
		}
	cr_expect_eq(bad, 0);
	cr_log_info("weakkeys: %zu random 1024-bit moduli, %zu findings",
	    count, bad);
	for (i = 0; i < 160; i++)
		BN_free(pr[i]);
	BN_free(n), BN_free(e);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

Test(weakkeys, no_false_positives_2048)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	BIGNUM		*p, *q, *n, *e = bn_word(65537);
	int		 i, bad = 0;
	enum weak_kind	 kind;

	for (i = 0; i < 200; i++) {
		p = prime(1024), q = prime(1024), n = mul(p, q, ctx);
		if ((kind = judge_bn(wk, n, e, NULL, 0)) != WEAK_NONE) {
			bad++;
			cr_log_error("false positive: %s",
			    weakkeys_name(kind));
		}
		BN_free(p), BN_free(q), BN_free(n);
	}
	cr_expect_eq(bad, 0);
	BN_free(e);
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}

Test(weakkeys, ssh_keygen_keys_are_clean)
{
	struct weakkeys	*wk = wk_get();
	char		 dir[] = "/tmp/test_weakkeys.XXXXXX", cmd[1024], name[64];
	char		 vdir[64];
	int		 i;

	cr_assert_not_null(mkdtemp(dir));
	/* read_vector takes $KEYADM_VECTORS/badkeys/<name>: point it here */
	snprintf(vdir, sizeof(vdir), "%s/badkeys", dir);
	cr_assert_eq(mkdir(vdir, 0700), 0);
	cr_assert_eq(setenv("KEYADM_VECTORS", dir, 1), 0);
	for (i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), "ssh-keygen -q -t rsa -b 3072 "
		    "-N '' -C '' -f %s/k%d >/dev/null 2>&1", vdir, i);
		cr_assert_eq(system(cmd), 0, "ssh-keygen failed");
		snprintf(name, sizeof(name), "k%d.pub", i);
		expect_vector(wk, name, WEAK_NONE);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	weakkeys_free(wk);
}

/* ---- speed (reported, not asserted) -------------------------------------- */

static double
time_size(const struct weakkeys *wk, int bits, BN_CTX *ctx)
{
	BIGNUM		*p = prime(bits / 2), *q = prime(bits / 2), *n;
	BIGNUM		*e = bn_word(65537);
	unsigned char	 nb[1024], eb[8];
	int		 nlen, elen, i, rounds = 200;
	enum weak_kind	 kind;
	char		 d[WEAK_DETAIL_MAX];
	double		 t0;

	n = mul(p, q, ctx);
	nlen = BN_bn2bin(n, nb);
	elen = BN_bn2bin(e, eb);
	t0 = now_us();
	for (i = 0; i < rounds; i++) {
		cr_assert_eq(weakkeys_rsa(wk, nb, (size_t)nlen, eb,
		    (size_t)elen, &kind, d, sizeof(d)), 0);
		cr_assert_eq(kind, WEAK_NONE);
	}
	t0 = (now_us() - t0) / rounds;
	BN_free(p), BN_free(q), BN_free(n), BN_free(e);
	return t0;
}

Test(weakkeys, speed_report)
{
	struct weakkeys	*wk = wk_get();
	BN_CTX		*ctx = BN_CTX_new();
	static const int sizes[] = { 2048, 3072, 4096 };
	size_t		 i;
	double		 t0;

	t0 = now_us();
	weakkeys_free(wk);
	wk = wk_get();
	fprintf(stderr, "weakkeys: tables built in %.0f us\n", now_us() - t0);
	for (i = 0; i < 3; i++)
		fprintf(stderr, "weakkeys: %d-bit key, full check: %.1f us\n",
		    sizes[i], time_size(wk, sizes[i], ctx));
	BN_CTX_free(ctx);
	weakkeys_free(wk);
}
