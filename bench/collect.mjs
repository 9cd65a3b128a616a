// One end-to-end collection (run.ts → worker.ts → here) on the compiled code in dist/, as `tld` runs it, so
// the peak RSS it reports is the shipped collector's, without the TypeScript loader the other tasks use.
// As `tld run-once`, the collection runs on the collector thread with its bounded heap (TLD_HEAP_MB, see
// src/cli/collector-thread.ts); this main thread only samples the process's memory.
// Usage: node bench/collect.mjs ENDPOINT   (prints one JSON line)
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { collectorThreadLimits } from '../dist/cli/collector-thread.js';

const mb = (bytes) => Math.round(bytes / 2 ** 20);

/** The collection itself: on the collector thread, or on this thread with TLD_HEAP_MB=0. */
async function collect(endpoint) {
  // loaded here, as `tld` loads them on the collector thread only
  const { pino } = await import('pino');
  const { openRuntime, runCycle } = await import('../dist/pipeline/runtime.js');
  const dir = mkdtempSync(join(tmpdir(), 'tld-bench-'));
  const conf = join(dir, 'ossec.conf');
  // TLD_BENCH_WORKERS: the wodle's <workers> (fetch threads; default one per core)
  const workers = process.env.TLD_BENCH_WORKERS ? `<workers>${Number(process.env.TLD_BENCH_WORKERS)}</workers>` : '';
  writeFileSync(conf, `<ossec_config><wodle name="aws-s3">${workers}<bucket type="vpcflow"><name>bench</name><service_endpoint>${endpoint}</service_endpoint><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key><only_logs_after>2025-JUN-01</only_logs_after></bucket></wodle></ossec_config>`);
  const logger = pino({ level: 'error' });
  // as `tld run-once` opens it: the fetch threads start while the store opens
  const rt = await openRuntime({ configFiles: [conf], dataDir: join(dir, 'data'), logger, startFetchThreads: true });
  // the collector thread's V8 heap at its largest (what it holds, garbage included)
  let heapMb = 0;
  const heapSampler = setInterval(() => (heapMb = Math.max(heapMb, mb(getHeapStatistics().total_physical_size))), 100);
  const t = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const [s] = await runCycle(rt, logger, { signal: new AbortController().signal });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  // CPU time of the whole process (every thread) over wall time: how many cores the collection kept busy
  const cpu = process.cpuUsage(cpu0);
  const coresBusy = Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) / 100;
  clearInterval(heapSampler);
  await rt.close();
  const storeDir = join(dir, 'data', 'store');
  const storeMb = Math.round(readdirSync(storeDir).reduce((a, f) => a + statSync(join(storeDir, f)).size, 0) / 1e6);
  rmSync(dir, { recursive: true, force: true });
  if (s?.failed || s?.errors.length) {
    // a benchmark of a run that stopped early would report figures of a partial corpus
    return { error: `the collection failed: ${s.failure ?? s.errors.slice(0, 3).join('; ')}` };
  }
  return { seconds, coresBusy, records: s?.records ?? 0, objects: s?.objects ?? 0, bytes: s?.bytes ?? 0, storeMb, collectorHeapMb: heapMb };
}

if (!isMainThread) {
  parentPort.postMessage(await collect(workerData.endpoint));
} else {
  const endpoint = process.argv[2];
  // the process's RSS at its peak, and the highest RSS of each 30 seconds, to show whether it stays flat over a long run
  let peakRss = 0;
  // at the peak, how much of the RSS is mapped files (the node and DuckDB binaries' code) and how much allocated memory
  let atPeak = {};
  const rssParts = () => {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { allocated: Math.round(kb('RssAnon') / 1024), files: Math.round(kb('RssFile') / 1024) };
  };
  const rssPer30s = [0];
  const started = Date.now();
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peakRss && process.platform === 'linux') atPeak = rssParts();
    peakRss = Math.max(peakRss, rss);
    const w = Math.floor((Date.now() - started) / 30_000);
    while (rssPer30s.length <= w) rssPer30s.push(0);
    rssPer30s[w] = Math.max(rssPer30s[w], mb(rss));
  }, 100);
  const limits = collectorThreadLimits();
  const r = limits
    ? await new Promise((resolve, reject) => {
        const thread = new Worker(new URL(import.meta.url), { workerData: { endpoint }, resourceLimits: limits });
        thread.once('message', resolve);
        thread.once('error', reject);
      })
    : await collect(endpoint);
  clearInterval(sampler);
  if (r.error) {
    process.stderr.write(`${r.error}\n`);
    process.exit(1);
  }
  const { collectorHeapMb, ...figures } = r;
  process.stdout.write(`${JSON.stringify({ ...figures, rssPer30s, memoryAtPeakMb: { rss: mb(peakRss), ...atPeak, collectorHeap: collectorHeapMb }, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}
