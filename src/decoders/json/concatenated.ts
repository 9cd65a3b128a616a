/**
 * Splits a stream of JSON objects that follow each other with no delimiter (`{…}{…}`, as Kinesis Firehose
 * writes EventBridge events), or with newlines/whitespace between them (JSON Lines, pretty-printed). A
 * string-aware brace scanner finds where each object ends (a `}{` inside a string does not split it); each
 * object is then parsed with JSON.parse. Chunks may end anywhere. It scans bytes, not characters: `{`, `}`,
 * `"` and `\` never occur inside a multi-byte UTF-8 sequence, and offsets in messages are byte offsets.
 */
import { ObjectDecodeError } from '../errors.js';

/** One complete top-level object: its value, or why JSON.parse refused it. `offset` = byte where it starts. */
export type SplitItem =
  | { offset: number; line: number; value: unknown; error?: undefined }
  | { offset: number; line: number; error: string };

/** One object larger than this is refused (a JSON string cannot hold more than ~512 MiB anyway). */
export const MAX_OBJECT_BYTES = 256 * 1024 * 1024;

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
  /** a structural error (not an object): scanning stops, the caller reports it after the objects before it */
  #fatal: ObjectDecodeError | undefined;

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
          const bytes = this.#parts.length === 0 ? tail : Buffer.concat([...this.#parts, tail]);
          this.#parts = [];
          this.#partsBytes = 0;
          this.#inObject = false;
          this.#objects++;
          out.push(parseObject(bytes, this.#objectOffset, this.#objectLine));
        }
      }
    }
    if (this.#inObject) {
      const rest = Buffer.from(chunk.subarray(startInChunk)); // copy: the caller may reuse its buffer
      this.#parts.push(rest);
      this.#partsBytes += rest.length;
      if (this.#partsBytes > MAX_OBJECT_BYTES) {
        this.#fatal = new ObjectDecodeError(
          'TLD_ERR_DECODE_JSON',
          `the JSON object starting at byte ${this.#objectOffset} exceeds ${MAX_OBJECT_BYTES} bytes`,
          { offset: this.#objectOffset },
        );
        this.#parts = [];
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

function parseObject(bytes: Uint8Array, offset: number, line: number): SplitItem {
  try {
    return { offset, line, value: JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')) };
  } catch (e) {
    return { offset, line, error: `invalid JSON in the object starting at byte ${offset}: ${(e as Error).message}` };
  }
}

function describe(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16).padStart(2, '0')}`;
}
