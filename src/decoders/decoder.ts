/**
 * The decoder port: turns the bytes of one S3 object into Wazuh-shaped events, streaming.
 * The collector sniffs compression from the first bytes (decoders/compression), feeds decompressed
 * chunks to `push`, and calls `end` once. Each call returns the events completed so far (possibly none).
 * A decoder throws `ObjectDecodeError` (decoders/errors.ts) for input it cannot understand; the error
 * names the cause, the collector adds bucket and key.
 */
import type { AwsEvent, BucketType, LogInfo } from '../shared/events.js';
import type { DiscardRegex } from '../config/types.js';

export interface DecodeContext {
  bucketType: BucketType;
  /** shared by every event of the object */
  logInfo: LogInfo;
  /** account from the key path (AWSLogs layouts); set as `aws.aws_account_id` for vpcflow/cloudtrail */
  accountId?: string;
  discard?: DiscardRegex;
  /** counts records dropped by discard_regex */
  onDiscard?: () => void;
  /**
   * A single record could not be read; it is skipped and the rest of the object is read. `line` is the
   * 1-based line where the record starts (JSON files written on one line: 1); `message` is complete on its
   * own (record number or byte offset where the format has them, the cause, "skipped"); `info` gives the
   * same facts as fields (optional third argument: callers written for two arguments keep working).
   */
  onRecordError?: (line: number, message: string, info?: RecordErrorInfo) => void;
}

/** Where and why one record could not be read (`onRecordError`'s third argument). */
export interface RecordErrorInfo {
  /** 1-based position of the record among the object's records (JSON formats) */
  record?: number;
  /** byte offset in the decompressed content where the record starts (JSON formats) */
  offset?: number;
  /** the cause alone, e.g. `4 fields where the header has 5` */
  cause: string;
}

export interface ObjectDecoder {
  push(chunk: Buffer): AwsEvent[];
  end(): AwsEvent[];
}
