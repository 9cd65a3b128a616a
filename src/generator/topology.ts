/** The generated estate: two accounts, two regions, instances with ENIs, flow logs, and the actors. */
import { Rng } from './random.js';

export const ACCOUNTS = [
  { id: '111111111111', alias: 'prod' },
  { id: '222222222222', alias: 'dev' },
] as const;
export const REGIONS = ['us-east-1', 'eu-west-1'] as const;

/** Attackers use documentation ranges only (RFC 5737), so no real organisation is ever labelled. */
export const ACTORS = {
  portScanner: '203.0.113.50',
  sshBruteForcer: '198.51.100.23',
  exfilDestination: '192.0.2.200',
  consoleAttacker: '198.51.100.77',
  unusualApiCaller: '203.0.113.99',
} as const;

/** Internet background scanners (the kind of ranges seen in real REJECT-only flow logs). */
export const SCANNER_PREFIXES = ['162.142.125.', '147.185.132.', '198.235.24.', '65.49.20.', '47.237.176.', '8.219.3.'];

export interface Host {
  instanceId: string;
  eni: string;
  ip: string;
  role: 'bastion' | 'web' | 'windows' | 'app' | 'db';
  publicIp?: string;
}

export interface RegionNet {
  account: string;
  region: string;
  vpcId: string;
  subnetId: string;
  hosts: Host[];
  /** one default-format (v2) and one custom-format (v5 order) flow log */
  flowLogs: { id: string; format: 'default' | 'custom' }[];
  /** share of the traffic (prod us-east-1 is the main region) */
  weight: number;
}

export function buildTopology(seed: number): RegionNet[] {
  const rng = new Rng(seed ^ 0x5eed);
  const nets: RegionNet[] = [];
  ACCOUNTS.forEach((acct, a) => {
    REGIONS.forEach((region, r) => {
      const roles: Host['role'][] = ['bastion', 'web', 'web', 'windows', 'app', 'app', 'app', 'db', 'db'];
      const hosts = roles.map((role, i): Host => ({
        instanceId: `i-0${rng.hex(16)}`,
        eni: `eni-0${rng.hex(16)}`,
        ip: `10.${a * 10 + r}.${i < 4 ? 1 : 2}.${10 + i}`,
        role,
        ...(role === 'bastion' || role === 'web' || role === 'windows' ? { publicIp: `54.${100 + a * 10 + r}.${rng.int(0, 255)}.${rng.int(1, 254)}` } : {}),
      }));
      nets.push({
        account: acct.id,
        region,
        vpcId: `vpc-0${rng.hex(16)}`,
        subnetId: `subnet-0${rng.hex(16)}`,
        hosts,
        flowLogs: [
          { id: `fl-0${rng.hex(16)}`, format: 'default' },
          { id: `fl-0${rng.hex(16)}`, format: 'custom' },
        ],
        weight: a === 0 && r === 0 ? 1 : a === 0 ? 0.35 : 0.2,
      });
    });
  });
  return nets;
}
