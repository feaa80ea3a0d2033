/**
 * The event store against raw SQL on the same server in the same run:
 * - single appends (one event, exact expected version) vs single-row INSERTs, 8 connections;
 * - batch appends (append and appendMany, 10 and 1,000 events) vs multi-row INSERTs, 8 connections;
 * - a 1,000-event readAll page at random offsets in a log of 1,000,000 events.
 * The raw table is a copy of `events` (same columns, defaults, constraints and indexes, no
 * triggers); raw writers keep their own stream versions in memory and check nothing.
 */
import { sql } from 'kysely';
import { Pool } from 'pg';
import { createDatabase, createPool, Database } from '@app/db';
import { AppendRequest, EventStore } from '@app/event-store';
import { ACTOR, benchEvent, rawInsert, Streams } from '../event-fixtures';
import { BenchContext, compared, percentile, Result, round, timeBox, TimedRun } from '../lib';

const CONNECTIONS = 8;
const STREAMS_PER_WORKER = 16;
const LOG_SIZE = 1_000_000;
const PAGE = 1_000;

/** The raw baseline's rows, each event made from its number. */
const rawRows = (rows: Array<{ stream: string; version: number; n: number }>, table?: string) =>
  rawInsert(rows.map((r) => ({ stream: r.stream, version: r.version, event: event(r.n) })), table);
const event = benchEvent;

interface Variant {
  label: string;
  op: (w: number, i: number) => Promise<number>;
}

interface Pair {
  label: string;
  /** The raw-SQL loop and the event-store loops to compare with it; each returns units per call. */
  raw: (w: number, i: number) => Promise<number>;
  ours: Variant[];
}


export async function run(ctx: BenchContext): Promise<Result[]> {
  const ourPool = createPool(ctx.databaseUrl, { max: CONNECTIONS });
  const db: Database = createDatabase(ourPool);
  const rawPool = new Pool({ connectionString: ctx.databaseUrl, max: CONNECTIONS });
  const store = new EventStore(db);
  const results: Result[] = [];
  try {
    await rawPool.query(`
      CREATE SEQUENCE raw_events_seq AS bigint;
      CREATE TABLE raw_events (LIKE events INCLUDING ALL);
      ALTER TABLE raw_events ALTER COLUMN global_position SET DEFAULT nextval('raw_events_seq');
      -- LIKE copies the default of commit_ordered_recording, which only events' trigger makes evaluable.
      ALTER TABLE raw_events ALTER COLUMN recorded_at SET DEFAULT date_trunc('milliseconds', now());`);
    // Every connection open before the clocks start.
    await Promise.all(Array.from({ length: CONNECTIONS }, () => rawPool.query('SELECT 1')));
    await Promise.all(Array.from({ length: CONNECTIONS }, () => sql`SELECT 1`.execute(db)));

    let n = 0;
    const pairs: Pair[] = [];

    {
      const raw = new Streams('raw1');
      const ourStreams = new Streams('one');
      const append = async (w: number, i: number) => {
        const stream = ourStreams.name(w, i % STREAMS_PER_WORKER);
        await store.append(stream, [event(n++)], { expectedVersion: ourStreams.advance(stream, 1) });
        return 1;
      };
      pairs.push({
        label: 'single',
        raw: async (w, i) => {
          const stream = raw.name(w, i % STREAMS_PER_WORKER);
          const { text, params } = rawRows([{ stream, version: raw.advance(stream, 1) + 1, n: n++ }]);
          await rawPool.query(text, params);
          return 1;
        },
        ours: [
          { label: 'append 1 event (exact expected version)', op: append },
        ],
      });
    }

    for (const size of [10, 1000]) {
      const raw = new Streams(`raw${size}`);
      const one = new Streams(`batch${size}`);
      const many = new Streams(`many${size}`);
      // appendMany spreads the batch over streams of 10 events (one stream per event for 10).
      const perStream = size === 10 ? 1 : 10;
      const streamsPerBatch = size / perStream;
      const appendBatch = async (w: number, i: number) => {
        const stream = one.name(w, i % STREAMS_PER_WORKER);
        const events = Array.from({ length: size }, () => event(n++));
        await store.append(stream, events, { expectedVersion: one.advance(stream, size) });
        return size;
      };
      pairs.push({
        label: `batch ${size}`,
        raw: async (w, i) => {
          const stream = raw.name(w, i % STREAMS_PER_WORKER);
          const first = raw.advance(stream, size) + 1;
          const { text, params } = rawRows(
            Array.from({ length: size }, (_, k) => ({ stream, version: first + k, n: n++ })),
          );
          await rawPool.query(text, params);
          return size;
        },
        ours: [
          {
            label: `append ${size.toLocaleString('en-US')} events to one stream (exact expected version)`,
            op: appendBatch,
          },
          {
            label: `appendMany ${size.toLocaleString('en-US')} events over ${streamsPerBatch} streams (exact expected versions)`,
            op: async (w, i) => {
              const requests: AppendRequest[] = Array.from({ length: streamsPerBatch }, (_, k) => {
                const stream = many.name(w, (i * streamsPerBatch + k) % (streamsPerBatch * 4));
                return {
                  streamId: stream,
                  events: Array.from({ length: perStream }, () => event(n++)),
                  expectedVersion: many.advance(stream, perStream),
                };
              });
              await store.appendMany(requests);
              return size;
            },
          },
        ],
      });
    }

    // Two rounds in opposite orders, so neither side always runs on the fuller table.
    const warm = Math.min(1, ctx.seconds / 5);
    for (const pair of pairs) {
      const runs = new Map<string, TimedRun[]>();
      const variants: Variant[] = [{ label: 'raw', op: pair.raw }, ...pair.ours];
      for (const order of [variants, [...variants].reverse()]) {
        for (const v of order) {
          await timeBox(CONNECTIONS, warm, v.op);
          const r = await timeBox(CONNECTIONS, ctx.seconds, v.op);
          runs.set(v.label, [...(runs.get(v.label) ?? []), r]);
          ctx.log(`${pair.label} / ${v.label}: ${Math.round(r.rate)} per s`);
        }
      }
      const mean = (label: string) => runs.get(label)!.reduce((s, r) => s + r.rate, 0) / runs.get(label)!.length;
      const perRound = (label: string) => runs.get(label)!.map((r) => round(r.rate, 0));
      const single = pair.label === 'single';
      const unit = single ? 'appends/s' : 'events/s';
      const baseline = {
        name: single ? 'raw single-row INSERT, 8 connections' : `raw ${pair.label.slice(6)}-row INSERT, 8 connections`,
        value: mean('raw'),
      };
      for (const ours of pair.ours) {
        results.push(
          compared(`${ours.label}, 8 connections`, mean(ours.label), unit, baseline, single ? 0.6 : 0.5, {
            rounds: perRound(ours.label),
            rawRounds: perRound('raw'),
          }),
        );
      }
    }

    results.push(...(await readAllPages(ctx, db, store)));
  } finally {
    await db.destroy();
    await rawPool.end();
  }
  return results;
}

/** Fills the log with exactly LOG_SIZE events (100,000 streams of 10), then times readAll pages. */
async function readAllPages(ctx: BenchContext, db: Database, store: EventStore): Promise<Result[]> {
  ctx.log(`loading ${LOG_SIZE.toLocaleString('en-US')} events`);
  // TRUNCATE fires no row triggers; the write phases' events make way for a log of known size.
  await sql`TRUNCATE events, streams, raw_events`.execute(db);
  const chunk = 20_000;
  const loadStarted = performance.now();
  for (let from = 0; from < LOG_SIZE; from += chunk) {
    // One transaction per chunk: 50 transaction ids, streams of 10 consecutive versions.
    await sql`
      WITH s AS (
        INSERT INTO streams (stream_id, version)
        SELECT 'org-' || g, 10 FROM generate_series(${from / 10}::int, ${(from + chunk) / 10 - 1}::int) g)
      INSERT INTO events (stream_id, stream_version, event_id, type, data, metadata)
      SELECT 'org-' || (g / 10), g % 10 + 1, gen_random_uuid(), 'MembershipJoined',
             jsonb_build_object('organisationId', 'org-' || (g / 10), 'allianceId', 'ai-alliance',
                                'on', '2024-06-15', 'precision', 'day',
                                'source', jsonb_build_object('url', 'https://thealliance.ai/members')),
             jsonb_build_object('actor', jsonb_build_object('id', ${ACTOR.id}::text, 'name', 'bench curator'))
      FROM generate_series(${from}::int, ${from + chunk - 1}::int) g
      ORDER BY g`.execute(db);
  }
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  await sql`VACUUM ANALYZE events`.execute(db);
  const bounds = (
    await sql<{ lo: string; hi: string; n: string }>`
      SELECT min(global_position)::text AS lo, max(global_position)::text AS hi, count(*)::text AS n FROM events`.execute(
      db,
    )
  ).rows[0];
  if (Number(bounds.n) !== LOG_SIZE) {
    throw new Error(`expected ${LOG_SIZE} events, found ${bounds.n}`);
  }
  ctx.log(`loaded in ${round(loadSeconds, 1)} s`);
  // readAll only returns transactions older than every open one on the server (rule 4): wait
  // until any transaction that began before the load has ended, or every page would be empty.
  for (const until = Date.now() + 120_000; ; ) {
    const horizon = await sql<{ ready: boolean }>`
      SELECT pg_snapshot_xmin(pg_current_snapshot()) > max(transaction_id) AS ready FROM events`.execute(db);
    if (horizon.rows[0].ready) {
      break;
    }
    if (Date.now() > until) {
      throw new Error('an open transaction on the server held the loaded events back for two minutes');
    }
    ctx.log('waiting for an older open transaction on the server to end');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  ctx.log('timing pages');

  const lo = Number(bounds.lo);
  const span = Number(bounds.hi) - lo - PAGE;
  // Positions are dense (one sequence, nothing rolled back), so any of them is a valid cursor.
  const randomAfter = () => String(lo + Math.floor(Math.random() * span));
  const time = async (after: string | null) => {
    const started = performance.now();
    const page = await store.readAll({ after, limit: PAGE });
    const ms = performance.now() - started;
    if (page.length !== PAGE) {
      throw new Error(`a readAll page after ${after} had ${page.length} events`);
    }
    return ms;
  };
  for (let i = 0; i < 30; i++) {
    await time(randomAfter());
  }
  const samples: number[] = [];
  const deadline = performance.now() + ctx.seconds * 1000;
  while (samples.length < 200 || (performance.now() < deadline && samples.length < 2000)) {
    samples.push(await time(randomAfter()));
  }
  samples.sort((a, b) => a - b);
  const first: number[] = [];
  for (let i = 0; i < 20; i++) {
    first.push(await time(null));
  }
  first.sort((a, b) => a - b);

  // The server's share, for the record: the plan and its execution time for one page.
  const plan = await sql<{ 'QUERY PLAN': string }>`
    EXPLAIN (ANALYZE, BUFFERS) ${store.readAllStatement({ after: randomAfter(), limit: PAGE })}`.execute(db);
  const planText = plan.rows.map((r) => r['QUERY PLAN']);
  const execution = Number(/Execution Time: ([\d.]+) ms/.exec(planText.join('\n'))?.[1] ?? NaN);

  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  const common = { events: LOG_SIZE, pages: samples.length, loadSeconds: round(loadSeconds, 1) };
  return [
    {
      name: `readAll page of ${PAGE.toLocaleString('en-US')} at a random position, ${LOG_SIZE.toLocaleString('en-US')} events: p50`,
      value: round(p50),
      unit: 'ms',
      target: '< 5 ms',
      met: p50 < 5,
      detail: { ...common, mean: round(samples.reduce((s, x) => s + x, 0) / samples.length) },
    },
    {
      name: `readAll page of ${PAGE.toLocaleString('en-US')} at a random position, ${LOG_SIZE.toLocaleString('en-US')} events: p99`,
      value: round(p99),
      unit: 'ms',
      target: '< 5 ms',
      met: p99 < 5,
      detail: common,
    },
    {
      name: `readAll first page of ${PAGE.toLocaleString('en-US')}, ${LOG_SIZE.toLocaleString('en-US')} events: p50`,
      value: round(percentile(first, 50)),
      unit: 'ms',
      detail: { pages: first.length },
    },
    {
      name: `readAll page of ${PAGE.toLocaleString('en-US')}: server execution time (EXPLAIN ANALYZE, one page)`,
      value: round(execution),
      unit: 'ms',
      detail: {
        note: 'client figures above include the round trip, transfer and decoding of 1,000 rows',
        plan: planText,
      },
    },
  ];
}
