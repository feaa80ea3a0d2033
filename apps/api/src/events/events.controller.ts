import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RetractEventCommand, RetractEventDto } from '@app/corrections';
import { EventStore } from '@app/event-store';
import { CommandMeta, eventView } from '@app/shared';
import { Meta } from '../auth/auth';
import { isPosition, optionalString, parseLimit, rejectUnknown, UuidPipe } from '../common/params';
import { ProblemException } from '../common/problem';

@ApiTags('events')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No or unknown API key' })
@ApiResponse({ status: 403, description: 'The key lacks the role' })
@Controller('events')
export class EventsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly store: EventStore,
  ) {}

  @Post(':eventId/retract')
  @HttpCode(201)
  @ApiOperation({ summary: 'Retract a wrong fact (EventRetracted); views as known before still show it' })
  @ApiResponse({ status: 201, description: '{event, retracted}' })
  @ApiResponse({ status: 404, description: 'Unknown event' })
  @ApiResponse({ status: 409, description: 'Already retracted, not retractable, or the history would break' })
  retract(@Param('eventId', UuidPipe) eventId: string, @Body() body: RetractEventDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new RetractEventCommand(eventId, body, meta));
  }

  @Get()
  @ApiOperation({ summary: 'The global log in commit order' })
  @ApiQuery({ name: 'after', required: false, description: 'A position: start after that event' })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'type', required: false, description: 'Event type; comma-separated for several' })
  @ApiQuery({ name: 'streamId', required: false })
  async list(@Query() query: Record<string, unknown>) {
    const { after, limit, type, streamId, ...rest } = query;
    rejectUnknown(rest);
    const afterValue = optionalString(after, 'after', 20);
    if (afterValue !== undefined && !isPosition(afterValue)) {
      throw new ProblemException(400, 'after: must be a position (a decimal string)', [
        { field: 'after', message: 'must be a position (a decimal string)' },
      ]);
    }
    const size = parseLimit(limit, 100, 10_000);
    const events = await this.store.readAll({
      after: afterValue,
      limit: size,
      types: optionalString(type, 'type', 1000)?.split(',').filter(Boolean),
      streamId: optionalString(streamId, 'streamId', 200),
    });
    return {
      events: events.map(eventView),
      nextAfter: events.length === size ? events[events.length - 1].position : null,
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One event' })
  @ApiResponse({ status: 404, description: 'Unknown event' })
  async get(@Param('id', UuidPipe) id: string) {
    const event = await this.store.readEvent(id);
    if (!event) {
      throw new ProblemException(404, `no event ${id}`);
    }
    return eventView(event);
  }
}
