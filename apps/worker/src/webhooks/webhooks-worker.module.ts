import { Module } from '@nestjs/common';
import { WebhooksModule } from '@app/webhooks';
import { JobsModule } from '../jobs/jobs.module';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookSubscription } from './webhook-subscription';
import { WebhookSweepScheduler } from './webhook-sweep.scheduler';

/** The worker half of webhooks: fan-out subscription, delivery processor, re-enqueue sweep. */
@Module({
  imports: [WebhooksModule, JobsModule],
  providers: [WebhookSubscription, WebhookDeliveryProcessor, WebhookSweepScheduler],
})
export class WebhooksWorkerModule {}
