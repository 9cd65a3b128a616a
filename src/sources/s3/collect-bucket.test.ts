/**
 * The collector against S3 for real: the AWS SDK over HTTP to s3rver (patched, tests/helpers/s3-server.ts),
 * the file state store on disk, a capturing sink, and the shared real samples as object bodies laid out the
 * way AWS writes them. Listings use 2-key pages so discovery and listing pagination are exercised.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { BucketConfig } from '../../config/types.js';
import { decodeBuffer } from '../../decoders/index.js';
import { SAMPLES_DIR } from '../../../testdata/samples.js';
import { startS3Server, type TestS3Server } from '../../../tests/helpers/s3-server.js';
import { CaptureSink, bucketConfig, captureLogger } from '../../../tests/helpers/collector.js';
import { openStateStore } from './state/file-state-store.js';
import type { StateStore } from './state/types.js';
import { createS3Source } from './client.js';
import { collectAll, collectBucket, objectIdOf, type BucketSummary } from './collect-bucket.js';

const sample = (p: string) => readFileSync(join(SAMPLES_DIR, p));
const VPC_GZ1 = sample('vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log.gz');
const VPC_GZ2 = sample('vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log.gz');
const VPC_V2 = sample('vpcflow/awsdocs_default-v2-examples.log');
const CT_GZ = sample('cloudtrail/constructed/AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_Mu0KsOhtH1ar15ZZ.json.gz');
const CT_DOCS = sample('cloudtrail/awsdocs/cloudtrail-log-file-examples_records.json');
const GD_NATIVE = sample('guardduty/constructed/native-export/AWSLogs/884003976652/GuardDuty/us-west-2/2019/10/24/8d116ece-1738-47d9-bd9c-172411e20b8f.jsonl.gz');
const GD_FH1 = sample('guardduty/constructed/firehose/guardduty/2019/10/24/21/firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475.gz');
const GD_FH2 = sample('guardduty/constructed/firehose/guardduty/2019/10/24/21/firehose_guardduty-2-2019-10-24-21-40-12-6b0d549b-6f03-475a-9600-a35a099950d8');
const EVENTBRIDGE = sample('cloudtrail/linuxacademy_eventbridge_createvpc-success.json');

/** Records the decoders make of a body: what the collector must deliver for it, exactly once. */
function recordsOf(body: Buffer, type: BucketConfig['type']): number {
  return decodeBuffer(body, { bucketType: type, logInfo: { aws_account_alias: '', log_file: '', s3bucket: '' } }).length;
}

let s3: TestS3Server;
const dirs: string[] = [];

before(async () => {
  s3 = await startS3Server();
});
after(async () => {
  await s3.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tld-state-'));
  dirs.push(d);
  return d;
}

function cfg(over: Partial<BucketConfig> & Pick<BucketConfig, 'type' | 'name'>): BucketConfig {
  return bucketConfig({ serviceEndpoint: s3.endpoint, accessKey: 'S3RVER', secretKey: 'S3RVER', ...over });
}

interface RunResult {
  summary: BucketSummary;
  sink: CaptureSink;
  lines: Record<string, unknown>[];
}

/** One collection run of one bucket with a state store opened (and closed) on `dir`. */
async function run(b: BucketConfig, dir: string, opts: { skipOnError?: boolean; now?: Date; signal?: AbortSignal; state?: StateStore } = {}): Promise<RunResult> {
  const state = opts.state ?? openStateStore(dir, { lookbackDays: b.lookbackDays, fsync: false });
  const sink = new CaptureSink();
  const { logger, lines } = captureLogger();
  const source = await createS3Source(b, { pageSize: 2, maxAttempts: 2 });
  try {
    const summary = await collectBucket(b, {
      source,
      state,
      sink,
      logger,
      signal: opts.signal ?? new AbortController().signal,
      skipOnError: opts.skipOnError ?? true,
      now: () => opts.now ?? new Date(),
    });
    return { summary, sink, lines };
  } finally {
    source.close?.();
    if (!opts.state) state.close();
  }
}

const vpcKey = (path: string, acct: string, region: string, day: string, fl: string, hhmm: string, hash: string) =>
  `${path}AWSLogs/${acct}/vpcflowlogs/${region}/${day.replace(/-/g, '/')}/${acct}_vpcflowlogs_${region}_${fl}_${day.replace(/-/g, '')}T${hhmm}Z_${hash}.log.gz`;

test('vpcflow: a central multi-account bucket — every account, region and flow log discovered (paginated) and read once', async () => {
  const B = 'central-vpc';
  const objects: [string, Buffer][] = [
    [vpcKey('vpc/', '149519528842', 'us-west-2', '2025-06-26', 'fl-04c78c53ca5809c08', '1820', '1ab9f65a'), VPC_GZ1],
    [vpcKey('vpc/', '149519528842', 'us-west-2', '2025-06-26', 'fl-04c78c53ca5809c08', '1920', '21f4b1b7'), VPC_GZ2],
    [vpcKey('vpc/', '149519528842', 'us-west-2', '2025-06-26', 'fl-0aaaaaaaaaaaaaaaa', '1820', 'aa'), gzipSync(VPC_V2)],
    [vpcKey('vpc/', '149519528842', 'eu-west-1', '2025-06-27', 'fl-0bbbbbbbbbbbbbbbb', '0005', 'bb'), VPC_V2],
    [vpcKey('vpc/', '222222222222', 'ap-south-2', '2025-06-26', 'fl-0cccccccccccccccc', '2300', 'cc'), gzipSync(VPC_V2)],
    [vpcKey('vpc/', '333333333333', 'us-east-1', '2025-06-28', 'fl-0dddddddddddddddd', '0000', 'dd'), VPC_V2],
    // Hive-compatible, hourly partitions
    [`vpc/AWSLogs/aws-account-id=444444444444/aws-service=vpcflowlogs/aws-region=us-east-2/year=2025/month=06/day=27/hour=03/444444444444_vpcflowlogs_us-east-2_fl-0eeeeeeeeeeeeeeee_20250627T0300Z_ee.log.gz`, gzipSync(VPC_V2)],
    // before only_logs_after, and outside the layout
    [vpcKey('vpc/', '149519528842', 'us-west-2', '2025-06-20', 'fl-04c78c53ca5809c08', '1820', 'old'), gzipSync(VPC_V2)],
    ['vpc/AWSLogs/not-an-account/vpcflowlogs/us-east-1/2025/06/26/x.log', VPC_V2],
  ];
  for (const [k, body] of objects) await s3.putObject(B, k, body);
  const b = cfg({ type: 'vpcflow', name: B, path: 'vpc/', onlyLogsAfter: '2025-06-25' });
  const dir = stateDir();
  const r1 = await run(b, dir, { now: new Date('2025-06-28T12:00:00Z') });
  assert.deepEqual(r1.summary.errors, []);
  assert.equal(r1.summary.failed, false);
  const expected = Object.fromEntries(objects.slice(0, 7).map(([k, body]) => [k, recordsOf(body, 'vpcflow')]));
  assert.deepEqual(r1.sink.countByKey(), expected);
  assert.equal(r1.summary.records, Object.values(expected).reduce((a, n) => a + n, 0));
  assert.ok(r1.summary.records > 150, String(r1.summary.records));
  assert.deepEqual(r1.sink.duplicates(), []);
  // the account comes from the key path (a central bucket holds other accounts' logs), flow log ids from names
  const refs = r1.sink.outcomes.map((o) => o.ref);
  assert.deepEqual([...new Set(refs.map((r) => `${r.accountId}/${r.region}/${r.flowLogId}`))].sort(), [
    '149519528842/eu-west-1/fl-0bbbbbbbbbbbbbbbb',
    '149519528842/us-west-2/fl-04c78c53ca5809c08',
    '149519528842/us-west-2/fl-0aaaaaaaaaaaaaaaa',
    '222222222222/ap-south-2/fl-0cccccccccccccccc',
    '333333333333/us-east-1/fl-0dddddddddddddddd',
    '444444444444/us-east-2/fl-0eeeeeeeeeeeeeeee',
  ]);
  assert.equal(refs[0]!.objectId, objectIdOf(B, refs[0]!.key));
  assert.match(refs[0]!.objectId, /^[0-9a-f]{16}$/);
  const first = r1.sink.delivered.find((d) => d.key === objects[4]![0])!;
  assert.equal(first.event.aws.aws_account_id, '222222222222');
  assert.equal(first.event.aws.source, 'vpc');
  // restart: a second run reads nothing
  const r2 = await run(b, dir, { now: new Date('2025-06-28T13:00:00Z') });
  assert.equal(r2.sink.delivered.length, 0);
  assert.equal(r2.summary.objects, 0);
  assert.ok(r2.summary.skipped >= 6);
  // configured accounts and regions restrict what is read
  const r3 = await run({ ...b, awsAccountIds: ['149519528842'], regions: ['eu-west-1'] }, stateDir(), { now: new Date('2025-06-28T12:00:00Z') });
  assert.deepEqual(Object.keys(r3.sink.countByKey()), [objects[3]![0]]);
});

test('cloudtrail: organization trail under path + path_suffix, digests ignored, configured organization', async () => {
  const B = 'org-trail';
  const base = 'ct/AWSLogs/sfx/o-abcdef1234/';
  const k1 = `${base}111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_Mu0KsOhtH1ar15ZZ.json.gz`;
  const k2 = `${base}555555555555/CloudTrail/eu-central-1/2019/02/26/555555555555_CloudTrail_eu-central-1_20190226T0000Z_abcdefabcdefabcd.json`;
  await s3.putObject(B, k1, CT_GZ);
  await s3.putObject(B, k2, CT_DOCS);
  await s3.putObject(B, `${base}111111111111/CloudTrail-Digest/us-east-1/2019/02/25/111111111111_CloudTrail-Digest_us-east-1_x.json.gz`, gzipSync('{"not":"events"}'));
  await s3.putObject(B, `${base}111111111111/CloudTrail-Insight/us-east-1/2019/02/25/i.json.gz`, gzipSync('{"Records":[{"eventType":"AwsCloudTrailInsight"}]}'));
  for (const org of [undefined, 'o-abcdef1234']) {
    const b = cfg({ type: 'cloudtrail', name: B, path: 'ct/', pathSuffix: 'sfx/', onlyLogsAfter: '2019-02-01', ...(org ? { awsOrganizationId: org } : {}) });
    const r = await run(b, stateDir());
    assert.deepEqual(r.sink.countByKey(), { [k1]: recordsOf(CT_GZ, 'cloudtrail'), [k2]: recordsOf(CT_DOCS, 'cloudtrail') }, `organization ${org}`);
    const e = r.sink.delivered.find((d) => d.key === k2)!.event;
    assert.equal(e.aws.source, 'cloudtrail');
    assert.equal(e.aws.aws_account_id, '555555555555');
    assert.deepEqual(e.aws.log_info, { aws_account_alias: '', log_file: k2, s3bucket: B });
  }
});

test('guardduty: native export and Firehose output in one path are both read; Firehose-only path `firehose/`', async () => {
  const B = 'gd-both';
  const native = 'gd/AWSLogs/884003976652/GuardDuty/us-west-2/2019/10/24/8d116ece-1738-47d9-bd9c-172411e20b8f.jsonl.gz';
  const fh1 = 'gd/2019/10/24/21/firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475.gz';
  const fh2 = 'gd/2019/10/24/21/firehose_guardduty-2-2019-10-24-21-40-12-6b0d549b-6f03-475a-9600-a35a099950d8';
  await s3.putObject(B, native, GD_NATIVE);
  await s3.putObject(B, fh1, GD_FH1);
  await s3.putObject(B, fh2, GD_FH2);
  const b = cfg({ type: 'guardduty', name: B, path: 'gd/', onlyLogsAfter: '2019-10-01' });
  const r = await run(b, stateDir());
  assert.deepEqual(r.sink.countByKey(), { [native]: recordsOf(GD_NATIVE, 'guardduty'), [fh1]: recordsOf(GD_FH1, 'guardduty'), [fh2]: recordsOf(GD_FH2, 'guardduty') });
  assert.deepEqual(r.sink.duplicates(), []);
  assert.ok(r.sink.delivered.every((d) => d.event.aws.source === 'guardduty'));

  const F = 'gd-firehose';
  await s3.putObject(F, fh1.replace('gd/', 'firehose/'), GD_FH1);
  await s3.putObject(F, 'firehose/notes/readme.txt', 'not a log');
  const rf = await run(cfg({ type: 'guardduty', name: F, path: 'firehose/', onlyLogsAfter: '2019-10-01' }), stateDir());
  assert.deepEqual(rf.sink.countByKey(), { [fh1.replace('gd/', 'firehose/')]: recordsOf(GD_FH1, 'guardduty') });
  assert.deepEqual(rf.summary.errors, []);
});

test('custom: Firehose layout of EventBridge events', async () => {
  const B = 'custom-fh';
  const k = 'events/2019/02/25/15/cloudtrail-events-1-2019-02-25-15-33-07-abc';
  await s3.putObject(B, k, gzipSync(EVENTBRIDGE));
  const r = await run(cfg({ type: 'custom', name: B, path: 'events/', onlyLogsAfter: '2019-02-25' }), stateDir());
  assert.deepEqual(r.sink.countByKey(), { [k]: recordsOf(gzipSync(EVENTBRIDGE), 'custom') });
  assert.ok(r.summary.records >= 1);
});

test('only_logs_after, and the first run without it reads from today (UTC)', async () => {
  const B = 'first-run';
  const acct = '149519528842';
  const kOld = vpcKey('', acct, 'us-west-2', '2025-06-26', 'fl-01', '1820', 'a');
  const kToday = vpcKey('', acct, 'us-west-2', '2025-06-28', 'fl-01', '0005', 'b');
  await s3.putObject(B, kOld, VPC_V2);
  await s3.putObject(B, kToday, VPC_V2);
  const now = new Date('2025-06-28T10:00:00Z');
  const r1 = await run(cfg({ type: 'vpcflow', name: B }), stateDir(), { now });
  assert.deepEqual(Object.keys(r1.sink.countByKey()), [kToday]);
  const r2 = await run(cfg({ type: 'vpcflow', name: B, onlyLogsAfter: '2025-06-26' }), stateDir(), { now });
  assert.deepEqual(Object.keys(r2.sink.countByKey()), [kOld, kToday]);
  const r3 = await run(cfg({ type: 'vpcflow', name: B, onlyLogsAfter: '2025-06-27' }), stateDir(), { now });
  assert.deepEqual(Object.keys(r3.sink.countByKey()), [kToday]);
});

test('late objects sorting before read ones, and GuardDuty UUID names out of order, are read exactly once', async () => {
  const B = 'late';
  const ct = (hhmm: string, rnd: string) => `AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T${hhmm}Z_${rnd}.json.gz`;
  const gd = (uuid: string) => `AWSLogs/884003976652/GuardDuty/us-west-2/2019/02/25/${uuid}.jsonl.gz`;
  await s3.putObject(B, ct('1535', 'Mu0KsOhtH1ar15ZZ'), CT_GZ);
  await s3.putObject(B, ct('1540', 'BBBBBBBBBBBBBBBB'), CT_GZ);
  await s3.putObject(B, gd('8d116ece-1738-47d9-bd9c-172411e20b8f'), GD_NATIVE);
  const ctB = cfg({ type: 'cloudtrail', name: B, onlyLogsAfter: '2019-02-20' });
  const gdB = cfg({ type: 'guardduty', name: B, onlyLogsAfter: '2019-02-20' });
  const dirCt = stateDir();
  const dirGd = stateDir();
  const now = new Date('2019-02-25T16:00:00Z');
  assert.equal((await run(ctB, dirCt, { now })).summary.objects, 2);
  assert.equal((await run(gdB, dirGd, { now })).summary.objects, 1);
  // delivered late: a 15:30 file after the 15:40 one was read, a UUID sorting first, and the next day
  await s3.putObject(B, ct('1530', 'AAAAAAAAAAAAAAAA'), CT_GZ);
  await s3.putObject(B, gd('0a000000-0000-4000-8000-000000000000'), GD_NATIVE);
  await s3.putObject(B, ct('0005', 'CCCCCCCCCCCCCCCC').replace('/25/', '/26/').replace('20190225', '20190226'), CT_GZ);
  const later = new Date('2019-02-26T01:00:00Z');
  const r2 = await run(ctB, dirCt, { now: later });
  assert.deepEqual(Object.keys(r2.sink.countByKey()).sort(), [ct('1530', 'AAAAAAAAAAAAAAAA'), ct('0005', 'CCCCCCCCCCCCCCCC').replace('/25/', '/26/').replace('20190225', '20190226')].sort());
  const g2 = await run(gdB, dirGd, { now: later });
  assert.deepEqual(Object.keys(g2.sink.countByKey()), [gd('0a000000-0000-4000-8000-000000000000')]);
  // and nothing again
  assert.equal((await run(ctB, dirCt, { now: later })).summary.objects, 0);
  assert.equal((await run(gdB, dirGd, { now: later })).summary.objects, 0);
});

const BAD: [string, Buffer][] = [
  ['corrupt.json.gz', Buffer.concat([gzipSync(CT_DOCS).subarray(0, 40), Buffer.alloc(200, 0x55)])],
  ['empty.json.gz', Buffer.alloc(0)],
  ['invalid.json', Buffer.from('{"Records": [ {"eventName": "x", ')],
  ['truncated.json.gz', gzipSync(CT_DOCS).subarray(0, 300)],
  ['unknown.bin', Buffer.from([0x00, 0x01, 0x02, 0xfe, 0xff, 0x00, 0x13, 0x37, 0x00, 0x00, 0x9c, 0x88, 0x01, 0x02, 0x03, 0x04])],
];

async function putBadBucket(B: string): Promise<{ good: string[]; bad: string[] }> {
  const dayPrefix = 'AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/';
  const good = [`${dayPrefix}a-good.json.gz`, `${dayPrefix}z-good.json`];
  await s3.putObject(B, good[0]!, CT_GZ);
  await s3.putObject(B, good[1]!, CT_DOCS);
  const bad = BAD.map(([name]) => `${dayPrefix}m-${name}`);
  for (const [i, [, body]] of BAD.entries()) await s3.putObject(B, bad[i]!, body);
  return { good, bad };
}

test('bad objects with skip_on_error: one clear error each, an error event, marked, never deleted; the rest is read and deleted', async () => {
  const B = 'bad-skip';
  const { good, bad } = await putBadBucket(B);
  const b = cfg({ type: 'cloudtrail', name: B, onlyLogsAfter: '2019-02-25', removeFromBucket: true });
  const dir = stateDir();
  const r = await run(b, dir, { skipOnError: true });
  assert.equal(r.summary.failed, false);
  assert.equal(r.summary.errors.length, bad.length);
  for (const [i, key] of bad.entries()) {
    const line = r.summary.errors[i]!;
    assert.ok(line.startsWith(`s3://${B}/${key}: `), line);
    const logged = r.lines.filter((l) => l.level === 50 && l.key === key);
    assert.equal(logged.length, 1, key);
    assert.equal(logged[0]!.bucket, B);
    assert.match(String(logged[0]!.code), /^TLD_ERR_DECODE_/);
    const outcome = r.sink.outcomes.find((o) => o.ref.key === key)!.outcome;
    assert.equal(outcome.status, 'error');
    const errEvents = r.sink.delivered.filter((d) => d.key === key && d.event.error_msg);
    assert.equal(errEvents.length, 1);
    assert.deepEqual(errEvents[0]!.event.aws, { log_info: { aws_account_alias: '', log_file: key, s3bucket: B }, aws_account_id: '111111111111' });
    assert.ok(errEvents[0]!.event.error_msg!.includes(key));
  }
  assert.match(r.summary.errors.join('\n'), /gzip/);
  assert.match(r.summary.errors.join('\n'), /empty/i);
  assert.deepEqual(r.sink.countByKey()[good[0]!], recordsOf(CT_GZ, 'cloudtrail'));
  assert.deepEqual(r.sink.countByKey()[good[1]!], recordsOf(CT_DOCS, 'cloudtrail'));
  const exists = async (k: string) => s3.client.send(new HeadObjectCommand({ Bucket: B, Key: k })).then(() => true, () => false);
  for (const k of good) assert.equal(await exists(k), false, `${k} deleted`);
  for (const k of bad) assert.equal(await exists(k), true, `${k} kept`);
  // marked: the next run reads nothing, not even the kept bad objects
  const r2 = await run(b, dir, { skipOnError: true });
  assert.equal(r2.summary.objects, 0);
  assert.deepEqual(r2.summary.errors, []);
});

test('bad objects without skip_on_error: the bucket stops at the first one, which is read again next time; nothing is re-sent', async () => {
  const B = 'bad-stop';
  const { good, bad } = await putBadBucket(B);
  const b = cfg({ type: 'cloudtrail', name: B, onlyLogsAfter: '2019-02-25' });
  const dir = stateDir();
  const r1 = await run(b, dir, { skipOnError: false });
  assert.equal(r1.summary.failed, true);
  assert.match(r1.summary.failure!, new RegExp(`stopped at s3://${B}/${bad[0]!.replace(/\./g, '\\.')}`));
  assert.deepEqual(Object.keys(r1.sink.countByKey()), [good[0]]);
  assert.ok(!r1.sink.delivered.some((d) => d.event.error_msg));
  // fixed object → the next run starts there and reads the rest (stopping at the next bad one)
  await s3.putObject(B, bad[0]!, CT_GZ);
  const r2 = await run(b, dir, { skipOnError: false });
  assert.deepEqual(Object.keys(r2.sink.countByKey()), [bad[0]]);
  assert.match(r2.summary.failure!, new RegExp(bad[1]!.split('/').pop()!.replace(/\./g, '\\.')));
  // switching skip_on_error on reads everything left, once
  const r3 = await run(b, dir, { skipOnError: true });
  assert.deepEqual(Object.keys(r3.sink.countByKey()).sort(), [...bad.slice(1), good[1]].sort());
  assert.equal(r3.summary.errors.length, bad.length - 1);
});

test('partly bad objects (one unreadable record among good ones) are errors: counted, an error event, marked, and never deleted', async () => {
  const exists = async (B: string, k: string) => s3.client.send(new HeadObjectCommand({ Bucket: B, Key: k })).then(() => true, () => false);
  // GuardDuty through Firehose, newline-delimited: one record is not JSON
  const G = 'partly-bad-gd';
  const lines = GD_FH2.toString('utf8').split('\n').filter(Boolean);
  const gdBad = 'firehose/2019/10/24/21/firehose_guardduty-3-2019-10-24-21-45-12-00000000-0000-0000-0000-000000000000';
  const gdGood = 'firehose/2019/10/24/21/firehose_guardduty-4-2019-10-24-21-50-12-00000000-0000-0000-0000-000000000000';
  await s3.putObject(G, gdBad, [lines[0], '{"detail": not-json}', ...lines.slice(1)].join('\n') + '\n');
  await s3.putObject(G, gdGood, GD_FH2);
  const rg = await run(cfg({ type: 'guardduty', name: G, path: 'firehose/', onlyLogsAfter: '2019-10-01', removeFromBucket: true }), stateDir());
  // VPC: a line with too few fields among good ones
  const V = 'partly-bad-vpc';
  const vpcLines = VPC_V2.toString('utf8').split('\n');
  const vpcBad = vpcKey('', '123456789010', 'us-east-1', '2025-06-26', 'fl-0abc', '1900', 'aaaaaaaa');
  await s3.putObject(V, vpcBad, gzipSync([vpcLines[0], vpcLines[1], '2 123456789010 eni-1235b8ca123456789 172.31.16.139', ...vpcLines.slice(2)].join('\n')));
  const rv = await run(cfg({ type: 'vpcflow', name: V, onlyLogsAfter: '2025-06-01', removeFromBucket: true }), stateDir());
  for (const [r, B, key, good] of [[rg, G, gdBad, recordsOf(GD_FH2, 'guardduty')], [rv, V, vpcBad, recordsOf(VPC_V2, 'vpcflow')]] as const) {
    assert.equal(r.summary.errors.length, 1, `${B}: ${r.summary.errors.join('; ')}`);
    assert.match(r.summary.errors[0]!, new RegExp(`^s3://${B}/${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 1 record could not be read \\(line \\d+: .+\\); the ${good} others were kept$`));
    assert.equal(r.sink.outcomes.find((o) => o.ref.key === key)!.outcome.status, 'error', 'the health table says error');
    assert.equal(r.sink.delivered.filter((d) => d.key === key && d.event.error_msg).length, 1, 'an error event');
    assert.equal(r.sink.delivered.filter((d) => d.key === key && !d.event.error_msg).length, good, 'the good records are kept');
    assert.equal(await exists(B, key), true, 'never deleted with remove_from_bucket');
  }
  assert.equal(await exists(G, gdGood), false, 'the object read whole is deleted');
});

test('Parquet flow logs are reported as not supported, without blocking the bucket', async () => {
  const B = 'parquet';
  const pk = vpcKey('', '149519528842', 'us-west-2', '2025-06-26', 'fl-01', '0000', 'a').replace('.log.gz', '.log.parquet');
  const tk = vpcKey('', '149519528842', 'us-west-2', '2025-06-26', 'fl-01', '0100', 'b');
  await s3.putObject(B, pk, Buffer.from('PAR1....PAR1'));
  await s3.putObject(B, tk, VPC_V2);
  const r = await run(cfg({ type: 'vpcflow', name: B, onlyLogsAfter: '2025-06-26' }), stateDir(), { skipOnError: false });
  assert.equal(r.summary.failed, false);
  assert.equal(r.summary.errors.length, 1);
  assert.match(r.summary.errors[0]!, /Parquet are not supported yet/);
  assert.equal(r.sink.countByKey()[tk], recordsOf(VPC_V2, 'vpcflow'));
});

test('a missing bucket fails with one actionable line while the other bucket is fully read', async () => {
  const B = 'present';
  const k = 'AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/x.json.gz';
  await s3.putObject(B, k, CT_GZ);
  const state = openStateStore(stateDir(), { lookbackDays: 1, fsync: false });
  const sink = new CaptureSink();
  const { logger, lines } = captureLogger();
  try {
    const summaries = await collectAll(
      [cfg({ type: 'cloudtrail', name: 'does-not-exist', onlyLogsAfter: '2019-02-25' }), cfg({ type: 'cloudtrail', name: B, onlyLogsAfter: '2019-02-25' })],
      { state, sink, logger, signal: new AbortController().signal, skipOnError: true, now: () => new Date(), sourceFor: (b) => createS3Source(b, { maxAttempts: 2 }) },
    );
    assert.equal(summaries.length, 2);
    assert.equal(summaries[0]!.failed, true);
    assert.match(summaries[0]!.failure!, /^bucket 'does-not-exist' does not exist at http:\/\/127\.0\.0\.1:\d+: check <name>$/);
    assert.equal(lines.filter((l) => l.level === 50).length, 1);
    assert.equal(lines.find((l) => l.level === 50)!.code, 'TLD_ERR_S3_NO_SUCH_BUCKET');
    assert.equal(summaries[1]!.failed, false);
    assert.deepEqual(sink.countByKey(), { [k]: recordsOf(CT_GZ, 'cloudtrail') });
  } finally {
    state.close();
  }
});

test('an aborted signal stops after the current object; the next run continues', async () => {
  const B = 'abort';
  const keys = ['a', 'b', 'c'].map((n) => `AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/${n}.json`);
  for (const k of keys) await s3.putObject(B, k, CT_DOCS);
  const b = cfg({ type: 'cloudtrail', name: B, onlyLogsAfter: '2019-02-25' });
  const dir = stateDir();
  const state = openStateStore(dir, { lookbackDays: 1, fsync: false });
  const ac = new AbortController();
  const sink = new CaptureSink();
  const done = sink.objectDone.bind(sink);
  sink.objectDone = async (ref, outcome) => {
    ac.abort();
    return done(ref, outcome);
  };
  const { logger } = captureLogger();
  const source = await createS3Source(b);
  const s = await collectBucket(b, { source, state, sink, logger, signal: ac.signal, skipOnError: true, now: () => new Date() });
  source.close?.();
  assert.equal(s.objects, 1);
  const r2 = await run(b, dir, { state });
  state.close();
  assert.deepEqual(Object.keys(r2.sink.countByKey()), keys.slice(1));
});

test('an object deleted between the listing and its GetObject is skipped with a warning, not reported as a bad object', async () => {
  const B = 'gone-meanwhile';
  const b = cfg({ type: 'vpcflow', name: B, onlyLogsAfter: '2025-06-26' });
  const gone = vpcKey('', '111111111111', 'us-east-1', '2025-06-26', 'fl-01', '1820', 'gone');
  const kept = vpcKey('', '111111111111', 'us-east-1', '2025-06-26', 'fl-01', '1825', 'kept');
  await s3.putObject(B, gone, gzipSync(VPC_V2));
  await s3.putObject(B, kept, gzipSync(VPC_V2));
  const dir = stateDir();
  const state = openStateStore(dir, { lookbackDays: 1, fsync: false });
  const sink = new CaptureSink();
  const { logger, lines } = captureLogger();
  const real = await createS3Source(b);
  // the listing still shows it; someone deletes it right before it is read
  const source = { ...real, get: async (key: string) => (key === gone && (await s3.client.send(new DeleteObjectCommand({ Bucket: B, Key: key }))), real.get(key)) };
  const s = await collectBucket(b, { source, state, sink, logger, signal: new AbortController().signal, skipOnError: true, now: () => new Date() });
  real.close?.();
  state.close();
  assert.deepEqual(s.errors, [], 'not a bad object');
  assert.deepEqual(Object.keys(sink.countByKey()), [kept]);
  assert.ok(lines.some((l) => l.code === 'TLD_ERR_S3_NO_SUCH_KEY' && l.key === gone), 'a warning names it');
});
