/**
 * Decoding entry points: pick the decoder of a bucket type, recognise compression from the bytes, and a
 * whole-buffer helper for tests and `tld logtest`.
 *
 * Per object: `const d = createObjectDecoder(ctx)`; for each decompressed chunk (from `decompress(body,
 * detectCompression(head, size))` or `decompressStream(body)`) call `d.push(chunk)`, then `d.end()` once.
 * VPC flow logs also decode to columns (`createFlowDecoder`: FlowBatch per header and up to 16k records), which
 * the rules read without an event per record (`Analyzer.analyzeFlows`); the event API materializes them.
 */
import type { AwsEvent } from '../shared/events.js';
import type { DecodeContext, ObjectDecoder } from './decoder.js';
import { decompressSync, type DecompressOptions } from './compression/decompress.js';
import { VpcFlowEventDecoder } from './vpcflow/flow-event-decoder.js';
import { VpcColumnDecoder, type FlowDecodeOptions } from './vpcflow/column-decoder.js';
import { FindingsDecoder } from './guardduty/decode.js';
import { CloudTrailDecoder } from './cloudtrail/decode.js';
import { CustomDecoder } from './custom/decode.js';

export { ObjectDecodeError, type DecodeErrorCode } from './errors.js';
export { detectCompression, type Compression } from './compression/detect.js';
export {
  decompress,
  decompressStream,
  doneWith,
  decompressSync,
  createDecompressor,
  DEFAULT_MAX_DECOMPRESSED,
  SNIFF_BYTES,
  type DecompressOptions,
} from './compression/decompress.js';
export type { Codec } from './compression/codec.js';
export type { DecodeContext, ObjectDecoder, RecordErrorInfo } from './decoder.js';
export { VpcColumnDecoder, type FlowDecodeOptions } from './vpcflow/column-decoder.js';
export { DEFAULT_BATCH_ROWS, columnOf, ipv4At, transferables, type FlowBatch, type FlowColumn, type FlowLayout, type NumberColumn, type TextColumn } from './vpcflow/flow-batch.js';
export { FlowEvents, eventsOf, materialize } from './vpcflow/flow-events.js';

/** The decoder for one object of a bucket of type `ctx.bucketType` (guardduty reads Firehose and native export files). */
export function createObjectDecoder(ctx: DecodeContext): ObjectDecoder {
  switch (ctx.bucketType) {
    case 'vpcflow':
      return new VpcFlowEventDecoder(ctx);
    case 'guardduty':
      return new FindingsDecoder(ctx, 'guardduty');
    case 'cloudtrail':
      return new CloudTrailDecoder(ctx);
    case 'custom':
      return new CustomDecoder(ctx);
  }
}

/**
 * The columnar decoder of a VPC flow-log object (`push(chunk)` → FlowBatch[], `flush()`, `end()`); records read
 * exactly as `createObjectDecoder` reads them. Other bucket types have no columnar form.
 */
export function createFlowDecoder(ctx: DecodeContext, opts: FlowDecodeOptions = {}): VpcColumnDecoder {
  if (ctx.bucketType !== 'vpcflow') throw new Error(`no columnar decoder for ${ctx.bucketType} objects (only vpcflow)`);
  return new VpcColumnDecoder(ctx, opts);
}

/** Sniffs compression, decompresses and decodes a whole object's bytes, synchronously. Throws ObjectDecodeError. */
export function decodeBuffer(bytes: Buffer, ctx: DecodeContext, opts: DecompressOptions = {}): AwsEvent[] {
  const decoder = createObjectDecoder(ctx);
  const out: AwsEvent[] = [];
  for (const chunk of decompressSync(bytes, opts)) for (const e of decoder.push(chunk)) out.push(e);
  for (const e of decoder.end()) out.push(e);
  return out;
}
