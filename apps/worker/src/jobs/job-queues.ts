import type { WorkerOptions } from 'bullmq';
import type { AppConfig } from '@app/config';
import { WebhookJob, WebhookQueue } from '@app/webhooks';

export interface QueueSpec {
  queue: string;
  /** Every job name of the queue; each needs exactly one @OnJob handler. */
  jobs: readonly string[];
  workerOptions: (config: AppConfig) => Partial<WorkerOptions>;
}

/** The queues this worker consumes. */
export const JOB_QUEUES: readonly QueueSpec[] = [
  {
    queue: WebhookQueue.Deliveries,
    jobs: Object.values(WebhookJob),
    workerOptions: (c) => ({
      concurrency: c.webhookConcurrency,
      lockDuration: c.webhookLockDurationMs,
      stalledInterval: c.webhookLockDurationMs,
      // A job stalled by repeated crashes is dropped from Redis; Postgres still has it pending.
      maxStalledCount: 3,
    }),
  },
];
