/**
 * Evaluates events against the rule tree with Wazuh's semantics: roots in order, a child is tried only
 * after its parent matched, siblings in order (first match wins), the deepest match is the result; level 0
 * never alerts. Frequency rules (`frequency`/`timeframe`, keyed by `same_field`, counting distinct
 * `different_field` values) keep bounded state and fire once per window.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Alert, AwsEvent, EventBatch } from '../shared/events.js';
import { field, fieldText, flatten, rawField } from './fields.js';
import { addressInList } from './lists.js';
import type { CompiledRuleset } from './load-rules.js';
import type { FieldCondition, Rule } from './rule-types.js';

export interface AnalyzerOptions {
  logAlertLevel: number;
  now?: () => Date;
  managerName?: string;
  /** keys kept per correlation rule (oldest dropped beyond) */
  maxKeysPerRule?: number;
}

interface Window {
  /** occurrence times (ms), oldest first, from index `head` (dropping from the front is O(1)) */
  times: number[];
  head: number;
  /** distinct different_field values → last time seen, least recently seen first (rules with different_field) */
  distinct: Map<string, number> | undefined;
  /** newest occurrence (ms): a window whose newest occurrence left the timeframe is dropped by a sweep */
  last: number;
}

/**
 * Keeps a per-rule key map bounded: first drops entries older than `cutoff`; if that is not enough, the
 * earliest inserted, down to half the limit. Runs only when the map overflows, so it costs O(1) amortized.
 */
function sweep<V>(map: Map<string, V>, limit: number, stale: (v: V) => boolean): void {
  for (const [k, v] of map) if (stale(v)) map.delete(k);
  if (map.size <= limit * 0.9) return;
  for (const k of map.keys()) {
    if (map.size <= limit / 2) break;
    map.delete(k);
  }
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
  readonly #opts: Required<Omit<AnalyzerOptions, 'now'>> & { now: () => Date };
  readonly #windows = new Map<string, Map<string, Window>>();
  /** per rule: same_field key → time until which the rule stays quiet after firing */
  readonly #suppressed = new Map<string, Map<string, number>>();
  readonly #fired = new Map<string, number>();
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
    this.#opts = { logAlertLevel: opts.logAlertLevel, now: opts.now ?? (() => new Date()), managerName: opts.managerName ?? hostname(), maxKeysPerRule: opts.maxKeysPerRule ?? 50_000 };
  }

  /**
   * Takes over the correlation state (frequency windows, quiet periods, fired counts) of the analyzer this one
   * replaces on a reload, for every rule that still exists with the same frequency and timeframe.
   */
  adoptState(previous: object): void {
    if (!(previous instanceof Analyzer)) return;
    const kept = (id: string) => {
      const now = this.#rs.rules.get(id);
      const before = previous.#rs.rules.get(id);
      return now !== undefined && before !== undefined && now.frequency === before.frequency && now.timeframe === before.timeframe;
    };
    for (const [id, w] of previous.#windows) if (kept(id)) this.#windows.set(id, w);
    for (const [id, q] of previous.#suppressed) if (kept(id)) this.#suppressed.set(id, q);
    for (const [id, n] of previous.#fired) if (this.#rs.rules.has(id)) this.#fired.set(id, n);
  }

  /** Runs every event of the batch; calls `emit` for each alert to write (level ≥ log_alert_level, not no_log). */
  analyze(batch: EventBatch, emit: (alert: Alert) => void): void {
    const events = batch.events;
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as AwsEvent;
      this.#fullLog = undefined;
      this.#hit = undefined;
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
    const key = keyOf(rule.sameField, event);
    const t = this.#timeOf(rule, event);
    const span = (rule.timeframe ?? 0) * 1000;
    const limit = this.#opts.maxKeysPerRule;
    let quiet = this.#suppressed.get(rule.id);
    if (!quiet) this.#suppressed.set(rule.id, (quiet = new Map()));
    const until = quiet.get(key);
    if (until !== undefined && t < until) return false;
    let windows = this.#windows.get(rule.id);
    if (!windows) this.#windows.set(rule.id, (windows = new Map()));
    let w = windows.get(key);
    if (!w) {
      w = { times: [], head: 0, distinct: rule.differentField.length ? new Map() : undefined, last: t };
      if (windows.size >= limit) sweep(windows, limit, (x) => x.last < t - span);
      windows.set(key, w);
    } else if (t > w.last) w.last = t;
    // drop what fell out of the window (records arrive roughly, not strictly, in time order)
    const times = w.times;
    while (w.head < times.length && (times[w.head] as number) < t - span) w.head++;
    if (w.head > 64 && w.head * 2 > times.length) {
      times.splice(0, w.head);
      w.head = 0;
    }
    const distinct = w.distinct;
    if (distinct) {
      const value = keyOf(rule.differentField, event);
      distinct.delete(value); // re-insert: the map stays ordered by last sighting
      distinct.set(value, t);
      for (const [v, at] of distinct) {
        if (at >= t - span) break;
        distinct.delete(v);
      }
    }
    times.push(t);
    const occurrences = times.length - w.head;
    const count = distinct ? distinct.size : occurrences;
    if (count < (rule.frequency ?? 1)) return false;
    this.#hit = { count: occurrences, distinct: distinct?.size ?? 0, windowStart: times[w.head] ?? t, key };
    windows.delete(key);
    if (quiet.size >= limit) sweep(quiet, limit, (u) => u < t);
    quiet.set(key, t + Math.max(span, (rule.ignore ?? 0) * 1000));
    return true;
  }

  #alert(rule: Rule, event: AwsEvent, recordId: string): Alert {
    const fired = (this.#fired.get(rule.id) ?? 0) + 1;
    this.#fired.set(rule.id, fired);
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
