import { Kysely, sql, Transaction } from 'kysely';
import { Client } from 'pg';
import type { DB } from '@app/db';
import { eventColumns, EventRow, EVENTS_CHANNEL, toRecordedEvent } from './event-store';
import type { RecordedEvent } from './types';

export type SubscriptionHandler = (events: RecordedEvent[], trx: Transaction<DB>) => Promise<void>;

export interface SubscriptionOptions {
  name: string;
  handler: SubscriptionHandler;
  /** Only these event types reach the handler; the checkpoint still moves past the others. */
  types?: string[];
  batchSize?: number;
  pollIntervalMs?: number;
  /** How often a runner that does not hold the lock tries again to take over. */
  lockRetryMs?: number;
  onError?: (error: unknown) => void;
}


/**
 * Follows the committed log for one named subscription. Handler effects and the checkpoint
 * commit in one transaction; a session advisory lock on a dedicated connection makes sure
 * only one runner per name works at a time; LISTEN on that same connection wakes it and
 * polling catches up after any missed notification.
 */
export class SubscriptionRunner {
  private client: Client | null = null;
  private running = false;
  private leader = false;
  private wake: (() => void) | null = null;
  private pendingWake = false;
  private loop: Promise<void> | null = null;
  /** The last batch left committed events behind an older, still open transaction. */
  private heldBack = false;
  private heldBackDelay = 0;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly lockRetryMs: number;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly connectionString: string,
    private readonly options: SubscriptionOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.lockRetryMs = options.lockRetryMs ?? 2000;
  }

  get name() {
    return this.options.name;
  }

  /** True while this runner holds the subscription's lock. */
  get isLeader() {
    return this.leader;
  }

  start(): void {
    if (this.running) {
      return;
    }
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
    this.loop = null;
    await this.releaseClient();
  }

  /** Processes everything committed so far, then resolves. For tests and one-off catch-ups. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const handled = await this.processBatch();
      total += handled;
      if (handled < this.batchSize) {
        return total;
      }
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!this.leader) {
          await this.tryTakeLead();
          if (!this.leader) {
            await this.sleep(this.lockRetryMs);
            continue;
          }
        }
        const handled = await this.processBatch();
        if (handled < this.batchSize) {
          // Held back: the wake-up for those events has been spent, so look again soon (backing
          // off up to the poll interval) instead of a whole poll interval after the stall ends.
          this.heldBackDelay = this.heldBack
            ? Math.min(Math.max(this.heldBackDelay * 2, 20), this.pollIntervalMs, 1000)
            : 0;
          await this.sleep(this.heldBack ? this.heldBackDelay : this.pollIntervalMs);
        }
      } catch (error) {
        this.options.onError?.(error);
        await this.sleep(Math.min(this.pollIntervalMs * 2, 5000));
      }
    }
  }

  private async tryTakeLead(): Promise<void> {
    // Named so operators (and tests) can tell which backend holds a subscription's lock.
    const client = new Client({
      connectionString: this.connectionString,
      application_name: `subscription:${this.options.name}`.slice(0, 63),
    });
    client.on('error', () => this.lostConnection(client));
    client.on('end', () => this.lostConnection(client));
    client.on('notification', () => this.notify());
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
        [`subscription:${this.options.name}`],
      );
      if (!rows[0].locked) {
        await client.end();
        return;
      }
      // LISTEN again on every new connection: a reconnect loses the old registration.
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      this.client = client;
      this.leader = true;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private lostConnection(client: Client) {
    if (this.client === client) {
      this.client = null;
      this.leader = false;
      this.notify();
    }
  }

  private async releaseClient() {
    const client = this.client;
    this.client = null;
    this.leader = false;
    if (client) {
      // Closing the session releases the advisory lock and the LISTEN.
      await client.end().catch(() => undefined);
    }
  }

  private async processBatch(): Promise<number> {
    const { name, types, handler } = this.options;
    return this.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO subscriptions (name) VALUES (${name}) ON CONFLICT (name) DO NOTHING`.execute(trx);
      // FOR UPDATE: should two runners ever overlap, the second waits and then sees the new checkpoint.
      const checkpoint = await sql<{ tx: string; pos: string }>`
        SELECT last_transaction_id::text AS tx, last_position::text AS pos
        FROM subscriptions WHERE name = ${name} FOR UPDATE`.execute(trx);
      const { tx, pos } = checkpoint.rows[0];
      // Only transactions older than every open one are ready (rule 4); in this order they all
      // come before the rest, so the ready rows are a prefix of the page.
      const page = await sql<EventRow & { ready: boolean }>`
        SELECT ${eventColumns()},
               transaction_id < pg_snapshot_xmin(pg_current_snapshot()) AS ready
        FROM events
        WHERE (transaction_id, global_position) > (${tx}::xid8, ${pos}::bigint)
        ORDER BY events.transaction_id, events.global_position
        LIMIT ${this.batchSize}`.execute(trx);
      const ready = page.rows.filter((r) => r.ready);
      this.heldBack = ready.length < page.rows.length;
      if (ready.length === 0) {
        return 0;
      }
      const events = ready.map(toRecordedEvent);
      const wanted = types ? events.filter((e) => types.includes(e.type)) : events;
      if (wanted.length > 0) {
        await handler(wanted, trx);
      }
      const last = events[events.length - 1];
      await sql`
        UPDATE subscriptions
        SET last_transaction_id = ${last.transactionId}::xid8, last_position = ${last.position}::bigint,
            handled_count = handled_count + ${wanted.length}, updated_at = now()
        WHERE name = ${name}`.execute(trx);
      return events.length;
    });
  }

  private notify() {
    if (this.wake) {
      const wake = this.wake;
      this.wake = null;
      wake();
    } else {
      this.pendingWake = true;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.pendingWake || !this.running) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
