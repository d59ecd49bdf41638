/*
 * test_fpset.c -- fpset: the set of keys seen in one bulk run, and the
 * SipHash-2-4 it is keyed with.
 *
 * SipHash is checked against the reference vectors of the SipHash paper
 * (key 00..0f, message 00..len-1) and against OpenSSL's own SIPHASH MAC
 * for random keys and messages of every length up to 100 bytes.  The set
 * gets duplicates, 100 000 distinct blobs (many growths of its table) and
 * a second pass over all of them.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "err.h"
#include "fpset.h"

TestSuite(fpset, .timeout = 120);

/* ---- helpers ---------------------------------------------------------- */

static void
rnd(void *p, size_t len)
{
	unsigned char	*b = p;
	ssize_t		 got;

	while (len > 0) {
		got = getrandom(b, len, 0);
		cr_assert_gt(got, 0, "getrandom");
		b += got;
		len -= (size_t)got;
	}
}

static struct fpset *
set_new(void)
{
	struct fpset	*s = NULL;

	cr_assert_eq(fpset_new(&s), 0);
	cr_assert_not_null(s);
	return s;
}

/* A 51-byte Ed25519 blob, distinct for each n, the rest random. */
static void
blob_of(unsigned char b[51], uint32_t n)
{
	static const unsigned char head[] = { 0, 0, 0, 11, 's', 's', 'h',
	    '-', 'e', 'd', '2', '5', '5', '1', '9', 0, 0, 0, 32 };

	memcpy(b, head, sizeof(head));
	rnd(b + 19, 32);
	b[19] = (unsigned char)(n >> 24);
	b[20] = (unsigned char)(n >> 16);
	b[21] = (unsigned char)(n >> 8);
	b[22] = (unsigned char)n;
}

/* SipHash-2-4 with 8 bytes of output, as OpenSSL computes it. */
static uint64_t
openssl_siphash(const unsigned char k[16], const unsigned char *p,
    size_t len)
{
	EVP_MAC		*mac;
	EVP_MAC_CTX	*ctx;
	OSSL_PARAM	 params[2];
	unsigned char	 out[8];
	size_t		 outlen = 0, i;
	unsigned int	 size = 8;
	uint64_t	 v = 0;

	mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
	cr_assert_not_null(mac, "OpenSSL has no SIPHASH");
	ctx = EVP_MAC_CTX_new(mac);
	cr_assert_not_null(ctx);
	params[0] = OSSL_PARAM_construct_uint(OSSL_MAC_PARAM_SIZE, &size);
	params[1] = OSSL_PARAM_construct_end();
	cr_assert_eq(EVP_MAC_init(ctx, k, 16, params), 1);
	cr_assert_eq(EVP_MAC_update(ctx, p, len), 1);
	cr_assert_eq(EVP_MAC_final(ctx, out, &outlen, sizeof(out)), 1);
	cr_assert_eq(outlen, 8);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	for (i = 8; i > 0; i--)		/* the output is little-endian */
		v = (v << 8) | out[i - 1];
	return v;
}

/* ---- SipHash-2-4 ------------------------------------------------------ */

Test(fpset, siphash_matches_reference_vectors)
{
	/* SipHash paper, vectors.h: key 00..0f, message 00..len-1 */
	static const uint64_t expect[16] = {
		0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL,
		0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL,
		0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
		0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL,
		0x93f5f5799a932462ULL, 0x9e0082df0ba9e4b0ULL,
		0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
		0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL,
		0xf723ca908e7af2eeULL, 0xa129ca6149be45e5ULL,
	};
	unsigned char	k[16], m[16];
	size_t		i;

	for (i = 0; i < 16; i++)
		k[i] = m[i] = (unsigned char)i;
	for (i = 0; i < 16; i++)
		cr_assert_eq(fpset_siphash(k, m, i), expect[i],
		    "length %zu: %016llx, expected %016llx", i,
		    (unsigned long long)fpset_siphash(k, m, i),
		    (unsigned long long)expect[i]);
}

Test(fpset, siphash_of_empty_and_15_bytes)
{
	unsigned char	k[16], m[15];
	size_t		i;

	for (i = 0; i < 16; i++)
		k[i] = (unsigned char)i;
	for (i = 0; i < 15; i++)
		m[i] = (unsigned char)i;
	cr_assert_eq(fpset_siphash(k, m, 0), 0x726fdb47dd0e0e31ULL);
	cr_assert_eq(fpset_siphash(k, NULL, 0), 0x726fdb47dd0e0e31ULL);
	cr_assert_eq(fpset_siphash(k, m, 15), 0xa129ca6149be45e5ULL);
}

Test(fpset, siphash_agrees_with_openssl_for_every_length)
{
	unsigned char	k[16], m[100];
	size_t		len;
	int		round;

	for (round = 0; round < 4; round++) {
		rnd(k, sizeof(k));
		rnd(m, sizeof(m));
		for (len = 0; len <= sizeof(m); len++)
			cr_assert_eq(fpset_siphash(k, m, len),
			    openssl_siphash(k, m, len), "length %zu", len);
	}
}

Test(fpset, siphash_depends_on_key_and_every_byte)
{
	unsigned char	k[16], m[51];
	uint64_t	h;
	size_t		i;

	rnd(k, sizeof(k));
	blob_of(m, 7);
	h = fpset_siphash(k, m, sizeof(m));
	for (i = 0; i < sizeof(m); i++) {
		m[i] ^= 0x01;
		cr_assert_neq(fpset_siphash(k, m, sizeof(m)), h, "byte %zu", i);
		m[i] ^= 0x01;
	}
	k[15] ^= 0x80;
	cr_assert_neq(fpset_siphash(k, m, sizeof(m)), h);
	/* a longer message with a zero byte more is another message */
	cr_assert_neq(fpset_siphash(k, m, sizeof(m) - 1),
	    fpset_siphash(k, m, sizeof(m)));
}

/* ---- the set ---------------------------------------------------------- */

Test(fpset, new_set_is_empty)
{
	struct fpset	*s = set_new();

	cr_assert_eq(fpset_count(s), 0);
	fpset_free(s);
	fpset_free(NULL);		/* allowed, like free() */
}

Test(fpset, detects_duplicates)
{
	struct fpset	*s = set_new();
	unsigned char	 a[51], b[51];

	blob_of(a, 1);
	memcpy(b, a, sizeof(b));
	b[50] ^= 0xff;			/* same length, last byte differs */
	cr_assert_eq(fpset_add(s, a, sizeof(a)), 0);
	cr_assert_eq(fpset_count(s), 1);
	cr_assert_eq(fpset_add(s, a, sizeof(a)), 1, "a repeat is not new");
	cr_assert_eq(fpset_count(s), 1, "a repeat is not counted");
	cr_assert_eq(fpset_add(s, b, sizeof(b)), 0);
	cr_assert_eq(fpset_add(s, a, sizeof(a) - 1), 0, "a prefix is new");
	cr_assert_eq(fpset_count(s), 3);
	/* a copy elsewhere in memory is the same key */
	memcpy(b, a, sizeof(b));
	cr_assert_eq(fpset_add(s, b, sizeof(b)), 1);
	cr_assert_eq(fpset_add(s, a, 0), 0, "the empty blob is a key too");
	cr_assert_eq(fpset_add(s, b, 0), 1);
	cr_assert_eq(fpset_count(s), 4);
	fpset_free(s);
}

Test(fpset, sets_do_not_share_state)
{
	struct fpset	*s = set_new(), *t = set_new();
	unsigned char	 a[51];

	blob_of(a, 3);
	cr_assert_eq(fpset_add(s, a, sizeof(a)), 0);
	cr_assert_eq(fpset_add(t, a, sizeof(a)), 0, "t never saw it");
	cr_assert_eq(fpset_count(s), 1);
	cr_assert_eq(fpset_count(t), 1);
	fpset_free(s);
	fpset_free(t);
}

Test(fpset, hundred_thousand_distinct_blobs)
{
	enum { N = 100000 };
	struct fpset	*s = set_new();
	unsigned char	(*b)[51];
	uint32_t	 i;

	b = malloc(sizeof(*b) * N);
	cr_assert_not_null(b);
	for (i = 0; i < N; i++)
		blob_of(b[i], i);
	for (i = 0; i < N; i++) {
		cr_assert_eq(fpset_add(s, b[i], sizeof(b[i])), 0,
		    "blob %u taken for one seen before", i);
		if (i % 9973 == 0)
			cr_assert_eq(fpset_count(s), (size_t)i + 1);
	}
	cr_assert_eq(fpset_count(s), N);
	/* every one of them is found after all the growths */
	for (i = 0; i < N; i++)
		cr_assert_eq(fpset_add(s, b[i], sizeof(b[i])), 1,
		    "blob %u lost when the table grew", i);
	cr_assert_eq(fpset_count(s), N);
	free(b);
	fpset_free(s);
}

Test(fpset, growth_keeps_every_key_at_each_doubling)
{
	struct fpset	*s = set_new();
	unsigned char	 b[51];
	uint32_t	 i, j, n = 0;

	/* past 512, 1024, 2048, ... entries the table doubles: after each
	 * step the keys of before must all still be there */
	for (i = 0; i < 8200; i++) {
		blob_of(b, i);
		b[19 + 4] = 0;		/* the rest fixed: only i varies */
		memset(b + 24, 0x5a, 27);
		cr_assert_eq(fpset_add(s, b, sizeof(b)), 0, "blob %u", i);
		n++;
		if ((n & (n - 1)) == 0 || n == 513 || n == 1025 ||
		    n == 2049 || n == 4097 || n == 8193) {
			for (j = 0; j <= i; j++) {
				blob_of(b, j);
				b[19 + 4] = 0;
				memset(b + 24, 0x5a, 27);
				cr_assert_eq(fpset_add(s, b, sizeof(b)), 1,
				    "blob %u lost at %u entries", j, n);
			}
			cr_assert_eq(fpset_count(s), n);
		}
	}
	cr_assert_eq(fpset_count(s), 8200);
	fpset_free(s);
}
