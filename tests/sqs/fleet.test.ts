/**
 * A worker fleet on one queue (issue 13): three real `tld start` processes with a <subscriber> compete on one
 * fauxqs queue, read from s3rver and write into the indexer DOUBLE (tests/helpers/indexer-double.ts, a protocol
 * double, not an OpenSearch server) running in a process of its own, as a cluster would. Workers are killed with
 * SIGKILL at seeded random moments and restarted on their data folders; a poison object (not gzip, though named
 * `.log.gz`) sits among the good ones. Afterwards every record is in the indexer exactly once — counted by its
 * deterministic id and, independently, by its content — the poison object's message is in the dead-letter queue
 * and the object is still in the bucket, and the queue is empty. Port scans (80640) and SSH brute forces (80641)
 * are spread in slices over objects far apart on the queue, so their windows span objects read by different
 * workers (each slice alone is below the rule's frequency): every window fires exactly once in the indexer, with
 * the ids one analyzer reading every record in time order gives (computed, not written down). The correlators'
 * grace period is longer than the data's time span, so windows settle only when a last object with a much later
 * record arrives, after the kills: what fires is judged on the complete data.
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
import { decodeBuffer } from '../../src/decoders/index.js';
import { createAnalyzer, loadRuleset } from '../../src/analysis/index.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { sleep, startTld, until } from '../helpers/tld-process.js';

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


/** Object i's lines: the sample with its own interface id, so every record of the fleet has distinct content. */
const sampleLinesOf = (i: number): string[] => Array.from({ length: COPIES }, (_, c) => LINES.map((l) => {
  const f = l.split(' ');
  f[2] = `eni-${String(i).padStart(9, '0')}${String(c).padStart(8, '0')}`;
  return f.join(' ');
})).flat();

/** the sample's first record time: the windows' records are around it */
const T0 = Number(LINES[0]!.split(' ')[10]);
const SCANS = 4;
const BRUTE_FORCES = 4;
/**
 * The windows' records, by object: scan w (150 ports from one source to one destination, one a second) in five
 * slices of 30 ports, brute force w (30 SSH attempts, one every 2 s) in three slices of 10, each slice in an
 * object ~20 or ~33 places further down the queue.
 */
const windowLines = new Map<number, string[]>();
const put = (object: number, line: string) => windowLines.set(object % OBJECTS, [...(windowLines.get(object % OBJECTS) ?? []), line]);
for (let w = 0; w < SCANS; w++) {
  for (let p = 1; p <= 150; p++) {
    const t = T0 + w * 400 + p;
    put(w + 20 * Math.floor((p - 1) / 30), `2 111111111111 eni-0f1ee70000000000${w} 203.0.113.${10 + w} 10.0.2.${10 + w} ${40000 + p} ${p} 6 1 40 ${t} ${t + 1} REJECT OK`);
  }
}
for (let w = 0; w < BRUTE_FORCES; w++) {
  for (let i = 0; i < 30; i++) {
    const t = T0 + w * 400 + 2 * i;
    put(50 + w + 33 * Math.floor(i / 10), `2 111111111111 eni-0b7a7e0000000000${w} 198.51.100.${10 + w} 10.0.3.${10 + w} ${50000 + i} 22 6 1 40 ${t} ${t + 1} REJECT OK`);
  }
}
const linesOf = (i: number): string[] => [...sampleLinesOf(i), ...(windowLines.get(i) ?? [])];
/** sent once the queue is drained: a record a day later, so every window above is settled (grace 12 h) */
const CLOCK_KEY = 'AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/27/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250627T1930Z_clock.log.gz';
const CLOCK_LINE = `2 111111111111 eni-0c10c00000000000 192.0.2.99 10.0.9.9 40000 443 6 1 40 ${T0 + 86_400} ${T0 + 86_401} REJECT OK`;

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
  <indexer><enabled>yes</enabled><hosts><host>${double.url}</host></hosts>
    <correlation_grace_seconds>43200</correlation_grace_seconds><correlation_interval_seconds>1</correlation_interval_seconds>
  </indexer>
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

const startWorker = (n: number) => startTld(config, join(dir, `data${n}`), env);

async function flowDocs(): Promise<{ _id: string; _source: Record<string, unknown> }[]> {
  const res = await fetch(`${double.url}/tld-flows-*/_search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ size: 1_000_000, query: { match_all: {} } }) });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { hits: { hits: { _id: string; _source: Record<string, unknown> }[] } }).hits.hits;
}

test('three workers on one queue, killed and restarted at random: every record in the indexer exactly once, every window\'s detection fired once, the poison object in the DLQ and still in the bucket, the queue empty', async () => {
  // the kill schedule is the same on every run (the moments the processes reach are not)
  const random = seededRandom(SEED);
  const workers = Array.from({ length: WORKERS }, (_, n) => startWorker(n));
  // (plus the clock object's one record, sent at the end)
  const total = Array.from({ length: OBJECTS }, (_, i) => linesOf(i).length).reduce((a, b) => a + b, 1);
  // the first kill only once the fleet receives, so the kills land mid-work rather than during start-up
  const ready = () => sqs.server.inspectQueue(QUEUE)?.messages.ready.length ?? 0;
  assert.ok(await until(() => ready() < OBJECTS + 1, 60_000), `no worker received a message:\n${workers.map((w) => w.out).join('\n')}`);
  let kills = 0;
  // messages in flight at each kill: a kill with more than the poison one in flight took work from a worker
  const inFlight: number[] = [];
  const inflight = () => sqs.server.inspectQueue(QUEUE)?.messages.inflight.length ?? 0;
  while (kills < KILLS && sqs.depth(QUEUE) > 1) {
    // a random moment, then the first one with a good message in flight (the fleet drains the queue in a few
    // seconds: kills seconds apart would land after the work)
    await sleep(100 + Math.floor(random() * 900));
    for (let waited = 0; inflight() <= 1 && sqs.depth(QUEUE) > 1 && waited < 2000; waited += 10) await sleep(10);
    const n = Math.floor(random() * WORKERS);
    inFlight.push(inflight());
    workers[n]!.child.kill('SIGKILL');
    await workers[n]!.exited;
    kills++;
    workers[n] = startWorker(n);
  }
  const drained = await until(() => sqs.depth(QUEUE) === 0 && sqs.depth(`${QUEUE}-dlq`) >= 1, 120_000);
  // the windows: nothing is settled yet; the clock object settles them all, and the correlators fire them
  const expectedWindows = await expectedWindowAlerts();
  assert.ok(expectedWindows.size >= SCANS + BRUTE_FORCES, `the reference fires every window (${expectedWindows.size})`);
  const early = (await windowAlerts()).length;
  const clock = gzipSync(`${HEADER}\n${CLOCK_LINE}\n`);
  await s3.putObject(BUCKET, CLOCK_KEY, clock);
  await sqs.send(QUEUE, [notificationOf(BUCKET, { key: CLOCK_KEY, size: clock.length }, 'us-west-2')]);
  const fired = await until(async () => (await windowAlerts()).length >= expectedWindows.size, 60_000);
  await sleep(3000); // more passes of every correlator over the same windows
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
  for (const l of [...Array.from({ length: OBJECTS }, (_, i) => linesOf(i)).flat(), CLOCK_LINE]) {
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

  // every window's detection fired once, as one analyzer over every record fires it
  assert.equal(early, 0, 'a window fired before its records were settled');
  const got = await windowAlerts();
  assert.ok(fired, `windows fired: ${got.length} of ${expectedWindows.size}\n${logs}`);
  assert.deepEqual(got.map((d) => d._id).sort(), [...expectedWindows].sort(), 'each window fired exactly once, under the single process\'s id');
  // the windows' records were read by different workers (else nothing was tested)
  const partials = await search('tld-correlation-partials');
  const writers = new Map<string, Set<string>>();
  for (const { _source: p } of partials) {
    const k = `${String(p.rule)}/${String(p.key_hash)}`;
    writers.set(k, (writers.get(k) ?? new Set()).add(String(p.writer)));
  }
  const spread = [...writers.values()].filter((w) => w.size > 1).length;
  process.stderr.write(`fleet: ${got.length} windows fired; ${spread} of ${writers.size} window keys were read by more than one worker process\n`);
  assert.ok(spread >= 1, 'no window spanned objects read by different worker processes');
});

/** The 80640/80641 alerts in the indexer. */
async function windowAlerts(): Promise<{ _id: string }[]> {
  return (await search('wazuh-alerts-4.x-*')).filter((h) => ['80640', '80641'].includes(String((h._source.rule as { id?: string }).id)));
}

async function search(index: string): Promise<{ _id: string; _source: Record<string, unknown> }[]> {
  const res = await fetch(`${double.url}/${index}/_search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ size: 1_000_000, query: { match_all: {} } }) });
  if (res.status !== 200) return [];
  return ((await res.json()) as { hits: { hits: { _id: string; _source: Record<string, unknown> }[] } }).hits.hits;
}

/** Ids of the 80640/80641 alerts one analyzer raises over every record of the fleet, read in time order. */
async function expectedWindowAlerts(): Promise<Set<string>> {
  const ruleset = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
  const lines = Array.from({ length: OBJECTS }, (_, i) => linesOf(i)).flat();
  // by start time (a NODATA record's '-' first: it counts in no window)
  const start = (l: string) => Number(l.split(' ')[10]) || 0;
  lines.sort((a, b) => start(a) - start(b));
  const events = decodeBuffer(Buffer.from(`${[HEADER, ...lines].join('\n')}\n`), { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: BUCKET } });
  const ids = new Set<string>();
  createAnalyzer(ruleset, { logAlertLevel: 3, managerName: 'm' }).analyze({ object: { bucket: BUCKET, key: 'all', objectId: 'all', bucketType: 'vpcflow', size: 0 }, firstIndex: 0, events }, (a) => {
    if (a.rule.id === '80640' || a.rule.id === '80641') ids.add(a.id);
  });
  return ids;
}
