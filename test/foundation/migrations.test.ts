import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrate, MIGRATIONS_DIR } from '@app/db';
import { databaseUrl, TEST_PG_URL, templateName } from '../support/test-env';

const ROOT = join(__dirname, '..', '..');
const files = () =>
  readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort();

/** A brand-new empty database (not the migrated template), named so the run's teardown drops it. */
async function emptyDatabase(): Promise<{ name: string; url: string }> {
  const runPid = templateName().split('_')[2];
  const name = `at_t_${runPid}_w${process.env.JEST_WORKER_ID ?? '0'}_mig_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return { name, url: databaseUrl(name) };
}

async function inspect(url: string) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const applied = await client.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    const events = await client.query<{ t: string | null }>("SELECT to_regclass('events')::text AS t");
    return { applied: applied.rows.map((r) => r.name), eventsTable: events.rows[0].t };
  } finally {
    await client.end();
  }
}

function runMigrateScript(url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'scripts/migrate.ts'], {
      cwd: ROOT,
      // Only what the script needs: the rest of the configuration takes its defaults.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('migrations', () => {
  const created: string[] = [];
  afterAll(async () => {
    const admin = new Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    for (const name of created) {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }
    await admin.end();
  });

  it('two concurrent migrate() calls on an empty database both succeed and apply each file once', async () => {
    const db = await emptyDatabase();
    created.push(db.name);
    const results = await Promise.all([migrate(db.url), migrate(db.url)]);
    const all = files();
    expect(all.length).toBeGreaterThan(0);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(all);
    expect(results.flatMap((r) => r.skipped).sort()).toEqual(all);
    const state = await inspect(db.url);
    expect(state.applied).toEqual(all);
    expect(state.eventsTable).toBe('events');

    // Running again is a no-op.
    const again = await migrate(db.url);
    expect(again).toEqual({ applied: [], skipped: all });
  });

  it('two `npm run migrate` processes started together both exit 0; the schema is applied once', async () => {
    const db = await emptyDatabase();
    created.push(db.name);
    const runs = await Promise.all([runMigrateScript(db.url), runMigrateScript(db.url)]);
    for (const run of runs) {
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    }
    const outputs = runs.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!) as { applied: string[]; alreadyApplied: number });
    const all = files();
    expect(outputs.flatMap((o) => o.applied).sort()).toEqual(all);
    expect(outputs.reduce((n, o) => n + o.alreadyApplied, 0)).toBe(all.length);
    const state = await inspect(db.url);
    expect(state.applied).toEqual(all);
    expect(state.eventsTable).toBe('events');
  });
});
