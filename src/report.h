/*
 * report.h -- everything keyadm writes on standard output.
 *
 * Text for people, or one JSON document (--json).  Untrusted strings are
 * escaped here: for text with msg_escape(), for JSON as JSON strings with
 * every control character and invalid UTF-8 byte escaped.  report decides
 * nothing.
 */
#ifndef KEYADM_REPORT_H
#define KEYADM_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "keyparse.h"
#include "policy.h"
#include "store.h"

#define REPORT_DEPTH_MAX	16

struct report {
	FILE	*out;
	int	 json;
	int	 quiet;
	int	 depth;
	int	 need_comma[REPORT_DEPTH_MAX];
};

void	report_init(struct report *r, FILE *out, int json, int quiet);
/* Flush; KE_IO if stdout could not be written (full disk, closed pipe). */
int	report_finish(struct report *r);

/* The JSON writer: keys may be NULL inside arrays. */
void	report_obj_begin(struct report *r, const char *key);
void	report_obj_end(struct report *r);
void	report_arr_begin(struct report *r, const char *key);
void	report_arr_end(struct report *r);
void	report_str(struct report *r, const char *key, const char *val);
void	report_int(struct report *r, const char *key, long long val);
void	report_bool(struct report *r, const char *key, int val);
/* RFC 3339 UTC, or null when t == 0. */
void	report_time(struct report *r, const char *key, int64_t t);

/* Text mode only (no-op under --json or -q): a line, args escaped by caller. */
void	report_text(struct report *r, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * What --dry-run would change in one file: a unified diff of before and
 * after (udiff.h), printed as it is in text mode, or as the string "diff"
 * of the current JSON object.  0 or KE_NOMEM.
 */
int	report_diff(struct report *r, const char *path, const char *before,
	    size_t blen, const char *after, size_t alen);
/* Escape untrusted text for a text line (wrapper of msg_escape). */
const char *report_esc(const char *s, char *buf, size_t buflen);
/* Format t as RFC 3339 UTC into buf ("-" when 0). */
const char *report_fmt_time(int64_t t, char *buf, size_t buflen);

/* The verdict on one submitted key (check and add). */
void	report_key(struct report *r, const char *source, size_t lineno,
	    const char *format, const struct pubkey *k,
	    const struct policy_result *pr);
/* A key line that could not be parsed or was refused before policy. */
void	report_key_error(struct report *r, const char *source, size_t lineno,
	    int err, const char *reason);
/* One grant (list); the text row shows the time left from now. */
void	report_grant(struct report *r, const struct store_grant *g,
	    int64_t now);
void	report_grant_header(struct report *r);

#endif
