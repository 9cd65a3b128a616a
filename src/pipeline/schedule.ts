/**
 * When the next collection cycle starts, with Wazuh's semantics: the next start is computed from the previous
 * *scheduled* start, not from when the cycle finished; a cycle that overran its interval is followed at once
 * ("interval overtaken"); `time` (hh:mm UTC) anchors daily runs, `wday` weekly runs, `day` monthly runs.
 */
import type { Schedule } from '../config/types.js';

const DAY_MS = 86_400_000;

export interface ScheduleSpec {
  intervalSeconds: number;
  runOnStart: boolean;
  schedule: Schedule;
}

function atTime(date: Date, time: string | undefined): Date {
  const [h, m] = (time ?? '00:00').split(':').map(Number);
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), h ?? 0, m ?? 0));
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** The first anchored start (time/wday/day) at or after `now`. */
function nextAnchor(spec: ScheduleSpec, now: Date): Date {
  const { day, wday, time } = spec.schedule;
  if (day !== undefined) {
    for (let i = 0; i < 14; i++) {
      const y = now.getUTCFullYear();
      const mo = now.getUTCMonth() + i;
      const dim = daysInMonth(y, mo);
      const cand = atTime(new Date(Date.UTC(y, mo, Math.min(day, dim))), time);
      if (cand.getTime() >= now.getTime()) return cand;
    }
  }
  if (wday !== undefined) {
    for (let i = 0; i < 8; i++) {
      const cand = atTime(new Date(now.getTime() + i * DAY_MS), time);
      if (cand.getUTCDay() === wday && cand.getTime() >= now.getTime()) return cand;
    }
  }
  const today = atTime(now, time);
  return today.getTime() >= now.getTime() ? today : new Date(today.getTime() + DAY_MS);
}

function isAnchored(spec: ScheduleSpec): boolean {
  const s = spec.schedule;
  return s.day !== undefined || s.wday !== undefined || s.time !== undefined;
}

/** Start of the first cycle after the service starts at `now`. */
export function firstRun(spec: ScheduleSpec, now: Date): Date {
  if (spec.runOnStart) return now;
  if (isAnchored(spec)) return nextAnchor(spec, now);
  return new Date(now.getTime() + spec.intervalSeconds * 1000);
}

/**
 * Start of the cycle after the one scheduled at `previousStart`, given that it finished at `now`.
 * Returns `now` (run at once) when the interval was overtaken.
 */
export function nextRun(spec: ScheduleSpec, previousStart: Date, now: Date): { at: Date; overtaken: boolean } {
  let at: Date;
  if (spec.schedule.day !== undefined) {
    // monthly: the same day (clamped to the month's length) of the following month(s)
    const months = Math.max(1, Math.round(spec.intervalSeconds / (30 * 86_400)));
    const y = previousStart.getUTCFullYear();
    const mo = previousStart.getUTCMonth() + months;
    at = atTime(new Date(Date.UTC(y, mo, Math.min(spec.schedule.day, daysInMonth(y, mo)))), spec.schedule.time);
  } else {
    at = new Date(previousStart.getTime() + spec.intervalSeconds * 1000);
  }
  if (at.getTime() <= now.getTime()) return { at: now, overtaken: true };
  return { at, overtaken: false };
}
