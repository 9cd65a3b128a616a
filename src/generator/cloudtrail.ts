/** CloudTrail records for the generated estate: read-only noise, VPC changes, logins and attack steps. */
import type { RegionNet } from './topology.js';
import type { Rng } from './random.js';

type Json = Record<string, unknown>;

export interface Identity {
  type: 'Root' | 'IAMUser' | 'AssumedRole' | 'AWSService';
  name: string;
}

export function identity(net: RegionNet, who: Identity, rng: Rng): Json {
  if (who.type === 'Root') return { type: 'Root', principalId: net.account, arn: `arn:aws:iam::${net.account}:root`, accountId: net.account, accessKeyId: `ASIA${rng.hex(16).toUpperCase()}` };
  if (who.type === 'IAMUser') return { type: 'IAMUser', principalId: `AIDA${rng.hex(16).toUpperCase()}`, arn: `arn:aws:iam::${net.account}:user/${who.name}`, accountId: net.account, accessKeyId: `AKIA${rng.hex(16).toUpperCase()}`, userName: who.name };
  if (who.type === 'AWSService') return { type: 'AWSService', invokedBy: who.name };
  return {
    type: 'AssumedRole',
    principalId: `AROA${rng.hex(16).toUpperCase()}:${who.name}`,
    arn: `arn:aws:sts::${net.account}:assumed-role/${who.name}/session`,
    accountId: net.account,
    accessKeyId: `ASIA${rng.hex(16).toUpperCase()}`,
    sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${net.account}:role/${who.name}`, accountId: net.account, userName: who.name }, attributes: { creationDate: '2026-01-01T00:00:00Z', mfaAuthenticated: 'false' } },
  };
}

export interface CallSpec {
  time: Date;
  source: string;
  name: string;
  who: Identity;
  ip: string;
  agent?: string;
  params?: Json | null;
  response?: Json | null;
  error?: { code: string; message: string };
  extra?: Json;
  readOnly?: boolean;
}

export function record(net: RegionNet, c: CallSpec, rng: Rng): Json {
  return {
    eventVersion: '1.09',
    userIdentity: identity(net, c.who, rng),
    eventTime: c.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: c.source,
    eventName: c.name,
    awsRegion: net.region,
    sourceIPAddress: c.ip,
    userAgent: c.agent ?? 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1',
    ...(c.error ? { errorCode: c.error.code, errorMessage: c.error.message } : {}),
    requestParameters: c.params ?? null,
    responseElements: c.error ? null : (c.response ?? null),
    ...(c.extra ?? {}),
    requestID: rng.uuid(),
    eventID: rng.uuid(),
    readOnly: c.readOnly ?? false,
    eventType: c.name === 'ConsoleLogin' ? 'AwsConsoleSignIn' : 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: net.account,
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${c.source.split('.')[0]}.${net.region}.amazonaws.com` },
  };
}

const READS: [string, string][] = [
  ['ec2.amazonaws.com', 'DescribeInstances'],
  ['ec2.amazonaws.com', 'DescribeSecurityGroups'],
  ['ec2.amazonaws.com', 'DescribeVpcs'],
  ['s3.amazonaws.com', 'ListBuckets'],
  ['iam.amazonaws.com', 'ListRoles'],
  ['sts.amazonaws.com', 'GetCallerIdentity'],
  ['cloudwatch.amazonaws.com', 'GetMetricData'],
];

/** Ordinary read-only traffic of CI pipelines and AWS services. */
export function noise(net: RegionNet, at: Date, rng: Rng): CallSpec {
  const [source, name] = rng.pick(READS);
  const service = rng.chance(0.3);
  return { time: at, source, name, who: service ? { type: 'AWSService', name: 'ec2.amazonaws.com' } : { type: 'AssumedRole', name: 'ci-deployer' }, ip: service ? 'ec2.amazonaws.com' : `10.${rng.int(0, 9)}.0.${rng.int(2, 250)}`, readOnly: true, params: null };
}
