import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@app/config';
import { withTimeout } from '@app/shared';
import { DeliverJobData, WebhookJob, WebhookQueue } from './webhook-jobs';
import { WebhooksRepository } from './webhooks.repository';

export interface DeliveryJob extends DeliverJobData {
  /** Not before this time (a pending retry found by the sweep). */
  notBefore?: Date | null;
}

const ENQUEUE_TIMEOUT_MS = 5_000;
const COMMIT_WAIT_MS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000];

/**
 * BullMQ producer for delivery attempts; the job id is the delivery id, so adding a delivery
 * that already has a job is a no-op. Failing to enqueue is never fatal: the delivery row is
 * pending in Postgres and the sweep enqueues it again.
 */
@Injectable()
export class DeliveryQueue implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryQueue.name);
  private created: Queue | null = null;
  private afterCommitChain: Promise<void> = Promise.resolve();
  /**
   * Set by a worker whose lanes can take an endpoint's first attempts straight from Postgres
   * (backlog mode): those need no job, which spares Redis three round trips per delivery.
   */
  localTakeover: ((endpointId: string, seq: bigint) => boolean) | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: WebhooksRepository,
  ) {}

  /** Created on first use: an API process that never sends a webhook opens no Redis connection for it. */
  get queue(): Queue {
    if (!this.created) {
      this.created = new Queue(WebhookQueue.Deliveries, {
        connection: { url: this.config.redisUrl, enableOfflineQueue: false, maxRetriesPerRequest: 1 },
        prefix: this.config.redisPrefix,
      });
      this.created.on('error', (error) => this.logger.warn({ err: error }, 'delivery queue connection error'));
    }
    return this.created;
  }

  /** Only for committed deliveries. */
  async enqueue(all: DeliveryJob[]): Promise<void> {
    const takeover = this.localTakeover;
    const jobs = takeover ? all.filter((j) => !(j.first && j.seq !== undefined && takeover(j.endpointId, BigInt(j.seq)))) : all;
    if (jobs.length === 0) {
      return;
    }
    const now = Date.now();
    await withTimeout(
      this.queue.addBulk(
        jobs.map(({ notBefore, ...data }) => ({
          name: WebhookJob.Deliver,
          data,
          opts: {
            jobId: data.deliveryId,
            delay: notBefore ? Math.max(0, notBefore.getTime() - now) : 0,
            removeOnComplete: true,
            removeOnFail: true,
          },
        })),
      ),
      ENQUEUE_TIMEOUT_MS,
      'enqueue deliveries (Redis)',
    );
  }

  /** Enqueue without letting a Redis outage fail the caller; the sweep catches up. */
  async tryEnqueue(jobs: DeliveryJob[]): Promise<boolean> {
    try {
      await this.enqueue(jobs);
      return true;
    } catch (error) {
      this.logger.warn({ err: error, count: jobs.length }, 'could not enqueue deliveries; the sweep will');
      return false;
    }
  }

  /**
   * Enqueue once transaction `xid` has committed: a job must never run before its delivery row
   * is visible, and a rolled-back fan-out must not send. Calls are chained so jobs reach Redis
   * in the order their transactions were handed over (the log order).
   */
  enqueueAfterCommit(xid: string, jobs: DeliveryJob[]): void {
    this.afterCommitChain = this.afterCommitChain.then(async () => {
      const status = await this.awaitTransaction(xid);
      if (status === 'committed') {
        await this.tryEnqueue(jobs);
      }
    });
  }

  /** Resolves when everything handed to enqueueAfterCommit so far has been dealt with. */
  flushed(): Promise<void> {
    return this.afterCommitChain;
  }

  /** Makes a waiting (delayed) attempt due now; adds it when Redis has no job for it. */
  async runNow(job: DeliveryJob): Promise<void> {
    try {
      const existing = await withTimeout(this.queue.getJob(job.deliveryId), ENQUEUE_TIMEOUT_MS, 'find job (Redis)');
      if (existing && (await existing.isDelayed())) {
        await existing.promote();
        return;
      }
      if (!existing) {
        await this.enqueue([job]);
      }
    } catch (error) {
      this.logger.warn({ err: error, deliveryId: job.deliveryId }, 'could not enqueue a delivery; the sweep will');
    }
  }

  /** Hands-over in progress still read Postgres: finish them before its pool closes. */
  async beforeApplicationShutdown() {
    await this.afterCommitChain.catch(() => undefined);
  }

  async onApplicationShutdown() {
    await this.created?.close();
  }

  private async awaitTransaction(xid: string) {
    for (const wait of COMMIT_WAIT_MS) {
      if (wait > 0) {
        await new Promise((r) => setTimeout(r, wait));
      }
      try {
        const status = await this.repository.transactionStatus(xid);
        if (status !== 'in progress') {
          return status;
        }
      } catch (error) {
        this.logger.warn({ err: error, xid }, 'could not read a fan-out transaction status');
      }
    }
    // Still open after ~2 s: leave it to the sweep rather than hold up later fan-outs.
    return 'in progress';
  }
}
