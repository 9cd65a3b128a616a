/**
 * A collector killed with SIGKILL in the middle of a run and started again loses nothing and duplicates
 * nothing: every record of every object is in archives.json exactly once, in the store's flows exactly once, and
 * each object once in the health table.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { openStore } from '../../src/store/index.js';

const root = new URL('../../', import.meta.url).pathname;
let s3: LocalS3;
let dir: string;
// many small objects (one batch each), and fewer objects of several batches each: an object whose first
// batches were stored by a group commit while it was still being read
const BUCKETS = { flows: { objects: 120, lines: 400 }, big: { objects: 12, lines: 12_000 } } as const;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-crash-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  for (const [bucket, { objects, lines: count }] of Object.entries(BUCKETS)) {
    await s3.createBucket(bucket);
    for (let o = 0; o < objects; o++) {
      const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
      for (let i = 0; i < count; i++) lines.push(`2 111111111111 eni-0a1b2c3d4e5f60718 10.0.${o}.${i % 250} 10.1.0.1 ${1024 + (i % 60000)} 443 6 10 ${o * 100_000 + i} 1750962159 1750962178 ACCEPT OK`);
      const hh = String(Math.floor(o / 12)).padStart(2, '0');
      const mm = String((o % 12) * 5).padStart(2, '0');
      await s3.put(bucket, `AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_20250626T${hh}${mm}Z_${String(o).padStart(8, '0')}.log.gz`, gzipSync(lines.join('\n') + '\n'));
    }
  }
});
after(async () => s3?.close());

function run(conf: string, data: string, killAtBytes?: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), 'run-once', '-c', conf, '--data-dir', data, '--no-progress'], { env: { ...process.env, TLD_LOG_LEVEL: 'error' } });
    if (killAtBytes !== undefined) {
      const archives = join(data, 'logs/archives/archives.json');
      const poll = setInterval(() => {
        // kill once a part of the objects has been written, i.e. in the middle of the run
        if (existsSync(archives) && readFileSync(archives).length >= killAtBytes) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('close', () => clearInterval(poll));
    }
    child.on('close', (code, signal) => resolve(signal ? -1 : code));
  });
}

for (const [when, killAt, bucket] of [
  ['as the first object is written (before any commit)', 1, 'flows'],
  ['mid-run', 5_000_000, 'flows'],
  ['mid-run, in objects of several batches', 40_000_000, 'big'],
] as const) {
  test(`SIGKILL ${when}, then a restart: every record exactly once`, async () => {
    const { objects: OBJECTS, lines: LINES } = BUCKETS[bucket];
    const conf = join(dir, `ossec-${killAt}.conf`);
    // the samples are from June 2025: no retention, or the restart's run-once would prune what the first run stored
    writeFileSync(conf, `<ossec_config><global><logall_json>yes</logall_json></global><store><flow_retention_days>0</flow_retention_days><alert_retention_days>0</alert_retention_days></store><wodle name="aws-s3"><bucket type="vpcflow"><name>${bucket}</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
    const data = join(dir, `data-${killAt}`);
    assert.equal(await run(conf, data, killAt), -1, 'the first run was killed');
    const partial = readFileSync(join(data, 'logs/archives/archives.json'), 'utf8').split('\n').filter(Boolean).length;
    assert.ok(partial > 0 && partial < OBJECTS * LINES, `killed mid-run (${partial} lines written)`);
    assert.equal(await run(conf, data), 0);
    const entries = readFileSync(join(data, 'logs/archives/archives.json'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const ids = new Set(entries.map((e) => e.id));
    assert.equal(ids.size, entries.length, 'no duplicate record');
    assert.equal(entries.length, OBJECTS * LINES, 'no lost record');
    const bytes = new Set(entries.map((e) => e.data.aws.bytes));
    assert.equal(bytes.size, OBJECTS * LINES);
    const store = await openStore(data, { flowRetentionDays: 0, alertRetentionDays: 0 }, { readOnly: true });
    try {
      const [flows] = await store.query('SELECT count(*) AS n, count(DISTINCT bytes) AS records FROM flows');
      assert.deepEqual(flows, { n: String(OBJECTS * LINES), records: String(OBJECTS * LINES) }, 'each flow stored once');
      // the dashboard's health table: each object counted once, with its records (issue 11 item 7)
      const [objects] = await store.query('SELECT count(*) AS n, count(DISTINCT key) AS keys, sum(records) AS records FROM objects');
      assert.deepEqual([Number(objects?.n), Number(objects?.keys), Number(objects?.records)], [OBJECTS, OBJECTS, OBJECTS * LINES], 'each object counted once in the health table');
    } finally {
      await store.close();
    }
  });
}
