/**
 * The commands that collect (`run-once`, `start`, `demo`, `replay`, `backfill`) run on a thread of their own whose
 * V8 heap is bounded (`resourceLimits`), not on the process's main thread.
 *
 * Why: with Node's defaults on a machine with a lot of memory, V8 lets the main thread's heap grow to four times
 * what is live before a full collection, and its young generation to 3 × 16 MB: the collector's thread held
 * 80–160 MB of heap, of which 20–60 MB live. The main thread's limits can only be set by flags on the `node`
 * command line (`NODE_OPTIONS`), which a user running `tld run-once` from a shell does not pass; a worker's are
 * set here. A bounded old generation also makes V8 grow it by less (~1.4× what is live at 512 MB).
 *
 * The main thread then only waits: it hands the command line over, passes on the signals (SIGINT, SIGTERM,
 * SIGHUP: a thread receives none of its own; one the command does not listen for ends the process as it would
 * have), and exits with the thread's exit code once its output is written out. The thread's stdout and stderr
 * arrive through the main thread's; whether they are terminals is passed along, so progress bars still show.
 *
 * `TLD_HEAP_MB` sets the thread's old-generation limit (default 512; 0 runs the command on the main thread,
 * as before). A command that needs more heap than that stops with an error naming the variable.
 */
import { isMainThread, parentPort, workerData, type ResourceLimits } from 'node:worker_threads';
import { startThread } from '../shared/threads.js';

/** Commands run on the collector's thread. */
const COLLECTING = new Set(['run-once', 'start', 'demo', 'replay', 'backfill']);

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type Signal = (typeof SIGNALS)[number];

/** Old-generation limit of the thread's heap by default, MB: a bound for runaway growth, not a target. */
export const DEFAULT_HEAP_MB = 512;

/**
 * The thread's heap limits: the old generation from `TLD_HEAP_MB`, a young generation of 12 MB (semi-spaces
 * of 4 MB: measured as fast as 16 MB ones with the collector's short-lived batches, ~40 MB less).
 */
export function collectorThreadLimits(env: NodeJS.ProcessEnv = process.env): ResourceLimits | undefined {
  const raw = env.TLD_HEAP_MB;
  const mb = raw === undefined || raw === '' ? DEFAULT_HEAP_MB : Number(raw);
  if (!Number.isInteger(mb) || mb < 0 || (mb > 0 && mb < 64)) throw new Error(`TLD_HEAP_MB must be 0 (no thread) or a whole number of MB of at least 64, not "${raw}"`);
  return mb === 0 ? undefined : { maxOldGenerationSizeMb: mb, maxYoungGenerationSizeMb: 12 };
}

/** Whether `args` (the command line after `tld`) is a command the collector's thread runs. */
export function runsOnCollectorThread(args: string[]): boolean {
  const command = args.find((a) => !a.startsWith('-'));
  return isMainThread && command !== undefined && COLLECTING.has(command);
}

interface ThreadData {
  tldCollector: { args: string[]; stdoutTTY: boolean; stderrTTY: boolean; columns?: number; rows?: number };
}

/** On the collector's thread: the command line handed over, or undefined on the main thread. */
export function collectorThreadArgs(): string[] | undefined {
  const data = (workerData as Partial<ThreadData> | null)?.tldCollector;
  if (isMainThread || !data) return undefined;
  // the main thread's terminals, as this thread's streams (which pass through it) cannot tell
  const tty = (stream: NodeJS.WriteStream, is: boolean) => {
    if (!is) return;
    Object.assign(stream, { isTTY: true, columns: data.columns ?? 80, rows: data.rows ?? 24 });
  };
  tty(process.stdout, data.stdoutTTY);
  tty(process.stderr, data.stderrTTY);
  // signals the main thread received: to this thread's listeners, or back to end the process as they would have
  parentPort!.on('message', (m: { tldSignal?: Signal }) => {
    const signal = m.tldSignal;
    if (signal === undefined) return;
    if (process.listenerCount(signal) > 0) process.emit(signal, signal);
    else parentPort!.postMessage({ tldUnhandledSignal: signal });
  });
  parentPort!.unref();
  return data.args;
}

/**
 * On the main thread: runs the command line `args` on the collector's thread (main.ts, loaded there again) and
 * resolves with its exit code. `limits` from collectorThreadLimits.
 */
export function runOnCollectorThread(args: string[], limits: ResourceLimits, entryUrl: string): Promise<number> {
  const data: ThreadData = {
    tldCollector: {
      args,
      stdoutTTY: process.stdout.isTTY === true,
      stderrTTY: process.stderr.isTTY === true,
      ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
      ...(process.stdout.rows ? { rows: process.stdout.rows } : {}),
    },
  };
  const name = entryUrl.replace(/^.*\/([^/]+)\.[jt]s$/, '$1');
  const worker = startThread(entryUrl, name, { workerData: data, resourceLimits: limits });
  const forward = (signal: Signal) => () => worker.postMessage({ tldSignal: signal });
  const handlers = SIGNALS.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  worker.on('message', (m: { tldUnhandledSignal?: Signal }) => {
    const signal = m.tldUnhandledSignal;
    if (signal === undefined) return;
    // nobody on the thread listens: the signal's default action, on the whole process
    for (const [s, h] of handlers) if (s === signal) process.off(s, h);
    process.kill(process.pid, signal);
  });
  return new Promise<number>((resolve) => {
    let failure: Error | undefined;
    worker.on('error', (e: Error & { code?: string }) => {
      failure = e;
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        process.stderr.write(`tld: the collector's thread used all of its ${limits.maxOldGenerationSizeMb} MB of heap (TLD_HEAP_MB) and was stopped; nothing unsaved was marked processed. Run it again with a larger TLD_HEAP_MB.\n`);
      } else {
        process.stderr.write(`tld: unexpected error: ${e.stack ?? e.message}\n`);
      }
    });
    worker.on('exit', (code) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(failure ? (code === 0 ? 1 : code) : code);
    });
  });
}
