/**
 * `tld logtest`: explain which rule each event matches, like wazuh-logtest. JSON lines are analysed as they
 * arrive; a line that is not a JSON event is reported with its number and skipped (exit 2 at the end).
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { collect } from '../options.js';
import { out, stdoutIsClosed } from '../output.js';

async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export function register(program: Command): void {
  program
    .command('logtest')
    .description('Read events from stdin and show, for each, its fields and the rule it matches (id, the id its alert carries when the rule has alert_id, level, description, groups). Input: one JSON event per line (a line that is not one is reported with its number and skipped; exit 2 at the end), or a raw log with --source (a VPC flow-log file with its header, a Firehose object, a CloudTrail file; compressed or not).')
    .option('-c, --config <file>', 'configuration whose <ruleset> (your rules and lists) and log_alert_level to use (repeatable)', collect, [])
    .option('--source <type>', 'raw input: vpcflow, guardduty or cloudtrail')
    .option('--json', 'one machine-readable result per line (for JSON input, "line" is the input line it comes from)')
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
      let shown = 0;
      const show = async (event: unknown, line?: number): Promise<void> => {
        shown++;
        const x = analyzer.explain(event as never, `logtest-${shown}`);
        // the id the alert carries (rule.id in alerts.json, what Wazuh shows): a rule with alert_id="80303"
        // matched as 80630 alerts as 80303
        const alertId = x.alert?.rule.id;
        if (opts.json) {
          await out(`${JSON.stringify({ event: shown, ...(line !== undefined ? { line } : {}), rule: x.rule ? { ...x.rule, ...(alertId ? { alertId } : {}) } : null, chain: x.chain, alert: x.alert ?? null, noAlert: x.noAlert ?? null, fields: x.fields })}\n`);
          return;
        }
        let text = `**Event ${shown}:\n`;
        for (const [k, v] of Object.entries(x.fields)) text += `\t${k}: '${v}'\n`;
        text += '\n**Rule matching:\n';
        if (x.rule) {
          text += `\tid: '${x.rule.id}'\n${alertId && alertId !== x.rule.id ? `\talert_id: '${alertId}' (the rule.id of its alert, as in Wazuh)\n` : ''}\tlevel: '${x.rule.level}'\n\tdescription: '${x.rule.description}'\n\tgroups: '${JSON.stringify(x.rule.groups)}'\n`;
          if (x.rule.mitre.length) text += `\tmitre: '${x.rule.mitre.join(', ')}'\n`;
          text += `\tchain: ${x.chain.join(' > ')}\n`;
        }
        text += x.alert ? '**Alert to be generated.\n\n' : `**No alert: ${x.noAlert}.\n\n`;
        await out(text);
      };
      if (opts.source) {
        if (!['vpcflow', 'guardduty', 'cloudtrail', 'custom'].includes(opts.source)) throw new CliError(`--source must be vpcflow, guardduty or cloudtrail, not '${opts.source}'.`, { exitCode: 2 });
        const input = await readStdin();
        let events: unknown[];
        try {
          events = decodeBuffer(input, { bucketType: opts.source as 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'stdin', s3bucket: 'logtest' }, ...(opts.account ? { accountId: opts.account } : {}) });
        } catch (e) {
          throw new CliError(`stdin cannot be read as ${opts.source}: ${(e as Error).message}`, { exitCode: 2 });
        }
        for (const event of events) {
          if (stdoutIsClosed()) break;
          await show(event);
        }
        return;
      }
      // one JSON event per line, each analysed as it arrives (interactive use works); a bad line is reported
      // with its number and skipped
      const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
      let lineNo = 0;
      const skipped: number[] = [];
      for await (const line of lines) {
        lineNo++;
        if (stdoutIsClosed()) break;
        if (!line.trim()) continue;
        let event: unknown;
        try {
          event = JSON.parse(line);
        } catch (e) {
          skipped.push(lineNo);
          process.stderr.write(`tld: line ${lineNo} of stdin is not JSON (${(e as Error).message}); skipped. Use --source for raw logs.\n`);
          continue;
        }
        if (event === null || typeof event !== 'object' || Array.isArray(event)) {
          skipped.push(lineNo);
          process.stderr.write(`tld: line ${lineNo} of stdin is not a JSON object (an event is {…}); skipped.\n`);
          continue;
        }
        await show(event, lineNo);
      }
      if (skipped.length) {
        const which = skipped.length <= 10 ? skipped.join(', ') : `${skipped.slice(0, 10).join(', ')}, …`;
        throw new CliError(`${skipped.length} of ${lineNo} lines of stdin were skipped (line${skipped.length === 1 ? '' : 's'} ${which}); the others were analysed.`, { exitCode: 2 });
      }
    });
}
