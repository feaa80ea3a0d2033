import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OrganisationsRepository } from '@app/organisations';
import { CommandMeta, eventView, notFound, RecordContext, Recorder, streams } from '@app/shared';
import { decide, fold } from '../funding.decider';
import type { RecordFundingDto } from './record-funding.dto';

export class RecordFundingCommand {
  constructor(
    readonly input: RecordFundingDto,
    readonly meta: CommandMeta,
  ) {}
}

/**
 * A new funding's id: under an Idempotency-Key derived from the key (and the count of fundings
 * so far in this attempt, for imports that commit several), so a replay racing the first
 * request lands on the same stream instead of creating a second funding.
 */
export const newFundingId = (ctx: RecordContext): string => ctx.newId('funding');

/**
 * Records FundingCommitted on a new `funding-<uuid>` stream when both parties exist.
 * `input.fundingId` is used when given (imports); otherwise one is generated.
 */
export async function recordFunding(ctx: RecordContext, organisations: OrganisationsRepository, input: RecordFundingDto) {
  const fundingId = input.fundingId?.toLowerCase() ?? newFundingId(ctx);
  const stream = streams.funding(fundingId);
  const state = fold(fundingId, await ctx.readStream(stream));
  const events = decide({ type: 'CommitFunding', ...input }, state);
  const parties = [
    ['funder', input.funderId],
    ['recipient', input.recipientId],
  ];
  const exist = await Promise.all(parties.map(([, id]) => ctx.load(organisations.existing, { kind: 'organisation', id })));
  parties.forEach(([role, id], i) => {
    if (!exist[i]) {
      throw notFound(`no organisation ${id} (the ${role})`);
    }
  });
  const [event] = await ctx.append(stream, events, state.version);
  return { event: eventView(event), fundingId };
}

@CommandHandler(RecordFundingCommand)
export class RecordFundingHandler implements ICommandHandler<RecordFundingCommand> {
  constructor(
    private readonly recorder: Recorder,
    private readonly organisations: OrganisationsRepository,
  ) {}

  execute({ input, meta }: RecordFundingCommand) {
    return this.recorder.execute(meta, (ctx) => recordFunding(ctx, this.organisations, input));
  }
}
