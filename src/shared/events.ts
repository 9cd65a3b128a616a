/**
 * Shapes shared by every pipeline stage: what the collector emits, what analysis reads and what the
 * store and outputs write. Events keep Wazuh's shape (`{"integration":"aws","aws":{…}}`) so rules,
 * searches and dashboards written for Wazuh keep working.
 */

/** Bucket types we collect. Other Wazuh types are rejected by the config loader as "not supported yet". */
export type BucketType = 'vpcflow' | 'guardduty' | 'cloudtrail' | 'custom';

/** `aws.log_info`, shared by reference by every event of one object (never mutate it). */
export interface LogInfo {
  aws_account_alias: string;
  log_file: string;
  s3bucket: string;
}

/**
 * One event in Wazuh's shape. `aws.source` is `vpc`, `guardduty`, `cloudtrail` (or the envelope source
 * for custom buckets). Values keep their JSON types except where Wazuh reshapes them (see decoders).
 * An object that failed to decode in skip mode yields one event with `error_msg` and no `aws.source`.
 */
export interface AwsEvent {
  integration: 'aws';
  aws: { log_info: LogInfo; source?: string; [field: string]: unknown };
  error_msg?: string;
}

/** Where an object came from; `objectId` is stable for (bucket, key) so re-reads are recognisable. */
export interface ObjectRef {
  bucket: string;
  key: string;
  /** hex sha1 of `${bucket}/${key}` truncated to 16 chars */
  objectId: string;
  bucketType: BucketType;
  accountId?: string;
  region?: string;
  flowLogId?: string;
  size: number;
  lastModified?: Date;
  /** set by `tld replay` for an object whose events were already delivered once (archives are not written again) */
  replayed?: boolean;
}

/**
 * A run of consecutive events of one object. The record index of `events[i]` within its object is
 * `firstIndex + i`; `(objectId, index)` identifies a source record forever (alert ids derive from it).
 */
export interface EventBatch {
  object: ObjectRef;
  firstIndex: number;
  events: AwsEvent[];
}

/** Wazuh's alert shape (alerts.json), one per matching rule at or above `log_alert_level`. */
export interface Alert {
  timestamp: string;
  rule: {
    id: string;
    level: number;
    description: string;
    groups: string[];
    /** absent with the rule option no_counter, as analysisd writes it */
    firedtimes?: number;
    mail: boolean;
    mitre?: { id: string[]; tactic?: string[]; technique?: string[] };
    [k: string]: unknown;
  };
  agent: { id: string; name: string };
  manager: { name: string };
  /** Derived from the source record (or, for correlation rules, from rule + window + key). */
  id: string;
  decoder: { name: 'json' };
  data: AwsEvent | Record<string, unknown>;
  location: string;
  full_log?: string;
  /** frequency rules: the logs of the earlier occurrences the hit counted, newest first, one per line */
  previous_output?: string;
  /** correlation rules (frequency): how many occurrences / distinct values, from when */
  correlation?: { count: number; distinct: number; window_start: string | undefined };
}
