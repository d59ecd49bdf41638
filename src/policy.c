/*
 * policy.c -- pure decisions on parsed keys.
 *
 * Owns: DESIGN.md's profile table and the checks on a parsed key that
 * follow from it.  No I/O, no allocation of its own; the bignum work of the
 * weak-key checks is weakkeys', the deny list is looked up, not read.
 *
 * Invariants (each has a test in tests/unit/test_policy.c):
 *  P1. policy_defaults() fills exactly DESIGN.md's table for each profile.
 *  P2. policy_check() always fills the result; the verdict is the worst
 *      severity among the reasons, VERDICT_ACCEPT when there are none.
 *  P3. Every rule is checked and reported on its own (a key may collect
 *      several reasons); at most POLICY_REASONS_MAX are kept, and dropping
 *      one never lowers the verdict.
 *  P4. Fail closed: an unknown key type, an unknown action value or a
 *      missing RSA modulus or exponent rejects.
 *  P5. RSA numbers are compared as big-endian magnitudes; leading zero
 *      bytes are ignored, so any encoding gives the same answer.
 *  P6. Reason texts are short sentences for administrators and never
 *      quote bytes of the key (the sk application is untrusted).
 *  P7. policy_reason_name() and policy_verdict_name() are stable snake_case
 *      names (JSON); unknown values get "unknown", never NULL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "denylist.h"
#include "policy.h"
#include "weakkeys.h"

#define RSA_BITS_MIN_DEFAULT	2048
#define RSA_BITS_WARN		3072	/* recommended minimum */
#define RSA_BITS_MIN_FIPS	3072
#define RSA_BITS_MAX		16384
#define RSA_EXP_FIPS_MAXLEN	32	/* e < 2^256: at most 32 bytes */
#define SK_APP_PREFIX		"ssh:"
#define RSA_WIENER_MAX_BITS	8192	/* large e checked up to this size */

/* A big-endian magnitude without leading zero bytes. */
struct mag {
	const unsigned char	*p;
	size_t			 len;
};

static const struct {
	enum policy_reason	 code;
	const char		*name;
} reason_names[] = {
	{ PR_TYPE_FORBIDDEN,	"type_forbidden" },
	{ PR_RSA_TOO_SMALL,	"rsa_too_small" },
	{ PR_RSA_SMALL_WARN,	"rsa_small" },
	{ PR_RSA_TOO_LARGE,	"rsa_too_large" },
	{ PR_RSA_EXP_SMALL,	"rsa_exponent_small" },
	{ PR_RSA_EXP_EVEN,	"rsa_exponent_even" },
	{ PR_RSA_EXP_GE_N,	"rsa_exponent_ge_modulus" },
	{ PR_RSA_EXP_UNUSUAL,	"rsa_exponent_unusual" },
	{ PR_RSA_EXP_FIPS,	"rsa_exponent_fips" },
	{ PR_RSA_MOD_EVEN,	"rsa_modulus_even" },
	{ PR_SK_APPLICATION,	"sk_application" },
	{ PR_WEAK_SMALL_FACTOR,	"rsa_small_factor" },
	{ PR_WEAK_SQUARE,	"rsa_modulus_square" },
	{ PR_WEAK_FERMAT,	"rsa_fermat" },
	{ PR_WEAK_ROCA,		"rsa_roca" },
	{ PR_WEAK_SMALL_D,	"rsa_small_private_exponent" },
	{ PR_WEAK_SPARSE,	"rsa_sparse_modulus" },
	{ PR_WEAK_CHECK_FAILED,	"weak_key_check_failed" },
	{ PR_DENY_LISTED,	"deny_listed" },
};

void
policy_defaults(struct policy *p, enum policy_profile prof)
{
	memset(p, 0, sizeof(*p));	/* weak and deny: NULL */
	p->profile = prof;
	p->fips_exponent = prof == PROFILE_FIPS;
	p->ecdsa = PA_ACCEPT;
	p->rsa = PA_ACCEPT;
	p->dss = PA_REJECT;
	p->max_rsa_bits = RSA_BITS_MAX;
	p->warn_rsa_bits = RSA_BITS_WARN;
	if (prof == PROFILE_FIPS) {
		p->ed25519 = PA_REJECT;
		p->sk_ed25519 = PA_REJECT;
		p->sk_ecdsa = PA_REJECT;
		p->min_rsa_bits = RSA_BITS_MIN_FIPS;
	} else {
		p->ed25519 = PA_ACCEPT;
		p->sk_ed25519 = PA_ACCEPT;
		p->sk_ecdsa = PA_ACCEPT;
		p->min_rsa_bits = RSA_BITS_MIN_DEFAULT;
	}
}

const char *
policy_verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_ACCEPT:
		return "accept";
	case VERDICT_WARN:
		return "warn";
	case VERDICT_REJECT:
		return "reject";
	}
	return "unknown";
}

const char *
policy_reason_name(enum policy_reason code)
{
	size_t	i;

	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++) {
		if (reason_names[i].code == code)
			return reason_names[i].name;
	}
	return "unknown";
}

static const char *
profile_name(enum policy_profile prof)
{
	return prof == PROFILE_FIPS ? "fips" : "default";
}

static void add_reason(struct policy_result *, enum policy_reason,
    enum verdict, const char *, ...) __attribute__((format(printf, 4, 5)));

/* P2, P3: the verdict follows every reason, kept or not. */
static void
add_reason(struct policy_result *r, enum policy_reason code,
    enum verdict sev, const char *fmt, ...)
{
	struct policy_reason_item	*it;
	va_list				 ap;

	if (sev > r->verdict)
		r->verdict = sev;
	if (r->n >= POLICY_REASONS_MAX)
		return;
	it = &r->reasons[r->n++];
	it->code = code;
	it->severity = sev;
	va_start(ap, fmt);
	(void)vsnprintf(it->text, sizeof(it->text), fmt, ap);
	va_end(ap);
}

/* The configured action for a type, and a label for messages. */
static enum policy_action
type_action(const struct policy *p, enum keytype t, const char **label)
{
	switch (t) {
	case KT_RSA:
		*label = "RSA";
		return p->rsa;
	case KT_DSS:
		*label = "DSA";
		return p->dss;
	case KT_ECDSA_P256:
	case KT_ECDSA_P384:
	case KT_ECDSA_P521:
		*label = "ECDSA";
		return p->ecdsa;
	case KT_ED25519:
		*label = "Ed25519";
		return p->ed25519;
	case KT_SK_ECDSA:
		*label = "ECDSA-SK (security key)";
		return p->sk_ecdsa;
	case KT_SK_ED25519:
		*label = "Ed25519-SK (security key)";
		return p->sk_ed25519;
	case KT_UNKNOWN:
		break;
	}
	*label = "unknown";
	return PA_REJECT;
}

static void
check_type(const struct policy *p, const struct pubkey *k,
    struct policy_result *r)
{
	const char		*label;
	enum policy_action	 a;

	a = type_action(p, k->type, &label);
	if (a == PA_ACCEPT)
		return;
	if (a == PA_WARN) {
		add_reason(r, PR_TYPE_FORBIDDEN, VERDICT_WARN,
		    "%s keys are accepted, but discouraged by the %s profile",
		    label, profile_name(p->profile));
	} else if (k->type == KT_UNKNOWN) {
		add_reason(r, PR_TYPE_FORBIDDEN, VERDICT_REJECT,
		    "keys of an unknown type or certificates are not accepted");
	} else if (k->type == KT_DSS) {
		add_reason(r, PR_TYPE_FORBIDDEN, VERDICT_REJECT,
		    "DSA (ssh-dss) keys are not accepted: "
		    "OpenSSH has removed DSA support");
	} else {
		add_reason(r, PR_TYPE_FORBIDDEN, VERDICT_REJECT,
		    "%s keys are not allowed by the %s profile",
		    label, profile_name(p->profile));
	}
}

static void
check_rsa_size(const struct policy *p, unsigned int bits,
    struct policy_result *r)
{
	if (bits < p->min_rsa_bits)
		add_reason(r, PR_RSA_TOO_SMALL, VERDICT_REJECT,
		    "RSA key of %u bits is below the minimum of %u",
		    bits, p->min_rsa_bits);
	else if (bits < p->warn_rsa_bits)
		add_reason(r, PR_RSA_SMALL_WARN, VERDICT_WARN,
		    "RSA key of %u bits: accepted, but %u or more is "
		    "recommended", bits, p->warn_rsa_bits);
	if (bits > p->max_rsa_bits)
		add_reason(r, PR_RSA_TOO_LARGE, VERDICT_REJECT,
		    "RSA key of %u bits is above the maximum of %u",
		    bits, p->max_rsa_bits);
}

/* P5: drop leading zero bytes; NULL reads as zero. */
static struct mag
mag_make(const unsigned char *p, size_t len)
{
	struct mag	m = { p, p == NULL ? 0 : len };

	while (m.len > 0 && m.p[0] == 0) {
		m.p++;
		m.len--;
	}
	return m;
}

static int
mag_odd(struct mag m)
{
	return m.len > 0 && (m.p[m.len - 1] & 1) != 0;
}

/* Compare a with b: <0, 0, >0. */
static int
mag_cmp(struct mag a, struct mag b)
{
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return a.len == 0 ? 0 : memcmp(a.p, b.p, a.len);
}

/* The magnitude of a small number, into buf (at least 8 bytes). */
static struct mag
mag_small(unsigned long v, unsigned char *buf)
{
	size_t	i;

	for (i = 0; i < 8; i++)
		buf[7 - i] = (unsigned char)(v >> (8 * i));
	return mag_make(buf, 8);
}

/* FIPS 186-5: 2^16 < e < 2^256. */
static int
exp_fips_ok(struct mag e)
{
	unsigned char	b[8];

	return mag_cmp(e, mag_small(1UL << 16, b)) > 0 &&
	    e.len <= RSA_EXP_FIPS_MAXLEN;
}

static void
check_rsa_exp(const struct policy *p, struct mag e, struct mag n,
    struct policy_result *r)
{
	unsigned char	b[8];
	int		small, even, ge_n;

	small = mag_cmp(e, mag_small(3, b)) < 0;
	even = !mag_odd(e);
	ge_n = mag_cmp(e, n) >= 0;
	if (small)
		add_reason(r, PR_RSA_EXP_SMALL, VERDICT_REJECT,
		    "RSA public exponent is below 3");
	if (even)
		add_reason(r, PR_RSA_EXP_EVEN, VERDICT_REJECT,
		    "RSA public exponent is even");
	if (ge_n)
		add_reason(r, PR_RSA_EXP_GE_N, VERDICT_REJECT,
		    "RSA public exponent is not smaller than the modulus");
	if (p->fips_exponent) {
		if (!exp_fips_ok(e))
			add_reason(r, PR_RSA_EXP_FIPS, VERDICT_REJECT,
			    "RSA public exponent is outside 2^16 < e < 2^256, "
			    "as the fips profile requires");
	} else if (!small && !even && !ge_n &&
	    mag_cmp(e, mag_small(65537, b)) != 0)
		add_reason(r, PR_RSA_EXP_UNUSUAL, VERDICT_WARN,
		    "RSA public exponent is not the usual 65537");
}

static const struct {
	enum weak_kind		kind;
	enum policy_reason	code;
} weak_codes[] = {
	{ WEAK_N_EVEN,		PR_RSA_MOD_EVEN },
	{ WEAK_SMALL_FACTOR,	PR_WEAK_SMALL_FACTOR },
	{ WEAK_N_SQUARE,	PR_WEAK_SQUARE },
	{ WEAK_FERMAT,		PR_WEAK_FERMAT },
	{ WEAK_ROCA,		PR_WEAK_ROCA },
	{ WEAK_SMALL_D,		PR_WEAK_SMALL_D },
	{ WEAK_SPARSE,		PR_WEAK_SPARSE },
};

/* The known-weakness checks (weakkeys): any finding rejects. */
static void
check_rsa_weak(const struct policy *p, const struct pubkey *k,
    struct policy_result *r)
{
	enum weak_kind	kind = WEAK_NONE;
	char		detail[WEAK_DETAIL_MAX];
	size_t		i;

	detail[0] = '\0';
	/*
	 * Wiener's test costs O(bits^2) per term over ~bits/3 terms when e is
	 * large; past 8192 bits that is a tenth of a second per key, which a
	 * submission of many such keys turns into a denial of service.  No
	 * key generator makes such keys: refuse them unchecked (fail closed).
	 */
	if (k->bits > RSA_WIENER_MAX_BITS &&
	    mag_make(k->rsa_e, k->rsa_elen).len > RSA_EXP_FIPS_MAXLEN) {
		add_reason(r, PR_WEAK_CHECK_FAILED, VERDICT_REJECT,
		    "RSA key over %u bits with a public exponent over 2^256: "
		    "too costly to check for a small private exponent",
		    RSA_WIENER_MAX_BITS);
		return;
	}
	if (weakkeys_rsa(p->weak, k->rsa_n, k->rsa_nlen, k->rsa_e, k->rsa_elen,
	    &kind, detail, sizeof(detail)) != 0) {
		add_reason(r, PR_WEAK_CHECK_FAILED, VERDICT_REJECT,
		    "the weak-key checks could not be completed");
		return;
	}
	for (i = 0; i < sizeof(weak_codes) / sizeof(weak_codes[0]); i++)
		if (weak_codes[i].kind == kind)
			add_reason(r, weak_codes[i].code, VERDICT_REJECT, "%s",
			    detail[0] != '\0' ? detail : weakkeys_name(kind));
}

static void
check_rsa(const struct policy *p, const struct pubkey *k,
    struct policy_result *r)
{
	struct mag	e, n;

	e = mag_make(k->rsa_e, k->rsa_elen);
	n = mag_make(k->rsa_n, k->rsa_nlen);
	check_rsa_size(p, k->bits, r);
	if (!mag_odd(n))
		add_reason(r, PR_RSA_MOD_EVEN, VERDICT_REJECT,
		    "RSA modulus is even or missing");
	check_rsa_exp(p, e, n, r);
	/* the number theory only makes sense on a plausible modulus */
	if (p->weak != NULL && r->verdict != VERDICT_REJECT)
		check_rsa_weak(p, k, r);
}

static void
check_sk(const struct pubkey *k, struct policy_result *r)
{
	size_t	plen = strlen(SK_APP_PREFIX);

	if (k->sk_app == NULL || k->sk_applen < plen ||
	    memcmp(k->sk_app, SK_APP_PREFIX, plen) != 0)
		add_reason(r, PR_SK_APPLICATION, VERDICT_REJECT,
		    "security key application does not start with \"ssh:\"");
}

void
policy_check(const struct policy *p, const struct pubkey *k,
    struct policy_result *r)
{
	memset(r, 0, sizeof(*r));
	r->verdict = VERDICT_ACCEPT;
	check_type(p, k, r);
	if (denylist_contains(p->deny, k->fingerprint))
		add_reason(r, PR_DENY_LISTED, VERDICT_REJECT, "known "
		    "compromised key (on the deny list): the user must make "
		    "a new key pair");
	if (k->type == KT_RSA)
		check_rsa(p, k, r);
	else if (k->type == KT_SK_ECDSA || k->type == KT_SK_ED25519)
		check_sk(k, r);
}
