import type { BenchContext, Result } from '../lib';
import { FaultStack, Writers } from '../../test/faults/support/stack';
import { sleep, waitUntil } from '../../test/faults/support/processes';

/**
 * `npm run soak`: the service as deployed (API and worker processes, private PostgreSQL and
 * Redis) under steady mixed writes, questions and webhook deliveries for SOAK_SECONDS (default
 * 300); the worker is SIGKILLed every minute and PostgreSQL restarted once, halfway. Reports
 * throughput, p99 per route, subscription lag, errors by kind and acknowledged vs stored writes.
 * Its own servers, not ctx.databaseUrl: restarting the shared PostgreSQL would disturb others.
 */
export const optIn = true;

const percentile = (values: number[], p: number) => {
  if (values.length === 0) {
    return 0;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

export async function run(ctx: BenchContext): Promise<Result[]> {
  const seconds = Number(process.env.SOAK_SECONDS ?? 300);
  const stack = await FaultStack.start();
  try {
    await stack.call('POST', '/alliances', { id: 'ai-alliance', name: 'AI Alliance' });
    await stack.call('POST', '/webhooks', { url: stack.receiver.url('/hook') });
    const writers = new Writers(stack, 'soak');
    const latencies = writers.latencies;
    const errors = new Map<string, number>();
    const timed = async (route: string, method: string, path: string) => {
      const started = performance.now();
      const answer = await stack.tryCall(method, path);
      const list = latencies.get(route) ?? [];
      list.push(performance.now() - started);
      latencies.set(route, list);
      const ok = answer.status >= 200 && answer.status < 300;
      if (!ok) {
        const kind = answer.status === 0 ? 'no answer' : String(answer.status);
        errors.set(kind, (errors.get(kind) ?? 0) + 1);
      }
      return ok;
    };
    const deadline = Date.now() + seconds * 1000;
    const asker = async () => {
      for (let i = 0; Date.now() < deadline; i++) {
        const route = ['members', 'stats', 'changes'][i % 3];
        const query = route === 'changes' ? '?from=2023&to=2025&limit=100' : route === 'members' ? '?limit=100' : '';
        if (!(await timed(`GET /alliances/:id/${route}`, 'GET', `/alliances/ai-alliance/${route}${query}`))) {
          await sleep(100);
        }
      }
    };
    let maxLag = 0;
    const lagSampler = async () => {
      while (Date.now() < deadline) {
        const lag = await stack.pool
          .query<{ behind: string }>(`SELECT count(*)::text AS behind FROM events e, subscriptions s
             WHERE (e.transaction_id, e.global_position) > (s.last_transaction_id, s.last_position)`)
          .then((r) => Number(r.rows[0].behind), () => 0);
        maxLag = Math.max(maxLag, lag);
        await sleep(1000);
      }
    };
    const chaos = async () => {
      let restarted = false;
      let kills = 0;
      const started = Date.now();
      while (Date.now() < deadline) {
        await sleep(1000);
        const elapsed = Date.now() - started;
        if (!restarted && elapsed > (seconds * 1000) / 2) {
          ctx.log('restarting PostgreSQL');
          stack.pg.restart();
          restarted = true;
        }
        if (elapsed > (kills + 1) * 60_000) {
          kills++;
          ctx.log(`SIGKILL worker (${kills})`);
          const worker = stack.workers.find((w) => w.alive());
          worker?.child.kill('SIGKILL');
          await worker?.exited;
          stack.startWorker();
        }
      }
      return { restarted, kills };
    };
    ctx.log(`soaking for ${seconds} s`);
    const started = performance.now();
    writers.start(4);
    const [, , , chaosDone] = await Promise.all([
      sleep(seconds * 1000).then(() => writers.stop()),
      Promise.all([asker(), asker()]),
      lagSampler(),
      chaos(),
    ]);
    const elapsed = (performance.now() - started) / 1000;
    for (const [status, count] of writers.statuses) {
      if (status !== 201) {
        const kind = status === 0 ? 'no answer' : String(status);
        errors.set(kind, (errors.get(kind) ?? 0) + count);
      }
    }
    const acknowledged = [...writers.acknowledged.keys()];

    const stored = await stack.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events WHERE event_id = ANY($1::uuid[])', [acknowledged]);
    let drainSeconds = 0;
    try {
      drainSeconds = (await waitUntil('deliveries to catch up', async () => {
        const ids = await stack.eventIds();
        const got = stack.delivered();
        return ids.every((id) => got.has(id));
      }, 120_000)) / 1000;
    } catch {
      drainSeconds = -1;
    }
    const allEvents = (await stack.eventIds()).length;
    const deliveredEvents = stack.delivered().size;
    const deaths = stack.deaths().filter((d) => !d.startsWith('worker')).length;
    const writes = (latencies.get('POST /organisations')?.length ?? 0) + (latencies.get('POST /alliances/:id/members')?.length ?? 0);
    const questions = [...latencies].filter(([r]) => r.startsWith('GET')).reduce((s, [, l]) => s + l.length, 0);
    const results: Result[] = [
      { name: `soak: writes answered (${seconds} s, 4 writers)`, value: writes / elapsed, unit: 'req/s' },
      { name: 'soak: questions answered (2 askers)', value: questions / elapsed, unit: 'req/s' },
      ...[...latencies].map(([route, list]) => ({
        name: `soak: p99 ${route}`,
        value: percentile(list, 99),
        unit: 'ms',
        detail: { p50: percentile(list, 50), count: list.length },
      })),
      { name: 'soak: highest subscription lag sampled', value: maxLag, unit: 'events' },
      { name: 'soak: time for every event to be delivered after the load', value: drainSeconds, unit: 's' },
      {
        name: 'soak: acknowledged writes stored',
        value: Number(stored.rows[0].n),
        unit: 'events',
        baseline: { name: 'acknowledged', value: acknowledged.length },
        ratio: Number(stored.rows[0].n) / Math.max(1, acknowledged.length),
        target: 'all of them',
        met: Number(stored.rows[0].n) === acknowledged.length,
      },
      {
        name: 'soak: events delivered to the receiver',
        value: deliveredEvents,
        unit: 'events',
        baseline: { name: 'events in the log', value: allEvents },
        ratio: deliveredEvents / Math.max(1, allEvents),
        target: 'all of them',
        met: deliveredEvents === allEvents,
      },
      {
        name: 'soak: errors by kind',
        value: [...errors.values()].reduce((a, b) => a + b, 0),
        unit: 'answers',
        detail: { note: `${JSON.stringify(Object.fromEntries(errors))}; PostgreSQL restarted: ${chaosDone.restarted}; worker SIGKILLs: ${chaosDone.kills}; API deaths: ${deaths}` },
      },
    ];
    return results;
  } finally {
    await stack.close();
  }
}
