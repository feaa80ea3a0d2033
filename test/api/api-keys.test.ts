import { createTestApp, TestApp } from '../support/test-app';

describe('API keys', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
  });
  afterAll(() => a.close());

  it('admin creates a key that is shown once and works with its role', async () => {
    const res = await a.as('admin').post('/api-keys').send({ name: 'desk', role: 'reader' }).expect(201);
    expect(res.body).toMatchObject({ name: 'desk', role: 'reader', key: expect.stringMatching(/^at_reader_/) });
    const list = await a.as('admin').get('/api-keys').expect(200);
    expect(JSON.stringify(list.body)).not.toContain(res.body.key);
    expect(list.body.apiKeys.map((k: { name: string }) => k.name)).toContain('desk');
    await a.http().get('/api-keys').set('Authorization', `Bearer ${res.body.key}`).expect(403);
    await a.as('admin').delete(`/api-keys/${res.body.id}`).expect(204);
    const revoked = await a.http().get('/health').set('Authorization', `Bearer ${res.body.key}`);
    expect(revoked.status).toBe(200); // health needs no key
    await a.http().get('/api-keys').set('Authorization', `Bearer ${res.body.key}`).expect(401);
    await a.as('admin').delete(`/api-keys/${res.body.id}`).expect(404);
  });

  it('401 without a key, 403 for curator and reader, 400 on bad input', async () => {
    const noKey = await a.http().get('/api-keys').expect(401);
    expect(noKey.headers['content-type']).toMatch(/application\/problem\+json/);
    await a.http().get('/api-keys').set('Authorization', 'Bearer nope').expect(401);
    await a.as('curator').get('/api-keys').expect(403);
    await a.as('reader').post('/api-keys').send({ name: 'x', role: 'reader' }).expect(403);
    const bad = await a.as('admin').post('/api-keys').send({ name: 'x', role: 'god', extra: 1 }).expect(400);
    const fields = bad.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['role', 'extra']));
    await a.as('admin').delete('/api-keys/not-a-uuid').expect(400);
  });
});

describe('rate limiting per API key', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(() => a.close());

  it('answers 429 problem+json with Retry-After past the limit, per key', async () => {
    const responses = [];
    for (let i = 0; i < 12; i++) {
      responses.push(await a.as('reader').get('/alliances'));
    }
    // 12 requests span at most two one-minute windows of 5, so at least 2 are refused.
    const refused = responses.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(responses.filter((r) => r.status === 200).length).toBe(12 - refused.length);
    expect(refused[0].headers['retry-after']).toMatch(/^\d+$/);
    expect(refused[0].headers['content-type']).toMatch(/problem\+json/);
    expect(refused[0].body.status).toBe(429);
    // Another key has its own budget.
    await a.as('curator').get('/alliances').expect(200);
  });
});
