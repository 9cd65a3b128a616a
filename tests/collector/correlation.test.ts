/**
 * A port scan (rule 80640: 100 distinct ports from one source to one destination, rejected, within 300 s) split
 * over two VPC flow log objects raises exactly one alert however the objects arrive: in one `tld run-once`, in
 * two runs, or across a restart of `tld start`. Real CLI processes, the real AWS SDK, a loopback S3 server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';

const root = new URL('../../', import.meta.url).pathname;
const T0 = Date.parse('2025-06-26T03:10:00Z') / 1000;
let s3: LocalS3;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-correlation-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
});
after(async () => s3?.close());

const key = (n: number) => `AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_20250626T031${n}Z_0000000${n}.log`;

/** rejected flows from the scanner to ports `from`..`to`, one a second, plus ordinary accepted traffic */
function scanObject(from: number, to: number): string {
  const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
  for (let p = from; p <= to; p++) {
    const t = T0 + p;
    lines.push(`2 111111111111 eni-0a1b2c3d4e5f60718 203.0.113.50 10.0.1.208 40000 ${p} 6 1 40 ${t} ${t + 1} REJECT OK`);
    lines.push(`2 111111111111 eni-0a1b2c3d4e5f60718 10.0.1.9 10.0.1.208 50000 443 6 10 900 ${t} ${t + 1} ACCEPT OK`);
  }
  return lines.join('\n') + '\n';
}

async function bucketWith(name: string, objects: number[]): Promise<void> {
  await s3.createBucket(name);
  for (const n of objects) await putScanPart(name, n);
}
/** part 1: ports 1–60, part 2: ports 61–100 (the 100th distinct port completes the scan) */
const putScanPart = (bucket: string, n: number) => s3.put(bucket, key(n), Buffer.from(n === 1 ? scanObject(1, 60) : scanObject(61, 100)));

function conf(bucket: string, extra = ''): string {
  const file = join(dir, `${bucket}.conf`);
  writeFileSync(file, `<ossec_config><global><logall_json>yes</logall_json></global><wodle name="aws-s3">${extra}<bucket type="vpcflow"><name>${bucket}</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
  return file;
}

function tld(args: string[]): { exited: Promise<number | null>; kill: (s: NodeJS.Signals) => void; output: () => string } {
  const child = spawn(process.execPath, [join(root, 'bin/tld.js'), ...args], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', TLD_LOG_LEVEL: 'error' } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { exited: new Promise((resolve) => child.on('close', (code) => resolve(code))), kill: (s) => child.kill(s), output: () => out };
}

async function runOnce(config: string, data: string): Promise<void> {
  const run = tld(['run-once', '-c', config, '--data-dir', data, '--no-progress']);
  assert.equal(await run.exited, 0, run.output());
}

function jsonLines(file: string): Record<string, any>[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}
const scans = (data: string) => jsonLines(join(data, 'logs/alerts/alerts.json')).filter((a) => a.rule.id === '80640');
const archived = (data: string) => jsonLines(join(data, 'logs/archives/archives.json')).length;

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

test('a port scan split over two objects read by two run-once runs raises exactly one alert, the one a single run raises', async () => {
  await bucketWith('together', [1, 2]);
  const single = join(dir, 'data-together');
  await runOnce(conf('together'), single);
  const expected = scans(single);
  assert.equal(expected.length, 1, 'one run reading both objects raises one alert');

  await bucketWith('apart', [1]);
  const data = join(dir, 'data-apart');
  const config = conf('apart');
  await runOnce(config, data);
  assert.equal(scans(data).length, 0, '60 ports are not a scan yet');
  await putScanPart('apart', 2);
  await runOnce(config, data);
  assert.deepEqual(scans(data).map((a) => [a.id, a.correlation.distinct, a.data.aws.dstport]), expected.map((a) => [a.id, 100, '100']));
  await runOnce(config, data);
  assert.equal(scans(data).length, 1, 'a run with nothing new raises nothing');
  assert.equal(archived(data), 200, 'every record once');
});

test('a port scan split across a restart of tld start raises exactly one alert', async () => {
  await bucketWith('service', [1]);
  const data = join(dir, 'data-service');
  const config = conf('service', '<interval>1s</interval><run_on_start>yes</run_on_start>');
  const start = () => tld(['start', '-c', config, '--data-dir', data, '--no-dashboard']);

  const first = start();
  await until('the first part is read', () => archived(data) === 120);
  first.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.output());
  assert.equal(scans(data).length, 0);

  await putScanPart('service', 2);
  const second = start();
  try {
    await until('the second part is read', () => archived(data) === 200);
    await until('the alert is written', () => scans(data).length > 0);
  } finally {
    second.kill('SIGTERM');
  }
  assert.equal(await second.exited, 0, second.output());
  assert.deepEqual(scans(data).map((a) => [a.correlation.distinct, a.data.aws.dstport]), [[100, '100']]);
});
