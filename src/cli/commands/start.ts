/** `tld start`: the long-running service (collector on its schedule, rules, store, dashboard). */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { CONFIG_HELP, DATA_DIR_HELP, collect, dataDirOf } from '../options.js';

export function register(program: Command): void {
  program
    .command('start')
    .description('Run as a service: collect on the configured schedule (interval, run_on_start, day/wday/time), analyse, store and serve the dashboard. SIGHUP reloads the configuration and rules; SIGTERM stops after the current object.')
    .requiredOption('-c, --config <file>', CONFIG_HELP, collect, [])
    .option('-d, --data-dir <dir>', DATA_DIR_HELP)
    .option('--no-dashboard', 'do not serve the dashboard')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .action(async (opts: { config: string[]; dataDir?: string; dashboard: boolean; logLevel: string }) => {
      const { runService } = await import('../../pipeline/service.js');
      const { createLogger } = await import('../logger.js');
      const { ConfigError, formatIssue } = await import('../../config/errors.js');
      const { startDashboardFor } = await import('../dashboard-hook.js');
      const logger = createLogger(opts.logLevel);
      try {
        await runService({
          configFiles: opts.config,
          dataDir: dataDirOf(opts.dataDir),
          logger,
          ...(opts.dashboard
            ? {
                onReady: async (rt) => {
                  const server = await startDashboardFor(rt, logger);
                  if (!server) return undefined;
                  // SIGHUP: sign-in settings and host names apply to the running dashboard; host, port and HTTP↔HTTPS need a restart
                  const named = (list: string[]) => list.map((o) => `<dashboard> ${o}`);
                  return {
                    close: () => server.close(),
                    reconfigure: async (config) => {
                      const r = await server.reconfigure(config.dashboard);
                      return { applied: named(r.applied), restartNeeded: named(r.restartNeeded), failed: named(r.failed) };
                    },
                  };
                },
              }
            : {}),
        });
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError('the configuration has errors; the service did not start.', { exitCode: 2, details: e.issues.map(formatIssue) });
        throw e;
      }
    });
}
