import { FaultStack, Writers } from './support/stack';
import { sleep } from './support/processes';

/**
 * Redis stopped, then back empty (restarted and flushed) under writes, questions and
 * deliveries: reads and writes keep working throughout (the rate limit steps aside), and every
 * event is delivered afterwards, each under one webhook-id.
 */
describe('Redis restarted and flushed under load', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await FaultStack.start({ env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  });
  afterAll(() => stack?.close());

  it('keeps answering while Redis is away; deliveries resume after, none lost, none doubled', async () => {
    expect((await stack.call('POST', '/alliances', { id: 'ai-alliance', name: 'AI Alliance' })).status).toBe(201);
    expect((await stack.call('POST', '/webhooks', { url: stack.receiver.url('/hook') })).status).toBe(201);
    const writers = new Writers(stack).start(3);
    await sleep(1000);

    stack.redis.down();
    await sleep(500);
    const started = Date.now();
    const write = await stack.call('POST', '/organisations', { id: 'no-redis', name: 'No Redis' });
    expect(write.status).toBe(201);
    const read = await stack.call('GET', '/alliances/ai-alliance/members');
    expect(read.status).toBe(200);
    // Answered at once, not after Redis comes back.
    expect(Date.now() - started).toBeLessThan(3000);
    const health = await stack.call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body.redis.status).toBe('down');
    await sleep(2000);

    stack.redis.up();
    stack.redis.flushAll();
    await sleep(2000);
    await writers.stop();

    expect(stack.deaths()).toEqual([]);
    expect(writers.unexpected()).toEqual([]);
    expect(writers.statuses.get(503) ?? 0).toBe(0);
    expect(await writers.notStoredOnce()).toEqual([]);

    await stack.everyEventDelivered();
    await stack.noSubscriptionLag();
    // One delivery (one webhook-id) per event and endpoint, however often it was attempted.
    const doubled = [...stack.delivered()].filter(([, ids]) => ids.size > 1);
    expect(doubled).toEqual([]);
    const rows = await stack.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM (SELECT event_id FROM webhook_deliveries GROUP BY endpoint_id, event_id HAVING count(*) > 1) d');
    expect(rows.rows[0].n).toBe('0');
  });
});
