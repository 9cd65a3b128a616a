/**
 * What the collector's thread and the fetch threads say to each other (fetch-pool.ts ⇄ fetch-thread.ts). Every
 * stream is one object being read; its content comes in `data` messages whose bytes are transferred, not copied,
 * and the thread sends at most STREAM_CREDIT bytes of a stream ahead of what the collector acknowledged.
 */
import type { BucketConfig } from '../../config/types.js';
import type { ContentRequest } from './read-object.js';

/** bytes of one stream in flight (sent and not yet acknowledged) at most */
export const STREAM_CREDIT = 1 << 20;
/** small decompressed pieces are gathered up to this size before they are sent */
export const MESSAGE_BYTES = 256 * 1024;

export type ToFetchThread =
  | { op: 'open'; id: number; bucket: BucketConfig; req: ContentRequest }
  | { op: 'ack'; id: number; bytes: number }
  | { op: 'discard'; id: number };

/** How a failure crosses the thread boundary (an Error's class does not). */
export interface FetchFailure {
  kind: 'access' | 'transient' | 'decode' | 'other';
  code?: string;
  message: string;
}

export type FromFetchThread =
  /** `compressed`: body bytes received since the last message (for progress and the summary) */
  | { op: 'data'; id: number; chunk: Uint8Array; compressed: number }
  | { op: 'end'; id: number; compressed: number }
  | { op: 'error'; id: number; compressed: number; error: FetchFailure };
