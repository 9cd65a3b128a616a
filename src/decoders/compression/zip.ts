/**
 * Zip archives (Kinesis Firehose `ZIP`): every member, in central-directory order, stored or deflated,
 * each checked against its declared size and CRC-32. Zip needs the whole archive (the directory is at the
 * end), so the archive is buffered. Wazuh read only the first member.
 */
import * as zlib from 'node:zlib';
import { ObjectDecodeError } from '../errors.js';
import { tooLarge } from './codec.js';

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

function zipError(message: string, cause?: unknown): ObjectDecodeError {
  return new ObjectDecodeError('TLD_ERR_DECODE_ZIP', `invalid zip archive: ${message}`, cause === undefined ? undefined : { cause });
}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw zipError('a zip64 size is out of range');
  return Number(v);
}

interface Directory {
  entries: number;
  offset: number;
}

function findDirectory(zip: Buffer): Directory {
  const lowest = Math.max(0, zip.length - 22 - 65535);
  for (let at = zip.length - 22; at >= lowest; at--) {
    if (zip.readUInt32LE(at) !== EOCD) continue;
    let entries = zip.readUInt16LE(at + 10);
    let offset = zip.readUInt32LE(at + 16);
    if ((entries === 0xffff || offset === U32_MAX) && at >= 20 && zip.readUInt32LE(at - 20) === ZIP64_LOCATOR) {
      const z64 = u64(zip, at - 20 + 8);
      if (z64 + 56 > zip.length || zip.readUInt32LE(z64) !== ZIP64_EOCD) throw zipError('broken zip64 end record');
      entries = u64(zip, z64 + 32);
      offset = u64(zip, z64 + 48);
    }
    return { entries, offset };
  }
  throw zipError('no end-of-central-directory record (truncated or not a zip file)');
}

/** Central-directory sizes/offset of 0xffffffff are in the zip64 extra field (id 1), in this order. */
function zip64Extra(extra: Buffer, sizes: { usize: number; csize: number; local: number }): void {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const len = extra.readUInt16LE(at + 2);
    if (id === 1) {
      let p = at + 4;
      for (const k of ['usize', 'csize', 'local'] as const) {
        if (sizes[k] === U32_MAX && p + 8 <= at + 4 + len) {
          sizes[k] = u64(extra, p);
          p += 8;
        }
      }
      return;
    }
    at += 4 + len;
  }
}

/** Decompressed members of a zip archive, in order, each followed by a newline when it lacks one. */
export function unzipMembers(zip: Buffer, max: number): Buffer[] {
  if (zip.length < 22) throw zipError('too short');
  const dir = findDirectory(zip);
  const out: Buffer[] = [];
  let total = 0;
  let at = dir.offset;
  for (let n = 0; n < dir.entries; n++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL) throw zipError(`central directory entry ${n + 1} is missing`);
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const sizes = { csize: zip.readUInt32LE(at + 20), usize: zip.readUInt32LE(at + 24), local: zip.readUInt32LE(at + 42) };
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLen);
    zip64Extra(zip.subarray(at + 46 + nameLen, at + 46 + nameLen + extraLen), sizes);
    at += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue; // a directory
    if (flags & 1) throw zipError(`member "${name}" is encrypted`);
    const local = sizes.local;
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== LOCAL) throw zipError(`member "${name}" has no local header`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + sizes.csize);
    if (data.length < sizes.csize) throw zipError(`member "${name}" is truncated`);
    if (total + sizes.usize > max) throw tooLarge(max);
    let plain: Buffer;
    if (method === 0) plain = Buffer.from(data);
    else if (method === 8) {
      try {
        plain = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, Math.min(max - total, sizes.usize + 1)) });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'ERR_BUFFER_TOO_LARGE') throw zipError(`member "${name}" inflates to more than its declared ${sizes.usize} bytes`, e);
        throw zipError(`member "${name}" is corrupt (${err.message})`, e);
      }
    } else throw zipError(`member "${name}" uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (plain.length !== sizes.usize) throw zipError(`member "${name}" has ${plain.length} bytes where the directory says ${sizes.usize}`);
    if (typeof zlib.crc32 === 'function' && zlib.crc32(plain) >>> 0 !== crc) throw zipError(`member "${name}" fails its CRC-32 check (corrupt data)`);
    total += plain.length;
    out.push(plain);
    if (plain.length > 0 && plain[plain.length - 1] !== 0x0a) out.push(Buffer.from('\n'));
  }
  return out;
}
