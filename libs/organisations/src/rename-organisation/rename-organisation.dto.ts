import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { HasText, IsValidDate, SourceDto, SourceField } from '@app/shared';

export class RenameOrganisationDto {
  @ApiProperty({ example: 'Meta', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @HasText()
  name!: string;

  @ApiProperty({ example: '2021-10-28', description: 'YYYY, YYYY-MM or YYYY-MM-DD: the new name holds from then' })
  @IsValidDate()
  on!: string;

  @SourceField({ required: false })
  source?: SourceDto;
}
