import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { queueDepth } from '@app/metrics';
import { DeliveryQueue, DeliverySweeper, WebhookQueue } from '@app/webhooks';
import { Periodic } from '../jobs/periodic';

/** Re-enqueues pending deliveries from Postgres at start and every WEBHOOK_SWEEP_INTERVAL_MS. */
@Injectable()
export class WebhookSweepScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookSweepScheduler.name);
  private readonly periodic = new Periodic(async (all) => {
    try {
      await this.sweeper.sweep({ all });
      const counts = await this.queue.queue.getJobCounts('wait', 'active', 'delayed');
      for (const [state, count] of Object.entries(counts)) {
        queueDepth.set({ queue: WebhookQueue.Deliveries, state }, count);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'webhook sweep failed; the next one retries');
    }
  });

  constructor(
    private readonly sweeper: DeliverySweeper,
    private readonly queue: DeliveryQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap() {
    this.periodic.start(this.config.webhookSweepIntervalMs, { now: true });
  }

  beforeApplicationShutdown() {
    return this.periodic.stop();
  }
}
