/**
 * Evaluates events against the rule tree with analysisd's semantics: siblings by level, highest first (the
 * order load-rules.ts gives them), a child is tried only after its parent matched, first match wins, the
 * deepest match is the result; level 0 never alerts; a `noalert` rule whose children all fail is no match.
 * Frequency rules (`frequency`/`timeframe`, keyed by `same_field`, `different_field` values differing from the
 * current one) keep bounded state; they fire again after `frequency` new occurrences, or once per window with
 * our `once_per_window` extension. That state (correlation-state.ts)
 * knows which object each occurrence came from, so an abandoned read is taken back, a re-read counts once,
 * and with `correlationDir` it is saved with each group commit and restored at start-up (correlation-file.ts).
 */
import { hostname } from 'node:os';
import type { Alert, AwsEvent, EventBatch, ObjectRef } from '../shared/events.js';
import type { FlowBatch } from '../decoders/vpcflow/flow-batch.js';
import { field, flatten, rawField, wazuhLog } from './fields.js';
import { listHolds } from './lists.js';
import type { CompiledRuleset } from './load-rules.js';
import type { FieldCondition, Rule } from './rule-types.js';
import { CorrelationState, newObject, type RuleShape } from './correlation-state.js';
import { CorrelationFile, CorrelationFileError } from './correlation-file.js';
import { windowKey } from './window-key.js';
import { ABSENT, correlate, joinValues, RecordCursor, timeOfRaw, type AnalysisCore, type OccurrenceFields } from './correlate.js';
import { buildAlert } from './alert.js';
import { conditionValue } from './engine-values.js';
import { FlowRules } from './flow-rules.js';
import { PartialCollector, type WindowPartial } from './window-partials.js';

/** a snapshot replaces the appended saves once they outgrow this and three times the last snapshot */
const SNAPSHOT_MIN_BYTES = 16 * 1024 * 1024;

export interface AnalyzerOptions {
  logAlertLevel: number;
  now?: () => Date;
  managerName?: string;
  /** keys kept per correlation rule (beyond: ended windows, then the earliest inserted not near firing, dropped) */
  maxKeysPerRule?: number;
  /** folder where `restoreCorrelation` / `persistCorrelation` keep the correlation state (none: memory only) */
  correlationDir?: string;
  /**
   * Frequency rules do not fire here: their occurrences are collected per object (`takePartials`) for the
   * indexer's correlator, which merges the windows of every worker (window-partials.ts)
   */
  deferWindows?: boolean;
}

/** What the correlation state must know of each frequency rule. */
function shapesOf(ruleset: CompiledRuleset): Map<string, RuleShape> {
  const shapes = new Map<string, RuleShape>();
  for (const rule of ruleset.rules.values()) {
    if (rule.frequency === undefined) continue;
    const fields = (paths: string[][]) => paths.map((p) => p.join('.')).join(',');
    // windows saved under the other way of firing are not restored (once per window kept its old fingerprint)
    const mode = rule.oncePerWindow ? '' : '/refire';
    shapes.set(rule.id, { span: (rule.timeframe ?? 0) * 1000, distinct: rule.differentField.length > 0, fingerprint: `${rule.frequency}/${rule.timeframe ?? 0}/${fields(rule.sameField)}/${fields(rule.differentField)}${mode}` });
  }
  return shapes;
}

/** `same_field` / `different_field` values of an event as one key; undefined when one is absent. */
function keyOf(paths: string[][], event: AwsEvent): string | undefined {
  if (paths.length === 0) return '';
  if (paths.length === 1) return field(event, paths[0]!);
  return joinValues(paths.map((p) => field(event, p)));
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


/** The frequency-rule fields of the event being analysed. */
class EventFields implements OccurrenceFields {
  event: AwsEvent = { integration: 'aws', aws: { log_info: { aws_account_alias: '', log_file: '', s3bucket: '' } } };
  readonly #now: () => Date;
  constructor(now: () => Date) {
    this.#now = now;
  }
  sameKey(rule: Rule): string | undefined {
    return keyOf(rule.sameField, this.event);
  }
  windowKey(rule: Rule): string | undefined {
    return windowKey(rule.sameField.map((p) => field(this.event, p)));
  }
  differentKey(rule: Rule): string {
    return keyOf(rule.differentField, this.event) ?? ABSENT;
  }
  log(): string {
    return wazuhLog(this.event);
  }
  time(rule: Rule): number {
    if (rule.timeField) {
      const t = timeOfRaw(rawField(this.event, rule.timeField));
      if (!Number.isNaN(t)) return t;
    }
    return this.#now().getTime();
  }
}

export class Analyzer {
  /** rules, options and correlation state, shared with the columnar path */
  readonly #core: AnalysisCore;
  readonly #shapes: Map<string, RuleShape>;
  readonly #cur = new RecordCursor();
  readonly #fields: EventFields;
  #fullLog: string | undefined;
  /** rules over FlowBatches (built at the first batch) */
  #flows: FlowRules | undefined;

  /** per field condition: its slot in #memo (conditions with the same key share one) */
  readonly #slots = new Map<FieldCondition, number>();
  /** answers of field conditions for the current event: 0 unknown, 1 true, 2 false, 3 absent */
  #memo: Uint8Array;
  /** the time `<time>`/`<weekday>` read for the current event (asked once per event) */
  #now: Date | undefined;

  constructor(ruleset: CompiledRuleset, opts: AnalyzerOptions) {
    const byKey = new Map<string, number>();
    for (const rule of ruleset.rules.values()) {
      for (const f of rule.fields) {
        let slot = byKey.get(f.key);
        if (slot === undefined) byKey.set(f.key, (slot = byKey.size));
        this.#slots.set(f, slot);
      }
    }
    this.#memo = new Uint8Array(byKey.size);
    this.#shapes = shapesOf(ruleset);
    const resolved = { logAlertLevel: opts.logAlertLevel, now: opts.now ?? (() => new Date()), managerName: opts.managerName ?? hostname(), maxKeysPerRule: opts.maxKeysPerRule ?? 50_000, correlationDir: opts.correlationDir };
    this.#core = { rs: ruleset, opts: resolved, state: new CorrelationState(this.#shapes), deferred: opts.deferWindows ? new PartialCollector() : undefined };
    this.#fields = new EventFields(resolved.now);
  }

  /**
   * Takes over the correlation state (frequency windows, quiet periods, fired counts) of the analyzer this one
   * replaces on a reload, for every rule that still exists with the same frequency and timeframe.
   */
  adoptState(previous: object): void {
    if (!(previous instanceof Analyzer)) return;
    // the whole state moves over, with the objects that fed it and the file it is saved to
    const st = previous.#core.state;
    for (const id of [...st.windows.keys()]) if (this.#shapes.get(id)?.fingerprint !== previous.#shapes.get(id)?.fingerprint) st.windows.delete(id);
    for (const id of [...st.fired.keys()]) if (!this.#core.rs.rules.has(id)) st.fired.delete(id);
    st.rules = this.#shapes;
    st.needSnapshot = true;
    this.#core.state = st;
    // occurrences of objects still being read stay with them
    if (this.#core.deferred && previous.#core.deferred) this.#core.deferred = previous.#core.deferred;
  }

  /** the rules this analyzer runs */
  get ruleset(): CompiledRuleset {
    return this.#core.rs;
  }

  /** Every record of `objectId` went through `analyze`: its contributions now carry `seq`. */
  objectDone(objectId: string, seq: number): void {
    this.#core.state.objectDone(objectId, seq);
  }

  /** The read of `objectId` was abandoned (it is read again from the start): take back what it added. */
  discardObject(objectId: string): void {
    this.#core.state.discard(objectId);
    this.#core.deferred?.discard(objectId);
  }

  /** With `deferWindows`: what `objectId` contributed to each frequency window, once it is read whole. */
  takePartials(objectId: string): WindowPartial[] {
    return this.#core.deferred?.take(objectId) ?? [];
  }

  /**
   * Saves what changed since the last save (a snapshot now and then) so the file holds every contribution of
   * objects up to `upToSeq`. `committedSeq` (the last object marked processed, from the state store) lets hits of
   * objects up to it forget how to be undone (without it they keep that); without a file, objects up to
   * `upToSeq` are taken as settled.
   */
  async persistCorrelation(upToSeq: number, committedSeq?: number): Promise<void> {
    const st = this.#core.state;
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
    const dir = this.#core.opts.correlationDir;
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
    this.#core.state = st;
    await file.replace(st.encodeAll());
  }

  /** Closes the correlation file (the state stays usable in memory). */
  async closeCorrelation(): Promise<void> {
    await this.#core.state.file?.close();
  }

  /** Runs every event of the batch; calls `emit` for each alert to write (level ≥ log_alert_level, not no_log). */
  analyze(batch: EventBatch, emit: (alert: Alert) => void): void {
    const events = batch.events;
    const { state, rs, opts } = this.#core;
    if (state.pending.length > 0) state.purge();
    const cur = this.#cur;
    cur.beginBatch(batch.object.objectId);
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as AwsEvent;
      this.#fullLog = undefined;
      this.#now = undefined;
      cur.beginRecord(batch.firstIndex + i);
      this.#memo.fill(0);
      const rule = this.#walk(rs.roots, event, undefined);
      if (!rule || rule.level === 0 || rule.noLog || rule.level < opts.logAlertLevel) continue;
      emit(buildAlert(this.#core, cur, rule, event, `${batch.object.objectId}-${batch.firstIndex + i}-${rule.id}`, this.#fullLog));
    }
  }

  /**
   * `analyze` over the records of a FlowBatch (VPC flow logs as columns): the same alerts, with field conditions
   * evaluated on the columns and an event built only for records that alert or that a rule must read whole.
   */
  analyzeFlows(object: ObjectRef, batch: FlowBatch, emit: (alert: Alert) => void): void {
    const st = this.#core.state;
    if (st.pending.length > 0) st.purge();
    (this.#flows ??= new FlowRules(this.#core)).analyze(object, batch, emit);
  }

  /** Why an event ends where it ends (for tld logtest). Correlation state is used and updated as in analyze. */
  explain(event: AwsEvent, id = 'logtest'): Explanation {
    const chain: Rule[] = [];
    const { rs, opts } = this.#core;
    const cur = this.#cur;
    this.#fullLog = undefined;
    this.#now = undefined;
    this.#memo.fill(0);
    // an event of its own, never taken back nor saved
    cur.beginBatch(id);
    cur.obj = newObject(id);
    cur.beginRecord(0);
    cur.dup = 1;
    const rule = this.#walk(rs.roots, event, chain);
    const out: Explanation = { fields: flatten(event), chain: chain.map((r) => r.id) };
    if (!rule) return { ...out, noAlert: 'no rule matched' };
    const alert = buildAlert(this.#core, cur, rule, event, `${id}-${rule.id}`, this.#fullLog);
    out.rule = { id: rule.id, level: rule.level, description: alert.rule.description, groups: rule.alertGroups, mitre: rule.mitre };
    if (rule.level === 0) out.noAlert = 'level 0 never alerts';
    else if (rule.noLog) out.noAlert = 'the rule has no_log: the event is stored but not written to alerts.json';
    else if (rule.level < opts.logAlertLevel) out.noAlert = `level ${rule.level} is below log_alert_level ${opts.logAlertLevel}`;
    else out.alert = alert;
    return out;
  }

  #walk(rules: Rule[], event: AwsEvent, chain: Rule[] | undefined): Rule | undefined {
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as Rule;
      if (!this.#matches(rule, event)) continue;
      if (rule.frequency !== undefined) {
        this.#fields.event = event;
        if (!correlate(this.#core, this.#cur, rule, this.#fields)) continue;
      }
      chain?.push(rule);
      const child = rule.children.length ? this.#walk(rule.children, event, chain) : undefined;
      if (child) return child;
      // noalert: the rule only leads to its children; without one, analysisd goes on with the next sibling
      if (rule.noAlert) {
        chain?.pop();
        continue;
      }
      return rule;
    }
    return undefined;
  }

  #matches(rule: Rule, event: AwsEvent): boolean {
    if (rule.never !== undefined) return false;
    if (rule.decodedAs !== undefined && rule.decodedAs !== 'json') return false;
    const memo = this.#memo;
    for (let i = 0; i < rule.fields.length; i++) {
      const f = rule.fields[i] as FieldCondition;
      const slot = this.#slots.get(f) as number;
      let answer = memo[slot] as number;
      if (answer === 0) {
        const v = conditionValue(f, event, this.#core.opts.managerName);
        answer = v === undefined ? 3 : f.test(v) ? 1 : 2;
        memo[slot] = answer;
      }
      // an absent field fails the condition, negated or not (rules.c returns before looking at `negate`)
      if (answer === 3 || (answer === 1) === f.negate) return false;
    }
    for (const l of rule.lists) if (!listHolds(l, field(event, l.path))) return false;
    if (rule.when.length) {
      const now = (this.#now ??= this.#core.opts.now());
      for (const w of rule.when) if (!w(now)) return false;
    }
    if (rule.match || rule.regex) {
      this.#fullLog ??= wazuhLog(event);
      if (rule.match && rule.match.re.test(this.#fullLog) === rule.match.negate) return false;
      if (rule.regex && rule.regex.re.test(this.#fullLog) === rule.regex.negate) return false;
    }
    return true;
  }
}
