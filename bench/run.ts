/**
 * `npm run bench`: throughput and memory of ThreatLockDown's hot path and end-to-end collection, side by
 * side with the machine's ceiling (zlib inflate + line split). Prints a table; `--json FILE` writes the
 * figures with the core count and versions. Sizes: `--records N` (default 2,000,000), `--small N` small
 * objects (default 2,000), `--state N` listed objects for the state-store size (default 1,000,000), `--flows N` flow records in
 * the store the dashboard queries run on (default 10,000,000), then `--big-flows N` (default 100,000,000;
 * 0 skips it: it needs ~2 GB of disk and a few minutes to fill). `--scale-records N` and `--scale-objects N`
 * (default 0: skipped) add end-to-end runs over a synthetic S3 server (synthetic-s3.ts) at sizes s3rver cannot
 * hold or list: 100,000,000 records take ~10 minutes, 1,000,000 small objects about an hour. `--worker-objects N`
 * (default 200, of ~2,000 records) are announced on an SQS queue for the queue-worker rows (one and two processes).
 * Each measurement runs in a child process so its peak RSS is its own. The end-to-end collections run with
 * Node's defaults, as `tld run-once` does from a shell; `TLD_BENCH_UNIT_FLAGS=1` runs them with the systemd
 * unit's memory settings instead (V8 heap cap, two malloc arenas). `--repeat N` (default 3): the per-core and
 * end-to-end rows run N times and report the median run (one run varies by ±10% on a shared machine).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`Usage: npm run bench -- [options]
Measures the hot path, end-to-end collection, the state store, the store and the dashboard; prints a table.
  --json FILE            write the figures (with core count, CPU and Node version) to FILE
  --records N            records of the per-core and end-to-end rows (default 2,000,000)
  --small N              20-record objects from s3rver (default 2,000; ten times as many from the synthetic server)
  --state N              objects marked in the state-store row (default 1,000,000)
  --flows N              flows in the store the dashboard rows query (default 10,000,000)
  --big-flows N          then again at N flows (default 100,000,000; 0 skips it; ~2 GB of disk)
  --scale-records N      an end-to-end run of N records from the synthetic S3 server (default 0: skipped)
  --scale-objects N      an end-to-end run of N small objects from the synthetic S3 server (default 0: skipped)
  --worker-objects N     objects announced on SQS for the queue-worker rows (default 200)
  --repeat N             runs of each per-core and end-to-end row; the median is reported (default 3)
TLD_BENCH_UNIT_FLAGS=1 runs the collections with the systemd unit's memory settings; TLD_BENCH_PROFILE_DIR=DIR
writes their CPU profiles; TLD_BENCH_WORKERS=N sets their <workers>.
`);
  process.exit(0);
}
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const records = opt('records', 2_000_000);
const small = opt('small', 2000);
const stateObjects = opt('state', 1_000_000);
const flows = opt('flows', 10_000_000);
const bigFlows = opt('big-flows', 100_000_000);
const scaleRecords = opt('scale-records', 0);
const scaleObjects = opt('scale-objects', 0);
const workerObjects = opt('worker-objects', 200);
const repeat = Math.max(1, opt('repeat', 3));
const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));

interface Result {
  name: string;
  records?: number;
  seconds: number;
  perSecond: number;
  unit: string;
  mbPerSecond?: number;
  peakRssMb: number;
  extra?: Record<string, unknown>;
}

function run(task: string, params: Record<string, unknown>): Result {
  const r = spawnSync(process.execPath, ['--import', 'tsx', worker, task, JSON.stringify(params)], { encoding: 'utf8', env: { ...process.env, TLD_LOG_LEVEL: 'error', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bench task ${task} failed: ${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(last) as Result;
}

const tasks: [string, Record<string, unknown>][] = [
  ['ceiling', { records }],
  ['parse-rules', { records, format: 'default' }],
  ['parse-rules', { records, format: 'custom' }],
  ['parse-rules', { records, format: 'default', events: 1 }],
  ['guardduty', { records: Math.max(20_000, Math.floor(records / 50)) }],
  ['cloudtrail', { records: Math.max(20_000, Math.floor(records / 50)) }],
  ['get-ceiling', { objects: 500, lines: 1000 }],
  ['get-ceiling', { objects: 2000, lines: 20, server: 'synthetic' }],
  ['e2e-large', { records }],
  // the largest deliveries the memory target names: objects of a million records, streamed (never whole in memory)
  ['e2e-sized', { records, lines: 1_000_000 }],
  ['e2e-sized', { records: Math.min(records, 1_000_000), lines: 1000 }],
  ['e2e-sized', { records: Math.min(records, 1_000_000), lines: 1000, server: 'synthetic' }],
  ['e2e-sized', { records: Math.min(records, 2_000_000), mixed: 1 }],
  ['e2e-small', { objects: small }],
  ['e2e-small', { objects: small * 10, server: 'synthetic' }],
  ['state', { objects: stateObjects }],
  ['store-ingest', { records }],
  // what memory the process cannot go below, and what the embedded store adds while ingesting (README: "Memory")
  ['e2e-floor', {}],
  ['store-memory', { records: Math.min(records, 1_000_000) }],
  ['dashboard', { flows }],
  // queue workers (issue 13): one and two `tld start` processes on one SQS queue, into the indexer double
  ['sqs-worker', { objects: workerObjects, workers: 1, lines: 2000 }],
  ['sqs-worker', { objects: workerObjects, workers: 2, lines: 2000 }],
  ...(bigFlows > 0 ? ([['dashboard', { flows: bigFlows }]] as [string, Record<string, unknown>][]) : []),
  ...(scaleRecords > 0 ? ([['e2e-large', { records: scaleRecords, server: 'synthetic' }]] as [string, Record<string, unknown>][]) : []),
  ...(scaleObjects > 0 ? ([['e2e-small', { objects: scaleObjects, server: 'synthetic' }]] as [string, Record<string, unknown>][]) : []),
];
// the end-to-end runs use the compiled collector (dist/), as `tld` does: build it from the current sources
const build = spawnSync('npm', ['run', 'build'], { encoding: 'utf8' });
if (build.status !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
/**
 * A row measured `repeat` times when one run varies by ±10% on a shared machine (the per-core rows and the
 * end-to-end collections, not the long scale runs): the run with the median throughput is reported, with every
 * run's throughput beside it and the highest peak RSS of all of them.
 */
function measured(task: string, params: Record<string, unknown>): Result {
  const scaleRun = params.server === 'synthetic' && ((task === 'e2e-large' && params.records === scaleRecords) || (task === 'e2e-small' && params.objects === scaleObjects));
  const repeated = (task === 'parse-rules' || task.startsWith('e2e-')) && !scaleRun ? repeat : 1;
  const runs = Array.from({ length: repeated }, () => run(task, params));
  if (runs.length === 1) return runs[0] as Result;
  const median = [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)] as Result;
  return { ...median, peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)), extra: { ...median.extra, runs: runs.map((r) => Math.round(r.perSecond)) } };
}

const results: Result[] = [];
for (const [task, params] of tasks) {
  process.stderr.write(`running ${task} ${JSON.stringify(params)}…\n`);
  results.push(measured(task, params));
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
// the figures of the previous full run (docs/bench.json, the README's table) beside the new ones
const previousFile = fileURLToPath(new URL('../docs/bench.json', import.meta.url));
const previous = new Map<string, Result>(existsSync(previousFile) ? (JSON.parse(readFileSync(previousFile, 'utf8')) as { results: Result[] }).results.map((r) => [r.name, r]) : []);
console.log('\n| Measurement | Amount | Time (s) | Throughput | Before | MB/s | Cores busy | Peak RSS (MB) |\n|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const before = previous.get(r.name);
  // the collector's cores, and the S3 server's beside them (end-to-end rows: the two share the machine)
  const { coresBusy, serverCores } = (r.extra ?? {}) as { coresBusy?: number; serverCores?: number };
  const cores = coresBusy === undefined ? '—' : `${coresBusy}${serverCores !== undefined ? ` (+${serverCores} S3 server)` : ''}`;
  console.log(`| ${r.name} | ${r.records !== undefined ? fmt(r.records) : '—'} | ${r.seconds.toFixed(2)} | ${fmt(r.perSecond)} ${r.unit} | ${before ? `${fmt(before.perSecond)} ${before.unit}` : '—'} | ${r.mbPerSecond !== undefined ? r.mbPerSecond.toFixed(1) : '—'} | ${cores} | ${fmt(r.peakRssMb)} |`);
}
for (const r of results) if (r.extra) console.log(`- ${r.name}: ${JSON.stringify(r.extra)}`);
console.log(`\n${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.`);
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, results }, null, 2));
  console.log(`Figures written to ${jsonOut}.`);
}
