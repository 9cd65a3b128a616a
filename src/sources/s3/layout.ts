/**
 * Where each bucket type keeps its objects, and what a key says about itself (pure functions).
 * AWSLogs layouts: `<path>AWSLogs/<path_suffix>[<org>/]<account>/<service>/<region>/YYYY/MM/DD/[HH/]<file>`,
 * and for VPC the Hive-compatible variant `…AWSLogs/<path_suffix>aws-account-id=<account>/aws-service=vpcflowlogs/
 * aws-region=<region>/year=YYYY/month=MM/day=DD/[hour=HH/]<file>`.
 * Firehose layout (GuardDuty through EventBridge → Firehose, and `custom`): `<path>YYYY/MM/DD/HH/<file>`.
 */
import type { BucketConfig } from '../../config/types.js';

export const SERVICE_FOLDER = { vpcflow: 'vpcflowlogs', cloudtrail: 'CloudTrail', guardduty: 'GuardDuty' } as const;

export const ACCOUNT_FOLDER = /^\d{12}$/;
export const ORG_FOLDER = /^o-[a-z0-9]{10,32}$/;
/** Hive-compatible VPC folders */
export const HIVE_ACCOUNT_FOLDER = /^aws-account-id=(\d{12})$/;
export const HIVE_REGION_FOLDER = /^aws-region=([a-z0-9-]+)$/;

/** How the date folders of a scope are written. */
export type DateStyle = 'plain' | 'hive';

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
const HIVE_DATE_FOLDERS = /^year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/(?:hour=(\d{2})\/)?/;

function validDay(y: string, m: string, d: string): string | undefined {
  const mm = Number(m);
  const dd = Number(d);
  return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31 ? `${y}-${m}-${d}` : undefined;
}

/** Day (`YYYY-MM-DD`) of a key whose date folders (plain or Hive) start right after `prefix`, or undefined. */
export function dayOf(key: string, prefix: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const m = DATE_FOLDERS.exec(rest) ?? HIVE_DATE_FOLDERS.exec(rest);
  return m ? validDay(m[1]!, m[2]!, m[3]!) : undefined;
}

/** `YYYY/MM/DD` of a `YYYY-MM-DD` day, for StartAfter markers. */
export function dayFolder(day: string): string {
  return day.replace(/-/g, '/');
}

/** The day folder (without trailing '/') of `day` in a scope's date style: `YYYY/MM/DD` or `year=YYYY/month=MM/day=DD`. */
export function dayMarker(day: string, style: DateStyle = 'plain'): string {
  if (style === 'plain') return dayFolder(day);
  const [y, m, d] = day.split('-');
  return `year=${y}/month=${m}/day=${d}`;
}

/** Flow-log id from `<acct>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<hash>.log.gz`; '' when absent. */
export function flowLogIdOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const parts = name.split('_');
  return parts[1] === 'vpcflowlogs' && parts[3]?.startsWith('fl-') ? parts[3] : '';
}

export interface KeyInfo {
  /** 12-digit account from the path (AWSLogs layouts) */
  account?: string;
  region?: string;
  /** `YYYY-MM-DD` from the date folders */
  day: string;
  /** VPC: the flow log that wrote the object */
  flowLogId?: string;
  /** organization id of an organization trail (`o-…`) */
  organization?: string;
}

const AWSLOGS_KEY = /(?:^|\/)AWSLogs\/(?:.*?\/)?(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/(vpcflowlogs|CloudTrail|GuardDuty)\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\//;
const HIVE_KEY = /(?:^|\/)AWSLogs\/(?:.*?\/)?aws-account-id=(\d{12})\/aws-service=vpcflowlogs\/aws-region=([a-z0-9-]+)\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})\//;

/**
 * What a key says about itself: account, region, day and flow-log id for AWSLogs keys (plain or Hive), the day
 * for Firehose keys (date folders right after `firehosePrefix`). Undefined when the key fits neither.
 */
export function parseKey(key: string, firehosePrefix = ''): KeyInfo | undefined {
  const hive = HIVE_KEY.exec(key);
  if (hive) {
    const day = validDay(hive[3]!, hive[4]!, hive[5]!);
    const flowLogId = flowLogIdOf(key);
    return day ? { account: hive[1]!, region: hive[2]!, day, ...(flowLogId ? { flowLogId } : {}) } : undefined;
  }
  const m = AWSLOGS_KEY.exec(key);
  if (m) {
    const day = validDay(m[5]!, m[6]!, m[7]!);
    const flowLogId = m[3] === 'vpcflowlogs' ? flowLogIdOf(key) : '';
    return day ? { account: m[2]!, region: m[4]!, day, ...(m[1] ? { organization: m[1] } : {}), ...(flowLogId ? { flowLogId } : {}) } : undefined;
  }
  const day = dayOf(key, firehosePrefix);
  return day ? { day } : undefined;
}

export type KeyVerdict = { read: true } | { read: false; reason: string; error?: string };

/** Whether a listed key of a bucket type is a log object we read. */
export function classifyKey(type: BucketConfig['type'], key: string): KeyVerdict {
  if (key.endsWith('/')) return { read: false, reason: 'folder marker' };
  if (type === 'vpcflow' && /\.parquet$/.test(key)) {
    return { read: false, reason: 'parquet', error: 'VPC Flow Logs in Parquet are not supported yet; create the flow log with the plain-text file format' };
  }
  if (type === 'cloudtrail' && /(?:^|\/)CloudTrail-(Digest|Insight)\//.test(key)) return { read: false, reason: 'digest or insight' };
  return { read: true };
}
