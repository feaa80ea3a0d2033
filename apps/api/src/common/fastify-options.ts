import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Logger } from '@nestjs/common';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { MAX_BODY_BYTES } from './json-body';
import { Problem, problem } from './problem';

const logger = new Logger('HTTP');

/** Longer path parameters are 414; below it, each parameter's own validation answers. */
const MAX_PARAM_LENGTH = 2048;
/** As Node's own default: a request (head and body) must arrive within five minutes. */
const REQUEST_TIMEOUT_MS = 300_000;

/**
 * What Fastify refuses before a route runs (a path that does not decode, a parameter past
 * MAX_PARAM_LENGTH) leaves as problem+json, as everything else does.
 */
function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let body: Problem;
  if (error.code === 'FST_ERR_BAD_URL') {
    body = problem(400, 'path: not a valid percent-encoded URL path', [{ field: 'path', message: 'not a valid percent-encoded URL path' }]);
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    body = problem(414, `path: a path parameter is longer than ${MAX_PARAM_LENGTH} characters`);
  } else {
    // The router's other refusals (async constraints, which this API has none of) are faults.
    logger.error({ err: error, path: request.url }, 'request failed before routing');
    body = problem(500, 'an internal error occurred; it has been logged');
  }
  void reply.code(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/** Requests Node's HTTP parser cannot read (a malformed head, a timeout) are answered as problem+json, then the socket is closed. */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) {
    return;
  }
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const detail =
    status === 408 ? 'the request did not arrive in time' : status === 431 ? 'the request headers are too large' : 'the request is not valid HTTP';
  const body = JSON.stringify(problem(status, detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export const fastifyOptions: FastifyServerOptions = {
  bodyLimit: MAX_BODY_BYTES,
  requestTimeout: REQUEST_TIMEOUT_MS,
  // As before with Express: "/alliances/" is "/alliances".
  routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
  frameworkErrors,
  clientErrorHandler,
  // Requests that arrive while the server closes get our own 503 problem+json (shutdown.ts).
  return503OnClosing: false,
};
