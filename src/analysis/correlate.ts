/**
 * The hot path of frequency rules, shared by the event path (engine.ts) and the columnar path (flow-rules.ts):
 * one occurrence added to the window of its same_field key, with the object and record it came from, and
 * whether the window reached the rule's frequency. Where the key, time and different_field value come from is
 * the caller's business (`OccurrenceFields`), so both paths count exactly alike.
 */
import type { CompiledRuleset } from './load-rules.js';
import type { Rule } from './rule-types.js';
import { APPENDED, CLEAN, newWindow, type CorrelationState, type CorrObject, type Window } from './correlation-state.js';

export interface ResolvedOptions {
  logAlertLevel: number;
  now: () => Date;
  managerName: string;
  maxKeysPerRule: number;
  correlationDir: string | undefined;
}

/** What both evaluation paths of one analyzer share; `state` is replaced on restore and reload. */
export interface AnalysisCore {
  readonly rs: CompiledRuleset;
  readonly opts: ResolvedOptions;
  state: CorrelationState;
}

export interface CorrelationHit {
  count: number;
  distinct: number;
  windowStart: number;
  key: string;
}

/** The record being analysed: its object (looked up at its first use), index, and what its rules found. */
export class RecordCursor {
  objectId = '';
  obj: CorrObject | undefined;
  idx = 0;
  /** whether the record already went through the frequency rules: 0 not asked yet, 1 no, 2 yes (counts once) */
  dup = 0;
  hit: CorrelationHit | undefined;

  /** A new batch of `objectId`'s records. */
  beginBatch(objectId: string): void {
    this.objectId = objectId;
    this.obj = undefined;
  }

  beginRecord(idx: number): void {
    this.idx = idx;
    this.dup = 0;
    this.hit = undefined;
  }

  object(state: CorrelationState): CorrObject {
    return (this.obj ??= state.objectFor(this.objectId));
  }
}

/** The values a frequency rule reads from the record being analysed. */
export interface OccurrenceFields {
  /** `same_field` values as one key */
  sameKey(rule: Rule): string;
  /** the record's time for the rule (ms): its `timefield`, else now */
  time(rule: Rule): number;
  /** `different_field` values as one key */
  differentKey(rule: Rule): string;
}

/** Adds this occurrence to the rule's window for its same_field key; true when the threshold is reached. */
export function correlate(core: AnalysisCore, cur: RecordCursor, rule: Rule, fields: OccurrenceFields): boolean {
  const st = core.state;
  const o = cur.object(st);
  if (cur.dup === 0) {
    // a record of an object read again without being taken back first counts once
    if (cur.idx < o.seen) cur.dup = 2;
    else {
      cur.dup = 1;
      o.seen = cur.idx + 1;
    }
  }
  if (cur.dup === 2) return false;
  const key = fields.sameKey(rule);
  const t = fields.time(rule);
  if (t > st.newest) st.newest = t;
  const span = (rule.timeframe ?? 0) * 1000;
  let windows = st.windows.get(rule.id);
  if (!windows) st.windows.set(rule.id, (windows = new Map()));
  let w = windows.get(key);
  if (w !== undefined && w.until !== undefined) {
    if (t < w.until) return false; // quiet after a hit
    // a new window; the fired one stays behind it while its hit may still be undone
    w = newWindow(rule.id, key, rule.differentField.length > 0, t, w.firedBy ? w : undefined);
    windows.set(key, w);
    st.markRewrite(w);
  } else if (w === undefined) {
    if (windows.size >= core.opts.maxKeysPerRule) sweep(core, windows, t, span);
    w = newWindow(rule.id, key, rule.differentField.length > 0, t, undefined);
    windows.set(key, w);
    st.markRewrite(w);
  } else if (t > w.last) w.last = t;
  // drop what fell out of the window (records arrive roughly, not strictly, in time order)
  const times = w.times;
  while (w.head < times.length && (times[w.head] as number) < t - span) w.head++;
  if (w.head > 64 && w.head * 2 > times.length) {
    const h = w.head;
    times.splice(0, h);
    w.objs.splice(0, h);
    w.idxs.splice(0, h);
    w.vals?.splice(0, h);
    w.saved = w.saved > h ? w.saved - h : 0;
    w.head = 0;
  }
  const distinct = w.distinct;
  let value = '';
  if (distinct) {
    value = fields.differentKey(rule);
    distinct.delete(value); // re-insert: the map stays ordered by last sighting
    distinct.set(value, t);
    for (const [v, at] of distinct) {
      if (at >= t - span) break;
      distinct.delete(v);
    }
  }
  times.push(t);
  w.objs.push(o);
  w.idxs.push(cur.idx);
  w.vals?.push(value);
  o.contributed = true;
  if (st.track && w.dirty === CLEAN) {
    w.dirty = APPENDED;
    st.dirty.push(w);
  }
  const occurrences = times.length - w.head;
  const count = distinct ? distinct.size : occurrences;
  if (count < (rule.frequency ?? 1)) return false;
  cur.hit = { count: occurrences, distinct: distinct?.size ?? 0, windowStart: times[w.head] ?? t, key };
  // quiet until then; the window is kept as it was at the hit while the hit may be undone
  w.until = t + Math.max(span, (rule.ignore ?? 0) * 1000);
  w.firedBy = o;
  st.hits.push(w);
  st.markRewrite(w);
  return true;
}

/**
 * Keeps a rule's key map bounded: first drops windows past their timeframe (quiet periods past their end);
 * if that is not enough, the earliest inserted, down to half the limit. Runs only when the map overflows.
 */
function sweep(core: AnalysisCore, windows: Map<string, Window>, t: number, span: number): void {
  const limit = core.opts.maxKeysPerRule;
  const st = core.state;
  for (const [k, w] of windows) {
    if (w.until !== undefined ? w.until < t : w.last < t - span) {
      windows.delete(k);
      st.markDeleted(w);
    }
  }
  if (windows.size <= limit * 0.9) return;
  for (const [k, w] of windows) {
    if (windows.size <= limit / 2) break;
    windows.delete(k);
    st.markDeleted(w);
  }
}

/** A time field's raw value as ms: ISO text parsed, a number taken as Unix seconds; NaN for anything else. */
export function timeOfRaw(raw: unknown): number {
  return typeof raw === 'string' ? Date.parse(raw) : typeof raw === 'number' ? raw * 1000 : NaN;
}
