import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DeliveryQueue } from './delivery-queue';
import { WebhooksRepository } from './webhooks.repository';

const PAGE = 1000;

/**
 * Postgres is the truth: pending deliveries are (re-)enqueued from it. Adding a job whose id
 * exists is a no-op, so the sweep only recreates jobs that Redis lost (a flush, a failover, a
 * crash between commit and enqueue).
 */
@Injectable()
export class DeliverySweeper {
  private readonly logger = new Logger(DeliverySweeper.name);

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly queue: DeliveryQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * `all`: every pending delivery (at start). Otherwise only those overdue by more than the
   * sweep interval: anything younger is still on its way from the fan-out's enqueue.
   */
  async sweep(options: { all: boolean }): Promise<number> {
    const overdueBefore = options.all ? null : new Date(Date.now() - this.config.webhookSweepIntervalMs);
    let after = '0';
    let total = 0;
    // First attempts found pending are chained among themselves, so they keep their order.
    const lastFirst = new Map<string, string>();
    for (;;) {
      const page = await this.repository.pendingDeliveries(after, PAGE, overdueBefore);
      if (page.length === 0) {
        break;
      }
      await this.queue.enqueue(
        page.map((d) => {
          const first = d.attempts === 0 && d.event_id !== null;
          const prevSeq = first ? (lastFirst.get(d.endpoint_id) ?? null) : null;
          if (first) {
            lastFirst.set(d.endpoint_id, d.seq);
          }
          return { deliveryId: d.id, endpointId: d.endpoint_id, first, seq: d.seq, prevSeq, notBefore: d.next_attempt_at };
        }),
      );
      total += page.length;
      after = page[page.length - 1].seq;
      if (page.length < PAGE) {
        break;
      }
    }
    if (total > 0) {
      this.logger[options.all ? 'log' : 'debug']({ count: total, all: options.all }, 'pending deliveries handed to the queue');
    }
    return total;
  }
}
