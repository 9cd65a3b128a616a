/**
 * Finds the scopes of a bucket: the folders whose objects are read as one ordered listing. AWSLogs layouts
 * give one scope per account × region (accounts and regions discovered with paginated Delimiter listings
 * unless configured; organization folders `o-…` are looked into when no organization is configured; Hive
 * VPC folders too). Firehose layouts (custom, GuardDuty through Firehose) give one scope at `<path>`.
 * VPC flow-log ids are not scopes of the listing: they come from the keys (no ec2:DescribeFlowLogs).
 */
import type { BucketConfig } from '../../config/types.js';
import type { ScopeKey } from './state/types.js';
import type { ObjectSource } from './client.js';
import { ACCOUNT_FOLDER, HIVE_ACCOUNT_FOLDER, HIVE_REGION_FOLDER, ORG_FOLDER, SERVICE_FOLDER, awsLogsBase, lastFolder, type DateStyle } from './layout.js';

export interface Scope {
  /** state scope (flow-log id '' — the collector fills it per object for VPC) */
  key: ScopeKey;
  /** where the date folders start */
  prefix: string;
  account?: string;
  region?: string;
  /** `plain` (`YYYY/MM/DD/`) or `hive` (`year=YYYY/month=MM/day=DD/`) */
  dateStyle: DateStyle;
  /** Firehose layout: only keys whose date folders start right after `prefix` belong to it */
  firehose: boolean;
}

interface AccountRoot {
  prefix: string;
  account: string;
  org?: string;
  hive?: boolean;
}

/** Account folders under the AWSLogs base: configured ones, or every 12-digit folder (and those inside `o-…`). */
async function accountRoots(b: BucketConfig, source: ObjectSource, base: string): Promise<AccountRoot[]> {
  const roots: AccountRoot[] = [];
  const folders = b.awsAccountIds && b.type !== 'vpcflow' ? [] : await source.listPrefixes(base);
  if (b.awsAccountIds) {
    for (const account of b.awsAccountIds) roots.push({ prefix: `${base}${account}/`, account });
  } else {
    for (const folder of folders) {
      const name = lastFolder(folder);
      if (ACCOUNT_FOLDER.test(name)) roots.push({ prefix: folder, account: name });
      else if (ORG_FOLDER.test(name) && !b.awsOrganizationId) {
        for (const sub of await source.listPrefixes(folder)) {
          const acct = lastFolder(sub);
          if (ACCOUNT_FOLDER.test(acct)) roots.push({ prefix: sub, account: acct, org: name });
        }
      }
    }
  }
  if (b.type === 'vpcflow') {
    for (const folder of folders) {
      const m = HIVE_ACCOUNT_FOLDER.exec(lastFolder(folder));
      if (m && (!b.awsAccountIds || b.awsAccountIds.includes(m[1]!))) roots.push({ prefix: folder, account: m[1]!, hive: true });
    }
  }
  return roots;
}

/** Account × region scopes of an AWSLogs-layout service folder (paginated discovery unless configured). */
async function awsLogsScopes(b: BucketConfig, source: ObjectSource, service: string): Promise<Scope[]> {
  const scopes: Scope[] = [];
  for (const root of await accountRoots(b, source, awsLogsBase(b))) {
    const servicePrefix = root.hive ? `${root.prefix}aws-service=${service}/` : `${root.prefix}${service}/`;
    const regions = b.regions ?? (await source.listPrefixes(servicePrefix)).map(lastFolder).map((f) => (root.hive ? (HIVE_REGION_FOLDER.exec(f)?.[1] ?? '') : f)).filter(Boolean);
    const path = `${b.path}${b.pathSuffix}${b.awsOrganizationId ? `${b.awsOrganizationId}/` : root.org ? `${root.org}/` : ''}`;
    for (const region of regions) {
      scopes.push({
        key: { bucket: b.name, path, type: b.type, account: root.account, region, flowLogId: '' },
        prefix: root.hive ? `${servicePrefix}aws-region=${region}/` : `${servicePrefix}${region}/`,
        account: root.account,
        region,
        dateStyle: root.hive ? 'hive' : 'plain',
        firehose: false,
      });
    }
  }
  return scopes;
}

function firehoseScope(b: BucketConfig): Scope {
  return { key: { bucket: b.name, path: b.path, type: b.type, account: '', region: '', flowLogId: '' }, prefix: b.path, dateStyle: 'plain', firehose: true };
}

/**
 * Every scope of a bucket. GuardDuty buckets may hold the native export (`<path>AWSLogs/`), Firehose output
 * (`<path>YYYY/`), or both: both are read.
 */
export async function scopesOf(b: BucketConfig, source: ObjectSource): Promise<Scope[]> {
  if (b.type === 'vpcflow' || b.type === 'cloudtrail') return awsLogsScopes(b, source, SERVICE_FOLDER[b.type]);
  if (b.type === 'custom') return [firehoseScope(b)];
  const folders = await source.listPrefixes(b.path);
  const scopes: Scope[] = [];
  if (folders.includes(`${b.path}AWSLogs/`)) scopes.push(...(await awsLogsScopes(b, source, SERVICE_FOLDER.guardduty)));
  if (folders.some((f) => /^\d{4}$/.test(lastFolder(f)))) scopes.push(firehoseScope(b));
  return scopes;
}
