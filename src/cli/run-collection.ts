/** Shared by `tld run-once` and `tld replay`: open the runtime, run one cycle with a progress bar, print the summary. */
import cliProgress from 'cli-progress';
import { ConfigError, formatIssue } from '../config/errors.js';
import { openRuntime, runCycle } from '../pipeline/runtime.js';
import { applyRetention, type RetentionOutcome } from '../pipeline/retention.js';
import type { BucketSummary } from '../sources/s3/collect-bucket.js';
import { CliError } from './errors.js';
import { createLogger } from './logger.js';

export interface RunCollectionOptions {
  configFiles: string[];
  dataDir: string;
  buckets: string[];
  progress: boolean;
  window?: { from: string; to: string };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Prints one line per bucket; returns how many failed. */
export function printSummary(summaries: BucketSummary[], out: NodeJS.WritableStream = process.stdout): number {
  out.write('\nBucket                                   Type        Objects   Records   Read       Errors  Status\n');
  let failed = 0;
  for (const s of summaries) {
    const name = `s3://${s.bucket}/${s.path}`;
    const status = s.failed ? 'FAILED' : s.errors.length ? 'ok (with bad objects)' : 'ok';
    out.write(`${name.padEnd(40)} ${s.type.padEnd(10)} ${String(s.objects).padStart(8)} ${String(s.records).padStart(9)}   ${mb(s.bytes).padEnd(9)} ${String(s.errors.length).padStart(6)}  ${status}\n`);
    for (const e of s.errors) out.write(`    error: ${e}\n`);
    if (s.failed) {
      out.write(`    failed: ${s.failure ?? 'unknown error'}\n`);
      failed++;
    }
  }
  return failed;
}

export async function runCollection(opts: RunCollectionOptions): Promise<number> {
  const logger = createLogger(process.env.TLD_LOG_LEVEL ?? 'warn');
  let rt;
  try {
    rt = await openRuntime({ configFiles: opts.configFiles, dataDir: opts.dataDir, logger, startFetchThreads: true, ...(opts.window ? { replay: true } : {}) });
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError('the configuration has errors; nothing was read.', { exitCode: 2, details: e.issues.map(formatIssue) });
    throw e;
  }
  if (!rt.config.awsS3) {
    await rt.close();
    throw new CliError('no <wodle name="aws-s3"> block in the configuration: there is nothing to collect.', { exitCode: 2 });
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const bar = opts.progress && process.stderr.isTTY ? new cliProgress.SingleBar({ format: '{bucket} | {objects} objects | {records} records | {mb} | {key}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(1, 0, { bucket: '', objects: 0, records: 0, mb: '0 MB', key: '' });
  try {
    // run-once prunes the store as `tld start` does at its start, before collecting; a replay (backfill) never does
    let retention: RetentionOutcome | undefined;
    if (!opts.window && rt.store) retention = await applyRetention(rt.store, rt.config.store, new Date(), logger, rt.metrics).catch((e: Error) => void process.stderr.write(`Retention failed: ${e.message} (old rows stay until the next run)\n`));
    const summaries = await runCycle(rt, logger, {
      signal: controller.signal,
      ...(opts.buckets.length ? { bucketNames: opts.buckets } : {}),
      ...(opts.window ? { window: opts.window } : {}),
      onProgress: (p) => bar?.update(0, { bucket: p.bucket, objects: p.objects, records: p.records, mb: mb(p.bytes), key: p.key.slice(-60) }),
    });
    bar?.stop();
    let failed = printSummary(summaries);
    process.stdout.write(`\nAlerts written: ${rt.sink.counters.alerts}  (${opts.dataDir}/logs/alerts/alerts.json)\n`);
    // with the indexer as the store, frequency windows are fired from every worker's partials, once everything is in
    if (rt.correlator) {
      try {
        const pass = await rt.correlator.pass();
        process.stdout.write(`Frequency windows fired into the indexer: ${pass.alerts} (${pass.written} new)${pass.unsettled ? `; ${pass.unsettled} rule keys wait for newer records (<correlation_grace_seconds>)` : ''}\n`);
      } catch (e) {
        process.stderr.write(`The frequency-window correlator failed: ${(e as Error).message}. The partials are kept in the indexer; the next run or a running worker fires them.\n`);
        failed++;
      }
    }
    const r = retention?.removed;
    if (r && r.flows + r.alerts + r.objects + r.findings > 0) process.stdout.write(`Retention removed ${r.flows} flows, ${r.alerts} alerts, ${r.findings} GuardDuty findings and ${r.objects} object health rows past <store> flow_retention_days/alert_retention_days.\n`);
    if (controller.signal.aborted) process.stdout.write('Stopped early by a signal; everything read so far is committed.\n');
    return failed;
  } finally {
    bar?.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await rt.close();
  }
}
