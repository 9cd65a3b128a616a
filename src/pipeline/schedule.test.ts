import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstRun, nextRun, type ScheduleSpec } from './schedule.js';

const t = (s: string) => new Date(s);
const spec = (p: Partial<ScheduleSpec>): ScheduleSpec => ({ intervalSeconds: 600, runOnStart: true, schedule: {}, ...p });

test('run_on_start yes starts the first cycle immediately', () => {
  assert.deepEqual(firstRun(spec({}), t('2026-01-01T10:03:00Z')), t('2026-01-01T10:03:00Z'));
});

test('run_on_start no waits one interval', () => {
  assert.deepEqual(firstRun(spec({ runOnStart: false }), t('2026-01-01T10:03:00Z')), t('2026-01-01T10:13:00Z'));
});

test('next start counts from the previous scheduled start, not from the end of the cycle', () => {
  const r = nextRun(spec({}), t('2026-01-01T10:00:00Z'), t('2026-01-01T10:04:00Z'));
  assert.deepEqual(r, { at: t('2026-01-01T10:10:00Z'), overtaken: false });
});

test('a cycle longer than the interval is followed at once (interval overtaken)', () => {
  const r = nextRun(spec({}), t('2026-01-01T10:00:00Z'), t('2026-01-01T10:12:00Z'));
  assert.deepEqual(r, { at: t('2026-01-01T10:12:00Z'), overtaken: true });
});

test('time anchors a daily run; run_on_start no waits for it', () => {
  const s = spec({ runOnStart: false, intervalSeconds: 86_400, schedule: { time: '02:30' } });
  assert.deepEqual(firstRun(s, t('2026-01-01T10:00:00Z')), t('2026-01-02T02:30:00Z'));
  assert.deepEqual(firstRun(s, t('2026-01-01T01:00:00Z')), t('2026-01-01T02:30:00Z'));
  assert.deepEqual(nextRun(s, t('2026-01-02T02:30:00Z'), t('2026-01-02T02:40:00Z')).at, t('2026-01-03T02:30:00Z'));
});

test('wday anchors a weekly run', () => {
  // 2026-01-01 is a Thursday; wday 1 = Monday
  const s = spec({ runOnStart: false, intervalSeconds: 7 * 86_400, schedule: { wday: 1, time: '06:00' } });
  assert.deepEqual(firstRun(s, t('2026-01-01T10:00:00Z')), t('2026-01-05T06:00:00Z'));
});

test('day anchors a monthly run, clamped to short months', () => {
  const s = spec({ runOnStart: false, intervalSeconds: 30 * 86_400, schedule: { day: 31 } });
  assert.deepEqual(firstRun(s, t('2026-02-10T10:00:00Z')), t('2026-02-28T00:00:00Z'));
  assert.deepEqual(nextRun(s, t('2026-02-28T00:00:00Z'), t('2026-02-28T00:05:00Z')).at, t('2026-03-31T00:00:00Z'));
});
