/*
 * test_store.c -- the SQLite audit store (src/store.c).
 *
 * Each test runs in its own process inside a fresh mkdtemp tree used as
 * --root; var/lib exists (0755), var/lib/keyadm does not.  The tests link
 * sqlite3 directly to build foreign or old databases and to tamper.  They
 * pass as root and as an ordinary user.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "err.h"
#include "store.h"

#define DBPATH	"/var/lib/keyadm/keyadm.db"
#define BUSY_MS	300

/*
 * The hash of the first event of event_hash_format_is_stable, computed
 * outside keyadm (Python hashlib) from the format documented in store.c:
 * sha256(b"keyadm-event-v1\0" + T("0"*64) + I(1700000000) + T("root") +
 * I(0) + T("add") + T("alice") + T("SHA256:abc") + b"N").
 */
#define EVENT_V1_VECTOR \
	"5ea71a17550e578b8dd0d949ae11e80d7c8abd32560cfe7806fd51d34e2ef42a"

static char	root[64];	/* a short mkdtemp path */
static int	rootfd = -1;

static void
mkdir_in(const char *rel, mode_t mode)
{
	char	p[PATH_MAX];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	cr_assert_eq(mkdir(p, mode), 0, "mkdir %s: %s", p, strerror(errno));
	cr_assert_eq(chmod(p, mode), 0);
}

static void
setup(void)
{
	snprintf(root, sizeof(root), "/tmp/test_store.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	mkdir_in("/var", 0755);
	mkdir_in("/var/lib", 0755);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(rootfd, 0);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void
teardown(void)
{
	if (rootfd != -1)
		close(rootfd);
	rootfd = -1;
	if (root[0] != '\0')
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	root[0] = '\0';
}

TestSuite(store, .init = setup, .fini = teardown);

static const char *
in_root(const char *rel)
{
	static char	p[PATH_MAX];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	return p;
}

static int
open_store(int flags, struct store **s, char *msg, size_t msglen)
{
	return store_open(rootfd, root, DBPATH, flags, BUSY_MS, s, msg,
	    msglen);
}

static struct store *
must_open(void)
{
	struct store	*s = NULL;
	char		 msg[512];
	int		 r;

	r = open_store(STORE_CREATE, &s, msg, sizeof(msg));
	cr_assert_eq(r, 0, "store_open: %d %s", r, msg);
	cr_assert_not_null(s);
	return s;
}

/* Make the store directory, as STORE_CREATE would. */
static void
make_dbdir(void)
{
	mkdir_in("/var/lib/keyadm", 0700);
}

static sqlite3 *
raw_open(void)
{
	sqlite3	*db = NULL;
	int	 rc;

	rc = sqlite3_open_v2(in_root(DBPATH), &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	cr_assert_eq(rc, SQLITE_OK, "raw open: %s", sqlite3_errstr(rc));
	cr_assert_eq(chmod(in_root(DBPATH), 0600), 0);
	return db;
}

static int
raw_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static void
raw_must(sqlite3 *db, const char *sql)
{
	cr_assert_eq(raw_exec(db, sql), SQLITE_OK, "%s: %s", sql,
	    sqlite3_errmsg(db));
}

static int64_t
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *
read_all(const char *p, size_t *len)
{
	FILE	*f;
	char	*buf;
	long	 n;

	cr_assert_not_null(f = fopen(p, "rb"), "%s: %s", p, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static void
write_file(const char *p, const char *data, size_t len, mode_t mode)
{
	int	fd;

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	cr_assert_geq(fd, 0, "%s: %s", p, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static mode_t
mode_of(const char *rel)
{
	struct stat	st;

	cr_assert_eq(lstat(in_root(rel), &st), 0, "%s: %s", rel,
	    strerror(errno));
	return st.st_mode & 07777;
}

static int64_t
add_key(struct store *s, const char *fp)
{
	struct store_key	k = { fp, "ssh-ed25519", 256, "AAAAblob",
				    "alice@laptop" };
	int64_t			id = 0;

	cr_assert_eq(store_key_upsert(s, &k, 1000, &id), 0, "%s",
	    store_errmsg(s));
	return id;
}

static int64_t
add_grant(struct store *s, const char *user, int64_t key_id)
{
	struct store_grant_new	g = { key_id, user, "restrict", 0, "admin",
				    0, "ticket 1", "/home/x/.ssh/a" };
	int64_t			id = 0;

	cr_assert_eq(store_grant_add(s, &g, 2000, &id), 0, "%s",
	    store_errmsg(s));
	return id;
}

static void
append(struct store *s, const char *actor, const char *action,
    const char *user, const char *detail)
{
	struct store_event	e = { 1700000000, actor, 0, action, user,
				    "SHA256:abc", detail };

	cr_assert_eq(store_event_append(s, &e), 0, "%s", store_errmsg(s));
}

/* --- open, create, reopen ------------------------------------------- */

Test(store, create_and_reopen)
{
	struct store	*s = must_open();
	int64_t		 id1, id2;
	char		 msg[512];

	cr_assert_eq(store_schema_version(), 2);
	cr_assert_eq(store_db_version(s), store_schema_version());
	id1 = add_key(s, "SHA256:one");
	store_close(s);
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), 0, "%s", msg);
	id2 = add_key(s, "SHA256:one");
	cr_assert_eq(id1, id2);
	cr_assert_eq(store_db_version(s), 2);
	store_close(s);
}

Test(store, sets_application_id_wal_and_schema)
{
	struct store	*s = must_open();
	sqlite3		*db;

	store_close(s);
	db = raw_open();
	cr_assert_eq(raw_int(db, "PRAGMA application_id"),
	    STORE_APPLICATION_ID);
	cr_assert_eq(raw_int(db, "PRAGMA user_version"), 2);
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE "
	    "name IN ('keys', 'grants', 'events', 'grants_active', "
	    "'events_no_update', 'events_no_delete')"), 6);
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM pragma_journal_mode "
	    "WHERE journal_mode = 'wal'"), 1);
	/* STRICT: a text in an integer column is refused. */
	cr_assert_neq(raw_exec(db, "INSERT INTO keys (fingerprint, type, "
	    "bits, blob_b64, first_seen) VALUES ('f', 't', 'many', 'b', 1)"),
	    SQLITE_OK);
	sqlite3_close(db);
}

Test(store, creates_dir_0700_and_file_0600_whatever_the_umask)
{
	struct store	*s;
	struct stat	 st;

	umask(0);
	s = must_open();
	add_key(s, "SHA256:one");	/* writes -wal and -shm */
	cr_assert_eq(mode_of("/var/lib/keyadm"), 0700);
	cr_assert_eq(mode_of(DBPATH), 0600);
	if (stat(in_root(DBPATH "-wal"), &st) == 0)
		cr_assert_eq(st.st_mode & 07777, 0600);
	if (stat(in_root(DBPATH "-shm"), &st) == 0)
		cr_assert_eq(st.st_mode & 07777, 0600);
	store_close(s);
}

Test(store, wal_files_live_in_the_checked_directory)
{
	struct store	*s = must_open();
	struct stat	 st;

	add_key(s, "SHA256:one");
	cr_assert_eq(stat(in_root(DBPATH "-wal"), &st), 0);
	cr_assert_eq(stat(in_root(DBPATH "-shm"), &st), 0);
	store_close(s);
}

Test(store, missing_without_create_is_noinput)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024];
	struct stat	 st;

	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), KE_NOINPUT);
	cr_assert_null(s);
	snprintf(want, sizeof(want), "%s/var/lib/keyadm: No such file or "
	    "directory", root);
	cr_assert_str_eq(msg, want);
	cr_assert_neq(stat(in_root("/var/lib/keyadm"), &st), 0);
	make_dbdir();
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), KE_NOINPUT);
	snprintf(want, sizeof(want), "%s%s: No such file or directory", root,
	    DBPATH);
	cr_assert_str_eq(msg, want);
	cr_assert_neq(stat(in_root(DBPATH), &st), 0);
}

Test(store, creates_only_the_last_directory)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024];

	cr_assert_eq(rmdir(in_root("/var/lib")), 0);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_CANTCREATE);
	snprintf(want, sizeof(want), "%s/var/lib: No such file or directory",
	    root);
	cr_assert_str_eq(msg, want);
}

Test(store, refuses_bad_paths)
{
	struct store	*s = NULL;
	char		 msg[512];

	cr_assert_eq(store_open(rootfd, root, "var/lib/keyadm/k.db",
	    STORE_CREATE, BUSY_MS, &s, msg, sizeof(msg)), KE_CONFIG);
	cr_assert_str_eq(msg, "var/lib/keyadm/k.db: database path is not "
	    "absolute");
	cr_assert_eq(store_open(rootfd, root, "/var/lib/../k.db",
	    STORE_CREATE, BUSY_MS, &s, msg, sizeof(msg)), KE_CONFIG);
	cr_assert_eq(store_open(rootfd, root, "/var//lib/keyadm/k.db",
	    STORE_CREATE, BUSY_MS, &s, msg, sizeof(msg)), KE_CONFIG);
	cr_assert_eq(store_open(rootfd, root, "/var/lib/keyadm/",
	    STORE_CREATE, BUSY_MS, &s, msg, sizeof(msg)), KE_CONFIG);
	cr_assert_null(s);
}

/* --- unsafe directories and files ------------------------------------ */

Test(store, refuses_group_readable_db_dir)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024];

	mkdir_in("/var/lib/keyadm", 0750);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_UNSAFE);
	snprintf(want, sizeof(want), "%s/var/lib/keyadm: mode 0750, expected "
	    "0700", root);
	cr_assert_str_eq(msg, want);
	cr_assert_null(s);
	cr_assert_eq(mode_of("/var/lib/keyadm"), 0750, "left as it was");
}

Test(store, refuses_world_writable_parent)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024];

	cr_assert_eq(chmod(in_root("/var/lib"), 0777), 0);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_UNSAFE);
	snprintf(want, sizeof(want), "%s/var/lib: mode 0777, writable by "
	    "group or other", root);
	cr_assert_str_eq(msg, want);
}

Test(store, refuses_symlinked_db_dir)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024];

	mkdir_in("/elsewhere", 0700);
	cr_assert_eq(symlink("../../elsewhere", in_root("/var/lib/keyadm")),
	    0);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_UNSAFE);
	snprintf(want, sizeof(want), "%s/var/lib/keyadm: is a symbolic link",
	    root);
	cr_assert_str_eq(msg, want);
	cr_assert_eq(access(in_root("/elsewhere/keyadm.db"), F_OK), -1);
}

Test(store, refuses_symlinked_parent)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024];

	mkdir_in("/real", 0755);
	mkdir_in("/real/keyadm", 0700);
	cr_assert_eq(rmdir(in_root("/var/lib")), 0);
	cr_assert_eq(symlink("../real", in_root("/var/lib")), 0);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_UNSAFE);
	snprintf(want, sizeof(want), "%s/var/lib: is a symbolic link", root);
	cr_assert_str_eq(msg, want);
}

Test(store, refuses_symlinked_db_file)
{
	struct store	*s = must_open();
	char		 msg[512], want[1024], real[PATH_MAX];

	store_close(s);
	snprintf(real, sizeof(real), "%s", in_root("/var/lib/keyadm/real.db"));
	cr_assert_eq(rename(in_root(DBPATH), real), 0);
	cr_assert_eq(symlink("real.db", in_root(DBPATH)), 0);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_UNSAFE);
	snprintf(want, sizeof(want), "%s%s: is a symbolic link", root, DBPATH);
	cr_assert_str_eq(msg, want);
}

Test(store, refuses_group_readable_db_file)
{
	struct store	*s = must_open();
	char		 msg[512], want[1024];

	store_close(s);
	cr_assert_eq(chmod(in_root(DBPATH), 0640), 0);
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), KE_UNSAFE);
	snprintf(want, sizeof(want), "%s%s: mode 0640, expected 0600", root,
	    DBPATH);
	cr_assert_str_eq(msg, want);
}

Test(store, refuses_hard_linked_db_file)
{
	struct store	*s = must_open();
	char		 msg[512], want[1024], other[PATH_MAX];

	store_close(s);
	snprintf(other, sizeof(other), "%s", in_root("/var/lib/keyadm/l.db"));
	cr_assert_eq(link(in_root(DBPATH), other), 0);
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), KE_UNSAFE);
	snprintf(want, sizeof(want), "%s%s: has 2 links, expected 1", root,
	    DBPATH);
	cr_assert_str_eq(msg, want);
}

Test(store, refuses_fifo_as_db_file)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024];

	make_dbdir();
	cr_assert_eq(mkfifo(in_root(DBPATH), 0600), 0);
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), KE_UNSAFE);
	snprintf(want, sizeof(want), "%s%s: not a regular file", root, DBPATH);
	cr_assert_str_eq(msg, want);
}

Test(store, refuses_db_dir_of_another_owner)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024];

	if (geteuid() != 0) {
		teardown();	/* a skipped test does not reach .fini */
		cr_skip_test("needs root to chown");
	}
	make_dbdir();
	cr_assert_eq(chown(in_root("/var/lib/keyadm"), 1234, 1234), 0);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_UNSAFE);
	snprintf(want, sizeof(want), "%s/var/lib/keyadm: owned by uid 1234, "
	    "expected 0", root);
	cr_assert_str_eq(msg, want);
}

/* --- files that are not ours ---------------------------------------- */

Test(store, refuses_non_sqlite_file_untouched)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024], junk[2048], *after;
	size_t		 len;

	make_dbdir();
	memset(junk, 'x', sizeof(junk));
	memcpy(junk, "ssh-ed25519 AAAA not a database\n", 33);
	write_file(in_root(DBPATH), junk, sizeof(junk), 0600);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_CONFIG);
	snprintf(want, sizeof(want), "%s%s: not a keyadm database", root,
	    DBPATH);
	cr_assert(strncmp(msg, want, strlen(want)) == 0, "%s", msg);
	after = read_all(in_root(DBPATH), &len);
	cr_assert_eq(len, sizeof(junk));
	cr_assert(memcmp(after, junk, len) == 0);
	free(after);
}

Test(store, refuses_foreign_application_id)
{
	struct store	*s = NULL;
	sqlite3		*db;
	char		 msg[512], want[1024];

	make_dbdir();
	db = raw_open();
	raw_must(db, "PRAGMA application_id = 1234; CREATE TABLE t (x)");
	sqlite3_close(db);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_CONFIG);
	snprintf(want, sizeof(want), "%s%s: not a keyadm database", root,
	    DBPATH);
	cr_assert_str_eq(msg, want);
}

Test(store, refuses_other_database_without_application_id)
{
	struct store	*s = NULL;
	sqlite3		*db;
	char		 msg[512];

	make_dbdir();
	db = raw_open();
	raw_must(db, "CREATE TABLE notes (x); INSERT INTO notes VALUES (1)");
	sqlite3_close(db);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_CONFIG);
	cr_assert(strstr(msg, ": not a keyadm database") != NULL, "%s", msg);
	db = raw_open();
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM sqlite_schema"), 1,
	    "nothing was added to it");
	sqlite3_close(db);
}

Test(store, refuses_newer_schema_and_leaves_file_unchanged)
{
	struct store	*s = must_open();
	sqlite3		*db;
	char		 msg[512], want[1024], *before, *after;
	size_t		 blen, alen;

	add_key(s, "SHA256:one");
	store_close(s);
	db = raw_open();
	raw_must(db, "PRAGMA user_version = 3");
	sqlite3_close(db);
	before = read_all(in_root(DBPATH), &blen);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_CONFIG);
	snprintf(want, sizeof(want), "%s%s: database schema version 3 is "
	    "newer than this keyadm (2)", root, DBPATH);
	cr_assert_str_eq(msg, want);
	cr_assert_null(s);
	after = read_all(in_root(DBPATH), &alen);
	cr_assert_eq(alen, blen);
	cr_assert(memcmp(before, after, alen) == 0, "file changed");
	free(before);
	free(after);
}

/* --- migrations ------------------------------------------------------ */

Test(store, migrates_version_0_database)
{
	struct store	*s;
	sqlite3		*db;

	/* A real, empty SQLite file: header written, no schema, version 0. */
	make_dbdir();
	db = raw_open();
	raw_must(db, "CREATE TABLE t (x); DROP TABLE t");
	cr_assert_eq(raw_int(db, "PRAGMA user_version"), 0);
	sqlite3_close(db);
	s = must_open();
	cr_assert_eq(store_db_version(s), store_schema_version());
	add_grant(s, "alice", add_key(s, "SHA256:one"));
	store_close(s);
	db = raw_open();
	cr_assert_eq(raw_int(db, "PRAGMA application_id"),
	    STORE_APPLICATION_ID);
	sqlite3_close(db);
}

Test(store, migrates_empty_file)
{
	struct store	*s;

	make_dbdir();
	write_file(in_root(DBPATH), "", 0, 0600);
	s = must_open();
	cr_assert_eq(store_db_version(s), store_schema_version());
	store_close(s);
}

Test(store, failed_migration_rolls_back)
{
	struct store	*s = NULL;
	sqlite3		*db;
	char		 msg[512];

	/* Ours, version 0, but a "keys" table is in the way of 001. */
	make_dbdir();
	db = raw_open();
	raw_must(db, "PRAGMA application_id = 1264140612; "
	    "CREATE TABLE keys (x)");
	sqlite3_close(db);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_INTERNAL);
	cr_assert(strstr(msg, ": 001-initial.sql: table keys already "
	    "exists") != NULL, "%s", msg);
	db = raw_open();
	cr_assert_eq(raw_int(db, "PRAGMA user_version"), 0);
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM sqlite_schema"), 1,
	    "nothing of 001 is left behind");
	sqlite3_close(db);
}

static int
count_grant(const struct store_grant *g, void *arg)
{
	(void)g;
	(*(int *)arg)++;
	return 0;
}

Test(store, opens_stored_version_1_database)
{
	struct store	*s;
	sqlite3		*db;
	const char	*dir = getenv("KEYADM_TESTDATA");
	char		 p[PATH_MAX], *sql;
	size_t		 len;
	int64_t		 bad = -1, kid, gid;
	int		 n = 0;

	snprintf(p, sizeof(p), "%s/store/v1-sample.sql",
	    dir != NULL ? dir : "tests/data");
	sql = read_all(p, &len);
	make_dbdir();
	db = raw_open();
	raw_must(db, sql);
	sqlite3_close(db);
	free(sql);
	s = must_open();
	cr_assert_eq(store_db_version(s), store_schema_version());
	cr_assert_eq(store_verify_chain(s, &bad), 0, "%s", store_errmsg(s));
	cr_assert_eq(store_grants_list(s, NULL, "active", count_grant, &n),
	    0);
	cr_assert_eq(n, 2);
	kid = add_key(s, "SHA256:new");
	add_grant(s, "alice", kid);
	cr_assert_eq(store_grant_find_active(s, "bob", 2, &gid), 0);
	cr_assert_eq(gid, 2);
	append(s, "admin", "add", "alice", NULL);
	cr_assert_eq(store_verify_chain(s, &bad), 0, "%s", store_errmsg(s));
	/* what schema 2 added works on the migrated file */
	cr_assert_eq(store_revocation_add(s, kid, 1700000000, "admin", 0,
	    "leaked"), 0);
	store_close(s);
}

Test(store, readonly_never_migrates_or_creates)
{
	struct store	*s = NULL;
	sqlite3		*db;
	char		 msg[512], want[1024];
	struct stat	 st;

	cr_assert_eq(open_store(STORE_READONLY | STORE_CREATE, &s, msg,
	    sizeof(msg)), KE_NOINPUT);
	cr_assert_neq(stat(in_root("/var/lib/keyadm"), &st), 0);
	make_dbdir();
	db = raw_open();
	raw_must(db, "CREATE TABLE t (x); DROP TABLE t");
	sqlite3_close(db);
	cr_assert_eq(open_store(STORE_READONLY, &s, msg, sizeof(msg)),
	    KE_CONFIG);
	snprintf(want, sizeof(want), "%s%s: database schema version 0 is "
	    "older than this keyadm (2); run keyadm as root to upgrade it",
	    root, DBPATH);
	cr_assert_str_eq(msg, want);
	db = raw_open();
	cr_assert_eq(raw_int(db, "PRAGMA user_version"), 0);
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM sqlite_schema"), 0);
	sqlite3_close(db);
}

Test(store, readonly_reads_current_database)
{
	struct store	*s = must_open();
	char		 msg[512];
	int64_t		 gid, kid;

	kid = add_key(s, "SHA256:one");
	add_grant(s, "alice", kid);
	store_close(s);
	cr_assert_eq(open_store(STORE_READONLY, &s, msg, sizeof(msg)), 0,
	    "%s", msg);
	cr_assert_eq(store_grant_find_active(s, "alice", kid, &gid), 0);
	cr_assert_eq(store_begin(s), 0);
	cr_assert_neq(store_grant_add(s, &(struct store_grant_new){ kid,
	    "bob", NULL, 0, "admin", 0, NULL, NULL }, 1, &gid), 0);
	store_close(s);
}

/* --- keys and grants ------------------------------------------------- */

Test(store, key_upsert_is_idempotent)
{
	struct store	*s = must_open();
	int64_t		 a, b, c;

	a = add_key(s, "SHA256:one");
	b = add_key(s, "SHA256:one");
	c = add_key(s, "SHA256:two");
	cr_assert_gt(a, 0);
	cr_assert_eq(a, b);
	cr_assert_neq(a, c);
	store_close(s);
}

Test(store, grant_add_and_find_active)
{
	struct store	*s = must_open();
	int64_t		 kid, gid, found = -1;

	kid = add_key(s, "SHA256:one");
	cr_assert_eq(store_grant_find_active(s, "alice", kid, &found), 1);
	cr_assert_eq(found, 0);
	gid = add_grant(s, "alice", kid);
	cr_assert_eq(store_grant_find_active(s, "alice", kid, &found), 0);
	cr_assert_eq(found, gid);
	cr_assert_eq(store_grant_find_active(s, "bob", kid, &found), 1);
	store_close(s);
}

Test(store, unique_active_grant_enforced)
{
	struct store		*s = must_open();
	struct store_grant_new	 g = { 0, "alice", NULL, 0, "admin", 0,
				    NULL, NULL };
	sqlite3			*db;
	int64_t			 gid;

	g.key_id = add_key(s, "SHA256:one");
	add_grant(s, "alice", g.key_id);
	cr_assert_eq(store_grant_add(s, &g, 3000, &gid), KE_INTERNAL);
	cr_assert(strstr(store_errmsg(s), "UNIQUE") != NULL, "%s",
	    store_errmsg(s));
	/* Once revoked, the key may be granted again. */
	db = raw_open();
	raw_must(db, "UPDATE grants SET status = 'revoked'");
	sqlite3_close(db);
	cr_assert_eq(store_grant_add(s, &g, 3000, &gid), 0, "%s",
	    store_errmsg(s));
	store_close(s);
}

Test(store, grant_of_unknown_key_refused)
{
	struct store		*s = must_open();
	struct store_grant_new	 g = { 999, "alice", NULL, 0, "admin", 0,
				    NULL, NULL };
	int64_t			 gid;

	cr_assert_eq(store_grant_add(s, &g, 3000, &gid), KE_INTERNAL);
	cr_assert(strstr(store_errmsg(s), "FOREIGN KEY") != NULL, "%s",
	    store_errmsg(s));
	store_close(s);
}

Test(store, transaction_rolls_back)
{
	struct store	*s = must_open();
	int64_t		 kid, gid;

	kid = add_key(s, "SHA256:one");
	cr_assert_eq(store_begin(s), 0);
	add_grant(s, "alice", kid);
	append(s, "admin", "add", "alice", NULL);
	cr_assert_eq(store_rollback(s), 0);
	cr_assert_eq(store_grant_find_active(s, "alice", kid, &gid), 1);
	cr_assert_eq(store_begin(s), 0);
	add_grant(s, "alice", kid);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(store_grant_find_active(s, "alice", kid, &gid), 0);
	store_close(s);
}

/* --- events ---------------------------------------------------------- */

Test(store, events_update_and_delete_refused)
{
	struct store	*s = must_open();
	sqlite3		*db;

	append(s, "admin", "add", "alice", "first");
	store_close(s);
	db = raw_open();
	cr_assert_eq(raw_exec(db, "UPDATE events SET detail = 'x'"),
	    SQLITE_CONSTRAINT);
	cr_assert_str_eq(sqlite3_errmsg(db), "events are append-only");
	cr_assert_eq(raw_exec(db, "DELETE FROM events"), SQLITE_CONSTRAINT);
	cr_assert_str_eq(sqlite3_errmsg(db), "events are append-only");
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM events"), 1);
	sqlite3_close(db);
}

Test(store, hash_chain_links_rows)
{
	struct store	*s = must_open();
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 prev[65];
	int		 n = 0;
	int64_t		 bad = -1;

	append(s, "admin", "add", "alice", "first");
	append(s, "admin", "refuse", NULL, NULL);
	append(s, "admin", "revoke", "", "");
	cr_assert_eq(store_verify_chain(s, &bad), 0, "%s", store_errmsg(s));
	cr_assert_eq(bad, 0);
	store_close(s);
	db = raw_open();
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT prev_hash, hash FROM "
	    "events ORDER BY id", -1, &st, NULL), SQLITE_OK);
	memset(prev, '0', 64);
	prev[64] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 1);

		cr_assert_str_eq(p, prev);
		cr_assert_eq(strlen(h), 64);
		cr_assert_eq(strspn(h, "0123456789abcdef"), 64);
		snprintf(prev, sizeof(prev), "%s", h);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	cr_assert_eq(n, 3);
}

/* Drop the triggers through a raw connection and run some tampering. */
static void
tamper(const char *sql)
{
	sqlite3	*db = raw_open();

	raw_must(db, "DROP TRIGGER events_no_update; "
	    "DROP TRIGGER events_no_delete");
	raw_must(db, sql);
	sqlite3_close(db);
}

static int64_t
verify_after(struct store **s, const char *sql)
{
	char	msg[512];
	int64_t	bad = -1;

	store_close(*s);
	tamper(sql);
	cr_assert_eq(open_store(0, s, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(store_verify_chain(*s, &bad), KE_FINDINGS);
	return bad;
}

Test(store, edited_event_is_reported)
{
	struct store	*s = must_open();

	append(s, "admin", "add", "alice", "first");
	append(s, "admin", "add", "bob", "second");
	append(s, "admin", "add", "carol", "third");
	cr_assert_eq(verify_after(&s, "UPDATE events SET detail = 'edited' "
	    "WHERE id = 2"), 2);
	cr_assert_str_eq(store_errmsg(s), "event 2 does not match its hash");
	store_close(s);
}

Test(store, deleted_event_is_reported)
{
	struct store	*s = must_open();

	append(s, "admin", "add", "alice", "first");
	append(s, "admin", "add", "bob", "second");
	append(s, "admin", "add", "carol", "third");
	cr_assert_eq(verify_after(&s, "DELETE FROM events WHERE id = 2"), 3);
	cr_assert_str_eq(store_errmsg(s), "event 3 does not follow the event "
	    "before it");
	store_close(s);
}

Test(store, null_and_empty_hash_differently)
{
	struct store	*s = must_open();

	append(s, "admin", "refuse", NULL, "x");
	cr_assert_eq(verify_after(&s, "UPDATE events SET user = ''"), 1);
	store_close(s);
}

Test(store, field_boundaries_are_part_of_the_hash)
{
	struct store	*s = must_open();

	append(s, "ab", "c", "alice", NULL);
	cr_assert_eq(verify_after(&s, "UPDATE events SET actor = 'a', "
	    "action = 'bc'"), 1);
	store_close(s);
}

Test(store, rehashed_edit_breaks_the_next_link)
{
	struct store	*s = must_open();
	sqlite3		*db;
	int64_t		 bad = -1;
	char		 msg[512];

	append(s, "admin", "add", "alice", "first");
	append(s, "admin", "add", "bob", "second");
	store_close(s);
	/* A forger who rewrites row 1's hash still breaks row 2's link. */
	db = raw_open();
	raw_must(db, "DROP TRIGGER events_no_update");
	raw_must(db, "UPDATE events SET hash = printf('%064d', 1) "
	    "WHERE id = 1");
	sqlite3_close(db);
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(store_verify_chain(s, &bad), KE_FINDINGS);
	cr_assert_eq(bad, 1);
	store_close(s);
}

Test(store, event_hash_format_is_stable)
{
	struct store		*s = must_open();
	struct store_event	 e = { 1700000000, "root", 0, "add", "alice",
				    "SHA256:abc", NULL };
	sqlite3			*db;
	sqlite3_stmt		*st;

	cr_assert_eq(store_event_append(s, &e), 0, "%s", store_errmsg(s));
	store_close(s);
	db = raw_open();
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT hash FROM events", -1,
	    &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	/* Computed independently from the format described in store.c. */
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0),
	    EVENT_V1_VECTOR);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* --- locking --------------------------------------------------------- */

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

Test(store, locked_database_is_busy)
{
	struct store	*s = must_open();
	sqlite3		*db;
	double		 t0, dt;

	db = raw_open();
	raw_must(db, "BEGIN EXCLUSIVE");
	t0 = now_ms();
	cr_assert_eq(store_begin(s), KE_BUSY);
	dt = now_ms() - t0;
	cr_assert_geq(dt, BUSY_MS * 0.8, "gave up after %.0f ms", dt);
	cr_assert_lt(dt, BUSY_MS + 2000, "waited %.0f ms", dt);
	/* store_errmsg is the problem only; the caller names the database. */
	cr_assert_str_eq(store_errmsg(s), "database is locked; try again");
	cr_assert_eq(store_event_append(s, &(struct store_event){ 1, "a", 0,
	    "add", NULL, NULL, NULL }), KE_BUSY);
	raw_must(db, "COMMIT");
	sqlite3_close(db);
	append(s, "admin", "add", NULL, NULL);
	store_close(s);
}

Test(store, locked_at_open_is_busy)
{
	struct store	*s = NULL;
	sqlite3		*db;
	char		 msg[512], want[1024];
	double		 t0, dt;

	make_dbdir();
	db = raw_open();
	raw_must(db, "CREATE TABLE t (x); DROP TABLE t; BEGIN EXCLUSIVE");
	t0 = now_ms();
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)), KE_BUSY);
	dt = now_ms() - t0;
	cr_assert_lt(dt, BUSY_MS + 2000, "waited %.0f ms", dt);
	snprintf(want, sizeof(want), "%s%s: database is locked; try again",
	    root, DBPATH);
	cr_assert_str_eq(msg, want);
	raw_must(db, "COMMIT");
	sqlite3_close(db);
}

/* --- listing grants -------------------------------------------------- */

struct seen {
	int	n;
	int64_t	id[16];
	char	user[16][16];
	char	status[16][16];
};

static int
collect(const struct store_grant *g, void *arg)
{
	struct seen	*v = arg;

	cr_assert_lt(v->n, 16);
	v->id[v->n] = g->id;
	snprintf(v->user[v->n], sizeof(v->user[0]), "%s", g->user);
	snprintf(v->status[v->n], sizeof(v->status[0]), "%s", g->status);
	v->n++;
	return 0;
}

static int
stop_after_one(const struct store_grant *g, void *arg)
{
	(void)g;
	(*(int *)arg)++;
	return 42;
}

Test(store, grants_list_filters_and_orders)
{
	struct store	*s = must_open();
	struct seen	 v;
	sqlite3		*db;
	int64_t		 k1, k2, b1, a1, b2, a2;
	int		 calls = 0;

	k1 = add_key(s, "SHA256:one");
	k2 = add_key(s, "SHA256:two");
	b1 = add_grant(s, "bob", k1);
	a1 = add_grant(s, "alice", k1);
	b2 = add_grant(s, "bob", k2);
	a2 = add_grant(s, "alice", k2);
	db = raw_open();
	raw_must(db, "UPDATE grants SET status = 'revoked' WHERE user = "
	    "'alice' AND key_id = 1");
	sqlite3_close(db);

	memset(&v, 0, sizeof(v));
	cr_assert_eq(store_grants_list(s, NULL, NULL, collect, &v), 0);
	cr_assert_eq(v.n, 4);
	cr_assert_eq(v.id[0], a1);
	cr_assert_eq(v.id[1], a2);
	cr_assert_eq(v.id[2], b1);
	cr_assert_eq(v.id[3], b2);

	memset(&v, 0, sizeof(v));
	cr_assert_eq(store_grants_list(s, "alice", NULL, collect, &v), 0);
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.status[0], "revoked");
	cr_assert_str_eq(v.status[1], "active");

	memset(&v, 0, sizeof(v));
	cr_assert_eq(store_grants_list(s, NULL, "active", collect, &v), 0);
	cr_assert_eq(v.n, 3);
	cr_assert_eq(v.id[0], a2);

	memset(&v, 0, sizeof(v));
	cr_assert_eq(store_grants_list(s, "bob", "revoked", collect, &v), 0);
	cr_assert_eq(v.n, 0);

	cr_assert_eq(store_grants_list(s, NULL, NULL, stop_after_one,
	    &calls), 42);
	cr_assert_eq(calls, 1);
	/* The statement was reset: a second listing starts over. */
	memset(&v, 0, sizeof(v));
	cr_assert_eq(store_grants_list(s, NULL, NULL, collect, &v), 0);
	cr_assert_eq(v.n, 4);
	store_close(s);
}

static int
check_fields(const struct store_grant *g, void *arg)
{
	cr_assert_eq(g->id, *(int64_t *)arg);
	cr_assert_str_eq(g->user, "alice");
	cr_assert_str_eq(g->fingerprint, "SHA256:one");
	cr_assert_str_eq(g->type, "ssh-ed25519");
	cr_assert_eq(g->bits, 256);
	cr_assert_str_eq(g->b64, "AAAAblob");
	cr_assert_str_eq(g->comment, "alice@laptop");
	cr_assert_str_eq(g->options, "from=\"10.0.0.0/8\"");
	cr_assert_str_eq(g->status, "active");
	cr_assert_eq(g->added_at, 2000);
	cr_assert_str_eq(g->added_by, "admin 'quoted'; DROP TABLE keys");
	cr_assert_eq(g->added_uid, 1001);
	cr_assert_null(g->reason);
	cr_assert_eq(g->expires_at, 1900000000);
	cr_assert_eq(g->last_used_at, 0);
	cr_assert_str_eq(g->path, "/home/alice/.ssh/authorized_keys");
	return 0;
}

Test(store, grants_list_returns_every_field)
{
	struct store		*s = must_open();
	struct store_grant_new	 g = { 0, "alice", "from=\"10.0.0.0/8\"",
				    1900000000,
				    "admin 'quoted'; DROP TABLE keys", 1001,
				    NULL, "/home/alice/.ssh/authorized_keys" };
	int64_t			 gid;

	g.key_id = add_key(s, "SHA256:one");
	cr_assert_eq(store_grant_add(s, &g, 2000, &gid), 0, "%s",
	    store_errmsg(s));
	cr_assert_eq(store_grants_list(s, "alice", "active", check_fields,
	    &gid), 0);
	store_close(s);
}

Test(store, close_accepts_null)
{
	store_close(NULL);
}

/* --- revoke, expire, options (schema 2) ----------------------------- */

struct gseen {
	int		n;
	int64_t		ids[8];
	char		users[8][16];
	char		status[8][16];
	int64_t		expires[8];
	char		options[8][64];
};

static int
see_grant(const struct store_grant *g, void *arg)
{
	struct gseen	*sn = arg;

	cr_assert_lt(sn->n, 8);
	sn->ids[sn->n] = g->id;
	snprintf(sn->users[sn->n], 16, "%s", g->user);
	snprintf(sn->status[sn->n], 16, "%s", g->status);
	sn->expires[sn->n] = g->expires_at;
	snprintf(sn->options[sn->n], 64, "%s",
	    g->options != NULL ? g->options : "(null)");
	sn->n++;
	return 0;
}

static struct gseen
find(struct store *s, const struct store_grant_query *q)
{
	struct gseen	sn;

	memset(&sn, 0, sizeof(sn));
	cr_assert_eq(store_grants_find(s, q, see_grant, &sn), 0, "%s",
	    store_errmsg(s));
	return sn;
}

static int64_t
add_grant_exp(struct store *s, const char *user, int64_t key_id,
    int64_t expires)
{
	struct store_grant_new	g = { key_id, user, NULL, expires, "admin",
				    0, NULL, "/x" };
	int64_t			id = 0;

	cr_assert_eq(store_grant_add(s, &g, 1700000000, &id), 0, "%s",
	    store_errmsg(s));
	return id;
}

Test(store, grants_find_by_key_user_status_and_id)
{
	struct store			*s = must_open();
	struct store_grant_query	 q;
	struct gseen			 sn;
	int64_t				 k1, k2, ga, gb, gc;

	k1 = add_key(s, "SHA256:one");
	k2 = add_key(s, "SHA256:two");
	gb = add_grant(s, "bob", k1);
	ga = add_grant(s, "alice", k1);
	gc = add_grant(s, "alice", k2);
	memset(&q, 0, sizeof(q));
	q.fingerprint = "SHA256:one";
	sn = find(s, &q);
	cr_assert_eq(sn.n, 2);
	cr_assert_str_eq(sn.users[0], "alice");	/* ordered by user */
	cr_assert_eq(sn.ids[0], ga);
	cr_assert_eq(sn.ids[1], gb);
	q.user = "bob";
	sn = find(s, &q);
	cr_assert_eq(sn.n, 1);
	cr_assert_eq(sn.ids[0], gb);
	memset(&q, 0, sizeof(q));
	q.id = gc;
	sn = find(s, &q);
	cr_assert_eq(sn.n, 1);
	cr_assert_str_eq(sn.users[0], "alice");
	q.user = "alice";	/* id with anything else: refused */
	cr_assert_eq(store_grants_find(s, &q, see_grant, &sn), KE_INTERNAL);
	store_close(s);
}

Test(store, close_grant_once_and_only_with_known_status)
{
	struct store			*s = must_open();
	struct store_grant_query	 q;
	struct gseen			 sn;
	char				 st[16];
	int64_t				 k, g, id;

	k = add_key(s, "SHA256:one");
	g = add_grant(s, "alice", k);
	cr_assert_eq(store_grant_close(s, g, "active", 5, "admin", "x"),
	    KE_INTERNAL);
	cr_assert_eq(store_grant_close(s, g, "revoked", 1700000100, "admin",
	    "lost laptop"), 0);
	cr_assert_eq(store_grant_close(s, g, "revoked", 1700000200, "admin",
	    "again"), 1);
	memset(&q, 0, sizeof(q));
	q.user = "alice";
	q.status = "revoked";
	sn = find(s, &q);
	cr_assert_eq(sn.n, 1);
	cr_assert_eq(store_grant_find_active(s, "alice", k, &id), 1);
	cr_assert_eq(store_grant_last_status(s, "alice", k, st, sizeof(st)),
	    0);
	cr_assert_str_eq(st, "revoked");
	cr_assert_eq(store_grant_last_status(s, "bob", k, st, sizeof(st)),
	    1);
	/* a new grant of the same key: the newest one decides */
	add_grant(s, "alice", k);
	cr_assert_eq(store_grant_last_status(s, "alice", k, st, sizeof(st)),
	    0);
	cr_assert_str_eq(st, "active");
	store_close(s);
}

Test(store, expired_grants_in_expiry_order)
{
	struct store			*s = must_open();
	struct store_grant_query	 q;
	struct gseen			 sn;
	int64_t				 k1, k2, k3, g1, g2;

	k1 = add_key(s, "SHA256:one");
	k2 = add_key(s, "SHA256:two");
	k3 = add_key(s, "SHA256:three");
	g2 = add_grant_exp(s, "alice", k1, 2000);
	g1 = add_grant_exp(s, "bob", k2, 1000);
	(void)add_grant_exp(s, "alice", k3, 3000);
	(void)add_grant_exp(s, "carol", k3, 0);	/* never */
	memset(&q, 0, sizeof(q));
	q.expired_by = 2000;
	sn = find(s, &q);
	cr_assert_eq(sn.n, 2);
	cr_assert_eq(sn.ids[0], g1);
	cr_assert_eq(sn.ids[1], g2);
	q.user = "alice";
	sn = find(s, &q);
	cr_assert_eq(sn.n, 1);
	cr_assert_eq(sn.ids[0], g2);
	/* not yet past: a renewed grant is not expired */
	cr_assert_eq(store_grant_close(s, g2, "expired", 1999, "keyadm",
	    "expired"), 1);
	cr_assert_eq(store_grant_close(s, g2, "expired", 2001, "keyadm",
	    "expired"), 0);
	sn = find(s, &q);
	cr_assert_eq(sn.n, 0);
	store_close(s);
}

Test(store, set_options_of_active_grant)
{
	struct store			*s = must_open();
	struct store_grant_query	 q;
	struct gseen			 sn;
	int64_t				 k, g;

	k = add_key(s, "SHA256:one");
	g = add_grant(s, "alice", k);
	cr_assert_eq(store_grant_set_options(s, g, "from=\"10.0.0.0/8\"",
	    1800000000), 0);
	memset(&q, 0, sizeof(q));
	q.id = g;
	sn = find(s, &q);
	cr_assert_str_eq(sn.options[0], "from=\"10.0.0.0/8\"");
	cr_assert_eq(sn.expires[0], 1800000000);
	cr_assert_eq(store_grant_set_options(s, g, NULL, 0), 0);
	sn = find(s, &q);
	cr_assert_str_eq(sn.options[0], "(null)");
	cr_assert_eq(sn.expires[0], 0);
	cr_assert_eq(store_grant_close(s, g, "removed", 5, "a", NULL), 0);
	cr_assert_eq(store_grant_set_options(s, g, "restrict", 0), 1);
	store_close(s);
}

struct keyseen {
	int64_t	id;
	int64_t	revoked_at;
	char	b64[32];
};

static int
see_key(const struct store_keyrow *k, void *arg)
{
	struct keyseen	*ks = arg;

	ks->id = k->id;
	ks->revoked_at = k->revoked_at;
	snprintf(ks->b64, sizeof(ks->b64), "%s", k->b64);
	return 0;
}

Test(store, revocations_add_get_remove)
{
	struct store	*s = must_open();
	struct keyseen	 ks;
	int64_t		 k;

	k = add_key(s, "SHA256:one");
	memset(&ks, 0, sizeof(ks));
	cr_assert_eq(store_key_get(s, "SHA256:nope", see_key, &ks), 1);
	cr_assert_eq(store_key_get(s, "SHA256:one", see_key, &ks), 0);
	cr_assert_eq(ks.id, k);
	cr_assert_eq(ks.revoked_at, 0);
	cr_assert_str_eq(ks.b64, "AAAAblob");
	cr_assert_eq(store_revocation_add(s, k, 1700000500, "admin", 0,
	    "leaked"), 0);
	cr_assert_eq(store_revocation_add(s, k, 1700000900, "admin", 0,
	    "again"), 1);
	cr_assert_eq(store_key_get(s, "SHA256:one", see_key, &ks), 0);
	cr_assert_eq(ks.revoked_at, 1700000500);	/* the first is kept */
	cr_assert_eq(store_revocation_add(s, k, 1, "admin", 0, NULL),
	    KE_INTERNAL);
	cr_assert_eq(store_revocation_remove(s, k), 0);
	cr_assert_eq(store_revocation_remove(s, k), 1);
	cr_assert_eq(store_key_get(s, "SHA256:one", see_key, &ks), 0);
	cr_assert_eq(ks.revoked_at, 0);
	/* a revocation must name a key that exists (foreign key) */
	cr_assert_lt(store_revocation_add(s, 9999, 1, "admin", 0, "x"), 0);
	store_close(s);
}

/*
 * An opener waits while another holds the database directory (creating
 * or migrating it), and gives up with KE_BUSY after its busy time; a
 * read-only opener shares the lock with other readers.
 */
Test(store, open_waits_for_the_directory_lock)
{
	struct store	*s = NULL, *s2 = NULL;
	char		 msg[512];
	int		 fd;

	s = must_open();
	store_close(s);
	s = NULL;
	fd = open(in_root("/var/lib/keyadm"), O_RDONLY | O_DIRECTORY);
	cr_assert_neq(fd, -1);
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	cr_assert_eq(store_open(rootfd, root, DBPATH, 0, 50, &s, msg,
	    sizeof(msg)), KE_BUSY);
	cr_assert(strstr(msg, "being created or upgraded by another "
	    "process") != NULL, "%s", msg);
	cr_assert_null(s);
	cr_assert_eq(flock(fd, LOCK_SH), 0);	/* now a reader holds it */
	cr_assert_eq(store_open(rootfd, root, DBPATH, STORE_READONLY, 50,
	    &s, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(store_open(rootfd, root, DBPATH, 0, 50, &s2, msg,
	    sizeof(msg)), KE_BUSY);
	cr_assert_eq(flock(fd, LOCK_UN), 0);
	cr_assert_eq(store_open(rootfd, root, DBPATH, 0, 50, &s2, msg,
	    sizeof(msg)), 0, "%s", msg);
	store_close(s);
	store_close(s2);
	(void)close(fd);
}
