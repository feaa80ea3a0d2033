import { Inject, Injectable } from '@nestjs/common';
import { Kysely } from 'kysely';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DATABASE, Database, DB } from '@app/db';
import { ConcurrencyError, EventStore, IdempotencyError } from '@app/event-store';
import { appendedEvents, writeBatchSize } from '@app/metrics';
import type { CommandMeta } from './command-meta';
import { DomainError } from './errors';
import { Claimed, IdempotencyClaim, idempotencyKeys } from './idempotency-keys.repository';
import { Projections } from './projections';
import { BatchLoader, RecordContext, WriteBatch } from './write-batch';

export type { RecordContext } from './write-batch';

export type Work<R> = (ctx: RecordContext) => Promise<R>;

export interface RecordOptions {
  /** The status stored with an idempotent response (201 unless said otherwise). */
  status?: number;
  /** Run in a transaction of its own rather than in a batch (large writes such as imports). */
  alone?: boolean;
}

interface Request<R = unknown> {
  meta: CommandMeta;
  work: Work<R>;
  status: number;
  resolve(value: R): void;
  reject(error: unknown): void;
}

type Outcome = PromiseSettledResult<{ value: unknown; replayed: boolean }>;

const MAX_ATTEMPTS = 8;

/** A failure a batch answers without redoing anything: a refusal before the request appended. */
const refusedAlone = (o: Outcome, appended: boolean) => o.status === 'rejected' && o.reason instanceof DomainError && !appended;

/** A request's result; a replay is marked on its metadata (the API answers it with Idempotent-Replayed). */
function answer(request: Request, result: { value: unknown; replayed: boolean }): unknown {
  if (result.replayed) {
    request.meta.idempotency!.replayed = true;
  }
  return result.value;
}

/** Redo the batch one request at a time. */
class RedoAlone extends Error {}

/** COMMIT itself failed (a lost connection, say): the batch may or may not be recorded. */
class CommitFailed extends Error {
  constructor(readonly error: unknown) {
    super('the commit of a write batch failed');
  }
}

/** Requests sharing an Idempotency-Key are serialised and answered from the stored response (idempotencyKeys.claim). */
const idempotencyClaims: BatchLoader<IdempotencyClaim, Claimed> = {
  load: (trx, claims) => idempotencyKeys.claim(trx, claims),
};

/**
 * Runs each request's decisions all or nothing: read state, decide, append, project inline,
 * and store the idempotent response, in one transaction.
 *
 * Requests that arrive while earlier ones are being written share a transaction (group
 * commit, see WriteBatch): at most `writeBatchParallel` transactions are open at once, each
 * taking up to `writeBatchMax` waiting requests. A request refused by its decider fails alone;
 * anything else that goes wrong in a batch (a concurrent writer to the same stream, two
 * requests of the batch on one stream, a database error) rolls the batch back and runs each of
 * its requests again in a transaction of its own, exactly as if it had come alone.
 *
 * Alone, a concurrent writer to the same stream makes the append fail its expected version;
 * the whole attempt then re-runs on fresh state, where the decider sees the other write and
 * may refuse.
 */
@Injectable()
export class Recorder {
  private readonly queue: Request[] = [];
  private runners = 0;
  private readonly maxBatch: number;
  private readonly parallel: number;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly store: EventStore,
    private readonly projections: Projections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.maxBatch = config.writeBatchMax;
    this.parallel = config.writeBatchParallel;
  }

  execute<R extends object>(meta: CommandMeta, work: Work<R>, options: RecordOptions = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const request: Request<R> = { meta, work, status: options.status ?? 201, resolve, reject };
      if (options.alone || this.maxBatch === 1) {
        this.runAlone(request as Request).then((value) => resolve(value as R), reject);
        return;
      }
      this.queue.push(request as Request);
      if (this.runners < this.parallel) {
        this.runners++;
        // One turn of the event loop lets the requests that arrived together go together.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const requests = this.take();
        writeBatchSize.observe(requests.length);
        if (requests.length === 1) {
          await this.runAlone(requests[0]).then(requests[0].resolve, requests[0].reject);
        } else {
          await this.runBatch(requests);
        }
      }
    } finally {
      this.runners--;
    }
  }

  /**
   * The next batch: up to maxBatch requests in arrival order. A request whose Idempotency-Key
   * is already in the batch waits for the next one: one transaction cannot serialise a key
   * against itself (its advisory lock is re-entrant).
   */
  private take(): Request[] {
    const batch: Request[] = [];
    const keys = new Set<string>();
    const rest: Request[] = [];
    for (const r of this.queue) {
      const key = r.meta.idempotency && `${r.meta.actor.id}\n${r.meta.idempotency.key}`;
      if (batch.length >= this.maxBatch || (key && keys.has(key))) {
        rest.push(r);
        continue;
      }
      if (key) {
        keys.add(key);
      }
      batch.push(r);
    }
    this.queue.splice(0, this.queue.length, ...rest);
    return batch;
  }

  private async runBatch(requests: Request[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.transact(requests);
    } catch (error) {
      if (error instanceof CommitFailed) {
        // Whether it committed is unknown: redoing could record the facts twice.
        requests.forEach((r) => r.reject(error.error));
        return;
      }
      await Promise.all(requests.map((r) => this.runAlone(r).then(r.resolve, r.reject)));
      return;
    }
    outcomes.forEach((o, i) => (o.status === 'fulfilled' ? requests[i].resolve(answer(requests[i], o.value)) : requests[i].reject(o.reason)));
  }

  private async runAlone(request: Request): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        const [outcome] = await this.transact([request]);
        if (outcome.status === 'rejected') {
          throw outcome.reason;
        }
        return answer(request, outcome.value);
      } catch (error) {
        if (error instanceof CommitFailed) {
          throw error.error;
        }
        const retriable = error instanceof ConcurrencyError || error instanceof IdempotencyError;
        if (!retriable || attempt >= MAX_ATTEMPTS) {
          throw error;
        }
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  /**
   * One transaction for the requests. Alone, a request's failure rolls it back (and is
   * thrown). In a batch, refusals before any append are answered and the rest commits; any
   * other failure throws RedoAlone after the rollback.
   */
  private async transact(requests: Request[]): Promise<Outcome[]> {
    let decided = false;
    const work = async (trx: Kysely<DB>) => {
      const batch = new WriteBatch(trx, this.store, this.projections, requests.length);
      const outcomes: Outcome[] = await Promise.allSettled(requests.map((request, i) => this.run(batch, request, i)));
      if (requests.length === 1 && outcomes[0].status === 'rejected') {
        throw outcomes[0].reason;
      }
      if (batch.failure) {
        throw batch.failure;
      }
      if (outcomes.some((o, i) => o.status === 'rejected' && !refusedAlone(o, batch.appended.has(i)))) {
        throw new RedoAlone();
      }
      await this.storeResponses(trx, requests, outcomes);
      decided = true;
      return { batch, outcomes };
    };
    let result: Awaited<ReturnType<typeof work>>;
    try {
      result = await this.db.transaction().execute(work);
    } catch (error) {
      throw decided ? new CommitFailed(error) : error;
    }
    this.store.notifyCommitted();
    for (const e of result.batch.events) {
      appendedEvents.inc({ type: e.type });
    }
    return result.outcomes;
  }

  private async run(batch: WriteBatch, request: Request, i: number): Promise<{ value: unknown; replayed: boolean }> {
    try {
      const idem = request.meta.idempotency;
      if (idem) {
        const claim = { actorId: request.meta.actor.id, key: idem.key, requestHash: idem.requestHash };
        const claimed = await batch.ask<Claimed>(i, { kind: 'load', loader: idempotencyClaims as BatchLoader<unknown, unknown>, key: claim });
        if (claimed instanceof DomainError) {
          throw claimed;
        }
        if (claimed !== null) {
          return { value: claimed.replay, replayed: true };
        }
      }
      return { value: await request.work(batch.context(i, request.meta)), replayed: false };
    } finally {
      batch.done(i);
    }
  }

  /** The responses of keyed requests, stored in the transaction that recorded their facts. */
  private async storeResponses(trx: Kysely<DB>, requests: Request[], outcomes: Outcome[]): Promise<void> {
    const rows = requests.flatMap((r, i) => {
      const o = outcomes[i];
      const idem = r.meta.idempotency;
      return idem && o.status === 'fulfilled' && !o.value.replayed
        ? [{ actorId: r.meta.actor.id, ...idem, status: r.status, response: JSON.stringify(o.value.value) }]
        : [];
    });
    await idempotencyKeys.store(trx, rows);
  }
}
