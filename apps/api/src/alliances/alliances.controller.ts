import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RecordJoinCommand, RecordJoinDto, RecordLeaveCommand, RecordLeaveDto } from '@app/membership';
import { OrganisationsRepository, RegisterAllianceCommand, RegisterAllianceDto } from '@app/organisations';
import type { CommandMeta } from '@app/shared';
import { Meta } from '../auth/auth';
import { slugCursor, slugNextCursor } from '../common/cursor';
import { parseLimit, rejectUnknown, SlugPipe } from '../common/params';
import { ProblemException } from '../common/problem';

@ApiTags('alliances and membership')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No or unknown API key' })
@ApiResponse({ status: 403, description: 'The key lacks the role' })
@Controller('alliances')
export class AlliancesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly organisations: OrganisationsRepository,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register an alliance (curator)' })
  @ApiResponse({ status: 201, description: '{event, alliance}' })
  @ApiResponse({ status: 400, description: 'Invalid field' })
  @ApiResponse({ status: 409, description: 'The id is taken' })
  register(@Body() body: RegisterAllianceDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new RegisterAllianceCommand(body, meta));
  }

  @Get()
  @ApiOperation({ summary: 'Alliances in id order, a page at a time' })
  @ApiQuery({ name: 'limit', required: false, description: '1..10000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  async list(@Query() query: Record<string, unknown>) {
    const { limit, cursor, ...rest } = query;
    rejectUnknown(rest);
    const page = await this.organisations.listAlliances(parseLimit(limit), slugCursor('alliances', cursor));
    return { ...page, nextCursor: slugNextCursor('alliances', page.nextCursor) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One alliance' })
  @ApiResponse({ status: 404, description: 'Unknown alliance' })
  async get(@Param('id', SlugPipe) id: string) {
    const alliance = await this.organisations.getAlliance(id);
    if (!alliance) {
      throw new ProblemException(404, `no alliance ${id}`);
    }
    return alliance;
  }

  @Post(':id/members')
  @HttpCode(201)
  @ApiOperation({ summary: 'Record that an organisation joined (MemberJoined)' })
  @ApiResponse({ status: 201, description: '{event}' })
  @ApiResponse({ status: 400, description: 'Invalid field' })
  @ApiResponse({ status: 404, description: 'Unknown alliance or organisation' })
  @ApiResponse({ status: 409, description: 'Already a member on that date, or a later join needs a leave first' })
  join(@Param('id', SlugPipe) id: string, @Body() body: RecordJoinDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new RecordJoinCommand(id, body, meta));
  }

  @Post(':id/members/:organisationId/leave')
  @HttpCode(201)
  @ApiOperation({ summary: 'Record that an organisation left (MemberLeft)' })
  @ApiResponse({ status: 201, description: '{event}' })
  @ApiResponse({ status: 400, description: 'Invalid field' })
  @ApiResponse({ status: 404, description: 'Unknown alliance or organisation' })
  @ApiResponse({ status: 409, description: 'Not a member on that date, or already leaving later' })
  leave(
    @Param('id', SlugPipe) id: string,
    @Param('organisationId', SlugPipe) organisationId: string,
    @Body() body: RecordLeaveDto,
    @Meta() meta: CommandMeta,
  ) {
    return this.commands.execute(new RecordLeaveCommand(id, organisationId, body, meta));
  }
}
