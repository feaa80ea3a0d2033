import { eventually } from '../support/eventually';
import { createTestApp, TestApp } from '../support/test-app';

describe('organisations and alliances', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
  });
  afterAll(() => a.close());

  it('registers an organisation and refuses the same id again, naming the first', async () => {
    const res = await a
      .as('curator')
      .post('/organisations')
      .send({ id: 'meta', name: 'Facebook', country: 'US', kind: 'company', aliases: ['FB'], website: 'https://about.meta.com' })
      .expect(201);
    expect(res.body.event).toMatchObject({ type: 'OrganisationRegistered', streamId: 'organisation-meta', version: 1 });
    expect(res.body.event.recordedBy).toEqual({ id: expect.any(String), name: 'test curator' });
    const dup = await a.as('curator').post('/organisations').send({ id: 'meta', name: 'Meta' }).expect(409);
    expect(dup.body.detail).toBe(`organisation meta already exists (registered as "Facebook", event ${res.body.event.id})`);
  });

  it('renames in valid time: earlier dates show the earlier name', async () => {
    const rename = await a
      .as('curator')
      .post('/organisations/meta/rename')
      .send({ name: 'Meta', on: '2021-10-28', source: { url: 'https://about.fb.com/news/2021/10/facebook-company-is-now-meta/' } })
      .expect(201);
    expect(rename.body.event.data).toMatchObject({ name: 'Meta', previousName: 'Facebook', on: '2021-10-28', precision: 'day' });
    const in2019 = await a.as('reader').get('/organisations/meta?at=2019').expect(200);
    expect(in2019.body).toMatchObject({ id: 'meta', name: 'Facebook', currentName: 'Meta', country: 'US', kind: 'company', provisional: false });
    expect((await a.as('reader').get('/organisations/meta?at=2021-10-28').expect(200)).body.name).toBe('Meta');
    expect((await a.as('reader').get('/organisations/meta?at=2021-10-27').expect(200)).body.name).toBe('Facebook');
    expect((await a.as('reader').get('/organisations/meta').expect(200)).body.name).toBe('Meta');
    // As known before the rename was recorded, it was still Facebook in 2022.
    const before = new Date(new Date(rename.body.event.recordedAt).getTime() - 1).toISOString();
    expect((await a.as('reader').get(`/organisations/meta?at=2022&knownAt=${before}`).expect(200)).body.name).toBe('Facebook');
    const same = await a.as('curator').post('/organisations/meta/rename').send({ name: 'Meta', on: '2022' }).expect(409);
    expect(same.body.detail).toContain('already called "Meta"');
    await a.as('curator').post('/organisations/nobody/rename').send({ name: 'X', on: '2022' }).expect(404);
    await a.as('curator').post('/organisations/meta/rename').send({ name: 'X', on: '22' }).expect(400);
    // A retracted rename: the earlier name holds again, but only as known after the retraction.
    const wrong = await a.as('curator').post('/organisations/meta/rename').send({ name: 'Meta Platforms', on: '2023' }).expect(201);
    await a.as('curator').post(`/events/${wrong.body.event.id}/retract`).send({ reason: 'not a rename' }).expect(201);
    expect((await a.as('reader').get('/organisations/meta?at=2024').expect(200)).body.name).toBe('Meta');
    expect(
      (await a.as('reader').get(`/organisations/meta?at=2024&knownAt=${wrong.body.event.recordedAt}`).expect(200)).body.name,
    ).toBe('Meta Platforms');
  });

  it('PATCH changes country, kind, aliases and website; search finds names and aliases', async () => {
    await a.as('curator').post('/organisations').send({ id: 'tum', name: 'Technical University of Munich', country: 'DE', kind: 'university' }).expect(201);
    const res = await a.as('curator').patch('/organisations/tum').send({ aliases: ['TUM', 'Technische Universität München'], website: null }).expect(201);
    expect(res.body.event).toMatchObject({ type: 'OrganisationUpdated', data: { organisationId: 'tum', website: null } });
    const found = await a.as('reader').get('/organisations?q=universitat').expect(200);
    expect(found.body.organisations.map((o: { id: string }) => o.id)).toEqual(['tum']);
    expect((await a.as('reader').get('/organisations?q=facebook').expect(200)).body.organisations[0].id).toBe('meta');
    expect((await a.as('reader').get('/organisations?q=zzz').expect(200)).body.organisations).toEqual([]);
    const page = await a.as('reader').get('/organisations?limit=1').expect(200);
    expect(page.body.organisations).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String)); // opaque: it stands for meta
    const next = await a.as('reader').get(`/organisations?limit=1&cursor=${page.body.nextCursor}`).expect(200);
    expect(next.body.organisations[0].id).toBe('tum');
    await a.as('curator').patch('/organisations/tum').send({}).expect(400);
    await a.as('curator').patch('/organisations/tum').send({ country: 'de' }).expect(400);
    await a.as('curator').patch('/organisations/tum').send({ name: 'renaming is not patching' }).expect(400);
    await a.as('curator').patch('/organisations/nobody').send({ country: 'DE' }).expect(404);
    await a.as('reader').patch('/organisations/tum').send({ country: 'DE' }).expect(403);
  });

  it('validates strictly and names each field', async () => {
    const res = await a
      .as('curator')
      .post('/organisations')
      .send({ id: '-bad', name: '', country: 'Germany', kind: 'club', aliases: 'TUM', website: 'javascript:alert(1)' })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(
      expect.arrayContaining(['aliases', 'country', 'id', 'kind', 'name', 'website']),
    );
    // Nothing is coerced: a number is not a name.
    await a.as('curator').post('/organisations').send({ id: 'n', name: 2 }).expect(400);
    await a.as('reader').get('/organisations/meta?at=2019-13').expect(400);
    await a.as('reader').get('/organisations/meta?knownAt=yesterday').expect(400);
    await a.as('reader').get('/organisations/meta?colour=red').expect(400);
    await a.as('reader').get('/organisations/NOT_A_SLUG').expect(400);
    await a.as('reader').get('/organisations/nobody').expect(404);
    await a.http().get('/organisations').expect(401);
  });

  it('alliances: register, list, get, 409, 404', async () => {
    const res = await a.as('curator').post('/alliances').send({ id: 'ai-alliance', name: 'AI Alliance', foundedOn: '2023-12', website: 'https://thealliance.ai' }).expect(201);
    expect(res.body.alliance).toEqual({ id: 'ai-alliance', name: 'AI Alliance', website: 'https://thealliance.ai', foundedOn: '2023-12', foundedOnPrecision: 'month' });
    await a.as('curator').post('/alliances').send({ id: 'ai-alliance', name: 'Again' }).expect(409);
    expect((await a.as('reader').get('/alliances').expect(200)).body.alliances).toHaveLength(1);
    expect((await a.as('reader').get('/alliances/ai-alliance').expect(200)).body.name).toBe('AI Alliance');
    await a.as('reader').get('/alliances/none').expect(404);
    await a.as('reader').post('/alliances').send({ id: 'x', name: 'X' }).expect(403);
  });

  it('events: one by id, 404, 400; retracting a registration is refused', async () => {
    const log = await eventually(async () => {
      const res = await a.as('reader').get('/events?limit=2').expect(200);
      expect(res.body.events).toHaveLength(2);
      expect(res.body.nextAfter).toBe(res.body.events[1].position);
      return res;
    });
    const next = await eventually(async () => {
      const res = await a.as('reader').get(`/events?after=${log.body.nextAfter}&limit=1`).expect(200);
      expect(res.body.events).toHaveLength(1);
      return res;
    });
    expect(BigInt(next.body.events[0].position)).toBeGreaterThan(BigInt(log.body.events[1].position));
    const id = log.body.events[0].id;
    expect((await a.as('reader').get(`/events/${id}`).expect(200)).body.id).toBe(id);
    await a.as('reader').get('/events/00000000-0000-4000-8000-000000000000').expect(404);
    await a.as('reader').get('/events/123').expect(400);
    const refused = await a.as('curator').post(`/events/${id}/retract`).send({ reason: 'no' }).expect(409);
    expect(refused.body.detail).toMatch(/OrganisationRegistered events cannot be retracted/);
    await a.as('curator').post('/events/00000000-0000-4000-8000-000000000000/retract').send({ reason: 'x' }).expect(404);
    await a.as('curator').post(`/events/${id}/retract`).send({}).expect(400);
    await a.as('reader').post(`/events/${id}/retract`).send({ reason: 'x' }).expect(403);
  });

  it('HTTP edges: 413, 415, unknown route and method, invalid JSON are problem+json', async () => {
    const big = { id: 'big', name: 'x'.repeat(1024 * 1024 + 10) };
    const tooBig = await a.as('curator').post('/organisations').send(big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers['content-type']).toMatch(/problem\+json/);
    const text = await a.as('curator').post('/organisations').set('Content-Type', 'text/plain').send('id=x');
    expect(text.status).toBe(415);
    const broken = await a.as('curator').post('/organisations').set('Content-Type', 'application/json').send('{"id":');
    expect(broken.status).toBe(400);
    expect(broken.body.type).toMatch(/problems\/validation-error/);
    expect(broken.body.errors).toEqual([{ field: 'body', message: 'not valid JSON' }]);
    const route = await a.as('reader').get('/nowhere').expect(404);
    expect(route.headers['content-type']).toMatch(/problem\+json/);
    const method = await a.as('curator').delete('/organisations/meta');
    expect(method.status).toBe(404);
    expect(method.headers['content-type']).toMatch(/problem\+json/);
  });

  it('JSON bodies: application/*+json and media type parameters are JSON; prototype keys are refused naming the body', async () => {
    const send = (type: string, body: string) => a.as('curator').post('/organisations').set('Content-Type', type).send(body);
    expect((await send('application/vnd.api+json', JSON.stringify({ id: 'plus-json', name: 'Plus JSON' }))).status).toBe(201);
    expect((await send('Application/JSON; charset=utf-8', JSON.stringify({ id: 'charset', name: 'Charset' }))).status).toBe(201);
    for (const body of ['{"id":"proto","name":"P","__proto__":{"admin":true}}', '{"id":"proto","name":"P","constructor":{"prototype":{"admin":true}}}']) {
      const refused = await send('application/json', body);
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([{ field: 'body', message: 'has a "__proto__" or "constructor.prototype" key' }]);
    }
    await a.as('reader').get('/organisations/proto').expect(404);
    const form = await send('application/x-www-form-urlencoded', 'id=form&name=Form');
    expect(form.status).toBe(415);
    expect(form.body.detail).toContain('application/x-www-form-urlencoded');
    // A trailing slash names the same resource.
    expect((await a.as('reader').get('/organisations/charset/').expect(200)).body.name).toBe('Charset');
  });

  it('serves an OpenAPI document that lists every endpoint with its errors', async () => {
    const doc = (await a.http().get('/docs-json').expect(200)).body;
    const paths = Object.keys(doc.paths);
    for (const p of ['/organisations', '/organisations/{id}/rename', '/alliances/{id}/members', '/alliances/{id}/members/{organisationId}/leave', '/events/{eventId}/retract', '/imports', '/api-keys']) {
      expect(paths).toContain(p);
    }
    const join = doc.paths['/alliances/{id}/members'].post;
    expect(Object.keys(join.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403', '404', '409']));
    expect(doc.components.schemas.RecordJoinDto.required).toEqual(expect.arrayContaining(['organisationId', 'on', 'source']));
    await a.http().get('/docs').expect(200);
  });
});

describe('hostile input gets a 4xx, never a 5xx', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
    await a.as('curator').post('/organisations').send({ id: 'acme', name: 'Acme' }).expect(201);
    await a.as('curator').post('/organisations').send({ id: 'zeta', name: 'Zeta' }).expect(201);
  });
  afterAll(() => a.close());

  it('positions and cursors out of range or malformed are 400', async () => {
    await a.as('reader').get('/events?after=9999999999999999999').expect(400);
    await a.as('reader').get('/organisations/acme/history?cursor=9999999999999999999').expect(400);
    await a.as('reader').get('/alliances/none/changes?from=2019&cursor=2020-01-01.9999999999999999999').expect(400);
    await a.as('reader').get('/organisations?cursor=%00').expect(400);
    await a.as('admin').get('/api-keys?limit=x').expect(400);
  });

  it('unstorable strings and absurd nesting are 400 naming the field', async () => {
    const nul = await a.as('curator').post('/organisations').send({ id: 'nul', name: 'a\u0000b' }).expect(400);
    expect(nul.body.errors).toEqual([{ field: 'name', message: expect.stringContaining('NUL') }]);
    await a.as('curator').post('/organisations').send({ id: 'sur', name: 'a\ud800b' }).expect(400);
    const deep = await a
      .as('curator')
      .post('/imports')
      .set('Content-Type', 'application/json')
      .send(`${'['.repeat(5000)}${']'.repeat(5000)}`);
    expect(deep.status).toBe(400);
    await a.as('curator').post('/imports').send({ facts: [{ fact: 'toString' }] }).expect(400);
    await a.as('reader').get('/organisations/nul').expect(404);
  });

  it('an idempotent retry may order its keys differently', async () => {
    const first = await a.as('curator').post('/organisations').set('Idempotency-Key', 'k-order').send({ id: 'ordered', name: 'Ordered' }).expect(201);
    const again = await a.as('curator').post('/organisations').set('Idempotency-Key', 'k-order').send({ name: 'Ordered', id: 'ordered' }).expect(201);
    expect(again.body).toEqual(first.body);
  });

  it('the log from after=0 or from an unknown position is not empty for ever', async () => {
    const all = await eventually(async () => {
      const res = await a.as('reader').get('/events?after=0').expect(200);
      expect(res.body.events.length).toBeGreaterThanOrEqual(3);
      return res;
    });
    const last = all.body.events[all.body.events.length - 1].position;
    const beyond = (BigInt(last) + 1000n).toString();
    expect((await a.as('reader').get(`/events?after=${beyond}`).expect(200)).body.events).toEqual([]);
    const fromFirst = await a.as('reader').get(`/events?after=${all.body.events[0].position}`).expect(200);
    expect(fromFirst.body.events.map((e: { id: string }) => e.id)).toEqual(all.body.events.slice(1).map((e: { id: string }) => e.id));
  });
});
