import type { FastifyInstance } from 'fastify';
import { problem } from './problem';

/** How long a client should wait before sending again to this address while it shuts down. */
const RETRY_AFTER_SECONDS = 1;

/**
 * A graceful stop (SIGTERM: Nest closes Fastify, which stops accepting and waits for its
 * connections): requests in flight are answered, each with `Connection: close`, so that a
 * kept-alive connection ends with its last answer instead of holding the close open until its
 * keep-alive timeout. A request that arrives on such a connection after the stop began gets 503
 * problem+json with Retry-After (a load balancer sends the retry to another process).
 */
export function closeConnectionsOnShutdown(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_req, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    void reply
      .code(503)
      .header('Connection', 'close')
      .header('Retry-After', String(RETRY_AFTER_SECONDS))
      .type('application/problem+json')
      .send(JSON.stringify(problem(503, 'this server is shutting down; retry the request')));
  });
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) {
      reply.header('Connection', 'close');
    }
    done(null, payload);
  });
}
