import { Inject, Injectable } from '@nestjs/common';
import { RawBuilder, sql } from 'kysely';
import { DATABASE, Database } from '@app/db';
import { eventColumns, EventRow, toRecordedEvent } from '@app/event-store';

/** A question's two times: the world on `date` (YYYY-MM-DD), as the tracker believed it at `knownAt`. */
export interface Moment {
  date: string;
  knownAt: Date;
}

export interface MemberFilter {
  country?: string;
  kind?: string;
}

/** Where a page of a change list's events ends: the last event's valid date and log position. */
export interface FactCursor {
  date: string;
  position: string;
}

type Subject = { allianceId: string } | { organisationId: string };

interface IntervalRow {
  alliance_id: string;
  organisation_id: string;
  role: string | null;
  since_text: string;
  since_precision: string;
  until_text: string | null;
  until_precision: string | null;
}

const EVENT_COLUMNS = eventColumns('e');

const subjectFilter = (s: Subject) =>
  'allianceId' in s ? sql`alliance_id = ${s.allianceId}` : sql`organisation_id = ${s.organisationId}`;

/**
 * Interval rows believed at `knownAt`: still believed now (recorded_to IS NULL) or closed
 * after knownAt, and recorded by then. Two halves so each uses its own partial index.
 */
function believedAt(s: Subject, knownAt: Date, columns: RawBuilder<unknown>, where: RawBuilder<unknown> = sql`TRUE`) {
  return sql`
    SELECT ${columns} FROM membership_intervals
    WHERE ${subjectFilter(s)} AND recorded_to IS NULL AND recorded_from <= ${knownAt} AND ${where}
    UNION ALL
    SELECT ${columns} FROM membership_intervals
    WHERE ${subjectFilter(s)} AND recorded_to > ${knownAt} AND recorded_from <= ${knownAt} AND ${where}`;
}

/** Member on D: valid_from <= D < valid_to; a leave on D means not a member on D. */
const memberOn = (date: string) => sql`valid_from <= ${date}::date AND (valid_to IS NULL OR valid_to > ${date}::date)`;

const INTERVAL_COLUMNS = sql`alliance_id, organisation_id, role, since_text, since_precision, until_text, until_precision`;

const membersAt = (s: Subject, m: Moment) => believedAt(s, m.knownAt, INTERVAL_COLUMNS, memberOn(m.date));

/**
 * `nm`: for each organisation in `ids` with renames, the latest rename valid on `date` and
 * the latest valid today, as known at `knownAt`. Before any rename the registration name
 * (organisations.name) holds, so organisations never renamed, most of them, cost nothing
 * here: see nameColumns. The same rule as nameAtSql, for many organisations at once.
 */
const namesOf = (ids: RawBuilder<unknown>, m: Moment, today: string) => sql`nm AS (
  SELECT n.organisation_id,
    (array_agg(n.name ORDER BY n.valid_from DESC, n.recorded_at DESC) FILTER (WHERE n.valid_from <= ${m.date}::date))[1] AS name,
    (array_agg(n.name ORDER BY n.valid_from DESC, n.recorded_at DESC) FILTER (WHERE n.valid_from <= ${today}::date))[1] AS current_name
  FROM organisation_names n
  WHERE n.organisation_id IN (${ids}) AND n.valid_from IS NOT NULL AND n.recorded_at <= ${m.knownAt}
    AND (n.retracted_at IS NULL OR n.retracted_at > ${m.knownAt})
  GROUP BY n.organisation_id
)`;

/** Name columns from `o` (organisations) and `nm`; null when the organisation was registered after knownAt. */
const nameColumns = (knownAt: Date) => sql`
  CASE WHEN o.registered_at <= ${knownAt} THEN COALESCE(nm.name, o.name) END AS name,
  CASE WHEN o.registered_at <= ${knownAt} THEN COALESCE(nm.current_name, o.name) END AS current_name`;

const orgFilter = (f: MemberFilter) => sql.join(
  [
    sql`TRUE`,
    ...(f.country !== undefined ? [sql`o.country = ${f.country}`] : []),
    ...(f.kind !== undefined ? [sql`o.kind = ${f.kind}`] : []),
  ],
  sql` AND `,
);

/** The only class of the questions that touches the database. */
@Injectable()
export class QuestionsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /**
   * Runs a question without JIT compilation: plans over thousands of rows cost enough for the
   * planner to compile them, and compiling takes longer than the query (40 ms of 75 ms for a
   * 10,000-member list). `small` questions (a page of members) stay under the planner's JIT
   * threshold and skip the transaction's extra round trips.
   */
  private read<R>(query: RawBuilder<R>, small = false) {
    if (small) {
      return query.execute(this.db);
    }
    return this.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL jit = off`.execute(trx);
      return query.execute(trx);
    });
  }

  async allianceName(id: string) {
    const row = await this.db.selectFrom('alliances').select('name').where('id', '=', id).executeTakeFirst();
    return row?.name ?? null;
  }

  async organisationExists(id: string) {
    return !!(await this.db.selectFrom('organisations').select('id').where('id', '=', id).executeTakeFirst());
  }

  /**
   * One page of members after `cursor` (an organisation id) in id order, and the total. The
   * names are looked up for the page only.
   */
  async members(allianceId: string, m: Moment, today: string, filter: MemberFilter, page: { limit: number; cursor: string | null }) {
    const filtered = filter.country !== undefined || filter.kind !== undefined;
    // The member set comes from the covering indexes alone; organisations and names are read
    // for the page's rows only, by hash or by key as the page's size makes cheaper.
    const result = await this.read(sql<{
      total: number;
      organisation_id: string | null;
      role: string | null;
      since_text: string;
      since_precision: string;
      country: string | null;
      kind: string | null;
      name: string | null;
      current_name: string | null;
    }>`
      WITH m AS MATERIALIZED (
        SELECT iv.organisation_id, iv.role, iv.since_text, iv.since_precision
        FROM (${membersAt({ allianceId }, m)}) iv
        ${filtered ? sql`JOIN organisations o ON o.id = iv.organisation_id WHERE ${orgFilter(filter)}` : sql``}
      ),
      p AS MATERIALIZED (
        SELECT * FROM m WHERE ${page.cursor === null ? sql`TRUE` : sql`m.organisation_id > ${page.cursor}`}
        ORDER BY m.organisation_id LIMIT ${page.limit}
      ),
      ${namesOf(sql`SELECT organisation_id FROM p`, m, today)}
      SELECT c.total, x.*
      FROM (SELECT count(*)::int AS total FROM m) c
      LEFT JOIN (
        SELECT p.*, o.country, o.kind, ${nameColumns(m.knownAt)}
        FROM p JOIN organisations o ON o.id = p.organisation_id
        LEFT JOIN nm ON nm.organisation_id = p.organisation_id
      ) x ON TRUE
      ORDER BY x.organisation_id`, page.limit <= 1_000);
    return {
      total: result.rows[0]?.total ?? 0,
      members: result.rows.filter((r) => r.organisation_id !== null),
    };
  }

  async stats(allianceId: string, m: Moment) {
    const result = await this.read(sql<{ country: string | null; kind: string | null; n: number }>`
      SELECT o.country, o.kind, count(*)::int AS n
      FROM (${membersAt({ allianceId }, m)}) iv JOIN organisations o ON o.id = iv.organisation_id
      GROUP BY o.country, o.kind`);
    return result.rows;
  }

  /** Members on `to` but not on `from` (joined) and the other way round (left), as known at knownAt. */
  async changes(allianceId: string, from: string, to: string, names_: Moment, today: string) {
    const k = names_.knownAt;
    const result = await this.read(sql<IntervalRow & { change: 'joined' | 'left'; name: string | null; current_name: string | null }>`
      WITH f AS MATERIALIZED (${membersAt({ allianceId }, { date: from, knownAt: k })}),
           t AS MATERIALIZED (${membersAt({ allianceId }, { date: to, knownAt: k })}),
           c AS MATERIALIZED (
             SELECT 'joined' AS change, t.* FROM t WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.organisation_id = t.organisation_id)
             UNION ALL
             SELECT 'left' AS change, f.* FROM f WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.organisation_id = f.organisation_id)
           ),
           ${namesOf(sql`SELECT organisation_id FROM c`, names_, today)}
      SELECT c.*, ${nameColumns(k)}
      FROM c JOIN organisations o ON o.id = c.organisation_id LEFT JOIN nm ON nm.organisation_id = c.organisation_id
      ORDER BY c.change, c.organisation_id`);
    return result.rows;
  }

  /**
   * Joins and leaves dated from < on <= to, recorded by knownAt, in valid-time order (date,
   * then log position), after `after`.
   */
  async factsBetween(allianceId: string, from: string, to: string, knownAt: Date, page: { limit: number; after: FactCursor | null }) {
    const result = await this.read(sql<EventRow & { on_date: string; retracted_by: string | null; retracted_at: Date | null }>`
      SELECT ${EVENT_COLUMNS}, f.on_date, f.retracted_by::text, f.retracted_at
      FROM membership_facts f JOIN events e ON e.event_id = f.event_id
      WHERE f.alliance_id = ${allianceId} AND f.on_date > ${from}::date AND f.on_date <= ${to}::date
        AND f.recorded_at <= ${knownAt}
        AND ${page.after === null ? sql`TRUE` : sql`(f.on_date, f.position) > (${page.after.date}::date, ${page.after.position}::bigint)`}
      ORDER BY f.on_date, f.position
      LIMIT ${page.limit}`);
    return result.rows.map((r) => {
      const retracted = r.retracted_at !== null && r.retracted_at <= knownAt;
      return { event: toRecordedEvent(r), date: r.on_date, retracted, retractedBy: retracted ? r.retracted_by : null };
    });
  }

  /**
   * Every date on which an interval believed at knownAt starts or ends, up to `upTo`, with
   * the starts, the ends and the member count on that date (starts so far minus ends so far).
   */
  async timeline(allianceId: string, upTo: string, knownAt: Date) {
    const result = await this.read(sql<{ on: string; joined: number; left: number; count: number }>`
      WITH iv AS (${believedAt({ allianceId }, knownAt, sql`valid_from, valid_to`)}),
           b AS (SELECT valid_from AS d, 1 AS j, 0 AS l FROM iv
                 UNION ALL SELECT valid_to, 0, 1 FROM iv WHERE valid_to IS NOT NULL),
           g AS (SELECT d, sum(j)::int AS joined, sum(l)::int AS left FROM b WHERE d <= ${upTo}::date GROUP BY d)
      SELECT d::text AS on, joined, "left", (sum(joined - "left") OVER (ORDER BY d))::int AS count
      FROM g ORDER BY d`);
    return result.rows;
  }

  async memberships(organisationId: string, m: Moment) {
    const result = await this.read(sql<IntervalRow & { alliance_name: string }>`
      SELECT iv.*, a.name AS alliance_name
      FROM (${membersAt({ organisationId }, m)}) iv JOIN alliances a ON a.id = iv.alliance_id
      ORDER BY iv.alliance_id`);
    return result.rows;
  }

  async name(organisationId: string, m: Moment, today: string) {
    const result = await sql<{ name: string | null; current_name: string | null }>`
      WITH ${namesOf(sql`${organisationId}::text`, m, today)}
      SELECT ${nameColumns(m.knownAt)} FROM organisations o LEFT JOIN nm ON nm.organisation_id = o.id
      WHERE o.id = ${organisationId}`.execute(this.db);
    return result.rows[0] ?? null;
  }

  /**
   * The organisation's events recorded by knownAt in log order, after position `after`; an
   * event is retracted when its retraction was recorded by knownAt.
   */
  async history(organisationId: string, knownAt: Date, page: { limit: number; after: string | null }) {
    const result = await sql<EventRow & { retracted_by: string | null }>`
      SELECT ${EVENT_COLUMNS}, (
        SELECT r.event_id::text FROM events r
        WHERE r.type = 'EventRetracted' AND r.data ->> 'eventId' = e.event_id::text AND r.recorded_at <= ${knownAt}
        ORDER BY r.global_position LIMIT 1) AS retracted_by
      FROM organisation_events oe JOIN events e ON e.event_id = oe.event_id
      WHERE oe.organisation_id = ${organisationId} AND e.recorded_at <= ${knownAt}
        AND ${page.after === null ? sql`TRUE` : sql`oe.position > ${page.after}::bigint`}
      ORDER BY oe.position
      LIMIT ${page.limit}`.execute(this.db);
    return result.rows.map((r) => ({ event: toRecordedEvent(r), retractedBy: r.retracted_by }));
  }
}
