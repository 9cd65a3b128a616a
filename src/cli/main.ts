/**
 * `tld` command line. Every file in ./commands (except tests) exports `register(program)` and adds one
 * command; heavy modules are imported inside the command's action so `tld --help` stays fast.
 * This is the only place that exits the process, and it does so only after stdout and stderr have written out
 * everything (a pipe to a slow reader would otherwise lose the end of the output).
 */
import { readdirSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { flushStdio } from './output.js';
import { collectorThreadArgs, collectorThreadLimits, runOnCollectorThread, runsOnCollectorThread } from './collector-thread.js';
import { storeThreadHeapMb } from '../store/thread-heap.js';
// the rest (commander, the commands, the logger) is imported where the command runs: a main thread that hands the
// command to the collector thread loads none of it

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const here = dirname(fileURLToPath(import.meta.url));

async function buildProgram(): Promise<Command> {
  const { Command } = await import('commander');
  const program = new Command('tld')
    .description(
      'ThreatLockDown: collect AWS VPC Flow Logs, GuardDuty findings and CloudTrail from S3, ' +
        'match them against Wazuh-compatible rules, store alerts and flows, and serve a dashboard.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const commandDir = join(here, 'commands');
  const files = readdirSync(commandDir)
    .filter((f) => /\.(ts|js)$/.test(f) && !/\.(test|d)\.(ts|js)$/.test(f))
    .sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(commandDir, file)).href)) as {
      register?: (program: Command) => void;
    };
    mod.register?.(program);
  }
  return program;
}

async function main(args: string[]): Promise<number> {
  const { CommanderError } = await import('commander');
  const { userFacing } = await import('./errors.js');
  const program = await buildProgram();
  try {
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const known = userFacing(error);
    if (known) {
      process.stderr.write(`tld: ${known.message}\n`);
      for (const line of known.details) process.stderr.write(`  ${line}\n`);
      return known.exitCode;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`tld: unexpected error: ${message}\n`);
    return 1;
  }
}

/** The command line after `tld`: the process's, or on the collector's thread the one the main thread handed over. */
const handedOver = collectorThreadArgs();
const args = handedOver ?? process.argv.slice(2);
if (handedOver) {
  const heapLimitMb = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  const { createLogger } = await import('./logger.js');
  createLogger(process.env.TLD_LOG_LEVEL ?? 'warn').debug({ heapLimitMb }, 'the command runs on the collector thread');
}
async function run(): Promise<number> {
  if (!runsOnCollectorThread(args)) return main(args);
  let limits;
  try {
    limits = collectorThreadLimits();
    // the store's thread starts later, from the collector's: a bad bound is refused now, before anything runs
    storeThreadHeapMb();
  } catch (e) {
    process.stderr.write(`tld: ${(e as Error).message}\n`);
    return 2;
  }
  return limits ? runOnCollectorThread(args, limits, import.meta.url) : main(args);
}
const code = await run();
process.exitCode = code;
await flushStdio();
process.exit(code);
