import { Histogram } from 'prom-client';
import { registry } from '@app/metrics';

export const attemptDuration = new Histogram({
  name: 'webhook_attempt_duration_seconds',
  help: 'Webhook delivery attempt duration, request to last byte read',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
  registers: [registry],
});

export const firstAttemptLag = new Histogram({
  name: 'webhook_first_attempt_lag_seconds',
  help: 'Time from a delivery being created to its first attempt starting',
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
  registers: [registry],
});
