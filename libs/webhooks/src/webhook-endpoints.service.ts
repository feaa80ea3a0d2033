import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, WebhookDeliveryStatus } from '@app/db';
import { CommandMeta, DomainError, IdempotentWrites, invalid, notFound, refused, SecretBox, timestampProblem } from '@app/shared';
import { AddressGuard } from './address-guard';
import { DeliveryQueue } from './delivery-queue';
import { endpointUrlProblem } from './endpoint-url';
import { generateWebhookSecret } from './secret-box';
import { WebhookEventType } from './webhook-event-types';
import { testMessageBody } from './webhook-message';
import { WebhooksRepository } from './webhooks.repository';

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export interface CreateEndpointInput {
  url: string;
  eventTypes?: string[];
  allianceIds?: string[];
  description?: string;
}

export interface UpdateEndpointInput {
  url?: string;
  eventTypes?: string[];
  allianceIds?: string[];
  description?: string | null;
  status?: 'enabled' | 'disabled';
}

type EndpointRow = NonNullable<Awaited<ReturnType<WebhooksRepository['findEndpoint']>>>;
type DeliveryRow = NonNullable<Awaited<ReturnType<WebhooksRepository['findDelivery']>>>;
type AttemptRow = Awaited<ReturnType<WebhooksRepository['attemptsOf']>>[number];

export function endpointView(e: EndpointRow) {
  const overlap = e.previous_secret_expires_at && e.previous_secret_expires_at.getTime() > Date.now();
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    eventTypes: e.event_types,
    allianceIds: e.alliance_ids,
    status: e.status,
    disabledReason: e.disabled_reason,
    previousSecretValidUntil: overlap ? e.previous_secret_expires_at!.toISOString() : null,
    createdAt: e.created_at.toISOString(),
    updatedAt: e.updated_at.toISOString(),
  };
}

export function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    eventId: d.event_id,
    messageId: d.message_id,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.last_status_code,
    lastError: d.last_error,
    nextAttemptAt: d.next_attempt_at ? d.next_attempt_at.toISOString() : null,
    createdAt: d.created_at.toISOString(),
    updatedAt: d.updated_at.toISOString(),
  };
}

export function attemptView(a: AttemptRow) {
  return {
    attempt: a.attempt,
    at: a.at.toISOString(),
    statusCode: a.status_code,
    durationMs: a.duration_ms,
    error: a.error,
    responseExcerpt: a.response_excerpt,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_INT8 = 9223372036854775807n;

function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function decodeCursor(cursor: string, length: number): string[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === length && parts.every((p) => typeof p === 'string')) {
      return parts as string[];
    }
  } catch {
    // falls through to the refusal
  }
  throw invalid('cursor', 'is not a cursor returned by this list');
}

/**
 * The admin use cases of webhooks: endpoints, secrets, deliveries. Every write runs through
 * IdempotentWrites: in one transaction with its stored response, and under an Idempotency-Key
 * a retry is answered from that response (no second endpoint, secret or delivery). What must
 * follow the commit (a job in Redis) is skipped on a replay.
 */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    private readonly repository: WebhooksRepository,
    private readonly box: SecretBox,
    private readonly guard: AddressGuard,
    private readonly queue: DeliveryQueue,
    private readonly writes: IdempotentWrites,
  ) {}

  create(meta: CommandMeta, input: CreateEndpointInput) {
    return this.writes.execute(meta, {
      status: 201,
      work: async (trx) => {
        await this.checkUrl(input.url);
        const id = randomUUID();
        const secret = generateWebhookSecret();
        const row = await this.repository.createEndpoint(trx, {
          id,
          url: input.url,
          description: input.description ?? null,
          eventTypes: unique(input.eventTypes ?? []),
          allianceIds: unique(input.allianceIds ?? []),
          secretCiphertext: this.box.seal(secret, id),
        });
        return { ...endpointView(row), secret };
      },
    });
  }

  async list(limit: number, cursor?: string) {
    const after = cursor ? decodeCursor(cursor, 2) : null;
    // Checked here, not left to Postgres: its refusal would name no field.
    if (after && (timestampProblem(after[0]) !== null || !UUID.test(after[1]))) {
      throw invalid('cursor', 'is not a cursor returned by this list');
    }
    const afterKey = after ? { createdAt: new Date(after[0]), id: after[1] } : null;
    const rows = await this.repository.listEndpoints(limit + 1, afterKey);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      webhooks: page.map(endpointView),
      nextCursor: rows.length > limit ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    };
  }

  async get(id: string) {
    return endpointView(await this.endpoint(id));
  }

  update(meta: CommandMeta, id: string, input: UpdateEndpointInput) {
    return this.writes.execute(meta, {
      status: 200,
      work: async (trx) => {
        const current = await this.endpoint(id, trx);
        if (input.url !== undefined && input.url !== current.url) {
          await this.checkUrl(input.url);
        }
        const row = await this.repository.updateEndpoint(trx, id, {
          url: input.url,
          description: input.description,
          eventTypes: input.eventTypes && unique(input.eventTypes),
          allianceIds: input.allianceIds && unique(input.allianceIds),
          status: input.status === current.status ? undefined : input.status,
          disabledReason: input.status === 'disabled' ? 'disabled by an admin' : null,
        });
        if (!row) {
          throw notFound(`no webhook ${id}`);
        }
        return endpointView(row);
      },
    });
  }

  async remove(meta: CommandMeta, id: string): Promise<void> {
    await this.writes.execute(meta, {
      status: 204,
      work: async (trx) => {
        if (!(await this.repository.deleteEndpoint(trx, id))) {
          throw notFound(`no webhook ${id}`);
        }
        return null;
      },
    });
  }

  /** A new secret; the old one keeps signing (a second signature) for 24 hours. */
  rotateSecret(meta: CommandMeta, id: string) {
    return this.writes.execute(meta, {
      status: 200,
      work: async (trx) => {
        const current = await this.repository.secretsForRotation(trx, id);
        if (!current) {
          throw notFound(`no webhook ${id}`);
        }
        const secret = generateWebhookSecret();
        const overlapEndsAt = new Date(Date.now() + ROTATION_OVERLAP_MS);
        const row = await this.repository.rotateSecret(trx, id, this.box.seal(secret, id), current.secret_ciphertext, overlapEndsAt);
        if (!row) {
          throw notFound(`no webhook ${id}`);
        }
        return { ...endpointView(row), secret, previousSecretValidUntil: overlapEndsAt.toISOString() };
      },
    });
  }

  sendTest(meta: CommandMeta, id: string) {
    return this.writes.execute(meta, {
      status: 202,
      work: async (trx) => {
        const endpoint = await this.enabledEndpoint(id, 'send a test message to', trx);
        const messageId = randomUUID();
        return this.repository.createDirectDelivery(
          trx,
          { id: messageId, eventId: null, type: WebhookEventType.Test, payload: testMessageBody(endpoint.id, messageId) },
          { id: randomUUID(), endpointId: endpoint.id, messageId, eventId: null, type: WebhookEventType.Test },
        );
      },
      answer: deliveryView,
      afterCommit: async (row) => {
        await this.queue.tryEnqueue([{ deliveryId: row.id, endpointId: id, first: false }]);
      },
    });
  }

  async deliveries(id: string, status: WebhookDeliveryStatus | undefined, limit: number, cursor?: string) {
    await this.endpoint(id);
    const before = cursor ? decodeCursor(cursor, 1)[0] : null;
    if (before !== null && !(/^\d{1,19}$/.test(before) && BigInt(before) <= MAX_INT8)) {
      throw invalid('cursor', 'is not a cursor returned by this list');
    }
    const rows = await this.repository.listDeliveries(id, status, limit + 1, before);
    const page = rows.slice(0, limit);
    return {
      deliveries: page.map(deliveryView),
      nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1].seq]) : null,
    };
  }

  async delivery(id: string, deliveryId: string) {
    await this.endpoint(id);
    const row = await this.repository.findDelivery(id, deliveryId);
    if (!row) {
      throw notFound(`webhook ${id} has no delivery ${deliveryId}`);
    }
    const attempts = await this.repository.attemptsOf(deliveryId);
    return { ...deliveryView(row), attemptLog: attempts.map(attemptView) };
  }

  /** One delivery again, now, with a fresh retry schedule; the webhook-id stays the same. */
  redeliver(meta: CommandMeta, id: string, deliveryId: string) {
    return this.writes.execute(meta, {
      status: 202,
      work: async (trx) => {
        await this.enabledEndpoint(id, 'redeliver to', trx);
        const row = await this.repository.redeliver(trx, id, deliveryId);
        if (!row) {
          throw notFound(`webhook ${id} has no delivery ${deliveryId}`);
        }
        return row;
      },
      answer: deliveryView,
      afterCommit: (row) => this.queue.runNow({ deliveryId: row.id, endpointId: id, first: false }),
    });
  }

  /** Every failed or exhausted delivery created since `since`, again. */
  recover(meta: CommandMeta, id: string, since: Date) {
    return this.writes.execute(meta, {
      status: 202,
      work: async (trx) => {
        await this.enabledEndpoint(id, 'recover deliveries of', trx);
        const rows = await this.repository.recover(trx, id, since);
        return rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
      },
      answer: (rows) => ({ webhookId: id, since: since.toISOString(), recovered: rows.length }),
      afterCommit: async (rows) => {
        await this.queue.tryEnqueue(rows.map((r) => ({ deliveryId: r.id, endpointId: id, first: false })));
      },
    });
  }

  private async endpoint(id: string, db?: Kysely<DB>): Promise<EndpointRow> {
    const row = await this.repository.findEndpoint(id, db);
    if (!row) {
      throw notFound(`no webhook ${id}`);
    }
    return row;
  }

  private async enabledEndpoint(id: string, action: string, db: Kysely<DB>): Promise<EndpointRow> {
    const row = await this.endpoint(id, db);
    if (row.status !== 'enabled') {
      throw refused(`cannot ${action} webhook ${id}: it is disabled (${row.disabled_reason ?? 'by an admin'}); enable it first`);
    }
    return row;
  }

  private async checkUrl(url: string) {
    const problem = await endpointUrlProblem(url, this.guard);
    if (problem) {
      throw new DomainError(400, `url: ${problem}`, [{ field: 'url', message: problem }]);
    }
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
