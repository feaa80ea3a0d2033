import { isIP } from 'node:net';

export interface AppConfig {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  port: number;
  adminApiKey: string | null;
  webhookAllowedCidrs: string[];
  ingestionAllowedCidrs: string[];
  rateLimitPerMinute: number;
  workerMetricsPort: number | null;
  /** A bearer token that may read /metrics (API and worker) besides an admin API key; null: admin keys only. */
  metricsToken: string | null;
  secretsKey: string;
  logLevel: string;
  migrateOnStart: boolean;
  /** Most write requests one transaction records together (group commit); 1 turns batching off. */
  writeBatchMax: number;
  /** Write transactions one API process keeps open at once. */
  writeBatchParallel: number;
  /** After SIGTERM, requests and jobs in flight get this long to finish before the process exits anyway. */
  shutdownTimeoutMs: number;
  // --- webhooks (libs/webhooks) ---
  /** Delays before each retry after the first attempt, in ms; jitter of +-20% is applied to each. */
  webhookRetryScheduleMs: number[];
  /** An endpoint whose deliveries only fail for this long is disabled. */
  webhookDisableAfterDays: number;
  webhookTimeoutMs: number;
  /** Deliveries one worker process handles at a time, over all endpoints. */
  webhookConcurrency: number;
  /** Requests in flight to one endpoint from one worker process. */
  webhookEndpointConcurrency: number;
  /** How often pending deliveries are re-enqueued from Postgres (also the grace before one counts as lost). */
  webhookSweepIntervalMs: number;
  /** BullMQ job lock; a crashed worker's deliveries are retried after about this long. */
  webhookLockDurationMs: number;
  /** How often the worker refreshes planner statistics where autovacuum is off; 0 = never. */
  statisticsIntervalMs: number;
  /** What is allowed but unwise (a development fallback in use): logged when a process starts. */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// A fixed development key keeps `npm start` zero-config; it is in the source, so production refuses it.
const DEV_SECRETS_KEY = 'dev-only-secrets-key-change-me-in-production';

/**
 * Reads the environment once, at start. Every problem is collected so that a
 * misconfigured deployment learns everything that is wrong in one go.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const production = env.NODE_ENV === 'production';
  const str = (name: string, fallback: string) => {
    const value = env[name];
    return value === undefined || value === '' ? fallback : value;
  };
  const url = (name: string, fallback: string, protocols: string[]) => {
    const value = str(name, fallback);
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name}: protocol must be one of ${protocols.join(', ')}, got "${parsed.protocol}"`);
      }
    } catch {
      problems.push(`${name}: not a valid URL: "${value}"`);
    }
    return value;
  };
  const int = (name: string, fallback: number | null, min: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      return fallback;
    }
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };
  const cidrs = (name: string) => {
    const raw = str(name, '');
    const list = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const cidr of list) {
      if (!isCidr(cidr)) {
        problems.push(`${name}: "${cidr}" is not a CIDR such as 127.0.0.0/8 or ::1/128`);
      }
    }
    return list;
  };

  const durations = (name: string, fallback: string): number[] => {
    const raw = str(name, fallback);
    const list = raw.split(',').map((s) => s.trim());
    const parsed = list.map(parseDuration);
    if (list.length > 30 || parsed.some((ms) => ms === null || ms < 1 || ms > 7 * 86_400_000)) {
      problems.push(`${name}: must be up to 30 comma-separated durations from 1ms to 7d such as "5s,5m,2h", got "${raw}"`);
      return [];
    }
    return parsed as number[];
  };

  const adminApiKey = env.ADMIN_API_KEY ? env.ADMIN_API_KEY : null;
  if (adminApiKey !== null && adminApiKey.length < 16) {
    problems.push('ADMIN_API_KEY: must be at least 16 characters');
  }
  const secretsKey = str('SECRETS_KEY', DEV_SECRETS_KEY);
  if (!env.SECRETS_KEY && production) {
    problems.push('SECRETS_KEY: must be set when NODE_ENV is production (it encrypts webhook secrets at rest)');
  } else if (secretsKey === DEV_SECRETS_KEY && production) {
    problems.push('SECRETS_KEY: is the development key from the source; set a key of your own');
  } else if (!env.SECRETS_KEY) {
    warnings.push('SECRETS_KEY: not set; webhook secrets are encrypted with the development key from the source (NODE_ENV=production refuses this)');
  } else if (secretsKey.length < 32) {
    problems.push('SECRETS_KEY: must be at least 32 characters');
  }
  const metricsToken = env.METRICS_TOKEN ? env.METRICS_TOKEN : null;
  if (metricsToken !== null && metricsToken.length < 16) {
    problems.push('METRICS_TOKEN: must be at least 16 characters');
  }
  const logLevel = str('LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const migrate = str('MIGRATE_ON_START', 'true');
  if (migrate !== 'true' && migrate !== 'false') {
    problems.push(`MIGRATE_ON_START: must be "true" or "false", got "${migrate}"`);
  }

  const statisticsIntervalMs = int('STATISTICS_INTERVAL_MS', 60_000, 0, 86_400_000) as number;
  if (statisticsIntervalMs > 0 && statisticsIntervalMs < 1000) {
    problems.push(`STATISTICS_INTERVAL_MS: must be 0 (never) or from 1000 to 86400000, got "${env.STATISTICS_INTERVAL_MS}"`);
  }

  const config: AppConfig = {
    databaseUrl: url('DATABASE_URL', 'postgres://root@127.0.0.1:5432/alliance_tracker', ['postgres:', 'postgresql:']),
    redisUrl: url('REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    redisPrefix: str('REDIS_PREFIX', 'at'),
    port: int('PORT', 3000, 0, 65535) as number,
    adminApiKey,
    webhookAllowedCidrs: cidrs('WEBHOOK_ALLOWED_CIDRS'),
    ingestionAllowedCidrs: cidrs('INGESTION_ALLOWED_CIDRS'),
    rateLimitPerMinute: int('RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000) as number,
    workerMetricsPort: int('WORKER_METRICS_PORT', null, 1, 65535),
    metricsToken,
    secretsKey,
    logLevel,
    migrateOnStart: migrate !== 'false',
    writeBatchMax: int('WRITE_BATCH_MAX', 64, 1, 1000) as number,
    writeBatchParallel: int('WRITE_BATCH_PARALLEL', 4, 1, 64) as number,
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000) as number,
    webhookRetryScheduleMs: durations('WEBHOOK_RETRY_SCHEDULE', '5s,5m,30m,2h,5h,10h,10h'),
    webhookDisableAfterDays: int('WEBHOOK_DISABLE_AFTER_DAYS', 5, 1, 365) as number,
    webhookTimeoutMs: int('WEBHOOK_TIMEOUT_MS', 15_000, 100, 120_000) as number,
    webhookConcurrency: int('WEBHOOK_CONCURRENCY', 200, 1, 10_000) as number,
    webhookEndpointConcurrency: int('WEBHOOK_ENDPOINT_CONCURRENCY', 10, 1, 1000) as number,
    webhookSweepIntervalMs: int('WEBHOOK_SWEEP_INTERVAL_MS', 60_000, 100, 3_600_000) as number,
    webhookLockDurationMs: int('WEBHOOK_LOCK_DURATION_MS', 30_000, 1000, 600_000) as number,
    statisticsIntervalMs,
    warnings,
  };
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return config;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "5s", "30m", "2h", "1d" or a bare number of milliseconds; null when unreadable. */
export function parseDuration(value: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  return m ? Number(m[1]) * UNITS[m[2] ?? 'ms'] : null;
}

export function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || bits === undefined || !/^\d{1,3}$/.test(bits)) {
    return false;
  }
  const version = isIP(address);
  return version !== 0 && Number(bits) <= (version === 4 ? 32 : 128);
}
