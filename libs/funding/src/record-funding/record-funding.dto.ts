import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { HasText, IsAmount, IsCurrencyCode, IsSlug, IsValidDate, SourceDto, SourceField } from '@app/shared';

export class RecordFundingDto {
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The funding id to use (imports bring their own); generated when absent, derived from the Idempotency-Key when there is one',
  })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  fundingId?: string;

  @ApiProperty({ example: 'meta' })
  @IsSlug()
  funderId!: string;

  @ApiProperty({ example: 'tum' })
  @IsSlug()
  recipientId!: string;

  @ApiProperty({ example: '6500000', description: 'A positive decimal string, up to 4 decimals, no exponent' })
  @IsAmount()
  amount!: string;

  @ApiProperty({ example: 'EUR', description: 'ISO 4217' })
  @IsCurrencyCode()
  currency!: string;

  @ApiProperty({ example: '2019-01-20', description: 'YYYY, YYYY-MM or YYYY-MM-DD: when the funding was committed' })
  @IsValidDate()
  on!: string;

  @ApiPropertyOptional({ example: 'Institute for Ethics in Artificial Intelligence', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  @HasText()
  purpose?: string;

  @ApiPropertyOptional({ example: 'paid over five years', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  @HasText()
  conditions?: string;

  @SourceField({ required: true })
  source!: SourceDto;
}
