/**
 * Decoding entry points: pick the decoder of a bucket type, recognise compression from the bytes, and a
 * whole-buffer helper for tests and `tld logtest`.
 */
import type { AwsEvent } from '../shared/events.js';
import type { DecodeContext, ObjectDecoder } from './decoder.js';
import { detectCompression } from './compression/detect.js';
import { decompress } from './compression/decompress.js';
import { VpcFlowDecoder } from './vpcflow/decode.js';
import { FindingsDecoder } from './guardduty/decode.js';
import { CloudTrailDecoder } from './cloudtrail/decode.js';
import { CustomDecoder } from './custom/decode.js';

export { ObjectDecodeError } from './errors.js';
export { detectCompression, type Compression } from './compression/detect.js';
export { decompress } from './compression/decompress.js';
export type { DecodeContext, ObjectDecoder } from './decoder.js';

export function createObjectDecoder(ctx: DecodeContext): ObjectDecoder {
  switch (ctx.bucketType) {
    case 'vpcflow':
      return new VpcFlowDecoder(ctx);
    case 'guardduty':
      return new FindingsDecoder(ctx);
    case 'cloudtrail':
      return new CloudTrailDecoder(ctx);
    case 'custom':
      return new CustomDecoder(ctx);
  }
}

/** Sniffs compression, decompresses and decodes a whole object's bytes. */
export async function decodeBuffer(bytes: Buffer, ctx: DecodeContext): Promise<AwsEvent[]> {
  const kind = detectCompression(bytes.subarray(0, 64), bytes.length);
  const decoder = createObjectDecoder(ctx);
  const out: AwsEvent[] = [];
  for await (const chunk of decompress(bytes, kind)) for (const e of decoder.push(chunk)) out.push(e);
  for (const e of decoder.end()) out.push(e);
  return out;
}
