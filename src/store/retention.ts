/**
 * Owns the store's pruning by age (`<store><flow_retention_days>`, `<alert_retention_days>`): flows by record
 * time, alerts and object health rows by when they were written, GuardDuty findings by when they were last seen
 * (a finding still updated stays), and the interface numbers no flow uses any more. src/pipeline/retention.ts schedules it, counts and logs what goes.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { StoreConfig } from '../config/types.js';
import { pruneRollups } from './rollups.js';

/** Deletes what is older than the horizons; true when flows were pruned (the interface dictionary shrank). */
export async function pruneByAge(conn: DuckDBConnection, cfg: StoreConfig, now: Date): Promise<boolean> {
  const at = [now.toISOString()];
  if (cfg.alertRetentionDays > 0) {
    await conn.run(`DELETE FROM alerts WHERE ts < $1::TIMESTAMP - INTERVAL (${cfg.alertRetentionDays}) DAY`, at);
    // ingestion health per object: the same horizon (the table would otherwise grow with every object ever read)
    await conn.run(`DELETE FROM objects WHERE processed_at < $1::TIMESTAMP - INTERVAL (${cfg.alertRetentionDays}) DAY`, at);
    await conn.run(`DELETE FROM findings WHERE last_seen < $1::TIMESTAMP - INTERVAL (${cfg.alertRetentionDays}) DAY`, at);
  }
  if (cfg.flowRetentionDays <= 0) return false;
  const horizon = `$1::TIMESTAMP - INTERVAL (${cfg.flowRetentionDays}) DAY`;
  // flows and their rollups in one transaction: a reader sees both pruned or neither (rollups.ts)
  await conn.run('BEGIN TRANSACTION');
  try {
    await pruneRollups(conn, horizon, at);
    await conn.run(`DELETE FROM flows WHERE ts < ${horizon}`, at);
    await conn.run('COMMIT');
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
  await conn.run('DELETE FROM flow_interfaces WHERE iface NOT IN (SELECT DISTINCT iface FROM flows WHERE iface IS NOT NULL)');
  return true;
}
