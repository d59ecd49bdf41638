/*
 * test_denylist.c -- the deny list of known compromised keys, and the
 * policy's use of it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "denylist.h"
#include "err.h"
#include "keyparse.h"
#include "policy.h"

/* ed25519_1 and ed25519_2 from OpenSSH's test vectors, with their .fp. */
#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOG6kY7Rf4UtCFvPwKgo/BztXck2xC4a2WyA34XtIwZ"
#define FP1 "SHA256:L3k/oJubblSY0lB9Ulsl7emDMnRPKm/8udf2ccwk560"

static struct denylist *
parse_ok(const char *text)
{
	struct denylist	*dl = NULL;
	char		 msg[256] = "";

	cr_assert_eq(denylist_parse("deny", text, strlen(text), &dl, msg,
	    sizeof(msg)), 0, "%s", msg);
	cr_assert_not_null(dl);
	return dl;
}

Test(denylist, fingerprints_keys_comments_and_blanks)
{
	struct denylist	*dl;

	dl = parse_ok("# leaked keys\n\n"
	    "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA note\r\n"
	    "   " K1 " from a public repository\n");
	cr_assert_eq(dl->n, 2);
	cr_assert(denylist_contains(dl, FP1), "a key line lists its fingerprint");
	cr_assert(denylist_contains(dl,
	    "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	cr_assert(!denylist_contains(dl,
	    "SHA256:BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	denylist_free(dl);
}

/* len bounds the text: nothing after it is read (ASan sees the end). */
Test(denylist, reads_nothing_past_len)
{
	static const char	 text[] = FP1;
	struct denylist		*dl = NULL;
	char			*buf, msg[256] = "";

	buf = malloc(sizeof(text) - 1);
	cr_assert_not_null(buf);
	memcpy(buf, text, sizeof(text) - 1);	/* no NUL, no newline */
	cr_assert_eq(denylist_parse("deny", buf, sizeof(text) - 1, &dl, msg,
	    sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(dl->n, 1);
	cr_assert(denylist_contains(dl, FP1));
	denylist_free(dl);
	/* cut short: the fingerprint is not taken from beyond len */
	cr_assert_neq(denylist_parse("deny", buf, 20, &dl, msg,
	    sizeof(msg)), 0);
	cr_assert_null(dl);
	free(buf);
}

Test(denylist, empty_file_lists_nothing)
{
	struct denylist	*dl = parse_ok("");

	cr_assert_eq(dl->n, 0);
	cr_assert(!denylist_contains(dl, FP1));
	denylist_free(dl);
	cr_assert(!denylist_contains(NULL, FP1));
	denylist_free(NULL);
}

Test(denylist, a_bad_line_names_file_and_line)
{
	static const char *const bad[] = {
		"SHA256:tooshort\n",
		"MD5:00:11:22\n",
		"ssh-ed25519 not-base64!\n",
		"just some words\n",
	};
	struct denylist	*dl = NULL;
	char		 msg[256];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "# ok\n%s", bad[i]);
		cr_assert_eq(denylist_parse("/etc/keyadm.deny", text,
		    strlen(text), &dl, msg, sizeof(msg)), KE_CONFIG, "%s",
		    bad[i]);
		cr_assert_null(dl);
		cr_assert_str_eq(msg, "/etc/keyadm.deny:2: not a SHA256 "
		    "fingerprint or a public key");
	}
}

Test(denylist, lookup_is_exact_among_many)
{
	struct denylist	*dl;
	char		*text, fp[64];
	size_t		 i, len = 0, cap = 5000 * 60;

	text = malloc(cap);
	cr_assert_not_null(text);
	text[0] = '\0';
	for (i = 0; i < 5000; i++) {
		/* 43 base64 characters, distinct per i, in shuffled order */
		snprintf(fp, sizeof(fp), "SHA256:%08zuAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		    (i * 7919) % 5000);
		len += (size_t)snprintf(text + len, cap - len, "%s\n", fp);
	}
	dl = parse_ok(text);
	cr_assert_eq(dl->n, 5000);
	for (i = 0; i < 5000; i += 97) {
		snprintf(fp, sizeof(fp), "SHA256:%08zuAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", i);
		cr_assert(denylist_contains(dl, fp), "%s", fp);
	}
	cr_assert(!denylist_contains(dl,
	    "SHA256:99999999AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	denylist_free(dl);
	free(text);
}

Test(denylist, policy_refuses_a_listed_key)
{
	struct denylist		*dl = parse_ok(FP1 "\n");
	struct pubkey		*k = NULL;
	struct policy		 p;
	struct policy_result	 r;
	char			 reason[KEYPARSE_REASON_MAX];

	cr_assert_eq(keyparse_init(), 0);
	cr_assert_eq(keyparse_line(K1, strlen(K1), &k, reason,
	    sizeof(reason)), 0, "%s", reason);
	policy_defaults(&p, PROFILE_DEFAULT);
	policy_check(&p, k, &r);
	cr_assert_eq(r.verdict, VERDICT_ACCEPT, "no list, no refusal");
	p.deny = dl;
	policy_check(&p, k, &r);
	cr_assert_eq(r.verdict, VERDICT_REJECT);
	cr_assert_eq(r.reasons[0].code, PR_DENY_LISTED);
	cr_assert_str_eq(policy_reason_name(PR_DENY_LISTED), "deny_listed");
	pubkey_free(k);
	denylist_free(dl);
	keyparse_fini();
}
