import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@app/config';

const ROOT = join(__dirname, '..', '..');

describe('loadConfig', () => {
  it('works with an empty environment: defaults for Postgres and Redis on their standard local ports', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: 'postgres://root@127.0.0.1:5432/alliance_tracker',
      redisUrl: 'redis://127.0.0.1:6379',
      port: 3000,
      adminApiKey: null,
      webhookAllowedCidrs: [],
      ingestionAllowedCidrs: [],
      rateLimitPerMinute: 600,
      logLevel: 'info',
      migrateOnStart: true,
    });
  });

  it('reads valid values', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgresql://u@db.internal:6543/at',
      REDIS_URL: 'rediss://cache:6380',
      WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/8, ::1/128',
      RATE_LIMIT_PER_MINUTE: '0',
      MIGRATE_ON_START: 'false',
    });
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: 'postgresql://u@db.internal:6543/at',
      redisUrl: 'rediss://cache:6380',
      webhookAllowedCidrs: ['10.0.0.0/8', '::1/128'],
      rateLimitPerMinute: 0,
      migrateOnStart: false,
    });
  });

  it('refuses bad values with one ConfigError naming every variable', () => {
    const bad = {
      PORT: 'abc',
      DATABASE_URL: 'nope',
      WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/99',
      RATE_LIMIT_PER_MINUTE: '-1',
      STATISTICS_INTERVAL_MS: '500',
    };
    let error: unknown;
    try {
      loadConfig(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toHaveLength(5);
    for (const name of Object.keys(bad)) {
      expect(problems.filter((p) => p.startsWith(`${name}: `))).toHaveLength(1);
      expect(message).toContain(name);
    }
    expect(problems.find((p) => p.startsWith('PORT'))).toContain('"abc"');
    expect(problems.find((p) => p.startsWith('WEBHOOK_ALLOWED_CIDRS'))).toContain('10.0.0.0/99');
    expect(problems.find((p) => p.startsWith('STATISTICS_INTERVAL_MS'))).toContain('0 (never) or from 1000');
    expect(loadConfig({ STATISTICS_INTERVAL_MS: '0' }).statisticsIntervalMs).toBe(0);
  });

  it('a bad value stops the API process with a message naming it', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/api/src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: 'abc', LOG_LEVEL: 'silent' },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toMatch(/PORT: must be a whole number .*"abc"/);
  });
});
