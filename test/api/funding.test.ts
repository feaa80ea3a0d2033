import { deterministicId } from '@app/shared';
import { createTestApp, TestApp } from '../support/test-app';

const src = { url: 'https://about.fb.com/news/2019/01/ethics-in-ai-tum/' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A moment just before a recorded time: the fact is not yet known then. */
const justBefore = (recordedAt: string) => new Date(Date.parse(recordedAt) - 1).toISOString();

describe('funding facts', () => {
  let a: TestApp;
  const commit = (body: Record<string, unknown>) => a.as('curator').post('/fundings').send(body);
  const fundings = (query: Record<string, string>) => a.as('reader').get('/fundings').query(query);

  beforeAll(async () => {
    a = await createTestApp();
    for (const [id, name, country, kind] of [
      ['meta', 'Facebook', 'US', 'company'],
      ['tum', 'Technical University of Munich', 'DE', 'university'],
      ['ibm', 'IBM', 'US', 'company'],
      ['google', 'Google', 'US', 'company'],
      ['yale', 'Yale University', 'US', 'university'],
    ]) {
      await a.as('curator').post('/organisations').send({ id, name, country, kind }).expect(201);
    }
    await a.as('curator').post('/organisations/meta/rename').send({ name: 'Meta', on: '2021-10-28' }).expect(201);
  });
  afterAll(() => a.close());

  describe("Meta's 2019 funding of TUM", () => {
    let fundingId: string;
    let committedAt: string;
    let trancheAt: string;
    let terminatedAt: string;
    let commitmentEventId: string;

    beforeAll(async () => {
      const res = await commit({
        funderId: 'meta',
        recipientId: 'tum',
        amount: '6500000',
        currency: 'EUR',
        on: '2019-01-20',
        purpose: 'Institute for Ethics in Artificial Intelligence',
        source: src,
      }).expect(201);
      fundingId = res.body.fundingId;
      committedAt = res.body.event.recordedAt;
      commitmentEventId = res.body.event.id;
      await sleep(5);
      const tranche = await a.as('curator').post(`/fundings/${fundingId}/tranches`).send({ amount: '1500000', currency: 'EUR', on: '2019-10', source: src }).expect(201);
      trancheAt = tranche.body.event.recordedAt;
      await sleep(5);
      const end = await a.as('curator').post(`/fundings/${fundingId}/terminate`).send({ on: '2020-12-31', reason: 'programme ended early', source: src }).expect(201);
      terminatedAt = end.body.event.recordedAt;
    });

    it('answers 201 {event, fundingId} for the commitment, {event} for the tranche and termination', async () => {
      expect(fundingId).toMatch(UUID);
      const log = await a.as('reader').get('/events').query({ streamId: `funding-${fundingId}` }).expect(200);
      expect(log.body.events.map((e: { type: string; version: number }) => [e.type, e.version])).toEqual([
        ['FundingCommitted', 1],
        ['FundingTranchePaid', 2],
        ['FundingTerminated', 3],
      ]);
      expect(log.body.events.map((e: { data: unknown }) => e.data)).toEqual([
        {
          fundingId,
          funderId: 'meta',
          recipientId: 'tum',
          amount: '6500000',
          currency: 'EUR',
          on: '2019-01-20',
          precision: 'day',
          purpose: 'Institute for Ethics in Artificial Intelligence',
          source: src,
        },
        { fundingId, funderId: 'meta', recipientId: 'tum', amount: '1500000', currency: 'EUR', on: '2019-10', precision: 'month', source: src },
        { fundingId, funderId: 'meta', recipientId: 'tum', on: '2020-12-31', precision: 'day', reason: 'programme ended early', source: src },
      ]);
    });

    it('before the commitment date: not listed', async () => {
      const res = await fundings({ funderId: 'meta', at: '2018-12-31' }).expect(200);
      expect(res.body).toMatchObject({ at: '2018-12-31', fundings: [], totals: [], nextCursor: null });
    });

    it('committed, nothing paid yet; the funder is still called Facebook', async () => {
      const res = await fundings({ funderId: 'meta', at: '2019-06' }).expect(200);
      expect(res.body.fundings).toEqual([
        expect.objectContaining({
          fundingId,
          funderId: 'meta',
          funderName: 'Facebook',
          recipientId: 'tum',
          recipientName: 'Technical University of Munich',
          currency: 'EUR',
          committed: '6500000',
          paid: '0',
          outstanding: '6500000',
          status: 'active',
          committedOn: '2019-01-20',
          committedOnPrecision: 'day',
          terminatedOn: null,
          tranches: [],
          commitmentEventId,
        }),
      ]);
      expect(res.body.totals).toEqual([{ currency: 'EUR', committed: '6500000', paid: '0', outstanding: '6500000' }]);
    });

    it('after the first tranche: paid counts it', async () => {
      const res = await fundings({ recipientId: 'tum', funderId: 'meta', at: '2020' }).expect(200);
      const [f] = res.body.fundings;
      expect(f).toMatchObject({ paid: '1500000', outstanding: '5000000', status: 'active' });
      expect(f.tranches).toEqual([{ amount: '1500000', currency: 'EUR', on: '2019-10', precision: 'month', eventId: expect.stringMatching(UUID) }]);
      expect(res.body.totals).toEqual([{ currency: 'EUR', committed: '6500000', paid: '1500000', outstanding: '5000000' }]);
    });

    it('from the termination date: terminated, nothing outstanding; the funder is Meta by 2022', async () => {
      const on = await fundings({ funderId: 'meta', at: '2020-12-31' }).expect(200);
      expect(on.body.fundings[0]).toMatchObject({ status: 'terminated', terminatedOn: '2020-12-31', terminatedOnPrecision: 'day', committed: '6500000', paid: '1500000', outstanding: '0' });
      const dayBefore = await fundings({ funderId: 'meta', at: '2020-12-30' }).expect(200);
      expect(dayBefore.body.fundings[0]).toMatchObject({ status: 'active', terminatedOn: null });
      const later = await fundings({ funderId: 'meta', at: '2022' }).expect(200);
      expect(later.body.fundings[0]).toMatchObject({ funderName: 'Meta', status: 'terminated' });
      expect(later.body.totals).toEqual([{ currency: 'EUR', committed: '6500000', paid: '1500000', outstanding: '0' }]);
    });

    it('as known before the termination was recorded: still active', async () => {
      const res = await fundings({ funderId: 'meta', at: '2022', knownAt: justBefore(terminatedAt) }).expect(200);
      expect(res.body.knownAt).toBe(justBefore(terminatedAt));
      expect(res.body.fundings[0]).toMatchObject({ status: 'active', terminatedOn: null, paid: '1500000' });
      // knownAt is inclusive: at its own recordedAt the termination is known.
      const at = await fundings({ funderId: 'meta', at: '2022', knownAt: terminatedAt }).expect(200);
      expect(at.body.fundings[0].status).toBe('terminated');
    });

    it('as known before the tranche was recorded: nothing paid; before the commitment: nothing at all', async () => {
      const res = await fundings({ funderId: 'meta', at: '2022', knownAt: justBefore(trancheAt) }).expect(200);
      expect(res.body.fundings[0]).toMatchObject({ paid: '0', tranches: [], status: 'active' });
      const none = await fundings({ funderId: 'meta', at: '2022', knownAt: justBefore(committedAt) }).expect(200);
      expect(none.body).toMatchObject({ fundings: [], totals: [] });
    });

    it('GET /fundings/:id answers the same shape for one funding', async () => {
      const list = await fundings({ funderId: 'meta', at: '2020' }).expect(200);
      const one = await a.as('reader').get(`/fundings/${fundingId}`).query({ at: '2020' }).expect(200);
      expect(one.body).toEqual({ at: '2020', knownAt: expect.any(String), ...list.body.fundings[0] });
      const early = await a.as('reader').get(`/fundings/${fundingId}`).query({ at: '2018' }).expect(404);
      expect(early.body.detail).toMatch(new RegExp(`^funding ${fundingId} is not committed on or before 2018`));
      await a.as('reader').get(`/fundings/${fundingId.toUpperCase()}`).expect(200);
    });

    it('filters by funder and recipient', async () => {
      expect((await fundings({ funderId: 'ibm', recipientId: 'tum' }).expect(200)).body.fundings).toEqual([]);
      expect((await fundings({ recipientId: 'meta' }).expect(200)).body.fundings).toEqual([]);
    });

    it('links the facts into both organisations\' histories', async () => {
      const rows = await a.t.db
        .selectFrom('organisation_events')
        .innerJoin('events', 'events.event_id', 'organisation_events.event_id')
        .select(['organisation_events.organisation_id', 'events.type'])
        .where('events.stream_id', '=', `funding-${fundingId}`)
        .execute();
      expect(rows.map((r) => `${r.organisation_id}:${r.type}`).sort()).toEqual([
        'meta:FundingCommitted',
        'meta:FundingTerminated',
        'meta:FundingTranchePaid',
        'tum:FundingCommitted',
        'tum:FundingTerminated',
        'tum:FundingTranchePaid',
      ]);
    });

    it('refuses a termination before the commitment and a second termination, naming the conflicting fact', async () => {
      const res = await a.as('curator').post(`/fundings/${fundingId}/terminate`).send({ on: '2022' }).expect(409);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(res.body.detail).toMatch(new RegExp(`^funding ${fundingId} is already terminated on 2020-12-31 \\(event ${UUID.source.slice(1, -1)}\\)`));
    });

    it('refuses a tranche dated after the termination, naming it; one on an earlier date is fine', async () => {
      const res = await a.as('curator').post(`/fundings/${fundingId}/tranches`).send({ amount: '1', currency: 'EUR', on: '2021' }).expect(409);
      expect(res.body.detail).toContain('was terminated on 2020-12-31 (event ');
      expect(res.body.detail).toContain('a tranche on 2021 would come after the termination');
    });

    it('refuses retracting the commitment while its tranche and termination stand, naming them', async () => {
      const res = await a.as('curator').post(`/events/${commitmentEventId}/retract`).send({ reason: 'wrong' }).expect(409);
      expect(res.body.detail).toContain('the tranche of 1500000 EUR on 2019-10 (event ');
      expect(res.body.detail).toContain('the termination on 2020-12-31 (event ');
    });
  });

  it('refuses a termination dated before the commitment, naming its date and event', async () => {
    const res = await commit({ funderId: 'ibm', recipientId: 'yale', amount: '100', currency: 'USD', on: '2020-05', source: src }).expect(201);
    const refused = await a.as('curator').post(`/fundings/${res.body.fundingId}/terminate`).send({ on: '2020-04-30' }).expect(409);
    expect(refused.body.detail).toBe(
      `funding ${res.body.fundingId} was committed on 2020-05 (event ${res.body.event.id}); a termination on 2020-04-30 would precede the commitment`,
    );
    // Tranche dates are not checked against the commitment's.
    await a.as('curator').post(`/fundings/${res.body.fundingId}/tranches`).send({ amount: '10', currency: 'USD', on: '2019' }).expect(201);
  });

  it('a tranche in USD on a EUR funding: listed, not in the funding\'s paid, totalled per currency', async () => {
    const res = await commit({ funderId: 'google', recipientId: 'tum', amount: '1000000.50', currency: 'EUR', on: '2022-03', source: src }).expect(201);
    const id = res.body.fundingId;
    await a.as('curator').post(`/fundings/${id}/tranches`).send({ amount: '0.1', currency: 'EUR', on: '2022-04' }).expect(201);
    await a.as('curator').post(`/fundings/${id}/tranches`).send({ amount: '0.2', currency: 'EUR', on: '2022-05' }).expect(201);
    await a.as('curator').post(`/fundings/${id}/tranches`).send({ amount: '250000', currency: 'USD', on: '2022-06' }).expect(201);
    const list = await fundings({ funderId: 'google', at: '2023' }).expect(200);
    const [f] = list.body.fundings;
    // Exact decimals: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    expect(f).toMatchObject({ currency: 'EUR', committed: '1000000.50', paid: '0.3', outstanding: '1000000.20' });
    expect(f.tranches.map((t: { amount: string; currency: string }) => `${t.amount} ${t.currency}`)).toEqual(['0.1 EUR', '0.2 EUR', '250000 USD']);
    expect(list.body.totals).toEqual([
      { currency: 'EUR', committed: '1000000.50', paid: '0.3', outstanding: '1000000.20' },
      { currency: 'USD', committed: '0', paid: '250000', outstanding: '0' },
    ]);
    const beforeUsd = await fundings({ funderId: 'google', at: '2022-05-31' }).expect(200);
    expect(beforeUsd.body.totals.map((t: { currency: string }) => t.currency)).toEqual(['EUR']);
  });

  it('retracting a tranche changes paid as known after the retraction, not before', async () => {
    const res = await commit({ funderId: 'ibm', recipientId: 'tum', amount: '300', currency: 'CHF', on: '2021', source: src }).expect(201);
    const id = res.body.fundingId;
    await a.as('curator').post(`/fundings/${id}/tranches`).send({ amount: '100', currency: 'CHF', on: '2021-02' }).expect(201);
    const wrong = await a.as('curator').post(`/fundings/${id}/tranches`).send({ amount: '50', currency: 'CHF', on: '2021-03' }).expect(201);
    await sleep(5);
    const retraction = await a.as('curator').post(`/events/${wrong.body.event.id}/retract`).send({ reason: 'double-counted' }).expect(201);
    const retractedAt = retraction.body.event.recordedAt;
    const before = await a.as('reader').get(`/fundings/${id}`).query({ knownAt: justBefore(retractedAt) }).expect(200);
    expect(before.body).toMatchObject({ paid: '150', outstanding: '150' });
    expect(before.body.tranches).toHaveLength(2);
    const after = await a.as('reader').get(`/fundings/${id}`).query({ knownAt: retractedAt }).expect(200);
    expect(after.body).toMatchObject({ paid: '100', outstanding: '200' });
    expect(after.body.tranches.map((t: { eventId: string }) => t.eventId)).not.toContain(wrong.body.event.id);
    const now = await fundings({ funderId: 'ibm', recipientId: 'tum' }).expect(200);
    expect(now.body.totals).toEqual([{ currency: 'CHF', committed: '300', paid: '100', outstanding: '200' }]);
    // The retraction is in both parties' histories too.
    const linked = await a.t.db.selectFrom('organisation_events').select('organisation_id').where('event_id', '=', retraction.body.event.id).execute();
    expect(linked.map((r) => r.organisation_id).sort()).toEqual(['ibm', 'tum']);
  });

  it('a commitment with nothing hanging on it can be retracted; the funding is then gone as known after', async () => {
    const res = await commit({ funderId: 'yale', recipientId: 'tum', amount: '5', currency: 'EUR', on: '2020', source: src }).expect(201);
    const id = res.body.fundingId;
    const retraction = await a.as('curator').post(`/events/${res.body.event.id}/retract`).send({ reason: 'no such grant' }).expect(201);
    await a.as('reader').get(`/fundings/${id}`).query({ knownAt: justBefore(retraction.body.event.recordedAt) }).expect(200);
    const gone = await a.as('reader').get(`/fundings/${id}`).expect(404);
    expect(gone.body.detail).toContain('is not committed');
    const tranche = await a.as('curator').post(`/fundings/${id}/tranches`).send({ amount: '1', currency: 'EUR', on: '2020' }).expect(409);
    expect(tranche.body.detail).toBe(
      `funding ${id} was withdrawn: its commitment (event ${res.body.event.id}) was retracted by event ${retraction.body.event.id}; record a new funding instead`,
    );
    expect((await fundings({ funderId: 'yale' }).expect(200)).body.fundings).toEqual([]);
  });

  it('takes a fundingId from the body, and refuses one that exists, naming it', async () => {
    const fundingId = '3f0e4c1a-7b2d-4e5f-9a8b-1c2d3e4f5a6b';
    const res = await commit({ fundingId, funderId: 'google', recipientId: 'yale', amount: '1', currency: 'USD', on: '2024', source: src }).expect(201);
    expect(res.body.fundingId).toBe(fundingId);
    expect(res.body.event.streamId).toBe(`funding-${fundingId}`);
    const again = await commit({ fundingId, funderId: 'ibm', recipientId: 'yale', amount: '2', currency: 'USD', on: '2024', source: src }).expect(409);
    expect(again.body.detail).toBe(`funding ${fundingId} already exists (google committed 1 USD to yale on 2024, event ${res.body.event.id})`);
  });

  it('an Idempotency-Key replay returns the first response and records no second funding, even when racing', async () => {
    const body = { funderId: 'google', recipientId: 'ibm', amount: '42', currency: 'USD', on: '2023', source: src };
    const send = () => a.as('curator').post('/fundings').set('Idempotency-Key', 'fund-google-ibm-1').send(body);
    const [x, y] = await Promise.all([send(), send()]);
    const ok = [x, y].filter((r) => r.status === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect([x, y].every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const replay = await send().expect(201);
    expect(replay.body).toEqual(ok[0].body);
    const curator = await a.t.db.selectFrom('api_keys').select('id').where('name', '=', 'test curator').executeTakeFirstOrThrow();
    expect(replay.body.fundingId).toBe(deterministicId(`funding\n${curator.id}\nfund-google-ibm-1\n0`));
    const list = await fundings({ funderId: 'google', recipientId: 'ibm' }).expect(200);
    expect(list.body.fundings.map((f: { fundingId: string }) => f.fundingId)).toEqual([replay.body.fundingId]);
    await a.as('curator').post('/fundings').set('Idempotency-Key', 'fund-google-ibm-1').send({ ...body, amount: '43' }).expect(409);
  });

  it('pages with limit and cursor; totals cover every matching funding', async () => {
    const first = await fundings({ recipientId: 'tum', limit: '1', at: '2030' }).expect(200);
    expect(first.body.fundings).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await fundings({ recipientId: 'tum', limit: '100', at: '2030', cursor: first.body.nextCursor }).expect(200);
    const all = await fundings({ recipientId: 'tum', at: '2030' }).expect(200);
    expect([...first.body.fundings, ...rest.body.fundings]).toEqual(all.body.fundings);
    expect(first.body.totals).toEqual(all.body.totals);
    expect(rest.body.nextCursor).toBeNull();
  });

  describe('validation', () => {
    const valid = { funderId: 'meta', recipientId: 'tum', amount: '6500000', currency: 'EUR', on: '2019', source: src };
    const fields = (res: { body: { errors: Array<{ field: string }> } }) => [...new Set(res.body.errors.map((e) => e.field))].sort();

    it.each([
      ['an exponent amount', { amount: '6.5e6' }, 'amount'],
      ['a number amount', { amount: 6500000 }, 'amount'],
      ['a negative amount', { amount: '-1' }, 'amount'],
      ['a currency that is not ISO 4217', { currency: 'EURO' }, 'currency'],
      ['a lower-case currency', { currency: 'eur' }, 'currency'],
      ['a source without url', { source: { title: 'press release' } }, 'source.url'],
      ['no source', { source: undefined }, 'source'],
      ['an unknown field', { amountEur: '1' }, 'amountEur'],
      ['an impossible date', { on: '2019-02-30' }, 'on'],
      ['a number date', { on: 2019 }, 'on'],
      ['a funder that is not a slug', { funderId: 'Meta Platforms' }, 'funderId'],
      ['a fundingId that is not a UUID', { fundingId: 'abc' }, 'fundingId'],
      ['the funder as its own recipient', { recipientId: 'meta' }, 'recipientId'],
    ])('POST /fundings refuses %s with 400 naming the field', async (_what, change, field) => {
      const res = await commit({ ...valid, ...change }).expect(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(fields(res)).toEqual([field]);
    });

    it('names every bad field at once', async () => {
      const res = await commit({ ...valid, amount: '6.5e6', currency: 'EURO', source: {}, extra: 1 }).expect(400);
      expect(fields(res)).toEqual(['amount', 'currency', 'extra', 'source.url']);
    });

    it('tranche and termination bodies are strict too', async () => {
      const id = (await commit({ ...valid, funderId: 'ibm', recipientId: 'google' }).expect(201)).body.fundingId;
      const tranche = await a.as('curator').post(`/fundings/${id}/tranches`).send({ amount: 1500000, currency: 'EURO', on: '2019-13', source: { url: 'ftp://x' }, note: 'x' }).expect(400);
      expect(fields(tranche)).toEqual(['amount', 'currency', 'note', 'on', 'source.url']);
      const end = await a.as('curator').post(`/fundings/${id}/terminate`).send({ reason: 'x' }).expect(400);
      expect(fields(end)).toEqual(['on']);
      await a.as('curator').post('/fundings/not-a-uuid/tranches').send({ amount: '1', currency: 'EUR', on: '2019' }).expect(400);
    });

    it('query parameters are strict', async () => {
      const queries: Array<Record<string, string>> = [{ at: '2019-13' }, { knownAt: 'yesterday' }, { funderId: 'Not A Slug' }, { cursor: 'x' }, { limit: '0' }, { currency: 'EUR' }];
      for (const query of queries) {
        const res = await fundings(query).expect(400);
        expect(res.body.errors[0].field).toBe(Object.keys(query)[0]);
      }
    });
  });

  describe('404', () => {
    it('names the unknown funder or recipient', async () => {
      const funder = await commit({ funderId: 'openai', recipientId: 'tum', amount: '1', currency: 'USD', on: '2019', source: src }).expect(404);
      expect(funder.body.detail).toBe('no organisation openai (the funder)');
      const recipient = await commit({ funderId: 'meta', recipientId: 'mit', amount: '1', currency: 'USD', on: '2019', source: src }).expect(404);
      expect(recipient.body.detail).toBe('no organisation mit (the recipient)');
    });

    it('an unknown funding', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      const tranche = await a.as('curator').post(`/fundings/${id}/tranches`).send({ amount: '1', currency: 'EUR', on: '2019' }).expect(404);
      expect(tranche.body.detail).toBe(`no funding ${id}`);
      await a.as('curator').post(`/fundings/${id}/terminate`).send({ on: '2019' }).expect(404);
      const get = await a.as('reader').get(`/fundings/${id}`).expect(404);
      expect(get.body.detail).toBe(`no funding ${id}`);
    });
  });

  describe('roles', () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const writes: Array<[string, Record<string, unknown>]> = [
      ['/fundings', { funderId: 'meta', recipientId: 'tum', amount: '1', currency: 'EUR', on: '2019', source: src }],
      [`/fundings/${id}/tranches`, { amount: '1', currency: 'EUR', on: '2019' }],
      [`/fundings/${id}/terminate`, { on: '2019' }],
    ];

    it.each(writes)('POST %s: 401 without a key, 403 for a reader', async (url, body) => {
      await a.http().post(url).send(body).expect(401);
      const res = await a.as('reader').post(url).send(body).expect(403);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    });

    it('reads: 401 without a key; reader, curator and admin may read', async () => {
      await a.http().get('/fundings').expect(401);
      await a.http().get(`/fundings/${id}`).expect(401);
      for (const role of ['reader', 'curator', 'admin'] as const) {
        await a.as(role).get('/fundings').expect(200);
      }
    });

    it('admins may record', async () => {
      await a.as('admin').post('/fundings').send({ funderId: 'yale', recipientId: 'ibm', amount: '1', currency: 'EUR', on: '2019', source: src }).expect(201);
    });
  });

  it('documents every endpoint with its errors in the OpenAPI document', async () => {
    const doc = await a.http().get('/docs-json').expect(200);
    const paths = doc.body.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    const codes = (path: string, method: string) => Object.keys(paths[path][method].responses).sort();
    expect(codes('/fundings', 'post')).toEqual(['201', '400', '401', '403', '404', '409']);
    expect(codes('/fundings/{id}/tranches', 'post')).toEqual(['201', '400', '401', '403', '404', '409']);
    expect(codes('/fundings/{id}/terminate', 'post')).toEqual(['201', '400', '401', '403', '404', '409']);
    expect(codes('/fundings', 'get')).toEqual(['200', '400', '401', '403']);
    expect(codes('/fundings/{id}', 'get')).toEqual(['200', '400', '401', '403', '404']);
  });
});
