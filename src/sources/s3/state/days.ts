/** Day folders as the state store sees them: `YYYY-MM-DD` strings (UTC), which sort like the dates they name. */

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `day` is a real calendar date written `YYYY-MM-DD`. */
export function isDay(day: unknown): day is string {
  if (typeof day !== 'string') return false;
  const m = DAY.exec(day);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === day;
}

/**
 * The day `days` days after `day` (negative: before).
 * @example shiftDay('2025-03-01', -1) // '2025-02-28'
 */
export function shiftDay(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The later of two optional days. */
export function laterDay(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}
