import { Inject, Injectable } from '@nestjs/common';
import { Kysely, RawBuilder, sql } from 'kysely';
import { DATABASE, Database, DB } from '@app/db';
import { nameAtSql } from '@app/organisations';

export interface FundingQuery {
  /** First day of the valid date asked about, YYYY-MM-DD. */
  at: string;
  knownAt: Date;
  funderId?: string;
  recipientId?: string;
  fundingId?: string;
  limit: number;
  /** A `nextCursor` from an earlier page. */
  cursor?: string | null;
}

export interface TrancheView {
  amount: string;
  currency: string;
  on: string;
  precision: string;
  eventId: string;
}

export interface FundingView {
  fundingId: string;
  funderId: string;
  funderName: string;
  recipientId: string;
  recipientName: string;
  currency: string;
  committed: string;
  /** Tranches in the funding's own currency, up to `at`. */
  paid: string;
  /** committed - paid while active (never below 0); 0 once terminated: termination stops the commitment. */
  outstanding: string;
  status: 'active' | 'terminated';
  committedOn: string;
  committedOnPrecision: string;
  terminatedOn: string | null;
  terminatedOnPrecision: string | null;
  purpose: string | null;
  conditions: string | null;
  source: unknown;
  commitmentEventId: string;
  terminationEventId: string | null;
  tranches: TrancheView[];
}

export interface FundingTotal {
  currency: string;
  /** Commitments in this currency. */
  committed: string;
  /** Tranches paid in this currency, whatever the commitment's currency. */
  paid: string;
  outstanding: string;
}

/** `<committed date>.<funding id>`: the page order. */
export const FUNDING_CURSOR = /^(\d{4}-\d{2}-\d{2})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * Fundings as the world stood on `at`, as known at `knownAt`, straight from funding_facts: a
 * fact counts when recorded by knownAt, not retracted by then, and valid on or before at.
 * Sums are Postgres numeric, rendered as text: money never passes through a float.
 */
@Injectable()
export class FundingRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async list(q: FundingQuery, db: Kysely<DB> = this.db): Promise<{ fundings: FundingView[]; totals: FundingTotal[]; nextCursor: string | null }> {
    const filters: RawBuilder<unknown>[] = [
      sql`recorded_at <= ${q.knownAt}`,
      sql`(retracted_at IS NULL OR retracted_at > ${q.knownAt})`,
      sql`on_date <= ${q.at}::date`,
    ];
    // Every fact carries its funding's parties, so the filters apply to all kinds alike.
    if (q.funderId) {
      filters.push(sql`funder_id = ${q.funderId}`);
    }
    if (q.recipientId) {
      filters.push(sql`recipient_id = ${q.recipientId}`);
    }
    if (q.fundingId) {
      filters.push(sql`funding_id = ${q.fundingId}::uuid`);
    }
    const cursor = q.cursor ? FUNDING_CURSOR.exec(q.cursor) : null;
    const after = cursor ? sql`(f.on_date, f.funding_id) > (${cursor[1]}::date, ${cursor[2]}::uuid)` : sql`true`;
    const { rows } = await sql<{ fundings: Array<FundingView & { date: string }>; totals: FundingTotal[] }>`
      WITH known AS MATERIALIZED (
        SELECT * FROM funding_facts WHERE ${sql.join(filters, sql` AND `)}
      ),
      c AS (SELECT * FROM known WHERE kind = 'committed'),
      f AS (
        SELECT c.*, x.event_id AS termination_event_id, x.on_text AS terminated_on, x.precision AS terminated_precision,
          coalesce(p.paid, 0) AS paid,
          CASE WHEN x.event_id IS NULL THEN greatest(c.amount - coalesce(p.paid, 0), 0) ELSE 0 END AS outstanding
        FROM c
        LEFT JOIN LATERAL (
          SELECT t.event_id, t.on_text, t.precision FROM known t
          WHERE t.funding_id = c.funding_id AND t.kind = 'terminated' ORDER BY t.position DESC LIMIT 1) x ON true
        LEFT JOIN LATERAL (
          SELECT sum(t.amount) AS paid FROM known t
          WHERE t.funding_id = c.funding_id AND t.kind = 'tranche' AND t.currency = c.currency) p ON true
      ),
      page AS (
        SELECT * FROM f WHERE ${after} ORDER BY on_date, funding_id LIMIT ${q.limit + 1}
      ),
      totals AS (
        SELECT cur, sum(committed) AS committed, sum(paid) AS paid, sum(outstanding) AS outstanding FROM (
          SELECT currency AS cur, amount AS committed, 0 AS paid, outstanding FROM f
          UNION ALL
          SELECT t.currency, 0, t.amount, 0 FROM known t JOIN c ON c.funding_id = t.funding_id WHERE t.kind = 'tranche'
        ) u GROUP BY cur
      )
      SELECT
        coalesce((SELECT json_agg(json_build_object(
          'date', page.on_date::text,
          'fundingId', page.funding_id,
          'funderId', page.funder_id,
          'funderName', coalesce(${nameAtSql(sql.ref('page.funder_id'), q.at, q.knownAt)}, page.funder_id),
          'recipientId', page.recipient_id,
          'recipientName', coalesce(${nameAtSql(sql.ref('page.recipient_id'), q.at, q.knownAt)}, page.recipient_id),
          'currency', page.currency,
          'committed', page.amount::text,
          'paid', page.paid::text,
          'outstanding', page.outstanding::text,
          'status', CASE WHEN page.termination_event_id IS NULL THEN 'active' ELSE 'terminated' END,
          'committedOn', page.on_text,
          'committedOnPrecision', page.precision,
          'terminatedOn', page.terminated_on,
          'terminatedOnPrecision', page.terminated_precision,
          'purpose', page.purpose,
          'conditions', page.conditions,
          'source', page.source,
          'commitmentEventId', page.event_id,
          'terminationEventId', page.termination_event_id,
          'tranches', coalesce((
            SELECT json_agg(json_build_object('amount', t.amount::text, 'currency', t.currency, 'on', t.on_text,
              'precision', t.precision, 'eventId', t.event_id) ORDER BY t.on_date, t.position)
            FROM known t WHERE t.funding_id = page.funding_id AND t.kind = 'tranche'), '[]'::json)
        ) ORDER BY page.on_date, page.funding_id) FROM page), '[]'::json) AS fundings,
        coalesce((SELECT json_agg(json_build_object('currency', cur, 'committed', committed::text, 'paid', paid::text,
          'outstanding', outstanding::text) ORDER BY cur) FROM totals), '[]'::json) AS totals`.execute(db);
    const { fundings, totals } = rows[0];
    const page = fundings.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      fundings: page.map(({ date: _date, ...view }) => view),
      totals,
      nextCursor: fundings.length > q.limit ? `${last.date}.${last.fundingId}` : null,
    };
  }

  /** One funding on `at` as known at `knownAt`; null when it was not committed (or known) by then. */
  async get(fundingId: string, at: string, knownAt: Date, db: Kysely<DB> = this.db): Promise<FundingView | null> {
    const { fundings } = await this.list({ fundingId, at, knownAt, limit: 1 }, db);
    return fundings[0] ?? null;
  }

  /** Whether a funding was ever committed, retracted or not: tells "unknown id" from "not yet". */
  async everCommitted(fundingId: string, db: Kysely<DB> = this.db): Promise<boolean> {
    const row = await db
      .selectFrom('funding_facts')
      .select('event_id')
      .where('funding_id', '=', fundingId)
      .where('kind', '=', 'committed')
      .executeTakeFirst();
    return !!row;
  }
}
