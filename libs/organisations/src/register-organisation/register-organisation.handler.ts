import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandMeta, eventView, RecordContext, Recorder, refused, streams } from '@app/shared';
import type { OrganisationRegistered } from '../organisations.events';
import type { RegisterOrganisationDto } from './register-organisation.dto';

export class RegisterOrganisationCommand {
  constructor(
    readonly input: RegisterOrganisationDto & { provisional?: boolean },
    readonly meta: CommandMeta,
  ) {}
}

export async function registerOrganisation(ctx: RecordContext, input: RegisterOrganisationCommand['input']) {
  const stream = streams.organisation(input.id);
  const existing = await ctx.readStream(stream);
  if (existing.length > 0) {
    const first = existing[0].data as OrganisationRegistered;
    throw refused(`organisation ${input.id} already exists (registered as "${first.name}", event ${existing[0].id})`);
  }
  const data: OrganisationRegistered = {
    organisationId: input.id,
    name: input.name,
    country: input.country ?? null,
    kind: input.kind ?? null,
    aliases: input.aliases ?? [],
    website: input.website ?? null,
    provisional: input.provisional ?? false,
  };
  const [event] = await ctx.append(stream, [{ type: 'OrganisationRegistered', data }], 'no-stream');
  const { organisationId, ...fields } = data;
  return { event: eventView(event), organisation: { id: organisationId, ...fields, currentName: data.name } };
}

@CommandHandler(RegisterOrganisationCommand)
export class RegisterOrganisationHandler implements ICommandHandler<RegisterOrganisationCommand> {
  constructor(private readonly recorder: Recorder) {}

  execute({ input, meta }: RegisterOrganisationCommand) {
    return this.recorder.execute(meta, (ctx) => registerOrganisation(ctx, input));
  }
}
