import { createServer, Server } from 'node:http';
import type { MetricsAccess } from '@app/access';
import { registry } from '@app/metrics';

const PROBLEM_BASE = 'https://alliance-tracker.dev/problems';

const PROBLEMS = {
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  503: ['unavailable', 'Service unavailable'],
} as const;

/** The API's problem+json vocabulary (apps/api/src/common/problem.ts), for the few answers this server gives. */
function problem(status: keyof typeof PROBLEMS, detail: string) {
  const [type, title] = PROBLEMS[status];
  return JSON.stringify({ type: `${PROBLEM_BASE}/${type}`, title, status, detail });
}

/**
 * The worker's /metrics on WORKER_METRICS_PORT, under the API's rule (MetricsAccess): the
 * worker listens on no port unless asked to, so API and worker can start side by side.
 */
export function startMetricsServer(access: MetricsAccess, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const answer = (status: number, type: string, body: string) => res.writeHead(status, { 'content-type': type }).end(body);
    const refuse = (status: keyof typeof PROBLEMS, detail: string) => answer(status, 'application/problem+json', problem(status, detail));
    void (async () => {
      if (req.url?.split('?')[0] !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        refuse(404, 'the worker serves GET /metrics only');
        return;
      }
      const verdict = await access.check(req.headers.authorization);
      if (!verdict.allowed) {
        refuse(verdict.status, verdict.detail);
        return;
      }
      answer(200, registry.contentType, await registry.metrics());
    })().catch(() => {
      // An API key could not be looked up (Postgres down); METRICS_TOKEN does not need it.
      if (!res.headersSent) {
        refuse(503, 'could not check the API key; METRICS_TOKEN works without Postgres');
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      // Scrapes must not keep a worker alive that has shut everything else down.
      server.unref();
      resolve(server);
    });
  });
}
