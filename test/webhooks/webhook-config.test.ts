import { ConfigError, loadConfig, parseDuration } from '@app/config';

describe('webhook settings', () => {
  it('defaults to the schedule of the issue and 5 days', () => {
    const c = loadConfig({});
    expect(c.webhookRetryScheduleMs).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(c).toMatchObject({ webhookDisableAfterDays: 5, webhookTimeoutMs: 15_000, webhookEndpointConcurrency: 10 });
  });

  it('reads durations with units', () => {
    expect(['250ms', '5s', '30m', '2h', '1d', '40'].map(parseDuration)).toEqual([250, 5_000, 1_800_000, 7_200_000, 86_400_000, 40]);
    expect(parseDuration('5 s')).toBeNull();
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '100ms, 1s' }).webhookRetryScheduleMs).toEqual([100, 1_000]);
  });

  it('names every bad webhook variable', () => {
    let error: unknown;
    try {
      loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5s,soon', WEBHOOK_DISABLE_AFTER_DAYS: '0', WEBHOOK_TIMEOUT_MS: '15s', WEBHOOK_ALLOWED_CIDRS: '127.0.0.1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['WEBHOOK_RETRY_SCHEDULE', 'WEBHOOK_DISABLE_AFTER_DAYS', 'WEBHOOK_TIMEOUT_MS', 'WEBHOOK_ALLOWED_CIDRS']) {
      expect(message).toContain(name);
    }
  });
});
