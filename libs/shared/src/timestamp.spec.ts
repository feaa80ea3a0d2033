import { inputDateProblem, maxYear, validDateProblem } from './valid-date';
import { parseTimestamp, timestampProblem } from './timestamp';

describe('timestamps', () => {
  it.each([
    '2024-02-29T23:59:59.999Z',
    '2024-01-01T00:00Z',
    '2024-03-01T00:30:00+01:00',
    '2024-03-01T00:30:00-23:59',
    '1800-01-01T00:00:00Z',
    '2024-01-01T00:00:00.123456Z',
  ])('takes %s', (value) => {
    expect(timestampProblem(value)).toBeNull();
    expect(parseTimestamp(value).getTime()).toBe(Date.parse(value));
  });

  it.each([
    '2024-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-01T00:00:00Z',
    '2024-01-00T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T23:60:00Z',
    '2024-01-01T23:59:60Z',
    '2024-01-01T00:00:00+24:00',
    '2024-01-01T00:00:00+01:60',
    '1799-12-31T23:59:59Z',
    '0000-01-01T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '2024-01-01T00:00:00',
    '2024-01-01T00:00:00.1234567Z',
    '2024-01-01',
    ' 2024-01-01T00:00:00Z',
    1704067200000,
    null,
  ])('refuses %p', (value) => {
    expect(timestampProblem(value)).toEqual(expect.stringContaining('ISO 8601'));
  });
});

describe('dates sent to the API', () => {
  it('lie from 1800 to ten years from now; stored ones only need to be dates', () => {
    const max = maxYear();
    expect(max).toBe(new Date().getUTCFullYear() + 10);
    for (const ok of ['1800', '1800-01', `${max}-12-31`, '2024-02-29']) {
      expect(inputDateProblem(ok)).toBeNull();
    }
    for (const bad of ['1799-12-31', `${max + 1}`, '9999-12-31', '1000']) {
      expect(inputDateProblem(bad)).toMatch(/the year must be from 1800 to \d{4}/);
      expect(validDateProblem(bad)).toBeNull();
    }
    expect(inputDateProblem('2024-02-30')).toMatch(/has no day 30/);
  });
});
