import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ApiKeysRepository, MetricsAccess } from '@app/access';
import { loadConfig } from '@app/config';
import { startMetricsServer } from '../../apps/worker/src/metrics-server';
import { createTestApp, TestApp } from '../support/test-app';

const TOKEN = 'metrics-token-0123456789';

/** /metrics answers an admin API key or METRICS_TOKEN, nobody else: it names routes, queues and volumes. */
describe('/metrics access', () => {
  describe('API', () => {
    let a: TestApp;
    beforeAll(async () => {
      a = await createTestApp({ METRICS_TOKEN: TOKEN });
    });
    afterAll(() => a.close());

    it('without a key or with a wrong one: 401 problem+json', async () => {
      for (const auth of [undefined, 'Bearer nope-nope-nope', `Bearer ${TOKEN}x`, TOKEN, 'Basic Zm9vOmJhcg==']) {
        const req = a.http().get('/metrics');
        const res = await (auth ? req.set('Authorization', auth) : req);
        expect([auth, res.status]).toEqual([auth, 401]);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.text).not.toContain('http_request_duration_seconds');
      }
    });

    it('a reader or curator key: 403', async () => {
      await a.as('reader').get('/metrics').expect(403);
      await a.as('curator').get('/metrics').expect(403);
    });

    it('an admin key or METRICS_TOKEN: the Prometheus text', async () => {
      for (const res of [await a.as('admin').get('/metrics'), await a.http().get('/metrics').set('Authorization', `Bearer ${TOKEN}`)]) {
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.text).toContain('http_request_duration_seconds');
      }
    });

    it('without METRICS_TOKEN configured, only admin keys', async () => {
      const b = await createTestApp();
      try {
        await b.http().get('/metrics').expect(401);
        await b.http().get('/metrics').set('Authorization', 'Bearer ').expect(401);
        await b.as('reader').get('/metrics').expect(403);
        await b.as('admin').get('/metrics').expect(200);
      } finally {
        await b.close();
      }
    });
  });

  describe('worker (WORKER_METRICS_PORT)', () => {
    let a: TestApp;
    let server: Server;
    let base: string;
    beforeAll(async () => {
      a = await createTestApp();
      const config = loadConfig({ ...process.env, DATABASE_URL: a.t.url, METRICS_TOKEN: TOKEN });
      server = await startMetricsServer(new MetricsAccess(config, new ApiKeysRepository(a.t.db)), 0);
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((r) => server.close(r));
      await a.close();
    });

    const get = (auth?: string, path = '/metrics') => fetch(`${base}${path}`, { headers: auth ? { authorization: auth } : {} });

    it('the same rule: 401 without a token, 403 for a reader key, 200 for the token or an admin key', async () => {
      const none = await get();
      expect(none.status).toBe(401);
      expect(none.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await none.json()).toMatchObject({ status: 401 });
      expect((await get('Bearer wrong-token-wrong-token')).status).toBe(401);
      expect((await get(`Bearer ${a.keys.reader}`)).status).toBe(403);
      for (const auth of [`Bearer ${TOKEN}`, `Bearer ${a.keys.admin}`]) {
        const ok = await get(auth);
        expect(ok.status).toBe(200);
        expect(await ok.text()).toContain('process_cpu_user_seconds_total');
      }
    });

    it('serves /metrics only', async () => {
      expect((await get(`Bearer ${TOKEN}`, '/other')).status).toBe(404);
    });
  });
});
