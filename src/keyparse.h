/*
 * keyparse.h -- untrusted bytes to checked public keys.
 *
 * keyparse is the only module that includes libssh.  It knows nothing of
 * paths, files or policy: it gets a buffer, returns one result per key-bearing
 * line.  See keyparse.c for the invariants and the order of the checks.
 */
#ifndef KEYADM_KEYPARSE_H
#define KEYADM_KEYPARSE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_MAX	(64 * 1024)	/* largest submission we read */
#define KEYLINE_MAX	(16 * 1024)	/* longest key line (16384-bit RSA fits) */
#define KEYTYPE_MAX	64		/* longest type word */
#define COMMENT_MAX	1024		/* longest comment kept */
#define FINGERPRINT_MAX	64		/* "SHA256:" + 43 + NUL fits */
#define KEYPARSE_REASON_MAX 160		/* size of a reason buffer */

enum keytype {
	KT_UNKNOWN = 0,
	KT_RSA,
	KT_DSS,
	KT_ECDSA_P256,
	KT_ECDSA_P384,
	KT_ECDSA_P521,
	KT_ED25519,
	KT_SK_ECDSA,		/* sk-ecdsa-sha2-nistp256@openssh.com */
	KT_SK_ED25519,		/* sk-ssh-ed25519@openssh.com */
};

/*
 * A parsed, structurally checked public key.  All strings are NUL-terminated
 * and owned by the struct; free with pubkey_free().
 */
struct pubkey {
	enum keytype	 type;
	char		 typename[KEYTYPE_MAX];	/* "ssh-ed25519", ... */
	unsigned char	*blob;		/* canonical wire blob */
	size_t		 bloblen;
	char		*b64;		/* canonical base64 of blob (padded) */
	char		*comment;	/* printable ASCII/UTF-8, or NULL */
	char		 fingerprint[FINGERPRINT_MAX];	/* "SHA256:..." */
	unsigned int	 bits;		/* as ssh-keygen -l reports */
	/* RSA only: big-endian magnitudes (no sign byte), pointing into blob */
	const unsigned char *rsa_e;
	size_t		 rsa_elen;
	const unsigned char *rsa_n;
	size_t		 rsa_nlen;
	/* sk types only: the application string, pointing into blob, no NUL */
	const unsigned char *sk_app;
	size_t		 sk_applen;
};

/* The form a key arrived in. */
enum keyformat {
	KF_OPENSSH = 0,		/* "type base64 comment" */
	KF_RFC4716,		/* ---- BEGIN SSH2 PUBLIC KEY ---- */
	KF_SPKI,		/* -----BEGIN PUBLIC KEY----- */
	KF_PKCS1		/* -----BEGIN RSA PUBLIC KEY----- */
};

/*
 * Result for one key-bearing line of a submission.  Either key is set
 * (err == 0) or err is a negative keyadm_err and reason says why in one
 * short phrase that never quotes the input.
 */
struct keyparse_result {
	size_t		 lineno;	/* 1-based line in the submission */
	enum keyformat	 format;
	struct pubkey	*key;
	int		 err;
	char		 reason[KEYPARSE_REASON_MAX];
};

struct keyparse_list {
	struct keyparse_result	*items;
	size_t			 n;
};

/*
 * Parse one OpenSSH public key line ("type base64 [comment]", no options,
 * no trailing newline required; a trailing CR/LF is tolerated).
 * Returns 0 and sets *out, or a negative keyadm_err with reason filled.
 */
int	 keyparse_line(const char *line, size_t len, struct pubkey **out,
	    char *reason, size_t reasonlen);

/*
 * Parse a whole submission (the bytes of a .pub file).  Strips a UTF-8 BOM,
 * tolerates CRLF, blank lines and text outside PEM/RFC 4716 blocks.  Every
 * key (an OpenSSH line, an RFC 4716 block, an SPKI or PKCS#1 PEM block) is
 * converted to the OpenSSH form and judged by keyparse_line.  Returns 0 and
 * a list with one result per key (the list may hold failed results), or a
 * negative keyadm_err with reason filled when the submission as a whole is
 * unusable (empty, binary, oversize, no key in it, a private key).
 */
int	 keyparse_buf(const unsigned char *buf, size_t len,
	    struct keyparse_list **out, char *reason, size_t reasonlen);

/*
 * One piece of a submission too large to hold at once (at most KEYFILE_MAX
 * bytes, cut at a line end outside any PEM or RFC 4716 block; first: the
 * piece the file starts with, which may begin with a BOM).  As
 * keyparse_buf, except that a piece without keys gives an empty list
 * rather than an error; a private key or binary data is still refused.
 * Line numbers count from the start of the piece.
 */
int	 keyparse_chunk(const unsigned char *buf, size_t len, int first,
	    struct keyparse_list **out, char *reason, size_t reasonlen);

/* Short name as ssh-keygen -l prints it in parentheses: "ED25519", "RSA". */
const char *keyparse_type_label(enum keytype t);
/* The same label for a type word ("ssh-ed25519" -> "ED25519"). */
const char *keyparse_name_label(const char *typename);

/* "openssh", "rfc4716", "spki", "pkcs1". */
const char *keyparse_format_name(enum keyformat f);

/* SHA256 fingerprint of a blob into out ("SHA256:" + unpadded base64). */
int	 keyparse_fingerprint(const unsigned char *blob, size_t len,
	    char *out, size_t outlen);

void	 pubkey_free(struct pubkey *);
void	 keyparse_list_free(struct keyparse_list *);

/* One-time library initialisation (libssh); call from main before use. */
int	 keyparse_init(void);
void	 keyparse_fini(void);

#endif
