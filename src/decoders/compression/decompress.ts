/**
 * Turns an object's bytes into decompressed chunks. gzip streams (concatenated members included); zip,
 * zstd and Snappy work on the whole object (Firehose objects are small; VPC objects are gzip). The total
 * output is capped to stop decompression bombs. This module is the only user of node:zlib.
 */
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { unzipSync } from 'fflate';
import { decompress as zstdDecompress } from 'fzstd';
import snappy from 'snappyjs';
import { ObjectDecodeError } from '../errors.js';
import type { Compression } from './detect.js';

export const DEFAULT_MAX_DECOMPRESSED = 4 * 1024 ** 3;
const CHUNK = 256 * 1024;

function tooLarge(max: number): ObjectDecodeError {
  return new ObjectDecodeError('TLD_ERR_DECODE_TOO_LARGE', `decompressed content exceeds ${max} bytes (possible decompression bomb)`);
}

async function* gunzip(body: Buffer, max: number): AsyncGenerator<Buffer> {
  const stream = Readable.from([body]).pipe(createGunzip({ chunkSize: CHUNK }));
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > max) throw tooLarge(max);
      yield chunk;
    }
  } catch (e) {
    if (e instanceof ObjectDecodeError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message)) {
      throw new ObjectDecodeError('TLD_ERR_DECODE_GZIP_TRUNCATED', `truncated gzip data (${err.message})`, { cause: e });
    }
    throw new ObjectDecodeError('TLD_ERR_DECODE_GZIP_CORRUPT', `corrupt gzip data (${err.message})`, { cause: e });
  } finally {
    stream.destroy();
  }
}

function unzip(body: Buffer, max: number): Buffer[] {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(body);
  } catch (e) {
    throw new ObjectDecodeError('TLD_ERR_DECODE_ZIP', `corrupt zip archive (${(e as Error).message})`, { cause: e });
  }
  const parts: Buffer[] = [];
  let total = 0;
  for (const name of Object.keys(files)) {
    if (name.endsWith('/')) continue;
    const data = files[name] ?? new Uint8Array();
    total += data.length + 1;
    if (total > max) throw tooLarge(max);
    parts.push(Buffer.from(data.buffer, data.byteOffset, data.length), Buffer.from('\n'));
  }
  return parts;
}

function unzstd(body: Buffer): Buffer {
  try {
    const out = zstdDecompress(body);
    return Buffer.from(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    throw new ObjectDecodeError('TLD_ERR_DECODE_ZSTD', `corrupt zstd data (${(e as Error).message})`, { cause: e });
  }
}

function snappyBlock(block: Uint8Array, where: string): Buffer {
  try {
    const out = snappy.uncompress(block) as Uint8Array;
    return Buffer.from(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    throw new ObjectDecodeError('TLD_ERR_DECODE_SNAPPY', `corrupt Snappy block at ${where} (${(e as Error).message})`, { cause: e });
  }
}

/** Snappy framing format: chunks of [type u8][length u24 LE][data]. */
function unsnappyFramed(body: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  let total = 0;
  let at = 0;
  while (at < body.length) {
    if (at + 4 > body.length) throw new ObjectDecodeError('TLD_ERR_DECODE_SNAPPY', `truncated Snappy frame header at byte ${at}`);
    const type = body[at] ?? 0;
    const len = body.readUIntLE(at + 1, 3);
    const data = body.subarray(at + 4, at + 4 + len);
    if (data.length < len) throw new ObjectDecodeError('TLD_ERR_DECODE_SNAPPY', `truncated Snappy frame at byte ${at}`);
    if (type === 0x00 || type === 0x01) {
      const payload = data.subarray(4); // skip the masked CRC-32C
      const chunk = type === 0x00 ? snappyBlock(payload, `byte ${at}`) : Buffer.from(payload);
      total += chunk.length;
      if (total > max) throw tooLarge(max);
      out.push(chunk);
    } else if (type >= 0x02 && type <= 0x7f) {
      throw new ObjectDecodeError('TLD_ERR_DECODE_SNAPPY', `reserved Snappy chunk type 0x${type.toString(16)} at byte ${at}`);
    } // 0xff stream identifier, 0xfe padding, 0x80–0xfd skippable
    at += 4 + len;
  }
  return out;
}

/** Hadoop-Snappy: blocks of [u32 BE raw length] then [u32 BE compressed length][raw snappy]… until raw length. */
function unsnappyHadoop(body: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  let total = 0;
  let at = 0;
  while (at < body.length) {
    if (at + 4 > body.length) throw new ObjectDecodeError('TLD_ERR_DECODE_SNAPPY', `truncated Hadoop-Snappy block at byte ${at}`);
    const raw = body.readUInt32BE(at);
    at += 4;
    let produced = 0;
    while (produced < raw) {
      if (at + 4 > body.length) throw new ObjectDecodeError('TLD_ERR_DECODE_SNAPPY', `truncated Hadoop-Snappy block at byte ${at}`);
      const len = body.readUInt32BE(at);
      const block = body.subarray(at + 4, at + 4 + len);
      if (block.length < len) throw new ObjectDecodeError('TLD_ERR_DECODE_SNAPPY', `truncated Hadoop-Snappy block at byte ${at}`);
      const chunk = snappyBlock(block, `byte ${at}`);
      produced += chunk.length;
      total += chunk.length;
      if (total > max) throw tooLarge(max);
      out.push(chunk);
      at += 4 + len;
    }
  }
  return out;
}

/** Decompressed content of `body`, in chunks. Errors are `ObjectDecodeError`s. */
export async function* decompress(body: Buffer, kind: Compression, max = DEFAULT_MAX_DECOMPRESSED): AsyncGenerator<Buffer> {
  switch (kind) {
    case 'gzip':
      yield* gunzip(body, max);
      return;
    case 'zip':
      yield* unzip(body, max);
      return;
    case 'zstd': {
      const out = unzstd(body);
      if (out.length > max) throw tooLarge(max);
      yield out;
      return;
    }
    case 'snappy-framed':
      yield* unsnappyFramed(body, max);
      return;
    case 'hadoop-snappy':
      yield* unsnappyHadoop(body, max);
      return;
    case 'plain':
      for (let at = 0; at < body.length; at += CHUNK) yield body.subarray(at, at + CHUNK);
  }
}
