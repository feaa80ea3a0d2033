import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { DATABASE, Database, DB } from '@app/db';
import { ConcurrencyError, EventStore, ExpectedVersion, IdempotencyError, RecordedEvent } from '@app/event-store';
import { appendedEvents } from '@app/metrics';
import type { CommandMeta } from './command-meta';
import { DomainError } from './errors';
import { Projections } from './projections';

export interface RecordContext {
  trx: Kysely<DB>;
  meta: CommandMeta;
  append(streamId: string, events: Array<{ type: string; data: object }>, expectedVersion: ExpectedVersion): Promise<RecordedEvent[]>;
  readStream(streamId: string): Promise<RecordedEvent[]>;
}

const MAX_ATTEMPTS = 8;

/** A UUID derived from the idempotency key, so a replayed request can only re-append the same ids. */
export function deterministicId(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Runs one request's decisions in one transaction: read state, decide, append, project
 * inline, and store the idempotent response — all or nothing. A concurrent writer to the
 * same stream makes the append fail its expected version; the whole attempt then re-runs on
 * fresh state, where the decider sees the other write and may refuse.
 */
@Injectable()
export class Recorder {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly store: EventStore,
    private readonly projections: Projections,
  ) {}

  async execute<R extends object>(meta: CommandMeta, work: (ctx: RecordContext) => Promise<R>, status = 201): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.db.transaction().execute(async (trx) => {
          if (meta.idempotency) {
            const replay = await this.claimIdempotencyKey(trx, meta);
            if (replay) {
              return replay as R;
            }
          }
          const result = await work(this.context(trx, meta));
          if (meta.idempotency) {
            const { key, requestHash, method, path } = meta.idempotency;
            await sql`
              INSERT INTO idempotency_keys (api_key_id, key, method, path, request_hash, status, response)
              VALUES (${meta.actor.id}, ${key}, ${method}, ${path}, ${requestHash}, ${status}, ${JSON.stringify(result)})
              ON CONFLICT (api_key_id, key) DO NOTHING`.execute(trx);
          }
          return result;
        });
        this.store.notifyCommitted();
        return result;
      } catch (error) {
        const retriable = error instanceof ConcurrencyError || error instanceof IdempotencyError;
        if (!retriable || attempt >= MAX_ATTEMPTS) {
          throw error;
        }
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  /**
   * Serialises requests that share an Idempotency-Key: the second waits for the first to
   * commit, then finds its stored response instead of deciding again on the changed state.
   */
  private async claimIdempotencyKey(trx: Kysely<DB>, meta: CommandMeta): Promise<unknown> {
    const { key } = meta.idempotency!;
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`idem:${meta.actor.id}:${key}`}, 0))`.execute(trx);
    const stored = await trx
      .selectFrom('idempotency_keys')
      .select(['response', 'request_hash'])
      .where('api_key_id', '=', meta.actor.id)
      .where('key', '=', key)
      .executeTakeFirst();
    if (stored && stored.request_hash !== meta.idempotency!.requestHash) {
      throw new DomainError(409, `Idempotency-Key "${key}" was already used with a different request; use a new key for a new request`);
    }
    return stored?.response ?? null;
  }

  private context(trx: Kysely<DB>, meta: CommandMeta): RecordContext {
    let counter = 0;
    const metadata = {
      actor: { id: meta.actor.id, name: meta.actor.name },
      correlationId: meta.correlationId,
      ...(meta.idempotency ? { idempotencyKey: meta.idempotency.key } : {}),
    };
    return {
      trx,
      meta,
      readStream: (streamId) => this.store.readStream(streamId, { trx }),
      append: async (streamId, events, expectedVersion) => {
        const prepared = events.map((e) => ({
          ...e,
          metadata,
          id: meta.idempotency ? deterministicId(`${meta.actor.id}\n${meta.idempotency.key}\n${counter++}`) : undefined,
        }));
        const result = await this.store.append(streamId, prepared, { expectedVersion, trx });
        if (!result.alreadyRecorded) {
          await this.projections.apply(trx, result.events);
          for (const e of result.events) {
            appendedEvents.inc({ type: e.type });
          }
        }
        return result.events;
      },
    };
  }
}
