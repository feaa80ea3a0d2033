import { sql } from 'kysely';
import type request from 'supertest';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * Strict validation, table-driven: every row is a request that must be refused with a 400
 * problem+json naming the field, and must record nothing.
 */

type Role = 'admin' | 'curator' | 'reader';
type Method = 'get' | 'post' | 'patch';

interface Case {
  label: string;
  role?: Role;
  method: Method;
  path: string;
  body?: unknown;
  field: string;
}

const src = { url: 'https://example.org/press' };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('strict validation', () => {
  let a: TestApp;
  const ids = { funding: '', event: '', webhook: '' };

  beforeAll(async () => {
    a = await createTestApp({ WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8' });
    const c = a.as('curator');
    for (const id of ['ibm', 'meta', 'tum']) {
      await c.post('/organisations').send({ id, name: id.toUpperCase() }).expect(201);
    }
    for (const id of ['ai', 'bio', 'chips']) {
      await c.post('/alliances').send({ id, name: `${id} alliance` }).expect(201);
    }
    ids.event = (await c.post('/alliances/ai/members').send({ organisationId: 'ibm', on: '2023', source: src }).expect(201)).body.event.id;
    ids.funding = (
      await c.post('/fundings').send({ funderId: 'meta', recipientId: 'tum', amount: '100', currency: 'EUR', on: '2019', source: src }).expect(201)
    ).body.fundingId;
    ids.webhook = (await a.as('admin').post('/webhooks').send({ url: 'http://127.0.0.1:9/hook' }).expect(201)).body.id;
  });
  afterAll(() => a.close());

  const eventCount = async () => Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM events`.execute(a.t.db)).rows[0].n);

  function send(c: Case): request.Test {
    const r = a.as(c.role ?? 'curator')[c.method](c.path.replace(':funding', ids.funding).replace(':event', ids.event).replace(':webhook', ids.webhook));
    return c.body === undefined ? r : r.send(c.body as object);
  }

  async function expectRefused(cases: Case[]) {
    const before = await eventCount();
    const wrong: unknown[] = [];
    for (const c of cases) {
      const res = await send(c);
      const fields = ((res.body?.errors ?? []) as Array<{ field?: string }>).map((e) => e.field);
      const ok = res.status === 400 && /^application\/problem\+json/.test(res.headers['content-type'] ?? '') && fields.includes(c.field);
      if (!ok) {
        wrong.push({ label: c.label, expected: c.field, status: res.status, fields, detail: res.body?.detail });
      }
    }
    expect(wrong).toEqual([]);
    expect(await eventCount()).toBe(before);
  }

  // One valid body per write that takes fields, and where its `source` sits.
  const writes: Array<{ label: string; path: string; body: Record<string, unknown>; role?: Role; sourceUrlRequired?: boolean }> = [
    { label: 'join', path: '/alliances/bio/members', body: { organisationId: 'meta', on: '2024', source: src }, sourceUrlRequired: true },
    { label: 'leave', path: '/alliances/ai/members/ibm/leave', body: { on: '2024', source: src }, sourceUrlRequired: true },
    { label: 'rename', path: '/organisations/ibm/rename', body: { name: 'Big Blue', on: '2024', source: src } },
    {
      label: 'funding',
      path: '/fundings',
      body: { funderId: 'ibm', recipientId: 'tum', amount: '5', currency: 'USD', on: '2024', source: src },
      sourceUrlRequired: true,
    },
    { label: 'tranche', path: '/fundings/:funding/tranches', body: { amount: '5', currency: 'EUR', on: '2020', source: src } },
    { label: 'termination', path: '/fundings/:funding/terminate', body: { on: '2024', source: src } },
    {
      label: 'import join',
      path: '/imports',
      body: { facts: [{ fact: 'join', allianceId: 'chips', organisationId: 'tum', on: '2024', source: src }] },
      sourceUrlRequired: true,
    },
  ];
  /** The same write with `source` replaced (inside the first fact for an import). */
  const withSource = (w: (typeof writes)[number], source: unknown): Record<string, unknown> =>
    w.path === '/imports'
      ? { facts: [{ ...(w.body.facts as Array<Record<string, unknown>>)[0], source }] }
      : { ...w.body, source };

  it('the valid bodies of the table are valid (a control for every row below)', async () => {
    // Each write is sent with an unknown field, which must be the only error named.
    for (const w of writes) {
      const body = w.path === '/imports' ? { facts: [{ ...(w.body.facts as object[])[0], extra: 1 }] } : { ...w.body, extra: 1 };
      const res = await a.as('curator').post(w.path.replace(':funding', ids.funding)).send(body);
      expect({ label: w.label, status: res.status, fields: (res.body.errors ?? []).map((e: { field: string }) => e.field) }).toEqual({
        label: w.label,
        status: 400,
        fields: ['extra'],
      });
    }
  });

  it('source must be an object with an http(s) url, and nothing else', async () => {
    const shapes: Array<[string, unknown, string]> = [
      ['empty array', [], 'source'],
      ['array of two sources', [src, src], 'source'],
      ['array of one source', [src], 'source'],
      ['null', null, 'source'],
      ['a string', 'https://example.org', 'source'],
      ['a number', 42, 'source'],
      ['true', true, 'source'],
      ['empty object', {}, 'source.url'],
      ['ftp url', { url: 'ftp://example.org/x' }, 'source.url'],
      ['javascript url', { url: 'javascript:alert(1)' }, 'source.url'],
      ['url not a string', { url: ['https://example.org'] }, 'source.url'],
      ['unknown key', { ...src, extra: 1 }, 'source.extra'],
      ['regex metacharacter key', { ...src, '(': 1 }, 'source.('],
      ['bracket key', { ...src, '[': 1 }, 'source.['],
      ['star key', { ...src, '*': 1 }, 'source.*'],
      ['prototype-named key', { ...src, constructor: 1 }, 'source.constructor'],
      ['hasOwnProperty key', { ...src, hasOwnProperty: 'x' }, 'source.hasOwnProperty'],
      ['whitespace title', { ...src, title: '   ' }, 'source.title'],
      ['impossible publishedOn', { ...src, publishedOn: '2023-02-29' }, 'source.publishedOn'],
    ];
    const cases: Case[] = writes.flatMap((w) =>
      shapes.map(([label, source, field]) => ({
        label: `${w.label}: source ${label}`,
        method: 'post' as const,
        path: w.path,
        body: withSource(w, source),
        field: w.path === '/imports' && field === 'source.constructor' ? 'facts.0.source.constructor' : field,
      })),
    );
    await expectRefused(cases);
  });

  it('a missing source is refused where the url is required', async () => {
    const cases: Case[] = writes
      .filter((w) => w.sourceUrlRequired)
      .map((w) => {
        const body = structuredClone(w.body);
        if (w.path === '/imports') {
          delete (body.facts as Array<Record<string, unknown>>)[0].source;
        } else {
          delete body.source;
        }
        return { label: `${w.label}: no source`, method: 'post' as const, path: w.path, body, field: 'source' };
      });
    await expectRefused(cases);
  });

  const PROTOTYPE_KEYS = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__', 'prototype'];

  it('fields named like Object.prototype members are unknown fields', async () => {
    const cases: Case[] = PROTOTYPE_KEYS.flatMap((key): Case[] => [
      { label: `organisation ${key}`, method: 'post', path: '/organisations', body: { id: 'newco', name: 'New', [key]: 1 }, field: key },
      { label: `alliance ${key}`, method: 'post', path: '/alliances', body: { id: 'newa', name: 'New', [key]: 'x' }, field: key },
      { label: `patch ${key}`, method: 'patch', path: '/organisations/ibm', body: { country: 'US', [key]: {} }, field: key },
      { label: `retract ${key}`, method: 'post', path: '/events/:event/retract', body: { reason: 'r', [key]: 1 }, field: key },
      { label: `api key ${key}`, role: 'admin', method: 'post', path: '/api-keys', body: { name: 'k', role: 'reader', [key]: 1 }, field: key },
      { label: `webhook ${key}`, role: 'admin', method: 'post', path: '/webhooks', body: { url: 'http://127.0.0.1:9/x', [key]: 1 }, field: key },
      { label: `webhook patch ${key}`, role: 'admin', method: 'patch', path: '/webhooks/:webhook', body: { [key]: 1 }, field: key },
      { label: `recover ${key}`, role: 'admin', method: 'post', path: '/webhooks/:webhook/recover', body: { since: '2024-01-01T00:00:00Z', [key]: 1 }, field: key },
      {
        label: `import ${key}`,
        method: 'post',
        path: '/imports',
        body: { facts: [{ fact: 'organisation', id: 'newco', name: 'New', [key]: 1 }] },
        // A `constructor` key is refused before any fact is read (see validateStrict), so its
        // path runs from the body; every other one is named in its fact, with the fact's index.
        field: key === 'constructor' ? 'facts.0.constructor' : key,
      },
      { label: `import body ${key}`, method: 'post', path: '/imports', body: { facts: [{ fact: 'organisation', id: 'newco', name: 'New' }], [key]: 1 }, field: key },
    ]);
    await expectRefused(cases);
  });

  it('query parameters named like Object.prototype members are unknown parameters', async () => {
    const cases: Case[] = ['toString', 'constructor', 'hasOwnProperty'].flatMap((key): Case[] => [
      { label: `members ?${key}`, role: 'reader', method: 'get', path: `/alliances/ai/members?${key}=1`, field: key },
      { label: `alliances ?${key}`, role: 'reader', method: 'get', path: `/alliances?${key}=1`, field: key },
      { label: `webhooks ?${key}`, role: 'admin', method: 'get', path: `/webhooks?${key}=1`, field: key },
    ]);
    await expectRefused(cases);
  });

  it('names, reasons and other free text must not be blank', async () => {
    const cases: Case[] = ['', ' ', '   ', '\t\n', '\u00a0', '\u200b', '\u200f\u200e', '\u3000'].flatMap((blank): Case[] => {
      const l = JSON.stringify(blank);
      return [
        { label: `organisation name ${l}`, method: 'post', path: '/organisations', body: { id: 'blank', name: blank }, field: 'name' },
        { label: `alias ${l}`, method: 'post', path: '/organisations', body: { id: 'blank', name: 'B', aliases: ['ok', blank] }, field: 'aliases' },
        { label: `alliance name ${l}`, method: 'post', path: '/alliances', body: { id: 'blank', name: blank }, field: 'name' },
        { label: `rename name ${l}`, method: 'post', path: '/organisations/ibm/rename', body: { name: blank, on: '2024' }, field: 'name' },
        { label: `api key name ${l}`, role: 'admin', method: 'post', path: '/api-keys', body: { name: blank, role: 'reader' }, field: 'name' },
        { label: `retract reason ${l}`, method: 'post', path: '/events/:event/retract', body: { reason: blank }, field: 'reason' },
        { label: `leave reason ${l}`, method: 'post', path: '/alliances/ai/members/ibm/leave', body: { on: '2024', reason: blank, source: src }, field: 'reason' },
        { label: `join note ${l}`, method: 'post', path: '/alliances/bio/members', body: { organisationId: 'meta', on: '2024', note: blank, source: src }, field: 'note' },
        { label: `join role ${l}`, method: 'post', path: '/alliances/bio/members', body: { organisationId: 'meta', on: '2024', role: blank, source: src }, field: 'role' },
        { label: `termination reason ${l}`, method: 'post', path: '/fundings/:funding/terminate', body: { on: '2024', reason: blank }, field: 'reason' },
        {
          label: `funding purpose ${l}`,
          method: 'post',
          path: '/fundings',
          body: { funderId: 'ibm', recipientId: 'tum', amount: '5', currency: 'USD', on: '2024', source: src, purpose: blank },
          field: 'purpose',
        },
        {
          label: `import organisation name ${l}`,
          method: 'post',
          path: '/imports',
          body: { facts: [{ fact: 'organisation', id: 'blank', name: blank }] },
          field: 'name',
        },
      ];
    });
    await expectRefused(cases);
  });

  it('timestamps are real instants: no rollover, no impossible fields', async () => {
    const bad = [
      '2024-02-30T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '2024-04-31T12:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-01-00T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:60:00Z',
      '2024-01-01T23:59:60Z',
      '2024-01-01T00:00:00+24:00',
      '2024-01-01T00:00:00+01:60',
      '0000-01-01T00:00:00Z',
      '2024-01-01T00:00:00',
      '2024-01-01',
      '1704067200000',
    ];
    const cases: Case[] = bad.flatMap((t): Case[] => {
      const q = encodeURIComponent(t);
      return [
        { label: `members knownAt ${t}`, role: 'reader', method: 'get', path: `/alliances/ai/members?knownAt=${q}`, field: 'knownAt' },
        { label: `organisation knownAt ${t}`, role: 'reader', method: 'get', path: `/organisations/ibm?knownAt=${q}`, field: 'knownAt' },
        { label: `fundings knownAt ${t}`, role: 'reader', method: 'get', path: `/fundings?knownAt=${q}`, field: 'knownAt' },
        { label: `history knownAt ${t}`, role: 'reader', method: 'get', path: `/organisations/ibm/history?knownAt=${q}`, field: 'knownAt' },
        { label: `recover since ${t}`, role: 'admin', method: 'post', path: '/webhooks/:webhook/recover', body: { since: t }, field: 'since' },
      ];
    });
    await expectRefused(cases);
    // The controls: real instants with and without an offset are answered.
    for (const t of ['2024-02-29T23:59:59.999Z', '2024-03-01T00:30:00+01:00', '2024-01-01T00:00Z']) {
      await a.as('reader').get(`/alliances/ai/members?knownAt=${encodeURIComponent(t)}`).expect(200);
      await a.as('admin').post(`/webhooks/${ids.webhook}/recover`).send({ since: t }).expect(202);
    }
  });

  it('valid dates lie between 1800 and ten years from now', async () => {
    const next = new Date().getUTCFullYear() + 11;
    const cases: Case[] = ['9999-12-31', '9999', `${next}`, `${next}-01-01`, '1799-12-31', '1000', '0999'].flatMap((on): Case[] => [
      { label: `join on ${on}`, method: 'post', path: '/alliances/bio/members', body: { organisationId: 'meta', on, source: src }, field: 'on' },
      { label: `leave on ${on}`, method: 'post', path: '/alliances/ai/members/ibm/leave', body: { on, source: src }, field: 'on' },
      { label: `rename on ${on}`, method: 'post', path: '/organisations/ibm/rename', body: { name: 'X', on }, field: 'on' },
      {
        label: `funding on ${on}`,
        method: 'post',
        path: '/fundings',
        body: { funderId: 'ibm', recipientId: 'tum', amount: '5', currency: 'USD', on, source: src },
        field: 'on',
      },
      { label: `tranche on ${on}`, method: 'post', path: '/fundings/:funding/tranches', body: { amount: '1', currency: 'EUR', on }, field: 'on' },
      { label: `termination on ${on}`, method: 'post', path: '/fundings/:funding/terminate', body: { on }, field: 'on' },
      { label: `foundedOn ${on}`, method: 'post', path: '/alliances', body: { id: 'old', name: 'Old', foundedOn: on }, field: 'foundedOn' },
      { label: `publishedOn ${on}`, method: 'post', path: '/organisations/ibm/rename', body: { name: 'X', on: '2024', source: { ...src, publishedOn: on } }, field: 'source.publishedOn' },
      { label: `import join on ${on}`, method: 'post', path: '/imports', body: { facts: [{ fact: 'join', allianceId: 'chips', organisationId: 'tum', on, source: src }] }, field: 'on' },
      { label: `members at ${on}`, role: 'reader', method: 'get', path: `/alliances/ai/members?at=${on}`, field: 'at' },
      { label: `changes from ${on}`, role: 'reader', method: 'get', path: `/alliances/ai/changes?from=${on}`, field: 'from' },
    ]);
    await expectRefused(cases);
    // The bounds themselves are valid.
    const last = next - 1;
    await a.as('reader').get(`/alliances/ai/members?at=${last}-12-31`).expect(200);
    await a.as('reader').get('/alliances/ai/members?at=1800-01-01').expect(200);
  });

  it('cursors are validated before any SQL, and errors name `cursor`', async () => {
    const uuid = '00000000-0000-4000-8000-000000000000';
    const cases: Case[] = [
      ...['garbage', 'zzz', 'not-a-cursor', '1', b64(['members', 'A B']), b64({}), '%00', '%F0%9F%92%A9'].flatMap((c): Case[] => [
        { label: `members cursor ${c}`, role: 'reader', method: 'get', path: `/alliances/ai/members?cursor=${c}`, field: 'cursor' },
        { label: `alliances cursor ${c}`, role: 'reader', method: 'get', path: `/alliances?cursor=${c}`, field: 'cursor' },
        { label: `organisations cursor ${c}`, role: 'reader', method: 'get', path: `/organisations?cursor=${c}`, field: 'cursor' },
        { label: `webhooks cursor ${c}`, role: 'admin', method: 'get', path: `/webhooks?cursor=${c}`, field: 'cursor' },
        { label: `deliveries cursor ${c}`, role: 'admin', method: 'get', path: `/webhooks/:webhook/deliveries?cursor=${c}`, field: 'cursor' },
        { label: `fundings cursor ${c}`, role: 'reader', method: 'get', path: `/fundings?cursor=${c}`, field: 'cursor' },
        // A history cursor is a position: 1 is one.
        ...(c === '1' ? [] : [{ label: `history cursor ${c}`, role: 'reader' as const, method: 'get' as const, path: `/organisations/ibm/history?cursor=${c}`, field: 'cursor' }]),
        { label: `changes cursor ${c}`, role: 'reader', method: 'get', path: `/alliances/ai/changes?from=2020&cursor=${c}`, field: 'cursor' },
      ]),
      // Well-formed on the outside, but Postgres would refuse what is inside.
      { label: 'fundings cursor with an impossible date', role: 'reader', method: 'get', path: `/fundings?cursor=2024-02-30.${uuid}`, field: 'cursor' },
      { label: 'fundings cursor out of the date range', role: 'reader', method: 'get', path: `/fundings?cursor=0000-01-01.${uuid}`, field: 'cursor' },
      { label: 'webhooks cursor with a non-uuid id', role: 'admin', method: 'get', path: `/webhooks?cursor=${b64(['2024-01-01T00:00:00.000Z', 'nope'])}`, field: 'cursor' },
      {
        label: 'webhooks cursor with a far-off time',
        role: 'admin',
        method: 'get',
        path: `/webhooks?cursor=${b64(['+275760-09-13T00:00:00.000Z', uuid])}`,
        field: 'cursor',
      },
      { label: 'webhooks cursor with a rolled-over time', role: 'admin', method: 'get', path: `/webhooks?cursor=${b64(['2024-02-30T00:00:00Z', uuid])}`, field: 'cursor' },
      {
        label: 'deliveries cursor past int8',
        role: 'admin',
        method: 'get',
        path: `/webhooks/:webhook/deliveries?cursor=${b64(['9999999999999999999'])}`,
        field: 'cursor',
      },
      { label: 'api keys cursor garbage', role: 'admin', method: 'get', path: '/api-keys?cursor=garbage', field: 'cursor' },
      { label: 'api keys cursor of another list', role: 'admin', method: 'get', path: `/api-keys?cursor=${b64(['alliances', 'ai'])}`, field: 'cursor' },
      { label: 'api keys cursor with a rolled-over time', role: 'admin', method: 'get', path: `/api-keys?cursor=${b64(['api-keys', '2024-02-30T00:00:00Z', uuid])}`, field: 'cursor' },
      { label: 'api keys limit 0', role: 'admin', method: 'get', path: '/api-keys?limit=0', field: 'limit' },
      // Strings that Postgres refuses (NUL) are refused first, naming the parameter.
      { label: 'events streamId with NUL', role: 'reader', method: 'get', path: '/events?streamId=a%00b', field: 'streamId' },
      { label: 'events type with NUL', role: 'reader', method: 'get', path: '/events?type=%00', field: 'type' },
      { label: 'organisations q with NUL', role: 'reader', method: 'get', path: '/organisations?q=%00', field: 'q' },
      { label: 'alliances limit 0', role: 'reader', method: 'get', path: '/alliances?limit=0', field: 'limit' },
      { label: 'alliances limit 10001', role: 'reader', method: 'get', path: '/alliances?limit=10001', field: 'limit' },
      { label: 'alliances unknown parameter', role: 'reader', method: 'get', path: '/alliances?colour=red', field: 'colour' },
    ];
    await expectRefused(cases);
  });

  it('GET /alliances pages with limit, cursor and nextCursor', async () => {
    const first = await a.as('reader').get('/alliances?limit=2').expect(200);
    expect(first.body.alliances.map((x: { id: string }) => x.id)).toEqual(['ai', 'bio']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await a.as('reader').get(`/alliances?limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.alliances.map((x: { id: string }) => x.id)).toEqual(['chips']);
    expect(second.body.nextCursor).toBeNull();
    const all = await a.as('reader').get('/alliances').expect(200);
    expect(all.body.alliances).toHaveLength(3);
    expect(all.body.nextCursor).toBeNull();
  });

  it('GET /api-keys pages with limit, cursor and nextCursor, in creation order', async () => {
    for (const name of ['k1', 'k2', 'k3']) {
      await a.as('admin').post('/api-keys').send({ name, role: 'reader' }).expect(201);
    }
    const all = (await a.as('admin').get('/api-keys').expect(200)).body as { apiKeys: Array<{ id: string; name: string }>; nextCursor: null };
    expect(all.nextCursor).toBeNull();
    expect(all.apiKeys.slice(-3).map((k) => k.name)).toEqual(['k1', 'k2', 'k3']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = await a.as('admin').get(`/api-keys?limit=2${query}`).expect(200);
      expect(page.body.apiKeys.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.apiKeys.map((k: { id: string }) => k.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.apiKeys.map((k) => k.id));
  });

  it('a history page that ends the list says so: nextCursor is null', async () => {
    // ibm has its registration and a join; a page of exactly those two is the last.
    const events = (await a.as('reader').get('/organisations/ibm/history').expect(200)).body.events as unknown[];
    const last = await a.as('reader').get(`/organisations/ibm/history?limit=${events.length}`).expect(200);
    expect(last.body.events).toHaveLength(events.length);
    expect(last.body.nextCursor).toBeNull();
    const first = await a.as('reader').get(`/organisations/ibm/history?limit=${events.length - 1}`).expect(200);
    expect(first.body.nextCursor).toEqual(expect.any(String));
  });

  it('member and organisation pages still follow their nextCursor', async () => {
    const c = a.as('curator');
    await c.post('/alliances/ai/members').send({ organisationId: 'meta', on: '2023', source: src }).expect(201);
    await c.post('/alliances/ai/members').send({ organisationId: 'tum', on: '2023', source: src }).expect(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = await a.as('reader').get(`/alliances/ai/members?limit=2${query}`).expect(200);
      seen.push(...page.body.members.map((m: { organisationId: string }) => m.organisationId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['ibm', 'meta', 'tum']);
    // A cursor of another list is not a cursor of this one.
    const orgs = await a.as('reader').get('/organisations?limit=1').expect(200);
    const res = await a.as('reader').get(`/alliances?cursor=${orgs.body.nextCursor}`).expect(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['cursor']);
  });

  it('HEAD is a read: a reader key may ask, no key may not', async () => {
    for (const path of ['/alliances', '/alliances/ai', '/alliances/ai/members', '/organisations/ibm', '/fundings', '/events']) {
      const res = await a.http().head(path).set('Authorization', `Bearer ${a.keys.reader}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect((await a.http().head(path)).status).toBe(401);
    }
    // Still only an admin reads the admin lists, HEAD or GET.
    expect((await a.http().head('/webhooks').set('Authorization', `Bearer ${a.keys.reader}`)).status).toBe(403);
    expect((await a.http().head('/webhooks').set('Authorization', `Bearer ${a.keys.admin}`)).status).toBe(200);
  });
});
