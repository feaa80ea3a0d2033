import { sql } from 'kysely';
import type request from 'supertest';
import { deletePrefixKeys } from '../webhooks/support/webhook-harness';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * Admin writes take Idempotency-Key as fact writes do (API.md): the same key with the same
 * request answers the first response, with Idempotent-Replayed, and changes nothing; with
 * another request, 409. A retry after a timeout must not make a second key or webhook.
 */
describe('Idempotency-Key on admin writes', () => {
  let a: TestApp;
  const url = 'http://127.0.0.1:9/hook';
  let n = 0;
  const fresh = () => `admin-idem-${++n}-${Date.now()}`;

  beforeAll(async () => {
    a = await createTestApp({ WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' });
  });
  afterAll(async () => {
    await a.close();
    await deletePrefixKeys(a.config.redisPrefix);
  });

  const count = async (table: 'api_keys' | 'webhook_endpoints' | 'webhook_deliveries' | 'webhook_messages') =>
    Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(a.t.db)).rows[0].n);
  const webhook = async () => (await a.as('admin').post('/webhooks').send({ url }).expect(201)).body as { id: string; secret: string };
  const endpointRow = (id: string) => a.t.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  /** Sends `send` twice under one key: the second is the first response again, replayed. */
  async function twice(send: () => request.Test, key = fresh()) {
    const first = await send().set('Idempotency-Key', key);
    const again = await send().set('Idempotency-Key', key);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    return { first, again, key };
  }

  it('POST /api-keys: one key, shown again on the replay; another body is 409', async () => {
    const before = await count('api_keys');
    const { first, key } = await twice(() => a.as('admin').post('/api-keys').send({ name: 'retried', role: 'reader' }));
    expect(first.status).toBe(201);
    expect(first.body.key).toMatch(/^at_reader_/);
    expect(await count('api_keys')).toBe(before + 1);
    await a.http().get('/alliances').set('Authorization', `Bearer ${first.body.key}`).expect(200);
    const other = await a.as('admin').post('/api-keys').send({ name: 'retried', role: 'admin' }).set('Idempotency-Key', key);
    expect(other.status).toBe(409);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(other.body.detail).toContain(key);
    expect(await count('api_keys')).toBe(before + 1);
  });

  it('POST /webhooks: one endpoint, the same secret on the replay', async () => {
    const before = await count('webhook_endpoints');
    const { first } = await twice(() => a.as('admin').post('/webhooks').send({ url, description: 'retried' }));
    expect(first.status).toBe(201);
    expect(first.body.secret).toMatch(/^whsec_/);
    expect(await count('webhook_endpoints')).toBe(before + 1);
  });

  it('POST /webhooks racing with one key: one endpoint, both answers the same', async () => {
    const before = await count('webhook_endpoints');
    const key = fresh();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => a.as('admin').post('/webhooks').send({ url }).set('Idempotency-Key', key)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(new Set(answers.map((r) => r.body.id)).size).toBe(1);
    expect(new Set(answers.map((r) => r.body.secret)).size).toBe(1);
    expect(answers.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(5);
    expect(await count('webhook_endpoints')).toBe(before + 1);
  });

  it('DELETE /api-keys/:id: the retry is the 204 again, not a 404', async () => {
    const created = (await a.as('admin').post('/api-keys').send({ name: 'to revoke', role: 'reader' }).expect(201)).body;
    const { first } = await twice(() => a.as('admin').delete(`/api-keys/${created.id}`));
    expect(first.status).toBe(204);
    await a.as('admin').delete(`/api-keys/${created.id}`).expect(404);
  });

  it('PATCH /webhooks/:id: the replay answers the first change and does not apply it again', async () => {
    const { id } = await webhook();
    const key = fresh();
    const patch = () => a.as('admin').patch(`/webhooks/${id}`).send({ description: 'first' });
    const first = await patch().set('Idempotency-Key', key).expect(200);
    await a.as('admin').patch(`/webhooks/${id}`).send({ description: 'second' }).expect(200);
    const again = await patch().set('Idempotency-Key', key).expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect((await endpointRow(id)).description).toBe('second');
  });

  it('DELETE /webhooks/:id: the retry is the 204 again', async () => {
    const { id } = await webhook();
    const { first } = await twice(() => a.as('admin').delete(`/webhooks/${id}`));
    expect(first.status).toBe(204);
    await a.as('admin').get(`/webhooks/${id}`).expect(404);
  });

  it('POST /webhooks/:id/rotate-secret: rotated once, the same new secret on the replay', async () => {
    const created = await webhook();
    const rotate = () => a.as('admin').post(`/webhooks/${created.id}/rotate-secret`);
    const key = fresh();
    const first = await rotate().set('Idempotency-Key', key).expect(200);
    const afterFirst = await endpointRow(created.id);
    const again = await rotate().set('Idempotency-Key', key).expect(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(first.body.secret).not.toBe(created.secret);
    const afterAgain = await endpointRow(created.id);
    expect(afterAgain.secret_ciphertext).toBe(afterFirst.secret_ciphertext);
    expect(afterAgain.previous_secret_ciphertext).toBe(afterFirst.previous_secret_ciphertext);
  });

  it('POST /webhooks/:id/test: one test delivery', async () => {
    const { id } = await webhook();
    const before = await count('webhook_deliveries');
    const { first } = await twice(() => a.as('admin').post(`/webhooks/${id}/test`));
    expect(first.status).toBe(202);
    expect(await count('webhook_deliveries')).toBe(before + 1);
  });

  it('redeliver and recover: the replay changes nothing', async () => {
    const { id } = await webhook();
    const delivery = (await a.as('admin').post(`/webhooks/${id}/test`).expect(202)).body as { id: string };
    await a.t.db.updateTable('webhook_deliveries').set({ status: 'failed' }).where('id', '=', delivery.id).execute();
    const redeliver = () => a.as('admin').post(`/webhooks/${id}/deliveries/${delivery.id}/redeliver`);
    const key = fresh();
    const first = await redeliver().set('Idempotency-Key', key).expect(202);
    await a.t.db.updateTable('webhook_deliveries').set({ status: 'exhausted' }).where('id', '=', delivery.id).execute();
    const again = await redeliver().set('Idempotency-Key', key).expect(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const status = async () =>
      (await a.t.db.selectFrom('webhook_deliveries').select('status').where('id', '=', delivery.id).executeTakeFirstOrThrow()).status;
    expect(await status()).toBe('exhausted');

    const recover = () => a.as('admin').post(`/webhooks/${id}/recover`).send({ since: '2020-01-01T00:00:00Z' });
    const recoverKey = fresh();
    const recovered = await recover().set('Idempotency-Key', recoverKey).expect(202);
    expect(recovered.body.recovered).toBe(1);
    await a.t.db.updateTable('webhook_deliveries').set({ status: 'failed' }).where('id', '=', delivery.id).execute();
    const replayed = await recover().set('Idempotency-Key', recoverKey).expect(202);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.body).toEqual(recovered.body);
    expect(await status()).toBe('failed');
  });

  it('a key is per API key; without one, every request acts', async () => {
    const other = (await a.as('admin').post('/api-keys').send({ name: 'second admin', role: 'admin' }).expect(201)).body.key as string;
    const before = await count('webhook_endpoints');
    const key = fresh();
    const mine = await a.as('admin').post('/webhooks').send({ url }).set('Idempotency-Key', key).expect(201);
    const theirs = await a.http().post('/webhooks').set('Authorization', `Bearer ${other}`).send({ url }).set('Idempotency-Key', key).expect(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    await a.as('admin').post('/webhooks').send({ url }).expect(201);
    await a.as('admin').post('/webhooks').send({ url }).expect(201);
    expect(await count('webhook_endpoints')).toBe(before + 4);
  });

  it('a refused first request stores nothing: the retry is decided again', async () => {
    const unknown = '00000000-0000-4000-8000-00000000beef';
    const key = fresh();
    await a.as('admin').delete(`/webhooks/${unknown}`).set('Idempotency-Key', key).expect(404);
    const again = await a.as('admin').delete(`/webhooks/${unknown}`).set('Idempotency-Key', key).expect(404);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
  });

  it('the stored responses hold neither the API key nor the webhook secret in clear', async () => {
    const key = (await a.as('admin').post('/api-keys').send({ name: 'sealed', role: 'curator' }).set('Idempotency-Key', fresh()).expect(201)).body.key as string;
    const created = await a.as('admin').post('/webhooks').send({ url }).set('Idempotency-Key', fresh()).expect(201);
    const rotated = await a.as('admin').post(`/webhooks/${created.body.id}/rotate-secret`).set('Idempotency-Key', fresh()).expect(200);
    const stored = JSON.stringify(await a.t.db.selectFrom('idempotency_keys').selectAll().execute());
    for (const secret of [key, key.slice(10), created.body.secret.slice(6), rotated.body.secret.slice(6)]) {
      expect(stored).not.toContain(secret);
    }
  });
});
