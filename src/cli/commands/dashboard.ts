/** `tld dashboard`: serve the dashboard over an existing data directory; `hash-password` for the config. */
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { collect, dataDirOf, DATA_DIR_HELP } from '../options.js';

export function register(program: Command): void {
  const cmd = program.command('dashboard').description('Serve the web dashboard and JSON API over a data directory (read-only; `tld start` serves it next to the collector).');
  cmd
    .command('serve', { isDefault: true })
    .description('Serve the dashboard (default subcommand).')
    .option('-d, --data-dir <dir>', DATA_DIR_HELP)
    .option('-c, --config <file>', 'configuration with the <dashboard> block (authentication, host, port)', collect, [])
    .option('--host <host>', 'address to listen on (default 127.0.0.1; anything else needs authentication in the config)')
    .option('--port <port>', 'port (default 8080)')
    .action(async (opts: { dataDir?: string; config: string[]; host?: string; port?: string }) => {
      const { openStore } = await import('../../store/index.js');
      const { startDashboard } = await import('../../dashboard/server.js');
      const { createLogger } = await import('../logger.js');
      const { defaults } = await import('../../config/schema.js');
      let dashboard = defaults('dashboard') as unknown as import('../../config/types.js').DashboardConfig;
      let storeCfg = defaults('store') as unknown as import('../../config/types.js').StoreConfig;
      if (opts.config.length) {
        const { loadConfig } = await import('../../config/load.js');
        const { config } = await loadConfig(opts.config);
        dashboard = config.dashboard;
        storeCfg = config.store;
      }
      if (opts.host) dashboard = { ...dashboard, host: opts.host };
      if (opts.port) dashboard = { ...dashboard, port: Number(opts.port) };
      let store;
      try {
        store = await openStore(dataDirOf(opts.dataDir), storeCfg, { readOnly: true });
      } catch (e) {
        throw new CliError(explainStoreOpenError(dataDirOf(opts.dataDir), e as Error), { exitCode: 1 });
      }
      const logger = createLogger('info');
      let server;
      try {
        server = await startDashboard({ store, config: dashboard, logger });
      } catch (e) {
        throw new CliError((e as Error).message, { exitCode: 2 });
      }
      process.stdout.write(`Dashboard: ${server.url}  (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await server.close();
      await store.close();
    });
  cmd
    .command('hash-password')
    .description('Read a password on stdin and print the <password_hash> value to put in <dashboard>.')
    .action(async () => {
      const { hashPassword } = await import('../../dashboard/auth.js');
      const parts: Buffer[] = [];
      for await (const c of process.stdin) parts.push(c as Buffer);
      const password = Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
      if (password.length < 8) throw new CliError('use a password of at least 8 characters.', { exitCode: 2 });
      process.stdout.write(`${hashPassword(password)}\n`);
    });
}

/** Turn DuckDB's open errors into what the user should do next. */
export function explainStoreOpenError(dataDir: string, error: Error): string {
  const message = error.message;
  if (/database does not exist|No such file/i.test(message)) {
    return `no store in ${dataDir} yet (expected ${dataDir}/store/tld.duckdb). Collect first with \`tld run-once -c FILE --data-dir ${dataDir}\`, \`tld start\` or \`tld demo --data-dir ${dataDir}\`, or point --data-dir at an existing data directory.`;
  }
  const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message);
  if (lock || /lock/i.test(message)) {
    const holder = lock ? ` (PID ${lock[2]}, ${lock[1]})` : '';
    return `the store in ${dataDir} is in use by another process${holder}. The store has one writer: a running \`tld start\` or \`tld demo\` serves this dashboard itself (see its <dashboard> port), so open that one, or stop it and run \`tld dashboard\` again.`;
  }
  return `cannot open the store in ${dataDir}: ${message}`;
}
