import { Module, OnModuleInit } from '@nestjs/common';
import { RetractionRules } from '@app/corrections';
import { Projections } from '@app/shared';
import { OrganisationsRepository } from './organisations.repository';
import { projectAlliances, projectOrganisations } from './organisations.projection';
import { RegisterAllianceHandler } from './register-alliance/register-alliance.handler';
import { RegisterOrganisationHandler } from './register-organisation/register-organisation.handler';
import { RenameOrganisationHandler } from './rename-organisation/rename-organisation.handler';
import { UpdateOrganisationHandler } from './update-organisation/update-organisation.handler';

@Module({
  providers: [
    OrganisationsRepository,
    RegisterOrganisationHandler,
    UpdateOrganisationHandler,
    RenameOrganisationHandler,
    RegisterAllianceHandler,
  ],
  exports: [OrganisationsRepository],
})
export class OrganisationsModule implements OnModuleInit {
  constructor(
    private readonly projections: Projections,
    private readonly retractions: RetractionRules,
  ) {}

  onModuleInit() {
    // A wrong rename can always go: the earlier name simply holds again.
    this.retractions.register('OrganisationRenamed', () => null);
    this.projections.register('organisations', ['organisations', 'organisation_names', 'organisation_events'], projectOrganisations);
    this.projections.register('alliances', ['alliances'], projectAlliances);
  }
}
