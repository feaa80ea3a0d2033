import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql, Transaction } from 'kysely';
import { DATABASE, Database, DB, plannedPerCall, WebhookDeliveryStatus } from '@app/db';

export interface NewEndpoint {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  allianceIds: string[];
  secretCiphertext: string;
}

export interface EndpointPatch {
  url?: string;
  description?: string | null;
  eventTypes?: string[];
  allianceIds?: string[];
  status?: 'enabled' | 'disabled';
  disabledReason?: string | null;
}

export interface NewMessage {
  id: string;
  eventId: string | null;
  type: string;
  payload: string;
}

export interface NewDelivery {
  id: string;
  endpointId: string;
  messageId: string;
  eventId: string | null;
  type: string;
}

export interface AttemptRecord {
  deliveryId: string;
  endpointId: string;
  at: Date;
  statusCode: number;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
  status: WebhookDeliveryStatus;
  nextAttemptAt: Date | null;
  succeeded: boolean;
}

const ENDPOINT_COLUMNS = [
  'id',
  'url',
  'description',
  'event_types',
  'alliance_ids',
  'status',
  'disabled_reason',
  'previous_secret_expires_at',
  'created_at',
  'updated_at',
] as const;

const DELIVERY_COLUMNS = [
  'id',
  'seq',
  'endpoint_id',
  'message_id',
  'event_id',
  'type',
  'status',
  'attempts',
  'last_status_code',
  'last_error',
  'next_attempt_at',
  'created_at',
  'updated_at',
] as const;

/** The only place in libs/webhooks that holds SQL. */
@Injectable()
export class WebhooksRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  // --- endpoints -----------------------------------------------------------------------

  // Endpoint writes run in the caller's transaction (IdempotentWrites stores the response in it).

  createEndpoint(trx: Transaction<DB>, e: NewEndpoint) {
    return trx
      .insertInto('webhook_endpoints')
      .values({
        id: e.id,
        url: e.url,
        description: e.description,
        event_types: e.eventTypes,
        alliance_ids: e.allianceIds,
        status: 'enabled',
        disabled_reason: null,
        secret_ciphertext: e.secretCiphertext,
        previous_secret_ciphertext: null,
        previous_secret_expires_at: null,
        failing_since: null,
      })
      .returning(ENDPOINT_COLUMNS)
      .executeTakeFirstOrThrow();
  }

  /** Keyset pages in creation order; `after` is the last row's (created_at, id). */
  listEndpoints(limit: number, after: { createdAt: Date; id: string } | null) {
    let query = this.db.selectFrom('webhook_endpoints').select(ENDPOINT_COLUMNS);
    if (after) {
      query = query.where(sql<boolean>`(created_at, id) > (${after.createdAt}, ${after.id}::uuid)`);
    }
    return query.orderBy('created_at').orderBy('id').limit(limit).execute();
  }

  findEndpoint(id: string, db: Kysely<DB> = this.db) {
    return db.selectFrom('webhook_endpoints').select(ENDPOINT_COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  async updateEndpoint(trx: Transaction<DB>, id: string, patch: EndpointPatch) {
    const values = {
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.eventTypes !== undefined ? { event_types: patch.eventTypes } : {}),
      ...(patch.allianceIds !== undefined ? { alliance_ids: patch.allianceIds } : {}),
      ...(patch.status !== undefined
        ? {
            status: patch.status,
            disabled_reason: patch.status === 'enabled' ? null : (patch.disabledReason ?? null),
            // A re-enabled endpoint starts with a clean record.
            ...(patch.status === 'enabled' ? { failing_since: null } : {}),
          }
        : {}),
    };
    return trx
      .updateTable('webhook_endpoints')
      .set({ ...values, updated_at: sql`now()` })
      .where('id', '=', id)
      .returning(ENDPOINT_COLUMNS)
      .executeTakeFirst();
  }

  async deleteEndpoint(trx: Transaction<DB>, id: string): Promise<boolean> {
    const result = await trx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The old secret keeps signing until `overlapEndsAt`. */
  rotateSecret(trx: Transaction<DB>, id: string, sealNew: string, sealPrevious: string, overlapEndsAt: Date) {
    return trx
      .updateTable('webhook_endpoints')
      .set({
        secret_ciphertext: sealNew,
        previous_secret_ciphertext: sealPrevious,
        previous_secret_expires_at: overlapEndsAt,
        updated_at: sql`now()`,
      })
      .where('id', '=', id)
      .returning(ENDPOINT_COLUMNS)
      .executeTakeFirst();
  }

  /**
   * The endpoint's secrets, locked to the end of the transaction: two rotations at once must
   * not both keep the same previous secret (the first one's new secret would never sign).
   */
  secretsForRotation(trx: Transaction<DB>, id: string) {
    return trx
      .selectFrom('webhook_endpoints')
      .select(['id', 'secret_ciphertext', 'previous_secret_ciphertext', 'previous_secret_expires_at'])
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  }

  async disableEndpoint(id: string, reason: string): Promise<void> {
    await this.db
      .updateTable('webhook_endpoints')
      .set({ status: 'disabled', disabled_reason: reason, updated_at: sql`now()` })
      .where('id', '=', id)
      .where('status', '=', 'enabled')
      .execute();
  }

  enabledEndpoints(trx: Transaction<DB>) {
    return trx
      .selectFrom('webhook_endpoints')
      .select(['id', 'event_types', 'alliance_ids'])
      .where('status', '=', 'enabled')
      .execute();
  }

  // --- fan-out (runs in the subscription's transaction) ----------------------------------

  async names(trx: Transaction<DB>, organisationIds: string[], allianceIds: string[]) {
    const [organisations, alliances] = await Promise.all([
      organisationIds.length
        ? trx.selectFrom('organisations').select(['id', 'current_name as name']).where('id', 'in', organisationIds).execute()
        : [],
      allianceIds.length
        ? trx.selectFrom('alliances').select(['id', 'name']).where('id', 'in', allianceIds).execute()
        : [],
    ]);
    return { organisations, alliances };
  }

  /** Inserts messages and deliveries; returns the deliveries in creation (= log) order. */
  async insertFanout(trx: Transaction<DB>, messages: NewMessage[], deliveries: NewDelivery[]) {
    if (messages.length > 0) {
      await sql`
        INSERT INTO webhook_messages (id, event_id, type, payload)
        SELECT * FROM unnest(${messages.map((m) => m.id)}::uuid[], ${messages.map((m) => m.eventId)}::uuid[],
                             ${messages.map((m) => m.type)}::text[], ${messages.map((m) => m.payload)}::text[])
        ON CONFLICT (id) DO NOTHING`.execute(trx);
    }
    if (deliveries.length === 0) {
      return [];
    }
    // A replayed checkpoint must not deliver twice: (endpoint, message) is unique.
    const result = await sql<{ id: string; endpoint_id: string; seq: string }>`
      INSERT INTO webhook_deliveries (id, endpoint_id, message_id, event_id, type, status, next_attempt_at)
      SELECT t.id, t.endpoint_id, t.message_id, t.event_id, t.type, 'pending', now()
      FROM unnest(${deliveries.map((d) => d.id)}::uuid[], ${deliveries.map((d) => d.endpointId)}::uuid[],
                  ${deliveries.map((d) => d.messageId)}::uuid[], ${deliveries.map((d) => d.eventId)}::uuid[],
                  ${deliveries.map((d) => d.type)}::text[])
           WITH ORDINALITY AS t(id, endpoint_id, message_id, event_id, type, ord)
      ORDER BY t.ord
      ON CONFLICT ON CONSTRAINT webhook_deliveries_once DO NOTHING
      RETURNING id::text, endpoint_id::text, seq::text`.execute(trx);
    return result.rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
  }

  /** For each (endpoint, seq): the seq of the endpoint's previous delivery from the log, if any. */
  async previousLogDeliveries(trx: Transaction<DB>, firsts: Array<{ endpointId: string; seq: string }>) {
    const result = await plannedPerCall(sql<{ endpoint_id: string; prev: string | null }>`
      SELECT f.endpoint_id::text AS endpoint_id,
             (SELECT d.seq::text FROM webhook_deliveries d
              WHERE d.endpoint_id = f.endpoint_id AND d.event_id IS NOT NULL AND d.seq < f.seq
              ORDER BY d.seq DESC LIMIT 1) AS prev
      FROM unnest(${firsts.map((f) => f.endpointId)}::uuid[], ${firsts.map((f) => f.seq)}::bigint[]) AS f(endpoint_id, seq)`).execute(trx);
    return new Map(result.rows.map((r) => [r.endpoint_id, r.prev]));
  }

  /** A first attempt needs no waiting for once it was made, or the delivery is settled or gone. */
  async firstAttemptSettled(seq: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select(['attempts', 'status'])
      .where('seq', '=', seq)
      .executeTakeFirst();
    return !row || row.attempts > 0 || row.status !== 'pending';
  }

  /** Assigns the transaction id if there is none yet; the enqueue waits for it to commit. */
  async currentTransactionId(trx: Transaction<DB>): Promise<string> {
    const result = await sql<{ xid: string }>`SELECT pg_current_xact_id()::text AS xid`.execute(trx);
    return result.rows[0].xid;
  }

  async transactionStatus(xid: string): Promise<'committed' | 'aborted' | 'in progress' | null> {
    const result = await sql<{ status: 'committed' | 'aborted' | 'in progress' | null }>`
      SELECT pg_xact_status(${xid}::xid8) AS status`.execute(this.db);
    return result.rows[0].status;
  }

  /** A message for one endpoint outside the log (webhook.test), in the caller's transaction. */
  async createDirectDelivery(trx: Transaction<DB>, message: NewMessage, delivery: NewDelivery) {
    await trx
      .insertInto('webhook_messages')
      .values({ id: message.id, event_id: message.eventId, type: message.type, payload: message.payload })
      .execute();
    return trx
      .insertInto('webhook_deliveries')
      .values({
        id: delivery.id,
        endpoint_id: delivery.endpointId,
        message_id: delivery.messageId,
        event_id: delivery.eventId,
        type: delivery.type,
        status: 'pending',
        next_attempt_at: sql`now()`,
      })
      .returning(DELIVERY_COLUMNS)
      .executeTakeFirstOrThrow();
  }

  // --- attempts ------------------------------------------------------------------------

  /** Everything one attempt needs: the delivery, its message and its endpoint. */
  private attemptQuery() {
    return this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_messages as m', 'm.id', 'd.message_id')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select([
        'd.id',
        'd.seq',
        'd.endpoint_id',
        'd.message_id',
        'd.status',
        'd.attempts',
        'd.round_attempts',
        'd.next_attempt_at',
        'd.created_at',
        'm.payload',
        'e.url',
        'e.status as endpoint_status',
        'e.disabled_reason',
        'e.secret_ciphertext',
        'e.previous_secret_ciphertext',
        'e.previous_secret_expires_at',
      ]);
  }

  loadForAttempt(deliveryId: string) {
    return this.attemptQuery().where('d.id', '=', deliveryId).executeTakeFirst();
  }

  /** An endpoint's pending first attempts from the log after `afterSeq`, in seq (= log) order, ready to send. */
  pendingFirsts(endpointId: string, afterSeq: string, limit: number) {
    return this.attemptQuery()
      .where('d.endpoint_id', '=', endpointId)
      .where('d.status', '=', 'pending')
      .where('d.attempts', '=', 0)
      .where('d.event_id', 'is not', null)
      .where('d.seq', '>', afterSeq)
      .orderBy('d.seq')
      .limit(limit)
      .execute();
  }

  /**
   * Attempts, their deliveries' new state and their endpoints' health, many in one statement
   * (at most one attempt per delivery). Returns, per endpoint, `failing_since` as it was before.
   */
  async recordAttempts(records: AttemptRecord[]): Promise<Map<string, Date | null>> {
    const col = <K extends keyof AttemptRecord>(key: K) => records.map((r) => r[key]);
    const result = await plannedPerCall(sql<{ endpoint_id: string; failing_since: Date | null }>`
      WITH input AS (
        SELECT * FROM unnest(
          ${col('deliveryId')}::uuid[], ${col('endpointId')}::uuid[], ${col('at')}::timestamptz[],
          ${col('statusCode')}::int[], ${col('durationMs')}::int[], ${col('error')}::text[],
          ${col('responseExcerpt')}::text[], ${col('status')}::text[], ${col('nextAttemptAt')}::timestamptz[],
          ${col('succeeded')}::boolean[]
        ) AS t(delivery_id, endpoint_id, at, status_code, duration_ms, error, excerpt, status, next_attempt_at, ok)
      ), d AS (
        UPDATE webhook_deliveries w
        SET attempts = w.attempts + 1, round_attempts = w.round_attempts + 1, status = i.status,
            last_status_code = i.status_code, last_error = i.error, next_attempt_at = i.next_attempt_at,
            updated_at = now()
        FROM input i
        WHERE w.id = i.delivery_id
        RETURNING w.id, w.attempts
      ), attempt AS (
        INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, duration_ms, error, response_excerpt)
        SELECT i.delivery_id, d.attempts, i.at, i.status_code, i.duration_ms, i.error, i.excerpt
        FROM input i JOIN d ON d.id = i.delivery_id
      ), outcome AS (
        -- An endpoint's latest attempt in the batch decides whether it is failing.
        SELECT DISTINCT ON (endpoint_id) endpoint_id, ok FROM input ORDER BY endpoint_id, at DESC
      ), health AS (
        UPDATE webhook_endpoints e
        SET failing_since = CASE WHEN o.ok THEN NULL ELSE now() END
        FROM outcome o
        WHERE e.id = o.endpoint_id
          AND CASE WHEN o.ok THEN e.failing_since IS NOT NULL ELSE e.failing_since IS NULL END
      )
      SELECT e.id::text AS endpoint_id, e.failing_since
      FROM webhook_endpoints e
      WHERE e.id IN (SELECT endpoint_id FROM outcome)`).execute(this.db);
    return new Map(result.rows.map((r) => [r.endpoint_id, r.failing_since]));
  }

  /** A pending delivery whose endpoint was disabled: failed without an attempt (recoverable). */
  async failWithoutAttempt(deliveryId: string, reason: string): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', last_error: reason, next_attempt_at: null, updated_at: sql`now()` })
      .where('id', '=', deliveryId)
      .where('status', '=', 'pending')
      .execute();
  }

  // --- listing, redelivery, recovery -----------------------------------------------------

  listDeliveries(endpointId: string, status: WebhookDeliveryStatus | undefined, limit: number, beforeSeq: string | null) {
    let query = this.db.selectFrom('webhook_deliveries').select(DELIVERY_COLUMNS).where('endpoint_id', '=', endpointId);
    if (status) {
      query = query.where('status', '=', status);
    }
    if (beforeSeq) {
      query = query.where('seq', '<', beforeSeq);
    }
    return query.orderBy('seq', 'desc').limit(limit).execute();
  }

  findDelivery(endpointId: string, deliveryId: string) {
    return this.db
      .selectFrom('webhook_deliveries')
      .select(DELIVERY_COLUMNS)
      .where('endpoint_id', '=', endpointId)
      .where('id', '=', deliveryId)
      .executeTakeFirst();
  }

  attemptsOf(deliveryId: string) {
    return this.db
      .selectFrom('webhook_attempts')
      .select(['attempt', 'at', 'status_code', 'duration_ms', 'error', 'response_excerpt'])
      .where('delivery_id', '=', deliveryId)
      .orderBy('attempt')
      .execute();
  }

  /** Back to pending, due now, at the start of the retry schedule. */
  redeliver(trx: Transaction<DB>, endpointId: string, deliveryId: string) {
    return trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', round_attempts: 0, next_attempt_at: sql`now()`, updated_at: sql`now()` })
      .where('endpoint_id', '=', endpointId)
      .where('id', '=', deliveryId)
      .returning(DELIVERY_COLUMNS)
      .executeTakeFirst();
  }

  recover(trx: Transaction<DB>, endpointId: string, since: Date) {
    return trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', round_attempts: 0, next_attempt_at: sql`now()`, updated_at: sql`now()` })
      .where('endpoint_id', '=', endpointId)
      .where('status', 'in', ['failed', 'exhausted'])
      .where('created_at', '>=', since)
      .returning(['id', 'seq'])
      .execute();
  }

  /** Pending deliveries in creation order, optionally only those overdue by `overdueBefore`. */
  pendingDeliveries(afterSeq: string, limit: number, overdueBefore: Date | null) {
    let query = this.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'seq', 'endpoint_id', 'event_id', 'attempts', 'next_attempt_at'])
      .where('status', '=', 'pending')
      .where('seq', '>', afterSeq);
    if (overdueBefore) {
      query = query.where('next_attempt_at', '<', overdueBefore);
    }
    return query.orderBy('seq').limit(limit).execute();
  }
}
