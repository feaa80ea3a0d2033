import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OrganisationsRepository } from '@app/organisations';
import { CommandMeta, compact, eventView, notFound, parseValidDate, RecordContext, Recorder, refused, streams } from '@app/shared';
import { decideFact, fold } from '../membership.decider';
import type { MemberJoined, MemberLeft } from '../membership.events';
import type { RecordLeaveDto } from '../record-leave/record-leave.dto';
import type { RecordJoinDto } from './record-join.dto';

export class RecordJoinCommand {
  constructor(
    readonly allianceId: string,
    readonly input: RecordJoinDto,
    readonly meta: CommandMeta,
  ) {}
}

export class RecordLeaveCommand {
  constructor(
    readonly allianceId: string,
    readonly organisationId: string,
    readonly input: RecordLeaveDto,
    readonly meta: CommandMeta,
  ) {}
}

type FactInput = { kind: 'join'; input: RecordJoinDto } | { kind: 'leave'; input: RecordLeaveDto };

/** Records a join or leave when the pair's history stays alternating; refuses with the reason otherwise. */
export async function recordMembershipFact(
  ctx: RecordContext,
  organisations: OrganisationsRepository,
  allianceId: string,
  organisationId: string,
  fact: FactInput,
) {
  const stream = streams.membership(allianceId, organisationId);
  // Asked together: in a write batch, all three go out with every other request's in two statements.
  const [alliance, organisation, history] = await Promise.all([
    ctx.load(organisations.existing, { kind: 'alliance', id: allianceId }),
    ctx.load(organisations.existing, { kind: 'organisation', id: organisationId }),
    ctx.readStream(stream),
  ]);
  if (!alliance) {
    throw notFound(`no alliance ${allianceId}`);
  }
  if (!organisation) {
    throw notFound(`no organisation ${organisationId}`);
  }
  const state = fold(allianceId, organisationId, history);
  const decision = decideFact(state, fact.kind, fact.input.on);
  if (!decision.ok) {
    throw refused(decision.reason);
  }
  const on = parseValidDate(fact.input.on);
  const source = compact({ ...fact.input.source });
  const common = { allianceId, organisationId, on: on.on, precision: on.precision, source, note: fact.input.note };
  const [event] = await ctx.append(
    stream,
    [
      fact.kind === 'join'
        ? { type: 'MemberJoined', data: compact<MemberJoined>({ ...common, role: fact.input.role }) }
        : { type: 'MemberLeft', data: compact<MemberLeft>({ ...common, reason: fact.input.reason }) },
    ],
    state.version,
  );
  return { event: eventView(event) };
}

@CommandHandler(RecordJoinCommand)
export class RecordJoinHandler implements ICommandHandler<RecordJoinCommand> {
  constructor(
    private readonly recorder: Recorder,
    private readonly organisations: OrganisationsRepository,
  ) {}

  execute({ allianceId, input, meta }: RecordJoinCommand) {
    return this.recorder.execute(meta, (ctx) =>
      recordMembershipFact(ctx, this.organisations, allianceId, input.organisationId, { kind: 'join', input }),
    );
  }
}

@CommandHandler(RecordLeaveCommand)
export class RecordLeaveHandler implements ICommandHandler<RecordLeaveCommand> {
  constructor(
    private readonly recorder: Recorder,
    private readonly organisations: OrganisationsRepository,
  ) {}

  execute({ allianceId, organisationId, input, meta }: RecordLeaveCommand) {
    return this.recorder.execute(meta, (ctx) =>
      recordMembershipFact(ctx, this.organisations, allianceId, organisationId, { kind: 'leave', input }),
    );
  }
}
