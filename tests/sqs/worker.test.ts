/**
 * A queue worker with real parts: fauxqs (a real SQS-protocol server) started here, s3rver holding the objects, the
 * real SDK clients, and the real runtime (state store, pipeline sink, alerts.json and archives.json with
 * logall_json). archives.json holds one line per record with the id `<objectId>-<record index>`: a record delivered
 * twice shows there as a repeated id.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startSqsServer, type TestSqsServer } from '../helpers/sqs-server.js';
import { captureLogger } from '../helpers/collector.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { openRuntime } from '../../src/pipeline/runtime.js';
import { archivesFilePath } from '../../src/outputs/json-lines-file.js';
import { openQueue } from '../../src/sources/sqs/queue.js';
import { QueueWorker } from '../../src/sources/sqs/worker.js';
import { encodeNotificationKey } from '../../src/sources/sqs/notifications.js';
import { objectIdOf } from '../../src/sources/s3/collect-bucket.js';
import type { StateStore } from '../../src/sources/s3/state/types.js';

const VPC = readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'));
const VPC_RECORDS = VPC.toString('utf8').trim().split('\n').length - 1; // the header line is not a record
const BUCKET = 'flows';
const vpcKey = (name: string) => `AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250626T1920Z_${name}.log.gz`;

let s3: TestS3Server;
let sqs: TestSqsServer;
let tmp: string;
let n = 0;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tld-sqs-worker-'));
  s3 = await startS3Server();
  sqs = await startSqsServer();
  // the subscriber has no profile: the SDK's default chain reads these (fetch threads share the environment)
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
  await s3.createBucket(BUCKET);
});

after(async () => {
  await sqs?.close();
  await s3?.close();
});

function s3Notification(keys: string[], size = 0): string {
  return JSON.stringify({ Records: keys.map((key) => ({ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-west-2', eventTime: '2025-06-26T19:21:00.000Z', eventName: 'ObjectCreated:Put', s3: { s3SchemaVersion: '1.0', bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` }, object: { key: encodeNotificationKey(key), ...(size ? { size } : {}) } } })) });
}

interface Setup {
  dataDir: string;
  config: string;
}

function setup(queue: string, extra = '', visibility = 30, endpoint = s3.endpoint): Setup {
  const dir = join(tmp, `run-${n++}`);
  const config = `${dir}.conf`;
  writeFileSync(config, `<ossec_config>
  <global><logall_json>yes</logall_json></global>
  <wodle name="aws-s3">
    <skip_on_error>yes</skip_on_error>
    <subscriber type="buckets">
      <sqs_name>${queue}</sqs_name><sqs_endpoint>${sqs.endpoint}</sqs_endpoint><service_endpoint>${endpoint}</service_endpoint>
      <visibility_timeout>${visibility}</visibility_timeout><wait_time>1</wait_time>${extra}
    </subscriber>
  </wodle>
</ossec_config>
`);
  return { dataDir: dir, config };
}

/** Runs a worker on the setup's data folder until `done()` (by default: the queue is empty), then stops it. */
async function work(s: Setup, queue: string, opts: { done?: () => boolean; fetchThreads?: boolean; during?: () => Promise<void>; skipOnError?: boolean; state?: (real: StateStore) => StateStore; listedBuckets?: Set<string>; holdMaxMs?: number } = {}) {
  const { logger, lines } = captureLogger();
  const rt = await openRuntime({ configFiles: [s.config], dataDir: s.dataDir, logger, store: false });
  const subscriber = rt.config.awsS3!.subscribers[0]!;
  const q = await openQueue(subscriber);
  const controller = new AbortController();
  const worker = new QueueWorker({ subscriber, queue: q, state: opts.state?.(rt.state) ?? rt.state, sink: rt.sink, logger, signal: controller.signal, skipOnError: opts.skipOnError ?? true, metrics: rt.metrics, ...(opts.listedBuckets ? { listedBuckets: opts.listedBuckets } : {}), ...(opts.holdMaxMs ? { holdMaxMs: opts.holdMaxMs } : {}), ...(opts.fetchThreads && rt.fetchPool ? { fetchPool: rt.fetchPool } : {}) });
  const running = worker.run();
  const done = opts.done ?? (() => sqs.depth(queue) === 0);
  const deadline = Date.now() + 60_000;
  const during = opts.during?.();
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await during;
  controller.abort();
  await running;
  const metrics = await rt.metrics.render();
  await rt.close();
  q.close();
  return { counts: worker.counts, lines, metrics, archives: archived(s.dataDir) };
}

function archived(dataDir: string): { id: string; key: string }[] {
  const file = archivesFilePath(dataDir);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const e = JSON.parse(l) as { id: string; data: { aws: { log_info: { log_file: string } } } };
    return { id: e.id, key: e.data.aws.log_info.log_file };
  });
}

/** Record count per key, and ids seen more than once. */
function tally(archives: { id: string; key: string }[]): { perKey: Record<string, number>; duplicates: string[] } {
  const perKey: Record<string, number> = {};
  const seen = new Set<string>();
  const duplicates: string[] = [];
  for (const a of archives) {
    perKey[a.key] = (perKey[a.key] ?? 0) + 1;
    if (seen.has(a.id)) duplicates.push(a.id);
    seen.add(a.id);
  }
  return { perKey, duplicates };
}

const metric = (text: string, name: string, labels = '') => {
  const m = new RegExp(`^${name}\\{[^}]*${labels}[^}]*\\} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

test('every notification shape is read once: S3, SNS raw and wrapped, EventBridge, several records, encoded keys; the test event is deleted', async () => {
  const queue = 'shapes';
  await sqs.createQueue(queue);
  const keys = ['direct', 'sns-raw', 'sns-wrapped', 'bridge', 'multi-a', 'multi b+été'].map(vpcKey);
  for (const k of keys) await s3.putObject(BUCKET, k, gzipSync(VPC));
  const [direct, raw, wrapped, bridge, a, b] = keys as [string, string, string, string, string, string];
  const bodies = [
    s3Notification([direct]),
    s3Notification([raw]),
    JSON.stringify({ Type: 'Notification', MessageId: 'm1', TopicArn: 'arn:aws:sns:us-west-2:111111111111:logs', Subject: 'Amazon S3 Notification', Message: s3Notification([wrapped]), Timestamp: '2025-06-26T19:21:01.000Z' }),
    JSON.stringify({ version: '0', id: 'e1', 'detail-type': 'Object Created', source: 'aws.s3', account: '111111111111', time: '2025-06-26T19:21:00Z', region: 'us-west-2', resources: [`arn:aws:s3:::${BUCKET}`], detail: { version: '0', bucket: { name: BUCKET }, object: { key: bridge }, reason: 'PutObject' } }),
    s3Notification([a, b]),
    JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2025-06-26T19:00:00.000Z', Bucket: BUCKET, RequestId: 'r', HostId: 'h' }),
  ];
  await sqs.send(queue, bodies);
  const s = setup(queue);
  const r = await work(s, queue, { fetchThreads: true });
  const { perKey, duplicates } = tally(r.archives);
  assert.deepEqual(duplicates, []);
  assert.deepEqual(perKey, Object.fromEntries(keys.map((k) => [k, VPC_RECORDS])));
  assert.equal(sqs.depth(queue), 0);
  assert.deepEqual({ ...r.counts }, { messages: 6, deleted: 6, left: 0, held: 0, objects: 6, duplicates: 0, records: 6 * VPC_RECORDS });
  assert.equal(metric(r.metrics, 'tld_sqs_messages_received_total', `queue="${queue}"`), 6);
  assert.equal(metric(r.metrics, 'tld_sqs_messages_deleted_total', `queue="${queue}"`), 6);
  assert.ok((metric(r.metrics, 'tld_sqs_oldest_message_age_seconds', `queue="${queue}"`) ?? -1) >= 0);
  const utilization = metric(r.metrics, 'tld_sqs_worker_utilization', `queue="${queue}"`);
  assert.ok(utilization !== undefined && utilization > 0 && utilization <= 1, String(utilization));
});

test('the same object delivered twice, and again in a later run, is read once', async () => {
  const queue = 'redelivery';
  await sqs.createQueue(queue);
  const key = vpcKey('twice');
  await s3.putObject(BUCKET, key, gzipSync(VPC));
  await sqs.send(queue, [s3Notification([key]), s3Notification([key])]);
  const s = setup(queue);
  const first = await work(s, queue);
  assert.deepEqual(tally(first.archives), { perKey: { [key]: VPC_RECORDS }, duplicates: [] });
  assert.equal(first.counts.duplicates, 1);
  // a redelivery after a restart (the worker's state is on disk)
  await sqs.send(queue, [s3Notification([key])]);
  const second = await work(s, queue);
  assert.equal(second.counts.duplicates, 1);
  assert.equal(second.counts.deleted, 1);
  assert.deepEqual(tally(second.archives), { perKey: { [key]: VPC_RECORDS }, duplicates: [] });
  assert.ok(second.archives.every((a) => a.id.startsWith(objectIdOf(BUCKET, key))));
});

test('a poison object and a key of unknown layout end in the dead-letter queue, stay in the bucket, and are reported; the good object beside them is read', async () => {
  const queue = 'poison';
  await sqs.createQueue(queue, { visibilitySecs: 2, maxReceiveCount: 2 });
  const poison = 'AWSLogs/111111111111/CloudTrail/us-west-2/2025/06/26/111111111111_CloudTrail_us-west-2_20250626T1920Z_bad.json.gz';
  const unknown = 'exports/2025/06/26/something.log.gz';
  const good = vpcKey('beside-poison');
  await s3.putObject(BUCKET, poison, gzipSync('{"Records": [ this is not json'));
  await s3.putObject(BUCKET, unknown, gzipSync(VPC));
  await s3.putObject(BUCKET, good, gzipSync(VPC));
  await sqs.send(queue, [s3Notification([poison]), s3Notification([unknown]), s3Notification([good])]);
  const s = setup(queue, '', 2);
  const r = await work(s, queue, { done: () => sqs.depth(queue) === 0 && sqs.depth(`${queue}-dlq`) === 2 });
  assert.equal(sqs.depth(queue), 0);
  const dead = sqs.readyBodies(`${queue}-dlq`).map((b) => JSON.parse(b) as { Records: { s3: { object: { key: string } } }[] }).map((m) => decodeURIComponent(m.Records[0]!.s3.object.key));
  assert.deepEqual(dead.sort(), [unknown, poison].sort());
  for (const key of [poison, unknown]) await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.deepEqual(tally(r.archives), { perKey: { [good]: VPC_RECORDS }, duplicates: [] });
  const errors = r.lines.filter((l) => l.level === 50).map((l) => `${String(l.code)} ${String(l.msg)}`);
  assert.ok(errors.some((e) => e.startsWith('TLD_ERR_DECODE') && e.includes(poison) && e.includes('dead-letter queue')), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('TLD_ERR_SQS_UNKNOWN_LAYOUT') && e.includes(unknown) && e.includes('<key_prefix')), errors.join('\n'));
  assert.equal(metric(r.metrics, 'tld_sqs_messages_failed_total', 'reason="object"'), 4, 'each of the two messages failed on both of its receives');
});

/** A state store whose first `n` group marks fail with a disk error (then it works again). */
function failingMarks(n: number): { wrap: (real: StateStore) => StateStore; left: () => number } {
  let failures = n;
  const wrap = (real: StateStore): StateStore =>
    new Proxy(real, {
      get(target, prop) {
        if (prop === 'markProcessedAll') {
          return (marks: Parameters<StateStore['markProcessedAll']>[0]) => {
            if (failures > 0) {
              failures--;
              throw Object.assign(new Error('EIO: i/o error, write (test)'), { code: 'EIO' });
            }
            target.markProcessedAll(marks);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  return { wrap, left: () => failures };
}

test('an outage of the outputs keeps the messages in flight and reads them again after it: none is received twice (maxReceiveCount 1)', async () => {
  const queue = 'outage';
  await sqs.createQueue(queue, { maxReceiveCount: 1 });
  const keys = ['out-1', 'out-2', 'out-3', 'out-4'].map(vpcKey);
  for (const k of keys) await s3.putObject(BUCKET, k, gzipSync(VPC));
  await sqs.send(queue, keys.map((k) => s3Notification([k])));
  // the state store fails its first two group marks (a disk error): the real sink takes those objects' output back
  const marks = failingMarks(2);
  const r = await work(setup(queue), queue, { state: marks.wrap, done: () => sqs.depth(queue) === 0 || sqs.depth(`${queue}-dlq`) > 0 });
  assert.equal(marks.left(), 0, 'the marks failed twice');
  assert.equal(sqs.depth(`${queue}-dlq`), 0, 'a message was received again and went to the dead-letter queue');
  assert.equal(sqs.depth(queue), 0);
  assert.ok(r.counts.held >= 1, `messages held: ${r.counts.held}`);
  assert.deepEqual(tally(r.archives), { perKey: Object.fromEntries(keys.map((k) => [k, VPC_RECORDS])), duplicates: [] });
  assert.ok(r.lines.some((l) => l.code === 'TLD_ERR_OUTPUT' && /kept in flight/.test(String(l.msg))));
});

test('a message kept in flight through an outage longer than holdMaxMs is handed back to the queue, not lost', async () => {
  const queue = 'long-outage';
  await sqs.createQueue(queue);
  const key = vpcKey('long-1');
  await s3.putObject(BUCKET, key, gzipSync(VPC));
  await sqs.send(queue, [s3Notification([key])]);
  // the marks fail for the whole run: held, read again after 1 s and 2 s of back-off, then handed back (held 3 s)
  const marks = failingMarks(1_000_000);
  const until = Date.now() + 7000;
  const r = await work(setup(queue), queue, { state: marks.wrap, holdMaxMs: 1500, done: () => Date.now() > until });
  assert.ok(marks.left() < 1_000_000 - 2, 'read and failed more than twice');
  assert.equal(sqs.depth(queue), 1, 'the message is still on the queue');
  assert.ok(r.lines.some((l) => l.code === 'TLD_ERR_OUTPUT' && /handed back to the queue/.test(String(l.msg))), r.lines.map((l) => String(l.msg)).join('\n'));
  assert.deepEqual(tally(r.archives).perKey, {}, 'nothing of it was kept');
});

test('a queue announcing a bucket that a <bucket> block also lists is warned about once (its objects would be read twice)', async () => {
  const queue = 'listed-too';
  await sqs.createQueue(queue);
  const keys = ['twice-1', 'twice-2'].map(vpcKey);
  for (const k of keys) await s3.putObject(BUCKET, k, gzipSync(VPC));
  await sqs.send(queue, keys.map((k) => s3Notification([k])));
  const r = await work(setup(queue), queue, { listedBuckets: new Set([BUCKET, 'other']) });
  const warned = r.lines.filter((l) => l.code === 'TLD_WARN_BUCKET_TWICE');
  assert.equal(warned.length, 1);
  assert.match(String(warned[0]?.msg), new RegExp(`bucket ${BUCKET}, which a <bucket> block of this configuration also lists`));
  assert.deepEqual(tally(r.archives).perKey, Object.fromEntries(keys.map((k) => [k, VPC_RECORDS])), 'the queue still reads them');

  const quiet = 'not-listed';
  await sqs.createQueue(quiet);
  await sqs.send(quiet, [s3Notification([keys[0]!])]);
  const q = await work(setup(quiet), quiet, { listedBuckets: new Set(['other']) });
  assert.equal(q.lines.filter((l) => l.code === 'TLD_WARN_BUCKET_TWICE').length, 0);
});

test('with a <key_prefix> the Firehose-style key is read as its type', async () => {
  const queue = 'prefixes';
  await sqs.createQueue(queue);
  const key = 'exports/2025/06/26/19/flows-1.log.gz';
  await s3.putObject(BUCKET, key, gzipSync(VPC));
  await sqs.send(queue, [s3Notification([key])]);
  const r = await work(setup(queue, '<key_prefix type="vpcflow">exports/</key_prefix>'), queue);
  assert.deepEqual(tally(r.archives), { perKey: { [key]: VPC_RECORDS }, duplicates: [] });
});

/**
 * An HTTP proxy in front of s3rver that holds the body of GetObject responses for `holdMs` before passing it on:
 * a slow object, over real sockets.
 */
function slowProxy(target: string, holdMs: number): Promise<{ endpoint: string; server: Server }> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      // a GetObject: a GET of /bucket/key (the collector's direct GET carries no x-id=GetObject)
      const slow = req.method === 'GET' && /^\/[^/?]+\/[^?]+/.test(req.url ?? '');
      if (!slow) return void upRes.pipe(res);
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.on('end', () => setTimeout(() => res.end(Buffer.concat(chunks)), holdMs));
    });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

test('a slow object keeps its message hidden (visibility extended) so no other worker receives it; deleted once durable', async () => {
  const queue = 'slow';
  await sqs.createQueue(queue, { visibilitySecs: 2 });
  const key = vpcKey('slow');
  await s3.putObject(BUCKET, key, gzipSync(VPC));
  const proxy = await slowProxy(s3.endpoint, 5000);
  try {
    await sqs.send(queue, [s3Notification([key])]);
    const s = setup(queue, '', 2, proxy.endpoint);
    let seenByOther: string[] = ['(not asked)'];
    const r = await work(s, queue, {
      // while the object is read (5 s, more than twice the 2 s timeout), another worker polls the queue
      during: async () => {
        await new Promise((res) => setTimeout(res, 1500));
        seenByOther = await sqs.receive(queue, 3, 1);
      },
    });
    assert.deepEqual(seenByOther, []);
    assert.ok((metric(r.metrics, 'tld_sqs_visibility_extensions_total', `queue="${queue}"`) ?? 0) >= 2);
    assert.deepEqual(tally(r.archives), { perKey: { [key]: VPC_RECORDS }, duplicates: [] });
    assert.equal(sqs.depth(queue), 0);
  } finally {
    proxy.server.close();
  }
});

test('unreadable records among good ones: with skip_on_error kept with an error event and the message deleted; without it, taken back and left; a body that is no notification is left too', async () => {
  const queue = 'records';
  await sqs.createQueue(queue, { visibilitySecs: 2, maxReceiveCount: 1 });
  const key = vpcKey('some-bad-lines');
  const lines = VPC.toString('utf8').trim().split('\n');
  await s3.putObject(BUCKET, key, gzipSync(`${[...lines, 'this line is not a flow record'].join('\n')}\n`));
  // without skip_on_error: nothing of it is kept, the message goes to the dead-letter queue
  await sqs.send(queue, [s3Notification([key]), 'not a notification at all']);
  const strict = setup(queue, '', 2);
  const refused = await work(strict, queue, { skipOnError: false, done: () => sqs.depth(queue) === 0 && sqs.depth(`${queue}-dlq`) === 2 });
  assert.deepEqual(refused.archives, []);
  assert.ok(refused.lines.some((l) => l.code === 'TLD_ERR_DECODE_RECORDS' && String(l.msg).includes('skip_on_error is off')), 'the object was read and refused');
  assert.equal(sqs.depth(`${queue}-dlq`), 2);
  assert.equal(metric(refused.metrics, 'tld_sqs_messages_failed_total', 'reason="message"'), 1);
  assert.ok(refused.lines.some((l) => l.code === 'TLD_ERR_SQS_MESSAGE' && String(l.msg).includes('not an S3 event notification (the body is not JSON)')));
  // with skip_on_error: the good records and one error event, marked, the message deleted
  await sqs.createQueue(`${queue}-kept`, { visibilitySecs: 2 });
  await sqs.send(`${queue}-kept`, [s3Notification([key])]);
  const kept = await work(setup(`${queue}-kept`, '', 2), `${queue}-kept`);
  assert.equal(sqs.depth(`${queue}-kept`), 0);
  assert.equal(kept.counts.deleted, 1);
  assert.deepEqual(tally(kept.archives), { perKey: { [key]: VPC_RECORDS + 1 }, duplicates: [] });
  assert.equal(metric(kept.metrics, 'tld_objects_total', 'status="error"'), 1);
});
