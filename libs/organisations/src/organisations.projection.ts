import { Kysely, sql } from 'kysely';
import { DB, executeTogether } from '@app/db';
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

/**
 * Runs of registrations (the bulk of a rebuild's organisation events) are written together in
 * one statement; every other event is applied in order, after the registrations before it.
 */
export async function projectOrganisations(trx: Kysely<DB>, events: RecordedEvent[]): Promise<void> {
  let registrations: RecordedEvent[] = [];
  // Links depend on nothing else here: collected, and written with the last registrations.
  const links: OrganisationLink[] = [];
  const flush = async (last = false) => {
    await executeTogether(trx, [...registerOrganisations(registrations, links), last && insertOrganisationLinks(links)]);
    registrations = [];
  };
  for (const e of events) {
    if (e.type === 'OrganisationRegistered') {
      registrations.push(e);
      continue;
    }
    if (e.type === 'OrganisationUpdated' || e.type === 'OrganisationRenamed' || e.type === 'EventRetracted') {
      await flush();
    }
    switch (e.type) {
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
        links.push(...linksTo(e, d.organisationId));
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
        links.push(...linksTo(e, d.organisationId));
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
          links.push(...linksTo(e, d.organisationId));
        }
        break;
      }
    }
  }
  await flush(true);
}

/** The inserts of a run of registrations (none for an empty run); their links go to `links`. */
function registerOrganisations(events: RecordedEvent[], links: OrganisationLink[]) {
  if (events.length === 0) {
    return [];
  }
  const orgs = events.map((e) => ({ e, d: e.data as OrganisationRegistered }));
  links.push(...orgs.flatMap((o) => linksTo(o.e, o.d.organisationId)));
  // Arrays of arrays do not fit one Postgres array parameter: aliases and names travel as JSON.
  return [
    sql`
    INSERT INTO organisations (id, name, current_name, country, kind, aliases, website, provisional, search_names, registered_at, position)
    SELECT r.id, r.name, r.name, r.country, r.kind, ARRAY(SELECT jsonb_array_elements_text(r.aliases)),
      r.website, r.provisional, ARRAY(SELECT jsonb_array_elements_text(r.search_names)), r.registered_at, r.position
    FROM unnest(${orgs.map((o) => o.d.organisationId)}::text[], ${orgs.map((o) => o.d.name)}::text[],
      ${orgs.map((o) => o.d.country)}::text[], ${orgs.map((o) => o.d.kind)}::text[],
      ${orgs.map((o) => JSON.stringify(o.d.aliases ?? []))}::jsonb[], ${orgs.map((o) => o.d.website)}::text[],
      ${orgs.map((o) => o.d.provisional ?? false)}::boolean[], ${orgs.map((o) => JSON.stringify(searchNames(o.d.name, o.d.aliases ?? [])))}::jsonb[],
      ${orgs.map((o) => o.e.recordedAt.toISOString())}::timestamptz[], ${orgs.map((o) => o.e.position)}::bigint[])
      WITH ORDINALITY AS r(id, name, country, kind, aliases, website, provisional, search_names, registered_at, position, ord)
    ORDER BY r.ord`,
    sql`
    INSERT INTO organisation_names (event_id, organisation_id, name, valid_from, on_text, precision, recorded_at, retracted_at)
    SELECT r.event_id, r.organisation_id, r.name, NULL, NULL, NULL, r.recorded_at, NULL
    FROM unnest(${orgs.map((o) => o.e.id)}::uuid[], ${orgs.map((o) => o.d.organisationId)}::text[], ${orgs.map((o) => o.d.name)}::text[],
      ${orgs.map((o) => o.e.recordedAt.toISOString())}::timestamptz[]) AS r(event_id, organisation_id, name, recorded_at)`,
  ];
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

export interface OrganisationLink {
  organisationId: string;
  eventId: string;
  position: string;
}

/** That an event concerns these organisations, for their histories (written with insertOrganisationLinks). */
export const linksTo = (e: RecordedEvent, ...organisationIds: string[]): OrganisationLink[] =>
  organisationIds.map((organisationId) => ({ organisationId, eventId: e.id, position: e.position }));

/**
 * Many links in one statement (false when there are none, for executeTogether); a link
 * recorded twice stays one.
 */
export function insertOrganisationLinks(links: OrganisationLink[]) {
  return (
    links.length > 0 &&
    sql`
    INSERT INTO organisation_events (organisation_id, event_id, position)
    SELECT * FROM unnest(${links.map((l) => l.organisationId)}::text[], ${links.map((l) => l.eventId)}::uuid[],
      ${links.map((l) => l.position)}::bigint[])
    ON CONFLICT DO NOTHING`
  );
}
