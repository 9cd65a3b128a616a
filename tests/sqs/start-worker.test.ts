/**
 * `tld start` with a <subscriber> runs a worker, and deletes a message only once the outputs holding its records
 * are durable: the real CLI first runs under a real file-size limit (`ulimit -f`: writes fail with EFBIG as on a full
 * disk), so archives.json cannot take every record; the messages of what was not durable stay on the queue. A second
 * `tld start` without the limit empties the queue, and every record is then in archives.json exactly once: a message
 * deleted before its records were durable would show as an object with records missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startSqsServer, type TestSqsServer } from '../helpers/sqs-server.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { archivesFilePath } from '../../src/outputs/json-lines-file.js';
import { notificationOf } from '../../src/sources/sqs/backfill.js';

const root = new URL('../../', import.meta.url).pathname;
const RAW = readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'));
const VPC = gzipSync(RAW);
const RECORDS = RAW.toString('utf8').trim().split('\n').length - 1;
const OBJECTS = 40;
const BUCKET = 'live';
const QUEUE = 'durable';

let s3: TestS3Server;
let sqs: TestSqsServer;
let dir: string;
let env: NodeJS.ProcessEnv;
let config: string;
const keys: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-sqs-start-'));
  s3 = await startS3Server();
  sqs = await startSqsServer();
  env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
  // no dead-letter queue here: a message that keeps failing must simply stay
  await sqs.createQueue(QUEUE, { visibilitySecs: 2 });
  for (let i = 0; i < OBJECTS; i++) {
    const key = `AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250626T19${String(i % 60).padStart(2, '0')}Z_${String(i).padStart(4, '0')}.log.gz`;
    keys.push(key);
    await s3.putObject(BUCKET, key, VPC);
  }
  await sqs.send(QUEUE, keys.map((key) => notificationOf(BUCKET, { key, size: VPC.length }, 'us-west-2')));
  config = join(dir, 'ossec.conf');
  writeFileSync(config, `<ossec_config>
  <global><logall_json>yes</logall_json></global>
  <store><flow_retention_days>0</flow_retention_days><alert_retention_days>0</alert_retention_days></store>
  <wodle name="aws-s3">
    <subscriber type="buckets">
      <sqs_name>${QUEUE}</sqs_name><sqs_endpoint>${sqs.endpoint}</sqs_endpoint><service_endpoint>${s3.endpoint}</service_endpoint>
      <visibility_timeout>2</visibility_timeout><wait_time>1</wait_time>
    </subscriber>
  </wodle>
</ossec_config>
`);
});

after(async () => {
  await sqs?.close();
  await s3?.close();
});

/** Starts `tld start` (under a file-size limit in KiB when given); resolves with its output once it exits. */
function start(dataDir: string, limitKib?: number): { child: ChildProcess; exited: Promise<{ status: number | null; err: string }> } {
  const cmd = [process.execPath, join(root, 'bin/tld.js'), 'start', '-c', config, '--data-dir', dataDir, '--no-dashboard', '--log-level', 'warn'].map((a) => `'${a}'`).join(' ');
  const child = spawn('bash', ['-c', `${limitKib ? `ulimit -f ${limitKib}; ` : ''}exec ${cmd}`], { env });
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  child.stdout?.on('data', (d) => (err += d));
  const exited = new Promise<{ status: number | null; err: string }>((resolve) => child.on('close', (status) => resolve({ status, err })));
  return { child, exited };
}

const until = async (cond: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return cond();
};

function archived(dataDir: string): Record<string, any>[] {
  const file = archivesFilePath(dataDir);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

test('an output that fails leaves the messages of what is not durable on the queue; the next run delivers every record exactly once', async () => {
  const dataDir = join(dir, 'data');
  // 26 KiB of archives per object: the limit holds a few objects, not all
  const limited = start(dataDir, 256);
  let out = '';
  limited.child.stderr?.on('data', (d) => (out += d));
  assert.ok(await until(() => /not committed|EFBIG|File too large/i.test(out), 60_000), `no output failure was reported:\n${out}`);
  // it keeps failing: the messages of objects that are not durable stay (in flight or back on the queue)
  await new Promise((r) => setTimeout(r, 3000));
  const left = sqs.depth(QUEUE);
  limited.child.kill('SIGTERM');
  await limited.exited;
  // (how many were deleted first depends on how far commits got before the limit: on a busy machine the first group
  // commit may already fail, and then every message stays)
  assert.ok(left > 0 && left <= OBJECTS, `messages left after the failing run: ${left} of ${OBJECTS}`);
  const durable = new Set(archived(dataDir).map((e) => e.data.aws.log_info.log_file as string));
  assert.ok(durable.size < OBJECTS);

  const free = start(dataDir);
  assert.ok(await until(() => sqs.depth(QUEUE) === 0, 90_000), `queue not emptied: ${sqs.depth(QUEUE)} left`);
  free.child.kill('SIGTERM');
  const { status, err } = await free.exited;
  assert.equal(status, 0, err);
  const entries = archived(dataDir);
  const ids = entries.map((e) => e.id as string);
  assert.equal(new Set(ids).size, ids.length, 'a record was delivered twice');
  const perKey: Record<string, number> = {};
  for (const e of entries) perKey[e.data.aws.log_info.log_file] = (perKey[e.data.aws.log_info.log_file] ?? 0) + 1;
  assert.deepEqual(perKey, Object.fromEntries(keys.map((k) => [k, RECORDS])));
});
