/*
 * fuzz.h -- what every libFuzzer target of keyadm shares.
 *
 * A target never exits and never leaks: LeakSanitizer is on.  A broken
 * invariant of the code under test (a documented MUST, or two readers of
 * the same bytes that disagree) is reported with FUZZ_CHECK, which prints
 * what broke and aborts, so libFuzzer saves the input as a crash.
 */
#ifndef KEYADM_FUZZ_H
#define KEYADM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * LLVMFuzzerInitialize for a target that parses keys: libssh and the
 * prefetched digests, once (keyparse_init).  Targets that need nothing
 * leave LLVMFuzzerInitialize out: libFuzzer calls it only if defined.
 */
#define FUZZ_INIT_KEYPARSE()						\
int									\
LLVMFuzzerInitialize(int *argc, char ***argv)				\
{									\
	(void)argc;							\
	(void)argv;							\
	if (keyparse_init() != 0)					\
		abort();						\
	return 0;							\
}

#define FUZZ_CHECK(cond, what) do {					\
	if (!(cond)) {							\
		(void)fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, (what));			\
		abort();						\
	}								\
} while (0)

/*
 * A NUL-terminated heap copy of the input, as safefs_read and
 * pam_getenv hand text to the parsers.  NULL when out of memory.
 */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		return NULL;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Whether a reason or message buffer holds a non-empty C string. */
static inline int
fuzz_has_text(const char *s, size_t cap)
{
	return cap > 0 && s[0] != '\0' && memchr(s, '\0', cap) != NULL;
}

#endif
