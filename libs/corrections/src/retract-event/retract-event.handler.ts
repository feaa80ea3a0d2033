import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { EventStore } from '@app/event-store';
import { CommandMeta, compact, eventView, notFound, RecordContext, Recorder, refused } from '@app/shared';
import { RetractionRules } from '../retraction-rules';
import type { RetractEventDto } from './retract-event.dto';

export class RetractEventCommand {
  constructor(
    readonly eventId: string,
    readonly input: RetractEventDto,
    readonly meta: CommandMeta,
  ) {}
}

/**
 * A correction never edits the log: it appends EventRetracted to the wrong event's stream,
 * so views as known before it still show the fact and views after ignore it.
 */
export async function retractEvent(ctx: RecordContext, store: EventStore, rules: RetractionRules, eventId: string, input: RetractEventDto) {
  const target = await store.readEvent(eventId, ctx.trx);
  if (!target) {
    throw notFound(`no event ${eventId}`);
  }
  const rule = rules.get(target.type);
  if (!rule) {
    throw refused(`${target.type} events cannot be retracted (event ${eventId}); only ${rules.types().join(', ')} can`);
  }
  const stream = await ctx.readStream(target.streamId);
  const earlier = stream.find((e) => e.type === 'EventRetracted' && (e.data as { eventId: string }).eventId === eventId);
  if (earlier) {
    throw refused(`event ${eventId} is already retracted (by event ${earlier.id} at ${earlier.recordedAt.toISOString()})`);
  }
  const problem = await rule(ctx, target, stream);
  if (problem) {
    throw refused(problem);
  }
  const d = target.data as { allianceId?: string; organisationId?: string; fundingId?: string; funderId?: string; recipientId?: string };
  const [event] = await ctx.append(
    target.streamId,
    [
      {
        type: 'EventRetracted',
        data: compact({
          eventId,
          reason: input.reason,
          retractedType: target.type,
          allianceId: d.allianceId,
          organisationId: d.organisationId,
          fundingId: d.fundingId,
          funderId: d.funderId,
          recipientId: d.recipientId,
        }),
      },
    ],
    stream[stream.length - 1].version,
  );
  return { event: eventView(event), retracted: eventView(target) };
}

@CommandHandler(RetractEventCommand)
export class RetractEventHandler implements ICommandHandler<RetractEventCommand> {
  constructor(
    private readonly recorder: Recorder,
    private readonly store: EventStore,
    private readonly rules: RetractionRules,
  ) {}

  execute({ eventId, input, meta }: RetractEventCommand) {
    return this.recorder.execute(meta, (ctx) => retractEvent(ctx, this.store, this.rules, eventId, input));
  }
}
