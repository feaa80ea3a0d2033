import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemException } from './problem';

/** The largest request body accepted (413 above it). */
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_DEPTH = 32;
// NUL and unpaired surrogates cannot be stored in jsonb or text columns.
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** application/json and application/*+json, with or without parameters. */
const JSON_TYPES = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

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

const invalid = (field: string, message: string, detail = `${field}: ${message}`) =>
  new ProblemException(400, detail, [{ field, message }]);

/**
 * Request bodies are JSON (application/json or application/*+json) of at most 1 MiB, or
 * nothing. Any other type is 415 and malformed JSON 400 naming the body; keys that would reach
 * an object's prototype, nesting deeper than 32 levels and strings Postgres cannot store are
 * 400 naming the field, all before a route sees the body.
 */
export function acceptJsonBodies(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  // Refuses "__proto__" and "constructor.prototype" keys rather than parsing them into the body.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser(JSON_TYPES, { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (req: FastifyRequest, text: string | Buffer, done) => {
    // parseAs: 'string' hands over a string.
    const json = text as string;
    if (json.length === 0) {
      done(null, undefined);
      return;
    }
    // Synchronous: it calls back before returning.
    void parseJson(req, json, (error: Error | null, body?: unknown) => {
      if (error) {
        done(invalid('body', 'not valid JSON', `body: not valid JSON (${error.message})`), undefined);
        return;
      }
      const found = bodyProblem(body);
      if (found) {
        const field = found.field.replace(/^body\./, '');
        done(invalid(field, found.message), undefined);
        return;
      }
      done(null, body);
    });
  });
  fastify.addContentTypeParser('*', (req, _payload, done) => {
    const type = req.headers['content-type'] ?? '(none)';
    done(new ProblemException(415, `request body must be application/json, got ${type}`), undefined);
  });
}
