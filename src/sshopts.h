/*
 * sshopts.h -- authorized_keys options, checked the way sshd parses them.
 *
 * No I/O.  Two jobs: build the options an administrator asked for
 * (--restrict, --from, --command, --option, --expires) into one canonical
 * string, and check an options string found in front of a key in a file.
 * A value sshd would refuse (an unknown name, a bad port, a CIDR with host
 * bits, an environment name with odd characters, ...) is refused here with
 * a reason, so that keyadm never writes a line sshd skips.
 *
 * Canonical form: options separated by ',', names as sshd(8) spells them,
 * every value double-quoted with '"' written as \" (the only escape sshd
 * knows); "restrict" first, then the others in the order given, a repeated
 * flag once, expiry-time last.
 */
#ifndef KEYADM_SSHOPTS_H
#define KEYADM_SSHOPTS_H

#include <stddef.h>
#include <stdint.h>

#define SSHOPTS_MAX		8192	/* longest options string we write */
#define SSHOPTS_ITEMS_MAX	64	/* most options on one key */
#define SSHOPTS_TIME_LEN	16	/* "YYYYMMDDHHMMSSZ" + NUL */
#define SSHOPTS_REASON_MAX	160	/* size of a reason buffer */

struct sshopts {
	char		*items[SSHOPTS_ITEMS_MAX];	/* rendered, owned */
	size_t		 n;
	int		 restrict_;	/* "restrict" was asked for */
	int64_t		 expires;	/* 0: no expiry-time */
};

void	sshopts_init(struct sshopts *o);
void	sshopts_free(struct sshopts *o);

/*
 * Add one option as an administrator types it after --option: "name",
 * "name=value" or name="value" (the quotes are optional; a value is taken
 * literally, with no escapes).  0, or KE_USAGE with reason filled.
 */
int	sshopts_add(struct sshopts *o, const char *opt, char *reason,
	    size_t reasonlen);
/* Add name="value" (--from, --command).  0, or KE_USAGE with reason. */
int	sshopts_add_value(struct sshopts *o, const char *name,
	    const char *value, char *reason, size_t reasonlen);
/* Set expiry-time to t (UTC epoch seconds, > 0). */
void	sshopts_set_expiry(struct sshopts *o, int64_t t);

/*
 * The canonical string into a new malloc'd *out ("" when there are no
 * options; the caller frees).  KE_NOMEM, or KE_USAGE when longer than
 * SSHOPTS_MAX.
 */
int	sshopts_render(const struct sshopts *o, char **out);

/*
 * Check len bytes of an options field as it stands in front of a key
 * (no surrounding blanks) the way sshd parses it.  0 when sshd would
 * accept it; KE_MALFORMED with reason otherwise.  cert-authority and
 * principals= are reported as such: keyadm does not manage CA lines.
 */
int	sshopts_check(const char *opts, size_t len, char *reason,
	    size_t reasonlen);

/*
 * The expiry-time of a checked options string as UTC epoch seconds into
 * *t (0 when it has none).  A time without 'Z' is local time, as for sshd.
 * 0, or KE_MALFORMED.
 */
int	sshopts_expiry(const char *opts, size_t len, int64_t *t);

/*
 * --expires: "YYYY-MM-DD" (the key stops working at 00:00:00 UTC that
 * day, like an account's expiry date), "YYYY-MM-DDTHH:MM[:SS]Z", or a
 * duration from now: a positive number followed by s, m, h, d or w
 * (sshd's time units: seconds, minutes, hours, days, weeks).  The result
 * must be after now.  0, or KE_USAGE with reason.
 */
int	sshopts_parse_expires(const char *arg, int64_t now, int64_t *t,
	    char *reason, size_t reasonlen);

/*
 * --since: the same forms, a date or time meaning that moment and a
 * duration meaning that long before now ("7d": a week ago).  Any time is
 * accepted, past or future; only malformed input is refused.  0, or
 * KE_USAGE with reason.
 */
int	sshopts_parse_since(const char *arg, int64_t now, int64_t *t,
	    char *reason, size_t reasonlen);

/*
 * opts (a checked options string, or NULL) with every expiry-time
 * replaced by one for t (0: none), the other options kept as they are:
 * --expires alone renews a key without touching its restrictions.  *out
 * is malloc'd ("" when nothing is left).  0, KE_NOMEM, or KE_MALFORMED
 * when opts does not check or the result would be too long.
 */
int	sshopts_with_expiry(const char *opts, int64_t t, char **out);

/* t as "YYYYMMDDHHMMSSZ" (UTC) into out. */
void	sshopts_format_time(int64_t t, char out[SSHOPTS_TIME_LEN]);

#endif
