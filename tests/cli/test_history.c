/*
 * test_history.c -- the built keyadm in a --root tree: history (the audit
 * trail, filtered by account, key and time) and verify (the events hash
 * chain).
 *
 * Suites "history" and "verify".  Every test gets its own tree from
 * tree_make() (.init) and loses it in tree_remove() (.fini).  The store
 * is attacked the way someone with write access to the file would: the
 * sqlite3 shell drops the triggers that keep events append-only, then
 * edits, deletes, renumbers, reorders or forges rows, and mostly puts
 * the triggers back; python3 recomputes event hashes, one or the whole
 * chain, from the format documented in store.c, for a forger who knows
 * it.  python3's json module parses every --json document.
 *
 * That the event hook sends every committed event to syslog cannot be
 * seen from here; tests/unit/test_store.c covers it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "run.h"

#define DB_REL		"var/lib/keyadm/keyadm.db"
#define NEVENTS		5	/* events of scenario() */

static struct tree	T;

/* keyadm --root T ARGS... (NULL-terminated) */
#define ka(r, ...)	tree_ka(&T, (r), NULL, __VA_ARGS__)
/* keyadm ... that must exit 0; the result is freed. */
#define KA_OK(...)	TREE_KA_OK(&T, __VA_ARGS__)

/* The keys of scenario(): fingerprints as ssh-keygen -l prints them. */
struct keys {
	char	a1[PATH_MAX], b1[PATH_MAX], a2[PATH_MAX];	/* .pub */
	char	fa1[128], fb1[128], fa2[128];
};

static void
setup(void)
{
	tree_make(&T);
}

static void
teardown(void)
{
	tree_remove(&T);
}

TestSuite(history, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(verify, .init = setup, .fini = teardown, .timeout = 120);

/* ----------------------------------------------------------- helpers */

static const char *
db_path(char *buf)
{
	return tree_path(&T, buf, PATH_MAX, DB_REL);
}

/* INBOX/name.pub into pub, its fingerprint into fp. */
static void
key(const char *name, char *pub, char *fp)
{
	tree_keygen_pub(&T, "ed25519", 0, name, name, pub, fp);
}

/*
 * add (alice a1), add (bob b1), revoke a1 (two events: the revoked-keys
 * file, then alice's grant), add (alice a2):
 *   1 added alice a1, 2 added bob b1, 3 revoke - a1, 4 revoke alice a1,
 *   5 added alice a2.
 */
static void
scenario(struct keys *k)
{
	key("a1", k->a1, k->fa1);
	key("b1", k->b1, k->fb1);
	key("a2", k->a2, k->fa2);
	KA_OK("add", "alice", k->a1, "--reason", "ticket 1");
	KA_OK("add", "bob", k->b1);
	KA_OK("revoke", k->fa1, "--reason", "leaked");
	KA_OK("add", "alice", k->a2);
}

/* sqlite3 DB SQL, which must succeed: its first line (free it). */
static char *
sql(const char *text)
{
	char	*out = tree_sqlite3(&T, text);

	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* The attacker's first step: the append-only triggers go. */
static void
drop_triggers(void)
{
	free(sql("DROP TRIGGER events_no_update; "
	    "DROP TRIGGER events_no_delete"));
}

/*
 * The triggers of sql/001-initial.sql, retyped on one line each (only
 * whitespace differs), as a careful attacker puts them back.
 */
static void
restore_triggers(void)
{
	free(sql("CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
	    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END; "
	    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
	    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"));
}

/* Drop the triggers, run q, put the triggers back. */
static void
tamper(const char *q)
{
	drop_triggers();
	free(sql(q));
	restore_triggers();
}

/*
 * A forger's rewrite: the triggers go, edit runs (python3's sqlite3), and
 * every event's prev_hash and hash are recomputed in id order from the
 * format documented in store.c; the triggers come back.
 */
static void
rechain(const char *edit)
{
	static const char	 py[] =
	    "import hashlib, sqlite3, struct, sys\n"
	    "db = sqlite3.connect(sys.argv[1])\n"
	    "db.executescript(sys.argv[2])\n"
	    "def T(s):\n"
	    "    if s is None: return b'N'\n"
	    "    b = s.encode()\n"
	    "    return b'T' + struct.pack('>Q', len(b)) + b\n"
	    "def I(v): return b'I' + struct.pack('>q', v)\n"
	    "prev = '0' * 64\n"
	    "for r in db.execute('SELECT id, at, actor, actor_uid, action, "
	    "user, fingerprint, detail FROM events ORDER BY id').fetchall():\n"
	    "    m = b'keyadm-event-v1\\0' + T(prev) + I(r[1]) + T(r[2]) + "
	    "I(r[3]) + T(r[4]) + T(r[5]) + T(r[6]) + T(r[7])\n"
	    "    h = hashlib.sha256(m).hexdigest()\n"
	    "    db.execute('UPDATE events SET prev_hash = ?, hash = ? "
	    "WHERE id = ?', (prev, h, r[0]))\n"
	    "    prev = h\n"
	    "db.commit()\n";
	struct run_result	 r;
	char			 db[PATH_MAX];
	const char		*argv[] = { "python3", "-c", py, db_path(db),
				    edit, NULL };

	drop_triggers();
	cr_assert_eq(run_prog(&r, NULL, 0, argv, 0), 0, "python3: %s", r.err);
	run_free(&r);
	restore_triggers();
}

/* The stored hash of event id (64 hex digits). */
static void
hash_of(int id, char out[65])
{
	char	q[128], *h;

	xsnprintf(q, sizeof(q), "SELECT hash FROM events WHERE id = %d", id);
	h = sql(q);
	cr_assert_eq(strlen(h), 64, "event %d: hash [%s]", id, h);
	memcpy(out, h, 65);
	free(h);
}

/*
 * The hash event id would have now, recomputed outside keyadm from the
 * format documented in store.c ("Event hash", version 1).
 */
static void
rehash(int id, char out[65])
{
	static const char	 py[] =
	    "import hashlib, sqlite3, struct, sys\n"
	    "db = sqlite3.connect(sys.argv[1])\n"
	    "r = db.execute('SELECT prev_hash, at, actor, actor_uid, action, "
	    "user, fingerprint, detail FROM events WHERE id = ?', "
	    "(int(sys.argv[2]),)).fetchone()\n"
	    "def T(s):\n"
	    "    if s is None: return b'N'\n"
	    "    b = s.encode()\n"
	    "    return b'T' + struct.pack('>Q', len(b)) + b\n"
	    "def I(v): return b'I' + struct.pack('>q', v)\n"
	    "m = b'keyadm-event-v1\\0' + T(r[0]) + I(r[1]) + T(r[2]) + "
	    "I(r[3]) + T(r[4]) + T(r[5]) + T(r[6]) + T(r[7])\n"
	    "print(hashlib.sha256(m).hexdigest())\n";
	struct run_result	 r;
	char			 db[PATH_MAX], sid[16];
	const char		*argv[] = { "python3", "-c", py, db_path(db),
				    sid, NULL };

	xsnprintf(sid, sizeof(sid), "%d", id);
	cr_assert_eq(run_prog(&r, NULL, 0, argv, 0), 0, "python3: %s", r.err);
	cr_assert_eq(strlen(r.out), 65, "python3: [%s]", r.out);
	memcpy(out, r.out, 64);
	out[64] = '\0';
	run_free(&r);
}

/* Line i (0: the header) of text into out. */
static void
line_of(const char *text, int i, char *out, size_t len)
{
	const char	*p = text;
	size_t		 n;

	while (i-- > 0) {
		p = strchr(p, '\n');
		cr_assert_not_null(p, "too few lines:\n%s", text);
		p++;
	}
	n = strcspn(p, "\n");
	cr_assert_lt(n, len);
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The words of one history line: time actor action user fp detail... */
struct hline {
	char	time[32], actor[64], action[32], user[64], fp[128];
	char	detail[256];
};

static void
parse_line(const char *text, int i, struct hline *h)
{
	char	l[1024];
	int	off = 0;

	line_of(text, i, l, sizeof(l));
	memset(h, 0, sizeof(*h));
	cr_assert_eq(sscanf(l, "%31s %63s %31s %63s %127s %n", h->time,
	    h->actor, h->action, h->user, h->fp, &off), 5, "[%s]", l);
	xsnprintf(h->detail, sizeof(h->detail), "%s", l + off);
	/* RFC 3339 UTC */
	cr_assert_eq(strlen(h->time), 20, "[%s]", h->time);
	cr_assert(h->time[4] == '-' && h->time[10] == 'T' &&
	    h->time[19] == 'Z', "[%s]", h->time);
}

/* Line i is (action, user, fp). */
static void
assert_event(const char *text, int i, const char *action, const char *user,
    const char *fp)
{
	struct hline	h;

	parse_line(text, i, &h);
	cr_assert_str_eq(h.action, action, "line %d: %s", i, text);
	cr_assert_str_eq(h.user, user, "line %d: %s", i, text);
	cr_assert_str_eq(h.fp, fp, "line %d: %s", i, text);
}

/* ---------------------------------------------------------- history */

Test(history, every_event_oldest_first)
{
	struct run_result	r;
	struct keys		k;
	struct hline		h;
	char			hdr[256];

	scenario(&k);
	cr_assert_eq(ka(&r, "history", NULL), 0, "%s", r.err);
	cr_assert_str_empty(r.err);
	cr_assert_eq(text_lines(r.out), 1 + NEVENTS, "%s", r.out);
	line_of(r.out, 0, hdr, sizeof(hdr));
	cr_assert(strncmp(hdr, "TIME ", 5) == 0 && strstr(hdr, "ACTOR") &&
	    strstr(hdr, "ACTION") && strstr(hdr, "USER") &&
	    strstr(hdr, "FINGERPRINT") && strstr(hdr, "DETAIL"), "%s", hdr);
	assert_event(r.out, 1, "added", "alice", k.fa1);
	assert_event(r.out, 2, "added", "bob", k.fb1);
	assert_event(r.out, 3, "revoke", "-", k.fa1);
	assert_event(r.out, 4, "revoke", "alice", k.fa1);
	assert_event(r.out, 5, "added", "alice", k.fa2);
	parse_line(r.out, 1, &h);
	cr_assert_str_eq(h.detail, "ticket 1");
	parse_line(r.out, 2, &h);
	cr_assert_str_eq(h.detail, "-");	/* no reason, no options */
	parse_line(r.out, 4, &h);
	cr_assert_str_eq(h.detail, "leaked; 1 line removed");
	/* the tests run as root (sudo-less): the actor is a name */
	cr_assert_str_neq(h.actor, "-");
	run_free(&r);
}

Test(history, user_filter)
{
	struct run_result	r;
	struct keys		k;

	scenario(&k);
	cr_assert_eq(ka(&r, "history", "--user", "alice", NULL), 0, "%s",
	    r.err);
	cr_assert_eq(text_lines(r.out), 1 + 3, "%s", r.out);
	assert_event(r.out, 1, "added", "alice", k.fa1);
	assert_event(r.out, 2, "revoke", "alice", k.fa1);
	assert_event(r.out, 3, "added", "alice", k.fa2);
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "--user", "bob", NULL), 0);
	cr_assert_eq(text_lines(r.out), 1 + 1, "%s", r.out);
	assert_event(r.out, 1, "added", "bob", k.fb1);
	run_free(&r);
	/* an account without events (or that never existed): none */
	cr_assert_eq(ka(&r, "history", "--user", "carol", NULL), 0);
	cr_assert_eq(text_lines(r.out), 1, "%s", r.out);
	run_free(&r);
}

Test(history, key_filter)
{
	struct run_result	r;
	struct keys		k;

	scenario(&k);
	cr_assert_eq(ka(&r, "history", "--key", k.fa1, NULL), 0, "%s",
	    r.err);
	cr_assert_eq(text_lines(r.out), 1 + 3, "%s", r.out);
	assert_event(r.out, 1, "added", "alice", k.fa1);
	assert_event(r.out, 2, "revoke", "-", k.fa1);
	assert_event(r.out, 3, "revoke", "alice", k.fa1);
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "--key", k.fb1, NULL), 0);
	cr_assert_eq(text_lines(r.out), 1 + 1, "%s", r.out);
	assert_event(r.out, 1, "added", "bob", k.fb1);
	run_free(&r);
	/* both: the key's events for that account */
	cr_assert_eq(ka(&r, "history", "--user", "alice", "--key", k.fa1,
	    NULL), 0);
	cr_assert_eq(text_lines(r.out), 1 + 2, "%s", r.out);
	assert_event(r.out, 1, "added", "alice", k.fa1);
	assert_event(r.out, 2, "revoke", "alice", k.fa1);
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "--user", "bob", "--key", k.fa2,
	    NULL), 0);
	cr_assert_eq(text_lines(r.out), 1, "%s", r.out);
	run_free(&r);
}

Test(history, since_filter)
{
	struct run_result	r;
	struct keys		k;

	scenario(&k);
	cr_assert_eq(ka(&r, "history", "--since", "2099-01-01", NULL), 0,
	    "%s", r.err);
	cr_assert_eq(text_lines(r.out), 1, "%s", r.out);
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "--since", "1d", NULL), 0, "%s",
	    r.err);
	cr_assert_eq(text_lines(r.out), 1 + NEVENTS, "%s", r.out);
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "--since", "2000-01-01T00:00Z",
	    "--user", "bob", NULL), 0);
	cr_assert_eq(text_lines(r.out), 1 + 1, "%s", r.out);
	run_free(&r);
	/* move event 2 a week back: 1d leaves it out, 8d takes it in */
	drop_triggers();
	free(sql("UPDATE events SET at = at - 7 * 86400 WHERE id = 2"));
	cr_assert_eq(ka(&r, "history", "--since", "1d", NULL), 0);
	cr_assert_eq(text_lines(r.out), NEVENTS, "%s", r.out);
	assert_event(r.out, 1, "added", "alice", k.fa1);
	assert_event(r.out, 2, "revoke", "-", k.fa1);
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "--since", "8d", NULL), 0);
	cr_assert_eq(text_lines(r.out), 1 + NEVENTS, "%s", r.out);
	run_free(&r);
}

Test(history, bad_key_is_usage)
{
	static const char *const bad[] = {
		"SHA256:short",
		"MD5:aa:bb:cc",
		/* 43 characters, but of base64url */
		"SHA256:abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE",
		/* 44 */
		"SHA256:abcdefghijklmnopqrstuvwxyz0123456789+/ABCDEF",
		"sha256:abcdefghijklmnopqrstuvwxyz0123456789+/ABCDE",
	};
	struct run_result	r;
	char			want[256];
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(ka(&r, "history", "--key", bad[i], NULL), 64,
		    "%s: %s", bad[i], r.err);
		xsnprintf(want, sizeof(want), "keyadm: %s: not a SHA256 "
		    "fingerprint\n", bad[i]);
		cr_assert_str_eq(r.err, want);
		cr_assert_str_empty(r.out);
		run_free(&r);
	}
	/* the right shape is accepted, even for a key never seen */
	cr_assert_eq(ka(&r, "history", "--key",
	    "SHA256:abcdefghijklmnopqrstuvwxyz0123456789+/ABCDE", NULL), 0,
	    "%s", r.err);
	run_free(&r);
}

Test(history, bad_user_and_bad_arguments)
{
	struct run_result	r;

	cr_assert_eq(ka(&r, "history", "--user", "al ice", NULL), 67);
	cr_assert_str_eq(r.err, "keyadm: al ice: not a valid user name\n");
	cr_assert_str_empty(r.out);
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "--since", "tomorrow", NULL), 64);
	cr_assert_str_eq(r.err, "keyadm: --since: expected YYYY-MM-DD, "
	    "YYYY-MM-DDTHH:MM[:SS]Z or a duration such as 30d\n");
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "--bogus", NULL), 64);
	cr_assert(strstr(r.err, "keyadm: --bogus: unknown option") != NULL,
	    "%s", r.err);
	cr_assert(strstr(r.err, "usage: keyadm history") != NULL);
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "alice", NULL), 64);
	run_free(&r);
	cr_assert_eq(ka(&r, "history", "--help", NULL), 0);
	cr_assert(strncmp(r.out, "usage: keyadm history ", 22) == 0, "%s",
	    r.out);
	run_free(&r);
}

Test(history, json_has_every_field)
{
	static const char	 check[] =
	    "import json, sys\n"
	    "d = json.load(sys.stdin)\n"
	    "assert isinstance(d, list) and len(d) == int(sys.argv[1]), d\n"
	    "want = {'id', 'at', 'actor', 'actor_uid', 'action', 'user', "
	    "'fingerprint', 'detail', 'hash'}\n"
	    "for e in d: assert set(e) == want, e\n"
	    "assert [e['id'] for e in d] == list(range(1, len(d) + 1))\n"
	    "assert [e['action'] for e in d] == ['added', 'added', 'revoke', "
	    "'revoke', 'added']\n"
	    "assert d[2]['user'] is None and d[1]['detail'] is None\n"
	    "assert d[0]['user'] == 'alice' and d[0]['detail'] == 'ticket 1'\n"
	    "assert d[0]['fingerprint'] == sys.argv[2]\n"
	    "assert all(len(e['hash']) == 64 for e in d)\n"
	    "assert all(isinstance(e['actor_uid'], int) for e in d)\n"
	    "assert all(e['at'].endswith('Z') and len(e['at']) == 20 "
	    "for e in d)\n"
	    "assert d[4]['hash'] == sys.argv[3]\n";
	struct run_result	 r, p;
	struct keys		 k;
	char			 h[65], n[8];
	const char		*argv[] = { "python3", "-c", check, n, k.fa1,
				    h, NULL };

	scenario(&k);
	hash_of(NEVENTS, h);
	xsnprintf(n, sizeof(n), "%d", NEVENTS);
	cr_assert_eq(ka(&r, "--json", "history", NULL), 0, "%s", r.err);
	cr_assert(json_valid(r.out, r.outlen), "%s", r.out);
	cr_assert_eq(run_prog(&p, r.out, r.outlen, argv, 0), 0, "%s\n%s",
	    p.err, r.out);
	run_free(&p);
	run_free(&r);
	/* filtered: still an array */
	cr_assert_eq(ka(&r, "--json", "history", "--user", "carol", NULL), 0);
	cr_assert_str_eq(r.out, "[]\n");
	run_free(&r);
}

Test(history, no_store_is_empty)
{
	struct run_result	r;
	char			db[PATH_MAX];

	cr_assert_eq(ka(&r, "history", NULL), 0, "%s", r.err);
	cr_assert_str_empty(r.err);
	cr_assert_eq(text_lines(r.out), 1, "%s", r.out);	/* the header */
	run_free(&r);
	cr_assert_eq(ka(&r, "--json", "history", "--user", "alice", NULL), 0);
	cr_assert_str_eq(r.out, "[]\n");
	run_free(&r);
	/* and history created nothing */
	cr_assert_eq(access(db_path(db), F_OK), -1);
}

/* ------------------------------------------------------------ verify */

/* keyadm verify: exit status, stdout and stderr as expected. */
static void
verify_is(int status, const char *out, const char *err)
{
	struct run_result	r;

	cr_assert_eq(ka(&r, "verify", NULL), status, "stdout %s\nstderr %s",
	    r.out, r.err);
	cr_assert_str_eq(r.out, out);
	cr_assert_str_eq(r.err, err);
	run_free(&r);
}

/*
 * verify says the chain breaks at event bad after good intact ones;
 * problem follows "event N" after a space, or right after it if it
 * starts with ':'.
 */
static void
verify_broken(int bad, int good, const char *problem)
{
	char	out[256], err[PATH_MAX + 256], db[PATH_MAX];

	xsnprintf(out, sizeof(out), "chain broken at event %d after %d "
	    "event%s checked\n", bad, good, good == 1 ? "" : "s");
	xsnprintf(err, sizeof(err), "keyadm: %s: event %d%s%s\n", db_path(db),
	    bad, problem[0] == ':' ? "" : " ", problem);
	verify_is(1, out, err);
}

static void
verify_intact(int n, int newest)
{
	char	out[256], h[65];

	hash_of(newest, h);
	xsnprintf(out, sizeof(out), "%d events checked, chain intact; "
	    "newest hash %s\n", n, h);
	verify_is(0, out, "");
}

Test(verify, intact_chain)
{
	struct run_result	r;
	struct keys		k;
	char			h[65], want[256];

	scenario(&k);
	verify_intact(NEVENTS, NEVENTS);
	hash_of(NEVENTS, h);
	cr_assert_eq(ka(&r, "--json", "verify", NULL), 0, "%s", r.err);
	cr_assert(json_valid(r.out, r.outlen), "%s", r.out);
	xsnprintf(want, sizeof(want), "{\"events_checked\":5,"
	    "\"intact\":true,\"triggers_intact\":true,\"first_bad_id\":null,"
	    "\"problem\":null,\"last_hash\":\"%s\"}\n", h);
	cr_assert_str_eq(r.out, want);
	run_free(&r);
	/* verify only reads: the chain and its newest hash are the same */
	verify_intact(NEVENTS, NEVENTS);
	cr_assert_eq(ka(&r, "verify", "extra", NULL), 64);
	run_free(&r);
}

Test(verify, no_store_is_noinput)
{
	char	err[PATH_MAX + 128], db[PATH_MAX];

	xsnprintf(err, sizeof(err), "keyadm: %s: no store: nothing has been "
	    "recorded\n", db_path(db));
	verify_is(66, "", err);
	cr_assert_eq(access(db, F_OK), -1);	/* and made none */
}

/* (a) An edited row no longer matches its hash. */
Test(verify, edited_detail)
{
	struct keys	k;

	scenario(&k);
	tamper("UPDATE events SET detail = 'routine rotation' WHERE id = 3");
	verify_broken(3, 2, "does not match its hash");
}

/* (b) A deleted row: the next one no longer follows its predecessor. */
Test(verify, deleted_row)
{
	struct keys	k;

	scenario(&k);
	tamper("DELETE FROM events WHERE id = 2");
	verify_broken(3, 1, "does not follow the event before it");
}

/*
 * (c) A forger who knows the hash format edits a row and gives it its
 * correct new hash: that row checks, but the next one names the old hash.
 */
Test(verify, edited_and_rehashed_row)
{
	struct keys	k;
	char		h[65], q[256];

	scenario(&k);
	drop_triggers();
	free(sql("UPDATE events SET user = 'bob' WHERE id = 4"));
	rehash(4, h);
	xsnprintf(q, sizeof(q), "UPDATE events SET hash = '%s' WHERE id = 4",
	    h);
	free(sql(q));
	restore_triggers();
	verify_broken(5, 4, "does not follow the event before it");
}

/* (d) Two rows' times swapped: both change, the first is named. */
Test(verify, swapped_times)
{
	struct keys	k;

	scenario(&k);
	tamper("UPDATE events SET at = at + 3600 WHERE id = 2; "
	    "UPDATE events SET at = at - 3600 WHERE id = 4");
	verify_broken(2, 1, "does not match its hash");
}

/* (d) A forged row in place of a deleted one, chained but made up. */
Test(verify, forged_row_in_the_middle)
{
	struct keys	k;
	char		prev[65], q[512];

	scenario(&k);
	hash_of(2, prev);
	xsnprintf(q, sizeof(q), "DELETE FROM events WHERE id = 3; "
	    "INSERT INTO events (id, at, actor, actor_uid, action, user, "
	    "fingerprint, detail, prev_hash, hash) VALUES (3, 1700000000, "
	    "'root', 0, 'added', 'mallory', NULL, NULL, '%s', '%064d')",
	    prev, 7);
	tamper(q);
	verify_broken(3, 2, "does not match its hash");
}

/* (d) A forged row appended with a made-up hash, after an id gap. */
Test(verify, forged_row_at_the_end)
{
	struct keys	k;
	char		prev[65], q[512];

	scenario(&k);
	hash_of(NEVENTS, prev);
	xsnprintf(q, sizeof(q), "INSERT INTO events (id, at, actor, "
	    "actor_uid, action, user, fingerprint, detail, prev_hash, hash) "
	    "VALUES (100, 1700000000, 'root', 0, 'added', 'mallory', NULL, "
	    "NULL, '%s', '%064d')", prev, 7);
	free(sql(q));		/* an INSERT needs no trigger dropped */
	verify_broken(100, NEVENTS, "does not match its hash");
}

/*
 * (e) The known limit: deleting the newest rows leaves a shorter chain
 * that is intact.  verify still exits 0, but the newest hash it prints
 * changes, which a copy kept elsewhere (syslog) shows.
 */
Test(verify, cut_newest_rows_change_the_newest_hash)
{
	struct run_result	r;
	struct keys		k;
	char			before[65], after[65];

	scenario(&k);
	hash_of(NEVENTS, before);
	tamper("DELETE FROM events WHERE id = 5");
	hash_of(NEVENTS - 1, after);
	cr_assert_str_neq(before, after);
	verify_intact(NEVENTS - 1, NEVENTS - 1);
	cr_assert_eq(ka(&r, "verify", NULL), 0);
	cr_assert_null(strstr(r.out, before), "%s", r.out);
	run_free(&r);
	/* every row gone: intact, and nothing to vouch for */
	tamper("DELETE FROM events");
	verify_is(0, "0 events checked, chain intact\n", "");
	cr_assert_eq(ka(&r, "--json", "verify", NULL), 0);
	cr_assert_str_eq(r.out, "{\"events_checked\":0,\"intact\":true,"
	    "\"triggers_intact\":true,\"first_bad_id\":null,"
	    "\"problem\":null,\"last_hash\":null}\n");
	run_free(&r);
}

Test(verify, broken_chain_as_json)
{
	struct run_result	r;
	struct keys		k;
	char			err[2 * PATH_MAX + 256], db[PATH_MAX];

	scenario(&k);
	drop_triggers();	/* and left dropped: two findings */
	free(sql("UPDATE events SET detail = 'x' WHERE id = 3"));
	cr_assert_eq(ka(&r, "--json", "verify", NULL), 1);
	cr_assert(json_valid(r.out, r.outlen), "%s", r.out);
	cr_assert_str_eq(r.out, "{\"events_checked\":2,\"intact\":false,"
	    "\"triggers_intact\":false,\"first_bad_id\":3,"
	    "\"problem\":\"event 3 does not match its hash\","
	    "\"last_hash\":null}\n");
	xsnprintf(err, sizeof(err), "keyadm: %s: event 3 does not match its "
	    "hash\nkeyadm: %s: the append-only triggers are gone: the log "
	    "can be edited\n", db_path(db), db);
	cr_assert_str_eq(r.err, err);
	run_free(&r);
	verify_is(1, "chain broken at event 3 after 2 events checked\n"
	    "append-only triggers gone\n", err);
	/* -q: the exit status and stderr say it all */
	cr_assert_eq(ka(&r, "-q", "verify", NULL), 1);
	cr_assert_str_empty(r.out);
	cr_assert(strstr(r.err, "event 3 does not match its hash") != NULL);
	run_free(&r);
}

/* ------------------------------------- verify: ids and the triggers */

/*
 * Every id moved up by 100 and every hash recomputed: the chain holds
 * (ids are not hashed), the ids do not, and the first row is named.
 */
Test(verify, renumbered_ids_and_rechained)
{
	struct run_result	r;
	struct keys		k;
	char			h[65], h101[65];

	scenario(&k);
	hash_of(1, h);
	rechain("UPDATE events SET id = id + 100");
	hash_of(101, h101);
	cr_assert_str_eq(h101, h);	/* the rewrite kept a valid chain */
	verify_broken(101, 0, ": the first id is 101, not 1 (rows removed "
	    "or renumbered)");
	cr_assert_eq(ka(&r, "--json", "verify", NULL), 1);
	cr_assert_str_eq(r.out, "{\"events_checked\":0,\"intact\":false,"
	    "\"triggers_intact\":true,\"first_bad_id\":101,\"problem\":"
	    "\"event 101: the first id is 101, not 1 (rows removed or "
	    "renumbered)\",\"last_hash\":null}\n");
	run_free(&r);
}

/* A row deleted and the rows after it rechained: the gap shows. */
Test(verify, deleted_row_and_rechained)
{
	struct keys	k;
	char		h[65], q[128], *v;

	scenario(&k);
	rechain("DELETE FROM events WHERE id = 3");
	/* the links hold: row 4 now follows row 2 */
	hash_of(2, h);
	xsnprintf(q, sizeof(q), "SELECT prev_hash = '%s' FROM events "
	    "WHERE id = 4", h);
	v = sql(q);
	cr_assert_str_eq(v, "1", "row 4 does not follow row 2");
	free(v);
	verify_broken(4, 2, ": ids jump from 2 to 4 (rows removed or "
	    "renumbered)");
}

/*
 * The limit: a row deleted, the later ones renumbered without a gap, the
 * chain recomputed and the triggers put back pass verify.  Only the ids
 * and hashes syslog received before show it: event 3 and the newest
 * event now have other hashes.
 */
Test(verify, careful_rewrite_passes_but_its_hashes_differ)
{
	struct keys	k;
	char		h3[65], h4[65], now3[65], now4[65];

	scenario(&k);
	hash_of(3, h3);
	hash_of(4, h4);
	rechain("DELETE FROM events WHERE id = 3; "
	    "UPDATE events SET id = -id WHERE id > 3; "
	    "UPDATE events SET id = -id - 1 WHERE id < 0");
	verify_intact(NEVENTS - 1, NEVENTS - 1);
	hash_of(3, now3);
	hash_of(4, now4);
	cr_assert_str_neq(now3, h3);
	cr_assert_str_neq(now4, h4);
}

/* Nothing changed but the triggers dropped: exit 1 all the same. */
Test(verify, dropped_triggers_on_an_intact_chain)
{
	struct run_result	r;
	struct keys		k;
	char			h[65], out[256], err[PATH_MAX + 128];
	char			db[PATH_MAX], want[512];

	scenario(&k);
	hash_of(NEVENTS, h);
	drop_triggers();
	xsnprintf(out, sizeof(out), "%d events checked, chain intact; "
	    "newest hash %s\nappend-only triggers gone\n", NEVENTS, h);
	xsnprintf(err, sizeof(err), "keyadm: %s: the append-only triggers "
	    "are gone: the log can be edited\n", db_path(db));
	verify_is(1, out, err);
	cr_assert_eq(ka(&r, "--json", "verify", NULL), 1);
	cr_assert(json_valid(r.out, r.outlen), "%s", r.out);
	xsnprintf(want, sizeof(want), "{\"events_checked\":%d,"
	    "\"intact\":true,\"triggers_intact\":false,\"first_bad_id\":null,"
	    "\"problem\":\"the append-only triggers are gone: the log can be "
	    "edited\",\"last_hash\":\"%s\"}\n", NEVENTS, h);
	cr_assert_str_eq(r.out, want);
	cr_assert_str_eq(r.err, err);
	run_free(&r);
	/* one of the two is enough */
	restore_triggers();
	verify_intact(NEVENTS, NEVENTS);
	free(sql("DROP TRIGGER events_no_update"));
	verify_is(1, out, err);
}

/* A trigger put back with other SQL: present, but not the one we made. */
Test(verify, trigger_recreated_with_other_sql)
{
	struct run_result	r;
	struct keys		k;
	char			h[65], out[256], err[PATH_MAX + 128];
	char			db[PATH_MAX];

	scenario(&k);
	hash_of(NEVENTS, h);
	/* WHEN 0: never fires, so rows can be edited again */
	free(sql("DROP TRIGGER events_no_update; CREATE TRIGGER "
	    "events_no_update BEFORE UPDATE ON events WHEN 0 BEGIN "
	    "SELECT RAISE(ABORT, 'events are append-only'); END"));
	xsnprintf(out, sizeof(out), "%d events checked, chain intact; "
	    "newest hash %s\nappend-only triggers altered\n", NEVENTS, h);
	xsnprintf(err, sizeof(err), "keyadm: %s: the append-only triggers "
	    "were altered: the log can be edited\n", db_path(db));
	verify_is(1, out, err);
	cr_assert_eq(ka(&r, "--json", "verify", NULL), 1);
	cr_assert(strstr(r.out, "\"intact\":true,\"triggers_intact\":false,")
	    != NULL, "%s", r.out);
	run_free(&r);
	/* an extra trigger that silences updates counts too */
	drop_triggers();
	restore_triggers();
	verify_intact(NEVENTS, NEVENTS);
	free(sql("CREATE TRIGGER events_quiet BEFORE UPDATE ON events "
	    "BEGIN SELECT RAISE(IGNORE); END"));
	verify_is(1, out, err);
}
