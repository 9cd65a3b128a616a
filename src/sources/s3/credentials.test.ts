/**
 * Which credentials the collector uses, proven at the wire: a SigV4-verifying proxy in front of s3rver
 * records the identity that signed each request, and an STS protocol double answers AssumeRole. Wrong or
 * missing credentials end the bucket with one line that says what to fix.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BucketConfig } from '../../config/types.js';
import { SAMPLES_DIR } from '../../../testdata/samples.js';
import { startS3Server, type TestS3Server } from '../../../tests/helpers/s3-server.js';
import { startSigV4Proxy, type SigV4Proxy } from '../../../tests/helpers/sigv4-proxy.js';
import { startStsDouble, type StsDouble } from '../../../tests/helpers/sts-double.js';
import { KeyRing, newUser } from '../../../tests/helpers/sigv4.js';
import { CaptureSink, bucketConfig, captureLogger } from '../../../tests/helpers/collector.js';
import { openStateStore } from './state/file-state-store.js';
import type { StateStore } from './state/types.js';
import { createS3Source } from './client.js';
import { collectAll, type BucketSummary } from './collect-bucket.js';
import { classifyS3Error } from './errors.js';

const CT = readFileSync(join(SAMPLES_DIR, 'cloudtrail/awsdocs/cloudtrail-log-file-examples_records.json'));
const KEY = 'AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_x.json';
const ROLE = 'arn:aws:iam::222222222222:role/tld-reader';

let s3: TestS3Server;
let proxy: SigV4Proxy;
let skewedProxy: SigV4Proxy;
let sts: StsDouble;
let dir: string;
const keys = new KeyRing();
const reader = keys.add(newUser('111111111111', 'reader', ['trail']));
const outsider = keys.add(newUser('111111111111', 'outsider', []));
let fileNo = 0;

before(async () => {
  s3 = await startS3Server();
  await s3.putObject('trail', KEY, CT);
  await s3.putObject('role-only', KEY, CT);
  proxy = await startSigV4Proxy({ target: s3.endpoint, keys });
  skewedProxy = await startSigV4Proxy({ target: s3.endpoint, keys, now: () => new Date(Date.now() + 3_600_000) });
  sts = await startStsDouble({ keys, roles: { [ROLE]: { trusted: [reader.arn], buckets: ['role-only'] } } });
  dir = mkdtempSync(join(tmpdir(), 'tld-creds-'));
});
after(async () => {
  await proxy.close();
  await skewedProxy.close();
  await sts.close();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
  delete process.env.AWS_SHARED_CREDENTIALS_FILE;
  delete process.env.AWS_CONFIG_FILE;
});

/** Fresh shared credentials/config files (new paths, so no cached copy is reused) pointed at by the env. */
function profiles(): { credentials: string; config: string } {
  fileNo++;
  const credentials = join(dir, `credentials-${fileNo}`);
  const config = join(dir, `config-${fileNo}`);
  writeFileSync(
    credentials,
    `[reader]\naws_access_key_id = ${reader.accessKeyId}\naws_secret_access_key = ${reader.secretAccessKey}\n\n` +
      `[wrong]\naws_access_key_id = ${reader.accessKeyId}\naws_secret_access_key = not-the-secret\n\n` +
      `[outsider]\naws_access_key_id = ${outsider.accessKeyId}\naws_secret_access_key = ${outsider.secretAccessKey}\n`,
  );
  writeFileSync(config, `[profile reader]\nregion = eu-west-1\n\n[profile wrong]\nregion = eu-west-1\n`);
  process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
  process.env.AWS_CONFIG_FILE = config;
  return { credentials, config };
}

async function collect(over: Partial<BucketConfig> & Pick<BucketConfig, 'name'>, maxAttempts = 2, kept?: StateStore): Promise<{ summary: BucketSummary; sink: CaptureSink; errors: Record<string, unknown>[] }> {
  const state = kept ?? openStateStore(mkdtempSync(join(dir, 'state-')), { lookbackDays: 1, fsync: false });
  const sink = new CaptureSink();
  const { logger, lines } = captureLogger();
  try {
    const [summary] = await collectAll([bucketConfig({ type: 'cloudtrail', serviceEndpoint: proxy.endpoint, onlyLogsAfter: '2019-02-25', ...over })], {
      state,
      sink,
      logger,
      signal: new AbortController().signal,
      skipOnError: true,
      now: () => new Date(),
      sourceFor: (b) => createS3Source(b, { maxAttempts }),
    });
    return { summary: summary!, sink, errors: lines.filter((l) => l.level === 50) };
  } finally {
    if (!kept) state.close();
  }
}

test('a named profile from AWS_SHARED_CREDENTIALS_FILE signs every request, in the region of AWS_CONFIG_FILE', async () => {
  profiles();
  const from = proxy.requests.length;
  const { summary, sink } = await collect({ name: 'trail', awsProfile: 'reader' });
  assert.equal(summary.failed, false, summary.failure);
  assert.equal(summary.objects, 1);
  assert.ok(sink.delivered.length > 0);
  const mine = proxy.requests.slice(from);
  assert.ok(mine.length >= 3);
  assert.deepEqual([...new Set(mine.map((r) => `${r.arn} ${r.region} ${r.status}`))], [`${reader.arn} eu-west-1 200`]);
});

test('deprecated static keys are used as given; region us-east-1 without a profile', async () => {
  const from = proxy.requests.length;
  const { summary } = await collect({ name: 'trail', accessKey: reader.accessKeyId, secretKey: reader.secretAccessKey });
  assert.equal(summary.objects, 1);
  assert.deepEqual([...new Set(proxy.requests.slice(from).map((r) => `${r.arn} ${r.region}`))], [`${reader.arn} us-east-1`]);
});

test('iam_role_arn: AssumeRole through sts_endpoint (session ThreatLockDown, iam_role_duration), then the role reads', async () => {
  profiles();
  const from = proxy.requests.length;
  const calls = sts.calls.length;
  const { summary } = await collect({ name: 'role-only', awsProfile: 'reader', iamRoleArn: ROLE, iamRoleDuration: 1800, stsEndpoint: sts.endpoint });
  assert.equal(summary.failed, false, summary.failure);
  assert.equal(summary.objects, 1);
  const call = sts.calls.slice(calls);
  assert.equal(call.length, 1);
  assert.deepEqual({ ...call[0], result: call[0]!.result.slice(0, 4) }, { roleArn: ROLE, roleSessionName: 'ThreatLockDown', durationSeconds: 1800, callerArn: reader.arn, result: 'ASIA' });
  assert.deepEqual([...new Set(proxy.requests.slice(from).map((r) => r.arn))], ['arn:aws:sts::222222222222:assumed-role/tld-reader/ThreatLockDown']);
});

test('a wrong secret ends the bucket with one line naming the profile', async () => {
  profiles();
  const { summary, errors } = await collect({ name: 'trail', awsProfile: 'wrong' });
  assert.equal(summary.failed, true);
  assert.equal(summary.failure, "the credentials were rejected (SignatureDoesNotMatch): check the access key and secret of profile 'wrong'");
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.code, 'TLD_ERR_S3_CREDENTIALS');
  assert.equal(proxy.requests.at(-1)?.error, 'SignatureDoesNotMatch');
});

test('missing permission, unknown profile, refused AssumeRole, unreachable endpoint and clock skew: one actionable line each', async () => {
  const files = profiles();
  const denied = await collect({ name: 'role-only', awsProfile: 'reader' });
  assert.equal(denied.summary.failure, `access denied to list s3://role-only/AWSLogs/: grant s3:ListBucket on arn:aws:s3:::role-only to ${reader.arn}`);
  const noProfile = await collect({ name: 'trail', awsProfile: 'nobody' });
  assert.equal(noProfile.errors[0]!.code, 'TLD_ERR_S3_PROFILE');
  assert.ok(noProfile.summary.failure!.includes(`profile 'nobody'`) && noProfile.summary.failure!.includes(files.credentials) && noProfile.summary.failure!.includes(files.config), noProfile.summary.failure);
  const refused = await collect({ name: 'role-only', awsProfile: 'outsider', iamRoleArn: ROLE, stsEndpoint: sts.endpoint });
  assert.equal(refused.errors[0]!.code, 'TLD_ERR_S3_ASSUME_ROLE');
  assert.match(refused.summary.failure!, /^cannot assume arn:aws:iam::222222222222:role\/tld-reader: the reading identity needs sts:AssumeRole/);
  const down = await collect({ name: 'trail', awsProfile: 'reader', serviceEndpoint: 'http://127.0.0.1:9' });
  assert.equal(down.errors[0]!.code, 'TLD_ERR_S3_ENDPOINT');
  assert.equal(down.summary.failure, 'cannot reach http://127.0.0.1:9 (ECONNREFUSED): check <service_endpoint> and the network');
  const skewed = await collect({ name: 'trail', awsProfile: 'reader', serviceEndpoint: skewedProxy.endpoint });
  assert.equal(skewed.errors[0]!.code, 'TLD_ERR_S3_CLOCK_SKEW');
  for (const r of [denied, noProfile, refused, down, skewed]) {
    assert.equal(r.summary.failed, true);
    assert.equal(r.errors.length, 1);
    assert.ok(!r.summary.failure!.includes('\n'));
  }
});

test('classifyS3Error: expired credentials and throttling that outlived the retries', () => {
  const sdkError = (name: string, status: number) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
  const expired = classifyS3Error(sdkError('ExpiredToken', 400), { bucket: 'b', action: 'list', profile: 'p' });
  assert.equal(expired.code, 'TLD_ERR_S3_CREDENTIALS_EXPIRED');
  assert.match(expired.message, /profile 'p'/);
  const slow = classifyS3Error(sdkError('SlowDown', 503), { bucket: 'b', action: 'get', key: 'k' });
  assert.equal(slow.code, 'TLD_ERR_S3_THROTTLED');
  const gone = classifyS3Error(sdkError('NoSuchKey', 404), { bucket: 'b', action: 'get', key: 'k' });
  assert.equal(gone.code, 'TLD_ERR_S3_NO_SUCH_KEY');
  const kms = classifyS3Error(sdkError('AccessDenied', 403), { bucket: 'b', action: 'get', key: 'k', roleArn: ROLE });
  assert.equal(kms.message, `access denied to get s3://b/k: grant s3:GetObject on arn:aws:s3:::b/* (objects encrypted with SSE-KMS also need kms:Decrypt on the key) to ${ROLE}`);
});

test('transient failures are retried: SlowDown, 500, a reset connection, and a body cut mid-object (read again, nothing doubled)', async () => {
  const records = (JSON.parse(CT.toString('utf8')) as { Records: unknown[] }).Records;
  const gz = (await import('node:zlib')).gzipSync(JSON.stringify({ Records: Array.from({ length: 40 }, () => records).flat() }));
  const key = KEY.replace('_x.json', '_big.json.gz');
  await s3.putObject('trail', key, gz);
  proxy.inject([
    { kind: 'status', status: 503, code: 'SlowDown' },
    { kind: 'status', status: 500, code: 'InternalError' },
    { kind: 'reset' },
  ]);
  proxy.inject([{ kind: 'cut-body', afterBytes: Math.floor(gz.length / 2) }], { onlyGet: true, onlyObjects: true });
  const { summary, sink } = await collect({ name: 'trail', accessKey: reader.accessKeyId, secretKey: reader.secretAccessKey }, 8);
  assert.equal(summary.failed, false, summary.failure);
  assert.deepEqual(summary.errors, []);
  assert.equal(summary.objects, 2);
  assert.deepEqual(sink.duplicates(), []);
  const perCopy = sink.countByKey()[KEY]!;
  assert.equal(sink.countByKey()[key], perCopy * 40);
  assert.ok(proxy.requests.some((r) => r.error === 'SlowDown') && proxy.requests.some((r) => r.error === 'reset'));
  // the cut GET and the one that read the object again
  assert.equal(proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith('_big.json.gz')).length, 2);
});

test('a body cut short with a Content-Length that matches it is a transient fault: read again, nothing lost or doubled', async () => {
  const records = (JSON.parse(CT.toString('utf8')) as { Records: unknown[] }).Records;
  const gz = (await import('node:zlib')).gzipSync(JSON.stringify({ Records: Array.from({ length: 30 }, () => records).flat() }));
  const key = KEY.replace('_x.json', '_short.json.gz');
  await s3.putObject('trail', key, gz);
  proxy.inject([{ kind: 'short-body', afterBytes: Math.floor(gz.length / 3) }], { onlyGet: true, onlyObjects: true });
  const { summary, sink } = await collect({ name: 'trail', accessKey: reader.accessKeyId, secretKey: reader.secretAccessKey }, 8);
  assert.equal(summary.failed, false, summary.failure);
  assert.deepEqual(summary.errors, [], 'read again at once, not an error');
  assert.deepEqual(sink.duplicates(), []);
  assert.equal(sink.countByKey()[key], sink.countByKey()[KEY]! * 30);
});

test('a body that keeps coming short fails that object only (left for the next cycle); the bucket goes on, and the next cycle reads it once', async () => {
  const records = (JSON.parse(CT.toString('utf8')) as { Records: unknown[] }).Records;
  const gz = (await import('node:zlib')).gzipSync(JSON.stringify({ Records: Array.from({ length: 20 }, () => records).flat() }));
  await s3.putObject('persistent', KEY.replace('_x.json', '_a.json.gz'), gz);
  const bad = KEY.replace('_x.json', '_b.json.gz');
  await s3.putObject('persistent', bad, gz);
  const after = KEY.replace('_x.json', '_c.json');
  await s3.putObject('persistent', after, CT);
  const persistent = keys.add(newUser('111111111111', 'persistent', ['persistent']));
  const short = { kind: 'short-body', afterBytes: 100 } as const;
  const b = { name: 'persistent', accessKey: persistent.accessKeyId, secretKey: persistent.secretAccessKey };
  // the first object (_a) is read whole; every GET of _b comes short
  const state = openStateStore(join(dir, 'state-persistent'), { lookbackDays: 1, fsync: false });
  try {
    const gets = () => proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith('_b.json.gz')).length;
    const getsBefore = gets();
    proxy.inject([short, short, short], { onlyGet: true, onlyObjects: true, pathEndsWith: '_b.json.gz' });
    const first = await collect(b, 8, state);
    assert.equal(first.summary.failed, false, 'one object does not fail the bucket');
    assert.equal(first.summary.errors.length, 1, first.summary.errors.join('\n'));
    assert.match(first.summary.errors[0]!, /_b\.json\.gz: the object's body ended after 100 of its \d+ bytes \(3 attempts\); it is read again next cycle/);
    const perCopy = first.sink.countByKey()[KEY.replace('_x.json', '_a.json.gz')]! / 20;
    assert.ok(perCopy > 0);
    assert.equal(first.sink.countByKey()[after], perCopy, 'the object after it is read');
    assert.equal(first.sink.countByKey()[bad], undefined, 'nothing of the short object is delivered');
    assert.equal(gets() - getsBefore, 3, 'three attempts');
    const second = await collect(b, 8, state);
    assert.deepEqual(second.summary.errors, []);
    assert.deepEqual(Object.keys(second.sink.countByKey()), [bad], 'the next cycle reads only the object left unmarked');
    assert.equal(second.sink.countByKey()[bad], first.sink.countByKey()[KEY.replace('_x.json', '_a.json.gz')]);
  } finally {
    state.close();
  }
});
