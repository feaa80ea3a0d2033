import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import request from 'supertest';
import { deletePrefixKeys } from '../webhooks/support/webhook-harness';
import { ADMIN_KEY, createTestApp, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase, testRedisPrefix } from '../support/test-database';
import { TEST_REDIS_URL } from '../support/test-env';

type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
type Role = 'reader' | 'curator' | 'admin';
interface Route {
  method: Method;
  /** OpenAPI form: /webhooks/{id} */
  path: string;
}

const RANK: Record<Role, number> = { reader: 1, curator: 2, admin: 3 };

/**
 * The least role a route needs, from ../shared/API.md rather than from the code: /health needs
 * no key; keys, webhooks, sources and /metrics are admin; any other GET (and HEAD) is for
 * readers, any other write for curators.
 */
function requiredRole(route: Route): Role | 'public' {
  if (route.path === '/health') {
    return 'public';
  }
  if (/^\/(api-keys|webhooks|sources|metrics)(\/|$)/.test(route.path)) {
    return 'admin';
  }
  return route.method === 'GET' || route.method === 'HEAD' ? 'reader' : 'curator';
}

/** Not part of the API: the OpenAPI document and Swagger UI are public by design. */
const DOCS = /^\/docs/;
/** Served but left out of OpenAPI on purpose; every other route must be documented to be tested here. */
const UNDOCUMENTED: Route[] = [{ method: 'GET', path: '/metrics' }];

/**
 * Fastify's route table as (method, path) with parameters as {}: what the server really
 * answers, so a route added without OpenAPI documentation fails the test instead of escaping it.
 * printRoutes draws a tree; each line's depth is its indentation in steps of four characters.
 */
function fastifyRoutes(tree: string): Set<string> {
  const stack: string[] = [];
  const routes = new Set<string>();
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) {
      continue;
    }
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    if (m[3]) {
      const path = stack.join('').replace(/:[\w|:]+/g, '{}');
      for (const method of m[3].split(', ')) {
        routes.add(`${method} ${path}`);
      }
    }
  }
  return routes;
}

const shape = (r: Route) => `${r.method} ${r.path.replace(/\{\w+\}/g, '{}')}`;

/** Every route of the OpenAPI document, HEAD beside each GET, plus UNDOCUMENTED. */
function documentedRoutes(doc: { paths: Record<string, Record<string, unknown>> }): Route[] {
  const routes: Route[] = [...UNDOCUMENTED, { method: 'HEAD', path: '/metrics' }];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of Object.keys(operations)) {
      const upper = method.toUpperCase() as Method;
      routes.push({ method: upper, path });
      if (upper === 'GET') {
        routes.push({ method: 'HEAD', path });
      }
    }
  }
  return routes.sort((a, b) => shape(a).localeCompare(shape(b)));
}

/** A concrete URL for a route: ids that look right (auth is decided before any id is looked at). */
function urlOf(route: Route, ids: Record<string, string> = {}): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (ids[name]) {
      return ids[name];
    }
    return /^(id|eventId|deliveryId|runId)$/.test(name) && /^\/(webhooks|events|fundings|api-keys|sources)/.test(route.path)
      ? '00000000-0000-4000-8000-000000000abc'
      : 'some-slug';
  });
}

function send(http: () => ReturnType<typeof request>, route: Route, url: string, bearer?: string) {
  const verb = route.method.toLowerCase() as 'get' | 'head' | 'post' | 'patch' | 'delete' | 'put';
  let req = http()[verb](url);
  if (bearer !== undefined) {
    req = req.set('Authorization', `Bearer ${bearer}`);
  }
  return route.method === 'POST' || route.method === 'PATCH' || route.method === 'PUT' ? req.send({}) : req;
}

/** Every shown-once value and bearer must stay out of every answer but the one that created it. */
function expectNoSecret(text: string, secrets: string[], where: string) {
  for (const secret of secrets) {
    expect({ where, leaked: text.includes(secret) ? secret.slice(0, 12) : null }).toEqual({ where, leaked: null });
  }
}

describe('security: every route, every role', () => {
  let a: TestApp;
  let routes: Route[];
  let revoked: string;

  beforeAll(async () => {
    a = await createTestApp({ WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' });
    const doc = await a.http().get('/docs-json').expect(200);
    routes = documentedRoutes(doc.body);
    const created = await a.as('admin').post('/api-keys').send({ name: 'soon revoked', role: 'admin' }).expect(201);
    revoked = created.body.key;
    await a.as('admin').delete(`/api-keys/${created.body.id}`).expect(204);
  });
  afterAll(async () => {
    await a.close();
    await deletePrefixKeys(a.config.redisPrefix);
  });

  it('the table covers every route Fastify serves (new routes are tested or the test fails)', () => {
    const served = fastifyRoutes(a.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false }));
    const tested = new Set(routes.map(shape));
    const untested = [...served].filter((r) => !tested.has(r) && !DOCS.test(r.split(' ')[1]));
    expect(untested).toEqual([]);
    expect(routes.length).toBeGreaterThan(40);
  });

  it('no key: 401 problem+json everywhere but /health', async () => {
    for (const route of routes) {
      const res = await send(a.http, route, urlOf(route));
      const expected = requiredRole(route) === 'public' ? 200 : 401;
      expect({ route: shape(route), status: res.status }).toEqual({ route: shape(route), status: expected });
      if (expected === 401 && route.method !== 'HEAD') {
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    }
  });

  it('an unknown or revoked key: 401, and the key is not echoed', async () => {
    for (const bearer of [revoked, 'at_admin_not-a-key-at-all-0123456789']) {
      for (const route of routes) {
        const res = await send(a.http, route, urlOf(route), bearer);
        const expected = requiredRole(route) === 'public' ? 200 : 401;
        expect({ route: shape(route), status: res.status }).toEqual({ route: shape(route), status: expected });
        expectNoSecret(res.text ?? '', [bearer], shape(route));
      }
    }
  });

  it.each(['reader', 'curator', 'admin'] as const)('a %s key: allowed where its role reaches, 403 problem+json elsewhere', async (role) => {
    for (const route of routes) {
      const res = await send(a.http, route, urlOf(route), a.keys[role]);
      const needed = requiredRole(route);
      const allowed = needed === 'public' || RANK[role] >= RANK[needed];
      const verdict = res.status === 401 ? '401' : res.status === 403 ? 'forbidden' : 'allowed';
      expect({ route: shape(route), verdict }).toEqual({ route: shape(route), verdict: allowed ? 'allowed' : 'forbidden' });
      expect(res.status).toBeLessThan(500);
      if (!allowed && route.method !== 'HEAD') {
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      expectNoSecret(res.text ?? '', [a.keys[role]], shape(route));
    }
  });

  it('after creation no answer shows an API key or a webhook secret', async () => {
    const key = (await a.as('admin').post('/api-keys').send({ name: 'shown once', role: 'curator' }).expect(201)).body.key as string;
    const hook = (await a.as('admin').post('/webhooks').send({ url: 'http://127.0.0.1:9/hook' }).expect(201)).body as { id: string; secret: string };
    const rotated = (await a.as('admin').post(`/webhooks/${hook.id}/rotate-secret`).expect(200)).body.secret as string;
    const delivery = (await a.as('admin').post(`/webhooks/${hook.id}/test`).expect(202)).body as { id: string };
    // The whole key and the random part alone; each secret without its whsec_ prefix.
    const secrets = [key, key.replace(/^at_curator_/, ''), hook.secret.slice(6), rotated.slice(6), ADMIN_KEY, a.keys.curator, a.keys.reader];
    const ids = { id: hook.id, deliveryId: delivery.id };
    const reads = routes.filter((r) => r.method === 'GET' && requiredRole(r) !== 'public');
    for (const route of reads) {
      const url = urlOf(route, route.path.startsWith('/webhooks') ? ids : {});
      const res = await send(a.http, route, url, ADMIN_KEY);
      expect(res.status).toBeLessThan(500);
      expectNoSecret(res.text ?? '', secrets, `${route.method} ${url}`);
    }
    const writes: Array<[string, request.Test]> = [
      ['PATCH /webhooks/:id', a.as('admin').patch(`/webhooks/${hook.id}`).send({ description: 'changed' })],
      ['POST /webhooks/:id/test', a.as('admin').post(`/webhooks/${hook.id}/test`)],
      ['POST redeliver', a.as('admin').post(`/webhooks/${hook.id}/deliveries/${delivery.id}/redeliver`)],
      ['POST recover', a.as('admin').post(`/webhooks/${hook.id}/recover`).send({ since: '2020-01-01T00:00:00Z' })],
      ['GET /api-keys with the new key', a.http().get('/api-keys').set('Authorization', `Bearer ${key}`)],
    ];
    for (const [where, pending] of writes) {
      const res = await pending;
      expect(res.status).toBeLessThan(500);
      expectNoSecret(res.text ?? '', secrets, where);
    }
  });
});

describe('security: members.csv does not carry spreadsheet formulas', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
  });
  afterAll(() => a.close());

  it('names that start a formula are exported as text', async () => {
    await a.as('curator').post('/alliances').send({ id: 'csv-alliance', name: 'CSV Alliance' }).expect(201);
    const names = ['=HYPERLINK("https://evil.example","click")', '+1+1', '-2+3', '@SUM(A1)', '\tTab', 'Plain'];
    for (const [i, name] of names.entries()) {
      await a.as('curator').post('/organisations').send({ id: `csv-org-${i}`, name }).expect(201);
      await a
        .as('curator')
        .post('/alliances/csv-alliance/members')
        .send({ organisationId: `csv-org-${i}`, on: '2024-01-01', source: { url: 'https://example.org/members' } })
        .expect(201);
    }
    const csv = (await a.as('reader').get('/alliances/csv-alliance/members.csv').expect(200)).text;
    const [, ...rows] = parse(csv) as string[][];
    const shown = rows.map((row) => row[1]);
    expect(shown.sort()).toEqual(names.map((n) => (/^[=+\-@\t]/.test(n) ? `'${n}` : n)).sort());
    for (const name of shown) {
      expect(name).not.toMatch(/^[=+\-@\t\r]/);
    }
  });
});

/**
 * The logs of a real API process at LOG_LEVEL=info (request logging on): after creating keys
 * and webhooks and using them, not one line holds a key, a secret or an Authorization value.
 */
describe('security: nothing secret in the logs', () => {
  let t: TestDatabase;
  let child: ChildProcess;
  let logs = '';
  let base: string;
  const prefix = testRedisPrefix();

  const freePort = () =>
    new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });

  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 2 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/api/src/main.ts'], {
      cwd: join(__dirname, '..', '..'),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: t.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        PORT: String(port),
        ADMIN_API_KEY: ADMIN_KEY,
        LOG_LEVEL: 'info',
        MIGRATE_ON_START: 'false',
        RATE_LIMIT_PER_MINUTE: '0',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
        SECRETS_KEY: 'security-test-secrets-key-0123456789abcdef',
      },
    });
    child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    for (const until = Date.now() + 30_000; ; ) {
      const up = await request(base)
        .get('/health')
        .then(
          (r) => r.status === 200,
          () => false,
        );
      if (up) {
        break;
      }
      if (Date.now() > until || child.exitCode !== null) {
        throw new Error(`the API did not start:\n${logs.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) {
        child.kill('SIGKILL');
      }
    }
    await t.destroy();
    await deletePrefixKeys(prefix);
  });

  it('keys, webhook secrets and Authorization values stay out of every log line', async () => {
    const http = () => request(base);
    const admin = (r: request.Test) => r.set('Authorization', `Bearer ${ADMIN_KEY}`);
    const created = await admin(http().post('/api-keys')).set('Idempotency-Key', 'log-test-1').send({ name: 'logged?', role: 'curator' }).expect(201);
    const key = created.body.key as string;
    await admin(http().post('/api-keys')).set('Idempotency-Key', 'log-test-1').send({ name: 'logged?', role: 'curator' }).expect(201);
    const hook = (await admin(http().post('/webhooks')).send({ url: 'http://127.0.0.1:9/hook' }).expect(201)).body as { id: string; secret: string };
    const rotated = (await admin(http().post(`/webhooks/${hook.id}/rotate-secret`)).expect(200)).body.secret as string;
    await admin(http().post(`/webhooks/${hook.id}/test`)).expect(202);
    const wrong = 'at_admin_wrong-key-that-must-not-be-logged-42';
    await http().get('/alliances').set('Authorization', `Bearer ${key}`).expect(200);
    await http().post('/organisations').set('Authorization', `Bearer ${key}`).send({ id: 'logged-org', name: 'Logged' }).expect(201);
    await http().post('/organisations').set('Authorization', `Bearer ${key}`).send({ id: 'Bad Id', name: 'x' }).expect(400);
    await http().get('/alliances').set('Authorization', `Bearer ${wrong}`).expect(401);
    await http().get('/api-keys').set('Authorization', `Bearer ${key}`).expect(403);
    await admin(http().get('/metrics')).expect(200);
    await admin(http().delete(`/api-keys/${created.body.id}`)).expect(204);
    await http().get('/alliances').set('Authorization', `Bearer ${key}`).expect(401);
    await new Promise((r) => setTimeout(r, 500)); // pino writes asynchronously

    // The request log is on and saw these requests: the check below is not vacuous.
    expect(logs).toMatch(/"url":"\/organisations"/);
    expect(logs).toContain('[Redacted]');
    for (const secret of [key, key.replace(/^at_curator_/, ''), hook.secret.slice(6), rotated.slice(6), ADMIN_KEY, wrong, 'Bearer ']) {
      expect({ secret: secret.slice(0, 12), logged: logs.includes(secret) }).toEqual({ secret: secret.slice(0, 12), logged: false });
    }
  });
});
