/*
 * fpset.c -- the set of keys already seen in a bulk run (fpset.h).
 *
 * MUST: the hash is keyed with random bytes per set, so the input cannot
 * aim at collisions; 0 marks an empty slot, so a hash of 0 is stored as 1.
 * MUST: the table never fills past one half, so every probe ends.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fpset.h"

#define FPSET_MIN	1024		/* slots in a new table (power of 2) */

struct fpset {
	uint64_t	*slot;
	size_t		 cap;		/* power of 2 */
	size_t		 n;
	unsigned char	 key[16];
};

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t
le64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

uint64_t
fpset_siphash(const unsigned char k[16], const unsigned char *p, size_t len)
{
	uint64_t	k0 = le64(k), k1 = le64(k + 8), m, v[4];
	unsigned char	last[8];
	size_t		i, left = len & 7;

	v[0] = k0 ^ 0x736f6d6570736575ULL;
	v[1] = k1 ^ 0x646f72616e646f6dULL;
	v[2] = k0 ^ 0x6c7967656e657261ULL;
	v[3] = k1 ^ 0x7465646279746573ULL;
	for (i = 0; i + 8 <= len; i += 8) {
		m = le64(p + i);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	memset(last, 0, sizeof(last));
	if (left > 0)
		memcpy(last, p + i, left);
	last[7] = (unsigned char)len;
	m = le64(last);
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

int
fpset_new(struct fpset **out)
{
	struct fpset	*s;
	ssize_t		 got;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KE_NOMEM;
	do
		got = getrandom(s->key, sizeof(s->key), 0);
	while (got == -1 && errno == EINTR);
	if (got != (ssize_t)sizeof(s->key)) {
		free(s);
		return KE_INTERNAL;
	}
	s->cap = FPSET_MIN;
	if ((s->slot = calloc(s->cap, sizeof(*s->slot))) == NULL) {
		free(s);
		return KE_NOMEM;
	}
	*out = s;
	return 0;
}

/* 1 when h is in t (cap slots), else puts it there and returns 0. */
static int
put(uint64_t *t, size_t cap, uint64_t h)
{
	size_t	i = (size_t)h & (cap - 1);

	while (t[i] != 0) {
		if (t[i] == h)
			return 1;
		i = (i + 1) & (cap - 1);
	}
	t[i] = h;
	return 0;
}

static int
grow(struct fpset *s)
{
	uint64_t	*t;
	size_t		 i;

	if (s->cap > SIZE_MAX / 2 / sizeof(*t))
		return KE_NOMEM;
	if ((t = calloc(s->cap * 2, sizeof(*t))) == NULL)
		return KE_NOMEM;
	for (i = 0; i < s->cap; i++)
		if (s->slot[i] != 0)
			(void)put(t, s->cap * 2, s->slot[i]);
	free(s->slot);
	s->slot = t;
	s->cap *= 2;
	return 0;
}

int
fpset_add(struct fpset *s, const unsigned char *blob, size_t len)
{
	uint64_t	h = fpset_siphash(s->key, blob, len);
	int		r;

	if (h == 0)
		h = 1;
	if ((s->n + 1) * 2 > s->cap && (r = grow(s)) != 0)
		return r;
	if (put(s->slot, s->cap, h))
		return 1;
	s->n++;
	return 0;
}

size_t
fpset_count(const struct fpset *s)
{
	return s->n;
}

void
fpset_free(struct fpset *s)
{
	if (s == NULL)
		return;
	free(s->slot);
	free(s);
}
