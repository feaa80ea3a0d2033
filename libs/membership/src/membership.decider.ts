import type { RecordedEvent } from '@app/event-store';
import { parseValidDate } from '@app/shared';
import type { EventRetracted, MemberJoined, MemberLeft } from './membership.events';

/** A join or leave as it stands in the pair's history. */
export interface MembershipFact {
  eventId: string;
  kind: 'join' | 'leave';
  /** First day of the (possibly partial) valid date: what ordering uses. */
  date: string;
  on: string;
  precision: string;
  role?: string;
  /** Recording order within the stream: breaks ties on the same date. */
  seq: number;
}

export interface MembershipState {
  allianceId: string;
  organisationId: string;
  version: number;
  /** Unretracted facts in valid-time order (date, then recording order). */
  facts: MembershipFact[];
  retracted: Set<string>;
}

export interface Interval {
  from: MembershipFact;
  to: MembershipFact | null;
}

export const byValidTime = (a: MembershipFact, b: MembershipFact) =>
  a.date < b.date ? -1 : a.date > b.date ? 1 : a.seq - b.seq;

export function initialState(allianceId: string, organisationId: string): MembershipState {
  return { allianceId, organisationId, version: 0, facts: [], retracted: new Set() };
}

/** evolve: the same fold serves the decider and any replay. */
export function evolve(state: MembershipState, event: RecordedEvent): MembershipState {
  const version = event.version;
  if (event.type === 'MemberJoined' || event.type === 'MemberLeft') {
    const d = event.data as MemberJoined | MemberLeft;
    const fact: MembershipFact = {
      eventId: event.id,
      kind: event.type === 'MemberJoined' ? 'join' : 'leave',
      date: parseValidDate(d.on).date,
      on: d.on,
      precision: d.precision,
      role: (d as MemberJoined).role,
      seq: version,
    };
    return { ...state, version, facts: [...state.facts, fact].sort(byValidTime) };
  }
  if (event.type === 'EventRetracted') {
    const { eventId } = event.data as EventRetracted;
    const retracted = new Set(state.retracted).add(eventId);
    return { ...state, version, retracted, facts: state.facts.filter((f) => f.eventId !== eventId) };
  }
  return { ...state, version };
}

export function fold(allianceId: string, organisationId: string, events: RecordedEvent[]): MembershipState {
  return events.reduce(evolve, initialState(allianceId, organisationId));
}

/** Index of the first fact that breaks "joins and leaves alternate, starting with a join". */
export function firstBreak(facts: MembershipFact[]): number {
  for (let i = 0; i < facts.length; i++) {
    const expected = i % 2 === 0 ? 'join' : 'leave';
    if (facts[i].kind !== expected) {
      return i;
    }
  }
  return -1;
}

/** Join-to-leave intervals [from, to) in valid time; a trailing join is open-ended. */
export function intervals(facts: MembershipFact[]): Interval[] {
  const result: Interval[] = [];
  for (let i = 0; i < facts.length; i += 2) {
    result.push({ from: facts[i], to: facts[i + 1] ?? null });
  }
  return result;
}

const describe = (f: MembershipFact) => `${f.kind === 'join' ? 'joined' : 'left'} ${f.on}, event ${f.eventId}`;

export type Decision = { ok: true } | { ok: false; reason: string };

/** Would a new join or leave on `on` keep the pair's history alternating? */
export function decideFact(state: MembershipState, kind: 'join' | 'leave', on: string): Decision {
  const { allianceId: a, organisationId: o } = state;
  const date = parseValidDate(on).date;
  const candidate: MembershipFact = { eventId: '(new)', kind, date, on, precision: '', seq: state.version + 1 };
  const facts = [...state.facts, candidate].sort(byValidTime);
  if (firstBreak(facts) === -1) {
    return { ok: true };
  }
  const at = facts.indexOf(candidate);
  const before = facts[at - 1];
  const after = facts[at + 1];
  if (kind === 'join') {
    if (before?.kind === 'join') {
      return { ok: false, reason: `${o} is already a member of ${a} on ${on} (${describe(before)})` };
    }
    return {
      ok: false,
      reason: `${o} joins ${a} again on ${after.on} (event ${after.eventId}); a join on ${on} needs a leave between them`,
    };
  }
  if (!before) {
    return { ok: false, reason: `${o} is not a member of ${a} on ${on}: no join on or before that date` };
  }
  if (before.kind === 'leave') {
    return { ok: false, reason: `${o} is not a member of ${a} on ${on} (${describe(before)})` };
  }
  return {
    ok: false,
    reason: `${o} already leaves ${a} on ${after.on} (event ${after.eventId}); a leave on ${on} needs a join between them`,
  };
}

/** Would retracting this fact leave the rest alternating? */
export function decideRetraction(state: MembershipState, eventId: string): Decision {
  const target = state.facts.find((f) => f.eventId === eventId);
  if (!target) {
    return { ok: true };
  }
  const rest = state.facts.filter((f) => f !== target);
  const broken = firstBreak(rest);
  if (broken === -1) {
    return { ok: true };
  }
  const what = `retracting the ${target.kind} of ${target.on} (event ${target.eventId})`;
  const fact = rest[broken];
  const prev = rest[broken - 1];
  return {
    ok: false,
    reason: prev
      ? `${what} would put the ${fact.kind} of ${fact.on} (event ${fact.eventId}) right after the ${prev.kind} of ${prev.on} (event ${prev.eventId}); retract the ${fact.kind} first`
      : `${what} would leave the ${fact.kind} of ${fact.on} (event ${fact.eventId}) without a join before it; retract it first`,
  };
}
