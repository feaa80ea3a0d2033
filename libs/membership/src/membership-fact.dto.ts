import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { HasText, SourceDto, SourceField } from '@app/shared';

/** What joins and leaves both carry: a required source and an optional curator's note. */
export abstract class MembershipFactDto {
  @SourceField({ required: true })
  source!: SourceDto;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  @HasText()
  note?: string;
}
