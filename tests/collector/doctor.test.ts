/** `tld doctor` against the loopback S3 server: a missing bucket, an empty prefix, a wrong path and a healthy bucket. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';

const root = new URL('../../', import.meta.url).pathname;
const VPC = readFileSync(SAMPLES_DIR + 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log');
let s3: LocalS3;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-doctor-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  await s3.createBucket('flows');
  await s3.createBucket('empty-bucket');
  await s3.put('flows', 'logs/AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_20250626T1900Z_00000001.log', VPC);
  await s3.put('flows', 'logs/AWSLogs/222222222222/vpcflowlogs/eu-west-1/2025/06/26/222222222222_vpcflowlogs_eu-west-1_fl-0bbbbbbbbbbbbbbbb_20250626T1900Z_00000002.log', VPC);
});
after(async () => s3?.close());

function doctor(buckets: string): Promise<{ status: number | null; out: string; err: string }> {
  const conf = join(dir, `c${Math.random()}.conf`);
  writeFileSync(conf, `<ossec_config><wodle name="aws-s3">${buckets}</wodle></ossec_config>`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), 'doctor', '-c', conf], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status) => resolve({ status, out, err }));
  });
}
const bucket = (name: string, extra = '') => `<bucket type="vpcflow"><name>${name}</name><service_endpoint>${s3.endpoint}</service_endpoint><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key>${extra}</bucket>`;

test('a healthy bucket: accounts, regions, flow logs, newest object, read access; what the config skips', async () => {
  const r = await doctor(bucket('flows', '<path>logs</path><aws_account_id>111111111111</aws_account_id><only_logs_after>2025-JUL-01</only_logs_after>'));
  assert.equal(r.status, 0, r.out + r.err);
  assert.match(r.out, /✔ list: s3:ListBucket on flows works/);
  assert.match(r.out, /✔ flow logs: fl-0aaaaaaaaaaaaaaaa/);
  assert.match(r.out, /newest object: s3:\/\/flows\/logs\/AWSLogs\/111111111111\/.*written .* ago/);
  assert.match(r.out, /! accounts: the bucket also holds 222222222222, skipped because <aws_account_id> does not list them/);
  assert.match(r.out, /! only_logs_after: 1 objects are older than <only_logs_after> 2025-07-01/);
  assert.match(r.out, /✔ read: s3:GetObject works/);
});

test('a wrong path, an empty bucket and a missing bucket each get a ✘ line saying what to fix', async () => {
  const r = await doctor([bucket('flows', '<path>wrong</path>'), bucket('empty-bucket'), bucket('no-such-bucket')].join(''));
  assert.equal(r.status, 1);
  assert.match(r.out, /✘ layout: no logs where this configuration looks: expected wrong\/AWSLogs\/<account>\/vpcflowlogs\/<region>\/YYYY\/MM\/DD\/\. Folders found at s3:\/\/flows\/wrong\/: none; at the root: logs\/ — is <path> right\?/);
  assert.match(r.out, /vpcflow s3:\/\/empty-bucket\/[^\n]*\n(?:[^\n]*\n)*?\s+✘ layout: no logs where this configuration looks/);
  assert.match(r.out, /✘ list: bucket 'no-such-bucket' does not exist/);
  assert.match(r.err, /3 buckets will not deliver logs/);
});
