/*
 * fpset.h -- a set of keys seen in one run, for bulk input.
 *
 * Holds 8 bytes per key: SipHash-2-4 of the key's blob under a key drawn
 * from getrandom() when the set is made, so nobody who writes the input
 * can choose two blobs that look alike here.  Two different keys are
 * taken for one with a chance of about n^2 / 2^65 (3e-8 at a million).
 * Open addressing, load at most one half; the table doubles as it fills.
 */
#ifndef KEYADM_FPSET_H
#define KEYADM_FPSET_H

#include <stddef.h>
#include <stdint.h>

struct fpset;

/* An empty set; 0 or KE_NOMEM / KE_INTERNAL (no random key). */
int	fpset_new(struct fpset **out);
/*
 * Add the key with this blob: 1 when it was already there, 0 when added,
 * KE_NOMEM when the table could not grow.
 */
int	fpset_add(struct fpset *s, const unsigned char *blob, size_t len);
size_t	fpset_count(const struct fpset *s);
void	fpset_free(struct fpset *s);

/* SipHash-2-4 of len bytes under the 16-byte key k (exported for tests). */
uint64_t fpset_siphash(const unsigned char k[16], const unsigned char *p,
	    size_t len);

#endif
