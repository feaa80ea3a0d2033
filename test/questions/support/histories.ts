import type { Api, Reply } from './http';
import { firstDay, Model, ModelEvent, Org, Rng } from './model';

const SOURCE = { url: 'https://example.org/source' };
const COUNTRIES = ['US', 'DE', 'FR', null] as const;
const KINDS = ['company', 'university', 'nonprofit', null] as const;
const ROLES = ['founding member', 'general member', null] as const;

export interface History {
  prefix: string;
  model: Model;
  alliances: string[];
  organisations: string[];
  /** Dates the facts use, to ask about them and the days around them. */
  dates: string[];
}

export interface HistoryShape {
  alliances: number;
  organisations: number;
  operations: number;
}

function randomOn(rng: Rng, dates: string[]): string {
  if (dates.length && rng.chance(0.35)) {
    // The same period as an earlier fact, at a random precision: same-day and partial-date overlaps.
    const base = firstDay(rng.pick(dates));
    return rng.pick([base.slice(0, 4), base.slice(0, 7), base]);
  }
  const year = 2016 + rng.int(8);
  const month = String(1 + rng.int(12)).padStart(2, '0');
  const day = String(1 + rng.int(28)).padStart(2, '0');
  return rng.pick([`${year}`, `${year}-${month}`, `${year}-${month}-${day}`, `${year}-${month}-${day}`]);
}

function expectStatus(what: string, res: Reply, expected: number) {
  if (res.status !== expected) {
    throw new Error(`${what}: expected ${expected}, got ${res.status} ${res.text.slice(0, 400)}`);
  }
}

const recorded = (res: Reply) => ({
  id: res.body.event.id as string,
  position: Number(res.body.event.position),
  recordedAt: Date.parse(res.body.event.recordedAt),
});

/**
 * A random history through the curator API: alliances and organisations under `prefix`,
 * then joins and leaves with random (often partial, often backdated) dates, retractions and
 * renames. The model predicts whether each write is accepted; the API must agree.
 */
export async function generateHistory(api: Api, rng: Rng, prefix: string, shape: HistoryShape): Promise<History> {
  const model = new Model();
  const alliances: string[] = [];
  const organisations: string[] = [];
  const dates: string[] = [];
  for (let i = 0; i < shape.alliances; i++) {
    const id = `${prefix}-a${i}`;
    const name = `Alliance ${prefix} ${i}`;
    const res = await api.post('/alliances', { id, name });
    expectStatus(`register ${id}`, res, 201);
    model.add({ ...recorded(res), type: 'AllianceRegistered', allianceId: id, name });
    alliances.push(id);
  }
  for (let i = 0; i < shape.organisations; i++) {
    const org: Org = { id: `${prefix}-o${i}`, name: `Org ${prefix} ${i}`, country: rng.pick(COUNTRIES), kind: rng.pick(KINDS) };
    const res = await api.post('/organisations', {
      id: org.id,
      name: org.name,
      ...(org.country ? { country: org.country } : {}),
      ...(org.kind ? { kind: org.kind } : {}),
    });
    expectStatus(`register ${org.id}`, res, 201);
    model.add({ ...recorded(res), type: 'OrganisationRegistered', org });
    organisations.push(org.id);
  }

  let renames = 0;
  for (let step = 0; step < shape.operations; step++) {
    const roll = rng.next();
    const a = rng.pick(alliances);
    const o = rng.pick(organisations);
    if (roll < 0.4) {
      const on = randomOn(rng, dates);
      const role = rng.pick(ROLES);
      const ok = model.canRecord('MemberJoined', a, o, on);
      const res = await api.post(`/alliances/${a}/members`, { organisationId: o, on, source: SOURCE, ...(role ? { role } : {}) });
      expectStatus(`join ${o} ${a} ${on}`, res, ok ? 201 : 409);
      if (ok) {
        model.add({ ...recorded(res), type: 'MemberJoined', allianceId: a, organisationId: o, on, role });
        dates.push(on);
      }
    } else if (roll < 0.68) {
      const on = randomOn(rng, dates);
      const ok = model.canRecord('MemberLeft', a, o, on);
      const res = await api.post(`/alliances/${a}/members/${o}/leave`, { on, source: SOURCE });
      expectStatus(`leave ${o} ${a} ${on}`, res, ok ? 201 : 409);
      if (ok) {
        model.add({ ...recorded(res), type: 'MemberLeft', allianceId: a, organisationId: o, on, role: null });
        dates.push(on);
      }
    } else if (roll < 0.85) {
      const targets = model.events.filter(
        (e): e is Extract<ModelEvent, { organisationId: string }> =>
          e.type === 'MemberJoined' || e.type === 'MemberLeft' || e.type === 'OrganisationRenamed',
      );
      if (targets.length === 0) {
        continue;
      }
      const target = rng.pick(targets);
      const ok = model.canRetract(target);
      const res = await api.post(`/events/${target.id}/retract`, { reason: 'wrong' });
      expectStatus(`retract ${target.type} ${target.id}`, res, ok ? 201 : 409);
      if (ok) {
        model.add({
          ...recorded(res),
          type: 'EventRetracted',
          targetId: target.id,
          organisationId: target.organisationId,
          allianceId: 'allianceId' in target ? target.allianceId : null,
        });
      }
    } else {
      const on = randomOn(rng, dates);
      const name = rng.chance(0.2) ? model.orgs.get(o)!.name : `Renamed ${prefix} ${renames++}`;
      const ok = model.canRename(o, name, on);
      const res = await api.post(`/organisations/${o}/rename`, { name, on });
      expectStatus(`rename ${o} ${on} ${name}`, res, ok ? 201 : 409);
      if (ok) {
        model.add({ ...recorded(res), type: 'OrganisationRenamed', organisationId: o, name, on });
        dates.push(on);
      }
    }
  }
  return { prefix, model, alliances, organisations, dates };
}
