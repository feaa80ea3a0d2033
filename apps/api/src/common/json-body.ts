import type { Socket } from 'node:net';
import { finished, type Readable, type Transform } from 'node:stream';
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

const WITHOUT_BODY = new Set(['GET', 'HEAD']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Undoes a request body's content coding before it is parsed: gzip and deflate are inflated,
 * identity passes, anything else is 415. Fastify's 1 MiB limit then applies to the inflated
 * bytes; the encoded ones are counted here, so a stream that inflates to nothing is cut off too.
 */
export function inflateBodies(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const coding = request.headers['content-encoding'];
    if (coding === undefined || WITHOUT_BODY.has(request.method) || request.headers['content-length'] === '0') {
      done(null, payload);
      return;
    }
    const name = coding.trim().toLowerCase();
    if (name === 'identity' || name === '') {
      done(null, payload);
      return;
    }
    if (name !== 'gzip' && name !== 'deflate') {
      done(new ProblemException(415, `Content-Encoding ${coding} is not supported; send the body as identity, gzip or deflate`));
      return;
    }
    done(null, inflated(name === 'gzip' ? createGunzip() : createInflate(), payload));
  });
}

/**
 * The request is never destroyed here (pipeline would): that resets the connection before the
 * client has read the answer. Once the inflater fails, the rest of the body is left to Node,
 * which reads and discards it (see closeAfterUnreadBodies).
 */
function inflated(inflater: Transform, payload: Readable): Readable {
  const counted = Object.assign(inflater, { receivedEncodedLength: 0 });
  const stop = (error: Error) => {
    payload.unpipe(inflater);
    inflater.destroy(error);
  };
  payload.on('data', (chunk: Buffer) => {
    counted.receivedEncodedLength += chunk.length;
    if (counted.receivedEncodedLength > MAX_BODY_BYTES) {
      stop(tooLarge());
    }
  });
  // Fastify hears the inflater's errors itself; a request cut off ends the inflater with its error.
  inflater.on('error', () => payload.unpipe(inflater));
  finished(payload, (error) => error && stop(error));
  payload.pipe(inflater);
  return inflater;
}

/** How long a connection answered before its body was read keeps reading what the client still sends. */
export const LINGER_MS = 5_000;

/**
 * A request answered before its body was read (413, 415, a body that does not parse) is
 * answered with `Connection: close`, and its connection closes gently: the API stops writing
 * (FIN) but reads and discards what the client still sends, for at most LINGER_MS, before
 * closing. Closing at once would reset the connection under a client that is still writing,
 * and the reset throws away the answer the client has not read yet (EPIPE instead of a 413).
 */
export function closeAfterUnreadBodies(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete) {
      reply.header('connection', 'close');
      lingerOnClose(request.raw.socket);
    }
    done(null, payload);
  });
}

/**
 * Node ends a `Connection: close` response with socket.destroySoon(): end, then destroy once
 * written, unread bytes or not. This socket's replacement ends, then waits for the client to
 * finish (Node's parser discards the rest of the body) or for LINGER_MS.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

/**
 * Request bodies are UTF-8 JSON (application/json or application/*+json), an object or an
 * array, of at most 1 MiB, or nothing. Any other type or charset is 415, malformed JSON or
 * UTF-8 400 naming the body; keys that would reach an object's prototype, nesting deeper than
 * 32 levels and strings Postgres cannot store are 400 naming the field, all before a route
 * sees the body.
 */
export function parseJsonBodies(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (request, bytes, done) => {
    let body: unknown;
    try {
      requireUtf8(request.headers['content-type']);
      body = parseBody(bytes as Buffer);
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
    done(unsupportedType(request.headers['content-type']), undefined);
  });
}

/** The 413 for a body past MAX_BODY_BYTES, inflated or encoded. */
export function tooLarge(): ProblemException {
  return new ProblemException(413, 'request body is larger than 1 MiB');
}

/** The 415 for a body of another type (or a Content-Type header that does not parse). */
export function unsupportedType(contentType: string | undefined): ProblemException {
  return new ProblemException(415, `request body must be application/json, got ${contentType ?? '(none)'}`);
}

function requireUtf8(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw new ProblemException(415, `charset ${charset} is not supported; send the body as UTF-8`);
  }
}

/** An empty body is no body; anything else must be a JSON object or array the service can store. Throws a 400 problem. */
function parseBody(bytes: Buffer): unknown {
  if (bytes.length === 0) {
    return undefined;
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalid('body', 'not valid UTF-8');
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
