import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, ValidateIf } from 'class-validator';
import { HasText, IsCountryCode, IsHttpUrl } from '@app/shared';
import { ORGANISATION_KINDS, OrganisationKind } from '../organisations.events';

/** null clears a field; an absent field stays as it is. */
export class UpdateOrganisationDto {
  @ApiPropertyOptional({ example: 'DE', nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsCountryCode()
  country?: string | null;

  @ApiPropertyOptional({ enum: ORGANISATION_KINDS, nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsIn(ORGANISATION_KINDS)
  kind?: OrganisationKind | null;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  @HasText({ each: true })
  aliases?: string[];

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsHttpUrl()
  @Length(1, 2048)
  website?: string | null;
}
