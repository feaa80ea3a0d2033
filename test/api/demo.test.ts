import { demoFacts, TUM_FUNDING_ID } from '../../scripts/demo-data';
import { createTestApp, TestApp } from '../support/test-app';

describe('demo data set (npm run seed:demo)', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
  });
  afterAll(() => a.close());

  it('records through the same import as the API, every membership and funding fact with a source', async () => {
    const facts = demoFacts();
    const res = await a.as('curator').post('/imports').set('Idempotency-Key', 'demo').send({ facts }).expect(201);
    expect(res.body.events).toHaveLength(facts.length);
    for (const e of res.body.events) {
      if (['MemberJoined', 'FundingCommitted'].includes(e.type)) {
        expect(e.data.source.url).toMatch(/^https:\/\//);
      }
    }
    // Replaying the seed records nothing new.
    const again = await a.as('curator').post('/imports').set('Idempotency-Key', 'demo').send({ facts }).expect(201);
    expect(again.body.events.map((e: { id: string }) => e.id)).toEqual(res.body.events.map((e: { id: string }) => e.id));
  });

  it('answers the questions the product is for', async () => {
    const launch = await a.as('reader').get('/alliances/ai-alliance/members?at=2023-12-05&limit=10000').expect(200);
    expect(launch.body.count).toBeGreaterThanOrEqual(30);
    const german = launch.body.members.filter((m: { country: string }) => m.country === 'DE');
    expect(german.map((m: { organisationId: string }) => m.organisationId)).toEqual(['tum']);
    expect((await a.as('reader').get('/alliances/ai-alliance/members?at=2023-12-04').expect(200)).body.count).toBe(0);
    const fmf = await a.as('reader').get('/alliances/frontier-model-forum/members?at=2024').expect(200);
    expect(fmf.body.members.map((m: { organisationId: string }) => m.organisationId).sort()).toEqual(['anthropic', 'google', 'microsoft', 'openai']);
    expect((await a.as('reader').get('/organisations/meta?at=2019').expect(200)).body).toMatchObject({ name: 'Facebook', currentName: 'Meta' });
    const funding = await a.as('reader').get('/fundings?funderId=meta&at=2020').expect(200);
    expect(funding.body.fundings).toEqual([
      expect.objectContaining({ fundingId: TUM_FUNDING_ID, recipientId: 'tum-ieai', currency: 'EUR', status: 'active' }),
    ]);
    expect(Number(funding.body.fundings[0].committed)).toBe(6_500_000);
    expect(Number(funding.body.fundings[0].paid)).toBe(1_300_000);
  });
});
