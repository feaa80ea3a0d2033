import type { ColumnType, Generated } from 'kysely';

/** int8 and numeric come back from pg as strings; they stay strings. */
export type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
export type Json = ColumnType<unknown, string, string>;

export interface EventsTable {
  global_position: Generated<string>;
  transaction_id: Generated<string>;
  stream_id: string;
  stream_version: Int8;
  event_id: string;
  type: string;
  schema_version: Generated<number>;
  data: Json;
  metadata: Json;
  recorded_at: Generated<Date>;
}

export interface StreamsTable {
  stream_id: string;
  version: Int8;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface SubscriptionsTable {
  name: string;
  last_transaction_id: string;
  last_position: Int8;
  handled_count: Generated<string>;
  updated_at: Generated<Date>;
}

export interface SchemaMigrationsTable {
  name: string;
  applied_at: Generated<Date>;
}

export type Numeric = ColumnType<string, string, string>;
export type DateColumn = ColumnType<string, string, string>;

export interface ApiKeysTable {
  id: string;
  name: string;
  role: 'admin' | 'curator' | 'reader';
  key_hash: string;
  key_prefix: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

export interface IdempotencyKeysTable {
  api_key_id: string;
  key: string;
  method: string;
  path: string;
  request_hash: string;
  status: number;
  response: Json;
  created_at: Generated<Date>;
}

export interface OrganisationsTable {
  id: string;
  name: string;
  current_name: string;
  country: string | null;
  kind: string | null;
  aliases: string[];
  website: string | null;
  provisional: boolean;
  search_names: string[];
  registered_at: Timestamp;
  position: Int8;
}

export interface OrganisationNamesTable {
  event_id: string;
  organisation_id: string;
  name: string;
  valid_from: DateColumn | null;
  on_text: string | null;
  precision: string | null;
  recorded_at: Timestamp;
  retracted_at: Timestamp | null;
}

export interface AlliancesTable {
  id: string;
  name: string;
  website: string | null;
  founded_on: string | null;
  founded_precision: string | null;
  registered_at: Timestamp;
  position: Int8;
}

export interface MembershipFactsTable {
  event_id: string;
  alliance_id: string;
  organisation_id: string;
  kind: 'join' | 'leave';
  on_date: DateColumn;
  on_text: string;
  precision: string;
  role: string | null;
  source: Json | null;
  note: string | null;
  reason: string | null;
  position: Int8;
  recorded_at: Timestamp;
  retracted_at: Timestamp | null;
  retracted_by: string | null;
}

export interface MembershipIntervalsTable {
  id: Generated<string>;
  alliance_id: string;
  organisation_id: string;
  valid_from: DateColumn;
  valid_to: DateColumn | null;
  since_text: string;
  since_precision: string;
  until_text: string | null;
  until_precision: string | null;
  role: string | null;
  join_event_id: string;
  leave_event_id: string | null;
  recorded_from: Timestamp;
  recorded_to: Timestamp | null;
}

export interface FundingFactsTable {
  event_id: string;
  funding_id: string;
  kind: 'committed' | 'tranche' | 'terminated';
  funder_id: string;
  recipient_id: string;
  amount: Numeric | null;
  currency: string | null;
  on_date: DateColumn;
  on_text: string;
  precision: string;
  purpose: string | null;
  conditions: string | null;
  reason: string | null;
  source: Json | null;
  position: Int8;
  recorded_at: Timestamp;
  retracted_at: Timestamp | null;
  retracted_by: string | null;
}

export interface OrganisationEventsTable {
  organisation_id: string;
  event_id: string;
  position: Int8;
}

// --- webhooks (libs/webhooks) ---
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  alliance_ids: string[];
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  secret_ciphertext: string;
  previous_secret_ciphertext: string | null;
  previous_secret_expires_at: Timestamp | null;
  failing_since: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface WebhookMessagesTable {
  id: string;
  event_id: string | null;
  type: string;
  payload: string;
  created_at: Generated<Date>;
}

export type WebhookDeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'exhausted';

export interface WebhookDeliveriesTable {
  id: string;
  seq: Generated<string>;
  endpoint_id: string;
  message_id: string;
  event_id: string | null;
  type: string;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  round_attempts: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface WebhookAttemptsTable {
  delivery_id: string;
  attempt: number;
  at: Timestamp;
  status_code: number;
  duration_ms: number;
  error: string | null;
  response_excerpt: string | null;
}

/** Every table the service owns. Feature libs add theirs here so Kysely sees one schema. */
export interface DB {
  events: EventsTable;
  streams: StreamsTable;
  subscriptions: SubscriptionsTable;
  schema_migrations: SchemaMigrationsTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  organisations: OrganisationsTable;
  organisation_names: OrganisationNamesTable;
  alliances: AlliancesTable;
  membership_facts: MembershipFactsTable;
  membership_intervals: MembershipIntervalsTable;
  funding_facts: FundingFactsTable;
  organisation_events: OrganisationEventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_messages: WebhookMessagesTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
