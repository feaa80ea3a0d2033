import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { HasText } from '@app/shared';

export class RetractEventDto {
  @ApiProperty({ example: 'the source misdated the join; see the corrected press release', maxLength: 2000 })
  @IsString()
  @Length(1, 2000)
  @HasText()
  reason!: string;
}
