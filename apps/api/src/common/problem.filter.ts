import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '@app/db';
import { ConcurrencyError, IdempotencyError } from '@app/event-store';
import { DomainError } from '@app/shared';
import { tooLarge, unsupportedType } from './json-body';
import { Problem, problem } from './problem';

interface ClientError {
  status?: number;
  statusCode?: number;
  message?: string;
}

const PG_INPUT_ERRORS: Record<string, string> = {
  '22P05': 'a value contains characters that cannot be stored',
  '22021': 'a value is not valid UTF-8',
  '22003': 'a number is out of range',
  '22P02': 'a value has an invalid format',
  '22008': 'a date or time is out of range',
  '22007': 'a date or time has an invalid format',
};

/** How long a client should wait before retrying while the database is away. */
const RETRY_AFTER_SECONDS = 2;

/** Every error leaves as application/problem+json; only real defects become 5xx. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(error: unknown, host: ArgumentsHost) {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    const body = this.toProblem(error, req);
    if (body.status >= 500) {
      this.logger.error({ err: error, path: req.url }, 'request failed');
    }
    if (res.sent) {
      return;
    }
    if (body.status === 503) {
      res.header('Retry-After', String(RETRY_AFTER_SECONDS));
    }
    res.status(body.status).type('application/problem+json').send(JSON.stringify(body));
  }

  private toProblem(error: unknown, req: FastifyRequest): Problem {
    if (error instanceof HttpException) {
      const response = error.getResponse();
      const status = error.getStatus();
      if (typeof response === 'object' && response !== null && 'type' in response && 'status' in response) {
        return response as Problem;
      }
      if (status === 415) {
        // Fastify's own refusal of a Content-Type header it cannot parse (";;;", say).
        return unsupportedType(req.headers['content-type']).getResponse() as Problem;
      }
      if (status === 413) {
        // Fastify's own refusal (Content-Length or the bytes read past the limit).
        return tooLarge().getResponse() as Problem;
      }
      if (status === 404 && /^Cannot \w+ /.test(error.message)) {
        return problem(404, `no route for ${req.method} ${req.url.split('?')[0]}`);
      }
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? String((response as { message: unknown }).message)
          : error.message;
      return problem(status, message);
    }
    if (error instanceof DomainError) {
      return problem(error.status, error.message, error.errors);
    }
    if (error instanceof ConcurrencyError || error instanceof IdempotencyError) {
      return problem(409, error.message);
    }
    const code = (error as { code?: unknown })?.code;
    if (typeof code === 'string' && PG_INPUT_ERRORS[code]) {
      // A value got past validation that Postgres cannot take: still the client's input.
      return problem(400, PG_INPUT_ERRORS[code]);
    }
    if (typeof code === 'string' && code.startsWith('Z_')) {
      // A gzip or deflate body that does not inflate.
      const message = `not valid ${req.headers['content-encoding']} data`;
      return problem(400, `body: ${message} (${(error as Error).message})`, [{ field: 'body', message }]);
    }
    // Errors of the HTTP layer that carry a client status (a malformed URL's encoding, say).
    const clientError = error as ClientError;
    const status = clientError?.status ?? clientError?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return problem(status, clientError.message ?? 'bad request');
    }
    if (isDatabaseUnavailable(error)) {
      // Nothing was acknowledged: a write either committed before its answer or not at all.
      return problem(503, 'the database is unavailable; retry shortly (nothing of this request was acknowledged)');
    }
    return problem(500, 'an internal error occurred; it has been logged');
  }
}
