/**
 * A plain model of the Time rules (DESIGN.md), written without the production code: it
 * replays the accepted events and answers every question by brute force.
 */

/** Small, seedable, good enough to pick test data (mulberry32). */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export type Precision = 'year' | 'month' | 'day';

export const firstDay = (on: string) => (on.length === 4 ? `${on}-01-01` : on.length === 7 ? `${on}-01` : on);
export const precisionOf = (on: string): Precision => (on.length === 4 ? 'year' : on.length === 7 ? 'month' : 'day');

export interface Org {
  id: string;
  name: string;
  country: string | null;
  kind: string | null;
}

interface Base {
  id: string;
  position: number;
  recordedAt: number;
}

export type ModelEvent = Base &
  (
    | { type: 'AllianceRegistered'; allianceId: string; name: string }
    | { type: 'OrganisationRegistered'; org: Org }
    | { type: 'OrganisationRenamed'; organisationId: string; name: string; on: string }
    | { type: 'MemberJoined' | 'MemberLeft'; allianceId: string; organisationId: string; on: string; role: string | null }
    | { type: 'EventRetracted'; targetId: string; organisationId: string; allianceId: string | null }
  );

type Fact = Extract<ModelEvent, { type: 'MemberJoined' | 'MemberLeft' }>;
type Rename = Extract<ModelEvent, { type: 'OrganisationRenamed' }>;

export interface Interval {
  allianceId: string;
  organisationId: string;
  from: Fact;
  to: Fact | null;
}

const byValidTime = (a: { on: string; position: number }, b: { on: string; position: number }) =>
  firstDay(a.on) < firstDay(b.on) ? -1 : firstDay(a.on) > firstDay(b.on) ? 1 : a.position - b.position;

/** Joins and leaves alternate in valid time, starting with a join. */
const alternates = (facts: Array<{ type: string }>) => facts.every((f, i) => f.type === (i % 2 === 0 ? 'MemberJoined' : 'MemberLeft'));

export class Model {
  readonly events: ModelEvent[] = [];
  readonly orgs = new Map<string, Org>();
  readonly alliances = new Map<string, string>();

  add(e: ModelEvent) {
    this.events.push(e);
    if (e.type === 'OrganisationRegistered') {
      this.orgs.set(e.org.id, e.org);
    } else if (e.type === 'AllianceRegistered') {
      this.alliances.set(e.allianceId, e.name);
    }
  }

  private known(k: number) {
    return this.events.filter((e) => e.recordedAt <= k);
  }

  /** Event id -> the retraction of it known at k. */
  retractions(k: number): Map<string, string> {
    const result = new Map<string, string>();
    for (const e of this.known(k)) {
      if (e.type === 'EventRetracted') {
        result.set(e.targetId, e.id);
      }
    }
    return result;
  }

  private facts(k: number, allianceId: string, organisationId: string): Fact[] {
    const retracted = this.retractions(k);
    return this.known(k)
      .filter((e): e is Fact => (e.type === 'MemberJoined' || e.type === 'MemberLeft') && !retracted.has(e.id))
      .filter((e) => e.allianceId === allianceId && e.organisationId === organisationId)
      .sort(byValidTime);
  }

  intervals(k: number): Interval[] {
    const result: Interval[] = [];
    for (const a of this.alliances.keys()) {
      for (const o of this.orgs.keys()) {
        const facts = this.facts(k, a, o);
        for (let i = 0; i < facts.length; i += 2) {
          result.push({ allianceId: a, organisationId: o, from: facts[i], to: facts[i + 1] ?? null });
        }
      }
    }
    return result;
  }

  /** The interval making the organisation a member on `date` (first day), if any. */
  membersOn(k: number, date: string, filter: (i: Interval) => boolean): Interval[] {
    return this.intervals(k)
      .filter(filter)
      .filter((i) => firstDay(i.from.on) <= date && (i.to === null || firstDay(i.to.on) > date));
  }

  nameAt(k: number, organisationId: string, date: string): string | null {
    const registered = this.known(k).find((e) => e.type === 'OrganisationRegistered' && e.org.id === organisationId);
    if (!registered) {
      return null;
    }
    const retracted = this.retractions(k);
    const renames = this.known(k)
      .filter((e): e is Rename => e.type === 'OrganisationRenamed' && e.organisationId === organisationId && !retracted.has(e.id))
      .filter((e) => firstDay(e.on) <= date)
      .sort((a, b) => (firstDay(a.on) < firstDay(b.on) ? -1 : firstDay(a.on) > firstDay(b.on) ? 1 : a.recordedAt - b.recordedAt));
    return renames.length ? renames[renames.length - 1].name : (registered as { org: Org }).org.name;
  }

  // --- what the curator API should accept, as the log stands now ---

  canRecord(type: 'MemberJoined' | 'MemberLeft', allianceId: string, organisationId: string, on: string): boolean {
    const facts = [...this.facts(Infinity, allianceId, organisationId), { type, on, position: Infinity }];
    return alternates(facts.sort(byValidTime));
  }

  canRetract(target: ModelEvent): boolean {
    if (this.retractions(Infinity).has(target.id)) {
      return false;
    }
    if (target.type === 'OrganisationRenamed') {
      return true;
    }
    if (target.type !== 'MemberJoined' && target.type !== 'MemberLeft') {
      return false;
    }
    return alternates(this.facts(Infinity, target.allianceId, target.organisationId).filter((f) => f.id !== target.id));
  }

  canRename(organisationId: string, name: string, on: string): boolean {
    const retracted = this.retractions(Infinity);
    const renames = this.events.filter(
      (e): e is Rename => e.type === 'OrganisationRenamed' && e.organisationId === organisationId && !retracted.has(e.id),
    );
    if (renames.some((r) => firstDay(r.on) === firstDay(on))) {
      return false;
    }
    const before = renames.filter((r) => firstDay(r.on) < firstDay(on)).sort(byValidTime).pop();
    return (before ? before.name : this.orgs.get(organisationId)!.name) !== name;
  }

  /** Events about an organisation, as its history lists them. */
  concerns(e: ModelEvent, organisationId: string): boolean {
    switch (e.type) {
      case 'OrganisationRegistered':
        return e.org.id === organisationId;
      case 'AllianceRegistered':
        return false;
      default:
        return e.organisationId === organisationId;
    }
  }

  history(k: number, organisationId: string) {
    const retracted = this.retractions(k);
    return this.known(k)
      .filter((e) => this.concerns(e, organisationId))
      .sort((a, b) => a.position - b.position)
      .map((e) => ({ id: e.id, type: e.type, retracted: retracted.has(e.id) }));
  }

  membershipEventsBetween(k: number, allianceId: string, from: string, to: string) {
    const retracted = this.retractions(k);
    return this.known(k)
      .filter((e): e is Fact => (e.type === 'MemberJoined' || e.type === 'MemberLeft') && e.allianceId === allianceId)
      .filter((e) => firstDay(e.on) > from && firstDay(e.on) <= to)
      .sort(byValidTime)
      .map((e) => ({ id: e.id, retracted: retracted.has(e.id) }));
  }

  timeline(k: number, allianceId: string, upTo: string) {
    const boundaries = new Map<string, { joined: number; left: number }>();
    const bump = (d: string, field: 'joined' | 'left') => {
      const p = boundaries.get(d) ?? { joined: 0, left: 0 };
      p[field]++;
      boundaries.set(d, p);
    };
    for (const i of this.intervals(k).filter((i) => i.allianceId === allianceId)) {
      bump(firstDay(i.from.on), 'joined');
      if (i.to) {
        bump(firstDay(i.to.on), 'left');
      }
    }
    let count = 0;
    return [...boundaries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([on, p]) => ({ on, count: (count += p.joined - p.left), ...p }))
      .filter((p) => p.on <= upTo);
  }
}
