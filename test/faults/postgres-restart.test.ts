import { FaultStack, Writers } from './support/stack';
import { sleep, waitUntil } from './support/processes';

/**
 * PostgreSQL restarted (and stopped for a while) under writes and webhook deliveries: neither
 * process dies, writes and questions answer 503 with Retry-After while it is away, everything
 * works again within 5 s of its return, and every acknowledged write is stored once and delivered.
 */
describe('PostgreSQL restarted under load', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await FaultStack.start();
  });
  afterAll(() => stack?.close());

  it('survives a restart and an outage with writes and deliveries in flight', async () => {
    expect((await stack.call('POST', '/alliances', { id: 'ai-alliance', name: 'AI Alliance' })).status).toBe(201);
    expect((await stack.call('POST', '/webhooks', { url: stack.receiver.url('/hook') })).status).toBe(201);
    const writers = new Writers(stack).start(4);
    await sleep(1500);

    stack.pg.restart();
    await sleep(1500);
    expect(stack.deaths()).toEqual([]);

    stack.pg.down();
    await sleep(500);
    const down = await stack.call('POST', '/organisations', { id: 'while-down', name: 'While down' });
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    const question = await stack.call('GET', '/alliances/ai-alliance/members');
    expect(question.status).toBe(503);
    expect(Number(question.headers.get('retry-after'))).toBeGreaterThan(0);
    const health = await stack.call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body.postgres.status).toBe('down');
    await sleep(1000);

    stack.pg.up();
    const recovered = await waitUntil(
      'writes to work again',
      async () => (await stack.call('POST', '/organisations', { id: `back-${Date.now()}`, name: 'Back' })).status === 201,
      20_000,
    );
    expect(recovered).toBeLessThan(5000);
    expect((await stack.call('GET', '/health')).status).toBe(200);
    await sleep(1500);
    await writers.stop();

    expect(stack.deaths()).toEqual([]);
    expect(writers.retryAfterMissing).toBe(0);
    // Created or unavailable: never a 500 for an outage.
    expect(writers.unexpected()).toEqual([]);
    expect(writers.acknowledged.size).toBeGreaterThan(20);
    expect(await writers.notStoredOnce()).toEqual([]);

    await stack.everyEventDelivered();
    await stack.noSubscriptionLag();
    expect(stack.deaths()).toEqual([]);
  });
});
