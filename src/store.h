/*
 * store.h -- the SQLite audit store.
 *
 * The only module that includes sqlite3.h.  Never prints.  Every value is
 * bound; every step checked.  Schema in sql/NNN-*.sql, embedded at build time
 * and applied in order, one transaction each; a database newer than the code
 * is refused.  Events are append-only and hash-chained.
 */
#ifndef KEYADM_STORE_H
#define KEYADM_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_APPLICATION_ID	0x4b594144	/* "KYAD" */
#define STORE_BUSY_MS		5000		/* default busy timeout */

struct store;

enum store_flags {
	STORE_CREATE = 1 << 0,	/* create the directory and the file */
	STORE_READONLY = 1 << 1,
	STORE_NOMIGRATE = 1 << 2	/* refuse an older schema (KE_CONFIG)
					   instead of upgrading it */
};

/* A key as stored: all strings borrowed by the call. */
struct store_key {
	const char	*fingerprint;	/* "SHA256:..." */
	const char	*type;		/* type word */
	unsigned int	 bits;
	const char	*b64;		/* canonical base64 */
	const char	*comment;	/* may be NULL */
};

/* A new grant: all strings borrowed.  */
struct store_grant_new {
	int64_t		 key_id;
	const char	*user;
	const char	*options;	/* may be NULL */
	int64_t		 expires_at;	/* 0 = never */
	const char	*added_by;	/* actor name */
	long		 added_uid;
	const char	*reason;	/* may be NULL */
	const char	*path;		/* file the line went to */
};

/* A grant as read back: strings owned by the store until the callback returns. */
struct store_grant {
	int64_t		 id;
	const char	*user;
	const char	*fingerprint;
	const char	*type;
	unsigned int	 bits;
	const char	*b64;
	const char	*comment;
	const char	*options;
	const char	*status;	/* active, revoked, expired, removed */
	int64_t		 added_at;
	const char	*added_by;
	long		 added_uid;
	const char	*reason;
	int64_t		 expires_at;	/* 0 = never */
	int64_t		 last_used_at;	/* 0 = never */
	const char	*path;
	const char	*last_used_from;	/* client address; may be NULL */
	int64_t		 use_count;	/* logins seen by pam_keyadm */
	int		 listed;	/* key in the revoked-keys file */
};

struct store_event {
	int64_t		 at;		/* epoch seconds UTC */
	const char	*actor;
	long		 actor_uid;
	const char	*action;	/* "add", "refuse", ... */
	const char	*user;		/* may be NULL */
	const char	*fingerprint;	/* may be NULL */
	const char	*detail;	/* may be NULL */
};

typedef int (*store_grant_cb)(const struct store_grant *g, void *arg);

/*
 * Open the store at absolute path dbpath inside the tree at rootfd (checked
 * through a directory descriptor: the directory must be a directory owned by
 * root or the effective uid, mode without group/other access; created 0700
 * with STORE_CREATE; the file is created 0600).  dispprefix goes before paths
 * in messages.  Applies pending migrations.  KE_CONFIG if the file is not
 * ours or is newer than the code, KE_BUSY if locked past the timeout,
 * KE_UNSAFE for a bad directory, KE_NOINPUT if missing without STORE_CREATE.
 */
int	 store_open(int rootfd, const char *dispprefix, const char *dbpath,
	    int flags, int busy_ms, struct store **out, char *msg,
	    size_t msglen);
void	 store_close(struct store *s);

/*
 * store_open, and share the store with group gid (>= 0; -1 is
 * store_open), even with STORE_READONLY (it changes modes, not data):
 * the database directory becomes mode 2750 and the database, -wal and
 * -shm files 0640, all of group gid (created so, or changed if they
 * exist), so that the members of that group (sshd's
 * AuthorizedKeysCommandUser) can read the store and nobody else can.
 * Needs root (or the owner, for a group of its own).  Any store may be
 * group-readable: the checks of store_open refuse group write and any
 * access by others, never group read.
 */
int	 store_open_shared(int rootfd, const char *dispprefix,
	    const char *dbpath, int flags, int busy_ms, long gid,
	    struct store **out, char *msg, size_t msglen);

/* The SQLite busy timeout from now on, in ms (0: fail at once). */
int	 store_set_busy(struct store *s, int busy_ms);

/* Schema version the code knows, and the one of the open database. */
int	 store_schema_version(void);
int	 store_db_version(struct store *s);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  KE_BUSY when locked. */
int	 store_begin(struct store *s);
int	 store_commit(struct store *s);
int	 store_rollback(struct store *s);
/* Insert the key if its fingerprint is new; *key_id gets its row id. */
int	 store_key_upsert(struct store *s, const struct store_key *k,
	    int64_t now, int64_t *key_id);
/* Active grant of key_id for user: 0 and *grant_id, or 1 when none. */
int	 store_grant_find_active(struct store *s, const char *user,
	    int64_t key_id, int64_t *grant_id);
int	 store_grant_add(struct store *s, const struct store_grant_new *g,
	    int64_t now, int64_t *grant_id);
/* Append one hash-chained event. */
int	 store_event_append(struct store *s, const struct store_event *e);
/*
 * Call cb for each grant of user (NULL: all users) with status (NULL: all),
 * ordered by user, then id.  A non-zero return of cb stops and is returned.
 */
int	 store_grants_list(struct store *s, const char *user,
	    const char *status, store_grant_cb cb, void *arg);

/* Which grants store_grants_find returns; unset fields match anything. */
struct store_grant_query {
	int64_t		 id;		/* > 0: this grant only */
	const char	*fingerprint;	/* this key only */
	const char	*user;		/* this account only */
	const char	*status;	/* this status only */
	int64_t		 expired_by;	/* > 0: active, expires_at <= this */
};

/*
 * Call cb for each grant matching q, ordered by user, then id (by expiry,
 * then id, for expired_by).  Supported: id alone; fingerprint with user
 * and/or status; expired_by with user; user and/or status.  KE_INTERNAL
 * for another combination.  A non-zero return of cb stops and is
 * returned.
 */
int	 store_grants_find(struct store *s, const struct store_grant_query *q,
	    store_grant_cb cb, void *arg);

/*
 * End an active grant: status "revoked", "expired" or "removed", with the
 * time, the actor and why (kept in revoked_at, revoked_by,
 * revoked_reason).  0, or 1 when the grant was not active, or (for
 * "expired") its expiry time is not past now: it may have been renewed.
 */
int	 store_grant_close(struct store *s, int64_t grant_id,
	    const char *status, int64_t now, const char *by,
	    const char *reason);
/* New options and expiry (0 = never) of an active grant; 1 if not active. */
int	 store_grant_set_options(struct store *s, int64_t grant_id,
	    const char *options, int64_t expires_at);
/*
 * Status of the newest grant of key_id for user into status (at least 16
 * bytes): 0, or 1 when the account never had the key.
 */
int	 store_grant_last_status(struct store *s, const char *user,
	    int64_t key_id, char *status, size_t statuslen);

/* A key as read back: strings owned by the store until cb returns. */
struct store_keyrow {
	int64_t		 id;
	const char	*fingerprint;
	const char	*type;
	unsigned int	 bits;
	const char	*b64;
	const char	*comment;
	int64_t		 first_seen;
	int64_t		 revoked_at;	/* 0: not in the revoked-keys file */
};

typedef int (*store_key_cb)(const struct store_keyrow *k, void *arg);

/* The key with this fingerprint: cb's return value, or 1 when unknown. */
int	 store_key_get(struct store *s, const char *fingerprint,
	    store_key_cb cb, void *arg);

/*
 * Record that key_id is in the revoked-keys file: 0, or 1 when it already
 * was (the first revocation is kept).
 */
int	 store_revocation_add(struct store *s, int64_t key_id, int64_t now,
	    const char *by, long uid, const char *reason);
/* Forget a revocation (add --force): 0, or 1 when there was none. */
int	 store_revocation_remove(struct store *s, int64_t key_id);

/* What is wrong with the event at store_chain.bad_id. */
enum store_chain_problem {
	STORE_CHAIN_INTACT = 0,
	STORE_CHAIN_HASH,	/* its fields do not match its hash */
	STORE_CHAIN_LINK,	/* its prev_hash is not the hash before it */
	STORE_CHAIN_ID		/* its id is not the one after the last */
};

/* The triggers that keep events append-only (events_no_update, ...). */
enum store_triggers {
	STORE_TRIGGERS_INTACT = 0,	/* as the migrations made them */
	STORE_TRIGGERS_MISSING,		/* at least one was dropped */
	STORE_TRIGGERS_ALTERED		/* other SQL, or one we never made */
};

/* What store_verify_chain found. */
struct store_chain {
	int64_t			 checked;	/* events intact, in id order */
	int64_t			 bad_id;	/* first bad event; 0: none */
	char			 last_hash[65];	/* of the last intact event */
	enum store_chain_problem problem;	/* at bad_id */
	enum store_triggers	 triggers;
};

/*
 * Check the events log, oldest first: each event's hash (format in
 * store.c), its link to the event before it, and its id, which must run
 * 1, 2, 3, ... without a gap (rows are only ever appended, one
 * transaction each, so a rollback leaves none); then the triggers, whose
 * SQL must be what the migrations create (whitespace aside), with no
 * trigger they do not create.
 *
 * 0 when all is well: out->checked is the number of events and
 * out->last_hash the hash of the newest one (64 '0' when there are
 * none).  KE_FINDINGS otherwise.  A broken chain sets out->bad_id (the
 * first bad event) and out->problem; checked and last_hash describe the
 * intact events before it, and store_errmsg() says "event N does not
 * match its hash", "event N does not follow the event before it", "event
 * N: ids jump from A to N (rows removed or renumbered)" or "event N: the
 * first id is N, not 1 (rows removed or renumbered)".  Bad triggers set
 * out->triggers, checked whether or not the chain is intact; when the
 * chain is intact store_errmsg() is store_triggers_str(out->triggers).
 * Another negative error if the log or the schema could not be read.
 *
 * Known limits: the hash has no secret, so whoever can write the file can
 * rewrite the log, recompute every hash, renumber the ids and recreate
 * the triggers, and no check of the database alone can tell; deleting
 * the newest rows leaves a shorter chain that is just as intact.  That is
 * why every committed event also goes to syslog with its id and hash (the
 * event hook, ctx.c): compare those with a copy kept elsewhere.
 */
int	 store_verify_chain(struct store *s, struct store_chain *out);
/* What a bad triggers state means, as one line of text; never NULL. */
const char *store_triggers_str(enum store_triggers t);

/* An event as read back: strings owned by the store until cb returns. */
struct store_event_row {
	int64_t		 id;
	int64_t		 at;		/* epoch seconds UTC */
	const char	*actor;
	long		 actor_uid;
	const char	*action;
	const char	*user;		/* may be NULL */
	const char	*fingerprint;	/* may be NULL */
	const char	*detail;	/* may be NULL */
	const char	*hash;		/* 64 lowercase hex digits */
};

/* Which events store_events_find returns; unset fields match anything. */
struct store_event_query {
	const char	*user;		/* this account only */
	const char	*fingerprint;	/* this key only */
	int64_t		 since;		/* > 0: at >= since */
};

typedef int (*store_event_cb)(const struct store_event_row *e, void *arg);

/*
 * Call cb for each event matching q, oldest first (by id).  A non-zero
 * return of cb stops and is returned.
 */
int	 store_events_find(struct store *s, const struct store_event_query *q,
	    store_event_cb cb, void *arg);

typedef void (*store_event_hook)(const struct store_event_row *e,
	    void *arg);

/*
 * Have fn(e, arg) called once for every event appended through s, after
 * the transaction that holds it has committed, in the order of
 * appending; fn NULL turns it off.  Events appended inside a caller's
 * transaction are copied and kept until store_commit: a commit that
 * succeeds calls fn for each and forgets them; store_rollback, a commit
 * that fails and ends the transaction, store_begin and store_close
 * forget them without calling fn.  An append outside a transaction calls
 * fn right after its own commit.  Without a hook nothing is kept.
 * store_event_append fails with KE_NOMEM, before it inserts anything,
 * when it cannot make the copy.  fn gets strings valid only during the
 * call; it must not use s.
 */
void	 store_set_event_hook(struct store *s, store_event_hook fn,
	    void *arg);

/* A revocation as read back: strings owned by the store until cb returns. */
struct store_revocation {
	const char	*fingerprint;
	const char	*type;
	const char	*b64;		/* canonical base64 */
	int64_t		 revoked_at;
	const char	*revoked_by;
	long		 revoked_uid;
	const char	*reason;
};

typedef int (*store_revocation_cb)(const struct store_revocation *r,
	    void *arg);

/*
 * Call cb for each key in the revocations table (listed in the
 * revoked-keys file), ordered by fingerprint.  A non-zero return of cb
 * stops and is returned.
 */
int	 store_revocations_each(struct store *s, store_revocation_cb cb,
	    void *arg);

/*
 * 1 when a key was ever listed in the revoked-keys file: a revocations
 * row exists, or a machine-wide "revoke" event (user NULL) records one
 * since reinstated.  A revoke for one account only lists nothing and
 * does not count.  0 when not; a negative error.
 */
int	 store_ever_revoked(struct store *s);

/* What store_login_find found for an account and a key. */
enum store_login_state {
	STORE_LOGIN_UNKNOWN = 0,	/* the account never had the key */
	STORE_LOGIN_ACTIVE,		/* an active grant, not yet expired */
	STORE_LOGIN_EXPIRED,		/* its grant expired (or its time passed) */
	STORE_LOGIN_REVOKED,		/* revoked for the account, or listed in
					   the revoked-keys file */
	STORE_LOGIN_REMOVED		/* its grant was removed */
};

struct store_login {
	enum store_login_state	state;
	int64_t			grant_id;	/* newest grant; 0: none */
	int			listed;		/* in the revoked-keys file */
};

/*
 * May the key with this fingerprint log in as user at now?  Looks at the
 * key's revocation and the account's newest grant of it (two indexed
 * reads, no transaction).  A key in the revoked-keys file is REVOKED
 * whatever its grants say; otherwise the newest grant decides.  0, or a
 * negative error.
 */
int	 store_login_find(struct store *s, const char *user,
	    const char *fingerprint, int64_t now, struct store_login *out);

/*
 * Record a login with grant grant_id at time at from address from (may be
 * NULL): last_used_at, last_used_from, use_count + 1.  0, or 1 when there
 * is no such grant.
 */
int	 store_grant_used(struct store *s, int64_t grant_id, int64_t at,
	    const char *from);

/* Last SQLite error text, for messages; never NULL. */
const char *store_errmsg(struct store *s);

#endif
