import type { FactSpec } from './import-facts.handler';

/** Funding, tranche and termination facts; filled in by the funding feature. */
export const FUNDING_FACTS: Record<string, FactSpec> = {};
