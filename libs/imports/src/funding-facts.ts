import {
  recordFunding,
  RecordFundingDto,
  recordTranche,
  RecordTrancheDto,
  terminateFunding,
  TerminateFundingDto,
} from '@app/funding';
import type { FactSpec } from './import-facts.handler';

/** Funding facts; a `funding` fact may bring its own fundingId so later facts can refer to it. */
export const FUNDING_FACTS: Record<string, FactSpec> = {
  funding: {
    dto: RecordFundingDto,
    path: {},
    run: (ctx, d, _ids, body) => recordFunding(ctx, d.organisations, body as RecordFundingDto),
  },
  tranche: {
    dto: RecordTrancheDto,
    path: { fundingId: 'uuid' },
    run: (ctx, _d, ids, body) => recordTranche(ctx, ids.fundingId, body as RecordTrancheDto),
  },
  termination: {
    dto: TerminateFundingDto,
    path: { fundingId: 'uuid' },
    run: (ctx, _d, ids, body) => terminateFunding(ctx, ids.fundingId, body as TerminateFundingDto),
  },
};
