/**
 * VPC Flow Logs (plain text): a header line names the columns, then one record per line, fields separated
 * by single spaces. Streaming: lines may span chunks. `-` means the field is absent (the key is omitted).
 * The header is not an event; a later header re-sets the columns; NODATA/SKIPDATA lines are kept as status
 * records. A header-less file is read with the default v2 format when its lines have exactly 14 fields.
 *
 * A line that cannot be read (field count differs from the header, text where the column holds a number,
 * longer than MAX_LINE_CHARS) is reported through `onRecordError` with its line number and skipped; without
 * a handler the object fails after the events before it (nothing is dropped unseen).
 *
 * Hot path: lines are scanned in place with indexOf (no split, no regex per data line); the converters of
 * each column are computed once per header.
 *
 * vpcflow buckets are read by column-decoder.ts (records as columns, same semantics, tested against this
 * decoder over every sample and randomized input); this one reads the flow logs of custom buckets and is the
 * reference for those tests.
 */
import { StringDecoder } from 'node:string_decoder';
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext, ObjectDecoder, RecordErrorInfo } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { compileDiscard, type DiscardTest } from '../discard.js';
import { DEFAULT_FORMAT, FieldKind, KNOWN_FIELDS, MAX_SECONDS, columnsFor, eventTemplate, isHeaderLine, isoSeconds, type Columns } from './fields.js';

/** A line longer than this (no newline in sight) is not a flow record: reported and skipped to its end. */
export const MAX_LINE_CHARS = 1 << 20;
const DASH = 45;
const CR = 13;

/** Digits-only text → number; -1 when the text is not a plain non-negative integer that fits a double exactly. */
function parseUint(text: string, from: number, to: number): number {
  if (to - from > 16 || to === from) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n <= Number.MAX_SAFE_INTEGER ? n : -1;
}

/** A field value quoted for a message: JSON-escaped (control characters visible), long values cut. */
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function startsWithKnownField(text: string, from: number, end: number): boolean {
  const sp = text.indexOf(' ', from);
  return KNOWN_FIELDS.has(text.slice(from, sp === -1 || sp > end ? end : sp));
}

export class VpcFlowDecoder implements ObjectDecoder {
  readonly #ctx: DecodeContext;
  readonly #text = new StringDecoder('utf8');
  readonly #discard: DiscardTest | undefined;
  /** the discard rule's field, when it names a single column (records are flat) */
  readonly #discardKey: string | undefined;
  #rest = '';
  #columns: Columns | undefined;
  /** column index tested by discard_regex under the current columns, -1 for none */
  #discardCol = -1;
  /** last converted time per column (consecutive records usually share start/end) */
  #lastSeconds: number[] = [];
  #lastIso: string[] = [];
  #lineNo = 0;
  #sawLine = false;
  /** inside an over-long line (already reported): everything up to the next newline is dropped */
  #skipping = false;
  /** a record error met without an `onRecordError` handler; thrown by the next call */
  #deferred: ObjectDecodeError | undefined;

  constructor(ctx: DecodeContext) {
    this.#ctx = ctx;
    if (ctx.discard) {
      this.#discard = compileDiscard(ctx.discard);
      this.#discardKey = ctx.discard.field.includes('.') ? undefined : ctx.discard.field;
    }
  }

  push(chunk: Buffer): AwsEvent[] {
    if (this.#deferred) throw this.#deferred;
    let decoded = this.#text.write(chunk);
    if (this.#skipping) {
      const nl = decoded.indexOf('\n');
      if (nl === -1) return [];
      this.#skipping = false;
      decoded = decoded.slice(nl + 1);
    }
    const text = this.#rest.length === 0 ? decoded : this.#rest + decoded;
    const out: AwsEvent[] = [];
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl !== -1 && !this.#deferred) {
      this.#handleLine(text, start, nl, out);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.#rest = start === 0 ? text : text.slice(start);
    if (this.#rest.length > MAX_LINE_CHARS && !this.#deferred) this.#overlong();
    return out;
  }

  end(): AwsEvent[] {
    if (this.#deferred) throw this.#deferred;
    const text = this.#skipping ? '' : this.#rest + this.#text.end();
    this.#rest = '';
    const out: AwsEvent[] = [];
    if (text.length > 0) this.#handleLine(text, 0, text.length, out);
    if (this.#deferred) throw this.#deferred;
    if (!this.#sawLine) throw new ObjectDecodeError('TLD_ERR_DECODE_EMPTY_OBJECT', 'the object holds no lines');
    return out;
  }

  /** The unfinished line passed MAX_LINE_CHARS: it is reported now and dropped up to its line break. */
  #overlong(): void {
    this.#lineNo++;
    this.#rest = '';
    this.#skipping = true;
    this.#tooLong();
  }

  /** Line `#lineNo` is longer than MAX_LINE_CHARS: before any header the object is no flow log; after, the line is skipped. */
  #tooLong(): void {
    if (this.#columns === undefined) {
      throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `line ${this.#lineNo} is longer than ${MAX_LINE_CHARS} characters and comes before any header line: not a flow log`);
    }
    this.#recordError(`longer than ${MAX_LINE_CHARS} characters`);
  }

  /** Reports line `#lineNo` as unreadable (skipped); without a handler the object fails at the next call. */
  #recordError(cause: string): void {
    const info: RecordErrorInfo = { cause };
    if (this.#ctx.onRecordError) this.#ctx.onRecordError(this.#lineNo, `${cause}; line skipped`, info);
    else this.#deferred ??= new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `line ${this.#lineNo}: ${cause}`);
  }

  #template: AwsEvent['aws'] = { log_info: { aws_account_alias: '', log_file: '', s3bucket: '' } };

  #setColumns(columns: Columns): void {
    this.#columns = columns;
    this.#lastSeconds = new Array<number>(columns.keys.length).fill(-1);
    this.#lastIso = new Array<string>(columns.keys.length).fill('');
    this.#discardCol = this.#discardKey === undefined ? -1 : columns.keys.indexOf(this.#discardKey);
    // every record of this header starts as a copy of one object with all its keys: one hidden class, fast
    // stores, fewer allocations than growing an object key by key
    this.#template = eventTemplate(columns.keys, this.#ctx.logInfo, this.#ctx.accountId);
  }

  #handleLine(text: string, from: number, to: number, out: AwsEvent[]): void {
    this.#lineNo++;
    if (to - from > MAX_LINE_CHARS) return this.#tooLong(); // its line break came in the same chunk as its end
    let end = to;
    if (end > from && text.charCodeAt(end - 1) === CR) end--;
    if (!this.#sawLine && end > from && text.charCodeAt(from) === 0xfeff) from++; // BOM
    if (end === from) return;
    this.#sawLine = true;
    const c0 = text.charCodeAt(from);
    // Data lines of the usual formats start with a digit (version) or '-'; field names start with a letter.
    if (this.#columns === undefined || (c0 >= 97 && c0 <= 122)) {
      // After the first header, a re-set must start with a documented field name: custom formats whose
      // records start with a letter (e.g. interface-id first) then cost one Set lookup per line, not a split.
      if (c0 >= 97 && c0 <= 122 && (this.#columns === undefined || startsWithKnownField(text, from, end))) {
        const tokens = text.slice(from, end).split(' ');
        if (isHeaderLine(tokens)) {
          this.#setColumns(columnsFor(tokens, true));
          return;
        }
      }
      if (this.#columns === undefined) this.#headerless(text, from, end, c0);
    }
    this.#record(text, from, end, this.#columns as Columns, out);
  }

  /** No header before the first data line: only the default format's 14 fields can be read safely. */
  #headerless(text: string, from: number, end: number, c0: number): void {
    const count = text.slice(from, end).split(' ').length;
    if (count === DEFAULT_FORMAT.length && c0 >= 48 && c0 <= 57) {
      this.#setColumns(columnsFor(DEFAULT_FORMAT, false));
      return;
    }
    throw new ObjectDecodeError(
      'TLD_ERR_DECODE_FORMAT',
      `line ${this.#lineNo} comes before any header line and has ${count} fields; without a header only the default ` +
        `format (14 fields) can be read. AWS writes the header as the first line of every flow-log file`,
    );
  }

  #record(text: string, from: number, end: number, columns: Columns, out: AwsEvent[]): void {
    const keys = columns.keys;
    const kinds = columns.kinds;
    const n = keys.length;
    const last = n - 1;
    const discardCol = this.#discardCol;
    let discardValue: string | undefined;
    const aws: AwsEvent['aws'] = { ...this.#template };
    let pos = from;
    for (let i = 0; i < n; i++) {
      let stop: number;
      if (i < last) {
        stop = text.indexOf(' ', pos);
        if (stop === -1 || stop >= end) return this.#mismatch(text, from, end, n, columns);
      } else {
        stop = end;
        const extra = text.indexOf(' ', pos);
        if (extra !== -1 && extra < end) return this.#mismatch(text, from, end, n, columns);
      }
      if (stop - pos === 1 && text.charCodeAt(pos) === DASH) {
        if (i === discardCol) discardValue = '-';
      } else {
        const kind = kinds[i];
        let value: string | number;
        if (kind === FieldKind.Text) value = text.slice(pos, stop);
        else {
          const num = parseUint(text, pos, stop);
          if (num < 0 || (kind === FieldKind.Time && num > MAX_SECONDS)) return this.#notANumber(text.slice(pos, stop), i, columns);
          if (kind === FieldKind.Int) value = num;
          else if (this.#lastSeconds[i] === num) value = this.#lastIso[i] as string;
          else {
            value = isoSeconds(num);
            this.#lastSeconds[i] = num;
            this.#lastIso[i] = value;
          }
        }
        aws[keys[i] as string] = value;
        if (i === discardCol) discardValue = kind === FieldKind.Time ? String(value) : text.slice(pos, stop);
      }
      pos = stop + 1;
    }
    if (discardValue !== undefined && this.#discard?.({ [this.#discardKey as string]: discardValue })) {
      this.#ctx.onDiscard?.();
      return;
    }
    out.push({ integration: 'aws', aws });
  }

  #mismatch(text: string, from: number, end: number, expected: number, columns: Columns): void {
    const count = text.slice(from, end).split(' ').length;
    const against = columns.fromHeader ? 'the header has' : 'the header-less default format has';
    this.#recordError(`${count} fields where ${against} ${expected}`);
  }

  #notANumber(value: string, column: number, columns: Columns): void {
    const name = columns.keys[column] as string;
    const wanted = columns.kinds[column] === FieldKind.Time ? 'Unix seconds' : 'a whole number';
    this.#recordError(`field ${column + 1} (${name}) is ${quote(value)}, not ${wanted}`);
  }
}
