import { createTestApp, TestApp } from '../support/test-app';

const src = { url: 'https://example.org/press' };

/** Hand-picked cases of the Time rules; the model test covers the combinations. */
describe('questions: edge cases', () => {
  let a: TestApp;
  const recorded: Record<string, string> = {};
  const get = (url: string) => a.as('reader').get(url);
  const post = async (url: string, body: object, label?: string) => {
    const res = await a.as('curator').post(url).send(body);
    expect(res.status).toBe(201);
    if (label) {
      recorded[label] = res.body.event.recordedAt;
    }
    return res.body.event as { id: string; recordedAt: string };
  };
  /** Bodies of non-JSON types (SVG) as text. */
  const text = (url: string) =>
    get(url)
      .buffer(true)
      .parse((res, done) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done(null, body));
      });
  const ids = (res: { body: { members: Array<{ organisationId: string }> } }) => res.body.members.map((m) => m.organisationId);
  const before = (iso: string) => new Date(Date.parse(iso) - 1).toISOString();

  beforeAll(async () => {
    a = await createTestApp();
    await post('/alliances', { id: 'ai-alliance', name: 'AI Alliance', foundedOn: '2023-12-05' }, 'alliance');
    await post('/alliances', { id: 'empty', name: 'Nobody, Inc. "Alliance"' });
    for (const [id, name, country, kind] of [
      ['ibm', 'IBM', 'US', 'company'],
      ['meta', 'Facebook', 'US', 'company'],
      ['tum', 'Technical University of Munich', 'DE', 'university'],
      ['quoted', 'Acme, "the" Co', 'FR', 'nonprofit'],
    ]) {
      await post('/organisations', { id, name, country, kind });
    }
    await post('/organisations/meta/rename', { name: 'Meta', on: '2021-10-28' }, 'rename');
    await post('/alliances/ai-alliance/members', { organisationId: 'ibm', on: '2018-12-05', role: 'founding member', source: src }, 'ibmJoin');
    await post('/alliances/ai-alliance/members', { organisationId: 'meta', on: '2019-03', source: src }, 'metaJoin');
    await post('/alliances/ai-alliance/members', { organisationId: 'tum', on: '2024-05', source: src }, 'tumJoin');
    await post('/alliances/ai-alliance/members/ibm/leave', { on: '2024-06-15', source: src }, 'ibmLeave');
    await post('/alliances/ai-alliance/members', { organisationId: 'quoted', on: '2020', source: src }, 'quotedJoin');
  });
  afterAll(() => a.close());

  it('a leave on D means not a member on D, but a member the day before', async () => {
    expect(ids(await get('/alliances/ai-alliance/members?at=2024-06-14').expect(200))).toContain('ibm');
    expect(ids(await get('/alliances/ai-alliance/members?at=2024-06-15').expect(200))).not.toContain('ibm');
  });

  it('a partial date 2024-05 counts from 2024-05-01, and a partial at means its first day', async () => {
    expect(ids(await get('/alliances/ai-alliance/members?at=2024-04-30').expect(200))).not.toContain('tum');
    const may = await get('/alliances/ai-alliance/members?at=2024-05-01').expect(200);
    expect(ids(may)).toContain('tum');
    expect(may.body.members.find((m: { organisationId: string }) => m.organisationId === 'tum')).toMatchObject({ since: '2024-05', sincePrecision: 'month' });
    const partialAt = await get('/alliances/ai-alliance/members?at=2024-05').expect(200);
    expect(partialAt.body).toMatchObject({ at: '2024-05', atPrecision: 'month' });
    expect(ids(partialAt)).toContain('tum');
    expect(ids(await get('/alliances/ai-alliance/members?at=2024').expect(200))).not.toContain('tum');
  });

  it('Meta is "Facebook" in 2019, with its current name alongside', async () => {
    const res = await get('/alliances/ai-alliance/members?at=2019-06-01').expect(200);
    expect(res.body.members.find((m: { organisationId: string }) => m.organisationId === 'meta')).toMatchObject({
      name: 'Facebook',
      currentName: 'Meta',
    });
    const now = await get('/alliances/ai-alliance/members').expect(200);
    expect(now.body.members.find((m: { organisationId: string }) => m.organisationId === 'meta')).toMatchObject({ name: 'Meta' });
    const early = await get(`/alliances/ai-alliance/members?at=2019-06-01&knownAt=${before(recorded.metaJoin)}`).expect(200);
    expect(ids(early)).toEqual(['ibm']);
    // Known before the rename was recorded, Meta was Facebook even today.
    const org = await get(`/organisations/meta/memberships?knownAt=${before(recorded.rename)}`).expect(200);
    expect(org.body).toMatchObject({ name: 'Facebook', currentName: 'Facebook', memberships: [] });
    const mship = await get(`/organisations/meta/memberships?at=2019-06-01&knownAt=${recorded.metaJoin}`).expect(200);
    expect(mship.body).toMatchObject({ name: 'Facebook', currentName: 'Meta', memberships: [{ allianceId: 'ai-alliance', name: 'AI Alliance', since: '2019-03' }] });
  });

  it('knownAt before the first event gives empty answers', async () => {
    const k = before(recorded.alliance);
    const members = await get(`/alliances/ai-alliance/members?at=2024-01-01&knownAt=${k}`).expect(200);
    expect(members.body).toMatchObject({ allianceId: 'ai-alliance', count: 0, members: [], nextCursor: null, knownAt: k });
    expect((await get(`/alliances/ai-alliance/stats?knownAt=${k}`).expect(200)).body).toMatchObject({ count: 0, byCountry: {}, byKind: {} });
    expect((await get(`/alliances/ai-alliance/timeline?knownAt=${k}`).expect(200)).body.points).toEqual([]);
    expect((await get(`/alliances/ai-alliance/changes?from=2000&to=2030&knownAt=${k}`).expect(200)).body).toMatchObject({ joined: [], left: [], events: [] });
    expect((await get(`/organisations/ibm/memberships?knownAt=${k}`).expect(200)).body.memberships).toEqual([]);
    expect((await get(`/organisations/ibm/history?knownAt=${k}`).expect(200)).body.events).toEqual([]);
    expect((await get(`/alliances/ai-alliance/members.csv?knownAt=${k}`).expect(200)).text).toBe('organisationId,name,country,kind,role,since\r\n');
  });

  it('a retraction recorded after knownAt is ignored at that knownAt', async () => {
    await a.as('curator').post('/alliances/ai-alliance/members').send({ organisationId: 'tum', on: '2025-01-01', source: src }).expect(409);
    const leave = await post('/alliances/ai-alliance/members/tum/leave', { on: '2025-03', source: src });
    const retraction = await post(`/events/${leave.id}/retract`, { reason: 'misread the press release' });
    const atBefore = await get(`/alliances/ai-alliance/members?at=2025-06-01&knownAt=${before(retraction.recordedAt)}`).expect(200);
    expect(ids(atBefore)).not.toContain('tum');
    const atRetraction = await get(`/alliances/ai-alliance/members?at=2025-06-01&knownAt=${retraction.recordedAt}`).expect(200);
    expect(ids(atRetraction)).toContain('tum');
    const history = await get(`/organisations/tum/history?knownAt=${before(retraction.recordedAt)}`).expect(200);
    expect(history.body.events.find((e: { id: string }) => e.id === leave.id)).toMatchObject({ retracted: false });
    const historyNow = await get('/organisations/tum/history').expect(200);
    expect(historyNow.body.events.find((e: { id: string }) => e.id === leave.id)).toMatchObject({ retracted: true, retractedBy: retraction.id });
    expect(historyNow.body.events.map((e: { type: string }) => e.type)).toEqual(['OrganisationRegistered', 'MemberJoined', 'MemberLeft', 'EventRetracted']);
    const changes = await get(`/alliances/ai-alliance/changes?from=2025&to=2025-12&knownAt=${before(retraction.recordedAt)}`).expect(200);
    expect(changes.body.events).toEqual([expect.objectContaining({ id: leave.id, retracted: false })]);
    expect(changes.body.left).toEqual([expect.objectContaining({ organisationId: 'tum', on: '2025-03', precision: 'month' })]);
    const changesNow = await get('/alliances/ai-alliance/changes?from=2025&to=2025-12').expect(200);
    expect(changesNow.body.events).toEqual([expect.objectContaining({ id: leave.id, retracted: true })]);
    expect(changesNow.body.left).toEqual([]);
  });

  it('changes, stats and timeline', async () => {
    const changes = await get('/alliances/ai-alliance/changes?from=2019-01-01&to=2024-06-15').expect(200);
    expect(changes.body).toMatchObject({ allianceId: 'ai-alliance', from: '2019-01-01', to: '2024-06-15', at: '2024-06-15' });
    expect(changes.body.joined.map((j: { organisationId: string }) => j.organisationId)).toEqual(['meta', 'quoted', 'tum']);
    expect(changes.body.left).toEqual([expect.objectContaining({ organisationId: 'ibm', name: 'IBM', on: '2024-06-15' })]);
    expect(changes.body.events.map((e: { data: { on: string } }) => e.data.on)).toEqual(['2019-03', '2020', '2024-05', '2024-06-15']);
    expect(changes.body.nextCursor).toBeNull();
    const page1 = await get('/alliances/ai-alliance/changes?from=2019-01-01&to=2024-06-15&limit=3').expect(200);
    expect(page1.body.events.map((e: { data: { on: string } }) => e.data.on)).toEqual(['2019-03', '2020', '2024-05']);
    expect(page1.body.joined).toEqual(changes.body.joined);
    const page2 = await get(`/alliances/ai-alliance/changes?from=2019-01-01&to=2024-06-15&limit=3&cursor=${page1.body.nextCursor}`).expect(200);
    expect(page2.body.events.map((e: { data: { on: string } }) => e.data.on)).toEqual(['2024-06-15']);
    expect(page2.body.nextCursor).toBeNull();
    const stats = await get('/alliances/ai-alliance/stats?at=2024-05-02').expect(200);
    expect(stats.body).toMatchObject({ count: 4, byCountry: { DE: 1, FR: 1, US: 2 }, byKind: { company: 2, nonprofit: 1, university: 1 } });
    const timeline = await get('/alliances/ai-alliance/timeline?at=2024-12-31').expect(200);
    expect(timeline.body.points).toEqual([
      { on: '2018-12-05', count: 1, joined: 1, left: 0 },
      { on: '2019-03-01', count: 2, joined: 1, left: 0 },
      { on: '2020-01-01', count: 3, joined: 1, left: 0 },
      { on: '2024-05-01', count: 4, joined: 1, left: 0 },
      { on: '2024-06-15', count: 3, joined: 0, left: 1 },
    ]);
    const svg = await text('/alliances/ai-alliance/timeline.svg?at=2024-12-31').expect(200);
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.body).toContain('AI Alliance: members over time');
    expect(svg.body).toContain('>2020<');
    expect(svg.body).toContain('3 since 2024-06-15');
    const empty = await text('/alliances/empty/timeline.svg').expect(200);
    expect(empty.body).toContain('Nobody, Inc. &quot;Alliance&quot;');
  });

  it('members: filters, paging, CSV with quoting', async () => {
    const us = await get('/alliances/ai-alliance/members?at=2024-05-02&country=US').expect(200);
    expect(ids(us)).toEqual(['ibm', 'meta']);
    expect((await get('/alliances/ai-alliance/members?at=2024-05-02&kind=university').expect(200)).body.members).toEqual([
      expect.objectContaining({ organisationId: 'tum', country: 'DE', kind: 'university', role: null }),
    ]);
    const page1 = await get('/alliances/ai-alliance/members?at=2024-05-02&limit=3').expect(200);
    expect(page1.body).toMatchObject({ count: 4, nextCursor: expect.any(String) });
    expect(ids(page1)).toEqual(['ibm', 'meta', 'quoted']);
    const page2 = await get(`/alliances/ai-alliance/members?at=2024-05-02&limit=3&cursor=${page1.body.nextCursor}`).expect(200);
    expect(page2.body).toMatchObject({ count: 4, nextCursor: null });
    expect(ids(page2)).toEqual(['tum']);
    const csv = await get('/alliances/ai-alliance/members.csv?at=2024-05-02').expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text).toBe(
      [
        'organisationId,name,country,kind,role,since',
        'ibm,IBM,US,company,founding member,2018-12-05',
        'meta,Meta,US,company,,2019-03',
        'quoted,"Acme, ""the"" Co",FR,nonprofit,,2020',
        'tum,Technical University of Munich,DE,university,,2024-05',
        '',
      ].join('\r\n'),
    );
  });

  it('400 names the bad parameter, unknown parameters are refused, 404 for unknown ids', async () => {
    const cases: Array<[string, string]> = [
      ['/alliances/ai-alliance/members?at=2019-13', 'at'],
      ['/alliances/ai-alliance/members?knownAt=yesterday', 'knownAt'],
      ['/alliances/ai-alliance/members?limit=0', 'limit'],
      ['/alliances/ai-alliance/members?limit=10001', 'limit'],
      ['/alliances/ai-alliance/members?country=us', 'country'],
      ['/alliances/ai-alliance/members?kind=startup', 'kind'],
      ['/alliances/ai-alliance/members?cursor=NOPE', 'cursor'],
      ['/alliances/ai-alliance/members?colour=red', 'colour'],
      ['/alliances/ai-alliance/members.csv?limit=5', 'limit'],
      ['/alliances/ai-alliance/changes?to=2020', 'from'],
      ['/alliances/ai-alliance/changes?from=2021&to=2020', 'to'],
      ['/alliances/ai-alliance/changes?from=2020&cursor=2020-13-01.5', 'cursor'],
      ['/alliances/ai-alliance/stats?at=2019&at=2020', 'at'],
      ['/alliances/ai-alliance/timeline?from=2019', 'from'],
      ['/organisations/ibm/history?cursor=x', 'cursor'],
      ['/organisations/ibm/memberships?knownAt=2024-01-01', 'knownAt'],
      ['/alliances/AI/members', 'id'],
    ];
    for (const [url, field] of cases) {
      const res = await get(url);
      expect({ url, status: res.status, type: res.headers['content-type'] }).toEqual({ url, status: 400, type: expect.stringMatching(/problem\+json/) });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
    for (const url of [
      '/alliances/nope/members',
      '/alliances/nope/members.csv',
      '/alliances/nope/changes?from=2020',
      '/alliances/nope/stats',
      '/alliances/nope/timeline',
      '/alliances/nope/timeline.svg',
      '/organisations/nope/memberships',
      '/organisations/nope/history',
    ]) {
      const res = await get(url);
      expect({ url, status: res.status, type: res.headers['content-type'] }).toEqual({ url, status: 404, type: expect.stringMatching(/problem\+json/) });
    }
    await a.http().get('/alliances/ai-alliance/members').expect(401);
  });
});
