/** GuardDuty findings (lowerCamelCase, as EventBridge and the export write them) for the generated estate. */
import type { Host, RegionNet } from './topology.js';
import { ACTORS } from './topology.js';
import type { Rng } from './random.js';

type Json = Record<string, unknown>;

const GEO: Record<string, { country: string; city: string; lat: number; lon: number; asn: string; org: string }> = {
  [ACTORS.sshBruteForcer]: { country: 'Netherlands', city: 'Amsterdam', lat: 52.37, lon: 4.89, asn: '64500', org: 'Example Hosting BV' },
  [ACTORS.portScanner]: { country: 'Brazil', city: 'São Paulo', lat: -23.55, lon: -46.63, asn: '64501', org: 'Example Telecom' },
  [ACTORS.unusualApiCaller]: { country: 'Romania', city: 'Bucharest', lat: 44.43, lon: 26.1, asn: '64502', org: 'Example Tor Exit' },
  '198.51.100.140': { country: 'China', city: 'Shanghai', lat: 31.23, lon: 121.47, asn: '64503', org: 'Example Cloud' },
  '203.0.113.160': { country: 'United States', city: 'Ashburn', lat: 39.04, lon: -77.49, asn: '64504', org: 'Example Networks' },
};

function remoteIp(ip: string): Json {
  const g = GEO[ip] ?? { country: 'Germany', city: 'Frankfurt', lat: 50.11, lon: 8.68, asn: '64505', org: 'Example GmbH' };
  return { ipAddressV4: ip, organization: { asn: g.asn, asnOrg: g.org, isp: g.org, org: g.org }, country: { countryName: g.country }, city: { cityName: g.city }, geoLocation: { lat: g.lat, lon: g.lon } };
}

function instance(host: Host, net: RegionNet): Json {
  return {
    resourceType: 'Instance',
    instanceDetails: {
      instanceId: host.instanceId,
      instanceType: 't3.medium',
      instanceState: 'running',
      availabilityZone: `${net.region}a`,
      imageId: 'ami-0abcdef1234567890',
      networkInterfaces: [{ networkInterfaceId: host.eni, privateIpAddress: host.ip, ...(host.publicIp ? { publicIp: host.publicIp } : {}), subnetId: net.subnetId, vpcId: net.vpcId, securityGroups: [{ groupId: 'sg-0123456789abcdef0', groupName: 'web' }] }],
      tags: [{ key: 'Name', value: host.role }],
    },
  };
}

export interface FindingSpec {
  id: string;
  type: string;
  severity: number;
  title: string;
  description: string;
  resource: Json;
  action: Json;
  role: 'TARGET' | 'ACTOR';
  count: number;
  first: Date;
  last: Date;
  extra?: Json;
}

export function finding(net: RegionNet, detectorId: string, f: FindingSpec): Json {
  return {
    schemaVersion: '2.0',
    accountId: net.account,
    region: net.region,
    partition: 'aws',
    id: f.id,
    arn: `arn:aws:guardduty:${net.region}:${net.account}:detector/${detectorId}/finding/${f.id}`,
    type: f.type,
    resource: f.resource,
    service: {
      serviceName: 'guardduty',
      detectorId,
      action: f.action,
      resourceRole: f.role,
      additionalInfo: { ...(f.extra ?? {}) },
      eventFirstSeen: f.first.toISOString(),
      eventLastSeen: f.last.toISOString(),
      archived: false,
      count: f.count,
    },
    severity: f.severity,
    createdAt: f.first.toISOString(),
    updatedAt: f.last.toISOString(),
    title: f.title,
    description: f.description,
  };
}

export function envelope(f: Json, rng: Rng): Json {
  return { version: '0', id: rng.uuid(), 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: f.accountId, time: f.updatedAt, region: f.region, resources: [], detail: f };
}

export const actions = {
  bruteForce: (attacker: string, port: number, host: Host): Json => ({
    actionType: 'NETWORK_CONNECTION',
    networkConnectionAction: { connectionDirection: 'INBOUND', blocked: false, protocol: 'TCP', remoteIpDetails: remoteIp(attacker), remotePortDetails: { port: 46000, portName: 'Unknown' }, localPortDetails: { port, portName: port === 22 ? 'SSH' : 'RDP' }, localIpDetails: { ipAddressV4: host.ip } },
  }),
  portProbe: (probes: { ip: string; port: number }[], host: Host): Json => ({
    actionType: 'PORT_PROBE',
    portProbeAction: { blocked: false, portProbeDetails: probes.map((p) => ({ localPortDetails: { port: p.port, portName: String(p.port) }, localIpDetails: { ipAddressV4: host.ip }, remoteIpDetails: remoteIp(p.ip) })) },
  }),
  apiCall: (api: string, caller: string): Json => ({
    actionType: 'AWS_API_CALL',
    awsApiCallAction: { api, serviceName: 'ec2.amazonaws.com', callerType: 'Remote IP', remoteIpDetails: remoteIp(caller), errorCode: '', userAgent: 'aws-cli/2.15.0' },
  }),
  dns: (domain: string): Json => ({ actionType: 'DNS_REQUEST', dnsRequestAction: { domain, protocol: 'UDP', blocked: false } }),
  outbound: (remote: string, port: number): Json => ({
    actionType: 'NETWORK_CONNECTION',
    networkConnectionAction: { connectionDirection: 'OUTBOUND', blocked: false, protocol: 'TCP', remoteIpDetails: remoteIp(remote), remotePortDetails: { port, portName: String(port) }, localPortDetails: { port: 49152, portName: 'Unknown' } },
  }),
};

export { instance };
