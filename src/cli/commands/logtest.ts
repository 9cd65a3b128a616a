/** `tld logtest`: explain which rule each event matches, like wazuh-logtest. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { collect } from '../options.js';

async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export function register(program: Command): void {
  program
    .command('logtest')
    .description('Read events from stdin and show, for each, its fields and the rule it matches (id, level, description, groups). Input: one JSON event per line, or a raw log with --source (a VPC flow-log file with its header, a Firehose object, a CloudTrail file; compressed or not).')
    .option('-c, --config <file>', 'configuration whose <ruleset> (your rules and lists) and log_alert_level to use (repeatable)', collect, [])
    .option('--source <type>', 'raw input: vpcflow, guardduty or cloudtrail')
    .option('--json', 'one machine-readable result per line')
    .option('--account <id>', 'account id the raw log belongs to (AWSLogs layouts)')
    .action(async (opts: { config: string[]; source?: string; json?: boolean; account?: string }) => {
      const { loadRuleset, createAnalyzer, RuleLoadError } = await import('../../analysis/index.js');
      const { loadConfig } = await import('../../config/load.js');
      const { ConfigError, formatIssue } = await import('../../config/errors.js');
      const { decodeBuffer } = await import('../../decoders/index.js');
      let ruleset = { ruleDirs: [] as string[], ruleFiles: [] as string[], lists: [] as string[], ruleExcludes: [] as string[] };
      let logAlertLevel = 3;
      if (opts.config.length) {
        try {
          const { config } = await loadConfig(opts.config);
          ruleset = config.ruleset;
          logAlertLevel = config.alerts.logAlertLevel;
        } catch (e) {
          if (e instanceof ConfigError) throw new CliError('the configuration has errors.', { exitCode: 2, details: e.issues.map(formatIssue) });
          throw e;
        }
      }
      let analyzer;
      try {
        analyzer = createAnalyzer(await loadRuleset(ruleset), { logAlertLevel });
      } catch (e) {
        if (e instanceof RuleLoadError) throw new CliError('the rules cannot be loaded.', { exitCode: 2, details: e.problems });
        throw e;
      }
      const input = await readStdin();
      const events: unknown[] = [];
      if (opts.source) {
        if (!['vpcflow', 'guardduty', 'cloudtrail', 'custom'].includes(opts.source)) throw new CliError(`--source must be vpcflow, guardduty or cloudtrail, not '${opts.source}'.`, { exitCode: 2 });
        try {
          events.push(...decodeBuffer(input, { bucketType: opts.source as 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'stdin', s3bucket: 'logtest' }, ...(opts.account ? { accountId: opts.account } : {}) }));
        } catch (e) {
          throw new CliError(`stdin cannot be read as ${opts.source}: ${(e as Error).message}`, { exitCode: 2 });
        }
      } else {
        input
          .toString('utf8')
          .split('\n')
          .forEach((line, i) => {
            if (!line.trim()) return;
            try {
              events.push(JSON.parse(line));
            } catch (e) {
              throw new CliError(`line ${i + 1} of stdin is not JSON (${(e as Error).message}); use --source for raw logs.`, { exitCode: 2 });
            }
          });
      }
      events.forEach((event, i) => {
        const x = analyzer.explain(event as never, `logtest-${i + 1}`);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ event: i + 1, rule: x.rule ?? null, chain: x.chain, alert: x.alert ?? null, noAlert: x.noAlert ?? null, fields: x.fields })}\n`);
          return;
        }
        process.stdout.write(`**Event ${i + 1}:\n`);
        for (const [k, v] of Object.entries(x.fields)) process.stdout.write(`\t${k}: '${v}'\n`);
        process.stdout.write('\n**Rule matching:\n');
        if (x.rule) {
          process.stdout.write(`\tid: '${x.rule.id}'\n\tlevel: '${x.rule.level}'\n\tdescription: '${x.rule.description}'\n\tgroups: '${JSON.stringify(x.rule.groups)}'\n`);
          if (x.rule.mitre.length) process.stdout.write(`\tmitre: '${x.rule.mitre.join(', ')}'\n`);
          process.stdout.write(`\tchain: ${x.chain.join(' > ')}\n`);
        }
        process.stdout.write(x.alert ? '**Alert to be generated.\n\n' : `**No alert: ${x.noAlert}.\n\n`);
      });
    });
}
