import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import parseJson from 'secure-json-parse';
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
 * Request bodies are JSON (application/json or application/*+json, UTF-8) of at most 1 MiB, or
 * nothing; gzip and deflate content codings are inflated first, the limit applying to the
 * inflated bytes. Any other type, charset or coding is 415, malformed JSON 400 naming the body;
 * keys that would reach an object's prototype, nesting deeper than 32 levels and strings
 * Postgres cannot store are 400 naming the field, all before a route sees the body.
 */
export function acceptJsonBodies(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    let inflated: Readable;
    try {
      inflated = inflate(request.headers['content-encoding'], payload);
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null, inflated);
  });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_TYPES, { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (request, text, done) => {
    let body: unknown;
    try {
      requireUtf8(request.headers['content-type']);
      body = parseBody(text as string);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    done(null, body);
  });
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    if (request.headers['content-length'] === '0') {
      // A bodiless POST that still names a type (fetch with body '' sends text/plain): no body.
      done(null, undefined);
      return;
    }
    done(new ProblemException(415, `request body must be application/json, got ${request.headers['content-type'] ?? '(none)'}`), undefined);
  });
}

/** The request body with its content coding undone: identity, gzip or deflate (415 otherwise). */
function inflate(coding: string | undefined, payload: Readable): Readable {
  const name = (coding ?? 'identity').trim().toLowerCase();
  if (name === 'identity' || name === '') {
    return payload;
  }
  if (name !== 'gzip' && name !== 'deflate') {
    throw new ProblemException(415, `Content-Encoding ${coding} is not supported; send the body as identity, gzip or deflate`);
  }
  const inflater = name === 'gzip' ? createGunzip() : createInflate();
  // Answered as the client's mistake, before Fastify's own listener sees the error.
  inflater.once('error', (error: Error & { statusCode?: number }) => {
    error.statusCode = 400;
    error.message = `body: not valid ${name} data (${error.message})`;
  });
  // Fastify limits the inflated bytes it reads, and the encoded ones through this count.
  const counted = Object.assign(inflater, { receivedEncodedLength: 0 });
  payload.on('data', (chunk: Buffer) => (counted.receivedEncodedLength += chunk.length));
  payload.on('error', (error) => inflater.destroy(error));
  return payload.pipe(counted);
}

function requireUtf8(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw new ProblemException(415, `charset ${charset} is not supported; send the body as UTF-8`);
  }
}

/** An empty body is no body; anything else must be a JSON object or array the service can store. Throws a 400 problem. */
function parseBody(text: string): unknown {
  if (text.length === 0) {
    return undefined;
  }
  let body: unknown;
  try {
    // "__proto__" and "constructor.prototype" keys are refused rather than parsed into the body.
    body = parseJson(text, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const message = (error as Error).message;
    throw /prototype property/.test(message)
      ? invalid('body', 'has a "__proto__" or "constructor.prototype" key')
      : invalid('body', 'not valid JSON', `body: not valid JSON (${message})`);
  }
  if (body === null || typeof body !== 'object') {
    throw invalid('body', 'must be a JSON object or array');
  }
  const found = bodyProblem(body);
  if (found) {
    throw invalid(found.field.replace(/^body\./, ''), found.message);
  }
  return body;
}
