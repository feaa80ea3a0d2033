import type { TestApp } from '../support/test-app';
import type { Receiver } from './support/receiver';
import { append, eventually, joined, startWebhookStack, WebhookStack } from './support/webhook-harness';

/**
 * One request at a time per endpoint and only 8 worker slots, so that lanes fill up, jobs get
 * parked and come back: the order must survive that.
 */
describe('ordering and per-endpoint concurrency', () => {
  let a: TestApp;
  let receiver: Receiver;
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();

  let stack: WebhookStack;

  beforeAll(async () => {
    stack = await startWebhookStack({ WEBHOOK_CONCURRENCY: '8', WEBHOOK_ENDPOINT_CONCURRENCY: '1', WEBHOOK_TIMEOUT_MS: '20000' });
    ({ a, receiver } = stack);
  });

  afterAll(() => stack.close());

  /** Counts the requests a path has open at once. */
  const tracked = (path: string, reply: (n: number) => { status?: number; hang?: boolean; after?: Promise<unknown> }) => {
    receiver.on(path, (_, n) => {
      const now = (inFlight.get(path) ?? 0) + 1;
      inFlight.set(path, now);
      maxInFlight.set(path, Math.max(maxInFlight.get(path) ?? 0, now));
      const r = reply(n);
      const done = new Promise<void>((resolve) => setTimeout(resolve, n % 3));
      const after = (r.after ?? done).then(() => inFlight.set(path, (inFlight.get(path) ?? 1) - 1));
      return r.hang ? { hang: true } : { status: r.status ?? 200, after };
    });
  };

  it('first attempts to one endpoint leave in log order', async () => {
    tracked('/ordered', () => ({}));
    const hook = (await a.as('admin').post('/webhooks').send({ url: receiver.url('/ordered') }).expect(201)).body;
    const events = [];
    for (let i = 0; i < 60; i++) {
      events.push(await append(a.t.db, `membership-ai-alliance.org-${i}`, 'MemberJoined', joined('ai-alliance', `org-${i}`)));
    }
    await receiver.waitFor(() => receiver.ids('/ordered').size === 60, 'all 60 messages');
    const firstSeen = [...new Set(receiver.at('/ordered').map((r) => r.id))];
    expect(firstSeen).toEqual(events.map((e) => e.id));
    expect(maxInFlight.get('/ordered')).toBe(1);
    expect(hook.id).toBeDefined();
  });

  it('a dead endpoint holds its own slot only: the others receive everything meanwhile', async () => {
    tracked('/stuck', () => ({ hang: true }));
    tracked('/healthy', () => ({}));
    const stuck = (await a.as('admin').post('/webhooks').send({ url: receiver.url('/stuck'), eventTypes: ['membership.left'] }).expect(201)).body;
    await a.as('admin').post('/webhooks').send({ url: receiver.url('/healthy'), eventTypes: ['membership.left'] }).expect(201);
    const events = [];
    for (let i = 0; i < 40; i++) {
      events.push(await append(a.t.db, `membership-ai-alliance.org-${i}`, 'MemberLeft', joined('ai-alliance', `org-${i}`, '2025-01-01')));
    }
    await receiver.waitFor(() => receiver.ids('/healthy').size === 40, 'all 40 messages at the healthy endpoint');
    expect([...new Set(receiver.at('/healthy').map((r) => r.id))]).toEqual(events.map((e) => e.id));
    // The dead endpoint got its one request (still hanging) and nothing else so far.
    expect(receiver.at('/stuck')).toHaveLength(1);
    expect(receiver.at('/stuck')[0].id).toBe(events[0].id);
    const pending = await eventually(
      () => a.t.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', stuck.id).where('status', '=', 'pending').execute(),
      (rows) => rows.length === 40,
      'the dead endpoint to keep its deliveries pending',
    );
    expect(pending).toHaveLength(40);
  });
});
