/**
 * The hot path of frequency rules, shared by the event path (engine.ts) and the columnar path (flow-rules.ts):
 * one occurrence added to the window of its same_field key, with the object and record it came from, and
 * whether the window reached the rule's frequency. Where the key, time and different_field value come from is
 * the caller's business (`OccurrenceFields`), so both paths count exactly alike.
 */
import type { CompiledRuleset } from './load-rules.js';
import type { Rule } from './rule-types.js';
import { APPENDED, CLEAN, compact, newWindow, occurrences, spill, type CorrelationState, type CorrObject, type Window } from './correlation-state.js';
import type { PartialCollector } from './window-partials.js';
import { keyText } from './window-key.js';

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
  /**
   * Set when windows are counted elsewhere (several workers writing to the indexer): occurrences are collected
   * per object for the correlator instead of counted here, and no frequency rule fires (window-partials.ts).
   */
  deferred?: PartialCollector | undefined;
}

export interface CorrelationHit {
  count: number;
  distinct: number;
  windowStart: number;
  /** the window's `same_field` values joined as text (keyText) */
  key: string;
  /** Wazuh logs of the occurrences before this one that the hit counted, newest first (`previous_output`) */
  previous: string[];
}

/** A `different_field` value of a record without the field: it differs from nothing and nothing from it. */
export const ABSENT = '\u0000';

/** Logs an alert's `previous_output` lists at most (analysisd keeps about ten: eventinfo.c `last_events`). */
const MAX_PREVIOUS = 10;

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
  /** `same_field` values as one key, as text (joined with U+0000); undefined when one of them is absent */
  sameKey(rule: Rule): string | undefined;
  /** the same values as the window's key (window-key.ts); undefined when one of them is absent */
  windowKey(rule: Rule): string | undefined;
  /** the record's time for the rule (ms): its `timefield`, else now */
  time(rule: Rule): number;
  /** `different_field` values as one key; ABSENT when one of them is absent */
  differentKey(rule: Rule): string;
  /** the record as Wazuh's log (for `previous_output`) */
  log(): string;
}

/** `same_field` / `different_field` values as one key: undefined when one is absent. */
export function joinValues(values: (string | undefined)[]): string | undefined {
  if (values.length === 1) return values[0];
  let key = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === undefined) return undefined;
    key += i === 0 ? v : `\u0000${v}`;
  }
  return key;
}

/**
 * analysisd's count for a rule with `different_field` (eventinfo.c Search_LastSids / rules.c): the current
 * occurrence, plus every earlier one in the window whose value differs from the current one's (earlier ones
 * may repeat each other). A record without the value counts only itself. The window's contributions are in arrays;
 * the current one is among them (last, or merged into one of its value by `compact`) and, of its own value, is not
 * counted by the loop.
 */
function differing(w: Window, value: string): number {
  if (value === ABSENT) return 1;
  const vals = w.vals as string[];
  const mults = w.mults;
  let n = 1;
  for (let i = w.head; i < vals.length; i++) {
    const v = vals[i] as string;
    if (v !== value && v !== ABSENT) n += mults !== undefined ? (mults[i] as number) : 1;
  }
  return n;
}

/** Adds this occurrence to the rule's window for its same_field key; true when the threshold is reached. */
export function correlate(core: AnalysisCore, cur: RecordCursor, rule: Rule, fields: OccurrenceFields): boolean {
  if (core.deferred) return defer(core.deferred, cur, rule, fields);
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
  const key = fields.windowKey(rule);
  // analysisd counts an earlier event only when both have every same_field value: without one, nothing correlates
  if (key === undefined) return false;
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
    if (windows.size >= core.opts.maxKeysPerRule) sweep(core, rule, windows, t, span);
    else {
      const last = st.expired.get(rule.id);
      if (last === undefined || (t - last.t >= span && windows.size >= 2 * last.kept + 1024)) expire(st, rule.id, windows, t, span);
    }
    w = newWindow(rule.id, key, rule.differentField.length > 0, t, undefined);
    // a new key: the file holds nothing of it (an earlier window of the key left a 'd' line when it went)
    w.filed = false;
    windows.set(key, w);
    st.markRewrite(w);
  } else if (t > w.last) w.last = t;
  const value = w.differs ? fields.differentKey(rule) : '';
  let distinctCount = w.differs ? 1 : 0;
  let inWindow = 1;
  let windowStart = t;
  if (w.times === undefined && w.o1 === undefined) {
    // the window's first contribution, inline (no arrays, no distinct-value map: most windows never see a second).
    // Written here rather than through correlation-state's addContribution, as the push below: on this per-record
    // path the call cost 10-25 ns of rules time per record (three alternating runs of the per-core row)
    w.t1 = t;
    w.o1 = o;
    w.i1 = cur.idx;
    w.v1 = value;
    w.head = 0;
    w.distinct = undefined;
  } else {
    spill(w);
    const times = w.times as number[];
    const objs = w.objs as CorrObject[];
    const idxs = w.idxs as number[];
    const mults = w.mults;
    // drop what fell out of the window (records arrive roughly, not strictly, in time order)
    while (w.head < times.length && (times[w.head] as number) < t - span) {
      if (mults !== undefined) w.extra -= (mults[w.head] as number) - 1;
      w.head++;
    }
    if (w.head > 64 && w.head * 2 > times.length) {
      const h = w.head;
      times.splice(0, h);
      objs.splice(0, h);
      idxs.splice(0, h);
      w.vals?.splice(0, h);
      mults?.splice(0, h);
      w.saved = w.saved > h ? w.saved - h : 0;
      w.head = 0;
    }
    if (w.differs) {
      if (times.length === w.head) {
        // the window's only live occurrence: one distinct value, no map
        w.distinct = undefined;
      } else {
        const distinct = (w.distinct ??= distinctOf(w));
        distinct.delete(value); // re-insert: the map stays ordered by last sighting
        distinct.set(value, t);
        for (const [v, at] of distinct) {
          if (at >= t - span) break;
          distinct.delete(v);
        }
        distinctCount = distinct.size;
      }
    }
    times.push(t);
    objs.push(o);
    idxs.push(cur.idx);
    w.vals?.push(value);
    mults?.push(1);
    // a window that grew by occurrences of times, values and objects it already holds: merged (bounded memory)
    if (times.length - w.head >= w.compactAt) compact(w, st);
    inWindow = occurrences(w);
    windowStart = (w.times as number[])[w.head] as number;
  }
  o.contributed = true;
  if (st.track && w.dirty === CLEAN) {
    w.dirty = APPENDED;
    w.dirtyAt = st.dirty.push(w) - 1;
  }
  // once per window (our extension): distinct values in the window; else analysisd's count
  const count = !w.differs ? inWindow : rule.oncePerWindow ? distinctCount : inWindow === 1 ? 1 : differing(w, value);
  const previous = rule.oncePerWindow ? undefined : recentLogs(w, o, cur.idx, t, fields, t - span, Math.min(MAX_PREVIOUS, (rule.frequency ?? 1) - 1));
  if (count < (rule.frequency ?? 1)) return false;
  cur.hit = { count: inWindow, distinct: distinctCount, windowStart, key: keyText(key), previous: previous ?? [] };
  // once per window: quiet for the timeframe. analysisd instead marks the events it counted as matched, so they
  // never count again (eventinfo.c Search_LastSids, `lf->matched`): the next occurrence starts a new window, and
  // `ignore` keeps the rule quiet for that long. The window is kept as it was at the hit while the hit may be undone.
  w.until = rule.oncePerWindow ? t + Math.max(span, (rule.ignore ?? 0) * 1000) : t + (rule.ignore ?? 0) * 1000;
  w.firedBy = o;
  st.hits.push(w);
  st.markRewrite(w);
  return true;
}

/** The distinct values of a window's live occurrences (in arrays) → last sighting, least recently seen first. */
function distinctOf(w: Window): Map<string, number> {
  const d = new Map<string, number>();
  const vals = w.vals as string[];
  const times = w.times as number[];
  for (let i = w.head; i < vals.length; i++) {
    const v = vals[i] as string;
    d.delete(v);
    d.set(v, times[i] as number);
  }
  return d;
}

/** With deferred windows: the occurrence goes to its object's partial; the rule does not fire here. */
function defer(partials: PartialCollector, cur: RecordCursor, rule: Rule, fields: OccurrenceFields): boolean {
  const key = fields.sameKey(rule);
  if (key === undefined) return false;
  const value = rule.differentField.length > 0 ? fields.differentKey(rule) : '';
  partials.add(cur.objectId, rule, key, fields.time(rule), cur.idx, value, () => fields.log());
  return false;
}

/**
 * Remembers this occurrence's log in the window and returns the logs of the earlier ones still in the timeframe
 * and not taken back, newest first (at most `max`).
 */
function recentLogs(w: Window, o: CorrObject, idx: number, t: number, fields: OccurrenceFields, from: number, max: number): string[] {
  const logs = (w.logs ??= []);
  const out: string[] = [];
  for (let i = logs.length - 1; i >= 0 && out.length < max; i--) {
    const e = logs[i]!;
    if (e.t >= from && !e.o.dropped && !(e.o === o && e.idx === idx)) out.push(e.log);
  }
  logs.push({ o, idx, t, log: fields.log() });
  if (logs.length > 2 * Math.max(max, 1)) logs.splice(0, logs.length - Math.max(max, 1));
  return out;
}

/**
 * Drops a rule's windows that no record a timeframe late could still reach (nothing in them for two timeframes,
 * or a quiet period over for one), unless a hit in them may still be undone, so windows go when they end instead of
 * piling up until the map is full (memory, and the collector's GC). Runs when a timeframe of record time passed and
 * the map doubled since the last run (amortized constant work per new window).
 */
function expire(st: CorrelationState, rule: string, windows: Map<string, Window>, t: number, span: number): void {
  // values(), not entries: an entry is an array made per window visited (a third of the bytes the rules allocated)
  for (const w of windows.values()) {
    if (w.firedBy !== undefined || w.prev !== undefined) continue;
    if (w.until !== undefined ? w.until < t - span : w.last < t - 2 * span) {
      windows.delete(w.key);
      st.markDeleted(w);
    }
  }
  st.expired.set(rule, { t, kept: windows.size });
}

/**
 * Keeps a rule's key map bounded: first drops windows past their timeframe (quiet periods past their end); if
 * that is not enough, the earliest inserted, down to half the limit, sparing first those a quarter or more of the
 * way to the rule's frequency (distinct values, or occurrences) and those in their quiet period after a hit: a
 * flood of new keys (spoofed or many sources) then pushes out its own one-record windows before a scan under way,
 * and a scan that fired does not fire again in its quiet period. Windows are spared only while that keeps the
 * bound. Runs only when the map overflows.
 */
function sweep(core: AnalysisCore, rule: Rule, windows: Map<string, Window>, t: number, span: number): void {
  const limit = core.opts.maxKeysPerRule;
  const st = core.state;
  for (const w of windows.values()) {
    if (w.until !== undefined ? w.until < t : w.last < t - span) {
      windows.delete(w.key);
      st.markDeleted(w);
    }
  }
  if (windows.size <= limit * 0.9) return;
  const frequency = rule.frequency ?? 1;
  const underWay = (w: Window) => w.until !== undefined || 4 * (w.differs ? (w.distinct?.size ?? 1) : occurrences(w)) >= frequency;
  for (const spare of [true, false]) {
    for (const w of windows.values()) {
      if (windows.size <= limit / 2) return;
      if (spare && underWay(w)) continue;
      windows.delete(w.key);
      st.markDeleted(w);
    }
  }
}

/** A time field's raw value as ms: ISO text parsed, a number taken as Unix seconds; NaN for anything else. */
export function timeOfRaw(raw: unknown): number {
  return typeof raw === 'string' ? Date.parse(raw) : typeof raw === 'number' ? raw * 1000 : NaN;
}
