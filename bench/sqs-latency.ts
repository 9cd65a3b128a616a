/**
 * Queue-worker time per object when each GetObject takes `delayMs` to answer (S3's request latency, which a
 * loopback server does not have): an HTTP proxy in front of s3rver holds each GetObject response that long. One
 * worker in this process, fetch threads on, no store. Prints one JSON line.
 * Usage: node --import tsx bench/sqs-latency.ts [objects=60] [delayMs=100]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { startS3Server } from '../tests/helpers/s3-server.js';
import { startSqsServer } from '../tests/helpers/sqs-server.js';
import { SAMPLES_DIR } from '../testdata/samples.js';
import { notificationOf } from '../src/sources/sqs/backfill.js';
import { openRuntime } from '../src/pipeline/runtime.js';
import { openQueue } from '../src/sources/sqs/queue.js';
import { QueueWorker } from '../src/sources/sqs/worker.js';

const objects = Number(process.argv[2] ?? 60);
const delayMs = Number(process.argv[3] ?? 100);
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
const dir = mkdtempSync(join(tmpdir(), 'tld-bench-latency-'));
const s3 = await startS3Server();
const sqs = await startSqsServer();
const to = new URL(s3.endpoint);
const proxy = createServer((req, res) => {
  const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
    const go = () => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    };
    if ((req.url ?? '').includes('x-id=GetObject')) setTimeout(go, delayMs);
    else go();
  });
  req.pipe(up);
});
await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
const body = gzipSync(readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log')));
await sqs.createQueue('latency');
const notes: string[] = [];
for (let i = 0; i < objects; i++) {
  const key = `AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250626T1920Z_${String(i).padStart(6, '0')}.log.gz`;
  await s3.putObject('bench', key, body);
  notes.push(notificationOf('bench', { key, size: body.length }, 'us-west-2'));
}
await sqs.send('latency', notes);
const conf = join(dir, 'worker.conf');
writeFileSync(conf, `<ossec_config><wodle name="aws-s3"><subscriber type="buckets"><sqs_name>latency</sqs_name><sqs_endpoint>${sqs.endpoint}</sqs_endpoint><service_endpoint>${endpoint}</service_endpoint><wait_time>1</wait_time></subscriber></wodle></ossec_config>`);
const logger = pino({ level: 'error' });
const rt = await openRuntime({ configFiles: [conf], dataDir: join(dir, 'data'), logger, store: false });
const subscriber = rt.config.awsS3!.subscribers[0]!;
const queue = await openQueue(subscriber);
const controller = new AbortController();
const worker = new QueueWorker({ subscriber, queue, state: rt.state, sink: rt.sink, logger, signal: controller.signal, skipOnError: true, ...(rt.fetchPool ? { fetchPool: rt.fetchPool } : {}) });
const t = process.hrtime.bigint();
const running = worker.run();
while (sqs.depth('latency') > 0) await new Promise((r) => setTimeout(r, 10));
const seconds = Number(process.hrtime.bigint() - t) / 1e9;
controller.abort();
await running;
await rt.close();
queue.close();
proxy.close();
await sqs.close();
await s3.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ objects, delayMs, seconds: Math.round(seconds * 100) / 100, msPerObject: Math.round((seconds * 1000) / objects) })}\n`);
