import { Kysely, sql } from 'kysely';
import { DB, plannedPerCall } from '@app/db';
import { DomainError } from './errors';

/** One request's claim on an Idempotency-Key: the key, per API key, and what the request was. */
export interface IdempotencyClaim {
  actorId: string;
  key: string;
  requestHash: string;
}

/** A response to keep for the key, stored in the transaction of the write it answers. */
export interface IdempotentResponse extends IdempotencyClaim {
  method: string;
  path: string;
  status: number;
  /** JSON text. */
  response: string;
}

/** A claim's outcome: the stored response to replay, a refusal (the key was used for another request), or null (first use). */
export type Claimed = { replay: unknown } | DomainError | null;

export const keyReused = (key: string) =>
  new DomainError(409, `Idempotency-Key "${key}" was already used with a different request; use a new key for a new request`);

/**
 * The only SQL on idempotency_keys, shared by the Recorder (fact writes) and IdempotentWrites
 * (admin writes), so a key means one thing whichever write it was first used for.
 */
export const idempotencyKeys = {
  /**
   * Serialises requests that share a key: the second waits (on a transaction advisory lock)
   * for the first to commit, then finds its stored response instead of deciding again on the
   * changed state. The lock and the look-up are two statements: the look-up's snapshot must be
   * taken after the lock is granted.
   */
  async claim(trx: Kysely<DB>, claims: IdempotencyClaim[]): Promise<Claimed[]> {
    const locks = [...new Set(claims.map((c) => `idem:${c.actorId}:${c.key}`))].sort();
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(l, 0)) FROM unnest(${locks}::text[]) AS l`.execute(trx);
    const { rows } = await plannedPerCall(sql<{ api_key_id: string; key: string; response: unknown; request_hash: string }>`
      SELECT i.api_key_id, i.key, i.response, i.request_hash
      FROM unnest(${claims.map((c) => c.actorId)}::text[], ${claims.map((c) => c.key)}::text[]) AS c(actor, key)
      JOIN idempotency_keys i ON i.api_key_id = c.actor AND i.key = c.key`).execute(trx);
    const stored = new Map(rows.map((r) => [`${r.api_key_id}\n${r.key}`, r]));
    return claims.map((c) => {
      const found = stored.get(`${c.actorId}\n${c.key}`);
      if (!found) {
        return null;
      }
      return found.request_hash === c.requestHash ? { replay: found.response } : keyReused(c.key);
    });
  },

  async store(trx: Kysely<DB>, rows: IdempotentResponse[]): Promise<void> {
    if (rows.length === 0) {
      return;
    }
    await sql`
      INSERT INTO idempotency_keys (api_key_id, key, method, path, request_hash, status, response)
      SELECT * FROM unnest(${rows.map((r) => r.actorId)}::text[], ${rows.map((r) => r.key)}::text[],
                           ${rows.map((r) => r.method)}::text[], ${rows.map((r) => r.path)}::text[],
                           ${rows.map((r) => r.requestHash)}::text[], ${rows.map((r) => r.status)}::int[],
                           ${rows.map((r) => r.response)}::jsonb[])
      ON CONFLICT (api_key_id, key) DO NOTHING`.execute(trx);
  },
};
