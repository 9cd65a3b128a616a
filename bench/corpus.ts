/** Synthetic corpora for the benchmark: VPC flow-log objects (default and custom format), GuardDuty, CloudTrail. */
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const SAMPLES = new URL('../testdata/aws-log-samples/', import.meta.url).pathname;
const DEFAULT_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const CUSTOM_HEADER = 'version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status';

/** Deterministic xorshift PRNG. */
function rng(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * Plain text of one VPC flow-log object with `lines` records, 100 a second from `start` seconds after the
 * corpus's first second (consecutive deliveries of a flow log continue each other's time).
 */
export function vpcText(lines: number, format: 'default' | 'custom', seed: number, start = 0): string {
  const r = rng(seed);
  const ips = Array.from({ length: 512 }, (_, i) => `${10 + (i % 3)}.${i % 256}.${(i * 7) % 256}.${(i * 13) % 256}`);
  const enis = Array.from({ length: 16 }, (_, i) => `eni-0${(i * 2654435761).toString(16).padStart(16, '0').slice(0, 16)}`);
  const parts: string[] = [format === 'default' ? DEFAULT_HEADER : CUSTOM_HEADER];
  const t0 = 1750962159;
  for (let i = 0; i < lines; i++) {
    const src = ips[Math.floor(r() * 512)] as string;
    const dst = ips[Math.floor(r() * 512)] as string;
    const sp = 1024 + Math.floor(r() * 60000);
    const dp = r() < 0.3 ? 443 : Math.floor(r() * 65535);
    const action = r() < 0.15 ? 'REJECT' : 'ACCEPT';
    const pk = 1 + Math.floor(r() * 200);
    const by = pk * 60;
    const st = t0 + start + Math.floor(i / 100);
    const eni = enis[i % 16] as string;
    parts.push(
      format === 'default'
        ? `2 111111111111 ${eni} ${src} ${dst} ${sp} ${dp} 6 ${pk} ${by} ${st} ${st + 30} ${action} OK`
        : `5 ${src} ${dst} ${sp} ${dp} 6 ${st} ${st + 30} IPv4 ${pk} ${by} 111111111111 vpc-0abc subnet-0abc i-0abc ${eni} us-east-1 use1-az1 - - ${action} 3 ${src} ${dst} - - - ingress OK`,
    );
  }
  return parts.join('\n') + '\n';
}

export function vpcObject(lines: number, format: 'default' | 'custom', seed: number, level = 6, start = 0): Buffer {
  return gzipSync(vpcText(lines, format, seed, start), { level });
}

/** A Firehose object of `n` EventBridge envelopes concatenated without delimiter. */
export function guarddutyObject(n: number): Buffer {
  const files = ['real_unauthorizedaccess-ec2-rdpbruteforce_mozilla-2019.json', 'awssample_cryptocurrency-ec2-bitcointool.b-dns_via-mozilla-2019.json', 'awssample_unauthorizedaccess-iamuser-toripcaller_via-mozilla-2019.json'];
  const findings = files.map((f) => JSON.parse(readFileSync(SAMPLES + 'guardduty/' + f, 'utf8')) as Record<string, unknown>);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = findings[i % findings.length] as Record<string, unknown>;
    const detail = 'detail' in f ? (f.detail as Record<string, unknown>) : f;
    out.push(JSON.stringify({ version: '0', id: `id-${i}`, 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', account: '111111111111', time: '2026-01-01T00:00:00Z', region: 'us-east-1', resources: [], detail: { ...detail, id: `f${i}` } }));
  }
  return gzipSync(out.join(''));
}

/** A CloudTrail file of `n` records (copies of the AWS documentation examples). */
export function cloudtrailObject(n: number): Buffer {
  const recs = (JSON.parse(readFileSync(SAMPLES + 'cloudtrail/awsdocs/cloudtrail-log-file-examples_records.json', 'utf8')) as { Records: Record<string, unknown>[] }).Records.filter((r) => r.eventName);
  const out = Array.from({ length: n }, (_, i) => ({ ...recs[i % recs.length], eventID: `e${i}` }));
  return gzipSync(JSON.stringify({ Records: out }));
}
