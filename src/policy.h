/*
 * policy.h -- pure decisions on parsed keys.
 *
 * No I/O.  Given a struct pubkey and a struct policy, says accept, warn or
 * reject, with reason codes and one short sentence each.
 */
#ifndef KEYADM_POLICY_H
#define KEYADM_POLICY_H

#include "keyparse.h"

struct denylist;
struct weakkeys;

#define POLICY_REASONS_MAX	8
#define POLICY_TEXT_MAX		128

enum policy_profile {
	PROFILE_DEFAULT = 0,
	PROFILE_FIPS
};

enum policy_action {
	PA_ACCEPT = 0,
	PA_WARN,
	PA_REJECT
};

enum verdict {
	VERDICT_ACCEPT = 0,
	VERDICT_WARN,
	VERDICT_REJECT
};

enum policy_reason {
	PR_TYPE_FORBIDDEN = 1,	/* key type not allowed */
	PR_RSA_TOO_SMALL,
	PR_RSA_SMALL_WARN,	/* accepted, but below the recommended size */
	PR_RSA_TOO_LARGE,
	PR_RSA_EXP_SMALL,	/* e < 3 */
	PR_RSA_EXP_EVEN,
	PR_RSA_EXP_GE_N,
	PR_RSA_EXP_UNUSUAL,	/* e != 65537 (warning) */
	PR_RSA_EXP_FIPS,	/* outside 2^16 < e < 2^256 */
	PR_RSA_MOD_EVEN,
	PR_SK_APPLICATION,	/* sk application not "ssh:..." */
	PR_WEAK_SMALL_FACTOR,	/* the weak-key checks (weakkeys.h) */
	PR_WEAK_SQUARE,
	PR_WEAK_FERMAT,
	PR_WEAK_ROCA,
	PR_WEAK_SMALL_D,
	PR_WEAK_SPARSE,
	PR_WEAK_CHECK_FAILED,	/* the computation failed: fail closed */
	PR_DENY_LISTED,		/* on the deny list: known compromised */
};

struct policy {
	enum policy_profile	profile;
	enum policy_action	ed25519;	/* ssh-ed25519 */
	enum policy_action	sk_ed25519;
	enum policy_action	ecdsa;		/* nistp256/384/521 */
	enum policy_action	sk_ecdsa;
	enum policy_action	rsa;
	enum policy_action	dss;
	unsigned int		min_rsa_bits;	/* reject below */
	unsigned int		warn_rsa_bits;	/* warn below (accept) */
	unsigned int		max_rsa_bits;	/* reject above */
	int			fips_exponent;	/* odd, 2^16 < e < 2^256 */
	/* borrowed, built once per run; NULL skips that check */
	const struct weakkeys	*weak;
	const struct denylist	*deny;
};

struct policy_reason_item {
	enum policy_reason	code;
	enum verdict		severity;	/* VERDICT_WARN or _REJECT */
	char			text[POLICY_TEXT_MAX];
};

struct policy_result {
	enum verdict			verdict;
	size_t				n;
	struct policy_reason_item	reasons[POLICY_REASONS_MAX];
};

/*
 * Fill p with the settings of a profile (DESIGN.md's table).  weak and deny
 * become NULL: they are run-time objects the caller sets after the
 * configuration is read.
 */
void		 policy_defaults(struct policy *p, enum policy_profile prof);
/* Judge k; always fills r. */
void		 policy_check(const struct policy *p, const struct pubkey *k,
		    struct policy_result *r);
const char	*policy_verdict_name(enum verdict v);
/* Stable snake_case name of a reason code ("rsa_too_small"). */
const char	*policy_reason_name(enum policy_reason code);

#endif
