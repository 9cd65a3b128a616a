/**
 * Queue-worker throughput: `tld start` processes (1 or more) on one SQS queue (fauxqs, in this process) reading VPC
 * flow log objects from a loopback S3 server (s3rver, its own process), with the embedded store, until the queue is
 * empty. Prints one JSON line: objects/s and records/s from the first message received to the empty queue.
 * Usage: node --import tsx bench/sqs-worker.ts [objects=200] [workers=1] [linesPerObject≈2000] [store=embedded|indexer]
 * With `indexer` the workers write into the indexer DOUBLE (tests/helpers/indexer-double-server.ts, its own process,
 * as a cluster would be; a JavaScript double, so its own speed is part of the figure) instead of their embedded
 * stores, and the run checks that the double holds every record once. `peakRssMb` is the largest worker's VmHWM.
 * (workers=0: the collector, bench/collect.mjs, over the same objects listed instead of announced, for comparison)
 * Run `npm run build` first so `tld` runs the compiled code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gzipSync } from 'node:zlib';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startSqsServer } from '../tests/helpers/sqs-server.js';
import { SAMPLES_DIR } from '../testdata/samples.js';
import { notificationOf } from '../src/sources/sqs/backfill.js';

const objects = Number(process.argv[2] ?? 200);
const workers = Number(process.argv[3] ?? 1);
const lines = Number(process.argv[4] ?? 2000);
const store = process.argv[5] ?? 'embedded';
if (store !== 'embedded' && store !== 'indexer') throw new Error(`store must be embedded or indexer, not ${store}`);
const root = new URL('../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tld-bench-sqs-'));

const sample = readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'), 'utf8').trim().split('\n');
const [header, ...rows] = sample;
const body: string[] = [header!];
while (body.length - 1 < lines) body.push(...rows);
const records = body.length - 1;
const object = gzipSync(`${body.join('\n')}\n`);

const s3child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/s3-child.ts'), join(dir, 's3')], { stdio: ['pipe', 'pipe', 'inherit'] });
const endpoint = await new Promise<string>((resolve) => createInterface({ input: s3child.stdout! }).once('line', resolve));
const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
const sqs = await startSqsServer();
await sqs.createQueue('bench', { visibilitySecs: 300 });
const notes: string[] = [];
for (let i = 0; i < objects; i++) {
  const key = `AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250626T1920Z_${String(i).padStart(6, '0')}.log.gz`;
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: object }));
  notes.push(notificationOf('bench', { key, size: object.length }, 'us-west-2'));
}
await sqs.send('bench', notes);
let double: { url: string; child: ReturnType<typeof spawn> } | undefined;
if (store === 'indexer') {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'tests/helpers/indexer-double-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
  double = { url, child };
}
const storeConf = double
  ? `<store><backend>indexer</backend></store><indexer><enabled>yes</enabled><hosts><host>${double.url}</host></hosts></indexer>`
  : '<store><flow_retention_days>0</flow_retention_days><alert_retention_days>0</alert_retention_days></store>';
const conf = join(dir, 'worker.conf');
writeFileSync(conf, `<ossec_config>${storeConf}<wodle name="aws-s3"><subscriber type="buckets"><sqs_name>bench</sqs_name><sqs_endpoint>${sqs.endpoint}</sqs_endpoint><service_endpoint>${endpoint}</service_endpoint><wait_time>1</wait_time></subscriber></wodle></ossec_config>`);
const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
if (workers === 0) {
  // for comparison: the collector (listing instead of a queue) over the same objects, in one process
  const r = spawnSync(process.execPath, [join(root, 'bench/collect.mjs'), endpoint], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, encoding: 'utf8' });
  const c = JSON.parse(r.stdout) as { seconds: number; objects: number; records: number };
  process.stdout.write(`${JSON.stringify({ collector: true, objects: c.objects, seconds: Math.round(c.seconds * 100) / 100, objectsPerSecond: Math.round(c.objects / c.seconds), recordsPerSecond: Math.round(c.records / c.seconds) })}\n`);
  await sqs.close();
  s3child.stdin!.end();
  s3.destroy();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
const spawned = process.hrtime.bigint();
const procs = Array.from({ length: workers }, (_, i) => spawn(process.execPath, [join(root, 'bin/tld.js'), 'start', '-c', conf, '--data-dir', join(dir, `data${i}`), '--no-dashboard', '--log-level', 'error'], { env, stdio: ['ignore', 'inherit', 'inherit'] }));
// the clock starts when the first message is received (process start-up, ~2 s here, is not the worker's throughput)
const ready = () => sqs.server.inspectQueue('bench')?.messages.ready.length ?? 0;
/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat (fields 14 and 15, in clock ticks) */
const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const cpuSeconds = (pid: number | undefined): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(f[11]) + Number(f[12])) / ticks;
};
const cpuOf = () => ({ workers: procs.reduce((a, p) => a + cpuSeconds(p.pid), 0), double: double ? cpuSeconds(double.child.pid) : 0 });
while (ready() === objects) await new Promise((r) => setTimeout(r, 5));
const started = process.hrtime.bigint();
const cpuAtStart = cpuOf();
while (sqs.depth('bench') > 0) await new Promise((r) => setTimeout(r, 20));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpuAtEnd = cpuOf();
// where the cores went while the queue drained: a double near one core busy is the figure's ceiling, not the workers
const coresBusy = { workers: Math.round(((cpuAtEnd.workers - cpuAtStart.workers) / seconds) * 100) / 100, ...(double ? { indexerDouble: Math.round(((cpuAtEnd.double - cpuAtStart.double) / seconds) * 100) / 100 } : {}) };
const startupSeconds = Number(started - spawned) / 1e9;
/** the process's peak resident set (VmHWM, kB → MB), read while it still runs */
const peakMb = (pid: number | undefined): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
};
const peakRssMb = Math.round(Math.max(...procs.map((p) => peakMb(p.pid))));
let indexed: number | undefined;
if (double) {
  const res = await fetch(`${double.url}/tld-flows-*/_count`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  indexed = ((await res.json()) as { count: number }).count;
  if (indexed !== objects * records) throw new Error(`the indexer double holds ${indexed} flow documents, not ${objects * records}`);
}
await Promise.all(procs.map((p) => new Promise((r) => (p.once('close', r), p.kill('SIGTERM')))));
await sqs.close();
double?.child.kill('SIGTERM');
s3child.stdin!.end();
s3.destroy();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ workers, store, objects, ...(indexed !== undefined ? { indexed } : {}), peakRssMb, coresBusy, recordsPerObject: records, seconds: Math.round(seconds * 100) / 100, startupSeconds: Math.round(startupSeconds * 10) / 10, objectsPerSecond: Math.round(objects / seconds), recordsPerSecond: Math.round((objects * records) / seconds) })}\n`);
