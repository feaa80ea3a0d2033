import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiKeysRepository } from '@app/access';
import { CommandMeta, IdempotentWrites, notFound, timestampProblem } from '@app/shared';
import { Meta, RequireRole } from '../auth/auth';
import { ProblemException } from '../common/problem';
import { decodeCursor, encodeCursor } from '../common/cursor';
import { isUuid, parseLimit, rejectUnknown } from '../common/params';
import { CreateApiKeyDto } from './api-keys.dto';

@ApiTags('api keys')
@ApiBearerAuth()
@RequireRole('admin')
@ApiResponse({ status: 401, description: 'No or unknown key' })
@ApiResponse({ status: 403, description: 'Not an admin key' })
@Controller('api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly writes: IdempotentWrites,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a key; the key is shown only in this response (and to a replay of it under the same Idempotency-Key)' })
  @ApiResponse({ status: 201, description: '{id, name, role, key}' })
  @ApiResponse({ status: 400, description: 'Invalid name or role' })
  create(@Body() body: CreateApiKeyDto, @Meta() meta: CommandMeta) {
    return this.writes.execute(meta, {
      status: 201,
      work: async (trx) => {
        const created = await this.keys.create(trx, body.name, body.role);
        return { id: created.id, name: created.name, role: created.role, key: created.key, createdAt: created.created_at.toISOString() };
      },
    });
  }

  @Get()
  @ApiOperation({ summary: 'List keys (never the keys themselves)' })
  @ApiQuery({ name: 'limit', required: false, description: '1..10000, default 100' })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  async list(@Query() query: Record<string, unknown>) {
    const { limit, cursor, ...rest } = query;
    rejectUnknown(rest);
    const size = parseLimit(limit);
    const after = decodeCursor('api-keys', cursor, [(t) => timestampProblem(t) === null, isUuid]);
    const rows = await this.keys.list(size + 1, after && { createdAt: new Date(after[0]), id: after[1] });
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    return {
      apiKeys: page.map((r) => ({
        id: r.id,
        name: r.name,
        role: r.role,
        keyPrefix: r.key_prefix,
        createdAt: r.created_at,
        revokedAt: r.revoked_at,
      })),
      nextCursor: rows.length > size ? encodeCursor('api-keys', [last.created_at.toISOString(), last.id]) : null,
    };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key' })
  @ApiResponse({ status: 404, description: 'Unknown or already revoked key' })
  async revoke(
    @Param('id', new ParseUUIDPipe({ exceptionFactory: () => new ProblemException(400, 'id: must be a UUID', [{ field: 'id', message: 'must be a UUID' }]) })) id: string,
    @Meta() meta: CommandMeta,
  ): Promise<void> {
    await this.writes.execute(meta, {
      status: 204,
      work: async (trx) => {
        if (!(await this.keys.revoke(trx, id))) {
          throw notFound(`no active API key ${id}`);
        }
        return null;
      },
      afterCommit: async () => this.keys.forgetVerified(),
    });
  }
}
