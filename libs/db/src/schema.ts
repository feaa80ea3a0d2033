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

/** Every table the service owns. Feature libs add theirs here so Kysely sees one schema. */
export interface DB {
  events: EventsTable;
  streams: StreamsTable;
  subscriptions: SubscriptionsTable;
  schema_migrations: SchemaMigrationsTable;
}
