import type { Kysely } from 'kysely';
import { DB, executeTogether } from '@app/db';
import type { RecordedEvent } from '@app/event-store';
import { insertOrganisationLinks, linksTo, OrganisationLink } from '@app/organisations';
import { parseValidDate } from '@app/shared';
import { FundingCommitted, FundingTerminated, FundingTranchePaid, isFundingEventType } from './funding.events';

const KIND = { FundingCommitted: 'committed', FundingTranchePaid: 'tranche', FundingTerminated: 'terminated' } as const;

/**
 * Every funding fact as recorded, with when it was recorded and (if so) retracted: the
 * bitemporal questions filter these rows by recorded_at / retracted_at and valid date.
 */
export async function projectFunding(trx: Kysely<DB>, events: RecordedEvent[]): Promise<void> {
  const links: OrganisationLink[] = [];
  for (const e of events) {
    if (isFundingEventType(e.type)) {
      const d = e.data as Partial<FundingCommitted & FundingTranchePaid & FundingTerminated> & FundingTerminated;
      await trx
        .insertInto('funding_facts')
        .values({
          event_id: e.id,
          funding_id: d.fundingId,
          kind: KIND[e.type],
          funder_id: d.funderId,
          recipient_id: d.recipientId,
          amount: d.amount ?? null,
          currency: d.currency ?? null,
          on_date: parseValidDate(d.on).date,
          on_text: d.on,
          precision: d.precision,
          purpose: d.purpose ?? null,
          conditions: d.conditions ?? null,
          reason: d.reason ?? null,
          source: JSON.stringify(d.source ?? null),
          position: e.position,
          recorded_at: e.recordedAt,
          retracted_at: null,
          retracted_by: null,
        })
        .execute();
      links.push(...linksTo(e, d.funderId, d.recipientId));
    } else if (e.type === 'EventRetracted') {
      const d = e.data as { eventId: string; retractedType: string };
      if (!isFundingEventType(d.retractedType)) {
        continue;
      }
      // The retraction names only the funding; the parties come from the retracted fact.
      const fact = await trx
        .updateTable('funding_facts')
        .set({ retracted_at: e.recordedAt, retracted_by: e.id })
        .where('event_id', '=', d.eventId)
        .returning(['funder_id', 'recipient_id'])
        .executeTakeFirst();
      if (fact) {
        links.push(...linksTo(e, fact.funder_id, fact.recipient_id));
      }
    }
  }
  await executeTogether(trx, [insertOrganisationLinks(links)]);
}
