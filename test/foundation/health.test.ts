import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { loadConfig } from '@app/config';
import { REDIS } from '@app/redis';
import { createApi } from '../../apps/api/src/bootstrap';
import { createTestDatabase, TestDatabase, testRedisPrefix } from '../support/test-database';
import { TEST_REDIS_URL } from '../support/test-env';

const PROBLEM_JSON = /^application\/problem\+json/;
const METRICS_TOKEN = 'health-test-metrics-token';

describe('API foundation: health and problem+json', () => {
  let t: TestDatabase;
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  const build = (redisUrl: string) =>
    createApi(loadConfig({ DATABASE_URL: t.url, REDIS_URL: redisUrl, REDIS_PREFIX: testRedisPrefix(), LOG_LEVEL: 'silent', METRICS_TOKEN }));

  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 5 });
    app = await build(TEST_REDIS_URL);
    // The client fails fast instead of queueing, so health says "down" until it has connected.
    const redis = app.get<Redis>(REDIS);
    for (const until = Date.now() + 10_000; redis.status !== 'ready' && Date.now() < until; ) {
      await sleep(10);
    }
  });
  afterAll(async () => {
    await app.close();
    await t.destroy();
  });

  it('GET /health: 200 with Postgres and Redis up', async () => {
    const res = await http().get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', postgres: { status: 'up' }, redis: { status: 'up' } });
  });

  it('GET /health: 503 and redis down when Redis does not answer', async () => {
    // Nothing listens on 6390.
    const down = await build('redis://127.0.0.1:6390');
    try {
      const res = await request(down.getHttpServer()).get('/health').expect(503);
      expect(res.body).toMatchObject({ status: 'degraded', postgres: { status: 'up' }, redis: { status: 'down' } });
      expect(res.body.redis.error).toEqual(expect.any(String));
    } finally {
      await down.close();
    }
  });

  it('an unknown route is 404 problem+json', async () => {
    const res = await http().get('/no/such/route').expect(404);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ status: 404, title: 'Not found', type: expect.stringContaining('not-found') });
    expect(res.body.detail).toContain('/no/such/route');
  });

  it('/metrics counts responses by method, route pattern and status', async () => {
    const scrape = () => http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
    const count = async (series: RegExp) => Number(series.exec((await scrape()).text)?.[1] ?? 0);
    const byPattern = /http_request_duration_seconds_count\{method="GET",route="\/alliances\/:id",status="401"\} (\d+)/;
    const unmatched = /http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} (\d+)/;
    const [patternBefore, unmatchedBefore] = [await count(byPattern), await count(unmatched)];
    await http().get('/alliances/one').expect(401);
    await http().get('/alliances/two/').expect(401);
    await http().get('/no/such/route').expect(404);
    expect(await count(byPattern)).toBe(patternBefore + 2);
    expect(await count(unmatched)).toBe(unmatchedBefore + 1);
  });

  it('a body that is not JSON is 415 problem+json', async () => {
    const res = await http().post('/health').set('Content-Type', 'text/plain').send('hello').expect(415);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ status: 415, type: expect.stringContaining('unsupported-media-type') });
    expect(res.body.detail).toContain('text/plain');
  });

  it('a JSON body over 1 MiB is 413 problem+json', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(1024 * 1024) });
    const res = await http().post('/anything').set('Content-Type', 'application/json').send(big).expect(413);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ status: 413, type: expect.stringContaining('payload-too-large') });
  });

  it('invalid JSON is 400 problem+json', async () => {
    const res = await http().post('/anything').set('Content-Type', 'application/json').send('{"a": ').expect(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.body).toMatchObject({ status: 400, title: 'Invalid request', type: expect.stringContaining('validation-error') });
    expect(res.body.detail).toEqual(expect.stringContaining('JSON'));
  });
});
