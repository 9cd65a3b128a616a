/**
 * The state held in memory: per scope, the newest day read and one exact set of key hashes per day inside the
 * look-back window. Pure (no I/O): the file store journals each change before applying it here.
 */
import type { OutputCheckpoint } from '../../../shared/sink.js';
import { isDay, laterDay, shiftDay } from './days.js';
import { HashSet64 } from './hash-set64.js';
import type { ScopeKey } from './types.js';

/** Days after "today" (by the clock) that may still move a scope's window: clock skew, time zones. */
export const FUTURE_TOLERANCE_DAYS = 1;

export interface DayState {
  hashes: HashSet64;
  /** objects marked with status 'error' (counted once per key) */
  errors: number;
}

export interface ScopeState {
  scope: ScopeKey;
  /** newest day folder with a processed object (never beyond today + FUTURE_TOLERANCE_DAYS) */
  newestDay: string | undefined;
  /** newestDay − lookbackDays (kept with newestDay, so the hot path does no date arithmetic) */
  windowStart: string | undefined;
  /** days before this were dropped from memory: they count as processed (they are behind the cursor) */
  forgottenBefore: string | undefined;
  days: Map<string, DayState>;
}

/** The identity of a scope: all six fields, none shared with another scope. */
export function scopeId(s: ScopeKey): string {
  return JSON.stringify([s.bucket, s.path, s.type, s.account, s.region, s.flowLogId]);
}

export class StateModel {
  readonly scopes = new Map<string, ScopeState>();
  checkpoint: OutputCheckpoint | undefined;
  /** latest day allowed to move a window, for the UTC day number `#latestFor` */
  #latest = '';
  #latestFor = Number.NaN;

  constructor(
    readonly lookbackDays: number,
    readonly now: () => Date,
  ) {}

  find(scope: ScopeKey): ScopeState | undefined {
    return this.scopes.get(scopeId(scope));
  }

  /** The scope's state, created empty if new; `id` saves recomputing scopeId(scope). */
  obtain(scope: ScopeKey, id = scopeId(scope)): ScopeState {
    let s = this.scopes.get(id);
    if (!s) {
      const copy: ScopeKey = { bucket: scope.bucket, path: scope.path, type: scope.type, account: scope.account, region: scope.region, flowLogId: scope.flowLogId };
      s = { scope: copy, newestDay: undefined, windowStart: undefined, forgottenBefore: undefined, days: new Map() };
      this.scopes.set(id, s);
    }
    return s;
  }

  /** First day whose membership is exact: newest − lookback, or later if older days were forgotten. */
  exactFrom(s: ScopeState): string | undefined {
    return laterDay(s.windowStart, s.forgottenBefore);
  }

  /** Sets a scope's newest day (and its window start) without pruning: loading a snapshot. */
  setNewestDay(s: ScopeState, day: string | undefined): void {
    s.newestDay = day;
    s.windowStart = day === undefined ? undefined : shiftDay(day, -this.lookbackDays);
  }

  /** today + FUTURE_TOLERANCE_DAYS by the clock */
  #latestDay(): string {
    const dayNumber = Math.floor(this.now().getTime() / 86_400_000);
    if (dayNumber !== this.#latestFor) {
      this.#latestFor = dayNumber;
      this.#latest = new Date((dayNumber + FUTURE_TOLERANCE_DAYS) * 86_400_000).toISOString().slice(0, 10);
    }
    return this.#latest;
  }

  /** Records one processed object; returns false when its hash was already there (or its day is forgotten). */
  apply(s: ScopeState, day: string, hi: number, lo: number, status: 'ok' | 'error'): boolean {
    if ((s.newestDay === undefined || day > s.newestDay) && day <= this.#latestDay() && isDay(day)) {
      this.setNewestDay(s, day);
      this.prune(s);
    }
    const from = this.exactFrom(s);
    if (from !== undefined && day < from) return false;
    let d = s.days.get(day);
    if (!d) s.days.set(day, (d = { hashes: new HashSet64(), errors: 0 }));
    const added = d.hashes.add(hi, lo);
    if (added && status === 'error') d.errors++;
    return added;
  }

  /** Drops the days that left the window, remembering that they are behind the cursor. */
  prune(s: ScopeState): void {
    const start = s.windowStart;
    if (start === undefined) return;
    s.forgottenBefore = laterDay(s.forgottenBefore, start);
    for (const day of s.days.keys()) if (day < start) s.days.delete(day);
  }

  isProcessed(s: ScopeState, day: string, hi: number, lo: number, exact: boolean): boolean {
    const from = this.exactFrom(s);
    if (!exact && from !== undefined && day < from) return true;
    return s.days.get(day)?.hashes.has(hi, lo) ?? false;
  }

  /** Key hashes held in memory, all scopes. */
  entries(): number {
    let n = 0;
    for (const s of this.scopes.values()) for (const d of s.days.values()) n += d.hashes.size;
    return n;
  }
}
