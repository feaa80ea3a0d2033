import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiKeysRepository } from '@app/access';
import { RequireRole } from '../auth/auth';
import { ProblemException } from '../common/problem';
import { rejectUnknown } from '../common/params';
import { CreateApiKeyDto } from './api-keys.dto';

@ApiTags('api keys')
@ApiBearerAuth()
@RequireRole('admin')
@ApiResponse({ status: 401, description: 'No or unknown key' })
@ApiResponse({ status: 403, description: 'Not an admin key' })
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysRepository) {}

  @Post()
  @ApiOperation({ summary: 'Create a key; the key is shown only in this response' })
  @ApiResponse({ status: 201, description: '{id, name, role, key}' })
  @ApiResponse({ status: 400, description: 'Invalid name or role' })
  async create(@Body() body: CreateApiKeyDto) {
    const created = await this.keys.create(body.name, body.role);
    return { id: created.id, name: created.name, role: created.role, key: created.key, createdAt: created.created_at };
  }

  @Get()
  @ApiOperation({ summary: 'List keys (never the keys themselves)' })
  async list(@Query() query: Record<string, unknown>) {
    rejectUnknown(query);
    const rows = await this.keys.list();
    return {
      apiKeys: rows.map((r) => ({
        id: r.id,
        name: r.name,
        role: r.role,
        keyPrefix: r.key_prefix,
        createdAt: r.created_at,
        revokedAt: r.revoked_at,
      })),
    };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key' })
  @ApiResponse({ status: 404, description: 'Unknown or already revoked key' })
  async revoke(@Param('id', new ParseUUIDPipe({ exceptionFactory: () => new ProblemException(400, 'id: must be a UUID', [{ field: 'id', message: 'must be a UUID' }]) })) id: string) {
    if (!(await this.keys.revoke(id))) {
      throw new ProblemException(404, `no active API key ${id}`);
    }
  }
}
