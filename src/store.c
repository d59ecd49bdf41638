/*
 * store.c -- the SQLite audit store: open, harden, migrate, prepared
 * statements, the hash-chained event log and the queries.
 *
 * Invariants (each has a test in tests/unit/test_store.c):
 *  - This is the only file that includes sqlite3.h.  It never prints:
 *    every failure returns a negative enum keyadm_err; store_open leaves
 *    one line "<object>: <problem>" in the caller's msg (the object is the
 *    database or the directory at fault), the other calls leave
 *    "<problem>" for store_errmsg(), and the caller names the database.
 *  - The database directory is reached from rootfd one component at a
 *    time with openat(O_DIRECTORY|O_NOFOLLOW): no symbolic link is ever
 *    followed.  Parents must be owned by root or the effective uid and not
 *    writable by group or other; the database directory must be owned by
 *    root or the effective uid, not writable by its group, with no access
 *    for others.  With STORE_CREATE only that last directory is created,
 *    mode 0700 (2750 and the store's group with store_open_shared).
 *  - The database file, when present, is a regular file with one link,
 *    owned by root or the effective uid, at most readable by its group,
 *    no access for others.  We create it ourselves
 *    (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 or 0640, fchmod) so that SQLite
 *    never creates it and the umask does not matter; the -wal and -shm
 *    files get its mode, owner and group from SQLite.
 *  - Group read is how sshd's AuthorizedKeysCommandUser reads the store
 *    (keyadm authorized-keys).  A reader that cannot write the directory
 *    can open a WAL database only while its -wal and -shm files exist, so
 *    every connection sets SQLITE_FCNTL_PERSIST_WAL: the last one to close
 *    checkpoints but leaves both files in place.
 *  - SQLite gets the path of the checked directory, opens it with
 *    SQLITE_OPEN_NOFOLLOW, and the file it opened must be the one we
 *    checked (same device and inode), or the open fails.
 *  - A file that is not ours (not SQLite, a foreign application_id, or
 *    tables without our application_id) or whose user_version is newer
 *    than the code is refused before anything writes to it.
 *  - store_open holds an flock on the database directory (shared when
 *    read-only) from checking the file to the last migration, so no
 *    opener sees a database another is still creating or upgrading.
 *  - Each migration runs in its own BEGIN IMMEDIATE transaction together
 *    with setting application_id and user_version; the version is read
 *    again inside the transaction, so concurrent openers cannot apply a
 *    step twice.  STORE_READONLY never migrates.
 *  - All SQL is in a static table, prepared once at open; every value is
 *    bound; every sqlite3_step is checked; SQLITE_BUSY is KE_BUSY.
 *  - events rows are append-only (triggers) and hash-chained (see
 *    "Event hash" below); their ids run 1, 2, 3, ... without a gap,
 *    because a row is only ever appended (INTEGER PRIMARY KEY without
 *    AUTOINCREMENT takes max(id) + 1, and a rolled back append gives its
 *    id back).  store_verify_chain recomputes the chain, checks the ids
 *    and compares the triggers with those the migrations make.  None of
 *    that stops someone who can write the file and recomputes the hashes
 *    (they have no secret), nor a cut of the newest rows; the triggers
 *    do not even stop INSERT OR REPLACE, whose implicit delete fires no
 *    trigger while recursive_triggers is off.  The event hook (below) is
 *    how each id and hash also leaves the machine: that copy is the
 *    anchor.
 *  - The event hook sees an event only once it is committed, exactly
 *    once, in order: events appended in a caller's transaction wait in
 *    s->pend until store_commit succeeds, and a rollback forgets them.
 *    The copy is made before the insert, so a lack of memory fails the
 *    append (the caller rolls back) instead of losing the hook's call.
 *
 * application_id is set by this code, not by sql/001-initial.sql, in the
 * transaction of every migration step: STORE_APPLICATION_ID stays the
 * one source, and a half-migrated file is never labelled ours.
 * busy_ms < 0 means STORE_BUSY_MS; 0 means fail at once when locked.
 *
 * Why not open "/proc/self/fd/N/name": SQLite's unix VFS resolves every
 * symbolic link in a path to a canonical name before it opens anything
 * (it would open the directory's real path anyway), and with
 * SQLITE_OPEN_NOFOLLOW it refuses such a path outright
 * (SQLITE_CANTOPEN_SYMLINK, checked with SQLite 3.40).  So we do what it
 * would do ourselves: readlink the descriptor to the directory's current
 * path, keep NOFOLLOW, and verify the inode after the open.  Without /proc
 * we use dispprefix + dbpath, with the same inode check.
 * XXX -wal and -shm are opened by name by SQLite; the directory is 0700
 * and owned by us, so nobody else can plant them.
 */
#include <sys/file.h>
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "err.h"
#include "migrations.h"
#include "store.h"

#define STORE_MSG_MAX	512		/* one message line */
#define HASH_HEX_LEN	64		/* hex SHA-256 */
#define OPEN_LOCK_NAP_MS 2		/* between two tries of the open lock */
#define EVENT_HASH_TAG	"keyadm-event-v1"	/* domain of the event hash */

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_USER_VERSION,
	ST_KEY_INSERT,
	ST_KEY_FIND,
	ST_GRANT_FIND_ACTIVE,
	ST_GRANT_ADD,
	ST_GRANTS_ALL,
	ST_GRANTS_USER,
	ST_GRANT_BY_ID,
	ST_GRANTS_KEY,
	ST_GRANTS_EXPIRED,
	ST_GRANT_CLOSE,
	ST_GRANT_EXPIRE,
	ST_GRANT_OPTIONS,
	ST_GRANT_LAST,
	ST_KEY_GET,
	ST_REVOKE_ADD,
	ST_REVOKE_DEL,
	ST_EVENT_LAST,
	ST_EVENT_ADD,
	ST_EVENT_ALL,
	ST_EVENTS_ANY,
	ST_EVENTS_USER,
	ST_EVENTS_KEY,
	ST_REVOCATIONS,
	ST_EVER_REVOKED,
	ST_TRIGGERS,
	ST_TRIGGER_SQL,
	ST_TRIGGER_COUNT,
	ST_LOGIN_KEY,
	ST_LOGIN_GRANT,
	ST_GRANT_USED,
	ST_COUNT
};

#define GRANT_COLUMNS							\
	"SELECT g.id, g.user, k.fingerprint, k.type, k.bits, k.blob_b64, " \
	"k.comment, g.options, g.status, g.added_at, g.added_by, "	\
	"g.added_uid, g.reason, g.expires_at, g.last_used_at, g.path, "	\
	"g.last_used_from, g.use_count, "				\
	"EXISTS (SELECT 1 FROM revocations r WHERE r.key_id = k.id) "	\
	"FROM grants g JOIN keys k ON k.id = g.key_id "

#define EVENT_COLUMNS							\
	"SELECT id, at, actor, actor_uid, action, user, fingerprint, "	\
	"detail, hash FROM events "

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_USER_VERSION] = "PRAGMA user_version",
	[ST_KEY_INSERT] =
	    "INSERT INTO keys (fingerprint, type, bits, blob_b64, comment, "
	    "first_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (fingerprint) DO NOTHING",
	[ST_KEY_FIND] = "SELECT id, blob_b64 FROM keys WHERE fingerprint = ?1",
	[ST_GRANT_FIND_ACTIVE] =
	    "SELECT id FROM grants WHERE user = ?1 AND key_id = ?2 "
	    "AND status = 'active'",
	[ST_GRANT_ADD] =
	    "INSERT INTO grants (key_id, user, options, expires_at, status, "
	    "added_at, added_by, added_uid, reason, path) "
	    "VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7, ?8, ?9)",
	/* Two statements, so that a per-user list uses grants_user. */
	[ST_GRANTS_ALL] = GRANT_COLUMNS
	    "WHERE (?2 IS NULL OR g.status = ?2) ORDER BY g.user, g.id",
	[ST_GRANTS_USER] = GRANT_COLUMNS
	    "WHERE g.user = ?1 AND (?2 IS NULL OR g.status = ?2) "
	    "ORDER BY g.user, g.id",
	[ST_GRANT_BY_ID] = GRANT_COLUMNS "WHERE g.id = ?1",
	/* grants_key; user and status filter the few rows of one key */
	[ST_GRANTS_KEY] = GRANT_COLUMNS
	    "WHERE k.fingerprint = ?1 AND (?2 IS NULL OR g.user = ?2) "
	    "AND (?3 IS NULL OR g.status = ?3) ORDER BY g.user, g.id",
	/* grants_expiry (002) */
	[ST_GRANTS_EXPIRED] = GRANT_COLUMNS
	    "WHERE g.status = 'active' AND g.expires_at IS NOT NULL "
	    "AND g.expires_at <= ?1 AND (?2 IS NULL OR g.user = ?2) "
	    "ORDER BY g.expires_at, g.id",
	[ST_GRANT_CLOSE] =
	    "UPDATE grants SET status = ?2, revoked_at = ?3, revoked_by = ?4, "
	    "revoked_reason = ?5 WHERE id = ?1 AND status = 'active'",
	/* only a grant whose time has passed (it may have been renewed) */
	[ST_GRANT_EXPIRE] =
	    "UPDATE grants SET status = ?2, revoked_at = ?3, revoked_by = ?4, "
	    "revoked_reason = ?5 WHERE id = ?1 AND status = 'active' "
	    "AND expires_at IS NOT NULL AND expires_at <= ?3",
	[ST_GRANT_OPTIONS] =
	    "UPDATE grants SET options = ?2, expires_at = ?3 "
	    "WHERE id = ?1 AND status = 'active'",
	[ST_GRANT_LAST] =
	    "SELECT status FROM grants WHERE user = ?1 AND key_id = ?2 "
	    "ORDER BY id DESC LIMIT 1",
	[ST_KEY_GET] =
	    "SELECT k.id, k.fingerprint, k.type, k.bits, k.blob_b64, "
	    "k.comment, k.first_seen, r.revoked_at FROM keys k "
	    "LEFT JOIN revocations r ON r.key_id = k.id "
	    "WHERE k.fingerprint = ?1",
	[ST_REVOKE_ADD] =
	    "INSERT INTO revocations (key_id, revoked_at, revoked_by, "
	    "revoked_uid, reason) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (key_id) DO NOTHING",
	[ST_REVOKE_DEL] = "DELETE FROM revocations WHERE key_id = ?1",
	[ST_EVENT_LAST] = "SELECT hash FROM events ORDER BY id DESC LIMIT 1",
	[ST_EVENT_ADD] =
	    "INSERT INTO events (at, actor, actor_uid, action, user, "
	    "fingerprint, detail, prev_hash, hash) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_EVENT_ALL] =
	    "SELECT id, prev_hash, at, actor, actor_uid, action, user, "
	    "fingerprint, detail, hash FROM events ORDER BY id",
	/* Three statements, so that a filter uses its index. */
	[ST_EVENTS_ANY] = EVENT_COLUMNS
	    "WHERE (?1 IS NULL OR at >= ?1) ORDER BY id",
	/* events_user */
	[ST_EVENTS_USER] = EVENT_COLUMNS
	    "WHERE user = ?1 AND (?2 IS NULL OR at >= ?2) ORDER BY id",
	/* events_fingerprint; user and time filter the rows of one key */
	[ST_EVENTS_KEY] = EVENT_COLUMNS
	    "WHERE fingerprint = ?1 AND (?2 IS NULL OR user = ?2) "
	    "AND (?3 IS NULL OR at >= ?3) ORDER BY id",
	[ST_REVOCATIONS] =
	    "SELECT k.fingerprint, k.type, k.blob_b64, r.revoked_at, "
	    "r.revoked_by, r.revoked_uid, r.reason FROM revocations r "
	    "JOIN keys k ON k.id = r.key_id ORDER BY k.fingerprint",
	[ST_EVER_REVOKED] =
	    "SELECT EXISTS (SELECT 1 FROM revocations) OR "
	    "EXISTS (SELECT 1 FROM events WHERE action = 'revoke' AND "
	    "user IS NULL)",
	/* also prepared on the reference schema (store_verify_chain) */
	[ST_TRIGGERS] = "SELECT name, sql FROM sqlite_schema "
	    "WHERE type = 'trigger' ORDER BY name",
	[ST_TRIGGER_SQL] = "SELECT sql FROM sqlite_schema "
	    "WHERE type = 'trigger' AND name = ?1",
	[ST_TRIGGER_COUNT] = "SELECT count(*) FROM sqlite_schema "
	    "WHERE type = 'trigger'",
	/* store_login_find: the key (fingerprint unique), its revocation */
	[ST_LOGIN_KEY] =
	    "SELECT k.id, r.key_id IS NOT NULL FROM keys k "
	    "LEFT JOIN revocations r ON r.key_id = k.id "
	    "WHERE k.fingerprint = ?1",
	/* grants_key: the few grants of one key, newest first */
	[ST_LOGIN_GRANT] =
	    "SELECT id, status, expires_at FROM grants "
	    "WHERE key_id = ?1 AND user = ?2 ORDER BY id DESC LIMIT 1",
	[ST_GRANT_USED] =
	    "UPDATE grants SET last_used_at = ?2, last_used_from = ?3, "
	    "use_count = use_count + 1 WHERE id = ?1",
};

/* An event appended in an open transaction, kept for the hook. */
struct pending {
	struct store_event_row	 row;	/* strings point into buf */
	char			*buf;
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*st[ST_COUNT];
	int		 readonly;
	int		 flags;			/* store_open's */
	int		 errobj;		/* errmsg names its object */
	char		 path[PATH_MAX];	/* dispprefix + dbpath */
	char		 errmsg[STORE_MSG_MAX];
	store_event_hook hook;			/* NULL: none */
	void		*hook_arg;
	struct pending	*pend;			/* appended, not committed */
	size_t		 npend;
	size_t		 pendcap;
};

/* What store_open was asked for, passed to its helpers. */
struct open_args {
	int		 rootfd;
	const char	*prefix;	/* dispprefix, never NULL */
	const char	*dbpath;
	int		 flags;
	int		 busy_ms;
	long		 gid;		/* share with this group; -1: no */
};

static int	fail(struct store *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	fail_at(struct store *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	pend_drop(struct store *);
static void	vfail(struct store *, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static void
vfail(struct store *s, int withobj, const char *fmt, va_list ap)
{
	s->errobj = withobj;
	(void)vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
}

/*
 * A problem of the database: errmsg gets "<problem>" (store_errmsg; the
 * caller names the database), store_open's msg "<path>: <problem>".
 */
static int
fail(struct store *s, int err, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfail(s, 0, fmt, ap);
	va_end(ap);
	return err;
}

/* A problem of another object (a directory, the path): whole message. */
static int
fail_at(struct store *s, int err, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfail(s, 1, fmt, ap);
	va_end(ap);
	return err;
}

/* Turn an SQLite result code into our error, with a message. */
static int
db_fail(struct store *s, int rc, const char *what)
{
	const char	*m = s->db != NULL ? sqlite3_errmsg(s->db) :
			    sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return fail(s, KE_BUSY, "database is locked; try again");
	case SQLITE_NOMEM:
		return fail(s, KE_NOMEM, "%s: out of memory",
		    what);
	case SQLITE_CANTOPEN:
		if (rc == SQLITE_CANTOPEN_SYMLINK)
			return fail(s, KE_UNSAFE, "path has a symbolic "
			    "link");
		return fail(s, KE_NOINPUT, "%s: %s", what, m);
	case SQLITE_NOTADB:
		return fail(s, KE_CONFIG, "not a keyadm database: %s", m);
	case SQLITE_IOERR:
	case SQLITE_FULL:
		return fail(s, KE_IO, "%s: %s", what, m);
	case SQLITE_READONLY:	/* a read-only file system or file */
	case SQLITE_PERM:
		return fail(s, KE_CANTCREATE, "%s: %s", what, m);
	default:
		return fail(s, KE_INTERNAL, "%s: %s", what, m);
	}
}

static int
owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

static int
bad_owner(struct store *s, const char *pfx, const char *p,
    const struct stat *st)
{
	if (geteuid() == 0)
		return fail_at(s, KE_UNSAFE, "%s%s: owned by uid %u, "
		    "expected 0", pfx, p, (unsigned int)st->st_uid);
	return fail_at(s, KE_UNSAFE, "%s%s: owned by uid %u, expected 0 "
	    "or %u", pfx, p, (unsigned int)st->st_uid,
	    (unsigned int)geteuid());
}

/* A directory on the way to the database directory. */
static int
check_parent(struct store *s, int fd, const char *pfx, const char *p)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return fail_at(s, KE_IO, "%s%s: %s", pfx, p, strerror(errno));
	if (!owner_ok(&st))
		return bad_owner(s, pfx, p, &st);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return fail_at(s, KE_UNSAFE, "%s%s: mode %04o, writable by "
		    "group or other", pfx, p,
		    (unsigned int)(st.st_mode & 07777));
	return 0;
}

/* The database directory itself. */
static int
check_dbdir(struct store *s, int fd, const char *pfx, const char *p)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return fail_at(s, KE_IO, "%s%s: %s", pfx, p, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail_at(s, KE_UNSAFE, "%s%s: not a directory", pfx, p);
	if (!owner_ok(&st))
		return bad_owner(s, pfx, p, &st);
	if (st.st_mode & (S_IWGRP | S_IRWXO))
		return fail_at(s, KE_UNSAFE, "%s%s: mode %04o, expected 0700 "
		    "(or 2750, shared with a group)", pfx, p,
		    (unsigned int)(st.st_mode & 07777));
	return 0;
}

/*
 * Share the open directory fd with group a->gid (store_open_shared), when
 * it is ours to change: 2750, that group.
 */
static int
share_dir(struct store *s, const struct open_args *a, int fd,
    const char *pfx, const char *p)
{
	struct stat	st;

	if (a->gid < 0)
		return 0;
	if (fstat(fd, &st) == -1)
		return fail_at(s, KE_IO, "%s%s: %s", pfx, p, strerror(errno));
	if (st.st_gid == (gid_t)a->gid && (st.st_mode & 07777) == 02750)
		return 0;
	if (fchown(fd, (uid_t)-1, (gid_t)a->gid) == -1 ||
	    fchmod(fd, 02750) == -1)
		return fail_at(s, KE_CANTCREATE, "%s%s: cannot share with "
		    "group %ld: %s", pfx, p, a->gid, strerror(errno));
	return 0;
}

/* Why openat(O_DIRECTORY|O_NOFOLLOW) of name failed. */
static int
opendir_fail(struct store *s, int pfd, const char *name, int create,
    const char *pfx, const char *p)
{
	struct stat	st;
	int		saved = errno;

	if (saved == ENOENT)
		return fail_at(s, create ? KE_CANTCREATE : KE_NOINPUT,
		    "%s%s: %s", pfx, p, strerror(saved));
	if (saved == EACCES)
		return fail_at(s, KE_NOINPUT, "%s%s: %s", pfx, p,
		    strerror(saved));
	if ((saved == ELOOP || saved == ENOTDIR) &&
	    fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return fail_at(s, KE_UNSAFE, "%s%s: is a symbolic link",
			    pfx, p);
		return fail_at(s, KE_UNSAFE, "%s%s: not a directory", pfx, p);
	}
	return fail_at(s, KE_IO, "%s%s: %s", pfx, p, strerror(saved));
}

/* How open_dir treats a missing directory. */
#define OD_CREATING	0x1	/* fail with KE_CANTCREATE, not KE_NOINPUT */
#define OD_MKDIR	0x2	/* create it, mode 0700 */

/* Open directory name under pfd, as how says. */
static int
open_dir(struct store *s, int pfd, const char *name, int how,
    const char *pfx, const char *p, int *out)
{
	int	fd, made = 0;

	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && (how & OD_MKDIR)) {
		if (mkdirat(pfd, name, 0700) == -1) {
			if (errno != EEXIST)
				return fail_at(s, KE_CANTCREATE, "%s%s: %s",
				    pfx, p, strerror(errno));
		} else
			made = 1;
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd == -1)
		return opendir_fail(s, pfd, name, how & OD_CREATING, pfx, p);
	/* The umask may have taken bits away; set exactly 0700. */
	if (made && fchmod(fd, 0700) == -1) {
		(void)close(fd);
		return fail_at(s, KE_CANTCREATE, "%s%s: %s", pfx, p,
		    strerror(errno));
	}
	*out = fd;
	return 0;
}

/*
 * Walk the directories of a->dbpath (already checked by path_ok) from
 * a->rootfd; *dirfd gets the checked database directory and *name points
 * into a->dbpath at the file name.
 */
static int
walk_dirs(struct store *s, const struct open_args *a, int *dirfd,
    const char **name)
{
	char	 buf[PATH_MAX], *comp, *next, *slash;
	int	 fd, nfd = -1, r, create;

	*dirfd = -1;
	(void)snprintf(buf, sizeof(buf), "%s", a->dbpath);
	slash = strrchr(buf, '/');
	*slash = '\0';
	*name = a->dbpath + (slash - buf) + 1;
	create = (a->flags & STORE_CREATE) && !(a->flags & STORE_READONLY);
	if ((fd = fcntl(a->rootfd, F_DUPFD_CLOEXEC, 0)) == -1)
		return fail_at(s, KE_IO, "%s/: %s", a->prefix, strerror(errno));
	for (comp = buf + 1; *comp != '\0'; comp = next) {
		if ((next = strchr(comp, '/')) != NULL)
			*next = '\0';
		r = open_dir(s, fd, comp, !create ? 0 : next == NULL ?
		    OD_CREATING | OD_MKDIR : OD_CREATING, a->prefix, buf, &nfd);
		(void)close(fd);	/* a read-only directory descriptor */
		if (r != 0)
			return r;
		fd = nfd;
		if (next == NULL)
			next = comp + strlen(comp);
		else if ((r = check_parent(s, fd, a->prefix, buf)) != 0) {
			(void)close(fd);
			return r;
		} else
			*next++ = '/';
	}
	if ((r = share_dir(s, a, fd, a->prefix, buf[0] ? buf : "/")) != 0 ||
	    (r = check_dbdir(s, fd, a->prefix, buf[0] ? buf : "/")) != 0) {
		(void)close(fd);
		return r;
	}
	*dirfd = fd;
	return 0;
}

/* dbpath: absolute, canonical ("/a/b/name": no "//", ".", ".."). */
static int
path_ok(struct store *s, const struct open_args *a)
{
	const char	*p = a->dbpath, *c;
	size_t		 n;

	if ((size_t)snprintf(s->path, sizeof(s->path), "%s%s", a->prefix,
	    p) >= sizeof(s->path))
		return fail_at(s, KE_CONFIG, "%s: path too long", p);
	if (p[0] != '/')
		return fail_at(s, KE_CONFIG, "%s: database path is not "
		    "absolute", p);
	for (c = p + 1;; c += n + 1) {
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return fail_at(s, KE_CONFIG, "%s: database path is not "
			    "canonical", p);
		if (c[n] == '\0')
			return 0;
	}
}

/*
 * Check the database file name in dirfd; create it first (0600, exactly)
 * when it is missing and we may.  *st gets what was checked.
 */
static int
check_dbfile(struct store *s, const struct open_args *a, int dirfd,
    const char *name, struct stat *st)
{
	int	fd;

	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			return fail(s, KE_IO, "%s",
			    strerror(errno));
		if (!(a->flags & STORE_CREATE) || (a->flags & STORE_READONLY))
			return fail(s, KE_NOINPUT, "%s",
			    strerror(errno));
		fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			return fail(s, KE_CANTCREATE, "%s",
			    strerror(errno));
		if (fd != -1 && (fchmod(fd, 0600) == -1 || close(fd) == -1))
			return fail(s, KE_CANTCREATE, "%s",
			    strerror(errno));
		/* share_files gives it the group */
		if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == -1)
			return fail(s, KE_IO, "%s",
			    strerror(errno));
	}
	if (S_ISLNK(st->st_mode))
		return fail(s, KE_UNSAFE, "is a symbolic link");
	if (!S_ISREG(st->st_mode))
		return fail(s, KE_UNSAFE, "not a regular file");
	if (!owner_ok(st))
		return bad_owner(s, "", s->path, st);
	if (st->st_nlink != 1)
		return fail(s, KE_UNSAFE, "has %ju links, expected 1",
		    (uintmax_t)st->st_nlink);
	if (st->st_mode & (S_IWGRP | S_IXGRP | S_IRWXO | S_ISUID | S_ISGID))
		return fail(s, KE_UNSAFE, "mode %04o, expected 0600 (or 0640, "
		    "shared with a group)", (unsigned int)(st->st_mode & 07777));
	return 0;
}

/*
 * store_open_shared: the database file and its -wal and -shm (when they
 * exist) become 0640, group a->gid.  The directory is ours and nobody
 * else may write it (checked), so the names cannot change under us; each
 * is still opened without following links or blocking, and must be a
 * regular file of one link owned as the database is.
 */
static int
share_files(struct store *s, const struct open_args *a, int dirfd,
    const char *name)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	struct stat	 st;
	char		 fn[NAME_MAX + 8];
	size_t		 i;
	int		 fd, bad;

	if (a->gid < 0)
		return 0;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if ((size_t)snprintf(fn, sizeof(fn), "%s%s", name, sfx[i]) >=
		    sizeof(fn))
			return fail(s, KE_CONFIG, "name too long");
		fd = openat(dirfd, fn, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_NOCTTY | O_CLOEXEC);
		if (fd == -1 && errno == ENOENT && i > 0)
			continue;
		if (fd == -1)
			return fail(s, errno == ELOOP ? KE_UNSAFE : KE_IO,
			    "%s: %s", fn, strerror(errno));
		bad = fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_nlink != 1 || !owner_ok(&st);
		if (!bad && (st.st_gid != (gid_t)a->gid ||
		    (st.st_mode & 07777) != 0640) &&
		    (fchown(fd, (uid_t)-1, (gid_t)a->gid) == -1 ||
		    fchmod(fd, 0640) == -1)) {
			(void)close(fd);
			return fail(s, KE_CANTCREATE, "%s: cannot share with "
			    "group %ld: %s", fn, a->gid, strerror(errno));
		}
		(void)close(fd);
		if (bad)
			return fail(s, KE_UNSAFE, "%s: not a regular file of "
			    "one link owned by root or us", fn);
	}
	return 0;
}

/*
 * The name SQLite is to open: the current path of the checked directory
 * (from /proc), else dispprefix + dbpath.  See the top of the file.
 */
static int
sqlite_path(struct store *s, int dirfd, const char *name, char *buf,
    size_t len)
{
	char	proc[64], dir[PATH_MAX];
	ssize_t	n;

	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	n = readlink(proc, dir, sizeof(dir));
	if (n <= 0 || (size_t)n >= sizeof(dir) || dir[0] != '/') {
		if ((size_t)snprintf(buf, len, "%s", s->path) >= len)
			return fail(s, KE_CONFIG, "path too long");
		return 0;
	}
	dir[n] = '\0';
	if ((size_t)snprintf(buf, len, "%s/%s", strcmp(dir, "/") == 0 ? "" :
	    dir, name) >= len)
		return fail(s, KE_CONFIG, "path too long");
	return 0;
}

/* The file SQLite opened must be the one check_dbfile looked at. */
static int
same_file(struct store *s, const struct stat *want)
{
	struct stat	 st;
	const char	*fn;

	fn = sqlite3_db_filename(s->db, "main");
	if (fn == NULL || lstat(fn, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_dev != want->st_dev || st.st_ino != want->st_ino)
		return fail(s, KE_UNSAFE, "replaced while being opened");
	return 0;
}

/* Open the checked file with SQLite and harden the connection. */
static int
open_db(struct store *s, const struct open_args *a, int dirfd,
    const char *name, const struct stat *st)
{
	char	path[PATH_MAX];
	int	r, rc, on, flags;

	if ((r = sqlite_path(s, dirfd, name, path, sizeof(path))) != 0)
		return r;
	flags = SQLITE_OPEN_NOFOLLOW | (s->readonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE);	/* never CREATE: check_dbfile did */
#ifdef SQLITE_OPEN_EXRESCODE
	flags |= SQLITE_OPEN_EXRESCODE;
#endif
	rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "open");
#ifndef SQLITE_OPEN_EXRESCODE
	if ((rc = sqlite3_extended_result_codes(s->db, 1)) != SQLITE_OK)
		return db_fail(s, rc, "extended result codes");
#endif
	if ((r = same_file(s, st)) != 0)
		return r;
	/* keep -wal and -shm for readers of a shared store (see the top) */
	on = 1;
	if ((rc = sqlite3_file_control(s->db, "main",
	    SQLITE_FCNTL_PERSIST_WAL, &on)) != SQLITE_OK)
		return db_fail(s, rc, "persist WAL");
	if ((rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1,
	    &on)) != SQLITE_OK || on != 1 ||
	    (rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    &on)) != SQLITE_OK || on != 0 ||
	    (rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DDL, 0,
	    &on)) != SQLITE_OK || on != 0 ||
	    (rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_DQS_DML, 0,
	    &on)) != SQLITE_OK || on != 0)
		return fail(s, KE_INTERNAL, "cannot harden the SQLite "
		    "connection");
	rc = sqlite3_busy_timeout(s->db, a->busy_ms < 0 ? STORE_BUSY_MS :
	    a->busy_ms);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, "busy timeout");
	return 0;
}

/*
 * Run one statement of fixed SQL that returns at most one row; *v gets its
 * first column as an integer (0 without a row), txt (if not NULL) its text.
 */
static int
exec_one(struct store *s, const char *sql, int64_t *v, char *txt,
    size_t txtlen)
{
	sqlite3_stmt		*st = NULL;
	const unsigned char	*t;
	int			 rc;

	if ((rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) !=
	    SQLITE_OK)
		return db_fail(s, rc, sql);
	*v = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		if (txt != NULL && txtlen > 0) {
			t = sqlite3_column_text(st, 0);
			(void)snprintf(txt, txtlen, "%s",
			    t != NULL ? (const char *)t : "");
		}
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE) {
		rc = db_fail(s, rc, sql);
		(void)sqlite3_finalize(st);	/* error already taken */
		return rc;
	}
	if ((rc = sqlite3_finalize(st)) != SQLITE_OK)
		return db_fail(s, rc, sql);
	return 0;
}

/*
 * Is this database ours?  0 and *version, or KE_CONFIG: not ours, or newer
 * than the code.  A database with no schema objects, application_id 0 and
 * user_version 0 is a new one, ours to set up.
 */
static int
identify(struct store *s, int *version)
{
	int64_t	appid, uv, nobj;
	int	r;

	if ((r = exec_one(s, "PRAGMA application_id", &appid, NULL, 0)) != 0 ||
	    (r = exec_one(s, "PRAGMA user_version", &uv, NULL, 0)) != 0 ||
	    (r = exec_one(s, "SELECT count(*) FROM sqlite_schema", &nobj,
	    NULL, 0)) != 0)
		return r;
	if (appid != STORE_APPLICATION_ID &&
	    (appid != 0 || uv != 0 || nobj != 0))
		return fail(s, KE_CONFIG, "not a keyadm database");
	if (uv < 0 || uv > store_schema_version())
		return fail(s, KE_CONFIG, "database schema version %jd "
		    "is newer than this keyadm (%d)", (intmax_t)uv,
		    store_schema_version());
	*version = (int)uv;
	return 0;
}

static int
exec_sql(struct store *s, const char *sql, const char *what)
{
	int	rc;

	if ((rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return db_fail(s, rc, what);
	return 0;
}

/* Connection settings; WAL only for a writer, it writes the header. */
static int
set_pragmas(struct store *s)
{
	char	mode[16];
	int64_t	v;
	int	r;

	if ((r = exec_sql(s, "PRAGMA foreign_keys = ON", "pragma")) != 0 ||
	    (r = exec_one(s, "PRAGMA foreign_keys", &v, NULL, 0)) != 0)
		return r;
	if (v != 1)
		return fail(s, KE_INTERNAL, "cannot enable foreign keys");
	if (s->readonly)
		return 0;
	if ((r = exec_one(s, "PRAGMA journal_mode = WAL", &v, mode,
	    sizeof(mode))) != 0)
		return r;
	if (strcmp(mode, "wal") != 0)
		return fail(s, KE_INTERNAL, "cannot use WAL (journal mode "
		    "%s)", mode);
	/* the -wal stays (PERSIST_WAL): empty it at each checkpoint */
	if ((r = exec_one(s, "PRAGMA journal_size_limit = 0", &v, NULL,
	    0)) != 0)
		return r;
	/* savepoints journal in memory: no temporary file, no write */
	if ((r = exec_sql(s, "PRAGMA temp_store = MEMORY", "pragma")) != 0 ||
	    (r = exec_sql(s, "PRAGMA cache_size = -16384", "pragma")) != 0)
		return r;
	return exec_sql(s, "PRAGMA synchronous = FULL", "synchronous");
}

/*
 * One migration step in its own transaction.  The version is read again
 * under the write lock: another process may have migrated meanwhile.
 * Pragmas take no bound values; the numbers are ours, not input.
 */
static int
migrate_step(struct store *s, int *done)
{
	const struct migration	*m;
	char			 sql[128];
	int			 r, v;

	*done = 0;
	if ((r = exec_sql(s, "BEGIN IMMEDIATE", "begin")) != 0)
		return r;
	if ((r = identify(s, &v)) != 0)
		goto out;
	if (v == store_schema_version()) {
		*done = 1;
		if ((r = exec_sql(s, "COMMIT", "commit")) == 0)
			return 0;
		goto out;
	}
	m = &migrations[v];
	(void)snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; "
	    "PRAGMA user_version = %d", STORE_APPLICATION_ID, m->version);
	if ((r = exec_sql(s, m->sql, m->name)) == 0 &&
	    (r = exec_sql(s, sql, m->name)) == 0 &&
	    (r = exec_sql(s, "COMMIT", "commit")) == 0)
		return 0;
 out:
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* Bring the schema up to date, or refuse (read-only). */
static int
migrate(struct store *s)
{
	int	r, v, done;

	/* Before anything writes: a file that is not ours stays untouched. */
	if ((r = identify(s, &v)) != 0)
		return r;
	if (v < store_schema_version() && (s->flags & STORE_NOMIGRATE))
		return fail(s, KE_CONFIG, "database schema version %d is "
		    "older than this code (%d); run keyadm as root to "
		    "upgrade it", v, store_schema_version());
	/*
	 * Version 0 is a store whose first run was cut off before its first
	 * migration committed.  Readers never write; as root, telling the
	 * reader to run as root would not help: name what does.
	 */
	if (v == 0 && s->readonly)
		return fail(s, KE_CONFIG, "the store was never set up (its "
		    "first run did not finish); %s sets it up",
		    geteuid() == 0 ? "the next add or import" :
		    "the next add or import as root");
	if (v < store_schema_version() && s->readonly)
		return fail(s, KE_CONFIG, "database schema version %d is "
		    "older than this keyadm (%d); %s upgrades it", v,
		    store_schema_version(), geteuid() == 0 ?
		    "the next command that changes keys" :
		    "running keyadm as root");
	if ((r = set_pragmas(s)) != 0)
		return r;
	for (done = v == store_schema_version(); !done;)
		if ((r = migrate_step(s, &done)) != 0)
			return r;
	return 0;
}

static int
prepare_all(struct store *s)
{
	int	i, rc;

	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
		if (rc != SQLITE_OK)
			return db_fail(s, rc, "prepare");
	}
	return 0;
}

/*
 * Hold the database directory's flock while the file is checked, opened,
 * identified and migrated: a process that finds the file while another is
 * still creating it would read a half-made schema ("not a keyadm
 * database"), or meet a lock SQLite does not wait for (the switch to WAL).
 * Only making the store needs it exclusive (must_make); everything else,
 * migrations included (each one a transaction that looks at the version
 * again), is safe under a shared lock, which a stream of other openers
 * cannot starve: sshd runs "keyadm authorized-keys" for each key an
 * unauthenticated client offers, and the PAM module must not time out
 * behind them.  Polls without signals, so that a library user such as the
 * PAM module is never disturbed; it is held for milliseconds.
 */
static int
lock_dbdir(struct store *s, int dirfd, int shared, int busy_ms)
{
	struct timespec	start, now, nap = { 0, OPEN_LOCK_NAP_MS * 1000000L };
	long		waited;

	if (clock_gettime(CLOCK_MONOTONIC, &start) == -1)
		return fail(s, KE_INTERNAL, "clock: %s", strerror(errno));
	if (busy_ms < 0)
		busy_ms = STORE_BUSY_MS;
	for (;;) {
		if (flock(dirfd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return fail(s, KE_IO, "cannot lock its directory: %s",
			    strerror(errno));
		if (clock_gettime(CLOCK_MONOTONIC, &now) == -1)
			return fail(s, KE_INTERNAL, "clock: %s",
			    strerror(errno));
		waited = (long)(now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= busy_ms)
			return fail(s, KE_BUSY, "being created or upgraded by "
			    "another process; try again");
		(void)nanosleep(&nap, NULL);
	}
}

/*
 * Would this open make the store (create the file, or set up one whose
 * first run was cut short at 0 bytes)?  Then it needs the lock exclusive.
 */
static int
must_make(const struct store *s, int dirfd, const char *name)
{
	struct stat	st;

	if (s->readonly || (s->flags & STORE_NOMIGRATE))
		return 0;	/* never makes anything */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT && (s->flags & STORE_CREATE);
	return S_ISREG(st.st_mode) && st.st_size == 0;
}

/* The directory's flock: shared, exclusive when the store is to be made. */
static int
lock_for_open(struct store *s, int dirfd, const char *name, int busy_ms)
{
	int	r;

	if ((r = lock_dbdir(s, dirfd, !must_make(s, dirfd, name),
	    busy_ms)) != 0)
		return r;
	/* made meanwhile by another or not: look again under the lock */
	if (must_make(s, dirfd, name))
		return lock_dbdir(s, dirfd, 0, busy_ms);
	return 0;
}

int
store_open(int rootfd, const char *dispprefix, const char *dbpath,
    int flags, int busy_ms, struct store **out, char *msg, size_t msglen)
{
	return store_open_shared(rootfd, dispprefix, dbpath, flags, busy_ms,
	    -1, out, msg, msglen);
}

int
store_open_shared(int rootfd, const char *dispprefix, const char *dbpath,
    int flags, int busy_ms, long gid, struct store **out, char *msg,
    size_t msglen)
{
	struct open_args	 a = { rootfd, dispprefix ? dispprefix : "",
				    dbpath, flags, busy_ms, gid };
	struct store		*s;
	struct stat		 st;
	const char		*name;
	int			 r, dirfd = -1;

	*out = NULL;
	if (msglen > 0)
		msg[0] = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		if (msglen > 0)
			(void)snprintf(msg, msglen, "%s: %s", dbpath,
			    strerror(errno));
		return KE_NOMEM;
	}
	s->readonly = (flags & STORE_READONLY) != 0;
	s->flags = flags;
	if ((r = path_ok(s, &a)) == 0 &&
	    (r = walk_dirs(s, &a, &dirfd, &name)) == 0 &&
	    (r = lock_for_open(s, dirfd, name, busy_ms)) == 0 &&
	    (r = check_dbfile(s, &a, dirfd, name, &st)) == 0 &&
	    (r = share_files(s, &a, dirfd, name)) == 0 &&
	    /* again: st must describe the file as SQLite will find it */
	    (r = check_dbfile(s, &a, dirfd, name, &st)) == 0 &&
	    (r = open_db(s, &a, dirfd, name, &st)) == 0 &&
	    (r = migrate(s)) == 0)
		r = prepare_all(s);
	if (dirfd != -1)
		(void)close(dirfd);	/* and with it the flock */
	if (r != 0) {
		if (msglen > 0)
			(void)snprintf(msg, msglen, "%s%s%s", s->errobj ? "" :
			    s->path, s->errobj ? "" : ": ", s->errmsg);
		store_close(s);
		return r;
	}
	*out = s;
	return 0;
}

void
store_close(struct store *s)
{
	int	i;

	if (s == NULL)
		return;
	pend_drop(s);		/* never committed: an open one rolls back */
	free(s->pend);
	for (i = 0; i < ST_COUNT; i++)
		(void)sqlite3_finalize(s->st[i]);	/* NULL is a no-op */
	/* Only fails with unfinalized statements, and there are none. */
	(void)sqlite3_close(s->db);
	free(s);
}

/* After every use: release the statement's locks and bound pointers. */
static void
stmt_done(sqlite3_stmt *st)
{
	/* Both only repeat the last step's result, which was handled. */
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
}

/* Step st: 1 for a row, 0 when done, or a negative error. */
static int
step(struct store *s, sqlite3_stmt *st, const char *what)
{
	int	rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(s, rc, what);
}

/* Bind text, or NULL for a NULL pointer; valid until stmt_done. */
static int
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* A time where 0 means never, stored as NULL. */
static int
bind_time(sqlite3_stmt *st, int i, int64_t v)
{
	if (v == 0)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_int64(st, i, v);
}

static int
bind_fail(struct store *s, sqlite3_stmt *st)
{
	int	r;

	r = db_fail(s, sqlite3_errcode(s->db), "bind");
	stmt_done(st);
	return r;
}

/* Run a statement that returns no rows. */
static int
run(struct store *s, enum stmt id, const char *what)
{
	int	r;

	r = step(s, s->st[id], what);
	stmt_done(s->st[id]);
	return r < 0 ? r : 0;
}

/*
 * Events for the hook (see store_set_event_hook): each one appended in an
 * open transaction is copied into s->pend before it is inserted, so that
 * running out of memory fails the append and never loses a row; the copy
 * counts (npend) once the insert has succeeded.
 */
static void
pend_drop(struct store *s)
{
	size_t	i;

	for (i = 0; i < s->npend; i++)
		free(s->pend[i].buf);
	s->npend = 0;
}

/* Copy src to *cur, advancing it; NULL stays NULL. */
static const char *
pend_str(char **cur, const char *src)
{
	char	*p = *cur;
	size_t	 n;

	if (src == NULL)
		return NULL;
	n = strlen(src) + 1;
	memcpy(p, src, n);
	*cur = p + n;
	return p;
}

/* Room for a copy of e in s->pend[s->npend], not yet counted. */
static int
pend_reserve(struct store *s, const struct store_event *e)
{
	const char		*f[5] = { e->actor, e->action, e->user,
				    e->fingerprint, e->detail };
	struct store_event_row	*row;
	struct pending		*np;
	size_t			 i, n, total = HASH_HEX_LEN + 1;
	char			*cur;

	for (i = 0; i < 5; i++) {
		n = f[i] != NULL ? strlen(f[i]) + 1 : 0;
		if (n > SIZE_MAX - total)
			return fail(s, KE_NOMEM, "event: too long");
		total += n;
	}
	if (s->npend == s->pendcap) {
		n = s->pendcap == 0 ? 16 : s->pendcap;
		if (n > SIZE_MAX / 2 / sizeof(*np) || (np = reallocarray(
		    s->pend, n * 2, sizeof(*np))) == NULL)
			return fail(s, KE_NOMEM, "event: out of memory");
		s->pend = np;
		s->pendcap = n * 2;
	}
	if ((cur = malloc(total)) == NULL)
		return fail(s, KE_NOMEM, "event: out of memory");
	s->pend[s->npend].buf = cur;
	row = &s->pend[s->npend].row;
	memset(row, 0, sizeof(*row));
	row->hash = cur;
	cur += HASH_HEX_LEN + 1;
	row->at = e->at;
	row->actor_uid = e->actor_uid;
	row->actor = pend_str(&cur, e->actor);
	row->action = pend_str(&cur, e->action);
	row->user = pend_str(&cur, e->user);
	row->fingerprint = pend_str(&cur, e->fingerprint);
	row->detail = pend_str(&cur, e->detail);
	return 0;
}

/* The reserved copy's row was inserted (keep) or not. */
static void
pend_settle(struct store *s, int keep, int64_t id,
    const char hash[HASH_HEX_LEN + 1])
{
	struct pending	*p = &s->pend[s->npend];

	if (!keep) {
		free(p->buf);
		p->buf = NULL;
		return;
	}
	p->row.id = id;
	memcpy(p->buf, hash, HASH_HEX_LEN + 1);	/* row.hash is buf */
	s->npend++;
}

/* After a commit: the hook sees every kept event, in order. */
static void
pend_flush(struct store *s)
{
	struct pending	*p = s->pend;
	size_t		 i, n = s->npend;

	/* Detached first: the hook may not use s, but must not break it. */
	s->pend = NULL;
	s->npend = 0;
	s->pendcap = 0;
	for (i = 0; i < n; i++) {
		if (s->hook != NULL)
			s->hook(&p[i].row, s->hook_arg);
		free(p[i].buf);
	}
	free(p);
}

void
store_set_event_hook(struct store *s, store_event_hook fn, void *arg)
{
	s->hook = fn;
	s->hook_arg = arg;
}

/* Nothing kept can be from an open transaction: there was none. */
int
store_begin(struct store *s)
{
	int	r;

	if ((r = run(s, ST_BEGIN, "begin")) == 0)
		pend_drop(s);
	return r;
}

/*
 * A failed COMMIT that leaves the transaction open keeps the events: a
 * later store_commit may still succeed, and store_rollback forgets them.
 */
int
store_commit(struct store *s)
{
	int	r;

	if ((r = run(s, ST_COMMIT, "commit")) == 0)
		pend_flush(s);
	else if (sqlite3_get_autocommit(s->db))
		pend_drop(s);
	return r;
}

int
store_rollback(struct store *s)
{
	int	r;

	/*
	 * SQLite rolls back by itself after some errors (a full disk at
	 * COMMIT): there is nothing left to do, and running ROLLBACK would
	 * replace the error that matters with "no transaction is active".
	 */
	r = sqlite3_get_autocommit(s->db) ? 0 :
	    run(s, ST_ROLLBACK, "rollback");
	pend_drop(s);
	return r;
}

/* Roll back after an error, keeping the first error's message. */
static void
rollback_quiet(struct store *s)
{
	char	saved[STORE_MSG_MAX];

	if (sqlite3_get_autocommit(s->db)) {
		pend_drop(s);
		return;		/* SQLite already rolled back */
	}
	memcpy(saved, s->errmsg, sizeof(saved));
	/* The first error is the one to report. */
	(void)store_rollback(s);
	memcpy(s->errmsg, saved, sizeof(saved));
}

int
store_schema_version(void)
{
	return (int)migrations_count;
}

/* The open database's user_version, or a negative error. */
int
store_db_version(struct store *s)
{
	sqlite3_stmt	*st = s->st[ST_USER_VERSION];
	int64_t		 v = -1;
	int		 r;

	if ((r = step(s, st, "user_version")) == 1)
		v = sqlite3_column_int64(st, 0);
	stmt_done(st);
	if (r < 0)
		return r;
	if (v < 0 || v > INT_MAX)
		return fail(s, KE_INTERNAL, "bad user_version");
	return (int)v;
}

/* Id of the key with k's fingerprint; its stored blob must be k's. */
static int
key_find(struct store *s, const struct store_key *k, int64_t *key_id)
{
	sqlite3_stmt		*st = s->st[ST_KEY_FIND];
	const unsigned char	*b64;
	int			 r;

	if (bind_text(st, 1, k->fingerprint) != SQLITE_OK)
		return bind_fail(s, st);
	if ((r = step(s, st, "find key")) == 0)
		r = fail(s, KE_INTERNAL, "key %s vanished",
		    k->fingerprint);
	if (r == 1) {
		b64 = sqlite3_column_text(st, 1);
		if (b64 == NULL || strcmp((const char *)b64, k->b64) != 0)
			r = fail(s, KE_INTERNAL, "key %s: stored blob "
			    "differs", k->fingerprint);
		else {
			*key_id = sqlite3_column_int64(st, 0);
			r = 0;
		}
	}
	stmt_done(st);
	return r;
}

int
store_key_upsert(struct store *s, const struct store_key *k, int64_t now,
    int64_t *key_id)
{
	sqlite3_stmt	*st = s->st[ST_KEY_INSERT];
	int		 r;

	*key_id = 0;
	if (k->fingerprint == NULL || k->type == NULL || k->b64 == NULL)
		return fail(s, KE_INTERNAL, "key without fingerprint, "
		    "type or blob");
	if (bind_text(st, 1, k->fingerprint) != SQLITE_OK ||
	    bind_text(st, 2, k->type) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, k->bits) != SQLITE_OK ||
	    bind_text(st, 4, k->b64) != SQLITE_OK ||
	    bind_text(st, 5, k->comment) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, now) != SQLITE_OK)
		return bind_fail(s, st);
	r = step(s, st, "insert key");
	stmt_done(st);
	if (r < 0)
		return r;
	return key_find(s, k, key_id);
}

int
store_grant_find_active(struct store *s, const char *user, int64_t key_id,
    int64_t *grant_id)
{
	sqlite3_stmt	*st = s->st[ST_GRANT_FIND_ACTIVE];
	int		 r;

	*grant_id = 0;
	if (bind_text(st, 1, user) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, key_id) != SQLITE_OK)
		return bind_fail(s, st);
	if ((r = step(s, st, "find grant")) == 1) {
		*grant_id = sqlite3_column_int64(st, 0);
		r = 0;
	} else if (r == 0)
		r = 1;
	stmt_done(st);
	return r;
}

int
store_grant_add(struct store *s, const struct store_grant_new *g,
    int64_t now, int64_t *grant_id)
{
	sqlite3_stmt	*st = s->st[ST_GRANT_ADD];
	int		 r;

	*grant_id = 0;
	if (g->user == NULL || g->added_by == NULL)
		return fail(s, KE_INTERNAL, "grant without user or actor");
	if (sqlite3_bind_int64(st, 1, g->key_id) != SQLITE_OK ||
	    bind_text(st, 2, g->user) != SQLITE_OK ||
	    bind_text(st, 3, g->options) != SQLITE_OK ||
	    bind_time(st, 4, g->expires_at) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, now) != SQLITE_OK ||
	    bind_text(st, 6, g->added_by) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, g->added_uid) != SQLITE_OK ||
	    bind_text(st, 8, g->reason) != SQLITE_OK ||
	    bind_text(st, 9, g->path) != SQLITE_OK)
		return bind_fail(s, st);
	if ((r = step(s, st, "add grant")) == 0)
		*grant_id = sqlite3_last_insert_rowid(s->db);
	stmt_done(st);
	return r < 0 ? r : 0;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* One row of GRANT_COLUMNS; the strings live until the next step. */
static int
grant_from_row(struct store *s, sqlite3_stmt *st, struct store_grant *g)
{
	g->id = sqlite3_column_int64(st, 0);
	g->user = col_text(st, 1);
	g->fingerprint = col_text(st, 2);
	g->type = col_text(st, 3);
	g->bits = (unsigned int)sqlite3_column_int64(st, 4);
	g->b64 = col_text(st, 5);
	g->comment = col_text(st, 6);
	g->options = col_text(st, 7);
	g->status = col_text(st, 8);
	g->added_at = sqlite3_column_int64(st, 9);
	g->added_by = col_text(st, 10);
	g->added_uid = (long)sqlite3_column_int64(st, 11);
	g->reason = col_text(st, 12);
	g->expires_at = sqlite3_column_int64(st, 13);	/* NULL is 0 */
	g->last_used_at = sqlite3_column_int64(st, 14);
	g->path = col_text(st, 15);
	g->last_used_from = col_text(st, 16);
	g->use_count = sqlite3_column_int64(st, 17);
	g->listed = sqlite3_column_int64(st, 18) != 0;
	/* NOT NULL columns come back NULL only when memory ran out. */
	if (g->user == NULL || g->fingerprint == NULL || g->type == NULL ||
	    g->b64 == NULL || g->status == NULL || g->added_by == NULL)
		return fail(s, KE_NOMEM, "list grants: out of memory");
	return 0;
}

int
store_grants_list(struct store *s, const char *user, const char *status,
    store_grant_cb cb, void *arg)
{
	struct store_grant_query	q;

	memset(&q, 0, sizeof(q));
	q.user = user;
	q.status = status;
	return store_grants_find(s, &q, cb, arg);
}

/* The statement for q, bound; NULL (and KE_INTERNAL) if unsupported. */
static sqlite3_stmt *
grants_stmt(struct store *s, const struct store_grant_query *q, int *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	*err = 0;
	if (q->id > 0 && q->fingerprint == NULL && q->user == NULL &&
	    q->status == NULL && q->expired_by <= 0) {
		st = s->st[ST_GRANT_BY_ID];
		rc = sqlite3_bind_int64(st, 1, q->id);
	} else if (q->id > 0) {
		*err = fail(s, KE_INTERNAL, "unsupported grant query");
		return NULL;
	} else if (q->fingerprint != NULL && q->expired_by <= 0) {
		st = s->st[ST_GRANTS_KEY];
		if ((rc = bind_text(st, 1, q->fingerprint)) == SQLITE_OK &&
		    (rc = bind_text(st, 2, q->user)) == SQLITE_OK)
			rc = bind_text(st, 3, q->status);
	} else if (q->expired_by > 0 && q->fingerprint == NULL &&
	    q->status == NULL) {
		st = s->st[ST_GRANTS_EXPIRED];
		if ((rc = sqlite3_bind_int64(st, 1, q->expired_by)) ==
		    SQLITE_OK)
			rc = bind_text(st, 2, q->user);
	} else if (q->expired_by <= 0 && q->fingerprint == NULL) {
		st = s->st[q->user != NULL ? ST_GRANTS_USER : ST_GRANTS_ALL];
		if ((rc = bind_text(st, 1, q->user)) == SQLITE_OK)
			rc = bind_text(st, 2, q->status);
	} else {
		*err = fail(s, KE_INTERNAL, "unsupported grant query");
		return NULL;
	}
	if (rc != SQLITE_OK) {
		*err = bind_fail(s, st);
		return NULL;
	}
	return st;
}

int
store_grants_find(struct store *s, const struct store_grant_query *q,
    store_grant_cb cb, void *arg)
{
	sqlite3_stmt		*st;
	struct store_grant	 g;
	int			 r;

	if ((st = grants_stmt(s, q, &r)) == NULL)
		return r;
	while ((r = step(s, st, "find grants")) == 1) {
		memset(&g, 0, sizeof(g));
		if ((r = grant_from_row(s, st, &g)) != 0 ||
		    (r = cb(&g, arg)) != 0)
			break;
	}
	stmt_done(st);
	return r;
}

/* Run an UPDATE or DELETE: 0 when it changed a row, 1 when none. */
static int
run_change(struct store *s, sqlite3_stmt *st, const char *what)
{
	int	r;

	r = step(s, st, what);
	stmt_done(st);
	if (r < 0)
		return r;
	return sqlite3_changes(s->db) > 0 ? 0 : 1;
}

int
store_grant_close(struct store *s, int64_t grant_id, const char *status,
    int64_t now, const char *by, const char *reason)
{
	sqlite3_stmt	*st = s->st[status != NULL &&
			    strcmp(status, "expired") == 0 ? ST_GRANT_EXPIRE :
			    ST_GRANT_CLOSE];

	if (status == NULL || by == NULL || (strcmp(status, "revoked") != 0 &&
	    strcmp(status, "expired") != 0 && strcmp(status, "removed") != 0))
		return fail(s, KE_INTERNAL, "bad status to close a grant");
	if (sqlite3_bind_int64(st, 1, grant_id) != SQLITE_OK ||
	    bind_text(st, 2, status) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, now) != SQLITE_OK ||
	    bind_text(st, 4, by) != SQLITE_OK ||
	    bind_text(st, 5, reason) != SQLITE_OK)
		return bind_fail(s, st);
	return run_change(s, st, "close grant");
}

int
store_grant_set_options(struct store *s, int64_t grant_id,
    const char *options, int64_t expires_at)
{
	sqlite3_stmt	*st = s->st[ST_GRANT_OPTIONS];

	if (sqlite3_bind_int64(st, 1, grant_id) != SQLITE_OK ||
	    bind_text(st, 2, options) != SQLITE_OK ||
	    bind_time(st, 3, expires_at) != SQLITE_OK)
		return bind_fail(s, st);
	return run_change(s, st, "update grant");
}

int
store_grant_last_status(struct store *s, const char *user, int64_t key_id,
    char *status, size_t statuslen)
{
	sqlite3_stmt	*st = s->st[ST_GRANT_LAST];
	const char	*v;
	int		 r;

	if (bind_text(st, 1, user) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, key_id) != SQLITE_OK)
		return bind_fail(s, st);
	if ((r = step(s, st, "last grant")) == 1) {
		v = col_text(st, 0);
		if (v == NULL || strlen(v) >= statuslen)
			r = fail(s, KE_INTERNAL, "last grant: bad status");
		else {
			memcpy(status, v, strlen(v) + 1);
			r = 0;
		}
	} else if (r == 0)
		r = 1;
	stmt_done(st);
	return r;
}

int
store_key_get(struct store *s, const char *fingerprint, store_key_cb cb,
    void *arg)
{
	sqlite3_stmt		*st = s->st[ST_KEY_GET];
	struct store_keyrow	 k;
	int			 r;

	if (bind_text(st, 1, fingerprint) != SQLITE_OK)
		return bind_fail(s, st);
	if ((r = step(s, st, "get key")) == 1) {
		memset(&k, 0, sizeof(k));
		k.id = sqlite3_column_int64(st, 0);
		k.fingerprint = col_text(st, 1);
		k.type = col_text(st, 2);
		k.bits = (unsigned int)sqlite3_column_int64(st, 3);
		k.b64 = col_text(st, 4);
		k.comment = col_text(st, 5);
		k.first_seen = sqlite3_column_int64(st, 6);
		k.revoked_at = sqlite3_column_int64(st, 7);
		if (k.fingerprint == NULL || k.type == NULL || k.b64 == NULL)
			r = fail(s, KE_NOMEM, "get key: out of memory");
		else
			r = cb(&k, arg);
	} else if (r == 0)
		r = 1;
	stmt_done(st);
	return r;
}

int
store_revocation_add(struct store *s, int64_t key_id, int64_t now,
    const char *by, long uid, const char *reason)
{
	sqlite3_stmt	*st = s->st[ST_REVOKE_ADD];

	if (by == NULL || reason == NULL)
		return fail(s, KE_INTERNAL, "revocation without actor or "
		    "reason");
	if (sqlite3_bind_int64(st, 1, key_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now) != SQLITE_OK ||
	    bind_text(st, 3, by) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, uid) != SQLITE_OK ||
	    bind_text(st, 5, reason) != SQLITE_OK)
		return bind_fail(s, st);
	return run_change(s, st, "add revocation");
}

int
store_revocation_remove(struct store *s, int64_t key_id)
{
	sqlite3_stmt	*st = s->st[ST_REVOKE_DEL];

	if (sqlite3_bind_int64(st, 1, key_id) != SQLITE_OK)
		return bind_fail(s, st);
	return run_change(s, st, "remove revocation");
}

const char *
store_errmsg(struct store *s)
{
	if (s == NULL)
		return "no store";
	if (s->errmsg[0] == '\0' && s->db != NULL)
		return sqlite3_errmsg(s->db);
	return s->errmsg;
}

/*
 * Event hash, format version 1.  keyadm verify recomputes it.
 *
 *   hash = lowercase hex of SHA-256 over
 *	"keyadm-event-v1" 0x00
 *	F(prev_hash) F(at) F(actor) F(actor_uid) F(action) F(user)
 *	F(fingerprint) F(detail)
 *   where F of
 *	SQL NULL	is 'N' (0x4e)
 *	an integer	is 'I' then 8 bytes: the value, two's complement,
 *			big-endian
 *	text		is 'T' then 8 bytes: its length in bytes, big-endian,
 *			then the bytes (UTF-8 as stored; no terminator)
 *   and prev_hash is the stored hash of the row before, by id, or 64 '0'
 *   for the first row.
 *
 * Every field announces its own type and length, so no two different rows
 * serialise alike: moving bytes between fields, or NULL against "", changes
 * the hash.
 */
struct htext {
	const char	*p;	/* NULL: SQL NULL */
	size_t		 n;
};

struct ev_fields {
	struct htext	 prev_hash;
	int64_t		 at;
	struct htext	 actor;
	int64_t		 actor_uid;
	struct htext	 action;
	struct htext	 user;
	struct htext	 fingerprint;
	struct htext	 detail;
};

static struct htext
htext(const char *p)
{
	struct htext	t = { p, p != NULL ? strlen(p) : 0 };

	return t;
}

static void
put_be64(unsigned char *b, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static int
hash_int(EVP_MD_CTX *c, int64_t v)
{
	unsigned char	b[9];

	b[0] = 'I';
	put_be64(b + 1, (uint64_t)v);
	return EVP_DigestUpdate(c, b, sizeof(b));
}

static int
hash_text(EVP_MD_CTX *c, struct htext t)
{
	unsigned char	b[9];

	if (t.p == NULL)
		return EVP_DigestUpdate(c, "N", 1);
	b[0] = 'T';
	put_be64(b + 1, (uint64_t)t.n);
	return EVP_DigestUpdate(c, b, sizeof(b)) &&
	    EVP_DigestUpdate(c, t.p, t.n);
}

/* hex gets the 64 hex digits of the event's hash and a NUL. */
static int
event_hash(struct store *s, const struct ev_fields *f,
    char hex[HASH_HEX_LEN + 1])
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	EVP_MD_CTX		*c;
	int			 ok;

	if ((c = EVP_MD_CTX_new()) == NULL)
		return fail(s, KE_NOMEM, "event hash: out of memory");
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(c, EVENT_HASH_TAG, sizeof(EVENT_HASH_TAG)) &&
	    hash_text(c, f->prev_hash) && hash_int(c, f->at) &&
	    hash_text(c, f->actor) && hash_int(c, f->actor_uid) &&
	    hash_text(c, f->action) && hash_text(c, f->user) &&
	    hash_text(c, f->fingerprint) && hash_text(c, f->detail) &&
	    EVP_DigestFinal_ex(c, md, &mdlen) && mdlen * 2 == HASH_HEX_LEN;
	EVP_MD_CTX_free(c);
	if (!ok)
		return fail(s, KE_INTERNAL, "event hash: SHA-256 failed");
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[HASH_HEX_LEN] = '\0';
	return 0;
}

/* The hash of the last event, or 64 '0' when there is none. */
static int
last_hash(struct store *s, char prev[HASH_HEX_LEN + 1])
{
	sqlite3_stmt	*st = s->st[ST_EVENT_LAST];
	const char	*h;
	int		 r;

	memset(prev, '0', HASH_HEX_LEN);
	prev[HASH_HEX_LEN] = '\0';
	if ((r = step(s, st, "read last event")) == 1) {
		h = col_text(st, 0);
		if (h == NULL || strlen(h) != HASH_HEX_LEN)
			r = fail(s, KE_INTERNAL, "last event has no hash");
		else {
			memcpy(prev, h, HASH_HEX_LEN);
			r = 0;
		}
	}
	stmt_done(st);
	return r;
}

/*
 * Inside a write transaction: chain e to the last event and insert it;
 * *id and hash get the new row's.
 */
static int
event_insert(struct store *s, const struct store_event *e, int64_t *id,
    char hash[HASH_HEX_LEN + 1])
{
	sqlite3_stmt		*st = s->st[ST_EVENT_ADD];
	struct ev_fields	 f;
	char			 prev[HASH_HEX_LEN + 1];
	int			 r;

	if ((r = last_hash(s, prev)) != 0)
		return r;
	f.prev_hash = htext(prev);
	f.at = e->at;
	f.actor = htext(e->actor);
	f.actor_uid = e->actor_uid;
	f.action = htext(e->action);
	f.user = htext(e->user);
	f.fingerprint = htext(e->fingerprint);
	f.detail = htext(e->detail);
	if ((r = event_hash(s, &f, hash)) != 0)
		return r;
	if (sqlite3_bind_int64(st, 1, e->at) != SQLITE_OK ||
	    bind_text(st, 2, e->actor) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, e->actor_uid) != SQLITE_OK ||
	    bind_text(st, 4, e->action) != SQLITE_OK ||
	    bind_text(st, 5, e->user) != SQLITE_OK ||
	    bind_text(st, 6, e->fingerprint) != SQLITE_OK ||
	    bind_text(st, 7, e->detail) != SQLITE_OK ||
	    bind_text(st, 8, prev) != SQLITE_OK ||
	    bind_text(st, 9, hash) != SQLITE_OK)
		return bind_fail(s, st);
	if ((r = step(s, st, "append event")) == 0)
		*id = sqlite3_last_insert_rowid(s->db);
	stmt_done(st);
	return r < 0 ? r : 0;
}

/* The hook, right after the append's own commit: e is still the caller's. */
static void
hook_now(struct store *s, const struct store_event *e, int64_t id,
    const char *hash)
{
	struct store_event_row	row;

	if (s->hook == NULL)
		return;
	row.id = id;
	row.at = e->at;
	row.actor = e->actor;
	row.actor_uid = e->actor_uid;
	row.action = e->action;
	row.user = e->user;
	row.fingerprint = e->fingerprint;
	row.detail = e->detail;
	row.hash = hash;
	s->hook(&row, s->hook_arg);
}

/*
 * Append e.  Inside the caller's transaction if there is one (kept for
 * the hook until store_commit), else in a transaction of its own, so that
 * reading the last hash and appending are one step.
 */
int
store_event_append(struct store *s, const struct store_event *e)
{
	char	hash[HASH_HEX_LEN + 1];
	int64_t	id = 0;
	int	own, keep, r;

	if (e->actor == NULL || e->action == NULL)
		return fail(s, KE_INTERNAL, "event without actor or "
		    "action");
	own = sqlite3_get_autocommit(s->db);
	keep = !own && s->hook != NULL;
	/* the copy first: no memory, no row */
	if (keep && (r = pend_reserve(s, e)) != 0)
		return r;
	if (own && (r = store_begin(s)) != 0)
		return r;
	r = event_insert(s, e, &id, hash);
	if (keep)
		pend_settle(s, r == 0, id, hash);
	if (!own)
		return r;
	if (r == 0 && (r = store_commit(s)) == 0) {
		hook_now(s, e, id, hash);
		return 0;
	}
	rollback_quiet(s);
	return r;
}

static struct htext
col_htext(sqlite3_stmt *st, int i)
{
	struct htext	t = { NULL, 0 };

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return t;
	t.p = col_text(st, i);		/* text first, then its length */
	t.n = (size_t)sqlite3_column_bytes(st, i);
	if (t.p == NULL)
		t.p = "";		/* only under memory pressure */
	return t;
}

/*
 * One row of ST_EVENT_ALL, the one after out->checked intact rows: is it
 * chained to out->last_hash, is its hash right, is its id the next one?
 * KE_FINDINGS with out->bad_id and out->problem set, or 0 and
 * out->last_hash its hash.
 */
static int
event_check(struct store *s, sqlite3_stmt *st, struct store_chain *out)
{
	struct ev_fields	 f;
	char			 hash[HASH_HEX_LEN + 1];
	const char		*stored;
	int64_t			 id = sqlite3_column_int64(st, 0);
	int			 r;

	f.prev_hash = col_htext(st, 1);
	f.at = sqlite3_column_int64(st, 2);
	f.actor = col_htext(st, 3);
	f.actor_uid = sqlite3_column_int64(st, 4);
	f.action = col_htext(st, 5);
	f.user = col_htext(st, 6);
	f.fingerprint = col_htext(st, 7);
	f.detail = col_htext(st, 8);
	if ((r = event_hash(s, &f, hash)) != 0)
		return r;
	stored = col_text(st, 9);
	if (f.prev_hash.p == NULL || f.prev_hash.n != HASH_HEX_LEN ||
	    memcmp(f.prev_hash.p, out->last_hash, HASH_HEX_LEN) != 0)
		out->problem = STORE_CHAIN_LINK;
	else if (stored == NULL || strcmp(stored, hash) != 0)
		out->problem = STORE_CHAIN_HASH;
	else if (id != out->checked + 1)	/* ids only grow: a gap */
		out->problem = STORE_CHAIN_ID;
	else {
		memcpy(out->last_hash, hash, sizeof(hash));
		return 0;
	}
	out->bad_id = id;
	if (out->problem == STORE_CHAIN_LINK)
		return fail(s, KE_FINDINGS, "event %jd does not follow "
		    "the event before it", (intmax_t)id);
	if (out->problem == STORE_CHAIN_HASH)
		return fail(s, KE_FINDINGS, "event %jd does not match "
		    "its hash", (intmax_t)id);
	if (out->checked == 0)
		return fail(s, KE_FINDINGS, "event %jd: the first id is %jd, "
		    "not 1 (rows removed or renumbered)", (intmax_t)id,
		    (intmax_t)id);
	return fail(s, KE_FINDINGS, "event %jd: ids jump from %jd to %jd "
	    "(rows removed or renumbered)", (intmax_t)id,
	    (intmax_t)out->checked, (intmax_t)id);
}

/* Walk the chain: out->checked, last_hash, bad_id and problem. */
static int
chain_check(struct store *s, struct store_chain *out)
{
	sqlite3_stmt	*st = s->st[ST_EVENT_ALL];
	int		 r;

	while ((r = step(s, st, "read events")) == 1) {
		/* last_hash changes only when the row is intact */
		if ((r = event_check(s, st, out)) != 0)
			break;
		out->checked++;
	}
	stmt_done(st);
	return r;
}

/* An error of the reference database (not s->db), as ours. */
static int
ref_fail(struct store *s, sqlite3 *ref, int rc, const char *what)
{
	const char	*m = ref != NULL ? sqlite3_errmsg(ref) :
			    sqlite3_errstr(rc);

	if ((rc & 0xff) == SQLITE_NOMEM)
		return fail(s, KE_NOMEM, "%s: out of memory", what);
	return fail(s, KE_INTERNAL, "%s: %s", what, m);
}

/*
 * The schema as the code makes it, to compare with: every migration (the
 * open database has them all: store_open applies them or refuses) run
 * on a new in-memory database, which *out gets (sqlite3_close it).
 */
static int
schema_ref(struct store *s, sqlite3 **out)
{
	sqlite3	*ref = NULL;
	size_t	 i;
	int	 rc, r;

	*out = NULL;
	rc = sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	for (i = 0; rc == SQLITE_OK && i < migrations_count; i++)
		rc = sqlite3_exec(ref, migrations[i].sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = ref_fail(s, ref, rc, "reference schema");
		(void)sqlite3_close(ref);	/* NULL is a no-op */
		return r;
	}
	*out = ref;
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

/*
 * The same SQL text but for whitespace: a run of it equals any other
 * run, and none at either end counts.  SQLite keeps a trigger's text as
 * written; one retyped on a single line is still the same trigger.
 */
static int
sql_same(const char *a, const char *b)
{
	int	wa, wb;

	while (is_space(*a))
		a++;
	while (is_space(*b))
		b++;
	while (*a != '\0' && *b != '\0') {
		if (*a++ != *b++)
			return 0;
		for (wa = 0; is_space(*a); a++)
			wa = 1;
		for (wb = 0; is_space(*b); b++)
			wb = 1;
		if (wa != wb && *a != '\0' && *b != '\0')
			return 0;
	}
	return *a == '\0' && *b == '\0';
}

/* Is the reference's trigger name, whose SQL is want, in s as made? */
static int
trigger_check(struct store *s, const char *name, const char *want,
    enum store_triggers *state)
{
	sqlite3_stmt	*st = s->st[ST_TRIGGER_SQL];
	const char	*have;
	int		 r;

	if (bind_text(st, 1, name) != SQLITE_OK)
		return bind_fail(s, st);
	if ((r = step(s, st, "read triggers")) == 0)
		*state = STORE_TRIGGERS_MISSING;
	else if (r == 1) {
		have = col_text(st, 0);
		if ((have == NULL || !sql_same(have, want)) &&
		    *state == STORE_TRIGGERS_INTACT)
			*state = STORE_TRIGGERS_ALTERED;
		r = 0;
	}
	stmt_done(st);
	return r;
}

/* *n gets the number of triggers in s. */
static int
triggers_count(struct store *s, int64_t *n)
{
	sqlite3_stmt	*st = s->st[ST_TRIGGER_COUNT];
	int		 r;

	if ((r = step(s, st, "count triggers")) == 1) {
		*n = sqlite3_column_int64(st, 0);
		r = 0;
	} else if (r == 0)
		r = fail(s, KE_INTERNAL, "count triggers: no row");
	stmt_done(st);
	return r;
}

/*
 * Each trigger of the reference schema must be in s with the same SQL,
 * and s must have no other: one more could undo them (RAISE(IGNORE)) or
 * rewrite events itself.  A missing one outweighs an altered one.
 */
static int
triggers_check(struct store *s, enum store_triggers *state)
{
	sqlite3		*ref;
	sqlite3_stmt	*want = NULL;
	const char	*name, *sql;
	int64_t		 nref = 0, nhave = 0;
	int		 rc, r = 0;

	*state = STORE_TRIGGERS_INTACT;
	if ((r = schema_ref(s, &ref)) != 0)
		return r;
	rc = sqlite3_prepare_v2(ref, stmt_sql[ST_TRIGGERS], -1, &want,
	    NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(want)) == SQLITE_ROW) {
		nref++;
		name = col_text(want, 0);
		sql = col_text(want, 1);
		if (name == NULL || sql == NULL)
			r = fail(s, KE_NOMEM, "read triggers: out of memory");
		else
			r = trigger_check(s, name, sql, state);
		if (r != 0)
			break;
		rc = SQLITE_OK;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = ref_fail(s, ref, rc, "reference triggers");
	(void)sqlite3_finalize(want);	/* its error, if any, is taken */
	(void)sqlite3_close(ref);
	if (r == 0 && (r = triggers_count(s, &nhave)) == 0 &&
	    nhave != nref && *state == STORE_TRIGGERS_INTACT)
		*state = STORE_TRIGGERS_ALTERED;
	return r;
}

const char *
store_triggers_str(enum store_triggers t)
{
	switch (t) {
	case STORE_TRIGGERS_INTACT:
		return "the append-only triggers are intact";
	case STORE_TRIGGERS_MISSING:
		return "the append-only triggers are gone: the log can be "
		    "edited";
	case STORE_TRIGGERS_ALTERED:
		break;
	}
	return "the append-only triggers were altered: the log can be edited";
}

int
store_verify_chain(struct store *s, struct store_chain *out)
{
	char	saved[STORE_MSG_MAX];
	int	r, rt;

	memset(out, 0, sizeof(*out));
	memset(out->last_hash, '0', HASH_HEX_LEN);
	out->last_hash[HASH_HEX_LEN] = '\0';
	out->problem = STORE_CHAIN_INTACT;
	out->triggers = STORE_TRIGGERS_INTACT;
	if ((r = chain_check(s, out)) != 0 && r != KE_FINDINGS)
		return r;
	/* the triggers even when the chain is broken; its message first */
	memcpy(saved, s->errmsg, sizeof(saved));
	if ((rt = triggers_check(s, &out->triggers)) != 0)
		return rt;
	if (r != 0) {
		memcpy(s->errmsg, saved, sizeof(saved));
		return r;
	}
	if (out->triggers != STORE_TRIGGERS_INTACT)
		return fail(s, KE_FINDINGS, "%s",
		    store_triggers_str(out->triggers));
	return 0;
}

/* One row of EVENT_COLUMNS; the strings live until the next step. */
static int
event_from_row(struct store *s, sqlite3_stmt *st, struct store_event_row *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->at = sqlite3_column_int64(st, 1);
	e->actor = col_text(st, 2);
	e->actor_uid = (long)sqlite3_column_int64(st, 3);
	e->action = col_text(st, 4);
	e->user = col_text(st, 5);
	e->fingerprint = col_text(st, 6);
	e->detail = col_text(st, 7);
	e->hash = col_text(st, 8);
	/* NOT NULL columns come back NULL only when memory ran out. */
	if (e->actor == NULL || e->action == NULL || e->hash == NULL)
		return fail(s, KE_NOMEM, "read events: out of memory");
	return 0;
}

/* A time filter: NULL when there is none. */
static int
bind_since(sqlite3_stmt *st, int i, int64_t since)
{
	if (since <= 0)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_int64(st, i, since);
}

/* The statement for q, bound; NULL on failure (*err set). */
static sqlite3_stmt *
events_stmt(struct store *s, const struct store_event_query *q, int *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	*err = 0;
	if (q->fingerprint != NULL) {
		st = s->st[ST_EVENTS_KEY];
		if ((rc = bind_text(st, 1, q->fingerprint)) == SQLITE_OK &&
		    (rc = bind_text(st, 2, q->user)) == SQLITE_OK)
			rc = bind_since(st, 3, q->since);
	} else if (q->user != NULL) {
		st = s->st[ST_EVENTS_USER];
		if ((rc = bind_text(st, 1, q->user)) == SQLITE_OK)
			rc = bind_since(st, 2, q->since);
	} else {
		st = s->st[ST_EVENTS_ANY];
		rc = bind_since(st, 1, q->since);
	}
	if (rc != SQLITE_OK) {
		*err = bind_fail(s, st);
		return NULL;
	}
	return st;
}

int
store_events_find(struct store *s, const struct store_event_query *q,
    store_event_cb cb, void *arg)
{
	sqlite3_stmt		*st;
	struct store_event_row	 e;
	int			 r;

	if ((st = events_stmt(s, q, &r)) == NULL)
		return r;
	while ((r = step(s, st, "read events")) == 1) {
		memset(&e, 0, sizeof(e));
		if ((r = event_from_row(s, st, &e)) != 0 ||
		    (r = cb(&e, arg)) != 0)
			break;
	}
	stmt_done(st);
	return r;
}

int
store_revocations_each(struct store *s, store_revocation_cb cb, void *arg)
{
	sqlite3_stmt		*st = s->st[ST_REVOCATIONS];
	struct store_revocation	 rv;
	int			 r;

	while ((r = step(s, st, "read revocations")) == 1) {
		memset(&rv, 0, sizeof(rv));
		rv.fingerprint = col_text(st, 0);
		rv.type = col_text(st, 1);
		rv.b64 = col_text(st, 2);
		rv.revoked_at = sqlite3_column_int64(st, 3);
		rv.revoked_by = col_text(st, 4);
		rv.revoked_uid = (long)sqlite3_column_int64(st, 5);
		rv.reason = col_text(st, 6);
		if (rv.fingerprint == NULL || rv.type == NULL ||
		    rv.b64 == NULL || rv.revoked_by == NULL ||
		    rv.reason == NULL) {
			r = fail(s, KE_NOMEM, "read revocations: out of "
			    "memory");
			break;
		}
		if ((r = cb(&rv, arg)) != 0)
			break;
	}
	stmt_done(st);
	return r;
}

int
store_ever_revoked(struct store *s)
{
	sqlite3_stmt	*st = s->st[ST_EVER_REVOKED];
	int		 r;

	if ((r = step(s, st, "read revocations")) == 1)
		r = sqlite3_column_int64(st, 0) != 0;
	else if (r == 0)
		r = fail(s, KE_INTERNAL, "read revocations: no row");
	stmt_done(st);
	return r;
}

int
store_set_busy(struct store *s, int busy_ms)
{
	int	rc;

	if ((rc = sqlite3_busy_timeout(s->db, busy_ms < 0 ? 0 : busy_ms)) !=
	    SQLITE_OK)
		return db_fail(s, rc, "busy timeout");
	return 0;
}

int
store_login_find(struct store *s, const char *user, const char *fingerprint,
    int64_t now, struct store_login *out)
{
	sqlite3_stmt	*st = s->st[ST_LOGIN_KEY];
	const char	*status;
	int64_t		 key_id, expires;
	int		 r;

	memset(out, 0, sizeof(*out));
	if (bind_text(st, 1, fingerprint) != SQLITE_OK)
		return bind_fail(s, st);
	r = step(s, st, "login key");
	key_id = r == 1 ? sqlite3_column_int64(st, 0) : 0;
	out->listed = r == 1 && sqlite3_column_int64(st, 1) != 0;
	stmt_done(st);
	if (r <= 0)
		return r;	/* 0: a key we never saw */
	st = s->st[ST_LOGIN_GRANT];
	if (sqlite3_bind_int64(st, 1, key_id) != SQLITE_OK ||
	    bind_text(st, 2, user) != SQLITE_OK)
		return bind_fail(s, st);
	if ((r = step(s, st, "login grant")) == 1) {
		out->grant_id = sqlite3_column_int64(st, 0);
		status = col_text(st, 1);
		expires = sqlite3_column_int64(st, 2);	/* NULL is 0 */
		if (status == NULL)
			r = fail(s, KE_NOMEM, "login grant: out of memory");
		else if (strcmp(status, "active") == 0)
			out->state = expires != 0 && expires <= now ?
			    STORE_LOGIN_EXPIRED : STORE_LOGIN_ACTIVE;
		else if (strcmp(status, "expired") == 0)
			out->state = STORE_LOGIN_EXPIRED;
		else if (strcmp(status, "revoked") == 0)
			out->state = STORE_LOGIN_REVOKED;
		else
			out->state = STORE_LOGIN_REMOVED;
	}
	stmt_done(st);
	if (r < 0)
		return r;
	if (out->listed)
		out->state = STORE_LOGIN_REVOKED;
	return 0;
}

int
store_grant_used(struct store *s, int64_t grant_id, int64_t at,
    const char *from)
{
	sqlite3_stmt	*st = s->st[ST_GRANT_USED];
	int		 r;

	if (sqlite3_bind_int64(st, 1, grant_id) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, at) != SQLITE_OK ||
	    bind_text(st, 3, from) != SQLITE_OK)
		return bind_fail(s, st);
	r = step(s, st, "record use");
	stmt_done(st);
	if (r < 0)
		return r;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}
