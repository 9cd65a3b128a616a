/** `tld indexer setup` / `tld indexer saved-objects`: the Wazuh indexer / OpenSearch / Elasticsearch side. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { CONFIG_HELP, collect } from '../options.js';

export function register(program: Command): void {
  const indexer = program.command('indexer').description('The Wazuh indexer, OpenSearch or Elasticsearch of the <indexer> block (used as the store with <store><backend>indexer</backend>).');
  indexer
    .command('setup')
    .description('Install the index templates and, with --dashboards-url, import the saved searches, visualizations and dashboards into OpenSearch Dashboards or Kibana.')
    .requiredOption('-c, --config <file>', CONFIG_HELP, collect, [])
    .option('--dashboards-url <url>', 'OpenSearch Dashboards / Kibana base URL (e.g. https://wazuh-dashboard:443); the indexer credentials are used')
    .action(async (opts: { config: string[]; dashboardsUrl?: string }) => {
      const { loadConfig } = await import('../../config/load.js');
      const { ConfigError, formatIssue } = await import('../../config/errors.js');
      const { setupIndexer } = await import('../../indexer/setup.js');
      let config;
      try {
        ({ config } = await loadConfig(opts.config));
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError('the configuration has errors.', { exitCode: 2, details: e.issues.map(formatIssue) });
        throw e;
      }
      if (!config.indexer?.enabled) throw new CliError('no enabled <indexer> block with <hosts><host> in the configuration.', { exitCode: 2 });
      // its errors (unreachable, refused, credentials) are reported by cli/errors.ts as one line
      const report = await setupIndexer(config.indexer, { env: process.env, ...(opts.dashboardsUrl ? { dashboardsUrl: opts.dashboardsUrl } : {}) });
      const t = report.templates;
      process.stdout.write(`Cluster: ${report.cluster.distribution} ${report.cluster.number}\n`);
      process.stdout.write(`Templates installed: ${t.installed.join(', ') || 'none'}; already current: ${t.kept.filter((k) => k !== 'tld-wazuh-alerts' || !t.alertsTemplate).join(', ') || 'none'}\n`);
      if (t.alertsTemplate) process.stdout.write(`Alert indices (wazuh-alerts-4.x-*) keep the existing template "${t.alertsTemplate}" (Wazuh's); ours is not installed over it.\n`);
      if (report.imported !== undefined) process.stdout.write(`Saved objects imported: ${report.imported} (dashboards "ThreatLockDown: VPC traffic", "ThreatLockDown: GuardDuty", "ThreatLockDown: CloudTrail VPC creation").\n`);
      else process.stdout.write('Saved objects: not imported (no --dashboards-url). Import deploy/indexer/saved-objects.ndjson, or the output of `tld indexer saved-objects`, in Dashboards Management → Saved objects → Import.\n');
    });
  indexer
    .command('saved-objects')
    .description('Print the saved objects (NDJSON) for OpenSearch Dashboards / Kibana.')
    .action(async () => {
      const { savedObjectsNdjson } = await import('../../indexer/saved-objects.js');
      process.stdout.write(savedObjectsNdjson());
    });
}
