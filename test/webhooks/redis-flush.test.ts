import type { TestApp } from '../support/test-app';
import type { Receiver } from './support/receiver';
import { append, deletePrefixKeys, eventually, fannedOut, joined, startWebhookStack, WebhookStack } from './support/webhook-harness';

/** Postgres is the truth: when Redis loses the jobs, pending deliveries are enqueued again from it. */
describe('Redis losing every job', () => {
  let a: TestApp;
  let receiver: Receiver;
  let stack: WebhookStack;

  beforeAll(async () => {
    // Retries a second apart: after the first failed attempt every delivery waits in Redis.
    stack = await startWebhookStack({ WEBHOOK_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s,1s,1s', WEBHOOK_SWEEP_INTERVAL_MS: '500' });
    ({ a, receiver } = stack);
  });

  afterAll(() => stack.close());

  it('pending deliveries still arrive after this prefix is flushed', async () => {
    let down = true;
    const delivered = new Set<string>();
    receiver.on('/flush', (r) => {
      if (down) {
        return { status: 503 };
      }
      delivered.add(r.id);
      return { status: 200 };
    });
    const hook = (await a.as('admin').post('/webhooks').send({ url: receiver.url('/flush') }).expect(201)).body;

    const events = [];
    for (let i = 0; i < 30; i++) {
      events.push(await append(a.t.db, `membership-ai-alliance.org-${i}`, 'MemberJoined', joined('ai-alliance', `org-${i}`)));
    }
    await receiver.waitFor(() => receiver.ids('/flush').size === 30, 'a first (failed) attempt of every delivery');

    const deleted = await deletePrefixKeys(a.config.redisPrefix);
    expect(deleted).toBeGreaterThan(0);
    const pending = await a.t.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('endpoint_id', '=', hook.id)
      .where('status', '=', 'pending')
      .execute();
    expect(pending).toHaveLength(30);

    down = false;
    const later = await append(a.t.db, 'membership-ai-alliance.late', 'MemberJoined', joined('ai-alliance', 'late'));
    await receiver.waitFor(() => delivered.size === 31, 'every delivery, including one made after the flush', 30_000);
    expect(delivered).toEqual(new Set([...events, later].map((e) => e.id)));
    await fannedOut(a.t.db, later);
    await eventually(
      () => a.t.db.selectFrom('webhook_deliveries').select('status').where('endpoint_id', '=', hook.id).where('status', '!=', 'succeeded').execute(),
      (rows) => rows.length === 0,
      'every delivery to be recorded as succeeded',
    );
  });
});
