import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { HasText, IsSlug, IsValidDate } from '@app/shared';
import { MembershipFactDto } from '../membership-fact.dto';

export class RecordJoinDto extends MembershipFactDto {
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
  @HasText()
  role?: string;
}
