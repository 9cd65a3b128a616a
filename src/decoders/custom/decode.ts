/**
 * Wazuh's `custom` bucket type: content whose first non-blank character is `{` is read as EventBridge
 * events (any source, e.g. Macie, Inspector, GuardDuty; only objects with `detail` are kept), anything else
 * as VPC-flow-style lines (header-driven, `source: "vpc"`). GuardDuty port probes are split as for the
 * guardduty type. Record errors are the inner decoder's (json/concatenated.ts, vpcflow/decode.ts).
 */
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext, ObjectDecoder } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { FindingsDecoder } from '../guardduty/decode.js';
import { MAX_RECORD_BYTES } from '../json/records-array.js';
import { VpcFlowDecoder } from '../vpcflow/decode.js';

/** The first byte that is not blank (space, tab, CR, LF, UTF-8 byte-order mark at the very start), or -1. */
function firstNonBlank(chunk: Buffer, atStart: boolean): number {
  let i = atStart && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
  for (; i < chunk.length; i++) {
    const c = chunk[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
  }
  return -1;
}

export class CustomDecoder implements ObjectDecoder {
  readonly #ctx: DecodeContext;
  #inner: ObjectDecoder | undefined;
  /** blank chunks seen before the first non-blank byte (handed to the inner decoder, offsets stay true) */
  readonly #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(ctx: DecodeContext) {
    this.#ctx = ctx;
  }

  push(chunk: Buffer): AwsEvent[] {
    if (this.#inner) return this.#inner.push(chunk);
    const at = firstNonBlank(chunk, this.#pendingBytes === 0);
    if (at === -1) {
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes > MAX_RECORD_BYTES) {
        throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `the object starts with more than ${MAX_RECORD_BYTES} bytes of blank space: neither JSON events nor log lines`);
      }
      this.#pending.push(Buffer.from(chunk));
      return [];
    }
    this.#inner = chunk[at] === 0x7b ? new FindingsDecoder(this.#ctx, 'custom') : new VpcFlowDecoder(this.#ctx);
    const all = this.#pending.length === 0 ? chunk : Buffer.concat([...this.#pending, chunk]);
    this.#pending.length = 0;
    return this.#inner.push(all);
  }

  end(): AwsEvent[] {
    if (!this.#inner) {
      this.#inner = new VpcFlowDecoder(this.#ctx);
      if (this.#pending.length > 0) this.#inner.push(Buffer.concat(this.#pending));
    }
    return this.#inner.end();
  }
}
