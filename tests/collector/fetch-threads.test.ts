/**
 * `<workers>`: the collector reads objects on that many fetch threads (0: one per core but one, at least one), and what it collects is
 * the same as on its own thread: every record once, in key order within the bucket.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { openRuntime, runCycle } from '../../src/pipeline/runtime.js';

let s3: TestS3Server;
let dir: string;
const OBJECTS = 30;
const LINES = 300;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-fetch-threads-'));
  s3 = await startS3Server();
  for (let o = 0; o < OBJECTS; o++) {
    const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
    for (let i = 0; i < LINES; i++) lines.push(`2 111111111111 eni-0a1b2c3d4e5f60718 10.0.${o}.${i % 250} 10.1.0.1 ${1024 + i} 443 6 10 ${o * 1000 + i} 1750962159 1750962178 ACCEPT OK`);
    const key = `AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_20250626T${String(o).padStart(4, '0')}Z_x.log.gz`;
    await s3.putObject('threads', key, gzipSync(lines.join('\n') + '\n'));
  }
});
after(async () => s3?.close());

async function collect(workers: string): Promise<{ threads: number | undefined; bytes: number[] }> {
  const conf = join(dir, `w${workers}.conf`);
  writeFileSync(conf, `<ossec_config><global><logall_json>yes</logall_json></global><wodle name="aws-s3">${workers === '' ? '' : `<workers>${workers}</workers>`}<bucket type="vpcflow"><name>threads</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
  const data = join(dir, `data-${workers}`);
  const rt = await openRuntime({ configFiles: [conf], dataDir: data, logger: pino({ level: 'silent' }), store: false });
  try {
    const [summary] = await runCycle(rt, pino({ level: 'silent' }), { signal: new AbortController().signal });
    assert.equal(summary?.objects, OBJECTS);
    assert.equal(summary?.errors.length, 0);
    const threads = rt.fetchPool?.workers.length;
    const entries = readFileSync(join(data, 'logs/archives/archives.json'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { data: { aws: { bytes: number } } });
    return { threads, bytes: entries.map((e) => e.data.aws.bytes) };
  } finally {
    await rt.close();
  }
}

test('<workers>3</workers> reads on three fetch threads; every record once, in key order', async () => {
  const r = await collect('3');
  assert.equal(r.threads, 3);
  const expected = Array.from({ length: OBJECTS * LINES }, (_, n) => Math.floor(n / LINES) * 1000 + (n % LINES));
  assert.deepEqual(r.bytes, expected);
});

test('without <workers> (default 0): one fetch thread per core but one, at least one', async () => {
  const r = await collect('');
  assert.equal(r.threads, Math.max(1, availableParallelism() - 1));
  assert.equal(r.bytes.length, OBJECTS * LINES);
});

test('startFetchThreads (tld run-once, start, demo): the fetch threads start while the runtime opens; without it, at the first cycle', async () => {
  const conf = join(dir, 'eager.conf');
  writeFileSync(conf, `<ossec_config><wodle name="aws-s3"><workers>2</workers><bucket type="vpcflow"><name>threads</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
  for (const eager of [true, false]) {
    const messages: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void messages.push((JSON.parse(line) as { msg: string }).msg) });
    const rt = await openRuntime({ configFiles: [conf], dataDir: join(dir, `data-eager-${eager}`), logger, store: false, startFetchThreads: eager });
    try {
      const started = () => messages.some((m) => m.startsWith('Objects are fetched and decompressed on 2 threads'));
      assert.equal(started(), eager, `threads started at open: ${eager}`);
      const [summary] = await runCycle(rt, logger, { signal: new AbortController().signal });
      assert.equal(summary?.records, OBJECTS * LINES);
      assert.ok(started());
      assert.equal(rt.fetchPool?.workers.length, 2);
    } finally {
      await rt.close();
    }
  }
});
