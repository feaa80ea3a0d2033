import { Client } from 'pg';
import { migrate } from '../../libs/db/src/migrator';
import { databaseUrl, TEST_PG_URL } from './test-env';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Migrates one template database per jest run; each test file copies it (CREATE DATABASE ... TEMPLATE). */
export default async function globalSetup() {
  const admin = new Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    // Leftovers of runs that were killed before their teardown.
    const stale = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname ~ '^at_(tpl|t)_[0-9]+'",
    );
    for (const { datname } of stale.rows) {
      const pid = Number(datname.split('_')[2]);
      if (!alive(pid)) {
        await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
    const template = `at_tpl_${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${template}"`);
    await migrate(databaseUrl(template));
    process.env.AT_TEST_TEMPLATE = template;
  } finally {
    await admin.end();
  }
}
