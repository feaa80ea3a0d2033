import { Webhook } from 'standardwebhooks';
import type { TestApp } from '../support/test-app';
import type { Receiver } from './support/receiver';
import { append, eventually, fannedOut, joined, startWebhookStack, WebhookStack } from './support/webhook-harness';

/** Flips one bit of the character at `index` (a printable ASCII character stays printable). */
function flip(text: string, index: number): string {
  const code = text.charCodeAt(index);
  const flipped = String.fromCharCode(code ^ (code === 0x30 ? 0x02 : 0x01));
  return text.slice(0, index) + flipped + text.slice(index + 1);
}

describe('webhook delivery', () => {
  let a: TestApp;
  let receiver: Receiver;
  let stack: WebhookStack;

  beforeAll(async () => {
    stack = await startWebhookStack();
    ({ a, receiver } = stack);
  });

  afterAll(() => stack.close());

  const subscribe = async (path: string, body: Record<string, unknown> = {}) => {
    const res = await a
      .as('admin')
      .post('/webhooks')
      .send({ url: receiver.url(path), ...body })
      .expect(201);
    return res.body as { id: string; secret: string };
  };

  it('signs every message so that standardwebhooks verifies it, and a flipped byte anywhere fails', async () => {
    const hook = await subscribe('/signed');
    const event = await append(a.t.db, 'membership-ai-alliance.ibm', 'MemberJoined', joined('ai-alliance', 'ibm'));
    await receiver.waitFor(() => receiver.at('/signed').length >= 1, 'the signed message');

    const [got] = receiver.at('/signed');
    const headers = { 'webhook-id': got.id, 'webhook-timestamp': got.timestamp, 'webhook-signature': got.signature };
    const verifier = new Webhook(hook.secret);
    const payload = verifier.verify(got.body, headers) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(got.id).toBe(event.id);
    expect(payload).toMatchObject({
      type: 'membership.joined',
      timestamp: event.recordedAt.toISOString(),
      data: {
        eventId: event.id,
        position: event.position,
        recordedAt: event.recordedAt.toISOString(),
        allianceId: 'ai-alliance',
        organisationId: 'ibm',
        on: '2024-01-01',
        precision: 'day',
        source: { url: 'https://example.org/members' },
        // No projection rows in this test: the id stands in for the name.
        organisation: { id: 'ibm', name: 'ibm' },
        alliance: { id: 'ai-alliance', name: 'ai-alliance' },
      },
    });

    for (const index of [0, Math.floor(got.body.length / 2), got.body.length - 2]) {
      expect(() => verifier.verify(flip(got.body, index), headers)).toThrow();
    }
    expect(() => verifier.verify(got.body, { ...headers, 'webhook-id': flip(got.id, 3) })).toThrow();
    expect(() => verifier.verify(got.body, { ...headers, 'webhook-timestamp': flip(got.timestamp, got.timestamp.length - 1) })).toThrow();
    expect(() => verifier.verify(got.body, { ...headers, 'webhook-signature': flip(got.signature, 10) })).toThrow();
  });

  it('sends only matching event types and alliances, and nothing to a disabled endpoint', async () => {
    const joins = await subscribe('/joins', { eventTypes: ['membership.joined'] });
    const frontier = await subscribe('/frontier', { allianceIds: ['frontier-model-forum'] });
    const off = await subscribe('/off');
    await a.as('admin').patch(`/webhooks/${off.id}`).send({ status: 'disabled' }).expect(200);
    await subscribe('/all');

    const e1 = await append(a.t.db, 'membership-ai-alliance.meta', 'MemberJoined', joined('ai-alliance', 'meta'));
    const e2 = await append(a.t.db, 'membership-frontier-model-forum.openai', 'MemberJoined', joined('frontier-model-forum', 'openai'));
    const e3 = await append(a.t.db, 'membership-frontier-model-forum.openai', 'MemberLeft', {
      ...joined('frontier-model-forum', 'openai', '2025-01-01'),
    });
    const e4 = await append(a.t.db, 'organisation-mistral', 'OrganisationRegistered', { organisationId: 'mistral', name: 'Mistral AI' });
    const e5 = await append(a.t.db, 'alliance-ai-alliance', 'AllianceRegistered', { allianceId: 'ai-alliance', name: 'AI Alliance' });
    const ignored = await append(a.t.db, 'stream-x', 'SomethingInternal', { x: 1 });

    await receiver.waitFor(() => receiver.ids('/all').size >= 5, 'five messages at /all');
    await receiver.waitFor(() => receiver.ids('/joins').size >= 2 && receiver.ids('/frontier').size >= 3, 'filtered messages');
    // The subscription has moved past every event, so nothing else is on its way.
    await fannedOut(a.t.db, ignored);
    await eventually(
      () => a.t.db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').execute(),
      (rows) => rows.length === 0,
      'no pending deliveries',
    );

    expect(receiver.ids('/all')).toEqual(new Set([e1.id, e2.id, e3.id, e4.id, e5.id]));
    expect(receiver.ids('/joins')).toEqual(new Set([e1.id, e2.id]));
    // Organisation events name no alliance, so the alliance filter does not apply to them.
    expect(receiver.ids('/frontier')).toEqual(new Set([e2.id, e3.id, e4.id]));
    expect(receiver.at('/off')).toHaveLength(0);
    const types = receiver.at('/all').map((r) => JSON.parse(r.body).type);
    expect(types.sort()).toEqual(['alliance.registered', 'membership.joined', 'membership.joined', 'membership.left', 'organisation.registered']);
    expect(joins.id).toBeDefined();
    expect(frontier.id).toBeDefined();
  });

  it('signs with both the old and the new secret while a rotation overlaps, then only the new one', async () => {
    const hook = await subscribe('/rotate', { eventTypes: ['organisation.renamed'] });
    const rotated = (await a.as('admin').post(`/webhooks/${hook.id}/rotate-secret`).expect(200)).body as { secret: string };
    const rename = (name: string, previousName: string) =>
      append(a.t.db, 'organisation-facebook', 'OrganisationRenamed', { organisationId: 'facebook', name, previousName, on: '2021-10-28', precision: 'day' });

    await rename('Meta', 'Facebook');
    await receiver.waitFor(() => receiver.at('/rotate').length === 1, 'a message during the overlap');
    const during = receiver.at('/rotate')[0];
    const headers = (r: typeof during) => ({ 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature });
    expect(during.signature.split(' ')).toHaveLength(2);
    expect(new Webhook(hook.secret).verify(during.body, headers(during))).toMatchObject({ type: 'organisation.renamed' });
    expect(new Webhook(rotated.secret).verify(during.body, headers(during))).toMatchObject({ type: 'organisation.renamed' });

    // The overlap ends: the old secret no longer signs.
    await a.t.db.updateTable('webhook_endpoints').set({ previous_secret_expires_at: new Date(Date.now() - 1000) }).where('id', '=', hook.id).execute();
    await rename('Meta Platforms', 'Meta');
    await receiver.waitFor(() => receiver.at('/rotate').length === 2, 'a message after the overlap');
    const after = receiver.at('/rotate')[1];
    expect(after.signature.split(' ')).toHaveLength(1);
    expect(new Webhook(rotated.secret).verify(after.body, headers(after))).toMatchObject({ type: 'organisation.renamed' });
    expect(() => new Webhook(hook.secret).verify(after.body, headers(after))).toThrow();
  });

  it('names organisations and alliances from the projections', async () => {
    await subscribe('/names', { eventTypes: ['membership.joined'], allianceIds: ['named-alliance'] });
    await a.as('curator').post('/organisations').send({ id: 'named-org', name: 'Named Organisation' }).expect(201);
    await a.as('curator').post('/alliances').send({ id: 'named-alliance', name: 'The Named Alliance' }).expect(201);
    const joinedRes = await a
      .as('curator')
      .post('/alliances/named-alliance/members')
      .send({ organisationId: 'named-org', on: '2024-03', source: { url: 'https://example.org/news' } })
      .expect(201);
    await receiver.waitFor(() => receiver.at('/names').length >= 1, 'the named message');
    const body = JSON.parse(receiver.at('/names')[0].body);
    expect(body.data).toMatchObject({
      eventId: joinedRes.body.event.id,
      organisation: { id: 'named-org', name: 'Named Organisation' },
      alliance: { id: 'named-alliance', name: 'The Named Alliance' },
      on: '2024-03',
      precision: 'month',
    });
  });
});
