import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@app/config';
import { CorrectionsModule } from '@app/corrections';
import { DbModule } from '@app/db';
import { EventStoreModule } from '@app/event-store';
import { FundingModule } from '@app/funding';
import { MembershipModule } from '@app/membership';
import { OrganisationsModule } from '@app/organisations';
import { SharedModule } from '@app/shared';
import { ProjectionRebuilder } from './projection-rebuilder';

/**
 * The feature modules whose projections the API runs inline (they register themselves with
 * Projections on init), without HTTP, Redis or queues: what the rebuild command needs.
 */
@Module({})
export class RebuildModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: RebuildModule,
      imports: [
        ConfigModule.forRoot(config),
        DbModule,
        EventStoreModule,
        SharedModule,
        CorrectionsModule,
        OrganisationsModule,
        MembershipModule,
        FundingModule,
      ],
      providers: [ProjectionRebuilder],
      exports: [ProjectionRebuilder],
    };
  }
}
