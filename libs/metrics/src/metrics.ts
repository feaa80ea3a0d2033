import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per process; the API serves it at /metrics, the worker on WORKER_METRICS_PORT. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpRequests = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request latency by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const appendedEvents = new Counter({
  name: 'events_appended_total',
  help: 'Events appended to the store by type',
  labelNames: ['type'] as const,
  registers: [registry],
});

export const writeBatchSize = new Histogram({
  name: 'write_batch_requests',
  help: 'Write requests recorded together in one transaction (group commit)',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
  registers: [registry],
});

export const subscriptionLag = new Gauge({
  name: 'subscription_lag_events',
  help: 'Committed events a subscription has not handled yet',
  labelNames: ['subscription'] as const,
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'queue_jobs',
  help: 'BullMQ jobs by queue and state',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

export const deliveryOutcomes = new Counter({
  name: 'webhook_delivery_attempts_total',
  help: 'Webhook delivery attempts by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
