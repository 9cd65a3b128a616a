// One end-to-end collection (run.ts → worker.ts → here) on the compiled code in dist/, as `tld` runs it, so
// the peak RSS it reports is the shipped collector's, without the TypeScript loader the other tasks use.
// Usage: node bench/collect.mjs ENDPOINT   (prints one JSON line)
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openRuntime, runCycle } from '../dist/pipeline/runtime.js';

const endpoint = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'tld-bench-'));
const conf = join(dir, 'ossec.conf');
// TLD_BENCH_WORKERS: the wodle's <workers> (fetch threads; default one per core)
const workers = process.env.TLD_BENCH_WORKERS ? `<workers>${Number(process.env.TLD_BENCH_WORKERS)}</workers>` : '';
writeFileSync(conf, `<ossec_config><wodle name="aws-s3">${workers}<bucket type="vpcflow"><name>bench</name><service_endpoint>${endpoint}</service_endpoint><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key><only_logs_after>2025-JUN-01</only_logs_after></bucket></wodle></ossec_config>`);
const logger = pino({ level: 'error' });
// as `tld run-once` opens it: the fetch threads start while the store opens
const rt = await openRuntime({ configFiles: [conf], dataDir: join(dir, 'data'), logger, startFetchThreads: true });
// where the memory is when RSS peaks: V8's heap (live objects and garbage not yet collected) or native (DuckDB, buffers)
// and the highest RSS of each 30 seconds, to show whether it stays flat over a long run
let peak = { rss: 0 };
const rssPer30s = [0];
const started = Date.now();
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > peak.rss) peak = m;
  const w = Math.floor((Date.now() - started) / 30_000);
  while (rssPer30s.length <= w) rssPer30s.push(0);
  rssPer30s[w] = Math.max(rssPer30s[w], Math.round(m.rss / 2 ** 20));
}, 100);
const t = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const [s] = await runCycle(rt, logger, { signal: new AbortController().signal });
const seconds = Number(process.hrtime.bigint() - t) / 1e9;
// CPU time of the whole process (every thread) over wall time: how many cores the collection kept busy
const cpu = process.cpuUsage(cpu0);
const coresBusy = Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) / 100;
clearInterval(sampler);
await rt.close();
const storeDir = join(dir, 'data', 'store');
const storeMb = Math.round(readdirSync(storeDir).reduce((a, f) => a + statSync(join(storeDir, f)).size, 0) / 1e6);
rmSync(dir, { recursive: true, force: true });
if (s?.failed || s?.errors.length) {
  // a benchmark of a run that stopped early would report figures of a partial corpus
  process.stderr.write(`the collection failed: ${s.failure ?? s.errors.slice(0, 3).join('; ')}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ seconds, coresBusy, records: s?.records ?? 0, objects: s?.objects ?? 0, bytes: s?.bytes ?? 0, storeMb, rssPer30s, memoryAtPeakMb: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / 2 ** 20)])), peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
