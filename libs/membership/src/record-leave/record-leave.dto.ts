import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { HasText, IsValidDate } from '@app/shared';
import { MembershipFactDto } from '../membership-fact.dto';

export class RecordLeaveDto extends MembershipFactDto {
  @ApiProperty({ example: '2024-06-30', description: 'YYYY, YYYY-MM or YYYY-MM-DD; not a member from this date on' })
  @IsValidDate()
  on!: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  @HasText()
  reason?: string;
}
