import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { inputDateProblem, parseValidDate, SLUG, timestampProblem, todayIso } from '@app/shared';
import { ProblemException } from './problem';

const bad = (field: string, message: string) => new ProblemException(400, `${field}: ${message}`, [{ field, message }]);

/** Path ids of organisations and alliances are slugs; anything else cannot exist. */
@Injectable()
export class SlugPipe implements PipeTransform<string, string> {
  transform(value: string, meta: ArgumentMetadata) {
    if (!SLUG.test(value)) {
      throw bad(meta.data ?? 'id', `"${value.slice(0, 80)}" is not a slug ([a-z0-9][a-z0-9-]{0,62})`);
    }
    return value;
  }
}

const MAX_INT8 = 9223372036854775807n;

/** A position (int8) as a decimal string: digits only and within bigint range. */
export function isPosition(value: string): boolean {
  return /^\d{1,19}$/.test(value) && BigInt(value) <= MAX_INT8;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string, meta: ArgumentMetadata) {
    if (!UUID.test(value)) {
      throw bad(meta.data ?? 'id', `"${value.slice(0, 80)}" is not a UUID`);
    }
    return value.toLowerCase();
  }
}

/** `at`: a valid date (partial allowed, meaning its first day) within the input years; today when absent. */
export function parseAt(value: unknown, field = 'at'): { on: string; date: string } {
  if (value === undefined || value === '') {
    const today = todayIso();
    return { on: today, date: today };
  }
  const problem = inputDateProblem(value);
  if (problem) {
    throw bad(field, problem);
  }
  const parsed = parseValidDate(value as string);
  return { on: parsed.on, date: parsed.date };
}

/** `knownAt`: an ISO 8601 timestamp with a zone, every field real (no rollover), inclusive; now when absent. */
export function parseKnownAt(value: unknown, field = 'knownAt'): Date {
  if (value === undefined || value === '') {
    return new Date();
  }
  const problem = timestampProblem(value);
  if (problem) {
    throw bad(field, problem);
  }
  return new Date(value as string);
}

export function parseLimit(value: unknown, fallback = 100, max = 10_000): number {
  if (value === undefined || value === '') {
    return fallback;
  }
  if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw bad('limit', `must be a whole number from 1 to ${max}`);
  }
  return Number(value);
}

// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function optionalString(value: unknown, field: string, max = 200): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value !== 'string' || value.length > max) {
    throw bad(field, `must be a single string of at most ${max} characters`);
  }
  if (UNSTORABLE.test(value)) {
    // Postgres would refuse it with a 400 that names no field.
    throw bad(field, 'contains a NUL character or an unpaired surrogate');
  }
  return value;
}

/** Query strings are strict like bodies: an unknown parameter is a 400, not silently ignored. */
export function rejectUnknown(rest: Record<string, unknown>) {
  const unknown = Object.keys(rest);
  if (unknown.length) {
    throw new ProblemException(
      400,
      unknown.map((k) => `${k}: unknown query parameter`).join('; '),
      unknown.map((field) => ({ field, message: 'unknown query parameter' })),
    );
  }
}
