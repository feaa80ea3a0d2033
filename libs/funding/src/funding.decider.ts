import type { RecordedEvent } from '@app/event-store';
import { compact, invalid, notFound, parseValidDate, refused, Source } from '@app/shared';
import type { FundingCommitted, FundingEvent, FundingTerminated, FundingTranchePaid } from './funding.events';

/** A fact of the funding as it stands; `date` is the first day of its (possibly partial) valid date. */
export interface FundingFact {
  eventId: string;
  on: string;
  date: string;
}

export interface Commitment extends FundingFact {
  funderId: string;
  recipientId: string;
  amount: string;
  currency: string;
}

export interface Tranche extends FundingFact {
  amount: string;
  currency: string;
}

export interface FundingState {
  fundingId: string;
  version: number;
  commitment: Commitment | null;
  /** The EventRetracted that withdrew the commitment: the funding then takes no further facts. */
  commitmentRetractedBy: string | null;
  /** Unretracted tranches in recording order. */
  tranches: Tranche[];
  /** The unretracted termination, if any. */
  termination: FundingFact | null;
}

export interface CommitFunding {
  type: 'CommitFunding';
  funderId: string;
  recipientId: string;
  amount: string;
  currency: string;
  on: string;
  purpose?: string;
  conditions?: string;
  source: Source;
}

export interface PayTranche {
  type: 'PayTranche';
  amount: string;
  currency: string;
  on: string;
  source?: Source;
}

export interface TerminateFunding {
  type: 'TerminateFunding';
  on: string;
  reason?: string;
  source?: Source;
}

export type FundingCommand = CommitFunding | PayTranche | TerminateFunding;

export function initialState(fundingId: string): FundingState {
  return { fundingId, version: 0, commitment: null, commitmentRetractedBy: null, tranches: [], termination: null };
}

const fact = (e: RecordedEvent, on: string): FundingFact => ({ eventId: e.id, on, date: parseValidDate(on).date });

/** evolve: the same fold serves the decider and the retraction rules. */
export function evolve(state: FundingState, event: RecordedEvent): FundingState {
  const version = event.version;
  switch (event.type) {
    case 'FundingCommitted': {
      const d = event.data as FundingCommitted;
      const commitment = { ...fact(event, d.on), funderId: d.funderId, recipientId: d.recipientId, amount: d.amount, currency: d.currency };
      return { ...state, version, commitment };
    }
    case 'FundingTranchePaid': {
      const d = event.data as FundingTranchePaid;
      return { ...state, version, tranches: [...state.tranches, { ...fact(event, d.on), amount: d.amount, currency: d.currency }] };
    }
    case 'FundingTerminated':
      return { ...state, version, termination: fact(event, (event.data as FundingTerminated).on) };
    case 'EventRetracted': {
      const { eventId } = event.data as { eventId: string };
      return {
        ...state,
        version,
        commitmentRetractedBy: state.commitment?.eventId === eventId ? event.id : state.commitmentRetractedBy,
        tranches: state.tranches.filter((t) => t.eventId !== eventId),
        termination: state.termination?.eventId === eventId ? null : state.termination,
      };
    }
    default:
      return { ...state, version };
  }
}

export function fold(fundingId: string, events: RecordedEvent[]): FundingState {
  return events.reduce(evolve, initialState(fundingId));
}

/**
 * decide: the events a command records, or a DomainError saying which fact it conflicts with.
 * Invariants kept in valid time (partial dates compare by their first day, same day allowed):
 * a termination is not before the commitment, there is at most one termination, and no
 * tranche is dated after the termination. Tranche dates are not checked against the
 * commitment's: sources often give only a year for one and a day for the other.
 */
export function decide(command: FundingCommand, state: FundingState): FundingEvent[] {
  if (command.type === 'CommitFunding') {
    return [commit(command, state)];
  }
  const c = live(state);
  const parties = { fundingId: state.fundingId, funderId: c.funderId, recipientId: c.recipientId };
  const on = parseValidDate(command.on);
  if (command.type === 'PayTranche') {
    const t = state.termination;
    if (t && on.date > t.date) {
      throw refused(
        `funding ${state.fundingId} was terminated on ${t.on} (event ${t.eventId}); a tranche on ${command.on} would come after the termination`,
      );
    }
    const data: FundingTranchePaid = compact({
      ...parties,
      amount: command.amount,
      currency: command.currency,
      on: on.on,
      precision: on.precision,
      source: command.source && compact({ ...command.source }),
    });
    return [{ type: 'FundingTranchePaid', data }];
  }
  if (state.termination) {
    const t = state.termination;
    throw refused(
      `funding ${state.fundingId} is already terminated on ${t.on} (event ${t.eventId}); retract that termination before recording another`,
    );
  }
  if (on.date < c.date) {
    throw refused(
      `funding ${state.fundingId} was committed on ${c.on} (event ${c.eventId}); a termination on ${command.on} would precede the commitment`,
    );
  }
  const later = state.tranches.find((t) => t.date > on.date);
  if (later) {
    throw refused(
      `funding ${state.fundingId} has a tranche paid on ${later.on} (event ${later.eventId}); a termination on ${command.on} would precede it`,
    );
  }
  const data: FundingTerminated = compact({
    ...parties,
    on: on.on,
    precision: on.precision,
    reason: command.reason,
    source: command.source && compact({ ...command.source }),
  });
  return [{ type: 'FundingTerminated', data }];
}

function commit(command: CommitFunding, state: FundingState): FundingEvent {
  if (command.funderId === command.recipientId) {
    throw invalid('recipientId', `must differ from funderId (${command.funderId} cannot fund itself)`);
  }
  const c = state.commitment;
  if (c) {
    throw refused(
      `funding ${state.fundingId} already exists (${c.funderId} committed ${c.amount} ${c.currency} to ${c.recipientId} on ${c.on}, event ${c.eventId})`,
    );
  }
  const on = parseValidDate(command.on);
  const data: FundingCommitted = compact({
    fundingId: state.fundingId,
    funderId: command.funderId,
    recipientId: command.recipientId,
    amount: command.amount,
    currency: command.currency,
    on: on.on,
    precision: on.precision,
    purpose: command.purpose,
    conditions: command.conditions,
    source: compact({ ...command.source }),
  });
  return { type: 'FundingCommitted', data };
}

/** The commitment a tranche or termination attaches to: it must exist and not be retracted. */
function live(state: FundingState): Commitment {
  const c = state.commitment;
  if (!c) {
    throw notFound(`no funding ${state.fundingId}`);
  }
  if (state.commitmentRetractedBy) {
    throw refused(
      `funding ${state.fundingId} was withdrawn: its commitment (event ${c.eventId}) was retracted by event ${state.commitmentRetractedBy}; record a new funding instead`,
    );
  }
  return c;
}

/**
 * Why retracting this event would break the funding, or null when it may go. A commitment
 * goes only once nothing hangs on it; a tranche or termination can always be withdrawn.
 */
export function decideRetraction(state: FundingState, eventId: string): string | null {
  const c = state.commitment;
  if (!c || c.eventId !== eventId) {
    return null;
  }
  const dependants = [
    ...state.tranches.map((t) => `the tranche of ${t.amount} ${t.currency} on ${t.on} (event ${t.eventId})`),
    ...(state.termination ? [`the termination on ${state.termination.on} (event ${state.termination.eventId})`] : []),
  ];
  if (dependants.length === 0) {
    return null;
  }
  return `retracting the commitment of funding ${state.fundingId} on ${c.on} (event ${c.eventId}) would leave ${dependants.join(', ')} without a commitment; retract ${dependants.length === 1 ? 'it' : 'them'} first`;
}
