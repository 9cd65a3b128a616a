/** `tld doctor`: live checks of every configured bucket, each with what to fix. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { CONFIG_HELP, DATA_DIR_HELP, collect, dataDirOf } from '../options.js';

const MARK = { ok: '✔', warn: '!', fail: '✘', info: '·' } as const;

export function register(program: Command): void {
  program
    .command('doctor')
    .description('Check each configured bucket and queue (<subscriber>), and the indexer when it is the store, live and explain what is wrong: credentials, access, layout (accounts, regions, flow logs, date or Firehose folders), newest object, what the configuration skips and why.')
    .requiredOption('-c, --config <file>', CONFIG_HELP, collect, [])
    .option('-d, --data-dir <dir>', `${DATA_DIR_HELP} (to show what was read so far)`)
    .action(async (opts: { config: string[]; dataDir?: string }) => {
      const { loadConfig } = await import('../../config/load.js');
      const { ConfigError, formatIssue } = await import('../../config/errors.js');
      const { createS3Source, createS3Client } = await import('../../sources/s3/client.js');
      const { diagnoseBucket, diagnoseIndexer, diagnoseSubscriber } = await import('../../operations/doctor.js');
      const { openQueue } = await import('../../sources/sqs/queue.js');
      const { openStateStore } = await import('../../sources/s3/state/file-state-store.js');
      const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      let config;
      try {
        ({ config } = await loadConfig(opts.config));
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError('the configuration has errors (fix these first):', { exitCode: 2, details: e.issues.map(formatIssue) });
        throw e;
      }
      // the store first: with the indexer as the store, nothing is delivered while it refuses the writes
      let indexerFailed = false;
      if (config.store.backend === 'indexer' && config.indexer?.enabled) {
        const { openIndexerClient } = await import('../../indexer/client.js');
        const indexer = config.indexer;
        const hosts = indexer.hosts.join(', ');
        process.stdout.write(`indexer ${hosts} (<store><backend>indexer</backend>)\n`);
        const checks = await diagnoseIndexer(hosts, () => openIndexerClient(indexer, process.env));
        for (const c of checks) process.stdout.write(`  ${MARK[c.verdict]} ${c.what}: ${c.detail}\n`);
        indexerFailed = checks.some((c) => c.verdict === 'fail');
      }
      if (!config.awsS3) {
        if (indexerFailed) throw new CliError('the indexer will not take flows or alerts until the ✘ lines are fixed.', { exitCode: 1 });
        throw new CliError('no <wodle name="aws-s3"> block: nothing to check.', { exitCode: 2 });
      }
      if (config.awsS3.disabled) process.stdout.write('! the aws-s3 module is disabled (<disabled>yes</disabled>): nothing is collected.\n');
      const stateDir = join(dataDirOf(opts.dataDir), 'state');
      let state;
      try {
        state = opts.dataDir && existsSync(stateDir) ? openStateStore(stateDir) : undefined;
      } catch (e) {
        process.stdout.write(`· state not shown: ${(e as Error).message}\n`);
      }
      let failures = 0;
      let queueFailures = 0;
      try {
        for (const b of config.awsS3.buckets) {
          process.stdout.write(`\n${b.type} s3://${b.name}/${b.path}${b.pathSuffix}${b.serviceEndpoint ? ` at ${b.serviceEndpoint}` : ''}\n`);
          const identity = async () => {
            const s3 = await createS3Client(b);
            const sts = new STSClient({ region: await s3.config.region(), credentials: s3.config.credentials, ...(b.stsEndpoint ? { endpoint: b.stsEndpoint } : b.serviceEndpoint ? { endpoint: b.serviceEndpoint } : {}), maxAttempts: 1 });
            const who = await sts.send(new GetCallerIdentityCommand({}));
            return `${who.Arn ?? 'unknown'} (account ${who.Account ?? '?'})`;
          };
          const checks = await diagnoseBucket(b, { source: await createS3Source(b), now: () => new Date(), identity, ...(state ? { state } : {}) });
          for (const c of checks) process.stdout.write(`  ${MARK[c.verdict]} ${c.what}: ${c.detail}\n`);
          if (checks.some((c) => c.verdict === 'fail')) failures++;
        }
        for (const sub of config.awsS3.subscribers) {
          process.stdout.write(`\nsubscriber: queue ${sub.sqsName}${sub.sqsEndpoint ? ` at ${sub.sqsEndpoint}` : ''}\n`);
          const checks = await diagnoseSubscriber(sub, openQueue);
          for (const c of checks) process.stdout.write(`  ${MARK[c.verdict]} ${c.what}: ${c.detail}\n`);
          if (checks.some((c) => c.verdict === 'fail')) queueFailures++;
        }
      } finally {
        state?.close();
      }
      const what = [indexerFailed && 'the indexer', failures && `${failures} bucket${failures === 1 ? '' : 's'}`, queueFailures && `${queueFailures} queue${queueFailures === 1 ? '' : 's'}`].filter(Boolean).join(' and ');
      if (what) throw new CliError(`${what} will not deliver logs until the ✘ lines are fixed.`, { exitCode: 1 });
      process.stdout.write('\nNo blocking problem found.\n');
    });
}
