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

#include "ctx.h"
#include "err.h"
#include "msg.h"
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

	cr_assert_eq(store_schema_version(), 3);
	cr_assert_eq(store_db_version(s), store_schema_version());
	id1 = add_key(s, "SHA256:one");
	store_close(s);
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), 0, "%s", msg);
	id2 = add_key(s, "SHA256:one");
	cr_assert_eq(id1, id2);
	cr_assert_eq(store_db_version(s), 3);
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
	cr_assert_eq(raw_int(db, "PRAGMA user_version"), 3);
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

Test(store, refuses_other_readable_db_dir)
{
	struct store	*s = NULL;
	char		 msg[512], want[1024];

	mkdir_in("/var/lib/keyadm", 0705);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_UNSAFE);
	snprintf(want, sizeof(want), "%s/var/lib/keyadm: mode 0705, expected "
	    "0700 (or 2750, shared with a group)", root);
	cr_assert_str_eq(msg, want);
	cr_assert_null(s);
	cr_assert_eq(mode_of("/var/lib/keyadm"), 0705, "left as it was");
}

Test(store, refuses_group_writable_db_dir)
{
	struct store	*s = NULL;
	char		 msg[512];

	mkdir_in("/var/lib/keyadm", 0770);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_UNSAFE);
	cr_assert_not_null(strstr(msg, "mode 0770, expected 0700"), "%s", msg);
	cr_assert_null(s);
}

Test(store, accepts_group_readable_db_dir)
{
	struct store	*s = NULL;
	char		 msg[512];

	mkdir_in("/var/lib/keyadm", 02750);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)), 0, "%s",
	    msg);
	store_close(s);
	cr_assert_eq(mode_of("/var/lib/keyadm"), 02750, "left as it was");
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

Test(store, refuses_other_readable_db_file)
{
	struct store	*s = must_open();
	char		 msg[512], want[1024];

	store_close(s);
	cr_assert_eq(chmod(in_root(DBPATH), 0604), 0);
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), KE_UNSAFE);
	snprintf(want, sizeof(want), "%s%s: mode 0604, expected 0600 (or "
	    "0640, shared with a group)", root, DBPATH);
	cr_assert_str_eq(msg, want);
}

Test(store, refuses_group_writable_db_file)
{
	struct store	*s = must_open();
	char		 msg[512];

	store_close(s);
	cr_assert_eq(chmod(in_root(DBPATH), 0660), 0);
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), KE_UNSAFE);
	cr_assert_not_null(strstr(msg, "mode 0660, expected 0600"), "%s", msg);
}

Test(store, accepts_group_readable_db_file)
{
	struct store	*s = must_open();
	char		 msg[512];

	store_close(s);
	cr_assert_eq(chmod(in_root(DBPATH), 0640), 0);
	cr_assert_eq(open_store(STORE_READONLY, &s, msg, sizeof(msg)), 0,
	    "%s", msg);
	store_close(s);
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
	raw_must(db, "PRAGMA user_version = 4");
	sqlite3_close(db);
	before = read_all(in_root(DBPATH), &blen);
	cr_assert_eq(open_store(STORE_CREATE, &s, msg, sizeof(msg)),
	    KE_CONFIG);
	snprintf(want, sizeof(want), "%s%s: database schema version 4 is "
	    "newer than this keyadm (3)", root, DBPATH);
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
	struct store_chain ch;
	int64_t		 kid, gid;
	int		 n = 0, nev;

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
	cr_assert_eq(store_verify_chain(s, &ch), 0, "%s", store_errmsg(s));
	nev = (int)ch.checked;
	cr_assert_eq(store_grants_list(s, NULL, "active", count_grant, &n),
	    0);
	cr_assert_eq(n, 2);
	kid = add_key(s, "SHA256:new");
	add_grant(s, "alice", kid);
	cr_assert_eq(store_grant_find_active(s, "bob", 2, &gid), 0);
	cr_assert_eq(gid, 2);
	append(s, "admin", "add", "alice", NULL);
	cr_assert_eq(store_verify_chain(s, &ch), 0, "%s", store_errmsg(s));
	cr_assert_eq(ch.checked, nev + 1);
	cr_assert_eq(ch.bad_id, 0);
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
	/* version 0: a first run cut short; the advice names what helps */
	snprintf(want, sizeof(want), "%s%s: the store was never set up (its "
	    "first run did not finish); the next add or import%s sets it up",
	    root, DBPATH, geteuid() == 0 ? "" : " as root");
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
	/* REPLACE deletes without firing the delete trigger: sql/003 */
	cr_assert_eq(raw_exec(db, "INSERT OR REPLACE INTO events (id, at, "
	    "actor, actor_uid, action, prev_hash, hash) SELECT id, at, "
	    "'forged', 0, action, prev_hash, hash FROM events WHERE id = 1"),
	    SQLITE_CONSTRAINT);
	cr_assert_str_eq(sqlite3_errmsg(db), "events are append-only");
	cr_assert_eq(raw_exec(db, "REPLACE INTO events SELECT * FROM events"),
	    SQLITE_CONSTRAINT);
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM events WHERE actor = "
	    "'admin'"), 1);
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM events"), 1);
	sqlite3_close(db);
	/* keyadm's own appends still go in */
	s = must_open();
	append(s, "admin", "add", "bob", "second");
	store_close(s);
}

Test(store, hash_chain_links_rows)
{
	struct store	*s = must_open();
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 prev[65];
	int		 n = 0;
	struct store_chain ch;

	append(s, "admin", "add", "alice", "first");
	append(s, "admin", "refuse", NULL, NULL);
	append(s, "admin", "revoke", "", "");
	cr_assert_eq(store_verify_chain(s, &ch), 0, "%s", store_errmsg(s));
	cr_assert_eq(ch.bad_id, 0);
	cr_assert_eq(ch.checked, 3);
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
	cr_assert_str_eq(ch.last_hash, prev);	/* the newest row's */
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

/*
 * The triggers of sql/001-initial.sql, retyped on one line each, as a
 * careful tamperer puts them back.
 */
#define TRIGGERS_001							\
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN " \
	"SELECT RAISE(ABORT, 'events are append-only'); END; "		\
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN " \
	"SELECT RAISE(ABORT, 'events are append-only'); END"

/* tamper(), then the triggers back as they were made. */
static void
tamper_and_hide(const char *sql)
{
	sqlite3	*db;

	tamper(sql);
	db = raw_open();
	raw_must(db, TRIGGERS_001);
	sqlite3_close(db);
}

static int64_t
verify_after(struct store **s, const char *sql)
{
	struct store_chain	ch;
	char			msg[512];

	store_close(*s);
	tamper(sql);
	cr_assert_eq(open_store(0, s, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(store_verify_chain(*s, &ch), KE_FINDINGS);
	cr_assert_gt(ch.bad_id, 0);
	return ch.bad_id;
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
	struct store_chain ch;
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
	cr_assert_eq(store_verify_chain(s, &ch), KE_FINDINGS);
	cr_assert_eq(ch.bad_id, 1);
	cr_assert_eq(ch.checked, 0);
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
	cr_assert_lt(dt, BUSY_MS + 30000, "waited %.0f ms (a hang)", dt);
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
	cr_assert_lt(dt, BUSY_MS + 30000, "waited %.0f ms (a hang)", dt);
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
 * An opener waits while another holds the database directory exclusive
 * (creating the store), and gives up with KE_BUSY after its busy time.
 * Opening a store that exists shares the lock, reading or writing, so a
 * stream of readers cannot keep a writer (or the PAM module) out; only
 * making the store waits for them.
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
	    sizeof(msg)), 0, "a writer waits for readers: %s", msg);
	store_close(s2);
	s2 = NULL;
	/* making a store needs it alone */
	cr_assert_eq(store_open(rootfd, root, "/var/lib/keyadm/new.db",
	    STORE_CREATE, 50, &s2, msg, sizeof(msg)), KE_BUSY);
	cr_assert_null(s2);
	cr_assert_eq(flock(fd, LOCK_UN), 0);
	cr_assert_eq(store_open(rootfd, root, "/var/lib/keyadm/new.db",
	    STORE_CREATE, 50, &s2, msg, sizeof(msg)), 0, "%s", msg);
	store_close(s);
	store_close(s2);
	(void)close(fd);
}

/* --- reading events, verify counts, the event hook ------------------- */

#define EV_MAX	16

/* What a store_events_find callback or the event hook saw. */
struct evseen {
	int	n;
	int64_t	id[EV_MAX];
	int64_t	at[EV_MAX];
	long	uid[EV_MAX];
	char	action[EV_MAX][16];
	char	user[EV_MAX][16];	/* "(null)" for NULL */
	char	fp[EV_MAX][32];
	char	detail[EV_MAX][32];
	char	hash[EV_MAX][65];
	int	committed[EV_MAX];	/* hook: another connection sees it */
};

static void
ev_copy(struct evseen *v, const struct store_event_row *e)
{
	cr_assert_lt(v->n, EV_MAX);
	cr_assert_not_null(e->actor);
	cr_assert_not_null(e->action);
	cr_assert_not_null(e->hash);
	v->id[v->n] = e->id;
	v->at[v->n] = e->at;
	v->uid[v->n] = e->actor_uid;
	snprintf(v->action[v->n], sizeof(v->action[0]), "%s", e->action);
	snprintf(v->user[v->n], sizeof(v->user[0]), "%s",
	    e->user != NULL ? e->user : "(null)");
	snprintf(v->fp[v->n], sizeof(v->fp[0]), "%s",
	    e->fingerprint != NULL ? e->fingerprint : "(null)");
	snprintf(v->detail[v->n], sizeof(v->detail[0]), "%s",
	    e->detail != NULL ? e->detail : "(null)");
	snprintf(v->hash[v->n], sizeof(v->hash[0]), "%s", e->hash);
}

static int
ev_collect(const struct store_event_row *e, void *arg)
{
	struct evseen	*v = arg;

	ev_copy(v, e);
	v->n++;
	return 0;
}

/* The stored hash of event id, through a separate connection (or ""). */
static void
raw_hash(int64_t id, char out[65])
{
	sqlite3		*db = raw_open();
	sqlite3_stmt	*st;

	out[0] = '\0';
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT hash FROM events "
	    "WHERE id = ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, 65, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The hook: records the event and whether it is committed already. */
static void
ev_hook(const struct store_event_row *e, void *arg)
{
	struct evseen	*v = arg;
	char		 h[65];

	ev_copy(v, e);
	raw_hash(e->id, h);
	v->committed[v->n] = strcmp(h, e->hash) == 0;
	v->n++;
}

static void
append_ev(struct store *s, int64_t at, const char *action, const char *user,
    const char *fp, const char *detail)
{
	struct store_event	e = { at, "admin", 1001, action, user, fp,
				    detail };

	cr_assert_eq(store_event_append(s, &e), 0, "%s", store_errmsg(s));
}

/* Six events: alice and bob, keys one and two, at 100..600. */
static void
six_events(struct store *s)
{
	append_ev(s, 100, "add", "alice", "SHA256:one", "first");
	append_ev(s, 200, "add", "bob", "SHA256:one", NULL);
	append_ev(s, 300, "add", "alice", "SHA256:two", NULL);
	append_ev(s, 400, "revoke", NULL, "SHA256:one", "leaked");
	append_ev(s, 500, "revoke", "bob", "SHA256:one", NULL);
	append_ev(s, 600, "add-failed", "alice", NULL, "unsafe");
}

static int
ev_find(struct store *s, const char *user, const char *fp, int64_t since,
    struct evseen *v)
{
	struct store_event_query	q = { user, fp, since };

	memset(v, 0, sizeof(*v));
	return store_events_find(s, &q, ev_collect, v);
}

Test(store, events_find_returns_every_field_oldest_first)
{
	struct store	*s = must_open();
	struct evseen	 v;
	char		 h[65];
	int		 i;

	six_events(s);
	cr_assert_eq(ev_find(s, NULL, NULL, 0, &v), 0, "%s", store_errmsg(s));
	cr_assert_eq(v.n, 6);
	for (i = 0; i < 6; i++) {
		cr_assert_eq(v.id[i], i + 1);
		cr_assert_eq(v.at[i], 100 * (i + 1));
		cr_assert_eq(v.uid[i], 1001);
		raw_hash(v.id[i], h);
		cr_assert_str_eq(v.hash[i], h);
	}
	cr_assert_str_eq(v.action[0], "add");
	cr_assert_str_eq(v.user[0], "alice");
	cr_assert_str_eq(v.fp[0], "SHA256:one");
	cr_assert_str_eq(v.detail[0], "first");
	cr_assert_str_eq(v.user[3], "(null)");		/* NULL stays NULL */
	cr_assert_str_eq(v.detail[3], "leaked");
	cr_assert_str_eq(v.fp[5], "(null)");
	cr_assert_str_eq(v.action[5], "add-failed");
	store_close(s);
}

Test(store, events_find_filters)
{
	struct store	*s = must_open();
	struct evseen	 v;

	six_events(s);
	cr_assert_eq(ev_find(s, "alice", NULL, 0, &v), 0);
	cr_assert_eq(v.n, 3);
	cr_assert_eq(v.id[0], 1);
	cr_assert_eq(v.id[1], 3);
	cr_assert_eq(v.id[2], 6);
	cr_assert_eq(ev_find(s, NULL, "SHA256:one", 0, &v), 0);
	cr_assert_eq(v.n, 4);
	cr_assert_eq(v.id[0], 1);
	cr_assert_eq(v.id[1], 2);
	cr_assert_eq(v.id[2], 4);
	cr_assert_eq(v.id[3], 5);
	cr_assert_eq(ev_find(s, "bob", "SHA256:one", 0, &v), 0);
	cr_assert_eq(v.n, 2);
	cr_assert_eq(v.id[0], 2);
	cr_assert_eq(v.id[1], 5);
	/* at >= since */
	cr_assert_eq(ev_find(s, NULL, NULL, 400, &v), 0);
	cr_assert_eq(v.n, 3);
	cr_assert_eq(v.id[0], 4);
	cr_assert_eq(ev_find(s, "alice", NULL, 300, &v), 0);
	cr_assert_eq(v.n, 2);
	cr_assert_eq(v.id[0], 3);
	cr_assert_eq(ev_find(s, NULL, "SHA256:one", 201, &v), 0);
	cr_assert_eq(v.n, 2);
	cr_assert_eq(v.id[0], 4);
	cr_assert_eq(ev_find(s, "bob", "SHA256:one", 501, &v), 0);
	cr_assert_eq(v.n, 0);
	cr_assert_eq(ev_find(s, "carol", NULL, 0, &v), 0);
	cr_assert_eq(v.n, 0);
	cr_assert_eq(ev_find(s, NULL, "SHA256:three", 0, &v), 0);
	cr_assert_eq(v.n, 0);
	cr_assert_eq(ev_find(s, NULL, NULL, 601, &v), 0);
	cr_assert_eq(v.n, 0);
	/* a value is bound, never pasted: a quote matches nothing */
	cr_assert_eq(ev_find(s, "alice' OR '1'='1", NULL, 0, &v), 0);
	cr_assert_eq(v.n, 0);
	store_close(s);
}

static int
ev_stop(const struct store_event_row *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 7;
}

Test(store, events_find_stops_when_the_callback_says_so)
{
	struct store			*s = must_open();
	struct store_event_query	 q;
	struct evseen			 v;
	int				 calls = 0;

	six_events(s);
	memset(&q, 0, sizeof(q));
	cr_assert_eq(store_events_find(s, &q, ev_stop, &calls), 7);
	cr_assert_eq(calls, 1);
	q.user = "alice";
	cr_assert_eq(store_events_find(s, &q, ev_stop, &calls), 7);
	q.fingerprint = "SHA256:two";
	cr_assert_eq(store_events_find(s, &q, ev_stop, &calls), 7);
	cr_assert_eq(calls, 3);
	/* the statements were reset: the next read starts over */
	cr_assert_eq(ev_find(s, NULL, NULL, 0, &v), 0);
	cr_assert_eq(v.n, 6);
	store_close(s);
}

Test(store, verify_counts_and_gives_the_newest_hash)
{
	struct store		*s = must_open();
	struct store_chain	 ch;
	char			 zeros[65], h[65];

	memset(zeros, '0', 64);
	zeros[64] = '\0';
	memset(&ch, 0x55, sizeof(ch));
	cr_assert_eq(store_verify_chain(s, &ch), 0, "%s", store_errmsg(s));
	cr_assert_eq(ch.checked, 0);
	cr_assert_eq(ch.bad_id, 0);
	cr_assert_eq(ch.problem, STORE_CHAIN_INTACT);
	cr_assert_eq(ch.triggers, STORE_TRIGGERS_INTACT);
	cr_assert_str_eq(ch.last_hash, zeros);
	six_events(s);
	cr_assert_eq(store_verify_chain(s, &ch), 0, "%s", store_errmsg(s));
	cr_assert_eq(ch.checked, 6);
	cr_assert_eq(ch.bad_id, 0);
	raw_hash(6, h);
	cr_assert_str_eq(ch.last_hash, h);
	store_close(s);
}

Test(store, verify_reports_what_came_before_the_bad_event)
{
	struct store		*s = must_open();
	struct store_chain	 ch;
	char			 msg[512], h[65];

	six_events(s);
	raw_hash(3, h);
	store_close(s);
	tamper("UPDATE events SET detail = 'edited' WHERE id = 4");
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(store_verify_chain(s, &ch), KE_FINDINGS);
	cr_assert_eq(ch.bad_id, 4);
	cr_assert_eq(ch.checked, 3);
	cr_assert_str_eq(ch.last_hash, h);
	cr_assert_str_eq(store_errmsg(s), "event 4 does not match its hash");
	store_close(s);
}

/* Deleting the newest event leaves an intact, shorter chain (the limit). */
Test(store, verify_cannot_see_a_cut_newest_event_but_its_hash_changes)
{
	struct store		*s = must_open();
	struct store_chain	 before, after;
	char			 msg[512];

	six_events(s);
	cr_assert_eq(store_verify_chain(s, &before), 0);
	store_close(s);
	tamper_and_hide("DELETE FROM events WHERE id = 6");
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(store_verify_chain(s, &after), 0, "%s",
	    store_errmsg(s));
	cr_assert_eq(after.checked, 5);
	cr_assert_eq(after.triggers, STORE_TRIGGERS_INTACT);
	cr_assert_str_neq(after.last_hash, before.last_hash);
	store_close(s);
}

/* --- verify: ids and triggers ---------------------------------------- */

/* Reopen after tampering; verify finds something: the result in ch. */
static void
verify_finds(struct store **s, struct store_chain *ch)
{
	char	msg[512];

	store_close(*s);
	cr_assert_eq(open_store(STORE_READONLY, s, msg, sizeof(msg)), 0,
	    "%s", msg);
	memset(ch, 0x55, sizeof(*ch));
	cr_assert_eq(store_verify_chain(*s, ch), KE_FINDINGS, "%s",
	    store_errmsg(*s));
}

/* ids are not hashed: renumbered rows keep every hash and link. */
Test(store, verify_wants_the_first_id_to_be_1)
{
	struct store		*s = must_open();
	struct store_chain	 ch;
	char			 zeros[65];

	memset(zeros, '0', 64);
	zeros[64] = '\0';
	six_events(s);
	store_close(s);
	tamper_and_hide("UPDATE events SET id = id + 100");
	s = NULL;
	verify_finds(&s, &ch);
	cr_assert_eq(ch.problem, STORE_CHAIN_ID);
	cr_assert_eq(ch.bad_id, 101);
	cr_assert_eq(ch.checked, 0);
	cr_assert_str_eq(ch.last_hash, zeros);
	cr_assert_eq(ch.triggers, STORE_TRIGGERS_INTACT);
	cr_assert_str_eq(store_errmsg(s), "event 101: the first id is 101, "
	    "not 1 (rows removed or renumbered)");
	store_close(s);
}

Test(store, verify_finds_a_gap_in_the_ids)
{
	struct store		*s = must_open();
	struct store_chain	 ch;
	char			 h[65];

	six_events(s);
	raw_hash(3, h);
	store_close(s);
	/* rows 4.. move up: the hashes still chain, the ids do not */
	tamper_and_hide("UPDATE events SET id = id + 10 WHERE id > 3");
	s = NULL;
	verify_finds(&s, &ch);
	cr_assert_eq(ch.problem, STORE_CHAIN_ID);
	cr_assert_eq(ch.bad_id, 14);
	cr_assert_eq(ch.checked, 3);
	cr_assert_str_eq(ch.last_hash, h);
	cr_assert_eq(ch.triggers, STORE_TRIGGERS_INTACT);
	cr_assert_str_eq(store_errmsg(s), "event 14: ids jump from 3 to 14 "
	    "(rows removed or renumbered)");
	store_close(s);
}

/* Appends that roll back give their ids back: no gap, ever. */
Test(store, rolled_back_appends_leave_no_gap)
{
	struct store		*s = must_open();
	struct store_chain	 ch;
	struct evseen		 v;
	int			 i;

	append_ev(s, 100, "add", "alice", NULL, NULL);
	cr_assert_eq(store_begin(s), 0);
	append_ev(s, 200, "add", "bob", NULL, NULL);
	append_ev(s, 300, "add", "carol", NULL, NULL);
	cr_assert_eq(store_rollback(s), 0);
	append_ev(s, 400, "add", "dave", NULL, NULL);
	cr_assert_eq(store_begin(s), 0);
	append_ev(s, 500, "add", "erin", NULL, NULL);
	store_close(s);			/* open: rolled back */
	s = must_open();
	append_ev(s, 600, "add", "frank", NULL, NULL);
	cr_assert_eq(ev_find(s, NULL, NULL, 0, &v), 0);
	cr_assert_eq(v.n, 3);
	for (i = 0; i < v.n; i++)
		cr_assert_eq(v.id[i], i + 1);
	cr_assert_eq(store_verify_chain(s, &ch), 0, "%s", store_errmsg(s));
	cr_assert_eq(ch.checked, 3);
	store_close(s);
}

/* Run sql on the raw file (triggers left as they are). */
static void
raw_sql(const char *sql)
{
	sqlite3	*db = raw_open();

	raw_must(db, sql);
	sqlite3_close(db);
}

/* An intact chain, but a trigger gone: still a finding. */
Test(store, verify_finds_a_dropped_trigger)
{
	struct store		*s = must_open();
	struct store_chain	 ch;
	char			 h[65];

	six_events(s);
	raw_hash(6, h);
	store_close(s);
	raw_sql("DROP TRIGGER events_no_delete");
	s = NULL;
	verify_finds(&s, &ch);
	cr_assert_eq(ch.triggers, STORE_TRIGGERS_MISSING);
	cr_assert_eq(ch.problem, STORE_CHAIN_INTACT);
	cr_assert_eq(ch.bad_id, 0);
	cr_assert_eq(ch.checked, 6);
	cr_assert_str_eq(ch.last_hash, h);
	cr_assert_str_eq(store_errmsg(s), "the append-only triggers are "
	    "gone: the log can be edited");
	cr_assert_str_eq(store_errmsg(s),
	    store_triggers_str(STORE_TRIGGERS_MISSING));
	store_close(s);
}

/* Triggers with other SQL, or one the schema never made. */
Test(store, verify_finds_altered_or_extra_triggers)
{
	static const char *const bad[] = {
		/* present, but never fires */
		"DROP TRIGGER events_no_update; CREATE TRIGGER "
		"events_no_update BEFORE UPDATE ON events WHEN 0 BEGIN "
		"SELECT RAISE(ABORT, 'events are append-only'); END",
		/* the same, but for the case of one word: not ours */
		"DROP TRIGGER events_no_delete; CREATE TRIGGER "
		"events_no_delete BEFORE DELETE ON events begin "
		"SELECT RAISE(ABORT, 'events are append-only'); END",
		/* an extra one that silences updates */
		"CREATE TRIGGER events_quiet BEFORE UPDATE ON events BEGIN "
		"SELECT RAISE(IGNORE); END",
		/* an extra one elsewhere that could rewrite events */
		"CREATE TRIGGER keys_x AFTER INSERT ON keys BEGIN "
		"SELECT 1; END",
	};
	struct store		*s;
	struct store_chain	 ch;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = must_open();
		if (i == 0)
			six_events(s);
		store_close(s);
		raw_sql(bad[i]);
		s = NULL;
		verify_finds(&s, &ch);
		cr_assert_eq(ch.triggers, STORE_TRIGGERS_ALTERED, "%zu", i);
		cr_assert_eq(ch.problem, STORE_CHAIN_INTACT);
		cr_assert_eq(ch.checked, 6);
		cr_assert_str_eq(store_errmsg(s), "the append-only triggers "
		    "were altered: the log can be edited");
		store_close(s);
		/* put the schema back for the next case */
		raw_sql("DROP TRIGGER IF EXISTS events_no_update; "
		    "DROP TRIGGER IF EXISTS events_no_delete; "
		    "DROP TRIGGER IF EXISTS events_quiet; "
		    "DROP TRIGGER IF EXISTS keys_x; " TRIGGERS_001);
		s = must_open();
		cr_assert_eq(store_verify_chain(s, &ch), 0, "%zu: %s", i,
		    store_errmsg(s));
		store_close(s);
	}
}

/* Whitespace is not SQL: the triggers retyped differently still count. */
Test(store, verify_ignores_whitespace_in_trigger_sql)
{
	struct store		*s = must_open();
	struct store_chain	 ch;

	append(s, "admin", "add", "alice", NULL);
	store_close(s);
	raw_sql("DROP TRIGGER events_no_update; DROP TRIGGER "
	    "events_no_delete; CREATE TRIGGER events_no_update\n\n  BEFORE "
	    "UPDATE\tON events BEGIN SELECT RAISE(ABORT, 'events are "
	    "append-only');\nEND; " "CREATE TRIGGER events_no_delete BEFORE "
	    "DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are "
	    "append-only'); END");
	s = must_open();
	memset(&ch, 0x55, sizeof(ch));
	cr_assert_eq(store_verify_chain(s, &ch), 0, "%s", store_errmsg(s));
	cr_assert_eq(ch.triggers, STORE_TRIGGERS_INTACT);
	cr_assert_eq(ch.problem, STORE_CHAIN_INTACT);
	cr_assert_eq(ch.checked, 1);
	store_close(s);
	/* but a space where there was none is another text */
	raw_sql("DROP TRIGGER events_no_delete; CREATE TRIGGER "
	    "events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE "
	    "(ABORT, 'events are append-only'); END");
	s = must_open();
	cr_assert_eq(store_verify_chain(s, &ch), KE_FINDINGS);
	cr_assert_eq(ch.triggers, STORE_TRIGGERS_ALTERED);
	store_close(s);
}

/* Both wrong: the chain's problem is the message, the triggers flagged. */
Test(store, verify_reports_chain_and_triggers_together)
{
	struct store		*s = must_open();
	struct store_chain	 ch;

	six_events(s);
	store_close(s);
	tamper("UPDATE events SET detail = 'edited' WHERE id = 2");
	s = NULL;
	verify_finds(&s, &ch);
	cr_assert_eq(ch.problem, STORE_CHAIN_HASH);
	cr_assert_eq(ch.bad_id, 2);
	cr_assert_eq(ch.triggers, STORE_TRIGGERS_MISSING);
	cr_assert_str_eq(store_errmsg(s), "event 2 does not match its hash");
	store_close(s);
}

/*
 * The limit: a log rewritten with good hashes, ids without a gap and the
 * triggers put back passes.  Here the newest event is replaced: deleted,
 * then another appended under its id, chained by the store itself.
 */
Test(store, verify_cannot_see_a_replaced_newest_event)
{
	struct store		*s = must_open();
	struct store_chain	 before, after;
	char			 h3[65];

	append_ev(s, 100, "add", "alice", NULL, NULL);
	append_ev(s, 200, "add", "bob", NULL, NULL);
	append_ev(s, 300, "add", "mallory", NULL, NULL);
	cr_assert_eq(store_verify_chain(s, &before), 0);
	raw_hash(3, h3);
	store_close(s);
	/* the forger's delete, then an append as keyadm would make it */
	tamper_and_hide("DELETE FROM events WHERE id = 3");
	s = must_open();
	cr_assert_eq(store_verify_chain(s, &after), 0, "%s",
	    store_errmsg(s));
	cr_assert_eq(after.checked, 2);
	cr_assert_str_neq(after.last_hash, before.last_hash);
	append_ev(s, 300, "add", "carol", NULL, NULL);
	cr_assert_eq(store_verify_chain(s, &after), 0, "%s",
	    store_errmsg(s));
	cr_assert_eq(after.checked, 3);
	/* same id, another hash: only the copy sent off the machine shows */
	cr_assert_str_neq(after.last_hash, h3);
	store_close(s);
}

Test(store, triggers_str_says_what_is_wrong)
{
	cr_assert_str_eq(store_triggers_str(STORE_TRIGGERS_MISSING),
	    "the append-only triggers are gone: the log can be edited");
	cr_assert_str_eq(store_triggers_str(STORE_TRIGGERS_ALTERED),
	    "the append-only triggers were altered: the log can be edited");
	cr_assert_str_eq(store_triggers_str(STORE_TRIGGERS_INTACT),
	    "the append-only triggers are intact");
}

Test(store, hook_runs_after_commit_in_order_with_id_and_hash)
{
	struct store	*s = must_open();
	struct evseen	 v, rows;
	int		 i;

	memset(&v, 0, sizeof(v));
	store_set_event_hook(s, ev_hook, &v);
	cr_assert_eq(store_begin(s), 0);
	append_ev(s, 100, "add", "alice", "SHA256:one", "first");
	append_ev(s, 200, "add", "bob", NULL, NULL);
	append_ev(s, 300, "revoke", NULL, "SHA256:one", "leaked \"x\"");
	cr_assert_eq(v.n, 0, "the hook ran before the commit");
	cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
	cr_assert_eq(v.n, 3);
	cr_assert_eq(ev_find(s, NULL, NULL, 0, &rows), 0);
	cr_assert_eq(rows.n, 3);
	for (i = 0; i < 3; i++) {
		cr_assert(v.committed[i], "event %d not committed yet", i);
		cr_assert_eq(v.id[i], rows.id[i]);
		cr_assert_str_eq(v.hash[i], rows.hash[i]);
		cr_assert_str_eq(v.user[i], rows.user[i]);
		cr_assert_str_eq(v.fp[i], rows.fp[i]);
		cr_assert_str_eq(v.detail[i], rows.detail[i]);
		cr_assert_str_eq(v.action[i], rows.action[i]);
		cr_assert_eq(v.at[i], rows.at[i]);
		cr_assert_eq(v.uid[i], 1001);
	}
	/* the list was emptied: a second transaction reports only its own */
	cr_assert_eq(store_begin(s), 0);
	append_ev(s, 400, "expire", "alice", "SHA256:two", NULL);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(v.n, 4);
	cr_assert_eq(v.id[3], 4);
	cr_assert(v.committed[3]);
	store_close(s);
	cr_assert_eq(v.n, 4);
}

Test(store, hook_never_sees_a_rolled_back_event)
{
	struct store	*s = must_open();
	struct evseen	 v;

	memset(&v, 0, sizeof(v));
	store_set_event_hook(s, ev_hook, &v);
	cr_assert_eq(store_begin(s), 0);
	append_ev(s, 100, "add", "alice", "SHA256:one", NULL);
	append_ev(s, 200, "add", "bob", "SHA256:one", NULL);
	cr_assert_eq(store_rollback(s), 0);
	cr_assert_eq(v.n, 0);
	/* nothing kept either: the next commit reports only its event */
	cr_assert_eq(store_begin(s), 0);
	append_ev(s, 300, "add", "carol", "SHA256:two", NULL);
	cr_assert_eq(store_commit(s), 0);
	cr_assert_eq(v.n, 1);
	cr_assert_str_eq(v.user[0], "carol");
	cr_assert_eq(v.id[0], 1);	/* the rolled-back rows never were */
	cr_assert(v.committed[0]);
	/* a transaction left open at close is rolled back, unreported */
	cr_assert_eq(store_begin(s), 0);
	append_ev(s, 400, "add", "dave", "SHA256:two", NULL);
	store_close(s);
	cr_assert_eq(v.n, 1);
	s = must_open();
	cr_assert_eq(ev_find(s, NULL, NULL, 0, &v), 0);
	cr_assert_eq(v.n, 1);
	store_close(s);
}

Test(store, hook_after_an_append_in_its_own_transaction)
{
	struct store	*s = must_open();
	struct evseen	 v;
	char		 h[65];

	memset(&v, 0, sizeof(v));
	append_ev(s, 50, "add", "zed", NULL, NULL);	/* no hook yet */
	store_set_event_hook(s, ev_hook, &v);
	append_ev(s, 100, "add", "alice", "SHA256:one", "first");
	cr_assert_eq(v.n, 1);
	cr_assert_eq(v.id[0], 2);
	cr_assert(v.committed[0]);
	raw_hash(2, h);
	cr_assert_str_eq(v.hash[0], h);
	cr_assert_str_eq(v.detail[0], "first");
	append_ev(s, 200, "revoke", NULL, NULL, NULL);
	cr_assert_eq(v.n, 2);
	cr_assert_eq(v.id[1], 3);
	cr_assert(v.committed[1]);
	cr_assert_str_eq(v.user[1], "(null)");
	/* a refused append (no actor) reports nothing */
	{
		struct store_event e = { 1, NULL, 0, "add", NULL, NULL, NULL };
		cr_assert_eq(store_event_append(s, &e), KE_INTERNAL);
	}
	cr_assert_eq(v.n, 2);
	store_set_event_hook(s, NULL, NULL);
	append_ev(s, 300, "add", "bob", NULL, NULL);
	cr_assert_eq(v.n, 2);
	store_close(s);
}

/* An insert that fails inside the transaction is not kept for the hook. */
Test(store, hook_skips_an_append_that_failed)
{
	struct store	*s = must_open();
	struct evseen	 v;
	sqlite3		*db;

	store_close(s);
	db = raw_open();
	/* a trigger that refuses one action, as a full disk might */
	raw_must(db, "CREATE TRIGGER no_boom BEFORE INSERT ON events "
	    "WHEN NEW.action = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
	sqlite3_close(db);
	s = must_open();
	memset(&v, 0, sizeof(v));
	store_set_event_hook(s, ev_hook, &v);
	cr_assert_eq(store_begin(s), 0);
	append_ev(s, 100, "add", "alice", NULL, NULL);
	{
		struct store_event e = { 200, "admin", 0, "boom", NULL, NULL,
		    NULL };
		cr_assert_lt(store_event_append(s, &e), 0);
	}
	append_ev(s, 300, "add", "bob", NULL, NULL);
	cr_assert_eq(store_commit(s), 0, "%s", store_errmsg(s));
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.user[0], "alice");
	cr_assert_str_eq(v.user[1], "bob");
	cr_assert(v.committed[0] && v.committed[1]);
	store_close(s);
}

/* --- revocations ------------------------------------------------------- */

struct revseen {
	int	n;
	char	fp[8][32];
	char	by[8][16];
	char	reason[8][16];
	char	type[8][16];
	char	b64[8][16];
	int64_t	at[8];
	long	uid[8];
};

static int
rev_collect(const struct store_revocation *r, void *arg)
{
	struct revseen	*v = arg;

	cr_assert_lt(v->n, 8);
	snprintf(v->fp[v->n], sizeof(v->fp[0]), "%s", r->fingerprint);
	snprintf(v->by[v->n], sizeof(v->by[0]), "%s", r->revoked_by);
	snprintf(v->reason[v->n], sizeof(v->reason[0]), "%s", r->reason);
	snprintf(v->type[v->n], sizeof(v->type[0]), "%s", r->type);
	snprintf(v->b64[v->n], sizeof(v->b64[0]), "%s", r->b64);
	v->at[v->n] = r->revoked_at;
	v->uid[v->n] = r->revoked_uid;
	v->n++;
	return 0;
}

static int
rev_stop(const struct store_revocation *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 9;
}

Test(store, revocations_each_by_fingerprint)
{
	struct store	*s = must_open();
	struct revseen	 v;
	int64_t		 kc, ka, kb;
	int		 calls = 0;

	memset(&v, 0, sizeof(v));
	cr_assert_eq(store_revocations_each(s, rev_collect, &v), 0);
	cr_assert_eq(v.n, 0);
	kc = add_key(s, "SHA256:ccc");
	ka = add_key(s, "SHA256:aaa");
	kb = add_key(s, "SHA256:bbb");
	(void)kb;	/* known, never revoked: not listed */
	cr_assert_eq(store_revocation_add(s, kc, 1700000100, "carol", 7,
	    "stolen"), 0);
	cr_assert_eq(store_revocation_add(s, ka, 1700000200, "admin", 0,
	    "leaked"), 0);
	cr_assert_eq(store_revocations_each(s, rev_collect, &v), 0);
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.fp[0], "SHA256:aaa");
	cr_assert_str_eq(v.by[0], "admin");
	cr_assert_str_eq(v.reason[0], "leaked");
	cr_assert_eq(v.at[0], 1700000200);
	cr_assert_eq(v.uid[0], 0);
	cr_assert_str_eq(v.fp[1], "SHA256:ccc");
	cr_assert_str_eq(v.by[1], "carol");
	cr_assert_str_eq(v.reason[1], "stolen");
	cr_assert_eq(v.at[1], 1700000100);
	cr_assert_eq(v.uid[1], 7);
	cr_assert_str_eq(v.type[1], "ssh-ed25519");
	cr_assert_str_eq(v.b64[1], "AAAAblob");
	cr_assert_eq(store_revocations_each(s, rev_stop, &calls), 9);
	cr_assert_eq(calls, 1);
	cr_assert_eq(store_revocation_remove(s, ka), 0);
	memset(&v, 0, sizeof(v));
	cr_assert_eq(store_revocations_each(s, rev_collect, &v), 0);
	cr_assert_eq(v.n, 1);
	cr_assert_str_eq(v.fp[0], "SHA256:ccc");
	store_close(s);
}

Test(store, ever_revoked_sees_rows_and_events)
{
	struct store	*s = must_open();
	int64_t		 k;

	cr_assert_eq(store_ever_revoked(s), 0, "%s", store_errmsg(s));
	k = add_key(s, "SHA256:one");
	append_ev(s, 100, "add", "alice", "SHA256:one", NULL);
	append_ev(s, 200, "revoked", "alice", "SHA256:one", "revoke");
	append_ev(s, 300, "expire", "alice", "SHA256:one", NULL);
	cr_assert_eq(store_ever_revoked(s), 0);
	/* a revocations row alone (the event may be missing) */
	cr_assert_eq(store_revocation_add(s, k, 1, "admin", 0, "x"), 0);
	cr_assert_eq(store_ever_revoked(s), 1);
	cr_assert_eq(store_revocation_remove(s, k), 0);
	cr_assert_eq(store_ever_revoked(s), 0);
	/* a revoke for one account lists nothing: it does not count */
	append_ev(s, 400, "revoke", "bob", "SHA256:one", NULL);
	cr_assert_eq(store_ever_revoked(s), 0);
	/* a machine-wide revoke event alone: reinstated since */
	append_ev(s, 500, "revoke", NULL, "SHA256:one", "leaked");
	cr_assert_eq(store_ever_revoked(s), 1);
	store_close(s);
}

Test(store, ever_revoked_read_only)
{
	struct store	*s = must_open();
	char		 msg[512];

	append_ev(s, 400, "revoke", NULL, "SHA256:one", NULL);
	store_close(s);
	cr_assert_eq(open_store(STORE_READONLY, &s, msg, sizeof(msg)), 0,
	    "%s", msg);
	cr_assert_eq(store_ever_revoked(s), 1);
	store_close(s);
}

/* --- ctx_event_line: the syslog line of an event (ctx.c) --------------- */

#define HASH_A \
	"5ea71a17550e578b8dd0d949ae11e80d7c8abd32560cfe7806fd51d34e2ef42a"

static struct store_event_row
row(const char *actor, const char *action, const char *user,
    const char *fp, const char *detail)
{
	struct store_event_row	e;

	memset(&e, 0, sizeof(e));
	e.id = 42;
	e.at = 1700000000;
	e.actor = actor;
	e.actor_uid = 0;
	e.action = action;
	e.user = user;
	e.fingerprint = fp;
	e.detail = detail;
	e.hash = HASH_A;
	return e;
}

Test(ctx, event_line_has_every_field)
{
	struct store_event_row	e = row("root", "add", "alice",
				    "SHA256:abc",
				    "ticket 7; options: restrict");
	char			line[MSG_MAX];

	cr_assert_eq(ctx_event_line(&e, line, sizeof(line)), 0);
	cr_assert_str_eq(line, "event 42 add user=alice fingerprint=SHA256:abc "
	    "actor=root uid=0 hash=" HASH_A " detail=\"ticket 7; options: "
	    "restrict\"");
}

Test(ctx, event_line_absent_fields_are_dashes)
{
	struct store_event_row	e = row("uid 1234", "revoke", NULL, NULL,
				    NULL);
	char			line[MSG_MAX];

	e.actor_uid = 1234;
	cr_assert_eq(ctx_event_line(&e, line, sizeof(line)), 0);
	/* a blank in a value quotes it; a literal "-" is quoted too */
	cr_assert_str_eq(line, "event 42 revoke user=- fingerprint=- "
	    "actor=\"uid 1234\" uid=1234 hash=" HASH_A " detail=-");
	e = row("-", "add", "", NULL, "");
	cr_assert_eq(ctx_event_line(&e, line, sizeof(line)), 0);
	cr_assert_str_eq(line, "event 42 add user=\"\" fingerprint=- "
	    "actor=\"-\" uid=0 hash=" HASH_A " detail=\"\"");
}

/* Untrusted text can neither break the line nor forge a field. */
Test(ctx, event_line_escapes_untrusted_text)
{
	struct store_event_row	e = row("eve uid=0 hash=0000", "add",
				    "bob\nevent 43 add", "SHA256:abc",
				    "say \"hi\" \\ \x1b[2J done\"");
	char			line[MSG_MAX];

	cr_assert_eq(ctx_event_line(&e, line, sizeof(line)), 0);
	cr_assert_str_eq(line, "event 42 add user=\"bob\\x0aevent 43 add\" "
	    "fingerprint=SHA256:abc actor=\"eve uid=0 hash=0000\" uid=0 "
	    "hash=" HASH_A " detail=\"say \\\"hi\\\" \\\\ \\x1b[2J done\\\"\"");
	cr_assert_null(strchr(line, '\n'));
}

/* The end of a line cut to fit: "...", then the closing quote. */
static void
assert_cut(const char *line, size_t len)
{
	size_t	n = strlen(line), bs = 0;

	cr_assert_lt(n, len);
	cr_assert(n > 4 && strcmp(line + n - 4, "...\"") == 0, "%s",
	    line + (n > 40 ? n - 40 : 0));
	/* no escape cut in half: an even number of backslashes before */
	while (n - 4 - bs > 0 && line[n - 5 - bs] == '\\')
		bs++;
	cr_assert_eq(bs % 2, 0, "%s", line + n - 20);
	cr_assert(strstr(line, "hash=" HASH_A " ") != NULL);
}

Test(ctx, event_line_cuts_a_long_detail_and_keeps_the_hash)
{
	struct store_event_row	 e;
	char			 line[MSG_MAX], small[300], *d;
	size_t			 i, n;

	cr_assert_not_null(d = malloc(8193));
	memset(d, 'a', 8192);
	d[8192] = '\0';
	e = row("root", "add", "alice", "SHA256:abc", d);
	cr_assert_eq(ctx_event_line(&e, line, sizeof(line)), 0);
	assert_cut(line, sizeof(line));
	cr_assert_gt(strlen(line), sizeof(line) - 10);	/* uses the room */
	/* quotes doubled in length, cut between two of them */
	for (n = 0; n < sizeof(small); n++) {
		memset(d, '"', 8192);
		e = row("root", "add", "alice", "SHA256:abc", d);
		if (ctx_event_line(&e, small, n) != 0)
			continue;
		assert_cut(small, n);
	}
	/* UTF-8 never cut inside a character; \xNN never cut either */
	for (i = 0; i + 3 <= 8192; i += 3)
		memcpy(d + i, i % 2 ? "\xc3\xa9\x01" : "\x01\xc3\xa9", 3);
	d[i] = '\0';
	e = row("root", "add", "alice", "SHA256:abc", d);
	for (n = 200; n < sizeof(small); n++) {
		cr_assert_eq(ctx_event_line(&e, small, n), 0, "%zu", n);
		assert_cut(small, n);
		i = strlen(small) - 4;
		cr_assert((unsigned char)small[i - 1] != 0xc3, "%zu", n);
		cr_assert(strncmp(small + i - 3, "\\x0", 3) != 0 &&
		    strncmp(small + i - 2, "\\x", 2) != 0 &&
		    small[i - 1] != '\\', "%zu: %s", n, small + i - 8);
	}
	free(d);
}

Test(ctx, event_line_too_small_a_buffer)
{
	struct store_event_row	e = row("root", "add", "alice",
				    "SHA256:abc", "x");
	char			line[64];

	memset(line, 'z', sizeof(line));
	cr_assert_eq(ctx_event_line(&e, line, sizeof(line)), KE_INTERNAL);
	cr_assert_lt(strlen(line), sizeof(line));
	cr_assert_eq(ctx_event_line(&e, line, 0), KE_INTERNAL);
}

/* --- sharing with a group, login lookups (pam_keyadm) ---------------- */

static off_t
size_of(const char *rel)
{
	struct stat	st;

	cr_assert_eq(lstat(in_root(rel), &st), 0, "%s: %s", rel,
	    strerror(errno));
	return st.st_size;
}

static void
must_exist_mode(const char *rel, mode_t mode, gid_t gid)
{
	struct stat	st;

	cr_assert_eq(lstat(in_root(rel), &st), 0, "%s: %s", rel,
	    strerror(errno));
	cr_assert_eq(st.st_mode & 07777, mode, "%s: mode %04o, want %04o",
	    rel, (unsigned)(st.st_mode & 07777), (unsigned)mode);
	cr_assert_eq(st.st_gid, gid, "%s: gid %u, want %u", rel,
	    (unsigned)st.st_gid, (unsigned)gid);
}

Test(store, wal_and_shm_stay_after_close)
{
	struct store	*s = must_open();

	add_key(s, "SHA256:one");
	store_close(s);
	/* a reader that cannot create them could not open the store */
	must_exist_mode(DBPATH "-wal", 0600, getegid());
	must_exist_mode(DBPATH "-shm", 0600, getegid());
	/* journal_size_limit = 0: checkpointed and emptied, not left big */
	cr_assert_eq(size_of(DBPATH "-wal"), 0);
}

Test(store, shared_store_is_group_readable)
{
	struct store	*s = NULL;
	char		 msg[512];
	gid_t		 g = geteuid() == 0 ? 65534 : getegid();

	cr_assert_eq(store_open_shared(rootfd, root, DBPATH, STORE_CREATE,
	    BUSY_MS, (long)g, &s, msg, sizeof(msg)), 0, "%s", msg);
	add_key(s, "SHA256:one");
	store_close(s);
	must_exist_mode("/var/lib/keyadm", 02750, g);
	must_exist_mode(DBPATH, 0640, g);
	must_exist_mode(DBPATH "-wal", 0640, g);
	must_exist_mode(DBPATH "-shm", 0640, g);
	/* store_open leaves a shared store as it is, and reads it */
	cr_assert_eq(open_store(0, &s, msg, sizeof(msg)), 0, "%s", msg);
	store_close(s);
	must_exist_mode(DBPATH, 0640, g);
}

Test(store, sharing_an_existing_store_changes_its_files)
{
	struct store	*s = must_open();
	char		 msg[512];
	gid_t		 g = geteuid() == 0 ? 65534 : getegid();

	add_key(s, "SHA256:one");
	store_close(s);
	must_exist_mode(DBPATH, 0600, getegid());
	cr_assert_eq(store_open_shared(rootfd, root, DBPATH, 0, BUSY_MS,
	    (long)g, &s, msg, sizeof(msg)), 0, "%s", msg);
	store_close(s);
	must_exist_mode("/var/lib/keyadm", 02750, g);
	must_exist_mode(DBPATH, 0640, g);
	must_exist_mode(DBPATH "-wal", 0640, g);
	must_exist_mode(DBPATH "-shm", 0640, g);
}

Test(store, sharing_refuses_a_linked_wal)
{
	struct store	*s = must_open();
	char		 msg[512], other[PATH_MAX];

	store_close(s);
	cr_assert_eq(unlink(in_root(DBPATH "-wal")), 0);
	snprintf(other, sizeof(other), "%s", in_root("/var/lib/other"));
	write_file(other, "x", 1, 0600);
	cr_assert_eq(symlink(other, in_root(DBPATH "-wal")), 0);
	cr_assert_eq(store_open_shared(rootfd, root, DBPATH, 0, BUSY_MS,
	    (long)getegid(), &s, msg, sizeof(msg)), KE_UNSAFE, "%s", msg);
	cr_assert_null(s);
	cr_assert_eq(mode_of("/var/lib/other"), 0600, "not followed");
}

Test(store, nomigrate_refuses_an_older_schema)
{
	struct store	*s = NULL;
	sqlite3		*db;
	char		 msg[512];

	make_dbdir();
	db = raw_open();
	raw_must(db, "CREATE TABLE t (x); DROP TABLE t");
	sqlite3_close(db);
	cr_assert_eq(open_store(STORE_NOMIGRATE, &s, msg, sizeof(msg)),
	    KE_CONFIG);
	cr_assert_not_null(strstr(msg, "schema version 0 is older than this "
	    "code"), "%s", msg);
	db = raw_open();
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM sqlite_schema"), 0,
	    "untouched");
	sqlite3_close(db);
	s = must_open();
	store_close(s);
	cr_assert_eq(open_store(STORE_NOMIGRATE, &s, msg, sizeof(msg)), 0,
	    "%s", msg);
	store_close(s);
}

static enum store_login_state
login(struct store *s, const char *user, const char *fp, int64_t now,
    int64_t *grant)
{
	struct store_login	l;

	cr_assert_eq(store_login_find(s, user, fp, now, &l), 0, "%s",
	    store_errmsg(s));
	if (grant != NULL)
		*grant = l.grant_id;
	return l.state;
}

Test(store, login_find_follows_the_newest_grant)
{
	struct store	*s = must_open();
	int64_t		 kid, g1, g2, g;

	cr_assert_eq(login(s, "alice", "SHA256:none", 10, &g),
	    STORE_LOGIN_UNKNOWN);
	cr_assert_eq(g, 0);
	kid = add_key(s, "SHA256:one");
	cr_assert_eq(login(s, "alice", "SHA256:one", 10, NULL),
	    STORE_LOGIN_UNKNOWN, "a key without a grant");
	g1 = add_grant_exp(s, "alice", kid, 1800000000);
	cr_assert_eq(login(s, "alice", "SHA256:one", 1700000001, &g),
	    STORE_LOGIN_ACTIVE);
	cr_assert_eq(g, g1);
	cr_assert_eq(login(s, "bob", "SHA256:one", 1700000001, NULL),
	    STORE_LOGIN_UNKNOWN, "granted to another account");
	cr_assert_eq(login(s, "alice", "SHA256:one", 1800000000, NULL),
	    STORE_LOGIN_EXPIRED, "its time has come, expire has not run");
	cr_assert_eq(store_grant_close(s, g1, "revoked", 1700000002, "admin",
	    "left"), 0);
	cr_assert_eq(login(s, "alice", "SHA256:one", 1700000003, NULL),
	    STORE_LOGIN_REVOKED);
	g2 = add_grant_exp(s, "alice", kid, 0);
	cr_assert_eq(login(s, "alice", "SHA256:one", 1700000003, &g),
	    STORE_LOGIN_ACTIVE, "granted again");
	cr_assert_eq(g, g2);
	cr_assert_eq(store_grant_close(s, g2, "removed", 1700000004, "admin",
	    "moved"), 0);
	cr_assert_eq(login(s, "alice", "SHA256:one", 1700000005, NULL),
	    STORE_LOGIN_REMOVED);
	add_grant_exp(s, "alice", kid, 0);
	cr_assert_eq(store_revocation_add(s, kid, 1700000006, "admin", 0,
	    "leaked"), 0);
	cr_assert_eq(login(s, "alice", "SHA256:one", 1700000007, NULL),
	    STORE_LOGIN_REVOKED, "listed in the revoked-keys file");
	cr_assert_eq(login(s, "carol", "SHA256:one", 1700000007, NULL),
	    STORE_LOGIN_REVOKED, "listed: revoked for every account");
	store_close(s);
}

static int
used_cb(const struct store_grant *g, void *arg)
{
	struct store_grant	*out = arg;

	out->last_used_at = g->last_used_at;
	out->use_count = g->use_count;
	out->last_used_from = g->last_used_from != NULL &&
	    strcmp(g->last_used_from, "192.0.2.7") == 0 ? "192.0.2.7" :
	    g->last_used_from == NULL ? NULL : "other";
	return 0;
}

Test(store, grant_used_counts_and_keeps_the_address)
{
	struct store		*s = must_open();
	struct store_grant	 got;
	struct store_grant_query q = { 0 };
	int64_t			 kid, g;

	kid = add_key(s, "SHA256:one");
	g = add_grant(s, "alice", kid);
	q.id = g;
	memset(&got, 0, sizeof(got));
	cr_assert_eq(store_grants_find(s, &q, used_cb, &got), 0);
	cr_assert_eq(got.use_count, 0);
	cr_assert_eq(got.last_used_at, 0);
	cr_assert_null(got.last_used_from);
	cr_assert_eq(store_grant_used(s, g, 1700000100, "198.51.100.1"), 0);
	cr_assert_eq(store_grant_used(s, g, 1700000200, "192.0.2.7"), 0);
	cr_assert_eq(store_grants_find(s, &q, used_cb, &got), 0);
	cr_assert_eq(got.use_count, 2);
	cr_assert_eq(got.last_used_at, 1700000200);
	cr_assert_str_eq(got.last_used_from, "192.0.2.7");
	cr_assert_eq(store_grant_used(s, g + 100, 1, NULL), 1, "no grant");
	cr_assert_eq(store_set_busy(s, 0), 0);
	store_close(s);
}
