export interface FactError {
  index?: number;
  field?: string;
  message: string;
}

/** A domain refusal; the HTTP layer renders it as problem+json with `status`. */
export class DomainError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 422,
    message: string,
    readonly errors?: FactError[],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (message: string) => new DomainError(404, message);
export const refused = (message: string, errors?: FactError[]) => new DomainError(409, message, errors);
export const invalid = (field: string, message: string) =>
  new DomainError(400, `${field}: ${message}`, [{ field, message }]);
