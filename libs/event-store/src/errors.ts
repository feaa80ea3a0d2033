import type { ExpectedVersion } from './types';

/**
 * The stream was not at the version the caller decided against (reason "version"), or it was
 * last appended to by a transaction newer than the appending one, so the new events would sit
 * before their predecessors in commit order (reason "order"). Either way: retry the command in
 * a new transaction. Maps to HTTP 409.
 */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: ExpectedVersion,
    readonly actualVersion: number,
    readonly reason: 'version' | 'order' = 'version',
  ) {
    super(
      reason === 'order'
        ? `stream ${streamId} (version ${actualVersion}) was appended to by a transaction that started writing after this one; retry in a new transaction`
        : `stream ${streamId} is at version ${actualVersion === 0 ? '(none)' : actualVersion}, expected ${expectedVersion}`,
    );
    this.name = 'ConcurrencyError';
  }
}

/** Event ids that were already recorded somewhere else than where the caller re-appends them. */
export class IdempotencyError extends Error {
  constructor(
    readonly eventId: string,
    detail: string,
  ) {
    super(`event ${eventId} was already recorded ${detail}`);
    this.name = 'IdempotencyError';
  }
}
