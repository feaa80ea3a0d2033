import { createTestApp, TestApp } from '../support/test-app';

const src = { url: 'https://example.org/press' };

describe('membership facts', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
    await a.as('curator').post('/alliances').send({ id: 'ai-alliance', name: 'AI Alliance', foundedOn: '2023-12-05' }).expect(201);
    for (const [id, name, country, kind] of [
      ['ibm', 'IBM', 'US', 'company'],
      ['meta', 'Facebook', 'US', 'company'],
      ['tum', 'Technical University of Munich', 'DE', 'university'],
    ]) {
      await a.as('curator').post('/organisations').send({ id, name, country, kind }).expect(201);
    }
  });
  afterAll(() => a.close());

  it('records a join and answers 201 with the event', async () => {
    const res = await a.as('curator').post('/alliances/ai-alliance/members').send({ organisationId: 'ibm', on: '2023-12-05', role: 'founding member', source: src });
    expect(res.status).toBe(201);
    expect(res.body.event).toMatchObject({
      type: 'MemberJoined',
      streamId: 'membership-ai-alliance.ibm',
      version: 1,
      position: expect.stringMatching(/^\d+$/),
      data: { allianceId: 'ai-alliance', organisationId: 'ibm', on: '2023-12-05', precision: 'day', source: src },
    });
    expect(new Date(res.body.event.recordedAt).toISOString()).toBe(res.body.event.recordedAt);
  });

  it('refuses a second join with a 409 naming the conflicting fact', async () => {
    const res = await a.as('curator').post('/alliances/ai-alliance/members').send({ organisationId: 'ibm', on: '2024-01-01', source: src });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.detail).toMatch(/^ibm is already a member of ai-alliance on 2024-01-01 \(joined 2023-12-05, event [0-9a-f-]{36}\)$/);
  });

  it('leave, then retraction rules', async () => {
    const leave = await a.as('curator').post('/alliances/ai-alliance/members/ibm/leave').send({ on: '2024-06', source: src }).expect(201);
    const join = await a.as('curator').get(`/events?streamId=membership-ai-alliance.ibm`).expect(200);
    const joinId = join.body.events[0].id;
    const refused = await a.as('curator').post(`/events/${joinId}/retract`).send({ reason: 'wrong' }).expect(409);
    expect(refused.body.detail).toContain(leave.body.event.id);
    await a.as('curator').post(`/events/${leave.body.event.id}/retract`).send({ reason: 'wrong' }).expect(201);
    await a.as('curator').post(`/events/${leave.body.event.id}/retract`).send({ reason: 'again' }).expect(409);
    await a.as('curator').post(`/events/${joinId}/retract`).send({ reason: 'now fine' }).expect(201);
  });

  it('validation, 404 and roles', async () => {
    const bad = await a.as('curator').post('/alliances/ai-alliance/members').send({ organisationId: 'IBM!', on: '2019-13', source: { url: 'ftp://x' }, extra: true }).expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['extra', 'on', 'organisationId', 'source.url']);
    await a.as('curator').post('/alliances/ai-alliance/members').send({ organisationId: 'nobody', on: '2020', source: src }).expect(404);
    await a.as('curator').post('/alliances/nothing/members').send({ organisationId: 'ibm', on: '2020', source: src }).expect(404);
    await a.as('reader').post('/alliances/ai-alliance/members').send({ organisationId: 'ibm', on: '2020', source: src }).expect(403);
    await a.http().post('/alliances/ai-alliance/members').send({ organisationId: 'ibm', on: '2020', source: src }).expect(401);
  });
});
