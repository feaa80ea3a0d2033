import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandMeta, eventView, RecordContext, Recorder, streams } from '@app/shared';
import { decide, fold } from '../funding.decider';
import type { TerminateFundingDto } from './terminate-funding.dto';

export class TerminateFundingCommand {
  constructor(
    readonly fundingId: string,
    readonly input: TerminateFundingDto,
    readonly meta: CommandMeta,
  ) {}
}

/** Records FundingTerminated: once per funding, not before its commitment nor before a recorded tranche. */
export async function terminateFunding(ctx: RecordContext, fundingId: string, input: TerminateFundingDto) {
  const stream = streams.funding(fundingId);
  const state = fold(fundingId, await ctx.readStream(stream));
  const events = decide({ type: 'TerminateFunding', ...input }, state);
  const [event] = await ctx.append(stream, events, state.version);
  return { event: eventView(event) };
}

@CommandHandler(TerminateFundingCommand)
export class TerminateFundingHandler implements ICommandHandler<TerminateFundingCommand> {
  constructor(private readonly recorder: Recorder) {}

  execute({ fundingId, input, meta }: TerminateFundingCommand) {
    return this.recorder.execute(meta, (ctx) => terminateFunding(ctx, fundingId, input));
  }
}
