import { HttpException, HttpStatus } from '@nestjs/common';

export interface ProblemFieldError {
  field?: string;
  message: string;
  index?: number;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: ProblemFieldError[];
}

const TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  409: 'Conflict',
  413: 'Payload too large',
  414: 'URI too long',
  415: 'Unsupported media type',
  429: 'Too many requests',
  431: 'Request header fields too large',
  500: 'Internal server error',
  503: 'Service unavailable',
};

const TYPES: Record<number, string> = {
  400: 'validation-error',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  408: 'request-timeout',
  409: 'conflict',
  413: 'payload-too-large',
  414: 'uri-too-long',
  415: 'unsupported-media-type',
  429: 'rate-limited',
  431: 'headers-too-large',
  500: 'internal-error',
  503: 'unavailable',
};

export function problem(status: number, detail: string, errors?: ProblemFieldError[]): Problem {
  return {
    type: `https://alliance-tracker.dev/problems/${TYPES[status] ?? 'error'}`,
    title: TITLES[status] ?? HttpStatus[status] ?? 'Error',
    status,
    detail,
    ...(errors && errors.length ? { errors } : {}),
  };
}

/** Thrown by use cases and controllers; the filter renders it unchanged as problem+json. */
export class ProblemException extends HttpException {
  constructor(status: number, detail: string, errors?: ProblemFieldError[]) {
    super(problem(status, detail, errors), status);
  }
}

export const badRequest = (field: string, message: string) =>
  new ProblemException(400, `${field}: ${message}`, [{ field, message }]);
export const notFound = (detail: string) => new ProblemException(404, detail);
export const conflict = (detail: string, errors?: ProblemFieldError[]) => new ProblemException(409, detail, errors);
