import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ImportFactsCommand, ImportFactsDto } from '@app/imports';
import type { CommandMeta } from '@app/shared';
import { Meta } from '../auth/auth';

@ApiTags('imports')
@ApiBearerAuth()
@Controller('imports')
export class ImportsController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Record many facts atomically: all or none' })
  @ApiResponse({ status: 201, description: '{events: [...], count}: one or more events per fact, in order' })
  @ApiResponse({ status: 400, description: 'Malformed facts: errors [{index, field, message}] for each; nothing recorded' })
  @ApiResponse({ status: 401, description: 'No or unknown API key' })
  @ApiResponse({ status: 403, description: 'The key lacks the curator role' })
  @ApiResponse({ status: 409, description: 'Refused facts: errors [{index, message}] for each; nothing recorded' })
  import(@Body() body: ImportFactsDto, @Meta() meta: CommandMeta) {
    return this.commands.execute(new ImportFactsCommand(body.facts, meta));
  }
}
