-- 002-revocations.sql -- keys revoked for every account, and grants by
-- expiry.
--
-- ASCII only; never edit once released (see 001-initial.sql).
--
-- A row in revocations means the key is listed in the revoked-keys file
-- (revoked_keys_file), so sshd refuses it for every account.  The row goes
-- when an administrator reinstates the key (add --force); the events table
-- keeps both changes.

CREATE TABLE revocations (
	key_id		INTEGER PRIMARY KEY REFERENCES keys (id),
	revoked_at	INTEGER NOT NULL,
	revoked_by	TEXT NOT NULL,
	revoked_uid	INTEGER NOT NULL,
	reason		TEXT NOT NULL
) STRICT;

-- keyadm expire: the active grants whose time has passed.
CREATE INDEX grants_expiry ON grants (expires_at)
	WHERE status = 'active' AND expires_at IS NOT NULL;
