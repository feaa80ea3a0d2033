import { createTestApp, TestApp } from '../support/test-app';

const src = { url: 'https://example.org/press' };

interface Answer {
  knownAt: string;
  body: unknown;
  etag: string;
}

/**
 * A pinned knownAt is a promise: once it has passed, the answer for it never changes. A long
 * import (one transaction) races small writes; every answer given while it ran is asked again
 * after everything committed, pinned at the knownAt it reported, and must be the same bytes.
 */
describe('knownAt stability', () => {
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
    await a.as('curator').post('/alliances').send({ id: 'ai-alliance', name: 'AI Alliance' }).expect(201);
    await a.as('curator').post('/organisations').send({ id: 'ibm', name: 'IBM' }).expect(201);
    await a.as('curator').post('/alliances/ai-alliance/members').send({ organisationId: 'ibm', on: '2023-12-05', source: src }).expect(201);
  });
  afterAll(() => a.close());

  const ask = async (query: string): Promise<Answer> => {
    const res = await a.as('reader').get(`/alliances/ai-alliance/members?at=2024-06-01&limit=10000${query}`).expect(200);
    return { knownAt: res.body.knownAt, body: res.body, etag: res.headers.etag };
  };

  // The import holds an xid while it records, which holds back every subscription on the server
  // (other test files' webhooks too): long enough to race, short enough not to stall them for long.
  it('answers pinned during a long import are the same after it', async () => {
    const facts = Array.from({ length: 200 }, (_, i) => [
      { fact: 'organisation', id: `bulk-${i}`, name: `Bulk ${i}` },
      { fact: 'join', allianceId: 'ai-alliance', organisationId: `bulk-${i}`, on: '2024-01-01', source: src },
    ]).flat();
    let importDone = false;
    const importing = a
      .as('curator')
      .post('/imports')
      .send({ facts })
      .then((res) => {
        importDone = true;
        return res;
      });

    // Small writes race the import (they queue behind its append lock); questions are asked throughout.
    let n = 0;
    const writing = (async () => {
      while (!importDone) {
        await a.as('curator').post('/organisations').send({ id: `small-${n}`, name: `Small ${n}` }).expect(201);
        await a
          .as('curator')
          .post('/alliances/ai-alliance/members')
          .send({ organisationId: `small-${n}`, on: '2024-02-01', source: src })
          .expect(201);
        n++;
      }
    })();
    const during: Answer[] = [];
    const pinnedAtAsk: Array<{ requested: string; answer: Answer }> = [];
    while (!importDone) {
      during.push(await ask(''));
      const requested = new Date().toISOString();
      pinnedAtAsk.push({ requested, answer: await ask(`&knownAt=${requested}`) });
    }
    expect((await importing).status).toBe(201);
    await writing;
    expect(n).toBeGreaterThan(0);
    expect(during.length).toBeGreaterThan(2);

    for (const before of during) {
      const after = await ask(`&knownAt=${before.knownAt}`);
      expect(after.body).toEqual(before.body);
      expect(after.etag).toBe(before.etag);
    }
    for (const { requested, answer } of pinnedAtAsk) {
      // The answer may say it knew less than asked (a writer was still in flight); what it says stays true.
      expect(Date.parse(answer.knownAt)).toBeLessThanOrEqual(Date.parse(requested));
      const again = await ask(`&knownAt=${answer.knownAt}`);
      expect(again.body).toEqual(answer.body);
      expect(again.etag).toBe(answer.etag);
    }
  });

  it('recorded times ascend with positions, and no belief ends before it began', async () => {
    const { rows } = await a.t.pool.query<{ backwards: string; inverted: string }>(`
      SELECT (SELECT count(*) FROM (
                SELECT recorded_at < lag(recorded_at) OVER (ORDER BY global_position) AS back FROM events) x
              WHERE back) AS backwards,
             (SELECT count(*) FROM membership_intervals WHERE recorded_to < recorded_from) AS inverted`);
    expect(rows[0]).toEqual({ backwards: '0', inverted: '0' });
  });

  it('the recorded time is the same whatever the session\'s DateStyle and TimeZone', async () => {
    const client = await a.t.pool.connect();
    try {
      await client.query("SET DateStyle = 'Postgres, DMY'; SET TimeZone = 'Asia/Kolkata'");
      const { rows } = await client.query<{ drift: number }>(`
        WITH s AS (INSERT INTO streams (stream_id, version) VALUES ('datestyle-probe', 1) RETURNING version)
        INSERT INTO events (stream_id, stream_version, event_id, type, data)
        SELECT 'datestyle-probe', 1, gen_random_uuid(), 'Probe', '{}' FROM s
        RETURNING abs(extract(epoch FROM recorded_at - clock_timestamp()))::float AS drift`);
      expect(rows[0].drift).toBeLessThan(5);
    } finally {
      await client.query('RESET DateStyle; RESET TimeZone');
      client.release();
    }
  });

  it('a curator sees its own write at once in a question for now', async () => {
    for (let i = 0; i < 20; i++) {
      await a.as('curator').post('/organisations').send({ id: `ryw-${i}`, name: `RYW ${i}` }).expect(201);
      await a.as('curator').post('/alliances/ai-alliance/members').send({ organisationId: `ryw-${i}`, on: '2024-03-01', source: src }).expect(201);
      const res = await a.as('reader').get(`/organisations/ryw-${i}/memberships?at=2024-06-01`).expect(200);
      expect(res.body.memberships.map((m: { allianceId: string }) => m.allianceId)).toEqual(['ai-alliance']);
    }
  });
});
