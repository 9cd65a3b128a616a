/**
 * Turns an object's bytes into decompressed chunks, whatever the compression (recognised from the bytes by
 * `detectCompression`). gzip (multi-member too) streams through native zlib, or, for an object of at most 1 MiB,
 * is inflated in one call (no zlib stream per small object); zstd and both Snappy framings
 * stream through incremental codecs; zip buffers the archive (its directory is at the end). The total output
 * is capped (default 4 GiB) against decompression bombs. Every failure is an `ObjectDecodeError`.
 */
import * as zlib from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { kMaxLength } from 'node:buffer';
import { ObjectDecodeError } from '../errors.js';
import { detectCompression, type Compression } from './detect.js';
import { CappedCodec, PlainCodec, ZstdCodec, tooLarge, type Codec } from './codec.js';
import { HadoopSnappyCodec, SnappyFramedCodec } from './snappy.js';
import { unzipMembers } from './zip.js';
import { releaseBuffers } from '../../shared/release-buffers.js';

export const DEFAULT_MAX_DECOMPRESSED = 4 * 1024 ** 3;
const CHUNK = 256 * 1024;
/** gzip objects up to this size (compressed) whose content fits WHOLE_GZIP_OUT are inflated in one call */
const WHOLE_GZIP_IN = 1024 * 1024;
const WHOLE_GZIP_OUT = 16 * 1024 * 1024;
/** How many leading bytes `detectCompression` looks at. */
export const SNIFF_BYTES = 64;

export interface DecompressOptions {
  /** decompressed-size cap in bytes (default 4 GiB) */
  maxBytes?: number;
}

/**
 * Memory this module inflated into, and where the last chunk it yields over it ends: nothing else views it, so
 * once the consumer is done with that chunk the memory can go (`doneWith`). Without this, zlib's 256 KiB output
 * buffers waited for a garbage collection: on a fetch thread, which allocates few objects of its own, 20-25 MB of
 * them with 100k-record objects (heaptrack, at the peak of an end-to-end run).
 */
const owned = new WeakMap<ArrayBuffer, number>();

function own(last: Buffer): void {
  // a small Buffer can sit in Buffer's shared pool, which other Buffers read: never ours to free
  if (last.buffer.byteLength <= Buffer.poolSize) return;
  owned.set(last.buffer as ArrayBuffer, last.byteOffset + last.byteLength);
}

/**
 * The consumer of `decompressStream` is done with `chunk` and keeps no view of it (a decoder that copied what it
 * carries over): the memory under it is freed now when this module made it and `chunk` was the last piece of it.
 * Every other chunk is left to the garbage collector.
 */
export function doneWith(chunk: Uint8Array): void {
  const b = chunk.buffer as ArrayBuffer;
  if (owned.get(b) === chunk.byteOffset + chunk.byteLength) {
    owned.delete(b);
    releaseBuffers([b]);
  }
}

/**
 * The output chunk for inflating `compressedBytes` of gzip in one call: room for the whole content of a usual
 * object (flow logs inflate to 5-8 times their size) up to CHUNK. With zlib's default of 16 KiB, a 1,000-record
 * object came out in seven pieces joined at the end: 125 against 90 ns per record.
 */
function wholeChunkSize(compressedBytes: number): number {
  let size = 16 * 1024;
  while (size < CHUNK && size < compressedBytes * 8) size *= 2;
  return size;
}

/** Maps a zlib failure to a typed error: truncated input versus corrupt data. */
function gzipError(e: unknown): unknown {
  if (e instanceof ObjectDecodeError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ERR_BUFFER_TOO_LARGE') return undefined; // the caller reports the cap
  if (err.code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message)) {
    return new ObjectDecodeError('TLD_ERR_DECODE_GZIP_TRUNCATED', `truncated gzip data: the object ends inside a gzip member (${err.message})`, { cause: e });
  }
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) {
    return new ObjectDecodeError('TLD_ERR_DECODE_GZIP_CORRUPT', `corrupt gzip data (${err.message})`, { cause: e });
  }
  return e; // not zlib's (e.g. the source stream failed): unchanged
}

/** Buffers a zip archive, then yields its members. */
class ZipCodec implements Codec {
  readonly #parts: Buffer[] = [];
  #bytes = 0;
  constructor(private readonly max: number) {}
  push(chunk: Uint8Array): Buffer[] {
    this.#bytes += chunk.length;
    if (this.#bytes > kMaxLength) throw new ObjectDecodeError('TLD_ERR_DECODE_ZIP', `zip archive larger than ${kMaxLength} bytes`);
    this.#parts.push(Buffer.from(chunk));
    return [];
  }
  end(): Buffer[] {
    return unzipMembers(Buffer.concat(this.#parts), this.max);
  }
}

/** Buffers gzip data and inflates it at the end with native zlib (the synchronous path; streams use zlib streams). */
class GunzipWholeCodec implements Codec {
  readonly #parts: Buffer[] = [];
  constructor(private readonly max: number) {}
  push(chunk: Uint8Array): Buffer[] {
    this.#parts.push(Buffer.from(chunk));
    return [];
  }
  end(): Buffer[] {
    const limit = Math.min(this.max, kMaxLength);
    try {
      const whole = Buffer.concat(this.#parts);
      return [zlib.gunzipSync(whole, { maxOutputLength: limit, chunkSize: wholeChunkSize(whole.length) })];
    } catch (e) {
      throw gzipError(e) ?? tooLarge(limit);
    }
  }
}

/**
 * A synchronous incremental decompressor for the compression `firstBytes` reveal (give at least the first
 * 64 bytes of the object, or all of it when shorter; `totalSize` when known). gzip and zip buffer until
 * `end()` on this synchronous path; `decompressStream` streams gzip.
 */
export function createDecompressor(firstBytes: Buffer, opts: DecompressOptions & { totalSize?: number } = {}): Codec & { kind: Compression } {
  const kind = detectCompression(firstBytes, opts.totalSize ?? firstBytes.length);
  return Object.assign(codecFor(kind, opts.maxBytes ?? DEFAULT_MAX_DECOMPRESSED), { kind });
}

function codecFor(kind: Compression, max: number): Codec {
  switch (kind) {
    case 'gzip':
      return new GunzipWholeCodec(max);
    case 'zip':
      return new ZipCodec(max);
    case 'zstd':
      return new CappedCodec(new ZstdCodec(), max);
    case 'snappy-framed':
      return new CappedCodec(new SnappyFramedCodec(), max);
    case 'hadoop-snappy':
      return new CappedCodec(new HadoopSnappyCodec(), max);
    case 'plain':
      return new CappedCodec(new PlainCodec(), max);
  }
}

/** Decompresses a whole object synchronously (tests, `tld logtest`). */
export function decompressSync(bytes: Buffer, opts: DecompressOptions = {}): Buffer[] {
  const codec = createDecompressor(bytes.subarray(0, SNIFF_BYTES), { ...opts, totalSize: bytes.length });
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) out.push(...codec.push(bytes.subarray(at, at + CHUNK)));
  out.push(...codec.end());
  return out;
}

/**
 * Inflates a whole gzip object at once (every member); undefined when its content is larger than `limit` or it
 * cannot be inflated whole: it is then streamed, under the object's own cap, which yields the readable part of a
 * truncated or corrupt object before its error, as for any other object.
 */
function gunzipWhole(bytes: Buffer, limit: number): Buffer | undefined {
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: limit, chunkSize: wholeChunkSize(bytes.length) });
  } catch {
    return undefined;
  }
}

async function* gunzipStream(source: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Buffer> {
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK });
  const input = Readable.from(source, { objectMode: false });
  pipeline(input, gunzip, () => {}); // errors surface through the iteration below
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > max) throw tooLarge(max);
      // zlib writes its output into a buffer of CHUNK bytes of its own, piece after piece, and takes a new one once
      // a piece reaches the end: that piece is the last over it
      if (chunk.byteOffset + chunk.byteLength === chunk.buffer.byteLength) own(chunk);
      yield chunk;
    }
  } catch (e) {
    throw gzipError(e) ?? tooLarge(max);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}

async function* toAsync(source: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* source;
}

async function* prepend(head: Buffer, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (head.length > 0) yield head;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/**
 * Streams the decompressed content of an object body (an S3 GetObject body, a file stream, any async or
 * sync iterable of byte chunks). The compression is recognised from the first bytes.
 */
export async function* decompressStream(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: DecompressOptions = {}): AsyncGenerator<Buffer> {
  const max = opts.maxBytes ?? DEFAULT_MAX_DECOMPRESSED;
  const it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : toAsync(source)[Symbol.asyncIterator]();
  const headParts: Buffer[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < SNIFF_BYTES) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    headParts.push(Buffer.from(r.value));
    headBytes += r.value.length;
  }
  let head = Buffer.concat(headParts);
  const kind = detectCompression(head.subarray(0, SNIFF_BYTES), done ? head.length : Number.MAX_SAFE_INTEGER);
  if (kind === 'gzip') {
    // a small object (most flow-log deliveries) is inflated whole, without a zlib stream: ~200 µs less CPU per object
    const parts: Uint8Array[] = [head];
    let bytes = head.length;
    while (!done && bytes <= WHOLE_GZIP_IN) {
      const r = await it.next();
      if (r.done) done = true;
      else {
        parts.push(r.value);
        bytes += r.value.length;
      }
    }
    if (parts.length > 1) head = Buffer.concat(parts, bytes);
    if (done) {
      const whole = gunzipWhole(head, Math.min(max, WHOLE_GZIP_OUT));
      if (whole) {
        for (let at = 0; at < whole.length; at += CHUNK) {
          const chunk = whole.subarray(at, at + CHUNK);
          if (at + CHUNK >= whole.length) own(chunk);
          yield chunk;
        }
        return;
      }
    }
    yield* gunzipStream(prepend(head, it), max);
    return;
  }
  const codec = codecFor(kind, max);
  for await (const chunk of prepend(head, it)) yield* codec.push(chunk);
  yield* codec.end();
}

/** Decompressed content of a whole object held in memory, in chunks (gzip streams). */
export async function* decompress(body: Buffer, kind: Compression, max = DEFAULT_MAX_DECOMPRESSED): AsyncGenerator<Buffer> {
  if (kind === 'gzip') {
    yield* gunzipStream(
      (async function* () {
        for (let at = 0; at < body.length; at += CHUNK) yield body.subarray(at, at + CHUNK);
      })(),
      max,
    );
    return;
  }
  const codec = codecFor(kind, max);
  for (let at = 0; at < body.length; at += CHUNK) yield* codec.push(body.subarray(at, at + CHUNK));
  yield* codec.end();
}
