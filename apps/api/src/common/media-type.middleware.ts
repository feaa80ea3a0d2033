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
