import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { sql } from 'kysely';
import { Client } from 'pg';
import { ProjectionRebuilder, REBUILD_LOCK_ID, RebuildModule, RebuildRunningError } from '@app/rebuild';
import { Projections } from '@app/shared';
import { createTestApp, TestApp } from '../support/test-app';
import { generateHistory } from './support/histories';
import { Api, listen } from './support/http';
import { Rng } from './support/model';

const src = { url: 'https://example.org/press' };

describe('npm run projections:rebuild', () => {
  let a: TestApp;
  let api: Api;
  let ctx: INestApplicationContext;
  let rebuilder: ProjectionRebuilder;
  let tables: string[];

  /** Every projection table's rows, ordered, without serial ids (they number rows, not facts). */
  async function snapshot(): Promise<Record<string, string[]>> {
    const result: Record<string, string[]> = {};
    for (const table of tables) {
      const serial = await sql<{ column_name: string }>`
        SELECT column_name FROM information_schema.columns
        WHERE table_name = ${table} AND column_default LIKE 'nextval(%'`.execute(a.t.db);
      const drop = serial.rows.map((r) => r.column_name);
      const rows = await sql<{ r: string }>`
        SELECT (to_jsonb(t) - ${drop}::text[])::text AS r FROM ${sql.table(table)} t ORDER BY r`.execute(a.t.db);
      result[table] = rows.rows.map((r) => r.r);
    }
    return result;
  }

  beforeAll(async () => {
    a = await createTestApp();
    api = await listen(a);
    ctx = await NestFactory.createApplicationContext(RebuildModule.forRoot(a.config), { logger: false });
    rebuilder = ctx.get(ProjectionRebuilder);
    tables = ctx.get(Projections).tables();
  });
  afterAll(async () => {
    await ctx.close();
    await api.close();
    await a.close();
  });

  it('knows every projection table', () => {
    expect(tables).toEqual(
      expect.arrayContaining(['organisations', 'organisation_names', 'organisation_events', 'alliances', 'membership_facts', 'membership_intervals']),
    );
  });

  it('rebuilds tables identical to the inline projection, after retractions, renames and imports', async () => {
    const seed = Number(process.env.QUESTIONS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    for (let i = 0; i < 25; i++) {
      await generateHistory(api, new Rng(seed + i), `r${i}`, { alliances: 2, organisations: 3, operations: 20 }).catch((error: Error) => {
        throw new Error(`QUESTIONS_SEED=${seed}, history r${i}: ${error.message}`);
      });
    }
    // One transaction, one recorded time: a pair's join, leave and join again, and a rename.
    const imported = await api.post('/imports', {
      facts: [
        { fact: 'organisation', id: 'imp-org', name: 'Imported Org', country: 'DE' },
        { fact: 'alliance', id: 'imp-all', name: 'Imported Alliance' },
        { fact: 'join', allianceId: 'imp-all', organisationId: 'imp-org', on: '2020', source: src },
        { fact: 'leave', allianceId: 'imp-all', organisationId: 'imp-org', on: '2021-06', source: src },
        { fact: 'join', allianceId: 'imp-all', organisationId: 'imp-org', on: '2022-01-01', role: 'member', source: src },
        { fact: 'rename', organisationId: 'imp-org', name: 'Imported Org II', on: '2021' },
      ],
    });
    expect(imported.status).toBe(201);
    const leave = imported.body.events[3];
    expect((await api.post(`/events/${leave.id}/retract`, { reason: 'wrong' })).status).toBe(409);
    const lastJoin = imported.body.events[4];
    expect((await api.post(`/events/${lastJoin.id}/retract`, { reason: 'wrong' })).status).toBe(201);

    const inline = await snapshot();
    expect(inline.membership_intervals.length).toBeGreaterThan(50);
    const result = await rebuilder.rebuild();
    expect(result.events).toBe(Number((await sql<{ n: string }>`SELECT count(*) AS n FROM events`.execute(a.t.db)).rows[0].n));
    expect(await snapshot()).toEqual(inline);
    // Batch boundaries anywhere, even inside one transaction's events, change nothing; nor
    // does replaying in global position order instead of stream by stream.
    await rebuilder.rebuild({ batchSize: 7 });
    expect(await snapshot()).toEqual(inline);
    await rebuilder.rebuild({ order: 'position', batchSize: 13 });
    expect(await snapshot()).toEqual(inline);
  });

  it('writes during a rebuild are projected once it commits, and nothing is lost', async () => {
    await api.post('/alliances', { id: 'busy', name: 'Busy' });
    const orgs = Array.from({ length: 12 }, (_, i) => `busy-${i}`);
    for (const id of orgs) {
      expect((await api.post('/organisations', { id, name: id })).status).toBe(201);
    }
    const writes = orgs.map(async (id, i) => {
      await new Promise((r) => setTimeout(r, i * 3));
      return (await api.post('/alliances/busy/members', { organisationId: id, on: '2024', source: src })).status;
    });
    const [statuses] = await Promise.all([Promise.all(writes), rebuilder.rebuild({ batchSize: 50 })]);
    expect(statuses.every((s) => s === 201)).toBe(true);
    const members = await api.get('/alliances/busy/members');
    expect(members.body.count).toBe(orgs.length);
    const inline = await snapshot();
    await rebuilder.rebuild();
    expect(await snapshot()).toEqual(inline);
  });

  it('never runs twice at once', async () => {
    const other = new Client({ connectionString: a.t.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [REBUILD_LOCK_ID]);
      await expect(rebuilder.rebuild()).rejects.toBeInstanceOf(RebuildRunningError);
      await other.query('SELECT pg_advisory_unlock($1)', [REBUILD_LOCK_ID]);
      await expect(rebuilder.rebuild()).resolves.toMatchObject({ events: expect.any(Number) });
    } finally {
      await other.end();
    }
  });
});
