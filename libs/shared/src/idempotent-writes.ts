import { Inject, Injectable } from '@nestjs/common';
import type { Transaction } from 'kysely';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DATABASE, Database, DB } from '@app/db';
import type { CommandMeta } from './command-meta';
import { DomainError } from './errors';
import { IdempotencyClaim, idempotencyKeys } from './idempotency-keys.repository';
import { SecretBox } from './secret-box';

export interface IdempotentWrite<T, R> {
  /** The status the first response had (a replay is answered by the route's own status). */
  status: number;
  /** The write, in the transaction that also stores its response. */
  work: (trx: Transaction<DB>) => Promise<T>;
  /** The response made of the work's result; without it, the result is the response. */
  answer?: (value: T) => R;
  /** What must follow the commit (enqueueing a delivery, say), given the work's result; skipped on a replay. */
  afterCommit?: (value: T) => Promise<void>;
}

/**
 * Writes that record no event (API keys, webhooks) under `Idempotency-Key`, with the Recorder's
 * semantics and its table: requests with the same key are serialised by the key's advisory
 * lock; after the lock, a stored response for the same request is the answer (marked replayed,
 * nothing written), one for another request is 409; otherwise the write runs and its response
 * is stored in the same transaction, so the write and its answer commit together or not at all.
 *
 * Stored responses are sealed (SECRETS_KEY, bound to the API key and the Idempotency-Key):
 * POST /api-keys answers the new key and POST /webhooks and rotate-secret a webhook secret,
 * shown only once; a replay must show them again, but idempotency_keys must not hold a usable
 * credential in clear where api_keys holds only a hash. Every admin response is sealed, so
 * there is one way to read them back.
 */
@Injectable()
export class IdempotentWrites {
  private readonly box: SecretBox;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.box = new SecretBox(config.secretsKey, 'idempotent-responses');
  }

  async execute<T, R = T>(meta: CommandMeta, write: IdempotentWrite<T, R>): Promise<R> {
    const idem = meta.idempotency;
    const answer = write.answer ?? ((value: T) => value as unknown as R);
    const outcome = await this.db.transaction().execute(async (trx) => {
      if (!idem) {
        const value = await write.work(trx);
        return { replayed: false, value, response: answer(value) };
      }
      const claim: IdempotencyClaim = { actorId: meta.actor.id, key: idem.key, requestHash: idem.requestHash };
      const [claimed] = await idempotencyKeys.claim(trx, [claim]);
      if (claimed instanceof DomainError) {
        throw claimed;
      }
      if (claimed !== null) {
        return { replayed: true, value: undefined, response: this.open(claimed.replay, claim) as R };
      }
      const value = await write.work(trx);
      const response = answer(value);
      const sealed = JSON.stringify({ sealed: this.box.seal(JSON.stringify(response ?? null), context(claim)) });
      await idempotencyKeys.store(trx, [{ ...claim, method: idem.method, path: idem.path, status: write.status, response: sealed }]);
      return { replayed: false, value, response };
    });
    if (outcome.replayed) {
      idem!.replayed = true;
    } else if (write.afterCommit) {
      await write.afterCommit(outcome.value as T);
    }
    return outcome.response;
  }

  private open(stored: unknown, claim: IdempotencyClaim): unknown {
    const sealed = (stored as { sealed?: unknown } | null)?.sealed;
    try {
      if (typeof sealed !== 'string') {
        throw new Error('not sealed');
      }
      return JSON.parse(this.box.open(sealed, context(claim)));
    } catch {
      // Another SECRETS_KEY than the one it was sealed with, or a fact write's response.
      throw new DomainError(
        409,
        `Idempotency-Key "${claim.key}": the stored response of its first request cannot be read back (was SECRETS_KEY changed?); use a new key`,
      );
    }
  }
}

const context = (claim: IdempotencyClaim) => `idempotency\n${claim.actorId}\n${claim.key}`;
