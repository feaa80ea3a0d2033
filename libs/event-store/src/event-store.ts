import { randomUUID } from 'node:crypto';
import { Kysely, sql } from 'kysely';
import { DB, plannedPerCall } from '@app/db';
import { ConcurrencyError, IdempotencyError } from './errors';
import type { AppendRequest, AppendResult, ExpectedVersion, NewEvent, RecordedEvent } from './types';

/** A row of `events` as `eventColumns()` selects it; `toRecordedEvent` turns it into an event. */
export interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: string;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: Date;
}

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
  /** Run inside the caller's transaction (inline projections commit with the events). */
  trx?: Kysely<DB>;
}

export interface ReadAllOptions {
  /** A position: the page starts after that event in commit order. */
  after?: string | null;
  limit?: number;
  types?: string[];
  streamId?: string;
}

/**
 * The select list every reader of the log uses, optionally qualified by a table alias. int8 and
 * xid8 come back as text (they outgrow a JS number); ORDER BY must name the qualified columns,
 * since the text aliases would sort as text.
 */
export function eventColumns(alias?: string) {
  const c = alias ? `${alias}.` : '';
  return sql.raw(
    `${c}global_position::text AS global_position, ${c}transaction_id::text AS transaction_id, ${c}stream_id, ` +
      `${c}stream_version::text AS stream_version, ${c}event_id::text AS event_id, ${c}type, ${c}schema_version, ` +
      `${c}data, ${c}metadata, ${c}recorded_at`,
  );
}

const COLUMNS = eventColumns();

/**
 * Subscribers deliver in (transaction_id, global_position) order, so a stream's versions only
 * ascend in that order if whoever appends after version V has a transaction id no lower than
 * the writer of V. `s` is the stream's row, locked by the statement: its xmin is that writer.
 * age(xmin) >= 0 says "this transaction or an older one" and needs no snapshot, so it holds
 * after waiting for a concurrent writer's lock too. Wraparound arithmetic is only meaningful
 * for recent rows; for rows older than 2^31 transactions the writer's event, long committed
 * and visible, decides.
 */
const IN_STREAM_ORDER = sql`(s.version = 0 OR age(s.xmin) >= 0
  OR (SELECT e.transaction_id FROM events e WHERE e.stream_id = s.stream_id AND e.stream_version = s.version)
     <= pg_current_xact_id())`;
/** The same check without the event lookup, for a single append's first attempt (cheaper to plan). */
const IN_STREAM_ORDER_RECENT = sql`(s.version = 0 OR age(s.xmin) >= 0)`;

/** What an append reads back: the rest of each event it already has. */
const APPENDED = sql`global_position::text, transaction_id::text, stream_version::text, event_id::text, recorded_at`;
interface AppendedRow {
  global_position: string;
  transaction_id: string;
  stream_version: string;
  event_id: string;
  recorded_at: Date;
}

/** An appended event from what was sent and what the insert returned. */
function appended(
  row: AppendedRow,
  streamId: string,
  event: NewEvent,
  json: { data: string; metadata: string },
): RecordedEvent {
  return {
    id: row.event_id,
    streamId,
    version: Number(row.stream_version),
    position: row.global_position,
    transactionId: row.transaction_id,
    type: event.type,
    schemaVersion: event.schemaVersion ?? 1,
    // As stored: the JSON text that was sent, parsed (jsonb keeps no key order).
    data: JSON.parse(json.data),
    metadata: JSON.parse(json.metadata),
    recordedAt: row.recorded_at,
  };
}

const toJson = (e: NewEvent) => ({ data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata ?? {}) });

/** An append that lost the ordering check alone is retried as a new transaction (a newer id). */
const ORDER_ATTEMPTS = 10;

/** The channel subscription runners LISTEN on. */
export const EVENTS_CHANNEL = 'events_appended';

/** A concurrent append recorded one of these ids first (a race the pre-check cannot see). */
function duplicateIdError(error: unknown, eventId: string): unknown {
  const pg = error as { code?: string; constraint?: string };
  return pg.code === '23505' && pg.constraint === 'events_event_id_key'
    ? new IdempotencyError(eventId, 'by a concurrent append; retry to get the recorded result')
    : error;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    streamId: row.stream_id,
    version: Number(row.stream_version),
    position: row.global_position,
    transactionId: row.transaction_id,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}

/**
 * The append-only log. Expected versions are enforced in SQL before a global position is
 * taken: the stream-version change and the event insert are one statement, and when the
 * version check matches no row the insert has no rows to number.
 */
export class EventStore {
  private notifyTimer: NodeJS.Timeout | null = null;

  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Wakes subscription runners (LISTEN events_appended) after a commit. Debounced to one
   * NOTIFY per 10 ms per process (every 2 ms cost single appends ~10% of their rate at 8
   * connections), sent from its own transaction that writes nothing, so appends never queue
   * behind the notification lock. Appends without a caller transaction call it themselves;
   * callers that commit their own transaction call it after.
   */
  notifyCommitted(): void {
    if (this.notifyTimer) {
      return;
    }
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      sql`SELECT pg_notify(${EVENTS_CHANNEL}, '')`.execute(this.db).catch(() => undefined);
    }, 10);
    this.notifyTimer.unref();
  }

  async append(streamId: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    if (events.length === 0) {
      throw new Error('append needs at least one event');
    }
    const db = options.trx ?? this.db;
    const suppliedIds = events.some((e) => e.id !== undefined);
    const prepared = events.map((e) => ({ ...e, id: e.id ?? randomUUID() }));
    const expected = options.expectedVersion === 0 ? 'no-stream' : options.expectedVersion;

    if (suppliedIds) {
      // A duplicate id would otherwise surface as a unique violation and abort the caller's
      // transaction; checking first keeps a re-append a clean no-op.
      const existing = await this.findAlreadyRecorded(db, streamId, prepared, expected);
      if (existing) {
        return existing;
      }
    }

    const json = prepared.map(toJson);
    for (let attempt = 1; ; attempt++) {
      // The first attempt checks stream order the cheap way; one that fails it looks again in full.
      const rows = await this.insertWithVersionCheck(db, streamId, prepared, json, expected, attempt > 1).catch(
        (error) => {
          throw duplicateIdError(error, prepared[0].id);
        },
      );
      if (rows.length > 0) {
        rows.sort((a, b) => Number(a.stream_version) - Number(b.stream_version));
        const recorded = rows.map((row, i) => appended(row, streamId, prepared[i], json[i]));
        if (!options.trx) {
          this.notifyCommitted();
        }
        return {
          streamId,
          nextExpectedVersion: recorded[recorded.length - 1].version,
          events: recorded,
          alreadyRecorded: false,
        };
      }

      if (suppliedIds) {
        const existing = await this.findAlreadyRecorded(db, streamId, prepared, expected);
        if (existing) {
          return existing;
        }
      }
      const actual = await this.streamVersion(streamId, db);
      // The version was right (or did not matter), so the stream-order check refused it.
      const outOfOrder = expected === 'any' || actual === expected;
      if (outOfOrder && (attempt === 1 || (!options.trx && attempt < ORDER_ATTEMPTS))) {
        continue;
      }
      throw new ConcurrencyError(streamId, options.expectedVersion, actual, outOfOrder ? 'order' : 'version');
    }
  }

  /**
   * Many streams in one transaction: imports and write batches. Every stream's version is
   * reserved and every event inserted by one statement; a stream whose expected version (or
   * stream order) does not hold gets no events, and its ConcurrencyError leaves the caller's
   * transaction to roll back the others. Stream rows are locked in stream-id order first, so
   * two concurrent calls over the same streams wait for each other instead of deadlocking.
   */
  async appendMany(requests: AppendRequest[], trx?: Kysely<DB>): Promise<AppendResult[]> {
    if (!trx) {
      for (let attempt = 1; ; attempt++) {
        try {
          const results = await this.db.transaction().execute((t) => this.appendMany(requests, t));
          this.notifyCommitted();
          return results;
        } catch (error) {
          if (!(error instanceof ConcurrencyError && error.reason === 'order') || attempt >= ORDER_ATTEMPTS) {
            throw error;
          }
        }
      }
    }
    const ids = new Set<string>();
    for (const r of requests) {
      if (ids.has(r.streamId)) {
        throw new Error(`appendMany got stream ${r.streamId} twice; merge its events into one request`);
      }
      ids.add(r.streamId);
    }
    const writes = requests.filter((r) => r.events.length > 0);
    if (writes.length === 0) {
      return requests.map((r) => ({ streamId: r.streamId, nextExpectedVersion: 0, events: [], alreadyRecorded: false }));
    }
    const flat = writes.flatMap((r) => r.events.map((e, i) => ({ ...e, id: e.id ?? randomUUID(), streamId: r.streamId, n: i + 1 })));
    const json = flat.map(toJson);
    // Expected versions as numbers: -1 for no-stream (0 means the same), -2 for any.
    const expected = writes.map((r) =>
      r.expectedVersion === 'no-stream' || r.expectedVersion === 0 ? -1 : r.expectedVersion === 'any' ? -2 : r.expectedVersion,
    );
    const result = await sql<AppendedRow & { stream_id: string }>`
      WITH locked AS (
        SELECT stream_id FROM streams WHERE stream_id = ANY(${[...ids].sort()}::text[]) ORDER BY stream_id FOR UPDATE
      ), r AS (
        SELECT * FROM unnest(${writes.map((w) => w.streamId)}::text[], ${expected}::bigint[],
                             ${writes.map((w) => w.events.length)}::bigint[]) AS r(stream_id, expected, count)
        WHERE (SELECT count(*) FROM locked) >= 0
      ), fresh AS (
        INSERT INTO streams (stream_id, version) SELECT stream_id, count FROM r WHERE expected = -1 ORDER BY stream_id
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING stream_id, version
      ), anyv AS (
        INSERT INTO streams AS s (stream_id, version) SELECT stream_id, count FROM r WHERE expected = -2 ORDER BY stream_id
        ON CONFLICT (stream_id) DO UPDATE SET version = s.version + excluded.version, updated_at = now()
        WHERE ${IN_STREAM_ORDER}
        RETURNING stream_id, version
      ), exact AS (
        UPDATE streams s SET version = s.version + r.count, updated_at = now() FROM r
        WHERE r.expected >= 0 AND s.stream_id = r.stream_id AND s.version = r.expected AND ${IN_STREAM_ORDER}
        RETURNING s.stream_id, s.version
      ), v AS (
        SELECT * FROM fresh UNION ALL SELECT * FROM anyv UNION ALL SELECT * FROM exact
      )
      INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
      SELECT t.stream_id, v.version - r.count + t.n, t.id, t.type, t.schema_version, t.data, t.metadata
      FROM unnest(${flat.map((e) => e.streamId)}::text[], ${flat.map((e) => e.n)}::bigint[],
                  ${flat.map((e) => e.id)}::uuid[], ${flat.map((e) => e.type)}::text[],
                  ${flat.map((e) => e.schemaVersion ?? 1)}::int[],
                  ${json.map((j) => j.data)}::jsonb[], ${json.map((j) => j.metadata)}::jsonb[])
           WITH ORDINALITY AS t(stream_id, n, id, type, schema_version, data, metadata, ord)
      JOIN v ON v.stream_id = t.stream_id
      JOIN r ON r.stream_id = t.stream_id
      ORDER BY t.ord
      RETURNING stream_id, ${APPENDED}`.execute(trx);
    const rows = new Map(result.rows.map((row) => [row.stream_id, row]));
    for (const [i, r] of writes.entries()) {
      if (!rows.has(r.streamId)) {
        const actual = await this.streamVersion(r.streamId, trx);
        const exactMatch = expected[i] === -2 || (expected[i] === -1 ? actual === 0 : actual === expected[i]);
        throw new ConcurrencyError(r.streamId, r.expectedVersion, actual, exactMatch ? 'order' : 'version');
      }
    }
    const byStream = new Map<string, RecordedEvent[]>(writes.map((r) => [r.streamId, []]));
    const byId = new Map(result.rows.map((row) => [row.event_id, row]));
    flat.forEach((e, i) => byStream.get(e.streamId)!.push(appended(byId.get(e.id.toLowerCase())!, e.streamId, e, json[i])));
    return requests.map((r) => {
      const events = byStream.get(r.streamId) ?? [];
      return {
        streamId: r.streamId,
        nextExpectedVersion: events.length ? events[events.length - 1].version : 0,
        events,
        alreadyRecorded: false,
      };
    });
  }

  async readStream(
    streamId: string,
    options: { fromVersion?: number; limit?: number; trx?: Kysely<DB> } = {},
  ): Promise<RecordedEvent[]> {
    const result = await sql<EventRow>`
      SELECT ${COLUMNS} FROM events
      WHERE stream_id = ${streamId} AND stream_version >= ${options.fromVersion ?? 1}
      ORDER BY events.stream_version
      LIMIT ${options.limit ?? 1_000_000}`.execute(options.trx ?? this.db);
    return result.rows.map(toRecordedEvent);
  }

  /** Several whole streams in one round trip, each in version order; a stream never written reads as []. */
  async readStreams(streamIds: string[], db: Kysely<DB> = this.db): Promise<Map<string, RecordedEvent[]>> {
    const byStream = new Map<string, RecordedEvent[]>(streamIds.map((id) => [id, []]));
    if (streamIds.length === 0) {
      return byStream;
    }
    const result = await plannedPerCall(sql<EventRow>`
      SELECT ${COLUMNS} FROM events
      WHERE stream_id = ANY(${[...byStream.keys()]}::text[])
      ORDER BY events.stream_id, events.stream_version`).execute(db);
    for (const row of result.rows) {
      byStream.get(row.stream_id)!.push(toRecordedEvent(row));
    }
    return byStream;
  }

  /**
   * The committed log in commit order. Only transactions older than every in-flight one are
   * returned, so a later page never turns up an event that belongs before an earlier page.
   */
  async readAll(options: ReadAllOptions = {}, db: Kysely<DB> = this.db): Promise<RecordedEvent[]> {
    const result = await this.readAllStatement(options).execute(db);
    return result.rows.map(toRecordedEvent);
  }

  /** The statement readAll runs (the benchmark EXPLAINs it). */
  readAllStatement(options: ReadAllOptions = {}) {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 10_000);
    if (options.streamId) {
      // One stream commits in version order (its row in streams serialises appends), so it
      // needs no snapshot horizon and shows a curator's own write at once.
      return sql<EventRow>`
        SELECT ${COLUMNS} FROM events
        WHERE stream_id = ${options.streamId}
          ${options.after ? sql`AND global_position > ${options.after}::bigint` : sql``}
          ${options.types?.length ? sql`AND type = ANY(${options.types}::text[])` : sql``}
        ORDER BY events.stream_version
        LIMIT ${limit}`;
    }
    // `after` names an event; one that does not exist (0, or a position a rolled-back append
    // took) anchors at the last event before it, so a client never reads an empty log for ever.
    // Two scalar look-ups, not one record: only a comparison of row constructors is an index
    // condition (a record from COALESCE made this a filter over the whole log: 185 ms a page).
    const anchor = (column: string) =>
      sql`(SELECT ${sql.ref(column)} FROM events WHERE global_position <= ${options.after}::bigint
           ORDER BY global_position DESC LIMIT 1)`;
    const after =
      options.after && options.after !== '0'
        ? sql`AND (transaction_id, global_position) > (
            COALESCE(${anchor('transaction_id')}, '0'::xid8), COALESCE(${anchor('global_position')}, 0::bigint))`
        : sql``;
    const types = options.types?.length ? sql`AND type = ANY(${options.types}::text[])` : sql``;
    return sql<EventRow>`
      SELECT ${COLUMNS} FROM events
      WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ${after} ${types}
      ORDER BY events.transaction_id, events.global_position
      LIMIT ${limit}`;
  }

  /**
   * The knownAt an answer can be given for without ever changing later: `requested` when every
   * event recorded by then has committed; otherwise (a writer still in flight, or a moment not
   * yet passed) the latest moment for which that holds. Appending transactions record in commit
   * order under one lock (see the migration commit_ordered_recording), which makes this exact.
   */
  async settledKnownAt(requested: Date): Promise<Date> {
    // Its own statement, never inside a caller's transaction: it holds a shared append lock
    // while it runs, which must end with it.
    const { rows } = await sql<{ known_at: Date }>`SELECT events_settled_known_at(${requested}::timestamptz) AS known_at`.execute(this.db);
    return rows[0].known_at;
  }

  async readEvent(eventId: string, db: Kysely<DB> = this.db): Promise<RecordedEvent | null> {
    const result = await sql<EventRow>`SELECT ${COLUMNS} FROM events WHERE event_id = ${eventId}::uuid`.execute(db);
    return result.rows.length ? toRecordedEvent(result.rows[0]) : null;
  }

  async streamVersion(streamId: string, db: Kysely<DB> = this.db): Promise<number> {
    const row = await db.selectFrom('streams').select('version').where('stream_id', '=', streamId).executeTakeFirst();
    return row ? Number(row.version) : 0;
  }

  private async insertWithVersionCheck(
    db: Kysely<DB>,
    streamId: string,
    events: Array<NewEvent & { id: string }>,
    json: Array<{ data: string; metadata: string }>,
    expected: ExpectedVersion,
    fullOrderCheck: boolean,
  ): Promise<AppendedRow[]> {
    const count = events.length;
    const inStreamOrder = fullOrderCheck ? IN_STREAM_ORDER : IN_STREAM_ORDER_RECENT;
    // The CTE yields the new stream version, or no row when the expectation fails.
    const version =
      expected === 'no-stream'
        ? sql`INSERT INTO streams (stream_id, version) VALUES (${streamId}, ${count})
              ON CONFLICT (stream_id) DO NOTHING RETURNING version`
        : expected === 'any'
          ? sql`INSERT INTO streams AS s (stream_id, version) VALUES (${streamId}, ${count})
                ON CONFLICT (stream_id) DO UPDATE SET version = s.version + excluded.version, updated_at = now()
                WHERE ${inStreamOrder}
                RETURNING version`
          : sql`UPDATE streams AS s SET version = s.version + ${count}, updated_at = now()
                WHERE s.stream_id = ${streamId} AND s.version = ${expected} AND ${inStreamOrder}
                RETURNING version`;
    // One event (the common case) as plain parameters: no arrays to encode, unnest and sort.
    const [one] = events;
    const rows =
      count === 1
        ? sql`SELECT ${streamId}, v.version, ${one.id}::uuid, ${one.type}, ${one.schemaVersion ?? 1}::int,
                     ${json[0].data}::jsonb, ${json[0].metadata}::jsonb
              FROM v`
        : sql`SELECT ${streamId}, v.version - ${count} + t.ord, t.id, t.type, t.schema_version, t.data, t.metadata
              FROM v, unnest(${events.map((e) => e.id)}::uuid[], ${events.map((e) => e.type)}::text[],
                             ${events.map((e) => e.schemaVersion ?? 1)}::int[],
                             ${json.map((j) => j.data)}::jsonb[], ${json.map((j) => j.metadata)}::jsonb[])
                   WITH ORDINALITY AS t(id, type, schema_version, data, metadata, ord)
              ORDER BY t.ord`;
    const result = await sql<AppendedRow>`
      WITH v AS (${version})
      INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
      ${rows}
      RETURNING ${APPENDED}`.execute(db);
    return result.rows;
  }

  /**
   * A re-append of ids that are already in the log succeeds without writing only when they
   * sit in this stream, in this order, at the positions the expected version implies.
   */
  private async findAlreadyRecorded(
    db: Kysely<DB>,
    streamId: string,
    events: Array<{ id: string }>,
    expected: ExpectedVersion,
  ): Promise<AppendResult | null> {
    const ids = events.map((e) => e.id);
    const rows = (
      await sql<EventRow>`SELECT ${COLUMNS} FROM events WHERE event_id = ANY(${ids}::uuid[])`.execute(db)
    ).rows.map(toRecordedEvent);
    if (rows.length === 0) {
      return null;
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    const firstVersion = expected === 'no-stream' ? 1 : typeof expected === 'number' ? expected + 1 : undefined;
    const start = byId.get(ids[0])?.version ?? -1;
    const ordered: RecordedEvent[] = [];
    for (const [i, id] of ids.entries()) {
      const found = byId.get(id);
      if (!found) {
        throw new IdempotencyError(rows[0].id, `in stream ${rows[0].streamId}, but ${id} of the same append was not`);
      }
      const where = `in stream ${found.streamId} at version ${found.version}`;
      if (found.streamId !== streamId || found.version !== start + i) {
        throw new IdempotencyError(id, `${where}, not as part of this append to ${streamId}`);
      }
      if (firstVersion !== undefined && start !== firstVersion) {
        throw new IdempotencyError(id, `${where}, not at version ${firstVersion + i}`);
      }
      ordered.push(found);
    }
    return {
      streamId,
      nextExpectedVersion: ordered[ordered.length - 1].version,
      events: ordered,
      alreadyRecorded: true,
    };
  }
}
