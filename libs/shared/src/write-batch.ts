import { randomUUID } from 'node:crypto';
import { Kysely } from 'kysely';
import type { DB } from '@app/db';
import type { AppendRequest, AppendResult, EventStore, ExpectedVersion, NewEvent, RecordedEvent } from '@app/event-store';
import type { CommandMeta } from './command-meta';
import { deterministicId } from './deterministic-id';
import type { Projections } from './projections';

/**
 * Answers one kind of question for many requests in one statement: given the keys the
 * requests of a batch asked, the values in the same order. A plain object with a stable
 * identity (the batch groups asks by loader).
 */
export interface BatchLoader<K, V> {
  load(trx: Kysely<DB>, keys: K[]): Promise<V[]>;
}

/** What a command's work gets: its reads, its appends, and the transaction they share. */
export interface RecordContext {
  /** The shared transaction. Reads through it work, but cost a round trip each: prefer load(). */
  trx: Kysely<DB>;
  meta: CommandMeta;
  /**
   * A new id for something this request creates (`kind`: 'funding', say). Random, or under an
   * Idempotency-Key derived from the key and the count of this kind so far in this attempt, so
   * that a replay racing the first request derives the same ids.
   */
  newId(kind: string): string;
  readStream(streamId: string): Promise<RecordedEvent[]>;
  load<K, V>(loader: BatchLoader<K, V>, key: K): Promise<V>;
  append(streamId: string, events: Array<{ type: string; data: object }>, expectedVersion: ExpectedVersion): Promise<RecordedEvent[]>;
}

/** Two requests of one batch appended to one stream: the batch is redone one request at a time. */
export class BatchConflict extends Error {
  constructor(streamId: string) {
    super(`two requests of one batch append to ${streamId}`);
    this.name = 'BatchConflict';
  }
}

type Ask =
  | { kind: 'read'; streamId: string }
  | { kind: 'load'; loader: BatchLoader<unknown, unknown>; key: unknown }
  | { kind: 'append'; request: AppendRequest };

type Pending = Ask & { item: number; resolve(value: unknown): void; reject(error: unknown): void };

/**
 * One transaction shared by the requests of a batch (group commit). Every request's work runs
 * at once and reads and appends through its context; once each unfinished work is waiting on
 * the batch, the waiting asks run together: every append in one appendMany, followed by the
 * inline projections over all of their events; then every stream read in one statement; then
 * each loader once with all the keys asked of it. N requests so cost about the statements of
 * one, and one commit.
 *
 * Appends run before reads and loads, so a request that reads a stream (or a projection)
 * another request of the batch has just written sees that write, as it would after the
 * other's commit.
 */
export class WriteBatch {
  private pending: Pending[] = [];
  private readonly waiting = new Set<number>();
  private live: number;
  private flushing = false;
  private checkQueued = false;
  /** The first failure of a shared statement; the transaction must then be rolled back. */
  failure: unknown = null;
  /** The requests (by index) that have appended: they cannot fail alone any more. */
  readonly appended = new Set<number>();
  /** Every event this batch wrote, in append order. */
  readonly events: RecordedEvent[] = [];

  constructor(
    readonly trx: Kysely<DB>,
    private readonly store: EventStore,
    private readonly projections: Projections,
    size: number,
  ) {
    this.live = size;
  }

  context(item: number, meta: CommandMeta): RecordContext {
    // Per kind; '' counts the event ids of this attempt's appends.
    const counters = new Map<string, number>();
    const derive = (kind: string) => {
      const n = counters.get(kind) ?? 0;
      counters.set(kind, n + 1);
      return deterministicId([...(kind ? [kind] : []), meta.actor.id, meta.idempotency!.key, n].join('\n'));
    };
    const metadata = {
      actor: { id: meta.actor.id, name: meta.actor.name },
      correlationId: meta.correlationId,
      ...(meta.idempotency ? { idempotencyKey: meta.idempotency.key } : {}),
    };
    return {
      trx: this.trx,
      meta,
      newId: (kind) => (meta.idempotency ? derive(kind) : randomUUID()),
      readStream: (streamId) => this.ask(item, { kind: 'read', streamId }),
      load: <K, V>(loader: BatchLoader<K, V>, key: K) =>
        this.ask<V>(item, { kind: 'load', loader: loader as BatchLoader<unknown, unknown>, key }),
      append: (streamId, events, expectedVersion) => {
        const prepared: NewEvent[] = events.map((e) => ({
          ...e,
          metadata,
          // Under an Idempotency-Key the ids derive from it, so a racing replay can only re-append them.
          id: meta.idempotency ? derive('') : undefined,
        }));
        return this.ask(item, { kind: 'append', request: { streamId, events: prepared, expectedVersion } });
      },
    };
  }

  ask<T>(item: number, ask: Ask): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ ...ask, item, resolve: resolve as (value: unknown) => void, reject });
      this.waiting.add(item);
      this.maybeFlush();
    });
  }

  /** A request's work has settled. */
  done(item: number): void {
    this.live--;
    this.waiting.delete(item);
    this.maybeFlush();
  }

  /** Checked after the current synchronous run, so that a work asking several things at once is waited for. */
  private maybeFlush(): void {
    if (this.checkQueued) {
      return;
    }
    this.checkQueued = true;
    queueMicrotask(() => {
      this.checkQueued = false;
      if (!this.flushing && this.pending.length > 0 && this.waiting.size >= this.live) {
        void this.flush();
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    const asks = this.pending;
    this.pending = [];
    this.waiting.clear();
    const of = <K extends Ask['kind']>(kind: K) => asks.filter((a): a is Pending & Extract<Ask, { kind: K }> => a.kind === kind);
    try {
      if (this.failure) {
        throw this.failure;
      }
      await this.appendAll(of('append'));
      await this.readAll(of('read'));
      await this.loadAll(of('load'));
    } catch (error) {
      this.failure ??= error;
      // Settling twice is a no-op: the asks answered before the failure keep their answers.
      for (const a of asks) {
        a.reject(error);
      }
    } finally {
      this.flushing = false;
      this.maybeFlush();
    }
  }

  private async appendAll(asks: Array<Pending & { request: AppendRequest }>): Promise<void> {
    if (asks.length === 0) {
      return;
    }
    let results: AppendResult[];
    if (asks.length === 1) {
      // One append keeps the single-stream path: one statement, and a re-append of recorded ids is a no-op.
      const { streamId, events, expectedVersion } = asks[0].request;
      results = [await this.store.append(streamId, events, { expectedVersion, trx: this.trx })];
    } else {
      const streams = new Set<string>();
      for (const a of asks) {
        if (streams.has(a.request.streamId)) {
          throw new BatchConflict(a.request.streamId);
        }
        streams.add(a.request.streamId);
      }
      results = await this.store.appendMany(
        asks.map((a) => a.request),
        this.trx,
      );
    }
    const fresh = results.filter((r) => !r.alreadyRecorded).flatMap((r) => r.events);
    if (fresh.length) {
      await this.projections.apply(this.trx, fresh);
    }
    this.events.push(...fresh);
    asks.forEach((a, i) => {
      this.appended.add(a.item);
      a.resolve(results[i].events);
    });
  }

  private async readAll(asks: Array<Pending & { streamId: string }>): Promise<void> {
    if (asks.length === 0) {
      return;
    }
    const streams = await this.store.readStreams(
      asks.map((a) => a.streamId),
      this.trx,
    );
    for (const a of asks) {
      // Each its own array: one work's history must not change under another's.
      a.resolve([...streams.get(a.streamId)!]);
    }
  }

  private async loadAll(asks: Array<Pending & { loader: BatchLoader<unknown, unknown>; key: unknown }>): Promise<void> {
    const byLoader = new Map<BatchLoader<unknown, unknown>, typeof asks>();
    for (const a of asks) {
      const group = byLoader.get(a.loader);
      if (group) {
        group.push(a);
      } else {
        byLoader.set(a.loader, [a]);
      }
    }
    for (const [loader, group] of byLoader) {
      const values = await loader.load(
        this.trx,
        group.map((a) => a.key),
      );
      group.forEach((a, i) => a.resolve(values[i]));
    }
  }
}
