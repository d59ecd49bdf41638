/*
 * authkeys.h -- an authorized_keys file as lines in memory.
 *
 * No I/O.  Parse keeps every line's bytes; lines whose key we do not touch
 * render back byte for byte.  A line is identified by its decoded key blob,
 * so the same key with other options or another comment is the same key.
 */
#ifndef KEYADM_AUTHKEYS_H
#define KEYADM_AUTHKEYS_H

#include <stddef.h>
#include <sys/types.h>

#define AUTHKEYS_MAX	(32 * 1024 * 1024)	/* largest file we handle */
#define AUTHKEYS_LINES_MAX 2000000		/* most lines we handle */

struct authkeys_entry {
	char		*raw;		/* the line's bytes, without '\n' */
	size_t		 rawlen;
	int		 is_key;	/* a parseable key line */
	char		*options;	/* NULL when none */
	char		*type;		/* key type word */
	char		*b64;		/* base64 as written */
	char		*comment;	/* NULL when none */
	unsigned char	*blob;		/* decoded b64 */
	size_t		 bloblen;
};

struct authkeys {
	struct authkeys_entry	*lines;
	size_t			 n;
	size_t			 cap;
	int			 final_newline;	/* input ended in '\n' */
};

/* Parse len bytes; never fails on odd lines (kept as they are). */
int	authkeys_parse(const char *buf, size_t len, struct authkeys **out);
/* Empty file. */
int	authkeys_new(struct authkeys **out);
/* Index of the first key line at or after start with this blob, or -1. */
ssize_t	authkeys_find(const struct authkeys *ak, const unsigned char *blob,
	    size_t bloblen, size_t start);
/*
 * Append "[options ]type b64[ comment]".  options may be NULL.  Returns 0,
 * KE_NOMEM, or KE_MALFORMED when the line would not read back as given.
 */
int	authkeys_append(struct authkeys *ak, const char *options,
	    const char *type, const char *b64, const char *comment);
/*
 * Replace line idx with "[options ]type b64[ comment]" (same rules as
 * append); the other lines stay as they are.
 */
int	authkeys_set(struct authkeys *ak, size_t idx, const char *options,
	    const char *type, const char *b64, const char *comment);
/* Remove line idx (any line). */
void	authkeys_delete(struct authkeys *ak, size_t idx);
/* Remove every line carrying blob; returns how many were removed. */
size_t	authkeys_remove(struct authkeys *ak, const unsigned char *blob,
	    size_t bloblen);
/* Render to a new buffer (*out malloc'd, NUL-terminated). */
int	authkeys_render(const struct authkeys *ak, char **out, size_t *outlen);
void	authkeys_free(struct authkeys *ak);

#endif
