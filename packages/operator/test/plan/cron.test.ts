/**
 * Goal: the cron subset (five fields, UTC) and retention durations parse as Kubernetes CronJob and etcd read
 * them, and `latestTick` finds the newest scheduled minute in a window. Method: fixed instants.
 */
import { expect, test } from '@jest/globals';
import { latestTick, parseCron, parseRetentionMs } from '../../src/index.js';

const at = (iso: string): number => Date.parse(iso);

test('every minute: the current minute is the latest tick', () => {
  expect(latestTick(parseCron('* * * * *'), at('2026-01-01T00:00:00Z'), at('2026-01-01T00:05:30Z'))).toBe(at('2026-01-01T00:05:00Z'));
});

test('steps, ranges and lists', () => {
  const cron = parseCron('*/15 9-17 * * 1,3');
  // 2026-01-05 is a Monday.
  expect(latestTick(cron, at('2026-01-05T00:00:00Z'), at('2026-01-05T10:20:00Z'))).toBe(at('2026-01-05T10:15:00Z'));
  expect(latestTick(cron, at('2026-01-06T00:00:00Z'), at('2026-01-06T12:00:00Z'))).toBeUndefined(); // Tuesday
});

test('nothing in the window: undefined; the window excludes its start', () => {
  const cron = parseCron('0 3 * * *');
  expect(latestTick(cron, at('2026-01-01T03:00:00Z'), at('2026-01-01T23:59:00Z'))).toBeUndefined();
  expect(latestTick(cron, at('2026-01-01T02:59:00Z'), at('2026-01-01T03:00:00Z'))).toBe(at('2026-01-01T03:00:00Z'));
});

test('bad expressions are refused', () => {
  expect(() => parseCron('* * * *')).toThrow('want 5 fields');
  expect(() => parseCron('60 * * * *')).toThrow('out of range');
  expect(() => parseCron('a * * * *')).toThrow('bad field');
});

test('retention durations: s, m, h; a bare number is hours (etcd periodic)', () => {
  expect(parseRetentionMs('90s')).toBe(90_000);
  expect(parseRetentionMs('30m')).toBe(1_800_000);
  expect(parseRetentionMs('2')).toBe(7_200_000);
  expect(() => parseRetentionMs('1d')).toThrow();
});
