-- API keys: only a SHA-256 of the key is stored; the key itself is shown once at creation.
CREATE TABLE api_keys (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  role        text NOT NULL CHECK (role IN ('admin', 'curator', 'reader')),
  key_hash    text NOT NULL UNIQUE,
  key_prefix  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- A replayed Idempotency-Key returns the first response; stored in the same transaction as the facts.
CREATE TABLE idempotency_keys (
  api_key_id   text NOT NULL,
  key          text NOT NULL,
  method       text NOT NULL,
  path         text NOT NULL,
  request_hash text NOT NULL,
  status       integer NOT NULL,
  response     jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (api_key_id, key)
);

-- Projections below are rebuildable from the log (npm run projections:rebuild).
CREATE TABLE organisations (
  id            text PRIMARY KEY,
  name          text NOT NULL,           -- the name it was registered with
  current_name  text NOT NULL,           -- the name valid today as currently known
  country       text,
  kind          text,
  aliases       text[] NOT NULL DEFAULT '{}',
  website       text,
  provisional   boolean NOT NULL DEFAULT false,
  search_names  text[] NOT NULL DEFAULT '{}', -- normalised names and aliases for matching
  registered_at timestamptz NOT NULL,
  position      bigint NOT NULL
);
CREATE INDEX organisations_search_idx ON organisations USING gin (search_names);

-- Names in valid time: the registration name holds from the beginning, renames from their date.
CREATE TABLE organisation_names (
  event_id        uuid PRIMARY KEY,
  organisation_id text NOT NULL,
  name            text NOT NULL,
  valid_from      date,                  -- null: the registration name
  on_text         text,
  precision       text,
  recorded_at     timestamptz NOT NULL,
  retracted_at    timestamptz
);
CREATE INDEX organisation_names_org_idx ON organisation_names (organisation_id, valid_from);

CREATE TABLE alliances (
  id                text PRIMARY KEY,
  name              text NOT NULL,
  website           text,
  founded_on        text,
  founded_precision text,
  registered_at     timestamptz NOT NULL,
  position          bigint NOT NULL
);

-- Every join and leave as recorded, with when it was recorded and (if so) retracted.
CREATE TABLE membership_facts (
  event_id        uuid PRIMARY KEY,
  alliance_id     text NOT NULL,
  organisation_id text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('join', 'leave')),
  on_date         date NOT NULL,
  on_text         text NOT NULL,
  precision       text NOT NULL,
  role            text,
  source          jsonb,
  note            text,
  reason          text,
  position        bigint NOT NULL,
  recorded_at     timestamptz NOT NULL,
  retracted_at    timestamptz,
  retracted_by    uuid
);
CREATE INDEX membership_facts_alliance_idx ON membership_facts (alliance_id, on_date);
CREATE INDEX membership_facts_org_idx ON membership_facts (organisation_id, alliance_id);

-- Bitemporal membership intervals: [valid_from, valid_to) in the world, believed during
-- [recorded_from, recorded_to). A change to a pair closes its current rows and inserts the
-- recomputed ones, so "member on D as known at K" is one indexed range lookup.
CREATE TABLE membership_intervals (
  id              bigserial PRIMARY KEY,
  alliance_id     text NOT NULL,
  organisation_id text NOT NULL,
  valid_from      date NOT NULL,
  valid_to        date,
  since_text      text NOT NULL,
  since_precision text NOT NULL,
  until_text      text,
  until_precision text,
  role            text,
  join_event_id   uuid NOT NULL,
  leave_event_id  uuid,
  recorded_from   timestamptz NOT NULL,
  recorded_to     timestamptz
);
CREATE INDEX membership_intervals_current_idx ON membership_intervals (alliance_id, valid_from, valid_to)
  WHERE recorded_to IS NULL;
CREATE INDEX membership_intervals_alliance_idx ON membership_intervals (alliance_id, recorded_from, valid_from);
CREATE INDEX membership_intervals_org_idx ON membership_intervals (organisation_id, alliance_id);

CREATE TABLE funding_facts (
  event_id        uuid PRIMARY KEY,
  funding_id      uuid NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('committed', 'tranche', 'terminated')),
  funder_id       text NOT NULL,
  recipient_id    text NOT NULL,
  amount          numeric,
  currency        text,
  on_date         date NOT NULL,
  on_text         text NOT NULL,
  precision       text NOT NULL,
  purpose         text,
  conditions      text,
  reason          text,
  source          jsonb,
  position        bigint NOT NULL,
  recorded_at     timestamptz NOT NULL,
  retracted_at    timestamptz,
  retracted_by    uuid
);
CREATE INDEX funding_facts_funding_idx ON funding_facts (funding_id);
CREATE INDEX funding_facts_funder_idx ON funding_facts (funder_id);
CREATE INDEX funding_facts_recipient_idx ON funding_facts (recipient_id);

-- Which events concern which organisation, for an organisation's history.
CREATE TABLE organisation_events (
  organisation_id text NOT NULL,
  event_id        uuid NOT NULL,
  position        bigint NOT NULL,
  PRIMARY KEY (organisation_id, event_id)
);
CREATE INDEX organisation_events_position_idx ON organisation_events (organisation_id, position);
