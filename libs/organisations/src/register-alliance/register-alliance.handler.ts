import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandMeta, eventView, parseValidDate, RecordContext, Recorder, refused, streams } from '@app/shared';
import type { AllianceRegistered } from '../organisations.events';
import type { RegisterAllianceDto } from './register-alliance.dto';

export class RegisterAllianceCommand {
  constructor(
    readonly input: RegisterAllianceDto,
    readonly meta: CommandMeta,
  ) {}
}

export async function registerAlliance(ctx: RecordContext, input: RegisterAllianceDto) {
  const stream = streams.alliance(input.id);
  const existing = await ctx.readStream(stream);
  if (existing.length > 0) {
    throw refused(`alliance ${input.id} already exists (registered as "${(existing[0].data as AllianceRegistered).name}", event ${existing[0].id})`);
  }
  const founded = input.foundedOn ? parseValidDate(input.foundedOn) : null;
  const data: AllianceRegistered = {
    allianceId: input.id,
    name: input.name,
    website: input.website ?? null,
    foundedOn: founded?.on ?? null,
    foundedPrecision: founded?.precision ?? null,
  };
  const [event] = await ctx.append(stream, [{ type: 'AllianceRegistered', data }], 'no-stream');
  return {
    event: eventView(event),
    alliance: { id: data.allianceId, name: data.name, website: data.website, foundedOn: data.foundedOn, foundedOnPrecision: data.foundedPrecision },
  };
}

@CommandHandler(RegisterAllianceCommand)
export class RegisterAllianceHandler implements ICommandHandler<RegisterAllianceCommand> {
  constructor(private readonly recorder: Recorder) {}

  execute({ input, meta }: RegisterAllianceCommand) {
    return this.recorder.execute(meta, (ctx) => registerAlliance(ctx, input));
  }
}
