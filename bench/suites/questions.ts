/**
 * Point-in-time questions over a large log, and the projection rebuild:
 * - loads BENCH_EVENTS events (default 1,000,000) with EventStore.appendMany: organisations,
 *   alliances, and 20 years of joins, leaves and retractions, recorded round by round in
 *   valid-time order (one appendMany per round, so later rounds close earlier beliefs), with
 *   one alliance of about 10,000 current members among 19 others;
 * - projects them with `npm run projections:rebuild`'s ProjectionRebuilder (events/s), next to
 *   a raw COPY of the rows it wrote into plain tables without indexes;
 * - asks the questions over HTTP on a running API, one request at a time, 1,000 each (BENCH_REQUESTS):
 *   the members on a random date (a page of 100 and the full list), the changes between two
 *   random dates, and the stats, each without and with a random knownAt; p50 and p99.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { sql } from 'kysely';
import { Pool as HttpPool } from 'undici';
import { AppConfig, loadConfig } from '@app/config';
import { createDatabase, createPool, Database } from '@app/db';
import { AppendRequest, EventStore, NewEvent } from '@app/event-store';
import { QuestionsService } from '@app/questions';
import { ProjectionRebuilder, RebuildModule } from '@app/rebuild';
import { parseValidDate, Projections } from '@app/shared';
import { createApi } from '../../apps/api/src/bootstrap';
import { BenchContext, percentile, Result, round } from '../lib';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000);
const ROUNDS = 500;
const FIRST_DAY = Date.UTC(2005, 0, 1);
const LAST_DAY = Date.UTC(2024, 11, 31);
const BIG = 'big-alliance';
const OTHER_ALLIANCES = 19;
const ADMIN_KEY = `bench-admin-${randomUUID()}`;

/** Deterministic data: the same figures mean the same work on every run. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next() {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number) {
    return Math.floor(this.next() * n);
  }
}

const DAY = 86_400_000;
const roundStart = (r: number) => FIRST_DAY + Math.floor(((LAST_DAY - FIRST_DAY) * r) / ROUNDS / DAY) * DAY;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const COUNTRIES = ['US', 'US', 'US', 'DE', 'FR', 'GB', 'JP', 'CN', 'IN', 'CA', 'KR', 'IL', 'CH', 'NL', 'SE'];
const KINDS = ['company', 'company', 'company', 'university', 'research-institute', 'nonprofit', 'government', 'other'];
const META = { actor: { id: 'bench', name: 'bench loader' }, correlationId: 'bench' };
const SOURCE = { url: 'https://example.org/members' };

interface Load {
  rounds: Map<number, Map<string, NewEvent[]>>;
  events: number;
  organisations: number;
  pairs: number;
  bigPairs: number;
  bigMembersNow: number;
}

/**
 * Joins and leaves of one pair at increasing rounds, alternating; now and then the latest fact
 * is retracted one round later (and the pair goes on from the state before it).
 */
function pairHistory(rng: Rng, load: Load, allianceId: string, organisationId: string, wantMember: boolean | null) {
  const stream = `membership-${allianceId}.${organisationId}`;
  const emit = (r: number, e: NewEvent) => {
    const byStream = load.rounds.get(r) ?? new Map<string, NewEvent[]>();
    load.rounds.set(r, byStream);
    byStream.set(stream, [...(byStream.get(stream) ?? []), e]);
    load.events++;
  };
  let member = false;
  let r = 1 + rng.int(ROUNDS / 2);
  let lastDate = 0;
  const facts = 1 + rng.int(6);
  const fact = (at: number) => {
    let date = roundStart(at) + rng.int(Math.max(1, (roundStart(at + 1) - roundStart(at)) / DAY)) * DAY;
    let on = isoDay(date);
    const firstOfMonth = Date.UTC(new Date(date).getUTCFullYear(), new Date(date).getUTCMonth(), 1);
    if (rng.next() < 0.1 && firstOfMonth >= lastDate) {
      on = on.slice(0, 7);
      date = firstOfMonth;
    }
    lastDate = date;
    const id = randomUUID();
    const type = member ? 'MemberLeft' : 'MemberJoined';
    emit(at, {
      id,
      type,
      metadata: META,
      data: {
        allianceId,
        organisationId,
        on,
        precision: on.length === 7 ? 'month' : 'day',
        source: SOURCE,
        ...(type === 'MemberJoined' && rng.next() < 0.3 ? { role: 'general member' } : {}),
      },
    });
    member = !member;
    return { id, type };
  };
  for (let i = 0; i < facts && r < ROUNDS - 1; i++) {
    const f = fact(r);
    if (rng.next() < 0.04) {
      emit(r + 1, {
        type: 'EventRetracted',
        metadata: META,
        data: { eventId: f.id, reason: 'misdated', retractedType: f.type, allianceId, organisationId },
      });
      member = !member;
      r += 2;
    } else {
      r += 1;
    }
    r += rng.int(ROUNDS / facts);
  }
  if (wantMember !== null && member !== wantMember && r < ROUNDS) {
    fact(r);
  }
  load.pairs++;
  return member;
}

function generate(total: number): Load {
  const rng = new Rng(20261125);
  const load: Load = { rounds: new Map(), events: 0, organisations: 0, pairs: 0, bigPairs: 0, bigMembersNow: 0 };
  const organisations = Math.min(20_000, Math.max(2_000, Math.floor(total / 50)));
  const registrations = new Map<string, NewEvent[]>();
  const orgIds = Array.from({ length: organisations }, (_, i) => `org-${String(i).padStart(5, '0')}`);
  for (const [i, id] of orgIds.entries()) {
    registrations.set(`organisation-${id}`, [
      {
        type: 'OrganisationRegistered',
        metadata: META,
        data: {
          organisationId: id,
          name: `Organisation ${i}`,
          country: COUNTRIES[rng.int(COUNTRIES.length)],
          kind: KINDS[rng.int(KINDS.length)],
          aliases: [],
          website: null,
          provisional: false,
        },
      },
    ]);
  }
  const alliances = [BIG, ...Array.from({ length: OTHER_ALLIANCES }, (_, i) => `alliance-${i}`)];
  for (const id of alliances) {
    registrations.set(`alliance-${id}`, [
      { type: 'AllianceRegistered', metadata: META, data: { allianceId: id, name: id, website: null, foundedOn: null, foundedPrecision: null } },
    ]);
  }
  load.rounds.set(0, registrations);
  load.events += registrations.size;
  load.organisations = organisations;

  // The big alliance: 16,000 pairs (fewer on a small run), about 10,000 of them members today.
  const bigPairs = Math.min(16_000, organisations, Math.floor(total / 60));
  for (let i = 0; i < bigPairs; i++) {
    if (pairHistory(rng, load, BIG, orgIds[i], rng.next() < 0.63)) {
      load.bigMembersNow++;
    }
  }
  load.bigPairs = bigPairs;
  // The others share the rest, each over its own shuffle of the organisations.
  const next = alliances.slice(1).map(() => 0);
  const orders = alliances.slice(1).map(() => [...orgIds].sort(() => rng.next() - 0.5));
  for (let k = 0; load.events < total; k = (k + 1) % OTHER_ALLIANCES) {
    if (next[k] >= organisations) {
      if (next.every((n) => n >= organisations)) {
        break;
      }
      continue;
    }
    pairHistory(rng, load, alliances[k + 1], orders[k][next[k]++], null);
  }
  return load;
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length) };
}

export async function run(ctx: BenchContext): Promise<Result[]> {
  // What scripts/rebuild-projections.ts sets for the replay, so the figure is the command's.
  setFlagsFromString('--max-semi-space-size=64');
  const pool = createPool(ctx.databaseUrl, { max: 4 });
  const db = createDatabase(pool);
  const store = new EventStore(db);
  const results: Result[] = [];
  const config = loadConfig({ ...process.env, DATABASE_URL: ctx.databaseUrl, ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0' });
  try {
    // --- load ---
    ctx.log(`generating ${EVENTS} events`);
    const load = generate(EVENTS);
    const loadStarted = performance.now();
    const rounds = [...load.rounds.keys()].sort((a, b) => a - b);
    for (const r of rounds) {
      const requests: AppendRequest[] = [...load.rounds.get(r)!.entries()].map(([streamId, events]) => ({ streamId, events, expectedVersion: 'any' }));
      for (let i = 0; i < requests.length; i += 2_000) {
        await store.appendMany(requests.slice(i, i + 2_000));
      }
      if (r % 50 === 0) {
        ctx.log(`loaded round ${r}/${ROUNDS}`);
      }
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    // A million generated events would otherwise stay on the heap through the rebuild.
    load.rounds.clear();
    ctx.log(`loaded ${load.events} events in ${loadSeconds.toFixed(1)} s`);

    // --- rebuild, and a raw COPY of what it wrote ---
    const rebuildCtx = await NestFactory.createApplicationContext(RebuildModule.forRoot(config), { logger: false });
    let lastLog = 0;
    const rebuild = await rebuildCtx.get(ProjectionRebuilder).rebuild({
      onProgress: ({ events, seconds }) => {
        if (seconds - lastLog > 10) {
          lastLog = seconds;
          ctx.log(`rebuild: ${events} events, ${Math.round(events / seconds)}/s`);
        }
      },
    });
    const tables = rebuildCtx.get(Projections).tables();
    await rebuildCtx.close();
    ctx.log(`rebuild: ${rebuild.events} events in ${rebuild.seconds.toFixed(1)} s`);
    const copy = await rawCopy(db, tables);
    results.push({
      name: `projection rebuild, ${rebuild.events.toLocaleString('en-US')} events`,
      value: Math.round(rebuild.eventsPerSecond),
      unit: 'events/s',
      baseline: { name: `raw COPY of the ${copy.rows.toLocaleString('en-US')} rows it wrote into plain tables`, value: Math.round(rebuild.events / copy.seconds) },
      ratio: round(rebuild.seconds > 0 ? copy.seconds / rebuild.seconds : 0, 3),
      target: '>= 20,000 events/s',
      met: rebuild.eventsPerSecond >= 20_000,
      detail: {
        seconds: round(rebuild.seconds),
        batches: rebuild.batches,
        copySeconds: round(copy.seconds),
        copyMethod: copy.method,
        rowsPerTable: copy.perTable,
        loadSeconds: round(loadSeconds),
        organisations: load.organisations,
        pairs: load.pairs,
        note: 'the baseline is events / (seconds to COPY every projection row into unindexed tables): the floor for writing the same output',
      },
    });
    const eventsCopy = await rawEventsCopy(db);
    results.push({
      name: `raw COPY of the ${eventsCopy.rows.toLocaleString('en-US')} events rows into a plain table`,
      value: Math.round(eventsCopy.rows / eventsCopy.seconds),
      unit: 'rows/s',
      detail: { seconds: round(eventsCopy.seconds), method: eventsCopy.method },
    });
    await sql`VACUUM ANALYZE`.execute(db);

    results.push(...(await measureQuestions(ctx, config, db)));
    return results;
  } finally {
    await db.destroy();
  }
}

/** The questions over HTTP on a running API, one request at a time. */
export async function measureQuestions(ctx: BenchContext, config: AppConfig, db: Database): Promise<Result[]> {
  const results: Result[] = [];
  const bounds = (await sql<{ lo: Date; hi: Date }>`SELECT min(recorded_at) AS lo, max(recorded_at) AS hi FROM events`.execute(db)).rows[0];
  const bigNow = (await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM membership_intervals
    WHERE alliance_id = ${BIG} AND recorded_to IS NULL AND valid_from <= ${isoDay(LAST_DAY)}::date
      AND (valid_to IS NULL OR valid_to > ${isoDay(LAST_DAY)}::date)`.execute(db)).rows[0].n;
  const api = await createApi(config);
  await api.listen(0, '127.0.0.1');
  const port = (api.getHttpServer().address() as { port: number }).port;
  const http = new HttpPool(`http://127.0.0.1:${port}`, { connections: 1 });
  const rng = new Rng(7);
  const randomAt = () => isoDay(FIRST_DAY + rng.int((LAST_DAY - FIRST_DAY) / DAY) * DAY);
  const randomKnownAt = () => new Date(bounds.lo.getTime() + rng.int(bounds.hi.getTime() - bounds.lo.getTime() + 1)).toISOString();
  const time = async (label: string, path: () => string, target?: { p99: number }) => {
    const samples: number[] = [];
    let bytes = 0;
    let sizes = 0;
    let sampled = 0;
    for (let i = 0; i < REQUESTS + 20; i++) {
      const url = path();
      const started = performance.now();
      const res = await http.request({ method: 'GET', path: url, headers: { authorization: `Bearer ${config.adminApiKey}` } });
      const body = await res.body.text();
      const elapsed = performance.now() - started;
      if (res.statusCode !== 200) {
        throw new Error(`${url}: ${res.statusCode} ${body.slice(0, 300)}`);
      }
      if (i >= 20) {
        samples.push(elapsed);
        bytes += body.length;
      }
      if (i % 50 === 0) {
        // Sampled: parsing every large answer here would add the client's garbage to the server's.
        const answer = JSON.parse(body) as { members?: unknown[]; count?: number; events?: unknown[] };
        sizes += answer.members?.length ?? answer.events?.length ?? answer.count ?? 0;
        sampled++;
      }
    }
    const s = stats(samples);
    ctx.log(`${label}: p50 ${s.p50} ms, p99 ${s.p99} ms`);
    const detail = { requests: REQUESTS, mean: s.mean, meanBytes: Math.round(bytes / REQUESTS), meanItems: Math.round(sizes / Math.max(sampled, 1)) };
    results.push({ name: `${label}: p50`, value: s.p50, unit: 'ms', detail });
    results.push({
      name: `${label}: p99`,
      value: s.p99,
      unit: 'ms',
      ...(target ? { target: `< ${target.p99} ms`, met: s.p99 < target.p99 } : {}),
      detail,
    });
  };
  ctx.log(`${BIG}: ${bigNow} members at the end of the 20 years`);
  const members = `/alliances/${BIG}/members`;
  // Steady state: the rebuild and VACUUM leave the questions' index pages cold; 200 answers
  // over the whole timeline bring them in before anything is timed.
  for (let i = 0; i < 200; i++) {
    const knownAt = i % 2 ? `&knownAt=${randomKnownAt()}` : '';
    const res = await http.request({
      method: 'GET',
      path: `${members}?at=${randomAt()}&limit=10000${knownAt}`,
      headers: { authorization: `Bearer ${config.adminApiKey}` },
    });
    await res.body.text();
  }
  for (const known of [false, true]) {
    const k = () => (known ? `&knownAt=${randomKnownAt()}` : '');
    const suffix = known ? ', random knownAt' : '';
    await time(`members page of 100 at a random date${suffix}`, () => `${members}?at=${randomAt()}&limit=100${k()}`, { p99: 20 });
    await time(`members full list (limit 10000, ~${bigNow} today) at a random date${suffix}`, () => `${members}?at=${randomAt()}&limit=10000${k()}`, { p99: 150 });
    await time(`changes between two random dates${suffix}`, () => {
      const [from, to] = [randomAt(), randomAt()].sort();
      return `/alliances/${BIG}/changes?from=${from}&to=${to}${k()}`;
    });
    await time(`stats at a random date${suffix}`, () => `/alliances/${BIG}/stats?at=${randomAt()}${k()}`, { p99: 50 });
  }
  // The same questions without HTTP (the query service in-process): what the database and the
  // mapping cost, apart from routing, auth and the socket.
  const service = api.get(QuestionsService);
  const inProcess = async (label: string, ask: (at: string, knownAt: Date) => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < REQUESTS + 20; i++) {
      const at = randomAt();
      const knownAt = new Date(randomKnownAt());
      const started = performance.now();
      await ask(at, knownAt);
      if (i >= 20) {
        samples.push(performance.now() - started);
      }
    }
    const s = stats(samples);
    ctx.log(`${label}: p50 ${s.p50} ms, p99 ${s.p99} ms`);
    results.push({ name: `${label}: p50`, value: s.p50, unit: 'ms', detail: { requests: REQUESTS, mean: s.mean } });
    results.push({ name: `${label}: p99`, value: s.p99, unit: 'ms', detail: { requests: REQUESTS, mean: s.mean } });
  };
  const askAt = (at: string, knownAt: Date) => ({ at: parseValidDate(at), knownAt });
  await inProcess('in-process, no HTTP: members page of 100, random knownAt', (at, k) =>
    service.members(BIG, askAt(at, k), {}, { limit: 100, cursor: null }),
  );
  await inProcess('in-process, no HTTP: members full list, random knownAt', (at, k) =>
    service.members(BIG, askAt(at, k), {}, { limit: 10_000, cursor: null }),
  );
  await inProcess('in-process, no HTTP: stats, random knownAt', (at, k) => service.stats(BIG, askAt(at, k)));
  await http.close();
  await api.close();
  return results;
}

/** COPY every projection table's rows out and into an unindexed copy: the floor for writing them. */
async function rawCopy(db: ReturnType<typeof createDatabase>, tables: string[]) {
  let rows = 0;
  let seconds = 0;
  let method = 'COPY FROM file';
  const perTable: Record<string, number> = {};
  for (const table of tables) {
    const r = await copyTable(db, table);
    rows += r.rows;
    seconds += r.seconds;
    method = r.method;
    perTable[table] = r.rows;
  }
  return { rows, seconds, method, perTable };
}

async function rawEventsCopy(db: ReturnType<typeof createDatabase>) {
  return copyTable(db, 'events');
}

/**
 * Server-side COPY through a file (superuser or pg_write/read_server_files); where that is not
 * allowed, INSERT ... SELECT into the plain table is the fallback, and the method says so.
 */
async function copyTable(db: ReturnType<typeof createDatabase>, table: string) {
  const plain = `bench_plain_${table}`;
  const file = join(tmpdir(), `bench-${table}-${process.pid}.copy`);
  await sql`DROP TABLE IF EXISTS ${sql.table(plain)}`.execute(db);
  await sql`CREATE TABLE ${sql.table(plain)} (LIKE ${sql.table(table)})`.execute(db);
  const rows = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(db)).rows[0].n);
  let method = 'COPY FROM file';
  let seconds: number;
  try {
    await sql`COPY ${sql.table(table)} TO ${sql.lit(file)}`.execute(db);
    const started = performance.now();
    await sql`COPY ${sql.table(plain)} FROM ${sql.lit(file)}`.execute(db);
    seconds = (performance.now() - started) / 1000;
  } catch {
    method = 'INSERT ... SELECT (server-side COPY not permitted)';
    const started = performance.now();
    await sql`INSERT INTO ${sql.table(plain)} SELECT * FROM ${sql.table(table)}`.execute(db);
    seconds = (performance.now() - started) / 1000;
  } finally {
    rmSync(file, { force: true });
  }
  await sql`DROP TABLE ${sql.table(plain)}`.execute(db);
  return { rows, seconds, method };
}
