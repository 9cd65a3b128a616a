/**
 * Recognises an object's compression from its first bytes (never from the key's suffix): gzip, zip, zstd,
 * Snappy (framing format, and Hadoop-Snappy as Kinesis Firehose writes it) or plain text.
 */
import { ObjectDecodeError } from '../errors.js';

export type Compression = 'gzip' | 'zip' | 'zstd' | 'snappy-framed' | 'hadoop-snappy' | 'plain';

const SNAPPY_STREAM_ID = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);

function readVarint(buf: Buffer, at: number): number | undefined {
  let result = 0;
  for (let i = 0, shift = 0; i < 5 && at + i < buf.length; i++, shift += 7) {
    const b = buf[at + i] ?? 0;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
  }
  return undefined;
}

/** Hadoop-Snappy: [u32 BE raw length][u32 BE compressed length][raw snappy block whose preamble is ≤ raw length]. */
function looksLikeHadoopSnappy(head: Buffer, total: number): boolean {
  if (head.length < 9) return false;
  const raw = head.readUInt32BE(0);
  const compressed = head.readUInt32BE(4);
  if (raw === 0 || raw > 256 * 1024 * 1024 || compressed === 0 || compressed > raw + raw / 6 + 64 || 8 + compressed > total) return false;
  const preamble = readVarint(head, 8);
  return preamble !== undefined && preamble > 0 && preamble <= raw;
}

function looksLikeText(head: Buffer): boolean {
  const n = Math.min(head.length, 4096);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i] ?? 0;
    if (b === 0) return false;
    if (b < 0x09 || (b > 0x0d && b < 0x20)) control++;
  }
  return control <= n / 100;
}

/** `head`: the first bytes of the object (at least 16 when the object has them); `total`: its size. */
export function detectCompression(head: Buffer, total: number = head.length): Compression {
  if (total === 0 || head.length === 0) throw new ObjectDecodeError('TLD_ERR_DECODE_EMPTY_OBJECT', 'the object is empty');
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 0x03 || head[2] === 0x05) && (head[3] === 0x04 || head[3] === 0x06)) return 'zip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.subarray(0, SNAPPY_STREAM_ID.length).equals(SNAPPY_STREAM_ID)) return 'snappy-framed';
  if (looksLikeText(head)) return 'plain';
  if (looksLikeHadoopSnappy(head, total)) return 'hadoop-snappy';
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') {
    throw new ObjectDecodeError('TLD_ERR_DECODE_UNKNOWN_COMPRESSION', 'Parquet content (magic "PAR1") is not supported; configure the flow log or Firehose stream to write text');
  }
  throw new ObjectDecodeError(
    'TLD_ERR_DECODE_UNKNOWN_COMPRESSION',
    `unknown content: not gzip, zip, zstd, Snappy or text (first bytes ${head.subarray(0, 8).toString('hex')})`,
  );
}
