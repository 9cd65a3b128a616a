/** `tld replay` against the loopback S3 server: dry run, backfill of a day never read, re-read without duplicates. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { openStore } from '../../src/store/index.js';

const root = new URL('../../', import.meta.url).pathname;
const VPC = readFileSync(SAMPLES_DIR + 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log');
let s3: LocalS3;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-replay-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  await s3.createBucket('flows');
  for (const day of ['24', '25', '26']) {
    await s3.put('flows', `AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/${day}/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_202506${day}T1900Z_000000${day}.log`, VPC);
  }
});
after(async () => s3?.close());

function tld(args: string[]): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), ...args], { env: { ...process.env, TLD_LOG_LEVEL: 'error' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status) => resolve({ status, out, err }));
  });
}
const count = (data: string) => {
  const f = join(data, 'logs/archives/archives.json');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).length : 0;
};

test('replay: dry run, backfill of a day before only_logs_after, and a re-read that duplicates nothing', async () => {
  const conf = join(dir, 'ossec.conf');
  writeFileSync(conf, `<ossec_config><global><logall_json>yes</logall_json></global><wodle name="aws-s3"><bucket type="vpcflow"><name>flows</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-25</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
  const data = join(dir, 'data');
  assert.equal((await tld(['run-once', '-c', conf, '-d', data, '--no-progress'])).status, 0);
  assert.equal(count(data), 106, 'days 25 and 26');

  const dry = await tld(['replay', '-c', conf, '-d', data, '--from', '2025-06-24', '--to', '2025-06-24', '--dry-run']);
  assert.equal(dry.status, 0, dry.err);
  assert.match(dry.out, /s3:\/\/flows\/ \(vpcflow\): 1 objects, 0\.0 MB, 1 LIST \+ 1 GET requests/);
  assert.equal(count(data), 106, 'a dry run reads nothing');

  const backfill = await tld(['replay', '-c', conf, '-d', data, '--from', '2025-06-24', '--to', '2025-06-24', '--no-progress']);
  assert.equal(backfill.status, 0, backfill.err);
  assert.match(backfill.out, /vpcflow\s+1\s+53/);
  assert.equal(count(data), 106 + 53, 'the backfilled day is archived');

  const again = await tld(['replay', '-c', conf, '-d', data, '--from', '2025-06-25T10:00:00Z', '--to', '2025-06-26', '--no-progress']);
  assert.equal(again.status, 0, again.err);
  assert.match(again.out, /vpcflow\s+2\s+106/, 'both days are read again (re-analysis)');
  assert.equal(count(data), 106 + 53, 'records already archived are not archived again');
  const store = await openStore(data, { flowRetentionDays: 0, alertRetentionDays: 0 }, { readOnly: true });
  try {
    const [flows] = await store.query('SELECT count(*) AS n, count(DISTINCT (object_id, idx)) AS distinct_rows FROM flows');
    assert.deepEqual(flows, { n: String(106 + 53), distinct_rows: String(106 + 53) }, 'replayed objects replace their stored flows');
  } finally {
    await store.close();
  }
  assert.equal((await tld(['replay', '-c', conf, '-d', data, '--from', '2025-06-27', '--to', '2025-06-26'])).status, 2);
});

test('replay --dry-run plans exactly what the replay reads, on a Hive-layout bucket too (one listing code for both)', async () => {
  await s3.createBucket('hive');
  for (const day of ['24', '25', '26']) {
    for (const hh of ['18', '19']) {
      await s3.put('hive', `AWSLogs/aws-account-id=111111111111/aws-service=vpcflowlogs/aws-region=us-east-1/year=2025/month=06/day=${day}/hour=${hh}/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_202506${day}T${hh}00Z_0000${day}${hh}.log`, VPC);
    }
  }
  const conf = join(dir, 'hive.conf');
  writeFileSync(conf, `<ossec_config><global><logall_json>yes</logall_json></global><wodle name="aws-s3"><bucket type="vpcflow"><name>hive</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-20</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
  const data = join(dir, 'data-hive');
  const dry = await tld(['replay', '-c', conf, '-d', data, '--from', '2025-06-25', '--to', '2025-06-25', '--dry-run']);
  assert.equal(dry.status, 0, dry.err);
  assert.match(dry.out, /s3:\/\/hive\/ \(vpcflow\): 2 objects, .* \+ 2 GET requests/);
  const replay = await tld(['replay', '-c', conf, '-d', data, '--from', '2025-06-25', '--to', '2025-06-25', '--no-progress']);
  assert.equal(replay.status, 0, replay.err);
  assert.match(replay.out, /vpcflow\s+2\s+106/, 'the replay reads the two objects the plan named');
});
