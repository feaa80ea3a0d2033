import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ProblemException, ProblemFieldError } from './problem';

function flatten(errors: ValidationError[], prefix = ''): ProblemFieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      // class-validator starts messages with the bare property name; the field path says it better.
      message: message.replace(new RegExp(`^(property )?${error.property} `), ''),
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

export function validationErrorsToProblem(errors: ValidationError[]): ProblemException {
  const list = flatten(errors);
  const detail = list.map((e) => `${e.field}: ${e.message}`).join('; ');
  return new ProblemException(400, detail || 'invalid request', list);
}

/**
 * Strict: unknown fields are refused and nothing is coerced ("2" stays a string and fails an
 * integer rule). Plain objects become DTO instances so nested rules apply.
 */
export const strictValidationPipe = () =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: validationErrorsToProblem,
  });
