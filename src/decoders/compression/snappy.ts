/**
 * Snappy as Kinesis Firehose writes it, decoded incrementally:
 * - `Snappy`: the framing format (stream identifier `ff 06 00 00 sNaPpY`, then chunks
 *   `[type u8][length u24 LE][data]`; compressed/uncompressed chunks carry a masked CRC-32C, verified);
 * - `HADOOP_SNAPPY`: Hadoop's block format (`[u32 BE raw length]` then `[u32 BE compressed length][raw
 *   snappy block]` repeated until the raw length is produced, block after block).
 * Raw blocks are decompressed by snappyjs.
 */
import snappy from 'snappyjs';
import { ObjectDecodeError } from '../errors.js';
import type { Codec } from './codec.js';

const STREAM_ID = Buffer.from('sNaPpY', 'latin1');
/** Framing format: at most 64 KiB of uncompressed data per chunk. */
const MAX_FRAME_DATA = 65536;
/** Hadoop-Snappy: refuse absurd block sizes before buffering them (Hadoop's default is 256 KiB). */
const MAX_HADOOP_BLOCK = 64 * 1024 * 1024;

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as the Snappy framing format uses. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = (CRC32C_TABLE[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The framing format's masked checksum of some uncompressed data. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

function snappyError(message: string, offset: number, cause?: unknown): ObjectDecodeError {
  return new ObjectDecodeError('TLD_ERR_DECODE_SNAPPY', `${message} at byte ${offset} of the Snappy data`, { offset, ...(cause ? { cause } : {}) });
}

function uncompressBlock(block: Uint8Array, maxLength: number, offset: number): Buffer {
  let out: Uint8Array;
  try {
    out = snappy.uncompress(block, maxLength);
  } catch (e) {
    throw snappyError(`corrupt Snappy block (${(e as Error).message})`, offset, e);
  }
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

/** Collects input bytes and hands out complete units; `consumed` tracks absolute offsets for messages. */
class ByteQueue {
  #buf: Buffer = Buffer.alloc(0);
  consumed = 0;
  append(chunk: Uint8Array): void {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
  }
  get length(): number {
    return this.#buf.length;
  }
  peek(): Buffer {
    return this.#buf;
  }
  take(n: number): Buffer {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    this.consumed += n;
    return out;
  }
}

/** Snappy framing format decoder. */
export class SnappyFramedCodec implements Codec {
  readonly #q = new ByteQueue();

  push(chunk: Uint8Array): Buffer[] {
    this.#q.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      const buf = this.#q.peek();
      if (buf.length < 4) break;
      const type = buf[0] as number;
      const len = buf.readUIntLE(1, 3);
      if (buf.length < 4 + len) break;
      const at = this.#q.consumed;
      const data = this.#q.take(4 + len).subarray(4);
      if (type === 0xff) {
        if (!data.equals(STREAM_ID)) throw snappyError('bad Snappy stream identifier', at);
      } else if (type === 0x00 || type === 0x01) {
        if (len < 4) throw snappyError('Snappy chunk too short for its checksum', at);
        const payload = data.subarray(4);
        const plain = type === 0x00 ? uncompressBlock(payload, MAX_FRAME_DATA, at) : Buffer.from(payload);
        if (plain.length > MAX_FRAME_DATA) throw snappyError('Snappy chunk holds more than 64 KiB', at);
        if (maskedCrc32c(plain) !== data.readUInt32LE(0)) throw snappyError('Snappy checksum mismatch (corrupt data)', at);
        out.push(plain);
      } else if (type <= 0x7f) {
        throw snappyError(`reserved unskippable Snappy chunk type 0x${type.toString(16)}`, at);
      } // 0x80–0xfe: padding / skippable chunks
    }
    return out;
  }

  end(): Buffer[] {
    if (this.#q.length > 0) throw snappyError('truncated Snappy chunk (the object ends inside it)', this.#q.consumed);
    return [];
  }
}

/** Hadoop-Snappy block format decoder. */
export class HadoopSnappyCodec implements Codec {
  readonly #q = new ByteQueue();
  /** raw bytes still expected from the current block; -1 between blocks */
  #remaining = -1;

  push(chunk: Uint8Array): Buffer[] {
    this.#q.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      const buf = this.#q.peek();
      if (this.#remaining <= 0) {
        if (buf.length < 4) break;
        const at = this.#q.consumed;
        const raw = buf.readUInt32BE(0);
        if (raw > MAX_HADOOP_BLOCK) throw snappyError(`Hadoop-Snappy block of ${raw} bytes is larger than ${MAX_HADOOP_BLOCK}`, at);
        this.#q.take(4);
        this.#remaining = raw;
        if (raw === 0) this.#remaining = -1;
        continue;
      }
      if (buf.length < 4) break;
      const at = this.#q.consumed;
      const len = buf.readUInt32BE(0);
      if (len > MAX_HADOOP_BLOCK) throw snappyError(`Hadoop-Snappy compressed chunk of ${len} bytes is implausible (corrupt data)`, at);
      if (buf.length < 4 + len) break;
      const block = this.#q.take(4 + len).subarray(4);
      const plain = uncompressBlock(block, this.#remaining, at);
      this.#remaining -= plain.length;
      if (plain.length === 0) throw snappyError('empty Hadoop-Snappy chunk inside a block', at);
      out.push(plain);
    }
    return out;
  }

  end(): Buffer[] {
    if (this.#q.length > 0 || this.#remaining > 0) {
      throw snappyError('truncated Hadoop-Snappy block (the object ends inside it)', this.#q.consumed);
    }
    return [];
  }
}
