/** `tld backfill`: put a window of existing objects on a subscriber's queue, so the workers read history too. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { CONFIG_HELP, collect } from '../options.js';
import { dayArg } from './replay.js';

export function register(program: Command): void {
  program
    .command('backfill')
    .description('List the day folders from --from to --to (inclusive, UTC) of the configured <bucket> blocks, as the collector lists them, and put each object on the <subscriber> queue as an S3 event notification: the workers (`tld start`) then read history like live data, each object exactly once.')
    .requiredOption('-c, --config <file>', CONFIG_HELP, collect, [])
    .requiredOption('--from <date>', 'first day (YYYY-MM-DD or ISO date-time)')
    .requiredOption('--to <date>', 'last day, inclusive')
    .option('-b, --bucket <name>', 'only this bucket (repeatable)', collect, [])
    .option('-q, --queue <sqs_name>', 'the subscriber whose queue receives them (needed when there are several)')
    .option('--dry-run', 'list and count, send nothing')
    .action(async (opts: { config: string[]; from: string; to: string; bucket: string[]; queue?: string; dryRun?: boolean }) => {
      const window = { from: dayArg(opts.from, 'from'), to: dayArg(opts.to, 'to') };
      if (window.from > window.to) throw new CliError('--from is after --to.', { exitCode: 2 });
      const { loadConfig } = await import('../../config/load.js');
      const { ConfigError, formatIssue } = await import('../../config/errors.js');
      const { createS3Source } = await import('../../sources/s3/client.js');
      const { openQueue } = await import('../../sources/sqs/queue.js');
      const { backfillBucket } = await import('../../sources/sqs/backfill.js');
      let config;
      try {
        ({ config } = await loadConfig(opts.config));
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError('the configuration has errors; nothing was enqueued.', { exitCode: 2, details: e.issues.map(formatIssue) });
        throw e;
      }
      const subscribers = config.awsS3?.subscribers ?? [];
      const subscriber = opts.queue ? subscribers.find((s) => s.sqsName === opts.queue) : subscribers.length === 1 ? subscribers[0] : undefined;
      if (!subscriber) {
        const names = subscribers.map((s) => s.sqsName).join(', ');
        throw new CliError(subscribers.length === 0 ? 'no <subscriber type="buckets"> in the configuration: there is no queue to fill.' : opts.queue ? `no <subscriber> has <sqs_name>${opts.queue}</sqs_name> (there are: ${names}).` : `several subscribers (${names}): say which queue with --queue.`, { exitCode: 2 });
      }
      const buckets = (config.awsS3?.buckets ?? []).filter((b) => opts.bucket.length === 0 || opts.bucket.includes(b.name));
      if (buckets.length === 0) throw new CliError(`no <bucket> block${opts.bucket.length ? ` named ${opts.bucket.join(', ')}` : ''} in the configuration: backfill lists the buckets described there (type, path, accounts, regions).`, { exitCode: 2 });
      const queue = opts.dryRun ? undefined : await openQueue(subscriber).catch((e: Error) => {
        throw new CliError(e.message, { exitCode: 1 });
      });
      process.stdout.write(`Backfill of ${window.from} … ${window.to} into queue ${subscriber.sqsName}${opts.dryRun ? ' (dry run: nothing is sent)' : ''}\n`);
      let failed = 0;
      try {
        for (const b of buckets) {
          const source = await createS3Source(b);
          try {
            const s = await backfillBucket(b, source, subscriber, queue, window);
            process.stdout.write(`  s3://${s.bucket}/${s.path} (${s.type}): ${s.enqueued} objects ${opts.dryRun ? 'to enqueue' : 'enqueued'}, ${(s.bytes / 1e6).toFixed(1)} MB${s.refused ? `; ${s.refused} not readable (Parquet) left out` : ''}\n`);
          } catch (e) {
            failed++;
            process.stdout.write(`  s3://${b.name}/${b.path} (${b.type}): failed: ${(e as Error).message}\n`);
          } finally {
            source.close?.();
          }
        }
      } finally {
        queue?.close();
      }
      if (failed) throw new CliError(`${failed} bucket(s) could not be backfilled; see the lines above.`, { exitCode: 1 });
    });
}
