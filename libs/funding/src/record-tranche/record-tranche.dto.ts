import { ApiProperty } from '@nestjs/swagger';
import { IsAmount, IsCurrencyCode, IsValidDate, SourceDto, SourceField } from '@app/shared';

export class RecordTrancheDto {
  @ApiProperty({ example: '1500000', description: 'A positive decimal string, up to 4 decimals, no exponent' })
  @IsAmount()
  amount!: string;

  @ApiProperty({ example: 'EUR', description: 'ISO 4217; may differ from the commitment, nothing is converted' })
  @IsCurrencyCode()
  currency!: string;

  @ApiProperty({
    example: '2019',
    description: 'YYYY, YYYY-MM or YYYY-MM-DD; not checked against the commitment, but not after a termination',
  })
  @IsValidDate()
  on!: string;

  @SourceField({ required: false })
  source?: SourceDto;
}
