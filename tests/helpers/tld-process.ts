/** `tld start` as a child process for the multi-process tests, and waiting on what it does. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

export interface TldProcess {
  child: ChildProcess;
  /** its stdout and stderr so far */
  out: string;
  exited: Promise<number | null>;
}

/** Starts `tld start -c config --data-dir dataDir --no-dashboard` at the given log level. */
export function startTld(config: string, dataDir: string, env: NodeJS.ProcessEnv, logLevel = 'warn'): TldProcess {
  const child = spawn(process.execPath, [join(root, 'bin/tld.js'), 'start', '-c', config, '--data-dir', dataDir, '--no-dashboard', '--log-level', logLevel], { env });
  const p: TldProcess = { child, out: '', exited: new Promise((resolve) => child.on('close', (status) => resolve(status))) };
  child.stdout?.on('data', (d) => (p.out += d));
  child.stderr?.on('data', (d) => (p.out += d));
  return p;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds or `ms` have passed; its last answer. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await cond()) && Date.now() < deadline) await sleep(200);
  return cond();
}
