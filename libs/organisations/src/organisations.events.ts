import type { Precision, Source } from '@app/shared';

export const ORGANISATION_KINDS = ['company', 'university', 'research-institute', 'nonprofit', 'government', 'other'] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

export interface OrganisationRegistered {
  organisationId: string;
  name: string;
  country: string | null;
  kind: OrganisationKind | null;
  aliases: string[];
  website: string | null;
  provisional: boolean;
}

export interface OrganisationUpdated {
  organisationId: string;
  country?: string | null;
  kind?: OrganisationKind | null;
  aliases?: string[];
  website?: string | null;
}

export interface OrganisationRenamed {
  organisationId: string;
  name: string;
  previousName: string;
  on: string;
  precision: Precision;
  source?: Source;
}

export interface AllianceRegistered {
  allianceId: string;
  name: string;
  website: string | null;
  foundedOn: string | null;
  foundedPrecision: Precision | null;
}

/** Names compared case- and punctuation-insensitively (ingestion matching, search). */
export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}
