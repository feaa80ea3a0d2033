import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { AccessModule } from '@app/access';
import { AppConfig, ConfigModule } from '@app/config';
import { DbModule } from '@app/db';
import { EventStoreModule, SubscriptionHost } from '@app/event-store';
import { RedisModule } from '@app/redis';
import { StatisticsScheduler } from './statistics.scheduler';
import { WebhooksWorkerModule } from './webhooks/webhooks-worker.module';

@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({ pinoHttp: { level: config.logLevel } }),
        CqrsModule.forRoot(),
        DbModule,
        RedisModule,
        EventStoreModule,
        BullModule.forRoot({ connection: { url: config.redisUrl }, prefix: config.redisPrefix }),
        WebhooksWorkerModule,
        AccessModule,
      ],
      providers: [SubscriptionHost, StatisticsScheduler],
      exports: [SubscriptionHost],
    };
  }
}
