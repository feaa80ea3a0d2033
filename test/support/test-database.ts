import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { createDatabase, createPool, Database } from '@app/db';
import { databaseUrl, TEST_PG_URL, templateName } from './test-env';

export interface TestDatabase {
  name: string;
  url: string;
  pool: Pool;
  db: Database;
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file, copied from the run's template. The name
 * carries the jest run's pid so a killed run's leftovers can be recognised and dropped.
 */
export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const template = templateName();
  const runPid = template.split('_')[2];
  const name = `at_t_${runPid}_w${process.env.JEST_WORKER_ID ?? '0'}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const pool = createPool(url, { max: options.poolSize ?? 30 });
  const db = createDatabase(pool);
  return {
    name,
    url,
    pool,
    db,
    async destroy() {
      await db.destroy();
      const drop = new Client({ connectionString: TEST_PG_URL });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => drop.end());
    },
  };
}

/** A Redis key prefix private to this test file. */
export function testRedisPrefix(): string {
  return `at-test-${process.pid}-${process.env.JEST_WORKER_ID ?? '0'}-${randomBytes(3).toString('hex')}`;
}
