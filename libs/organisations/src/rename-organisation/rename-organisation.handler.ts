import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandMeta, compact, eventView, notFound, parseValidDate, RecordContext, Recorder, refused, streams } from '@app/shared';
import type { RecordedEvent } from '@app/event-store';
import type { OrganisationRegistered, OrganisationRenamed } from '../organisations.events';
import type { RenameOrganisationDto } from './rename-organisation.dto';

export class RenameOrganisationCommand {
  constructor(
    readonly organisationId: string,
    readonly input: RenameOrganisationDto,
    readonly meta: CommandMeta,
  ) {}
}

/** The organisation's names in valid time as currently known (retracted renames dropped). */
type NameEntry = { name: string; date: string | null; eventId: string };

export function nameHistory(events: RecordedEvent[]): NameEntry[] {
  const retracted = new Set(
    events.filter((e) => e.type === 'EventRetracted').map((e) => (e.data as { eventId: string }).eventId),
  );
  return events
    .filter((e) => !retracted.has(e.id))
    .flatMap((e): NameEntry[] => {
      if (e.type === 'OrganisationRegistered') {
        return [{ name: (e.data as OrganisationRegistered).name, date: null, eventId: e.id }];
      }
      if (e.type === 'OrganisationRenamed') {
        const d = e.data as OrganisationRenamed;
        return [{ name: d.name, date: parseValidDate(d.on).date, eventId: e.id }];
      }
      return [];
    });
}

export async function renameOrganisation(ctx: RecordContext, organisationId: string, input: RenameOrganisationDto) {
  const stream = streams.organisation(organisationId);
  const events = await ctx.readStream(stream);
  if (events.length === 0) {
    throw notFound(`no organisation ${organisationId}`);
  }
  const on = parseValidDate(input.on);
  const names = nameHistory(events);
  const sameDay = names.find((n) => n.date === on.date);
  if (sameDay) {
    throw refused(`${organisationId} is already renamed to "${sameDay.name}" on ${input.on} (event ${sameDay.eventId}); retract that rename first`);
  }
  const before = names
    .filter((n) => n.date === null || n.date < on.date)
    .sort((a, b) => (a.date ?? '').localeCompare(b.date ?? ''))
    .pop()!;
  if (before.name === input.name) {
    throw refused(`${organisationId} is already called "${input.name}" before ${input.on} (event ${before.eventId})`);
  }
  const data: OrganisationRenamed = compact({
    organisationId,
    name: input.name,
    previousName: before.name,
    on: on.on,
    precision: on.precision,
    source: input.source ? compact({ ...input.source }) : undefined,
  });
  const [event] = await ctx.append(stream, [{ type: 'OrganisationRenamed', data }], events[events.length - 1].version);
  return { event: eventView(event) };
}

@CommandHandler(RenameOrganisationCommand)
export class RenameOrganisationHandler implements ICommandHandler<RenameOrganisationCommand> {
  constructor(private readonly recorder: Recorder) {}

  execute({ organisationId, input, meta }: RenameOrganisationCommand) {
    return this.recorder.execute(meta, (ctx) => renameOrganisation(ctx, organisationId, input));
  }
}
