import { ArgumentMetadata, CallHandler, ExecutionContext, Injectable, NestInterceptor, PipeTransform } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { FastifyRequest } from 'fastify';
import { FieldError, validateStrict } from '@app/shared';
import { ProblemException } from './problem';

export function fieldErrorsToProblem(errors: FieldError[]): ProblemException {
  const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return new ProblemException(400, detail || 'invalid request', errors);
}

/** Types a parameter may be declared with that are not DTOs: nothing to validate against. */
const NOT_DTOS = new Set<unknown>([String, Boolean, Number, Array, Object, Buffer, Date]);

/**
 * Bodies and query objects declared as a DTO class are validated strictly: unknown fields are
 * refused (whatever their name), nothing is coerced ("2" stays a string and fails an integer
 * rule), plain objects become DTO instances so nested rules apply. Nest's ValidationPipe is
 * not used: it deletes `constructor` and `prototype` keys before validating, so a body that
 * carries them passed as if they were not there.
 */
@Injectable()
export class StrictValidationPipe implements PipeTransform {
  transform(value: unknown, { type, metatype, data }: ArgumentMetadata) {
    if ((type !== 'body' && type !== 'query') || data !== undefined || !metatype || NOT_DTOS.has(metatype)) {
      return value;
    }
    // No body at all: every required field is then named as missing.
    const input = value ?? {};
    if (typeof input !== 'object' || Array.isArray(input)) {
      const field = type === 'body' ? 'body' : 'query';
      throw new ProblemException(400, `${field}: must be a JSON object`, [{ field, message: 'must be a JSON object' }]);
    }
    const { value: dto, errors } = validateStrict(metatype as new () => object, input);
    if (errors.length) {
      throw fieldErrorsToProblem(errors);
    }
    return dto;
  }
}

export const strictValidationPipe = () => new StrictValidationPipe();

const isEmptyObject = (value: unknown) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;

/**
 * A route that declares no body takes none: `POST /webhooks/:id/rotate-secret` with
 * `{"extra": 1}` is an unknown field like any other, not a rotation. An empty object passes
 * (some clients always send one). Runs after the guards, so 401 and 403 come first.
 */
@Injectable()
export class RefuseUnexpectedBodies implements NestInterceptor {
  private readonly takesBody = new Map<object, Map<string, boolean>>();

  intercept(context: ExecutionContext, next: CallHandler) {
    const { body } = context.switchToHttp().getRequest<FastifyRequest>();
    if (body !== undefined && !isEmptyObject(body) && !this.declaresBody(context)) {
      throw new ProblemException(400, 'body: this request takes no body', [{ field: 'body', message: 'this request takes no body' }]);
    }
    return next.handle();
  }

  private declaresBody(context: ExecutionContext): boolean {
    const controller = context.getClass();
    const handler = context.getHandler().name;
    let byHandler = this.takesBody.get(controller);
    if (!byHandler) {
      byHandler = new Map();
      this.takesBody.set(controller, byHandler);
    }
    let takes = byHandler.get(handler);
    if (takes === undefined) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler) ?? {}) as Record<string, unknown>;
      // Keys are `${paramtype}:${index}`.
      takes = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.BODY));
      byHandler.set(handler, takes);
    }
    return takes;
  }
}
