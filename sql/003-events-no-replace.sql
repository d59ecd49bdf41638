-- 003-events-no-replace.sql -- events cannot be replaced either.
--
-- ASCII only; never edit once released (see 001-initial.sql).
--
-- "INSERT OR REPLACE" with the id of an existing event deletes that row
-- without firing events_no_delete (the delete a REPLACE does fires no
-- trigger unless recursive_triggers is on), so refuse an insert whose id
-- is taken.  keyadm's own appends leave the id to SQLite: NEW.id is then
-- not yet chosen (-1 or NULL here) and matches no row.

CREATE TRIGGER events_no_replace BEFORE INSERT ON events
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM events WHERE id = NEW.id)
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
