/**
 * Issue 6: webhook delivery. One worker process (apps/worker, spawned as `npm run start:worker`
 * runs it) delivers to a local receiver that answers each request after ~5 ms.
 *
 * - Throughput: 20,000 events appended as fast as the store takes them; deliveries per second
 *   from the first commit to the last delivery, next to raw undici POSTs of the same bodies to
 *   the same receiver over as many connections as the worker may use for one endpoint.
 * - Latency: events appended one per transaction at 200 events/s; commit (append resolved) to
 *   first attempt (request received), next to the raw POST round trip.
 *
 * WEBHOOK_* variables of the environment reach the worker (e.g. WEBHOOK_ENDPOINT_CONCURRENCY=20);
 * BENCH_WORKER_NODE_ARGS adds node flags to it (e.g. "--cpu-prof"); BENCH_DEBUG=1 logs the
 * worker at info level and the fan-out's progress.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { loadConfig } from '@app/config';
import { createDatabase, createPool, Database } from '@app/db';
import { EventStore } from '@app/event-store';
import { generateWebhookSecret, signWebhook, webhookSecretBox, WebhooksRepository } from '@app/webhooks';
import { BenchContext, percentile, Result, round } from '../lib';

const ROOT = join(__dirname, '..', '..');
const THROUGHPUT_EVENTS = 20_000;
const APPEND_BATCH = 250;
const LATENCY_RATE = 200;
const RECEIVER_DELAY_MS = 5;

interface Arrival {
  first: number;
  count: number;
}

/** Answers every POST after RECEIVER_DELAY_MS; remembers when each webhook-id first arrived. */
class Receiver {
  readonly arrivals = new Map<string, Arrival>();
  requests = 0;
  private server!: Server;
  private waiter: { count: number; resolve: () => void } | null = null;
  port = 0;

  async start() {
    this.server = createServer((req, res) => {
      const at = performance.now();
      const id = req.url === '/hook' ? String(req.headers['webhook-id'] ?? '') : '';
      req.resume();
      req.on('end', () => {
        this.requests++;
        if (id) {
          const seen = this.arrivals.get(id);
          if (seen) {
            seen.count++;
          } else {
            this.arrivals.set(id, { first: at, count: 1 });
          }
        }
        if (this.waiter && this.arrivals.size >= this.waiter.count) {
          this.waiter.resolve();
          this.waiter = null;
        }
        setTimeout(() => res.writeHead(200).end('ok'), RECEIVER_DELAY_MS);
      });
    });
    this.server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  distinct(count: number, timeoutMs: number): Promise<void> {
    if (this.arrivals.size >= count) {
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.arrivals.size} of ${count} messages arrived in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }

  close() {
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** BENCH_WORKER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to the worker's node. */
function spawnWorker(env: Record<string, string>): ChildProcess {
  const extra = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, '-r', '@swc-node/register', 'apps/worker/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function stopWorker(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

async function deletePrefix(redisUrl: string, prefix: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) {
        await redis.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const joinedEvent = (i: number) => ({
  type: 'MemberJoined',
  data: { allianceId: 'ai-alliance', organisationId: `org-${i}`, on: '2024-01-01', precision: 'day', source: { url: 'https://example.org' } },
});

/** Raw baseline: the same bodies, signed the same way, POSTed with undici over `connections` connections. */
async function rawPosts(db: Database, port: number, connections: number, count: number, secret: string) {
  const bodies = (await db.selectFrom('webhook_messages').select(['id', 'payload']).limit(count).execute()).map((m) => m);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let i = next++; i < count; i = next++) {
        const m = bodies[i % bodies.length];
        const began = performance.now();
        const headers = signWebhook([secret], `raw-${randomUUID()}`, Math.floor(Date.now() / 1000), m.payload);
        const res = await pool.request({
          method: 'POST',
          path: '/raw',
          headers: { ...headers, 'content-type': 'application/json' },
          body: m.payload,
        });
        await res.body.text();
        latencies.push(performance.now() - began);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { rate: count / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export async function run(ctx: BenchContext): Promise<Result[]> {
  const prefix = `bench-webhooks-${process.pid}`;
  // WEBHOOK_* settings of the environment (e.g. WEBHOOK_ENDPOINT_CONCURRENCY) reach the worker.
  const config = loadConfig({
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('WEBHOOK_'))),
    DATABASE_URL: ctx.databaseUrl,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  });
  const pool = createPool(ctx.databaseUrl, { max: 8 });
  const db = createDatabase(pool);
  const store = new EventStore(db);
  const receiver = new Receiver();
  await receiver.start();
  let worker: ChildProcess | null = null;
  try {
    const id = randomUUID();
    const secret = generateWebhookSecret();
    await db.transaction().execute((trx) => new WebhooksRepository(db).createEndpoint(trx, {
      id,
      url: `http://127.0.0.1:${receiver.port}/hook`,
      description: 'bench',
      eventTypes: [],
      allianceIds: [],
      secretCiphertext: webhookSecretBox(config.secretsKey).seal(secret, id),
    }));

    worker = spawnWorker({
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: config.redisUrl,
      REDIS_PREFIX: prefix,
      MIGRATE_ON_START: 'false',
      LOG_LEVEL: process.env.BENCH_DEBUG ? 'info' : 'warn',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      WEBHOOK_ENDPOINT_CONCURRENCY: String(config.webhookEndpointConcurrency),
      WEBHOOK_CONCURRENCY: String(config.webhookConcurrency),
    });
    // A warm-up event proves the worker is up before anything is timed.
    const warm = await store.append('bench-warmup', [joinedEvent(-1)], { expectedVersion: 'any' });
    await receiver.distinct(1, 60_000);
    if (!receiver.arrivals.has(warm.events[0].id)) {
      throw new Error('warm-up message did not arrive');
    }

    ctx.log(`throughput: ${THROUGHPUT_EVENTS} events, one endpoint`);
    const baseCount = receiver.arrivals.size;
    const marks: number[] = [];
    const started = performance.now();
    for (let i = 0; i < THROUGHPUT_EVENTS; i += APPEND_BATCH) {
      await store.appendMany(
        Array.from({ length: APPEND_BATCH }, (_, k) => ({
          streamId: `membership-ai-alliance.org-${i + k}`,
          events: [joinedEvent(i + k)],
          expectedVersion: 'any' as const,
        })),
      );
    }
    const appended = performance.now();
    const progress = setInterval(() => {
      void (async () => {
        const fanned = process.env.BENCH_DEBUG
          ? (await db.selectFrom('subscriptions').select('handled_count').where('name', '=', 'webhooks').executeTakeFirst())?.handled_count
          : '';
        ctx.log(`  ${receiver.arrivals.size - baseCount} delivered ${fanned ? `(${fanned} fanned out)` : ''}`);
      })();
    }, process.env.BENCH_DEBUG ? 1_000 : 5_000);
    await receiver.distinct(baseCount + THROUGHPUT_EVENTS, 10 * 60_000).finally(() => clearInterval(progress));
    const finished = performance.now();
    const firsts = [...receiver.arrivals.values()].map((a) => a.first).sort((a, b) => a - b).slice(baseCount);
    for (const p of [10, 90]) {
      marks.push(firsts[Math.floor((p / 100) * firsts.length)]);
    }
    const overall = THROUGHPUT_EVENTS / ((finished - started) / 1000);
    const steady = (0.8 * THROUGHPUT_EVENTS) / ((marks[1] - marks[0]) / 1000);
    const duplicates = [...receiver.arrivals.values()].filter((a) => a.count > 1).length;
    const perSecond: number[] = [];
    for (const at of firsts) {
      const second = Math.floor((at - started) / 1000);
      perSecond[second] = (perSecond[second] ?? 0) + 1;
    }

    ctx.log(`raw baseline: ${THROUGHPUT_EVENTS} POSTs over ${config.webhookEndpointConcurrency} connections`);
    const raw = await rawPosts(db, receiver.port, config.webhookEndpointConcurrency, THROUGHPUT_EVENTS, secret);

    const latencySeconds = Math.max(ctx.seconds, 10);
    const count = latencySeconds * LATENCY_RATE;
    ctx.log(`latency: ${count} events at ${LATENCY_RATE}/s, one per transaction`);
    const committed = new Map<string, number>();
    const before = receiver.arrivals.size;
    const t0 = performance.now();
    let behind = 0;
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / LATENCY_RATE;
      const wait = due - performance.now();
      if (wait > 0) {
        await new Promise((r) => setTimeout(r, wait));
      } else if (wait < -50) {
        behind++;
      }
      const result = await store.append(`membership-latency.org-${i}`, [joinedEvent(i)], { expectedVersion: 'any' });
      committed.set(result.events[0].id, performance.now());
    }
    const offered = count / ((performance.now() - t0) / 1000);
    await receiver.distinct(before + count, 120_000);
    const lags = [...committed].map(([eventId, at]) => receiver.arrivals.get(eventId)!.first - at).sort((a, b) => a - b);
    const slow = [...committed].filter(([eventId, at]) => receiver.arrivals.get(eventId)!.first - at > 1000).map(([e]) => e);
    if (slow.length > 0) {
      const rows = slow.length
        ? await db.selectFrom('webhook_deliveries').select(['seq', 'event_id', 'attempts', 'created_at', 'updated_at']).where('event_id', 'in', slow).orderBy('seq').execute()
        : [];
      ctx.log(`slow deliveries: ${JSON.stringify(rows.slice(0, 20))} (${slow.length})`);
    }
    const p50 = percentile(lags, 50);
    const p99 = percentile(lags, 99);

    const note =
      `one worker process (WEBHOOK_CONCURRENCY ${config.webhookConcurrency}, ${config.webhookEndpointConcurrency} per endpoint), ` +
      `one endpoint, receiver answers after ${RECEIVER_DELAY_MS} ms; appending took ${round((appended - started) / 1000, 1)} s`;
    return [
      {
        name: `deliveries/s over ${THROUGHPUT_EVENTS} events, first commit to last delivery`,
        value: round(overall, 0),
        unit: 'deliveries/s',
        baseline: { name: `raw undici POSTs, ${config.webhookEndpointConcurrency} connections`, value: round(raw.rate, 0) },
        ratio: round(overall / raw.rate, 3),
        target: '>= 1,000 deliveries/s',
        met: overall >= 1000,
        detail: {
          steadyStateRate: round(steady, 0),
          duplicates,
          seconds: round((finished - started) / 1000, 2),
          deliveredPerSecond: Array.from(perSecond, (n) => n ?? 0),
          note,
        },
      },
      {
        name: 'deliveries/s, steady state (10th to 90th percentile of arrivals)',
        value: round(steady, 0),
        unit: 'deliveries/s',
        baseline: { name: `raw undici POSTs, ${config.webhookEndpointConcurrency} connections`, value: round(raw.rate, 0) },
        ratio: round(steady / raw.rate, 3),
        target: '>= 1,000 deliveries/s',
        met: steady >= 1000,
      },
      {
        name: `commit to first attempt p50 at ${LATENCY_RATE} events/s`,
        value: round(p50, 1),
        unit: 'ms',
        baseline: { name: 'raw POST round trip p50', value: round(raw.p50, 1) },
        target: '< 100 ms',
        met: p50 < 100,
        detail: { events: count, offeredRate: round(offered, 0), appendsBehindSchedule: behind },
      },
      {
        name: `commit to first attempt p99 at ${LATENCY_RATE} events/s`,
        value: round(p99, 1),
        unit: 'ms',
        baseline: { name: 'raw POST round trip p99', value: round(raw.p99, 1) },
        target: '< 500 ms',
        met: p99 < 500,
        detail: { max: round(lags[lags.length - 1], 1), overOneSecond: slow.length },
      },
    ];
  } finally {
    if (worker) {
      await stopWorker(worker);
    }
    await receiver.close();
    await db.destroy();
    await deletePrefix(config.redisUrl, prefix);
  }
}
