import { ORGANISATION_KINDS } from '@app/organisations';
import type { Ask, FactCursor, MemberFilter } from '@app/questions';
import { COUNTRY_CODES, parseValidDate, ValidDate, validDateProblem } from '@app/shared';
import { badRequest } from '../common/problem';
import { isPosition, parseAt, parseKnownAt } from '../common/params';

/** A valid date parameter with its precision; `fallback` when absent. */
export function dateParam(value: unknown, field: string, fallback?: ValidDate): ValidDate {
  if ((value === undefined || value === '') && fallback) {
    return fallback;
  }
  return parseValidDate(parseAt(value, field).on);
}

export function requiredDate(value: unknown, field: string): ValidDate {
  if (value === undefined || value === '') {
    throw badRequest(field, 'required: a date YYYY, YYYY-MM or YYYY-MM-DD');
  }
  return dateParam(value, field);
}

/** `at` (default today) and `knownAt` (default now), which every question takes. */
export function askParams(query: { at?: unknown; knownAt?: unknown }, atFallback?: ValidDate): Ask {
  return { at: dateParam(query.at, 'at', atFallback), knownAt: parseKnownAt(query.knownAt) };
}

export function memberFilter(country: unknown, kind: unknown): MemberFilter {
  const filter: MemberFilter = {};
  if (country !== undefined) {
    if (typeof country !== 'string' || !COUNTRY_CODES.has(country)) {
      throw badRequest('country', 'must be an ISO 3166-1 alpha-2 country code in upper case, such as DE or US');
    }
    filter.country = country;
  }
  if (kind !== undefined) {
    if (typeof kind !== 'string' || !(ORGANISATION_KINDS as readonly string[]).includes(kind)) {
      throw badRequest('kind', `must be one of ${ORGANISATION_KINDS.join(', ')}`);
    }
    filter.kind = kind;
  }
  return filter;
}

/** A history cursor is the position of the last event of the previous page. */
export function positionCursor(value: unknown): string | null {
  if (value === undefined || value === '') {
    return null;
  }
  if (typeof value !== 'string' || !isPosition(value)) {
    throw badRequest('cursor', 'must be the nextCursor of the previous page');
  }
  return value;
}

/** A change list's cursor: the valid date and position of the last event of the previous page. */
export function factCursor(value: unknown): FactCursor | null {
  if (value === undefined || value === '') {
    return null;
  }
  const m = typeof value === 'string' ? /^(\d{4}-\d{2}-\d{2})\.(\d{1,19})$/.exec(value) : null;
  if (!m || validDateProblem(m[1]) !== null || !isPosition(m[2])) {
    throw badRequest('cursor', 'must be the nextCursor of the previous page');
  }
  return { date: m[1], position: m[2] };
}
