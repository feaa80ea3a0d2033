import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { HasText, IsValidDate, SourceDto, SourceField } from '@app/shared';

export class TerminateFundingDto {
  @ApiProperty({
    example: '2021-06',
    description: 'YYYY, YYYY-MM or YYYY-MM-DD: the funding stops from this date; not before the commitment nor before a tranche',
  })
  @IsValidDate()
  on!: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  @HasText()
  reason?: string;

  @SourceField({ required: false })
  source?: SourceDto;
}
