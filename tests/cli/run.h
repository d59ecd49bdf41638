/*
 * run.h -- helpers for the CLI and end-to-end tests: run the built keyadm
 * (or any program) with a time limit and capture everything it prints;
 * build a --root tree with accounts; make keys with ssh-keygen.
 *
 * Every helper fails the current Criterion test (cr_assert) when the
 * machinery itself breaks: a program killed by a signal, a program that
 * does not finish within RUN_TIMEOUT_S, a tree that cannot be made.  A
 * test only ever sees results worth asserting on.
 */
#ifndef KEYADM_TEST_RUN_H
#define KEYADM_TEST_RUN_H

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#define RUN_TIMEOUT_S	30	/* a run taking longer is a hang: fail */

struct run_result {
	int	 status;	/* WEXITSTATUS */
	char	*out;		/* stdout, NUL-terminated (may hold NULs) */
	size_t	 outlen;
	char	*err;		/* stderr, NUL-terminated */
	size_t	 errlen;
};

/*
 * Run $KEYADM_BIN with the arguments argv (NULL-terminated, without the
 * program name), feeding stdin_data (NULL: empty standard input) and
 * capturing stdout and stderr completely.  Returns the exit status, also
 * in out->status.  A death by signal or a timeout fails the test.
 */
int	run_keyadm(struct run_result *out, const char *stdin_data,
	    const char *const argv[]);
/* The same with a stdin of len bytes (binary, may hold NULs). */
int	run_keyadm_buf(struct run_result *out, const void *stdin_data,
	    size_t len, const char *const argv[]);
/*
 * Run any program: argv[0] is an absolute path or a name found in PATH.
 * timeout_s 0 means RUN_TIMEOUT_S.  Same failure rules as run_keyadm.
 */
int	run_prog(struct run_result *out, const void *stdin_data, size_t len,
	    const char *const argv[], unsigned int timeout_s);
void	run_free(struct run_result *r);

/* The --root tree of one test. */
struct tree {
	char	base[PATH_MAX];	/* the mkdtemp directory, removed by .fini */
	char	root[PATH_MAX];	/* base itself: the --root DIR */
	char	inbox[PATH_MAX];/* ROOT/inbox: submitted files live here */
	uid_t	alice_uid, bob_uid;
	gid_t	alice_gid, bob_gid;
	int	as_root;
};

/*
 * mkdtemp a tree (mode 0755) with etc/passwd and etc/group listing root,
 * alice and bob; homes ROOT/home/{alice,bob} mode 0700.  As root alice is
 * uid/gid 2001 and bob 2002 and their homes are chowned to them; as
 * another user every account gets the runner's uid and gid.  Also makes
 * ROOT/inbox (0755) and ROOT/root (0700, root's home).
 */
void	tree_make(struct tree *t);
/* The same under parent instead of /tmp (sshd's StrictModes walks a
 * central key file's path up to "/", and /tmp is world-writable). */
void	tree_make_at(struct tree *t, const char *parent);
/* Remove the tree with nftw (depth first, not following links). */
void	tree_remove(struct tree *t);
/* out = ROOT + "/" + rel. */
const char *tree_path(const struct tree *t, char *out, size_t outlen,
	    const char *rel);
/* out (PATH_MAX) = ROOT/home/USER/.ssh/authorized_keys. */
const char *tree_akfile(const struct tree *t, char *out, const char *user);
/*
 * Write ROOT/home_rel/.ssh/name (and .ssh, 0700) by hand: text, mode 0600,
 * both owned by uid:gid.  path (PATH_MAX, may be NULL) gets the file's path.
 */
void	tree_put_ssh_file(const struct tree *t, const char *home_rel,
	    uid_t uid, gid_t gid, const char *name, const char *text,
	    char *path);
/* The same in USER's home (alice or bob), owned by the user. */
void	tree_put_user_file(const struct tree *t, const char *user,
	    const char *name, const char *text);

/* words of one keyadm run, --root T included */
#define TREE_KA_MAX	64

/*
 * keyadm --root T->root ARGS... (NULL-terminated), stdin from in (NULL:
 * empty): run_keyadm's result and rules.  tree_ka_v takes the ARGS as a
 * va_list, tree_kav as a NULL-terminated array.
 */
int	tree_ka(const struct tree *t, struct run_result *r, const char *in,
	    ...) __attribute__((sentinel));
int	tree_ka_v(const struct tree *t, struct run_result *r, const char *in,
	    va_list ap);
int	tree_kav(const struct tree *t, struct run_result *r, const char *in,
	    const char *const args[]);
/*
 * keyadm --root T->root ARGS... that must exit 0; the result is freed.
 * A macro, so that a failure names the test's own line.
 */
#define TREE_KA_OK(t, ...) do {						\
	struct run_result ok_r_;					\
	cr_assert_eq(tree_ka((t), &ok_r_, NULL, __VA_ARGS__, NULL), 0,	\
	    "keyadm failed; stderr:\n%s", ok_r_.err);			\
	run_free(&ok_r_);						\
} while (0)

/* sqlite3 DB sql on the tree's store, which must succeed: its standard
 * output (caller frees). */
char	*tree_sqlite3(const struct tree *t, const char *sql);
/* Run sql on the tree's store through the SQLite API; it must succeed. */
void	tree_sql_exec(const struct tree *t, const char *sql);
/* The first number sqlite3 -readonly prints for sql on the tree's store. */
long	tree_store_count(const struct tree *t, const char *sql);

/* SUDO_USER=ka-admin SUDO_UID=4242: a fixed actor, "the administrator
 * behind sudo", for the runs of this process. */
void	set_sudo_actor(void);

/*
 * ssh-keygen -q -t TYPE [-b BITS] -N '' -C COMMENT -f INBOX/NAME.  bits 0
 * leaves -b out.  priv (may be NULL) gets the private key's path; the
 * public key is priv + ".pub".
 */
void	tree_keygen(const struct tree *t, const char *type, unsigned int bits,
	    const char *comment, const char *name, char *priv, size_t privlen);
/* Fingerprint ("SHA256:...") of a public key file as ssh-keygen -l says. */
void	ssh_keygen_fingerprint(const char *pubpath, char *out, size_t outlen);

#define FP_LEN	128	/* a fingerprint as ssh-keygen -l prints it */

/*
 * tree_keygen's key (no -b when bits is 0); pub (PATH_MAX) gets the public
 * key's path, and fp (FP_LEN, may be NULL) its fingerprint.
 */
void	tree_keygen_pub(const struct tree *t, const char *type,
	    unsigned int bits, const char *comment, const char *name, char *pub,
	    char *fp);
/* "type base64" of a .pub file, without the comment (caller frees). */
char	*pub_typeb64(const char *pub);

/* Whole-file helpers (fail the test on error). */
char	*slurp(const char *path, size_t *len);
void	spew(const char *path, const void *data, size_t len, mode_t mode);
/* 1 when the file exists and holds exactly data. */
int	file_equals(const char *path, const void *data, size_t len);

/* Append len bytes, or a text, to an existing file (never through a
 * link): the tests' own hand edits. */
void	append_file(const char *path, const void *data, size_t len);
void	append_text(const char *path, const char *text);
/* Fail the test unless nothing (not even a dangling link) is at path. */
void	assert_absent(const char *path);

/* mkdir -p with mode for the last component; fails the test on error. */
void	mkdirs(const char *path, mode_t mode);

/*
 * The value of the first "key": in a JSON text, copied out (strings without
 * their quotes, escapes kept; numbers, true/false/null as written).  Returns
 * 0, or -1 if the key is not there.  Meant for flat, known output only.
 */
int	json_field(const char *json, const char *key, char *out, size_t outlen);
/* 1 when python3's json module parses text as exactly one document. */
int	json_valid(const char *text, size_t len);
/* /usr/bin/python3 when there is one (pyenv's shim takes seconds per
 * start), else "python3" from PATH. */
const char *python3(void);
/*
 * Parse doc with python3's json module, strictly (one document, no object
 * with a repeated key) as d, then run code (python statements, asserts)
 * on it; a failure fails the test.  Defined for the code: ROOT (t->root),
 * AK(user) and AK2(user) (the user's key files), RF (the revoked-keys
 * file).
 */
void	tree_pyjson(const struct tree *t, const char *doc, size_t len,
	    const char *code);

/* snprintf that fails the test if the text does not fit. */
void	xsnprintf(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* The number of LFs in text. */
int	text_lines(const char *text);

/* 1 when haystack (len bytes, may hold NULs) contains needle. */
int	mem_contains(const void *hay, size_t len, const char *needle);

/* CLOCK_MONOTONIC in milliseconds. */
long long now_ms(void);

/*
 * A child process that holds BEGIN EXCLUSIVE on a database until
 * locker_release (which accepts a locker never held).  Initialise with
 * LOCKER_INIT.
 */
struct locker {
	pid_t	pid;
	int	fd;	/* closing it lets the child roll back and exit */
};
#define LOCKER_INIT	{ -1, -1 }
void	locker_hold(struct locker *l, const char *db);
void	locker_release(struct locker *l);

#endif
