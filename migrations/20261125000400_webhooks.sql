-- Webhooks: endpoints, one message per event (the body exactly as signed), one delivery per
-- (endpoint, message) and every attempt. Postgres is the truth; BullMQ only carries attempts.
CREATE TABLE webhook_endpoints (
  id                          uuid PRIMARY KEY,
  url                         text NOT NULL,
  description                 text,
  event_types                 text[] NOT NULL DEFAULT '{}',   -- empty: every type
  alliance_ids                text[] NOT NULL DEFAULT '{}',   -- empty: every alliance
  status                      text NOT NULL CHECK (status IN ('enabled', 'disabled')),
  disabled_reason             text,
  -- AES-256-GCM under a key derived from SECRETS_KEY; the plain secret is never stored.
  secret_ciphertext           text NOT NULL,
  previous_secret_ciphertext  text,
  previous_secret_expires_at  timestamptz,
  -- Set by the first failure after a success, cleared by a success: "failing for days".
  failing_since               timestamptz,
  -- Milliseconds, like every timestamp the API returns: a list cursor carries it exactly.
  created_at                  timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  updated_at                  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_messages (
  id          uuid PRIMARY KEY,                 -- the webhook-id header; the event id for event messages
  event_id    uuid,
  type        text NOT NULL,
  payload     text NOT NULL,                    -- {type, timestamp, data}, byte for byte as signed
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  id                uuid PRIMARY KEY,           -- also the BullMQ job id
  seq               bigserial NOT NULL UNIQUE,  -- creation order = log order for one endpoint
  endpoint_id       uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  message_id        uuid NOT NULL REFERENCES webhook_messages (id),
  event_id          uuid,
  type              text NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'exhausted')),
  attempts          integer NOT NULL DEFAULT 0,
  -- Attempts since the delivery was created or last redelivered: the position in the retry schedule.
  round_attempts    integer NOT NULL DEFAULT 0,
  last_status_code  integer,
  last_error        text,
  next_attempt_at   timestamptz,                -- set while pending
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, message_id)
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, seq);
CREATE INDEX webhook_deliveries_endpoint_status_idx ON webhook_deliveries (endpoint_id, status, seq);
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
  delivery_id       uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt           integer NOT NULL,
  at                timestamptz NOT NULL,
  status_code       integer NOT NULL,           -- 0: no HTTP answer (network error, timeout, refused address)
  duration_ms       integer NOT NULL,
  error             text,                       -- error class, null on success
  response_excerpt  text,                       -- the first 4 KB of the response body
  PRIMARY KEY (delivery_id, attempt)
);
