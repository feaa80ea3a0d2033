import { Kysely, PostgresDialect } from 'kysely';
import { Pool, PoolConfig, types } from 'pg';

// Valid dates stay 'YYYY-MM-DD' strings: a JS Date would drag a time zone into a calendar date.
types.setTypeParser(types.builtins.DATE, (value) => value);
import type { DB } from './schema';

export type Database = Kysely<DB>;

export function createPool(connectionString: string, options: PoolConfig = {}): Pool {
  const pool = new Pool({ connectionString, max: 20, ...options });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return pool;
}

export function createDatabase(pool: Pool): Database {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}
