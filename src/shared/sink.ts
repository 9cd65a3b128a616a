/**
 * What the collector hands its events to (the pipeline: analysis → alerts/archives files → store).
 * The collector calls `write` for each batch of an object, then `objectDone` once; it marks the object
 * processed in its state store only after `objectDone` resolved, passing on the checkpoint it returned.
 */
import type { EventBatch, ObjectRef } from './events.js';
import type { FlowBatch } from '../decoders/vpcflow/flow-batch.js';

export interface ObjectOutcome {
  status: 'ok' | 'error';
  /** set when status is 'error': one line naming the cause */
  error?: string;
  records: number;
}

/** Sizes of the append-only output files after an object's events were written (for crash recovery). */
export type OutputCheckpoint = Record<string, number>;

export interface EventSink {
  write(batch: EventBatch): void | Promise<void>;
  /** VPC records as columns (a FlowBatch of `object`); sinks without it are given the batch's events */
  writeFlows?(object: ObjectRef, batch: FlowBatch): void | Promise<void>;
  /**
   * Everything written for `object` is durable when this resolves. The collector may go on reading other
   * objects before it resolves (group commit); resolutions come in call order.
   */
  objectDone(object: ObjectRef, outcome: ObjectOutcome): Promise<OutputCheckpoint | undefined>;
  /** Makes finished objects durable now instead of after the grouping delay. */
  commitPending?(): Promise<void>;
  /**
   * The object will be read again later (it failed and skip_on_error is off): take back what was written
   * for it since the last `objectDone`, so the retry does not duplicate it.
   */
  abortObject?(object: ObjectRef): Promise<void>;
  /**
   * The state store could not mark a committed object processed: `objects` (that one, and each later one whose
   * mark is skipped) are read again, so the outputs go back to `checkpoint` and their output is taken back.
   */
  markFailed?(error: unknown, checkpoint: OutputCheckpoint | undefined, objects: ObjectRef[]): Promise<void>;
}
