/**
 * The state of the frequency rules (windows, quiet periods after a hit, fired counts) and what keeps it exact
 * across re-reads, failures, restarts and crashes (docs/architecture.md, "Correlation state across runs and
 * crashes"):
 * - every contribution to a window is tagged with the object it came from and its record index; an object
 *   carries the sequence number the sink gave it once it was read whole (`objectDone`);
 * - an object whose read is abandoned is taken back (`discard`): its contributions go, a hit it triggered is
 *   undone (the window as it was before the hit, without its contributions);
 * - `rollback` does the same for every object a restart must read again (seq above the last marked one);
 * - a hit keeps what undoing it needs (the window at the hit, the window before the quiet period ended)
 *   only while its object may still be taken back (`settle` forgets it once the object is marked processed).
 * The engine (engine.ts) updates windows on its hot path; this module does the rarer work and the encoding
 * for correlation-file.ts.
 */
import type { CorrelationFile } from './correlation-file.js';
import { keyFromText } from './window-key.js';

/** One object as far as correlation is concerned. */
export interface CorrObject {
  readonly id: string;
  /** the sink's sequence number once the object was read whole; undefined while it is being read */
  seq: number | undefined;
  /** records below this index went through the frequency rules already (an object read again counts once) */
  seen: number;
  /** at least one of its records is (or was) in a window */
  contributed: boolean;
  /** alerts raised on its records, per rule, while the object may still be taken back */
  fired: Map<string, number> | undefined;
  /** taken back: whatever still points to it is removed by the next purge */
  dropped: boolean;
  /** marked processed: never taken back, so its contributions may merge with other settled ones (`compact`) */
  settled: boolean;
}

/** A new object, being read. */
export function newObject(id: string): CorrObject {
  return { id, seq: undefined, seen: 0, contributed: false, fired: undefined, dropped: false, settled: false };
}

/**
 * The object of contributions merged from several settled objects (`compact`): never taken back, never listed in
 * `objects`, saved as `null` in a window's object runs.
 */
export const SETTLED: CorrObject = { id: '', seq: -Infinity, seen: 0, contributed: true, fired: undefined, dropped: false, settled: true };

/** Persistence marks of a window. */
export const CLEAN = 0;
export const APPENDED = 1;
export const REWRITE = 2;
export const DELETED = 3;

export interface Window {
  readonly rule: string;
  /** the same_field values (window-key.ts: addresses as numbers; saved as they are since file format 3) */
  readonly key: string;
  /** whether the rule has different_field: each contribution carries its value */
  readonly differs: boolean;
  /**
   * Contributions, oldest first from `head`: time (ms), object, record index, different_field value ('' without
   * different_field). A window's only contribution is held inline (`o1` set, the arrays undefined): most windows
   * never see a second one (the benchmark's rejected flows between random address pairs: nearly all), and with four
   * one-element arrays a window kept 384 bytes of heap, inline 216, which the collector's scavenges copy while the
   * window lives. The arrays are made at the second contribution and then hold them all. Read the contributions
   * through `count`/`timeAt`/`objAt`/`idxAt`/`valAt`/`multAt`, add them with `addContribution`.
   *
   * A contribution may stand for several occurrences (`mults`, made by `compact`): those of one time and
   * different_field value from one object, or from settled objects. Without `compact` a window of a pair that
   * hammers a few ports would keep every occurrence of its timeframe (a million a minute is a fast scanner).
   */
  t1: number;
  o1: CorrObject | undefined;
  i1: number;
  v1: string;
  times: number[] | undefined;
  objs: CorrObject[] | undefined;
  idxs: number[] | undefined;
  vals: string[] | undefined;
  /** occurrences each contribution stands for; undefined while each stands for one */
  mults: number[] | undefined;
  /** occurrences beyond one per contribution, from `head` on (occurrences = contributions from head + extra) */
  extra: number;
  /** contributions from `head` at which `compact` runs next */
  compactAt: number;
  head: number;
  /**
   * distinct different_field values → last time seen, least recently seen first (derived from the contributions;
   * made at a window's second occurrence, undefined before and for rules without different_field)
   */
  distinct: Map<string, number> | undefined;
  /** newest occurrence (ms) */
  last: number;
  /** set once the window fired: records before this time are ignored (quiet period) */
  until: number | undefined;
  /** the object whose record fired it, while that object may be taken back */
  firedBy: CorrObject | undefined;
  /** the fired window this one replaced when its quiet period ended, while that hit may be undone */
  prev: Window | undefined;
  /** CLEAN, APPENDED (contributions from `saved` on are not in the file) or REWRITE */
  dirty: number;
  /** where the window is in the state's `dirty` list, while it is listed there (not CLEAN) */
  dirtyAt: number;
  /**
   * Whether the file may hold an entry for this window's key that must go when the window goes: false for a window
   * of a new key until it is first saved (a large object's windows, most created and expired between two commits,
   * then leave no 'd' line and nothing in memory until the commit)
   */
  filed: boolean;
  saved: number;
  /**
   * The Wazuh log of the latest occurrences (newest last), for an alert's `previous_output`; in memory only (not
   * saved, not restored: an alert after a restart lists only what was read since)
   */
  logs?: { o: CorrObject; idx: number; t: number; log: string }[];
}

/** A window removed from its rule's map since the last save: the file's entry for its key goes at the next one. */
interface Deletion {
  readonly rule: string;
  readonly key: string;
  readonly dirty: typeof DELETED;
}

/** What the state needs to know of a frequency rule. */
export interface RuleShape {
  /** timeframe in ms */
  span: number;
  distinct: boolean;
  /** frequency, timeframe, fields: windows saved under another shape are not restored */
  fingerprint: string;
}

export function newWindow(rule: string, key: string, distinct: boolean, t: number, prev: Window | undefined): Window {
  return { rule, key, differs: distinct, t1: 0, o1: undefined, i1: 0, v1: '', times: undefined, objs: undefined, idxs: undefined, vals: undefined, mults: undefined, extra: 0, compactAt: COMPACT_FIRST, head: 0, distinct: undefined, last: t, until: undefined, firedBy: undefined, prev, dirty: CLEAN, dirtyAt: -1, filed: true, saved: 0 };
}

/** Contributions a window holds (from head) before its first `compact`. */
export const COMPACT_FIRST = 128;

/** A window's contributions (those before `head` included). */
export function count(w: Window): number {
  return w.times !== undefined ? w.times.length : w.o1 !== undefined ? 1 : 0;
}

/** Contribution `i` (below `count`): its time (ms), object, record index, different_field value. */
export function timeAt(w: Window, i: number): number {
  return w.times !== undefined ? (w.times[i] as number) : w.t1;
}

export function objAt(w: Window, i: number): CorrObject {
  return w.objs !== undefined ? (w.objs[i] as CorrObject) : (w.o1 as CorrObject);
}

export function idxAt(w: Window, i: number): number {
  return w.idxs !== undefined ? (w.idxs[i] as number) : w.i1;
}

export function valAt(w: Window, i: number): string {
  return w.vals !== undefined ? (w.vals[i] as string) : w.v1;
}

export function multAt(w: Window, i: number): number {
  return w.mults !== undefined ? (w.mults[i] as number) : 1;
}

/** Occurrences in the window: its contributions from `head` on, each with its multiplicity. */
export function occurrences(w: Window): number {
  return count(w) - w.head + w.extra;
}

/** Appends a contribution (standing for `mult` occurrences): inline when the window has none, else to the arrays. */
export function addContribution(w: Window, t: number, o: CorrObject, idx: number, value: string, mult = 1): void {
  if (w.times === undefined) {
    if (w.o1 === undefined && mult === 1) {
      w.t1 = t;
      w.o1 = o;
      w.i1 = idx;
      w.v1 = value;
      return;
    }
    spill(w);
  }
  const times = w.times as number[];
  if (mult !== 1 && w.mults === undefined) w.mults = new Array<number>(times.length).fill(1);
  times.push(t);
  (w.objs as CorrObject[]).push(o);
  (w.idxs as number[]).push(idx);
  w.vals?.push(value);
  w.mults?.push(mult);
  w.extra += mult - 1;
}

/**
 * `[first]`, with room for one more element. A push onto `[first]` would make room for 19: the windows that spill
 * mostly keep two contributions (a pair seen twice in its timeframe), and their four arrays then held 4 × 168 bytes,
 * now 4 × 32 (16,000 such windows at the end of a 20M-record run: 8.7 MB of the collector's live heap).
 */
function roomForTwo<T>(first: T, filler: T): T[] {
  const a = [first, filler];
  // a shorter length keeps the backing store (V8 trims it only when far larger than the length)
  a.length = 1;
  return a;
}

/** The inline contribution moved to new arrays (before a second one is added). */
export function spill(w: Window): void {
  if (w.times !== undefined) return;
  const one = w.o1 !== undefined;
  w.times = one ? roomForTwo(w.t1, 0) : [];
  w.objs = one ? roomForTwo(w.o1 as CorrObject, w.o1 as CorrObject) : [];
  w.idxs = one ? roomForTwo(w.i1, 0) : [];
  w.vals = !w.differs ? undefined : one ? roomForTwo(w.v1, '') : [];
  w.o1 = undefined;
  w.v1 = '';
}

/** No contribution left. */
export function clearContributions(w: Window): void {
  w.times = w.objs = w.idxs = w.vals = w.mults = undefined;
  w.o1 = undefined;
  w.v1 = '';
  w.head = 0;
  w.extra = 0;
  w.compactAt = COMPACT_FIRST;
}

/**
 * Merges the window's contributions from `head` that stand for the same thing: within a run of contributions of
 * one time, those of one different_field value and one object become one, where every settled object counts as
 * one (`SETTLED`: they are never taken back, so nothing needs to tell them apart). Counts, `window_start` and
 * when occurrences leave the timeframe stay exactly what they were: the contributions of a run leave together, and
 * the order within a run matters to nothing. What a window holds is then bounded by the times and values of its
 * timeframe and by the objects still being read, not by the rate of the records. The window is saved whole next.
 */
export function compact(w: Window, st: CorrelationState): void {
  const n = count(w);
  if (w.times === undefined) return;
  const times: number[] = [];
  const objs: CorrObject[] = [];
  const idxs: number[] = [];
  const vals: string[] | undefined = w.differs ? [] : undefined;
  const mults: number[] = [];
  // in the current run of one time: object → value → position in the output
  const slots = new Map<CorrObject, Map<string, number>>();
  let runTime = NaN;
  let merged = false;
  for (let i = w.head; i < n; i++) {
    const t = timeAt(w, i);
    if (t !== runTime) {
      slots.clear();
      runTime = t;
    }
    const src = objAt(w, i);
    const o = src.settled ? SETTLED : src;
    const v = valAt(w, i);
    let byValue = slots.get(o);
    if (byValue === undefined) slots.set(o, (byValue = new Map()));
    const at = byValue.get(v);
    if (at !== undefined) {
      mults[at] = (mults[at] as number) + multAt(w, i);
      merged = true;
      continue;
    }
    byValue.set(v, times.length);
    times.push(t);
    objs.push(o);
    idxs.push(idxAt(w, i));
    vals?.push(v);
    mults.push(multAt(w, i));
  }
  w.compactAt = Math.max(COMPACT_FIRST, 2 * times.length);
  if (!merged) return;
  install(w, times, objs, idxs, vals, mults);
  w.saved = 0;
  st.markRewrite(w);
}

/** Makes new arrays the window's contributions, all live (`head` 0, `extra` from their multiplicities). */
function install(w: Window, times: number[], objs: CorrObject[], idxs: number[], vals: string[] | undefined, mults: number[] | undefined): void {
  w.o1 = undefined;
  w.v1 = '';
  w.times = times;
  w.objs = objs;
  w.idxs = idxs;
  w.vals = vals;
  w.mults = mults;
  w.head = 0;
  w.extra = 0;
  if (mults !== undefined) for (const m of mults) w.extra += m - 1;
}

/** Recomputes head, occurrences, distinct values and newest time from the contributions (after some were removed). */
export function rebuild(w: Window, span: number): void {
  const n = count(w);
  let last = -Infinity;
  for (let i = 0; i < n; i++) if (timeAt(w, i) > last) last = timeAt(w, i);
  if (n > 0) w.last = last;
  const end = n > 0 ? timeAt(w, n - 1) : 0;
  w.head = 0;
  while (w.head < n && timeAt(w, w.head) < end - span) w.head++;
  w.extra = 0;
  for (let i = w.head; i < n; i++) w.extra += multAt(w, i) - 1;
  w.compactAt = Math.max(COMPACT_FIRST, 2 * (n - w.head));
  if (w.differs) {
    const d = new Map<string, number>();
    for (let i = w.head; i < n; i++) {
      const v = valAt(w, i);
      d.delete(v);
      d.set(v, timeAt(w, i));
    }
    for (const [v, at] of d) {
      if (at >= end - span) break;
      d.delete(v);
    }
    w.distinct = d;
  }
}

/** Keeps the contributions from `head` on for which `keep` holds. */
function filter(w: Window, keep: (o: CorrObject) => boolean): void {
  const times: number[] = [];
  const objs: CorrObject[] = [];
  const idxs: number[] = [];
  const vals: string[] | undefined = w.differs ? [] : undefined;
  const mults: number[] | undefined = w.mults !== undefined ? [] : undefined;
  for (let i = w.head, n = count(w); i < n; i++) {
    const o = objAt(w, i);
    if (!keep(o)) continue;
    times.push(timeAt(w, i));
    objs.push(o);
    idxs.push(idxAt(w, i));
    vals?.push(valAt(w, i));
    mults?.push(multAt(w, i));
  }
  install(w, times, objs, idxs, vals, mults);
}

function touches(w: Window, drop: (o: CorrObject) => boolean): boolean {
  for (let x: Window | undefined = w; x; x = x.prev) {
    if (x.firedBy && drop(x.firedBy)) return true;
    for (let i = x.head, n = count(x); i < n; i++) if (drop(objAt(x, i))) return true;
  }
  return false;
}

/**
 * A key's windows without what dropped objects added: the oldest hit fired by a dropped object is undone (its
 * window back to counting, with the kept contributions of that window and of the later ones), else each window
 * just loses those contributions. Returns the key's window afterwards (undefined: nothing left).
 */
export function rollbackChain(w: Window, drop: (o: CorrObject) => boolean, span: number): Window | undefined {
  const chain: Window[] = [];
  for (let x: Window | undefined = w; x; x = x.prev) chain.unshift(x);
  const keep = (o: CorrObject) => !drop(o);
  const undone = chain.findIndex((x) => x.until !== undefined && x.firedBy !== undefined && drop(x.firedBy));
  if (undone < 0) {
    for (const x of chain) {
      filter(x, keep);
      rebuild(x, span);
    }
    if (w.until === undefined && count(w) === 0) return w.prev;
    return w;
  }
  const base = chain[undone] as Window;
  filter(base, keep);
  for (const later of chain.slice(undone + 1)) {
    filter(later, keep);
    for (let i = 0, n = count(later); i < n; i++) addContribution(base, timeAt(later, i), objAt(later, i), idxAt(later, i), valAt(later, i), multAt(later, i));
  }
  base.until = undefined;
  base.firedBy = undefined;
  rebuild(base, span);
  if (count(base) === 0) return base.prev;
  return base;
}

export class CorrelationState {
  /** per rule: same_field key → window */
  readonly windows = new Map<string, Map<string, Window>>();
  readonly objects = new Map<string, CorrObject>();
  /** alerts per rule (firedtimes) */
  readonly fired = new Map<string, number>();
  /** newest record time seen by a frequency rule (ms): windows older than their timeframe before it are dropped */
  newest = -Infinity;
  /** per rule: the record time (ms) its ended windows were last dropped at and the windows kept (correlate.ts `expire`) */
  readonly expired = new Map<string, { t: number; kept: number }>();
  rules: Map<string, RuleShape>;
  /** the file the state is saved to (none: memory only) */
  file: CorrelationFile | undefined;
  /** true when the state is saved to a file: changed windows are listed in `dirty` */
  track = false;
  /**
   * Windows changed since the last save, in change order, and in the place of each window removed since, its key
   * (DELETED) or nothing (null: it never reached the file): a removed window is not kept for its 'd' line (a
   * large object's windows, created and expired between two commits, would all stay in memory until the commit).
   */
  dirty: (Window | Deletion | null)[] = [];
  /** objects finished or taken back since the last save */
  changedObjects = new Set<CorrObject>();
  /** the next save writes everything (after a restore, a reload or a failed write) */
  needSnapshot = false;
  /** objects taken back, purged before the next record is analysed */
  pending: CorrObject[] = [];
  /** windows that fired on a record of an object that may still be taken back */
  hits: Window[] = [];
  /** finished objects not yet known to be marked processed */
  unsettled: CorrObject[] = [];
  /** objects being read */
  readonly open = new Set<CorrObject>();
  /** object count after the last prune (the next one runs when the map doubled) */
  keptObjects = 0;

  constructor(rules: Map<string, RuleShape>) {
    this.rules = rules;
  }

  objectFor(id: string): CorrObject {
    let o = this.objects.get(id);
    if (o === undefined) {
      o = newObject(id);
      this.objects.set(id, o);
      this.open.add(o);
    }
    return o;
  }

  markRewrite(w: Window): void {
    if (!this.track) return;
    if (w.dirty === CLEAN) w.dirtyAt = this.dirty.push(w) - 1;
    w.dirty = REWRITE;
  }

  /**
   * The window left its rule's map: its key goes in the `dirty` list, in its place when it was listed, unless the
   * file has nothing of it to remove.
   */
  markDeleted(w: Window): void {
    if (!this.track) return;
    const deletion: Deletion | null = w.filed ? { rule: w.rule, key: w.key, dirty: DELETED } : null;
    // (a list dropped whole, after a restore, leaves flags the next snapshot clears: the window is not in it)
    if (w.dirty !== CLEAN && this.dirty[w.dirtyAt] === w) this.dirty[w.dirtyAt] = deletion;
    else if (deletion) this.dirty.push(deletion);
    w.dirty = CLEAN;
  }

  objectDone(id: string, seq: number): void {
    const o = this.objects.get(id);
    if (o === undefined) return; // nothing of it reached the rules
    o.seq = seq;
    this.open.delete(o);
    this.unsettled.push(o);
    if (this.track) this.changedObjects.add(o);
  }

  discard(id: string): void {
    const o = this.objects.get(id);
    if (o === undefined) return;
    o.dropped = true;
    this.objects.delete(id);
    this.open.delete(o);
    this.pending.push(o);
    if (this.track) this.changedObjects.add(o);
  }

  /** Removes what the objects taken back since the last purge added (one pass over the windows for all of them). */
  purge(): void {
    if (this.pending.length === 0) return;
    const dropped = this.pending;
    this.pending = [];
    this.rollback((o) => o.dropped, dropped);
    this.unsettled = this.unsettled.filter((o) => !o.dropped);
  }

  /** Takes back everything `drop` objects added to any window, and their alerts from the fired counts. */
  rollback(drop: (o: CorrObject) => boolean, dropped: Iterable<CorrObject>): void {
    for (const o of dropped) {
      if (!o.fired) continue;
      for (const [rule, n] of o.fired) this.fired.set(rule, Math.max(0, (this.fired.get(rule) ?? 0) - n));
      o.fired = undefined;
    }
    for (const [rule, windows] of this.windows) {
      const span = this.rules.get(rule)?.span ?? 0;
      for (const [key, w] of windows) {
        if (!touches(w, drop)) continue;
        const after = rollbackChain(w, drop, span);
        if (after === undefined) {
          windows.delete(key);
          this.markDeleted(w);
        } else {
          if (after !== w) windows.set(key, after);
          this.markRewrite(after);
        }
      }
    }
    this.hits = this.hits.filter((w) => w.firedBy !== undefined && !drop(w.firedBy));
  }

  /**
   * Objects up to `committedSeq` are marked processed and never taken back: their hits forget how to be undone,
   * and objects that added nothing to a window are forgotten.
   */
  settle(committedSeq: number): void {
    const settled = (o: CorrObject) => o.seq !== undefined && o.seq <= committedSeq;
    if (this.hits.length > 0) {
      this.hits = this.hits.filter((w) => {
        if (w.firedBy === undefined) return false;
        if (!settled(w.firedBy)) return true;
        // a quiet-period marker from now on
        w.firedBy = undefined;
        w.prev = undefined;
        clearContributions(w);
        w.saved = 0;
        w.distinct = undefined;
        return false;
      });
    }
    if (this.unsettled.length > 0) {
      this.unsettled = this.unsettled.filter((o) => {
        if (!settled(o)) return true;
        o.fired = undefined;
        o.settled = true;
        if (!o.contributed && this.objects.get(o.id) === o) this.objects.delete(o.id);
        return false;
      });
    }
  }

  /**
   * Drops windows past their timeframe (and quiet periods past their end) relative to the newest record time,
   * then objects no window refers to. Runs when the object map doubled since the last time, and before a snapshot.
   */
  prune(force: boolean): void {
    if (!force && this.objects.size < 2 * this.keptObjects + 10_000) return;
    const referenced = new Set<CorrObject>();
    for (const [rule, windows] of this.windows) {
      const span = this.rules.get(rule)?.span ?? 0;
      for (const [key, w] of windows) {
        const undoable = w.firedBy !== undefined || w.prev !== undefined;
        const end = w.until !== undefined ? Math.max(w.until, w.last + span) : w.last + span;
        if (!undoable && end < this.newest) {
          windows.delete(key);
          this.markDeleted(w);
          continue;
        }
        for (let x: Window | undefined = w; x; x = x.prev) {
          for (let i = x.head, n = count(x); i < n; i++) referenced.add(objAt(x, i));
          if (x.firedBy) referenced.add(x.firedBy);
        }
      }
    }
    const unsettled = new Set(this.unsettled);
    for (const [id, o] of this.objects) if (!referenced.has(o) && !this.open.has(o) && !unsettled.has(o)) this.objects.delete(id);
    this.keptObjects = this.objects.size;
  }

  // ---------------------------------------------------------------- encoding (one JSON array per line)

  /**
   * Lines for what changed since the last save (clears the marks): removed windows, rewritten ones, then the
   * contributions added to the others, in one columnar record per rule (a few large arrays encode much faster
   * than thousands of small lines). A window no longer current for its key is skipped: the current one says it all.
   */
  encodeChanges(): string {
    let out = '';
    for (const o of this.changedObjects) out += objectLine(o);
    this.changedObjects.clear();
    out += firedLine(this.persistedFired());
    let rewritten = '';
    const appended = new Map<string, Window[]>();
    for (const change of this.dirty) {
      if (change === null) continue;
      const flag = change.dirty;
      if (flag === DELETED) {
        out += JSON.stringify(['d', change.rule, change.key]) + '\n';
        continue;
      }
      const w = change as Window;
      w.dirty = CLEAN;
      if (this.windows.get(w.rule)?.get(w.key) !== w) continue;
      if (flag === REWRITE && (w.until !== undefined || w.prev !== undefined)) {
        rewritten += JSON.stringify(['w', w.rule, w.key, encodeWindow(w, w.head, true)]) + '\n';
        w.saved = count(w);
        w.filed = true;
        continue;
      }
      // a window still counting: its new contributions, or all of it (replacing what the file has) when rewritten
      if (flag === REWRITE) w.saved = -1;
      let list = appended.get(w.rule);
      if (!list) appended.set(w.rule, (list = []));
      list.push(w);
    }
    out += rewritten;
    for (const [rule, list] of appended) out += encodeColumns(rule, list, (w) => (w.saved < 0 ? w.head : Math.min(w.saved, count(w))), (w) => w.saved < 0);
    this.dirty = [];
    return out;
  }

  /** Every line of the state (a snapshot; clears the marks). */
  encodeAll(): string {
    const rules: Record<string, string> = {};
    for (const [id, r] of this.rules) rules[id] = r.fingerprint;
    let out = JSON.stringify(['tld-correlation', FORMAT_VERSION, rules]) + '\n';
    for (const o of this.objects.values()) if (o.seq !== undefined) out += objectLine(o);
    out += firedLine(this.persistedFired());
    for (const [rule, windows] of this.windows) {
      let plain: Window[] = [];
      for (const w of windows.values()) {
        w.dirty = CLEAN;
        if (w.until !== undefined || w.prev !== undefined) {
          out += JSON.stringify(['w', w.rule, w.key, encodeWindow(w, w.head, true)]) + '\n';
          w.saved = count(w);
          w.filed = true;
        } else if (plain.push(w) >= 10_000) {
          out += encodeColumns(rule, plain, (x) => x.head, () => true);
          plain = [];
        }
      }
      if (plain.length > 0) out += encodeColumns(rule, plain, (x) => x.head, () => true);
    }
    for (const w of this.dirty) if (w !== null && w.dirty !== DELETED) (w as Window).dirty = CLEAN;
    this.dirty = [];
    this.changedObjects.clear();
    this.needSnapshot = false;
    return out;
  }

  /** fired counts without the alerts of objects still being read (a restart reads them again) */
  persistedFired(): Map<string, number> {
    const out = new Map(this.fired);
    for (const o of this.open) if (o.fired) for (const [rule, n] of o.fired) out.set(rule, (out.get(rule) ?? 0) - n);
    return out;
  }

  /**
   * Loads saved lines, then takes back what objects after `committedSeq` (or without a seq) added: they were not
   * marked processed and will be read again. Throws on a record that is not ours (the caller names the file).
   */
  load(records: unknown[][], committedSeq: number): void {
    let savedRules: Record<string, string> = {};
    const seqs = new Map<string, { seq: number | undefined; seen: number; fired: Record<string, number> | 0 }>();
    let fired: Record<string, number> = {};
    const loaded = new Map<string, Map<string, Window>>();
    const obj = (id: string) => this.objectFor(id);
    // files before version 3 hold keys as text
    let keyOf = (saved: unknown) => String(saved);
    records.forEach((rec, n) => {
      switch (rec[0]) {
        case 'tld-correlation':
          if (rec[1] !== 1 && rec[1] !== 2 && rec[1] !== FORMAT_VERSION) throw new Error(`line ${n + 1}: unknown format version ${String(rec[1])}`);
          keyOf = rec[1] === FORMAT_VERSION ? (saved) => String(saved) : (saved) => keyFromText(String(saved));
          savedRules = rec[2] as Record<string, string>;
          loaded.clear();
          seqs.clear();
          break;
        case 'o':
          seqs.set(String(rec[1]), { seq: typeof rec[2] === 'number' ? rec[2] : undefined, seen: Number(rec[3]) || 0, fired: (rec[4] as Record<string, number>) || 0 });
          break;
        case 'F':
          fired = rec[1] as Record<string, number>;
          break;
        case 'd':
          loaded.get(String(rec[1]))?.delete(keyOf(rec[2]));
          break;
        case 'A': {
          const rule = String(rec[1]);
          const shape = this.rules.get(rule);
          if (!shape || savedRules[rule] !== shape.fingerprint) break; // the rule is gone or changed
          let windows = loaded.get(rule);
          if (!windows) loaded.set(rule, (windows = new Map()));
          decodeColumns(rule, shape.distinct, rec as ColumnRecord, windows, obj, keyOf);
          break;
        }
        case 'w':
        case 'a': {
          const rule = String(rec[1]);
          const key = keyOf(rec[2]);
          const shape = this.rules.get(rule);
          if (!shape || savedRules[rule] !== shape.fingerprint) break; // the rule is gone or changed
          let windows = loaded.get(rule);
          if (!windows) loaded.set(rule, (windows = new Map()));
          const existing = windows.get(key);
          if (rec[0] === 'a' && existing) appendDecoded(existing, rec[3] as EncodedWindow, obj);
          else windows.set(key, decodeWindow(rule, key, shape.distinct, rec[3] as EncodedWindow, obj));
          break;
        }
        default:
          throw new Error(`line ${n + 1}: unknown record ${JSON.stringify(rec[0])}`);
      }
    });
    for (const [rule, windows] of loaded) {
      const span = this.rules.get(rule)?.span ?? 0;
      for (const w of windows.values()) rebuildChain(w, span);
      this.windows.set(rule, windows);
    }
    for (const [id, s] of seqs) {
      const o = s.seq === undefined && !this.objects.has(id) ? undefined : obj(id);
      if (!o) continue;
      o.seq = s.seq;
      o.seen = s.seen;
      o.fired = s.fired ? new Map(Object.entries(s.fired)) : undefined;
    }
    for (const [rule, n] of Object.entries(fired)) if (typeof n === 'number' && n > 0) this.fired.set(rule, n);
    const drop = (o: CorrObject) => o.seq === undefined || o.seq > committedSeq;
    const dropped = [...this.objects.values()].filter(drop);
    for (const o of dropped) o.dropped = true;
    this.rollback(drop, dropped);
    for (const o of dropped) this.objects.delete(o.id);
    this.open.clear();
    // every object left was marked processed
    for (const o of this.objects.values()) {
      o.contributed = true;
      o.fired = undefined;
      o.settled = true;
    }
    for (const windows of this.windows.values()) {
      for (const w of windows.values()) {
        if (w.last > this.newest) this.newest = w.last;
        // every hit left is an object marked processed: it can no longer be undone
        if (w.firedBy) this.hits.push(w);
        else if (w.prev) w.prev = undefined;
      }
    }
    this.settle(committedSeq);
    this.prune(true);
    this.dirty = [];
    this.needSnapshot = true;
  }
}

function rebuildChain(w: Window, span: number): void {
  for (let x: Window | undefined = w; x; x = x.prev) rebuild(x, span);
}

function objectLine(o: CorrObject): string {
  return JSON.stringify(['o', o.id, o.dropped ? null : (o.seq ?? null), o.seen, o.fired ? Object.fromEntries(o.fired) : 0]) + '\n';
}

function firedLine(fired: Map<string, number>): string {
  return JSON.stringify(['F', Object.fromEntries(fired)]) + '\n';
}

/**
 * The saved state's format: 2 added multiplicities (`m`, the last column of 'A') and `null` for `SETTLED` in object
 * runs; 3 saves window keys as they are in memory (window-key.ts: addresses as numbers), where earlier versions saved
 * the values' text (read through `keyFromText`). Files of versions 1 and 2 are read; a restore saves version 3.
 */
const FORMAT_VERSION = 3;

/** An object run's id: `null` stands for `SETTLED`. */
type RunId = string | null;

/** A window on disk: times, record indexes, values, objects as runs [id, count, id, count…], multiplicities. */
interface EncodedWindow {
  t: number[];
  i: number[];
  v?: string[];
  o: (RunId | number)[];
  /** occurrences per contribution, when one stands for more than one */
  m?: number[];
  l: number;
  u?: number;
  f?: string;
  p?: EncodedWindow;
}

/**
 * Contributions added to many counting windows of one rule: ['A', rule, keys, counts, times, indexes, values (0
 * without different_field), object runs [id, count…] over all of them, newest times, fresh flags, multiplicities
 * (0 when each contribution is one occurrence)]. Reading it appends to each window (a fresh one replaces what was
 * read before for its key). Marks each window saved.
 */
type ColumnRecord = ['A', string, string[], number[], number[], number[], string[] | 0, (RunId | number)[], number[], number[], (number[] | 0)?];

/** Appends an object to runs [id, count…] (`prev`: the object appended last); returns it. */
function pushRun(runs: (RunId | number)[], o: CorrObject, prev: CorrObject | undefined): CorrObject {
  if (o === prev) runs[runs.length - 1] = (runs[runs.length - 1] as number) + 1;
  else runs.push(o === SETTLED ? null : o.id, 1);
  return o;
}

function encodeColumns(rule: string, list: Window[], from: (w: Window) => number, fresh: (w: Window) => boolean): string {
  const keys: string[] = [];
  const counts: number[] = [];
  const times: number[] = [];
  const idxs: number[] = [];
  const vals: string[] | undefined = list[0]?.differs ? [] : undefined;
  const runs: (RunId | number)[] = [];
  const lasts: number[] = [];
  const fresh01: number[] = [];
  const mults: number[] = [];
  let multiple = false;
  let prev: CorrObject | undefined;
  for (const w of list) {
    const n = count(w);
    const f = from(w);
    fresh01.push(fresh(w) ? 1 : 0);
    keys.push(w.key);
    w.filed = true;
    counts.push(n - f);
    lasts.push(w.last);
    for (let k = f; k < n; k++) {
      times.push(timeAt(w, k));
      idxs.push(idxAt(w, k));
      if (vals) vals.push(valAt(w, k));
      prev = pushRun(runs, objAt(w, k), prev);
      const m = multAt(w, k);
      if (m !== 1) multiple = true;
      mults.push(m);
    }
    w.saved = n;
  }
  const rec: ColumnRecord = ['A', rule, keys, counts, times, idxs, vals ?? 0, runs, lasts, fresh01, multiple ? mults : 0];
  return JSON.stringify(rec) + '\n';
}

function decodeColumns(rule: string, distinct: boolean, rec: ColumnRecord, windows: Map<string, Window>, obj: (id: string) => CorrObject, keyOf: (saved: string) => string): void {
  const [, , keys, counts, times, idxs, vals, runs, lasts, fresh, mults] = rec;
  const objs = decodeObjects({ t: [], i: [], o: runs, l: 0 }, obj);
  const total = counts.reduce((a, b) => a + b, 0);
  const multiple = Array.isArray(mults);
  if (keys.length !== counts.length || keys.length !== lasts.length || keys.length !== fresh?.length || times.length !== total || idxs.length !== total || objs.length !== total || (distinct && (!Array.isArray(vals) || vals.length !== total)) || (multiple && !validMults(mults, total))) {
    throw new Error(`contributions of rule ${rule} have different lengths`);
  }
  let at = 0;
  keys.forEach((saved, k) => {
    const key = keyOf(saved);
    const n = counts[k] as number;
    let w = fresh[k] ? undefined : windows.get(key);
    if (!w) windows.set(key, (w = newWindow(rule, key, distinct, lasts[k] as number, undefined)));
    for (let j = at; j < at + n; j++) addContribution(w, times[j] as number, objs[j] as CorrObject, idxs[j] as number, w.differs && Array.isArray(vals) ? (vals[j] as string) : '', multiple ? (mults[j] as number) : 1);
    if ((lasts[k] as number) > w.last) w.last = lasts[k] as number;
    at += n;
  });
}

function encodeWindow(w: Window, from: number, full: boolean): EncodedWindow {
  const n = count(w);
  const runs: (RunId | number)[] = [];
  const t: number[] = [];
  const i: number[] = [];
  const v: string[] = [];
  const m: number[] = [];
  let multiple = false;
  let prev: CorrObject | undefined;
  for (let k = from; k < n; k++) {
    prev = pushRun(runs, objAt(w, k), prev);
    t.push(timeAt(w, k));
    i.push(idxAt(w, k));
    if (w.differs) v.push(valAt(w, k));
    const mult = multAt(w, k);
    if (mult !== 1) multiple = true;
    m.push(mult);
  }
  const out: EncodedWindow = { t, i, o: runs, l: w.last };
  if (w.differs) out.v = v;
  if (multiple) out.m = m;
  if (!full) return out;
  if (w.until !== undefined) out.u = w.until;
  if (w.firedBy) out.f = w.firedBy.id;
  if (w.prev && w.prev.firedBy) out.p = encodeWindow(w.prev, w.prev.head, true);
  return out;
}

function decodeObjects(e: EncodedWindow, obj: (id: string) => CorrObject): CorrObject[] {
  const out: CorrObject[] = [];
  for (let k = 0; k + 1 < e.o.length; k += 2) {
    const id = e.o[k];
    const o = id === null ? SETTLED : obj(String(id));
    for (let c = Number(e.o[k + 1]); c > 0; c--) out.push(o);
  }
  return out;
}

function decodeWindow(rule: string, key: string, distinct: boolean, e: EncodedWindow, obj: (id: string) => CorrObject): Window {
  const prev = e.p ? decodeWindow(rule, key, distinct, e.p, obj) : undefined;
  const w = newWindow(rule, key, distinct, e.l, prev);
  appendDecoded(w, e, obj);
  w.last = e.l;
  if (e.u !== undefined) w.until = e.u;
  if (e.f !== undefined) w.firedBy = obj(e.f);
  return w;
}

function appendDecoded(w: Window, e: EncodedWindow, obj: (id: string) => CorrObject): void {
  const objs = decodeObjects(e, obj);
  if (objs.length !== e.t.length || e.i.length !== e.t.length || (w.differs && e.v?.length !== e.t.length) || (e.m !== undefined && !validMults(e.m, e.t.length))) throw new Error(`window ${w.rule} has contributions of different lengths`);
  for (let k = 0; k < objs.length; k++) addContribution(w, e.t[k] as number, objs[k] as CorrObject, e.i[k] as number, w.differs && e.v ? (e.v[k] as string) : '', e.m ? (e.m[k] as number) : 1);
  if (e.l > w.last) w.last = e.l;
}

/** Saved multiplicities: one per contribution, each a whole number of at least one. */
function validMults(m: unknown, n: number): m is number[] {
  return Array.isArray(m) && m.length === n && m.every((x) => Number.isInteger(x) && (x as number) >= 1);
}
