import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AddressGuard } from './address-guard';
import { AttemptRecorder } from './attempt-recorder';
import { DeliveryAttempts } from './delivery-attempts';
import { DeliveryQueue } from './delivery-queue';
import { DeliverySweeper } from './delivery-sweeper';
import { SecretBox, IdempotentWrites } from '@app/shared';
import { webhookSecretBox } from './secret-box';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookFanout } from './webhook-fanout';
import { WebhookSender } from './webhook-sender';
import { WebhooksRepository } from './webhooks.repository';

/** Webhooks for both processes: the API uses the endpoints service, the worker the rest. */
@Module({
  providers: [
    WebhooksRepository,
    { provide: SecretBox, inject: [APP_CONFIG], useFactory: (c: AppConfig) => webhookSecretBox(c.secretsKey) },
    // Also in the worker, which builds this module without the API's SharedModule.
    IdempotentWrites,
    { provide: AddressGuard, inject: [APP_CONFIG], useFactory: (c: AppConfig) => new AddressGuard(c.webhookAllowedCidrs) },
    {
      provide: WebhookSender,
      inject: [APP_CONFIG, AddressGuard],
      useFactory: (c: AppConfig, guard: AddressGuard) => new WebhookSender(guard, c.webhookTimeoutMs),
    },
    DeliveryQueue,
    AttemptRecorder,
    DeliveryAttempts,
    DeliverySweeper,
    WebhookFanout,
    WebhookEndpointsService,
  ],
  exports: [
    WebhooksRepository,
    AddressGuard,
    DeliveryQueue,
    DeliveryAttempts,
    DeliverySweeper,
    WebhookFanout,
    WebhookEndpointsService,
  ],
})
export class WebhooksModule {}
