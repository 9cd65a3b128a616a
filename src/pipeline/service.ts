/**
 * The long-running service (`tld start`): collection cycles on the configured schedule (never overlapping),
 * SIGHUP reloads configuration and rules (a bad new configuration is refused and the old one keeps running),
 * SIGTERM/SIGINT stop after the object being read. The dashboard, when this build has one, runs alongside.
 */
import type { Logger } from 'pino';
import { ConfigError, formatIssue } from '../config/errors.js';
import { openRuntime, runCycle, type Runtime } from './runtime.js';
import { firstRun, nextRun, type ScheduleSpec } from './schedule.js';

export interface ServiceOptions {
  configFiles: string[];
  dataDir: string;
  logger: Logger;
  /** called once the runtime is open (the CLI starts the dashboard here) */
  onReady?: (rt: Runtime) => Promise<(() => Promise<void>) | void>;
  /** signals the service listens to (default: the process) */
  signals?: NodeJS.EventEmitter;
}

function specOf(rt: Runtime): ScheduleSpec | undefined {
  const aws = rt.config.awsS3;
  if (!aws || aws.disabled) return undefined;
  return { intervalSeconds: aws.intervalSeconds, runOnStart: aws.runOnStart, schedule: aws.schedule };
}

/** Runs until SIGTERM/SIGINT; resolves after everything is closed. */
export async function runService(opts: ServiceOptions): Promise<void> {
  const { logger } = opts;
  const signals = opts.signals ?? process;
  const rt = await openRuntime({ configFiles: opts.configFiles, dataDir: opts.dataDir, logger });
  const stopExtra = await opts.onReady?.(rt);
  const controller = new AbortController();
  let wake: (() => void) | undefined;
  let reloadWanted = false;
  let cycleRunning = false;

  const reload = async () => {
    reloadWanted = false;
    try {
      const warnings = await rt.reload();
      for (const w of warnings) logger.warn(w);
      logger.info({ files: opts.configFiles }, 'Configuration and rules reloaded.');
    } catch (e) {
      const details = e instanceof ConfigError ? e.issues.filter((i) => i.severity === 'error').map(formatIssue) : [(e as Error).message];
      logger.error({ errors: details }, 'The new configuration was refused; the previous one keeps running.');
    }
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

  try {
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
    if (stopExtra) await stopExtra();
    await rt.close();
    logger.info('Stopped.');
  }
}
