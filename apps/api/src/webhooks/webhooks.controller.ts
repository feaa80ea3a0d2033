import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { CommandMeta } from '@app/shared';
import { WebhookEndpointsService } from '@app/webhooks';
import { Meta, RequireRole } from '../auth/auth';
import { parseLimit, UuidPipe } from '../common/params';
import { CreateWebhookDto, DeliveriesQueryDto, ListQueryDto, RecoverDto, UpdateWebhookDto } from './webhooks.dto';

@ApiTags('webhooks')
@ApiBearerAuth()
@RequireRole('admin')
@ApiResponse({ status: 401, description: 'No or unknown key' })
@ApiResponse({ status: 403, description: 'Not an admin key' })
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhookEndpointsService) {}

  @Post()
  @ApiOperation({ summary: 'Subscribe an endpoint; the secret (whsec_...) is shown only here and on rotation' })
  @ApiResponse({ status: 201, description: '{id, url, eventTypes, allianceIds, status, secret}' })
  @ApiResponse({ status: 400, description: 'Invalid input, or a URL that is not http(s) or reaches a private address' })
  create(@Body() body: CreateWebhookDto, @Meta() meta: CommandMeta) {
    return this.webhooks.create(meta, body);
  }

  @Get()
  @ApiOperation({ summary: 'List endpoints (never their secrets)' })
  list(@Query() query: ListQueryDto) {
    return this.webhooks.list(parseLimit(query.limit), query.cursor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One endpoint' })
  @ApiResponse({ status: 404, description: 'Unknown webhook' })
  get(@Param('id', UuidPipe) id: string) {
    return this.webhooks.get(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change URL, filters, description or status (enabled|disabled)' })
  @ApiResponse({ status: 404, description: 'Unknown webhook' })
  update(@Param('id', UuidPipe) id: string, @Body() body: UpdateWebhookDto, @Meta() meta: CommandMeta) {
    return this.webhooks.update(meta, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an endpoint and its delivery history' })
  @ApiResponse({ status: 404, description: 'Unknown webhook' })
  async remove(@Param('id', UuidPipe) id: string, @Meta() meta: CommandMeta) {
    await this.webhooks.remove(meta, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'New secret; for 24 hours messages carry signatures with the old and the new one' })
  rotate(@Param('id', UuidPipe) id: string, @Meta() meta: CommandMeta) {
    return this.webhooks.rotateSecret(meta, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a webhook.test message' })
  @ApiResponse({ status: 202, description: 'The delivery, pending' })
  @ApiResponse({ status: 409, description: 'The endpoint is disabled' })
  test(@Param('id', UuidPipe) id: string, @Meta() meta: CommandMeta) {
    return this.webhooks.sendTest(meta, id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'Deliveries to the endpoint, newest first; filter by status' })
  deliveries(@Param('id', UuidPipe) id: string, @Query() query: DeliveriesQueryDto) {
    return this.webhooks.deliveries(id, query.status, parseLimit(query.limit), query.cursor);
  }

  @Get(':id/deliveries/:deliveryId')
  @ApiOperation({ summary: 'One delivery with its attempt log' })
  delivery(@Param('id', UuidPipe) id: string, @Param('deliveryId', UuidPipe) deliveryId: string) {
    return this.webhooks.delivery(id, deliveryId);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @ApiOperation({ summary: 'Attempt one delivery again now, with a fresh retry schedule' })
  @ApiResponse({ status: 409, description: 'The endpoint is disabled' })
  redeliver(@Param('id', UuidPipe) id: string, @Param('deliveryId', UuidPipe) deliveryId: string, @Meta() meta: CommandMeta) {
    return this.webhooks.redeliver(meta, id, deliveryId);
  }

  @Post(':id/recover')
  @HttpCode(202)
  @ApiOperation({ summary: 'Attempt again every failed or exhausted delivery created since a time' })
  @ApiResponse({ status: 409, description: 'The endpoint is disabled' })
  recover(@Param('id', UuidPipe) id: string, @Body() body: RecoverDto, @Meta() meta: CommandMeta) {
    return this.webhooks.recover(meta, id, new Date(body.since));
  }
}
