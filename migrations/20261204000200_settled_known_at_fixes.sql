-- Fixes to commit_ordered_recording, from a second reading:
-- - The transaction's recorded time travels as epoch microseconds, not as text: text followed
--   the session's DateStyle and TimeZone (a 'Postgres, Asia/Kolkata' session stamped 3.5 h
--   into the future, and every later write inherited it through GREATEST).
-- - Readers wait with a transaction lock (a session lock could be left held by a pooled
--   connection when lock_timeout fired as it was granted; writers then queued behind it).
-- - With an empty log and a writer in flight, the fallback answered the requested moment.
-- - Both functions name their schema objects under a fixed search_path.
CREATE OR REPLACE FUNCTION events_stamp_transaction() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public AS $$
DECLARE
  stamp timestamptz;
BEGIN
  IF coalesce(current_setting('events.recorded_at_us', true), '') <> '' THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(events_append_lock_key());
  -- A clock stepped back never makes a later commit look earlier.
  SELECT GREATEST(date_trunc('milliseconds', clock_timestamp()), max(e.recorded_at)) INTO stamp
  FROM (SELECT recorded_at FROM events ORDER BY global_position DESC LIMIT 1) e;
  PERFORM set_config('events.recorded_at_us', (extract(epoch FROM stamp) * 1000000)::bigint::text, true);
  RETURN NULL;
END $$;

-- Microseconds since the epoch, back to a timestamp: exact, and independent of session settings.
ALTER TABLE events ALTER COLUMN recorded_at
  SET DEFAULT 'epoch'::timestamptz + current_setting('events.recorded_at_us')::bigint * interval '1 microsecond';

CREATE OR REPLACE FUNCTION events_settled_known_at(requested timestamptz) RETURNS timestamptz LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, public AS $$
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
  -- Waits for the writer in flight, if any, to commit (its lock is released after its commit
  -- is visible). A writer holding it longer (a large import) is not waited for. A transaction
  -- lock: it ends with this statement's transaction, whatever happens.
  BEGIN
    PERFORM pg_advisory_xact_lock_shared(events_append_lock_key());
  EXCEPTION WHEN lock_not_available THEN
    PERFORM set_config('lock_timeout', previous_timeout, true);
    -- A writer is holding on: everything recorded before the last committed time is final.
    SELECT recorded_at INTO last_committed FROM events ORDER BY global_position DESC LIMIT 1;
    RETURN LEAST(requested, COALESCE(last_committed, 'epoch'::timestamptz) - interval '1 millisecond');
  END;
  PERFORM set_config('lock_timeout', previous_timeout, true);
  -- Holding the shared lock, no writer is in flight; one that takes the lock after this
  -- statement records at now_ms or later.
  now_ms := date_trunc('milliseconds', clock_timestamp());
  SELECT recorded_at INTO last_committed FROM events ORDER BY global_position DESC LIMIT 1;
  IF last_committed >= now_ms THEN
    -- Others may still record in this very millisecond once the lock is free: wait (holding
    -- it, so writers wait too) until the clock has passed it. A clock stepped far back is not
    -- waited for: everything before the last committed time is final.
    IF last_committed - now_ms > interval '5 milliseconds' THEN
      RETURN LEAST(requested, last_committed - interval '1 millisecond');
    END IF;
    PERFORM pg_sleep(extract(epoch FROM last_committed - now_ms) + 0.001);
    now_ms := date_trunc('milliseconds', clock_timestamp());
  END IF;
  RETURN LEAST(requested, now_ms - interval '1 millisecond');
END $$;
