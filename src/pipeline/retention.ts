/**
 * Store retention (`<store><flow_retention_days>`, `<alert_retention_days>`): drops flows, alerts, GuardDuty
 * findings and per-object health rows older than their horizon through the store's writer queue (so it waits for, and never
 * interleaves with, the collector's commits), logs what went and records it in the metrics. `tld start` runs
 * it at start and then daily; `tld run-once` before it collects; `tld replay` never.
 */
import type { Logger } from 'pino';
import type { StoreConfig } from '../config/types.js';
import type { Store } from '../store/index.js';
import type { CollectorMetrics } from './metrics.js';

export interface RetentionOutcome {
  /** rows older than the horizon when the run started, per table (0 where that retention is off) */
  removed: { flows: number; alerts: number; objects: number; findings: number };
  ms: number;
}

/** The tables and the time column each is pruned by, with the option that sets its horizon. */
const TABLES = [
  { table: 'flows', column: 'ts', days: (c: StoreConfig) => c.flowRetentionDays },
  { table: 'alerts', column: 'ts', days: (c: StoreConfig) => c.alertRetentionDays },
  { table: 'objects', column: 'processed_at', days: (c: StoreConfig) => c.alertRetentionDays },
  { table: 'findings', column: 'last_seen', days: (c: StoreConfig) => c.alertRetentionDays },
] as const;

/**
 * Applies retention once. `cfg` must be the configuration the store was opened with (the store prunes by that
 * one; a reloaded `<store>` waits for a restart). Rows are counted just before the delete with the store's own
 * horizon; a row older than the horizon that arrives between the count and the delete goes uncounted.
 */
export async function applyRetention(store: Store, cfg: StoreConfig, now: Date, logger: Logger, metrics?: CollectorMetrics): Promise<RetentionOutcome> {
  const started = Date.now();
  const removed = { flows: 0, alerts: 0, objects: 0, findings: 0 };
  try {
    for (const t of TABLES) {
      const days = t.days(cfg);
      if (days <= 0) continue;
      const [row] = await store.query(`SELECT count(*)::BIGINT AS n FROM ${t.table} WHERE ${t.column} < $1::TIMESTAMP - INTERVAL (${days}) DAY`, [now.toISOString()]);
      removed[t.table] = Number(row?.n ?? 0);
    }
    await store.applyRetention(now);
  } catch (e) {
    metrics?.retentionFailures.inc();
    logger.error({ error: (e as Error).message }, 'Retention failed; old rows stay until the next run.');
    throw e;
  }
  const ms = Date.now() - started;
  if (metrics) {
    for (const [table, n] of Object.entries(removed)) metrics.retentionRemoved.inc({ table }, n);
    metrics.retentionLastRun.set(now.getTime() / 1000);
  }
  logger.info({ removed, flowRetentionDays: cfg.flowRetentionDays, alertRetentionDays: cfg.alertRetentionDays, ms }, 'Retention applied.');
  return { removed, ms };
}

/**
 * Runs retention now and then every `everyMs` (default daily) until stopped. A run never overlaps the previous
 * one (the next is scheduled when it ends); `stop()` waits for a run in progress, so the store can then close.
 */
export class RetentionSchedule {
  readonly #run: () => Promise<unknown>;
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(run: () => Promise<unknown>, everyMs = 86_400_000) {
    this.#run = run;
    this.#everyMs = everyMs;
  }

  /** Runs once (failures are logged by the run) and schedules the next. */
  async runNow(): Promise<void> {
    if (this.#stopped) return;
    if (this.#running) return this.#running;
    clearTimeout(this.#timer);
    this.#running = this.#run().then(
      () => undefined,
      () => undefined,
    );
    await this.#running;
    this.#running = undefined;
    if (!this.#stopped) this.#timer = setTimeout(() => void this.runNow(), this.#everyMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
