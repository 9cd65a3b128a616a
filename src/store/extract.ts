/** Pulls the typed columns the store keeps out of Wazuh-shaped events and alerts (pure functions). */
import type { Alert, AwsEvent } from '../shared/events.js';

type Json = Record<string, unknown>;

export function get(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const p of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Json)[p];
  }
  return v;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : null);
export const ms = (v: unknown): number | null => {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
};

/** The remote (attacker-side) and local addresses an event names, by source. */
export function ipsOf(event: AwsEvent | Json): { src: string | null; dst: string | null } {
  const aws = (event as AwsEvent).aws as Json | undefined;
  if (!aws) return { src: null, dst: null };
  if (aws.source === 'vpc') return { src: str(aws.srcaddr), dst: str(aws.dstaddr) };
  if (aws.source === 'cloudtrail') return { src: str(aws.sourceIPAddress), dst: null };
  if (aws.source === 'guardduty') {
    const remote =
      get(aws, 'service.action.networkConnectionAction.remoteIpDetails.ipAddressV4') ??
      get(aws, 'service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4') ??
      get(aws, 'service.action.awsApiCallAction.remoteIpDetails.ipAddressV4');
    const local = get(aws, 'resource.instanceDetails.networkInterfaces.privateIpAddress');
    return { src: str(remote), dst: str(local) };
  }
  return { src: null, dst: null };
}

/** Record time of an event: flow start, CloudTrail eventTime, finding updatedAt. */
export function eventTime(event: AwsEvent | Json): number | null {
  const aws = (event as AwsEvent).aws as Json | undefined;
  if (!aws) return null;
  return ms(aws.start) ?? ms(aws.eventTime) ?? ms(aws.updatedAt) ?? null;
}

export interface AlertRow {
  id: string;
  ts: number;
  eventTs: number | null;
  level: number;
  ruleId: string;
  description: string;
  groups: string;
  source: string | null;
  account: string | null;
  region: string | null;
  src: string | null;
  dst: string | null;
  bucket: string | null;
  json: string;
}

export function alertRow(a: Alert): AlertRow {
  const data = a.data as AwsEvent;
  const aws = (data.aws ?? {}) as Json;
  const ips = ipsOf(data);
  return {
    id: a.id,
    ts: Date.parse(a.timestamp),
    eventTs: eventTime(data),
    level: a.rule.level,
    ruleId: a.rule.id,
    description: a.rule.description,
    groups: a.rule.groups.join(','),
    source: str(aws.source),
    account: str(aws.aws_account_id) ?? str(aws.accountId) ?? str(aws.recipientAccountId) ?? str(aws.account_id),
    region: str(aws.awsRegion) ?? str(aws.region),
    src: ips.src,
    dst: ips.dst,
    bucket: str(get(aws, 'log_info.s3bucket')),
    json: JSON.stringify(a),
  };
}

export interface FindingRow {
  id: string;
  type: string | null;
  severity: number | null;
  title: string | null;
  account: string | null;
  region: string | null;
  instanceId: string | null;
  userName: string | null;
  api: string | null;
  actionType: string | null;
  remoteIp: string | null;
  country: string | null;
  city: string | null;
  lat: number | null;
  lon: number | null;
  port: number | null;
  role: string | null;
  firstSeen: number | null;
  lastSeen: number | null;
  count: number;
  json: string;
}

export function findingRow(event: AwsEvent): FindingRow | null {
  const f = event.aws as Json;
  const id = str(f.id);
  if (!id) return null;
  const action = (get(f, 'service.action') ?? {}) as Json;
  const remote = (get(action, 'networkConnectionAction.remoteIpDetails') ?? get(action, 'portProbeAction.portProbeDetails.remoteIpDetails') ?? get(action, 'awsApiCallAction.remoteIpDetails') ?? {}) as Json;
  return {
    id,
    type: str(f.type),
    severity: num(f.severity),
    title: str(f.title),
    account: str(f.accountId),
    region: str(f.region),
    instanceId: str(get(f, 'resource.instanceDetails.instanceId')),
    userName: str(get(f, 'resource.accessKeyDetails.userName')),
    api: str(get(action, 'awsApiCallAction.api')),
    actionType: str(action.actionType),
    remoteIp: str(remote.ipAddressV4),
    country: str(get(remote, 'country.countryName')),
    city: str(get(remote, 'city.cityName')),
    lat: num(get(remote, 'geoLocation.lat')),
    lon: num(get(remote, 'geoLocation.lon')),
    port: num(get(action, 'networkConnectionAction.localPortDetails.port') ?? get(action, 'portProbeAction.portProbeDetails.localPortDetails.port')),
    role: str(get(f, 'service.resourceRole')),
    firstSeen: ms(get(f, 'service.eventFirstSeen')) ?? ms(f.createdAt),
    lastSeen: ms(get(f, 'service.eventLastSeen')) ?? ms(f.updatedAt),
    count: num(get(f, 'service.count')) ?? 1,
    json: JSON.stringify(f),
  };
}
