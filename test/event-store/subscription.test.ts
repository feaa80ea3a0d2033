import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, Transaction } from 'kysely';
import type { DB } from '@app/db';
import {
  ConcurrencyError,
  EventStore,
  NewEvent,
  RecordedEvent,
  SubscriptionOptions,
  SubscriptionRunner,
} from '@app/event-store';
import { createTestDatabase, TestDatabase } from '../support/test-database';

class Rollback extends Error {}

describe('SubscriptionRunner', () => {
  let t: TestDatabase;
  let store: EventStore;
  let runners: SubscriptionRunner[] = [];
  let errors: unknown[] = [];

  /**
   * Polls until `check` holds; fails with `what` once the (generous) deadline passes. Reads of the
   * log stall while any older transaction is open anywhere on the server (rule 4), so tests wait
   * for what they expect instead of reading once.
   */
  async function waitFor(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 20_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (!(await check())) {
      if (Date.now() > until) {
        throw new Error(`timed out waiting for ${what} (runner errors: ${errors.map(String).join('; ') || 'none'})`);
      }
      await sleep(20);
    }
  }

  const ev = (n: number, id: string = randomUUID()): NewEvent => ({ id, type: 'Thing', data: { n } });

  function makeRunner(options: Partial<SubscriptionOptions> & Pick<SubscriptionOptions, 'name' | 'handler'>) {
    const runner = new SubscriptionRunner(t.db, t.url, {
      batchSize: 50,
      pollIntervalMs: 10,
      lockRetryMs: 50,
      onError: (error) => errors.push(error),
      ...options,
    });
    runners.push(runner);
    return runner;
  }

  /** A handler that records each event id in `table` (event_id primary key) inside the batch's transaction. */
  const recordInto =
    (table: string, runnerLabel = '') =>
    async (events: RecordedEvent[], trx: Transaction<DB>) => {
      await sql`INSERT INTO ${sql.table(table)} (event_id, runner)
                SELECT unnest(${events.map((e) => e.id)}::uuid[]), ${runnerLabel}`.execute(trx);
    };

  const count = async (table: string, where = sql`true`) =>
    Number(
      (await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(table)} WHERE ${where}`.execute(t.db))
        .rows[0].n,
    );

  // A database per test: a subscription follows the whole log, so tests must not see each other's events.
  beforeEach(async () => {
    t = await createTestDatabase({ poolSize: 16 });
    store = new EventStore(t.db);
  });
  afterEach(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    runners = [];
    errors = [];
    await t.destroy();
  });

  it('never skips: concurrent writers, rollbacks and a long transaction; every committed event exactly once, in stream order', async () => {
    await sql`CREATE TABLE seen (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, stream_id text NOT NULL,
                                 version bigint NOT NULL, transaction_id xid8 NOT NULL)`.execute(t.db);
    // Deliberately no unique constraint on event_id: a duplicate delivery must show up as a second row.
    const delivered: RecordedEvent[] = [];
    const runner = makeRunner({
      name: 'never-skips',
      batchSize: 25,
      handler: async (events, trx) => {
        delivered.push(...events);
        await sql`INSERT INTO seen (event_id, stream_id, version, transaction_id)
                  SELECT * FROM unnest(${events.map((e) => e.id)}::uuid[], ${events.map((e) => e.streamId)}::text[],
                                       ${events.map((e) => e.version)}::bigint[],
                                       ${events.map((e) => e.transactionId)}::xid8[])`.execute(trx);
      },
    });
    runner.start();

    const committed = new Set<string>();
    const notCommitted = new Set<string>();
    const shared = Array.from({ length: 8 }, (_, i) => `shared-${i}`);
    const pick = () => shared[Math.floor(Math.random() * shared.length)];
    let stopWriters = false;
    let writes = 0;

    // Ten writers, each on its own pooled connection, until told to stop.
    const writer = async (w: number) => {
      for (let i = 0; !stopWriters; i++) {
        const mode = i % 6;
        const ids = [randomUUID(), randomUUID()];
        try {
          if (mode === 0 || mode === 1) {
            await store.append(pick(), [ev(i, ids[0])], { expectedVersion: 'any' });
            committed.add(ids[0]);
          } else if (mode === 2) {
            // Decide against the version read, as a command handler does.
            const stream = pick();
            const version = await store.streamVersion(stream);
            await store.append(stream, [ev(i, ids[0])], { expectedVersion: version });
            committed.add(ids[0]);
          } else if (mode === 3) {
            // One transaction, two streams: its own first (taking an xid), then a shared one.
            await t.db.transaction().execute(async (trx) => {
              await store.append(`own-${w}`, [ev(i, ids[0])], { expectedVersion: 'any', trx });
              await store.append(pick(), [ev(i, ids[1])], { expectedVersion: 'any', trx });
            });
            ids.forEach((id) => committed.add(id));
          } else {
            // Appended, then rolled back: these must never be delivered.
            await t.db
              .transaction()
              .execute(async (trx) => {
                await store.append(pick(), [ev(i, ids[0])], { expectedVersion: 'any', trx });
                await store.append(`own-${w}`, [ev(i, ids[1])], { expectedVersion: 'any', trx });
                await sleep(mode === 4 ? 0 : 5);
                throw new Rollback();
              })
              .catch((error) => {
                if (!(error instanceof Rollback)) {
                  throw error;
                }
              });
            ids.forEach((id) => notCommitted.add(id));
          }
        } catch (error) {
          if (!(error instanceof ConcurrencyError)) {
            throw error;
          }
          // Lost a race on the expected version: nothing of that transaction was committed.
          ids.forEach((id) => notCommitted.add(id));
        }
        writes++;
      }
    };
    const writers = Array.from({ length: 10 }, (_, w) => writer(w));

    // One transaction takes its xid early and stays open for three seconds while the writers
    // commit; only then does it append. Appends are serialised (an append holds the append lock
    // until it commits), so it cannot hold events of its own while others commit, but its xid
    // still holds back every later transaction's events: a reader ordering by position alone
    // would have delivered them, and then skipped the long one's event, numbered after them.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let longTxId: string | undefined;
    let longEvent: RecordedEvent | undefined;
    const longId = randomUUID();
    await waitFor('the writers to get going', () => writes >= 20);
    const long = t.db.transaction().execute(async (trx) => {
      longTxId = (await sql<{ xid: string }>`SELECT pg_current_xact_id()::text AS xid`.execute(trx)).rows[0].xid;
      await released;
      longEvent = (await store.append('long', [ev(0, longId)], { expectedVersion: 'no-stream', trx })).events[0];
    });
    await waitFor('the long transaction to take its xid', () => longTxId !== undefined);
    const writesBefore = writes;
    await sleep(3000);

    // While it is open: later transactions have committed ...
    const later = await sql<{ n: string }>`
      SELECT count(*)::text AS n FROM events WHERE transaction_id > ${longTxId!}::xid8`.execute(t.db);
    expect(writes).toBeGreaterThan(writesBefore);
    expect(Number(later.rows[0].n)).toBeGreaterThan(0);
    // ... and the runner has delivered none of them: it stalls behind the open transaction.
    const longTx = BigInt(longTxId!);
    expect(delivered.filter((e) => BigInt(e.transactionId) >= longTx)).toEqual([]);

    release();
    await long;
    committed.add(longId);
    // Its event is numbered after events of younger transactions, and is delivered all the same.
    const overtaken = await sql<{ n: string }>`
      SELECT count(*)::text AS n FROM events
      WHERE transaction_id > ${longTxId!}::xid8 AND global_position < ${longEvent!.position}::bigint`.execute(t.db);
    expect(Number(overtaken.rows[0].n)).toBeGreaterThan(0);
    await sleep(300);
    stopWriters = true;
    await Promise.all(writers);

    await waitFor('every committed event to be delivered', async () => (await count('seen')) >= committed.size);
    await runner.stop();
    // Nothing is left behind the checkpoint.
    expect(await runner.drain()).toBe(0);
    expect(errors).toEqual([]);

    const rows = (
      await sql<{ event_id: string; stream_id: string; version: string }>`
        SELECT event_id, stream_id, version::text FROM seen ORDER BY seq`.execute(t.db)
    ).rows;
    const seenIds = rows.map((r) => r.event_id);
    expect(notCommitted.size).toBeGreaterThan(0);
    expect(seenIds.filter((id) => notCommitted.has(id))).toEqual([]);
    expect(seenIds).toHaveLength(committed.size);
    expect(new Set(seenIds).size).toBe(seenIds.length);
    expect(new Set(seenIds)).toEqual(committed);
    // Everything in the log was delivered (the writers' view and the table agree).
    expect(await count('events')).toBe(committed.size);

    // Per stream, versions arrive ascending and without gaps.
    const perStream = new Map<string, number[]>();
    for (const r of rows) {
      perStream.set(r.stream_id, [...(perStream.get(r.stream_id) ?? []), Number(r.version)]);
    }
    for (const versions of perStream.values()) {
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
  });

  it('keeps each stream in version order when a transaction took its xid before the stream last moved', async () => {
    await sql`CREATE TABLE order_seen (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, runner text NOT NULL,
                                       stream_id text, version bigint)`.execute(t.db);
    await store.append('ordered', [ev(1)], { expectedVersion: 'no-stream' });
    let proceed!: () => void;
    const gate = new Promise<void>((resolve) => (proceed = resolve));
    let started = false;
    // This transaction takes an xid first, then waits while another append moves
    // the stream on, then appends to that stream: in commit order its event would come first.
    const early = t.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_current_xact_id()`.execute(trx);
      started = true;
      await gate;
      return store.append('ordered', [ev(3)], { expectedVersion: 'any', trx });
    });
    await waitFor('the early transaction to write', () => started);
    await store.append('ordered', [ev(2)], { expectedVersion: 1 });
    proceed();
    await expect(early).rejects.toBeInstanceOf(ConcurrencyError);
    // Retried as a new transaction, it lands after version 2 in every order.
    await t.db.transaction().execute(async (trx) => {
      await store.append('elsewhere', [ev(1)], { expectedVersion: 'any', trx });
      await store.append('ordered', [ev(3)], { expectedVersion: 'any', trx });
    });

    const versions: number[] = [];
    const runner = makeRunner({
      name: 'ordered',
      handler: async (events) => {
        versions.push(...events.filter((e) => e.streamId === 'ordered').map((e) => e.version));
      },
    });
    await waitFor('three events of the stream', async () => {
      await runner.drain();
      return versions.length >= 3;
    });
    expect(versions).toEqual([1, 2, 3]);
    const all = await store.readAll({ limit: 1000 });
    expect(all.filter((e) => e.streamId === 'ordered').map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it('appends in their own transactions racing to create streams still commit in version order', async () => {
    // Concurrent "any" appends to streams that do not exist yet: the loser of the insert race
    // took its transaction id before the winner did. Without the order check its event would
    // come first in commit order; with it, the append is retried as a new transaction.
    for (let round = 0; round < 100; round++) {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.append(`race-${round}-${i % 5}`, [ev(i)], { expectedVersion: 'any' }),
        ),
      );
    }
    const versions = new Map<string, number[]>();
    let after: string | null = null;
    let read = 0;
    await waitFor('all 4,000 events in commit order', async () => {
      for (;;) {
        const page = await store.readAll({ after, limit: 1000 });
        if (page.length === 0) {
          return read >= 4000;
        }
        for (const e of page) {
          versions.set(e.streamId, [...(versions.get(e.streamId) ?? []), e.version]);
        }
        read += page.length;
        after = page[page.length - 1].position;
      }
    });
    expect(read).toBe(4000);
    expect(versions.size).toBe(500);
    for (const list of versions.values()) {
      expect(list).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
  });

  it('reads streams and the log in numeric order past version and position 9', async () => {
    // Text-typed output columns named like the table's would sort "10" before "2".
    await store.append('numeric', Array.from({ length: 12 }, (_, i) => ev(i + 1)), { expectedVersion: 'no-stream' });
    expect((await store.readStream('numeric')).map((e) => e.version)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    let page: RecordedEvent[] = [];
    await waitFor('the twelve events in the log', async () => (page = await store.readAll({ limit: 100 })).length >= 12);
    expect(page.map((e) => Number(e.position))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect((await store.readAll({ streamId: 'numeric', after: '3' })).map((e) => e.version)).toEqual(
      Array.from({ length: 9 }, (_, i) => i + 4),
    );
  });

  describe('checkpoints', () => {
    beforeEach(async () => {
      await sql`CREATE TABLE handled (event_id uuid PRIMARY KEY, runner text NOT NULL)`.execute(t.db);
    });

    it('survive a restart: a new runner continues where the stopped one committed, nothing twice', async () => {
      const streams = Array.from({ length: 30 }, (_, s) => ({
        streamId: `restart-${s}`,
        events: Array.from({ length: 10 }, (_, i) => ev(i)),
        expectedVersion: 'no-stream' as const,
      }));
      await store.appendMany(streams);

      let batches = 0;
      const first: SubscriptionRunner = makeRunner({
        name: 'restart',
        batchSize: 10,
        handler: async (events, trx) => {
          await recordInto('handled', 'first')(events, trx);
          if (++batches === 5) {
            // Stop mid-stream: the loop ends once this batch has committed.
            void first.stop();
          }
        },
      });
      first.start();
      await waitFor('the first runner to stop', () => batches >= 5 && !first.isLeader);
      await first.stop();
      expect(await count('handled', sql`runner = 'first'`)).toBe(50);

      // More events arrive while no runner is up.
      await store.appendMany(
        Array.from({ length: 10 }, (_, s) => ({
          streamId: `restart-late-${s}`,
          events: Array.from({ length: 10 }, (_, i) => ev(i)),
          expectedVersion: 'no-stream' as const,
        })),
      );

      const second = makeRunner({ name: 'restart', batchSize: 10, handler: recordInto('handled', 'second') });
      second.start();
      await waitFor('all 400 events to be handled', async () => (await count('handled')) >= 400);
      await second.stop();
      expect(await second.drain()).toBe(0);
      expect(errors).toEqual([]);
      expect(await count('handled')).toBe(400);
      expect(await count('handled', sql`runner = 'second'`)).toBe(350);
      const sub = await t.db
        .selectFrom('subscriptions')
        .select('handled_count')
        .where('name', '=', 'restart')
        .executeTakeFirstOrThrow();
      expect(Number(sub.handled_count)).toBe(400);
    });

    it('a handler that throws: the batch is retried and its effects commit once', async () => {
      await sql`CREATE TABLE flaky_effects (event_id uuid PRIMARY KEY, runner text NOT NULL)`.execute(t.db);
      const ids = Array.from({ length: 100 }, () => randomUUID());
      await store.append(
        'flaky',
        ids.map((id, i) => ev(i, id)),
        { expectedVersion: 'no-stream' },
      );
      const deliveries = new Map<string, number>();
      let calls = 0;
      const runner = makeRunner({
        name: 'flaky',
        batchSize: 10,
        handler: async (events, trx) => {
          events.forEach((e) => deliveries.set(e.id, (deliveries.get(e.id) ?? 0) + 1));
          // The effects are written before the throw: they must roll back with the batch.
          await recordInto('flaky_effects')(events, trx);
          if (++calls === 3) {
            throw new Error('handler failed once');
          }
        },
      });
      runner.start();
      await waitFor('all 100 effects', async () => (await count('flaky_effects')) >= 100);
      await runner.stop();

      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toBe('handler failed once');
      expect(await count('flaky_effects')).toBe(100);
      // The third batch (events 21-30) was delivered twice, everything else once.
      expect(ids.filter((id) => deliveries.get(id) === 2)).toEqual(ids.slice(20, 30));
      expect(ids.filter((id) => deliveries.get(id) === 1)).toHaveLength(90);
      const sub = await t.db
        .selectFrom('subscriptions')
        .select('handled_count')
        .where('name', '=', 'flaky')
        .executeTakeFirstOrThrow();
      expect(Number(sub.handled_count)).toBe(100);
    });
  });

  it('two runners of one subscription: only one processes, the other takes over when it stops', async () => {
    await sql`CREATE TABLE solo_handled (event_id uuid PRIMARY KEY, runner text NOT NULL)`.execute(t.db);
    const a = makeRunner({ name: 'solo', batchSize: 10, handler: recordInto('solo_handled', 'a') });
    const b = makeRunner({ name: 'solo', batchSize: 10, handler: recordInto('solo_handled', 'b') });
    a.start();
    b.start();
    await store.appendMany(
      Array.from({ length: 10 }, (_, s) => ({
        streamId: `solo-${s}`,
        events: Array.from({ length: 10 }, (_, i) => ev(i)),
        expectedVersion: 'no-stream' as const,
      })),
    );
    await waitFor('100 events handled', async () => (await count('solo_handled')) >= 100);
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    const [leader, follower, leaderLabel, followerLabel] = a.isLeader ? [a, b, 'a', 'b'] : [b, a, 'b', 'a'];
    expect(await count('solo_handled', sql`runner = ${leaderLabel}`)).toBe(100);

    await leader.stop();
    await waitFor('the other runner to take over', () => follower.isLeader);
    await store.append('solo-after', [ev(1), ev(2), ev(3)], { expectedVersion: 'no-stream' });
    await waitFor('103 events handled', async () => (await count('solo_handled')) >= 103);
    await follower.stop();
    expect(await count('solo_handled')).toBe(103);
    expect(await count('solo_handled', sql`runner = ${followerLabel}`)).toBe(3);
    expect(errors).toEqual([]);
  });

  describe('LISTEN/NOTIFY', () => {
    const backendPid = async (name: string) =>
      (
        await sql<{ pid: number }>`
          SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = ${`subscription:${name}`}`.execute(t.db)
      ).rows.map((r) => r.pid);

    it('a notification wakes a runner that would otherwise poll once a minute; it re-LISTENs after a reconnect', async () => {
      await sql`CREATE TABLE woken (event_id uuid PRIMARY KEY, runner text NOT NULL)`.execute(t.db);
      const runner = makeRunner({ name: 'woken', pollIntervalMs: 60_000, handler: recordInto('woken') });
      runner.start();
      await waitFor('the runner to lead', () => runner.isLeader);
      const [pid] = await backendPid('woken');
      expect(pid).toBeDefined();
      // Let the first (empty) poll finish, so the runner is asleep for a minute.
      await sleep(200);

      await store.append('wake-1', [ev(1)], { expectedVersion: 'no-stream' });
      await waitFor('the first event to be handled', async () => (await count('woken')) === 1);

      // Kill the runner's dedicated connection: it must reconnect, re-take the lock and LISTEN again.
      await sql`SELECT pg_terminate_backend(${pid}::int)`.execute(t.db);
      await waitFor('a new dedicated connection', async () => {
        const pids = await backendPid('woken');
        return runner.isLeader && pids.length === 1 && pids[0] !== pid;
      });
      await sleep(200);
      await store.append('wake-2', [ev(1)], { expectedVersion: 'no-stream' });
      await waitFor('the second event to be handled', async () => (await count('woken')) === 2);
      // The termination surfaces at most as a logged error; processing went on.
      expect(await count('woken')).toBe(2);
    });

    it('a wake-up spent while an older transaction held events back is not lost: the runner looks again soon', async () => {
      await sql`CREATE TABLE stalled (event_id uuid PRIMARY KEY, runner text NOT NULL)`.execute(t.db);
      const runner = makeRunner({ name: 'stalled', pollIntervalMs: 60_000, handler: recordInto('stalled') });
      runner.start();
      await waitFor('the runner to lead', () => runner.isLeader);
      await sleep(200);

      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let open = false;
      // An older transaction (it has an xid) stays open while a later append commits and notifies.
      const older = t.db.transaction().execute(async (trx) => {
        await sql`SELECT pg_current_xact_id()`.execute(trx);
        open = true;
        await released;
      });
      await waitFor('the older transaction to start', () => open);
      await store.append('held-back', [ev(1)], { expectedVersion: 'no-stream' });
      // The notification arrives now, but the event must wait for the older transaction.
      await sleep(500);
      expect(await count('stalled')).toBe(0);
      release();
      await older;
      // No new notification comes; the next poll is a minute away.
      await waitFor('the held-back event to be handled', async () => (await count('stalled')) === 1);
    });
  });
});
