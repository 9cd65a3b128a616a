/**
 * Where each bucket type keeps its objects, and what a key says about itself (pure functions).
 * AWSLogs layouts: `<path>AWSLogs/<path_suffix>[<org>/]<account>/<service>/<region>/YYYY/MM/DD/[HH/]<file>`.
 * Firehose layout (GuardDuty through EventBridge → Firehose, and `custom`): `<path>YYYY/MM/DD/HH/<file>`.
 */
import type { BucketConfig } from '../../config/types.js';

export const SERVICE_FOLDER = { vpcflow: 'vpcflowlogs', cloudtrail: 'CloudTrail', guardduty: 'GuardDuty' } as const;

export const ACCOUNT_FOLDER = /^\d{12}$/;
export const ORG_FOLDER = /^o-[a-z0-9]{10,32}$/;

/** `<path>AWSLogs/<path_suffix>` (+ `<org>/` when configured). */
export function awsLogsBase(b: BucketConfig): string {
  return `${b.path}AWSLogs/${b.pathSuffix}${b.awsOrganizationId ? `${b.awsOrganizationId}/` : ''}`;
}

/** The last folder name of a prefix ending in '/'. */
export function lastFolder(prefix: string): string {
  const parts = prefix.split('/');
  return parts[parts.length - 2] ?? '';
}

const DATE_FOLDERS = /^(\d{4})\/(\d{2})\/(\d{2})\/(?:(\d{2})\/)?/;

/** Day (`YYYY-MM-DD`) of a key whose date folders start right after `prefix`, or undefined. */
export function dayOf(key: string, prefix: string): string | undefined {
  const m = DATE_FOLDERS.exec(key.slice(prefix.length));
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/** `YYYY/MM/DD` of a `YYYY-MM-DD` day, for StartAfter markers. */
export function dayFolder(day: string): string {
  return day.replace(/-/g, '/');
}

/** Flow-log id from `<acct>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`; '' when absent. */
export function flowLogIdOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const parts = name.split('_');
  return parts[1] === 'vpcflowlogs' && parts[3]?.startsWith('fl-') ? parts[3] : '';
}

export type KeyVerdict = { read: true } | { read: false; reason: string; error?: string };

/** Whether a listed key of a bucket type is a log object we read. */
export function classifyKey(type: BucketConfig['type'], key: string): KeyVerdict {
  if (key.endsWith('/')) return { read: false, reason: 'folder marker' };
  if (type === 'vpcflow' && /\.parquet$/.test(key)) {
    return { read: false, reason: 'parquet', error: 'VPC Flow Logs in Parquet are not supported yet; create the flow log with the plain-text file format' };
  }
  if (type === 'cloudtrail' && /CloudTrail-(Digest|Insight)\//.test(key)) return { read: false, reason: 'digest or insight' };
  return { read: true };
}
