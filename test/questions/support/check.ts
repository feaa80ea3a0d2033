import { isDeepStrictEqual } from 'node:util';
import type { Api, Reply } from './http';
import type { History } from './histories';
import { firstDay, Interval, precisionOf, Rng } from './model';

export class Mismatch extends Error {
  constructor(
    readonly url: string,
    readonly expected: unknown,
    readonly actual: unknown,
  ) {
    super(`${url}\nexpected: ${JSON.stringify(expected)}\nactual:   ${JSON.stringify(actual)}`);
    this.name = 'Mismatch';
  }
}

const today = () => new Date().toISOString().slice(0, 10);
const shift = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The knownAt moments worth asking: before anything, exactly at and just before recordings, and now. */
function knownAts(h: History, rng: Rng, n: number): Array<number | null> {
  const times = h.model.events.map((e) => e.recordedAt);
  const picks: Array<number | null> = [times[0] - 1, null];
  while (picks.length < n) {
    const t = rng.pick(times);
    picks.push(rng.chance(0.6) ? t : t - 1);
  }
  return picks;
}

/** Dates worth asking about: the facts' dates (as given, partial), the days either side, and random ones. */
function ats(h: History, rng: Rng): string | null {
  const roll = rng.next();
  if (roll < 0.1) {
    return null;
  }
  if (h.dates.length && roll < 0.75) {
    const on = rng.pick(h.dates);
    return rng.pick([on, firstDay(on), shift(firstDay(on), -1), shift(firstDay(on), 1)]);
  }
  return `${2015 + rng.int(11)}${rng.chance(0.5) ? `-${String(1 + rng.int(12)).padStart(2, '0')}` : ''}`;
}

const query = (params: Record<string, string | null | undefined>) => {
  const entries = Object.entries(params).filter((e): e is [string, string] => e[1] !== null && e[1] !== undefined);
  return entries.length ? `?${entries.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '';
};

/**
 * Asks every question about the history at several (at, knownAt) pairs and compares each
 * answer with the model. Returns how many answers were compared.
 */
export async function checkHistory(api: Api, h: History, rng: Rng, moments = 4): Promise<number> {
  const m = h.model;
  let compared = 0;
  const expectEqual = (url: string, expected: unknown, actual: unknown) => {
    compared++;
    if (!isDeepStrictEqual(expected, actual)) {
      throw new Mismatch(url, expected, actual);
    }
  };
  const get = async (url: string) => {
    const res = await api.get(url);
    if (res.status !== 200) {
      throw new Mismatch(url, 200, `${res.status} ${res.text.slice(0, 300)}`);
    }
    return res;
  };

  for (const k of knownAts(h, rng, moments)) {
    const at = ats(h, rng);
    const date = at === null ? today() : firstDay(at);
    const K = k ?? Infinity;
    const knownAt = k === null ? null : new Date(k).toISOString();
    const name = (o: string, d = date) => m.nameAt(K, o, d);
    const echo = { at: at ?? today(), atPrecision: precisionOf(at ?? today()), ...(knownAt ? { knownAt } : {}) };
    const pickEcho = (body: Record<string, unknown>) => ({
      at: body.at,
      atPrecision: body.atPrecision,
      ...(knownAt ? { knownAt: body.knownAt } : {}),
    });
    const memberView = (i: Interval) => {
      const org = m.orgs.get(i.organisationId)!;
      return {
        organisationId: i.organisationId,
        name: name(i.organisationId),
        currentName: name(i.organisationId, today()),
        country: org.country,
        kind: org.kind,
        role: i.from.role,
        since: i.from.on,
        sincePrecision: precisionOf(i.from.on),
      };
    };

    for (const a of h.alliances) {
      const base = { at, knownAt };
      // Members, with a filter now and then, one page or several.
      const filter = rng.chance(0.3) ? { country: rng.pick(['US', 'DE', 'FR']) } : rng.chance(0.2) ? { kind: rng.pick(['company', 'university']) } : {};
      const expected = m
        .membersOn(K, date, (i) => i.allianceId === a)
        .map(memberView)
        .filter((v) => !('country' in filter) || v.country === filter.country)
        .filter((v) => !('kind' in filter) || v.kind === filter.kind)
        .sort((x, y) => (x.organisationId < y.organisationId ? -1 : 1));
      const limit = rng.chance(0.5) ? 1 + rng.int(3) : null;
      const got: unknown[] = [];
      let cursor: string | null = null;
      for (let page = 0; ; page++) {
        const url = `/alliances/${a}/members${query({ ...base, ...filter, limit: limit === null ? null : String(limit), cursor })}`;
        const res = await get(url);
        expectEqual(url, { ...echo, count: expected.length }, { ...pickEcho(res.body), count: res.body.count });
        got.push(...res.body.members);
        cursor = res.body.nextCursor;
        const more = limit !== null && expected.length > (page + 1) * limit;
        expectEqual(`${url} (nextCursor)`, more, cursor !== null);
        if (!cursor) {
          break;
        }
      }
      expectEqual(`/alliances/${a}/members${query({ ...base, ...filter })} (all pages)`, expected, got);

      if (rng.chance(0.15)) {
        const url = `/alliances/${a}/members.csv${query({ ...base, ...filter })}`;
        const res = await get(url);
        const csvField = (v: string | null) => (v === null ? '' : /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
        const lines = expected.map((v) => [v.organisationId, v.name, v.country, v.kind, v.role, v.since].map(csvField).join(','));
        expectEqual(url, ['organisationId,name,country,kind,role,since', ...lines].map((l) => `${l}\r\n`).join(''), res.text);
      }

      {
        const url = `/alliances/${a}/stats${query(base)}`;
        const res = await get(url);
        const members = m.membersOn(K, date, (i) => i.allianceId === a).map(memberView);
        const tally = (key: 'country' | 'kind') => {
          const counts: Record<string, number> = {};
          for (const v of members) {
            counts[v[key] ?? 'unknown'] = (counts[v[key] ?? 'unknown'] ?? 0) + 1;
          }
          return Object.fromEntries(Object.entries(counts).sort(([x], [y]) => (x < y ? -1 : 1)));
        };
        expectEqual(
          url,
          { ...echo, count: members.length, byCountry: tally('country'), byKind: tally('kind') },
          { ...pickEcho(res.body), count: res.body.count, byCountry: res.body.byCountry, byKind: res.body.byKind },
        );
      }

      {
        let fromOn = ats(h, rng) ?? '2016';
        let toOn = at ?? today();
        if (firstDay(fromOn) > firstDay(toOn)) {
          [fromOn, toOn] = [toOn, fromOn];
        }
        const [from, to] = [firstDay(fromOn), firstDay(toOn)];
        const url = `/alliances/${a}/changes${query({ from: fromOn, to: toOn, knownAt })}`;
        // The events come in pages when a limit is given; the sets are whole on every page.
        const limit = rng.chance(0.4) ? 1 + rng.int(3) : null;
        const events: unknown[] = [];
        let res: Reply | null = null;
        let cursor: string | null = null;
        for (;;) {
          const pageUrl = `/alliances/${a}/changes${query({ from: fromOn, to: toOn, knownAt, limit: limit === null ? null : String(limit), cursor })}`;
          res = await get(pageUrl);
          events.push(...res.body.events.map((e: { id: string; retracted: boolean }) => ({ id: e.id, retracted: e.retracted })));
          cursor = res.body.nextCursor;
          if (!cursor) {
            break;
          }
        }
        const before = m.membersOn(K, from, (i) => i.allianceId === a);
        const after = m.membersOn(K, to, (i) => i.allianceId === a);
        const has = (set: Interval[], o: string) => set.some((i) => i.organisationId === o);
        const byId = (x: { organisationId: string }, y: { organisationId: string }) => (x.organisationId < y.organisationId ? -1 : 1);
        const change = (o: string, on: string) => ({ organisationId: o, name: name(o, to), currentName: name(o, today()), on, precision: precisionOf(on) });
        expectEqual(
          url,
          {
            joined: after.filter((i) => !has(before, i.organisationId)).map((i) => change(i.organisationId, i.from.on)).sort(byId),
            left: before.filter((i) => !has(after, i.organisationId)).map((i) => change(i.organisationId, i.to!.on)).sort(byId),
            events: m.membershipEventsBetween(K, a, from, to),
          },
          { joined: res!.body.joined, left: res!.body.left, events },
        );
      }

      {
        const url = `/alliances/${a}/timeline${query(base)}`;
        const res = await get(url);
        expectEqual(url, m.timeline(K, a, date), res.body.points);
      }
    }

    for (const o of h.organisations) {
      const base = { at, knownAt };
      {
        const url = `/organisations/${o}/memberships${query(base)}`;
        const res = await get(url);
        const expected = m
          .membersOn(K, date, (i) => i.organisationId === o)
          .sort((x, y) => (x.allianceId < y.allianceId ? -1 : 1))
          .map((i) => ({ allianceId: i.allianceId, name: m.alliances.get(i.allianceId)!, role: i.from.role, since: i.from.on, sincePrecision: precisionOf(i.from.on) }));
        expectEqual(
          url,
          { ...echo, name: name(o), currentName: name(o, today()), memberships: expected },
          { ...pickEcho(res.body), name: res.body.name, currentName: res.body.currentName, memberships: res.body.memberships },
        );
      }
      {
        const url = `/organisations/${o}/history${query({ ...base, limit: '10000' })}`;
        const res = await get(url);
        expectEqual(
          url,
          m.history(K, o),
          res.body.events.map((e: { id: string; type: string; retracted: boolean }) => ({ id: e.id, type: e.type, retracted: e.retracted })),
        );
      }
      {
        const url = `/organisations/${o}${query(base)}`;
        const res = await api.get(url);
        const expected = name(o);
        expectEqual(url, expected === null ? { status: 404 } : { status: 200, name: expected }, res.status === 200 ? { status: 200, name: res.body.name } : { status: res.status });
      }
    }
  }
  return compared;
}
