/**
 * End to end into the indexer: the real CLI (`tld run-once`, `<store><backend>indexer</backend>`), the real AWS SDK
 * against s3rver (tests/helpers/s3-server.ts), the real OpenSearch client against the indexer DOUBLE
 * (tests/helpers/indexer-double.ts: a protocol double, not an OpenSearch server — none can run here). The double
 * carries Wazuh's own template for the alert indices, as a Wazuh install does, so every alert must fit it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startIndexerDouble, type IndexerDouble } from '../helpers/indexer-double.js';
import { SHARED } from '../../testdata/shared.js';

const root = new URL('../../', import.meta.url).pathname;
const SAMPLES = `${SHARED}/aws-log-samples/`;
const VPC1 = 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log';
const VPC2 = 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log';
const GD = 'guardduty/constructed/firehose/guardduty/2019/10/24/21/';
const GD_LINES = GD + 'firehose_guardduty-2-2019-10-24-21-40-12-6b0d549b-6f03-475a-9600-a35a099950d8';
const sample = (p: string): Buffer => readFileSync(SAMPLES + p);
const records = (p: string): number => sample(p).toString('utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('version')).length;

let s3: TestS3Server;
let double: IndexerDouble;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-indexer-e2e-'));
  s3 = await startS3Server();
  double = await startIndexerDouble();
  await fetch(`${double.url}/_template/wazuh`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: readFileSync(`${SHARED}/reference/wazuh-ruleset/wazuh-template.json`) });
  await s3.putObject('central-logs', 'AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log.gz', sample(VPC1 + '.gz'));
  await s3.putObject('central-logs', 'AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log', sample(VPC2));
  await s3.putObject('central-logs', 'AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_Mu0KsOhtH1ar15ZZ.json.gz', sample('cloudtrail/constructed/AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_Mu0KsOhtH1ar15ZZ.json.gz'));
  await s3.putObject('findings', 'firehose/2019/10/24/21/firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475.gz', sample(GD + 'firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475.gz'));
  await s3.putObject('findings', 'firehose/2019/10/24/21/firehose_guardduty-2-2019-10-24-21-40-12-6b0d549b-6f03-475a-9600-a35a099950d8', sample(GD_LINES));
});
after(async () => {
  await s3?.close();
  await double?.close();
});

function bucket(type: string, name: string, extra = ''): string {
  return `<bucket type="${type}"><name>${name}</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2019-JAN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key>${extra}</bucket>`;
}

function conf(name: string, buckets: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `<ossec_config>
  <store><backend>indexer</backend></store>
  <indexer><enabled>yes</enabled><hosts><host>${double.url}</host></hosts></indexer>
  <wodle name="aws-s3">${buckets.join('')}</wodle>
</ossec_config>
`);
  return file;
}

/** The CLI, asynchronously (the S3 server and the double live in this process). `killWhen`: SIGKILL once true. */
function runOnce(config: string, data: string, killWhen?: () => boolean): Promise<{ status: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), 'run-once', '-c', config, '--data-dir', data, '--no-progress'], { env: { ...process.env, TLD_LOG_LEVEL: 'error', AWS_EC2_METADATA_DISABLED: 'true' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const poll = killWhen && setInterval(() => killWhen() && child.kill('SIGKILL'), 2);
    child.on('close', (status, signal) => {
      if (poll) clearInterval(poll);
      resolve({ status, signal, out });
    });
  });
}

const alertIds = (data: string): string[] => readFileSync(join(data, 'logs/alerts/alerts.json'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);

test('run-once writes every flow, alert and finding once; alerts fit Wazuh\'s template; a full re-read (state lost) duplicates nothing', async () => {
  const config = conf('all.conf', [bucket('vpcflow', 'central-logs'), bucket('cloudtrail', 'central-logs'), bucket('guardduty', 'findings', '<path>firehose/</path>')]);
  const r = await runOnce(config, join(dir, 'data-all'));
  assert.equal(r.status, 0, r.out);
  const flows = double.docs('tld-flows-*');
  assert.equal(flows.length, records(VPC1) + records(VPC2));
  const alerts = double.docs('wazuh-alerts-4.x-*');
  const inFile = alertIds(join(dir, 'data-all'));
  assert.ok(inFile.length > 0, 'the samples raise alerts');
  assert.deepEqual(alerts.map((a) => a.id).sort(), [...inFile].sort(), 'the indexer holds exactly the alerts of alerts.json');
  const findingIds = new Set(sample(GD_LINES).toString('utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { detail: { id: string } }).detail.id));
  assert.deepEqual(new Set(double.docs('tld-guardduty-findings').map((d) => d.id)), findingIds);
  assert.equal(double.docs('tld-objects').length, 5, 'one health document per object');
  assert.deepEqual(double.items.filter((i) => i.status >= 400 && i.status !== 409), [], 'no document refused: alerts fit Wazuh\'s template, the rest ours');
  assert.ok(!double.composable.has('tld-wazuh-alerts'), "Wazuh's template kept for the alert indices");

  const before = double.items.length;
  const again = await runOnce(config, join(dir, 'data-all-again'));
  assert.equal(again.status, 0, again.out);
  assert.equal(double.docs('tld-flows-*').length, flows.length);
  assert.equal(double.docs('wazuh-alerts-4.x-*').length, alerts.length);
  const second = double.items.slice(before).filter((i) => i.index !== 'tld-objects');
  assert.ok(second.length >= flows.length + alerts.length);
  assert.deepEqual(second.filter((i) => i.status !== 409), [], 'every document of the re-read answered 409 (already written)');
});

test('429 and 5xx answers are retried: the run succeeds and every record is in once', async () => {
  const config = conf('shed.conf', [bucket('vpcflow', 'shed-logs')]);
  for (let o = 0; o < 4; o++) {
    await s3.putObject('shed-logs', `AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T19${o}0Z_0000000${o}.log.gz`, sample(VPC1 + '.gz'));
  }
  const before = double.bulkBodies.length;
  double.shedRequests(2, 429);
  const first = await runOnce(config, join(dir, 'data-shed'), () => {
    // once the two 429s are spent, the next two requests fail as a broken node would
    if (double.bulkBodies.length === before + 2) double.shedRequests(2, 503);
    return false;
  });
  assert.equal(first.status, 0, first.out);
  assert.ok(double.bulkBodies.length - before >= 5, 'four refused requests and at least one accepted');
  const ids = double.docs('tld-flows-*').filter((d) => d.source.s3bucket === 'shed-logs').map((d) => d.id);
  assert.equal(ids.length, 4 * records(VPC1));
});

test('a document the indexer refuses is reported, its objects are not marked processed, and the next run writes them', async () => {
  const config = conf('refuse.conf', [bucket('vpcflow', 'refuse-logs')]);
  for (let o = 0; o < 3; o++) {
    await s3.putObject('refuse-logs', `AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T18${o}0Z_1000000${o}.log.gz`, sample(VPC1 + '.gz'));
  }
  double.failItems(1, 400, 'mapper_parsing_exception');
  const first = await runOnce(config, join(dir, 'data-refuse'));
  assert.notEqual(first.status, 0, first.out);
  assert.match(first.out, /indexer http:\/\/127\.0\.0\.1:\d+: 1 document\(s\) refused: tld-flows-2025\.06\.26\/[0-9a-f]{16}-\d+ \(from s3:\/\/refuse-logs\/AWSLogs\/.*\): HTTP 400 mapper_parsing_exception/);
  const count = (): number => double.docs('tld-flows-*').filter((d) => d.source.s3bucket === 'refuse-logs').length;
  assert.ok(count() < 3 * records(VPC1), 'the refused document is missing');
  const second = await runOnce(config, join(dir, 'data-refuse'));
  assert.equal(second.status, 0, second.out);
  assert.match(second.out, /s3:\/\/refuse-logs\/\s+vpcflow\s+3\s/, 'the three objects were read again');
  assert.equal(count(), 3 * records(VPC1));
});

test('SIGKILL mid-run, then a restart: every record is in the indexer exactly once', async () => {
  // enough objects that the kill lands mid-run: the collector reads up to 32 objects ahead
  const OBJECTS = 96;
  const LINES = 500;
  for (let o = 0; o < OBJECTS; o++) {
    const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
    for (let i = 0; i < LINES; i++) lines.push(`2 111111111111 eni-0a1b2c3d4e5f60718 10.0.${o}.${i % 250} 10.1.0.1 ${1024 + i} 443 6 10 ${o * 100_000 + i} 1750962159 1750962178 ACCEPT OK`);
    const hh = String(10 + Math.floor(o / 12)).padStart(2, '0');
    const mm = String((o % 12) * 5).padStart(2, '0');
    await s3.putObject('kill-logs', `AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_20250626T${hh}${mm}Z_${String(o).padStart(8, '0')}.log.gz`, gzipSync(lines.join('\n') + '\n'));
  }
  const config = conf('kill.conf', [bucket('vpcflow', 'kill-logs')]);
  const data = join(dir, 'data-kill');
  const count = (): number => double.docs('tld-flows-2025.06.26').filter((d) => d.source.s3bucket === 'kill-logs').length;
  const first = await runOnce(config, data, () => count() >= (OBJECTS * LINES) / 10);
  assert.equal(first.signal, 'SIGKILL', first.out);
  const partial = count();
  assert.ok(partial > 0 && partial < OBJECTS * LINES, `killed mid-run (${partial} documents in)`);
  const before = double.items.length;
  const second = await runOnce(config, data);
  assert.equal(second.status, 0, second.out);
  const docs = double.docs('tld-flows-2025.06.26').filter((d) => d.source.s3bucket === 'kill-logs');
  assert.equal(docs.length, OBJECTS * LINES, 'no record lost');
  assert.equal(new Set(docs.map((d) => d.source.bytes)).size, OBJECTS * LINES, 'each record once (bytes is unique per record)');
  const resent = double.items.slice(before).filter((i) => i.status === 409).length;
  assert.ok(resent <= partial, 'what the restart sent again was already there (409), never stored twice');
});

test('run-once fires frequency windows at its end from every run\'s partials: a scan split over two runs on two data folders (two machines) raises one alert', async () => {
  const header = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
  const t0 = Date.parse('2025-06-26T20:00:00Z') / 1000;
  const half = (from: number, to: number) => gzipSync(`${[header, ...Array.from({ length: to - from + 1 }, (_, i) => `2 149519528842 eni-0a1b2c3d4e5f60718 203.0.113.77 10.0.1.208 ${40000 + from + i} ${from + i} 6 1 40 ${t0 + from + i} ${t0 + from + i + 1} REJECT OK`)].join('\n')}\n`);
  const key = (n: number) => `AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/149519528842_vpcflowlogs_us-west-2_fl-0bbbbbbbbbbbbbbbb_20250626T200${n}Z_scan.log.gz`;
  await s3.putObject('scan-a', key(0), half(1, 60));
  await s3.putObject('scan-b', key(1), half(61, 150));
  const settleAtOnce = '<correlation_grace_seconds>0</correlation_grace_seconds>';
  const confOf = (name: string, b: string) => {
    const file = join(dir, name);
    writeFileSync(file, `<ossec_config>
  <store><backend>indexer</backend></store>
  <indexer><enabled>yes</enabled><hosts><host>${double.url}</host></hosts>${settleAtOnce}</indexer>
  <wodle name="aws-s3">${bucket('vpcflow', b)}</wodle>
</ossec_config>
`);
    return file;
  };
  const scans = () => double.docs('wazuh-alerts-4.x-*').filter((d) => (d.source.rule as { id?: string }).id === '80640');
  const first = await runOnce(confOf('scan-a.conf', 'scan-a'), join(dir, 'data-scan-a'));
  assert.equal(first.status, 0, first.out);
  assert.match(first.out, /Frequency windows fired into the indexer: 0/);
  assert.equal(scans().length, 0, 'half a scan fires nothing');
  const second = await runOnce(confOf('scan-b.conf', 'scan-b'), join(dir, 'data-scan-b'));
  assert.equal(second.status, 0, second.out);
  assert.match(second.out, /Frequency windows fired into the indexer: 1 \(1 new\)/);
  assert.equal(scans().length, 1);
  assert.equal((scans()[0]!.source.correlation as { distinct?: number }).distinct, 100);
  // the first machine runs again (nothing new to read): its pass finds the window already written
  const again = await runOnce(confOf('scan-a.conf', 'scan-a'), join(dir, 'data-scan-a'));
  assert.match(again.out, /Frequency windows fired into the indexer: 1 \(0 new\)/);
  assert.equal(scans().length, 1);
});
