import fc from 'fast-check';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * The membership rules as a property: random joins, leaves and retractions with random partial
 * dates go through the API. Accepted commands always leave every pair alternating (join first);
 * refused ones change nothing; and an independent model agrees on which are accepted.
 */
const src = { url: 'https://example.org/source' };
const ORGS = ['org-a', 'org-b'];
const DATES = ['2020', '2020-03', '2020-03-15', '2020-06', '2021', '2021-01-01', '2021-07', '2022', '2022-02-28', '2023-12'];

type Cmd =
  | { kind: 'join' | 'leave'; org: number; date: number }
  | { kind: 'retract'; pick: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ kind: fc.constantFrom('join' as const, 'leave' as const), org: fc.nat(ORGS.length - 1), date: fc.nat(DATES.length - 1) }),
  fc.record({ kind: fc.constant('retract' as const), pick: fc.nat(50) }),
);

interface ModelFact {
  id: string;
  org: string;
  kind: 'join' | 'leave';
  date: string;
  seq: number;
  retracted: boolean;
}

const firstDay = (on: string) => (on.length === 4 ? `${on}-01-01` : on.length === 7 ? `${on}-01` : on);
const ordered = (facts: ModelFact[], org: string) =>
  facts
    .filter((f) => f.org === org && !f.retracted)
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.seq - b.seq));
const alternates = (list: ModelFact[]) => list.every((f, i) => f.kind === (i % 2 === 0 ? 'join' : 'leave'));

describe('membership rules (property)', () => {
  let a: TestApp;
  let run = 0;
  beforeAll(async () => {
    a = await createTestApp();
    for (const id of ORGS) {
      await a.as('curator').post('/organisations').send({ id, name: id.toUpperCase() }).expect(201);
    }
  });
  afterAll(() => a.close());

  const eventCount = async () => Number((await a.t.pool.query('SELECT count(*) FROM events')).rows[0].count);

  it('accepted sequences always alternate; refused commands record nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 18 }), async (cmds) => {
        const alliance = `prop-${run++}`;
        await a.as('curator').post('/alliances').send({ id: alliance, name: alliance }).expect(201);
        const facts: ModelFact[] = [];
        let seq = 0;
        for (const c of cmds) {
          const before = await eventCount();
          let res;
          let modelAccepts: boolean;
          if (c.kind === 'retract') {
            const live = facts.filter((f) => !f.retracted);
            if (live.length === 0) {
              continue;
            }
            const target = live[c.pick % live.length];
            target.retracted = true;
            modelAccepts = alternates(ordered(facts, target.org));
            target.retracted = modelAccepts;
            res = await a.as('curator').post(`/events/${target.id}/retract`).send({ reason: 'property test' });
          } else {
            const org = ORGS[c.org];
            const on = DATES[c.date];
            const candidate: ModelFact = { id: '?', org, kind: c.kind, date: firstDay(on), seq: seq + 1, retracted: false };
            modelAccepts = alternates(ordered([...facts, candidate], org));
            res =
              c.kind === 'join'
                ? await a.as('curator').post(`/alliances/${alliance}/members`).send({ organisationId: org, on, source: src })
                : await a.as('curator').post(`/alliances/${alliance}/members/${org}/leave`).send({ on, source: src });
            if (res.status === 201) {
              seq += 1;
              facts.push({ ...candidate, id: res.body.event.id });
            }
          }
          expect({ status: res.status, cmd: c }).toEqual({ status: modelAccepts ? 201 : 409, cmd: c });
          const after = await eventCount();
          expect(after - before).toBe(res.status === 201 ? 1 : 0);
          if (res.status === 409) {
            expect(res.body.detail).toMatch(/event [0-9a-f-]{36}|no join on or before/);
          }
        }
        // The log itself, folded independently of the model, alternates for every pair.
        for (const org of ORGS) {
          const log = await a.as('reader').get(`/events?streamId=membership-${alliance}.${org}&limit=1000`).expect(200);
          const retracted = new Set(
            log.body.events.filter((e: { type: string }) => e.type === 'EventRetracted').map((e: { data: { eventId: string } }) => e.data.eventId),
          );
          const live = log.body.events
            .filter((e: { type: string; id: string }) => e.type !== 'EventRetracted' && !retracted.has(e.id))
            .map((e: { type: string; version: number; data: { on: string } }) => ({
              kind: e.type === 'MemberJoined' ? 'join' : 'leave',
              date: firstDay(e.data.on),
              seq: e.version,
            }))
            .sort((x: ModelFact, y: ModelFact) => (x.date < y.date ? -1 : x.date > y.date ? 1 : x.seq - y.seq));
          expect(alternates(live)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
