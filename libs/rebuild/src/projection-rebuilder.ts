import { Inject, Injectable } from '@nestjs/common';
import { Kysely, sql } from 'kysely';
import { DATABASE, Database, DB } from '@app/db';
import { eventColumns, EventRow, RecordedEvent, toRecordedEvent } from '@app/event-store';
import { Projections } from '@app/shared';

/** Any fixed number; it only has to be the same for every process that rebuilds. */
export const REBUILD_LOCK_ID = 7_314_002;

export class RebuildRunningError extends Error {
  constructor() {
    super('a projection rebuild is already running (advisory lock held); wait for it to finish');
    this.name = 'RebuildRunningError';
  }
}

export interface RebuildProgress {
  events: number;
  seconds: number;
}

export interface RebuildResult {
  tables: string[];
  events: number;
  batches: number;
  seconds: number;
  eventsPerSecond: number;
}

export interface RebuildOptions {
  batchSize?: number;
  onProgress?: (p: RebuildProgress) => void;
  /** How long to keep trying to take the table locks while writers hold them. */
  lockWaitMs?: number;
  /**
   * 'stream' (the default) replays stream by stream, each in version order; 'position' in
   * global position order. See ReplayOrder.
   */
  order?: ReplayOrder;
}

/**
 * Every projection here is stream-local: what it writes for an event depends only on rows
 * written for earlier events of the same stream (a pair's facts and intervals, an
 * organisation's names, a funding's facts). So any order that keeps each stream's version
 * order yields the same tables; the rebuild test checks both orders against the inline
 * tables. Stream order is the fast one: a stream's events mostly land in one batch, so its
 * intervals are settled in memory and written once, instead of being written, read back and
 * closed batch after batch. A projection that reads across streams must use 'position'.
 */
export type ReplayOrder = 'stream' | 'position';

type Cursor = { position: string } | { streamId: string; version: number };

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Empties the projection tables and replays the whole log through the same Projections.apply
 * that appends run inline, in one REPEATABLE READ transaction:
 *
 * 1. The projection tables are locked (ACCESS EXCLUSIVE, NOWAIT, retried) before the
 *    transaction takes its snapshot. A writer that already touched them has committed by
 *    then, so its events are in the snapshot; a writer that had not blocks on them until the
 *    rebuild commits and then projects its own events onto the rebuilt tables. Taking the
 *    locks with NOWAIT means the rebuild never waits while holding some of them, so it can
 *    not deadlock with a writer.
 * 2. TRUNCATE, then the snapshot's events in batches, stream by stream (see ReplayOrder).
 *    Within a stream that is the order the inline projection saw them. The tables' non-unique indexes are dropped for the
 *    replay and built again after it (one sorted build instead of a million random
 *    insertions each). Unique ones stay (the projections' own lookups and guards), and so do
 *    those a migration marks with a comment starting "rebuild: keep" (the projections read
 *    through them while they write).
 *    A second connection on the same snapshot reads the next batch while one is projected.
 * 3. Commit: readers see the old tables until then (they wait on the lock), never half.
 *
 * A session advisory lock makes a second rebuild refuse at once instead of queueing.
 */
@Injectable()
export class ProjectionRebuilder {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly projections: Projections,
  ) {}

  async rebuild(options: RebuildOptions = {}): Promise<RebuildResult> {
    const batchSize = options.batchSize ?? 20_000;
    const tables = this.projections.tables();
    return this.db.connection().execute(async (conn) => {
      const lock = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${REBUILD_LOCK_ID}) AS ok`.execute(conn);
      if (!lock.rows[0].ok) {
        throw new RebuildRunningError();
      }
      try {
        await this.begin(conn, tables, options.lockWaitMs ?? 600_000);
        try {
          const result = await this.replay(conn, tables, batchSize, options.order ?? 'stream', options.onProgress);
          await sql`COMMIT`.execute(conn);
          return result;
        } catch (error) {
          await sql`ROLLBACK`.execute(conn);
          throw error;
        }
      } finally {
        await sql`SELECT pg_advisory_unlock(${REBUILD_LOCK_ID})`.execute(conn);
      }
    });
  }

  /** BEGIN and lock every projection table, retrying while writers hold locks on them. */
  private async begin(conn: Kysely<DB>, tables: string[], lockWaitMs: number) {
    const deadline = Date.now() + lockWaitMs;
    const list = sql.join(tables.map((t) => sql.table(t)));
    for (let attempt = 1; ; attempt++) {
      await sql`BEGIN ISOLATION LEVEL REPEATABLE READ`.execute(conn);
      try {
        await sql`LOCK TABLE ${list} IN ACCESS EXCLUSIVE MODE NOWAIT`.execute(conn);
        return;
      } catch (error) {
        await sql`ROLLBACK`.execute(conn);
        if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE || Date.now() > deadline) {
          throw error;
        }
        await new Promise((r) => setTimeout(r, Math.min(10 * attempt, 200) * (0.5 + Math.random())));
      }
    }
  }

  private async replay(
    conn: Kysely<DB>,
    tables: string[],
    batchSize: number,
    order: ReplayOrder,
    onProgress?: (p: RebuildProgress) => void,
  ): Promise<RebuildResult> {
    const started = performance.now();
    await sql`TRUNCATE ${sql.join(tables.map((t) => sql.table(t)))} RESTART IDENTITY`.execute(conn);
    const deferred = await this.dropSecondaryIndexes(conn, tables);
    const snapshot = (await sql<{ id: string }>`SELECT pg_export_snapshot() AS id`.execute(conn)).rows[0].id;
    let events = 0;
    let batches = 0;
    await this.db.connection().execute(async (reader) => {
      await sql`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`.execute(reader);
      try {
        await sql`SET TRANSACTION SNAPSHOT ${sql.lit(snapshot)}`.execute(reader);
        const start: Cursor = order === 'stream' ? { streamId: '', version: 0 } : { position: '0' };
        const after = (e: RecordedEvent): Cursor => (order === 'stream' ? { streamId: e.streamId, version: e.version } : { position: e.position });
        let next = this.read(reader, start, batchSize);
        for (;;) {
          const batch = await next;
          if (batch.length === 0) {
            break;
          }
          next = this.read(reader, after(batch[batch.length - 1]), batchSize);
          // The read ahead must not reject unobserved while this batch is projected.
          next.catch(() => undefined);
          await this.projections.apply(conn, batch);
          events += batch.length;
          batches++;
          onProgress?.({ events, seconds: (performance.now() - started) / 1000 });
        }
      } finally {
        await sql`COMMIT`.execute(reader);
      }
    });
    for (const definition of deferred) {
      await sql.raw(definition).execute(conn);
    }
    await sql`ANALYZE ${sql.join(tables.map((t) => sql.table(t)))}`.execute(conn);
    const seconds = (performance.now() - started) / 1000;
    return { tables, events, batches, seconds, eventsPerSecond: Math.round(events / Math.max(seconds, 1e-6)) };
  }

  /** Drops the non-unique, unmarked indexes of the tables and returns the statements that recreate them. */
  private async dropSecondaryIndexes(conn: Kysely<DB>, tables: string[]): Promise<string[]> {
    const indexes = await sql<{ name: string; definition: string }>`
      SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
      WHERE t.relname = ANY(${tables}::text[]) AND t.relnamespace = current_schema()::regnamespace
        AND NOT i.indisunique AND NOT i.indisprimary
        AND COALESCE(obj_description(i.indexrelid, 'pg_class'), '') NOT LIKE 'rebuild: keep%'`.execute(conn);
    for (const index of indexes.rows) {
      await sql`DROP INDEX ${sql.id(index.name)}`.execute(conn);
    }
    return indexes.rows.map((index) => index.definition);
  }

  private async read(conn: Kysely<DB>, after: Cursor, limit: number): Promise<RecordedEvent[]> {
    const [where, order] =
      'position' in after
        ? [sql`events.global_position > ${after.position}::bigint`, sql`events.global_position`]
        : [sql`(events.stream_id, events.stream_version) > (${after.streamId}, ${after.version})`, sql`events.stream_id, events.stream_version`];
    const result = await sql<EventRow>`
      SELECT ${eventColumns()}
      FROM events WHERE ${where}
      ORDER BY ${order} LIMIT ${limit}`.execute(conn);
    return result.rows.map(toRecordedEvent);
  }
}
