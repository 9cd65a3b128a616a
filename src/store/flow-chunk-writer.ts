/**
 * Writes flow rows (FlowColumns, store-rows.ts) to the flows table's appender one DuckDB data chunk (2,048 rows)
 * at a time: each column's slice is laid out as DuckDB's vector in memory and copied with one native call
 * (`copy_data_to_vector`); the object id is one constant vector. Only the text of addresses that are not IPv4
 * costs a native call per value; ENI, account and region arrive as interface numbers (interface-dictionary.ts).
 *
 * Buffers are laid out as DuckDB's vectors on little-endian machines (the only ones DuckDB's Node packages are
 * built for). package.json pins @duckdb/node-api and @duckdb/node-bindings to the same exact version, so the
 * chunks built here and the appender they go to come from one native library.
 *
 * Values that do not fit their column (a port of 99999999999, a fractional byte count, attacker-chosen
 * numbers, an action that is neither ACCEPT nor REJECT) are stored as NULL rather than wrapped or rejected; the
 * event itself is kept whole in the archives and alerts.
 */
import bindings from '@duckdb/node-bindings';
import { DuckDBDataChunk, type DuckDBAppender } from '@duckdb/node-api';
import type { FlowColumns, SparseText } from './store-rows.js';

const CAPACITY = bindings.vector_size();
const TWO_32 = 4294967296;

/** Columns of the flows table in table order (schema.ts `flowsTable`). */
const enum C {
  objectId,
  idx,
  ts,
  endTs,
  iface,
  src4,
  dst4,
  srcText,
  dstText,
  sport,
  dport,
  proto,
  packets,
  bytes,
  action,
  logStatus,
}
const COLUMNS = 16;

/** One bit per row, set when the row's value is present (DuckDB's validity mask layout). */
class Validity {
  readonly bits = new Uint32Array(CAPACITY / 32);
  present = 0;

  reset(): void {
    this.bits.fill(0);
    this.present = 0;
  }

  set(row: number): void {
    this.bits[row >>> 5]! |= 1 << (row & 31);
    this.present++;
  }

  /** Writes the mask unless every row is present (a fresh vector is all valid). */
  writeTo(vector: bindings.Vector, rows: number): void {
    if (this.present === rows) return;
    bindings.vector_ensure_validity_writable(vector);
    bindings.copy_data_to_vector_validity(vector, 0, this.bits.buffer as ArrayBuffer, 0, Math.ceil(rows / 64) * 8);
  }
}

/** Adds FlowColumns rows of one object; `flush` hands the chunk in progress to the appender. */
export class FlowChunkWriter {
  readonly #appender: DuckDBAppender;
  readonly #chunk: DuckDBDataChunk;
  #rows = 0;
  /** object id of the rows in the chunk in progress (a chunk holds one object's rows) */
  #object: bigint | undefined;
  // the chunk in progress, column by column in DuckDB's layout
  readonly #idx = new Int32Array(CAPACITY);
  readonly #ts = new Int32Array(CAPACITY * 2);
  readonly #endTs = new Int32Array(CAPACITY * 2);
  readonly #iface = new Uint32Array(CAPACITY);
  readonly #src4 = new Uint32Array(CAPACITY);
  readonly #dst4 = new Uint32Array(CAPACITY);
  readonly #srcText: (string | null)[] = [];
  readonly #dstText: (string | null)[] = [];
  readonly #sport = new Int32Array(CAPACITY);
  readonly #dport = new Int32Array(CAPACITY);
  readonly #proto = new Int16Array(CAPACITY);
  readonly #packets = new Int32Array(CAPACITY * 2);
  readonly #bytes = new Int32Array(CAPACITY * 2);
  readonly #action = new Uint8Array(CAPACITY);
  readonly #logStatus = new Uint8Array(CAPACITY);
  readonly #valid = Array.from({ length: COLUMNS }, () => new Validity());
  /** rows of the chunk whose src/dst text column holds a value */
  #srcTextRows: number[] = [];
  #dstTextRows: number[] = [];

  constructor(appender: DuckDBAppender) {
    this.#appender = appender;
    // the appender's own column types: the ENUM columns need their exact type
    this.#chunk = DuckDBDataChunk.create(Array.from({ length: COLUMNS }, (_, i) => appender.columnType(i)));
  }

  /** Rows added since the last `flush` that are not yet handed to the appender. */
  get pendingRows(): number {
    return this.#rows;
  }

  /** Rows handed to the appender since `committed()` (the store commits before DuckDB's appender would by itself). */
  handedRows = 0;

  /** The appender was flushed: everything handed so far is committed. */
  committed(): void {
    this.handedRows = 0;
  }

  /**
   * Adds rows from..to-1 of `cols` of object `objectId`; `iface[r - from]` is the interface number of row r.
   * Numeric columns are converted in tight loops over the typed arrays, with no call per value.
   */
  add(objectId: bigint, cols: FlowColumns, from: number, to: number, iface: Uint32Array): void {
    let srcAt = lowerBound(cols.srcOther.at, from);
    let dstAt = lowerBound(cols.dstOther.at, from);
    for (let r = from; r < to; ) {
      if (this.#object !== objectId && this.#rows > 0) this.flush();
      this.#object = objectId;
      const at = this.#rows;
      const n = Math.min(to - r, CAPACITY - at);
      const v = this.#valid;
      this.#idx.set(cols.idx.subarray(r, r + n), at);
      v[C.idx]!.present += n;
      this.#iface.set(iface.subarray(r - from, r - from + n), at);
      v[C.iface]!.present += n;
      timestamps(cols.start, r, n, this.#ts, at, v[C.ts]!);
      timestamps(cols.end, r, n, this.#endTs, at, v[C.endTs]!);
      srcAt = addresses(cols.src4, cols.srcOther, srcAt, r, n, this.#src4, at, v[C.src4]!, this.#srcText, this.#srcTextRows, v[C.srcText]!);
      dstAt = addresses(cols.dst4, cols.dstOther, dstAt, r, n, this.#dst4, at, v[C.dst4]!, this.#dstText, this.#dstTextRows, v[C.dstText]!);
      integers(cols.sport, r, n, this.#sport, at, v[C.sport]!, -2147483648, 2147483647);
      integers(cols.dport, r, n, this.#dport, at, v[C.dport]!, -2147483648, 2147483647);
      integers(cols.proto, r, n, this.#proto, at, v[C.proto]!, -32768, 32767);
      bigints(cols.packets, r, n, this.#packets, at, v[C.packets]!);
      bigints(cols.bytes, r, n, this.#bytes, at, v[C.bytes]!);
      codes(cols.action, r, n, this.#action, at, v[C.action]!);
      codes(cols.logStatus, r, n, this.#logStatus, at, v[C.logStatus]!);
      this.#rows += n;
      r += n;
      if (this.#rows === CAPACITY) this.flush();
    }
  }

  /** Hands the rows gathered so far to the appender (they are committed by the appender's own flush). */
  flush(): void {
    const rows = this.#rows;
    if (rows === 0) return;
    const chunk = this.#chunk;
    chunk.reset();
    const c = chunk.chunk;
    bindings.data_chunk_set_size(c, rows);
    const vector = (i: C) => bindings.data_chunk_get_vector(c, i);
    const copy = (i: C, data: Int32Array | Uint32Array | Int16Array | Uint8Array, perRow: number) => {
      bindings.copy_data_to_vector(vector(i), 0, data.buffer as ArrayBuffer, 0, rows * perRow);
      this.#valid[i]!.writeTo(vector(i), rows);
    };
    bindings.vector_reference_value(vector(C.objectId), bindings.create_uint64(this.#object!));
    copy(C.idx, this.#idx, 4);
    copy(C.ts, this.#ts, 8);
    copy(C.endTs, this.#endTs, 8);
    copy(C.iface, this.#iface, 4);
    copy(C.src4, this.#src4, 4);
    copy(C.dst4, this.#dst4, 4);
    this.#text(vector(C.srcText), this.#srcText, this.#srcTextRows, this.#valid[C.srcText]!, rows);
    this.#text(vector(C.dstText), this.#dstText, this.#dstTextRows, this.#valid[C.dstText]!, rows);
    copy(C.sport, this.#sport, 4);
    copy(C.dport, this.#dport, 4);
    copy(C.proto, this.#proto, 2);
    copy(C.packets, this.#packets, 8);
    copy(C.bytes, this.#bytes, 8);
    copy(C.action, this.#action, 1);
    copy(C.logStatus, this.#logStatus, 1);
    this.#appender.appendDataChunk(chunk);
    for (const v of this.#valid) v.reset();
    this.#srcTextRows = [];
    this.#dstTextRows = [];
    this.handedRows += rows;
    this.#rows = 0;
  }

  /** A text column: NULL but for the listed rows (one native call each). */
  #text(vector: bindings.Vector, values: (string | null)[], rows: number[], valid: Validity, n: number): void {
    for (const r of rows) bindings.vector_assign_string_element(vector, r, values[r]!);
    valid.writeTo(vector, n);
  }
}

/** First position in ascending `at` holding a value ≥ row. */
function lowerBound(at: number[], row: number): number {
  let lo = 0;
  let hi = at.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at[mid]! < row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Epoch ms (NaN: absent) → TIMESTAMP (int64 µs as two little-endian int32 halves). */
function timestamps(src: Float64Array, from: number, n: number, out: Int32Array, at: number, valid: Validity): void {
  for (let k = 0; k < n; k++) {
    const ms = src[from + k]!;
    if (ms !== ms) continue;
    const us = Math.round(ms) * 1000;
    if (!Number.isSafeInteger(us)) continue;
    out[2 * (at + k)] = us >>> 0;
    out[2 * (at + k) + 1] = Math.floor(us / TWO_32);
    valid.set(at + k);
  }
}

function integers(src: Float64Array, from: number, n: number, out: Int32Array | Int16Array, at: number, valid: Validity, min: number, max: number): void {
  for (let k = 0; k < n; k++) {
    const v = src[from + k]!;
    if (!Number.isInteger(v) || v < min || v > max) continue;
    out[at + k] = v;
    valid.set(at + k);
  }
}

/** Counts → BIGINT; beyond 2^53 they are whole numbers already rounded by the double, stored as such below 2^63. */
function bigints(src: Float64Array, from: number, n: number, out: Int32Array, at: number, valid: Validity): void {
  const wide = new BigInt64Array(out.buffer);
  for (let k = 0; k < n; k++) {
    const v = src[from + k]!;
    if (!Number.isInteger(v)) continue;
    if (Number.isSafeInteger(v)) {
      out[2 * (at + k)] = v >>> 0;
      out[2 * (at + k) + 1] = Math.floor(v / TWO_32);
    } else if (Math.abs(v) < 2 ** 63) wide[at + k] = BigInt(v);
    else continue;
    valid.set(at + k);
  }
}

/** 1-based codes (0: NULL) → the ENUM's 0-based index. */
function codes(src: Uint8Array, from: number, n: number, out: Uint8Array, at: number, valid: Validity): void {
  for (let k = 0; k < n; k++) {
    const c = src[from + k]!;
    if (c === 0) continue;
    out[at + k] = c - 1;
    valid.set(at + k);
  }
}

/** IPv4 numbers, except at the listed rows, whose text goes to the text column. Returns the next listed position. */
function addresses(numbers: Uint32Array, other: SparseText, next: number, from: number, n: number, out: Uint32Array, at: number, valid: Validity, text: (string | null)[], textRows: number[], textValid: Validity): number {
  out.set(numbers.subarray(from, from + n), at);
  const end = from + n;
  let k = next;
  let listed = k < other.at.length ? other.at[k]! : end;
  for (let r = from; r < end; r++) {
    if (r !== listed) {
      valid.set(at + r - from);
      continue;
    }
    const t = other.text[k]!;
    if (t !== null) {
      text[at + r - from] = t;
      textRows.push(at + r - from);
      textValid.set(at + r - from);
    }
    k++;
    listed = k < other.at.length ? other.at[k]! : end;
  }
  return k;
}
