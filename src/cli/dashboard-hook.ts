/** Starts the dashboard next to the collector (tld start, tld demo), on the runtime's store and metrics. */
import type { Logger } from 'pino';
import type { Runtime } from '../pipeline/runtime.js';
import { startDashboard, type RunningDashboard } from '../dashboard/server.js';

export async function startDashboardFor(rt: Runtime, logger: Logger): Promise<RunningDashboard | undefined> {
  if (!rt.store) return undefined;
  const server = await startDashboard({ store: rt.store, config: rt.config.dashboard, logger, metrics: rt.metrics });
  logger.info({ url: server.url }, 'Dashboard listening.');
  return server;
}
