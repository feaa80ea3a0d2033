import { FaultStack, Writers } from './support/stack';
import { sleep, stop, waitUntil } from './support/processes';

/**
 * Several API and worker processes on one PostgreSQL and Redis, with workers killed and
 * stopped mid-work: nothing is doubled, nothing is lost, and a stop never outlasts its bound.
 */
describe('several processes, killed and stopped under load', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await FaultStack.start({ apis: 2, workers: 2, env: { WEBHOOK_TIMEOUT_MS: '30000' } });
    expect((await stack.call('POST', '/alliances', { id: 'ai-alliance', name: 'AI Alliance' })).status).toBe(201);
  });
  afterAll(() => stack?.close());

  it('two APIs and two workers under mixed load, a worker SIGKILLed during deliveries and catch-up: nothing doubled', async () => {
    // A slow receiver keeps deliveries in flight when the worker dies.
    stack.receiver.on('/hook', () => ({ status: 200, delayMs: 30 }));
    expect((await stack.call('POST', '/webhooks', { url: stack.receiver.url('/hook') })).status).toBe(201);
    const writers = new Writers(stack).start(4, (i) => stack.bases[i % 2]);
    let reading = true;
    const readErrors: number[] = [];
    const reader = (async () => {
      while (reading) {
        const res = await stack.tryCall('GET', '/alliances/ai-alliance/members?limit=10', undefined, stack.bases[1]);
        if (res.status !== 200) {
          readErrors.push(res.status);
        }
      }
    })();
    await sleep(2000);
    stack.workers[0].child.kill('SIGKILL');
    await stack.workers[0].exited;
    await sleep(1500);
    stack.startWorker();
    await sleep(1500);
    // Same facts from both APIs under one Idempotency-Key: recorded once.
    const key = { id: 'twice', name: 'Twice' };
    const headers = { authorization: `Bearer ${stack.admin}`, 'content-type': 'application/json', 'idempotency-key': 'same-request' };
    const both = await Promise.all(
      stack.bases.map((base) => fetch(`${base}/organisations`, { method: 'POST', headers, body: JSON.stringify(key) }).then((r) => r.status)),
    );
    const logs = () => stack.apis.map((a) => a.output.join('').split('\n').filter((l) => l.includes('"level":50')).join('\n').slice(-4000));
    expect({ both, logs: both.includes(500) ? logs() : [] }).toEqual({ both: [201, 201], logs: [] });
    await writers.stop();
    reading = false;
    await reader;

    expect(stack.deaths().filter((d) => !d.includes(`worker ${stack.workers[0].child.pid}`))).toEqual([]);
    expect(writers.unexpected()).toEqual([]);
    expect(readErrors).toEqual([]);
    expect(writers.acknowledged.size).toBeGreaterThan(20);
    expect(await writers.notStoredOnce()).toEqual([]);
    const twice = await stack.pool.query<{ n: string }>("SELECT count(*)::text AS n FROM events WHERE stream_id LIKE '%twice%'");
    expect(twice.rows[0].n).toBe('1');

    await stack.everyEventDelivered();
    await stack.noSubscriptionLag();
    const doubledRows = await stack.pool.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM (SELECT 1 FROM webhook_deliveries GROUP BY endpoint_id, event_id HAVING count(*) > 1) d',
    );
    expect(doubledRows.rows[0].n).toBe('0');
    // Each event under one webhook-id, whatever was retried after the kill.
    expect([...stack.delivered()].filter(([, ids]) => ids.size > 1)).toEqual([]);
  });

  it('SIGTERM: requests in flight are answered, and a stop never outlasts SHUTDOWN_TIMEOUT_MS', async () => {
    const api = stack.apis[1];
    const base = stack.bases[1];
    // In flight when the signal comes: a large import still recording, and writes queued behind it.
    const facts = Array.from({ length: 300 }, (_, i) => ({ fact: 'organisation', id: `bulk-${i}`, name: `Bulk ${i}` }));
    // Connections opened beforehand, so that the writes below are sent at once, not after a handshake.
    await Promise.all(Array.from({ length: 6 }, () => stack.call('GET', '/health', undefined, base)));
    const importing = stack.tryCall('POST', '/imports', { facts }, base);
    await sleep(300);
    const queued = Array.from({ length: 5 }, (_, i) => stack.tryCall('POST', '/organisations', { id: `stopping-${i}`, name: `Stopping ${i}` }, base));
    // They reached the API: its write transactions wait for the import's append lock.
    await waitUntil('the writes to queue behind the import', async () => {
      const { rows } = await stack.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'",
      );
      return rows[0].n > 0;
    }, 5_000);
    await sleep(200);
    const stopping = Date.now();
    api.child.kill('SIGTERM');
    const [imported, ...answers] = await Promise.all([importing, ...queued]);
    const exit = await api.exited;
    // Closed by Nest, which ends the process with the signal again; the bound (10 s) would exit with 1.
    expect({ exit, output: exit === 'SIGTERM' ? '' : api.output.join('').slice(-3000) }).toEqual({ exit: 'SIGTERM', output: '' });
    expect(Date.now() - stopping).toBeLessThan(10_000 + 2000);
    expect(imported.status).toBe(201);
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    const ids = [imported, ...answers].flatMap((a) => (a.body.events ?? [a.body.event]).map((e: { id: string }) => e.id));
    const stored = await stack.pool.query('SELECT 1 FROM events WHERE event_id = ANY($1::uuid[])', [ids]);
    expect(stored.rowCount).toBe(305);

    // A worker stuck in a delivery that never answers still stops within its bound (3 s here).
    const bounded = stack.startWorker({ SHUTDOWN_TIMEOUT_MS: '3000' });
    await Promise.all(stack.workers.filter((w) => w !== bounded).map((w) => stop(w)));
    let hung = 0;
    stack.receiver.on('/hang', () => {
      hung++;
      return { hang: true };
    });
    const hook = await stack.call('POST', '/webhooks', { url: stack.receiver.url('/hang'), eventTypes: ['organisation.registered'] });
    expect(hook.status).toBe(201);
    expect((await stack.call('POST', '/organisations', { id: 'hangs', name: 'Hangs' })).status).toBe(201);
    await waitUntil('a delivery to hang', () => hung > 0, 30_000);
    const started = Date.now();
    await stop(bounded);
    expect(Date.now() - started).toBeLessThan(3000 + 3000);
    expect(await bounded.exited).toBe(1);
  });
});
