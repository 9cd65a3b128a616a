/**
 * Wazuh's `custom` bucket type: content whose first non-blank character is `{` is read as EventBridge
 * events (any source, e.g. Macie, Inspector, GuardDuty; only objects with `detail` are kept), anything else
 * as VPC-flow-style lines (header-driven, `source: "vpc"`). GuardDuty port probes are split as for the
 * guardduty type.
 */
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext, ObjectDecoder } from '../decoder.js';
import { FindingsDecoder } from '../guardduty/decode.js';
import { VpcFlowDecoder } from '../vpcflow/decode.js';

export class CustomDecoder implements ObjectDecoder {
  readonly #ctx: DecodeContext;
  #inner: ObjectDecoder | undefined;
  readonly #pending: Buffer[] = [];

  constructor(ctx: DecodeContext) {
    this.#ctx = ctx;
  }

  push(chunk: Buffer): AwsEvent[] {
    if (!this.#inner) {
      this.#pending.push(chunk);
      const head = Buffer.concat(this.#pending).toString('utf8').trimStart();
      if (head === '') return [];
      this.#inner = head.startsWith('{') ? new FindingsDecoder(this.#ctx, 'custom') : new VpcFlowDecoder(this.#ctx);
      const all = Buffer.concat(this.#pending);
      this.#pending.length = 0;
      return this.#inner.push(all);
    }
    return this.#inner.push(chunk);
  }

  end(): AwsEvent[] {
    if (!this.#inner) this.#inner = new VpcFlowDecoder(this.#ctx);
    return this.#inner.end();
  }
}
