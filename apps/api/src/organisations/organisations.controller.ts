import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  OrganisationsRepository,
  RegisterOrganisationCommand,
  RegisterOrganisationDto,
  RenameOrganisationCommand,
  RenameOrganisationDto,
  UpdateOrganisationCommand,
  UpdateOrganisationDto,
} from '@app/organisations';
import { EventStore } from '@app/event-store';
import type { CommandMeta } from '@app/shared';
import { Meta } from '../auth/auth';
import { slugCursor, slugNextCursor } from '../common/cursor';
import { optionalString, parseAt, parseKnownAt, parseLimit, rejectUnknown, SlugPipe } from '../common/params';
import { ProblemException } from '../common/problem';

@ApiTags('organisations')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'No or unknown API key' })
@ApiResponse({ status: 403, description: 'The key lacks the role' })
@Controller('organisations')
export class OrganisationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly organisations: OrganisationsRepository,
    private readonly store: EventStore,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register an organisation (curator)' })
  @ApiResponse({ status: 201, description: '{event, organisation}' })
  @ApiResponse({ status: 400, description: 'Invalid field (problem+json names it)' })
  @ApiResponse({ status: 409, description: 'The id is taken' })
  register(@Body() body: RegisterOrganisationDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new RegisterOrganisationCommand(body, meta));
  }

  @Post(':id/rename')
  @HttpCode(201)
  @ApiOperation({ summary: 'A new name valid from a date (Facebook -> Meta on 2021-10-28)' })
  @ApiResponse({ status: 201, description: '{event}' })
  @ApiResponse({ status: 400, description: 'Invalid field' })
  @ApiResponse({ status: 404, description: 'Unknown organisation' })
  @ApiResponse({ status: 409, description: 'Already renamed on that date, or already called that' })
  rename(@Param('id', SlugPipe) id: string, @Body() body: RenameOrganisationDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new RenameOrganisationCommand(id, body, meta));
  }

  @Patch(':id')
  @HttpCode(201)
  @ApiOperation({ summary: 'Change country, kind, aliases or website' })
  @ApiResponse({ status: 201, description: '{event}' })
  @ApiResponse({ status: 400, description: 'Invalid field' })
  @ApiResponse({ status: 404, description: 'Unknown organisation' })
  update(@Param('id', SlugPipe) id: string, @Body() body: UpdateOrganisationDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new UpdateOrganisationCommand(id, body, meta));
  }

  @Get()
  @ApiOperation({ summary: 'Search by name or alias' })
  @ApiQuery({ name: 'q', required: false })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  async list(@Query() query: Record<string, unknown>) {
    const { q, limit, cursor, ...rest } = query;
    rejectUnknown(rest);
    const page = await this.organisations.search(optionalString(q, 'q'), parseLimit(limit), slugCursor('organisations', cursor));
    return { ...page, nextCursor: slugNextCursor('organisations', page.nextCursor) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'An organisation with the name valid at `at` as known at `knownAt`' })
  @ApiQuery({ name: 'at', required: false, description: 'YYYY, YYYY-MM or YYYY-MM-DD; default today' })
  @ApiQuery({ name: 'knownAt', required: false, description: 'ISO timestamp; default now' })
  @ApiResponse({ status: 404, description: 'Unknown organisation' })
  async get(@Param('id', SlugPipe) id: string, @Query() query: Record<string, unknown>) {
    const { at, knownAt, ...rest } = query;
    rejectUnknown(rest);
    const found = await this.organisations.get(id, parseAt(at).date, await this.store.settledKnownAt(parseKnownAt(knownAt)));
    if (!found) {
      throw new ProblemException(404, `no organisation ${id}`);
    }
    return found;
  }
}
