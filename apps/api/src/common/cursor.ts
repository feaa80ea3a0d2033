import { SLUG } from '@app/shared';
import { badRequest } from './problem';

const MESSAGE = 'must be the nextCursor of the previous page of this list';
const BASE64URL = /^[A-Za-z0-9_-]{1,512}$/;

/**
 * Cursors of lists keyed by an id are opaque: base64url of the JSON `[list, ...parts]`. A
 * well-formed id is otherwise a valid cursor whatever it says ("garbage" pages after
 * "garbage"); this way a hand-made, truncated or foreign cursor is refused, before any SQL.
 */
export function encodeCursor(list: string, parts: string[]): string {
  return Buffer.from(JSON.stringify([list, ...parts])).toString('base64url');
}

/**
 * The parts of a cursor of `list`, each passing its check; null when there is none. Anything
 * else is a 400 naming `cursor`.
 */
export function decodeCursor(list: string, value: unknown, checks: Array<(part: string) => boolean>): string[] | null {
  if (value === undefined || value === '') {
    return null;
  }
  let decoded: unknown = null;
  // Buffer skips characters outside the alphabet, so the text is checked first and re-encoded after.
  if (typeof value === 'string' && BASE64URL.test(value)) {
    const bytes = Buffer.from(value, 'base64url');
    if (bytes.toString('base64url') === value) {
      try {
        decoded = JSON.parse(bytes.toString('utf8'));
      } catch {
        decoded = null;
      }
    }
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== checks.length + 1 ||
    decoded[0] !== list ||
    !checks.every((check, i) => typeof decoded[i + 1] === 'string' && check(decoded[i + 1] as string))
  ) {
    throw badRequest('cursor', MESSAGE);
  }
  return decoded.slice(1) as string[];
}

const isSlug = (value: string) => SLUG.test(value);

/** The cursor of a list in slug order (members, organisations, alliances): the last id of the previous page. */
export function slugCursor(list: string, value: unknown): string | null {
  return decodeCursor(list, value, [isSlug])?.[0] ?? null;
}

/** The nextCursor of a page in slug order, as slugCursor reads it. */
export function slugNextCursor(list: string, lastId: string | null): string | null {
  return lastId === null ? null : encodeCursor(list, [lastId]);
}
