import { Module, OnModuleInit } from '@nestjs/common';
import { RetractionRules } from '@app/corrections';
import { OrganisationsModule } from '@app/organisations';
import { parseMembershipStream } from '@app/shared';
import { decideRetraction, fold } from './membership.decider';
import { Projections } from '@app/shared';
import { projectMembership } from './membership.projection';
import { RecordJoinHandler, RecordLeaveHandler } from './record-join/record-join.handler';

@Module({
  imports: [OrganisationsModule],
  providers: [RecordJoinHandler, RecordLeaveHandler],
})
export class MembershipModule implements OnModuleInit {
  constructor(
    private readonly projections: Projections,
    private readonly retractions: RetractionRules,
  ) {}

  onModuleInit() {
    for (const type of ['MemberJoined', 'MemberLeft']) {
      this.retractions.register(type, (_ctx, target, stream) => {
        const pair = parseMembershipStream(target.streamId)!;
        const decision = decideRetraction(fold(pair.allianceId, pair.organisationId, stream), target.id);
        return decision.ok ? null : decision.reason;
      });
    }
    this.projections.register('membership', ['membership_facts', 'membership_intervals'], projectMembership);
  }
}
