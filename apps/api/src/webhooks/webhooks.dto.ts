import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { IsTimestamp, SLUG } from '@app/shared';
import { WEBHOOK_EVENT_TYPES } from '@app/webhooks';

const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed', 'exhausted'] as const;

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://hooks.example.org/alliance-tracker', maxLength: 2048 })
  @IsString()
  @Length(1, 2048)
  url!: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES, isArray: true, description: 'Absent or empty: every type' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: `each value must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  eventTypes?: string[];

  @ApiPropertyOptional({
    example: ['ai-alliance'],
    description: 'Events that name an alliance are sent only for these; absent or empty: every alliance',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(SLUG, { each: true, message: 'each value must be an alliance id (a slug)' })
  allianceIds?: string[];

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @Length(0, 500)
  description?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: 2048 })
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  url?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: `each value must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  eventTypes?: string[];

  @ApiPropertyOptional({ example: ['ai-alliance'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(SLUG, { each: true, message: 'each value must be an alliance id (a slug)' })
  allianceIds?: string[];

  @ApiPropertyOptional({ maxLength: 500, nullable: true })
  @IsOptional()
  @IsString()
  @Length(0, 500)
  description?: string | null;

  @ApiPropertyOptional({ enum: ['enabled', 'disabled'] })
  @IsOptional()
  @IsIn(['enabled', 'disabled'])
  status?: 'enabled' | 'disabled';
}

export class RecoverDto {
  @ApiProperty({ example: '2026-11-20T00:00:00Z', description: 'ISO 8601 timestamp with a zone' })
  @IsTimestamp()
  since!: string;
}

export class ListQueryDto {
  @ApiPropertyOptional({ description: '1 to 10000, default 100' })
  @IsOptional()
  @IsString()
  limit?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 500)
  cursor?: string;
}

export class DeliveriesQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: (typeof DELIVERY_STATUSES)[number];
}
