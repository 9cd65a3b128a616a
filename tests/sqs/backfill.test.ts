/**
 * `tld backfill` (the real CLI) lists a window of a bucket with the collector's listing code and puts one S3 event
 * notification per object on the subscriber's queue (fauxqs); a worker then reads exactly those objects.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startSqsServer, type TestSqsServer } from '../helpers/sqs-server.js';
import { captureLogger } from '../helpers/collector.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { parseNotification } from '../../src/sources/sqs/notifications.js';
import { createS3Source } from '../../src/sources/s3/client.js';
import { scopesOf } from '../../src/sources/s3/discovery.js';
import { ScopeListing } from '../../src/sources/s3/listing.js';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime } from '../../src/pipeline/runtime.js';
import { openQueue } from '../../src/sources/sqs/queue.js';
import { QueueWorker } from '../../src/sources/sqs/worker.js';

const root = new URL('../../', import.meta.url).pathname;
const VPC = gzipSync(readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log')));
const BUCKET = 'history';

let s3: TestS3Server;
let sqs: TestSqsServer;
let dir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-backfill-'));
  s3 = await startS3Server();
  sqs = await startSqsServer();
  env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
  for (const [account, region] of [['111111111111', 'us-west-2'], ['222222222222', 'eu-west-1']] as const) {
    for (const day of ['24', '25', '26', '27']) {
      for (const n of ['a', 'b c+d']) {
        await s3.putObject(BUCKET, `AWSLogs/${account}/vpcflowlogs/${region}/2025/06/${day}/${account}_vpcflowlogs_${region}_fl-0aaaaaaaaaaaaaaaa_202506${day}T1920Z_${n}.log.gz`, VPC);
      }
    }
  }
  await s3.putObject(BUCKET, 'exports/2025/06/25/00/stream-1.log.gz', VPC);
});

after(async () => {
  await sqs?.close();
  await s3?.close();
});

function config(queue: string, bucketBlocks: string, subscriberExtra = ''): string {
  const file = join(dir, `${queue}.conf`);
  writeFileSync(file, `<ossec_config>
  <global><logall_json>yes</logall_json></global>
  <wodle name="aws-s3">
    ${bucketBlocks}
    <subscriber type="buckets"><sqs_name>${queue}</sqs_name><sqs_endpoint>${sqs.endpoint}</sqs_endpoint><service_endpoint>${s3.endpoint}</service_endpoint><wait_time>1</wait_time>${subscriberExtra}</subscriber>
  </wodle>
</ossec_config>
`);
  return file;
}

/** Runs the CLI (asynchronously: the S3 and SQS servers answer from this process). */
function tld(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('backfill enqueues exactly what the listing finds in the window, and the worker reads each of them once', async () => {
  const queue = 'backfill';
  await sqs.createQueue(queue);
  const conf = config(queue, `<bucket type="vpcflow"><name>${BUCKET}</name><service_endpoint>${s3.endpoint}</service_endpoint></bucket>`);
  const dry = await tld('backfill', '-c', conf, '--from', '2025-06-25', '--to', '2025-06-26', '--dry-run');
  assert.equal(dry.status, 0, dry.stderr + dry.stdout);
  assert.match(dry.stdout, /8 objects to enqueue/);
  assert.equal(sqs.depth(queue), 0, 'a dry run sends nothing');

  const run = await tld('backfill', '-c', conf, '--from', '2025-06-25', '--to', '2025-06-26');
  assert.equal(run.status, 0, run.stderr + run.stdout);
  assert.match(run.stdout, /s3:\/\/history\/ \(vpcflow\): 8 objects enqueued/);

  // what the collector's listing code gives for the same window
  const { config: loaded } = await loadConfig([conf]);
  const b = loaded.awsS3!.buckets[0]!;
  const source = await createS3Source(b);
  const listed: { key: string; size: number }[] = [];
  for (const scope of await scopesOf(b, source)) {
    for await (const { obj } of new ScopeListing(b, source, scope, { startDay: '2025-06-25', until: '2025-06-26', now: () => new Date() })) listed.push({ key: obj.key, size: obj.size });
  }
  source.close?.();
  const enqueued = sqs.readyBodies(queue).flatMap((body) => {
    const n = parseNotification(body);
    return n.kind === 'objects' ? n.objects.map((o) => ({ key: o.key, size: o.size ?? -1 })) : [];
  });
  const byKey = (a: { key: string }, c: { key: string }) => a.key.localeCompare(c.key);
  assert.equal(listed.length, 8);
  assert.deepEqual(enqueued.sort(byKey), listed.sort(byKey));

  // and the worker reads them: history through the same path as live data
  const { logger } = captureLogger();
  const dataDir = join(dir, 'data');
  const rt = await openRuntime({ configFiles: [config(queue, '')] /* the worker's own file: a subscriber only */, dataDir, logger, store: false });
  const subscriber = rt.config.awsS3!.subscribers[0]!;
  const q = await openQueue(subscriber);
  const controller = new AbortController();
  const worker = new QueueWorker({ subscriber, queue: q, state: rt.state, sink: rt.sink, logger, signal: controller.signal, skipOnError: true });
  const running = worker.run();
  const deadline = Date.now() + 60_000;
  while (sqs.depth(queue) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  controller.abort();
  await running;
  await rt.close();
  q.close();
  assert.equal(sqs.depth(queue), 0);
  assert.deepEqual({ objects: worker.counts.objects, duplicates: worker.counts.duplicates, left: worker.counts.left }, { objects: 8, duplicates: 0, left: 0 });
});

test('backfill refuses keys the workers would not read as the bucket type, and says which <key_prefix> to add', async () => {
  const queue = 'backfill-prefix';
  await sqs.createQueue(queue);
  const blocks = `<bucket type="custom"><name>${BUCKET}</name><path>exports</path><service_endpoint>${s3.endpoint}</service_endpoint></bucket>`;
  const refused = await tld('backfill', '-c', config(queue, blocks), '--from', '2025-06-25', '--to', '2025-06-25');
  assert.equal(refused.status, 1);
  assert.match(refused.stdout, /would not read it as custom \(its layout names no source type\); add <key_prefix type="custom">exports\/<\/key_prefix>/);
  assert.equal(sqs.depth(queue), 0);
  const ok = await tld('backfill', '-c', config(queue, blocks, '<key_prefix type="custom">exports/</key_prefix>'), '--from', '2025-06-25', '--to', '2025-06-25');
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.equal(sqs.depth(queue), 1);
});
