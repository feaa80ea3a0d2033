-- Recorded times and positions in commit order, so that an answer for a knownAt that has
-- passed never changes (issue 15, defect 2).
--
-- Before: recorded_at was the transaction's start and positions came from the sequence at
-- insert time, so a long transaction committed events "recorded" seconds before they became
-- visible, behind positions and times that others had already committed and readers had
-- already answered with.
--
-- Now every transaction that appends takes one exclusive lock (a transaction advisory lock,
-- held until it commits or rolls back) before its first event row is formed: a statement
-- trigger on events takes it, then fixes the transaction's recorded time under it, at least
-- the last recorded time. Positions are taken from the sequence while the lock is held. So
-- positions and recorded times ascend in commit order, and while a writer holds the lock every
-- event recorded before the last committed recorded time is committed already.
--
-- Readers (events_settled_known_at, run as a statement of its own) turn a requested knownAt into one whose answer is final:
-- a knownAt before the last committed recorded time is final as it is; a later one waits
-- (briefly) for the writer in flight to commit, then is at most the millisecond before now.
CREATE FUNCTION events_append_lock_key() RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT 7146200412 $$;

CREATE FUNCTION events_stamp_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  stamp timestamptz;
BEGIN
  IF current_setting('events.recorded_at', true) IS NOT NULL AND current_setting('events.recorded_at', true) <> '' THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(events_append_lock_key());
  -- A clock stepped back never makes a later commit look earlier.
  SELECT GREATEST(date_trunc('milliseconds', clock_timestamp()), max(e.recorded_at)) INTO stamp
  FROM (SELECT recorded_at FROM events ORDER BY global_position DESC LIMIT 1) e;
  PERFORM set_config('events.recorded_at', stamp::text, true);
  RETURN NULL;
END $$;

CREATE TRIGGER events_stamp_transaction BEFORE INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_stamp_transaction();

-- Evaluated per row after the statement trigger has run: the transaction's recorded time.
ALTER TABLE events ALTER COLUMN recorded_at SET DEFAULT current_setting('events.recorded_at')::timestamptz;

CREATE FUNCTION events_settled_known_at(requested timestamptz) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  last_committed timestamptz;
  now_ms timestamptz;
  previous_timeout text;
BEGIN
  SELECT recorded_at INTO last_committed FROM events ORDER BY global_position DESC LIMIT 1;
  IF requested < last_committed THEN
    RETURN requested;
  END IF;
  previous_timeout := current_setting('lock_timeout');
  PERFORM set_config('lock_timeout', '50ms', true);
  FOR attempt IN 1..20 LOOP
    -- Waits for the writer in flight, if any, to commit (its lock is released after its commit
    -- is visible). A writer holding it longer (a large import) is not waited for. A transaction
    -- lock, not a session one: whatever happens, it ends with this statement's transaction.
    BEGIN
      PERFORM pg_advisory_xact_lock_shared(events_append_lock_key());
    EXCEPTION WHEN lock_not_available THEN
      EXIT;
    END;
    now_ms := date_trunc('milliseconds', clock_timestamp());
    SELECT recorded_at INTO last_committed FROM events ORDER BY global_position DESC LIMIT 1;
    -- A writer that takes the lock from now on records at now_ms or later. Events recorded in
    -- this very millisecond may still be joined by others, so wait for the next one.
    IF last_committed IS NULL OR last_committed < now_ms THEN
      PERFORM set_config('lock_timeout', previous_timeout, true);
      RETURN LEAST(requested, now_ms - interval '1 millisecond');
    END IF;
    PERFORM pg_sleep(0.001);
  END LOOP;
  PERFORM set_config('lock_timeout', previous_timeout, true);
  -- A writer is holding on: everything recorded before the last committed time is final.
  SELECT recorded_at INTO last_committed FROM events ORDER BY global_position DESC LIMIT 1;
  RETURN LEAST(requested, last_committed - interval '1 millisecond');
END $$;
