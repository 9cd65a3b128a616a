/**
 * Frequency windows across processes (docs/architecture.md "Workers on a queue"): with the indexer as the store,
 * several workers read the objects of one window, so none of them may fire it alone. A worker's analyzer then
 * runs with `deferWindows`: a frequency rule's occurrence is not counted in a local window but kept here, per
 * object and per (rule, same_field key), and handed to the store with the object's other documents
 * (`takePartials` at `objectDone`). The correlator (src/indexer/window-correlator.ts) merges the partials of a
 * rule and key from every worker and replays them with `replayWindows`, which feeds them through the very same
 * `correlate` as the single process, on a fresh state: no second window algorithm.
 */
import type { Alert, AwsEvent } from '../shared/events.js';
import type { CompiledRuleset } from './load-rules.js';
import type { Rule } from './rule-types.js';
import { correlate, RecordCursor, type AnalysisCore, type CorrelationHit, type OccurrenceFields } from './correlate.js';
import { CorrelationState } from './correlation-state.js';
import { buildAlert } from './alert.js';
import { keyFromText } from './window-key.js';

/** One occurrence of a frequency rule: what `correlate` reads of its record, and where the record is. */
export interface Occurrence {
  /** the record's time for the rule (ms) */
  t: number;
  objectId: string;
  /** record index in its object */
  idx: number;
  /** `different_field` values as one key ('' when the rule has none; ABSENT when a value is absent) */
  value: string;
  /**
   * the record as Wazuh's log (full_log, previous_output, and the alert's event when this one fires); '' when it
   * cannot complete a window (PartialCollector.add)
   */
  log: string;
}

/** What one object contributed to one (rule, same_field key): written as one document. */
export interface WindowPartial {
  ruleId: string;
  key: string;
  /** in record order */
  occurrences: Occurrence[];
}

/** The occurrences of objects being read, until `take` (object finished) or `discard` (read abandoned). */
export class PartialCollector {
  /** object id → (rule id, key) → partial */
  readonly #byObject = new Map<string, Map<string, WindowPartial & { seen?: Set<string> }>>();

  /**
   * Adds an occurrence; `log` is asked only when the occurrence may complete a window. For a once-per-window rule
   * with `different_field`, an occurrence with the time and value of an earlier one of the same partial never
   * can: whatever the merged order, that earlier one is in the same window (same time: same quiet period, not
   * expired) with the same value, so the distinct count does not grow. Such records are common (VPC records of
   * one capture window share their start; a scanner retries a port) and their logs would be most of the bytes.
   */
  add(objectId: string, rule: Rule, key: string, t: number, idx: number, value: string, log: () => string): void {
    let parts = this.#byObject.get(objectId);
    if (!parts) this.#byObject.set(objectId, (parts = new Map()));
    const k = `${rule.id}\u0000${key}`;
    let p = parts.get(k);
    if (!p) parts.set(k, (p = { ruleId: rule.id, key, occurrences: [] }));
    // a record seen again (an object read twice without being taken back) counts once, as in correlate
    const last = p.occurrences[p.occurrences.length - 1];
    if (last !== undefined && last.idx >= idx) return;
    let needsLog = true;
    if (rule.oncePerWindow && rule.differentField.length > 0) {
      const tv = `${t}\u0000${value}`;
      const seen = (p.seen ??= new Set());
      needsLog = !seen.has(tv);
      seen.add(tv);
    }
    p.occurrences.push({ t, objectId, idx, value, log: needsLog ? log() : '' });
  }

  take(objectId: string): WindowPartial[] {
    const parts = this.#byObject.get(objectId);
    this.#byObject.delete(objectId);
    return parts ? [...parts.values()].map(({ ruleId, key, occurrences }) => ({ ruleId, key, occurrences })) : [];
  }

  discard(objectId: string): void {
    this.#byObject.delete(objectId);
  }
}

/**
 * The deterministic order occurrences of several objects are replayed in: time, then object id, then record
 * index. Whichever worker merges them, and in whatever order their partials arrived, the windows come out alike.
 */
export function compareOccurrences(a: Occurrence, b: Occurrence): number {
  return a.t - b.t || (a.objectId < b.objectId ? -1 : a.objectId > b.objectId ? 1 : 0) || a.idx - b.idx;
}

/** A window that fired: the occurrence that completed it (index into the replayed list) and the hit. */
export interface WindowFiring {
  at: number;
  hit: CorrelationHit;
}

/** The replayed occurrence as `correlate` reads it. */
class ReplayFields implements OccurrenceFields {
  o: Occurrence | undefined;
  readonly key: string;
  readonly #windowKey: string;
  constructor(key: string) {
    this.key = key;
    this.#windowKey = keyFromText(key);
  }
  sameKey(): string {
    return this.key;
  }
  windowKey(): string {
    return this.#windowKey;
  }
  time(): number {
    return this.o!.t;
  }
  differentKey(): string {
    return this.o!.value;
  }
  log(): string {
    return this.o!.log;
  }
}

/**
 * Every window of `rule` and `key` that fires over `occurrences` (sorted with `compareOccurrences`), through
 * `correlate` on a state of its own: the same answers as one analyzer reading the records in that order.
 * `core` gives the options (and receives the replay's state); see `replayCore`.
 */
export function replayWindows(core: AnalysisCore, rule: Rule, key: string, occurrences: readonly Occurrence[]): WindowFiring[] {
  const cur = new RecordCursor();
  const fields = new ReplayFields(key);
  const out: WindowFiring[] = [];
  for (let i = 0; i < occurrences.length; i++) {
    const o = occurrences[i]!;
    fields.o = o;
    cur.beginBatch(o.objectId);
    cur.beginRecord(o.idx);
    // the records are counted here once by construction (each partial lists a record once): no re-read check
    cur.dup = 1;
    if (correlate(core, cur, rule, fields)) out.push({ at: i, hit: cur.hit! });
  }
  return out;
}

/** A fresh analysis core for one replay (its state starts empty; `fired` counts the replay's alerts). */
export function replayCore(rs: CompiledRuleset, opts: { logAlertLevel: number; managerName: string; now: () => Date }): AnalysisCore {
  return { rs, opts: { ...opts, maxKeysPerRule: Number.MAX_SAFE_INTEGER, correlationDir: undefined }, state: new CorrelationState(new Map()) };
}

/** An alert of a replayed window, with the record that completed it. */
export interface ReplayedAlert {
  alert: Alert;
  occurrence: Occurrence;
}

/**
 * The alerts the windows of `rule` and `key` raise over `occurrences` (sorted): Wazuh's alert shape, built by
 * alert.ts from the completing record's event (its log parsed back: the log is the event as JSON), with the
 * single process's alert id (rule, window start, key). None when the rule does not log (level, no_log).
 */
export function replayAlerts(core: AnalysisCore, rule: Rule, key: string, occurrences: readonly Occurrence[]): ReplayedAlert[] {
  if (rule.level === 0 || rule.noLog || rule.level < core.opts.logAlertLevel) return [];
  const out: ReplayedAlert[] = [];
  const cur = new RecordCursor();
  for (const f of replayWindows(core, rule, key, occurrences)) {
    let o = occurrences[f.at]!;
    // (cannot happen, see PartialCollector.add: then the record of the same time and value that kept its log)
    if (o.log === '') o = occurrences.find((x) => x.log !== '' && x.t === o.t && x.value === o.value && x.objectId === o.objectId) ?? o;
    let event: AwsEvent;
    try {
      event = JSON.parse(o.log) as AwsEvent;
    } catch {
      // a number JSON cannot hold (NaN) in the log: the alert keeps its log, without `data`
      event = { integration: 'aws' } as AwsEvent;
    }
    cur.beginBatch(o.objectId);
    cur.beginRecord(o.idx);
    cur.hit = f.hit;
    out.push({ alert: buildAlert(core, cur, rule, event, `${o.objectId}-${o.idx}-${rule.id}`, o.log), occurrence: o });
  }
  return out;
}
