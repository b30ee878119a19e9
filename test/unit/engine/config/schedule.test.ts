/** EventBridge schedule expressions: parsing and the next fire time (UTC). */
import { describe, expect, test } from 'vitest';
import { describeSchedule, nextFireTime, parseSchedule } from '../../../../lambdas/engine/config/schedule.js';
import { ConfigError } from '../../../../lambdas/errors.js';

const at = (iso: string) => new Date(iso);
const next = (expr: string, after: string, last?: string) =>
  nextFireTime(parseSchedule(expr), at(after), last ? at(last) : undefined)?.toISOString();

describe('cron', () => {
  test('every 15 minutes, from a time between and exactly on a fire time', () => {
    expect(next('cron(0/15 * * * ? *)', '2026-11-25T16:07:30Z')).toBe('2026-11-25T16:15:00.000Z');
    expect(next('cron(0/15 * * * ? *)', '2026-11-25T16:15:00Z')).toBe('2026-11-25T16:30:00.000Z');
    expect(next('cron(0/15 * * * ? *)', '2026-12-31T23:59:00Z')).toBe('2027-01-01T00:00:00.000Z');
  });

  test('daily at a fixed hour rolls over to the next day once passed', () => {
    expect(next('cron(30 2 * * ? *)', '2026-11-25T01:00:00Z')).toBe('2026-11-25T02:30:00.000Z');
    expect(next('cron(30 2 * * ? *)', '2026-11-25T02:30:00Z')).toBe('2026-11-26T02:30:00.000Z');
  });

  test('weekdays by name and number (1 = SUN)', () => {
    // 2026-11-28 is a Saturday.
    expect(next('cron(0 8 ? * MON-FRI *)', '2026-11-27T09:00:00Z')).toBe('2026-11-30T08:00:00.000Z');
    expect(next('cron(0 8 ? * 1 *)', '2026-11-27T09:00:00Z')).toBe('2026-11-29T08:00:00.000Z');
  });

  test('L, W, # and month names', () => {
    expect(next('cron(0 0 L * ? *)', '2027-02-01T00:00:00Z')).toBe('2027-02-28T00:00:00.000Z');
    expect(next('cron(0 0 L * ? *)', '2028-02-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    // 2026-11-01 is a Sunday: the nearest weekday to the 1st without leaving the month is Monday the 2nd.
    expect(next('cron(0 0 1W * ? *)', '2026-10-31T12:00:00Z')).toBe('2026-11-02T00:00:00.000Z');
    // The second Tuesday of December 2026 is the 8th.
    expect(next('cron(0 9 ? DEC 3#2 *)', '2026-11-25T00:00:00Z')).toBe('2026-12-08T09:00:00.000Z');
    // The last Friday of November 2026 is the 27th.
    expect(next('cron(0 9 ? * 6L *)', '2026-11-25T00:00:00Z')).toBe('2026-11-27T09:00:00.000Z');
    expect(next('cron(0 0 1 JAN ? 2030)', '2026-11-25T00:00:00Z')).toBe('2030-01-01T00:00:00.000Z');
  });

  test('a cron whose years are past never fires again', () => {
    expect(next('cron(0 0 1 1 ? 2020)', '2026-11-25T00:00:00Z')).toBeUndefined();
  });

  test('malformed expressions are ConfigErrors that say what is wrong', () => {
    expect(() => parseSchedule('cron(0 * * * *)')).toThrow(/6 fields/);
    expect(() => parseSchedule('cron(0 * * * * *)')).toThrow(/exactly one of day-of-month and day-of-week/);
    expect(() => parseSchedule('cron(61 * * * ? *)')).toThrow(/minutes.*outside 0-59/);
    expect(() => parseSchedule('cron(x * * * ? *)')).toThrow(ConfigError);
    expect(() => parseSchedule('every 5 minutes')).toThrow(/is not cron\(…\) or rate\(…\)/);
  });
});

describe('rate', () => {
  test('parses units and refuses what EventBridge refuses', () => {
    const r = parseSchedule('rate(15 minutes)');
    expect(r).toMatchObject({ kind: 'rate', seconds: 900 });
    expect(describeSchedule(r)).toBe('every 15 minutes');
    expect(describeSchedule(parseSchedule('rate(1 hour)'))).toBe('every hour');
    expect(() => parseSchedule('rate(1 hours)')).toThrow(/rate\(1 hour\)/);
    expect(() => parseSchedule('rate(5 minute)')).toThrow(/rate\(5 minutes\)/);
    expect(() => parseSchedule('rate(5 weeks)')).toThrow(/unknown rate unit/);
    expect(() => parseSchedule('rate(0 minutes)')).toThrow(/at least 1/);
  });

  test('the next time is estimated from the last run, and unknown without one', () => {
    expect(next('rate(15 minutes)', '2026-11-25T16:20:00Z', '2026-11-25T16:02:00Z')).toBe('2026-11-25T16:32:00.000Z');
    expect(next('rate(15 minutes)', '2026-11-25T17:00:00Z', '2026-11-25T16:02:00Z')).toBe('2026-11-25T17:02:00.000Z');
    expect(next('rate(15 minutes)', '2026-11-25T16:20:00Z')).toBeUndefined();
  });
});
