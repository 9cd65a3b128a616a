/**
 * Evaluates events against the rule tree with Wazuh's semantics: roots in order, a child is tried only
 * after its parent matched, siblings in order (first match wins), the deepest match is the result; level 0
 * never alerts. Frequency rules (`frequency`/`timeframe`, keyed by `same_field`, counting distinct
 * `different_field` values) keep bounded state and fire once per window. That state (correlation-state.ts)
 * knows which object each occurrence came from, so an abandoned read is taken back, a re-read counts once,
 * and with `correlationDir` it is saved with each group commit and restored at start-up (correlation-file.ts).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Alert, AwsEvent, EventBatch } from '../shared/events.js';
import { field, fieldText, flatten, rawField } from './fields.js';
import { addressInList } from './lists.js';
import type { CompiledRuleset } from './load-rules.js';
import type { FieldCondition, Rule } from './rule-types.js';
import { APPENDED, CLEAN, CorrelationState, newWindow, type CorrObject, type RuleShape, type Window } from './correlation-state.js';
import { CorrelationFile, CorrelationFileError } from './correlation-file.js';

/** a snapshot replaces the appended saves once they outgrow this and three times the last snapshot */
const SNAPSHOT_MIN_BYTES = 16 * 1024 * 1024;

export interface AnalyzerOptions {
  logAlertLevel: number;
  now?: () => Date;
  managerName?: string;
  /** keys kept per correlation rule (oldest dropped beyond) */
  maxKeysPerRule?: number;
  /** folder where `restoreCorrelation` / `persistCorrelation` keep the correlation state (none: memory only) */
  correlationDir?: string;
}

/** What the correlation state must know of each frequency rule. */
function shapesOf(ruleset: CompiledRuleset): Map<string, RuleShape> {
  const shapes = new Map<string, RuleShape>();
  for (const rule of ruleset.rules.values()) {
    if (rule.frequency === undefined) continue;
    const fields = (paths: string[][]) => paths.map((p) => p.join('.')).join(',');
    shapes.set(rule.id, { span: (rule.timeframe ?? 0) * 1000, distinct: rule.differentField.length > 0, fingerprint: `${rule.frequency}/${rule.timeframe ?? 0}/${fields(rule.sameField)}/${fields(rule.differentField)}` });
  }
  return shapes;
}

/** `same_field` / `different_field` values of an event as one key (no array for the usual single field). */
function keyOf(paths: string[][], event: AwsEvent): string {
  if (paths.length === 1) return field(event, paths[0]!) ?? '';
  return paths.map((p) => field(event, p) ?? '').join('\u0000');
}

interface CorrelationHit {
  count: number;
  distinct: number;
  windowStart: number;
  key: string;
}

export interface Explanation {
  fields: Record<string, string>;
  /** rule ids from the root to the final match */
  chain: string[];
  rule?: { id: string; level: number; description: string; groups: string[]; mitre: string[] };
  alert?: Alert;
  /** why no alert was written, when none was */
  noAlert?: string;
}


/** `$(field)` in a description; numbers print as written (8.9, not Wazuh's "8.900000"). */
function interpolate(template: string, event: AwsEvent, extra: Record<string, string>): string {
  return template.replace(/\$\(([^)]+)\)/g, (_, name: string) => {
    if (extra[name] !== undefined) return extra[name];
    const raw = rawField(event, name.split('.'));
    return typeof raw === 'number' ? String(raw) : (fieldText(raw) ?? '');
  });
}

export class Analyzer {
  readonly #rs: CompiledRuleset;
  readonly #opts: Required<Omit<AnalyzerOptions, 'now' | 'correlationDir'>> & { now: () => Date; correlationDir: string | undefined };
  readonly #shapes: Map<string, RuleShape>;
  /** windows, quiet periods and fired counts, with the objects that fed them */
  #state: CorrelationState;
  /** the record being analysed: its object (looked up at its first use), id and index */
  #obj: CorrObject | undefined;
  #objectId = '';
  #idx = 0;
  /** whether the record already went through the frequency rules: 0 not asked yet, 1 no, 2 yes (counts once) */
  #dup = 0;
  #fullLog: string | undefined;
  #hit: CorrelationHit | undefined;

  /** per field condition: its slot in #memo (conditions with the same key share one) */
  readonly #slots = new Map<FieldCondition, number>();
  /** answers of field conditions for the current event: 0 unknown, 1 true, 2 false */
  #memo: Uint8Array;

  constructor(ruleset: CompiledRuleset, opts: AnalyzerOptions) {
    this.#rs = ruleset;
    const byKey = new Map<string, number>();
    for (const rule of ruleset.rules.values()) {
      for (const f of rule.fields) {
        let slot = byKey.get(f.key);
        if (slot === undefined) byKey.set(f.key, (slot = byKey.size));
        this.#slots.set(f, slot);
      }
    }
    this.#memo = new Uint8Array(byKey.size);
    this.#opts = { logAlertLevel: opts.logAlertLevel, now: opts.now ?? (() => new Date()), managerName: opts.managerName ?? hostname(), maxKeysPerRule: opts.maxKeysPerRule ?? 50_000, correlationDir: opts.correlationDir };
    this.#shapes = shapesOf(ruleset);
    this.#state = new CorrelationState(this.#shapes);
  }

  /**
   * Takes over the correlation state (frequency windows, quiet periods, fired counts) of the analyzer this one
   * replaces on a reload, for every rule that still exists with the same frequency and timeframe.
   */
  adoptState(previous: object): void {
    if (!(previous instanceof Analyzer)) return;
    // the whole state moves over, with the objects that fed it and the file it is saved to
    const st = previous.#state;
    for (const id of [...st.windows.keys()]) if (this.#shapes.get(id)?.fingerprint !== previous.#shapes.get(id)?.fingerprint) st.windows.delete(id);
    for (const id of [...st.fired.keys()]) if (!this.#rs.rules.has(id)) st.fired.delete(id);
    st.rules = this.#shapes;
    st.needSnapshot = true;
    this.#state = st;
  }

  /** Every record of `objectId` went through `analyze`: its contributions now carry `seq`. */
  objectDone(objectId: string, seq: number): void {
    this.#state.objectDone(objectId, seq);
  }

  /** The read of `objectId` was abandoned (it is read again from the start): take back what it added. */
  discardObject(objectId: string): void {
    this.#state.discard(objectId);
  }

  /**
   * Saves what changed since the last save (a snapshot now and then) so the file holds every contribution of
   * objects up to `upToSeq`. `committedSeq` (the last object marked processed, from the state store) lets hits of
   * objects up to it forget how to be undone (without it they keep that); without a file, objects up to
   * `upToSeq` are taken as settled.
   */
  async persistCorrelation(upToSeq: number, committedSeq?: number): Promise<void> {
    const st = this.#state;
    st.purge();
    const file = st.file;
    // in memory only nothing is restored: an object is settled once its group is durable
    const settledTo = file ? committedSeq : upToSeq;
    if (settledTo !== undefined) st.settle(settledTo);
    if (!file) {
      st.prune(false);
      return;
    }
    try {
      if (st.needSnapshot || file.journalBytes > Math.max(SNAPSHOT_MIN_BYTES, 3 * file.snapshotBytes)) {
        st.prune(true);
        await file.replace(st.encodeAll());
      } else {
        st.prune(false);
        await file.append(st.encodeChanges());
      }
    } catch (e) {
      st.needSnapshot = true; // the file may miss this save: the next one writes everything
      throw e;
    }
  }

  /**
   * At start-up, before anything is read: loads the saved state from `correlationDir`, taking back what objects
   * after `committedSeq` added (they were not marked processed and are read again), then saves it as a snapshot.
   */
  async restoreCorrelation(committedSeq: number): Promise<void> {
    const dir = this.#opts.correlationDir;
    if (dir === undefined) return;
    const { file, records } = await CorrelationFile.open(dir);
    const st = new CorrelationState(this.#shapes);
    try {
      st.load(records, committedSeq);
    } catch (e) {
      await file.close();
      throw new CorrelationFileError(`The correlation state ${file.path} cannot be read: ${(e as Error).message}. Move the file away to start with empty correlation windows (a port scan or brute force split across this restart may then go unreported).`, { cause: e });
    }
    st.file = file;
    st.track = true;
    this.#state = st;
    await file.replace(st.encodeAll());
  }

  /** Closes the correlation file (the state stays usable in memory). */
  async closeCorrelation(): Promise<void> {
    await this.#state.file?.close();
  }

  /** Runs every event of the batch; calls `emit` for each alert to write (level ≥ log_alert_level, not no_log). */
  analyze(batch: EventBatch, emit: (alert: Alert) => void): void {
    const events = batch.events;
    if (this.#state.pending.length > 0) this.#state.purge();
    this.#objectId = batch.object.objectId;
    this.#obj = undefined;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as AwsEvent;
      this.#fullLog = undefined;
      this.#hit = undefined;
      this.#idx = batch.firstIndex + i;
      this.#dup = 0;
      this.#memo.fill(0);
      const rule = this.#walk(this.#rs.roots, event, undefined);
      if (!rule || rule.level === 0 || rule.noLog || rule.level < this.#opts.logAlertLevel) continue;
      emit(this.#alert(rule, event, `${batch.object.objectId}-${batch.firstIndex + i}-${rule.id}`));
    }
  }

  /** Why an event ends where it ends (for tld logtest). Correlation state is used and updated as in analyze. */
  explain(event: AwsEvent, id = 'logtest'): Explanation {
    const chain: Rule[] = [];
    this.#fullLog = undefined;
    this.#hit = undefined;
    this.#memo.fill(0);
    // an event of its own, never taken back nor saved
    this.#objectId = id;
    this.#obj = { id, seq: undefined, seen: 0, contributed: false, fired: undefined, dropped: false };
    this.#idx = 0;
    this.#dup = 1;
    const rule = this.#walk(this.#rs.roots, event, chain);
    const out: Explanation = { fields: flatten(event), chain: chain.map((r) => r.id) };
    if (!rule) return { ...out, noAlert: 'no rule matched' };
    const alert = this.#alert(rule, event, `${id}-${rule.id}`);
    out.rule = { id: rule.id, level: rule.level, description: alert.rule.description, groups: rule.groups, mitre: rule.mitre };
    if (rule.level === 0) out.noAlert = 'level 0 never alerts';
    else if (rule.noLog) out.noAlert = 'the rule has no_log: the event is stored but not written to alerts.json';
    else if (rule.level < this.#opts.logAlertLevel) out.noAlert = `level ${rule.level} is below log_alert_level ${this.#opts.logAlertLevel}`;
    else out.alert = alert;
    return out;
  }

  #walk(rules: Rule[], event: AwsEvent, chain: Rule[] | undefined): Rule | undefined {
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as Rule;
      if (!this.#matches(rule, event)) continue;
      if (rule.frequency !== undefined && !this.#correlate(rule, event)) continue;
      chain?.push(rule);
      return rule.children.length ? (this.#walk(rule.children, event, chain) ?? rule) : rule;
    }
    return undefined;
  }

  #matches(rule: Rule, event: AwsEvent): boolean {
    if (rule.decodedAs !== undefined && rule.decodedAs !== 'json') return false;
    const memo = this.#memo;
    for (let i = 0; i < rule.fields.length; i++) {
      const f = rule.fields[i] as FieldCondition;
      const slot = this.#slots.get(f) as number;
      let answer = memo[slot] as number;
      if (answer === 0) {
        const v = field(event, f.path);
        answer = v !== undefined && f.test(v) ? 1 : 2;
        memo[slot] = answer;
      }
      if ((answer === 1) === f.negate) return false;
    }
    for (const l of rule.lists) {
      const v = field(event, l.path);
      let ok: boolean;
      switch (l.lookup) {
        case 'match_key':
          ok = v !== undefined && l.list.map.has(v);
          break;
        case 'not_match_key':
          ok = v === undefined || !l.list.map.has(v);
          break;
        case 'match_key_value':
        case 'not_match_key_value': {
          const val = v === undefined ? undefined : l.list.map.get(v);
          const hit = val !== undefined && (!l.check || l.check.test(val));
          ok = l.lookup === 'match_key_value' ? hit : !hit;
          break;
        }
        case 'address_match_key':
          ok = v !== undefined && addressInList(l.list, v);
          break;
        case 'not_address_match_key':
          ok = v === undefined || !addressInList(l.list, v);
          break;
      }
      if (!ok) return false;
    }
    if (rule.match || rule.regex) {
      this.#fullLog ??= JSON.stringify(event);
      if (rule.match && rule.match.re.test(this.#fullLog) === rule.match.negate) return false;
      if (rule.regex && rule.regex.re.test(this.#fullLog) === rule.regex.negate) return false;
    }
    return true;
  }

  #timeOf(rule: Rule, event: AwsEvent): number {
    if (rule.timeField) {
      const raw = rawField(event, rule.timeField);
      const t = typeof raw === 'string' ? Date.parse(raw) : typeof raw === 'number' ? raw * 1000 : NaN;
      if (!Number.isNaN(t)) return t;
    }
    return this.#opts.now().getTime();
  }

  /** Adds this occurrence to the rule's window for its same_field key; true when the threshold is reached. */
  #correlate(rule: Rule, event: AwsEvent): boolean {
    const st = this.#state;
    const o = (this.#obj ??= st.objectFor(this.#objectId));
    if (this.#dup === 0) {
      // a record of an object read again without being taken back first counts once
      if (this.#idx < o.seen) this.#dup = 2;
      else {
        this.#dup = 1;
        o.seen = this.#idx + 1;
      }
    }
    if (this.#dup === 2) return false;
    const key = keyOf(rule.sameField, event);
    const t = this.#timeOf(rule, event);
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
      if (windows.size >= this.#opts.maxKeysPerRule) this.#sweep(windows, t, span);
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
      value = keyOf(rule.differentField, event);
      distinct.delete(value); // re-insert: the map stays ordered by last sighting
      distinct.set(value, t);
      for (const [v, at] of distinct) {
        if (at >= t - span) break;
        distinct.delete(v);
      }
    }
    times.push(t);
    w.objs.push(o);
    w.idxs.push(this.#idx);
    w.vals?.push(value);
    o.contributed = true;
    if (st.track && w.dirty === CLEAN) {
      w.dirty = APPENDED;
      st.dirty.push(w);
    }
    const occurrences = times.length - w.head;
    const count = distinct ? distinct.size : occurrences;
    if (count < (rule.frequency ?? 1)) return false;
    this.#hit = { count: occurrences, distinct: distinct?.size ?? 0, windowStart: times[w.head] ?? t, key };
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
  #sweep(windows: Map<string, Window>, t: number, span: number): void {
    const limit = this.#opts.maxKeysPerRule;
    const st = this.#state;
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

  #alert(rule: Rule, event: AwsEvent, recordId: string): Alert {
    const fired = (this.#state.fired.get(rule.id) ?? 0) + 1;
    this.#state.fired.set(rule.id, fired);
    // counted per object too, so taking the object back takes its alerts out of firedtimes
    const o = (this.#obj ??= this.#state.objectFor(this.#objectId));
    o.fired ??= new Map();
    o.fired.set(rule.id, (o.fired.get(rule.id) ?? 0) + 1);
    const hit = rule.frequency !== undefined ? this.#hit : undefined;
    const extra: Record<string, string> = hit ? { count: String(hit.count), distinct: String(hit.distinct), window_start: new Date(hit.windowStart).toISOString() } : {};
    const id = hit ? `${rule.id}-${hit.windowStart}-${createHash('sha1').update(hit.key).digest('hex').slice(0, 12)}` : recordId;
    const alert: Alert = {
      timestamp: this.#opts.now().toISOString(),
      rule: {
        level: rule.level,
        description: interpolate(rule.description, event, extra),
        id: rule.id,
        firedtimes: fired,
        mail: false,
        groups: rule.groups,
        ...(rule.mitre.length ? { mitre: { id: rule.mitre } } : {}),
        ...(rule.frequency !== undefined ? { frequency: rule.frequency } : {}),
      },
      agent: { id: '000', name: this.#opts.managerName },
      manager: { name: this.#opts.managerName },
      id,
      decoder: { name: 'json' },
      data: event,
      location: 'Wazuh-AWS',
      ...(hit ? { correlation: { count: hit.count, distinct: hit.distinct, window_start: extra.window_start } } : {}),
    };
    if (!rule.noFullLog) alert.full_log = this.#fullLog ?? JSON.stringify(event);
    return alert;
  }
}
