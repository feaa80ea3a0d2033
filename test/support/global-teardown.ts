import { Client } from 'pg';
import { TEST_PG_URL } from './test-env';

export default async function globalTeardown() {
  const admin = new Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    const mine = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname ~ $1', [
      `^at_(tpl|t)_${process.pid}(_|$)`,
    ]);
    for (const { datname } of mine.rows) {
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}
