import { sql } from 'kysely';
import type { TestApp } from '../support/test-app';
import { Receiver } from './support/receiver';
import { append, eventually, fannedOut, joined, startWebhookStack, WebhookStack } from './support/webhook-harness';

interface DeliveryBody {
  id: string;
  eventId: string | null;
  type: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  nextAttemptAt: string | null;
  attemptLog: Array<{ at: string; statusCode: number; durationMs: number; error: string | null; responseExcerpt: string | null }>;
}

describe('webhook retries and the attempt log', () => {
  let a: TestApp;
  let receiver: Receiver;
  let org = 0;

  let stack: WebhookStack;

  beforeAll(async () => {
    // Short enough for the hanging receiver's timeout, long enough that a loaded machine (the whole
    // suite on 2 cores) never times out an answered request: at 300 ms one did, and its retry came
    // as an extra request.
    stack = await startWebhookStack({ WEBHOOK_TIMEOUT_MS: '2000' });
    ({ a, receiver } = stack);
  });

  afterAll(() => stack.close());

  const subscribe = async (path: string) => {
    const res = await a.as('admin').post('/webhooks').send({ url: receiver.url(path) }).expect(201);
    return res.body as { id: string; secret: string };
  };
  const joinSomeone = () => {
    org += 1;
    return append(a.t.db, `membership-ai-alliance.org-${org}`, 'MemberJoined', joined('ai-alliance', `org-${org}`));
  };
  const onlyDelivery = async (hookId: string, settled: (d: DeliveryBody) => boolean, what: string) => {
    const list = await eventually(
      async () => (await a.as('admin').get(`/webhooks/${hookId}/deliveries`).expect(200)).body.deliveries as DeliveryBody[],
      (ds) => ds.length === 1 && settled(ds[0]),
      what,
    );
    return (await a.as('admin').get(`/webhooks/${hookId}/deliveries/${list[0].id}`).expect(200)).body as DeliveryBody;
  };

  it('a receiver that fails twice then succeeds gets three attempts with the same webhook-id, all recorded', async () => {
    receiver.on('/flaky', (_, n) => (n < 2 ? { status: 500, body: `boom ${n}` } : { status: 204, body: '' }));
    const hook = await subscribe('/flaky');
    const event = await joinSomeone();
    const delivery = await onlyDelivery(hook.id, (d) => d.status === 'succeeded', 'success after retries');

    const got = receiver.at('/flaky');
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.id))).toEqual(new Set([event.id]));
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    expect(delivery).toMatchObject({ eventId: event.id, type: 'membership.joined', attempts: 3, lastStatusCode: 204, nextAttemptAt: null });
    expect(delivery.attemptLog.map((x) => [x.statusCode, x.error, x.responseExcerpt])).toEqual([
      [500, 'http_500', 'boom 0'],
      [500, 'http_500', 'boom 1'],
      [204, null, ''],
    ]);
    for (const attempt of delivery.attemptLog) {
      expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(attempt.at)).not.toBeNaN();
    }
    const endpoint = await a.t.db.selectFrom('webhook_endpoints').select('failing_since').where('id', '=', hook.id).executeTakeFirstOrThrow();
    expect(endpoint.failing_since).toBeNull();
  });

  it('marks a delivery exhausted after the whole schedule, keeping the first 4 KB of each answer', async () => {
    const big = 'x'.repeat(10_000);
    receiver.on('/down', () => ({ status: 503, body: big }));
    const hook = await subscribe('/down');
    await joinSomeone();
    const delivery = await onlyDelivery(hook.id, (d) => d.status === 'exhausted', 'exhaustion');
    // First attempt plus the three retries of the test schedule.
    expect(delivery.attempts).toBe(4);
    expect(receiver.at('/down')).toHaveLength(4);
    expect(delivery.nextAttemptAt).toBeNull();
    for (const attempt of delivery.attemptLog) {
      expect(attempt).toMatchObject({ statusCode: 503, error: 'http_503' });
      expect(attempt.responseExcerpt).toHaveLength(4096);
    }
    const exhausted = await a.as('admin').get(`/webhooks/${hook.id}/deliveries?status=exhausted`).expect(200);
    expect(exhausted.body.deliveries).toHaveLength(1);
    const pending = await a.as('admin').get(`/webhooks/${hook.id}/deliveries?status=pending`).expect(200);
    expect(pending.body.deliveries).toHaveLength(0);
  });

  it('410 Gone disables the endpoint; nothing more is sent to it', async () => {
    receiver.on('/gone', () => ({ status: 410, body: 'unsubscribed' }));
    const hook = await subscribe('/gone');
    await joinSomeone();
    const delivery = await onlyDelivery(hook.id, (d) => d.status === 'failed', 'the 410');
    expect(delivery.attempts).toBe(1);
    const endpoint = await a.as('admin').get(`/webhooks/${hook.id}`).expect(200);
    expect(endpoint.body).toMatchObject({ status: 'disabled', disabledReason: expect.stringMatching(/410 Gone/) });

    await fannedOut(a.t.db, await joinSomeone());
    expect(await a.t.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', hook.id).execute()).toHaveLength(1);
    const again = await a.as('admin').post(`/webhooks/${hook.id}/test`).expect(409);
    expect(again.body.detail).toMatch(/disabled/);
    expect(receiver.at('/gone')).toHaveLength(1);
  });

  it('fails the pending deliveries of an endpoint an admin disables, without another request', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // The first attempt is answered (503, so a retry is due) only once the endpoint is disabled.
    receiver.on('/paused', () => ({ status: 503, after: released }));
    const hook = await subscribe('/paused');
    await joinSomeone();
    await receiver.waitFor(() => receiver.at('/paused').length === 1, 'a first attempt');
    await a.as('admin').patch(`/webhooks/${hook.id}`).send({ status: 'disabled' }).expect(200);
    release();
    const delivery = await onlyDelivery(hook.id, (d) => d.status !== 'pending', 'the delivery to settle');
    expect(delivery.status).toBe('failed');
    expect(delivery.attemptLog.map((x) => x.statusCode)).toEqual([503]);
    expect(receiver.at('/paused')).toHaveLength(1);
    const stored = await a.t.db.selectFrom('webhook_deliveries').select('last_error').where('id', '=', delivery.id).executeTakeFirstOrThrow();
    expect(stored.last_error).toBe('endpoint disabled: disabled by an admin');
  });

  it('does not retry a 4xx refusal or a redirect, and retries timeouts and refused connections', async () => {
    receiver.on('/bad', () => ({ status: 400, body: 'nope' }));
    receiver.on('/moved', () => ({ status: 301, headers: { location: receiver.url('/elsewhere') } }));
    receiver.on('/slow', (_, n) => (n === 0 ? { hang: true } : { status: 200 }));
    const bad = await subscribe('/bad');
    const moved = await subscribe('/moved');
    const slow = await subscribe('/slow');
    const closed = await Receiver.start();
    const closedUrl = closed.url('/nobody-listens');
    await closed.close();
    const refused = (await a.as('admin').post('/webhooks').send({ url: closedUrl }).expect(201)).body as { id: string };
    await joinSomeone();
    const badDelivery = await onlyDelivery(bad.id, (d) => d.status === 'failed', 'the 400');
    const movedDelivery = await onlyDelivery(moved.id, (d) => d.status === 'failed', 'the 301');
    const slowDelivery = await onlyDelivery(slow.id, (d) => d.status === 'succeeded', 'success after a timeout');
    expect(badDelivery.attempts).toBe(1);
    expect(movedDelivery.attemptLog[0]).toMatchObject({ statusCode: 301 });
    expect(receiver.at('/elsewhere')).toHaveLength(0);
    expect(slowDelivery.attemptLog.map((x) => [x.statusCode, x.error])).toEqual([
      [0, 'timeout'],
      [200, null],
    ]);
    const refusedDelivery = await onlyDelivery(refused.id, (d) => d.status === 'exhausted', 'refused connections to exhaust');
    expect(refusedDelivery.attemptLog.map((x) => [x.statusCode, x.error])).toEqual(Array(4).fill([0, 'connection']));
    expect(refusedDelivery.attemptLog[0].responseExcerpt).toMatch(/ECONNREFUSED/);
  });

  it('honours Retry-After on 429 within 1-2x the scheduled delay', async () => {
    receiver.on('/limited', (_, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '3600' } } : { status: 200 }));
    const hook = await subscribe('/limited');
    await joinSomeone();
    const delivery = await onlyDelivery(hook.id, (d) => d.status === 'succeeded', 'success after a 429');
    const [first, second] = delivery.attemptLog.map((x) => Date.parse(x.at));
    // An hour asked for, capped at twice the first scheduled delay (100 ms +-20%); never less than that delay.
    expect(second - first).toBeLessThan(3_600_000);
    expect(second - first).toBeGreaterThanOrEqual(80);
    expect(receiver.at('/limited')).toHaveLength(2);
  });

  it('redelivers one delivery and recovers every failed one since a time, with the same webhook-id', async () => {
    let fixed = false;
    receiver.on('/later', () => (fixed ? { status: 200 } : { status: 404 }));
    const hook = await subscribe('/later');
    const since = new Date(Date.now() - 1000).toISOString();
    const events = [await joinSomeone(), await joinSomeone(), await joinSomeone()];
    await eventually(
      async () => (await a.as('admin').get(`/webhooks/${hook.id}/deliveries?status=failed`).expect(200)).body.deliveries,
      (ds: DeliveryBody[]) => ds.length === 3,
      'three failed deliveries',
    );
    const failed = (await a.as('admin').get(`/webhooks/${hook.id}/deliveries?status=failed&limit=1`).expect(200)).body;
    expect(failed.deliveries).toHaveLength(1);
    expect(failed.nextCursor).toEqual(expect.any(String));
    const next = await a.as('admin').get(`/webhooks/${hook.id}/deliveries?status=failed&limit=5&cursor=${failed.nextCursor}`).expect(200);
    expect(next.body.deliveries).toHaveLength(2);
    expect(next.body.nextCursor).toBeNull();

    const one = failed.deliveries[0] as DeliveryBody;
    const redelivered = await a.as('admin').post(`/webhooks/${hook.id}/deliveries/${one.id}/redeliver`).expect(202);
    expect(redelivered.body).toMatchObject({ id: one.id, status: 'pending' });
    await receiver.waitFor(() => receiver.at('/later').length >= 4, 'the redelivery');
    expect(receiver.at('/later')[3].id).toBe(one.eventId);
    const after = await onlyFailedAgain(hook.id, one.id);
    expect(after.attempts).toBe(2);

    fixed = true;
    const recovered = await a.as('admin').post(`/webhooks/${hook.id}/recover`).send({ since }).expect(202);
    expect(recovered.body.recovered).toBe(3);
    await eventually(
      async () => (await a.as('admin').get(`/webhooks/${hook.id}/deliveries?status=succeeded`).expect(200)).body.deliveries,
      (ds: DeliveryBody[]) => ds.length === 3,
      'recovered deliveries to succeed',
    );
    expect(receiver.ids('/later')).toEqual(new Set(events.map((e) => e.id)));
  });

  const onlyFailedAgain = (hookId: string, deliveryId: string) =>
    eventually(
      async () => (await a.as('admin').get(`/webhooks/${hookId}/deliveries/${deliveryId}`).expect(200)).body as DeliveryBody,
      (d) => d.status === 'failed' && d.attemptLog.length === 2,
      'the redelivery to be recorded',
    );

  it('sends webhook.test on demand', async () => {
    const hook = await subscribe('/test');
    const res = await a.as('admin').post(`/webhooks/${hook.id}/test`).expect(202);
    expect(res.body).toMatchObject({ type: 'webhook.test', status: 'pending', eventId: null });
    await receiver.waitFor(() => receiver.at('/test').length === 1, 'the test message');
    const body = JSON.parse(receiver.at('/test')[0].body);
    expect(body).toMatchObject({ type: 'webhook.test', data: { webhookId: hook.id } });
    expect(receiver.at('/test')[0].id).toBe(res.body.messageId);
  });

  it('disables an endpoint whose deliveries only failed for the configured days', async () => {
    receiver.on('/dead', () => ({ status: 500 }));
    const hook = await subscribe('/dead');
    await a.t.db
      .updateTable('webhook_endpoints')
      .set({ failing_since: sql`now() - interval '6 days'` })
      .where('id', '=', hook.id)
      .execute();
    await joinSomeone();
    const endpoint = await eventually(
      async () => (await a.as('admin').get(`/webhooks/${hook.id}`).expect(200)).body,
      (e: { status: string; disabledReason: string }) => e.status === 'disabled',
      'the endpoint to be disabled',
    );
    expect(endpoint.disabledReason).toMatch(/failed since .* \(5 days or more\)/);
  });
});
