import type { Precision, Source } from '@app/shared';

/**
 * Every funding event carries the funder and recipient, so webhooks and an organisation's
 * history can name both without reading the commitment, and its valid date.
 */
interface FundingFact {
  fundingId: string;
  funderId: string;
  recipientId: string;
  on: string;
  precision: Precision;
}

export interface FundingCommitted extends FundingFact {
  /** A decimal string; never a float. */
  amount: string;
  currency: string;
  purpose?: string;
  conditions?: string;
  source: Source;
}

export interface FundingTranchePaid extends FundingFact {
  /** In the tranche's own currency, which may differ from the commitment's. */
  amount: string;
  currency: string;
  source?: Source;
}

export interface FundingTerminated extends FundingFact {
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
