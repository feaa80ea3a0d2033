import type { Precision, Source } from '@app/shared';

/**
 * Every funding event carries the funder and recipient, so webhooks and an organisation's
 * history can name both without reading the commitment.
 */
export interface FundingCommitted {
  fundingId: string;
  funderId: string;
  recipientId: string;
  /** A decimal string; never a float. */
  amount: string;
  currency: string;
  on: string;
  precision: Precision;
  purpose?: string;
  conditions?: string;
  source: Source;
}

export interface FundingTranchePaid {
  fundingId: string;
  funderId: string;
  recipientId: string;
  /** In the tranche's own currency, which may differ from the commitment's. */
  amount: string;
  currency: string;
  on: string;
  precision: Precision;
  source?: Source;
}

export interface FundingTerminated {
  fundingId: string;
  funderId: string;
  recipientId: string;
  on: string;
  precision: Precision;
  reason?: string;
  source?: Source;
}

export type FundingEvent =
  | { type: 'FundingCommitted'; data: FundingCommitted }
  | { type: 'FundingTranchePaid'; data: FundingTranchePaid }
  | { type: 'FundingTerminated'; data: FundingTerminated };

export const FUNDING_EVENT_TYPES = ['FundingCommitted', 'FundingTranchePaid', 'FundingTerminated'] as const;
export type FundingEventType = (typeof FUNDING_EVENT_TYPES)[number];

export const isFundingEventType = (type: string): type is FundingEventType =>
  (FUNDING_EVENT_TYPES as readonly string[]).includes(type);
