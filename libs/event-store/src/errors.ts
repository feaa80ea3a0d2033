import type { ExpectedVersion } from './types';

/** The stream was not at the version the caller decided against. Maps to HTTP 409. */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: ExpectedVersion,
    readonly actualVersion: number,
  ) {
    super(
      `stream ${streamId} is at version ${actualVersion === 0 ? '(none)' : actualVersion}, expected ${expectedVersion}`,
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
