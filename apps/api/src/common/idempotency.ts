import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CommandMeta } from '@app/shared';
import type { AuthedRequest } from '../auth/auth';
import { ProblemException } from './problem';

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

/**
 * `Idempotency-Key` on writes, read by the auth guard into the command's metadata. The
 * Recorder does the rest in the write's transaction: it serialises requests with the same
 * key, answers a replay (same key, same method, path and body) with the stored response and
 * records nothing, refuses the same key with another request (409), and stores the first
 * response with the facts, so a crash cannot split them. A replayed response carries
 * `Idempotent-Replayed: true`.
 */
export function idempotencyOf(req: AuthedRequest): CommandMeta['idempotency'] {
  const raw = req.headers['idempotency-key'];
  if (req.method === 'GET' || raw === undefined) {
    return undefined;
  }
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (!/^[\x21-\x7e]{1,200}$/.test(key)) {
    throw new ProblemException(400, 'Idempotency-Key: 1 to 200 visible ASCII characters', [
      { field: 'Idempotency-Key', message: '1 to 200 visible ASCII characters' },
    ]);
  }
  const path = req.url.split('?')[0];
  const requestHash = createHash('sha256')
    .update(`${req.method} ${path}\n${canonicalJson(req.body ?? null)}`)
    .digest('hex');
  return { key, requestHash, method: req.method, path };
}

/** A response the Recorder answered from a stored one (it marks the command's metadata) says so. */
export function markReplays(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if ((request as AuthedRequest).commandMeta?.idempotency?.replayed) {
      reply.header('Idempotent-Replayed', 'true');
    }
    done(null, payload);
  });
}
