import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandMeta, eventView, RecordContext, Recorder, streams } from '@app/shared';
import { decide, fold } from '../funding.decider';
import type { RecordTrancheDto } from './record-tranche.dto';

export class RecordTrancheCommand {
  constructor(
    readonly fundingId: string,
    readonly input: RecordTrancheDto,
    readonly meta: CommandMeta,
  ) {}
}

/** Records FundingTranchePaid in the tranche's own currency; refused after the funding's termination date. */
export async function recordTranche(ctx: RecordContext, fundingId: string, input: RecordTrancheDto) {
  const stream = streams.funding(fundingId);
  const state = fold(fundingId, await ctx.readStream(stream));
  const events = decide({ type: 'PayTranche', ...input }, state);
  const [event] = await ctx.append(stream, events, state.version);
  return { event: eventView(event) };
}

@CommandHandler(RecordTrancheCommand)
export class RecordTrancheHandler implements ICommandHandler<RecordTrancheCommand> {
  constructor(private readonly recorder: Recorder) {}

  execute({ fundingId, input, meta }: RecordTrancheCommand) {
    return this.recorder.execute(meta, (ctx) => recordTranche(ctx, fundingId, input));
  }
}
