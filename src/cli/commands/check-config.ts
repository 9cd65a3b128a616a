/**
 * `tld check-config`: validates configuration files and loads the rules and lists as `tld run-once` does;
 * prints every problem with file and line (warnings on stderr), then what would run.
 */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { collect } from '../options.js';

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

export function register(program: Command): void {
  program
    .command('check-config')
    .description('Validate configuration files and load the rules and CDB lists they name, as run-once does: print every error and warning (FILE:LINE), then what would run. Exit 2 on errors.')
    .requiredOption('-c, --config <file>', 'ossec.conf-style file (repeat for several)', collect, [])
    .option('--json', 'print the normalised configuration as JSON')
    .action(async (opts: { config: string[]; json?: boolean }) => {
      const { checkConfiguration } = await import('../../operations/check-config.js');
      const { formatIssue } = await import('../../config/errors.js');
      const { config, issues, rules } = await checkConfiguration(opts.config);
      const errors = issues.filter((i) => i.severity === 'error');
      if (!config || errors.length > 0) {
        throw new CliError(`${errors.length} configuration error${errors.length === 1 ? '' : 's'}; nothing was started.`, { exitCode: 2, details: issues.map(formatIssue) });
      }
      for (const w of issues) process.stderr.write(`${formatIssue(w)}\n`);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      process.stdout.write(`Configuration OK (${config.files.join(', ')}).\n`);
      if (rules) process.stdout.write(`Rules: ${rules.rules} rules from ${plural(rules.files, 'file')}, ${plural(rules.lists, 'CDB list')}.\n`);
      const aws = config.awsS3;
      if (!aws) {
        process.stdout.write('No <wodle name="aws-s3"> block: nothing will be collected.\n');
        return;
      }
      const sched = Object.entries(aws.schedule).map(([k, v]) => `${k}=${String(v)}`).join(' ');
      process.stdout.write(
        `aws-s3: ${aws.disabled ? 'DISABLED' : 'enabled'}, every ${aws.intervalSeconds}s${sched ? ` (${sched})` : ''}, ` +
          `run_on_start=${aws.runOnStart ? 'yes' : 'no'}, skip_on_error=${aws.skipOnError ? 'yes' : 'no'}\n`,
      );
      for (const b of aws.buckets) {
        const parts = [
          `${b.type.padEnd(10)} s3://${b.name}/${b.path}${b.pathSuffix}`,
          b.awsProfile && `profile=${b.awsProfile}`,
          b.iamRoleArn && `role=${b.iamRoleArn}`,
          b.awsAccountIds && `accounts=${b.awsAccountIds.join(',')}`,
          b.regions && `regions=${b.regions.join(',')}`,
          b.onlyLogsAfter && `only_logs_after=${b.onlyLogsAfter}`,
          b.serviceEndpoint && `endpoint=${b.serviceEndpoint}`,
          b.removeFromBucket && 'remove_from_bucket',
        ].filter(Boolean);
        process.stdout.write(`  ${parts.join('  ')}\n`);
      }
      for (const s of aws.subscribers) {
        const parts = [
          `worker     queue ${s.sqsName}`,
          s.sqsEndpoint && `sqs_endpoint=${s.sqsEndpoint}`,
          s.awsProfile && `profile=${s.awsProfile}`,
          s.iamRoleArn && `role=${s.iamRoleArn}`,
          s.serviceEndpoint && `endpoint=${s.serviceEndpoint}`,
          `visibility=${s.visibilityTimeoutSecs}s`,
          s.keyPrefixes.length ? `types=${s.keyPrefixes.map((p) => `${p.prefix}→${p.type}`).join(',')}` : 'types from the key layout',
        ].filter(Boolean);
        process.stdout.write(`  ${parts.join('  ')}\n`);
      }
    });
}
