/**
 * The rules over FlowBatches (VPC flow logs as columns): the same tree walk as engine.ts (roots in order, a
 * child only after its parent, first match wins, deepest match is the result, frequency rules through
 * correlate.ts) with the same alerts, but
 * - conditions on a path the batch shares (integration, aws.source, log_info, the account…) are answered once
 *   per batch, and rules they rule out are cut from the tree the batch walks;
 * - conditions on a column are predicates over the column with cached answers (flow-columns.ts);
 * - `<match>`, `<regex>` and paths only the whole event answers build the record's event, as does an alert.
 * Rules are compiled once per header layout (a plan), the cut tree once per combination of batch-wide answers.
 */
import type { Alert, AwsEvent, ObjectRef } from '../shared/events.js';
import { eventTemplate } from '../decoders/vpcflow/fields.js';
import type { FlowBatch, FlowLayout } from '../decoders/vpcflow/flow-batch.js';
import { field } from './fields.js';
import { listHolds } from './lists.js';
import type { Rule } from './rule-types.js';
import { ABSENT, correlate, RecordCursor, type AnalysisCore, type OccurrenceFields } from './correlate.js';
import { conditionValue } from './engine-values.js';
import { buildAlert } from './alert.js';
import { ipv4PairKey, ipv4Part, keyPart } from './window-key.js';
import { BatchRows, COLUMN, CONSTANT, ColumnTest, EventTest, FullLogTest, ValueReader, accessOf, type RowTest, type TextPredicate } from './flow-columns.js';

/** A rule as one layout's batches see it. */
interface RulePlan {
  /** conditions on values the whole batch shares, asked once per batch */
  shared: ((template: AwsEvent) => boolean)[];
  /** conditions asked per record */
  tests: RowTest[];
}

/** A rule in the tree one batch walks: only rules its batch-wide values do not rule out. */
interface Node {
  rule: Rule;
  tests: RowTest[];
  children: Node[];
}

/** Layouts kept compiled (a header is usually shared by every object of a flow log). */
const MAX_PLANS = 64;

/** The frequency-rule fields of the record being analysed. */
class FlowFields implements OccurrenceFields {
  row = 0;
  readonly readers = new Map<Rule, { same: ValueReader[]; different: ValueReader[]; time: ValueReader | undefined }>();
  readonly #now: () => Date;
  readonly #rows: BatchRows;
  constructor(now: () => Date, rows: BatchRows) {
    this.#now = now;
    this.#rows = rows;
  }
  sameKey(rule: Rule): string | undefined {
    return this.#key(this.readers.get(rule)!.same);
  }
  /** window-key.ts: addresses from the batch's numbers (no text), two of them (the port scan's pair) in one call */
  windowKey(rule: Rule): string | undefined {
    const readers = this.readers.get(rule)!.same;
    const row = this.row;
    if (readers.length === 2) {
      const a = readers[0]!.ipv4(row);
      const b = readers[1]!.ipv4(row);
      if (a >= 0 && b >= 0) return ipv4PairKey(a, b);
    }
    let key = '';
    for (let i = 0; i < readers.length; i++) {
      const r = readers[i]!;
      const n = r.ipv4(row);
      let part: string;
      if (n >= 0) part = ipv4Part(n);
      else {
        const text = r.text(row);
        if (text === undefined) return undefined;
        part = keyPart(text);
      }
      key = i === 0 ? part : `${key}\u0000${part}`;
    }
    return key;
  }
  differentKey(rule: Rule): string {
    return this.#key(this.readers.get(rule)!.different) ?? ABSENT;
  }
  log(): string {
    return this.#rows.fullLog(this.row);
  }
  time(rule: Rule): number {
    const reader = this.readers.get(rule)!.time;
    if (reader) {
      const t = reader.time(this.row);
      if (!Number.isNaN(t)) return t;
    }
    return this.#now().getTime();
  }
  /** the values joined (as joinValues, without an array per record); undefined when one is absent */
  #key(readers: ValueReader[]): string | undefined {
    if (readers.length === 0) return '';
    let key = readers[0]!.text(this.row);
    for (let i = 1; i < readers.length && key !== undefined; i++) {
      const v = readers[i]!.text(this.row);
      key = v === undefined ? undefined : `${key}\u0000${v}`;
    }
    return key;
  }
}

/** Every rule compiled against one layout's columns. */
class LayoutPlan {
  readonly rows = new BatchRows();
  readonly fields: FlowFields;
  readonly #core: AnalysisCore;
  readonly #layout: FlowLayout;
  readonly #rules = new Map<Rule, RulePlan>();
  readonly #columnTests = new Map<string, ColumnTest>();
  readonly #readers: ValueReader[] = [];
  /** cut trees by the batch-wide answers of every rule */
  readonly #trees = new Map<string, Node[]>();

  constructor(core: AnalysisCore, layout: FlowLayout) {
    this.#core = core;
    this.#layout = layout;
    this.fields = new FlowFields(core.opts.now, this.rows);
    for (const rule of core.rs.rules.values()) {
      this.#rules.set(rule, this.#compile(rule));
      if (rule.frequency === undefined) continue;
      const reader = (p: string[]) => {
        const r = new ValueReader(this.rows, p, layout);
        this.#readers.push(r);
        return r;
      };
      this.fields.readers.set(rule, { same: rule.sameField.map(reader), different: rule.differentField.map(reader), time: rule.timeField ? reader(rule.timeField) : undefined });
    }
  }

  #compile(rule: Rule): RulePlan {
    const plan: RulePlan = { shared: [], tests: [] };
    if (rule.never !== undefined) plan.shared.push(() => false);
    if (rule.decodedAs !== undefined && rule.decodedAs !== 'json') plan.shared.push(() => false);
    // <time>/<weekday>: asked once per batch (the event path asks per record; a batch is read in milliseconds)
    const { now, managerName } = this.#core.opts;
    if (rule.when.length) plan.shared.push(() => rule.when.every((w) => w(now())));
    const on = (path: string[], pred: TextPredicate, key: string) => {
      const a = accessOf(path, this.#layout);
      if (a.kind === CONSTANT) plan.shared.push((template) => pred(field(template, path)));
      else if (a.kind === COLUMN) {
        let t = this.#columnTests.get(key);
        if (!t) this.#columnTests.set(key, (t = new ColumnTest(a.col, this.#layout.kinds[a.col] as number, pred)));
        plan.tests.push(t);
      } else plan.tests.push(new EventTest(this.rows, path, pred));
    };
    for (const f of rule.fields) {
      // an absent value fails the condition, negated or not
      const pred: TextPredicate = (v) => v !== undefined && f.test(v) !== f.negate;
      // location, hostname and top-level static fields are the same for every record of a batch
      if (f.fixed !== undefined || f.alt !== undefined) plan.shared.push((template) => pred(conditionValue(f, template, managerName)));
      else on(f.path, pred, `f\u0000${f.key}\u0000${f.negate}`);
    }
    rule.lists.forEach((l, i) => on(l.path, (v) => listHolds(l, v), `l\u0000${rule.id}\u0000${i}`));
    if (rule.match) plan.tests.push(new FullLogTest(this.rows, rule.match.re, rule.match.negate));
    if (rule.regex) plan.tests.push(new FullLogTest(this.rows, rule.regex.re, rule.regex.negate));
    return plan;
  }

  /** Prepares for `batch`; returns the roots of the tree its records walk. */
  begin(batch: FlowBatch): Node[] {
    this.rows.begin(batch);
    for (const t of this.#columnTests.values()) t.begin(batch);
    const template: AwsEvent = { integration: 'aws', aws: eventTemplate(batch.layout.keys, batch.logInfo, batch.accountId) };
    for (const r of this.#readers) r.begin(template);
    let signature = '';
    const live = new Set<Rule>();
    for (const [rule, plan] of this.#rules) {
      const ok = plan.shared.every((holds) => holds(template));
      if (ok) live.add(rule);
      signature += ok ? '1' : '0';
    }
    let roots = this.#trees.get(signature);
    if (!roots) {
      const nodes = new Map<Rule, Node>();
      const nodeOf = (rule: Rule): Node => {
        let n = nodes.get(rule);
        if (n) return n;
        nodes.set(rule, (n = { rule, tests: this.#rules.get(rule)!.tests, children: [] }));
        // filled after the node is known: a rule reached through several parents (or a cycle) is one node
        for (const child of rule.children) if (live.has(child)) n.children.push(nodeOf(child));
        return n;
      };
      roots = this.#core.rs.roots.filter((r) => live.has(r)).map(nodeOf);
      this.#trees.set(signature, roots);
    }
    return roots;
  }
}

export class FlowRules {
  readonly #core: AnalysisCore;
  readonly #cur = new RecordCursor();
  readonly #plans = new Map<string, LayoutPlan>();

  constructor(core: AnalysisCore) {
    this.#core = core;
  }

  analyze(object: ObjectRef, batch: FlowBatch, emit: (alert: Alert) => void): void {
    const plan = this.#planFor(batch.layout);
    const roots = plan.begin(batch);
    const cur = this.#cur;
    const rows = plan.rows;
    const minLevel = this.#core.opts.logAlertLevel;
    cur.beginBatch(object.objectId);
    for (let row = 0; row < batch.length; row++) {
      cur.beginRecord(batch.firstIndex + row);
      plan.fields.row = row;
      const rule = this.#walk(roots, row, plan);
      if (!rule || rule.level === 0 || rule.noLog || rule.level < minLevel) continue;
      emit(buildAlert(this.#core, cur, rule, rows.event(row), `${object.objectId}-${batch.firstIndex + row}-${rule.id}`, rows.fullLogIfMade(row)));
    }
  }

  #planFor(layout: FlowLayout): LayoutPlan {
    let plan = this.#plans.get(layout.signature);
    if (!plan) {
      if (this.#plans.size >= MAX_PLANS) this.#plans.clear();
      this.#plans.set(layout.signature, (plan = new LayoutPlan(this.#core, layout)));
    }
    return plan;
  }

  #walk(nodes: Node[], row: number, plan: LayoutPlan): Rule | undefined {
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as Node;
      const tests = node.tests;
      let ok = true;
      for (let k = 0; k < tests.length && ok; k++) ok = (tests[k] as RowTest).holds(row);
      if (!ok) continue;
      const rule = node.rule;
      if (rule.frequency !== undefined && !correlate(this.#core, this.#cur, rule, plan.fields)) continue;
      const child = node.children.length ? this.#walk(node.children, row, plan) : undefined;
      if (child) return child;
      if (rule.noAlert) continue; // noalert: no match unless a child matched (as engine.ts)
      return rule;
    }
    return undefined;
  }
}
