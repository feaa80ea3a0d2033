/**
 * Issue 15, Benchmark: the event store before and after commit-ordered recording (migration
 * 20261204000100_commit_ordered_recording: one global append lock, taken by a statement trigger
 * and held until commit), next to raw INSERT and next to a peer store, Emmett
 * (`@event-driven-io/emmett-postgresql`), on the same PostgreSQL in the same run.
 *
 * Three shapes: appends of 1, 10 and 1,000 events, each to one of the writer's 16 streams in
 * turn (the first append creates the stream, the later ones update it), with the exact expected
 * version, as a command would; CONNECTIONS (8, as in the event-store suite) concurrent writers.
 * Four configurations, measured in ROUNDS alternating rounds (ABCD DCBA ABCD DCBA) of
 * ROUND_SECONDS each, after a short warm-up each time:
 * - raw: multi-row INSERTs into a copy of `events` (no triggers, the old recorded_at default),
 *   versions kept in memory and checked by nothing: the event-store suite's baseline;
 * - before: EventStore.append with the fix disabled (`events_stamp_transaction` disabled and
 *   recorded_at defaulting to date_trunc('milliseconds', now()) again: the old behaviour exactly);
 * - after: EventStore.append as migrated (trigger enabled, migrated default restored);
 * - emmett: `appendToStream(stream, events, { expectedStreamVersion })` on its own database on
 *   the same server (Emmett creates its own emt_ schema), through a pg pool of the same size.
 * Before and after share one database and table; the switch is made between rounds.
 * Reported: the median of each configuration's rounds, every round, and ratios to raw and to
 * Emmett, and on how many shapes "after" is ahead of Emmett (the issue asks for all three).
 * While each measured round runs, pg_stat_activity is sampled every SAMPLE_MS (how many of the
 * writers' connections wait on the append lock, on WAL, or run), and pg_stat_wal is read around
 * it (WAL bytes, full-page images and flushes per append: fewer flushes than appends is group
 * commit; the writers' connections time their flushes with track_wal_io_timing).
 * For the cost analysis the suite also measures, on one connection: each configuration's
 * latency per append, the server time of the store's append statement with and without the
 * trigger (EXPLAIN ANALYZE, rolled back; the statement text captured from EventStore.append),
 * and the WAL flush a commit waits for. Emmett's package sets pg's global int8/json type parsers
 * when its pool is made; they are in force only while Emmett runs and restored afterwards.
 */
import { getPostgreSQLEventStore, PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Client, Pool, types } from 'pg';
import { createDatabase, createPool, Database, DB } from '@app/db';
import { EventStore, NewEvent } from '@app/event-store';
import { benchEvent, rawInsert, Streams } from '../event-fixtures';
import { BenchContext, median, percentile, Result, round, timeBox } from '../lib';

const CONNECTIONS = 8;
const STREAMS_PER_WORKER = 16;
const SHAPES = [1, 10, 1000];
const ROUNDS = 4;
const SAMPLE_MS = 25;
/** The default that events.recorded_at had before the migration. */
const OLD_DEFAULT = "date_trunc('milliseconds', now())";

type Key = 'raw' | 'before' | 'after' | 'emmett';
const ORDER: Key[] = ['raw', 'before', 'after', 'emmett'];
const LABEL: Record<Key, string> = {
  raw: 'raw INSERT',
  before: 'EventStore before the fix',
  after: 'EventStore after the fix (as migrated)',
  emmett: 'Emmett',
};

const event = benchEvent;

/** The raw baseline's rows: `events` appended to `stream` after version `first - 1`. */
const rawRows = (stream: string, first: number, events: NewEvent[]) =>
  rawInsert(events.map((e, k) => ({ stream, version: first + k, event: e })));

interface Round {
  /** events/s */
  rate: number;
  appendsPerSecond: number;
  seconds: number;
}

/** Mean number of the configuration's connections in each state over the samples of its rounds. */
class WaitProfile {
  private samples = 0;
  private readonly counts = new Map<string, number>();

  add(rows: Array<{ state: string | null; wait: string | null }>) {
    this.samples++;
    for (const r of rows) {
      const key = r.state !== 'active' ? (r.state ?? 'unknown') : (r.wait ?? 'running (CPU)');
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }

  summary(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of [...this.counts].sort((a, b) => b[1] - a[1])) {
      out[k] = round(v / Math.max(1, this.samples), 2);
    }
    return out;
  }

  text(): string {
    return Object.entries(this.summary())
      .filter(([, v]) => v >= 0.05)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  }
}

/** pg_stat_wal (cluster-wide: other databases' writes count too, a little, on a shared server). */
interface WalStats {
  bytes: number;
  fpi: number;
  syncs: number;
  /** ms; the writers' connections run with track_wal_io_timing on */
  syncTime: number;
}
async function walStats(admin: Client): Promise<WalStats> {
  const { rows } = await admin.query<{ b: string; f: string; s: string; t: number }>(
    'SELECT wal_bytes::text AS b, wal_fpi::text AS f, wal_sync::text AS s, wal_sync_time AS t FROM pg_stat_wal',
  );
  return { bytes: Number(rows[0].b), fpi: Number(rows[0].f), syncs: Number(rows[0].s), syncTime: rows[0].t };
}

/** WAL written and flushes made per append over a configuration's measured rounds. */
class WalProfile {
  private appends = 0;
  private readonly sum: WalStats = { bytes: 0, fpi: 0, syncs: 0, syncTime: 0 };

  add(before: WalStats, after: WalStats, appends: number) {
    this.appends += appends;
    this.sum.bytes += after.bytes - before.bytes;
    this.sum.fpi += after.fpi - before.fpi;
    this.sum.syncs += after.syncs - before.syncs;
    this.sum.syncTime += after.syncTime - before.syncTime;
  }

  summary() {
    const per = (v: number) => v / Math.max(1, this.appends);
    return {
      walKiBPerAppend: round(per(this.sum.bytes) / 1024, 1),
      fullPageImagesPerAppend: round(per(this.sum.fpi), 2),
      flushesPerAppend: round(per(this.sum.syncs), 2),
      msPerFlush: round(this.sum.syncTime / Math.max(1, this.sum.syncs), 3),
    };
  }

  text(): string {
    const w = this.summary();
    return `WAL ${w.walKiBPerAppend} KiB (${w.fullPageImagesPerAppend} full-page images) and ${w.flushesPerAppend} flushes per append, ${w.msPerFlush} ms per flush`;
  }
}

const fmtRate = (v: number) => Math.round(v).toLocaleString('en-US');
const times = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

export async function run(ctx: BenchContext): Promise<Result[]> {
  const roundSeconds = Math.min(ctx.seconds, 3);
  const warmSeconds = Math.min(0.25, roundSeconds / 4);
  const emmettUrl = new URL(ctx.databaseUrl);
  emmettUrl.pathname = `${emmettUrl.pathname}_emmett`;
  await recreate(emmettUrl.toString(), true);

  // Writers' connections are named (pg_stat_activity samples) and time their WAL flushes (pg_stat_wal).
  const withName = (url: string, name: string) => {
    const u = new URL(url);
    u.searchParams.set('application_name', name);
    u.searchParams.set('options', '-c track_wal_io_timing=on');
    return u.toString();
  };
  // Connections stay open between rounds (pg closes idle ones after 10 s by default).
  const ourPool = createPool(withName(ctx.databaseUrl, 'bench-peer-ours'), { max: CONNECTIONS, idleTimeoutMillis: 0 });
  const db: Database = createDatabase(ourPool);
  const store = new EventStore(db);
  const rawPool = new Pool({ connectionString: withName(ctx.databaseUrl, 'bench-peer-raw'), max: CONNECTIONS, idleTimeoutMillis: 0 });
  const admin = new Client({ connectionString: withName(ctx.databaseUrl, 'bench-peer-admin') });
  await admin.connect();

  // Emmett as its documentation shows it, on a pg pool of the same size as ours.
  const ourParsers = { 20: types.getTypeParser(20), 114: types.getTypeParser(114), 3802: types.getTypeParser(3802) };
  const emmettPool = new Pool({
    connectionString: withName(emmettUrl.toString(), 'bench-peer-emmett'),
    max: CONNECTIONS,
    idleTimeoutMillis: 0,
  });
  const emmett: PostgresEventStore = getPostgreSQLEventStore(emmettUrl.toString(), {
    connectionOptions: { pool: emmettPool },
  });
  const emmettParsers = { 20: types.getTypeParser(20), 114: types.getTypeParser(114), 3802: types.getTypeParser(3802) };
  const useParsers = (p: typeof ourParsers) => {
    types.setTypeParser(20, p[20]);
    types.setTypeParser(114, p[114]);
    types.setTypeParser(3802, p[3802]);
  };
  useParsers(ourParsers);

  const results: Result[] = [];
  try {
    useParsers(emmettParsers);
    await emmett.schema.migrate();
    useParsers(ourParsers);

    const migratedDefault = (
      await admin.query<{ d: string }>(`
        SELECT pg_get_expr(d.adbin, d.adrelid) AS d FROM pg_attrdef d
        JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
        WHERE d.adrelid = 'events'::regclass AND a.attname = 'recorded_at'`)
    ).rows[0].d;
    let mode: 'before' | 'after' = 'after';
    const setMode = async (next: 'before' | 'after') => {
      if (next !== mode) {
        await admin.query(
          next === 'before'
            ? `ALTER TABLE events DISABLE TRIGGER events_stamp_transaction;
               ALTER TABLE events ALTER COLUMN recorded_at SET DEFAULT ${OLD_DEFAULT}`
            : `ALTER TABLE events ENABLE TRIGGER events_stamp_transaction;
               ALTER TABLE events ALTER COLUMN recorded_at SET DEFAULT ${migratedDefault}`,
        );
        mode = next;
      }
    };

    await admin.query(`
      CREATE SEQUENCE raw_events_seq AS bigint;
      CREATE TABLE raw_events (LIKE events INCLUDING ALL);
      ALTER TABLE raw_events ALTER COLUMN global_position SET DEFAULT nextval('raw_events_seq');
      -- LIKE copies the migrated default, which only the trigger on events makes evaluable.
      ALTER TABLE raw_events ALTER COLUMN recorded_at SET DEFAULT ${OLD_DEFAULT};
      CREATE TABLE peer_flush (x int)`);
    // Every connection open before the clocks start.
    await Promise.all(Array.from({ length: CONNECTIONS }, () => rawPool.query('SELECT 1')));
    await Promise.all(Array.from({ length: CONNECTIONS }, () => sql`SELECT 1`.execute(db)));
    await Promise.all(Array.from({ length: CONNECTIONS }, () => emmettPool.query('SELECT 1')));

    let n = 0;
    /** Events each configuration was told were appended: checked against the tables at the end. */
    const acknowledged: Record<Key, number> = { raw: 0, before: 0, after: 0, emmett: 0 };

    const opsFor = (size: number, key: Key, streams: Streams) => {
      switch (key) {
        case 'raw':
          return async (w: number, i: number) => {
            const stream = streams.name(w, i % STREAMS_PER_WORKER);
            const first = streams.advance(stream, size) + 1;
            const { text, params } = rawRows(stream, first, Array.from({ length: size }, () => event(n++)));
            await rawPool.query(text, params);
            acknowledged.raw += size;
            return size;
          };
        case 'before':
        case 'after':
          return async (w: number, i: number) => {
            const stream = streams.name(w, i % STREAMS_PER_WORKER);
            const events = Array.from({ length: size }, () => event(n++));
            await store.append(stream, events, { expectedVersion: streams.advance(stream, size) });
            acknowledged[key] += size;
            return size;
          };
        case 'emmett':
          return async (w: number, i: number) => {
            const stream = streams.name(w, i % STREAMS_PER_WORKER);
            const expected = BigInt(streams.advance(stream, size));
            const events = Array.from({ length: size }, () => {
              const e = event(n++);
              return { type: e.type, data: e.data as Record<string, unknown>, metadata: e.metadata };
            });
            const result = await emmett.appendToStream(stream, events, { expectedStreamVersion: expected });
            if (result.nextExpectedStreamVersion !== expected + BigInt(size)) {
              throw new Error(`Emmett appended ${stream} to version ${result.nextExpectedStreamVersion}, not ${expected + BigInt(size)}`);
            }
            acknowledged.emmett += size;
            return size;
          };
      }
    };
    const enter = async (key: Key) => {
      if (key === 'before' || key === 'after') {
        await setMode(key);
      }
      useParsers(key === 'emmett' ? emmettParsers : ourParsers);
    };

    const checkpointsAtStart = await checkpoints(admin);
    const profiles = new Map<string, WaitProfile>();
    const wal = new Map<string, WalProfile>();
    const shapeRounds = new Map<number, Map<Key, Round[]>>();
    for (const size of SHAPES) {
      const rounds = new Map<Key, Round[]>(ORDER.map((k) => [k, []]));
      shapeRounds.set(size, rounds);
      // Stream names carry the configuration (before and after share one table) and the shape.
      const ops = new Map(ORDER.map((k) => [k, opsFor(size, k, new Streams(`${k}${size}`))]));
      for (let r = 0; r < ROUNDS; r++) {
        for (const key of r % 2 === 0 ? ORDER : [...ORDER].reverse()) {
          await enter(key);
          const op = ops.get(key)!;
          await timeBox(CONNECTIONS, warmSeconds, op);
          const profile = profiles.get(`${size}/${key}`) ?? new WaitProfile();
          profiles.set(`${size}/${key}`, profile);
          // A backend reports its WAL counters at most once a second: make every writer report now.
          const pool = key === 'raw' ? rawPool : key === 'emmett' ? emmettPool : ourPool;
          const reportStats = () =>
            Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query('SELECT pg_stat_force_next_flush()')));
          await reportStats();
          const walBefore = await walStats(admin);
          const sampling = sample(admin, key === 'raw' ? 'bench-peer-raw' : key === 'emmett' ? 'bench-peer-emmett' : 'bench-peer-ours', profile);
          const box = await timeBox(CONNECTIONS, roundSeconds, op).finally(() => sampling.stop());
          await sampling.done;
          await reportStats();
          const walProfile = wal.get(`${size}/${key}`) ?? new WalProfile();
          wal.set(`${size}/${key}`, walProfile);
          walProfile.add(walBefore, await walStats(admin), box.operations);
          rounds.get(key)!.push({ rate: box.rate, appendsPerSecond: box.operations / box.seconds, seconds: box.seconds });
          ctx.log(`${size} / ${key} round ${r + 1}: ${fmtRate(box.rate)} events/s, ${fmtRate(box.operations / box.seconds)} appends/s`);
        }
      }
    }
    useParsers(ourParsers);
    const roundCheckpoints = (await checkpoints(admin)) - checkpointsAtStart;

    // The cost analysis, on one connection, nothing else running.
    await setMode('after');
    const analysis = await costs(ctx, admin, db, setMode, emmett, emmettParsers, useParsers, rawPool);
    await setMode('after');

    // Acknowledged events are all there, and only "after" recorded them in commit order.
    const stored = await storedCounts(admin, emmettPool);
    for (const key of ORDER) {
      if (stored[key] !== acknowledged[key]) {
        throw new Error(`${key}: ${acknowledged[key]} events acknowledged, ${stored[key]} stored`);
      }
    }
    const inversions = await recordedAtInversions(admin);
    ctx.log(`recorded_at inversions in position order: before ${inversions.before}, after ${inversions.after}`);
    if (inversions.after !== 0) {
      throw new Error(`"after" recorded ${inversions.after} events earlier than the event before them`);
    }

    for (const size of SHAPES) {
      const rounds = shapeRounds.get(size)!;
      const med = (key: Key) => median(rounds.get(key)!.map((x) => x.rate));
      const medAppends = (key: Key) => median(rounds.get(key)!.map((x) => x.appendsPerSecond));
      const perRound = (key: Key) => rounds.get(key)!.map((x) => round(x.rate, 0));
      const single = size === 1;
      const what = single ? 'append 1 event' : `append ${size.toLocaleString('en-US')} events to one stream`;
      const unit = single ? 'appends/s' : 'events/s';
      const baseline = {
        name: single ? 'raw single-row INSERT, 8 connections' : `raw ${size.toLocaleString('en-US')}-row INSERT, 8 connections`,
        value: round(med('raw'), 0),
      };
      const a = analysis.shapes.get(size)!;
      for (const key of ['emmett', 'before', 'after'] as Key[]) {
        const value = med(key);
        const ours = key !== 'emmett';
        const vsEmmett = value / med('emmett');
        const note =
          `${fmtRate(medAppends(key))} appends/s; rounds ${perRound(key).map(fmtRate).join(', ')} ${single ? 'appends/s' : 'events/s'}` +
          ` (raw ${perRound('raw').map(fmtRate).join(', ')}${ours ? `; Emmett ${perRound('emmett').map(fmtRate).join(', ')}` : ''})` +
          (ours ? `; ${times(value, med('emmett'))} Emmett` : '') +
          `; one connection: ${round(a.latency[key], 2)} ms per append (raw ${round(a.latency.raw, 2)} ms)` +
          (ours && a.statement ? `; server time of the append statement ${round(a.statement[key as 'before' | 'after'].execution, 3)} ms` : '') +
          (key === 'after' && a.statement ? ` of which the trigger ${round(a.statement.after.trigger, 3)} ms` : '') +
          `; connections (of ${CONNECTIONS}) by state while measured: ${profiles.get(`${size}/${key}`)!.text()}` +
          `; ${wal.get(`${size}/${key}`)!.text()}` +
          (key === 'after' && a.statement
            ? `; appends ran one at a time under the lock (writers queued on it), so each held it up to 1 / rate =` +
              ` ${round(1000 / medAppends(key), 2)} ms: the statement (${round(a.statement.after.execution, 2)} ms alone on one` +
              ` connection), its commit's flush (${wal.get(`${size}/${key}`)!.summary().msPerFlush} ms), then hand-over to the` +
              ` next writer and CPU contention on the shared cores`
            : '');
        results.push({
          name: `${LABEL[key]}: ${what} (exact expected version), ${CONNECTIONS} connections, median of ${ROUNDS} rounds of ${roundSeconds} s`,
          value: round(value, 0),
          unit,
          baseline,
          ratio: round(value / baseline.value, 3),
          ...(ours ? { target: '> Emmett', met: vsEmmett > 1 } : {}),
          detail: {
            note,
            rounds: perRound(key),
            rawRounds: perRound('raw'),
            emmettRounds: perRound('emmett'),
            appendsPerSecond: round(medAppends(key), 0),
            vsEmmett: round(vsEmmett, 3),
            waits: profiles.get(`${size}/${key}`)!.summary(),
            wal: wal.get(`${size}/${key}`)!.summary(),
            singleConnectionMs: round(a.latency[key], 3),
            ...(ours && a.statement ? { statementMs: a.statement[key as 'before' | 'after'] } : {}),
          },
        });
      }
    }
    const singleAfterFlush = wal.get('1/after')!.summary().msPerFlush;
    const singleAfterStatement = analysis.shapes.get(1)!.statement?.after.execution ?? 0;
    const ahead = SHAPES.filter((size) => {
      const rounds = shapeRounds.get(size)!;
      return median(rounds.get('after')!.map((x) => x.rate)) > median(rounds.get('emmett')!.map((x) => x.rate));
    });
    results.push({
      name: 'shapes (1, 10, 1,000 events) on which the EventStore after the fix is ahead of Emmett',
      value: ahead.length,
      unit: `of ${SHAPES.length}`,
      target: `${SHAPES.length} of ${SHAPES.length}`,
      met: ahead.length === SHAPES.length,
      detail: { ahead },
    });
    results.push({
      name: 'WAL flush a commit waits for (one connection: a one-row INSERT committed with synchronous_commit on, less off; median)',
      value: round(analysis.flushMs, 3),
      unit: 'ms',
      detail: {
        note:
          `under the append lock commits flush one after another (one flush per append, see "flushes per append" above), so appends ` +
          `cannot exceed 1 / (statement + flush) however many writers wait: ~${fmtRate(1000 / analysis.flushMs)}/s at this flush, ` +
          `~${fmtRate(1000 / (singleAfterFlush + singleAfterStatement))}/s at the ${singleAfterFlush} ms a flush took during the ` +
          `single-event "after" rounds (the disk is shared: flush times move with the machine's other work); ` +
          `without the lock concurrent commits share a flush (group commit: fewer flushes than appends). WAL figures are ` +
          `pg_stat_wal's, cluster-wide; ${roundCheckpoints} checkpoint${roundCheckpoints === 1 ? '' : 's'} (most of them forced by other databases' CREATE/DROP ` +
          `DATABASE on this shared server) fell in the rounds, and the full-page images after each land on whichever ` +
          `configuration is running`,
        checkpointsDuringRounds: roundCheckpoints,
        syncMs: analysis.syncMs,
        asyncMs: analysis.asyncMs,
      },
    });
    results.push({
      name: 'recorded_at earlier than the event before it, in position order: after the fix (as migrated)',
      value: inversions.after,
      unit: 'events',
      target: '0',
      met: inversions.after === 0,
      detail: {
        note: `before the fix, the same appends recorded ${inversions.before} of ${inversions.beforeTotal} events earlier than the event before them; acknowledged events all stored (raw ${stored.raw}, before ${stored.before}, after ${stored.after}, Emmett ${stored.emmett})`,
        before: inversions.before,
        stored,
      },
    });
  } finally {
    useParsers(ourParsers);
    await db.destroy();
    await rawPool.end();
    await emmett.close().catch(() => undefined);
    await emmettPool.end();
    await admin.end();
    await recreate(emmettUrl.toString(), false);
  }
  return results;
}

/** Drops (and, when `create`, recreates) Emmett's database; its name must contain "bench". */
async function recreate(url: string, create: boolean): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[a-z0-9_]+$/.test(name) || !name.includes('bench')) {
    throw new Error(`refusing to drop "${name}": the bench database name must contain "bench"`);
  }
  target.pathname = '/postgres';
  const c = new Client({ connectionString: target.toString() });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    if (create) {
      await c.query(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await c.end();
  }
}

/** Samples the states of one application's connections every SAMPLE_MS until stopped. */
function sample(admin: Client, application: string, profile: WaitProfile) {
  let running = true;
  const done = (async () => {
    while (running) {
      const { rows } = await admin.query<{ state: string | null; wait: string | null }>(
        `SELECT state, wait_event_type || ':' || wait_event AS wait FROM pg_stat_activity WHERE application_name = $1`,
        [application],
      );
      profile.add(rows);
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    }
  })();
  return { done, stop: () => (running = false) };
}

interface StatementCost {
  /** EXPLAIN ANALYZE Execution Time, ms (median) */
  execution: number;
  /** the events_stamp_transaction trigger's time, ms (median) */
  trigger: number;
}

interface ShapeCosts {
  latency: Record<Key, number>;
  statement?: { before: StatementCost; after: StatementCost };
}

/**
 * One connection, nothing else running: each configuration's time per append (round trips and
 * commit included); the server time of EventStore.append's statement with the trigger and
 * without (its text captured from a rolled-back append, then EXPLAIN ANALYZEd in transactions
 * that roll back); the WAL flush a commit waits for.
 */
async function costs(
  ctx: BenchContext,
  admin: Client,
  db: Database,
  setMode: (m: 'before' | 'after') => Promise<void>,
  emmett: PostgresEventStore,
  emmettParsers: Record<20 | 114 | 3802, (v: string) => unknown>,
  useParsers: (p: Record<20 | 114 | 3802, (v: string) => unknown>) => void,
  rawPool: Pool,
): Promise<{ shapes: Map<number, ShapeCosts>; flushMs: number; syncMs: number; asyncMs: number }> {
  const out = new Map<number, ShapeCosts>();
  const store = new EventStore(db);
  const ourParsers = { 20: types.getTypeParser(20), 114: types.getTypeParser(114), 3802: types.getTypeParser(3802) };
  let n = 0;
  const serial = async (count: number, op: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 3; i++) {
      await op(i);
    }
    const ms: number[] = [];
    const until = performance.now() + 400;
    for (let i = 3; ms.length < count && (performance.now() < until || ms.length < 5); i++) {
      const started = performance.now();
      await op(i);
      ms.push(performance.now() - started);
    }
    return median(ms);
  };
  for (const size of SHAPES) {
    const latency = {} as Record<Key, number>;
    const count = size === 1000 ? 20 : 200;
    {
      const s = new Streams(`lraw${size}`);
      latency.raw = await serial(count, async (i) => {
        const stream = s.name(0, i % STREAMS_PER_WORKER);
        const { text, params } = rawRows(stream, s.advance(stream, size) + 1, Array.from({ length: size }, () => event(n++)));
        await rawPool.query(text, params);
      });
    }
    for (const key of ['before', 'after'] as const) {
      await setMode(key);
      const s = new Streams(`l${key}${size}`);
      latency[key] = await serial(count, async (i) => {
        const stream = s.name(0, i % STREAMS_PER_WORKER);
        await store.append(stream, Array.from({ length: size }, () => event(n++)), { expectedVersion: s.advance(stream, size) });
      });
    }
    {
      useParsers(emmettParsers);
      const s = new Streams(`lemmett${size}`);
      latency.emmett = await serial(count, async (i) => {
        const stream = s.name(0, i % STREAMS_PER_WORKER);
        const expected = BigInt(s.advance(stream, size));
        await emmett.appendToStream(
          stream,
          Array.from({ length: size }, () => {
            const e = event(n++);
            return { type: e.type, data: e.data as Record<string, unknown>, metadata: e.metadata };
          }),
          { expectedStreamVersion: expected },
        );
      });
      useParsers(ourParsers);
    }
    out.set(size, { latency });
    ctx.log(`one connection, ${size}: ${Object.entries(latency).map(([k, v]) => `${k} ${round(v, 2)} ms`).join(', ')}`);
  }

  // The append statement's server time, with and without the trigger.
  const captured: Array<{ sql: string; parameters: readonly unknown[] }> = [];
  const pool = new Pool({ connectionString: ctx.databaseUrl, max: 1 });
  const capturing = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    log: (e) => {
      if (e.level === 'query' && /INSERT INTO events/.test(e.query.sql)) {
        captured.push({ sql: e.query.sql, parameters: e.query.parameters });
      }
    },
  });
  const client = new Client({ connectionString: ctx.databaseUrl });
  await client.connect();
  try {
    for (const size of SHAPES) {
      // A stream at version 10, and the statement that appends `size` events after it.
      const stream = `explain-${size}`;
      await new EventStore(capturing).append(stream, Array.from({ length: 10 }, () => event(n++)), { expectedVersion: 0 });
      captured.length = 0;
      await capturing
        .transaction()
        .execute(async (trx) => {
          await new EventStore(capturing).append(stream, Array.from({ length: size }, () => event(n++)), { expectedVersion: 10, trx });
          throw new RollBack();
        })
        .catch((e) => {
          if (!(e instanceof RollBack)) {
            throw e;
          }
        });
      const statement = captured[0];
      const cost = {} as { before: StatementCost; after: StatementCost };
      for (const key of ['before', 'after'] as const) {
        await setMode(key);
        const runs: StatementCost[] = [];
        for (let i = 0; i < (size === 1000 ? 8 : 30); i++) {
          await client.query('BEGIN');
          try {
            const { rows } = await client.query<{ 'QUERY PLAN': Array<Record<string, unknown>> }>(
              `EXPLAIN (ANALYZE, FORMAT JSON) ${statement.sql}`,
              statement.parameters as unknown[],
            );
            const plan = rows[0]['QUERY PLAN'][0] as { 'Execution Time': number; Triggers?: Array<{ 'Trigger Name': string; Time: number }> };
            const trigger = plan.Triggers?.find((t) => t['Trigger Name'] === 'events_stamp_transaction')?.Time ?? 0;
            runs.push({ execution: plan['Execution Time'], trigger });
          } finally {
            await client.query('ROLLBACK');
          }
        }
        cost[key] = {
          execution: round(median(runs.slice(2).map((r) => r.execution)), 3),
          trigger: round(median(runs.slice(2).map((r) => r.trigger)), 3),
        };
      }
      out.get(size)!.statement = cost;
      ctx.log(`statement ${size}: before ${cost.before.execution} ms, after ${cost.after.execution} ms (trigger ${cost.after.trigger} ms)`);
    }
  } finally {
    await capturing.destroy();
    await client.end();
  }

  // The WAL flush a commit waits for: a one-row write committed synchronously, less asynchronously.
  const commit = async (syncCommit: 'on' | 'off') => {
    await admin.query(`SET synchronous_commit = ${syncCommit}`);
    const ms: number[] = [];
    for (let i = 0; i < 150; i++) {
      const started = performance.now();
      await admin.query('INSERT INTO peer_flush VALUES (1)');
      ms.push(performance.now() - started);
    }
    await admin.query('RESET synchronous_commit');
    return percentile(ms.sort((a, b) => a - b).slice(10), 50);
  };
  const syncMs = await commit('on');
  const asyncMs = await commit('off');
  ctx.log(`commit: synchronous ${round(syncMs, 3)} ms, asynchronous ${round(asyncMs, 3)} ms`);
  return { shapes: out, flushMs: Math.max(0.001, syncMs - asyncMs), syncMs: round(syncMs, 3), asyncMs: round(asyncMs, 3) };
}

class RollBack extends Error {}

async function checkpoints(admin: Client): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    'SELECT (checkpoints_timed + checkpoints_req)::text AS n FROM pg_stat_bgwriter',
  );
  return Number(rows[0].n);
}

async function storedCounts(admin: Client, emmettPool: Pool): Promise<Record<Key, number>> {
  const { rows } = await admin.query<{ k: string; n: string }>(`
    SELECT substring(stream_id FROM '^(before|after)') AS k, count(*)::text AS n FROM events
    WHERE stream_id ~ '^(before|after)[0-9]+-' GROUP BY 1
    UNION ALL SELECT 'raw', count(*)::text FROM raw_events WHERE stream_id ~ '^raw[0-9]+-'`);
  const counts: Record<Key, number> = { raw: 0, before: 0, after: 0, emmett: 0 };
  for (const r of rows) {
    counts[r.k as Key] = Number(r.n);
  }
  const em = await emmettPool.query<{ n: string }>(`SELECT count(*)::text AS n FROM emt_messages WHERE stream_id ~ '^emmett[0-9]+-'`);
  counts.emmett = Number(em.rows[0].n);
  return counts;
}

/** Events whose recorded_at is earlier than that of the event before them in position order. */
async function recordedAtInversions(admin: Client) {
  const { rows } = await admin.query<{ k: string; inversions: string; total: string }>(`
    SELECT k, count(*) FILTER (WHERE recorded_at < previous)::text AS inversions, count(*)::text AS total FROM (
      SELECT substring(stream_id FROM '^(before|after)') AS k, recorded_at,
             lag(recorded_at) OVER (PARTITION BY substring(stream_id FROM '^(before|after)') ORDER BY global_position) AS previous
      FROM events WHERE stream_id ~ '^(before|after)[0-9]+-') x
    GROUP BY k`);
  const by = new Map(rows.map((r) => [r.k, r]));
  return {
    before: Number(by.get('before')?.inversions ?? 0),
    beforeTotal: Number(by.get('before')?.total ?? 0),
    after: Number(by.get('after')?.inversions ?? 0),
  };
}
