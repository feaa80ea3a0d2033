import type { RecordedEvent } from '@app/event-store';
import { DomainError } from '@app/shared';
import { CommitFunding, decide, decideRetraction, fold, FundingCommand, FundingState, initialState } from './funding.decider';
import type { FundingEvent } from './funding.events';

const FUNDING = '00000000-0000-4000-8000-000000000001';
const source = { url: 'https://example.org/press' };
const commitment: CommitFunding = {
  type: 'CommitFunding',
  funderId: 'meta',
  recipientId: 'tum',
  amount: '6500000',
  currency: 'EUR',
  on: '2019-01-20',
  purpose: 'Institute for Ethics in AI',
  source,
};

/** Records events the way the store would: ids and versions in order. */
function record(events: Array<{ type: string; data: object }>, from: RecordedEvent[] = []): RecordedEvent[] {
  return [
    ...from,
    ...events.map((e, i) => ({
      id: `e${from.length + i + 1}`,
      streamId: `funding-${FUNDING}`,
      version: from.length + i + 1,
      position: String(from.length + i + 1),
      transactionId: '1',
      type: e.type,
      schemaVersion: 1,
      data: e.data,
      metadata: {},
      recordedAt: new Date(),
    })),
  ];
}

/** Runs commands in order, failing the test on a refusal; returns the stream. */
function history(...commands: FundingCommand[]): RecordedEvent[] {
  return commands.reduce<RecordedEvent[]>((log, c) => record(decide(c, fold(FUNDING, log)), log), []);
}

const retraction = (log: RecordedEvent[], eventId: string) =>
  record([{ type: 'EventRetracted', data: { eventId, reason: 'wrong', retractedType: log.find((e) => e.id === eventId)!.type, fundingId: FUNDING } }], log);

function refusal(command: FundingCommand, state: FundingState): DomainError {
  try {
    decide(command, state);
  } catch (error) {
    if (error instanceof DomainError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

const tranche = (on: string, amount = '1000000', currency = 'EUR'): FundingCommand => ({ type: 'PayTranche', amount, currency, on, source });
const terminate = (on: string): FundingCommand => ({ type: 'TerminateFunding', on, reason: 'ended early' });

describe('funding decider', () => {
  it('commits with the parties, precision and source, dropping absent fields', () => {
    const [event] = decide(commitment, initialState(FUNDING)) as FundingEvent[];
    expect(event).toEqual({
      type: 'FundingCommitted',
      data: {
        fundingId: FUNDING,
        funderId: 'meta',
        recipientId: 'tum',
        amount: '6500000',
        currency: 'EUR',
        on: '2019-01-20',
        precision: 'day',
        purpose: 'Institute for Ethics in AI',
        source,
      },
    });
  });

  it('refuses a funder funding itself (400) and a second commitment (409 naming the first)', () => {
    expect(refusal({ ...commitment, recipientId: 'meta' }, initialState(FUNDING))).toMatchObject({
      status: 400,
      errors: [{ field: 'recipientId' }],
    });
    const log = history(commitment);
    const second = refusal(commitment, fold(FUNDING, log));
    expect(second.status).toBe(409);
    expect(second.message).toBe(`funding ${FUNDING} already exists (meta committed 6500000 EUR to tum on 2019-01-20, event e1)`);
  });

  it('carries the parties on tranches and terminations; tranches keep their own currency', () => {
    const log = history(commitment, tranche('2019', '500', 'USD'), terminate('2021-06'));
    expect(log.map((e) => e.data)).toEqual([
      expect.anything(),
      { fundingId: FUNDING, funderId: 'meta', recipientId: 'tum', amount: '500', currency: 'USD', on: '2019', precision: 'year', source },
      { fundingId: FUNDING, funderId: 'meta', recipientId: 'tum', on: '2021-06', precision: 'month', reason: 'ended early' },
    ]);
  });

  it('does not check tranche dates against the commitment', () => {
    expect(() => history(commitment, tranche('2018'), tranche('2019'))).not.toThrow();
  });

  it('refuses facts for an unknown funding with 404', () => {
    expect(refusal(tranche('2019'), initialState(FUNDING))).toMatchObject({ status: 404, message: `no funding ${FUNDING}` });
    expect(refusal(terminate('2019'), initialState(FUNDING)).status).toBe(404);
  });

  it('refuses a termination before the commitment, naming its date and event; the same day is fine', () => {
    const state = fold(FUNDING, history(commitment));
    const error = refusal(terminate('2019-01-19'), state);
    expect(error.status).toBe(409);
    expect(error.message).toBe(
      `funding ${FUNDING} was committed on 2019-01-20 (event e1); a termination on 2019-01-19 would precede the commitment`,
    );
    // A partial date counts from its first day: 2019 is 2019-01-01, before the commitment.
    expect(refusal(terminate('2019'), state).status).toBe(409);
    expect(() => decide(terminate('2019-01-20'), state)).not.toThrow();
  });

  it('refuses a second termination, naming the first', () => {
    const state = fold(FUNDING, history(commitment, terminate('2021')));
    expect(refusal(terminate('2022'), state).message).toBe(
      `funding ${FUNDING} is already terminated on 2021 (event e2); retract that termination before recording another`,
    );
  });

  it('refuses a tranche dated after the termination, naming it; on the termination date is fine', () => {
    const state = fold(FUNDING, history(commitment, terminate('2021-06-30')));
    expect(refusal(tranche('2021-07'), state).message).toBe(
      `funding ${FUNDING} was terminated on 2021-06-30 (event e2); a tranche on 2021-07 would come after the termination`,
    );
    expect(() => decide(tranche('2021-06-30'), state)).not.toThrow();
    expect(() => decide(tranche('2020'), state)).not.toThrow();
  });

  it('refuses a termination dated before a recorded tranche, naming the tranche', () => {
    const state = fold(FUNDING, history(commitment, tranche('2020-03')));
    expect(refusal(terminate('2020-02'), state).message).toBe(
      `funding ${FUNDING} has a tranche paid on 2020-03 (event e2); a termination on 2020-02 would precede it`,
    );
  });

  it('takes a new termination once the first is retracted, and tranches after the old date', () => {
    const log = history(commitment, terminate('2021'));
    const state = fold(FUNDING, retraction(log, 'e2'));
    expect(state.termination).toBeNull();
    expect(() => decide(tranche('2022'), state)).not.toThrow();
    expect(() => decide(terminate('2023'), state)).not.toThrow();
  });

  it('a retracted commitment takes no more facts', () => {
    const state = fold(FUNDING, retraction(history(commitment), 'e1'));
    expect(refusal(tranche('2020'), state).message).toBe(
      `funding ${FUNDING} was withdrawn: its commitment (event e1) was retracted by event e2; record a new funding instead`,
    );
    expect(refusal(terminate('2020'), state).status).toBe(409);
    expect(refusal(commitment, state).status).toBe(409);
  });

  describe('retraction rules', () => {
    it('a commitment goes only once its tranches and termination are retracted, naming them', () => {
      let log = history(commitment, tranche('2019', '1500000'), terminate('2020'));
      expect(decideRetraction(fold(FUNDING, log), 'e1')).toBe(
        `retracting the commitment of funding ${FUNDING} on 2019-01-20 (event e1) would leave the tranche of 1500000 EUR on 2019 (event e2), ` +
          'the termination on 2020 (event e3) without a commitment; retract them first',
      );
      log = retraction(log, 'e3');
      expect(decideRetraction(fold(FUNDING, log), 'e1')).toMatch(/the tranche of 1500000 EUR on 2019 \(event e2\) without a commitment; retract it first$/);
      log = retraction(log, 'e2');
      expect(decideRetraction(fold(FUNDING, log), 'e1')).toBeNull();
    });

    it('tranches and terminations can always go', () => {
      const state = fold(FUNDING, history(commitment, tranche('2019'), terminate('2020')));
      expect(decideRetraction(state, 'e2')).toBeNull();
      expect(decideRetraction(state, 'e3')).toBeNull();
    });
  });

  it('folds a retraction out of the state', () => {
    const log = history(commitment, tranche('2019'), tranche('2020'));
    expect(fold(FUNDING, retraction(log, 'e2')).tranches.map((t) => t.eventId)).toEqual(['e3']);
    expect(fold(FUNDING, log).version).toBe(3);
  });
});
