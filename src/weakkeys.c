/*
 * weakkeys.c -- known weaknesses of RSA moduli, from the published
 * mathematics, with OpenSSL bignums.
 *
 * Owns: judging one RSA public key (n, e) against the weak-key list of
 * DESIGN.md ("Intake and validation").  Pure computation, no I/O.
 *
 * Invariants (each one has a test in tests/unit/test_weakkeys.c):
 * - The checks run in this order and stop at the first finding: n even;
 *   a prime factor below 2^16; the ROCA fingerprint; n a square, or p and
 *   q close enough for FERMAT_ROUNDS steps of Fermat's method; a small
 *   private exponent (Wiener), tried only when bits(e) > bits(n) / 2; a
 *   sparse modulus (too few one bits in n and in its lower half).
 * - Every loop is bounded by a constant or by the size of n, so no input
 *   makes the checks spin; degenerate input never crashes: nlen 0 and
 *   n = 0 are "even" (0 is even), n = 1 is a square (1 = 1^2).
 * - A detail is a fixed sentence.  The only number it ever carries is a
 *   small prime factor; nothing else of the key is copied anywhere.
 * - struct weakkeys is read-only once weakkeys_new returns; weakkeys_rsa
 *   allocates its own scratch, so one struct serves any number of calls.
 * - A failed computation returns KE_NOMEM or KE_INTERNAL and leaves *kind
 *   WEAK_NONE with an empty detail: the caller must refuse (fail closed).
 *
 * Why not one BN_gcd(n, P): OpenSSL 3's BN_gcd is constant time, about
 * 700 us for 2048 bits, and reducing the 94,000-bit P modulo n with BN_div
 * costs another 170 us.  Instead P is kept in chunks just under the width
 * of n, their product is accumulated modulo n with Montgomery
 * multiplication (which only adds a factor 2^-64k, coprime to odd n), and
 * the gcd of that residue with n is a plain binary gcd on 64-bit limbs:
 * no secrets here, so nothing needs to be constant time.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "err.h"
#include "weakkeys.h"

#define SMALL_PRIME_LIMIT 65536	/* trial division by every prime below */
#define NSMALLPRIMES	6542	/* how many primes there are below 2^16 */
#define CHUNK_UNIT_BITS	1024	/* chunk set k holds products <= k * unit */
#define CHUNK_SETS	4	/* so chunks of at most 1024..4096 bits */
#define ROCA_NPRIMES	38	/* the odd primes of RSALib's M: 3..167 */
#define ROCA_PMAX	167	/* the largest of them */
#define ROCA_WORDS	((ROCA_PMAX + 32) / 32)	/* bitmap words per prime */
#define ROCA_GENERATOR	65537	/* RSALib primes are k*M + 65537^a mod M */
/*
 * Fermat's method finds p and q at step i when (p + q) / 2 is
 * ceil(sqrt(n)) + i, i.e. roughly when |p - q| < 2^(bits(n)/4 + 4) for
 * 100 steps.  Random primes differ in their top bits; close primes come
 * from broken generators that search upwards from one random start, and
 * the known vectors fall at steps 1 to 27.  100 steps cost about 1 us.
 */
#define FERMAT_ROUNDS	100
#define QR_MOD		2882880	/* 64 * 63 * 65 * 11: the residue filters */
#define SPARSE_MIN_BITS	500	/* below this the bit count says little */
#define SPARSE_PERCENT	40	/* random n: 50% ones, sd sqrt(bits) / 2 */
#define WIENER_SLACK	8	/* d bound: 2^(bits(n)/4 + slack) */

/* Bit r of these masks is set when r is a square modulo 64, 63, 65, 11. */
static const uint64_t qr64 = 0x0202021202030213ULL;
static const uint64_t qr63 = 0x0402483012450293ULL;
static const uint64_t qr65[2] = { 0x218a019866014613ULL, 0x1ULL };
static const uint64_t qr11 = 0x23bULL;

struct chunkset {
	BIGNUM		**c;	/* products of consecutive small primes */
	size_t		  n;
};

struct weakkeys {
	uint16_t	 primes[NSMALLPRIMES];
	BIGNUM		*primorial;	/* P: every prime below 2^16 */
	struct chunkset	 chunks[CHUNK_SETS];
	uint32_t	 roca_sub[ROCA_NPRIMES][ROCA_WORDS];
	uint32_t	 roca_mod[ROCA_NPRIMES];	/* products < 2^32 */
	size_t		 roca_end[ROCA_NPRIMES];	/* past the group */
	size_t		 roca_ngroups;
};

/* One call of weakkeys_rsa: its operands, scratch and answer. */
struct job {
	BN_CTX			*ctx;
	BIGNUM			*n;
	BIGNUM			*e;
	int			 nbits;
	const unsigned char	*nb;	/* n without leading zero bytes */
	size_t			 nblen;
	enum weak_kind		 kind;
	unsigned int		 factor;	/* the small prime found */
};

static const char *const names[] = {
	"none", "modulus_even", "small_factor", "modulus_square", "fermat",
	"roca", "small_private_exponent", "sparse_modulus"
};

static const char *const details[] = {
	"",
	"the modulus is even: it is trivially factored",
	"",		/* built with the factor in weakkeys_rsa */
	"the modulus is a square: it is trivially factored",
	"the primes are too close together: Fermat's method factors the "
	    "modulus",
	"Infineon RSALib key (ROCA, CVE-2017-15361): factorable; the user "
	    "must make a new key on other hardware/software",
	"the private exponent is small: Wiener's attack recovers it from the "
	    "public key",
	"the modulus has far too few one bits: its primes come from a flawed "
	    "generator (polynomial or patterned primes)"
};

/* ---- tables ----------------------------------------------------------- */

static int
qr_tables_ok(void)
{
	uint64_t	 m64 = 0, m63 = 0, m65[2] = { 0, 0 }, m11 = 0;
	unsigned int	 x, r;

	for (x = 0; x < 65; x++) {
		m64 |= 1ULL << (x * x % 64);
		m63 |= 1ULL << (x * x % 63);
		r = x * x % 65;
		m65[r / 64] |= 1ULL << (r % 64);
		m11 |= 1ULL << (x * x % 11);
	}
	return m64 == qr64 && m63 == qr63 && m65[0] == qr65[0] &&
	    m65[1] == qr65[1] && m11 == qr11;
}

static int
sieve_primes(struct weakkeys *wk)
{
	unsigned char	*comp;
	size_t		 i, j, np = 0;

	if ((comp = calloc(SMALL_PRIME_LIMIT, 1)) == NULL)
		return KE_NOMEM;
	for (i = 2; i < SMALL_PRIME_LIMIT; i++) {
		if (comp[i])
			continue;
		if (np == NSMALLPRIMES) {
			free(comp);
			return KE_INTERNAL;
		}
		wk->primes[np++] = (uint16_t)i;
		for (j = i * i; j < SMALL_PRIME_LIMIT; j += i)
			comp[j] = 1;
	}
	free(comp);
	return np == NSMALLPRIMES ? 0 : KE_INTERNAL;
}

/* Products of consecutive primes, each at most maxbits bits. */
static int
build_chunks(struct weakkeys *wk, struct chunkset *cs, int maxbits)
{
	BIGNUM	*cur = NULL;
	size_t	 i, cap = (size_t)NSMALLPRIMES * 16 / (size_t)maxbits + 2;

	if ((cs->c = calloc(cap, sizeof(*cs->c))) == NULL)
		return KE_NOMEM;
	for (i = 0; i < NSMALLPRIMES; i++) {
		if (cur != NULL && BN_num_bits(cur) + 16 > maxbits) {
			cs->c[cs->n++] = cur;
			cur = NULL;
		}
		if (cur == NULL && ((cur = BN_new()) == NULL || !BN_one(cur))) {
			BN_free(cur);
			return KE_NOMEM;
		}
		if (cs->n >= cap - 1 || !BN_mul_word(cur, wk->primes[i])) {
			BN_free(cur);
			return KE_INTERNAL;
		}
	}
	cs->c[cs->n++] = cur;
	return 0;
}

/* Bitmap of the subgroup of (Z/p)* that 65537 generates, for 3..167. */
static void
build_roca(struct weakkeys *wk)
{
	size_t		 i;
	uint32_t	 p, g, x;
	uint64_t	 prod = 1;

	for (i = 0; i < ROCA_NPRIMES; i++) {
		p = wk->primes[i + 1];
		g = ROCA_GENERATOR % p;
		x = 1;
		do {
			wk->roca_sub[i][x / 32] |= 1U << (x % 32);
			x = x * g % p;
		} while (x != 1);
		if (prod * p > UINT32_MAX) {
			wk->roca_end[wk->roca_ngroups++] = i;
			prod = 1;
		}
		prod *= p;
		wk->roca_mod[wk->roca_ngroups] = (uint32_t)prod;
	}
	wk->roca_end[wk->roca_ngroups++] = ROCA_NPRIMES;
}

int
weakkeys_new(struct weakkeys **out)
{
	struct weakkeys	*wk;
	size_t		 i;
	int		 r, k;

	*out = NULL;
	if (!qr_tables_ok())
		return KE_INTERNAL;
	if ((wk = calloc(1, sizeof(*wk))) == NULL)
		return KE_NOMEM;
	if ((r = sieve_primes(wk)) != 0)
		goto fail;
	r = KE_NOMEM;
	if ((wk->primorial = BN_new()) == NULL || !BN_one(wk->primorial))
		goto fail;
	for (i = 0; i < NSMALLPRIMES; i++)
		if (!BN_mul_word(wk->primorial, wk->primes[i]))
			goto fail;
	for (k = 0; k < CHUNK_SETS; k++)
		if ((r = build_chunks(wk, &wk->chunks[k],
		    (k + 1) * CHUNK_UNIT_BITS)) != 0)
			goto fail;
	if (wk->primes[ROCA_NPRIMES] != ROCA_PMAX) {
		r = KE_INTERNAL;
		goto fail;
	}
	build_roca(wk);
	*out = wk;
	return 0;
 fail:
	weakkeys_free(wk);
	return r;
}

void
weakkeys_free(struct weakkeys *wk)
{
	size_t	i;
	int	k;

	if (wk == NULL)
		return;
	for (k = 0; k < CHUNK_SETS; k++) {
		for (i = 0; wk->chunks[k].c != NULL && i < wk->chunks[k].n; i++)
			BN_free(wk->chunks[k].c[i]);
		free(wk->chunks[k].c);
	}
	BN_free(wk->primorial);
	free(wk);
}

const char *
weakkeys_name(enum weak_kind kind)
{
	if ((unsigned int)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}

/* ---- integer helpers -------------------------------------------------- */

/* Could x be a square?  False means certainly not. */
static int
maybe_square(uint32_t x)
{
	uint32_t	r65 = x % 65;

	return (qr64 >> (x % 64) & 1) && (qr63 >> (x % 63) & 1) &&
	    (qr65[r65 / 64] >> (r65 % 64) & 1) && (qr11 >> (x % 11) & 1);
}

/* Overestimate of sqrt(x) from its top bits: x >= 1. */
static int
isqrt_start(BIGNUM *r, const BIGNUM *x)
{
	int		 bits = BN_num_bits(x), shift;
	BIGNUM		*top;
	uint64_t	 m;
	int		 ok;

	shift = bits > 62 ? (bits - 61) & ~1 : 0;
	if ((top = BN_new()) == NULL)
		return 0;
	ok = BN_rshift(top, x, shift) && BN_num_bits(top) <= 62;
	m = ok ? BN_get_word(top) : 0;
	BN_free(top);
	/* sqrt(m + 1) <= sqrt(m) + 1; the double may be off by one more */
	return ok && BN_set_word(r, (BN_ULONG)sqrt((double)m) + 2) &&
	    BN_lshift(r, r, shift / 2);
}

/* r = floor(sqrt(x)) by Newton's method from above; x >= 0. */
static int
bn_isqrt(BIGNUM *r, const BIGNUM *x, BN_CTX *ctx)
{
	BIGNUM	*y;
	int	 ok = 0, i;

	if (BN_is_zero(x)) {
		BN_zero(r);
		return 1;
	}
	BN_CTX_start(ctx);
	if ((y = BN_CTX_get(ctx)) == NULL || !isqrt_start(r, x))
		goto out;
	/* from a start of 31 good bits, 16 steps cover 2^21-bit numbers */
	for (i = 0; i < BN_num_bits(x) + 2; i++) {
		if (!BN_div(y, NULL, x, r, ctx) || !BN_add(y, y, r) ||
		    !BN_rshift1(y, y))
			goto out;
		if (BN_cmp(y, r) >= 0) {
			ok = 1;
			break;
		}
		if (!BN_copy(r, y))
			goto out;
	}
 out:
	BN_CTX_end(ctx);
	return ok;
}

/* *sq = 1 and root = sqrt(x) when x is a perfect square.  0 on error. */
static int
bn_is_square(const BIGNUM *x, BIGNUM *root, int *sq, BN_CTX *ctx)
{
	BN_ULONG	 m;
	BIGNUM		*t;
	int		 ok = 0;

	*sq = 0;
	if (BN_is_negative(x))
		return 1;
	if ((m = BN_mod_word(x, QR_MOD)) == (BN_ULONG)-1)
		return 0;
	if (!maybe_square((uint32_t)m))
		return 1;
	BN_CTX_start(ctx);
	if ((t = BN_CTX_get(ctx)) != NULL && bn_isqrt(root, x, ctx) &&
	    BN_sqr(t, root, ctx)) {
		*sq = BN_cmp(t, x) == 0;
		ok = 1;
	}
	BN_CTX_end(ctx);
	return ok;
}

/* ---- binary gcd on 64-bit limbs --------------------------------------- */

/* Divide a by 2 until it is odd; a != 0. */
static void
limbs_make_odd(uint64_t *a, size_t *len)
{
	size_t		 z = 0, i;
	unsigned int	 s;

	while (z < *len && a[z] == 0)
		z++;
	if (z == *len) {
		*len = 0;
		return;
	}
	if (z > 0) {
		memmove(a, a + z, (*len - z) * sizeof(*a));
		*len -= z;
	}
	s = (unsigned int)__builtin_ctzll(a[0]);
	if (s > 0) {
		for (i = 0; i + 1 < *len; i++)
			a[i] = a[i] >> s | a[i + 1] << (64 - s);
		a[*len - 1] >>= s;
	}
	while (*len > 0 && a[*len - 1] == 0)
		(*len)--;
}

static int
limbs_cmp(const uint64_t *a, size_t alen, const uint64_t *b, size_t blen)
{
	size_t	i;

	if (alen != blen)
		return alen < blen ? -1 : 1;
	for (i = alen; i-- > 0; )
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* a -= b, a > b. */
static void
limbs_sub(uint64_t *a, size_t *alen, const uint64_t *b, size_t blen)
{
	size_t		i;
	uint64_t	borrow = 0, t, d, under;

	for (i = 0; i < *alen && (i < blen || borrow != 0); i++) {
		t = i < blen ? b[i] : 0;
		d = a[i] - t;
		under = a[i] < t;
		a[i] = d - borrow;
		borrow = under | (d < borrow);
	}
	while (*alen > 0 && a[*alen - 1] == 0)
		(*alen)--;
}

/*
 * Is gcd(u, v) > 1?  Plain binary gcd: u odd, v != 0, both modified.
 * Each round takes at least one bit off u or v, so it ends within
 * 64 * (ulen + vlen) rounds.  The fallback of limbs_gcd_fast.
 */
static int
limbs_gcd_plain(uint64_t *u, size_t ulen, uint64_t *v, size_t vlen)
{
	int	c;

	limbs_make_odd(v, &vlen);
	while ((c = limbs_cmp(u, ulen, v, vlen)) != 0) {
		if (c > 0) {
			limbs_sub(u, &ulen, v, vlen);
			limbs_make_odd(u, &ulen);
		} else {
			limbs_sub(v, &vlen, u, ulen);
			limbs_make_odd(v, &vlen);
		}
	}
	return !(ulen == 1 && u[0] == 1);
}

static size_t
limbs_bits(const uint64_t *a, size_t len)
{
	while (len > 0 && a[len - 1] == 0)
		len--;
	return len == 0 ? 0 : 64 * len - (size_t)__builtin_clzll(a[len - 1]);
}

/* Bits [at, at + 33) of a, zero beyond len limbs. */
static uint64_t
limbs_window(const uint64_t *a, size_t len, size_t at)
{
	size_t		i = at / 64, s = at % 64;
	uint64_t	w;

	w = i < len ? a[i] >> s : 0;
	if (s > 31 && i + 1 < len)
		w |= a[i + 1] << (64 - s);
	return w & ((1ULL << 33) - 1);
}

/* out = |f * a + g * b| / 2^31 over len limbs (exact division). */
static void
limbs_lincomb(uint64_t *out, const uint64_t *a, const uint64_t *b,
    size_t len, int64_t f, int64_t g)
{
	__int128	acc = 0;
	uint64_t	lo, carry = 1, neg;
	size_t		i;

	for (i = 0; i < len; i++) {
		acc += (__int128)f * (__int128)a[i] + (__int128)g * b[i];
		out[i] = (uint64_t)acc;
		acc >>= 64;	/* arithmetic: GCC and clang */
	}
	neg = acc < 0 ? ~0ULL : 0;
	for (i = 0; i < len; i++) {
		lo = i + 1 < len ? out[i + 1] : (uint64_t)acc;
		out[i] = out[i] >> 31 | lo << 33;
	}
	for (i = 0; i < len; i++) {	/* two's complement when negative */
		out[i] = (out[i] ^ neg) + (carry & neg & 1);
		carry = out[i] == 0 && carry;
	}
}

/*
 * Is gcd(a, b) > 1, b odd?  Pornin's optimised binary gcd (IACR ePrint
 * 2020/972): 31 steps of "if a is odd, a -= b (swapping so that a >= b);
 * a /= 2" run on 64-bit approximations of a and b (their top 33 and low
 * 31 bits), and the 2x2 matrix of those steps is then applied to the full
 * numbers.  Each round takes about 31 bits off a and b together; should
 * twice the rounds that needs pass, the plain binary gcd decides (it never
 * has, in testing).
 */
static int
limbs_gcd_fast(uint64_t *a, uint64_t *b, uint64_t *t, uint64_t *t2,
    size_t len)
{
	uint64_t	xa, xb, sw;
	int64_t		f0, g0, f1, g1, s;
	size_t		n, round, i;

	for (round = 0; round < 2 * 128 * len / 31 + 16; round++) {
		if ((n = limbs_bits(a, len)) == 0)
			return !(limbs_bits(b, len) == 1);
		if (limbs_bits(b, len) > n)
			n = limbs_bits(b, len);
		n = n < 64 ? 64 : n;
		xa = limbs_window(a, len, n - 33) << 31 | (a[0] & 0x7fffffff);
		xb = limbs_window(b, len, n - 33) << 31 | (b[0] & 0x7fffffff);
		f0 = g1 = 1;
		g0 = f1 = 0;
		for (i = 0; i < 31; i++) {
			if (xa & 1) {
				if (xa < xb) {
					sw = xa, xa = xb, xb = sw;
					s = f0, f0 = f1, f1 = s;
					s = g0, g0 = g1, g1 = s;
				}
				xa -= xb, f0 -= f1, g0 -= g1;
			}
			xa >>= 1, f1 *= 2, g1 *= 2;
		}
		limbs_lincomb(t, a, b, len, f0, g0);
		limbs_lincomb(t2, a, b, len, f1, g1);
		memcpy(a, t, len * sizeof(*a));
		memcpy(b, t2, len * sizeof(*b));
	}
	return -1;
}

static int
bn_to_limbs(const BIGNUM *a, uint64_t *w, size_t nw, unsigned char *buf)
{
	size_t	i, j;

	if (BN_bn2lebinpad(a, buf, (int)(nw * 8)) < 0)
		return 0;
	for (i = 0; i < nw; i++) {
		w[i] = 0;
		for (j = 8; j-- > 0; )
			w[i] = w[i] << 8 | buf[i * 8 + j];
	}
	return 1;
}

/* *gt1 = gcd(n, r) > 1; n odd, r != 0, r < n. */
static int
gcd_gt1(const BIGNUM *n, const BIGNUM *r, int *gt1)
{
	size_t		 nw = ((size_t)BN_num_bits(n) + 63) / 64, vlen;
	uint64_t	*u;
	unsigned char	*buf;
	int		 ok = 0;

	u = calloc(4 * nw, sizeof(*u));
	buf = malloc(nw * 8);
	if (u == NULL || buf == NULL || !bn_to_limbs(r, u, nw, buf) ||
	    !bn_to_limbs(n, u + nw, nw, buf))
		goto out;
	ok = 1;
	if ((*gt1 = limbs_gcd_fast(u, u + nw, u + 2 * nw, u + 3 * nw,
	    nw)) >= 0)
		goto out;
	if (!bn_to_limbs(n, u, nw, buf) || !bn_to_limbs(r, u + nw, nw, buf))
		ok = 0;
	for (vlen = nw; ok && vlen > 0 && u[nw + vlen - 1] == 0; vlen--)
		;
	if (ok)
		*gt1 = limbs_gcd_plain(u, nw, u + nw, vlen);
 out:
	free(u);
	free(buf);
	return ok ? 0 : KE_NOMEM;
}

/* ---- the checks ------------------------------------------------------- */

/* acc = P * 2^(-64 words * (chunks - 1)) mod n, or P mod n when n < 960b. */
static int
primorial_residue(const struct weakkeys *wk, struct job *j, BIGNUM *acc)
{
	const struct chunkset	*cs;
	BN_MONT_CTX		*mont;
	int			 words = (j->nbits + 63) / 64, k, ok;
	size_t			 i;

	k = words * 64 / CHUNK_UNIT_BITS;
	if (k < 1)
		return BN_nnmod(acc, wk->primorial, j->n, j->ctx) ? 0 :
		    KE_NOMEM;
	cs = &wk->chunks[(k > CHUNK_SETS ? CHUNK_SETS : k) - 1];
	if ((mont = BN_MONT_CTX_new()) == NULL)
		return KE_NOMEM;
	/* acc < n and chunk < 2^(64 words): REDC stays below n */
	ok = BN_MONT_CTX_set(mont, j->n, j->ctx) &&
	    BN_nnmod(acc, cs->c[0], j->n, j->ctx);
	for (i = 1; ok && i < cs->n; i++)
		ok = BN_mod_mul_montgomery(acc, acc, cs->c[i], mont, j->ctx);
	BN_MONT_CTX_free(mont);
	return ok ? 0 : KE_NOMEM;
}

static int
check_small_factor(const struct weakkeys *wk, struct job *j)
{
	BIGNUM		*acc;
	BN_ULONG	 m;
	int		 r, gt1 = 1;
	size_t		 i;

	BN_CTX_start(j->ctx);
	r = KE_NOMEM;
	if ((acc = BN_CTX_get(j->ctx)) == NULL ||
	    (r = primorial_residue(wk, j, acc)) != 0)
		goto out;
	/* acc == 0: n divides P, so n is a product of small primes */
	if (!BN_is_zero(acc) && (r = gcd_gt1(j->n, acc, &gt1)) != 0)
		goto out;
	for (i = 0; gt1 && i < NSMALLPRIMES; i++) {
		if ((m = BN_mod_word(j->n, wk->primes[i])) == (BN_ULONG)-1) {
			r = KE_NOMEM;
			goto out;
		}
		if (m == 0) {
			j->kind = WEAK_SMALL_FACTOR;
			j->factor = wk->primes[i];
			break;
		}
	}
	r = gt1 && j->kind == WEAK_NONE ? KE_INTERNAL : 0;
 out:
	BN_CTX_end(j->ctx);
	return r;
}

/* n mod p lies in <65537> mod p for every odd prime p of RSALib's M. */
static int
check_roca(const struct weakkeys *wk, struct job *j)
{
	BN_ULONG	 m;
	uint32_t	 r;
	size_t		 g, i = 0;

	for (g = 0; g < wk->roca_ngroups; g++) {
		m = BN_mod_word(j->n, wk->roca_mod[g]);
		if (m == (BN_ULONG)-1)
			return KE_NOMEM;
		for (; i < wk->roca_end[g]; i++) {
			r = (uint32_t)(m % wk->primes[i + 1]);
			if (!(wk->roca_sub[i][r / 32] >> (r % 32) & 1))
				return 0;
		}
	}
	j->kind = WEAK_ROCA;
	return 0;
}

/* Is a0 + i (with b2 = (a0 + i)^2 - n) a Fermat solution? */
static int
fermat_try(struct job *j, const BIGNUM *a0, const BIGNUM *b20,
    unsigned long i, BIGNUM *t)
{
	BIGNUM	*b, *b2;
	int	 sq, ok = 0;

	BN_CTX_start(j->ctx);
	b = BN_CTX_get(j->ctx);
	b2 = BN_CTX_get(j->ctx);
	/* b2 = b20 + i * (2 * a0 + i) */
	if (b2 == NULL || !BN_lshift1(t, a0) || !BN_add_word(t, i) ||
	    !BN_mul_word(t, i) || !BN_add(b2, b20, t) ||
	    !bn_is_square(b2, b, &sq, j->ctx))
		goto out;
	ok = 1;
	if (!sq)
		goto out;
	/* a - b == 1 would be the trivial 1 * n, not a factorisation */
	if (BN_is_zero(b))
		j->kind = WEAK_N_SQUARE;
	else if (BN_copy(t, a0) == NULL || !BN_add_word(t, i) ||
	    !BN_sub(t, t, b))
		ok = 0;
	else if (!BN_is_one(t))
		j->kind = WEAK_FERMAT;
 out:
	BN_CTX_end(j->ctx);
	return ok;
}

static int
check_fermat(struct job *j)
{
	BIGNUM		*a, *b2, *t;
	BN_ULONG	 ra, rb;
	unsigned long	 i;
	int		 r = KE_NOMEM;

	BN_CTX_start(j->ctx);
	a = BN_CTX_get(j->ctx);
	b2 = BN_CTX_get(j->ctx);
	if ((t = BN_CTX_get(j->ctx)) == NULL || !bn_isqrt(a, j->n, j->ctx) ||
	    !BN_sqr(b2, a, j->ctx))
		goto out;
	if (BN_cmp(b2, j->n) < 0 && (!BN_add_word(a, 1) ||
	    !BN_sqr(b2, a, j->ctx)))
		goto out;
	if (!BN_sub(b2, b2, j->n) ||
	    (ra = BN_mod_word(a, QR_MOD)) == (BN_ULONG)-1 ||
	    (rb = BN_mod_word(b2, QR_MOD)) == (BN_ULONG)-1)
		goto out;
	/* the residues follow b2 += 2a + 1, a += 1 in small integers */
	for (i = 0; i < FERMAT_ROUNDS && j->kind == WEAK_NONE; i++) {
		if (maybe_square((uint32_t)rb) &&
		    !fermat_try(j, a, b2, i, t))
			goto out;
		rb = (rb + 2 * ra + 1) % QR_MOD;
		ra = (ra + 1) % QR_MOD;
	}
	r = 0;
 out:
	BN_CTX_end(j->ctx);
	return r;
}

/* Does the convergent k/d of e/n give phi and so p, q?  0 on error. */
static int
wiener_try(struct job *j, const BIGNUM *k, const BIGNUM *d, int *hit)
{
	BIGNUM	*t, *phi, *rem, *s, *root;
	int	 ok = 0, sq;

	*hit = 0;
	BN_CTX_start(j->ctx);
	t = BN_CTX_get(j->ctx);
	phi = BN_CTX_get(j->ctx);
	rem = BN_CTX_get(j->ctx);
	s = BN_CTX_get(j->ctx);
	if ((root = BN_CTX_get(j->ctx)) == NULL ||
	    !BN_mul(t, j->e, d, j->ctx) || !BN_sub_word(t, 1) ||
	    !BN_div(phi, rem, t, k, j->ctx))
		goto out;
	ok = 1;
	if (!BN_is_zero(rem))
		goto out;
	/* s = p + q = n - phi + 1; (p - q)^2 = s^2 - 4n */
	ok = BN_sub(s, j->n, phi) && BN_add_word(s, 1) &&
	    BN_sqr(t, s, j->ctx) && BN_lshift(rem, j->n, 2) &&
	    BN_sub(t, t, rem) && bn_is_square(t, root, &sq, j->ctx);
	if (!ok || !sq || BN_is_negative(s))
		goto out;
	/* q = (s - root) / 2 must be an integer above 1 */
	ok = BN_sub(t, s, root);
	*hit = ok && !BN_is_odd(t) && BN_num_bits(t) > 2;
 out:
	BN_CTX_end(j->ctx);
	return ok;
}

/* One step of the continued fraction: x = q * x1 + x2; shift. */
static int
cf_step(BIGNUM *x2, BIGNUM *x1, const BIGNUM *q, BIGNUM *t, BN_CTX *ctx)
{
	return BN_mul(t, q, x1, ctx) && BN_add(t, t, x2) &&
	    BN_copy(x2, x1) != NULL && BN_copy(x1, t) != NULL;
}

static int
check_wiener(struct job *j)
{
	BIGNUM	*num, *den, *q, *rem, *k1, *k2, *d1, *d2, *t;
	int	 r = KE_NOMEM, i, hit = 0, dmax = j->nbits / 4 + WIENER_SLACK;

	if (BN_num_bits(j->e) <= j->nbits / 2)
		return 0;	/* d cannot be small enough for Wiener */
	BN_CTX_start(j->ctx);
	num = BN_CTX_get(j->ctx);
	den = BN_CTX_get(j->ctx);
	q = BN_CTX_get(j->ctx);
	rem = BN_CTX_get(j->ctx);
	k1 = BN_CTX_get(j->ctx);
	k2 = BN_CTX_get(j->ctx);
	d1 = BN_CTX_get(j->ctx);
	d2 = BN_CTX_get(j->ctx);
	if ((t = BN_CTX_get(j->ctx)) == NULL || !BN_copy(num, j->e) ||
	    !BN_copy(den, j->n) || !BN_one(k1) || !BN_one(d2))
		goto out;
	BN_zero(k2);
	BN_zero(d1);
	for (i = 0; i < 2 * j->nbits && !BN_is_zero(den) && !hit; i++) {
		if (!BN_div(q, rem, num, den, j->ctx) ||
		    !cf_step(k2, k1, q, t, j->ctx) ||
		    !cf_step(d2, d1, q, t, j->ctx) ||
		    !BN_copy(num, den) || !BN_copy(den, rem))
			goto out;
		if (BN_num_bits(d1) > dmax)
			break;
		if (!BN_is_zero(k1) && !wiener_try(j, k1, d1, &hit))
			goto out;
	}
	if (hit)
		j->kind = WEAK_SMALL_D;
	r = 0;
 out:
	BN_CTX_end(j->ctx);
	return r;
}

/* Too few ones in n and in its lower half: a polynomial/pattern modulus. */
static void
check_sparse(struct job *j)
{
	size_t		 i, ones = 0, low = 0, half = (size_t)j->nbits / 2;
	unsigned int	 byte;

	if (j->nbits < SPARSE_MIN_BITS)
		return;
	for (i = 0; i < j->nblen; i++) {
		byte = j->nb[j->nblen - 1 - i];
		ones += (size_t)__builtin_popcount(byte);
		if (i < half / 8)
			low += (size_t)__builtin_popcount(byte);
		else if (i == half / 8)
			low += (size_t)__builtin_popcount(byte &
			    ((1U << (half % 8)) - 1));
	}
	if (ones * 100 < (size_t)j->nbits * SPARSE_PERCENT &&
	    low * 100 < half * SPARSE_PERCENT)
		j->kind = WEAK_SPARSE;
}

/* ---- entry point ------------------------------------------------------ */

static int
run_checks(const struct weakkeys *wk, struct job *j)
{
	int	r;

	if (BN_is_zero(j->n) || !BN_is_odd(j->n)) {
		j->kind = WEAK_N_EVEN;
		return 0;
	}
	if (BN_is_one(j->n)) {
		j->kind = WEAK_N_SQUARE;
		return 0;
	}
	if ((r = check_small_factor(wk, j)) != 0 || j->kind != WEAK_NONE)
		return r;
	if ((r = check_roca(wk, j)) != 0 || j->kind != WEAK_NONE)
		return r;
	if ((r = check_fermat(j)) != 0 || j->kind != WEAK_NONE)
		return r;
	if ((r = check_wiener(j)) != 0 || j->kind != WEAK_NONE)
		return r;
	check_sparse(j);
	return 0;
}

int
weakkeys_rsa(const struct weakkeys *wk, const unsigned char *n, size_t nlen,
    const unsigned char *e, size_t elen, enum weak_kind *kind, char *detail,
    size_t detaillen)
{
	struct job	 j;
	int		 r = KE_NOMEM;

	*kind = WEAK_NONE;
	if (detail != NULL && detaillen > 0)
		detail[0] = '\0';
	if (wk == NULL || (n == NULL && nlen > 0) || (e == NULL && elen > 0) ||
	    nlen > INT_MAX || elen > INT_MAX)
		return KE_INTERNAL;
	memset(&j, 0, sizeof(j));
	while (nlen > 0 && *n == 0) {
		n++;
		nlen--;
	}
	j.nb = n;
	j.nblen = nlen;
	if ((j.ctx = BN_CTX_new()) == NULL ||
	    (j.n = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (j.e = BN_bin2bn(e, (int)elen, NULL)) == NULL)
		goto out;
	j.nbits = BN_num_bits(j.n);
	if ((r = run_checks(wk, &j)) != 0)
		goto out;
	*kind = j.kind;
	if (detail != NULL && j.kind == WEAK_SMALL_FACTOR)
		(void)snprintf(detail, detaillen, "the modulus is divisible "
		    "by %u: it is trivially factored", j.factor);
	else if (detail != NULL)
		(void)snprintf(detail, detaillen, "%s", details[j.kind]);
 out:
	BN_free(j.e);
	BN_free(j.n);
	BN_CTX_free(j.ctx);
	return r;
}
