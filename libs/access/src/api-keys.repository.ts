import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { sql, type Transaction } from 'kysely';
import { DATABASE, Database, DB } from '@app/db';
import type { Actor, Role } from '@app/shared';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** How long a verified key is trusted without asking Postgres again (revocation delay elsewhere). */
const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

@Injectable()
export class ApiKeysRepository {
  private readonly cache = new Map<string, { actor: Actor | null; until: number }>();

  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** A new key, in the caller's transaction (which also stores an idempotent response). */
  async create(trx: Transaction<DB>, name: string, role: Role) {
    const key = `at_${role}_${randomBytes(24).toString('base64url')}`;
    const row = await trx
      .insertInto('api_keys')
      .values({ id: randomUUID(), name, role, key_hash: hashKey(key), key_prefix: key.slice(0, 12), revoked_at: null })
      .returning(['id', 'name', 'role', 'key_prefix', 'created_at'])
      .executeTakeFirstOrThrow();
    return { ...row, key };
  }

  /** Makes ADMIN_API_KEY an admin key; idempotent across restarts and concurrent starts. */
  async ensureBootstrapAdmin(key: string) {
    const id = '00000000-0000-4000-8000-000000000001';
    await this.db
      .insertInto('api_keys')
      .values({ id, name: 'bootstrap admin (ADMIN_API_KEY)', role: 'admin', key_hash: hashKey(key), key_prefix: key.slice(0, 4), revoked_at: null })
      .onConflict((oc) => oc.column('id').doUpdateSet({ key_hash: hashKey(key), key_prefix: key.slice(0, 4), revoked_at: null }))
      .execute();
  }

  /**
   * Keys are looked up by hash and cached for a few seconds: every request needs one, and the
   * lookup would otherwise be a query per request. Revoking in this process takes effect at
   * once (forgetVerified); other processes see it within CACHE_MS.
   */
  async authenticate(key: string): Promise<Actor | null> {
    const hash = hashKey(key);
    const hit = this.cache.get(hash);
    if (hit && hit.until > Date.now()) {
      return hit.actor;
    }
    const actor = await this.lookup(hash);
    if (this.cache.size >= CACHE_MAX) {
      this.cache.clear();
    }
    this.cache.set(hash, { actor, until: Date.now() + CACHE_MS });
    return actor;
  }

  private async lookup(hash: string): Promise<Actor | null> {
    const row = await this.db
      .selectFrom('api_keys')
      .select(['id', 'name', 'role'])
      .where('key_hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ?? null;
  }

  /**
   * One page of keys in creation order after `after`. The order is on milliseconds, the
   * precision a cursor carries (created_at has microseconds), so the last row of a page is
   * not the first of the next; the table is small enough to sort without an index.
   */
  list(limit: number, after: { createdAt: Date; id: string } | null) {
    const ms = sql<Date>`date_trunc('milliseconds', created_at)`;
    let query = this.db.selectFrom('api_keys').select(['id', 'name', 'role', 'key_prefix', 'created_at', 'revoked_at']);
    if (after) {
      query = query.where(sql<boolean>`(${ms}, id) > (${after.createdAt}, ${after.id}::uuid)`);
    }
    return query.orderBy(ms).orderBy('id').limit(limit).execute();
  }

  /** Revokes in the caller's transaction; call forgetVerified() once it has committed. */
  async revoke(trx: Transaction<DB>, id: string): Promise<boolean> {
    const result = await trx
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Forgets every verified key, so that a revocation takes effect at once in this process.
   * After the commit: cleared before it, a request in between would cache the key as valid again.
   */
  forgetVerified(): void {
    this.cache.clear();
  }
}
