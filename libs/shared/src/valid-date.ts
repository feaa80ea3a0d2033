export type Precision = 'year' | 'month' | 'day';

export interface ValidDate {
  /** As given: 2019, 2019-06 or 2019-06-15. */
  on: string;
  precision: Precision;
  /** The first day of the period, YYYY-MM-DD: what comparisons use. */
  date: string;
}

const PATTERN = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

/** Why a string is not a valid date, or null when it is one. */
export function validDateProblem(value: unknown): string | null {
  if (typeof value !== 'string') {
    return 'must be a string date YYYY, YYYY-MM or YYYY-MM-DD';
  }
  const m = PATTERN.exec(value);
  if (!m) {
    return `"${value}" is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD`;
  }
  const [, y, mo, d] = m;
  const year = Number(y);
  if (year < 1000) {
    return `"${value}": year must be 1000 or later`;
  }
  if (mo !== undefined && (Number(mo) < 1 || Number(mo) > 12)) {
    return `"${value}": month ${mo} does not exist`;
  }
  if (d !== undefined) {
    const days = new Date(Date.UTC(year, Number(mo), 0)).getUTCDate();
    if (Number(d) < 1 || Number(d) > days) {
      return `"${value}": ${y}-${mo} has no day ${d}`;
    }
  }
  return null;
}

/**
 * The years a date sent to the API may lie in: from 1800 (older than any industry alliance or
 * its members' funding) to ten years from now (announced plans). `9999-12-31` is a typo or a
 * sentinel, not a fact. Stored facts are read with validDateProblem alone, so a fact recorded
 * before this bound existed still reads back.
 */
export const MIN_YEAR = 1800;
export const YEARS_AHEAD = 10;
export const maxYear = () => new Date().getUTCFullYear() + YEARS_AHEAD;

/** Why a date sent to the API is not acceptable (not a date, or outside MIN_YEAR..maxYear()), or null. */
export function inputDateProblem(value: unknown): string | null {
  const problem = validDateProblem(value);
  if (problem) {
    return problem;
  }
  const year = Number((value as string).slice(0, 4));
  const max = maxYear();
  return year < MIN_YEAR || year > max ? `"${value as string}": the year must be from ${MIN_YEAR} to ${max}` : null;
}

export function parseValidDate(value: string): ValidDate {
  const problem = validDateProblem(value);
  if (problem) {
    throw new Error(problem);
  }
  const [y, m, d] = value.split('-');
  return {
    on: value,
    precision: d ? 'day' : m ? 'month' : 'year',
    date: `${y}-${m ?? '01'}-${d ?? '01'}`,
  };
}

export function todayIso(): string {
  return new Date().toISOString().slice(0, 10);
}
