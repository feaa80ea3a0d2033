import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsOptional, IsString, Length, ValidateNested } from 'class-validator';
import { IsSlug, IsValidDate, SourceDto } from '@app/shared';

export class RecordJoinDto {
  @ApiProperty({ example: 'ibm' })
  @IsSlug()
  organisationId!: string;

  @ApiProperty({ example: '2023-12-05', description: 'YYYY, YYYY-MM or YYYY-MM-DD' })
  @IsValidDate()
  on!: string;

  @ApiPropertyOptional({ example: 'founding member', maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  role?: string;

  @ApiProperty({ type: SourceDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => SourceDto)
  source!: SourceDto;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  note?: string;
}
