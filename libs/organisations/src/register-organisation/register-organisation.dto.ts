import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { HasText, IsCountryCode, IsHttpUrl, IsSlug } from '@app/shared';
import { ORGANISATION_KINDS, OrganisationKind } from '../organisations.events';

export class RegisterOrganisationDto {
  @ApiProperty({ example: 'ibm', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })
  @IsSlug()
  id!: string;

  @ApiProperty({ example: 'IBM', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @HasText()
  name!: string;

  @ApiPropertyOptional({ example: 'US', description: 'ISO 3166-1 alpha-2' })
  @IsOptional()
  @IsCountryCode()
  country?: string;

  @ApiPropertyOptional({ enum: ORGANISATION_KINDS })
  @IsOptional()
  @IsIn(ORGANISATION_KINDS)
  kind?: OrganisationKind;

  @ApiPropertyOptional({ type: [String], example: ['International Business Machines'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  @HasText({ each: true })
  aliases?: string[];

  @ApiPropertyOptional({ example: 'https://www.ibm.com' })
  @IsOptional()
  @IsHttpUrl()
  @Length(1, 2048)
  website?: string;
}
