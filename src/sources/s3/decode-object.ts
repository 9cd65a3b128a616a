/**
 * One object's content through its decoder into the sink, in batches of at most BATCH_SIZE events: record
 * indexes count from 0 in the object, records that cannot be read are counted (and the first few quoted), and a
 * failure says whose it is (the object's content, the read, or an output).
 */
import type { BucketConfig } from '../../config/types.js';
import type { AwsEvent, ObjectRef } from '../../shared/events.js';
import type { EventSink } from '../../shared/sink.js';
import { createObjectDecoder, ObjectDecodeError } from '../../decoders/index.js';
import { OutputError } from '../../outputs/output-error.js';
import { TransientReadError, type ObjectContent } from './read-object.js';
import type { FlowContent } from './fetch-pool.js';
import { S3AccessError } from './errors.js';
import { eventsOf } from '../../decoders/vpcflow/flow-events.js';
import { releaseBatch } from '../../decoders/vpcflow/flow-batch.js';

/** Events per `sink.write` at most. */
export const BATCH_SIZE = 5000;

/** At most this many record errors are quoted in an object's error line (the count says how many in all). */
export const QUOTED_RECORD_ERRORS = 3;

/** Records that could not be read: how many, and the first few messages (`line N: cause`). */
export interface RecordErrors {
  count: number;
  first: string[];
}

export interface DecodedObject {
  records: number;
  recordErrors: RecordErrors;
}

/**
 * Decodes `content` into `sink` as events of `ref`; `written.events` counts what reached the sink (also when this
 * throws, so a retry knows what to take back). Throws ObjectDecodeError (bad content), S3AccessError (GetObject
 * refused), TransientReadError (the body broke or came short) or OutputError (an output failed).
 */
export async function decodeObject(b: BucketConfig, account: string | undefined, ref: ObjectRef, content: ObjectContent, sink: EventSink, written: { events: number }): Promise<DecodedObject> {
  const logInfo = { aws_account_alias: b.awsAccountAlias, log_file: ref.key, s3bucket: b.name };
  // a count and the first few: an object of millions of bad lines must not hold millions of messages
  const recordErrors: RecordErrors = { count: 0, first: [] };
  const decoder = createObjectDecoder({
    bucketType: b.type,
    logInfo,
    ...(account && b.type !== 'guardduty' ? { accountId: account } : {}),
    ...(b.discardRegex ? { discard: b.discardRegex } : {}),
    onRecordError: (line, message) => {
      if (recordErrors.count++ < QUOTED_RECORD_ERRORS) recordErrors.first.push(`line ${line}: ${message}`);
    },
  });
  let index = 0;
  let batch: AwsEvent[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const events = batch;
    batch = [];
    await sink.write({ object: ref, firstIndex: index - events.length, events });
    written.events += events.length;
  };
  const add = async (events: AwsEvent[]) => {
    for (const e of events) {
      batch.push(e);
      index++;
      if (batch.length >= BATCH_SIZE) await flush();
    }
  };
  try {
    for await (const chunk of content.chunks) await add(decoder.push(chunk));
    await add(decoder.end());
    await flush();
  } catch (e) {
    content.discard();
    if (e instanceof OutputError) throw e;
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof OutputError) throw cause;
    // what was decoded before the failure is delivered; the caller adds the object's error event after it
    await flush();
    // the GET refused (S3AccessError) keeps its class: the caller tells a key deleted meanwhile from a bucket failure
    if (e instanceof TransientReadError || e instanceof ObjectDecodeError || e instanceof S3AccessError) throw e;
    if (cause instanceof TransientReadError) throw cause;
    throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `unexpected error while decoding: ${(e as Error).message}`, { cause: e });
  }
  return { records: index, recordErrors };
}

/**
 * `decodeObject` for a VPC object decoded on a fetch thread: its FlowBatches go to `sink.writeFlows` (or, for a
 * sink without it, their events to `write`). Same counts, failures and guarantees.
 */
export async function decodeFlowObject(ref: ObjectRef, content: FlowContent, sink: EventSink, written: { events: number }): Promise<DecodedObject> {
  let index = 0;
  try {
    for await (const batch of content.batches) {
      if (sink.writeFlows) await sink.writeFlows(ref, batch);
      else await sink.write({ object: ref, firstIndex: batch.firstIndex, events: eventsOf(batch) });
      written.events += batch.length;
      index = batch.firstIndex + batch.length;
      // the sink took what it keeps (rules' windows, store rows, events: copies); the batch is read no more
      releaseBatch(batch);
    }
  } catch (e) {
    content.discard();
    if (e instanceof OutputError) throw e;
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof OutputError) throw cause;
    // the GET refused (S3AccessError) keeps its class: the caller tells a key deleted meanwhile from a bucket failure
    if (e instanceof TransientReadError || e instanceof ObjectDecodeError || e instanceof S3AccessError) throw e;
    if (cause instanceof TransientReadError) throw cause;
    throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `unexpected error while decoding: ${(e as Error).message}`, { cause: e });
  }
  return { records: index, recordErrors: content.recordErrors() };
}
