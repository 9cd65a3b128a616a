/**
 * Least-privilege IAM policies for the configured buckets. Each bucket is read either by the identity
 * ThreatLockDown runs as, or by the role named in `iam_role_arn`; each of those identities gets exactly what
 * its buckets need:
 * - `s3:ListBucket` on the bucket, limited with an `s3:prefix` condition to `path` when one is set;
 * - `s3:GetObject` on the objects, narrowed to the service folders of the configured accounts when
 *   `aws_account_id` is set, else to `path`;
 * - `s3:DeleteObject` on the same objects only where `remove_from_bucket` is on;
 * - `kms:Decrypt` on the given keys for GuardDuty's native export (written with SSE-KMS);
 * - `sts:AssumeRole` on each `iam_role_arn`, for the base identity;
 * - for each `<subscriber>` (a queue worker): `sqs:ReceiveMessage`, `sqs:DeleteMessage`,
 *   `sqs:ChangeMessageVisibility`, `sqs:GetQueueUrl`, `sqs:GetQueueAttributes` on its queue, and `s3:GetObject` on
 *   the objects its notifications announce (any bucket: the notifications name them, so narrow `Resource` to the
 *   buckets that notify the queue); `sqs:SendMessage` too when the configuration also has `<bucket>` blocks, which
 *   `tld backfill` lists onto the queue.
 * Nothing else: flow-log ids come from the keys, and `tld doctor`'s identity check (GetCallerIdentity) needs
 * no permission. iam-policy.test.ts checks this list against the SDK calls in the sources.
 */
import type { BucketConfig, SubscriberConfig } from '../config/types.js';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface IdentityPolicy {
  /** 'base' = the identity ThreatLockDown runs as (its profile or default chain), else the role ARN */
  attachTo: string;
  buckets: string[];
  policy: PolicyDocument;
}

export interface PolicyOptions {
  partition?: string;
  /** KMS keys of GuardDuty's export destination */
  kmsKeyArns?: string[];
  /** queue workers (`<subscriber>`) */
  subscribers?: SubscriberConfig[];
}

/** What a worker calls on its queue (src/sources/sqs/queue.ts). */
export const WORKER_QUEUE_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'];

function subscriberStatements(sub: SubscriberConfig, partition: string, index: number, backfill: boolean): PolicyStatement[] {
  const id = `${sidPart(sub.sqsName)}${index}`;
  // the queue's region and account are not in the configuration (GetQueueUrl finds it by name)
  const queue = `arn:${partition}:sqs:*:*:${sub.sqsName}`;
  return [
    { Sid: `Queue${id}`, Effect: 'Allow', Action: [...WORKER_QUEUE_ACTIONS, ...(backfill ? ['sqs:SendMessage'] : [])], Resource: queue },
    { Sid: `ReadAnnounced${id}`, Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:${partition}:s3:::*/*` },
  ];
}

const SERVICE_FOLDER: Record<string, string | undefined> = {
  vpcflow: 'vpcflowlogs',
  cloudtrail: 'CloudTrail',
  guardduty: 'GuardDuty',
};

function sidPart(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, '');
}

/** Object ARNs a bucket's objects are read from. */
export function objectResources(bucket: BucketConfig, partition: string): string[] {
  const base = `arn:${partition}:s3:::${bucket.name}/`;
  const service = SERVICE_FOLDER[bucket.type];
  if (service && bucket.awsAccountIds && bucket.awsAccountIds.length > 0) {
    const org = bucket.awsOrganizationId ? `${bucket.awsOrganizationId}/` : '';
    // (accounts only exist in the AWSLogs layouts; a Firehose-fed GuardDuty bucket has none to configure)
    return bucket.awsAccountIds.map(
      (acct) => `${base}${bucket.path}AWSLogs/${bucket.pathSuffix}${org}${acct}/${service}/*`,
    );
  }
  return [`${base}${bucket.path}*`];
}

function bucketStatements(bucket: BucketConfig, partition: string, index: number): PolicyStatement[] {
  const id = `${sidPart(bucket.name)}${index}`;
  const list: PolicyStatement = {
    Sid: `List${id}`,
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: `arn:${partition}:s3:::${bucket.name}`,
  };
  if (bucket.path) list.Condition = { StringLike: { 's3:prefix': [`${bucket.path}*`] } };
  const objects = objectResources(bucket, partition);
  const out: PolicyStatement[] = [list, { Sid: `Read${id}`, Effect: 'Allow', Action: 's3:GetObject', Resource: objects }];
  if (bucket.removeFromBucket) {
    out.push({ Sid: `Delete${id}`, Effect: 'Allow', Action: 's3:DeleteObject', Resource: objects });
  }
  return out;
}

/** Builds one policy per identity that reads buckets (the base identity first). */
export function buildIamPolicies(buckets: BucketConfig[], options: PolicyOptions = {}): IdentityPolicy[] {
  const partition = options.partition ?? 'aws';
  const subscribers = options.subscribers ?? [];
  const groups = new Map<string, BucketConfig[]>();
  for (const b of buckets) {
    const who = b.iamRoleArn ?? 'base';
    groups.set(who, [...(groups.get(who) ?? []), b]);
  }
  const workers = new Map<string, SubscriberConfig[]>();
  for (const s of subscribers) {
    const who = s.iamRoleArn ?? 'base';
    workers.set(who, [...(workers.get(who) ?? []), s]);
    if (!groups.has(who)) groups.set(who, []);
  }
  const roles = [...new Set([...buckets.map((b) => b.iamRoleArn), ...subscribers.map((s) => s.iamRoleArn)].filter((r): r is string => !!r))];
  const result: IdentityPolicy[] = [];
  const identities = [...groups.keys()].sort((a, b) => (a === 'base' ? -1 : b === 'base' ? 1 : a.localeCompare(b)));
  if (!groups.has('base') && roles.length > 0) identities.unshift('base');
  for (const who of identities) {
    const mine = groups.get(who) ?? [];
    const statements: PolicyStatement[] = [];
    mine.forEach((b, i) => statements.push(...bucketStatements(b, partition, i + 1)));
    (workers.get(who) ?? []).forEach((sub, i) => statements.push(...subscriberStatements(sub, partition, i + 1, buckets.length > 0)));
    if (mine.some((b) => b.type === 'guardduty') && options.kmsKeyArns && options.kmsKeyArns.length > 0) {
      statements.push({ Sid: 'DecryptGuardDutyExport', Effect: 'Allow', Action: 'kms:Decrypt', Resource: options.kmsKeyArns });
    }
    if (who === 'base' && roles.length > 0) {
      statements.push({ Sid: 'AssumeReadingRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roles });
    }
    result.push({
      attachTo: who,
      buckets: [...new Set(mine.map((b) => b.name)), ...(workers.get(who) ?? []).map((sub) => `queue ${sub.sqsName}`)],
      policy: { Version: '2012-10-17', Statement: statements },
    });
  }
  return result;
}
