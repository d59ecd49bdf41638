-- 001-initial.sql -- the first schema of the keyadm audit store.
--
-- ASCII only.  Never edit this file once released: change the schema with
-- a new sql/NNN-name.sql.  store.c runs it inside one BEGIN IMMEDIATE
-- transaction and, in that same transaction, sets PRAGMA application_id
-- (STORE_APPLICATION_ID, kept in one place: store.h) and PRAGMA
-- user_version = 1.  Pragmas take no bound values, so they are not here.
--
-- Times are UTC epoch seconds.  A NULL expires_at or last_used_at means
-- "never".

-- One row per distinct key; the fingerprint is SHA256 of the blob.
CREATE TABLE keys (
	id		INTEGER PRIMARY KEY,
	fingerprint	TEXT NOT NULL UNIQUE,
	type		TEXT NOT NULL,
	bits		INTEGER NOT NULL CHECK (bits >= 0),
	blob_b64	TEXT NOT NULL,
	comment		TEXT,
	first_seen	INTEGER NOT NULL
) STRICT;

-- A key installed for an account, and what became of it.
CREATE TABLE grants (
	id		INTEGER PRIMARY KEY,
	key_id		INTEGER NOT NULL REFERENCES keys (id),
	user		TEXT NOT NULL,
	options		TEXT,
	expires_at	INTEGER,
	status		TEXT NOT NULL DEFAULT 'active'
			CHECK (status IN ('active', 'revoked', 'expired',
			    'removed')),
	added_at	INTEGER NOT NULL,
	added_by	TEXT NOT NULL,
	added_uid	INTEGER NOT NULL,
	reason		TEXT,
	revoked_at	INTEGER,
	revoked_by	TEXT,
	revoked_reason	TEXT,
	last_used_at	INTEGER,
	last_used_from	TEXT,
	use_count	INTEGER NOT NULL DEFAULT 0 CHECK (use_count >= 0),
	path		TEXT
) STRICT;

-- The same key is granted to an account at most once at a time.
CREATE UNIQUE INDEX grants_active ON grants (user, key_id)
	WHERE status = 'active';
CREATE INDEX grants_key ON grants (key_id);
CREATE INDEX grants_user ON grants (user);

-- Append-only audit log; hash and prev_hash chain the rows (store.c
-- documents the serialisation that is hashed).
CREATE TABLE events (
	id		INTEGER PRIMARY KEY,
	at		INTEGER NOT NULL,
	actor		TEXT NOT NULL,
	actor_uid	INTEGER NOT NULL,
	action		TEXT NOT NULL,
	user		TEXT,
	fingerprint	TEXT,
	detail		TEXT,
	prev_hash	TEXT NOT NULL CHECK (length(prev_hash) = 64),
	hash		TEXT NOT NULL CHECK (length(hash) = 64)
) STRICT;

CREATE INDEX events_user ON events (user);
CREATE INDEX events_fingerprint ON events (fingerprint);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
