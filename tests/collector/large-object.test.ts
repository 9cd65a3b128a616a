/**
 * One very large CloudTrail object does not kill the collector (issue 11 item 2): a million records (about
 * 480 MB of JSON) in one object, read by the real `tld run-once` under the shipped systemd unit's memory
 * settings (its NODE_OPTIONS heap limit and MALLOC_ARENA_MAX), from a loopback S3 server. Before the Records
 * array was streamed, a 400k-record object aborted the process with "Reached heap limit" on every restart.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { syntheticGzip } from '../decoders/synthetic-objects.js';

const root = new URL('../../', import.meta.url).pathname;
const RECORDS = 1_000_000;
const unit = readFileSync(join(root, 'deploy/threatlockdown.service'), 'utf8');
const unitEnv = (name: string) => new RegExp(`^Environment=${name}=(.*)$`, 'm').exec(unit)?.[1];

let s3: LocalS3;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-large-object-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  await s3.createBucket('trail');
  const chunks: Buffer[] = [];
  for await (const c of syntheticGzip('cloudtrail', RECORDS)) chunks.push(c as Buffer);
  await s3.put('trail', 'AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/03/111122223333_CloudTrail_us-east-1_20240503T1000Z_large.json.gz', Buffer.concat(chunks));
});
after(async () => s3?.close());

/** `tld run-once` with the unit's memory settings (the S3 server runs in this process: the child is awaited, not synced). */
function runOnce(conf: string, data: string): Promise<{ status: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  const env = { ...process.env, NODE_OPTIONS: unitEnv('NODE_OPTIONS') ?? '', MALLOC_ARENA_MAX: unitEnv('MALLOC_ARENA_MAX') ?? '', TLD_LOG_LEVEL: 'warn', AWS_EC2_METADATA_DISABLED: 'true' };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), 'run-once', '-c', conf, '--data-dir', data, '--no-progress'], { env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status, signal) => resolve({ status, signal, out, err }));
  });
}

test('a 1M-record CloudTrail object is read whole by tld run-once under the systemd unit\'s heap limit', async () => {
  assert.match(unitEnv('NODE_OPTIONS') ?? '', /--max-old-space-size=\d+/, 'the unit sets a heap limit');
  const conf = join(dir, 'ossec.conf');
  writeFileSync(conf, `<ossec_config><wodle name="aws-s3"><bucket type="cloudtrail"><name>trail</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2024-MAY-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
  const data = join(dir, 'data');
  const first = await runOnce(conf, data);
  assert.equal(first.signal, null, `killed by ${first.signal}: ${first.err.slice(-1500)}`);
  assert.equal(first.status, 0, `${first.out}\n${first.err.slice(-1500)}`);
  assert.doesNotMatch(first.err, /heap limit|out of memory/i);
  assert.match(first.out, new RegExp(`s3://trail/\\s+cloudtrail\\s+1\\s+${RECORDS}\\s+\\S+ MB\\s+0\\s+ok`), first.out);
  // read whole and marked: the next run has nothing to read
  const second = await runOnce(conf, data);
  assert.equal(second.status, 0, second.err.slice(-1500));
  assert.match(second.out, /s3:\/\/trail\/\s+cloudtrail\s+0\s+0\s/, second.out);
});
