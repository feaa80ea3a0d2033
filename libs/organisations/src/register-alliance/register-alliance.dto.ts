import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { HasText, IsHttpUrl, IsSlug, IsValidDate } from '@app/shared';

export class RegisterAllianceDto {
  @ApiProperty({ example: 'ai-alliance' })
  @IsSlug()
  id!: string;

  @ApiProperty({ example: 'AI Alliance', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @HasText()
  name!: string;

  @ApiPropertyOptional({ example: 'https://thealliance.ai' })
  @IsOptional()
  @IsHttpUrl()
  @Length(1, 2048)
  website?: string;

  @ApiPropertyOptional({ example: '2023-12-05' })
  @IsOptional()
  @IsValidDate()
  foundedOn?: string;
}
