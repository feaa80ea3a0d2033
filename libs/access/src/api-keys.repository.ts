import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DATABASE, Database } from '@app/db';
import type { Actor, Role } from '@app/shared';

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

@Injectable()
export class ApiKeysRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async create(name: string, role: Role) {
    const key = `at_${role}_${randomBytes(24).toString('base64url')}`;
    const row = await this.db
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

  async authenticate(key: string): Promise<Actor | null> {
    const row = await this.db
      .selectFrom('api_keys')
      .select(['id', 'name', 'role'])
      .where('key_hash', '=', hashKey(key))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ?? null;
  }

  list() {
    return this.db
      .selectFrom('api_keys')
      .select(['id', 'name', 'role', 'key_prefix', 'created_at', 'revoked_at'])
      .orderBy('created_at')
      .execute();
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
