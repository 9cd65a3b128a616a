/**
 * Which decoder reads an announced object: the subscriber's `<key_prefix type="…">` overrides (longest prefix
 * first), else the AWSLogs layout of the key (layout.ts: `…AWSLogs/<account>/vpcflowlogs|CloudTrail|GuardDuty/…`,
 * Hive VPC folders). A key that fits neither is `undefined`: reported by the worker, never guessed.
 */
import type { BucketType } from '../../shared/events.js';
import type { KeyPrefixType } from '../../config/types.js';
import { parseKey, type KeyInfo } from '../s3/layout.js';

export interface KeySource {
  type: BucketType;
  /** the override's prefix ('' for a layout match): Firehose date folders are looked for right after it */
  prefix: string;
  /** what the key says about itself (account, region, day, flow log), when its layout tells */
  info: KeyInfo | undefined;
}

const SERVICE_TYPE: Record<string, BucketType> = { vpcflowlogs: 'vpcflow', CloudTrail: 'cloudtrail', GuardDuty: 'guardduty' };
const SERVICE_IN_KEY = /(?:^|\/)AWSLogs\/(?:.*?\/)?(?:\d{12}\/(vpcflowlogs|CloudTrail|GuardDuty)\/|aws-account-id=\d{12}\/aws-service=(vpcflowlogs)\/)/;

/** The source type of `key`, or undefined when neither an override nor the layout tells. */
export function sourceOfKey(key: string, overrides: readonly KeyPrefixType[]): KeySource | undefined {
  const o = overrides.find((p) => key.startsWith(p.prefix));
  if (o) return { type: o.type, prefix: o.prefix, info: parseKey(key, o.prefix) };
  const m = SERVICE_IN_KEY.exec(key);
  const type = m ? SERVICE_TYPE[m[1] ?? m[2] ?? ''] : undefined;
  if (!type) return undefined;
  return { type, prefix: '', info: parseKey(key) };
}
