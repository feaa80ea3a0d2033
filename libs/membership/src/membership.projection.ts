import type { Kysely } from 'kysely';
import type { DB } from '@app/db';
import type { RecordedEvent } from '@app/event-store';
import { linkOrganisation } from '@app/organisations';
import { parseValidDate } from '@app/shared';
import { byValidTime, intervals, MembershipFact } from './membership.decider';
import type { EventRetracted, MemberJoined, MemberLeft } from './membership.events';

/**
 * Facts as recorded, plus the bitemporal intervals of each pair: when a pair's history
 * changes, its current interval rows are closed at the event's recorded time and the
 * recomputed ones open there. Views as known earlier keep reading the closed rows.
 */
export async function projectMembership(trx: Kysely<DB>, events: RecordedEvent[]): Promise<void> {
  for (const e of events) {
    if (e.type === 'MemberJoined' || e.type === 'MemberLeft') {
      const d = e.data as MemberJoined & MemberLeft;
      await trx
        .insertInto('membership_facts')
        .values({
          event_id: e.id,
          alliance_id: d.allianceId,
          organisation_id: d.organisationId,
          kind: e.type === 'MemberJoined' ? 'join' : 'leave',
          on_date: parseValidDate(d.on).date,
          on_text: d.on,
          precision: d.precision,
          role: d.role ?? null,
          source: JSON.stringify(d.source ?? null),
          note: d.note ?? null,
          reason: d.reason ?? null,
          position: e.position,
          recorded_at: e.recordedAt,
          retracted_at: null,
          retracted_by: null,
        })
        .execute();
      await linkOrganisation(trx, d.organisationId, e);
      await recomputeIntervals(trx, d.allianceId, d.organisationId, e.recordedAt);
    } else if (e.type === 'EventRetracted') {
      const d = e.data as EventRetracted;
      if ((d.retractedType === 'MemberJoined' || d.retractedType === 'MemberLeft') && d.allianceId && d.organisationId) {
        await trx
          .updateTable('membership_facts')
          .set({ retracted_at: e.recordedAt, retracted_by: e.id })
          .where('event_id', '=', d.eventId)
          .execute();
        await linkOrganisation(trx, d.organisationId, e);
        await recomputeIntervals(trx, d.allianceId, d.organisationId, e.recordedAt);
      }
    }
  }
}

async function recomputeIntervals(trx: Kysely<DB>, allianceId: string, organisationId: string, at: Date) {
  const rows = await trx
    .selectFrom('membership_facts')
    .select(['event_id', 'kind', 'on_date', 'on_text', 'precision', 'role', 'position'])
    .where('alliance_id', '=', allianceId)
    .where('organisation_id', '=', organisationId)
    .where('retracted_at', 'is', null)
    .execute();
  const facts: MembershipFact[] = rows
    .map((r) => ({
      eventId: r.event_id,
      kind: r.kind,
      date: r.on_date,
      on: r.on_text,
      precision: r.precision,
      role: r.role ?? undefined,
      seq: Number(r.position),
    }))
    .sort(byValidTime);
  const wanted = intervals(facts);
  const current = await trx
    .selectFrom('membership_intervals')
    .select(['id', 'join_event_id', 'leave_event_id'])
    .where('alliance_id', '=', allianceId)
    .where('organisation_id', '=', organisationId)
    .where('recorded_to', 'is', null)
    .execute();
  const key = (join: string, leave: string | null) => `${join}/${leave ?? ''}`;
  const currentKeys = new Set(current.map((c) => key(c.join_event_id, c.leave_event_id)));
  const wantedKeys = new Set(wanted.map((w) => key(w.from.eventId, w.to?.eventId ?? null)));
  const stale = current.filter((c) => !wantedKeys.has(key(c.join_event_id, c.leave_event_id)));
  const fresh = wanted.filter((w) => !currentKeys.has(key(w.from.eventId, w.to?.eventId ?? null)));
  if (stale.length) {
    await trx
      .updateTable('membership_intervals')
      .set({ recorded_to: at })
      .where(
        'id',
        'in',
        stale.map((s) => s.id),
      )
      .execute();
  }
  if (fresh.length) {
    await trx
      .insertInto('membership_intervals')
      .values(
        fresh.map((w) => ({
          alliance_id: allianceId,
          organisation_id: organisationId,
          valid_from: w.from.date,
          valid_to: w.to?.date ?? null,
          since_text: w.from.on,
          since_precision: w.from.precision,
          until_text: w.to?.on ?? null,
          until_precision: w.to?.precision ?? null,
          role: w.from.role ?? null,
          join_event_id: w.from.eventId,
          leave_event_id: w.to?.eventId ?? null,
          recorded_from: at,
          recorded_to: null,
        })),
      )
      .execute();
  }
}
