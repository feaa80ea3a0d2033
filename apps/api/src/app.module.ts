import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { AccessModule } from '@app/access';
import { CorrectionsModule } from '@app/corrections';
import { FundingModule } from '@app/funding';
import { ImportsModule } from '@app/imports';
import { MembershipModule } from '@app/membership';
import { OrganisationsModule } from '@app/organisations';
import { QuestionsModule } from '@app/questions';
import { AppConfig, ConfigModule } from '@app/config';
import { DbModule } from '@app/db';
import { EventStoreModule } from '@app/event-store';
import { RedisModule } from '@app/redis';
import { SharedModule } from '@app/shared';
import { WebhooksModule } from '@app/webhooks';
import { AlliancesController } from './alliances/alliances.controller';
import { ApiKeysController } from './api-keys/api-keys.controller';
import { EventsController } from './events/events.controller';
import { FundingsController } from './funding/fundings.controller';
import { ImportsController } from './imports/imports.controller';
import { OrganisationsController } from './organisations/organisations.controller';
import { AllianceQuestionsController } from './questions/alliance-questions.controller';
import { OrganisationQuestionsController } from './questions/organisation-questions.controller';
import { AuthGuard } from './auth/auth.guard';
import { BootstrapAdmin } from './auth/bootstrap-admin';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { WebhooksController } from './webhooks/webhooks.controller';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          // With logging off, no request logger at all: pino-http costs about a third of a light request's CPU even when silent.
          ...(config.logLevel === 'silent' ? { forRoutes: [] } : {}),
          pinoHttp: {
            level: config.logLevel,
            redact: ['req.headers.authorization', 'req.headers["idempotency-key"]'],
            // originalUrl: under Fastify's middleware engine req.url is relative to the logger's mount path.
            autoLogging: { ignore: (req) => /^\/(health|metrics)\/?(\?|$)/.test((req as { originalUrl?: string }).originalUrl ?? req.url ?? '') },
          },
        }),
        CqrsModule.forRoot(),
        DbModule,
        RedisModule,
        EventStoreModule,
        SharedModule,
        CorrectionsModule,
        OrganisationsModule,
        MembershipModule,
        QuestionsModule,
        FundingModule,
        ImportsModule,
        WebhooksModule,
        AccessModule,
      ],
      controllers: [
        HealthController,
        MetricsController,
        ApiKeysController,
        OrganisationsController,
        AlliancesController,
        EventsController,
        AllianceQuestionsController,
        OrganisationQuestionsController,
        FundingsController,
        ImportsController,
        WebhooksController,
      ],
      providers: [
        BootstrapAdmin,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
    };
  }
}
