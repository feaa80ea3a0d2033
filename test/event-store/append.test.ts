import { randomUUID } from 'node:crypto';
import { ConcurrencyError, EventStore, IdempotencyError } from '@app/event-store';
import { eventually } from '../support/eventually';
import { createTestDatabase, TestDatabase } from '../support/test-database';

describe('EventStore.append', () => {
  let t: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 60 });
    store = new EventStore(t.db);
  });
  afterAll(() => t.destroy());

  const ev = (n: number, id?: string) => ({ id, type: 'Thing', data: { n } });

  it('appends to a new stream and reads it back with versions from 1', async () => {
    const r = await store.append('s-new', [ev(1), ev(2)], { expectedVersion: 'no-stream' });
    expect(r.events.map((e) => e.version)).toEqual([1, 2]);
    expect(r.nextExpectedVersion).toBe(2);
    expect(BigInt(r.events[1].position)).toBeGreaterThan(BigInt(r.events[0].position));
    const read = await store.readStream('s-new');
    expect(read.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await store.readStream('s-new', { fromVersion: 2 })).toHaveLength(1);
  });

  it('refuses no-stream on an existing stream and a wrong exact version', async () => {
    await store.append('s-exists', [ev(1)], { expectedVersion: 'no-stream' });
    await expect(store.append('s-exists', [ev(2)], { expectedVersion: 'no-stream' })).rejects.toBeInstanceOf(
      ConcurrencyError,
    );
    await expect(store.append('s-exists', [ev(2)], { expectedVersion: 5 })).rejects.toMatchObject({
      name: 'ConcurrencyError',
      actualVersion: 1,
    });
    await expect(store.append('s-missing', [ev(2)], { expectedVersion: 3 })).rejects.toMatchObject({
      actualVersion: 0,
    });
  });

  it('refuses an append with expected N-1 to a stream at version N and takes no position', async () => {
    await store.append('s-n', [ev(1), ev(2), ev(3)], { expectedVersion: 'no-stream' });
    const before = await t.pool.query("SELECT last_value FROM events_global_position_seq");
    await expect(store.append('s-n', [ev(4)], { expectedVersion: 2 })).rejects.toBeInstanceOf(ConcurrencyError);
    const after = await t.pool.query("SELECT last_value FROM events_global_position_seq");
    expect(after.rows[0].last_value).toBe(before.rows[0].last_value);
    const ok = await store.append('s-n', [ev(4)], { expectedVersion: 3 });
    expect(ok.events[0].version).toBe(4);
  });

  it('appends with any whether or not the stream exists', async () => {
    const a = await store.append('s-any', [ev(1)], { expectedVersion: 'any' });
    const b = await store.append('s-any', [ev(2), ev(3)], { expectedVersion: 'any' });
    expect([...a.events, ...b.events].map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it('re-appending the same ids at the same positions succeeds without writing', async () => {
    const ids = [randomUUID(), randomUUID()];
    const first = await store.append('s-idem', [ev(1, ids[0]), ev(2, ids[1])], { expectedVersion: 'no-stream' });
    for (const expectedVersion of ['no-stream', 0, 'any'] as const) {
      const again = await store.append('s-idem', [ev(1, ids[0]), ev(2, ids[1])], { expectedVersion });
      expect(again.alreadyRecorded).toBe(true);
      expect(again.events.map((e) => e.position)).toEqual(first.events.map((e) => e.position));
    }
    expect(await store.readStream('s-idem')).toHaveLength(2);
  });

  it('the same ids anywhere else are an error', async () => {
    const id = randomUUID();
    await store.append('s-idem2', [ev(1, id)], { expectedVersion: 'no-stream' });
    await expect(store.append('s-other', [ev(1, id)], { expectedVersion: 'no-stream' })).rejects.toBeInstanceOf(
      IdempotencyError,
    );
    await expect(store.append('s-other', [ev(1, id)], { expectedVersion: 'any' })).rejects.toBeInstanceOf(
      IdempotencyError,
    );
    await store.append('s-idem2', [ev(2)], { expectedVersion: 1 });
    // Same stream, but the expected version puts it at version 3, not where it was recorded.
    await expect(store.append('s-idem2', [ev(1, id)], { expectedVersion: 2 })).rejects.toBeInstanceOf(
      IdempotencyError,
    );
    expect(await store.readStream('s-other')).toHaveLength(0);
  });

  it('50 concurrent appends with the same expected version: exactly one wins, no gaps', async () => {
    await store.append('s-race', [ev(0)], { expectedVersion: 'no-stream' });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => store.append('s-race', [ev(i + 1)], { expectedVersion: 1 })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(49);
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(ConcurrencyError);
    }
    const versions = (await store.readStream('s-race')).map((e) => e.version);
    expect(versions).toEqual([1, 2]);
  });

  it('no lost appends: 20 writers x 200 appends to random streams', async () => {
    const streams = Array.from({ length: 30 }, (_, i) => `s-load-${i}`);
    const writes = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 20 }, async (_, w) => {
        for (let i = 0; i < 200; i++) {
          const stream = streams[Math.floor(Math.random() * streams.length)];
          const marker = `${w}-${i}`;
          await store.append(stream, [{ type: 'Load', data: { marker } }], { expectedVersion: 'any' });
          writes.set(marker, (writes.get(marker) ?? 0) + 1);
        }
      }),
    );
    const rows = await t.pool.query<{ stream_id: string; stream_version: string; data: { marker: string } }>(
      "SELECT stream_id, stream_version, data FROM events WHERE stream_id LIKE 's-load-%' ORDER BY stream_id, stream_version",
    );
    expect(rows.rowCount).toBe(4000);
    expect(new Set(rows.rows.map((r) => r.data.marker)).size).toBe(4000);
    const perStream = new Map<string, number[]>();
    for (const r of rows.rows) {
      perStream.set(r.stream_id, [...(perStream.get(r.stream_id) ?? []), Number(r.stream_version)]);
    }
    for (const [stream, versions] of perStream) {
      expect(versions).toEqual(versions.map((_, i) => i + 1));
      const head = await store.streamVersion(stream);
      expect(head).toBe(versions.length);
    }
  });

  it('appendMany writes many streams atomically and rolls back on one conflict', async () => {
    await store.append('m-existing', [ev(1)], { expectedVersion: 'no-stream' });
    const ok = await store.appendMany([
      { streamId: 'm-a', events: [ev(1), ev(2)], expectedVersion: 'no-stream' },
      { streamId: 'm-existing', events: [ev(2)], expectedVersion: 1 },
      { streamId: 'm-b', events: [ev(1)], expectedVersion: 'any' },
    ]);
    expect(ok.map((r) => r.events.map((e) => e.version))).toEqual([[1, 2], [2], [1]]);
    await expect(
      store.appendMany([
        { streamId: 'm-c', events: [ev(1)], expectedVersion: 'no-stream' },
        { streamId: 'm-existing', events: [ev(3)], expectedVersion: 1 },
      ]),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await store.readStream('m-c')).toHaveLength(0);
    expect(await store.streamVersion('m-c')).toBe(0);
  });

  it('appendMany locks streams in one order: writers over the same streams wait, never deadlock', async () => {
    await store.appendMany([
      { streamId: 'lock-x', events: [ev(0)], expectedVersion: 'no-stream' },
      { streamId: 'lock-y', events: [ev(0)], expectedVersion: 'no-stream' },
    ]);
    const deadlocks = async () =>
      Number((await t.pool.query('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()')).rows[0].deadlocks);
    const before = await deadlocks();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    // The first writer holds x, then wants y; the second asks for y and x (in that order) meanwhile.
    const first = t.db.transaction().execute(async (trx) => {
      await store.appendMany([{ streamId: 'lock-x', events: [ev(1)], expectedVersion: 'any' }], trx);
      holding();
      await released;
      await store.appendMany([{ streamId: 'lock-y', events: [ev(1)], expectedVersion: 'any' }], trx);
    });
    await held;
    // Its own transaction, retried if the stream-order rule refuses it; a deadlock is not retried.
    const second = store.appendMany([
      { streamId: 'lock-y', events: [ev(2)], expectedVersion: 'any' },
      { streamId: 'lock-x', events: [ev(2)], expectedVersion: 'any' },
    ]);
    // Wait until the second writer is blocked on a row lock before the first goes on.
    await eventually(async () => {
      const { rows } = await t.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
      expect(rows[0].n).toBe(1);
    });
    release();
    await Promise.all([first, second]);
    expect(await deadlocks()).toBe(before);
    expect((await store.readStream('lock-x')).map((e) => e.data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    expect((await store.readStream('lock-y')).map((e) => e.data)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
  });

  it('events cannot be updated or deleted', async () => {
    await store.append('s-immutable', [ev(1)], { expectedVersion: 'no-stream' });
    await expect(t.pool.query("UPDATE events SET data = '{}' WHERE stream_id = 's-immutable'")).rejects.toThrow(
      /append-only/,
    );
    await expect(t.pool.query("DELETE FROM events WHERE stream_id = 's-immutable'")).rejects.toThrow(/append-only/);
  });
});
