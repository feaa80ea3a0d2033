import { webhookSecretBox, WebhooksRepository } from '@app/webhooks';
import { createTestApp, TestApp } from '../support/test-app';
import { deletePrefixKeys } from './support/webhook-harness';

/** The admin contract of /webhooks; nothing here needs the worker. */
describe('webhooks API', () => {
  let a: TestApp;

  beforeAll(async () => {
    a = await createTestApp({ WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' });
  });

  afterAll(async () => {
    await a.close();
    await deletePrefixKeys(a.config.redisPrefix);
  });

  const url = 'http://127.0.0.1:9/hook';

  it('creates an endpoint and shows its secret only at creation', async () => {
    const res = await a
      .as('admin')
      .post('/webhooks')
      .send({ url, eventTypes: ['membership.joined', 'membership.left'], allianceIds: ['ai-alliance'], description: 'desk' })
      .expect(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url,
      eventTypes: ['membership.joined', 'membership.left'],
      allianceIds: ['ai-alliance'],
      description: 'desk',
      status: 'enabled',
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const { id, secret } = res.body as { id: string; secret: string };

    const one = await a.as('admin').get(`/webhooks/${id}`).expect(200);
    const list = await a.as('admin').get('/webhooks').expect(200);
    expect(one.body).not.toHaveProperty('secret');
    expect(JSON.stringify([one.body, list.body])).not.toContain(secret.slice(6));
    expect(list.body.webhooks.map((w: { id: string }) => w.id)).toContain(id);
    const stored = await a.t.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(secret.slice(6));
  });

  it('needs the admin role', async () => {
    await a.http().get('/webhooks').expect(401);
    await a.as('reader').get('/webhooks').expect(403);
    await a.as('curator').get('/webhooks').expect(403);
    const refused = await a.as('curator').post('/webhooks').send({ url }).expect(403);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('refuses invalid input with problem+json naming the fields', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url, extra: 1 }, 'extra'],
      [{ url, eventTypes: ['membership.exploded'] }, 'eventTypes'],
      [{ url, eventTypes: 'membership.joined' }, 'eventTypes'],
      [{ url, allianceIds: ['Not A Slug'] }, 'allianceIds'],
      [{ url: 42 }, 'url'],
      [{}, 'url'],
      [{ url: 'ftp://127.0.0.1/x' }, 'url'],
      [{ url: 'http://user:pw@127.0.0.1/x' }, 'url'],
      [{ url, description: 'x'.repeat(501) }, 'description'],
    ];
    for (const [body, field] of cases) {
      const res = await a.as('admin').post('/webhooks').send(body).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
  });

  it('updates filters, description and status; refuses unknown fields and private URLs', async () => {
    const { id } = (await a.as('admin').post('/webhooks').send({ url }).expect(201)).body as { id: string };
    const patched = await a
      .as('admin')
      .patch(`/webhooks/${id}`)
      .send({ eventTypes: ['funding.committed'], allianceIds: [], description: null, status: 'disabled' })
      .expect(200);
    expect(patched.body).toMatchObject({
      eventTypes: ['funding.committed'],
      allianceIds: [],
      description: null,
      status: 'disabled',
      disabledReason: 'disabled by an admin',
    });
    const enabled = await a.as('admin').patch(`/webhooks/${id}`).send({ status: 'enabled' }).expect(200);
    expect(enabled.body).toMatchObject({ status: 'enabled', disabledReason: null });
    await a.as('admin').patch(`/webhooks/${id}`).send({ status: 'paused' }).expect(400);
    await a.as('admin').patch(`/webhooks/${id}`).send({ secret: 'whsec_x' }).expect(400);
    const privateUrl = await a.as('admin').patch(`/webhooks/${id}`).send({ url: 'http://10.1.2.3/hook' }).expect(400);
    expect(privateUrl.body.detail).toMatch(/10\.1\.2\.3 is a private address/);
    await a.as('admin').patch(`/webhooks/${id}`).send({ url: 'http://127.0.0.2:9/other' }).expect(200);
  });

  it('answers 404 for unknown ids, 400 for malformed ones, and deletes', async () => {
    const { id } = (await a.as('admin').post('/webhooks').send({ url }).expect(201)).body as { id: string };
    const unknown = '00000000-0000-4000-8000-00000000dead';
    await a.as('admin').get(`/webhooks/${unknown}`).expect(404);
    await a.as('admin').get('/webhooks/not-a-uuid').expect(400);
    await a.as('admin').get(`/webhooks/${id}/deliveries/${unknown}`).expect(404);
    await a.as('admin').post(`/webhooks/${id}/deliveries/${unknown}/redeliver`).expect(404);
    await a.as('admin').get(`/webhooks/${id}/deliveries?status=lost`).expect(400);
    await a.as('admin').get(`/webhooks/${id}/deliveries?limit=0`).expect(400);
    await a.as('admin').get(`/webhooks/${id}/deliveries?cursor=garbage`).expect(400);
    await a.as('admin').post(`/webhooks/${id}/recover`).send({ since: '2024-01-01' }).expect(400);
    await a.as('admin').post(`/webhooks/${id}/recover`).send({ since: '2024-01-01T00:00:00Z', more: 1 }).expect(400);
    await a.as('admin').post(`/webhooks/${unknown}/rotate-secret`).expect(404);
    await a.as('admin').delete(`/webhooks/${id}`).expect(204);
    await a.as('admin').delete(`/webhooks/${id}`).expect(404);
    await a.as('admin').get(`/webhooks/${id}`).expect(404);
  });

  it('pages through endpoints with limit and cursor', async () => {
    for (let i = 0; i < 3; i++) {
      await a.as('admin').post('/webhooks').send({ url: `${url}/${i}` }).expect(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await a.as('admin').get(`/webhooks${query}`).expect(200);
      expect(page.body.webhooks.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.webhooks.map((w: { id: string }) => w.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const all = await a.as('admin').get('/webhooks').expect(200);
    expect(seen).toEqual(all.body.webhooks.map((w: { id: string }) => w.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rotates the secret: a new one, shown once, and the old one valid for 24 hours', async () => {
    const created = (await a.as('admin').post('/webhooks').send({ url }).expect(201)).body as { id: string; secret: string };
    const rotated = await a.as('admin').post(`/webhooks/${created.id}/rotate-secret`).expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    const until = Date.parse(rotated.body.previousSecretValidUntil);
    expect(until - Date.now()).toBeGreaterThan(23 * 3_600_000);
    const shown = await a.as('admin').get(`/webhooks/${created.id}`).expect(200);
    expect(shown.body.previousSecretValidUntil).toBe(rotated.body.previousSecretValidUntil);
    expect(JSON.stringify(shown.body)).not.toContain(rotated.body.secret.slice(6));
  });

  it('rotations at once: each new secret is the current or the previous one, none lost', async () => {
    const { id } = (await a.as('admin').post('/webhooks').send({ url }).expect(201)).body as { id: string };
    // Each rotation dawdles after reading the secrets, so that they overlap unless serialised.
    const repository = a.app.get(WebhooksRepository);
    const read = repository.secretsForRotation.bind(repository);
    const dawdle = jest.spyOn(repository, 'secretsForRotation').mockImplementation(async (trx, endpointId) => {
      const found = await read(trx, endpointId);
      await new Promise((r) => setTimeout(r, 100));
      return found;
    });
    let shown: string[];
    try {
      const rotated = await Promise.all([1, 2, 3].map(() => a.as('admin').post(`/webhooks/${id}/rotate-secret`).expect(200)));
      shown = rotated.map((r) => r.body.secret as string);
    } finally {
      dawdle.mockRestore();
    }
    const row = await a.t.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const box = webhookSecretBox(a.config.secretsKey);
    // Serialised, the last two rotations' secrets are the two that sign; the creation's is gone.
    expect(shown).toEqual(expect.arrayContaining([box.open(row.secret_ciphertext, id), box.open(row.previous_secret_ciphertext!, id)]));
  });

  it('documents every webhook route in OpenAPI', async () => {
    const doc = await a.http().get('/docs-json').expect(200);
    const paths = Object.keys(doc.body.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/webhooks',
        '/webhooks/{id}',
        '/webhooks/{id}/rotate-secret',
        '/webhooks/{id}/test',
        '/webhooks/{id}/deliveries',
        '/webhooks/{id}/deliveries/{deliveryId}',
        '/webhooks/{id}/deliveries/{deliveryId}/redeliver',
        '/webhooks/{id}/recover',
      ]),
    );
  });
});
