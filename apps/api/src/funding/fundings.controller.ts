import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  FUNDING_CURSOR,
  FundingRepository,
  RecordFundingCommand,
  RecordFundingDto,
  RecordTrancheCommand,
  RecordTrancheDto,
  TerminateFundingCommand,
  TerminateFundingDto,
} from '@app/funding';
import { EventStore } from '@app/event-store';
import { CommandMeta, SLUG, validDateProblem } from '@app/shared';
import { Meta } from '../auth/auth';
import { optionalString, parseAt, parseKnownAt, parseLimit, rejectUnknown, UuidPipe } from '../common/params';
import { badRequest, ProblemException } from '../common/problem';

const AT = { name: 'at', required: false, description: 'YYYY, YYYY-MM or YYYY-MM-DD (its first day); default today' };
const KNOWN_AT = { name: 'knownAt', required: false, description: 'ISO 8601 timestamp, inclusive; default now' };

function optionalSlug(value: unknown, field: string): string | undefined {
  const slug = optionalString(value, field, 63);
  if (slug !== undefined && !SLUG.test(slug)) {
    throw badRequest(field, `"${slug}" is not a slug ([a-z0-9][a-z0-9-]{0,62})`);
  }
  return slug;
}

@ApiTags('funding')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No or unknown API key' })
@ApiResponse({ status: 403, description: 'The key lacks the role' })
@Controller('fundings')
export class FundingsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly fundings: FundingRepository,
    private readonly store: EventStore,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Record a funding commitment (FundingCommitted; curator)' })
  @ApiResponse({ status: 201, description: '{event, fundingId}' })
  @ApiResponse({ status: 400, description: 'Invalid field, or funder and recipient are the same' })
  @ApiResponse({ status: 404, description: 'Unknown funder or recipient organisation' })
  @ApiResponse({ status: 409, description: 'A funding with that fundingId already exists' })
  commit(@Body() body: RecordFundingDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new RecordFundingCommand(body, meta));
  }

  @Post(':id/tranches')
  @HttpCode(201)
  @ApiOperation({ summary: 'Record a tranche paid, in its own currency (FundingTranchePaid; curator)' })
  @ApiResponse({ status: 201, description: '{event}' })
  @ApiResponse({ status: 400, description: 'Invalid field' })
  @ApiResponse({ status: 404, description: 'Unknown funding' })
  @ApiResponse({ status: 409, description: 'Dated after the termination, or the commitment was retracted' })
  tranche(@Param('id', UuidPipe) id: string, @Body() body: RecordTrancheDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new RecordTrancheCommand(id, body, meta));
  }

  @Post(':id/terminate')
  @HttpCode(201)
  @ApiOperation({ summary: 'Record that a funding stopped (FundingTerminated; curator)' })
  @ApiResponse({ status: 201, description: '{event}' })
  @ApiResponse({ status: 400, description: 'Invalid field' })
  @ApiResponse({ status: 404, description: 'Unknown funding' })
  @ApiResponse({
    status: 409,
    description: 'Already terminated, dated before the commitment or a recorded tranche, or the commitment was retracted',
  })
  terminate(@Param('id', UuidPipe) id: string, @Body() body: TerminateFundingDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new TerminateFundingCommand(id, body, meta));
  }

  @Get()
  @ApiOperation({
    summary: 'Fundings committed by `at` as known at `knownAt`, with committed and paid per funding and per currency',
    description:
      'Tranches dated after `at` are not counted; `status` is terminated when the termination is dated on or before `at`. ' +
      '`paid` counts tranches in the funding\'s currency; `totals` are per currency, nothing is converted. ' +
      '`totals` cover every matching funding, not only the page.',
  })
  @ApiQuery({ name: 'funderId', required: false })
  @ApiQuery({ name: 'recipientId', required: false })
  @ApiQuery(AT)
  @ApiQuery(KNOWN_AT)
  @ApiQuery({ name: 'limit', required: false, description: '1 to 10000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiResponse({ status: 200, description: '{at, knownAt, fundings: [...], totals: [{currency, committed, paid}], nextCursor}' })
  @ApiResponse({ status: 400, description: 'Invalid query parameter' })
  async list(@Query() query: Record<string, unknown>) {
    const { funderId, recipientId, at, knownAt, limit, cursor, ...rest } = query;
    rejectUnknown(rest);
    const validOn = parseAt(at);
    const after = optionalString(cursor, 'cursor', 100);
    // The date must be a real one too: Postgres would refuse 2024-02-30 with a field-less 400.
    const date = after ? FUNDING_CURSOR.exec(after)?.[1] : undefined;
    if (after && (date === undefined || validDateProblem(date) !== null)) {
      throw badRequest('cursor', 'must be the nextCursor of an earlier page');
    }
    const known = await this.store.settledKnownAt(parseKnownAt(knownAt));
    const result = await this.fundings.list({
      at: validOn.date,
      knownAt: known,
      funderId: optionalSlug(funderId, 'funderId'),
      recipientId: optionalSlug(recipientId, 'recipientId'),
      limit: parseLimit(limit),
      cursor: after,
    });
    return { at: validOn.on, knownAt: known.toISOString(), ...result };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One funding on `at` as known at `knownAt`, in the shape of the list entries' })
  @ApiQuery(AT)
  @ApiQuery(KNOWN_AT)
  @ApiResponse({ status: 200, description: '{at, knownAt, fundingId, funderId, recipientId, currency, committed, paid, status, ...}' })
  @ApiResponse({ status: 400, description: 'Invalid id or query parameter' })
  @ApiResponse({ status: 404, description: 'Unknown funding, or not committed by `at` as known at `knownAt`' })
  async get(@Param('id', UuidPipe) id: string, @Query() query: Record<string, unknown>) {
    const { at, knownAt, ...rest } = query;
    rejectUnknown(rest);
    const validOn = parseAt(at);
    const known = await this.store.settledKnownAt(parseKnownAt(knownAt));
    const funding = await this.fundings.get(id, validOn.date, known);
    if (!funding) {
      const detail = (await this.fundings.everCommitted(id))
        ? `funding ${id} is not committed on or before ${validOn.on} as known at ${known.toISOString()}`
        : `no funding ${id}`;
      throw new ProblemException(404, detail);
    }
    return { at: validOn.on, knownAt: known.toISOString(), ...funding };
  }
}
