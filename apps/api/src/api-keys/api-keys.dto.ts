import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';
import { HasText } from '@app/shared';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'newsroom reader', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  @HasText()
  name!: string;

  @ApiProperty({ enum: ['admin', 'curator', 'reader'] })
  @IsIn(['admin', 'curator', 'reader'])
  role!: 'admin' | 'curator' | 'reader';
}
