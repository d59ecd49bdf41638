/*
 * fuzz_config.c -- /etc/keyadm.conf as config_parse reads it (main reads
 * the file through safefs, NUL-terminated, and hands over its bytes).
 *
 * Checked besides memory safety: an error names the file in its message;
 * a configuration that parses keeps its promises (absolute paths,
 * warn_rsa_bits and max_rsa_bits not below min_rsa_bits).
 */
#include "fuzz.h"

#include "config.h"
#include "err.h"

#define NAME	"/etc/keyadm.conf"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*c;
	char		 msg[1024], *buf;
	int		 r;

	if (size > CONFIG_MAX)
		return 0;
	if ((c = malloc(sizeof(*c))) == NULL)
		return 0;
	if ((buf = fuzz_cstr(data, size)) == NULL) {
		free(c);
		return 0;
	}
	config_defaults(c);
	msg[0] = '\0';
	r = config_parse(c, NAME, buf, size, msg, sizeof(msg));
	if (r != 0) {
		FUZZ_CHECK(r == KE_CONFIG, "config_parse gives another code");
		FUZZ_CHECK(strncmp(msg, NAME ":", sizeof(NAME)) == 0,
		    "config error does not name the file");
	} else {
		FUZZ_CHECK(c->database[0] == '/' &&
		    c->revoked_keys_file[0] == '/',
		    "a database or revoked-keys path is not absolute");
		FUZZ_CHECK(c->deny_list[0] == '\0' || c->deny_list[0] == '/',
		    "deny_list is not absolute");
		FUZZ_CHECK(c->policy.warn_rsa_bits >= c->policy.min_rsa_bits &&
		    c->policy.max_rsa_bits >= c->policy.min_rsa_bits,
		    "RSA size limits out of order");
	}
	free(buf);
	free(c);
	return 0;
}
