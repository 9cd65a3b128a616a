/** `tld iam-policy`: the least-privilege IAM policy JSON for the configured buckets. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { CONFIG_HELP, collect } from '../options.js';

export function register(program: Command): void {
  program
    .command('iam-policy')
    .description('Print the least-privilege IAM policy for the configured buckets and queue workers (one per reading identity when iam_role_arn is used).')
    .requiredOption('-c, --config <file>', CONFIG_HELP, collect, [])
    .option('--partition <name>', 'AWS partition of the ARNs (aws, aws-us-gov, aws-cn)', 'aws')
    .option('--kms-key-arn <arn>', "KMS key of GuardDuty's export destination (adds kms:Decrypt; repeatable)", collect, [])
    .action(async (opts: { config: string[]; partition: string; kmsKeyArn: string[] }) => {
      const { loadConfig } = await import('../../config/load.js');
      const { ConfigError, formatIssue } = await import('../../config/errors.js');
      const { buildIamPolicies } = await import('../../operations/iam-policy.js');
      let config;
      try {
        ({ config } = await loadConfig(opts.config));
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError('the configuration has errors.', { exitCode: 2, details: e.issues.map(formatIssue) });
        throw e;
      }
      if (!config.awsS3) throw new CliError('no <wodle name="aws-s3"> block: no bucket to write a policy for.', { exitCode: 2 });
      const policies = buildIamPolicies(config.awsS3.buckets, { partition: opts.partition, kmsKeyArns: opts.kmsKeyArn, subscribers: config.awsS3.subscribers });
      if (policies.length === 1 && policies[0]) {
        process.stdout.write(`${JSON.stringify(policies[0].policy, null, 2)}\n`);
      } else {
        process.stdout.write(`${JSON.stringify(policies.map((p) => ({ attachTo: p.attachTo === 'base' ? 'the identity ThreatLockDown runs as' : p.attachTo, buckets: p.buckets, policy: p.policy })), null, 2)}\n`);
      }
      if (config.awsS3.buckets.some((b) => b.type === 'guardduty') && opts.kmsKeyArn.length === 0) {
        process.stderr.write("note: GuardDuty's native export is encrypted with KMS; add --kms-key-arn <arn> to include kms:Decrypt.\n");
      }
      if (config.awsS3.subscribers.length > 0) {
        process.stderr.write('note: a <subscriber> reads whatever objects its notifications announce, so s3:GetObject is granted on every bucket (arn:aws:s3:::*/*) and the queue on any region and account: replace the wildcards with the buckets that notify the queue and the queue\'s own ARN.\n');
      }
    });
}
