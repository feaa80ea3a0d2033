import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { QuestionsService } from '@app/questions';
import { parseLimit, rejectUnknown, SlugPipe } from '../common/params';
import { askParams, positionCursor } from './ask';

const AT = { name: 'at', required: false, description: 'YYYY, YYYY-MM or YYYY-MM-DD; default today' };
const KNOWN_AT = { name: 'knownAt', required: false, description: 'ISO 8601 timestamp, inclusive; default now' };

@ApiTags('questions')
@ApiBearerAuth()
@ApiResponse({ status: 400, description: 'A bad or unknown query parameter (problem+json names it)' })
@ApiResponse({ status: 401, description: 'No or unknown API key' })
@ApiResponse({ status: 404, description: 'Unknown organisation' })
@Controller('organisations')
export class OrganisationQuestionsController {
  constructor(private readonly questions: QuestionsService) {}

  @Get(':id/memberships')
  @ApiOperation({ summary: 'The alliances the organisation belongs to on `at`, as known at `knownAt`' })
  @ApiQuery(AT)
  @ApiQuery(KNOWN_AT)
  memberships(@Param('id', SlugPipe) id: string, @Query() query: Record<string, unknown>) {
    const { at, knownAt, ...rest } = query;
    rejectUnknown(rest);
    return this.questions.memberships(id, askParams({ at, knownAt }));
  }

  @Get(':id/history')
  @ApiOperation({ summary: 'Every event about the organisation recorded by `knownAt`, in recording order, with `retracted` as known then' })
  @ApiQuery({ ...AT, description: 'the date of the name shown alongside; default today' })
  @ApiQuery(KNOWN_AT)
  @ApiQuery({ name: 'limit', required: false, description: '1..10000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  history(@Param('id', SlugPipe) id: string, @Query() query: Record<string, unknown>) {
    const { at, knownAt, limit, cursor, ...rest } = query;
    rejectUnknown(rest);
    return this.questions.history(id, askParams({ at, knownAt }), { limit: parseLimit(limit), after: positionCursor(cursor) });
  }
}
