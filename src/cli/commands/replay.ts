/** `tld replay`: re-read a window of the configured buckets (backfill, or re-analysis with new rules). */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { CONFIG_HELP, DATA_DIR_HELP, collect, dataDirOf } from '../options.js';

/** `YYYY-MM-DD` of a date or ISO date-time given on the command line. */
export function dayArg(text: string, name: string): string {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new CliError(`--${name} '${text}' is not a date (YYYY-MM-DD or an ISO date-time).`, { exitCode: 2 });
  return d.toISOString().slice(0, 10);
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('Re-read the day folders from --from to --to (inclusive, UTC) of the configured buckets, whatever was read before. Objects never read are processed and remembered; alerts already in alerts.json are not written again.')
    .requiredOption('-c, --config <file>', CONFIG_HELP, collect, [])
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD or ISO date-time)')
    .requiredOption('--to <date>', 'last day, inclusive')
    .option('-d, --data-dir <dir>', DATA_DIR_HELP)
    .option('-b, --bucket <name>', 'only this bucket (repeatable)', collect, [])
    .option('--dry-run', 'report objects, bytes and requests without reading anything')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: { config: string[]; from: string; to: string; dataDir?: string; bucket: string[]; dryRun?: boolean; progress: boolean }) => {
      const window = { from: dayArg(opts.from, 'from'), to: dayArg(opts.to, 'to') };
      if (window.from > window.to) throw new CliError('--from is after --to.', { exitCode: 2 });
      if (opts.dryRun) {
        const { loadConfig } = await import('../../config/load.js');
        const { createS3Source } = await import('../../sources/s3/client.js');
        const { planReplay } = await import('../../operations/replay-plan.js');
        const { config } = await loadConfig(opts.config);
        const buckets = (config.awsS3?.buckets ?? []).filter((b) => opts.bucket.length === 0 || opts.bucket.includes(b.name));
        process.stdout.write(`Replay of ${window.from} … ${window.to} (dry run: nothing is read)\n`);
        let failed = 0;
        for (const b of buckets) {
          try {
            const p = await planReplay(b, await createS3Source(b), window);
            process.stdout.write(`  s3://${p.bucket}/${p.path} (${p.type}): ${p.objects} objects, ${(p.bytes / 1e6).toFixed(1)} MB, ${p.listRequests} LIST + ${p.getRequests} GET requests\n`);
          } catch (e) {
            failed++;
            process.stdout.write(`  s3://${b.name}/${b.path} (${b.type}): failed: ${(e as Error).message}\n`);
          }
        }
        if (failed) throw new CliError(`${failed} bucket(s) could not be listed.`, { exitCode: 1 });
        return;
      }
      const { runCollection } = await import('../run-collection.js');
      const failed = await runCollection({ configFiles: opts.config, dataDir: dataDirOf(opts.dataDir), buckets: opts.bucket, progress: opts.progress, window });
      if (failed > 0) throw new CliError(`${failed} bucket${failed === 1 ? '' : 's'} failed; see the lines above.`, { exitCode: 1 });
    });
}
