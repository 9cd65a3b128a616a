/**
 * A worker fleet on one queue (issue 13): three real `tld start` processes with a <subscriber> compete on one
 * fauxqs queue, read from s3rver and write into the indexer DOUBLE (tests/helpers/indexer-double.ts, a protocol
 * double, not an OpenSearch server) running in a process of its own, as a cluster would. Workers are killed with
 * SIGKILL at seeded random moments and restarted on their data folders; a poison object (not gzip, though named
 * `.log.gz`) sits among the good ones. Afterwards every record is in the indexer exactly once — counted by its
 * deterministic id and, independently, by its content — the poison object's message is in the dead-letter queue
 * and the object is still in the bucket, and the queue is empty.
 *
 * Why it can hold: a killed worker's messages come back after their visibility timeout and are read again by any
 * worker (its own store is cut back; the indexer answers 409 to what was already created), so the ids stay unique;
 * the content count proves no record was lost and none written under a second id.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { gzipSync } from 'node:zlib';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startSqsServer, type TestSqsServer } from '../helpers/sqs-server.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { notificationOf } from '../../src/sources/sqs/backfill.js';

const root = new URL('../../', import.meta.url).pathname;
const SAMPLE = readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'), 'utf8').trim().split('\n');
const [HEADER, ...LINES] = SAMPLE as [string, ...string[]];
const OBJECTS = 100;
/** copies of the sample per object (each with its own interface id): enough work that the kills land mid-read */
const COPIES = 10;
const WORKERS = 3;
const KILLS = 5;
const SEED = 13;
const BUCKET = 'fleet';
const QUEUE = 'fleet';
const POISON = 'AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250626T1930Z_poison.log.gz';

/** mulberry32: the kill schedule is the same on every run (the moments the processes reach are not). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Object i's lines: the sample with its own interface id, so every record of the fleet has distinct content. */
const linesOf = (i: number): string[] => Array.from({ length: COPIES }, (_, c) => LINES.map((l) => {
  const f = l.split(' ');
  f[2] = `eni-${String(i).padStart(9, '0')}${String(c).padStart(8, '0')}`;
  return f.join(' ');
})).flat();

let s3: TestS3Server;
let sqs: TestSqsServer;
let double: { url: string; child: ChildProcess };
let dir: string;
let config: string;
const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-fleet-'));
  s3 = await startS3Server();
  sqs = await startSqsServer();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'tests/helpers/indexer-double-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the indexer double exited (${code}) before printing its URL`)));
  });
  double = { url, child };
  // a good message can be in flight at every kill and still be read once more before the poison limit
  await sqs.createQueue(QUEUE, { visibilitySecs: 3, maxReceiveCount: KILLS + 1 });
  const notes: string[] = [];
  for (let i = 0; i < OBJECTS; i++) {
    const key = `AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250626T19${String(i % 60).padStart(2, '0')}Z_${String(i).padStart(4, '0')}.log.gz`;
    const body = gzipSync(`${[HEADER, ...linesOf(i)].join('\n')}\n`);
    await s3.putObject(BUCKET, key, body);
    notes.push(notificationOf(BUCKET, { key, size: body.length }, 'us-west-2'));
    if (i === Math.floor(OBJECTS / 2)) {
      const poison = Buffer.from('this is not gzip, whatever its name says\n');
      await s3.putObject(BUCKET, POISON, poison);
      notes.push(notificationOf(BUCKET, { key: POISON, size: poison.length }, 'us-west-2'));
    }
  }
  await sqs.send(QUEUE, notes);
  config = join(dir, 'ossec.conf');
  writeFileSync(config, `<ossec_config>
  <store><backend>indexer</backend></store>
  <indexer><enabled>yes</enabled><hosts><host>${double.url}</host></hosts></indexer>
  <wodle name="aws-s3">
    <subscriber type="buckets">
      <sqs_name>${QUEUE}</sqs_name><sqs_endpoint>${sqs.endpoint}</sqs_endpoint><service_endpoint>${s3.endpoint}</service_endpoint>
      <visibility_timeout>3</visibility_timeout><wait_time>1</wait_time>
    </subscriber>
  </wodle>
</ossec_config>
`);
});

after(async () => {
  double?.child.kill('SIGTERM');
  await sqs?.close();
  await s3?.close();
});

interface Worker {
  child: ChildProcess;
  out: string;
  exited: Promise<number | null>;
}

function startWorker(n: number): Worker {
  const child = spawn(process.execPath, [join(root, 'bin/tld.js'), 'start', '-c', config, '--data-dir', join(dir, `data${n}`), '--no-dashboard', '--log-level', 'warn'], { env });
  const w: Worker = { child, out: '', exited: new Promise((resolve) => child.on('close', (status) => resolve(status))) };
  child.stdout?.on('data', (d) => (w.out += d));
  child.stderr?.on('data', (d) => (w.out += d));
  return w;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean | Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms;
  while (!(await cond()) && Date.now() < deadline) await sleep(250);
  return cond();
};

async function flowDocs(): Promise<{ _id: string; _source: Record<string, unknown> }[]> {
  const res = await fetch(`${double.url}/tld-flows-*/_search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ size: 1_000_000, query: { match_all: {} } }) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { hits: { hits: { _id: string; _source: Record<string, unknown> }[] } }).hits.hits;
}

test('three workers on one queue, killed and restarted at random: every record in the indexer exactly once, the poison object in the DLQ and still in the bucket, the queue empty', async () => {
  const random = rng(SEED);
  const workers = Array.from({ length: WORKERS }, (_, n) => startWorker(n));
  const total = OBJECTS * COPIES * LINES.length;
  // the first kill only once the fleet receives, so the kills land mid-work rather than during start-up
  const ready = () => sqs.server.inspectQueue(QUEUE)?.messages.ready.length ?? 0;
  assert.ok(await until(() => ready() < OBJECTS + 1, 60_000), `no worker received a message:\n${workers.map((w) => w.out).join('\n')}`);
  let kills = 0;
  // messages in flight at each kill: a kill with more than the poison one in flight took work from a worker
  const inFlight: number[] = [];
  while (kills < KILLS && sqs.depth(QUEUE) > 1) {
    await sleep(300 + Math.floor(random() * 2500));
    const n = Math.floor(random() * WORKERS);
    inFlight.push(sqs.server.inspectQueue(QUEUE)?.messages.inflight.length ?? 0);
    workers[n]!.child.kill('SIGKILL');
    await workers[n]!.exited;
    kills++;
    workers[n] = startWorker(n);
  }
  const drained = await until(() => sqs.depth(QUEUE) === 0 && sqs.depth(`${QUEUE}-dlq`) >= 1, 120_000);
  for (const w of workers) w.child.kill('SIGTERM');
  const statuses = await Promise.all(workers.map((w) => w.exited));
  const logs = workers.map((w, n) => `--- worker ${n}\n${w.out}`).join('\n');
  assert.ok(drained, `queue not emptied: ${sqs.depth(QUEUE)} left, ${sqs.depth(`${QUEUE}-dlq`)} in the DLQ\n${logs}`);
  assert.ok(inFlight.some((m) => m > 1), `no worker was killed with work in flight (in flight at the kills: ${inFlight.join(', ')}): nothing was tested`);
  assert.deepEqual(statuses, statuses.map(() => 0), logs);

  // by id: the deterministic ids are unique by construction of the store, so also count them per object
  const docs = await flowDocs();
  const ids = docs.map((d) => d._id);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(ids.length, total, `records in the indexer: ${ids.length} of ${total}`);
  // by content: the multiset of (interface, addresses, ports, protocol, counts, times, action) matches the objects'
  const key = (f: string[]) => [f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[12]].join(' ');
  const expected = new Map<string, number>();
  for (let i = 0; i < OBJECTS; i++) for (const l of linesOf(i)) {
    const k = key(l.split(' '));
    expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  for (const { _source: s } of docs) {
    // a NODATA/SKIPDATA record's `-` fields are stored as null (its addresses as text)
    const k = [s.interface_id, s.srcaddr ?? s.src_text, s.dstaddr ?? s.dst_text, s.srcport, s.dstport, s.protocol, s.packets, s.bytes, s.action].map((v) => v ?? '-').join(' ');
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  process.stderr.write(`fleet: in flight at the kills: ${inFlight.join(', ')}\n`);
  assert.deepEqual(seen, expected, 'a record is missing or written twice under different ids');

  const dead = sqs.readyBodies(`${QUEUE}-dlq`).map((b) => JSON.parse(b) as { Records: { s3: { object: { key: string } } }[] }).map((m) => decodeURIComponent(m.Records[0]!.s3.object.key));
  assert.deepEqual(dead, [POISON]);
  const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: POISON }));
  assert.ok((head.ContentLength ?? 0) > 0, 'the poison object is still in the bucket');
  assert.equal(sqs.depth(QUEUE), 0);
});
