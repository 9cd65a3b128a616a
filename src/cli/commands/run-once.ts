/** `tld run-once`: one collection cycle over every bucket, a summary per bucket, non-zero if one failed. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { CONFIG_HELP, DATA_DIR_HELP, collect, dataDirOf } from '../options.js';

export function register(program: Command): void {
  program
    .command('run-once')
    .description('Run one collection cycle over every configured bucket, print a summary per bucket, and exit (non-zero if a bucket failed).')
    .requiredOption('-c, --config <file>', CONFIG_HELP, collect, [])
    .option('-d, --data-dir <dir>', DATA_DIR_HELP)
    .option('-b, --bucket <name>', 'only this bucket (repeatable)', collect, [])
    .option('--no-progress', 'no progress bar')
    .action(async (opts: { config: string[]; dataDir?: string; bucket: string[]; progress: boolean }) => {
      const { runCollection } = await import('../run-collection.js');
      const failed = await runCollection({ configFiles: opts.config, dataDir: dataDirOf(opts.dataDir), buckets: opts.bucket, progress: opts.progress });
      if (failed > 0) throw new CliError(`${failed} bucket${failed === 1 ? '' : 's'} failed; see the lines above.`, { exitCode: 1 });
    });
}
