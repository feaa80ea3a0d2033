import type { NextFunction, Request, Response } from 'express';
import { problem } from './problem';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** Writes carry JSON: a body of any other type is refused with 415 before it is parsed. */
export function requireJsonBody(req: Request, res: Response, next: NextFunction) {
  const length = Number(req.headers['content-length'] ?? 0);
  const hasBody = length > 0 || req.headers['transfer-encoding'] !== undefined;
  if (WITH_BODY.has(req.method) && hasBody && !req.is('application/json') && !req.is('application/*+json')) {
    const type = req.headers['content-type'] ?? '(none)';
    res
      .status(415)
      .type('application/problem+json')
      .send(JSON.stringify(problem(415, `request body must be application/json, got ${type}`)));
    return;
  }
  next();
}

/**
 * The JSON parser's own refusals (malformed JSON, over 1 MiB) answered as problem+json with
 * the field named, before Nest turns them into a bare 400.
 */
export function bodyParserProblems(error: unknown, _req: Request, res: Response, next: NextFunction) {
  const e = error as { type?: string; message?: string };
  if (e?.type === 'entity.parse.failed') {
    res
      .status(400)
      .type('application/problem+json')
      .send(JSON.stringify(problem(400, `body: not valid JSON (${e.message ?? 'parse error'})`, [{ field: 'body', message: 'not valid JSON' }])));
    return;
  }
  if (e?.type === 'entity.too.large') {
    res.status(413).type('application/problem+json').send(JSON.stringify(problem(413, 'request body is larger than 1 MiB')));
    return;
  }
  next(error);
}

const MAX_DEPTH = 32;
// NUL and unpaired surrogates cannot be stored in jsonb or text columns.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a parsed body cannot be accepted (too deep, or a string Postgres cannot store), or null. */
export function bodyProblem(value: unknown, path = 'body', depth = 0): { field: string; message: string } | null {
  if (depth > MAX_DEPTH) {
    return { field: path, message: `nested deeper than ${MAX_DEPTH} levels` };
  }
  if (typeof value === 'string') {
    return UNSTORABLE.test(value) ? { field: path, message: 'contains a NUL character or an unpaired surrogate' } : null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as object)) {
      const found = bodyProblem(key, path, depth + 1) ?? bodyProblem(child, `${path}.${key}`, depth + 1);
      if (found) {
        return found;
      }
    }
  }
  return null;
}

/** Refuses bodies nested absurdly deep or carrying unstorable strings, before validation. */
export function checkBody(req: Request, res: Response, next: NextFunction) {
  const found = bodyProblem(req.body);
  if (found) {
    const field = found.field.replace(/^body\./, '');
    res
      .status(400)
      .type('application/problem+json')
      .send(JSON.stringify(problem(400, `${field}: ${found.message}`, [{ field, message: found.message }])));
    return;
  }
  next();
}
