/**
 * Decoding entry points: pick the decoder of a bucket type, recognise compression from the bytes, and a
 * whole-buffer helper for tests and `tld logtest`.
 *
 * Per object: `const d = createObjectDecoder(ctx)`; for each decompressed chunk (from `decompress(body,
 * detectCompression(head, size))` or `decompressStream(body)`) call `d.push(chunk)`, then `d.end()` once.
 */
import type { AwsEvent } from '../shared/events.js';
import type { DecodeContext, ObjectDecoder } from './decoder.js';
import { decompressSync, type DecompressOptions } from './compression/decompress.js';
import { VpcFlowDecoder } from './vpcflow/decode.js';
import { FindingsDecoder } from './guardduty/decode.js';
import { CloudTrailDecoder } from './cloudtrail/decode.js';
import { CustomDecoder } from './custom/decode.js';

export { ObjectDecodeError, type DecodeErrorCode } from './errors.js';
export { detectCompression, type Compression } from './compression/detect.js';
export {
  decompress,
  decompressStream,
  decompressSync,
  createDecompressor,
  DEFAULT_MAX_DECOMPRESSED,
  SNIFF_BYTES,
  type DecompressOptions,
} from './compression/decompress.js';
export type { Codec } from './compression/codec.js';
export type { DecodeContext, ObjectDecoder, RecordErrorInfo } from './decoder.js';

/** The decoder for one object of a bucket of type `ctx.bucketType` (guardduty reads Firehose and native export files). */
export function createObjectDecoder(ctx: DecodeContext): ObjectDecoder {
  switch (ctx.bucketType) {
    case 'vpcflow':
      return new VpcFlowDecoder(ctx);
    case 'guardduty':
      return new FindingsDecoder(ctx, 'guardduty');
    case 'cloudtrail':
      return new CloudTrailDecoder(ctx);
    case 'custom':
      return new CustomDecoder(ctx);
  }
}

/** Sniffs compression, decompresses and decodes a whole object's bytes, synchronously. Throws ObjectDecodeError. */
export function decodeBuffer(bytes: Buffer, ctx: DecodeContext, opts: DecompressOptions = {}): AwsEvent[] {
  const decoder = createObjectDecoder(ctx);
  const out: AwsEvent[] = [];
  for (const chunk of decompressSync(bytes, opts)) for (const e of decoder.push(chunk)) out.push(e);
  for (const e of decoder.end()) out.push(e);
  return out;
}
