-- v1-sample.sql -- a keyadm store at schema version 1, with data.
--
-- Frozen: never regenerate or edit.  It is what a database written by
-- keyadm 0.1 looks like (sqlite3 .dump of a store filled through the
-- store.c API, plus the two header pragmas .dump leaves out).
-- test_store.c loads it into a fresh file and opens it with the current
-- code: every later migration must upgrade it, keep its rows, and its
-- events' hashes (format v1, see store.c) must still verify.
-- The keys' fingerprints and blobs are placeholders, not real keys.
PRAGMA application_id = 1264140612;
PRAGMA user_version = 1;
BEGIN TRANSACTION;
CREATE TABLE keys (
	id		INTEGER PRIMARY KEY,
	fingerprint	TEXT NOT NULL UNIQUE,
	type		TEXT NOT NULL,
	bits		INTEGER NOT NULL CHECK (bits >= 0),
	blob_b64	TEXT NOT NULL,
	comment		TEXT,
	first_seen	INTEGER NOT NULL
) STRICT;
INSERT INTO keys VALUES(1,'SHA256:UTwnRsPCwg2fMr9LNgU09nO1o3ccvNT/2o41X2eLy8E','ssh-ed25519',256,'AAAAC3NzaC1lZDI1NTE5AAAAIJ5ZlOKOlQUZEuHkPNNw7MaqzlhxUfAmrAF2HvCbQ0ZR','alice@laptop',1700000000);
INSERT INTO keys VALUES(2,'SHA256:f8z5Fqtr9V8U0mAcYqdCkqzVBlTB4SRmMfgqmwu1y0g','ssh-rsa',3072,'AAAAB3NzaC1yc2EAAAADAQABAAABgQDstoredfixture','bob',1700000100);
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
INSERT INTO grants VALUES(1,1,'alice','restrict',NULL,'active',1700000200,'root',0,'ticket 7',NULL,NULL,NULL,NULL,NULL,0,'/home/alice/.ssh/authorized_keys');
INSERT INTO grants VALUES(2,2,'bob',NULL,1800000000,'active',1700000300,'admin',1000,NULL,NULL,NULL,NULL,NULL,NULL,0,'/etc/ssh/authorized_keys/bob');
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
INSERT INTO events VALUES(1,1700000200,'root',0,'add','alice','SHA256:UTwnRsPCwg2fMr9LNgU09nO1o3ccvNT/2o41X2eLy8E','grant 1','0000000000000000000000000000000000000000000000000000000000000000','c7089e006042dee08a309d8bbc53e06ca0d195de86b10da3bdd751fe1aebc512');
INSERT INTO events VALUES(2,1700000300,'admin',1000,'add','bob','SHA256:f8z5Fqtr9V8U0mAcYqdCkqzVBlTB4SRmMfgqmwu1y0g',NULL,'c7089e006042dee08a309d8bbc53e06ca0d195de86b10da3bdd751fe1aebc512','63b3362eea166b249be6f8e1cec0641e55bbb03e2eebc06ca30d89e26f5ba11e');
INSERT INTO events VALUES(3,1700000400,'admin',1000,'refuse','carol',NULL,'ssh-dss: type not allowed','63b3362eea166b249be6f8e1cec0641e55bbb03e2eebc06ca30d89e26f5ba11e','112eaa94469392ecfb8e9e19a3d45642938a2f14d7c8e40248f30b53a532c859');
CREATE UNIQUE INDEX grants_active ON grants (user, key_id)
	WHERE status = 'active';
CREATE INDEX grants_key ON grants (key_id);
CREATE INDEX grants_user ON grants (user);
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
COMMIT;
