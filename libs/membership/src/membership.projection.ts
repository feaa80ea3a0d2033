import { Kysely, Selectable, sql } from 'kysely';
import { DB, executeTogether, MembershipIntervalsTable, plannedPerCall } from '@app/db';
import type { RecordedEvent } from '@app/event-store';
import { insertOrganisationLinks, OrganisationLink } from '@app/organisations';
import { parseValidDate } from '@app/shared';
import { byValidTime, intervals, MembershipFact } from './membership.decider';
import type { EventRetracted, MemberJoined, MemberLeft } from './membership.events';

/**
 * Facts as recorded, plus the bitemporal intervals of each pair: when a pair's history
 * changes, its current interval rows are closed at the event's recorded time and the
 * recomputed ones open there. Views as known earlier keep reading the closed rows.
 *
 * A row that would be closed at the very time it was opened (several events of a pair with
 * one recorded time, as in one import) is deleted instead: such a row is never believed at
 * any knownAt, and dropping it makes the result the same whether the events come one per
 * transaction, all in one, or in the rebuild's batches.
 *
 * The events of a call are applied in memory, in order, on the touched pairs' state read
 * once; the changes are then written with a handful of set-based statements. One event per
 * call (the usual append) and thousands per call (the rebuild) run the same code.
 */
export async function projectMembership(trx: Kysely<DB>, events: RecordedEvent[]): Promise<void> {
  const relevant = events.filter(isMembershipChange);
  if (relevant.length === 0) {
    return;
  }
  const batch = await MembershipBatch.load(trx, relevant);
  for (const e of relevant) {
    batch.apply(e);
  }
  await batch.write(trx);
}

const isMembershipChange = (e: RecordedEvent) =>
  e.type === 'MemberJoined' ||
  e.type === 'MemberLeft' ||
  (e.type === 'EventRetracted' && isMembershipRetraction(e.data as EventRetracted));

const isMembershipRetraction = (d: EventRetracted) =>
  (d.retractedType === 'MemberJoined' || d.retractedType === 'MemberLeft') && !!d.allianceId && !!d.organisationId;

const pairOf = (e: RecordedEvent) => {
  const d = e.data as { allianceId: string; organisationId: string };
  return { allianceId: d.allianceId, organisationId: d.organisationId, key: `${d.allianceId}.${d.organisationId}` };
};

interface FactRow {
  event_id: string;
  alliance_id: string;
  organisation_id: string;
  kind: 'join' | 'leave';
  on_date: string;
  on_text: string;
  precision: string;
  role: string | null;
  source: unknown;
  note: string | null;
  reason: string | null;
  position: string;
  recorded_at: Date;
  retracted_at: Date | null;
  retracted_by: string | null;
}

/** A membership_intervals row as this projection writes it (the id is the table's). */
type IntervalRow = Omit<Selectable<MembershipIntervalsTable>, 'id'>;

/** A fact (src 'fact') or a believed interval (src 'interval') of a touched pair, as loaded. */
interface LoadedRow {
  src: 'fact' | 'interval';
  alliance_id: string;
  organisation_id: string;
  event_id: string | null;
  kind: 'join' | 'leave' | null;
  on_date: string | null;
  on_text: string | null;
  precision: string | null;
  role: string | null;
  position: string | null;
  id: string | null;
  join_event_id: string | null;
  leave_event_id: string | null;
  recorded_from: Date | null;
}

/** A currently believed interval: one already stored (id) or one this batch will insert. */
interface OpenInterval {
  key: string;
  recordedFrom: number;
  id?: string;
  row?: IntervalRow;
}

interface PairState {
  allianceId: string;
  organisationId: string;
  facts: MembershipFact[];
  open: OpenInterval[];
}

const INTERVAL_COLUMNS: Array<keyof IntervalRow> = [
  'alliance_id',
  'organisation_id',
  'valid_from',
  'valid_to',
  'since_text',
  'since_precision',
  'until_text',
  'until_precision',
  'role',
  'join_event_id',
  'leave_event_id',
  'recorded_from',
  'recorded_to',
];

const intervalKey = (join: string, leave: string | null) => `${join}/${leave ?? ''}`;

class MembershipBatch {
  private readonly newFacts = new Map<string, FactRow>();
  private readonly retractions: Array<{ eventId: string; at: Date; by: string }> = [];
  private readonly links: OrganisationLink[] = [];
  private readonly deleteIds: string[] = [];
  private readonly closes: Array<{ id: string; at: Date }> = [];
  private readonly newIntervals: IntervalRow[] = [];
  /** New rows dropped again within the batch (opened and superseded at one recorded time). */
  private readonly dropped = new Set<IntervalRow>();

  private constructor(private readonly pairs: Map<string, PairState>) {}

  /** Reads the unretracted facts and the believed intervals of every pair the events touch. */
  static async load(trx: Kysely<DB>, events: RecordedEvent[]): Promise<MembershipBatch> {
    const pairs = new Map<string, PairState>();
    for (const e of events) {
      const p = pairOf(e);
      if (!pairs.has(p.key)) {
        pairs.set(p.key, { allianceId: p.allianceId, organisationId: p.organisationId, facts: [], open: [] });
      }
    }
    const alliances = [...new Set([...pairs.values()].map((p) => p.allianceId))];
    const organisations = [...new Set([...pairs.values()].map((p) => p.organisationId))];
    // Facts and believed intervals in one statement: a row is one or the other (src), planned on
    // every call. The pairs are the cross product of the alliances and organisations asked for,
    // a superset of the touched pairs (the same when the call touches one alliance, as a batch
    // of joins to one alliance does); rows of other pairs are skipped below. Two `= ANY`
    // conditions plan in a third of the time of a join with unnest() of the pairs, and the
    // rebuild (many alliances per call) ran at 21,246 events/s this way against 16,014 with
    // that join (questions bench, 1M events, one run each).
    const { rows: loaded } = await plannedPerCall(sql<LoadedRow>`
      SELECT 'fact' AS src, f.alliance_id, f.organisation_id, f.event_id::text AS event_id, f.kind, f.on_date::text AS on_date,
             f.on_text, f.precision, f.role, f.position::text AS position,
             NULL::text AS id, NULL::text AS join_event_id, NULL::text AS leave_event_id, NULL::timestamptz AS recorded_from
      FROM membership_facts f
      WHERE f.organisation_id = ANY(${organisations}::text[]) AND f.alliance_id = ANY(${alliances}::text[])
        AND f.retracted_at IS NULL
      UNION ALL
      SELECT 'interval', i.alliance_id, i.organisation_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
             i.id::text, i.join_event_id::text, i.leave_event_id::text, i.recorded_from
      FROM membership_intervals i
      WHERE i.organisation_id = ANY(${organisations}::text[]) AND i.alliance_id = ANY(${alliances}::text[])
        AND i.recorded_to IS NULL`).execute(trx);
    const rows = loaded.filter((r) => pairs.has(`${r.alliance_id}.${r.organisation_id}`));
    const facts = rows.filter((r) => r.src === 'fact');
    const open = rows.filter((r) => r.src === 'interval');
    for (const r of facts) {
      pairs.get(`${r.alliance_id}.${r.organisation_id}`)!.facts.push({
        eventId: r.event_id!,
        kind: r.kind!,
        date: r.on_date!,
        on: r.on_text!,
        precision: r.precision!,
        role: r.role ?? undefined,
        seq: Number(r.position),
      });
    }
    for (const r of open) {
      pairs.get(`${r.alliance_id}.${r.organisation_id}`)!.open.push({
        key: intervalKey(r.join_event_id!, r.leave_event_id),
        recordedFrom: r.recorded_from!.getTime(),
        id: r.id!,
      });
    }
    return new MembershipBatch(pairs);
  }

  apply(e: RecordedEvent) {
    const pair = this.pairs.get(pairOf(e).key)!;
    if (e.type === 'EventRetracted') {
      const d = e.data as EventRetracted;
      const pending = this.newFacts.get(d.eventId);
      if (pending) {
        pending.retracted_at = e.recordedAt;
        pending.retracted_by = e.id;
      } else {
        this.retractions.push({ eventId: d.eventId, at: e.recordedAt, by: e.id });
      }
      pair.facts = pair.facts.filter((f) => f.eventId !== d.eventId);
    } else {
      const d = e.data as MemberJoined & MemberLeft;
      const kind = e.type === 'MemberJoined' ? 'join' : 'leave';
      const date = parseValidDate(d.on).date;
      this.newFacts.set(e.id, {
        event_id: e.id,
        alliance_id: d.allianceId,
        organisation_id: d.organisationId,
        kind,
        on_date: date,
        on_text: d.on,
        precision: d.precision,
        role: d.role ?? null,
        source: d.source ?? null,
        note: d.note ?? null,
        reason: d.reason ?? null,
        position: e.position,
        recorded_at: e.recordedAt,
        retracted_at: null,
        retracted_by: null,
      });
      pair.facts.push({ eventId: e.id, kind, date, on: d.on, precision: d.precision, role: d.role, seq: Number(e.position) });
    }
    this.links.push({ organisationId: pair.organisationId, eventId: e.id, position: e.position });
    this.recompute(pair, e.recordedAt);
  }

  /** Closes (or, when opened at this very time, drops) the stale intervals and opens the new ones. */
  private recompute(pair: PairState, at: Date) {
    const time = at.getTime();
    const wanted = intervals([...pair.facts].sort(byValidTime));
    const wantedKeys = new Set(wanted.map((w) => intervalKey(w.from.eventId, w.to?.eventId ?? null)));
    const openKeys = new Set(pair.open.map((o) => o.key));
    for (const o of pair.open) {
      if (wantedKeys.has(o.key)) {
        continue;
      }
      const sameTime = o.recordedFrom === time;
      if (o.row) {
        if (sameTime) {
          this.dropped.add(o.row);
        } else {
          o.row.recorded_to = at;
        }
      } else if (sameTime) {
        this.deleteIds.push(o.id!);
      } else {
        this.closes.push({ id: o.id!, at });
      }
    }
    pair.open = pair.open.filter((o) => wantedKeys.has(o.key));
    for (const w of wanted) {
      const key = intervalKey(w.from.eventId, w.to?.eventId ?? null);
      if (openKeys.has(key)) {
        continue;
      }
      const row: IntervalRow = {
        alliance_id: pair.allianceId,
        organisation_id: pair.organisationId,
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
      };
      this.newIntervals.push(row);
      pair.open.push({ key, recordedFrom: time, row });
    }
  }

  /** Every change in one statement (the rows each part touches are disjoint). */
  async write(trx: Kysely<DB>) {
    const facts = [...this.newFacts.values()];
    const ts = (d: Date | null) => d?.toISOString() ?? null;
    const r = this.retractions;
    const c = this.closes;
    const rows = this.newIntervals.filter((row) => !this.dropped.has(row));
    await executeTogether(trx, [
      // One JSON document per statement: cheaper to encode and decode than fifteen arrays.
      facts.length > 0 &&
        sql`INSERT INTO membership_facts
            SELECT * FROM json_populate_recordset(NULL::membership_facts, ${JSON.stringify(facts)}::json)`,
      r.length > 0 &&
        plannedPerCall(sql`UPDATE membership_facts f SET retracted_at = r.at, retracted_by = r.by
            FROM unnest(${r.map((x) => x.eventId)}::uuid[], ${r.map((x) => ts(x.at))}::timestamptz[], ${r.map((x) => x.by)}::uuid[]) AS r(event_id, at, by)
            WHERE f.event_id = r.event_id`),
      insertOrganisationLinks(this.links),
      this.deleteIds.length > 0 && sql`DELETE FROM membership_intervals WHERE id = ANY(${this.deleteIds}::bigint[])`,
      c.length > 0 &&
        plannedPerCall(sql`UPDATE membership_intervals i SET recorded_to = c.at
            FROM unnest(${c.map((x) => x.id)}::bigint[], ${c.map((x) => ts(x.at))}::timestamptz[]) AS c(id, at)
            WHERE i.id = c.id`),
      rows.length > 0 &&
        sql`INSERT INTO membership_intervals (${sql.join(INTERVAL_COLUMNS.map((col) => sql.id(col)))})
            SELECT ${sql.join(INTERVAL_COLUMNS.map((col) => sql.id(col)))}
            FROM json_populate_recordset(NULL::membership_intervals, ${JSON.stringify(rows)}::json)`,
    ]);
  }
}
