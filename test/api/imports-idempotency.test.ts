import { createTestApp, TestApp } from '../support/test-app';

const src = { url: 'https://example.org/press' };

describe('imports, idempotency and concurrency', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
  });
  afterAll(() => a.close());

  const eventCount = async () => Number((await a.t.pool.query('SELECT count(*) FROM events')).rows[0].count);

  it('imports many facts atomically, later facts seeing earlier ones', async () => {
    const res = await a
      .as('curator')
      .post('/imports')
      .send({
        facts: [
          { fact: 'alliance', id: 'fmf', name: 'Frontier Model Forum', foundedOn: '2023-07-26' },
          { fact: 'organisation', id: 'openai', name: 'OpenAI', country: 'US', kind: 'company' },
          { fact: 'organisation', id: 'fb', name: 'Facebook', country: 'US', kind: 'company' },
          { fact: 'join', allianceId: 'fmf', organisationId: 'openai', on: '2023-07-26', source: src },
          { fact: 'rename', organisationId: 'fb', name: 'Meta', on: '2021-10-28' },
          { fact: 'leave', allianceId: 'fmf', organisationId: 'openai', on: '2024', source: src },
        ],
      })
      .expect(201);
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual([
      'AllianceRegistered',
      'OrganisationRegistered',
      'OrganisationRegistered',
      'MemberJoined',
      'OrganisationRenamed',
      'MemberLeft',
    ]);
    // One transaction: every event has the same recorded time.
    expect(new Set(res.body.events.map((e: { recordedAt: string }) => e.recordedAt)).size).toBe(1);
    const retract = await a
      .as('curator')
      .post('/imports')
      .send({ facts: [{ fact: 'retraction', eventId: res.body.events[5].id, reason: 'misread' }] })
      .expect(201);
    expect(retract.body.events[0].data).toMatchObject({ eventId: res.body.events[5].id, retractedType: 'MemberLeft' });
  });

  it('one malformed fact: 400 naming its index and field, nothing recorded', async () => {
    const before = await eventCount();
    const res = await a
      .as('curator')
      .post('/imports')
      .send({
        facts: [
          { fact: 'organisation', id: 'good-org', name: 'Good' },
          { fact: 'join', allianceId: 'fmf', organisationId: 'good-org', on: '2019-02-30', source: src },
          { fact: 'nonsense' },
          { fact: 'organisation', id: 'x', name: 'X', colour: 'red' },
        ],
      })
      .expect(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 1, field: 'on' }),
        expect.objectContaining({ index: 2, field: 'fact' }),
        expect.objectContaining({ index: 3, field: 'colour' }),
      ]),
    );
    expect(res.body.errors.some((e: { index: number }) => e.index === 0)).toBe(false);
    expect(await eventCount()).toBe(before);
  });

  it('one refused fact: 409 naming its index and reason, nothing recorded', async () => {
    const before = await eventCount();
    const res = await a
      .as('curator')
      .post('/imports')
      .send({
        facts: [
          { fact: 'organisation', id: 'anthropic', name: 'Anthropic', country: 'US', kind: 'company' },
          { fact: 'join', allianceId: 'fmf', organisationId: 'anthropic', on: '2023-07-26', source: src },
          { fact: 'join', allianceId: 'fmf', organisationId: 'anthropic', on: '2023-08-01', source: src },
          { fact: 'join', allianceId: 'fmf', organisationId: 'nobody', on: '2023-08-01', source: src },
        ],
      })
      .expect(409);
    expect(res.body.errors).toEqual([
      { index: 2, message: expect.stringMatching(/anthropic is already a member of fmf on 2023-08-01 \(joined 2023-07-26/) },
      { index: 3, message: 'no organisation nobody' },
    ]);
    expect(await eventCount()).toBe(before);
    await a.as('reader').get('/organisations/anthropic').expect(404);
  });

  it('Idempotency-Key: a replay returns the first response and records nothing; another body is 409', async () => {
    await a.as('curator').post('/organisations').send({ id: 'google', name: 'Google' }).expect(201);
    const body = { organisationId: 'google', on: '2023-07-26', source: src };
    const first = await a.as('curator').post('/alliances/fmf/members').set('Idempotency-Key', 'join-google-1').send(body).expect(201);
    const before = await eventCount();
    const again = await a.as('curator').post('/alliances/fmf/members').set('Idempotency-Key', 'join-google-1').send(body).expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await eventCount()).toBe(before);
    const other = await a
      .as('curator')
      .post('/alliances/fmf/members')
      .set('Idempotency-Key', 'join-google-1')
      .send({ ...body, on: '2023-07-27' })
      .expect(409);
    expect(other.body.detail).toMatch(/Idempotency-Key "join-google-1" was already used/);
    // Without the key the same join is refused as a conflict with the recorded one.
    await a.as('curator').post('/alliances/fmf/members').send(body).expect(409);
    // Imports replay too.
    const facts = { facts: [{ fact: 'organisation', id: 'microsoft', name: 'Microsoft' }] };
    const imp = await a.as('curator').post('/imports').set('Idempotency-Key', 'imp-1').send(facts).expect(201);
    const impAgain = await a.as('curator').post('/imports').set('Idempotency-Key', 'imp-1').send(facts).expect(201);
    expect(impAgain.body).toEqual(imp.body);
    await a.as('curator').post('/imports').set('Idempotency-Key', '').send(facts).expect(400);
  });

  it('concurrent replays of one Idempotency-Key record the fact once', async () => {
    await a.as('curator').post('/organisations').send({ id: 'amd', name: 'AMD' }).expect(201);
    const body = { organisationId: 'amd', on: '2023-12-05', source: src };
    const before = await eventCount();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => a.as('curator').post('/alliances/fmf/members').set('Idempotency-Key', 'amd-join').send(body)),
    );
    expect(results.map((r) => r.status).every((s) => s === 201)).toBe(true);
    expect(new Set(results.map((r) => r.body.event.id)).size).toBe(1);
    expect(await eventCount()).toBe(before + 1);
  });

  it('20 concurrent joins of the same organisation on the same date: exactly one is recorded', async () => {
    await a.as('curator').post('/organisations').send({ id: 'intel', name: 'Intel' }).expect(201);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        a.as('curator').post('/alliances/fmf/members').send({ organisationId: 'intel', on: '2023-12-05', source: src }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    const stream = await a.as('reader').get('/events?streamId=membership-fmf.intel').expect(200);
    expect(stream.body.events).toHaveLength(1);
  });
});
