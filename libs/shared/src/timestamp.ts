import { MIN_YEAR } from './valid-date';

// 2024-02-01T00:00:00Z, with optional seconds and up to six decimals, Z or a +hh:mm offset.
const PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

const MESSAGE = 'must be an ISO 8601 timestamp with a zone, such as 2024-02-01T00:00:00Z';

/**
 * Why a value is not a timestamp the API takes, or null. Date.parse alone rolls impossible
 * fields over (2024-02-30 becomes 2024-03-01, 24:00 the next day); every field is checked
 * here first, and the year is MIN_YEAR or later (Postgres and JavaScript disagree about the
 * early ones, and nothing was recorded before this service existed).
 */
export function timestampProblem(value: unknown): string | null {
  const m = typeof value === 'string' ? PATTERN.exec(value) : null;
  if (!m) {
    return MESSAGE;
  }
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = m.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) {
    return `${MESSAGE}; ${m[1]}-${m[2]} has no day ${m[3]}`;
  }
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) {
    return `${MESSAGE}; hours go to 23, minutes and seconds to 59`;
  }
  if (year < MIN_YEAR) {
    return `${MESSAGE}; the year must be ${MIN_YEAR} or later`;
  }
  return null;
}

/** A timestamp as a Date; throws when timestampProblem finds one. */
export function parseTimestamp(value: string): Date {
  const problem = timestampProblem(value);
  if (problem) {
    throw new Error(problem);
  }
  return new Date(value);
}
