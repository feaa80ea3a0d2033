import type { FastifyInstance } from 'fastify';
import { httpRequests } from '@app/metrics';

/** Every response's latency, labelled with the matched route pattern (not the raw path, which keeps the label set small). */
export function recordHttpMetrics(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    httpRequests.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
}
