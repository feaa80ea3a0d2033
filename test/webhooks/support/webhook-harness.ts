import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { AppConfig } from '@app/config';
import { Database } from '@app/db';
import { EventStore } from '@app/event-store';
import { WorkerModule } from '../../../apps/worker/src/worker.module';
import { createTestApp, TestApp } from '../../support/test-app';
import { TEST_REDIS_URL } from '../../support/test-env';
import { Receiver } from './receiver';

/** Webhook settings for tests: loopback allowed, a retry schedule in milliseconds. */
export const WEBHOOK_TEST_ENV: Record<string, string> = {
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
  WEBHOOK_RETRY_SCHEDULE: '100ms,200ms,300ms',
  WEBHOOK_SWEEP_INTERVAL_MS: '1000',
  WEBHOOK_LOCK_DURATION_MS: '2000',
  WEBHOOK_TIMEOUT_MS: '3000',
};

/** The worker (subscription, processor, sweep) in this process. */
export async function startWorker(config: AppConfig): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger: false });
  await app.init();
  return app;
}

/** Deletes every Redis key under the prefix: this file's keys only, never anyone else's. */
export async function deletePrefixKeys(prefix: string): Promise<number> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) {
        deleted += await redis.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function append(db: Database, streamId: string, type: string, data: Record<string, unknown>) {
  const result = await new EventStore(db).append(streamId, [{ type, data }], { expectedVersion: 'any' });
  return result.events[0];
}

export const joined = (allianceId: string, organisationId: string, on = '2024-01-01') => ({
  allianceId,
  organisationId,
  on,
  precision: 'day',
  source: { url: 'https://example.org/members' },
});

/** Polls until `read` gives a value `ok` accepts (a database condition, not a sleep). */
export async function eventually<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(value)?.slice(0, 500)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Until the webhook subscription has handled the log up to this event (its deliveries exist). */
export function fannedOut(db: Database, event: { position: string }) {
  return eventually(
    () => db.selectFrom('subscriptions').select('last_position').where('name', '=', 'webhooks').executeTakeFirst(),
    (row) => row !== undefined && BigInt(row.last_position) >= BigInt(event.position),
    `the webhook subscription to pass position ${event.position}`,
  );
}

export async function deliveryStatuses(db: Database, endpointId: string) {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .where('endpoint_id', '=', endpointId)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
}

export interface WebhookStack {
  a: TestApp;
  receiver: Receiver;
  close(): Promise<void>;
}

/** A test file's receiver, API (WEBHOOK_TEST_ENV plus `env`) and in-process worker. */
export async function startWebhookStack(env: Record<string, string> = {}): Promise<WebhookStack> {
  const receiver = await Receiver.start();
  const a = await createTestApp({ ...WEBHOOK_TEST_ENV, ...env });
  const worker = await startWorker(a.config);
  return {
    a,
    receiver,
    async close() {
      // Closing the receiver first cuts hanging requests, so the worker can stop.
      await receiver.close();
      await worker.close();
      await a.close();
      await deletePrefixKeys(a.config.redisPrefix);
    },
  };
}
