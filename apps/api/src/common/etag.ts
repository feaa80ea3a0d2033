import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

const READS = new Set(['GET', 'HEAD']);

/** Whether an If-None-Match header names this tag (weak comparison, lists and "*"). */
function matches(header: string | undefined, etag: string): boolean {
  const opaque = etag.replace(/^W\//, '');
  return (header ?? '').split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === opaque;
  });
}

/**
 * Weak ETags on successful reads, and 304 Not Modified when If-None-Match names the current one.
 * Express sent them on every answer; here only GET and HEAD answering 200 get one, so a write or
 * a refusal is never replaced by a 304. Questions echo their knownAt, which is "now" unless asked, so their tags repeat only
 * for a pinned knownAt; organisations, alliances and events repeat until they change.
 */
export function conditionalReads(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (!READS.has(request.method) || reply.statusCode !== 200 || !(typeof payload === 'string' || Buffer.isBuffer(payload))) {
      done(null, payload);
      return;
    }
    const etag = `W/"${createHash('sha1').update(payload).digest('base64url')}"`;
    reply.header('etag', etag);
    if (matches(request.headers['if-none-match'], etag)) {
      reply.code(304);
      done(null, '');
      return;
    }
    done(null, payload);
  });
}
