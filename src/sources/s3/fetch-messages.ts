/**
 * What the collector's thread and the fetch threads say to each other (fetch-pool.ts ⇄ fetch-thread.ts). Every
 * stream is one object being read; its content comes in `data` messages whose bytes are transferred, not copied,
 * and the thread sends at most STREAM_CREDIT bytes of a stream ahead of what the collector acknowledged.
 */
import type { BucketConfig } from '../../config/types.js';
import type { DiscardRegex } from '../../config/types.js';
import type { LogInfo } from '../../shared/events.js';
import type { FlowBatch } from '../../decoders/vpcflow/flow-batch.js';
import type { ContentRequest } from './read-object.js';
import type { RecordErrors } from './decode-object.js';

/** VPC flow logs are decoded on the fetch thread too: into FlowBatches (columns), with what the decoder needs. */
export interface FlowDecodeRequest {
  logInfo: LogInfo;
  accountId?: string;
  discard?: DiscardRegex;
}

/**
 * bytes of one stream in flight (sent and not yet acknowledged) at most: a large object's batches wait for the
 * collector's thread here (1 MiB: a 100k-record object still streams at full speed, with less held than at 2 MiB)
 */
export const STREAM_CREDIT = 1 << 20;
/** small decompressed pieces are gathered up to this size before they are sent */
export const MESSAGE_BYTES = 256 * 1024;

export type ToFetchThread =
  /** a bucket's configuration, sent once per thread; objects name it by `key` (cloning it with every object cost more than the request) */
  | { op: 'bucket'; key: number; bucket: BucketConfig }
  | { op: 'open'; id: number; bucket: number; req: ContentRequest; flows?: FlowDecodeRequest }
  | { op: 'ack'; id: number; bytes: number }
  | { op: 'discard'; id: number }
  /**
   * a listing (ObjectSource.list), sent back LIST_CHUNK keys at a time (fewer where the pages already listed end),
   * each chunk after a `more`
   */
  | { op: 'list'; id: number; bucket: number; prefix: string; startAfter?: string; delimiter?: string }
  | { op: 'more'; id: number }
  /** the collector stopped reading the listing */
  | { op: 'stop'; id: number }
  | { op: 'prefixes'; id: number; bucket: number; prefix: string }
  | { op: 'delete'; id: number; bucket: number; key: string };

/** How a failure crosses the thread boundary (an Error's class does not). */
export interface FetchFailure {
  kind: 'access' | 'transient' | 'decode' | 'other';
  code?: string;
  message: string;
}

/** keys of a listing per `listed` message (a page of 1,000 keys is four messages) */
export const LIST_CHUNK = 250;

/** A listed object as it crosses the thread boundary (LastModified as epoch ms). */
export interface ListedWire {
  key: string;
  size: number;
  lastModified?: number;
}

export type FromFetchThread =
  /** `compressed`: body bytes received since the last message (for progress and the summary) */
  | { op: 'data'; id: number; chunk: Uint8Array; compressed: number }
  /** a decoded batch (streams opened with `flows`); `bytes`: what it counts against the credit */
  | { op: 'flows'; id: number; batch: FlowBatch; bytes: number; compressed: number }
  /** `recordErrors`: records that could not be read (streams opened with `flows`) */
  | { op: 'end'; id: number; compressed: number; recordErrors?: RecordErrors }
  | { op: 'error'; id: number; compressed: number; error: FetchFailure }
  /** keys of a listing; `done`: the listing ended with them */
  | { op: 'listed'; id: number; objects: ListedWire[]; done: boolean }
  /** the answer to `prefixes` (the folders) or `delete` (none) */
  | { op: 'answer'; id: number; prefixes?: string[] };
