import { sql } from 'kysely';
import { executeTogether, plannedPerCall, refreshStatistics, STATISTICS_LOCK_KEY } from '@app/db';
import { eventually } from '../support/eventually';
import { createTestDatabase, TestDatabase } from '../support/test-database';

describe('statement planning', () => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 4 });
  });
  afterAll(() => t.destroy());

  it('prepares statements once per connection, except those marked to be planned per call', async () => {
    await sql`CREATE TABLE planning_probe (n int)`.execute(t.db);
    const prepared = await t.db.connection().execute(async (conn) => {
      for (let i = 0; i < 3; i++) {
        await sql`SELECT ${i}::int AS kept_prepared`.execute(conn);
        await plannedPerCall(sql`SELECT ${i}::int AS planned_per_call`).execute(conn);
        // A marked part makes the whole combined statement run unnamed.
        await executeTogether(conn, [
          sql`INSERT INTO planning_probe VALUES (${i})`,
          plannedPerCall(sql`INSERT INTO planning_probe VALUES (${i + 100}) RETURNING 'marked_part'`),
        ]);
      }
      const { rows } = await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(conn);
      return rows.map((r) => r.statement);
    });
    expect(prepared.some((s) => s.includes('kept_prepared'))).toBe(true);
    expect(prepared.some((s) => s.includes('planned_per_call'))).toBe(false);
    expect(prepared.some((s) => s.includes('marked_part'))).toBe(false);
    const { rows } = await sql<{ n: number }>`SELECT n FROM planning_probe ORDER BY n`.execute(t.db);
    expect(rows.map((r) => r.n)).toEqual([0, 1, 2, 100, 101, 102]);
  });
});

describe('refreshStatistics', () => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 4 });
    // Autovacuum, where the server runs it, must not analyse the probe behind the test's back.
    await sql`CREATE TABLE stats_probe (n int) WITH (autovacuum_enabled = false)`.execute(t.db);
  });
  afterAll(() => t.destroy());

  const modified = async (table: string) => {
    const { rows } = await sql<{ n: string }>`
      SELECT n_mod_since_analyze::text AS n FROM pg_stat_user_tables WHERE relname = ${table}`.execute(t.db);
    return Number(rows[0].n);
  };
  /** Inserts rows and waits until the server's counters show them. */
  const insertRows = async (count: number) => {
    const before = await modified('stats_probe');
    await t.db.connection().execute(async (conn) => {
      await sql`INSERT INTO stats_probe SELECT generate_series(1, ${count}::int)`.execute(conn);
      // A backend reports its counters when idle, at most once a second unless asked.
      await sql`SELECT pg_stat_force_next_flush()`.execute(conn);
    });
    await eventually(async () => expect(await modified('stats_probe')).toBeGreaterThanOrEqual(before + count));
  };

  it('analyses the tables whose rows changed past autovacuum rule, and no others', async () => {
    await insertRows(120);
    const analysed = await refreshStatistics(t.db, { force: true });
    // The other tables of this fresh database did not change.
    expect(analysed).toEqual(['stats_probe']);
    const { rows } = await sql<{ reltuples: number; analysed: boolean }>`
      SELECT c.reltuples, s.last_analyze IS NOT NULL AS analysed
      FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'stats_probe'`.execute(t.db);
    expect(rows[0]).toEqual({ reltuples: 120, analysed: true });
    expect(await modified('stats_probe')).toBe(0);

    // Below the threshold (50 + 10% of 120 rows): nothing to do.
    await insertRows(40);
    expect(await refreshStatistics(t.db, { force: true })).not.toContain('stats_probe');
    await insertRows(40);
    expect(await refreshStatistics(t.db, { force: true })).toContain('stats_probe');
  });

  it('does nothing while another process holds the statistics lock', async () => {
    await insertRows(500);
    const holder = await t.pool.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [STATISTICS_LOCK_KEY]);
      expect(await refreshStatistics(t.db, { force: true })).toEqual([]);
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [STATISTICS_LOCK_KEY]);
      holder.release();
    }
    expect(await refreshStatistics(t.db, { force: true })).toContain('stats_probe');
  });

  it('leaves the work to autovacuum where the server runs it', async () => {
    await insertRows(1000);
    const { rows } = await sql<{ on: boolean }>`SELECT current_setting('autovacuum') = 'on' AS on`.execute(t.db);
    const analysed = await refreshStatistics(t.db);
    if (rows[0].on) {
      expect(analysed).toEqual([]);
    } else {
      expect(analysed).toContain('stats_probe');
    }
  });
});
