import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandMeta, compact, eventView, invalid, notFound, RecordContext, Recorder, streams } from '@app/shared';
import type { OrganisationUpdated } from '../organisations.events';
import type { UpdateOrganisationDto } from './update-organisation.dto';

export class UpdateOrganisationCommand {
  constructor(
    readonly organisationId: string,
    readonly input: UpdateOrganisationDto,
    readonly meta: CommandMeta,
  ) {}
}

export async function updateOrganisation(ctx: RecordContext, organisationId: string, input: UpdateOrganisationDto) {
  const stream = streams.organisation(organisationId);
  const existing = await ctx.readStream(stream);
  if (existing.length === 0) {
    throw notFound(`no organisation ${organisationId}`);
  }
  const data: OrganisationUpdated = compact({
    organisationId,
    country: input.country,
    kind: input.kind,
    aliases: input.aliases,
    website: input.website,
  });
  if (Object.keys(data).length === 1) {
    throw invalid('body', 'name at least one of country, kind, aliases, website');
  }
  const [event] = await ctx.append(stream, [{ type: 'OrganisationUpdated', data }], existing[existing.length - 1].version);
  return { event: eventView(event) };
}

@CommandHandler(UpdateOrganisationCommand)
export class UpdateOrganisationHandler implements ICommandHandler<UpdateOrganisationCommand> {
  constructor(private readonly recorder: Recorder) {}

  execute({ organisationId, input, meta }: UpdateOrganisationCommand) {
    return this.recorder.execute(meta, (ctx) => updateOrganisation(ctx, organisationId, input));
  }
}
