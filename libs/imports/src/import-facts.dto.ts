import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsObject } from 'class-validator';

export class ImportFactsDto {
  @ApiProperty({
    description:
      'Facts in order. Each is {fact: "organisation"|"alliance"|"join"|"leave"|"rename"|"funding"|"tranche"|"termination"|"retraction", ...} ' +
      'with the body fields of the single endpoint plus the ids its path would carry (allianceId, organisationId, fundingId, eventId).',
    type: 'array',
    items: { type: 'object' },
    example: [
      { fact: 'organisation', id: 'ibm', name: 'IBM', country: 'US', kind: 'company' },
      { fact: 'join', allianceId: 'ai-alliance', organisationId: 'ibm', on: '2023-12-05', source: { url: 'https://example.org' } },
    ],
  })
  // The facts as sent: class-transformer would drop keys such as `hasOwnProperty` from plain
  // objects, and each fact is validated against its own DTO later, where such a key is refused.
  @Transform(({ obj }: { obj: Record<string, unknown> }) => obj.facts)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @IsObject({ each: true })
  facts!: Array<Record<string, unknown>>;
}
