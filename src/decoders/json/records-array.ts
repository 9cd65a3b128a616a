/**
 * Streams the elements of one array inside a JSON document: the top-level `"Records"` array of a CloudTrail
 * log file (`{"Records":[…]}`, in any key order, other keys before or after it), or the document itself when
 * it is an array. Each element's bytes are cut out as they arrive and handed to JSON.parse, so a document of
 * any size is read in memory bounded by its largest element; the document is never held whole.
 *
 * How: a byte scanner that follows the JSON structure of the top level (object members, the array, commas)
 * strictly, and inside an element only tracks strings (with escapes) and bracket nesting to find where the
 * element ends; JSON.parse then validates the element. `{`, `}`, `[`, `]`, `"`, `\`, `,` and `:` never occur
 * inside a multi-byte UTF-8 sequence, so scanning bytes is exact and a character split across chunks is
 * joined before decoding. Offsets in messages are byte offsets in the decompressed content.
 *
 * Bad input:
 * - an element JSON.parse refuses, or one larger than `maxRecordBytes` (skipped to its end, never held), is
 *   an item with `error`: one bad record, the rest is read;
 * - a structural error (a bracket closing the wrong kind, text where a comma or key must be, a truncated
 *   document) stops the scan: `fatal` / `finish()` give it, after the items before it.
 * Members other than the array are kept (up to `maxRecordBytes` in all) so a document without that array
 * can still be recognised (an EventBridge event, a digest file) by `otherMembers()`.
 */
import { ObjectDecodeError } from '../errors.js';

/** One array element: its value, or why it could not be read. `index` is 1-based; `offset` its first byte. */
export type RecordItem =
  | { index: number; offset: number; line: number; value: unknown; error?: undefined }
  | { index: number; offset: number; line: number; error: string };

/**
 * Default cap on one element. The largest documented records are far smaller (EventBridge events ≤ 256 KB;
 * CloudTrail truncates requestParameters/responseElements at 100 KB each). Measured: JSON.parse of 4 MiB of
 * `{},{},…` holds about 100 MB of heap, 8 MiB about 200 MB, which the service's 256 MB heap cannot afford.
 */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;
/** Nesting deeper than this inside one element makes it a bad record (later steps recurse over records). */
export const MAX_RECORD_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const enum State {
  Start,
  /** after the top-level `{` */
  KeyOrEnd,
  /** after a `,` between members */
  Key,
  InKey,
  Colon,
  MemberValue,
  AfterMember,
  /** after the array's `[` */
  ElementOrEnd,
  /** after a `,` between elements */
  Element,
  AfterElement,
  /** inside a value being cut out (an element or a member value) */
  Value,
  Done,
}

const isSpace = (c: number) => c === 0x20 || c === LF || c === 0x0d || c === 0x09;

export interface RecordsArrayOptions {
  /** the top-level member whose array is streamed (a top-level array is streamed too) */
  key: string;
  maxRecordBytes?: number;
}

export class RecordsArrayScanner {
  readonly #key: string;
  readonly #max: number;
  #state = State.Start;
  /** the document is a top-level array (else an object) */
  #topArray = false;
  /** absolute byte offset of the current chunk's first byte; 1-based line of the byte being scanned */
  #base = 0;
  #line = 1;
  #fatal: ObjectDecodeError | undefined;
  #arrays = 0;
  #elements = 0;

  // the value being cut out
  #isElement = false;
  #valueOffset = 0;
  #valueLine = 1;
  /** nesting of brackets inside the value: 1 = `{`/`[` kinds, up to MAX_RECORD_DEPTH */
  readonly #stack: number[] = [];
  #depth = 0;
  #inString = false;
  #escape = false;
  /** a scalar value (number, literal) runs to the next delimiter */
  #scalar = false;
  #parts: Buffer[] = [];
  #partsBytes = 0;
  #oversize = false;
  #tooDeep = false;

  // the member being read
  #keyParts: Buffer[] = [];
  #memberKey = '';
  #members: Buffer[] = [];
  #membersBytes = 0;
  #membersDropped = false;
  readonly #memberNames = new Set<string>();

  constructor(opts: RecordsArrayOptions) {
    this.#key = opts.key;
    this.#max = opts.maxRecordBytes ?? MAX_RECORD_BYTES;
  }

  /** The structural error met so far, if any (items returned before it are good). */
  get fatal(): ObjectDecodeError | undefined {
    return this.#fatal;
  }

  /** Whether the streamed array was found (the top-level array, or the key's array). */
  get foundArray(): boolean {
    return this.#arrays > 0;
  }

  /** Elements seen so far (good and bad). */
  get elements(): number {
    return this.#elements;
  }

  /** Feeds a chunk of the document; returns the elements it completes, in order. */
  push(input: Uint8Array): RecordItem[] {
    const out: RecordItem[] = [];
    if (this.#fatal || input.length === 0) return out;
    const chunk = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
    /** where the current value (or key) starts in this chunk; 0 when it started in an earlier chunk */
    let start = this.#state === State.Value || this.#state === State.InKey ? 0 : -1;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#state === State.Value) {
        const end = this.#scanValue(chunk, i);
        if (end === -1) break; // the value continues in the next chunk
        this.#endValue(chunk, start, end, out);
        if (this.#fatal) return out;
        i = end;
        continue;
      }
      if (this.#state === State.InKey) {
        const end = this.#skipString(chunk, i);
        if (end === -1) break;
        if (!this.#endKey(chunk, start, end)) return out;
        i = end;
        continue;
      }
      const c = chunk[i] as number;
      if (isSpace(c)) {
        if (c === LF) this.#line++;
        i++;
        continue;
      }
      switch (this.#state) {
        case State.Start:
          if (c === OPEN_BRACE) this.#state = State.KeyOrEnd;
          else if (c === OPEN_BRACKET) {
            this.#topArray = true;
            this.#arrays++;
            this.#state = State.ElementOrEnd;
          } else if (this.#base + i === 0 && c === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
            i += 3; // UTF-8 byte-order mark (whole in the first chunk: chunks are far larger than 3 bytes)
            continue;
          } else return this.#fail(out, 'TLD_ERR_DECODE_FORMAT', i, `the file is not a JSON object or array (it starts with ${describe(c)})`);
          break;
        case State.KeyOrEnd:
        case State.Key:
          if (c === QUOTE) {
            this.#state = State.InKey;
            this.#inString = true;
            this.#escape = false;
            this.#keyParts = [];
            this.#parts = [];
            this.#partsBytes = 0;
            this.#oversize = false;
            start = i;
            i++;
            continue;
          }
          if (c === CLOSE_BRACE && this.#state === State.KeyOrEnd) this.#state = State.Done;
          else return this.#fail(out, 'TLD_ERR_DECODE_JSON', i, `expected a member name, found ${describe(c)}`);
          break;
        case State.Colon:
          if (c !== COLON) return this.#fail(out, 'TLD_ERR_DECODE_JSON', i, `expected ':' after a member name, found ${describe(c)}`);
          this.#state = State.MemberValue;
          break;
        case State.MemberValue:
          if (c === OPEN_BRACKET && this.#memberKey === this.#key) {
            this.#arrays++;
            this.#state = State.ElementOrEnd;
            break;
          }
          if (!this.#startValue(c, i, false, out)) return out;
          start = i;
          continue; // the value's first byte is scanned in State.Value
        case State.AfterMember:
          if (c === COMMA) this.#state = State.Key;
          else if (c === CLOSE_BRACE) this.#state = State.Done;
          else return this.#fail(out, 'TLD_ERR_DECODE_JSON', i, `expected ',' or '}' after a member, found ${describe(c)}`);
          break;
        case State.ElementOrEnd:
        case State.Element:
          if (c === CLOSE_BRACKET && this.#state === State.ElementOrEnd) {
            this.#state = this.#topArray ? State.Done : State.AfterMember;
            break;
          }
          if (!this.#startValue(c, i, true, out)) return out;
          start = i;
          continue;
        case State.AfterElement:
          if (c === COMMA) this.#state = State.Element;
          else if (c === CLOSE_BRACKET) this.#state = this.#topArray ? State.Done : State.AfterMember;
          else return this.#fail(out, 'TLD_ERR_DECODE_JSON', i, `expected ',' or ']' after record ${this.#elements}, found ${describe(c)}`);
          break;
        case State.Done:
          return this.#fail(out, 'TLD_ERR_DECODE_JSON', i, `unexpected ${describe(c)} after the end of the JSON document`);
      }
      i++;
    }
    if (this.#state === State.Value || this.#state === State.InKey) this.#keep(chunk, start === -1 ? 0 : start, n);
    this.#base += n;
    return out;
  }

  /** Ends the document: the structural error, or a truncated document, as an ObjectDecodeError (else undefined). */
  finish(): ObjectDecodeError | undefined {
    if (this.#fatal) return this.#fatal;
    if (this.#state === State.Start) return new ObjectDecodeError('TLD_ERR_DECODE_EMPTY_OBJECT', 'the object is empty');
    if (this.#state !== State.Done) {
      const where = this.#state === State.Value && this.#isElement ? ` inside record ${this.#elements + 1}, which starts at byte ${this.#valueOffset}` : '';
      return new ObjectDecodeError(
        'TLD_ERR_DECODE_JSON',
        `truncated JSON: the file ends at byte ${this.#base}${where} (${this.#elements} records before it were read)`,
        { offset: this.#base },
      );
    }
    return undefined;
  }

  /**
   * The document's members other than the streamed array, as one parsed object (JSON.parse semantics,
   * `__proto__` an own key); `undefined` when the document is an array, or when they were larger than
   * `maxRecordBytes` in all. For a document without the array (members after the array are not kept):
   * call after `finish()` returned no error and `foundArray` is false.
   */
  otherMembers(): Record<string, unknown> | undefined {
    if (this.#topArray || this.#membersDropped) return undefined;
    const parts: Buffer[] = [Buffer.from('{')];
    this.#members.forEach((m, k) => parts.push(k === 0 ? m : Buffer.concat([Buffer.from(','), m])));
    parts.push(Buffer.from('}'));
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
  }

  /** Whether the members other than the array were too large to keep. */
  get membersDropped(): boolean {
    return this.#membersDropped;
  }

  /** Names of the top-level members seen (kept even when their values were too large to keep). */
  get memberNames(): ReadonlySet<string> {
    return this.#memberNames;
  }

  #fail(out: RecordItem[], code: 'TLD_ERR_DECODE_JSON' | 'TLD_ERR_DECODE_FORMAT', i: number, what: string): RecordItem[] {
    const offset = this.#base + i;
    this.#fatal = new ObjectDecodeError(code, `${code === 'TLD_ERR_DECODE_JSON' ? 'invalid JSON: ' : ''}${what} at byte ${offset} (line ${this.#line})`, { offset });
    this.#parts = [];
    this.#members = [];
    return out;
  }

  /** Starts cutting out a value whose first byte `c` is at `i`; false on a byte no value can start with. */
  #startValue(c: number, i: number, isElement: boolean, out: RecordItem[]): boolean {
    if (c === CLOSE_BRACE || c === CLOSE_BRACKET || c === COMMA || c === COLON) {
      this.#fail(out, 'TLD_ERR_DECODE_JSON', i, `expected a value, found ${describe(c)}`);
      return false;
    }
    this.#state = State.Value;
    this.#isElement = isElement;
    this.#valueOffset = this.#base + i;
    this.#valueLine = this.#line;
    this.#depth = 0;
    this.#stack.length = 0;
    this.#inString = false;
    this.#escape = false;
    this.#scalar = c !== OPEN_BRACE && c !== OPEN_BRACKET && c !== QUOTE;
    this.#parts = [];
    this.#partsBytes = 0;
    this.#oversize = false;
    this.#tooDeep = false;
    return true;
  }

  /**
   * Scans the value from `i`: returns the index just after its last byte, or -1 when the chunk ends first.
   * A structural error sets `#fatal` and returns the index of the offending byte.
   */
  #scanValue(chunk: Buffer, i: number): number {
    const n = chunk.length;
    if (this.#scalar) {
      for (; i < n; i++) {
        const c = chunk[i] as number;
        if (c === COMMA || c === CLOSE_BRACKET || c === CLOSE_BRACE || isSpace(c)) return i;
      }
      return -1;
    }
    while (i < n) {
      if (this.#inString) {
        i = this.#skipString(chunk, i);
        if (i === -1) return -1;
        if (this.#depth === 0) return i; // a string value ends with its closing quote
        continue;
      }
      const c = chunk[i] as number;
      if (c === QUOTE) this.#inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (this.#depth < MAX_RECORD_DEPTH) this.#stack.push(c);
        else this.#tooDeep = true;
        this.#depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.#depth <= MAX_RECORD_DEPTH) {
          const open = this.#stack.pop();
          if (open !== (c === CLOSE_BRACE ? OPEN_BRACE : OPEN_BRACKET)) {
            const what = this.#isElement ? `record ${this.#elements + 1} (from byte ${this.#valueOffset})` : 'the document';
            this.#fail([], 'TLD_ERR_DECODE_JSON', i, `${describe(c)} does not close ${open === undefined ? 'anything' : describe(open)} in ${what}`);
            return i;
          }
        }
        if (--this.#depth === 0) return i + 1;
      } else if (c === LF) this.#line++;
      i++;
    }
    return -1;
  }

  /** Skips string content from `i` (inside a string): the index after the closing quote, or -1 at chunk end. */
  #skipString(chunk: Buffer, i: number): number {
    const n = chunk.length;
    if (this.#escape) {
      if (i >= n) return -1;
      this.#escape = false;
      i++; // the escaped byte
    }
    const from = i;
    for (;;) {
      const q = chunk.indexOf(QUOTE, i);
      if (q === -1) {
        // does the chunk end with an unescaped backslash? (a run of backslashes since `from`, odd length)
        let k = n;
        while (k > from && chunk[k - 1] === BACKSLASH) k--;
        this.#escape = (n - k) % 2 === 1;
        return -1;
      }
      let k = q;
      while (k > from && chunk[k - 1] === BACKSLASH) k--;
      if ((q - k) % 2 === 0) {
        this.#inString = false;
        return q + 1;
      }
      i = q + 1; // an escaped quote
    }
  }


  #endKey(chunk: Buffer, start: number, end: number): boolean {
    this.#keep(chunk, start, end);
    const raw = Buffer.concat(this.#parts);
    this.#parts = [];
    this.#partsBytes = 0;
    if (this.#oversize) {
      this.#memberKey = ''; // no CloudTrail key is that long: not the array, and not kept
      this.#membersDropped = true;
      this.#members = [];
      this.#oversize = false;
    } else {
      try {
        this.#memberKey = JSON.parse(raw.toString('utf8')) as string;
        this.#memberNames.add(this.#memberKey);
      } catch (e) {
        this.#fail([], 'TLD_ERR_DECODE_JSON', end - 1, `bad member name (${(e as Error).message})`);
        return false;
      }
    }
    this.#keyParts = [raw];
    this.#state = State.Colon;
    return true;
  }

  /** Keeps bytes [start, end) of the value or key being cut out, up to the cap. */
  #keep(chunk: Buffer, start: number, end: number): void {
    if (this.#oversize || end <= start) return;
    this.#partsBytes += end - start;
    if (this.#partsBytes > this.#max) {
      this.#oversize = true;
      this.#parts = [];
      return;
    }
    this.#parts.push(Buffer.from(chunk.subarray(start, end))); // a copy: the caller may reuse its buffer
  }

  #endValue(chunk: Buffer, start: number, end: number, out: RecordItem[]): void {
    if (this.#fatal) return;
    const offset = this.#valueOffset;
    const line = this.#valueLine;
    let text: string | undefined;
    if (!this.#oversize) {
      if (this.#parts.length === 0) {
        text = end - start > this.#max ? undefined : chunk.toString('utf8', start, end);
        if (text === undefined) this.#oversize = true;
      } else {
        this.#keep(chunk, start, end);
        if (!this.#oversize) text = Buffer.concat(this.#parts).toString('utf8');
      }
    }
    this.#parts = [];
    this.#partsBytes = 0;
    if (this.#isElement) {
      const index = ++this.#elements;
      this.#state = State.AfterElement;
      if (text === undefined) out.push({ index, offset, line, error: `record ${index} (from byte ${offset}) is larger than ${this.#max} bytes` });
      else if (this.#tooDeep) out.push({ index, offset, line, error: `record ${index} (from byte ${offset}) is nested deeper than ${MAX_RECORD_DEPTH} levels` });
      else {
        try {
          out.push({ index, offset, line, value: JSON.parse(text) });
        } catch (e) {
          out.push({ index, offset, line, error: `record ${index} (from byte ${offset}) is not valid JSON: ${(e as Error).message}` });
        }
      }
      return;
    }
    this.#state = State.AfterMember;
    if (this.#membersDropped || this.#arrays > 0) return; // once the array is found, the other members are not needed
    const size = (text?.length ?? this.#max) + (this.#keyParts[0]?.length ?? 0);
    if (text === undefined || this.#membersBytes + size > this.#max) {
      this.#membersDropped = true;
      this.#members = [];
      return;
    }
    this.#membersBytes += size;
    this.#members.push(Buffer.concat([...this.#keyParts, Buffer.from(':'), Buffer.from(text)]));
  }
}

function describe(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16).padStart(2, '0')}`;
}
