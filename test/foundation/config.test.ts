import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, ConfigModule, loadConfig } from '@app/config';

const ROOT = join(__dirname, '..', '..');

/**
 * The API process with only this environment (and PATH, HOME), until it exits; one that is
 * still running after 20 s (it accepted the configuration) is killed and answers code null.
 */
function runApi(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/api/src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

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

  describe('SECRETS_KEY', () => {
    const strong = 's'.repeat(40);

    it('is required in production: without it, or with the development key from the source, nothing starts', () => {
      for (const env of [{ NODE_ENV: 'production' }, { NODE_ENV: 'production', SECRETS_KEY: '' }]) {
        expect(() => loadConfig(env)).toThrow(/SECRETS_KEY: must be set when NODE_ENV is production/);
      }
      const dev = loadConfig({}).secretsKey;
      expect(() => loadConfig({ NODE_ENV: 'production', SECRETS_KEY: dev })).toThrow(/SECRETS_KEY: .*development key/);
      expect(loadConfig({ NODE_ENV: 'production', SECRETS_KEY: strong })).toMatchObject({ secretsKey: strong, warnings: [] });
    });

    it('falls back to the development key elsewhere, with a warning that says so', () => {
      const config = loadConfig({});
      expect(config.warnings).toEqual([expect.stringMatching(/^SECRETS_KEY: not set; .*development key/)]);
      expect(loadConfig({ SECRETS_KEY: strong }).warnings).toEqual([]);
    });

    it('the warning is logged when a process starts', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      try {
        const context = await NestFactory.createApplicationContext(ConfigModule.forRoot(loadConfig({})), { logger: false });
        await context.init();
        expect(warn).toHaveBeenCalledWith(expect.stringContaining('SECRETS_KEY: not set'));
        await context.close();
      } finally {
        warn.mockRestore();
      }
    });
  });

  it('METRICS_TOKEN: unset by default; when set, at least 16 characters', () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ METRICS_TOKEN: 'm'.repeat(16) }).metricsToken).toBe('m'.repeat(16));
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
  });

  it('production without SECRETS_KEY stops the API process with a message naming it', async () => {
    const result = await runApi({ NODE_ENV: 'production', LOG_LEVEL: 'silent' });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toContain('SECRETS_KEY: must be set when NODE_ENV is production');
  });

  it('a bad value stops the API process with a message naming it', async () => {
    const result = await runApi({ PORT: 'abc', LOG_LEVEL: 'silent' });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('Invalid configuration');
    expect(result.stderr).toMatch(/PORT: must be a whole number .*"abc"/);
  });
});
