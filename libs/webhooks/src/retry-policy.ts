/** What one attempt's result means for the delivery. */
export type AttemptVerdict =
  | { kind: 'succeeded' }
  /** 410 Gone: the receiver asks us to stop; the endpoint is disabled. */
  | { kind: 'gone' }
  /** A refusal that another try will not change (4xx other than 408/429, a redirect, a refused address). */
  | { kind: 'failed' }
  | { kind: 'retry'; retryAfterMs: number | null };

export interface AttemptOutcome {
  statusCode: number;
  /** Error class when there was no HTTP answer, e.g. "timeout", "connection", "blocked_address". */
  error: string | null;
  retryAfter: string | null;
}

export function verdictOf(outcome: AttemptOutcome, now = Date.now()): AttemptVerdict {
  const { statusCode } = outcome;
  if (statusCode >= 200 && statusCode < 300) {
    return { kind: 'succeeded' };
  }
  if (statusCode === 410) {
    return { kind: 'gone' };
  }
  if (statusCode === 0) {
    return outcome.error === 'blocked_address' || outcome.error === 'invalid_url'
      ? { kind: 'failed' }
      : { kind: 'retry', retryAfterMs: null };
  }
  if (statusCode === 429 || statusCode === 503) {
    return { kind: 'retry', retryAfterMs: parseRetryAfter(outcome.retryAfter, now) };
  }
  if (statusCode >= 500 || statusCode === 408) {
    return { kind: 'retry', retryAfterMs: null };
  }
  return { kind: 'failed' };
}

/** Retry-After as delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null) {
    return null;
  }
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    return Number(trimmed) * 1000;
  }
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The delay before retry number `retry` (1-based) or null when the schedule is used up.
 * The scheduled delay gets +-20% jitter so that a recovered endpoint is not hit by every
 * waiting delivery at once; a Retry-After is honoured within 1-2x that delay.
 */
export function retryDelay(
  schedule: readonly number[],
  retry: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number | null {
  if (retry < 1 || retry > schedule.length) {
    return null;
  }
  const scheduled = schedule[retry - 1] * (0.8 + 0.4 * random());
  const delay = retryAfterMs === null ? scheduled : Math.min(Math.max(retryAfterMs, scheduled), 2 * scheduled);
  return Math.round(delay);
}
