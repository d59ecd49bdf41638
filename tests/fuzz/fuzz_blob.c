/*
 * fuzz_blob.c -- the SSH wire-format blob readers: keyparse's bounded
 * reader (check_blob, reached through keyparse_line on a line made from
 * the blob) and the PAM module's (blob_judge, through fuzz_blob_pam.c).
 *
 * Input: one selector byte, then the decoded blob.  A selector below the
 * number of key types declares the blob as that type (so a blob can lie
 * about its type); any other value declares it as the blob's own first
 * string, so mutations reach the per-type field readers.
 *
 * Checked besides memory safety (a differential, since both readers
 * stand between the same untrusted blob and a decision): a key keyparse
 * accepts is a plain key the PAM module also accepts, with the same
 * fingerprint.  Were it not, keyadm would install keys whose logins the
 * module can only refuse or wave through on_error.
 */
#include "fuzz.h"

#include "b64.h"
#include "keyparse.h"
#include "fuzz_blob.h"

#define FUZZ_BLOB_MAX	(KEYLINE_MAX / 4 * 3)	/* longest blob a line holds */
#define TYPEWORD_MAX	64

static const char *const types[] = {
	"ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "ssh-ed25519",
	"sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com",
	"ssh-ed25519-cert-v01@openssh.com",
};
#define NTYPES	(sizeof(types) / sizeof(types[0]))

FUZZ_INIT_KEYPARSE()

/* The length of the blob's first string, copied to out, when it can be
 * a type word; else 0. */
static size_t
own_type(const uint8_t *b, size_t n, char *out)
{
	size_t	len, i;

	if (n < 4)
		return 0;
	len = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 |
	    b[3];
	if (len == 0 || len > TYPEWORD_MAX || len > n - 4)
		return 0;
	for (i = 0; i < len; i++)
		if (b[4 + i] <= ' ' || b[4 + i] > '~')
			return 0;
	memcpy(out, b + 4, len);
	out[len] = '\0';
	return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pubkey	*k = NULL;
	const uint8_t	*blob = data + 1;
	char		 type[TYPEWORD_MAX + 1], pfp[FINGERPRINT_MAX];
	char		 reason[KEYPARSE_REASON_MAX], *line;
	size_t		 n = size - 1, tlen, off;
	int		 r, pr, cert;

	if (size < 2 || n > FUZZ_BLOB_MAX)
		return 0;
	if (data[0] < NTYPES)
		tlen = (size_t)snprintf(type, sizeof(type), "%s",
		    types[data[0]]);
	else if ((tlen = own_type(blob, n, type)) == 0)
		tlen = (size_t)snprintf(type, sizeof(type), "ssh-ed25519");
	if ((line = malloc(tlen + 1 + B64_ENCODED_SIZE(n))) == NULL)
		return 0;
	memcpy(line, type, tlen);
	line[tlen] = ' ';
	off = tlen + 1;
	off += b64_encode(blob, n, line + off, 1);

	r = keyparse_line(line, off, &k, reason, sizeof(reason));
	pr = fuzz_pam_blob_judge(type, tlen, blob, n, pfp, sizeof(pfp),
	    &cert);
	if (r == 0) {
		FUZZ_CHECK(k->bloblen == n && memcmp(k->blob, blob, n) == 0,
		    "keyparse kept another blob than it read");
		FUZZ_CHECK(strcmp(k->typename, type) == 0,
		    "keyparse accepted a blob as another type");
		FUZZ_CHECK(pr == 0,
		    "pam_keyadm refuses a key keyparse accepts");
		FUZZ_CHECK(!cert, "pam_keyadm reads an accepted key as a "
		    "certificate");
		FUZZ_CHECK(strcmp(pfp, k->fingerprint) == 0,
		    "pam_keyadm and keyparse fingerprint a key differently");
	} else
		FUZZ_CHECK(k == NULL && fuzz_has_text(reason, sizeof(reason)),
		    "refused blob with a key or without reason");
	pubkey_free(k);
	free(line);
	return 0;
}
