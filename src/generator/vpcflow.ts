/** VPC Flow Logs: a daily traffic curve, internet background scanning, and the attack scenarios. */
import type { Host, RegionNet } from './topology.js';
import { ACTORS, SCANNER_PREFIXES } from './topology.js';
import type { Rng } from './random.js';

export const DEFAULT_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
/** AWS's v5 documentation example order (deliberately not the canonical one). */
export const CUSTOM_HEADER = 'version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status';

export interface Flow {
  host: Host;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  packets: number;
  bytes: number;
  start: number;
  end: number;
  action: 'ACCEPT' | 'REJECT';
  flags: number;
  direction: 'ingress' | 'egress';
}

/** One text line of a flow in the flow log's format. */
export function flowLine(f: Flow, net: RegionNet, format: 'default' | 'custom'): string {
  if (format === 'default') {
    return `2 ${net.account} ${f.host.eni} ${f.src} ${f.dst} ${f.sport} ${f.dport} ${f.proto} ${f.packets} ${f.bytes} ${f.start} ${f.end} ${f.action} OK`;
  }
  const path = f.direction === 'egress' ? '8' : '-';
  return `5 ${f.src} ${f.dst} ${f.sport} ${f.dport} ${f.proto} ${f.start} ${f.end} IPv4 ${f.packets} ${f.bytes} ${net.account} ${net.vpcId} ${net.subnetId} ${f.host.instanceId} ${f.host.eni} ${net.region} ${net.region.slice(0, 2)}${net.region.split('-')[1]?.slice(0, 1)}1-az1 - - ${f.action} ${f.flags} ${f.src} ${f.dst} - - ${path} ${f.direction} OK`;
}

export function nodataLine(host: Host, net: RegionNet, start: number, format: 'default' | 'custom'): string {
  return format === 'default'
    ? `2 ${net.account} ${host.eni} - - - - - - - ${start} ${start + 60} - NODATA`
    : `5 - - - - - ${start} ${start + 60} - - - ${net.account} ${net.vpcId} ${net.subnetId} ${host.instanceId} ${host.eni} ${net.region} - - - - - - - - - - - NODATA`;
}

/** Business hours (08–19 UTC, Monday–Friday) at 100 %, nights 15 %, weekends 25 %. */
export function dayCurve(t: number): number {
  const d = new Date(t * 1000);
  const h = d.getUTCHours();
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
  const business = h >= 8 && h < 19;
  return weekend ? (business ? 0.25 : 0.1) : business ? 1 : 0.15;
}

function publicIp(rng: Rng): string {
  return `${rng.int(20, 220)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

/** Ordinary traffic of one window for one flow log (web ingress, east-west, egress, background scans). */
export function baselineFlows(net: RegionNet, windowStart: number, seconds: number, scale: number, rng: Rng): Flow[] {
  const flows: Flow[] = [];
  const volume = Math.round(400 * scale * net.weight * dayCurve(windowStart) * (0.8 + rng.next() * 0.4) * (seconds / 900));
  const web = net.hosts.filter((h) => h.role === 'web');
  const apps = net.hosts.filter((h) => h.role === 'app');
  const dbs = net.hosts.filter((h) => h.role === 'db');
  for (let i = 0; i < volume; i++) {
    const start = windowStart + rng.int(0, seconds - 60);
    const kind = rng.next();
    if (kind < 0.45) {
      const h = rng.pick(web);
      const packets = rng.int(5, 200);
      flows.push({ host: h, src: publicIp(rng), dst: h.ip, sport: rng.int(1024, 65535), dport: 443, proto: 6, packets, bytes: packets * rng.int(200, 1400), start, end: start + rng.int(1, 59), action: 'ACCEPT', flags: 19, direction: 'ingress' });
    } else if (kind < 0.8) {
      const h = rng.pick(apps);
      const db = rng.pick(dbs);
      const packets = rng.int(10, 400);
      flows.push({ host: h, src: h.ip, dst: db.ip, sport: rng.int(32768, 60999), dport: rng.pick([5432, 3306, 6379]), proto: 6, packets, bytes: packets * rng.int(100, 9000), start, end: start + rng.int(1, 59), action: 'ACCEPT', flags: 3, direction: 'egress' });
    } else {
      const h = rng.pick(apps);
      const packets = rng.int(5, 100);
      flows.push({ host: h, src: h.ip, dst: publicIp(rng), sport: rng.int(32768, 60999), dport: 443, proto: 6, packets, bytes: packets * rng.int(100, 1400), start, end: start + rng.int(1, 59), action: 'ACCEPT', flags: 3, direction: 'egress' });
    }
  }
  // flat, 24/7 internet background scanning of the exposed hosts: almost all rejected
  for (const h of net.hosts.filter((x) => x.publicIp)) {
    const n = Math.round(rng.int(6, 24) * scale * (seconds / 900));
    for (let i = 0; i < n; i++) {
      const start = windowStart + rng.int(0, seconds - 60);
      flows.push({ host: h, src: `${rng.pick(SCANNER_PREFIXES)}${rng.int(1, 254)}`, dst: h.ip, sport: rng.int(1024, 65535), dport: rng.chance(0.3) ? rng.pick([22, 23, 80, 443, 445, 3389, 8080]) : rng.int(1, 65535), proto: rng.chance(0.9) ? 6 : 17, packets: 1, bytes: rng.pick([40, 44, 60]), start, end: start + rng.int(4, 31), action: 'REJECT', flags: 2, direction: 'ingress' });
    }
  }
  return flows;
}

export interface VpcScenarioTimes {
  portScan: number;
  sshBruteForce: number;
  exfiltration: number;
  internalScan: number;
}

/** The attack flows (all on the main region's hosts). */
export function scenarioFlows(net: RegionNet, at: VpcScenarioTimes, rng: Rng): { scan: Flow[]; brute: Flow[]; exfil: Flow[]; nearMiss: Flow[] } {
  const web = net.hosts.find((h) => h.role === 'web') as Host;
  const bastion = net.hosts.find((h) => h.role === 'bastion') as Host;
  const app = net.hosts.find((h) => h.role === 'app') as Host;
  const db = net.hosts.find((h) => h.role === 'db') as Host;
  const scan: Flow[] = [];
  for (let p = 1; p <= 1200; p++) {
    const start = at.portScan + Math.floor(p * 0.15);
    const open = p === 22 || p === 443;
    scan.push({ host: web, src: ACTORS.portScanner, dst: web.ip, sport: 40000 + (p % 2000), dport: p, proto: 6, packets: 1, bytes: 44, start, end: start + 1, action: open ? 'ACCEPT' : 'REJECT', flags: open ? 6 : 2, direction: 'ingress' });
  }
  const brute: Flow[] = [];
  for (let i = 0; i < 400; i++) {
    const start = at.sshBruteForce + i * 9;
    brute.push({ host: bastion, src: ACTORS.sshBruteForcer, dst: bastion.ip, sport: rng.int(30000, 65000), dport: 22, proto: 6, packets: rng.int(10, 30), bytes: rng.int(2000, 6000), start, end: start + rng.int(2, 8), action: rng.chance(0.02) ? 'REJECT' : 'ACCEPT', flags: 3, direction: 'ingress' });
  }
  const exfil: Flow[] = [];
  for (let i = 0; i < 30; i++) {
    const start = at.exfiltration + i * 60;
    const bytes = rng.int(100_000_000, 170_000_000);
    exfil.push({ host: app, src: app.ip, dst: ACTORS.exfilDestination, sport: rng.int(32768, 60999), dport: 443, proto: 6, packets: Math.round(bytes / 1400), bytes, start, end: start + 59, action: 'ACCEPT', flags: 3, direction: 'egress' });
  }
  // near miss: an internal vulnerability scanner touching 50 ports of one host in business hours
  const nearMiss: Flow[] = [];
  for (let p = 1; p <= 50; p++) {
    const start = at.internalScan + p * 2;
    nearMiss.push({ host: db, src: '10.0.2.50', dst: db.ip, sport: 50000 + p, dport: 1000 + p, proto: 6, packets: 1, bytes: 44, start, end: start + 1, action: 'REJECT', flags: 2, direction: 'ingress' });
  }
  return { scan, brute, exfil, nearMiss };
}
