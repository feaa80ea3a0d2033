import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { QuestionsService } from '@app/questions';
import { parseLimit, rejectUnknown, SlugPipe } from '../common/params';
import { badRequest } from '../common/problem';
import { slugCursor, slugNextCursor } from '../common/cursor';
import { askParams, dateParam, factCursor, memberFilter, requiredDate } from './ask';

const AT = { name: 'at', required: false, description: 'YYYY, YYYY-MM or YYYY-MM-DD (a partial date means its first day); default today' };
const KNOWN_AT = { name: 'knownAt', required: false, description: 'ISO 8601 timestamp, inclusive; default now' };

type Query_ = Record<string, unknown>;

/**
 * Point-in-time questions about an alliance. The .csv and .svg routes are declared before
 * their JSON siblings; no route of this path shape takes a dotted suffix as a parameter.
 */
@ApiTags('questions')
@ApiBearerAuth()
@ApiResponse({ status: 400, description: 'A bad or unknown query parameter (problem+json names it)' })
@ApiResponse({ status: 401, description: 'No or unknown API key' })
@ApiResponse({ status: 404, description: 'Unknown alliance' })
@Controller('alliances')
export class AllianceQuestionsController {
  constructor(private readonly questions: QuestionsService) {}

  @Get(':id/members.csv')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  @ApiOperation({ summary: 'Members on `at` as known at `knownAt`, as CSV (organisationId,name,country,kind,role,since)' })
  @ApiProduces('text/csv')
  @ApiQuery(AT)
  @ApiQuery(KNOWN_AT)
  @ApiQuery({ name: 'country', required: false })
  @ApiQuery({ name: 'kind', required: false })
  membersCsv(@Param('id', SlugPipe) id: string, @Query() query: Query_) {
    const { at, knownAt, country, kind, ...rest } = query;
    rejectUnknown(rest);
    return this.questions.membersCsv(id, askParams({ at, knownAt }), memberFilter(country, kind));
  }

  @Get(':id/members')
  @ApiOperation({ summary: 'Members on `at` as known at `knownAt`, with names as of `at`' })
  @ApiQuery(AT)
  @ApiQuery(KNOWN_AT)
  @ApiQuery({ name: 'country', required: false, description: 'ISO 3166-1 alpha-2' })
  @ApiQuery({ name: 'kind', required: false })
  @ApiQuery({ name: 'limit', required: false, description: '1..10000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  async members(@Param('id', SlugPipe) id: string, @Query() query: Query_) {
    const { at, knownAt, country, kind, limit, cursor, ...rest } = query;
    rejectUnknown(rest);
    const page = await this.questions.members(id, askParams({ at, knownAt }), memberFilter(country, kind), {
      limit: parseLimit(limit),
      cursor: slugCursor('members', cursor),
    });
    return { ...page, nextCursor: slugNextCursor('members', page.nextCursor) };
  }

  @Get(':id/changes')
  @ApiOperation({ summary: 'Who joined and left between `from` and `to`, and the membership events dated from < on <= to' })
  @ApiQuery({ name: 'from', required: true, description: 'YYYY, YYYY-MM or YYYY-MM-DD' })
  @ApiQuery({ name: 'to', required: false, description: 'YYYY, YYYY-MM or YYYY-MM-DD; default today' })
  @ApiQuery({ ...AT, description: 'the date whose names are shown; default `to`' })
  @ApiQuery(KNOWN_AT)
  @ApiQuery({ name: 'limit', required: false, description: 'events per page, 1..10000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  changes(@Param('id', SlugPipe) id: string, @Query() query: Query_) {
    const { from, to, at, knownAt, limit, cursor, ...rest } = query;
    rejectUnknown(rest);
    const fromDate = requiredDate(from, 'from');
    const toDate = dateParam(to, 'to');
    if (toDate.date < fromDate.date) {
      throw badRequest('to', `must not be before from (${fromDate.on})`);
    }
    return this.questions.changes(id, fromDate, toDate, askParams({ at, knownAt }, toDate), {
      limit: parseLimit(limit),
      cursor: factCursor(cursor),
    });
  }

  @Get(':id/stats')
  @ApiOperation({ summary: 'Member count on `at` by country and by kind' })
  @ApiQuery(AT)
  @ApiQuery(KNOWN_AT)
  stats(@Param('id', SlugPipe) id: string, @Query() query: Query_) {
    const { at, knownAt, ...rest } = query;
    rejectUnknown(rest);
    return this.questions.stats(id, askParams({ at, knownAt }));
  }

  @Get(':id/timeline.svg')
  @Header('Content-Type', 'image/svg+xml; charset=utf-8')
  @ApiOperation({ summary: 'The member count over time, up to `at`, as an SVG chart' })
  @ApiProduces('image/svg+xml')
  @ApiQuery(AT)
  @ApiQuery(KNOWN_AT)
  timelineSvg(@Param('id', SlugPipe) id: string, @Query() query: Query_) {
    const { at, knownAt, ...rest } = query;
    rejectUnknown(rest);
    return this.questions.timelineSvg(id, askParams({ at, knownAt }));
  }

  @Get(':id/timeline')
  @ApiOperation({ summary: 'One point per date on which membership changed, up to `at`: {on, count, joined, left}' })
  @ApiQuery(AT)
  @ApiQuery(KNOWN_AT)
  timeline(@Param('id', SlugPipe) id: string, @Query() query: Query_) {
    const { at, knownAt, ...rest } = query;
    rejectUnknown(rest);
    return this.questions.timeline(id, askParams({ at, knownAt }));
  }
}
