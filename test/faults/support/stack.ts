import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { Receiver } from '../../webhooks/support/receiver';
import { freePort, PrivatePostgres, PrivateRedis } from './services';
import { Proc, spawnApp, stop, waitUntil } from './processes';

export const src = { url: 'https://example.org/press' };

export interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Private PostgreSQL and Redis, a webhook receiver, and API and worker processes as
 * `npm start` runs them. Any number of extra APIs and workers can join the same servers.
 */
export class FaultStack {
  readonly admin = `faults-admin-${randomBytes(8).toString('hex')}`;
  readonly apis: Proc[] = [];
  readonly workers: Proc[] = [];
  readonly bases: string[] = [];
  pool!: Pool;

  private constructor(
    readonly pg: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly receiver: Receiver,
    private readonly extraEnv: Record<string, string>,
  ) {}

  static async start(options: { apis?: number; workers?: number; env?: Record<string, string> } = {}): Promise<FaultStack> {
    const [pg, redis, receiver] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start(), Receiver.start()]);
    receiver.on('/hook', () => ({ status: 200 }));
    const stack = new FaultStack(pg, redis, receiver, options.env ?? {});
    await stack.startApi();
    stack.pool = new Pool({ connectionString: pg.url, max: 3 });
    stack.pool.on('error', () => undefined);
    for (let i = 1; i < (options.apis ?? 1); i++) {
      await stack.startApi();
    }
    for (let i = 0; i < (options.workers ?? 1); i++) {
      stack.startWorker();
    }
    return stack;
  }

  env(): Record<string, string> {
    return {
      DATABASE_URL: this.pg.url,
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: 'faults',
      ADMIN_API_KEY: this.admin,
      RATE_LIMIT_PER_MINUTE: '100000',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      WEBHOOK_RETRY_SCHEDULE: '200ms,500ms,1s,2s,2s,2s,2s,2s',
      WEBHOOK_SWEEP_INTERVAL_MS: '1000',
      ...this.extraEnv,
    };
  }

  async startApi(): Promise<Proc> {
    const port = await freePort();
    const api = spawnApp('api', { ...this.env(), PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    this.apis.push(api);
    this.bases.push(base);
    await waitUntil('the API to answer', async () => (await this.call('GET', '/health', undefined, base)).status === 200, 60_000).catch(
      (error) => {
        throw new Error(`${(error as Error).message}\n${api.output.join('').slice(-3000)}`);
      },
    );
    return api;
  }

  startWorker(env: Record<string, string> = {}): Proc {
    const worker = spawnApp('worker', { ...this.env(), MIGRATE_ON_START: 'false', ...env });
    this.workers.push(worker);
    return worker;
  }

  async call(method: string, path: string, body?: unknown, base = this.bases[0]): Promise<Answer> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  }

  /** The same call, answered with status 0 when the connection itself failed. */
  async tryCall(method: string, path: string, body?: unknown, base = this.bases[0]): Promise<Answer> {
    return this.call(method, path, body, base).catch((error: Error) => ({
      status: 0,
      headers: new Headers(),
      body: `${error.message}: ${String((error.cause as Error | undefined)?.message ?? '')}`,
    }));
  }

  /** Dead processes, each with the end of its output. */
  deaths(): string[] {
    return [...this.apis, ...this.workers].filter((p) => !p.alive()).map((p) => `${p.name} died:\n${p.output.join('').slice(-3000)}`);
  }

  /** Every event id in the log. */
  async eventIds(): Promise<string[]> {
    return (await this.pool.query<{ id: string }>('SELECT event_id::text AS id FROM events ORDER BY global_position')).rows.map((r) => r.id);
  }

  /** Event ids (as the webhook bodies name them) the receiver got on /hook, with how many distinct webhook-ids. */
  delivered(): Map<string, Set<string>> {
    const byEvent = new Map<string, Set<string>>();
    for (const r of this.receiver.at('/hook')) {
      const eventId = JSON.parse(r.body).data.eventId as string;
      byEvent.set(eventId, (byEvent.get(eventId) ?? new Set()).add(r.id));
    }
    return byEvent;
  }

  async everyEventDelivered(timeoutMs = 60_000): Promise<void> {
    const ids = await this.eventIds();
    await waitUntil(`every one of ${ids.length} events delivered`, () => {
      const got = this.delivered();
      return ids.every((id) => got.has(id));
    }, timeoutMs);
  }

  async noSubscriptionLag(timeoutMs = 30_000): Promise<void> {
    await waitUntil('no subscription lag', async () => {
      const lag = await this.pool.query<{ behind: string }>(`
        SELECT count(*)::text AS behind FROM events e, subscriptions s
        WHERE (e.transaction_id, e.global_position) > (s.last_transaction_id, s.last_position)`);
      return lag.rows[0].behind === '0';
    }, timeoutMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.apis, ...this.workers].map((p) => stop(p)));
    await this.pool?.end().catch(() => undefined);
    await this.receiver.close();
    this.pg.destroy();
    this.redis.destroy();
  }
}

/** Curator writes in a loop (an organisation, then its join), remembering what was acknowledged. */
export class Writers {
  readonly acknowledged = new Map<string, string>();
  readonly statuses = new Map<number, number>();
  /** Why requests that got no answer failed. */
  readonly failures: string[] = [];
  /** Milliseconds per answer, by route. */
  readonly latencies = new Map<string, number[]>();
  retryAfterMissing = 0;
  private stopped = false;
  private running: Promise<void>[] = [];
  private n = 0;

  constructor(
    private readonly stack: FaultStack,
    private readonly prefix = 'org',
  ) {}

  start(count: number, base?: (i: number) => string): this {
    this.running = Array.from({ length: count }, (_, i) => this.loop(base?.(i)));
    return this;
  }

  private async post(route: string, path: string, body: unknown, base?: string): Promise<Answer> {
    const started = performance.now();
    const answer = await this.stack.tryCall('POST', path, body, base);
    const list = this.latencies.get(route) ?? [];
    list.push(performance.now() - started);
    this.latencies.set(route, list);
    this.count(answer);
    return answer;
  }

  private count(answer: Answer) {
    this.statuses.set(answer.status, (this.statuses.get(answer.status) ?? 0) + 1);
    if (answer.status === 0) {
      this.failures.push(String(answer.body));
    }
  }

  private async loop(base?: string): Promise<void> {
    while (!this.stopped) {
      const id = `${this.prefix}-${this.n++}`;
      const org = await this.post('POST /organisations', '/organisations', { id, name: id }, base);
      if (org.status === 503 && !org.headers.get('retry-after')) {
        this.retryAfterMissing++;
      }
      if (org.status === 201) {
        this.acknowledged.set(org.body.event.id, id);
        const join = await this.post('POST /alliances/:id/members', '/alliances/ai-alliance/members', { organisationId: id, on: '2024-01-01', source: src }, base);
        if (join.status === 201) {
          this.acknowledged.set(join.body.event.id, id);
        }
      } else {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.running);
  }

  /** Statuses other than created and unavailable, with the reasons of requests that got no answer. */
  unexpected(): Array<number | string> {
    return [...[...this.statuses.keys()].filter((s) => s !== 201 && s !== 503), ...this.failures];
  }

  /** Acknowledged events missing from the log, or there more than once. */
  async notStoredOnce(): Promise<string[]> {
    const ids = [...this.acknowledged.keys()];
    const { rows } = await this.stack.pool.query<{ id: string; n: string }>(
      'SELECT event_id::text AS id, count(*)::text AS n FROM events WHERE event_id = ANY($1::uuid[]) GROUP BY event_id',
      [ids],
    );
    const once = new Set(rows.filter((r) => r.n === '1').map((r) => r.id));
    return ids.filter((id) => !once.has(id));
  }
}
