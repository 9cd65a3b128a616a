/**
 * The collecting commands run on a thread whose heap V8 bounds (src/cli/collector-thread.ts): `TLD_HEAP_MB` sets
 * the limit the thread really gets, 0 keeps the command on the main thread, a bad value is refused before
 * anything runs, a run's output arrives whole through the main thread, and a signal the command does not listen
 * for ends the process as it would have without the thread (the signals `tld start` listens for, SIGHUP and
 * SIGTERM, reach it through the thread in tests/collector/service.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';

const bin = new URL('../../bin/tld.js', import.meta.url).pathname;
const VPC = readFileSync(SAMPLES_DIR + 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log');
const KEY = 'AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_20250626T1920Z_00000001.log';

let s3: LocalS3;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-collector-thread-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  await s3.createBucket('flows');
  await s3.put('flows', KEY, VPC);
});
after(async () => s3?.close());

function config(name: string, endpoint: string): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, `<ossec_config><wodle name="aws-s3"><bucket type="vpcflow"><name>flows</name><service_endpoint>${endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
  return file;
}

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** `tld args…` with extra environment; `whileRunning` is called once it has started. */
async function tld(args: string[], env: NodeJS.ProcessEnv, whileRunning?: (pid: number, err: () => string) => Promise<void>): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  if (whileRunning) await whileRunning(child.pid as number, () => err);
  const [status, signal] = await closed;
  return { status, signal, out, err };
}

/** The heap limit the command's thread reported in its debug log line, MB (undefined: it ran on the main thread). */
function threadHeapLimit(err: string): number | undefined {
  for (const line of err.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; heapLimitMb?: number };
    if (entry.msg === 'the command runs on the collector thread') return entry.heapLimitMb;
  }
  return undefined;
}

test('run-once runs on a thread with the heap limit of TLD_HEAP_MB, and its summary arrives whole', async () => {
  const conf = config('limit', s3.endpoint);
  const r = await tld(['run-once', '-c', conf, '--data-dir', join(dir, 'data-limit')], { TLD_HEAP_MB: '100', TLD_LOG_LEVEL: 'debug' });
  assert.equal(r.status, 0, r.err);
  const limit = threadHeapLimit(r.err);
  // V8's limit is the old generation's plus the young generation's (12 MB)
  assert.ok(limit !== undefined && limit >= 100 && limit < 140, `heap limit of the thread: ${limit} MB`);
  assert.match(r.out, /s3:\/\/flows\/\s+vpcflow\s+1\s+\d+/, 'the bucket line of the summary');
  assert.match(r.out, /Alerts written: \d+/, 'the last line of the summary');

  const byDefault = await tld(['run-once', '-c', conf, '--data-dir', join(dir, 'data-default')], { TLD_LOG_LEVEL: 'debug' });
  assert.equal(byDefault.status, 0, byDefault.err);
  const defaultLimit = threadHeapLimit(byDefault.err);
  assert.ok(defaultLimit !== undefined && defaultLimit >= 512 && defaultLimit < 560, `default heap limit: ${defaultLimit} MB`);
});

test('TLD_HEAP_MB=0 runs the command on the main thread; a bad value is refused before anything runs', async () => {
  const conf = config('main', s3.endpoint);
  const main = await tld(['run-once', '-c', conf, '--data-dir', join(dir, 'data-main')], { TLD_HEAP_MB: '0', TLD_LOG_LEVEL: 'debug' });
  assert.equal(main.status, 0, main.err);
  assert.equal(threadHeapLimit(main.err), undefined, 'no collector thread');
  assert.match(main.out, /s3:\/\/flows\/\s+vpcflow\s+1\s+\d+/);

  for (const bad of ['lots', '32', '-1']) {
    const r = await tld(['run-once', '-c', conf, '--data-dir', join(dir, 'data-bad')], { TLD_HEAP_MB: bad });
    assert.equal(r.status, 2, `TLD_HEAP_MB=${bad}`);
    assert.match(r.err, new RegExp(`TLD_HEAP_MB must be 0 \\(no thread\\) or a whole number of MB of at least 64, not "${bad}"`));
    assert.doesNotMatch(r.out, /Bucket/, 'nothing collected');
  }
});

test('a bad TLD_STORE_HEAP_MB (the heap bound of the store thread) is refused before anything runs, with what to set', async () => {
  const conf = config('store-heap', s3.endpoint);
  for (const bad of ['lots', '63', '1.5']) {
    const r = await tld(['run-once', '-c', conf, '--data-dir', join(dir, 'data-store-heap')], { TLD_STORE_HEAP_MB: bad });
    assert.equal(r.status, 2, `TLD_STORE_HEAP_MB=${bad}`);
    assert.match(r.err, new RegExp(`^tld: TLD_STORE_HEAP_MB must be a whole number of MB of at least 64, not "${bad.replace('.', '\\.')}"$`, 'm'));
    assert.doesNotMatch(r.err, /unexpected error|^\s+at /m, 'one plain line, no stack');
    assert.doesNotMatch(r.out, /Bucket/, 'nothing collected');
  }
  const ok = await tld(['run-once', '-c', conf, '--data-dir', join(dir, 'data-store-heap')], { TLD_STORE_HEAP_MB: '64' });
  assert.equal(ok.status, 0, ok.err);
});

test('a signal the command does not listen for ends the process by that signal', async () => {
  // an S3 endpoint that accepts connections and never answers: the run waits in its first request
  const sockets = new Set<Socket>();
  const silent: Server = createServer((s) => void sockets.add(s));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const endpoint = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  const conf = config('silent', endpoint);
  try {
    const waitForThread = async (_pid: number, err: () => string) => {
      const end = Date.now() + 60_000;
      while (threadHeapLimit(err()) === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.ok(threadHeapLimit(err()) !== undefined, 'the command started on its thread');
      // once the first request is waiting on the silent server
      while (sockets.size === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    };
    // run-once has no SIGHUP listener: without a thread, SIGHUP would end the process
    const hup = await tld(['run-once', '-c', conf, '--data-dir', join(dir, 'data-hup')], { TLD_LOG_LEVEL: 'debug' }, async (pid, err) => {
      await waitForThread(pid, err);
      process.kill(pid, 'SIGHUP');
    });
    assert.equal(hup.signal, 'SIGHUP', `ended by SIGHUP (status ${hup.status}): ${hup.err.slice(-500)}`);

  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});
