/**
 * Fills the columns of one FlowBatch row by row (column-decoder.ts writes the values, then commits the row or
 * leaves it to be overwritten). Text is interned from the bytes: the decoder hashes a field while it scans it,
 * and a string is made only for a text not yet in the batch's dictionary.
 */
import { FieldKind } from './fields.js';
import { isAddressField, type FlowBatch, type FlowColumn, type FlowLayout } from './flow-batch.js';
import { ipv4Text } from '../../shared/ipv4.js';
import type { LogInfo } from '../../shared/events.js';

const INITIAL_ROWS = 256;
/** scan kind of an address column (beside FieldKind's values) */
export const ADDRESS = 3;

/** `a.b.c.d` (no leading zeros, each part 0–255) → unsigned number; -1 for anything else (IPv6, other text). */
function ipv4Of(buf: Uint8Array, start: number, end: number): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let p = start; p < end; p++) {
    const c = buf[p] as number;
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9 || (digits === 1 && part === 0)) return -1;
      part = part * 10 + d;
      if (++digits > 3 || part > 255) return -1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + part : -1;
}

/** One text column's dictionary: distinct byte strings → codes (1…), with an open-addressing table. */
export class TextInterner {
  /** an entry interned by its IPv4 number has no text here (undefined): see flow-batch.ts `entryText` */
  readonly dict: (string | undefined)[] = [''];
  readonly ipv4: number[] | undefined;
  #slots = new Int32Array(64);
  #v4Slots = new Int32Array(64);
  #v4Count = 0;
  #hashes: number[] = [0];
  #starts: number[] = [0];
  #lens: number[] = [0];
  #bytes = new Uint8Array(1024);
  #used = 0;

  constructor(address: boolean) {
    this.ipv4 = address ? [-1] : undefined;
  }

  /** The text of entry `code` (not 0). */
  text(code: number): string {
    return this.dict[code] ?? ipv4Text((this.ipv4 as number[])[code] as number);
  }

  /**
   * The code of the dotted-quad IPv4 address `n` (read from canonical text: no leading zeros, so its text is made
   * back from the number), looked up by the number, without comparing bytes.
   */
  internV4(n: number): number {
    const slots = this.#v4Slots;
    const mask = slots.length - 1;
    const ipv4 = this.ipv4 as number[];
    let h = Math.imul(n ^ (n >>> 16), 0x45d9f3b);
    h ^= h >>> 16;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const code = slots[i] as number;
      if (code === 0) break;
      if (ipv4[code] === n) return code;
    }
    const code = this.dict.length;
    this.#starts.push(0);
    this.#lens.push(-1);
    this.#hashes.push(-1);
    this.dict.push(undefined);
    ipv4.push(n);
    this.#v4Count++;
    if (this.#v4Count * 2 > slots.length) this.#rehashV4();
    else this.#placeV4(code, n);
    return code;
  }

  #placeV4(code: number, n: number): void {
    const slots = this.#v4Slots;
    const mask = slots.length - 1;
    let h = Math.imul(n ^ (n >>> 16), 0x45d9f3b);
    h ^= h >>> 16;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = code;
  }

  #rehashV4(): void {
    this.#v4Slots = new Int32Array(this.#v4Slots.length * 4);
    const ipv4 = this.ipv4 as number[];
    for (let code = 1; code < this.dict.length; code++) if (this.#lens[code] === -1) this.#placeV4(code, ipv4[code] as number);
  }

  /** The code of `buf[start, end)`, whose hash (computed by the decoder while it scans the field) is `h`; a new entry when unseen. */
  intern(buf: Buffer, start: number, end: number, h: number): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const len = end - start;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const code = slots[i] as number;
      if (code === 0) break;
      if (this.#hashes[code] === h && this.#lens[code] === len && this.#equal(code, buf, start, len)) return code;
    }
    return this.#add(buf, start, end, h);
  }

  #equal(code: number, buf: Uint8Array, start: number, len: number): boolean {
    const bytes = this.#bytes;
    const at = this.#starts[code] as number;
    for (let k = 0; k < len; k++) if (bytes[at + k] !== buf[start + k]) return false;
    return true;
  }

  #add(buf: Buffer, start: number, end: number, h: number): number {
    if (this.ipv4 !== undefined) {
      const n = ipv4Of(buf, start, end);
      if (n >= 0) return this.internV4(n);
    }
    const code = this.dict.length;
    const len = end - start;
    if (this.#used + len > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#used + len));
      grown.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = grown;
    }
    this.#bytes.set(buf.subarray(start, end), this.#used);
    this.#starts.push(this.#used);
    this.#used += len;
    this.#lens.push(len);
    this.#hashes.push(h);
    // one string per distinct text; fields end at ASCII bytes, so decoding a field alone gives the characters a
    // decoder of the whole stream gives (invalid sequences become U+FFFD the same way)
    this.dict.push(buf.toString('utf8', start, end));
    this.ipv4?.push(-1);
    if ((code - this.#v4Count) * 2 > this.#slots.length) this.#rehash();
    else this.#place(code, h);
    return code;
  }

  #place(code: number, h: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = h & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = code;
  }

  #rehash(): void {
    this.#slots = new Int32Array(this.#slots.length * 4);
    for (let code = 1; code < this.dict.length; code++) if (this.#lens[code] !== -1) this.#place(code, this.#hashes[code] as number);
  }
}

/**
 * Rows of one layout, growing up to the batch size. Every column lives in one ArrayBuffer (number columns first,
 * then the text columns' codes), so a batch costs one allocation and moves to another thread as one buffer.
 */
export class BatchBuilder {
  readonly layout: FlowLayout;
  rows = 0;
  #cap: number;
  /** per column: values (number columns) or codes (text columns); the other is an empty array */
  nums: Float64Array[];
  codes: Uint32Array[];
  readonly interners: (TextInterner | undefined)[];
  /** per column: FieldKind, or ADDRESS for a text column of addresses (read as IPv4 numbers while scanned) */
  readonly scanKinds: Int32Array;
  readonly #numberColumns: number;

  /** `rows`: the rows to make room for at first (it grows past them); the previous batch's size is a good guess */
  constructor(layout: FlowLayout, rows = INITIAL_ROWS) {
    this.#cap = Math.max(INITIAL_ROWS, rows);
    this.layout = layout;
    const kinds = layout.kinds;
    this.#numberColumns = kinds.filter((k) => k !== FieldKind.Text).length;
    this.nums = [];
    this.codes = [];
    this.#allocate(this.#cap);
    this.interners = kinds.map((k, i) => (k === FieldKind.Text ? new TextInterner(isAddressField(layout.names[i] as string)) : undefined));
    this.scanKinds = Int32Array.from(kinds, (k, i) => (k === FieldKind.Text && isAddressField(layout.names[i] as string) ? ADDRESS : k));
  }

  /** Views of `cap` rows per column over one new buffer, the rows so far copied in. */
  #allocate(cap: number): void {
    const kinds = this.layout.kinds;
    const buffer = new ArrayBuffer(cap * (8 * this.#numberColumns + 4 * (kinds.length - this.#numberColumns)));
    const none64 = new Float64Array(0);
    const none32 = new Uint32Array(0);
    let at = 0;
    const nums = kinds.map((k, i) => {
      if (k === FieldKind.Text) return none64;
      const v = new Float64Array(buffer, at, cap);
      at += 8 * cap;
      if (this.rows > 0) v.set((this.nums[i] as Float64Array).subarray(0, this.rows));
      return v;
    });
    const codes = kinds.map((k, i) => {
      if (k !== FieldKind.Text) return none32;
      const v = new Uint32Array(buffer, at, cap);
      at += 4 * cap;
      if (this.rows > 0) v.set((this.codes[i] as Uint32Array).subarray(0, this.rows));
      return v;
    });
    this.nums = nums;
    this.codes = codes;
  }

  /** Room for one more row (the one being scanned). */
  reserve(): void {
    if (this.rows < this.#cap) return;
    this.#cap *= 2;
    this.#allocate(this.#cap);
  }

  /** The rows so far as a batch (the builder is not used afterwards). */
  finish(firstIndex: number, logInfo: LogInfo, accountId: string | undefined): FlowBatch {
    const n = this.rows;
    // a mostly empty buffer is copied to the rows' size: a batch moves to another thread with its whole buffer
    if (n * 4 < this.#cap * 3) this.#allocate(n);
    const columns: FlowColumn[] = this.layout.kinds.map((kind, i) => {
      if (kind !== FieldKind.Text) return { kind: kind as NumberColumnKind, values: this.nums[i]!.subarray(0, n) };
      const t = this.interners[i] as TextInterner;
      return { kind: FieldKind.Text, codes: this.codes[i]!.subarray(0, n), dict: t.dict, ipv4: t.ipv4 ? Float64Array.from(t.ipv4) : undefined };
    });
    return { firstIndex, length: n, layout: this.layout, logInfo, accountId, columns };
  }
}

type NumberColumnKind = typeof FieldKind.Int | typeof FieldKind.Time;
