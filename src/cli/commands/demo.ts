/** `tld demo`: the whole pipeline on generated logs in an embedded S3-compatible store, then the dashboard. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { CliError } from '../errors.js';

function intArg(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new CliError(`--${name} must be a number ≥ ${min}.`, { exitCode: 2 });
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('See ThreatLockDown work without an AWS account: starts an S3-compatible server on loopback, fills it with realistic generated logs (two accounts, two regions, a port scan, an SSH brute force, an exfiltration burst, GuardDuty findings, CloudTrail VPC changes), collects, analyses, stores and serves the dashboard. A second run reuses the data.')
    .option('-d, --data-dir <dir>', 'where the demo keeps its logs, state and store', 'tld-demo')
    .option('--seed <n>', 'seed of the generated logs (same seed, same logs)', intArg('seed', 0), 1)
    .option('--days <n>', 'days of logs to generate', intArg('days', 1), 2)
    .option('--scale <x>', 'volume multiplier', intArg('scale', 0.01), 1)
    .option('--port <n>', 'dashboard port', intArg('port', 1), 8080)
    .option('--no-serve', 'collect and exit instead of serving the dashboard')
    .option('--no-progress', 'no progress bars')
    .action(async (opts: { dataDir: string; seed: number; days: number; scale: number; port: number; serve: boolean; progress: boolean }) => {
      const { runDemo } = await import('../../demo/run-demo.js');
      const { createLogger } = await import('../logger.js');
      const demo = await runDemo({ ...opts, dataDir: resolve(opts.dataDir), logger: createLogger(process.env.TLD_LOG_LEVEL ?? 'warn') });
      if (!opts.serve || !demo.url) {
        await demo.stop();
        return;
      }
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await demo.stop();
    });
}
