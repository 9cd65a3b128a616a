/**
 * VPC Flow Logs read straight from the bytes into FlowBatches (flow-batch.ts), with exactly the semantics of
 * the event decoder (decode.ts): header detection and re-set, header-less default format, BOM, CRLF, `-`
 * absent, NODATA/SKIPDATA records, discard_regex, the same record errors (messages, line numbers), chunks split
 * anywhere (mid-line, mid-UTF-8 sequence), an empty object as an error. `flow-events.ts` turns a row back into
 * the event decode.ts would have produced.
 *
 * Hot path: each line is scanned once, field by field: digits become numbers as they are read, text is hashed
 * as it is read and interned per batch (a string only for a text the batch has not seen). Only lines starting
 * with a lowercase letter (a possible header) or a line break, and the first lines of an object, take the slow
 * path through a string.
 *
 * A batch ends at a header that re-sets the columns, at `batchRows` rows, at `flush()` and at `end()`. Without
 * an `onRecordError` handler each push ends its batch, so the records before a bad line reach the caller before
 * the object fails (as with decode.ts).
 */
import { StringDecoder } from 'node:string_decoder';
import type { DecodeContext, RecordErrorInfo } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { compileDiscard, type DiscardTest } from '../discard.js';
import { MAX_LINE_CHARS } from './decode.js';
import { DEFAULT_FORMAT, FieldKind, KNOWN_FIELDS, MAX_SECONDS, columnsFor, isHeaderLine, isoSeconds } from './fields.js';
import { DEFAULT_BATCH_ROWS, layoutOf, type FlowBatch, type FlowLayout } from './flow-batch.js';
import { ADDRESS, BatchBuilder, type TextInterner } from './batch-builder.js';

export interface FlowDecodeOptions {
  /** rows per batch at most (default DEFAULT_BATCH_ROWS) */
  batchRows?: number;
  /**
   * rows the first batch makes room for at once (it grows past them by doubling): the rows of the previous object
   * of the same flow log are a good guess (default 256)
   */
  rowsHint?: number;
}

const NL = 10;
const CR = 13;
const SPACE = 32;
const DASH = 45;
const DOT = 46;
/** scan outcomes */
const OK = 0;
const MISMATCH = 1;
const NOT_A_NUMBER = 2;

/** A field value quoted for a message: JSON-escaped (control characters visible), long values cut. */
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function spacesIn(buf: Uint8Array, from: number, end: number): number {
  let n = 0;
  for (let p = from; p < end; p++) if (buf[p] === SPACE) n++;
  return n;
}

function startsWithKnownField(buf: Buffer, from: number, end: number): boolean {
  let sp = from;
  while (sp < end && buf[sp] !== SPACE) sp++;
  return KNOWN_FIELDS.has(buf.toString('latin1', from, sp));
}

export class VpcColumnDecoder {
  readonly #ctx: DecodeContext;
  readonly #batchRows: number;
  readonly #rowsHint: number | undefined;
  readonly #discard: DiscardTest | undefined;
  /** the discard rule's field, when it names a single column (records are flat) */
  readonly #discardKey: string | undefined;
  #layout: FlowLayout | undefined;
  #b: BatchBuilder | undefined;
  /** record index (within the object) of the builder's first row */
  #firstIndex = 0;
  /** column tested by discard_regex, -1 for none; its answers per dictionary code (1 keep, 2 drop) */
  #discardCol = -1;
  #discardAnswers: number[] = [];
  /** the unfinished last line of the bytes so far (made at the first line split between chunks) */
  #carry = Buffer.alloc(0);
  #carryLen = 0;
  #lineNo = 0;
  #sawLine = false;
  /** inside an over-long line (already reported): everything up to the next newline is dropped */
  #skipping = false;
  /** a record error met without an `onRecordError` handler; thrown by the next call */
  #deferred: ObjectDecodeError | undefined;
  /** set by #scan: the line break ending the line, and the bounds of the unreadable / discard field */
  #nl = 0;
  #errCol = 0;
  #errStart = 0;
  #errEnd = 0;
  #discStart = 0;
  #discEnd = 0;

  constructor(ctx: DecodeContext, opts: FlowDecodeOptions = {}) {
    this.#ctx = ctx;
    this.#batchRows = Math.max(1, opts.batchRows ?? DEFAULT_BATCH_ROWS);
    this.#rowsHint = opts.rowsHint === undefined ? undefined : Math.min(this.#batchRows, Math.max(1, opts.rowsHint));
    if (ctx.discard) {
      this.#discard = compileDiscard(ctx.discard);
      this.#discardKey = ctx.discard.field.includes('.') ? undefined : ctx.discard.field;
    }
  }

  /** Reads a chunk; returns the batches completed by it (possibly none). */
  push(chunk: Uint8Array): FlowBatch[] {
    if (this.#deferred) throw this.#deferred;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: FlowBatch[] = [];
    const n = buf.length;
    let pos = 0;
    if (this.#skipping) {
      const nl = buf.indexOf(NL);
      if (nl === -1) return out;
      this.#skipping = false;
      pos = nl + 1;
    }
    if (this.#carryLen > 0 && pos < n) {
      const nl = buf.indexOf(NL, pos);
      this.#append(buf, pos, nl === -1 ? n : nl + 1);
      pos = nl === -1 ? n : nl + 1;
      if (nl !== -1) {
        this.#line(this.#carry, 0, out);
        this.#carryLen = 0;
      }
    }
    if (pos < n && !this.#deferred) {
      const last = buf.lastIndexOf(NL);
      for (let s = pos; s <= last && !this.#deferred; ) s = this.#line(buf, s, out) + 1;
      if (last >= pos) pos = last + 1;
      if (!this.#deferred) this.#append(buf, pos, n);
    }
    if (this.#carryLen > MAX_LINE_CHARS && !this.#deferred) this.#overlong();
    if (!this.#ctx.onRecordError) this.#finishBatch(out);
    return out;
  }

  /** The rows read so far as a batch (none when there are none); reading goes on. */
  flush(): FlowBatch[] {
    const out: FlowBatch[] = [];
    this.#finishBatch(out);
    return out;
  }

  /** The object is complete: its last line and the rows not yet returned. Throws ObjectDecodeError. */
  end(): FlowBatch[] {
    if (this.#deferred) throw this.#deferred;
    const out: FlowBatch[] = [];
    if (!this.#skipping && this.#carryLen > 0) {
      this.#append(Buffer.of(NL), 0, 1);
      this.#line(this.#carry, 0, out);
    }
    this.#carryLen = 0;
    if (this.#deferred) throw this.#deferred;
    if (!this.#sawLine) throw new ObjectDecodeError('TLD_ERR_DECODE_EMPTY_OBJECT', 'the object holds no lines');
    this.#finishBatch(out, false);
    return out;
  }

  #append(buf: Buffer, from: number, to: number): void {
    const need = this.#carryLen + (to - from);
    if (need > this.#carry.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#carry.length * 2, 1024));
      this.#carry.copy(grown, 0, 0, this.#carryLen);
      this.#carry = grown;
    }
    buf.copy(this.#carry, this.#carryLen, from, to);
    this.#carryLen = need;
  }

  /** Ends the batch being built (if it has rows); `more`: rows may follow (not at the object's end). */
  #finishBatch(out: FlowBatch[], more = true): void {
    const b = this.#b;
    if (b === undefined || b.rows === 0) return;
    out.push(b.finish(this.#firstIndex, this.#ctx.logInfo, this.#ctx.accountId));
    this.#firstIndex += b.rows;
    // the next batch of a large object is as large as this one: room for it at once, not by doubling from 256 rows
    this.#b = more ? new BatchBuilder(b.layout, b.rows) : undefined;
    this.#discardAnswers = [];
  }

  #setLayout(names: string[], fromHeader: boolean, out: FlowBatch[]): void {
    this.#finishBatch(out);
    const columns = columnsFor(names, fromHeader);
    this.#layout = layoutOf(names, columns.keys, columns.kinds, fromHeader);
    this.#b = new BatchBuilder(this.#layout, this.#rowsHint);
    this.#discardCol = this.#discardKey === undefined ? -1 : columns.keys.indexOf(this.#discardKey);
    this.#discardAnswers = [];
  }

  /** The unfinished line passed MAX_LINE_CHARS characters: reported now and dropped up to its line break. */
  #overlong(): void {
    const chars = new StringDecoder('utf8').write(this.#carry.subarray(0, this.#carryLen)).length;
    if (chars <= MAX_LINE_CHARS) return;
    this.#lineNo++;
    this.#carryLen = 0;
    this.#skipping = true;
    this.#tooLong();
  }

  /** Whether line [s, nl) is longer than MAX_LINE_CHARS characters (then reported). */
  #tooLongLine(buf: Buffer, s: number, nl: number): boolean {
    if (buf.toString('utf8', s, nl).length <= MAX_LINE_CHARS) return false;
    this.#tooLong();
    return true;
  }

  #tooLong(): void {
    if (this.#layout === undefined) {
      throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `line ${this.#lineNo} is longer than ${MAX_LINE_CHARS} characters and comes before any header line: not a flow log`);
    }
    this.#recordError(`longer than ${MAX_LINE_CHARS} characters`);
  }

  #recordError(cause: string): void {
    const info: RecordErrorInfo = { cause };
    if (this.#ctx.onRecordError) this.#ctx.onRecordError(this.#lineNo, `${cause}; line skipped`, info);
    else this.#deferred ??= new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `line ${this.#lineNo}: ${cause}`);
  }

  /** Reads the line starting at `s` (a line break follows in `buf`); returns the index of that line break. */
  #line(buf: Buffer, s: number, out: FlowBatch[]): number {
    this.#lineNo++;
    const c0 = buf[s] as number;
    const b = this.#b;
    // a data line under known columns: scanned at once (a header starts with a lowercase letter)
    if (b !== undefined && (c0 < 97 || c0 > 122) && c0 !== NL && c0 !== CR) {
      b.reserve();
      const status = this.#scan(b, buf, s);
      const nl = this.#nl;
      if (nl - s > MAX_LINE_CHARS && this.#tooLongLine(buf, s, nl)) return nl;
      this.#settle(status, b, buf, s, nl, out);
      return nl;
    }
    return this.#slowLine(buf, s, out);
  }

  /** decode.ts's #handleLine over bytes: length, CR, BOM, blank lines, header (re-)sets, header-less start. */
  #slowLine(buf: Buffer, s: number, out: FlowBatch[]): number {
    const nl = buf.indexOf(NL, s);
    if (nl - s > MAX_LINE_CHARS && this.#tooLongLine(buf, s, nl)) return nl;
    let end = nl;
    if (end > s && buf[end - 1] === CR) end--;
    let from = s;
    if (!this.#sawLine && end - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf) from += 3; // BOM
    if (end === from) return nl;
    this.#sawLine = true;
    const c0 = buf[from] as number;
    const letter = c0 >= 97 && c0 <= 122;
    if (this.#b === undefined || letter) {
      if (letter && (this.#b === undefined || startsWithKnownField(buf, from, end))) {
        const tokens = buf.toString('utf8', from, end).split(' ');
        if (isHeaderLine(tokens)) {
          this.#setLayout(tokens, true, out);
          return nl;
        }
      }
      if (this.#b === undefined) this.#headerless(buf, from, end, c0, out);
    }
    const b = this.#b as BatchBuilder;
    b.reserve();
    this.#settle(this.#scan(b, buf, from), b, buf, from, nl, out);
    return nl;
  }

  /** No header before the first data line: only the default format's 14 fields can be read safely. */
  #headerless(buf: Buffer, from: number, end: number, c0: number, out: FlowBatch[]): void {
    const count = spacesIn(buf, from, end) + 1;
    if (count === DEFAULT_FORMAT.length && c0 >= 48 && c0 <= 57) {
      this.#setLayout(DEFAULT_FORMAT, false, out);
      return;
    }
    throw new ObjectDecodeError(
      'TLD_ERR_DECODE_FORMAT',
      `line ${this.#lineNo} comes before any header line and has ${count} fields; without a header only the default ` +
        `format (14 fields) can be read. AWS writes the header as the first line of every flow-log file`,
    );
  }

  /**
   * Reads the fields of the line starting at `s` into the builder's next row (not committed). Sets #nl; on
   * NOT_A_NUMBER the field in #errCol/#errStart/#errEnd. Checks in decode.ts's order: a field's delimiter, then
   * its value, left to right.
   */
  #scan(b: BatchBuilder, buf: Buffer, s: number): number {
    const kinds = b.scanKinds;
    const last = kinds.length - 1;
    const row = b.rows;
    const nums = b.nums;
    const codes = b.codes;
    const interners = b.interners;
    const discardCol = this.#discardCol;
    let p = s;
    for (let i = 0; i <= last; i++) {
      const start = p;
      const kind = kinds[i] as number;
      let c = buf[p] as number;
      // the hash stays a small integer (no heap number when handed to intern)
      let h = 0;
      let v = 0;
      let bad = false;
      if (kind === ADDRESS) {
        // a dotted quad read as its number: v the parts before the last dot, h the last part, bad on anything else
        let digits = 0;
        let dots = 0;
        while (c !== SPACE && c !== NL) {
          if (c === DOT) {
            if (digits === 0 || h > 255) bad = true;
            v = v * 256 + h;
            h = 0;
            digits = 0;
            dots++;
          } else {
            const d = c - 48;
            if (d < 0 || d > 9 || (digits === 1 && h === 0)) bad = true;
            h = h * 10 + d;
            digits++;
          }
          c = buf[++p] as number;
        }
        if (dots !== 3 || digits === 0 || digits > 3 || h > 255) bad = true;
      } else if (kind === FieldKind.Text) {
        while (c !== SPACE && c !== NL) {
          h = (Math.imul(h, 31) + c) & 0x3fffffff;
          c = buf[++p] as number;
        }
      } else {
        while (c !== SPACE && c !== NL) {
          const d = c - 48;
          if (d < 0 || d > 9) bad = true;
          v = v * 10 + d;
          c = buf[++p] as number;
        }
      }
      let stop = p;
      if (c === NL) {
        if (i < last) {
          this.#nl = p;
          return MISMATCH;
        }
        if (stop > start && buf[stop - 1] === CR) {
          // CRLF: the last field ends before the CR
          stop--;
          h = 0;
          v = 0;
          bad = kind === ADDRESS; // an address is then looked up by its bytes
          for (let k = start; k < stop; k++) {
            const ch = buf[k] as number;
            h = (Math.imul(h, 31) + ch) & 0x3fffffff;
            if (ch < 48 || ch > 57) bad = true;
            v = v * 10 + (ch - 48);
          }
        }
      } else if (i === last) {
        this.#nl = buf.indexOf(NL, p);
        return MISMATCH;
      }
      const len = stop - start;
      if (len === 1 && buf[start] === DASH) {
        if (kind === FieldKind.Int || kind === FieldKind.Time) (nums[i] as Float64Array)[row] = NaN;
        else (codes[i] as Uint32Array)[row] = 0;
      } else if (kind === ADDRESS) {
        const t = interners[i] as TextInterner;
        if (!bad) (codes[i] as Uint32Array)[row] = t.internV4(v * 256 + h);
        else {
          h = 0;
          for (let k = start; k < stop; k++) h = (Math.imul(h, 31) + (buf[k] as number)) & 0x3fffffff;
          (codes[i] as Uint32Array)[row] = t.intern(buf, start, stop, h);
        }
      } else if (kind === FieldKind.Text) {
        (codes[i] as Uint32Array)[row] = (interners[i] as TextInterner).intern(buf, start, stop, h);
      } else {
        if (bad || len === 0 || len > 16 || v > Number.MAX_SAFE_INTEGER || (kind === FieldKind.Time && v > MAX_SECONDS)) {
          this.#errCol = i;
          this.#errStart = start;
          this.#errEnd = stop;
          this.#nl = c === NL ? p : buf.indexOf(NL, p);
          return NOT_A_NUMBER;
        }
        (nums[i] as Float64Array)[row] = v;
      }
      if (i === discardCol) {
        this.#discStart = start;
        this.#discEnd = stop;
      }
      p++;
    }
    this.#nl = p - 1;
    return OK;
  }

  /** Commits the scanned row (unless discard_regex drops it) or reports why the line cannot be read. */
  #settle(status: number, b: BatchBuilder, buf: Buffer, from: number, nl: number, out: FlowBatch[]): void {
    if (status === OK) {
      if (this.#discardCol >= 0 && this.#discarded(b, buf)) {
        this.#ctx.onDiscard?.();
        return;
      }
      if (++b.rows >= this.#batchRows) this.#finishBatch(out);
      return;
    }
    const layout = b.layout;
    if (status === MISMATCH) {
      const end = nl > from && buf[nl - 1] === CR ? nl - 1 : nl;
      const against = layout.fromHeader ? 'the header has' : 'the header-less default format has';
      this.#recordError(`${spacesIn(buf, from, end) + 1} fields where ${against} ${layout.kinds.length}`);
      return;
    }
    const col = this.#errCol;
    const wanted = layout.kinds[col] === FieldKind.Time ? 'Unix seconds' : 'a whole number';
    this.#recordError(`field ${col + 1} (${layout.keys[col] as string}) is ${quote(buf.toString('utf8', this.#errStart, this.#errEnd))}, not ${wanted}`);
  }

  /** discard_regex on the raw text of its column (start/end after conversion, as decode.ts). */
  #discarded(b: BatchBuilder, buf: Buffer): boolean {
    const col = this.#discardCol;
    const kind = b.layout.kinds[col];
    const row = b.rows;
    const test = (value: string) => (this.#discard as DiscardTest)({ [this.#discardKey as string]: value });
    if (kind === FieldKind.Text) {
      const code = (b.codes[col] as Uint32Array)[row] as number;
      let answer = this.#discardAnswers[code];
      if (answer === undefined) {
        answer = test(code === 0 ? '-' : (b.interners[col] as TextInterner).text(code)) ? 2 : 1;
        this.#discardAnswers[code] = answer;
      }
      return answer === 2;
    }
    const v = (b.nums[col] as Float64Array)[row] as number;
    return test(Number.isNaN(v) ? '-' : kind === FieldKind.Time ? isoSeconds(v) : buf.toString('latin1', this.#discStart, this.#discEnd));
  }
}
