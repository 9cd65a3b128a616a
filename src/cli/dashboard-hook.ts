/** Starts the dashboard next to the collector when this build has one (src/dashboard). */
import type { Logger } from 'pino';
import type { Runtime } from '../pipeline/runtime.js';

interface DashboardModule {
  startDashboard(deps: { store: unknown; config: Runtime['config']['dashboard']; logger: Logger; metrics?: unknown; dataDir?: string }): Promise<{ url: string; close(): Promise<void> }>;
}

export async function startDashboardFor(rt: Runtime, logger: Logger): Promise<(() => Promise<void>) | void> {
  let mod: DashboardModule;
  try {
    mod = (await import(new URL('../dashboard/server.js', import.meta.url).href)) as DashboardModule;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /dashboard\/server/.test((e as Error).message)) {
      logger.warn('This build has no dashboard; collecting only.');
      return;
    }
    throw e;
  }
  if (!rt.store) return;
  const server = await mod.startDashboard({ store: rt.store, config: rt.config.dashboard, logger, metrics: rt.metrics, dataDir: rt.dataDir });
  logger.info({ url: server.url }, 'Dashboard listening.');
  return () => server.close();
}
