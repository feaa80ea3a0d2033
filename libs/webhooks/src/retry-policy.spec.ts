import { parseRetryAfter, retryDelay, verdictOf } from './retry-policy';

describe('retry policy', () => {
  const schedule = [5_000, 300_000, 1_800_000];

  it('jitters each scheduled delay by at most 20% either way', () => {
    expect(retryDelay(schedule, 1, null, () => 0)).toBe(4_000);
    expect(retryDelay(schedule, 1, null, () => 1)).toBe(6_000);
    expect(retryDelay(schedule, 2, null, () => 0.5)).toBe(300_000);
    for (let i = 0; i < 200; i++) {
      const d = retryDelay(schedule, 3, null)!;
      expect(d).toBeGreaterThanOrEqual(1_440_000);
      expect(d).toBeLessThanOrEqual(2_160_000);
    }
  });

  it('is used up after the last scheduled retry', () => {
    expect(retryDelay(schedule, 4, null)).toBeNull();
    expect(retryDelay([], 1, null)).toBeNull();
  });

  it('honours Retry-After within 1-2x the scheduled delay', () => {
    const half = () => 0.5;
    expect(retryDelay(schedule, 1, 7_000, half)).toBe(7_000);
    expect(retryDelay(schedule, 1, 3_600_000, half)).toBe(10_000);
    expect(retryDelay(schedule, 1, 1_000, half)).toBe(5_000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it.each([
    [200, null, 'succeeded'],
    [204, null, 'succeeded'],
    [410, null, 'gone'],
    [500, null, 'retry'],
    [502, null, 'retry'],
    [503, null, 'retry'],
    [429, null, 'retry'],
    [408, null, 'retry'],
    [0, 'timeout', 'retry'],
    [0, 'connection', 'retry'],
    [0, 'blocked_address', 'failed'],
    [400, null, 'failed'],
    [404, null, 'failed'],
    [301, null, 'failed'],
  ])('status %s (%s) -> %s', (statusCode, error, kind) => {
    expect(verdictOf({ statusCode, error, retryAfter: null }).kind).toBe(kind);
  });

  it('takes Retry-After only from 429 and 503', () => {
    expect(verdictOf({ statusCode: 429, error: null, retryAfter: '30' })).toEqual({ kind: 'retry', retryAfterMs: 30_000 });
    expect(verdictOf({ statusCode: 500, error: null, retryAfter: '30' })).toEqual({ kind: 'retry', retryAfterMs: null });
  });
});
