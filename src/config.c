/*
 * config.c -- parse keyadm.conf.
 *
 * MUST: unknown names, bad values and over-long lines are errors (fail
 * closed); a "profile" line resets the policy to that profile's
 * defaults, so it must come before the settings it is meant to refine.
 * MUST: paths are absolute (authorized_keys_file may also be relative to the
 * home, as in sshd).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "config.h"
#include "err.h"

#define CONFIG_LINE_MAX	1024

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	policy_defaults(&c->policy, PROFILE_DEFAULT);
	(void)snprintf(c->database, sizeof(c->database), "%s", DEFAULT_DB);
	(void)snprintf(c->revoked_keys_file, sizeof(c->revoked_keys_file),
	    "%s", DEFAULT_REVOKED);
	(void)snprintf(c->authorized_keys_file,
	    sizeof(c->authorized_keys_file), "%s", DEFAULT_AUTHKEYS);
	(void)snprintf(c->audit_key_files, sizeof(c->audit_key_files), "%s",
	    DEFAULT_AUDIT_FILES);
	c->unused_days = DEFAULT_UNUSED_DAYS;
	c->busy_timeout_ms = DEFAULT_LOCK_MS;
}

static int
parse_uint(const char *v, unsigned int min, unsigned int max,
    unsigned int *out)
{
	char		*end;
	unsigned long	 n;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = (unsigned int)n;
	return 0;
}

static int	parse_path(const char *, char *, size_t, int);

/* Only the tokens keyfile_expand knows: %h %u %U %%. */
static int
valid_tokens(const char *v)
{
	for (; (v = strchr(v, '%')) != NULL; v += 2)
		if (v[1] == '\0' || strchr("huU%", v[1]) == NULL)
			return 0;
	return 1;
}

/* Patterns separated by blanks, as sshd's AuthorizedKeysFile; "none". */
static int
parse_path_list(const char *v, char *out, size_t outlen)
{
	char	one[PATH_MAX], chk[PATH_MAX];
	size_t	n;

	if (strcmp(v, "none") == 0) {
		out[0] = '\0';
		return 0;
	}
	if (strlen(v) >= outlen || v[strspn(v, " \t")] == '\0')
		return -1;	/* nothing audited is said with "none" */
	for (const char *p = v; *p != '\0';) {
		p += strspn(p, " \t");
		if ((n = strcspn(p, " \t")) == 0)
			break;
		if (n >= sizeof(one))
			return -1;
		memcpy(one, p, n);
		one[n] = '\0';
		if (parse_path(one, chk, sizeof(chk), 1) != 0 ||
		    !valid_tokens(one))
			return -1;
		p += n;
	}
	(void)snprintf(out, outlen, "%s", v);
	return 0;
}

static int
parse_path(const char *v, char *out, size_t outlen, int relative_ok)
{
	if (v[0] == '\0' || strlen(v) >= outlen)
		return -1;
	if (v[0] != '/' && !relative_ok)
		return -1;
	if (strstr(v, "/../") != NULL || strncmp(v, "../", 3) == 0)
		return -1;
	(void)snprintf(out, outlen, "%s", v);
	return 0;
}

static int
parse_action(const char *v, enum policy_action *out)
{
	if (strcmp(v, "accept") == 0)
		*out = PA_ACCEPT;
	else if (strcmp(v, "warn") == 0)
		*out = PA_WARN;
	else if (strcmp(v, "reject") == 0)
		*out = PA_REJECT;
	else
		return -1;
	return 0;
}

/* Apply one setting; returns 0, -1 (bad value) or -2 (unknown name). */
static int
config_set(struct config *c, const char *name, const char *v)
{
	struct policy	*p = &c->policy;

	if (strcmp(name, "profile") == 0) {
		if (strcmp(v, "default") == 0)
			policy_defaults(p, PROFILE_DEFAULT);
		else if (strcmp(v, "fips") == 0)
			policy_defaults(p, PROFILE_FIPS);
		else
			return -1;
		return 0;
	}
	if (strcmp(name, "min_rsa_bits") == 0)
		return parse_uint(v, 2048, 16384, &p->min_rsa_bits);
	if (strcmp(name, "warn_rsa_bits") == 0)
		return parse_uint(v, 2048, 16384, &p->warn_rsa_bits);
	if (strcmp(name, "max_rsa_bits") == 0)
		return parse_uint(v, 2048, 16384, &p->max_rsa_bits);
	if (strcmp(name, "ed25519") == 0)
		return parse_action(v, &p->ed25519);
	if (strcmp(name, "sk_ed25519") == 0)
		return parse_action(v, &p->sk_ed25519);
	if (strcmp(name, "ecdsa") == 0)
		return parse_action(v, &p->ecdsa);
	if (strcmp(name, "sk_ecdsa") == 0)
		return parse_action(v, &p->sk_ecdsa);
	if (strcmp(name, "rsa") == 0)
		return parse_action(v, &p->rsa);
	if (strcmp(name, "database") == 0)
		return parse_path(v, c->database, sizeof(c->database), 0);
	if (strcmp(name, "revoked_keys_file") == 0)
		return parse_path(v, c->revoked_keys_file,
		    sizeof(c->revoked_keys_file), 0);
	if (strcmp(name, "authorized_keys_file") == 0)
		return valid_tokens(v) ? parse_path(v, c->authorized_keys_file,
		    sizeof(c->authorized_keys_file), 1) : -1;
	if (strcmp(name, "audit_key_files") == 0)
		return parse_path_list(v, c->audit_key_files,
		    sizeof(c->audit_key_files));
	if (strcmp(name, "deny_list") == 0)
		return parse_path(v, c->deny_list, sizeof(c->deny_list), 0);
	if (strcmp(name, "rsa_exponent") == 0) {
		if (strcmp(v, "default") == 0)
			p->fips_exponent = 0;
		else if (strcmp(v, "fips") == 0)
			p->fips_exponent = 1;
		else
			return -1;
		return 0;
	}
	if (strcmp(name, "store_group") == 0) {
		if (!accounts_valid_name(v) ||
		    strlen(v) >= sizeof(c->store_group))
			return -1;
		(void)snprintf(c->store_group, sizeof(c->store_group), "%s",
		    v);
		return 0;
	}
	if (strcmp(name, "unused_days") == 0)
		return parse_uint(v, 1, 36500, &c->unused_days);
	if (strcmp(name, "busy_timeout_ms") == 0)
		return parse_uint(v, 10, 600000, &c->busy_timeout_ms);
	return -2;
}

/* Split "name = value" in place; trims blanks.  -1 when malformed. */
static int
split_line(char *line, char **name, char **value)
{
	char	*eq, *end;

	while (*line == ' ' || *line == '\t')
		line++;
	if ((eq = strchr(line, '=')) == NULL)
		return -1;
	*eq = '\0';
	for (end = eq; end > line && (end[-1] == ' ' || end[-1] == '\t'); end--)
		end[-1] = '\0';
	*name = line;
	line = eq + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	end = line + strlen(line);
	while (end > line && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		*--end = '\0';
	*value = line;
	return (**name == '\0') ? -1 : 0;
}

static int
config_line(struct config *c, char *line, const char *name, size_t lineno,
    char *msg, size_t msglen)
{
	char	*key, *value, *p;
	int	 r;

	for (p = line; *p == ' ' || *p == '\t' || *p == '\r'; p++)
		;
	if (*p == '\0' || *p == '#')
		return 0;
	for (p = line; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\r') {
			(void)snprintf(msg, msglen, "%s:%zu: control "
			    "character in line", name, lineno);
			return KE_CONFIG;
		}
	}
	if (split_line(line, &key, &value) == -1) {
		(void)snprintf(msg, msglen, "%s:%zu: expected "
		    "\"name = value\"", name, lineno);
		return KE_CONFIG;
	}
	if ((r = config_set(c, key, value)) == -2) {
		(void)snprintf(msg, msglen, "%s:%zu: unknown setting", name,
		    lineno);
		return KE_CONFIG;
	} else if (r != 0) {
		(void)snprintf(msg, msglen, "%s:%zu: bad value for %.64s",
		    name, lineno, key);
		return KE_CONFIG;
	}
	return 0;
}

int
config_parse(struct config *c, const char *name, const char *buf,
    size_t len, char *msg, size_t msglen)
{
	char	 line[CONFIG_LINE_MAX];
	size_t	 lineno = 0, start = 0, end, n;
	int	 r;

	while (start < len) {
		lineno++;
		for (end = start; end < len && buf[end] != '\n'; end++)
			;
		n = end - start;
		if (n >= sizeof(line)) {
			(void)snprintf(msg, msglen, "%s:%zu: line too long",
			    name, lineno);
			return KE_CONFIG;
		}
		memcpy(line, buf + start, n);
		line[n] = '\0';
		if (memchr(line, '\0', n) != NULL) {
			(void)snprintf(msg, msglen, "%s:%zu: NUL byte", name,
			    lineno);
			return KE_CONFIG;
		}
		if ((r = config_line(c, line, name, lineno, msg, msglen)) != 0)
			return r;
		start = end + 1;
	}
	if (c->policy.warn_rsa_bits < c->policy.min_rsa_bits)
		c->policy.warn_rsa_bits = c->policy.min_rsa_bits;
	if (c->policy.max_rsa_bits < c->policy.min_rsa_bits) {
		(void)snprintf(msg, msglen, "%s: max_rsa_bits is below "
		    "min_rsa_bits", name);
		return KE_CONFIG;
	}
	return 0;
}
