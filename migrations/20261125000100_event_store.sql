-- The event store: an append-only log plus one row per stream holding its version.
CREATE TABLE streams (
  stream_id  text PRIMARY KEY,
  version    bigint NOT NULL CHECK (version >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE events_global_position_seq AS bigint;

CREATE TABLE events (
  global_position bigint NOT NULL DEFAULT nextval('events_global_position_seq'),
  transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id       text NOT NULL,
  stream_version  bigint NOT NULL CHECK (stream_version >= 1),
  event_id        uuid NOT NULL,
  type            text NOT NULL,
  schema_version  integer NOT NULL DEFAULT 1,
  data            jsonb NOT NULL,
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Millisecond precision: the API returns recordedAt in ms and knownAt compares against it.
  recorded_at     timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  PRIMARY KEY (stream_id, stream_version),
  CONSTRAINT events_event_id_key UNIQUE (event_id),
  CONSTRAINT events_global_position_key UNIQUE (global_position)
);
ALTER SEQUENCE events_global_position_seq OWNED BY events.global_position;

-- Subscribers read in (transaction_id, global_position) order; see DESIGN.md rule 4.
CREATE INDEX events_transaction_position_idx ON events (transaction_id, global_position);
CREATE INDEX events_type_idx ON events (type, global_position);

CREATE TABLE subscriptions (
  name                text PRIMARY KEY,
  last_transaction_id xid8 NOT NULL DEFAULT '0'::xid8,
  last_position       bigint NOT NULL DEFAULT 0,
  handled_count       bigint NOT NULL DEFAULT 0,
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Events are immutable: corrections are new events (EventRetracted), never edits.
CREATE FUNCTION events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_immutable();

-- One notification per appending statement wakes subscription runners; it is delivered at
-- commit and dropped on rollback. Runners also poll, so a lost notification only delays.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('events_appended', '');
  RETURN NULL;
END $$;
CREATE TRIGGER events_appended AFTER INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
