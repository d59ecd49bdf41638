/*
 * keygen.c -- distinct, valid OpenSSH public keys for the benchmarks, fast.
 *
 *	keygen -n N [-m mixed|ed25519] [-s SEED] [-o OFFSET] [-u USERS]
 *	    [-p POOLDIR] [-j JOBS] [-c COMMENT]
 *
 * Writes N lines "type base64 comment" to standard output, or with -u
 * "USER<TAB>type base64 comment" (keyadm import's format), the users
 * u0001..uUSERS each getting an equal, contiguous share of the lines.
 *
 * Key i of a data set (i = OFFSET .. OFFSET+N-1) depends only on the
 * seed, the mode and i, so two runs with the same arguments write the
 * same file, and data sets with disjoint index ranges share no key.
 *
 * The mixed mode cycles through 60 slots: 36 ssh-ed25519 (60%), 5 each of
 * ECDSA P-256, P-384 and P-521 (25%), 3 each of RSA 2048, 3072 and 4096
 * (15%), interleaved.  Within a type, the n-th key of that type is:
 *   Ed25519: private key SHA-256(seed, mode, i); public key from OpenSSL.
 *   ECDSA:   (k0 + n)G with k0 from SHA-512(seed, curve): consecutive keys
 *	      of a curve are one point addition apart.
 *   RSA:     p_a * p_b for the n-th pair a < b of a pool of random primes
 *	      (top two bits set, so every product has exactly the size),
 *	      e = 65537.  The pool is cached in POOLDIR/primes-BITS.txt and
 *	      grown (by JOBS processes) when a run needs more pairs.
 *
 * MUST: every key is a valid public key (points on the curve, RSA moduli
 * the product of two distinct primes of equal size) in canonical SSH wire
 * encoding (mpints with a leading zero byte only when the top bit is set).
 * MUST: keys are distinct by construction; a pool holding a duplicate
 * prime is refused.
 * The keys are not safe to use: the RSA moduli share primes by design.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#define CHUNK_KEYS	2048		/* keys a worker makes per chunk */
#define JOBS_MAX	64
#define USERS_MAX	999999
#define LINE_MAX_OUT	1024		/* longest line: RSA 4096 ~ 760 */
#define BLOB_MAX	600		/* largest blob: RSA 4096 = 535 */
#define NCURVES		3
#define NSIZES		3
#define NTYPES		(1 + NCURVES + NSIZES)
#define SLOTS		60

/* The mixed cycle: e Ed25519, 1-3 P-256/384/521, a-c RSA 2048/3072/4096. */
static const char slot_types[SLOTS + 1] =
    "eeee123eeabceeeee123eeeeeee123abceeeeeee123eeeeeabcee123eeee";

static const struct {
	int		 nid;
	const char	*type;
	const char	*curve;
} curves[NCURVES] = {
	{ NID_X9_62_prime256v1, "ecdsa-sha2-nistp256", "nistp256" },
	{ NID_secp384r1, "ecdsa-sha2-nistp384", "nistp384" },
	{ NID_secp521r1, "ecdsa-sha2-nistp521", "nistp521" },
};

static const int rsa_bits[NSIZES] = { 2048, 3072, 4096 };

struct opts {
	uint64_t	 n;
	uint64_t	 offset;
	unsigned int	 users;
	int		 mixed;
	int		 jobs;
	const char	*seed;
	const char	*pooldir;
	const char	*comment;
};

struct buf {
	char	*p;
	size_t	 len, cap;
};

struct pool {
	BIGNUM	**p;
	size_t	  n;
};

/* One type's place in the mixed cycle: slot r is its rank[r]-th. */
struct cycle {
	int		type[SLOTS];	/* 0 Ed25519, 1..3 ECDSA, 4..6 RSA */
	unsigned int	rank[SLOTS];
	unsigned int	count[NTYPES];
};

/* A worker's state. */
struct gen {
	const struct opts	*o;
	struct cycle		 cy;
	BN_CTX			*bn;
	EC_GROUP		*grp[NCURVES];
	BIGNUM			*k0[NCURVES];
	EC_POINT		*q[NCURVES];	/* key number qn[c] */
	uint64_t		 qn[NCURVES];
	int			 qvalid[NCURVES];
	struct pool		 pools[NSIZES];
	BIGNUM			*e;
	BIGNUM			*mod;
	unsigned int		 userw;		/* digits of a user number */
};

static void
usage(void)
{
	(void)fprintf(stderr, "usage: keygen -n N [-m mixed|ed25519] "
	    "[-s SEED] [-o OFFSET] [-u USERS] [-p POOLDIR] [-j JOBS] "
	    "[-c COMMENT]\n");
	exit(64);
}

static void
fatal(const char *what)
{
	(void)fprintf(stderr, "keygen: %s\n", what);
	exit(70);
}

static void
fatal_errno(const char *what)
{
	(void)fprintf(stderr, "keygen: %s: %s\n", what, strerror(errno));
	exit(74);
}

static void
buf_reserve(struct buf *b, size_t n)
{
	size_t	 ncap;
	char	*np;

	if (SIZE_MAX - b->len < n)
		fatal("buffer overflow");
	if (b->len + n <= b->cap)
		return;
	ncap = b->cap != 0 ? b->cap : 65536;
	while (ncap < b->len + n)
		ncap *= 2;
	if ((np = realloc(b->p, ncap)) == NULL)
		fatal("out of memory");
	b->p = np;
	b->cap = ncap;
}

static void
put_u32(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Append an SSH string; returns the new length of blob. */
static size_t
put_string(unsigned char *blob, size_t off, const void *s, size_t len)
{
	if (off > BLOB_MAX || len > BLOB_MAX - off - 4)
		fatal("blob too large");
	put_u32(blob + off, len);
	memcpy(blob + off + 4, s, len);
	return off + 4 + len;
}

/* Append a positive BIGNUM as a canonical mpint. */
static size_t
put_mpint(unsigned char *blob, size_t off, const BIGNUM *v)
{
	unsigned char	mag[BLOB_MAX + 1];
	int		n;

	if ((n = BN_num_bytes(v)) <= 0 || (size_t)n > BLOB_MAX)
		fatal("mpint size");
	mag[0] = 0;
	if (BN_bn2bin(v, mag + 1) != n)
		fatal("BN_bn2bin");
	/* a leading zero byte only when the top bit is set */
	if (mag[1] & 0x80)
		return put_string(blob, off, mag, (size_t)n + 1);
	return put_string(blob, off, mag + 1, (size_t)n);
}

static unsigned int
digits(unsigned int v)
{
	unsigned int	d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* Append "[USER\t]type base64 comment-I\n" for the blob. */
static void
put_line(const struct gen *g, struct buf *out, uint64_t i,
    const char *type, const unsigned char *blob, size_t blen)
{
	uint64_t	local = i - g->o->offset;
	unsigned int	user;
	int		n;

	buf_reserve(out, LINE_MAX_OUT);
	if (g->o->users > 0) {
		user = (unsigned int)(local * g->o->users / g->o->n) + 1;
		n = snprintf(out->p + out->len, LINE_MAX_OUT, "u%0*u\t",
		    (int)g->userw, user);
		if (n < 0 || n >= LINE_MAX_OUT)
			fatal("user name");
		out->len += (size_t)n;
	}
	n = snprintf(out->p + out->len, LINE_MAX_OUT, "%s ", type);
	if (n < 0 || n >= LINE_MAX_OUT)
		fatal("type");
	out->len += (size_t)n;
	if ((blen + 2) / 3 * 4 + 64 > LINE_MAX_OUT - (size_t)n)
		fatal("line too long");
	n = EVP_EncodeBlock((unsigned char *)out->p + out->len, blob,
	    (int)blen);
	if (n <= 0)
		fatal("EVP_EncodeBlock");
	out->len += (size_t)n;
	n = snprintf(out->p + out->len, 64, " %s-%" PRIu64 "\n",
	    g->o->comment, i);
	if (n < 0 || n >= 64)
		fatal("comment too long");
	out->len += (size_t)n;
}

/* SHA-256 or SHA-512 of (seed, tag, i) into md. */
static void
derive(const char *seed, const char *tag, uint64_t i, const EVP_MD *alg,
    unsigned char *md, unsigned int *mdlen)
{
	EVP_MD_CTX	*h;
	unsigned char	 ib[8];
	int		 k;

	for (k = 0; k < 8; k++)
		ib[k] = (unsigned char)(i >> (56 - 8 * k));
	if ((h = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h, alg, NULL) != 1 ||
	    EVP_DigestUpdate(h, seed, strlen(seed) + 1) != 1 ||
	    EVP_DigestUpdate(h, tag, strlen(tag) + 1) != 1 ||
	    EVP_DigestUpdate(h, ib, sizeof(ib)) != 1 ||
	    EVP_DigestFinal_ex(h, md, mdlen) != 1)
		fatal("digest");
	EVP_MD_CTX_free(h);
}

static void
gen_ed25519(const struct gen *g, struct buf *out, uint64_t i)
{
	unsigned char	 md[EVP_MAX_MD_SIZE], pub[32], blob[BLOB_MAX];
	unsigned int	 mdlen = 0;
	size_t		 publen = sizeof(pub), off;
	EVP_PKEY	*pk;

	derive(g->o->seed, g->o->mixed ? "ed25519/mixed" : "ed25519", i,
	    EVP_sha256(), md, &mdlen);
	if ((pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, md,
	    32)) == NULL ||
	    EVP_PKEY_get_raw_public_key(pk, pub, &publen) != 1 ||
	    publen != sizeof(pub))
		fatal("Ed25519 key");
	EVP_PKEY_free(pk);
	off = put_string(blob, 0, "ssh-ed25519", 11);
	off = put_string(blob, off, pub, publen);
	put_line(g, out, i, "ssh-ed25519", blob, off);
}

/* Key number kn of curve c: (k0 + kn)G, one addition from the last. */
static void
gen_ecdsa(struct gen *g, struct buf *out, uint64_t i, int c, uint64_t kn)
{
	unsigned char	 pt[200], blob[BLOB_MAX];
	BIGNUM		*k;
	size_t		 plen, off;

	if (g->qvalid[c] && g->qn[c] + 1 == kn) {
		if (EC_POINT_add(g->grp[c], g->q[c], g->q[c],
		    EC_GROUP_get0_generator(g->grp[c]), g->bn) != 1)
			fatal("EC_POINT_add");
	} else {
		if ((k = BN_dup(g->k0[c])) == NULL ||
		    BN_add_word(k, (BN_ULONG)kn) != 1 ||
		    EC_POINT_mul(g->grp[c], g->q[c], k, NULL, NULL,
		    g->bn) != 1)
			fatal("EC_POINT_mul");
		BN_free(k);
		g->qvalid[c] = 1;
	}
	g->qn[c] = kn;
	plen = EC_POINT_point2oct(g->grp[c], g->q[c],
	    POINT_CONVERSION_UNCOMPRESSED, pt, sizeof(pt), g->bn);
	if (plen == 0 || pt[0] != 0x04)
		fatal("EC_POINT_point2oct");
	off = put_string(blob, 0, curves[c].type, strlen(curves[c].type));
	off = put_string(blob, off, curves[c].curve, strlen(curves[c].curve));
	off = put_string(blob, off, pt, plen);
	put_line(g, out, i, curves[c].type, blob, off);
}

/* The kn-th pair (a < b) of the pool: kn = b(b-1)/2 + a. */
static void
pair_of(uint64_t kn, uint64_t *a, uint64_t *b)
{
	uint64_t	bb;

	bb = (uint64_t)((1.0 + sqrt(1.0 + 8.0 * (double)kn)) / 2.0);
	while (bb * (bb - 1) / 2 > kn)
		bb--;
	while ((bb + 1) * bb / 2 <= kn)
		bb++;
	*b = bb;
	*a = kn - bb * (bb - 1) / 2;
}

/* Primes needed for pairs 0..count-1. */
static size_t
primes_for(uint64_t count)
{
	uint64_t	a, b;

	if (count == 0)
		return 0;
	pair_of(count - 1, &a, &b);
	return (size_t)b + 1;
}

static void
gen_rsa(struct gen *g, struct buf *out, uint64_t i, int s, uint64_t kn)
{
	unsigned char	 blob[BLOB_MAX];
	uint64_t	 a, b;
	size_t		 off;

	pair_of(kn, &a, &b);
	if (b >= g->pools[s].n)
		fatal("prime pool too small");
	if (BN_mul(g->mod, g->pools[s].p[a], g->pools[s].p[b], g->bn) != 1)
		fatal("BN_mul");
	if (BN_num_bits(g->mod) != rsa_bits[s])
		fatal("modulus of the wrong size (bad prime pool?)");
	off = put_string(blob, 0, "ssh-rsa", 7);
	off = put_mpint(blob, off, g->e);
	off = put_mpint(blob, off, g->mod);
	put_line(g, out, i, "ssh-rsa", blob, off);
}

static void
cycle_init(struct cycle *cy)
{
	static const char	codes[] = "e123abc";
	const char		*p;
	int			 r, t;

	memset(cy, 0, sizeof(*cy));
	for (r = 0; r < SLOTS; r++) {
		if ((p = strchr(codes, slot_types[r])) == NULL)
			fatal("slot table");
		t = (int)(p - codes);
		cy->type[r] = t;
		cy->rank[r] = cy->count[t]++;
	}
}

/* Type of key i and its number among the keys of that type. */
static int
cycle_pos(const struct cycle *cy, uint64_t i, uint64_t *kn)
{
	uint64_t	blk = i / SLOTS;
	int		r = (int)(i % SLOTS), t = cy->type[r];

	*kn = blk * cy->count[t] + cy->rank[r];
	return t;
}

static void
gen_one(struct gen *g, struct buf *out, uint64_t i)
{
	uint64_t	kn;
	int		t;

	if (!g->o->mixed) {
		gen_ed25519(g, out, i);
		return;
	}
	t = cycle_pos(&g->cy, i, &kn);
	if (t == 0)
		gen_ed25519(g, out, i);
	else if (t <= NCURVES)
		gen_ecdsa(g, out, i, t - 1, kn);
	else
		gen_rsa(g, out, i, t - 1 - NCURVES, kn);
}

/* Keys of type t among the indices 0..end-1 of the mixed cycle. */
static uint64_t
count_below(const struct cycle *cy, int t, uint64_t end)
{
	uint64_t	n = end / SLOTS * cy->count[t];
	int		r;

	for (r = 0; r < (int)(end % SLOTS); r++)
		if (cy->type[r] == t)
			n++;
	return n;
}

static int
bn_cmp_ptr(const void *a, const void *b)
{
	return BN_cmp(*(BIGNUM *const *)a, *(BIGNUM *const *)b);
}

/* Every prime has exactly bits bits, the top two set; no duplicates. */
static void
pool_check(const struct pool *pl, int bits, const char *path)
{
	BIGNUM	**sorted;
	size_t	  i;

	for (i = 0; i < pl->n; i++) {
		if (BN_num_bits(pl->p[i]) != bits ||
		    !BN_is_bit_set(pl->p[i], bits - 2) || !BN_is_odd(pl->p[i])) {
			(void)fprintf(stderr, "keygen: %s: line %zu: not a "
			    "%d-bit prime with the top two bits set; remove "
			    "the file\n", path, i + 1, bits);
			exit(65);
		}
	}
	if ((sorted = calloc(pl->n + 1, sizeof(*sorted))) == NULL)
		fatal("out of memory");
	memcpy(sorted, pl->p, pl->n * sizeof(*sorted));
	qsort(sorted, pl->n, sizeof(*sorted), bn_cmp_ptr);
	for (i = 1; i < pl->n; i++) {
		if (BN_cmp(sorted[i - 1], sorted[i]) == 0) {
			(void)fprintf(stderr, "keygen: %s: a prime appears "
			    "twice; remove the file\n", path);
			exit(65);
		}
	}
	free(sorted);
}

static void
pool_add(struct pool *pl, BIGNUM *p)
{
	BIGNUM	**np;

	if ((np = reallocarray(pl->p, pl->n + 1, sizeof(*np))) == NULL)
		fatal("out of memory");
	pl->p = np;
	pl->p[pl->n++] = p;
}

/* Read the cached primes of path (absent: none). */
static void
pool_load(const char *path, struct pool *pl)
{
	FILE	*f;
	char	 line[2048];
	BIGNUM	*p;
	size_t	 len;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return;
		fatal_errno(path);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strlen(line);
		if (len == 0 || line[len - 1] != '\n') {
			(void)fprintf(stderr, "keygen: %s: truncated line; "
			    "remove the file\n", path);
			exit(65);
		}
		line[len - 1] = '\0';
		p = NULL;
		if (BN_hex2bn(&p, line) != (int)len - 1)
			fatal("bad hex in the prime pool; remove the file");
		pool_add(pl, p);
	}
	if (ferror(f) || fclose(f) != 0)
		fatal_errno(path);
}

static void
write_all(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			fatal_errno("write");
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Read exactly len bytes; 0 at a clean end of file before any byte. */
static int
read_all(int fd, void *data, size_t len)
{
	char	*p = data;
	size_t	 got = 0;
	ssize_t	 n;

	while (got < len) {
		if ((n = read(fd, p + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			fatal_errno("read");
		}
		if (n == 0) {
			if (got == 0)
				return 0;
			fatal("short read from a worker");
		}
		got += (size_t)n;
	}
	return 1;
}

/* In a child: count primes of bits bits, as hex lines, to fd. */
static void
prime_worker(int fd, int bits, size_t count, int progress)
{
	struct buf	 out = { NULL, 0, 0 };
	BIGNUM		*p;
	char		*hex;
	size_t		 made = 0, hl;

	while (made < count) {
		if ((p = BN_new()) == NULL ||
		    BN_generate_prime_ex(p, bits, 0, NULL, NULL, NULL) != 1)
			fatal("BN_generate_prime_ex");
		/* OpenSSL sets the top two bits; make sure */
		if (BN_num_bits(p) != bits || !BN_is_bit_set(p, bits - 2)) {
			BN_free(p);
			continue;
		}
		if ((hex = BN_bn2hex(p)) == NULL)
			fatal("BN_bn2hex");
		hl = strlen(hex);
		buf_reserve(&out, hl + 1);
		memcpy(out.p + out.len, hex, hl);
		out.p[out.len + hl] = '\n';
		out.len += hl + 1;
		OPENSSL_free(hex);
		BN_free(p);
		if (++made % 20 == 0 && progress)
			(void)fprintf(stderr, "keygen: %d-bit primes: %zu of "
			    "about %zu\n", bits, made, count);
	}
	write_all(fd, out.p, out.len);
	free(out.p);
}

/* Append everything fd gives until end of file to b. */
static void
drain(int fd, struct buf *b)
{
	ssize_t	n;

	for (;;) {
		buf_reserve(b, 65536);
		if ((n = read(fd, b->p + b->len, 65536)) == 0)
			return;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			fatal_errno("read");
		b->len += (size_t)n;
	}
}

/* Replace path by the bytes of b: a temporary, fsync, rename. */
static void
replace_file(const char *path, const struct buf *b)
{
	char	tmp[PATH_MAX];
	int	fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= (int)sizeof(tmp))
		fatal("path too long");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0644)) == -1)
		fatal_errno(tmp);
	write_all(fd, b->p, b->len);
	if (fsync(fd) != 0 || close(fd) != 0)
		fatal_errno(tmp);
	if (rename(tmp, path) != 0)
		fatal_errno(path);
}

/* Run jobs children making need primes in all; append them to path. */
static void
pool_grow(const struct opts *o, const char *path, int bits, size_t need)
{
	struct buf	 all = { NULL, 0, 0 };
	pid_t		 pid[JOBS_MAX];
	int		 fds[JOBS_MAX][2], j, st, fd, ok = 1;
	size_t		 share;

	(void)fprintf(stderr, "keygen: generating %zu %d-bit primes into %s "
	    "(once; cached)\n", need, bits, path);
	for (j = 0; j < o->jobs; j++) {
		share = need / (size_t)o->jobs +
		    ((size_t)j < need % (size_t)o->jobs ? 1 : 0);
		if (pipe(fds[j]) == -1)
			fatal_errno("pipe");
		if ((pid[j] = fork()) == -1)
			fatal_errno("fork");
		if (pid[j] == 0) {
			(void)close(fds[j][0]);
			prime_worker(fds[j][1], bits, share, j == 0);
			_exit(0);
		}
		(void)close(fds[j][1]);
	}
	/* old primes first, so the pairs made so far keep their keys */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		drain(fd, &all);
		(void)close(fd);
	} else if (errno != ENOENT)
		fatal_errno(path);
	for (j = 0; j < o->jobs; j++) {
		drain(fds[j][0], &all);
		(void)close(fds[j][0]);
		if (waitpid(pid[j], &st, 0) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			ok = 0;
	}
	if (!ok)
		fatal("a prime worker failed");
	replace_file(path, &all);
	free(all.p);
}

/* The pool of size s, with at least need primes. */
static void
pool_ready(const struct opts *o, int s, size_t need, struct pool *pl)
{
	char	path[PATH_MAX];
	int	bits = rsa_bits[s] / 2;

	if (need == 0)
		return;
	if (o->pooldir == NULL) {
		(void)fprintf(stderr, "keygen: RSA keys need -p POOLDIR\n");
		exit(64);
	}
	if (snprintf(path, sizeof(path), "%s/primes-%d.txt", o->pooldir,
	    bits) >= (int)sizeof(path))
		fatal("path too long");
	pool_load(path, pl);
	if (pl->n < need) {
		/* a margin, so a slightly larger run does not regrow */
		pool_grow(o, path, bits, need - pl->n + need / 8 + 2);
		while (pl->n > 0)
			BN_free(pl->p[--pl->n]);
		pool_load(path, pl);
		if (pl->n < need)
			fatal("prime pool still too small");
	}
	pool_check(pl, bits, path);
}

static void
gen_init(const struct opts *o, struct gen *g)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	uint64_t	 end = o->offset + o->n;
	int		 c, s;

	memset(g, 0, sizeof(*g));
	g->o = o;
	cycle_init(&g->cy);
	g->userw = o->users > 0 ? digits(o->users) : 0;
	if (g->userw < 4)
		g->userw = 4;
	if ((g->bn = BN_CTX_new()) == NULL || (g->e = BN_new()) == NULL ||
	    (g->mod = BN_new()) == NULL || BN_set_word(g->e, 65537) != 1)
		fatal("BN init");
	if (!o->mixed)
		return;
	for (c = 0; c < NCURVES; c++) {
		if ((g->grp[c] = EC_GROUP_new_by_curve_name(curves[c].nid)) ==
		    NULL || (g->q[c] = EC_POINT_new(g->grp[c])) == NULL)
			fatal("EC group");
		derive(o->seed, curves[c].curve, 0, EVP_sha512(), md, &mdlen);
		if ((g->k0[c] = BN_bin2bn(md, (int)mdlen, NULL)) == NULL ||
		    BN_nnmod(g->k0[c], g->k0[c], EC_GROUP_get0_order(g->grp[c]),
		    g->bn) != 1)
			fatal("EC start scalar");
	}
	for (s = 0; s < NSIZES; s++)
		pool_ready(o, s, primes_for(count_below(&g->cy,
		    1 + NCURVES + s, end)), &g->pools[s]);
}

static void
gen_free(struct gen *g)
{
	int	c, s;

	for (c = 0; c < NCURVES; c++) {
		EC_POINT_free(g->q[c]);
		BN_free(g->k0[c]);
		EC_GROUP_free(g->grp[c]);
	}
	for (s = 0; s < NSIZES; s++) {
		while (g->pools[s].n > 0)
			BN_free(g->pools[s].p[--g->pools[s].n]);
		free(g->pools[s].p);
	}
	BN_free(g->e);
	BN_free(g->mod);
	BN_CTX_free(g->bn);
}

static void
gen_chunk(struct gen *g, uint64_t first, uint64_t count, struct buf *out)
{
	uint64_t	i;

	out->len = 0;
	for (i = first; i < first + count; i++)
		gen_one(g, out, i);
}

/* In a child: chunks w, w+jobs, ... each as a length and its text. */
static void
key_worker(struct gen *g, int fd, int w)
{
	struct buf	out = { NULL, 0, 0 };
	uint64_t	q, first, cnt, hdr;

	for (q = (uint64_t)w; q * CHUNK_KEYS < g->o->n;
	    q += (uint64_t)g->o->jobs) {
		first = g->o->offset + q * CHUNK_KEYS;
		cnt = g->o->n - q * CHUNK_KEYS;
		if (cnt > CHUNK_KEYS)
			cnt = CHUNK_KEYS;
		gen_chunk(g, first, cnt, &out);
		hdr = out.len;
		write_all(fd, &hdr, sizeof(hdr));
		write_all(fd, out.p, out.len);
	}
	free(out.p);
}

static void
run_keys(struct gen *g)
{
	struct buf	 out = { NULL, 0, 0 };
	pid_t		 pid[JOBS_MAX];
	int		 fds[JOBS_MAX][2], j, st, ok = 1;
	uint64_t	 q, nchunks, hdr;

	nchunks = (g->o->n + CHUNK_KEYS - 1) / CHUNK_KEYS;
	if (g->o->jobs == 1 || nchunks == 1) {
		for (q = 0; q < nchunks; q++) {
			gen_chunk(g, g->o->offset + q * CHUNK_KEYS,
			    g->o->n - q * CHUNK_KEYS > CHUNK_KEYS ?
			    CHUNK_KEYS : g->o->n - q * CHUNK_KEYS, &out);
			write_all(1, out.p, out.len);
		}
		free(out.p);
		return;
	}
	for (j = 0; j < g->o->jobs; j++) {
		if (pipe(fds[j]) == -1)
			fatal_errno("pipe");
		if ((pid[j] = fork()) == -1)
			fatal_errno("fork");
		if (pid[j] == 0) {
			(void)close(fds[j][0]);
			key_worker(g, fds[j][1], j);
			_exit(0);
		}
		(void)close(fds[j][1]);
	}
	for (q = 0; q < nchunks; q++) {
		j = (int)(q % (uint64_t)g->o->jobs);
		if (!read_all(fds[j][0], &hdr, sizeof(hdr)))
			fatal("a key worker ended early");
		out.len = 0;
		buf_reserve(&out, (size_t)hdr);
		(void)read_all(fds[j][0], out.p, (size_t)hdr);
		write_all(1, out.p, (size_t)hdr);
	}
	free(out.p);
	for (j = 0; j < g->o->jobs; j++) {
		(void)close(fds[j][0]);
		if (waitpid(pid[j], &st, 0) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			ok = 0;
	}
	if (!ok)
		fatal("a key worker failed");
}

static uint64_t
parse_num(const char *s, uint64_t max)
{
	char			*end;
	unsigned long long	 v;

	if (s[0] < '0' || s[0] > '9')
		usage();
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		usage();
	return (uint64_t)v;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	long	ncpu;
	int	ch, have_n = 0;

	memset(o, 0, sizeof(*o));
	o->mixed = 1;
	o->seed = "keyadm-bench";
	o->comment = "bench";
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o->jobs = ncpu < 1 ? 1 : ncpu > JOBS_MAX ? JOBS_MAX : (int)ncpu;
	while ((ch = getopt(argc, argv, "c:j:m:n:o:p:s:u:")) != -1) {
		switch (ch) {
		case 'c': o->comment = optarg; break;
		case 'j': o->jobs = (int)parse_num(optarg, JOBS_MAX); break;
		case 'n': o->n = parse_num(optarg, 1000000000); have_n = 1;
			break;
		case 'o': o->offset = parse_num(optarg, 1000000000000ULL);
			break;
		case 'p': o->pooldir = optarg; break;
		case 's': o->seed = optarg; break;
		case 'u': o->users = (unsigned int)parse_num(optarg,
			    USERS_MAX); break;
		case 'm':
			if (strcmp(optarg, "mixed") == 0)
				o->mixed = 1;
			else if (strcmp(optarg, "ed25519") == 0)
				o->mixed = 0;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !have_n || o->jobs < 1 ||
	    (o->users > 0 && o->users > o->n) || strlen(o->comment) > 32 ||
	    strpbrk(o->comment, " \t\r\n") != NULL)
		usage();
}

int
main(int argc, char **argv)
{
	struct opts	o;
	struct gen	g;
	struct timespec	t0, t1;

	parse_opts(argc, argv, &o);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	gen_init(&o, &g);
	if (o.n > 0)
		run_keys(&g);
	gen_free(&g);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	(void)fprintf(stderr, "keygen: %" PRIu64 " %s keys in %.2f s\n", o.n,
	    o.mixed ? "mixed" : "Ed25519", (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
