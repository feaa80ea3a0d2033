import { Module, OnModuleInit } from '@nestjs/common';
import { RetractionRules } from '@app/corrections';
import { OrganisationsModule } from '@app/organisations';
import { Projections } from '@app/shared';
import { decideRetraction, fold } from './funding.decider';
import { FUNDING_EVENT_TYPES } from './funding.events';
import { projectFunding } from './funding.projection';
import { FundingRepository } from './funding.repository';
import { RecordFundingHandler } from './record-funding/record-funding.handler';
import { RecordTrancheHandler } from './record-tranche/record-tranche.handler';
import { TerminateFundingHandler } from './terminate-funding/terminate-funding.handler';

@Module({
  imports: [OrganisationsModule],
  providers: [FundingRepository, RecordFundingHandler, RecordTrancheHandler, TerminateFundingHandler],
  exports: [FundingRepository],
})
export class FundingModule implements OnModuleInit {
  constructor(
    private readonly projections: Projections,
    private readonly retractions: RetractionRules,
  ) {}

  onModuleInit() {
    // Tranches and terminations can always be withdrawn; a commitment only once nothing hangs on it.
    for (const type of FUNDING_EVENT_TYPES) {
      this.retractions.register(type, (_ctx, target, stream) => {
        const fundingId = (target.data as { fundingId: string }).fundingId;
        return decideRetraction(fold(fundingId, stream), target.id);
      });
    }
    this.projections.register('funding', ['funding_facts'], projectFunding);
  }
}
