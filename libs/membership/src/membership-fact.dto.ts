import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsOptional, IsString, Length, ValidateNested } from 'class-validator';
import { SourceDto } from '@app/shared';

/** What joins and leaves both carry: a required source and an optional curator's note. */
export abstract class MembershipFactDto {
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
