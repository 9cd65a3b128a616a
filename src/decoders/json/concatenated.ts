/**
 * Splits a stream of JSON objects that follow each other with no delimiter (`{…}{…}`, as Kinesis Firehose
 * writes EventBridge events), or with newlines/whitespace between them (JSON Lines, pretty-printed). A
 * string-aware brace scanner finds where each object ends (a `}{` inside a string does not split it); each
 * object is then parsed with JSON.parse. Chunks may end anywhere. It scans bytes, not characters: `{`, `}`,
 * `"` and `\` never occur inside a multi-byte UTF-8 sequence, and offsets in messages are byte offsets.
 */
import { ObjectDecodeError } from '../errors.js';
import { MAX_RECORD_BYTES } from './records-array.js';

/**
 * One complete top-level object: its value, or why it could not be read (JSON.parse refused it, or it is
 * larger than the cap). `index` is 1-based, `offset` the byte where it starts, `line` the line.
 */
export type SplitItem =
  | { index: number; offset: number; line: number; value: unknown; error?: undefined }
  | { index: number; offset: number; line: number; error: string };

/**
 * One object larger than this is an error item, skipped to its end without being held: a bigger one could
 * not be parsed within the service's heap (see MAX_RECORD_BYTES); EventBridge events are at most 256 KB.
 */
export const MAX_OBJECT_BYTES = MAX_RECORD_BYTES;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class ConcatenatedJsonSplitter {
  /** bytes of the unfinished object seen in earlier chunks */
  #parts: Buffer[] = [];
  #partsBytes = 0;
  /** absolute byte offset of the next chunk's first byte */
  #base = 0;
  #inObject = false;
  #objectOffset = 0;
  /** 1-based line of the next byte, and of the current object's first byte */
  #line = 1;
  #objectLine = 1;
  #depth = 0;
  #inString = false;
  #escape = false;
  #objects = 0;
  /** the current object passed the cap: its bytes are no longer kept */
  #oversize = false;
  readonly #max: number;
  /** a structural error (not an object): scanning stops, the caller reports it after the objects before it */
  #fatal: ObjectDecodeError | undefined;

  constructor(maxObjectBytes = MAX_OBJECT_BYTES) {
    this.#max = maxObjectBytes;
  }

  /** The structural error met so far, if any (objects returned before it are good). */
  get fatal(): ObjectDecodeError | undefined {
    return this.#fatal;
  }

  /** Number of complete objects seen. */
  get objects(): number {
    return this.#objects;
  }

  /** Feeds a chunk; returns the objects it completes, in order. */
  push(chunk: Uint8Array): SplitItem[] {
    const out: SplitItem[] = [];
    if (this.#fatal) return out;
    let startInChunk = this.#inObject ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (c === 0x0a) this.#line++;
      if (!this.#inObject) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (c === 0x7b) {
          this.#inObject = true;
          this.#objectOffset = this.#base + i;
          this.#objectLine = this.#line;
          this.#depth = 1;
          this.#oversize = false;
          startInChunk = i;
          continue;
        }
        if (this.#base + i === 0 && c === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
          i += 2; // UTF-8 byte-order mark
          continue;
        }
        this.#fatal = new ObjectDecodeError(
          'TLD_ERR_DECODE_JSON',
          `invalid JSON: expected '{' at byte ${this.#base + i} (line ${this.#line}), found ${describe(c)}` +
            (this.#objects > 0 ? ` (after ${this.#objects} complete objects)` : ''),
          { offset: this.#base + i },
        );
        this.#base += chunk.length;
        return out;
      }
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === BACKSLASH) this.#escape = true;
        else if (c === QUOTE) this.#inString = false;
        continue;
      }
      if (c === QUOTE) this.#inString = true;
      else if (c === 0x7b || c === 0x5b) this.#depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--this.#depth === 0) {
          const tail = chunk.subarray(startInChunk, i + 1);
          const index = ++this.#objects;
          if (!this.#oversize && this.#partsBytes + tail.length > this.#max) this.#oversize = true;
          if (this.#oversize) {
            out.push({ index, offset: this.#objectOffset, line: this.#objectLine, error: `object ${index} (from byte ${this.#objectOffset}) is larger than ${this.#max} bytes` });
          } else {
            const bytes = this.#parts.length === 0 ? tail : Buffer.concat([...this.#parts, tail]);
            out.push(parseObject(bytes, index, this.#objectOffset, this.#objectLine));
          }
          this.#parts = [];
          this.#partsBytes = 0;
          this.#inObject = false;
        }
      }
    }
    if (this.#inObject && !this.#oversize) {
      const size = chunk.length - startInChunk;
      if (this.#partsBytes + size > this.#max) {
        this.#oversize = true; // scanned on to its end, reported there; its bytes are dropped
        this.#parts = [];
      } else {
        this.#parts.push(Buffer.from(chunk.subarray(startInChunk))); // copy: the caller may reuse its buffer
        this.#partsBytes += size;
      }
    }
    this.#base += chunk.length;
    return out;
  }

  /** Ends the stream: the structural error, or a truncated last object, as an ObjectDecodeError (else undefined). */
  finish(): ObjectDecodeError | undefined {
    if (this.#fatal) return this.#fatal;
    if (this.#inObject) {
      return new ObjectDecodeError(
        'TLD_ERR_DECODE_JSON',
        `truncated JSON: the file ends at byte ${this.#base} inside the object that starts at byte ${this.#objectOffset}` +
          ` (${this.#objects} complete objects before it were read)`,
        { offset: this.#objectOffset },
      );
    }
    return undefined;
  }
}

function parseObject(bytes: Uint8Array, index: number, offset: number, line: number): SplitItem {
  try {
    return { index, offset, line, value: JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')) };
  } catch (e) {
    return { index, offset, line, error: `object ${index} (from byte ${offset}) is not valid JSON: ${(e as Error).message}` };
  }
}

function describe(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16).padStart(2, '0')}`;
}
