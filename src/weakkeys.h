/*
 * weakkeys.h -- known weaknesses of RSA moduli, from the published
 * mathematics, with OpenSSL bignums.
 *
 * Pure computation, no I/O.  The checks run cheapest first and stop at the
 * first finding.  A struct weakkeys holds what is worth computing once per
 * run (the product of the small primes); it is read-only afterwards.
 */
#ifndef KEYADM_WEAKKEYS_H
#define KEYADM_WEAKKEYS_H

#include <stddef.h>

#define WEAK_DETAIL_MAX	128

enum weak_kind {
	WEAK_NONE = 0,
	WEAK_N_EVEN,		/* n is even */
	WEAK_SMALL_FACTOR,	/* a small prime divides n */
	WEAK_N_SQUARE,		/* n = p^2 */
	WEAK_FERMAT,		/* p and q so close that Fermat factors n */
	WEAK_ROCA,		/* Infineon RSALib fingerprint (CVE-2017-15361) */
	WEAK_SMALL_D,		/* small private exponent (Wiener) */
	WEAK_SPARSE		/* biased/sparse modulus: polynomial or
				   patterned primes */
};

struct weakkeys;

/* Build the run's tables.  0, or KE_NOMEM / KE_INTERNAL. */
int		 weakkeys_new(struct weakkeys **out);
void		 weakkeys_free(struct weakkeys *wk);

/*
 * Judge an RSA public key given as big-endian magnitudes (no sign byte).
 * Sets *kind (WEAK_NONE when nothing is found) and detail (a short
 * sentence, never quoting the key: e.g. "divisible by 31337").  Returns 0,
 * or KE_NOMEM / KE_INTERNAL when the computation itself failed (the caller
 * must then refuse the key: fail closed).
 */
int		 weakkeys_rsa(const struct weakkeys *wk, const unsigned char *n,
		    size_t nlen, const unsigned char *e, size_t elen,
		    enum weak_kind *kind, char *detail, size_t detaillen);

/* Stable snake_case name ("roca", "fermat", ...). */
const char	*weakkeys_name(enum weak_kind kind);

#endif
