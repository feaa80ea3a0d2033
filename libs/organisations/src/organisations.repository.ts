import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { DATABASE, Database, DB } from '@app/db';
import type { BatchLoader } from '@app/shared';
import { normaliseName } from './organisations.events';

export interface OrganisationView {
  id: string;
  name: string;
  currentName: string;
  country: string | null;
  kind: string | null;
  aliases: string[];
  website: string | null;
  provisional: boolean;
}

/** The name valid on `at` as known at `knownAt`; the registration name holds before any rename. */
export const nameAtSql = (orgId: ReturnType<typeof sql>, at: string, knownAt: Date) => sql<string>`(
  SELECT n.name FROM organisation_names n
  WHERE n.organisation_id = ${orgId} AND n.recorded_at <= ${knownAt}
    AND (n.retracted_at IS NULL OR n.retracted_at > ${knownAt})
    AND (n.valid_from IS NULL OR n.valid_from <= ${at}::date)
  ORDER BY n.valid_from DESC NULLS LAST, n.recorded_at DESC LIMIT 1)`;

@Injectable()
export class OrganisationsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** Whether alliances and organisations exist: every ask of a write batch in one statement. */
  readonly existing: BatchLoader<{ kind: 'alliance' | 'organisation'; id: string }, boolean> = {
    async load(trx, keys) {
      const ids = (kind: string) => keys.filter((k) => k.kind === kind).map((k) => k.id);
      const { rows } = await sql<{ kind: string; id: string }>`
        SELECT 'alliance' AS kind, id FROM alliances WHERE id = ANY(${ids('alliance')}::text[])
        UNION ALL
        SELECT 'organisation', id FROM organisations WHERE id = ANY(${ids('organisation')}::text[])`.execute(trx);
      const found = new Set(rows.map((r) => `${r.kind}:${r.id}`));
      return keys.map((k) => found.has(`${k.kind}:${k.id}`));
    },
  };

  async get(id: string, at: string, knownAt: Date, db: Kysely<DB> = this.db): Promise<OrganisationView | null> {
    const row = await db
      .selectFrom('organisations as o')
      .select(['o.id', 'o.current_name', 'o.country', 'o.kind', 'o.aliases', 'o.website', 'o.provisional', 'o.registered_at'])
      .select(nameAtSql(sql.ref('o.id'), at, knownAt).as('name_at'))
      .where('o.id', '=', id)
      .executeTakeFirst();
    if (!row || row.registered_at > knownAt) {
      return null;
    }
    return {
      id: row.id,
      name: row.name_at ?? row.current_name,
      currentName: row.current_name,
      country: row.country,
      kind: row.kind,
      aliases: row.aliases,
      website: row.website,
      provisional: row.provisional,
    };
  }

  /** Name or alias search, case- and punctuation-insensitive, prefix-friendly. */
  async search(q: string | undefined, limit: number, cursor: string | null) {
    let query = this.db
      .selectFrom('organisations')
      .select(['id', 'current_name', 'name', 'country', 'kind', 'aliases', 'website', 'provisional'])
      .orderBy('id')
      .limit(limit + 1);
    if (q) {
      const needle = `%${normaliseName(q).replace(/[%_\\]/g, '\\$&')}%`;
      query = query.where(sql<boolean>`EXISTS (SELECT 1 FROM unnest(search_names) s WHERE s LIKE ${needle})`);
    }
    if (cursor) {
      query = query.where('id', '>', cursor);
    }
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    return {
      organisations: page.map((r) => ({
        id: r.id,
        name: r.current_name,
        currentName: r.current_name,
        registeredName: r.name,
        country: r.country,
        kind: r.kind,
        aliases: r.aliases,
        website: r.website,
        provisional: r.provisional,
      })),
      nextCursor: rows.length > limit ? page[page.length - 1].id : null,
    };
  }

  async getAlliance(id: string) {
    const r = await this.db.selectFrom('alliances').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? allianceView(r) : null;
  }

  /** One page of alliances in id order after `after`; `nextCursor` is the page's last id, null at the end. */
  async listAlliances(limit: number, after: string | null) {
    let query = this.db.selectFrom('alliances').selectAll().orderBy('id').limit(limit + 1);
    if (after !== null) {
      query = query.where('id', '>', after);
    }
    const rows = await query.execute();
    const page = rows.slice(0, limit);
    return { alliances: page.map(allianceView), nextCursor: rows.length > limit ? page[page.length - 1].id : null };
  }
}

function allianceView(r: { id: string; name: string; website: string | null; founded_on: string | null; founded_precision: string | null }) {
  return { id: r.id, name: r.name, website: r.website, foundedOn: r.founded_on, foundedOnPrecision: r.founded_precision };
}
