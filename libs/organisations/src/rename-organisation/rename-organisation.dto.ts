import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsOptional, IsString, Length, ValidateNested } from 'class-validator';
import { IsValidDate, SourceDto } from '@app/shared';

export class RenameOrganisationDto {
  @ApiProperty({ example: 'Meta', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: '2021-10-28', description: 'YYYY, YYYY-MM or YYYY-MM-DD: the new name holds from then' })
  @IsValidDate()
  on!: string;

  @ApiPropertyOptional({ type: SourceDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => SourceDto)
  source?: SourceDto;
}
