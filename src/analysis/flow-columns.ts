/**
 * How rules read a FlowBatch: where a field path points (a column, something the same for every record of the
 * batch, or only the whole event), conditions as predicates over a column with their answers cached, and the
 * record's event built only when something needs it.
 *
 * Every answer is the answer the event path (engine.ts) gives on the materialized event, because each test
 * feeds a predicate exactly the text `field(event, path)` would give: a text column's dictionary entry, a
 * number's decimal text, a start/end's ISO text. Caching is only over equal inputs of a pure predicate:
 * - text: one answer per dictionary entry of the batch (never per record);
 * - numbers below 65,536 (ports, protocol, flags, version…): one answer per value, kept across batches;
 *   larger numbers (bytes, packets) are tested through their text;
 * - start/end: the answer of the last value (consecutive records usually share it).
 */
import type { AwsEvent } from '../shared/events.js';
import { FieldKind, isoSeconds } from '../decoders/vpcflow/fields.js';
import { entryText, type FlowBatch, type FlowLayout, type TextColumn } from '../decoders/vpcflow/flow-batch.js';
import { FlowEvents } from '../decoders/vpcflow/flow-events.js';
import { field, rawField, wazuhLog } from './fields.js';
import { timeOfRaw } from './correlate.js';

/** A path reads a column, a value shared by the batch (log_info, source, account, absent keys), or the whole event. */
export const COLUMN = 0;
export const CONSTANT = 1;
export const EVENT = 2;

/** Where `path` points in events of this layout; `col` for COLUMN. */
export function accessOf(path: readonly string[], layout: FlowLayout): { kind: number; col: number } {
  if (path[0] !== 'aws') return { kind: CONSTANT, col: -1 };
  if (path.length === 1) return { kind: EVENT, col: -1 }; // the whole `aws` object as JSON text
  const col = layout.keys.indexOf(path[1] as string);
  // not a column: the template (log_info, source, aws_account_id) answers; below a column a value is text or a
  // number, so nothing deeper exists (the template's undefined answers that too)
  if (col < 0 || path.length > 2) return { kind: CONSTANT, col: -1 };
  // a key twice in one header: the last present value wins, per record
  if (layout.keys.lastIndexOf(path[1] as string) !== col) return { kind: EVENT, col: -1 };
  return { kind: COLUMN, col };
}

/** Seconds up to the end of year 9999: their ISO text parses back to exactly seconds × 1000. */
const MAX_PLAIN_ISO = 253_402_300_799;

/** The batch being analysed and, for the current record only, its event and JSON (built on demand). */
export class BatchRows {
  batch: FlowBatch | undefined;
  #events: FlowEvents | undefined;
  #row = -1;
  #event: AwsEvent | undefined;
  #fullLog: string | undefined;
  #isoSeconds: number[] = [];
  #iso: string[] = [];

  begin(batch: FlowBatch): void {
    this.batch = batch;
    this.#events = undefined;
    this.#row = -1;
    this.#event = undefined;
    this.#isoSeconds = batch.layout.keys.map(() => -1);
    this.#iso = batch.layout.keys.map(() => '');
  }

  event(row: number): AwsEvent {
    if (row !== this.#row) {
      this.#row = row;
      this.#fullLog = undefined;
      this.#event = (this.#events ??= new FlowEvents(this.batch as FlowBatch)).event(row);
    }
    return this.#event as AwsEvent;
  }

  /** The record as Wazuh's log (what `<match>` and `<regex>` test and `full_log` holds). */
  fullLog(row: number): string {
    const event = this.event(row);
    return (this.#fullLog ??= wazuhLog(event));
  }

  /** The JSON when a rule already made it for this record. */
  fullLogIfMade(row: number): string | undefined {
    return row === this.#row ? this.#fullLog : undefined;
  }

  /** A column's value as the rules read it (`field`): text, a number's decimal text, start/end as ISO text. */
  text(col: number, row: number): string | undefined {
    const c = (this.batch as FlowBatch).columns[col]!;
    if (c.kind === FieldKind.Text) {
      const code = c.codes[row] as number;
      if (code === 0) return undefined;
      // an empty string is no value, as for `field` on the event
      const text = entryText(c, code);
      return text === '' ? undefined : text;
    }
    const v = c.values[row] as number;
    if (Number.isNaN(v)) return undefined;
    return c.kind === FieldKind.Int ? String(v) : this.iso(col, v);
  }

  /** An address column's value as its IPv4 number (a plain dotted quad); -1 for other values and columns. */
  ipv4(col: number, row: number): number {
    const c = (this.batch as FlowBatch).columns[col]!;
    if (c.kind !== FieldKind.Text || c.ipv4 === undefined) return -1;
    const code = c.codes[row] as number;
    return code === 0 ? -1 : (c.ipv4[code] as number);
  }

  iso(col: number, seconds: number): string {
    if (this.#isoSeconds[col] === seconds) return this.#iso[col] as string;
    const text = isoSeconds(seconds);
    this.#isoSeconds[col] = seconds;
    this.#iso[col] = text;
    return text;
  }

  /** A column's value as a frequency rule's time (ms), NaN when it gives none (as `timeOfRaw` on the event). */
  time(col: number, row: number): number {
    const c = (this.batch as FlowBatch).columns[col]!;
    if (c.kind === FieldKind.Text) {
      const code = c.codes[row] as number;
      return code === 0 ? NaN : Date.parse(entryText(c, code));
    }
    const v = c.values[row] as number;
    if (c.kind === FieldKind.Int || Number.isNaN(v)) return v * 1000;
    return v <= MAX_PLAIN_ISO ? v * 1000 : Date.parse(this.iso(col, v));
  }
}

/** A test on the current record. */
export interface RowTest {
  holds(row: number): boolean;
}

/** The predicate a condition applies to a field's text (undefined: the field is absent). */
export type TextPredicate = (text: string | undefined) => boolean;

/** A condition on one column, its answers cached per dictionary entry / small number / last time. */
export class ColumnTest implements RowTest {
  readonly col: number;
  readonly #kind: number;
  readonly #pred: TextPredicate;
  /** answers: 0 not asked yet, 1 holds, 2 does not */
  #absent = 0;
  #small: Uint8Array | undefined;
  #lastSeconds = NaN;
  #lastAnswer = false;
  #codes: Uint32Array = new Uint32Array(0);
  #column: TextColumn | undefined;
  #answers = new Uint8Array(0);
  #values: Float64Array = new Float64Array(0);

  constructor(col: number, kind: number, pred: TextPredicate) {
    this.col = col;
    this.#kind = kind;
    this.#pred = pred;
    if (kind === FieldKind.Int) this.#small = new Uint8Array(65_536);
  }

  begin(batch: FlowBatch): void {
    const c = batch.columns[this.col]!;
    if (c.kind === FieldKind.Text) {
      this.#codes = c.codes;
      this.#column = c;
      this.#answers = new Uint8Array(c.dict.length);
    } else this.#values = c.values;
  }

  holds(row: number): boolean {
    if (this.#kind === FieldKind.Text) {
      const code = this.#codes[row] as number;
      if (code === 0) return this.#absentHolds();
      let a = this.#answers[code] as number;
      if (a === 0) {
        const text = entryText(this.#column as TextColumn, code);
        this.#answers[code] = a = this.#pred(text === '' ? undefined : text) ? 1 : 2;
      }
      return a === 1;
    }
    const v = this.#values[row] as number;
    if (Number.isNaN(v)) return this.#absentHolds();
    if (this.#kind === FieldKind.Int) {
      if (v >= 65_536) return this.#pred(String(v));
      const small = this.#small as Uint8Array;
      let a = small[v] as number;
      if (a === 0) small[v] = a = this.#pred(String(v)) ? 1 : 2;
      return a === 1;
    }
    if (v !== this.#lastSeconds) {
      this.#lastSeconds = v;
      this.#lastAnswer = this.#pred(isoSeconds(v));
    }
    return this.#lastAnswer;
  }

  #absentHolds(): boolean {
    if (this.#absent === 0) this.#absent = this.#pred(undefined) ? 1 : 2;
    return this.#absent === 1;
  }
}

/** A condition on a path only the whole event answers: the record's event is built. */
export class EventTest implements RowTest {
  readonly #rows: BatchRows;
  readonly #path: string[];
  readonly #pred: TextPredicate;
  constructor(rows: BatchRows, path: string[], pred: TextPredicate) {
    this.#rows = rows;
    this.#path = path;
    this.#pred = pred;
  }
  holds(row: number): boolean {
    return this.#pred(field(this.#rows.event(row), this.#path));
  }
}

/** `<match>` / `<regex>`: tested on the record's JSON, which is built. */
export class FullLogTest implements RowTest {
  readonly #rows: BatchRows;
  readonly #re: RegExp;
  readonly #negate: boolean;
  constructor(rows: BatchRows, re: RegExp, negate: boolean) {
    this.#rows = rows;
    this.#re = re;
    this.#negate = negate;
  }
  holds(row: number): boolean {
    return this.#re.test(this.#rows.fullLog(row)) !== this.#negate;
  }
}

/** One path's value per record, for same_field / different_field keys and timefield. */
export class ValueReader {
  readonly #rows: BatchRows;
  readonly #path: string[];
  readonly #kind: number;
  readonly #col: number;
  #constText: string | undefined;
  #constTime = NaN;

  constructor(rows: BatchRows, path: string[], layout: FlowLayout) {
    this.#rows = rows;
    this.#path = path;
    const a = accessOf(path, layout);
    this.#kind = a.kind;
    this.#col = a.col;
  }

  /** A new batch: `template` is the event every record of the batch starts from (its shared values). */
  begin(template: AwsEvent): void {
    if (this.#kind !== CONSTANT) return;
    this.#constText = field(template, this.#path);
    this.#constTime = timeOfRaw(rawField(template, this.#path));
  }

  text(row: number): string | undefined {
    if (this.#kind === COLUMN) return this.#rows.text(this.#col, row);
    if (this.#kind === CONSTANT) return this.#constText;
    return field(this.#rows.event(row), this.#path);
  }

  /** The value as an IPv4 number when it is a plain dotted quad of an address column; -1 otherwise (read `text`). */
  ipv4(row: number): number {
    return this.#kind === COLUMN ? this.#rows.ipv4(this.#col, row) : -1;
  }

  /** ms, NaN when the value gives no time */
  time(row: number): number {
    if (this.#kind === COLUMN) return this.#rows.time(this.#col, row);
    if (this.#kind === CONSTANT) return this.#constTime;
    return timeOfRaw(rawField(this.#rows.event(row), this.#path));
  }
}
