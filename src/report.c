/*
 * report.c -- text and JSON on standard output.
 *
 * MUST: the only writer to stdout; untrusted text (comments, file names,
 * reasons that may carry a type word) is escaped before it is written.
 * MUST: under --json, exactly one JSON document; nothing else on stdout.
 * MUST: times are RFC 3339 UTC.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "msg.h"
#include "report.h"
#include "udiff.h"

#define ESC_MAX	(COMMENT_MAX * 4 + 16)

void
report_init(struct report *r, FILE *out, int json, int quiet)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->json = json;
	r->quiet = quiet;
}

int
report_finish(struct report *r)
{
	if (r->json)
		(void)fputc('\n', r->out);
	if (fflush(r->out) != 0 || ferror(r->out))
		return KE_IO;
	return 0;
}

static void
json_string(FILE *f, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 esc[ESC_MAX];

	(void)fputc('"', f);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			(void)fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			(void)fputs("\\n", f);
		else if (*p == '\t')
			(void)fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			(void)fprintf(f, "\\u%04x", *p);
		else if (*p < 0x80)
			(void)fputc(*p, f);
		else {
			/* let msg_escape judge the UTF-8 sequence */
			size_t n = 1;
			while (n < 4 && (p[n] & 0xc0) == 0x80)
				n++;
			msg_escape((const char *)p, n, esc, sizeof(esc));
			if (strchr(esc, '\\') != NULL)
				(void)fputs("\\ufffd", f);
			else
				(void)fputs(esc, f);
			p += n - 1;
		}
	}
	(void)fputc('"', f);
}

static void
json_key(struct report *r, const char *key)
{
	if (r->depth > 0 && r->need_comma[r->depth])
		(void)fputc(',', r->out);
	if (r->depth > 0)
		r->need_comma[r->depth] = 1;
	if (key != NULL) {
		json_string(r->out, key);
		(void)fputc(':', r->out);
	}
}

static void
json_open(struct report *r, const char *key, int c)
{
	if (!r->json)
		return;
	json_key(r, key);
	(void)fputc(c, r->out);
	if (r->depth < REPORT_DEPTH_MAX - 1)
		r->depth++;
	r->need_comma[r->depth] = 0;
}

static void
json_close(struct report *r, int c)
{
	if (!r->json)
		return;
	(void)fputc(c, r->out);
	if (r->depth > 0)
		r->depth--;
}

void report_obj_begin(struct report *r, const char *k) { json_open(r, k, '{'); }
void report_obj_end(struct report *r) { json_close(r, '}'); }
void report_arr_begin(struct report *r, const char *k) { json_open(r, k, '['); }
void report_arr_end(struct report *r) { json_close(r, ']'); }

void
report_str(struct report *r, const char *key, const char *val)
{
	if (!r->json)
		return;
	json_key(r, key);
	if (val == NULL)
		(void)fputs("null", r->out);
	else
		json_string(r->out, val);
}

void
report_int(struct report *r, const char *key, long long val)
{
	if (!r->json)
		return;
	json_key(r, key);
	(void)fprintf(r->out, "%lld", val);
}

void
report_bool(struct report *r, const char *key, int val)
{
	if (!r->json)
		return;
	json_key(r, key);
	(void)fputs(val ? "true" : "false", r->out);
}

const char *
report_fmt_time(int64_t t, char *buf, size_t buflen)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, buflen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, buflen, "-");
	return buf;
}

void
report_time(struct report *r, const char *key, int64_t t)
{
	char	buf[32];

	report_fmt_time(t, buf, sizeof(buf));
	/* 0, or a time gmtime cannot represent, is null, never "-" */
	report_str(r, key, strcmp(buf, "-") == 0 ? NULL : buf);
}

void
report_text(struct report *r, const char *fmt, ...)
{
	va_list	ap;

	if (r->json || r->quiet)
		return;
	va_start(ap, fmt);
	(void)vfprintf(r->out, fmt, ap);
	va_end(ap);
	(void)fputc('\n', r->out);
}

int
report_diff(struct report *r, const char *path, const char *before,
    size_t blen, const char *after, size_t alen)
{
	char	*d = NULL, esc[PATH_MAX * 2];
	size_t	 dlen = 0;
	int	 rc;

	msg_escape(path, strlen(path), esc, sizeof(esc));
	if ((rc = udiff(before, blen, after, alen, esc, esc, &d,
	    &dlen)) != 0)
		return rc;
	if (r->json)
		report_str(r, "diff", d);
	else if (!r->quiet)
		(void)fwrite(d, 1, dlen, r->out);
	free(d);
	return 0;
}

const char *
report_esc(const char *s, char *buf, size_t buflen)
{
	if (s == NULL)
		s = "";
	msg_escape(s, strlen(s), buf, buflen);
	return buf;
}

static void
report_reasons(struct report *r, const char *src, size_t lineno,
    const struct policy_result *pr)
{
	size_t	i;

	report_arr_begin(r, "reasons");
	for (i = 0; i < pr->n; i++) {
		const struct policy_reason_item *it = &pr->reasons[i];
		report_obj_begin(r, NULL);
		report_str(r, "code", policy_reason_name(it->code));
		report_str(r, "severity", policy_verdict_name(it->severity));
		report_str(r, "text", it->text);
		report_obj_end(r);
		report_text(r, "%s:%zu:   %s: %s", src, lineno,
		    policy_verdict_name(it->severity), it->text);
	}
	report_arr_end(r);
}

void
report_key(struct report *r, const char *source, size_t lineno,
    const char *format, const struct pubkey *k,
    const struct policy_result *pr)
{
	char	src[1024], com[ESC_MAX];

	report_esc(source, src, sizeof(src));
	report_esc(k->comment, com, sizeof(com));
	report_text(r, "%s:%zu: %s: %u %s %s (%s)", src, lineno,
	    policy_verdict_name(pr->verdict), k->bits, k->fingerprint,
	    k->comment != NULL ? com : "no comment",
	    keyparse_type_label(k->type));
	report_obj_begin(r, NULL);
	report_str(r, "source", source);
	report_int(r, "line", (long long)lineno);
	report_str(r, "format", format);
	report_str(r, "verdict", policy_verdict_name(pr->verdict));
	report_str(r, "type", k->typename);
	report_int(r, "bits", k->bits);
	report_str(r, "fingerprint", k->fingerprint);
	report_str(r, "comment", k->comment);
	report_reasons(r, src, lineno, pr);
	report_obj_end(r);
}

void
report_key_error(struct report *r, const char *source, size_t lineno,
    int err, const char *reason)
{
	report_obj_begin(r, NULL);
	report_str(r, "source", source);
	if (lineno > 0)
		report_int(r, "line", (long long)lineno);
	report_str(r, "verdict", "reject");
	report_str(r, "error", err == KE_POLICY ? "refused" :
	    err == KE_MALFORMED ? "malformed" : keyadm_strerror(err));
	report_arr_begin(r, "reasons");
	report_obj_begin(r, NULL);
	report_str(r, "code", err == KE_POLICY ? "refused" : "malformed");
	report_str(r, "severity", "reject");
	report_str(r, "text", reason);
	report_obj_end(r);
	report_arr_end(r);
	report_obj_end(r);
}

void
report_grant_header(struct report *r)
{
	report_text(r, "%-5s %-12s %-10s %5s %-50s %-8s %-8s %-20s %-12s "
	    "%-20s %-15s %s", "ID", "USER", "TYPE", "BITS", "FINGERPRINT",
	    "STATUS", "EXPIRES", "ADDED", "BY", "LAST-USED", "FROM",
	    "COMMENT");
}

/* Time left until t: "never", "expired", "89d", "5h", "12m". */
static const char *
time_left(int64_t t, int64_t now, char *buf, size_t len)
{
	int64_t	left = t - now;

	if (t == 0)
		return "never";
	if (left <= 0)
		return "expired";
	if (left >= 2 * 86400)
		(void)snprintf(buf, len, "%lldd", (long long)(left / 86400));
	else if (left >= 2 * 3600)
		(void)snprintf(buf, len, "%lldh", (long long)(left / 3600));
	else
		(void)snprintf(buf, len, "%lldm", (long long)((left + 59) / 60));
	return buf;
}

void
report_grant(struct report *r, const struct store_grant *g, int64_t now)
{
	char	t[32], com[ESC_MAX], by[128], user[128], left[32], used[32];
	char	from[128];

	if (!r->json) {
		report_text(r, "%-5lld %-12s %-10s %5u %-50s %-8s %-8s %-20s "
		    "%-12s %-20s %-15s %s", (long long)g->id,
		    report_esc(g->user, user, sizeof(user)),
		    keyparse_name_label(g->type), g->bits, g->fingerprint,
		    g->status, strcmp(g->status, "active") == 0 ?
		    time_left(g->expires_at, now, left, sizeof(left)) : "-",
		    report_fmt_time(g->added_at, t, sizeof(t)),
		    report_esc(g->added_by, by, sizeof(by)),
		    g->last_used_at != 0 ? report_fmt_time(g->last_used_at,
		    used, sizeof(used)) : "never",
		    g->last_used_from != NULL && g->last_used_from[0] != '\0' ?
		    report_esc(g->last_used_from, from, sizeof(from)) : "-",
		    report_esc(g->comment, com, sizeof(com)));
		return;
	}
	report_obj_begin(r, NULL);
	report_int(r, "id", (long long)g->id);
	report_str(r, "user", g->user);
	report_str(r, "fingerprint", g->fingerprint);
	report_str(r, "type", g->type);
	report_int(r, "bits", g->bits);
	report_str(r, "comment", g->comment);
	report_str(r, "status", g->status);
	report_str(r, "options", g->options);
	report_time(r, "added_at", g->added_at);
	report_str(r, "added_by", g->added_by);
	report_int(r, "added_uid", g->added_uid);
	report_str(r, "reason", g->reason);
	report_time(r, "expires_at", g->expires_at);
	report_time(r, "last_used_at", g->last_used_at);
	report_str(r, "last_used_from", g->last_used_from);
	report_int(r, "use_count", (long long)g->use_count);
	report_str(r, "path", g->path);
	report_obj_end(r);
}
