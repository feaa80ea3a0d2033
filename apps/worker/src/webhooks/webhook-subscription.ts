import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SubscriptionHost } from '@app/event-store';
import { WEBHOOK_SUBSCRIPTION, WebhookFanout } from '@app/webhooks';

/** Registers the webhook fan-out as a log subscription; the host starts and stops it. */
@Injectable()
export class WebhookSubscription implements OnModuleInit {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly fanout: WebhookFanout,
  ) {}

  onModuleInit() {
    // The host belongs to the worker's root module; strict: false finds it from here.
    const host = this.moduleRef.get(SubscriptionHost, { strict: false });
    host.register({
      name: WEBHOOK_SUBSCRIPTION,
      handler: this.fanout.handle,
      types: [...this.fanout.eventTypes],
      batchSize: 500,
    });
  }
}
