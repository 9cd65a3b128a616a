/**
 * The event API (`ObjectDecoder`: AwsEvent[] per chunk) over the columnar decoder, for callers that still
 * take events: each push returns the events of the records completed by it, as decode.ts does.
 */
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext, ObjectDecoder } from '../decoder.js';
import { VpcColumnDecoder } from './column-decoder.js';
import { eventsOf } from './flow-events.js';
import type { FlowBatch } from './flow-batch.js';

function events(batches: FlowBatch[]): AwsEvent[] {
  if (batches.length === 1) return eventsOf(batches[0] as FlowBatch);
  return batches.flatMap(eventsOf);
}

export class VpcFlowEventDecoder implements ObjectDecoder {
  readonly #columns: VpcColumnDecoder;

  constructor(ctx: DecodeContext) {
    this.#columns = new VpcColumnDecoder(ctx);
  }

  push(chunk: Buffer): AwsEvent[] {
    const done = this.#columns.push(chunk);
    return events(done.concat(this.#columns.flush()));
  }

  end(): AwsEvent[] {
    return events(this.#columns.end());
  }
}
