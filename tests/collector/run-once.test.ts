/**
 * End to end through the real CLI: `tld run-once` with the real AWS SDK over HTTP against a loopback
 * S3-compatible server (s3rver), the shared real samples laid out as AWS writes them, a named profile from a
 * credentials file, and the state store on disk. Every record must come out exactly once across runs, late
 * deliveries and bad objects.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';

const root = new URL('../../', import.meta.url).pathname;
const S = SAMPLES_DIR;
const sample = (p: string) => readFileSync(S + p);
const VPC1 = 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log';
const VPC2 = 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log';
const GD = 'guardduty/constructed/firehose/guardduty/2019/10/24/21/';

let s3: LocalS3;
let dir: string;
let env: NodeJS.ProcessEnv;

function conf(name: string, buckets: string, skipOnError = 'yes'): string {
  const file = join(dir, name);
  writeFileSync(file, `<ossec_config>
  <global><logall_json>yes</logall_json></global>
  <wodle name="aws-s3">
    <interval>10m</interval>
    <skip_on_error>${skipOnError}</skip_on_error>
    ${buckets}
  </wodle>
</ossec_config>
`);
  return file;
}

function bucket(type: string, name: string, extra = ''): string {
  return `<bucket type="${type}"><name>${name}</name><aws_profile>tld-test</aws_profile><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2019-JAN-01</only_logs_after>${extra}</bucket>`;
}

/** Runs the CLI asynchronously (the S3 server lives in this process, so the event loop must keep running). */
function runOnce(config: string, dataDir: string): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), 'run-once', '-c', config, '--data-dir', dataDir, '--no-progress'], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status) => resolve({ status, out, err }));
  });
}

function archived(dataDir: string): Record<string, any>[] {
  const file = join(dataDir, 'logs/archives/archives.json');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const countBy = (events: Record<string, any>[], f: (e: any) => string) =>
  events.reduce<Record<string, number>>((m, e) => ((m[f(e)] = (m[f(e)] ?? 0) + 1), m), {});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-collector-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  writeFileSync(join(dir, 'credentials'), '[tld-test]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n[wrong-key]\naws_access_key_id = AKIAWRONGWRONGWRONG1\naws_secret_access_key = nope\n');
  writeFileSync(join(dir, 'config'), '[profile tld-test]\nregion = us-east-1\n');
  env = { ...process.env, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config'), AWS_EC2_METADATA_DISABLED: 'true', TLD_LOG_LEVEL: 'error' };
  for (const b of ['central-logs', 'findings']) await s3.createBucket(b);
  // VPC: a central multi-account bucket, two accounts, two regions, two flow logs in one region
  await s3.put('central-logs', 'AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log.gz', sample(VPC1 + '.gz'));
  await s3.put('central-logs', 'AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250626T1920Z_21f4b1b7.log', sample(VPC2));
  await s3.put('central-logs', 'AWSLogs/222222222222/vpcflowlogs/eu-west-1/2025/06/26/222222222222_vpcflowlogs_eu-west-1_fl-0bbbbbbbbbbbbbbbb_20250626T1920Z_aa11bb22.log.gz', gzipSync(sample(VPC2)));
  // CloudTrail in the same bucket: a plain account trail and an organization trail
  await s3.put('central-logs', 'AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_Mu0KsOhtH1ar15ZZ.json.gz', sample('cloudtrail/constructed/AWSLogs/111111111111/CloudTrail/us-east-1/2019/02/25/111111111111_CloudTrail_us-east-1_20190225T1535Z_Mu0KsOhtH1ar15ZZ.json.gz'));
  await s3.put('central-logs', 'AWSLogs/o-a1b2c3d4e5/222222222222/CloudTrail/eu-west-1/2019/02/25/222222222222_CloudTrail_eu-west-1_20190225T1540Z_AbCdEfGhIjKlMnOp.json.gz', gzipSync(sample('cloudtrail/awsdocs/cloudtrail-log-file-examples_records.json')));
  await s3.put('central-logs', 'AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2019/02/25/111111111111_CloudTrail-Digest_us-east-1_trail_us-east-1_20190225T153500Z.json.gz', gzipSync('{"digestStartTime":"x","digestS3Object":"y"}'));
  // GuardDuty through Firehose under firehose/: no-delimiter (gzip) and newline-delimited objects
  await s3.put('findings', `firehose/2019/10/24/21/firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475.gz`, sample(GD + 'firehose_guardduty-1-2019-10-24-21-35-12-36f675cc-81e7-4ef5-a8e2-5d940ed90475.gz'));
  await s3.put('findings', `firehose/2019/10/24/21/firehose_guardduty-2-2019-10-24-21-40-12-6b0d549b-6f03-475a-9600-a35a099950d8`, sample(GD + 'firehose_guardduty-2-2019-10-24-21-40-12-6b0d549b-6f03-475a-9600-a35a099950d8'));
});

after(async () => {
  await s3?.close();
});

test('run-once reads every VPC, CloudTrail and GuardDuty record exactly once, across accounts, regions, flow logs and restarts', async () => {
  const config = conf('all.conf', [bucket('vpcflow', 'central-logs'), bucket('cloudtrail', 'central-logs'), bucket('guardduty', 'findings', '<path>firehose/</path>')].join('\n'));
  const data = join(dir, 'data-all');
  const first = await runOnce(config, data);
  assert.equal(first.status, 0, first.out + first.err);
  const events = archived(data).map((a) => a.data);
  assert.deepEqual(countBy(events, (e) => e.aws.source), { vpc: 101 + 53 + 53, cloudtrail: 1 + 6, guardduty: 16 });
  assert.deepEqual(countBy(events.filter((e) => e.aws.source === 'vpc'), (e) => e.aws.aws_account_id), { '111111111111': 154, '222222222222': 53 });
  assert.ok(events.every((e) => e.integration === 'aws' && e.aws.log_info.s3bucket && e.aws.log_info.log_file));
  assert.match(first.out, /s3:\/\/central-logs\/\s+vpcflow\s+3\s+207/);
  assert.match(first.out, /s3:\/\/findings\/firehose\/\s+guardduty\s+2\s+16/);
  // ids of archive entries identify records: no duplicates
  const ids = archived(data).map((a) => a.id);
  assert.equal(new Set(ids).size, ids.length);

  const second = await runOnce(config, data);
  assert.equal(second.status, 0, second.err);
  assert.equal(archived(data).length, ids.length, 'a second run reads nothing again');
  assert.match(second.out, /vpcflow\s+0\s+0/);
});

test('objects delivered late or named out of order into an already-read day are read, exactly once', async () => {
  const config = conf('late.conf', [bucket('vpcflow', 'central-logs', '<aws_account_id>111111111111</aws_account_id><regions>us-west-2</regions>'), bucket('guardduty', 'findings', '<path>firehose/</path>')].join('\n'));
  const data = join(dir, 'data-late');
  assert.equal((await runOnce(config, data)).status, 0);
  const before = archived(data).length;
  assert.equal(before, 101 + 53 + 16);
  // sorts before every key already read in that day folder (earlier flow log id and time)
  await s3.put('central-logs', 'AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0000000000000000a_20250626T1800Z_00000000.log', sample(VPC2));
  // a Firehose object with an earlier time in an hour folder already read
  await s3.put('findings', 'firehose/2019/10/24/21/firehose_guardduty-1-2019-10-24-21-00-00-00000000-0000-0000-0000-000000000000', sample('guardduty/awssample_eventbridge_unauthorizedaccess-ec2-sshbruteforce_2018.json'));
  const r = await runOnce(config, data);
  assert.equal(r.status, 0, r.err);
  const after = archived(data);
  assert.equal(after.length, before + 53 + 1);
  assert.equal((await runOnce(config, data)).status, 0);
  assert.equal(archived(data).length, after.length, 'and not again');
});

test('bad objects: one clear error each, the rest is read; without skip_on_error the bucket stops there and resumes', async () => {
  await s3.createBucket('broken');
  const good = gzipSync(sample(VPC2));
  const base = 'AWSLogs/333333333333/vpcflowlogs/us-east-1/2025/06/26/333333333333_vpcflowlogs_us-east-1_fl-0ccccccccccccccc';
  await s3.put('broken', `${base}_20250626T1900Z_00000001.log.gz`, good);
  await s3.put('broken', `${base}_20250626T1905Z_00000002.log.gz`, good.subarray(0, good.length - 20)); // truncated gzip
  await s3.put('broken', `${base}_20250626T1910Z_00000003.log.gz`, Buffer.alloc(0)); // empty
  await s3.put('broken', `${base}_20250626T1915Z_00000004.log.gz`, good);

  const skip = conf('skip.conf', bucket('vpcflow', 'broken', '<remove_from_bucket>no</remove_from_bucket>'));
  const data = join(dir, 'data-broken');
  const r = await runOnce(skip, data);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /error: s3:\/\/broken\/.*00000002\.log\.gz: truncated gzip/);
  assert.match(r.out, /error: s3:\/\/broken\/.*00000003\.log\.gz: the object is empty/);
  const events = archived(data).map((a) => a.data);
  // two good objects (53 each) plus the records of the truncated object that came before the cut (52 of 53)
  assert.equal(events.filter((e) => e.aws.source === 'vpc').length, 53 + 53 + 52);
  assert.equal(events.filter((e) => e.error_msg).length, 2, 'one error event per bad object');

  const strict = conf('strict.conf', bucket('vpcflow', 'broken'), 'no');
  const data2 = join(dir, 'data-strict');
  const s1 = await runOnce(strict, data2);
  assert.equal(s1.status, 1);
  assert.match(s1.out, /failed: stopped at s3:\/\/broken\/.*00000002\.log\.gz/);
  assert.equal(archived(data2).length, 53, 'only the object before the bad one');
  const s2 = await runOnce(strict, data2);
  assert.equal(s2.status, 1);
  assert.equal(archived(data2).length, 53, 'the retry re-sends nothing already delivered');
});

test('a bucket that does not exist fails with one line while the other bucket is fully read', async () => {
  const config = conf('missing.conf', [bucket('cloudtrail', 'no-such-bucket-here'), bucket('guardduty', 'findings', '<path>firehose/</path>')].join('\n'));
  const data = join(dir, 'data-missing');
  const r = await runOnce(config, data);
  assert.equal(r.status, 1);
  assert.match(r.out, /failed: bucket 'no-such-bucket-here' does not exist/);
  assert.ok(archived(data).filter((a) => a.data.aws.source === 'guardduty').length >= 16);
});

test("the named profile's credentials are the ones used: a profile with a key the server does not know is refused with one line", async () => {
  const config = conf('wrong-key.conf', bucket('guardduty', 'findings', '<path>firehose/</path>').replace('tld-test', 'wrong-key'));
  const r = await runOnce(config, join(dir, 'data-wrong-key'));
  assert.equal(r.status, 1);
  assert.match(r.out, /failed: the credentials were rejected \(InvalidAccessKeyId\): check the access key and secret of profile 'wrong-key'/);
});
