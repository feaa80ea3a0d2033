import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { DB } from '@app/db';
import type { RecordedEvent } from '@app/event-store';
import { DeliveryQueue } from './delivery-queue';
import { DOMAIN_EVENT_TYPES, webhookTypeOf } from './webhook-event-types';
import { allianceOf, messageBody, referencedIds } from './webhook-message';
import { NewDelivery, NewMessage, WebhooksRepository } from './webhooks.repository';

export const WEBHOOK_SUBSCRIPTION = 'webhooks';

interface EndpointFilter {
  id: string;
  event_types: string[];
  alliance_ids: string[];
}

/** Empty filters match everything; the alliance filter only applies to events naming an alliance. */
export function endpointMatches(endpoint: EndpointFilter, type: string, allianceId: string | null): boolean {
  if (endpoint.event_types.length > 0 && !endpoint.event_types.includes(type)) {
    return false;
  }
  return allianceId === null || endpoint.alliance_ids.length === 0 || endpoint.alliance_ids.includes(allianceId);
}

/**
 * The log subscription's handler: committed events become one message each and one delivery
 * per matching endpoint, written in the subscription's transaction (so they commit with its
 * checkpoint); the jobs are enqueued once that transaction has committed.
 */
@Injectable()
export class WebhookFanout {
  readonly eventTypes = DOMAIN_EVENT_TYPES;

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly queue: DeliveryQueue,
  ) {}

  handle = async (events: RecordedEvent[], trx: Transaction<DB>): Promise<void> => {
    const endpoints = await this.repository.enabledEndpoints(trx);
    if (endpoints.length === 0) {
      return;
    }
    const routed = events.flatMap((event) => {
      const type = webhookTypeOf(event.type);
      if (!type) {
        return [];
      }
      const allianceId = allianceOf(event.data);
      const targets = endpoints.filter((e) => endpointMatches(e, type, allianceId));
      return targets.length ? [{ event, type, targets }] : [];
    });
    if (routed.length === 0) {
      return;
    }
    const organisationIds = new Set<string>();
    const allianceIds = new Set<string>();
    for (const { event } of routed) {
      const ids = referencedIds(event.data);
      ids.organisationIds.forEach((id) => organisationIds.add(id));
      ids.allianceIds.forEach((id) => allianceIds.add(id));
    }
    const found = await this.repository.names(trx, [...organisationIds], [...allianceIds]);
    const names = {
      organisations: new Map(found.organisations.map((o) => [o.id, o.name])),
      alliances: new Map(found.alliances.map((a) => [a.id, a.name])),
    };

    const messages: NewMessage[] = [];
    const deliveries: NewDelivery[] = [];
    for (const { event, type, targets } of routed) {
      // The event id is the message id: the webhook-id a receiver deduplicates on.
      messages.push({ id: event.id, eventId: event.id, type, payload: messageBody(event, type, names) });
      for (const endpoint of targets) {
        deliveries.push({ id: randomUUID(), endpointId: endpoint.id, messageId: event.id, eventId: event.id, type });
      }
    }
    const inserted = await this.repository.insertFanout(trx, messages, deliveries);
    if (inserted.length === 0) {
      return;
    }
    const xid = await this.repository.currentTransactionId(trx);
    this.queue.enqueueAfterCommit(xid, await this.chained(trx, inserted));
  };

  /** Each delivery names the endpoint's previous one, so the worker can keep their first attempts in order. */
  private async chained(trx: Transaction<DB>, inserted: Array<{ id: string; endpoint_id: string; seq: string }>) {
    const firstOfEndpoint = new Map<string, string>();
    for (const d of inserted) {
      if (!firstOfEndpoint.has(d.endpoint_id)) {
        firstOfEndpoint.set(d.endpoint_id, d.seq);
      }
    }
    const before = await this.repository.previousLogDeliveries(
      trx,
      [...firstOfEndpoint].map(([endpointId, seq]) => ({ endpointId, seq })),
    );
    const last = new Map<string, string | null>(before);
    return inserted.map((d) => {
      const prevSeq = last.get(d.endpoint_id) ?? null;
      last.set(d.endpoint_id, d.seq);
      return { deliveryId: d.id, endpointId: d.endpoint_id, first: true, seq: d.seq, prevSeq };
    });
  }
}
