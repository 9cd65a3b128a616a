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
  /** a single record could not be read (the rest of the object is kept); `line` is 1-based when known */
  onRecordError?: (line: number, message: string) => void;
}

export interface ObjectDecoder {
  push(chunk: Buffer): AwsEvent[];
  end(): AwsEvent[];
}
