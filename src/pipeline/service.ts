/**
 * The long-running service (`tld start`): collection cycles on the configured schedule (never overlapping), a
 * worker per `<subscriber>` queue (workers.ts),
 * store retention at start and then daily, SIGHUP reloads configuration and rules (a bad new configuration is
 * refused and the old one keeps running; options that only a restart takes up are named, never claimed as
 * reloaded), SIGTERM/SIGINT stop after the object being read. The dashboard, when this build has one, runs
 * alongside.
 */
import type { Logger } from 'pino';
import { ConfigError, formatIssue } from '../config/errors.js';
import { section } from '../config/schema.js';
import type { TldConfig } from '../config/types.js';
import { openRuntime, runCycle, type Runtime } from './runtime.js';
import { firstRun, nextRun, type ScheduleSpec } from './schedule.js';
import { applyRetention, RetentionSchedule } from './retention.js';
import { runWorkers } from './workers.js';

/** What a reload did to a part of the service; entries name the options (`<dashboard> token`). */
export interface ReloadReport {
  /** in force from now on */
  applied: string[];
  /** changed in the file, taken up only by a restart: the running values stay */
  restartNeeded: string[];
  /** could not be applied, with the reason: the running values stay */
  failed: string[];
}

/** Something running beside the collector (the dashboard). */
export interface ServiceAddOn {
  close(): Promise<void>;
  /** takes a reloaded configuration (SIGHUP) */
  reconfigure?(config: TldConfig): Promise<ReloadReport>;
}

export interface ServiceOptions {
  configFiles: string[];
  dataDir: string;
  logger: Logger;
  /** called once the runtime is open (the CLI starts the dashboard here) */
  onReady?: (rt: Runtime) => Promise<ServiceAddOn | void>;
  /** signals the service listens to (default: the process) */
  signals?: NodeJS.EventEmitter;
  /** time between retention runs after the one at start (default a day) */
  retentionEveryMs?: number;
}

/** Options the running service took at start and keeps until a restart, changed in `next`. */
function restartOnlyChanges(openedWith: Pick<TldConfig, 'store' | 'global' | 'indexer'> & { subscribers: unknown[] }, next: TldConfig): string[] {
  const out: string[] = [];
  for (const o of section('store').options) {
    const key = o.key as keyof TldConfig['store'];
    if (next.store[key] !== openedWith.store[key]) out.push(`<store> ${o.tag}`);
  }
  // the archives file is opened (or not) with the runtime
  if (next.global.logallJson !== openedWith.global.logallJson) out.push('<global> logall_json');
  // the indexer's client is opened with the runtime (hosts, TLS, credentials file)
  if (JSON.stringify({ ...next.indexer, origin: undefined }) !== JSON.stringify({ ...openedWith.indexer, origin: undefined })) out.push('<indexer>');
  // queue workers take their <subscriber> when they start
  if (JSON.stringify(next.awsS3?.subscribers ?? []) !== JSON.stringify(openedWith.subscribers)) out.push('<subscriber>');
  return out;
}

/** What the runtime fixed when it started (fetch threads, the state's exact days), changed in `next`. */
function restartOnlyRuntime(fixed: Runtime['fixed'], next: TldConfig): string[] {
  const out: string[] = [];
  // the fetch threads are started once, by the first cycle or worker
  if (fixed.workers !== undefined && next.awsS3 && next.awsS3.workers !== fixed.workers) out.push('<wodle name="aws-s3"> workers');
  // the state keeps exact only the days it was opened with: older day folders count as read, so a longer
  // lookback would list them and read nothing there (a shorter one applies: fewer days are listed)
  if (Math.max(0, ...(next.awsS3?.buckets.map((b) => b.lookbackDays) ?? [])) > fixed.lookbackDays) out.push('<bucket> lookback_days');
  return out;
}

function specOf(rt: Runtime): ScheduleSpec | undefined {
  const aws = rt.config.awsS3;
  if (!aws || aws.disabled) return undefined;
  return { intervalSeconds: aws.intervalSeconds, runOnStart: aws.runOnStart, schedule: aws.schedule };
}

/**
 * A correlator pass every `<correlation_interval_seconds>` until `signal` aborts (the pass in progress ends
 * first). A failed pass is logged; the next one looks at everything the failed one would have (its watermark
 * did not move).
 */
async function runCorrelator(rt: Runtime, logger: Logger, signal: AbortSignal): Promise<void> {
  const correlator = rt.correlator;
  if (!correlator) return;
  while (!signal.aborted) {
    const ms = (rt.config.indexer?.correlationIntervalSeconds ?? 60) * 1000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
    if (signal.aborted) return;
    try {
      await correlator.pass();
    } catch (e) {
      logger.error({ code: (e as { code?: string }).code }, `The frequency-window correlator failed: ${(e as Error).message}; trying again in ${ms / 1000} s`);
    }
  }
}

/** Runs until SIGTERM/SIGINT; resolves after everything is closed. */
export async function runService(opts: ServiceOptions): Promise<void> {
  const { logger } = opts;
  const signals = opts.signals ?? process;
  const rt = await openRuntime({ configFiles: opts.configFiles, dataDir: opts.dataDir, logger, startFetchThreads: true });
  // the store prunes by the configuration it was opened with; a reloaded <store> needs a restart
  const openedWith = { store: rt.config.store, global: rt.config.global, indexer: rt.config.indexer, subscribers: rt.config.awsS3?.subscribers ?? [] };
  const retention = new RetentionSchedule(async () => {
    if (rt.store) await applyRetention(rt.store, openedWith.store, new Date(), logger, rt.metrics);
  }, opts.retentionEveryMs);
  let addOn: ServiceAddOn | void;
  try {
    addOn = await opts.onReady?.(rt);
  } catch (e) {
    await rt.close();
    throw e;
  }
  const controller = new AbortController();
  let wake: (() => void) | undefined;
  let reloadWanted = false;
  let cycleRunning = false;

  const reload = async () => {
    reloadWanted = false;
    try {
      const warnings = await rt.reload();
      for (const w of warnings) logger.warn(w);
    } catch (e) {
      const details = e instanceof ConfigError ? e.issues.filter((i) => i.severity === 'error').map(formatIssue) : [(e as Error).message];
      logger.error({ errors: details }, 'The new configuration was refused; the previous one keeps running.');
      wake?.();
      return;
    }
    const report: ReloadReport = { applied: [], restartNeeded: [...restartOnlyChanges(openedWith, rt.config), ...restartOnlyRuntime(rt.fixed, rt.config)], failed: [] };
    if (addOn && addOn.reconfigure) {
      try {
        const r = await addOn.reconfigure(rt.config);
        report.applied.push(...r.applied);
        report.restartNeeded.push(...r.restartNeeded);
        report.failed.push(...r.failed);
      } catch (e) {
        report.failed.push((e as Error).message);
      }
    }
    const fields = { files: opts.configFiles, ...(report.applied.length ? { applied: report.applied } : {}) };
    if (report.restartNeeded.length || report.failed.length) logger.info(fields, 'Configuration and rules reloaded, except the options named next.');
    else logger.info(fields, 'Configuration and rules reloaded.');
    if (report.restartNeeded.length) logger.warn({ options: report.restartNeeded }, `Not reloaded, a restart is needed for: ${report.restartNeeded.join(', ')}. The running values stay until then.`);
    if (report.failed.length) logger.error({ errors: report.failed }, 'Not reloaded: the running values stay.');
    wake?.();
  };
  const onHup = () => {
    logger.info('SIGHUP received: reloading configuration and rules.');
    if (cycleRunning) reloadWanted = true;
    else void reload();
  };
  const onStop = (sig: string) => {
    logger.info({ signal: sig }, 'Stopping after the object being read.');
    controller.abort();
    wake?.();
  };
  const onTerm = () => onStop('SIGTERM');
  const onInt = () => onStop('SIGINT');
  signals.on('SIGHUP', onHup);
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);

  const sleepUntil = (at: Date) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, at.getTime() - Date.now()));
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  // queue workers (<subscriber>) run beside the bucket cycles until the stop signal
  const workers = runWorkers(rt, logger, controller.signal).catch((e: unknown) => logger.error({ code: (e as { code?: string }).code }, `The queue workers stopped: ${(e as Error).message}`));
  // with the indexer as the store: the frequency windows of the whole fleet, fired from their partials
  const correlating = runCorrelator(rt, logger, controller.signal);
  try {
    // at start, before the first cycle reads anything (what it adds is never pruned in the same breath), then daily
    await retention.runNow();
    logger.info('Module AWS started.');
    let spec = specOf(rt);
    let scheduled = spec ? firstRun(spec, new Date()) : undefined;
    while (!controller.signal.aborted) {
      if (!spec || !scheduled) {
        logger.warn('The aws-s3 module is disabled or absent; waiting for a reload (SIGHUP) or a stop.');
        await sleepUntil(new Date(Date.now() + 3_600_000));
        spec = specOf(rt);
        scheduled = spec ? firstRun(spec, new Date()) : undefined;
        continue;
      }
      if (scheduled.getTime() > Date.now()) {
        await sleepUntil(scheduled);
        if (controller.signal.aborted) break;
        const respec = specOf(rt);
        if (JSON.stringify(respec) !== JSON.stringify(spec)) {
          // reloaded while waiting: the new schedule applies from now
          spec = respec;
          scheduled = spec ? firstRun({ ...spec, runOnStart: false }, new Date()) : undefined;
          continue;
        }
        if (scheduled.getTime() > Date.now()) continue; // woken early
      }
      const start = scheduled;
      logger.info('Starting fetching of logs.');
      cycleRunning = true;
      const summaries = await runCycle(rt, logger, { signal: controller.signal });
      cycleRunning = false;
      for (const s of summaries) {
        const line = { bucket: s.bucket, type: s.type, path: s.path, objects: s.objects, records: s.records, errors: s.errors.length, skipped: s.skipped };
        if (s.failed) logger.error({ ...line, failure: s.failure }, 'Bucket failed.');
        else logger.info(line, 'Bucket read.');
      }
      logger.info('Fetching logs finished.');
      if (reloadWanted) await reload();
      spec = specOf(rt);
      if (!spec) continue;
      const next = nextRun(spec, start, new Date());
      if (next.overtaken) logger.warn('Interval overtaken: the cycle took longer than the interval; starting the next one now.');
      scheduled = next.at;
    }
  } finally {
    signals.off('SIGHUP', onHup);
    signals.off('SIGTERM', onTerm);
    signals.off('SIGINT', onInt);
    controller.abort();
    await workers;
    await correlating;
    await retention.stop();
    if (addOn) await addOn.close();
    await rt.close();
    logger.info('Stopped.');
  }
}
