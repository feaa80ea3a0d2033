import type { RecordedEvent } from '@app/event-store';
import { WebhookEventType } from './webhook-event-types';

export interface NameIndex {
  organisations: Map<string, string>;
  alliances: Map<string, string>;
}

type Fields = Record<string, unknown>;

const ORGANISATION_REFS: Array<[field: string, as: string]> = [
  ['organisationId', 'organisation'],
  ['funderId', 'funder'],
  ['recipientId', 'recipient'],
];

/** The ids a message names, so their names can be read in one query per batch. */
export function referencedIds(data: unknown): { organisationIds: string[]; allianceIds: string[] } {
  const fields = (data ?? {}) as Fields;
  const organisationIds = ORGANISATION_REFS.map(([f]) => fields[f]).filter((v): v is string => typeof v === 'string');
  const allianceIds = typeof fields.allianceId === 'string' ? [fields.allianceId] : [];
  return { organisationIds, allianceIds };
}

export function allianceOf(data: unknown): string | null {
  const id = ((data ?? {}) as Fields).allianceId;
  return typeof id === 'string' ? id : null;
}

/**
 * `{type, timestamp, data}`: data carries the event's id, position and recorded time, its own
 * fields, and `{id, name}` of the organisations and alliance it names (the id stands in for a
 * name the projections do not have). A retraction's own `eventId` field (the retracted event)
 * is sent as `retractedEventId`, since `eventId` is always the event the message is about.
 */
export function messageBody(event: RecordedEvent, type: WebhookEventType, names: NameIndex): string {
  const { eventId: ownEventId, ...fields } = (event.data ?? {}) as Fields;
  const refs: Fields = {};
  for (const [field, as] of ORGANISATION_REFS) {
    const id = fields[field];
    if (typeof id === 'string') {
      refs[as] = { id, name: names.organisations.get(id) ?? id };
    }
  }
  if (typeof fields.allianceId === 'string') {
    refs.alliance = { id: fields.allianceId, name: names.alliances.get(fields.allianceId) ?? fields.allianceId };
  }
  const recordedAt = event.recordedAt.toISOString();
  const data = {
    eventId: event.id,
    position: event.position,
    recordedAt,
    ...(ownEventId !== undefined ? { retractedEventId: ownEventId } : {}),
    ...fields,
    ...refs,
  };
  return JSON.stringify({ type, timestamp: recordedAt, data });
}

export function testMessageBody(endpointId: string, messageId: string, now = new Date()): string {
  return JSON.stringify({
    type: WebhookEventType.Test,
    timestamp: now.toISOString(),
    data: { webhookId: endpointId, messageId, message: 'A test message from Alliance Tracker.' },
  });
}
