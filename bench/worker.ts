/** One benchmark measurement per process (see run.ts); prints one JSON result line. */
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { createFlowDecoder, createObjectDecoder, decompressSync, type FlowBatch } from '../src/decoders/index.js';
import { createAnalyzer, loadRuleset } from '../src/analysis/index.js';
import type { AwsEvent, BucketType } from '../src/shared/events.js';
import { openStateStore } from '../src/sources/s3/state/file-state-store.js';
import { S3Client, PutObjectCommand, CreateBucketCommand, GetObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { openStore } from '../src/store/index.js';
import { createS3Source, type ObjectSource } from '../src/sources/s3/client.js';
import type { BucketConfig } from '../src/config/types.js';

/** the kernel's clock ticks per second (USER_HZ), the unit of /proc/PID/stat's CPU times */
const sysconfClockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
import { defaults } from '../src/config/schema.js';
import * as q from '../src/dashboard/queries.js';
import { list } from '../src/dashboard/lists.js';
import { fillAnalystData, measureAnalyst } from './analyst-dashboard.js';
import { measurePages } from './dashboard-pages.js';
import { cloudtrailObject, guarddutyObject, vpcObject, vpcText } from './corpus.js';
import { flowColumns, storeRowsOf, type StoreRows } from '../src/store/store-rows.js';

const [task, raw] = process.argv.slice(2);
const p = JSON.parse(raw ?? '{}') as Record<string, number | string>;
const LINES_PER_OBJECT = 100_000;
const rssMb = () => process.resourceUsage().maxRSS / 1024;
const emit = (r: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ peakRssMb: rssMb(), ...r })}\n`);

/**
 * The corpus object by object, compressed. In-process measurements collect it first (compressed bytes only), so
 * generating it leaves no garbage behind in the timed part; uploads take it one object at a time.
 */
function* vpcObjects(total: number, format: 'default' | 'custom'): Generator<Buffer> {
  for (let done = 0, i = 0; done < total; i++) {
    const n = Math.min(LINES_PER_OBJECT, total - done);
    // each object continues the previous one's time, as consecutive deliveries of a flow log do
    yield vpcObject(n, format, i + 1, 6, Math.floor(done / 100));
    done += n;
  }
}

/** An object's content, inflated as the collector inflates it (decompress.ts; a fetch thread streams objects over 1 MiB in 256 KiB pieces). */
function inflated(body: Buffer): Buffer {
  const pieces = decompressSync(body);
  return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
}

/** Decode + parse + rules over each object, as events; only that work is timed (not generating the corpus). */
async function analyzeObjects(objects: Iterable<Buffer>, type: BucketType): Promise<{ records: number; seconds: number; mb: number }> {
  const analyzer = createAnalyzer(await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] }), { logAlertLevel: 3 });
  let records = 0;
  let bytes = 0;
  let ns = 0n;
  let i = 0;
  for (const body of objects) {
    const t = process.hrtime.bigint();
    const text = inflated(body);
    bytes += text.length;
    const dec = createObjectDecoder({ bucketType: type, logInfo: { aws_account_alias: '', log_file: `k${i}`, s3bucket: 'b' }, accountId: '111111111111' });
    const object = { bucket: 'b', key: `k${i}`, objectId: `o${i}`, bucketType: type, size: body.length };
    let first = 0;
    const handle = (events: AwsEvent[]) => {
      if (events.length === 0) return;
      analyzer.analyze({ object, firstIndex: first, events }, () => {});
      first += events.length;
      records += events.length;
    };
    for (let at = 0; at < text.length; at += 1 << 20) handle(dec.push(text.subarray(at, at + (1 << 20))));
    handle(dec.end());
    ns += process.hrtime.bigint() - t;
    i++;
  }
  return { records, seconds: Number(ns) / 1e9, mb: bytes / 1e6 };
}

/** The same over VPC objects as columns: FlowBatches through `analyzeFlows` (events only for alerts). */
async function analyzeFlowObjects(objects: Iterable<Buffer>): Promise<{ records: number; seconds: number; mb: number; nsPerRecord: { inflate: number; decode: number; rules: number }; cpuNsPerRecord: number }> {
  const analyzer = createAnalyzer(await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] }), { logAlertLevel: 3 });
  let records = 0;
  let bytes = 0;
  // the three stages timed apart too (inflate, bytes → columns, rules), to show which one bounds the rate
  let inflateNs = 0n;
  let rulesNs = 0n;
  let rowsHint: number | undefined;
  let ns = 0n;
  let i = 0;
  // the process's CPU time besides: V8's garbage collection and compilation also run on helper threads
  const cpu0 = process.cpuUsage();
  for (const body of objects) {
    const t = process.hrtime.bigint();
    const text = inflated(body);
    inflateNs += process.hrtime.bigint() - t;
    bytes += text.length;
    // as a fetch thread decodes: the first batch sized by the previous object's rows (fetch-thread.ts)
    const dec = createFlowDecoder({ bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: `k${i}`, s3bucket: 'b' }, accountId: '111111111111' }, rowsHint === undefined ? {} : { rowsHint });
    const object = { bucket: 'b', key: `k${i}`, objectId: `o${i}`, bucketType: 'vpcflow' as const, size: body.length };
    const first = records;
    const handle = (batches: FlowBatch[]) => {
      const r = process.hrtime.bigint();
      for (const b of batches) {
        analyzer.analyzeFlows(object, b, () => {});
        records += b.length;
      }
      rulesNs += process.hrtime.bigint() - r;
    };
    for (let at = 0; at < text.length; at += 1 << 20) handle(dec.push(text.subarray(at, at + (1 << 20))));
    handle(dec.end());
    ns += process.hrtime.bigint() - t;
    rowsHint = records - first;
    i++;
  }
  const cpu = process.cpuUsage(cpu0);
  const per = (n: bigint) => Math.round(Number(n) / records);
  return { records, seconds: Number(ns) / 1e9, mb: bytes / 1e6, nsPerRecord: { inflate: per(inflateNs), decode: per(ns - inflateNs - rulesNs), rules: per(rulesNs) }, cpuNsPerRecord: Math.round(((cpu.user + cpu.system) * 1000) / records) };
}

/**
 * A loopback S3 server in its own process: s3rver (objects uploaded by `fn`), or, with `synthetic`, the lean
 * server of synthetic-s3.ts that computes its keys and serves a few pre-generated bodies (for corpora of 100M
 * records or a million objects, which s3rver cannot hold or list in reasonable time).
 */
async function withS3Server<T>(fn: (endpoint: string, client: S3Client, serverPid: number) => Promise<T>, synthetic?: { objects: number; lines: number; continuing?: boolean }): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tld-bench-s3-'));
  const [script, arg] = synthetic ? ['./synthetic-s3.ts', JSON.stringify(synthetic)] : ['./s3-child.ts', dir];
  const child = spawn(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname, arg], { stdio: ['pipe', 'pipe', 'inherit'] });
  const endpoint = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED' });
  try {
    if (!synthetic) await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    return await fn(endpoint, client, child.pid as number);
  } finally {
    child.stdin.end();
    client.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Collected {
  seconds: number;
  /** CPU time of the collector process (all threads) / wall time */
  coresBusy: number;
  records: number;
  objects: number;
  bytes: number;
  peakRssMb: number;
  memoryAtPeakMb: Record<string, number>;
  storeMb: number;
  /** highest RSS of each 30 seconds of the collection, MB */
  rssPer30s: number[];
}

/**
 * Runs the collection in a fresh process on the compiled code (collect.mjs), so its peak RSS is the collector's alone.
 * `TLD_BENCH_PROFILE_DIR=DIR` writes its CPU profile there (open it in Chrome DevTools).
 */
function collectInChild(endpoint: string): Collected {
  const prof = process.env.TLD_BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.TLD_BENCH_PROFILE_DIR] : [];
  // with Node's defaults, as `tld run-once` runs from a shell (the memory target holds without flags);
  // TLD_BENCH_UNIT_FLAGS=1 runs it as the systemd unit does (deploy/threatlockdown.service: V8 heap cap, two malloc arenas)
  const unit = process.env.TLD_BENCH_UNIT_FLAGS === '1';
  const env = unit ? { ...process.env, MALLOC_ARENA_MAX: '2' } : process.env;
  const r = spawnSync(process.execPath, [...(unit ? ['--max-old-space-size=256'] : []), ...prof, fileURLToPath(new URL('./collect.mjs', import.meta.url)), endpoint], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`collect failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Collected;
}

/** CPU seconds (user + system) a process used so far. */
function cpuOfPid(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / sysconfClockTicks;
}

/**
 * The collection in a child (collectInChild), with the cores the S3 server kept busy meanwhile (its CPU time over
 * the collection's wall time; the server is idle while the child opens and closes): the two share the machine.
 */
function collectBeside(endpoint: string, serverPid: number): Collected & { serverCores: number } {
  const before = cpuOfPid(serverPid);
  const r = collectInChild(endpoint);
  return { ...r, serverCores: Math.round(((cpuOfPid(serverPid) - before) / r.seconds) * 100) / 100 };
}

/** Deterministic PRNG in [0, 1) for corpus sizes. */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A full garbage collection (between untimed preparation and a timed part). */
const collectGarbage = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

const key = (i: number) => `AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_20250626T${String(Math.floor(i / 60) % 24).padStart(2, '0')}${String(i % 60).padStart(2, '0')}Z_${String(i).padStart(8, '0')}.log.gz`;

switch (task) {
  case 'ceiling': {
    let lines = 0;
    let bytes = 0;
    let ns = 0n;
    for (const o of [...vpcObjects(Number(p.records), 'default')]) {
      const t = process.hrtime.bigint();
      const text = gunzipSync(o).toString('latin1');
      bytes += text.length;
      for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
      ns += process.hrtime.bigint() - t;
    }
    const seconds = Number(ns) / 1e9;
    emit({ name: 'ceiling: zlib inflate + line split (VPC, 1 core)', records: lines, seconds, perSecond: lines / seconds, unit: 'lines/s', mbPerSecond: bytes / 1e6 / seconds });
    break;
  }
  case 'parse-rules': {
    // columns and analyzeFlows, as VPC objects are analysed; `events: 1` measures the event path (decoded events
    // through analyze) for comparison
    const objects = [...vpcObjects(Number(p.records), p.format as 'default')];
    // a warm-up pass over the first two objects (its own analyzer: no windows carried over), so the row measures
    // the steady state of a running collector, not V8 compiling the hot path
    const measure = (os: Buffer[]) => (p.events ? analyzeObjects(os, 'vpcflow') : analyzeFlowObjects(os));
    await measure(objects.slice(0, 2));
    collectGarbage();
    const r = await measure(objects);
    emit({ name: `decode + parse + rules, VPC ${p.format} format${p.events ? ', as events' : ''} (1 core)`, records: r.records, seconds: r.seconds, perSecond: r.records / r.seconds, unit: 'records/s', mbPerSecond: r.mb / r.seconds, ...('cpuNsPerRecord' in r && 'nsPerRecord' in r ? { extra: { nsPerRecord: r.nsPerRecord, cpuNsPerRecord: r.cpuNsPerRecord } } : {}) });
    break;
  }
  case 'guardduty':
  case 'cloudtrail': {
    const per = 500;
    const objects = Array.from({ length: Math.ceil(Number(p.records) / per) }, () => (task === 'guardduty' ? guarddutyObject(per) : cloudtrailObject(per)));
    await analyzeObjects(objects.slice(0, 20), task); // warm-up, as above
    collectGarbage();
    const r = await analyzeObjects(objects, task);
    emit({ name: `decode + parse + rules, ${task === 'guardduty' ? 'GuardDuty (Firehose)' : 'CloudTrail'} (1 core)`, records: r.records, seconds: r.seconds, perSecond: r.records / r.seconds, unit: 'records/s', mbPerSecond: r.mb / r.seconds });
    break;
  }
  case 'e2e-large': {
    // `server: 'synthetic'` for corpora too big for s3rver (100M records: 1,000 objects of 100k)
    const synthetic = p.server === 'synthetic' ? { objects: Math.ceil(Number(p.records) / LINES_PER_OBJECT), lines: LINES_PER_OBJECT } : undefined;
    const r = await withS3Server(async (endpoint, client, serverPid) => {
      let i = 0;
      if (!synthetic) for (const body of vpcObjects(Number(p.records), 'default')) await client.send(new PutObjectCommand({ Bucket: 'bench', Key: key(i++), Body: body }));
      return collectBeside(endpoint, serverPid);
    }, synthetic);
    const name = `end to end run-once from S3, large VPC objects (100k records)${synthetic ? `, ${r.records / 1e6}M records, synthetic S3 server` : ''}`;
    emit({ name, records: r.records, seconds: r.seconds, perSecond: r.records / r.seconds, unit: 'records/s', mbPerSecond: r.bytes / 1e6 / r.seconds, extra: { objects: r.objects, coresBusy: r.coresBusy, serverCores: r.serverCores, memoryAtPeakMb: r.memoryAtPeakMb, storeMb: r.storeMb, ...(synthetic ? { rssPer30s: r.rssPer30s } : {}) }, peakRssMb: r.peakRssMb });
    break;
  }
  case 'e2e-sized': {
    // real-sized deliveries: `p.lines` records per object (1,000: a usual 5-minute flow log), or, with `mixed`,
    // sizes drawn log-uniformly from 100 to 200,000 records (seeded), until `p.records` records
    const total = Number(p.records);
    const sizes: number[] = [];
    // each object continues the previous one's time (100 records a second)
    const starts: number[] = [];
    const draw = mulberry(42);
    for (let done = 0; done < total; ) {
      const n = Math.min(total - done, p.mixed ? Math.round(100 * Math.pow(2000, draw())) : Number(p.lines));
      sizes.push(n);
      starts.push(Math.floor(done / 100));
      done += n;
    }
    // `server: 'synthetic'` (fixed sizes only): the same objects from the lean server, whose CPU per GET is a tenth of s3rver's
    const synthetic = p.server === 'synthetic' && !p.mixed ? { objects: sizes.length, lines: Number(p.lines), continuing: true } : undefined;
    const r = await withS3Server(async (endpoint, client, serverPid) => {
      for (let i = 0; i < sizes.length && !synthetic; i += 8) {
        await Promise.all(sizes.slice(i, i + 8).map((n, j) => client.send(new PutObjectCommand({ Bucket: 'bench', Key: key(i + j), Body: vpcObject(n, 'default', i + j + 1, 6, starts[i + j]) }))));
      }
      return collectBeside(endpoint, serverPid);
    }, synthetic);
    const what = (p.mixed ? 'mixed-size VPC objects (100 to 200k records)' : `VPC objects of ${Number(p.lines).toLocaleString('en-US')} records`) + (synthetic ? ', synthetic S3 server' : '');
    emit({ name: `end to end run-once from S3, ${what}`, records: r.records, seconds: r.seconds, perSecond: r.records / r.seconds, unit: 'records/s', mbPerSecond: r.bytes / 1e6 / r.seconds, extra: { objects: r.objects, coresBusy: r.coresBusy, serverCores: r.serverCores, memoryAtPeakMb: r.memoryAtPeakMb, storeMb: r.storeMb }, peakRssMb: r.peakRssMb });
    break;
  }
  case 'e2e-floor': {
    // the memory floor: `tld run-once`'s process with everything started (collector thread, fetch thread, store
    // thread, DuckDB open, the AWS SDK loaded) and one 20-record object read, so nothing is there for volume
    const r = await withS3Server(async (endpoint, _client, serverPid) => collectBeside(endpoint, serverPid), { objects: 1, lines: 20 });
    emit({ name: 'memory floor: run-once with everything started, one 20-record object', records: r.records, seconds: r.seconds, perSecond: r.records / r.seconds, unit: 'records/s', extra: { memoryAtPeakMb: r.memoryAtPeakMb }, peakRssMb: r.peakRssMb });
    break;
  }
  case 'store-memory': {
    // what the embedded store adds to RSS while ingesting: rows of 1,000-record objects (columns as the
    // collector's thread posts them, no events) through ingestRows, a health row each, a group commit every 50
    // objects, with the product's default <memory_limit_mb>; RSS sampled every 20 ms, DuckDB's own count of
    // its buffer pool after each commit
    const dir = mkdtempSync(join(tmpdir(), 'tld-bench-store-memory-'));
    const limitMb = defaults('store').memoryLimitMb as number;
    const before = process.memoryUsage.rss();
    const store = await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0, memoryLimitMb: limitMb });
    const opened = process.memoryUsage.rss();
    let peak = opened;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    const lines = 1000;
    const objects = Math.ceil(Number(p.records) / lines);
    let poolMb = 0;
    const t = process.hrtime.bigint();
    for (let i = 0; i < objects; i++) {
      const f = flowColumns(lines);
      f.rows = lines;
      for (let r = 0; r < lines; r++) {
        const n = i * lines + r;
        f.idx[r] = r;
        f.start[r] = Date.UTC(2025, 5, 1) + n * 10;
        f.end[r] = f.start[r]! + 60_000;
        f.src4[r] = 0x0a000000 + ((n * 7919) % 512);
        f.dst4[r] = 0x0a000000 + ((n * 104729) % 512);
        f.sport[r] = 1024 + ((n * 31) % 60000);
        f.dport[r] = n % 7 === 0 ? 22 : 443;
        f.proto[r] = 6;
        f.packets[r] = 1 + (n % 50);
        f.bytes[r] = 40 + ((n * 131) % 100000);
        f.action[r] = n % 7 === 0 ? 2 : 1;
        f.logStatus[r] = 1;
        f.place[r] = 0;
      }
      f.places = [{ eni: `eni-${String(i % 16).padStart(17, '0')}`, account: '111111111111', region: 'us-east-1' }];
      const objectKey = key(i);
      const object = { bucket: 'bench', key: objectKey, objectId: createHash('sha1').update(`bench/${objectKey}`).digest('hex').slice(0, 16), bucketType: 'vpcflow' as const, size: 30_000, region: 'us-east-1', accountId: '111111111111' };
      await store.ingestRows({ object, firstIndex: 0, flows: f, findings: [], alerts: [] });
      store.recordObject({ bucket: 'bench', key: objectKey, type: 'vpcflow', status: 'ok', records: lines, bytes: 30_000, processedAt: new Date() });
      if (i % 50 === 49 || i === objects - 1) {
        await store.flush();
        const [m] = await store.query('SELECT sum(memory_usage_bytes)::DOUBLE AS b FROM duckdb_memory()');
        poolMb = Math.max(poolMb, Math.round(Number(m?.b ?? 0) / 2 ** 20));
      }
    }
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    clearInterval(sampler);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    const mb = (b: number) => Math.round(b / 2 ** 20);
    emit({ name: `store memory: 1,000-record objects into the embedded store (<memory_limit_mb> ${limitMb})`, records: objects * lines, seconds, perSecond: (objects * lines) / seconds, unit: 'rows/s', extra: { rssBeforeOpenMb: mb(before), rssOpenedMb: mb(opened), rssPeakMb: mb(peak), addedByIngestMb: mb(peak - opened), bufferPoolAfterCommitsMaxMb: poolMb } });
    break;
  }
  case 'e2e-small': {
    // `server: 'synthetic'` for a million objects (s3rver walks every stored file for each listed page)
    const n = Number(p.objects);
    const synthetic = p.server === 'synthetic' ? { objects: n, lines: 20 } : undefined;
    const r = await withS3Server(async (endpoint, client, serverPid) => {
      const body = vpcObject(20, 'default', 7);
      if (!synthetic) for (let i = 0; i < n; i += 16) await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, j) => client.send(new PutObjectCommand({ Bucket: 'bench', Key: key(i + j), Body: body }))));
      const collected = collectBeside(endpoint, serverPid);
      // the server's own ceiling: GetObjects of the same objects (the first 2,000 at most), four at a time, doing nothing with the bytes
      const keys: string[] = [];
      for await (const o of paginateListObjectsV2({ client }, { Bucket: 'bench', Prefix: 'AWSLogs/' })) {
        for (const c of o.Contents ?? []) if (keys.length < 2000 && c.Key) keys.push(c.Key);
        if (keys.length >= 2000) break;
      }
      const t = process.hrtime.bigint();
      for (let i = 0; i < keys.length; i += 4) {
        await Promise.all(keys.slice(i, i + 4).map(async (Key) => (await client.send(new GetObjectCommand({ Bucket: 'bench', Key }))).Body?.transformToByteArray()));
      }
      return { ...collected, getsPerSecond: keys.length / (Number(process.hrtime.bigint() - t) / 1e9) };
    }, synthetic);
    const name = `end to end run-once from S3, small objects (20 records)${synthetic ? `, ${n.toLocaleString('en-US')} objects, synthetic S3 server` : ''}`;
    emit({ name, records: r.objects, seconds: r.seconds, perSecond: r.objects / r.seconds, unit: 'objects/s', extra: { records: r.records, coresBusy: r.coresBusy, serverCores: r.serverCores, memoryAtPeakMb: r.memoryAtPeakMb, storeMb: r.storeMb, ...(synthetic ? { rssPer30s: r.rssPer30s } : {}), s3ServerGetObjectsPerSecond: Math.round(r.getsPerSecond) }, peakRssMb: r.peakRssMb });
    break;
  }
  case 'get-ceiling': {
    // What GetObject alone costs on this machine, without decoding or storing: the S3 server's CPU per object and
    // the client's, for the collector's own S3 source, for the same through the SDK's GetObjectCommand, and for a
    // bare HTTP client.
    // Their sum bounds the objects per second any collector can fetch here: cores / (server + client CPU per
    // object), the ceiling the end-to-end rows run into with objects of `p.lines` records.
    const lines = Number(p.lines);
    const objects = Number(p.objects);
    const synthetic = p.server === 'synthetic' ? { objects, lines } : undefined;
    const r = await withS3Server(async (endpoint, client, serverPid) => {
      const keys = synthetic ? [] : Array.from({ length: objects }, (_, i) => key(i));
      if (!synthetic) {
        const body = vpcObject(lines, 'default', 3);
        for (let i = 0; i < keys.length; i += 8) await Promise.all(keys.slice(i, i + 8).map((Key) => client.send(new PutObjectCommand({ Bucket: 'bench', Key, Body: body }))));
      } else {
        for await (const o of paginateListObjectsV2({ client }, { Bucket: 'bench', Prefix: 'AWSLogs/' })) for (const c of o.Contents ?? []) if (c.Key) keys.push(c.Key);
      }
      const bucket = { name: 'bench', serviceEndpoint: endpoint, accessKey: 'S3RVER', secretKey: 'S3RVER' } as BucketConfig;
      // the collector's source (direct-get.ts for a successful GET) and the same through the SDK command
      const source = await createS3Source(bucket);
      const commandSource = await createS3Source(bucket, { directGet: false });
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      const phase = async (get: (key: string) => Promise<unknown>) => {
        for (const k of keys.slice(0, 50)) await get(k); // warm: connections, JIT
        const server0 = cpuOfPid(serverPid);
        const cpu0 = process.cpuUsage();
        const t = process.hrtime.bigint();
        let next = 0;
        await Promise.all(Array.from({ length: 8 }, async () => {
          for (let i = next++; i < keys.length; i = next++) await get(keys[i] as string);
        }));
        const seconds = Number(process.hrtime.bigint() - t) / 1e9;
        const c = process.cpuUsage(cpu0);
        const clientMs = (c.user + c.system) / 1e3 / keys.length;
        const serverMs = ((cpuOfPid(serverPid) - server0) * 1e3) / keys.length;
        return { objectsPerSecond: Math.round(keys.length / seconds), clientCpuMsPerObject: +clientMs.toFixed(2), serverCpuMsPerObject: +serverMs.toFixed(2) };
      };
      const raw = await phase((k) => new Promise((resolve, reject) => {
        http.get(`${endpoint}/bench/${k.split('/').map(encodeURIComponent).join('/')}`, { agent }, (res) => {
          res.on('data', () => {});
          res.on('end', resolve);
        }).on('error', reject);
      }));
      const readWith = (src: ObjectSource) => async (k: string) => {
        const o = await src.get(k);
        for await (const _ of o.body);
      };
      const collector = await phase(readWith(source));
      const command = await phase(readWith(commandSource));
      agent.destroy();
      source.close?.();
      commandSource.close?.();
      return { raw, collector, command };
    }, synthetic);
    const cores = cpus().length;
    const ceiling = (x: { clientCpuMsPerObject: number; serverCpuMsPerObject: number }) => Math.round((cores * 1000) / (x.clientCpuMsPerObject + x.serverCpuMsPerObject));
    const sdkCeiling = ceiling(r.collector);
    emit({
      name: `ceiling: GetObject alone, ${synthetic ? 'synthetic S3 server' : 's3rver'}, objects of ${lines.toLocaleString('en-US')} records (all cores)`,
      records: objects,
      seconds: objects / sdkCeiling,
      perSecond: sdkCeiling,
      unit: 'objects/s',
      extra: {
        recordsPerSecond: sdkCeiling * lines,
        collectorSource: r.collector,
        sdkCommand: { ...r.command, ceilingObjectsPerSecond: ceiling(r.command) },
        bareHttp: { ...r.raw, ceilingObjectsPerSecond: ceiling(r.raw) },
      },
    });
    break;
  }
  case 'state': {
    const dir = mkdtempSync(join(tmpdir(), 'tld-bench-state-'));
    const s = openStateStore(dir, { lookbackDays: 1, fsync: false });
    const n = Number(p.objects);
    const t = process.hrtime.bigint();
    const scope = { bucket: 'b', path: '', type: 'vpcflow', account: '111111111111', region: 'us-east-1', flowLogId: 'fl-1' };
    for (let i = 0; i < n; i++) {
      const day = new Date(Date.UTC(2025, 0, 1) + Math.floor(i / 2880) * 86_400_000).toISOString().slice(0, 10);
      s.markProcessed(scope, day, key(i), { status: 'ok' });
    }
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    s.close();
    const size = readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
    const stateRssMb = rssMb();
    // the store's "read before?" check, asked for every object, with the same objects in its health table
    const store = await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0 });
    for (let i = 0; i < n; i++) store.recordObject({ bucket: 'b', key: key(i), type: 'vpcflow', status: 'ok', records: 20, bytes: 1000, processedAt: new Date() });
    await store.flush();
    const checks = 200;
    const tc = process.hrtime.bigint();
    for (let i = 0; i < checks; i++) await store.ingest({ object: { bucket: 'b', key: key(n + i), objectId: `new-${i}`, bucketType: 'vpcflow', size: 1 }, firstIndex: 0, events: [] }, []);
    const checkMs = Number(process.hrtime.bigint() - tc) / 1e6 / checks;
    await store.close();
    emit({ name: 'state store: objects marked (2,880 per day, look-back 1 day)', records: n, seconds, perSecond: n / seconds, unit: 'marks/s', extra: { stateBytesOnDisk: size, storeReadBeforeCheckMs: Number(checkMs.toFixed(2)) }, peakRssMb: stateRssMb });
    break;
  }
  case 'store-ingest': {
    // The store's ingest path alone (rows into the flows table: chunk writer, appender, commits), one thread:
    // objects of 100k flow records (bench/corpus.ts: 512 addresses, 16 ENIs), each taken out of its events
    // untimed (storeRowsOf, 1 MiB decode steps as the pipeline's; their garbage collected), then timed: ingestRows
    // of its batches, its health row and the flush (the group commit, as the pipeline makes one per object of
    // more than 50,000 records). rowsPerCpuSecond counts the CPU time of all the process's threads in the timed
    // parts: on a shared machine it moves less than the wall-clock rate. The store commits by itself every 100k rows within that.
    const dir = mkdtempSync(join(tmpdir(), 'tld-bench-store-'));
    const store = await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0, memoryLimitMb: defaults('store').memoryLimitMb as number });
    const total = Number(p.records);
    let ns = 0n;
    let cpuUs = 0;
    let rows = 0;
    for (let i = 0, done = 0; done < total; i++) {
      const n = Math.min(LINES_PER_OBJECT, total - done);
      const text = Buffer.from(vpcText(n, 'default', i + 1, Math.floor(done / 100)));
      const objectKey = key(i);
      const object = { bucket: 'bench', key: objectKey, objectId: createHash('sha1').update(`bench/${objectKey}`).digest('hex').slice(0, 16), bucketType: 'vpcflow' as const, size: text.length, region: 'us-east-1', accountId: '111111111111' };
      const dec = createObjectDecoder({ bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: objectKey, s3bucket: 'bench' }, accountId: '111111111111' });
      const batches: StoreRows[] = [];
      let first = 0;
      const take = (events: AwsEvent[]) => {
        if (events.length === 0) return;
        batches.push(storeRowsOf({ object, firstIndex: first, events }, []));
        first += events.length;
      };
      for (let at = 0; at < text.length; at += 1 << 20) take(dec.push(text.subarray(at, at + (1 << 20))));
      take(dec.end());
      collectGarbage(); // the decoder's garbage is not the store's: collected before the timed part
      const t = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      for (const b of batches) await store.ingestRows(b);
      store.recordObject({ bucket: 'bench', key: objectKey, type: 'vpcflow', status: 'ok', records: first, bytes: text.length, processedAt: new Date() });
      await store.flush();
      ns += process.hrtime.bigint() - t;
      const used = process.cpuUsage(cpu);
      cpuUs += used.user + used.system;
      rows += first;
      done += n;
    }
    await store.close();
    const dbBytes = readdirSync(join(dir, 'store')).reduce((a, f) => a + statSync(join(dir, 'store', f)).size, 0);
    rmSync(dir, { recursive: true, force: true });
    const seconds = Number(ns) / 1e9;
    emit({ name: 'store ingest: flow rows into the embedded store (chunk writer + appender + commits, 1 thread)', records: rows, seconds, perSecond: rows / seconds, unit: 'rows/s', extra: { rowsPerCpuSecond: Math.round(rows / (cpuUs / 1e6)), storeMb: Math.round(dbBytes / 1e6), bytesPerFlow: +(dbBytes / rows).toFixed(1) } });
    break;
  }
  case 'dashboard': {
    // N flow records over 7 days (5,000 sources, 300 destinations, 1 in 9 rejected). Each panel query runs on
    // 20 ranges (the week, single days, single hours: what a person clicks) after one warm-up; p50 and p95.
    const dir = mkdtempSync(join(tmpdir(), 'tld-bench-dash-'));
    // DuckDB's memory limit as the product sets it by default (<store><memory_limit_mb>)
    const store = await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0, memoryLimitMb: defaults('store').memoryLimitMb as number });
    const n = Number(p.flows);
    const t0 = Date.UTC(2025, 5, 20);
    const WEEK = 7 * 86_400_000;
    const tFill = process.hrtime.bigint();
    await store.query(`INSERT INTO flow_interfaces SELECT i::UINTEGER, 'eni-' || i::VARCHAR, '111111111111', 'us-east-1' FROM range(40) t(i)`);
    for (let done = 0; done < n; done += 10_000_000) {
      const part = Math.min(10_000_000, n - done);
      // store format 2 (src/store/schema.ts): addresses as numbers (10.0.x.y = 167772160 + 256x + y), the 40
      // ENIs of one account and region as interface numbers
      await store.query(`INSERT INTO flows SELECT (i // 100000)::UBIGINT, (i % 100000)::INTEGER,
          make_timestamp(($1::BIGINT + (i * ${WEEK} // $2) + ((i * 7919) % 3600000)) * 1000), NULL, (i % 40)::UINTEGER,
          (167772160 + ((i * 31) % 5000 // 250) * 256 + (i * 31) % 250)::UINTEGER, (167837696 + ((i * 17) % 300 // 250) * 256 + (i * 17) % 250)::UINTEGER, NULL, NULL,
          (1024 + i % 60000)::INTEGER, [443, 80, 22, 3389, 8080, 5432][i % 6 + 1]::INTEGER, 6::SMALLINT, (1 + i % 50)::BIGINT, (64 + (i * 131) % 90000)::BIGINT,
          CASE WHEN i % 9 = 0 THEN 'REJECT' ELSE 'ACCEPT' END::flow_action, 'OK'::flow_log_status FROM range($3::BIGINT, $4::BIGINT) t(i)`, [t0, n, done, done + part]);
    }
    // alerts for the searches and the address page's alerts: one per 50 flows, over the same week and addresses
    // (spread over the week by the alerts' own count: they were once spread by the flows' count, which put all of
    // them in the first 3.4 hours of the first day)
    await store.query(`INSERT INTO alerts SELECT 'a' || i::VARCHAR, make_timestamp(($1::BIGINT + (i * ${WEEK} // ($2::BIGINT // 50))) * 1000), NULL, 3 + i % 10, (80600 + i % 50)::VARCHAR,
        'Rejected flows from 10.0.' || ((i * 31) % 5000 // 250)::VARCHAR || '.' || ((i * 31) % 250)::VARCHAR || ' to port ' || [443, 80, 22, 3389][i % 4 + 1]::VARCHAR, 'vpc', 'vpc', '111111111111', 'us-east-1',
        '10.0.' || ((i * 31) % 5000 // 250)::VARCHAR || '.' || ((i * 31) % 250)::VARCHAR, '10.1.0.' || (i % 250)::VARCHAR, 'bench',
        '{"rule":{"id":"' || (80600 + i % 50)::VARCHAR || '","description":"bench alert"},"data":{"srcaddr":"10.0.' || ((i * 31) % 5000 // 250)::VARCHAR || '.' || ((i * 31) % 250)::VARCHAR || '","dstport":"443","padding":"' || repeat('x', 300) || '"}}'
        FROM range($2::BIGINT // 50) t(i)`, [t0, n]);
    const fillSeconds = Number(process.hrtime.bigint() - tFill) / 1e9;
    // the fill wrote around the store's writer: build the flow rollups as the product does (the refresher
    // recomputes marked hours from flows, src/store/rollups.ts), timed on its own
    const tRollup = process.hrtime.bigint();
    const cpuRollup = process.cpuUsage();
    await store.rebuildRollups();
    const rollupSeconds = Number(process.hrtime.bigint() - tRollup) / 1e9;
    const rollupCpu = process.cpuUsage(cpuRollup);
    const rollupRows = Object.fromEntries(
      await Promise.all(['flow_rollup_time', 'flow_rollup_ports', 'flow_rollup_pairs'].map(async (t) => [t, Number((await store.query(`SELECT count(*) AS n FROM ${t}`))[0]!.n)] as const)),
    );
    const ranges = [
      { from: t0, to: t0 + WEEK },
      ...Array.from({ length: 7 }, (_, d) => ({ from: t0 + d * 86_400_000, to: t0 + (d + 1) * 86_400_000 })),
      ...Array.from({ length: 12 }, (_, h) => ({ from: t0 + 3 * 86_400_000 + h * 7_200_000, to: t0 + 3 * 86_400_000 + h * 7_200_000 + 3_600_000 })),
    ];
    const latencies: Record<string, { p50: number; p95: number }> = {};
    const measure = async (name: string, f: (r: q.Range) => Promise<unknown>) => {
      await f(ranges[0]!);
      const ms: number[] = [];
      for (const r of ranges) {
        const t = process.hrtime.bigint();
        await f(r);
        ms.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      ms.sort((x, y) => x - y);
      latencies[name] = { p50: Math.round(ms[Math.floor(ms.length * 0.5)]!), p95: Math.round(ms[Math.ceil(ms.length * 0.95) - 1]!) };
    };
    await measure('traffic series', (r) => q.vpcSeries(store, r));
    await measure('top talkers', (r) => q.topTalkers(store, r));
    await measure('IP pivot', (r) => q.ipPivot(store, '10.0.3.17', r));
    await measure('whole VPC page', (r) => q.vpc(store, r));
    await measure('overview page', (r) => q.overview(store, r));
    // paged listings (src/dashboard/lists.ts): a page of an address's flows (newest first, by bytes, a later
    // page), its alerts (exact address, text included), and the alert search
    await measure('IP flows page', (r) => list(store, 'ip-flows', r, { ip: '10.0.3.17' }));
    await measure('IP flows by bytes, page 5', (r) => list(store, 'ip-flows', r, { ip: '10.0.3.17', sort: 'bytes', offset: '200' }));
    await measure('IP alerts page', (r) => list(store, 'ip-alerts', r, { ip: '10.0.3.17' }));
    await measure('alert search', (r) => list(store, 'alerts', r, { q: 'level:>=8 AND ip:10.0.0.0/16 NOT rule:80601,80602 "port 22"' }));
    await measure('alert listing sorted by level', (r) => list(store, 'alerts', r, { sort: 'level' }));
    const worst = Math.max(...['traffic series', 'top talkers', 'IP pivot', 'IP flows page', 'IP flows by bytes, page 5', 'IP alerts page', 'alert search', 'alert listing sorted by level'].map((k) => latencies[k]!.p95));
    // the analyst's APIs (issue 15), on alerts, findings and a triage log added after the panels above ran
    const analyst = await measureAnalyst(store, await fillAnalystData(store, dir, t0), measure);
    const analystWorstP95 = Math.max(...analyst.map((k) => latencies[k]!.p95));
    // the same pages as an analyst sees them, in Chromium, for each single day (API, charts and tables drawn)
    const pagesMs = await measurePages(store, ranges.slice(1, 8));
    // replaying an object (or re-reading it after a crash) first deletes its earlier rows: timed with the
    // object's health row (count and time range, as the collector writes it) and without one (a full scan)
    const replay = async (k: number, withHealth: boolean) => {
      const objectId = k.toString(16).padStart(16, '0');
      if (withHealth) await store.query(`INSERT INTO objects SELECT 'bench', 'key-' || printf('%016x', object_id), 'vpcflow', 'ok', NULL, count(*), 0, NULL, now(), count(*), min(ts), max(ts), object_id FROM flows WHERE object_id = ${k} GROUP BY object_id`);
      const t = process.hrtime.bigint();
      await store.ingest({ object: { bucket: 'bench', key: `key-${objectId}`, objectId, bucketType: 'vpcflow', size: 1, replayed: true }, firstIndex: 0, events: [] }, []);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    const objects = Math.floor(n / 100_000);
    const median = (xs: number[]) => Math.round(xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]! * 10) / 10;
    const bounded: number[] = [];
    const scan: number[] = [];
    // 13 different objects spread over the week (a deleted object would make the next delete find nothing)
    const picks = [...new Set(Array.from({ length: 13 }, (_, j) => Math.floor((objects * (j + 0.5)) / 13)))];
    for (const [j, k] of picks.entries()) (j % 4 === 3 ? scan : bounded).push(await replay(k, j % 4 !== 3));
    const replayDeleteMs = { withTimeRange: median(bounded), fullScan: median(scan) };
    await store.close();
    const dbBytes = readdirSync(join(dir, 'store')).reduce((a, f) => a + statSync(join(dir, 'store', f)).size, 0);
    rmSync(dir, { recursive: true, force: true });
    emit({ name: `dashboard API on ${(n / 1e6).toFixed(0)}M stored flows: worst p95 of series / talkers / pivot / listings / search`, records: n, seconds: worst / 1000, perSecond: worst, unit: 'ms p95', extra: { latencyMs: latencies, analystWorstP95, pagesInChromiumMs: pagesMs, replayDeleteMs, fillSeconds: Math.round(fillSeconds), rollupSeconds: Math.round(rollupSeconds), rollupCpuUsPerFlow: +((rollupCpu.user + rollupCpu.system) / n).toFixed(2), rollupRows, storeMb: Math.round(dbBytes / 1e6), bytesPerFlow: +(dbBytes / n).toFixed(1) } });
    break;
  }
  case 'sqs-worker': {
    // `tld start` worker processes on one SQS queue into the indexer double (sqs-worker.ts runs them, each in its
    // own process beside the S3 server's and the double's); clocked from the first message received to the empty queue
    const workers = Number(p.workers);
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./sqs-worker.ts', import.meta.url)), String(p.objects), String(workers), String(p.lines), 'indexer'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`bench/sqs-worker.ts failed: ${r.stderr}`);
    const w = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { objects: number; recordsPerObject: number; seconds: number; startupSeconds: number; objectsPerSecond: number; recordsPerSecond: number; peakRssMb: number; coresBusy: { workers: number; indexerDouble?: number } };
    const recordsTotal = w.objects * w.recordsPerObject;
    emit({ name: `SQS queue workers into the indexer double, ${workers} worker process${workers > 1 ? 'es' : ''}`, records: recordsTotal, seconds: w.seconds, perSecond: recordsTotal / w.seconds, unit: 'records/s', extra: { objects: w.objects, objectsPerSecond: Math.round((w.objects / w.seconds) * 10) / 10, recordsPerObject: w.recordsPerObject, startupSeconds: w.startupSeconds, workerPeakRssMb: w.peakRssMb, coresBusy: w.coresBusy.workers, indexerDoubleCoresBusy: w.coresBusy.indexerDouble }, peakRssMb: w.peakRssMb });
    break;
  }
  default:
    throw new Error(`unknown task ${task}`);
}
