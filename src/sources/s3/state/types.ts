/**
 * The collector's persistent state: which objects were handed to the pipeline. Contract:
 * - every object is marked once, durably, right after its events were delivered (per object, not per run);
 * - late or out-of-order objects are never lost: membership is exact for every day folder inside the
 *   look-back window, not a "last key" marker;
 * - bounded: per scope it keeps the newest day seen plus the processed-key set of the days inside the
 *   window; older days are forgotten (their size grows with partitions, not with objects ever seen);
 * - scopes never share anything: a scope is (bucket, path, type, account, region, flow log id).
 */
import type { OutputCheckpoint } from '../../../shared/sink.js';

export interface ScopeKey {
  bucket: string;
  /** the configured `path` + `path_suffix` (+ organization id), '' when none */
  path: string;
  type: string;
  account: string;
  region: string;
  /** VPC only: flow log id parsed from the key; '' otherwise */
  flowLogId: string;
}

export interface MarkInfo {
  status: 'ok' | 'error';
  /** output file sizes after this object's events were written */
  checkpoint?: OutputCheckpoint;
}

/** One object's mark (see `markProcessed`). */
export interface Mark {
  scope: ScopeKey;
  day: string;
  key: string;
  info: MarkInfo;
}

export interface StateStore {
  /**
   * `day` is the object's day folder as `YYYY-MM-DD` (UTC). Days older than the window count as processed
   * (they are behind the cursor), unless `exact` is set: then only keys actually remembered count.
   */
  isProcessed(scope: ScopeKey, day: string, key: string, opts?: { exact?: boolean }): boolean;
  /** Durable when it returns. Advances the scope's newest day and prunes days older than the window. */
  markProcessed(scope: ScopeKey, day: string, key: string, info: MarkInfo): void;
  /**
   * Several marks, durable together when it returns (one write and one sync: a group commit's objects cost one
   * fsync, not one each). All or none are recorded; a crash in the middle keeps a leading part of them, in order.
   */
  markProcessedAll(marks: Mark[]): void;
  /** newest day folder with a processed object in this scope, or undefined on the first run */
  newestDay(scope: ScopeKey): string | undefined;
  /** checkpoint of the last markProcessed (any scope), used to truncate outputs written by an uncommitted object */
  lastCheckpoint(): OutputCheckpoint | undefined;
  /**
   * Durably records output sizes without marking an object: call it at start-up, after recovering the outputs,
   * so a crash before the first `markProcessed` (or after an output was added) can still be undone.
   */
  recordCheckpoint(checkpoint: OutputCheckpoint): void;
  /** every scope known, for `tld doctor` and metrics */
  scopes(): ScopeKey[];
  close(): void;
}
