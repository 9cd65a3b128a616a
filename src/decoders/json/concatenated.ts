/**
 * Splits a stream of JSON objects that follow each other with no delimiter (`{…}{…}`, as Kinesis Firehose
 * writes EventBridge events), or with newlines/whitespace between them, or pretty-printed. A string-aware
 * brace scanner finds where each object ends (a `}{` inside a string does not split it); each object is then
 * parsed with JSON.parse. Chunks may end anywhere.
 */
import { StringDecoder } from 'node:string_decoder';
import { ObjectDecodeError } from '../errors.js';

export class ConcatenatedJsonSplitter {
  readonly #text = new StringDecoder('utf8');
  #buf = '';
  /** scan position inside #buf */
  #pos = 0;
  /** start of the current object inside #buf, -1 when between objects */
  #start = -1;
  #depth = 0;
  #inString = false;
  #escape = false;
  /** bytes (UTF-16 units) consumed before #buf, for error offsets */
  #consumed = 0;

  /** Feeds a chunk; returns the objects completed by it. */
  push(chunk: Buffer): unknown[] {
    this.#buf += this.#text.write(chunk);
    return this.#scan();
  }

  /** Ends the stream; throws when the last object is incomplete (after `push` returned the complete ones). */
  end(): unknown[] {
    this.#buf += this.#text.end();
    const out = this.#scan();
    if (this.#start !== -1) {
      throw new ObjectDecodeError('TLD_ERR_DECODE_JSON', `truncated JSON: the object starting at character ${this.#consumed + this.#start} never ends`);
    }
    return out;
  }

  #scan(): unknown[] {
    const out: unknown[] = [];
    const s = this.#buf;
    let i = this.#pos;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (this.#start === -1) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) continue;
        if (c !== 0x7b /* { */) {
          throw new ObjectDecodeError('TLD_ERR_DECODE_JSON', `invalid JSON: expected '{' at character ${this.#consumed + i}, found '${s[i]}'`);
        }
        this.#start = i;
        this.#depth = 1;
        continue;
      }
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === 0x5c /* \ */) this.#escape = true;
        else if (c === 0x22 /* " */) this.#inString = false;
        continue;
      }
      if (c === 0x22) this.#inString = true;
      else if (c === 0x7b || c === 0x5b) this.#depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.#depth--;
        if (this.#depth === 0) {
          const text = s.slice(this.#start, i + 1);
          try {
            out.push(JSON.parse(text));
          } catch (e) {
            throw new ObjectDecodeError('TLD_ERR_DECODE_JSON', `invalid JSON in the object starting at character ${this.#consumed + this.#start}: ${(e as Error).message}`);
          }
          this.#start = -1;
        }
      }
    }
    // keep only the unfinished object
    const keepFrom = this.#start === -1 ? i : this.#start;
    this.#consumed += keepFrom;
    this.#buf = s.slice(keepFrom);
    this.#pos = i - keepFrom;
    if (this.#start !== -1) this.#start = 0;
    return out;
  }
}
