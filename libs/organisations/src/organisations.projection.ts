import { Kysely, sql } from 'kysely';
import type { DB } from '@app/db';
import type { RecordedEvent } from '@app/event-store';
import type { AllianceRegistered, OrganisationRegistered, OrganisationRenamed, OrganisationUpdated } from './organisations.events';
import { normaliseName } from './organisations.events';

const searchNames = (name: string, aliases: string[], names: string[] = []) => [
  ...new Set([name, ...aliases, ...names].map(normaliseName).filter(Boolean)),
];

/** Today's name as currently known: the latest unretracted name valid on or before today. */
async function refreshCurrentName(trx: Kysely<DB>, organisationId: string) {
  await sql`
    UPDATE organisations o SET
      current_name = COALESCE((
        SELECT n.name FROM organisation_names n
        WHERE n.organisation_id = o.id AND n.retracted_at IS NULL AND n.valid_from <= current_date
        ORDER BY n.valid_from DESC, n.recorded_at DESC LIMIT 1), o.name)
    WHERE o.id = ${organisationId}`.execute(trx);
}

export async function projectOrganisations(trx: Kysely<DB>, events: RecordedEvent[]): Promise<void> {
  for (const e of events) {
    switch (e.type) {
      case 'OrganisationRegistered': {
        const d = e.data as OrganisationRegistered;
        await trx
          .insertInto('organisations')
          .values({
            id: d.organisationId,
            name: d.name,
            current_name: d.name,
            country: d.country,
            kind: d.kind,
            aliases: d.aliases,
            website: d.website,
            provisional: d.provisional,
            search_names: searchNames(d.name, d.aliases),
            registered_at: e.recordedAt,
            position: e.position,
          })
          .execute();
        await trx
          .insertInto('organisation_names')
          .values({
            event_id: e.id,
            organisation_id: d.organisationId,
            name: d.name,
            valid_from: null,
            on_text: null,
            precision: null,
            recorded_at: e.recordedAt,
            retracted_at: null,
          })
          .execute();
        await linkOrganisation(trx, d.organisationId, e);
        break;
      }
      case 'OrganisationUpdated': {
        const d = e.data as OrganisationUpdated;
        const current = await trx.selectFrom('organisations').select(['name', 'aliases']).where('id', '=', d.organisationId).executeTakeFirstOrThrow();
        const names = await trx.selectFrom('organisation_names').select('name').where('organisation_id', '=', d.organisationId).execute();
        await trx
          .updateTable('organisations')
          .set({
            ...(d.country !== undefined ? { country: d.country } : {}),
            ...(d.kind !== undefined ? { kind: d.kind } : {}),
            ...(d.website !== undefined ? { website: d.website } : {}),
            ...(d.aliases !== undefined
              ? { aliases: d.aliases, search_names: searchNames(current.name, d.aliases, names.map((n) => n.name)) }
              : {}),
            provisional: false,
          })
          .where('id', '=', d.organisationId)
          .execute();
        await linkOrganisation(trx, d.organisationId, e);
        break;
      }
      case 'OrganisationRenamed': {
        const d = e.data as OrganisationRenamed;
        await trx
          .insertInto('organisation_names')
          .values({
            event_id: e.id,
            organisation_id: d.organisationId,
            name: d.name,
            valid_from: `${d.on}${d.precision === 'year' ? '-01-01' : d.precision === 'month' ? '-01' : ''}`,
            on_text: d.on,
            precision: d.precision,
            recorded_at: e.recordedAt,
            retracted_at: null,
          })
          .execute();
        await sql`
          UPDATE organisations SET search_names = ARRAY(SELECT DISTINCT unnest(search_names || ${[normaliseName(d.name)]}::text[]))
          WHERE id = ${d.organisationId}`.execute(trx);
        await refreshCurrentName(trx, d.organisationId);
        await linkOrganisation(trx, d.organisationId, e);
        break;
      }
      case 'EventRetracted': {
        const d = e.data as { eventId: string; retractedType: string; organisationId?: string };
        if (d.retractedType === 'OrganisationRenamed' && d.organisationId) {
          await trx
            .updateTable('organisation_names')
            .set({ retracted_at: e.recordedAt })
            .where('event_id', '=', d.eventId)
            .execute();
          await refreshCurrentName(trx, d.organisationId);
          await linkOrganisation(trx, d.organisationId, e);
        }
        break;
      }
    }
  }
}

export async function projectAlliances(trx: Kysely<DB>, events: RecordedEvent[]): Promise<void> {
  for (const e of events) {
    if (e.type === 'AllianceRegistered') {
      const d = e.data as AllianceRegistered;
      await trx
        .insertInto('alliances')
        .values({
          id: d.allianceId,
          name: d.name,
          website: d.website,
          founded_on: d.foundedOn,
          founded_precision: d.foundedPrecision,
          registered_at: e.recordedAt,
          position: e.position,
        })
        .execute();
    }
  }
}

/** Records that an event concerns an organisation, for its history. */
export async function linkOrganisation(trx: Kysely<DB>, organisationId: string, e: RecordedEvent) {
  await trx
    .insertInto('organisation_events')
    .values({ organisation_id: organisationId, event_id: e.id, position: e.position })
    .onConflict((oc) => oc.doNothing())
    .execute();
}
