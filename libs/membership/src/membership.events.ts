import type { Precision, Source } from '@app/shared';

export interface MemberJoined {
  allianceId: string;
  organisationId: string;
  on: string;
  precision: Precision;
  role?: string;
  source: Source;
  note?: string;
}

export interface MemberLeft {
  allianceId: string;
  organisationId: string;
  on: string;
  precision: Precision;
  reason?: string;
  source: Source;
  note?: string;
}

export interface EventRetracted {
  eventId: string;
  reason: string;
  retractedType: string;
  allianceId?: string;
  organisationId?: string;
  fundingId?: string;
}

export const MEMBERSHIP_EVENT_TYPES = ['MemberJoined', 'MemberLeft'] as const;
