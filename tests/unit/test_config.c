/*
 * test_config.c -- keyadm.conf parsing: defaults, every setting, the
 * syntax (comments, blanks, CRLF), and the exact "<name>:<line>: <problem>"
 * message of every way a file is refused.
 *
 * Suite "config".  No I/O: config_parse gets bytes, never a path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "config.h"
#include "err.h"

#define NAME	"t.conf"

static struct config	cfg;
static char		msg[512];

/* Defaults, then parse text (a C string) as NAME. */
static int
parse(const char *text)
{
	config_defaults(&cfg);
	msg[0] = '\0';
	return config_parse(&cfg, NAME, text, strlen(text), msg, sizeof(msg));
}

/* The text must be refused with exactly want. */
static void
refused(const char *text, const char *want)
{
	int	r = parse(text);

	cr_assert_eq(r, KE_CONFIG, "\"%s\": got %d, want KE_CONFIG", text, r);
	cr_assert_str_eq(msg, want, "\"%s\"", text);
}

static void
accepted(const char *text)
{
	int	r = parse(text);

	cr_assert_eq(r, 0, "\"%s\": got %d (%s)", text, r, msg);
}

/* --- defaults ---------------------------------------------------------- */

Test(config, defaults)
{
	config_defaults(&cfg);
	cr_assert_eq(cfg.policy.profile, PROFILE_DEFAULT);
	cr_assert_eq(cfg.policy.ed25519, PA_ACCEPT);
	cr_assert_eq(cfg.policy.sk_ed25519, PA_ACCEPT);
	cr_assert_eq(cfg.policy.ecdsa, PA_ACCEPT);
	cr_assert_eq(cfg.policy.sk_ecdsa, PA_ACCEPT);
	cr_assert_eq(cfg.policy.rsa, PA_ACCEPT);
	cr_assert_eq(cfg.policy.dss, PA_REJECT);
	cr_assert_eq(cfg.policy.min_rsa_bits, 2048);
	cr_assert_eq(cfg.policy.warn_rsa_bits, 3072);
	cr_assert_eq(cfg.policy.max_rsa_bits, 16384);
	cr_assert_str_eq(cfg.database, "/var/lib/keyadm/keyadm.db");
	cr_assert_str_eq(cfg.revoked_keys_file, "/etc/ssh/keyadm_revoked_keys");
	cr_assert_str_eq(cfg.authorized_keys_file, "%h/.ssh/authorized_keys");
	cr_assert_eq(cfg.unused_days, 90);
	cr_assert_eq(cfg.busy_timeout_ms, 10000);
}

Test(config, empty_file_keeps_defaults)
{
	struct config	def;

	config_defaults(&def);
	accepted("");
	cr_assert_eq(memcmp(&cfg, &def, sizeof(def)), 0);
	accepted("\n\n# only comments\n   \n\t\n");
	cr_assert_eq(memcmp(&cfg, &def, sizeof(def)), 0);
}

/* --- profile ----------------------------------------------------------- */

Test(config, profile_fips)
{
	accepted("profile = fips\n");
	cr_assert_eq(cfg.policy.profile, PROFILE_FIPS);
	cr_assert_eq(cfg.policy.ed25519, PA_REJECT);
	cr_assert_eq(cfg.policy.sk_ed25519, PA_REJECT);
	cr_assert_eq(cfg.policy.sk_ecdsa, PA_REJECT);
	cr_assert_eq(cfg.policy.ecdsa, PA_ACCEPT);
	cr_assert_eq(cfg.policy.rsa, PA_ACCEPT);
	cr_assert_eq(cfg.policy.min_rsa_bits, 3072);
	cr_assert_eq(cfg.policy.warn_rsa_bits, 3072);
	cr_assert_eq(cfg.policy.max_rsa_bits, 16384);
}

Test(config, profile_default_after_fips)
{
	accepted("profile = fips\nprofile = default\n");
	cr_assert_eq(cfg.policy.profile, PROFILE_DEFAULT);
	cr_assert_eq(cfg.policy.ed25519, PA_ACCEPT);
	cr_assert_eq(cfg.policy.min_rsa_bits, 2048);
}

Test(config, profile_resets_earlier_settings)
{
	accepted("ed25519 = accept\nmin_rsa_bits = 4096\nrsa = warn\n"
	    "profile = fips\n");
	cr_assert_eq(cfg.policy.ed25519, PA_REJECT);
	cr_assert_eq(cfg.policy.min_rsa_bits, 3072);
	cr_assert_eq(cfg.policy.rsa, PA_ACCEPT);
	accepted("ed25519 = reject\nprofile = default\n");
	cr_assert_eq(cfg.policy.ed25519, PA_ACCEPT);
}

Test(config, profile_then_refinement_sticks)
{
	/* the man page's example */
	accepted("profile = fips\nmin_rsa_bits = 2048\n");
	cr_assert_eq(cfg.policy.profile, PROFILE_FIPS);
	cr_assert_eq(cfg.policy.min_rsa_bits, 2048);
	cr_assert_eq(cfg.policy.ed25519, PA_REJECT);
	accepted("profile = fips\ned25519 = warn\n");
	cr_assert_eq(cfg.policy.ed25519, PA_WARN);
}

Test(config, profile_bad_values)
{
	refused("profile = FIPS\n", NAME ":1: bad value for profile");
	refused("profile = \n", NAME ":1: bad value for profile");
	refused("profile = fips140\n", NAME ":1: bad value for profile");
	refused("profile = fips default\n", NAME ":1: bad value for profile");
}

/* --- RSA sizes --------------------------------------------------------- */

struct bits_case {
	char	key[16];
	char	val[32];
	int	ok;
};

ParameterizedTestParameters(config, rsa_bits_ranges)
{
	static struct bits_case cases[] = {
		{ "min_rsa_bits", "2048", 1 }, { "min_rsa_bits", "16384", 1 },
		{ "min_rsa_bits", "3072", 1 }, { "min_rsa_bits", "2047", 0 },
		{ "min_rsa_bits", "16385", 0 }, { "min_rsa_bits", "0", 0 },
		{ "warn_rsa_bits", "2048", 1 }, { "warn_rsa_bits", "16384", 1 },
		{ "warn_rsa_bits", "2047", 0 }, { "warn_rsa_bits", "16385", 0 },
		{ "max_rsa_bits", "2048", 1 }, { "max_rsa_bits", "16384", 1 },
		{ "max_rsa_bits", "2047", 0 }, { "max_rsa_bits", "16385", 0 },
		{ "min_rsa_bits", "-2048", 0 }, { "min_rsa_bits", "+2048", 0 },
		{ "min_rsa_bits", "2048x", 0 }, { "min_rsa_bits", "0x800", 0 },
		{ "min_rsa_bits", "2048.0", 0 }, { "min_rsa_bits", "", 0 },
		{ "min_rsa_bits", "20 48", 0 }, { "min_rsa_bits", "a", 0 },
		{ "min_rsa_bits", "4294969344", 0 },	/* 2^32 + 2048 */
		{ "min_rsa_bits", "99999999999999999999999", 0 },
		{ "min_rsa_bits", "002048", 1 },
	};

	return cr_make_param_array(struct bits_case, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bits_case *c, config, rsa_bits_ranges)
{
	char		 text[128], want[128];
	unsigned int	*field;

	(void)snprintf(text, sizeof(text), "%s = %s\n", c->key, c->val);
	if (!c->ok) {
		(void)snprintf(want, sizeof(want), NAME ":1: bad value for %s",
		    c->key);
		refused(text, want);
		return;
	}
	accepted(text);
	field = strcmp(c->key, "min_rsa_bits") == 0 ?
	    &cfg.policy.min_rsa_bits : strcmp(c->key, "warn_rsa_bits") == 0 ?
	    &cfg.policy.warn_rsa_bits : &cfg.policy.max_rsa_bits;
	cr_assert_eq(*field, (unsigned int)strtoul(c->val, NULL, 10),
	    "%s", text);
}

Test(config, rsa_bits_all_three)
{
	accepted("min_rsa_bits = 3072\nwarn_rsa_bits = 4096\n"
	    "max_rsa_bits = 8192\n");
	cr_assert_eq(cfg.policy.min_rsa_bits, 3072);
	cr_assert_eq(cfg.policy.warn_rsa_bits, 4096);
	cr_assert_eq(cfg.policy.max_rsa_bits, 8192);
}

Test(config, warn_below_min_is_raised_to_min)
{
	accepted("min_rsa_bits = 4096\n");
	cr_assert_eq(cfg.policy.warn_rsa_bits, 4096);
	accepted("min_rsa_bits = 4096\nwarn_rsa_bits = 2048\n");
	cr_assert_eq(cfg.policy.warn_rsa_bits, 4096);
}

Test(config, max_below_min_refused)
{
	refused("min_rsa_bits = 4096\nmax_rsa_bits = 3072\n",
	    NAME ": max_rsa_bits is below min_rsa_bits");
	refused("profile = fips\nmax_rsa_bits = 2048\n",
	    NAME ": max_rsa_bits is below min_rsa_bits");
	/* equal is fine; order of the lines does not matter */
	accepted("max_rsa_bits = 4096\nmin_rsa_bits = 4096\n");
	cr_assert_eq(cfg.policy.max_rsa_bits, 4096);
}

/* --- type actions ------------------------------------------------------ */

Test(config, type_actions)
{
	static const char	*types[] = { "ed25519", "sk_ed25519", "ecdsa",
				    "sk_ecdsa", "rsa" };
	static const char	*acts[] = { "accept", "warn", "reject" };
	static const enum policy_action want[] = { PA_ACCEPT, PA_WARN,
				    PA_REJECT };
	char			 text[64];
	size_t			 t, a;

	for (t = 0; t < 5; t++) {
		for (a = 0; a < 3; a++) {
			enum policy_action	 got;

			(void)snprintf(text, sizeof(text), "%s = %s\n",
			    types[t], acts[a]);
			accepted(text);
			got = t == 0 ? cfg.policy.ed25519 :
			    t == 1 ? cfg.policy.sk_ed25519 :
			    t == 2 ? cfg.policy.ecdsa :
			    t == 3 ? cfg.policy.sk_ecdsa : cfg.policy.rsa;
			cr_assert_eq(got, want[a], "%s", text);
		}
	}
}

Test(config, type_action_sets_only_its_type)
{
	accepted("ecdsa = reject\n");
	cr_assert_eq(cfg.policy.ecdsa, PA_REJECT);
	cr_assert_eq(cfg.policy.sk_ecdsa, PA_ACCEPT);
	cr_assert_eq(cfg.policy.ed25519, PA_ACCEPT);
	cr_assert_eq(cfg.policy.rsa, PA_ACCEPT);
}

Test(config, type_action_bad_values)
{
	refused("rsa = Accept\n", NAME ":1: bad value for rsa");
	refused("rsa = yes\n", NAME ":1: bad value for rsa");
	refused("rsa =\n", NAME ":1: bad value for rsa");
	refused("ed25519 = accepted\n", NAME ":1: bad value for ed25519");
	refused("sk_ecdsa = warn reject\n", NAME ":1: bad value for sk_ecdsa");
}

Test(config, dss_is_not_a_setting)
{
	/* "DSA keys are always refused": there is no knob for them */
	refused("dss = accept\n", NAME ":1: unknown setting");
	refused("dsa = accept\n", NAME ":1: unknown setting");
}

/* --- paths ------------------------------------------------------------- */

Test(config, database_absolute)
{
	accepted("database = /srv/keyadm/k.db\n");
	cr_assert_str_eq(cfg.database, "/srv/keyadm/k.db");
	refused("database = keyadm.db\n", NAME ":1: bad value for database");
	refused("database = ./keyadm.db\n", NAME ":1: bad value for database");
	refused("database = \n", NAME ":1: bad value for database");
	refused("database = /var/../etc/k.db\n",
	    NAME ":1: bad value for database");
	refused("database = ../k.db\n", NAME ":1: bad value for database");
}

Test(config, revoked_keys_file_absolute)
{
	accepted("revoked_keys_file = /etc/ssh/revoked\n");
	cr_assert_str_eq(cfg.revoked_keys_file, "/etc/ssh/revoked");
	refused("revoked_keys_file = revoked\n",
	    NAME ":1: bad value for revoked_keys_file");
	refused("revoked_keys_file = %h/revoked\n",
	    NAME ":1: bad value for revoked_keys_file");
	refused("revoked_keys_file = /etc/../revoked\n",
	    NAME ":1: bad value for revoked_keys_file");
}

Test(config, authorized_keys_file_absolute_or_relative)
{
	accepted("authorized_keys_file = /etc/ssh/authorized_keys/%u\n");
	cr_assert_str_eq(cfg.authorized_keys_file,
	    "/etc/ssh/authorized_keys/%u");
	accepted("authorized_keys_file = .ssh/authorized_keys2\n");
	cr_assert_str_eq(cfg.authorized_keys_file, ".ssh/authorized_keys2");
	accepted("authorized_keys_file = %h/.ssh/keys\n");
	cr_assert_str_eq(cfg.authorized_keys_file, "%h/.ssh/keys");
	refused("authorized_keys_file = ../x/authorized_keys\n",
	    NAME ":1: bad value for authorized_keys_file");
	refused("authorized_keys_file = %h/../x/authorized_keys\n",
	    NAME ":1: bad value for authorized_keys_file");
	refused("authorized_keys_file =\n",
	    NAME ":1: bad value for authorized_keys_file");
}

Test(config, audit_key_files_list_or_none)
{
	config_defaults(&cfg);
	cr_assert_str_eq(cfg.audit_key_files, ".ssh/authorized_keys2");
	accepted("audit_key_files = none\n");
	cr_assert_str_eq(cfg.audit_key_files, "");
	accepted("audit_key_files = .ssh/extra %h/.ssh/authorized_keys2\n");
	cr_assert_str_eq(cfg.audit_key_files,
	    ".ssh/extra %h/.ssh/authorized_keys2");
	accepted("audit_key_files = /etc/ssh/keys/%u\n");
	cr_assert_str_eq(cfg.audit_key_files, "/etc/ssh/keys/%u");
	refused("audit_key_files = .ssh/a ../x/keys\n",
	    NAME ":1: bad value for audit_key_files");
	refused("audit_key_files = .ssh/a /x/../y\n",
	    NAME ":1: bad value for audit_key_files");
	refused("audit_key_files = .ssh/%x\n",
	    NAME ":1: bad value for audit_key_files");
	refused("audit_key_files = %\n",
	    NAME ":1: bad value for audit_key_files");
	refused("audit_key_files =\n",
	    NAME ":1: bad value for audit_key_files");
	refused("authorized_keys_file = %h/%q\n",
	    NAME ":1: bad value for authorized_keys_file");
}

Test(config, path_value_keeps_inner_blanks_trims_outer)
{
	accepted("database =  \t/srv/my keys/k.db \t \n");
	cr_assert_str_eq(cfg.database, "/srv/my keys/k.db");
}

/* --- numbers ----------------------------------------------------------- */

Test(config, unused_days)
{
	accepted("unused_days = 1\n");
	cr_assert_eq(cfg.unused_days, 1);
	accepted("unused_days = 36500\n");
	cr_assert_eq(cfg.unused_days, 36500);
	refused("unused_days = 0\n", NAME ":1: bad value for unused_days");
	refused("unused_days = 36501\n", NAME ":1: bad value for unused_days");
	refused("unused_days = -1\n", NAME ":1: bad value for unused_days");
	refused("unused_days = 7d\n", NAME ":1: bad value for unused_days");
}

Test(config, busy_timeout_ms)
{
	accepted("busy_timeout_ms = 10\n");
	cr_assert_eq(cfg.busy_timeout_ms, 10);
	accepted("busy_timeout_ms = 600000\n");
	cr_assert_eq(cfg.busy_timeout_ms, 600000);
	refused("busy_timeout_ms = 9\n",
	    NAME ":1: bad value for busy_timeout_ms");
	refused("busy_timeout_ms = 600001\n",
	    NAME ":1: bad value for busy_timeout_ms");
	refused("busy_timeout_ms = 1e4\n",
	    NAME ":1: bad value for busy_timeout_ms");
}

Test(config, trailing_comment_is_part_of_the_value)
{
	/* only whole-line comments exist */
	refused("unused_days = 5 # five\n",
	    NAME ":1: bad value for unused_days");
}

/* --- syntax ------------------------------------------------------------ */

Test(config, comments_blanks_and_crlf)
{
	accepted("# keyadm.conf\r\n"
	    "\r\n"
	    "   # indented comment\r\n"
	    "\t\r\n"
	    "database = /x/y.db\r\n"
	    "  unused_days\t=\t30  \r\n"
	    "rsa = warn\r\n");
	cr_assert_str_eq(cfg.database, "/x/y.db");
	cr_assert_eq(cfg.unused_days, 30);
	cr_assert_eq(cfg.policy.rsa, PA_WARN);
}

Test(config, no_blanks_and_no_final_newline)
{
	accepted("unused_days=7\nbusy_timeout_ms=50");
	cr_assert_eq(cfg.unused_days, 7);
	cr_assert_eq(cfg.busy_timeout_ms, 50);
}

Test(config, later_line_wins)
{
	accepted("unused_days = 7\nunused_days = 8\n");
	cr_assert_eq(cfg.unused_days, 8);
}

Test(config, unknown_setting)
{
	refused("frobnicate = 1\n", NAME ":1: unknown setting");
	refused("# c\n\nunused_days = 3\nUnused_Days = 3\n",
	    NAME ":4: unknown setting");
	refused("unused days = 3\n", NAME ":1: unknown setting");
	/* the unknown name is not echoed: it is untrusted text */
	refused("\xe2\x80\xae" "evil = 1\n", NAME ":1: unknown setting");
}

Test(config, bad_value_names_the_line)
{
	refused("\n\n# three\nunused_days = 3\nrsa = maybe\n",
	    NAME ":5: bad value for rsa");
	refused("a=1\r\n", NAME ":1: unknown setting");
	refused("rsa = warn\r\nrsa = maybe\r\n", NAME ":2: bad value for rsa");
}

Test(config, missing_equals)
{
	refused("database /x\n", NAME ":1: expected \"name = value\"");
	refused("# ok\nprofile\n", NAME ":2: expected \"name = value\"");
	refused("= fips\n", NAME ":1: expected \"name = value\"");
	refused("  \t= fips\n", NAME ":1: expected \"name = value\"");
}

Test(config, control_characters)
{
	refused("database = /x\x01y\n", NAME ":1: control character in line");
	refused("rsa = warn\x1b[31m\n", NAME ":1: control character in line");
	refused("\n# comment\nprofile\x0b= fips\n",
	    NAME ":3: control character in line");
	refused("unused_days = 3\x0c\n", NAME ":1: control character in line");
	/* a lone CR inside a line */
	refused("rsa = w\rarn\n", NAME ":1: bad value for rsa");
}

Test(config, nul_byte)
{
	static const char	text[] = "unused_days = 3\nrsa = warn\0x\n";
	int			r;

	config_defaults(&cfg);
	r = config_parse(&cfg, NAME, text, sizeof(text) - 1, msg,
	    sizeof(msg));
	cr_assert_eq(r, KE_CONFIG);
	cr_assert_str_eq(msg, NAME ":2: NUL byte");
}

Test(config, nul_byte_in_comment)
{
	static const char	text[] = "# a\0b\n";
	int			r;

	config_defaults(&cfg);
	r = config_parse(&cfg, NAME, text, sizeof(text) - 1, msg,
	    sizeof(msg));
	cr_assert_eq(r, KE_CONFIG);
	cr_assert_str_eq(msg, NAME ":1: NUL byte");
}

Test(config, line_length_limit)
{
	char	text[2100];

	/* 1023 bytes before the newline: the longest line there is */
	memset(text, ' ', sizeof(text));
	text[0] = '#';
	text[1023] = '\n';
	(void)snprintf(text + 1024, sizeof(text) - 1024, "unused_days = 9\n");
	accepted(text);
	cr_assert_eq(cfg.unused_days, 9);

	/* 1024 bytes: too long, on line 2 */
	memset(text, ' ', sizeof(text));
	memcpy(text, "rsa = warn\n#", 12);
	text[11 + 1024] = '\n';
	text[11 + 1025] = '\0';
	refused(text, NAME ":2: line too long");

	/* the last line without a newline counts too */
	memset(text, 'a', 2000);
	text[2000] = '\0';
	refused(text, NAME ":1: line too long");
}

Test(config, long_key_in_message_is_cut)
{
	char	text[200], want[128];

	/* a bad value for a known key: the key is at most 64 bytes */
	(void)snprintf(text, sizeof(text), "authorized_keys_file = ../x\n");
	refused(text, NAME ":1: bad value for authorized_keys_file");
	(void)snprintf(want, sizeof(want), "%s", NAME ":1: unknown setting");
	memset(text, 'k', 150);
	(void)snprintf(text + 150, sizeof(text) - 150, " = 1\n");
	refused(text, want);
}

Test(config, small_message_buffer_is_not_overrun)
{
	char	small[8 + 4];
	int	r;

	memset(small, 'Z', sizeof(small));
	config_defaults(&cfg);
	r = config_parse(&cfg, NAME, "frobnicate = 1\n", 15, small, 8);
	cr_assert_eq(r, KE_CONFIG);
	cr_assert_eq(strlen(small), 7);
	cr_assert_eq(small[8], 'Z');
}

Test(config, name_in_message_verbatim)
{
	int	r;

	config_defaults(&cfg);
	r = config_parse(&cfg, "/etc/keyadm.conf", "x = 1", 5, msg,
	    sizeof(msg));
	cr_assert_eq(r, KE_CONFIG);
	cr_assert_str_eq(msg, "/etc/keyadm.conf:1: unknown setting");
}

Test(config, deny_list_path)
{
	cr_assert_str_eq(cfg.deny_list, "", "no deny list by default");
	accepted("deny_list = /etc/keyadm/deny\n");
	cr_assert_str_eq(cfg.deny_list, "/etc/keyadm/deny");
	refused("deny_list = deny\n", NAME ":1: bad value for deny_list");
}

Test(config, rsa_exponent_rule)
{
	cr_assert_eq(cfg.policy.fips_exponent, 0);
	accepted("rsa_exponent = fips\n");
	cr_assert_eq(cfg.policy.fips_exponent, 1);
	accepted("profile = fips\nrsa_exponent = default\n");
	cr_assert_eq(cfg.policy.fips_exponent, 0, "a later line overrides");
	accepted("profile = fips\n");
	cr_assert_eq(cfg.policy.fips_exponent, 1, "the profile sets it");
	refused("rsa_exponent = 3\n", NAME ":1: bad value for rsa_exponent");
}
