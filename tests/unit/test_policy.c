/*
 * test_policy.c -- policy: DESIGN.md's profile table and the RSA and
 * security-key checks, on keys built by hand (no parsing involved).
 * The invariants P1-P7 are listed at the top of src/policy.c.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "policy.h"
#include "weakkeys.h"

/* 65537 and a modulus that is odd and larger than any exponent below. */
static const unsigned char E65537[] = { 0x01, 0x00, 0x01 };
static const unsigned char N_ODD[384] = { [0 ... 383] = 0xff };

static struct pubkey
rsa_key(unsigned int bits, const unsigned char *e, size_t elen)
{
	struct pubkey	k;

	memset(&k, 0, sizeof(k));
	k.type = KT_RSA;
	strcpy(k.typename, "ssh-rsa");
	k.bits = bits;
	k.rsa_e = e;
	k.rsa_elen = elen;
	k.rsa_n = N_ODD;
	k.rsa_nlen = sizeof(N_ODD);
	return k;
}

static struct pubkey
typed_key(enum keytype t)
{
	struct pubkey	k;

	if (t == KT_RSA)
		return rsa_key(3072, E65537, sizeof(E65537));
	memset(&k, 0, sizeof(k));
	k.type = t;
	k.bits = 256;
	if (t == KT_SK_ECDSA || t == KT_SK_ED25519) {
		k.sk_app = (const unsigned char *)"ssh:";
		k.sk_applen = 4;
	}
	return k;
}

static struct policy_result
judge(enum policy_profile prof, const struct pubkey *k)
{
	struct policy		p;
	struct policy_result	r;

	policy_defaults(&p, prof);
	policy_check(&p, k, &r);
	return r;
}

/* Is code among the reasons, with this severity? */
static int
has(const struct policy_result *r, enum policy_reason code, enum verdict sev)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		if (r->reasons[i].code == code && r->reasons[i].severity == sev)
			return 1;
	}
	return 0;
}

/* The text of the first reason with this code, or "". */
static const char *
text_of(const struct policy_result *r, enum policy_reason code)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		if (r->reasons[i].code == code)
			return r->reasons[i].text;
	}
	return "";
}

/* P1 */
Test(policy, defaults_default_profile)
{
	struct policy	p;

	policy_defaults(&p, PROFILE_DEFAULT);
	cr_assert_eq(p.profile, PROFILE_DEFAULT);
	cr_assert_eq(p.ed25519, PA_ACCEPT);
	cr_assert_eq(p.sk_ed25519, PA_ACCEPT);
	cr_assert_eq(p.ecdsa, PA_ACCEPT);
	cr_assert_eq(p.sk_ecdsa, PA_ACCEPT);
	cr_assert_eq(p.rsa, PA_ACCEPT);
	cr_assert_eq(p.dss, PA_REJECT);
	cr_assert_eq(p.min_rsa_bits, 2048);
	cr_assert_eq(p.warn_rsa_bits, 3072);
	cr_assert_eq(p.max_rsa_bits, 16384);
}

Test(policy, defaults_fips_profile)
{
	struct policy	p;

	policy_defaults(&p, PROFILE_FIPS);
	cr_assert_eq(p.profile, PROFILE_FIPS);
	cr_assert_eq(p.ed25519, PA_REJECT);
	cr_assert_eq(p.sk_ed25519, PA_REJECT);
	cr_assert_eq(p.ecdsa, PA_ACCEPT);
	cr_assert_eq(p.sk_ecdsa, PA_REJECT);
	cr_assert_eq(p.rsa, PA_ACCEPT);
	cr_assert_eq(p.dss, PA_REJECT);
	cr_assert_eq(p.min_rsa_bits, 3072);
	cr_assert_eq(p.warn_rsa_bits, 3072);
	cr_assert_eq(p.max_rsa_bits, 16384);
}

struct type_row {
	enum keytype		type;
	enum policy_profile	prof;
	enum verdict		want;
};

ParameterizedTestParameters(policy, type_table)
{
	static struct type_row rows[] = {
		{ KT_ED25519, PROFILE_DEFAULT, VERDICT_ACCEPT },
		{ KT_ED25519, PROFILE_FIPS, VERDICT_REJECT },
		{ KT_SK_ED25519, PROFILE_DEFAULT, VERDICT_ACCEPT },
		{ KT_SK_ED25519, PROFILE_FIPS, VERDICT_REJECT },
		{ KT_ECDSA_P256, PROFILE_DEFAULT, VERDICT_ACCEPT },
		{ KT_ECDSA_P256, PROFILE_FIPS, VERDICT_ACCEPT },
		{ KT_ECDSA_P384, PROFILE_DEFAULT, VERDICT_ACCEPT },
		{ KT_ECDSA_P384, PROFILE_FIPS, VERDICT_ACCEPT },
		{ KT_ECDSA_P521, PROFILE_DEFAULT, VERDICT_ACCEPT },
		{ KT_ECDSA_P521, PROFILE_FIPS, VERDICT_ACCEPT },
		{ KT_SK_ECDSA, PROFILE_DEFAULT, VERDICT_ACCEPT },
		{ KT_SK_ECDSA, PROFILE_FIPS, VERDICT_REJECT },
		{ KT_RSA, PROFILE_DEFAULT, VERDICT_ACCEPT },
		{ KT_RSA, PROFILE_FIPS, VERDICT_ACCEPT },
		{ KT_DSS, PROFILE_DEFAULT, VERDICT_REJECT },
		{ KT_DSS, PROFILE_FIPS, VERDICT_REJECT },
		{ KT_UNKNOWN, PROFILE_DEFAULT, VERDICT_REJECT },
		{ KT_UNKNOWN, PROFILE_FIPS, VERDICT_REJECT },
	};

	return cr_make_param_array(struct type_row, rows,
	    sizeof(rows) / sizeof(rows[0]));
}

/* P1, P2: every row of the type table, both profiles. */
ParameterizedTest(struct type_row *row, policy, type_table)
{
	struct pubkey		k = typed_key(row->type);
	struct policy_result	r = judge(row->prof, &k);

	cr_assert_eq(r.verdict, row->want, "type %d profile %d: got %s",
	    row->type, row->prof, policy_verdict_name(r.verdict));
	if (row->want == VERDICT_ACCEPT)
		cr_assert_eq(r.n, 0);
	else
		cr_assert(has(&r, PR_TYPE_FORBIDDEN, VERDICT_REJECT));
}

Test(policy, type_texts)
{
	struct pubkey		k;
	struct policy_result	r;

	k = typed_key(KT_DSS);
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert_str_eq(text_of(&r, PR_TYPE_FORBIDDEN), "DSA (ssh-dss) keys "
	    "are not accepted: OpenSSH has removed DSA support");
	k = typed_key(KT_ED25519);
	r = judge(PROFILE_FIPS, &k);
	cr_assert_str_eq(text_of(&r, PR_TYPE_FORBIDDEN),
	    "Ed25519 keys are not allowed by the fips profile");
	k = typed_key(KT_UNKNOWN);
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert_str_eq(text_of(&r, PR_TYPE_FORBIDDEN),
	    "keys of an unknown type or certificates are not accepted");
}

/* An override to "warn" accepts with a warning. */
Test(policy, type_action_warn)
{
	struct policy		p;
	struct policy_result	r;
	struct pubkey		k = typed_key(KT_ED25519);

	policy_defaults(&p, PROFILE_DEFAULT);
	p.ed25519 = PA_WARN;
	policy_check(&p, &k, &r);
	cr_assert_eq(r.verdict, VERDICT_WARN);
	cr_assert(has(&r, PR_TYPE_FORBIDDEN, VERDICT_WARN));
}

/* P4: an action value we do not know rejects. */
Test(policy, unknown_action_rejects)
{
	struct policy		p;
	struct policy_result	r;
	struct pubkey		k = typed_key(KT_ECDSA_P256);

	policy_defaults(&p, PROFILE_DEFAULT);
	p.ecdsa = (enum policy_action)42;
	policy_check(&p, &k, &r);
	cr_assert_eq(r.verdict, VERDICT_REJECT);
}

struct bits_row {
	enum policy_profile	prof;
	unsigned int		bits;
	enum verdict		want;
	enum policy_reason	code;	/* 0: no reason */
};

ParameterizedTestParameters(policy, rsa_bits_boundaries)
{
	static struct bits_row rows[] = {
		{ PROFILE_DEFAULT, 1024, VERDICT_REJECT, PR_RSA_TOO_SMALL },
		{ PROFILE_DEFAULT, 2047, VERDICT_REJECT, PR_RSA_TOO_SMALL },
		{ PROFILE_DEFAULT, 2048, VERDICT_WARN, PR_RSA_SMALL_WARN },
		{ PROFILE_DEFAULT, 3071, VERDICT_WARN, PR_RSA_SMALL_WARN },
		{ PROFILE_DEFAULT, 3072, VERDICT_ACCEPT, 0 },
		{ PROFILE_DEFAULT, 4096, VERDICT_ACCEPT, 0 },
		{ PROFILE_DEFAULT, 16384, VERDICT_ACCEPT, 0 },
		{ PROFILE_DEFAULT, 16385, VERDICT_REJECT, PR_RSA_TOO_LARGE },
		{ PROFILE_FIPS, 1024, VERDICT_REJECT, PR_RSA_TOO_SMALL },
		{ PROFILE_FIPS, 2047, VERDICT_REJECT, PR_RSA_TOO_SMALL },
		{ PROFILE_FIPS, 2048, VERDICT_REJECT, PR_RSA_TOO_SMALL },
		{ PROFILE_FIPS, 3071, VERDICT_REJECT, PR_RSA_TOO_SMALL },
		{ PROFILE_FIPS, 3072, VERDICT_ACCEPT, 0 },
		{ PROFILE_FIPS, 16384, VERDICT_ACCEPT, 0 },
		{ PROFILE_FIPS, 16385, VERDICT_REJECT, PR_RSA_TOO_LARGE },
	};

	return cr_make_param_array(struct bits_row, rows,
	    sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bits_row *row, policy, rsa_bits_boundaries)
{
	struct pubkey		k = rsa_key(row->bits, E65537, sizeof(E65537));
	struct policy_result	r = judge(row->prof, &k);

	cr_assert_eq(r.verdict, row->want, "%u bits profile %d: got %s",
	    row->bits, row->prof, policy_verdict_name(r.verdict));
	if (row->code == 0) {
		cr_assert_eq(r.n, 0);
	} else {
		cr_assert_eq(r.n, 1);
		cr_assert_eq(r.reasons[0].code, row->code);
		cr_assert_eq(r.reasons[0].severity, row->want);
	}
}

Test(policy, rsa_size_texts)
{
	struct pubkey		k;
	struct policy_result	r;

	k = rsa_key(1024, E65537, sizeof(E65537));
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert_str_eq(r.reasons[0].text,
	    "RSA key of 1024 bits is below the minimum of 2048");
	k = rsa_key(2048, E65537, sizeof(E65537));
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert_str_eq(r.reasons[0].text,
	    "RSA key of 2048 bits: accepted, but 3072 or more is recommended");
	k = rsa_key(16385, E65537, sizeof(E65537));
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert_str_eq(r.reasons[0].text,
	    "RSA key of 16385 bits is above the maximum of 16384");
}

/* fips with min_rsa_bits lowered to 2048: accepted with a warning. */
Test(policy, fips_min_lowered)
{
	struct policy		p;
	struct policy_result	r;
	struct pubkey		k = rsa_key(2048, E65537, sizeof(E65537));

	policy_defaults(&p, PROFILE_FIPS);
	p.min_rsa_bits = 2048;
	policy_check(&p, &k, &r);
	cr_assert_eq(r.verdict, VERDICT_WARN);
	cr_assert(has(&r, PR_RSA_SMALL_WARN, VERDICT_WARN));
}

static struct policy_result
judge_e(enum policy_profile prof, const unsigned char *e, size_t elen)
{
	struct pubkey	k = rsa_key(3072, e, elen);

	return judge(prof, &k);
}

Test(policy, exponent_one)
{
	static const unsigned char e[] = { 1 };
	struct policy_result	r = judge_e(PROFILE_DEFAULT, e, sizeof(e));

	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_RSA_EXP_SMALL, VERDICT_REJECT));
	cr_assert_not(has(&r, PR_RSA_EXP_EVEN, VERDICT_REJECT));
	cr_assert_not(has(&r, PR_RSA_EXP_UNUSUAL, VERDICT_WARN));
}

Test(policy, exponent_two)
{
	static const unsigned char e[] = { 2 };
	struct policy_result	r = judge_e(PROFILE_DEFAULT, e, sizeof(e));

	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_RSA_EXP_SMALL, VERDICT_REJECT));
	cr_assert(has(&r, PR_RSA_EXP_EVEN, VERDICT_REJECT));
}

Test(policy, exponent_zero_and_missing)
{
	static const unsigned char e[] = { 0 };
	struct policy_result	r;

	r = judge_e(PROFILE_DEFAULT, e, sizeof(e));
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_RSA_EXP_SMALL, VERDICT_REJECT));
	r = judge_e(PROFILE_DEFAULT, NULL, 0);
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_RSA_EXP_SMALL, VERDICT_REJECT));
}

Test(policy, exponent_three_warns)
{
	static const unsigned char e[] = { 3 };
	struct policy_result	r = judge_e(PROFILE_DEFAULT, e, sizeof(e));

	cr_assert_eq(r.verdict, VERDICT_WARN);
	cr_assert_eq(r.n, 1);
	cr_assert(has(&r, PR_RSA_EXP_UNUSUAL, VERDICT_WARN));
}

Test(policy, exponent_65537_accepts)
{
	struct policy_result	r;

	r = judge_e(PROFILE_DEFAULT, E65537, sizeof(E65537));
	cr_assert_eq(r.verdict, VERDICT_ACCEPT);
	cr_assert_eq(r.n, 0);
	r = judge_e(PROFILE_FIPS, E65537, sizeof(E65537));
	cr_assert_eq(r.verdict, VERDICT_ACCEPT);
	cr_assert_eq(r.n, 0);
}

Test(policy, exponent_65539)
{
	static const unsigned char e[] = { 0x01, 0x00, 0x03 };
	struct policy_result	r;

	r = judge_e(PROFILE_DEFAULT, e, sizeof(e));
	cr_assert_eq(r.verdict, VERDICT_WARN);
	cr_assert(has(&r, PR_RSA_EXP_UNUSUAL, VERDICT_WARN));
	r = judge_e(PROFILE_FIPS, e, sizeof(e));
	cr_assert_eq(r.verdict, VERDICT_ACCEPT);
}

Test(policy, exponent_even)
{
	static const unsigned char e[] = { 0x01, 0x00, 0x00, 0x00 };
	struct policy_result	r = judge_e(PROFILE_DEFAULT, e, sizeof(e));

	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_RSA_EXP_EVEN, VERDICT_REJECT));
	cr_assert_not(has(&r, PR_RSA_EXP_SMALL, VERDICT_REJECT));
	cr_assert_str_eq(text_of(&r, PR_RSA_EXP_EVEN),
	    "RSA public exponent is even");
}

Test(policy, exponent_equal_to_modulus)
{
	struct pubkey		k;
	struct policy_result	r;

	k = rsa_key(3072, N_ODD, sizeof(N_ODD));
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_RSA_EXP_GE_N, VERDICT_REJECT));
	/* an invalid exponent is not also called unusual */
	cr_assert_not(has(&r, PR_RSA_EXP_UNUSUAL, VERDICT_WARN));
}

Test(policy, exponent_greater_than_modulus)
{
	static const unsigned char n[] = { 0xc0, 0x01 };
	static const unsigned char e1[] = { 0xc0, 0x03 };
	static const unsigned char e2[] = { 0x01, 0x00, 0x01 };
	static const unsigned char e3[] = { 0xbf, 0xff };
	struct pubkey		k;
	struct policy_result	r;

	k = rsa_key(3072, e1, sizeof(e1));	/* same length, larger */
	k.rsa_n = n;
	k.rsa_nlen = sizeof(n);
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert(has(&r, PR_RSA_EXP_GE_N, VERDICT_REJECT));
	k.rsa_e = e2;				/* longer */
	k.rsa_elen = sizeof(e2);
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert(has(&r, PR_RSA_EXP_GE_N, VERDICT_REJECT));
	k.rsa_e = e3;				/* same length, smaller */
	k.rsa_elen = sizeof(e3);
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert_not(has(&r, PR_RSA_EXP_GE_N, VERDICT_REJECT));
}

Test(policy, modulus_even)
{
	static const unsigned char n[] = { 0xff, 0xfe };
	struct pubkey		k = rsa_key(3072, E65537, sizeof(E65537));
	struct policy_result	r;

	k.rsa_n = n;
	k.rsa_nlen = sizeof(n);
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_RSA_MOD_EVEN, VERDICT_REJECT));
	k.rsa_n = NULL;				/* P4: missing rejects */
	k.rsa_nlen = 0;
	r = judge(PROFILE_DEFAULT, &k);
	cr_assert(has(&r, PR_RSA_MOD_EVEN, VERDICT_REJECT));
}

/* P5: leading zero bytes do not change the answer. */
Test(policy, exponent_leading_zeros_ignored)
{
	static const unsigned char e[] = { 0x00, 0x00, 0x01, 0x00, 0x01 };
	struct policy_result	r = judge_e(PROFILE_DEFAULT, e, sizeof(e));

	cr_assert_eq(r.verdict, VERDICT_ACCEPT);
	cr_assert_eq(r.n, 0);
}

Test(policy, fips_exponent_range)
{
	static const unsigned char e3[] = { 3 };
	static const unsigned char e2_16[] = { 0x01, 0x00, 0x00 };
	static const unsigned char e2_16p1[] = { 0x01, 0x00, 0x01 };
	unsigned char		big[33];
	struct policy_result	r;

	r = judge_e(PROFILE_FIPS, e3, sizeof(e3));
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_RSA_EXP_FIPS, VERDICT_REJECT));
	cr_assert_not(has(&r, PR_RSA_EXP_UNUSUAL, VERDICT_WARN));
	r = judge_e(PROFILE_FIPS, e2_16, sizeof(e2_16));
	cr_assert(has(&r, PR_RSA_EXP_FIPS, VERDICT_REJECT));
	cr_assert(has(&r, PR_RSA_EXP_EVEN, VERDICT_REJECT));
	r = judge_e(PROFILE_FIPS, e2_16p1, sizeof(e2_16p1));
	cr_assert_eq(r.verdict, VERDICT_ACCEPT);
	memset(big, 0xff, 32);			/* 2^256 - 1: odd, in range */
	r = judge_e(PROFILE_FIPS, big, 32);
	cr_assert_eq(r.verdict, VERDICT_ACCEPT, "%s", r.reasons[0].text);
	memset(big, 0, sizeof(big));		/* 2^256 */
	big[0] = 1;
	r = judge_e(PROFILE_FIPS, big, sizeof(big));
	cr_assert(has(&r, PR_RSA_EXP_FIPS, VERDICT_REJECT));
	big[32] = 1;				/* 2^256 + 1: odd, too big */
	r = judge_e(PROFILE_FIPS, big, sizeof(big));
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_RSA_EXP_FIPS, VERDICT_REJECT));
	cr_assert_not(has(&r, PR_RSA_EXP_EVEN, VERDICT_REJECT));
	r = judge_e(PROFILE_DEFAULT, big, sizeof(big));
	cr_assert_eq(r.verdict, VERDICT_WARN);	/* default: only unusual */
}

static struct policy_result
judge_sk(enum keytype t, const char *app, size_t applen)
{
	struct pubkey	k = typed_key(t);

	k.sk_app = (const unsigned char *)app;
	k.sk_applen = applen;
	return judge(PROFILE_DEFAULT, &k);
}

Test(policy, sk_application)
{
	static const char evil[] = "ssh\x1b[31m";
	struct policy_result	r;

	r = judge_sk(KT_SK_ED25519, "ssh:", 4);
	cr_assert_eq(r.verdict, VERDICT_ACCEPT);
	r = judge_sk(KT_SK_ECDSA, "ssh:backup", 10);
	cr_assert_eq(r.verdict, VERDICT_ACCEPT);
	r = judge_sk(KT_SK_ED25519, "https://example.com", 19);
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert(has(&r, PR_SK_APPLICATION, VERDICT_REJECT));
	r = judge_sk(KT_SK_ECDSA, "ssh", 3);
	cr_assert(has(&r, PR_SK_APPLICATION, VERDICT_REJECT));
	r = judge_sk(KT_SK_ECDSA, NULL, 0);
	cr_assert(has(&r, PR_SK_APPLICATION, VERDICT_REJECT));
	/* P6: the untrusted application never reaches the text */
	r = judge_sk(KT_SK_ED25519, evil, sizeof(evil) - 1);
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert_null(strchr(r.reasons[0].text, '\x1b'));
}

/* P2, P3: several reasons, worst severity wins. */
Test(policy, verdict_is_worst_reason)
{
	static const unsigned char e[] = { 3 };
	struct pubkey		k = rsa_key(1024, e, sizeof(e));
	struct policy_result	r = judge(PROFILE_DEFAULT, &k);

	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert_eq(r.n, 2);
	cr_assert(has(&r, PR_RSA_TOO_SMALL, VERDICT_REJECT));
	cr_assert(has(&r, PR_RSA_EXP_UNUSUAL, VERDICT_WARN));
}

Test(policy, many_reasons_all_reported)
{
	static const unsigned char e[] = { 0 };
	struct policy		p;
	struct policy_result	r;
	struct pubkey		k = rsa_key(1024, e, sizeof(e));

	policy_defaults(&p, PROFILE_FIPS);
	p.rsa = PA_REJECT;
	k.rsa_n = NULL;
	k.rsa_nlen = 0;
	policy_check(&p, &k, &r);
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert_eq(r.n, 7);
	cr_assert_leq(r.n, POLICY_REASONS_MAX);
}

/* P2: the result is filled even when it held garbage. */
Test(policy, result_always_filled)
{
	struct policy_result	r;
	struct policy		p;
	struct pubkey		k = typed_key(KT_ED25519);

	memset(&r, 0xa5, sizeof(r));
	policy_defaults(&p, PROFILE_DEFAULT);
	policy_check(&p, &k, &r);
	cr_assert_eq(r.verdict, VERDICT_ACCEPT);
	cr_assert_eq(r.n, 0);
}

/* P7 */
Test(policy, reason_names_stable)
{
	cr_assert_str_eq(policy_reason_name(PR_TYPE_FORBIDDEN),
	    "type_forbidden");
	cr_assert_str_eq(policy_reason_name(PR_RSA_TOO_SMALL), "rsa_too_small");
	cr_assert_str_eq(policy_reason_name(PR_RSA_SMALL_WARN), "rsa_small");
	cr_assert_str_eq(policy_reason_name(PR_RSA_TOO_LARGE), "rsa_too_large");
	cr_assert_str_eq(policy_reason_name(PR_RSA_EXP_SMALL),
	    "rsa_exponent_small");
	cr_assert_str_eq(policy_reason_name(PR_RSA_EXP_EVEN),
	    "rsa_exponent_even");
	cr_assert_str_eq(policy_reason_name(PR_RSA_EXP_GE_N),
	    "rsa_exponent_ge_modulus");
	cr_assert_str_eq(policy_reason_name(PR_RSA_EXP_UNUSUAL),
	    "rsa_exponent_unusual");
	cr_assert_str_eq(policy_reason_name(PR_RSA_EXP_FIPS),
	    "rsa_exponent_fips");
	cr_assert_str_eq(policy_reason_name(PR_RSA_MOD_EVEN),
	    "rsa_modulus_even");
	cr_assert_str_eq(policy_reason_name(PR_SK_APPLICATION),
	    "sk_application");
	cr_assert_str_eq(policy_reason_name((enum policy_reason)999),
	    "unknown");
}

Test(policy, verdict_names_stable)
{
	cr_assert_str_eq(policy_verdict_name(VERDICT_ACCEPT), "accept");
	cr_assert_str_eq(policy_verdict_name(VERDICT_WARN), "warn");
	cr_assert_str_eq(policy_verdict_name(VERDICT_REJECT), "reject");
	cr_assert_str_eq(policy_verdict_name((enum verdict)7), "unknown");
}

/*
 * Wiener's test on a huge key with a huge exponent costs a tenth of a
 * second: such keys are refused unchecked rather than checked slowly.
 */
Test(policy, huge_key_with_huge_exponent_is_refused_unchecked)
{
	static unsigned char	n[2048], e[40];
	struct weakkeys		*wk = NULL;
	struct policy		 p;
	struct policy_result	 r;
	struct pubkey		 k;

	memset(n, 0xa5, sizeof(n));
	n[sizeof(n) - 1] |= 1;
	memset(e, 0x5a, sizeof(e));
	e[sizeof(e) - 1] |= 1;
	memset(&k, 0, sizeof(k));
	k.type = KT_RSA;
	(void)snprintf(k.typename, sizeof(k.typename), "ssh-rsa");
	k.bits = 16384;
	k.rsa_n = n;
	k.rsa_nlen = sizeof(n);
	k.rsa_e = e;
	k.rsa_elen = sizeof(e);
	cr_assert_eq(weakkeys_new(&wk), 0);
	policy_defaults(&p, PROFILE_DEFAULT);
	p.weak = wk;
	policy_check(&p, &k, &r);
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert_eq(r.reasons[r.n - 1].code, PR_WEAK_CHECK_FAILED);
	cr_assert_str_eq(policy_reason_name(PR_WEAK_CHECK_FAILED),
	    "weak_key_check_failed");
	weakkeys_free(wk);
}
