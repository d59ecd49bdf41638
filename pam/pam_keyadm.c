/*
 * pam_keyadm.c -- the sshd session module: judge the public keys a login
 * used against the keyadm store, record their use, and (mode=enforce)
 * refuse a session that used a revoked, expired or removed key.
 *
 * sshd exports, from pam_open_session on, SSH_AUTH_INFO_0 in the PAM
 * environment: one line per authentication method, each ending in '\n';
 * a public key method reads "publickey TYPE BASE64", to which sshd may
 * add " INFO" (a security key's "signature count = N"), not judged.
 * Every publickey line is judged (store_login_find for PAM_USER and the
 * key's SHA256 fingerprint; a certificate counts as the key it certifies)
 * and the session gets the worst verdict: refused > allowed but flagged >
 * allowed.
 * A login without a publickey line is not ours: PAM_IGNORE.
 *
 * Invariants (each has a test in tests/unit/test_pam.c):
 *  - It runs inside sshd, which keeps it loaded: it never exits, aborts,
 *    prints or touches signals; it has no mutable globals or statics; on
 *    every path it frees what it allocated and closes the store, so no
 *    memory or descriptor outlives a call.
 *  - Only the pam_sm_* functions are exported (pam_keyadm.map, hidden
 *    visibility); it links keyadm_base (no libssh) and libpam.
 *  - SSH_AUTH_INFO_0 is untrusted input read with caps: INFO_MAX bytes in
 *    all, KEYS_MAX publickey lines, TYPE_MAX bytes of type, BLOB_MAX bytes
 *    of key.  A key blob is read by a bounded reader that checks every
 *    length against what is left: its first string must be the declared
 *    type, the fields of a known type must be complete and nothing may
 *    follow them.  A malformed publickey line is an error, never a skip.
 *  - Errors (bad options, malformed input, a database that is missing,
 *    corrupt, unsafe, older than the code, locked, or a lookup past the
 *    deadline) log one line and follow on_error: allow gives PAM_SUCCESS,
 *    deny PAM_SESSION_ERR.  Every argument is parsed and each bad one
 *    logged, so on_error decides wherever it is on the line (default
 *    allow); an on_error that is malformed, or given twice with different
 *    values, fails closed (deny).
 *  - One deadline, timeout_ms after the start (CLOCK_MONOTONIC), bounds
 *    the whole call: store_open waits at most timeout_ms, and every later
 *    step gets only what is left as its busy timeout.  A login is never
 *    held up longer by a busy database.
 *  - The store is opened read-write without STORE_CREATE and with
 *    STORE_NOMIGRATE: the module never creates or upgrades a database.
 *    Its only writes are the usage record of an allowed login's grants
 *    and the events login-refused / login-flagged, in one transaction; a
 *    write that fails (busy, I/O) is logged and rolled back but never
 *    changes the verdict, which the lookups alone decide.
 *  - Every judged key is logged with pam_syslog (LOG_AUTHPRIV); the user,
 *    the remote host and any text taken from the input are escaped with
 *    msg_escape first, and never used as a format.  What the log says of
 *    a key comes from the store (a revocation for every account, or the
 *    account's grant), never from the revoked-keys file, which the module
 *    does not read.
 *  - A key that appears twice in one login (a key and its certificate)
 *    is recorded once: one use of its grant, at most one event.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_SESSION
#define PAM_SM_ACCOUNT
#define PAM_SM_AUTH
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "b64.h"
#include "err.h"
#include "fpr.h"
#include "msg.h"
#include "store.h"

#define PAMK_EXPORT	__attribute__((visibility("default")))

#define DEFAULT_DB	"/var/lib/keyadm/keyadm.db"
#define DEFAULT_TIMEOUT_MS 1000	/* the whole call, store_open included */
#define TIMEOUT_MS_MAX	60000
#define INFO_VAR	"SSH_AUTH_INFO_0"
#define KEYS_MAX	16	/* publickey lines in one login */
#define TYPE_MAX	64	/* bytes of a key type word */
/*
 * Bytes of a decoded key or certificate: sshd's largest packet
 * (PACKET_MAX_SIZE, 256 KiB), so that every key sshd can accept is read
 * and judged.  A smaller cap would turn a certificate padded past it (a
 * long extension) into a malformed line: the on_error path, by default a
 * login allowed whatever the store says of the key.
 */
#define BLOB_MAX	(256 * 1024)
/* bytes of SSH_AUTH_INFO_0 we read: KEYS_MAX of the largest keys */
#define INFO_MAX	(KEYS_MAX * (B64_ENCODED_SIZE(BLOB_MAX) + 1024))
#define FIELDS_MAX	4	/* public fields of a key type */
#define ED25519_PK_LEN	32
#define ESC_MAX		256	/* an escaped user, host or type */
#define CERTID_MAX	128	/* an escaped certificate key id */
#define STOREMSG_MAX	512	/* store_open's message */
#define WHY_MAX		1024	/* one problem, for the log */
#define DETAIL_MAX	512	/* an event's detail */
#define PUBKEY_PFX	"publickey "
#define CERT_SFX	"-cert-v01@openssh.com"
#define ACTOR		"pam_keyadm"

struct options {
	const char	*db;
	int		 enforce;	/* mode=enforce, else audit */
	int		 unmanaged_deny;
	int		 error_deny;	/* on_error=deny, or error_bad */
	int		 error_seen;	/* an on_error was given */
	int		 error_bad;	/* on_error malformed or contradicted */
	int		 timeout_ms;
	int		 debug;
};

/* What a key's lookup means for the session; worse is larger. */
enum verdict {
	V_ALLOW = 0,
	V_FLAG,		/* allowed but recorded (mode=audit) */
	V_REFUSE
};

struct key {
	char			fp[FPR_MAX];
	int			cert;
	char			certid[CERTID_MAX]; /* escaped key id */
	struct store_login	l;
	enum verdict		v;
};

/* One call of pam_sm_open_session: borrowed strings, keys by value. */
struct login {
	const char	*user;
	char		 euser[ESC_MAX];	/* escaped, for the log */
	const char	*rhost;		/* NULL when sshd set none */
	char		 ehost[ESC_MAX];	/* escaped, or "-" */
	struct key	 keys[KEYS_MAX];
	size_t		 nkeys;
	struct timespec	 deadline;	/* CLOCK_MONOTONIC */
};

/* Field kinds of a public key blob, after the type string. */
enum field {
	F_END = 0,
	F_BYTES,	/* a non-empty string or mpint */
	F_ED25519,	/* a 32-byte string */
	F_CURVE,	/* a string equal to keytype.curve */
	F_CSTRING	/* a C string, maybe empty (sk application) */
};

struct keytype {
	const char	*name;		/* plain type */
	const char	*cert;		/* its certificate type */
	const char	*curve;		/* for F_CURVE */
	unsigned char	 fields[FIELDS_MAX];
};

static const struct keytype keytypes[] = {
	{ "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", NULL,
	    { F_ED25519 } },
	{ "ssh-rsa", "ssh-rsa-cert-v01@openssh.com", NULL,
	    { F_BYTES, F_BYTES } },				/* e, n */
	{ "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    "nistp256", { F_CURVE, F_BYTES } },		/* curve, Q */
	{ "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
	    "nistp384", { F_CURVE, F_BYTES } },
	{ "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
	    "nistp521", { F_CURVE, F_BYTES } },
	{ "sk-ecdsa-sha2-nistp256@openssh.com",
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "nistp256",
	    { F_CURVE, F_BYTES, F_CSTRING } },	/* curve, Q, application */
	{ "sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
	    NULL, { F_ED25519, F_CSTRING } },	/* pk, application */
	{ "ssh-dss", "ssh-dss-cert-v01@openssh.com", NULL,
	    { F_BYTES, F_BYTES, F_BYTES, F_BYTES } },	/* p, q, g, y */
};

static const char *const state_words[] = {
	[STORE_LOGIN_UNKNOWN] = "unmanaged",
	[STORE_LOGIN_ACTIVE] = "active",
	[STORE_LOGIN_EXPIRED] = "expired",
	[STORE_LOGIN_REVOKED] = "revoked",
	[STORE_LOGIN_REMOVED] = "removed"
};

/* A bounded reader over a key blob. */
struct rd {
	const unsigned char	*p;
	size_t			 left;
};

static int
rd_skip(struct rd *r, size_t n)
{
	if (n > r->left)
		return -1;
	r->p += n;
	r->left -= n;
	return 0;
}

/* An SSH string: *s points into the blob, *n its length. */
static int
rd_string(struct rd *r, const unsigned char **s, size_t *n)
{
	size_t	len;

	if (r->left < 4)
		return -1;
	len = (size_t)r->p[0] << 24 | (size_t)r->p[1] << 16 |
	    (size_t)r->p[2] << 8 | (size_t)r->p[3];
	if (len > r->left - 4)
		return -1;
	*s = r->p + 4;
	*n = len;
	r->p += 4 + len;
	r->left -= 4 + len;
	return 0;
}

/* The public fields of kt, each checked; 0 or -1. */
static int
rd_fields(struct rd *r, const struct keytype *kt)
{
	const unsigned char	*s;
	size_t			 n, i;

	for (i = 0; i < FIELDS_MAX && kt->fields[i] != F_END; i++) {
		if (rd_string(r, &s, &n) != 0)
			return -1;
		/*
		 * OpenSSH reads an sk key's application as a C string
		 * (sshbuf_get_cstring): empty is a key it accepts, and so is
		 * one NUL at the very end; a NUL before that is not.
		 */
		if (kt->fields[i] == F_CSTRING) {
			if (n > 1 && memchr(s, '\0', n - 1) != NULL)
				return -1;
			continue;
		}
		if (n == 0)
			return -1;
		if (kt->fields[i] == F_ED25519 && n != ED25519_PK_LEN)
			return -1;
		if (kt->fields[i] == F_CURVE && (n != strlen(kt->curve) ||
		    memcmp(s, kt->curve, n) != 0))
			return -1;
	}
	return 0;
}

/*
 * The rest of a certificate after its key fields (PROTOCOL.certkeys):
 * serial, type, key id (escaped into certid), principals, validity,
 * options, extensions, reserved, signature key, signature; nothing after.
 */
static int
rd_cert_tail(struct rd *r, char *certid, size_t certidlen)
{
	const unsigned char	*s;
	size_t			 n, i;

	if (rd_skip(r, 8 + 4) != 0 || rd_string(r, &s, &n) != 0)
		return -1;
	msg_escape((const char *)s, n, certid, certidlen);
	if (rd_string(r, &s, &n) != 0 || rd_skip(r, 8 + 8) != 0)
		return -1;
	for (i = 0; i < 5; i++)
		if (rd_string(r, &s, &n) != 0)
			return -1;
	return r->left == 0 ? 0 : -1;
}

/*
 * The entry of type: *cert says whether type names a certificate (known
 * or not).  NULL for a type not in the table.
 */
static const struct keytype *
keytype_find(const char *type, size_t len, int *cert)
{
	const char	*name;
	size_t		 i, sl = sizeof(CERT_SFX) - 1;

	*cert = len > sl && memcmp(type + len - sl, CERT_SFX, sl) == 0;
	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++) {
		name = *cert ? keytypes[i].cert : keytypes[i].name;
		if (strlen(name) == len && memcmp(name, type, len) == 0)
			return &keytypes[i];
	}
	return NULL;
}

/*
 * Fingerprint a certificate's key: the plain blob is string plain type
 * followed by the key fields, copied verbatim from the certificate.
 */
static int
cert_fingerprint(const struct keytype *kt, const unsigned char *fields,
    size_t flen, struct key *k)
{
	unsigned char	*plain;
	size_t		 tlen = strlen(kt->name), len = 4 + tlen + flen;
	int		 r;

	if ((plain = malloc(len)) == NULL)
		return -1;
	plain[0] = (unsigned char)(tlen >> 24);
	plain[1] = (unsigned char)(tlen >> 16);
	plain[2] = (unsigned char)(tlen >> 8);
	plain[3] = (unsigned char)tlen;
	memcpy(plain + 4, kt->name, tlen);
	memcpy(plain + 4 + tlen, fields, flen);
	r = fpr_sha256(plain, len, k->fp, sizeof(k->fp));
	free(plain);
	return r == 0 ? 0 : -1;
}

/* Fingerprint a plain key's whole blob; 0 or -1 with why. */
static int
plain_fingerprint(const unsigned char *blob, size_t len, struct key *k,
    char *why, size_t whylen)
{
	if (fpr_sha256(blob, len, k->fp, sizeof(k->fp)) == 0)
		return 0;
	(void)snprintf(why, whylen, "cannot fingerprint the key");
	return -1;
}

/* Check the decoded blob of a key declared as type; fingerprint it. */
static int
blob_judge(const char *type, size_t tlen, const unsigned char *blob,
    size_t len, struct key *k, char *why, size_t whylen)
{
	const struct keytype	*kt;
	const unsigned char	*s, *fields;
	struct rd		 r = { blob, len };
	size_t			 n;

	if (rd_string(&r, &s, &n) != 0 || n != tlen ||
	    memcmp(s, type, tlen) != 0) {
		(void)snprintf(why, whylen, "key type does not match its "
		    "blob");
		return -1;
	}
	kt = keytype_find(type, tlen, &k->cert);
	if (kt == NULL && k->cert) {
		(void)snprintf(why, whylen, "unsupported certificate type");
		return -1;
	}
	if (kt == NULL)	/* unknown type: as sshd sent it */
		return plain_fingerprint(blob, len, k, why, whylen);
	if (k->cert && rd_string(&r, &s, &n) != 0)	/* nonce */
		goto bad;
	fields = r.p;
	if (rd_fields(&r, kt) != 0)
		goto bad;
	if (!k->cert) {
		if (r.left != 0)
			goto bad;
		return plain_fingerprint(blob, len, k, why, whylen);
	}
	n = (size_t)(r.p - fields);
	if (rd_cert_tail(&r, k->certid, sizeof(k->certid)) != 0)
		goto bad;
	if (cert_fingerprint(kt, fields, n, k) != 0) {
		(void)snprintf(why, whylen, "cannot fingerprint the "
		    "certified key");
		return -1;
	}
	return 0;
bad:
	(void)snprintf(why, whylen, "truncated or malformed %s blob",
	    k->cert ? "certificate" : "key");
	return -1;
}

/*
 * One "TYPE BASE64[ INFO]" (the rest of a publickey line, without '\n').
 * INFO is what sshd adds after the key (auth2_update_session_info: a
 * security key's "signature count = N"); base64 has no space, so the key
 * ends at the first one.  INFO says nothing about which key logged in.
 */
static int
line_judge(const char *line, size_t len, struct key *k, char *why,
    size_t whylen)
{
	const char	*sp, *b64, *end;
	unsigned char	*blob;
	size_t		 tlen, blen, i;
	long		 n;
	int		 r;

	memset(k, 0, sizeof(*k));
	if ((sp = memchr(line, ' ', len)) == NULL || sp == line) {
		(void)snprintf(why, whylen, "publickey line without a key");
		return -1;
	}
	tlen = (size_t)(sp - line);
	b64 = sp + 1;
	blen = len - tlen - 1;
	if ((end = memchr(b64, ' ', blen)) != NULL)
		blen = (size_t)(end - b64);	/* " INFO" follows */
	for (i = 0; i < tlen; i++)
		if (line[i] <= ' ' || line[i] > '~')
			break;
	if (tlen > TYPE_MAX || i < tlen) {
		(void)snprintf(why, whylen, "bad key type");
		return -1;
	}
	if (blen == 0 || blen > B64_ENCODED_SIZE(BLOB_MAX) - 1) {
		(void)snprintf(why, whylen, "key of %zu base64 characters "
		    "(1 to %d)", blen, (int)B64_ENCODED_SIZE(BLOB_MAX) - 1);
		return -1;
	}
	if ((blob = malloc(blen / 4 * 3 + 3)) == NULL) {
		(void)snprintf(why, whylen, "out of memory");
		return -1;
	}
	if ((n = b64_decode(b64, blen, blob, blen / 4 * 3 + 3)) <= 0) {
		(void)snprintf(why, whylen, "bad base64");
		r = -1;
	} else
		r = blob_judge(line, tlen, blob, (size_t)n, k, why, whylen);
	free(blob);
	return r;
}

/*
 * The publickey lines of info into lg->keys.  0 (lg->nkeys may be 0: not
 * a key login), or -1 with why.
 */
static int
info_parse(const char *info, struct login *lg, char *why, size_t whylen)
{
	const char	*line, *nl;
	size_t		 len, pl = sizeof(PUBKEY_PFX) - 1;

	lg->nkeys = 0;
	if (strnlen(info, INFO_MAX + 1) > INFO_MAX) {
		(void)snprintf(why, whylen, INFO_VAR " longer than %d bytes",
		    (int)INFO_MAX);
		return -1;
	}
	for (line = info; *line != '\0'; line = nl + (*nl == '\n')) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line);
		len = (size_t)(nl - line);
		if (len < pl || memcmp(line, PUBKEY_PFX, pl) != 0)
			continue;	/* another method: not ours */
		if (lg->nkeys == KEYS_MAX) {
			(void)snprintf(why, whylen, "more than %d publickey "
			    "lines", KEYS_MAX);
			return -1;
		}
		if (line_judge(line + pl, len - pl, &lg->keys[lg->nkeys],
		    why, whylen) != 0)
			return -1;
		lg->nkeys++;
	}
	return 0;
}

/* A decimal in [min, max], the whole string; 0 or -1. */
static int
parse_int(const char *s, int min, int max, int *out)
{
	char	*end;
	long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* One of two words for a flag; 0 or -1. */
static int
parse_word(const char *s, const char *yes, const char *no, int *out)
{
	if (strcmp(s, yes) == 0)
		*out = 1;
	else if (strcmp(s, no) == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/*
 * on_error=WORD: the first value, or the same again.  A malformed value,
 * or a second one that differs, marks on_error bad (the session is then
 * refused).  0, -1 when malformed, -2 when contradicted.
 */
static int
option_on_error(struct options *o, const char *v)
{
	int	deny;

	if (parse_word(v, "deny", "allow", &deny) != 0) {
		o->error_bad = 1;
		return -1;
	}
	if (o->error_seen && deny != o->error_deny) {
		o->error_bad = 1;
		return -2;
	}
	o->error_seen = 1;
	o->error_deny = deny;
	return 0;
}

/* One argument into o: 0, -1 when unknown or bad, -2 when contradicted. */
static int
option(struct options *o, const char *a)
{
	if (strncmp(a, "db=", 3) == 0) {
		if (a[3] != '/')
			return -1;
		o->db = a + 3;
		return 0;
	}
	if (strncmp(a, "mode=", 5) == 0)
		return parse_word(a + 5, "enforce", "audit", &o->enforce);
	if (strncmp(a, "unmanaged=", 10) == 0)
		return parse_word(a + 10, "deny", "allow", &o->unmanaged_deny);
	if (strncmp(a, "on_error=", 9) == 0)
		return option_on_error(o, a + 9);
	if (strncmp(a, "timeout_ms=", 11) == 0)
		return parse_int(a + 11, 1, TIMEOUT_MS_MAX, &o->timeout_ms);
	if (strcmp(a, "debug") == 0) {
		o->debug = 1;
		return 0;
	}
	return -1;
}

/*
 * Fill o from argv.  Every argument is read, so that on_error counts
 * wherever it is; each bad one is logged.  -1 when any was bad: then
 * o->error_deny is what on_error said (default allow), or deny when
 * on_error itself was bad.
 */
static int
options_parse(pam_handle_t *pamh, int argc, const char **argv,
    struct options *o)
{
	const char	*a;
	char		 esc[ESC_MAX];
	int		 i, r, bad = 0;

	memset(o, 0, sizeof(*o));
	o->db = DEFAULT_DB;
	o->enforce = 1;
	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	for (i = 0; i < argc; i++) {
		a = argv[i] != NULL ? argv[i] : "(null)";
		if ((r = argv[i] != NULL ? option(o, a) : -1) == 0)
			continue;
		bad = 1;
		msg_escape(a, strlen(a), esc, sizeof(esc));
		if (r == -2)
			pam_syslog(pamh, LOG_ERR, "option \"%s\" contradicts "
			    "an earlier on_error", esc);
		else
			pam_syslog(pamh, LOG_ERR, "unknown or bad option "
			    "\"%s\"", esc);
	}
	if (o->error_bad)
		o->error_deny = 1;
	if (bad)
		return -1;
	if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "db=%s mode=%s unmanaged=%s "
		    "on_error=%s timeout_ms=%d", o->db, o->enforce ? "enforce" :
		    "audit", o->unmanaged_deny ? "deny" : "allow",
		    o->error_deny ? "deny" : "allow", o->timeout_ms);
	return 0;
}

/* Log why, then the session follows on_error. */
static int
on_error(pam_handle_t *pamh, const struct options *o, const char *why)
{
	pam_syslog(pamh, LOG_ERR, "%s; session %s (%s)", why,
	    o->error_deny ? "refused" : "allowed", o->error_bad ?
	    "on_error is bad: deny" : o->error_deny ? "on_error=deny" :
	    "on_error=allow");
	return o->error_deny ? PAM_SESSION_ERR : PAM_SUCCESS;
}

/* Milliseconds left before the deadline; 0 once it has passed. */
static int
ms_left(const struct login *lg)
{
	struct timespec	now;
	long long	ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
		return 0;
	ms = (long long)(lg->deadline.tv_sec - now.tv_sec) * 1000 +
	    (lg->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Set the busy timeout to what is left; -1 when nothing is. */
static int
busy_left(struct store *s, const struct login *lg)
{
	int	ms = ms_left(lg);

	if (ms == 0 || store_set_busy(s, ms) != 0)
		return -1;
	return 0;
}

static enum verdict
verdict_of(const struct options *o, const struct store_login *l)
{
	if (l->state == STORE_LOGIN_ACTIVE)
		return V_ALLOW;
	if (l->state == STORE_LOGIN_UNKNOWN)
		return o->enforce && o->unmanaged_deny ? V_REFUSE : V_ALLOW;
	return o->enforce ? V_REFUSE : V_FLAG;
}

static const char *
state_word(enum store_login_state st)
{
	if ((size_t)st < sizeof(state_words) / sizeof(state_words[0]) &&
	    state_words[st] != NULL)
		return state_words[st];
	return "unknown";
}

/* " (certificate ID x)" or "", into buf. */
static const char *
cert_note(const struct key *k, char *buf, size_t len)
{
	if (!k->cert)
		return "";
	(void)snprintf(buf, len, " (certificate ID %s)", k->certid);
	return buf;
}

/*
 * What the store says of the key, into buf: " (revoked for every account;
 * grant N)", " (revoked for this account; grant N)", " (grant N)" or "".
 * "Every account" is a revocations row (what keyadm lists in the
 * revoked-keys file); the file itself is sshd's, never read here.
 */
static const char *
store_note(const struct key *k, char *buf, size_t len)
{
	const char	*scope = NULL;

	if (k->l.listed)
		scope = "revoked for every account";
	else if (k->l.state == STORE_LOGIN_REVOKED)
		scope = "revoked for this account";
	if (scope != NULL && k->l.grant_id > 0)
		(void)snprintf(buf, len, " (%s; grant %lld)", scope,
		    (long long)k->l.grant_id);
	else if (scope != NULL)
		(void)snprintf(buf, len, " (%s)", scope);
	else if (k->l.grant_id > 0)
		(void)snprintf(buf, len, " (grant %lld)",
		    (long long)k->l.grant_id);
	else
		return "";
	return buf;
}

/* The log line of one judged key. */
static void
key_log(pam_handle_t *pamh, const struct options *o, const struct login *lg,
    const struct key *k)
{
	char		 note[CERTID_MAX + 32], buf[96];
	const char	*st = state_word(k->l.state), *c, *why;

	c = cert_note(k, note, sizeof(note));
	why = store_note(k, buf, sizeof(buf));
	if (k->l.state == STORE_LOGIN_ACTIVE)
		pam_syslog(pamh, LOG_INFO, "accepted key %s%s for %s from "
		    "%s%s", k->fp, c, lg->euser, lg->ehost, why);
	else if (k->v == V_REFUSE)
		pam_syslog(pamh, LOG_WARNING, "refused %s key %s%s for %s "
		    "from %s%s", st, k->fp, c, lg->euser, lg->ehost, why);
	else if (k->l.state == STORE_LOGIN_UNKNOWN)
		pam_syslog(pamh, LOG_NOTICE, "unmanaged key %s%s for %s from "
		    "%s: allowed%s", k->fp, c, lg->euser, lg->ehost,
		    o->unmanaged_deny ? " (mode=audit)" : "");
	else
		pam_syslog(pamh, LOG_WARNING, "%s key %s%s for %s from %s%s: "
		    "allowed (mode=audit)", st, k->fp, c, lg->euser,
		    lg->ehost, why);
}

/*
 * What one key leaves in the store: an allowed session records the use
 * of the grants of its keys that were not refused; a refused or flagged
 * key gets its event.
 */
static int
key_record(struct store *s, const struct login *lg, const struct key *k,
    enum verdict session, int64_t now)
{
	struct store_event	e;
	char			detail[DETAIL_MAX];

	if (session != V_REFUSE && k->v != V_REFUSE && k->l.grant_id > 0 &&
	    store_grant_used(s, k->l.grant_id, now, lg->rhost) < 0)
		return -1;
	if (k->v == V_ALLOW)
		return 0;
	(void)snprintf(detail, sizeof(detail), "%s key%s from %s",
	    state_word(k->l.state), k->cert ? " (certificate)" : "",
	    lg->ehost);
	memset(&e, 0, sizeof(e));
	e.at = now;
	e.actor = ACTOR;
	e.actor_uid = (long)getuid();
	e.action = k->v == V_REFUSE ? "login-refused" : "login-flagged";
	e.user = lg->user;
	e.fingerprint = k->fp;
	e.detail = detail;
	return store_event_append(s, &e) == 0 ? 0 : -1;
}

/*
 * Whether key i is one an earlier line of the login already gave (a key
 * and its certificate, or a line twice): it is recorded only once.
 */
static int
key_repeats(const struct login *lg, size_t i)
{
	size_t	j;

	for (j = 0; j < i; j++)
		if (strcmp(lg->keys[j].fp, lg->keys[i].fp) == 0)
			return 1;
	return 0;
}

/* Whether key_record has anything to write. */
static int
needs_write(const struct login *lg, enum verdict session)
{
	size_t	i;

	for (i = 0; i < lg->nkeys; i++)
		if (lg->keys[i].v != V_ALLOW || (session != V_REFUSE &&
		    lg->keys[i].l.grant_id > 0))
			return 1;
	return 0;
}

/* All writes in one transaction; a failure is logged, nothing else. */
static void
session_record(pam_handle_t *pamh, const struct options *o, struct store *s,
    const struct login *lg, enum verdict session, int64_t now)
{
	size_t		 i;
	int		 began = 0, r = -1;

	if (!needs_write(lg, session))
		return;
	if (busy_left(s, lg) == 0 && store_begin(s) == 0) {
		began = 1;
		for (i = 0, r = 0; r == 0 && i < lg->nkeys; i++)
			if (!key_repeats(lg, i))
				r = key_record(s, lg, &lg->keys[i], session,
				    now);
		if (r == 0)
			r = store_commit(s);
	}
	if (r == 0) {
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "recorded the login of %s",
			    lg->euser);
		return;
	}
	pam_syslog(pamh, LOG_ERR, "could not record the login of %s from %s "
	    "in %s: %s", lg->euser, lg->ehost, o->db, ms_left(lg) == 0 ?
	    "timed out" : store_errmsg(s));
	if (began)
		(void)store_rollback(s);
}

/* Look every key up; the session's verdict, or -1 after logging why. */
static int
session_judge(pam_handle_t *pamh, const struct options *o, struct store *s,
    struct login *lg, int64_t now, char *why, size_t whylen)
{
	enum verdict	 worst = V_ALLOW;
	struct key	*k;
	size_t		 i;

	for (i = 0; i < lg->nkeys; i++) {
		k = &lg->keys[i];
		if (busy_left(s, lg) != 0) {
			(void)snprintf(why, whylen, "%s: timed out after %d "
			    "ms", o->db, o->timeout_ms);
			return -1;
		}
		if (store_login_find(s, lg->user, k->fp, now, &k->l) != 0) {
			(void)snprintf(why, whylen, "%s: %s", o->db,
			    ms_left(lg) == 0 ? "timed out" : store_errmsg(s));
			return -1;
		}
		k->v = verdict_of(o, &k->l);
		if (k->v > worst)
			worst = k->v;
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "key %s: %s, grant %lld",
			    k->fp, state_word(k->l.state),
			    (long long)k->l.grant_id);
	}
	for (i = 0; i < lg->nkeys; i++)
		key_log(pamh, o, lg, &lg->keys[i]);
	return (int)worst;
}

/* PAM_USER, PAM_RHOST and the keys; PAM_IGNORE, PAM_SUCCESS or -1. */
static int
login_setup(pam_handle_t *pamh, struct login *lg, char *why, size_t whylen)
{
	const void	*item = NULL;
	const char	*info;

	if ((info = pam_getenv(pamh, INFO_VAR)) == NULL)
		return PAM_IGNORE;
	if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS ||
	    item == NULL || *(const char *)item == '\0') {
		(void)snprintf(why, whylen, "no user");
		return -1;
	}
	lg->user = item;
	msg_escape(lg->user, strlen(lg->user), lg->euser, sizeof(lg->euser));
	item = NULL;
	if (pam_get_item(pamh, PAM_RHOST, &item) != PAM_SUCCESS ||
	    item == NULL || *(const char *)item == '\0')
		item = NULL;
	lg->rhost = item;
	msg_escape(lg->rhost ? lg->rhost : "-", strlen(lg->rhost ?
	    lg->rhost : "-"), lg->ehost, sizeof(lg->ehost));
	if (info_parse(info, lg, why, whylen) != 0)
		return -1;
	return lg->nkeys == 0 ? PAM_IGNORE : PAM_SUCCESS;
}

/* Open the store, judge, record; the PAM result. */
static int
login_decide(pam_handle_t *pamh, const struct options *o, struct login *lg,
    char *why, size_t whylen)
{
	struct store	*s = NULL;
	char		 msg[STOREMSG_MAX], esc[STOREMSG_MAX];
	int64_t		 now = (int64_t)time(NULL);
	int		 v, rootfd, ms = ms_left(lg);

	msg[0] = '\0';
	if ((rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		(void)snprintf(msg, sizeof(msg), "/: %s", strerror(errno));
	else if (ms == 0)
		(void)snprintf(msg, sizeof(msg), "%s: timed out", o->db);
	else
		(void)store_open(rootfd, "", o->db, STORE_NOMIGRATE, ms, &s,
		    msg, sizeof(msg));
	if (rootfd != -1)
		(void)close(rootfd);
	if (s == NULL) {
		msg_escape(msg, strlen(msg), esc, sizeof(esc));
		(void)snprintf(why, whylen, "cannot use the database: %s",
		    esc);
		return -1;
	}
	if ((v = session_judge(pamh, o, s, lg, now, why, whylen)) >= 0)
		session_record(pamh, o, s, lg, (enum verdict)v, now);
	store_close(s);
	if (v < 0)
		return -1;
	return v == V_REFUSE ? PAM_PERM_DENIED : PAM_SUCCESS;
}

PAMK_EXPORT int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct options	o;
	struct login	lg;
	char		why[WHY_MAX], msg[WHY_MAX + 2 * ESC_MAX + 64];
	int		r;

	(void)flags;
	if (options_parse(pamh, argc, argv, &o) != 0)
		return on_error(pamh, &o, "bad module options");
	memset(&lg, 0, sizeof(lg));
	if (clock_gettime(CLOCK_MONOTONIC, &lg.deadline) == -1)
		return on_error(pamh, &o, "no monotonic clock");
	lg.deadline.tv_sec += o.timeout_ms / 1000;
	lg.deadline.tv_nsec += (long)(o.timeout_ms % 1000) * 1000000L;
	if (lg.deadline.tv_nsec >= 1000000000L) {
		lg.deadline.tv_sec++;
		lg.deadline.tv_nsec -= 1000000000L;
	}
	why[0] = '\0';
	if ((r = login_setup(pamh, &lg, why, sizeof(why))) == PAM_IGNORE)
		return PAM_IGNORE;
	if (r != PAM_SUCCESS) {
		(void)snprintf(msg, sizeof(msg), "%s for %s from %s: %s",
		    INFO_VAR, lg.euser[0] ? lg.euser : "-", lg.ehost[0] ?
		    lg.ehost : "-", why);
		return on_error(pamh, &o, msg);
	}
	if ((r = login_decide(pamh, &o, &lg, why, sizeof(why))) < 0)
		return on_error(pamh, &o, why);
	return r;
}

PAMK_EXPORT int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/*
 * The other stacks are not ours: a line put there by mistake must not
 * decide anything, so they ignore the module.
 */
PAMK_EXPORT int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}

PAMK_EXPORT int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}

PAMK_EXPORT int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}
