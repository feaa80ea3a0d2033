import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { from, Observable, of } from 'rxjs';
import { mergeMap } from 'rxjs/operators';
import { DATABASE, Database } from '@app/db';
import type { AuthedRequest } from '../auth/auth';
import { ProblemException } from './problem';

/**
 * `Idempotency-Key` on writes: a replay with the same body returns the first response and
 * records nothing; the same key with another body is a 409. The first response is stored by
 * the Recorder in the same transaction as the facts, so a crash cannot split them.
 */
/** JSON with object keys sorted, so a retry that orders its keys differently is the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const raw = req.headers['idempotency-key'];
    if (req.method === 'GET' || raw === undefined || !req.commandMeta) {
      return next.handle();
    }
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (!/^[\x21-\x7e]{1,200}$/.test(key)) {
      throw new ProblemException(400, 'Idempotency-Key: 1 to 200 visible ASCII characters', [
        { field: 'Idempotency-Key', message: '1 to 200 visible ASCII characters' },
      ]);
    }
    const path = req.originalUrl.split('?')[0];
    const requestHash = createHash('sha256')
      .update(`${req.method} ${path}\n${canonicalJson(req.body ?? null)}`)
      .digest('hex');
    const actorId = req.commandMeta.actor.id;
    return from(
      this.db
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'response', 'status'])
        .where('api_key_id', '=', actorId)
        .where('key', '=', key)
        .executeTakeFirst(),
    ).pipe(
      mergeMap((stored) => {
        if (stored) {
          if (stored.request_hash !== requestHash) {
            throw new ProblemException(
              409,
              `Idempotency-Key "${key}" was already used with a different request; use a new key for a new request`,
            );
          }
          context.switchToHttp().getResponse().setHeader('Idempotent-Replayed', 'true');
          return of(stored.response);
        }
        req.commandMeta!.idempotency = { key, requestHash, method: req.method, path };
        return next.handle();
      }),
    );
  }
}
