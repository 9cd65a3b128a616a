/**
 * Builds the stages the pipeline composes (rules engine, embedded store). They are imported lazily, so
 * commands that do not need them (check-config, iam-policy) start fast.
 */
import type { TldConfig } from '../config/types.js';
import type { Store } from '../store/index.js';
import type { AnalyzerPort } from './ports.js';

/** The rules engine for a configuration; throws the engine's own error (file, line, rule id) on bad rules. */
export async function buildAnalyzer(config: TldConfig, now: () => Date): Promise<AnalyzerPort> {
  const { loadRuleset, createAnalyzer } = await import('../analysis/index.js');
  const ruleset = await loadRuleset(config.ruleset);
  return createAnalyzer(ruleset, { logAlertLevel: config.alerts.logAlertLevel, now });
}

/** The embedded store (DuckDB) of a data folder. */
export async function openEmbeddedStore(dataDir: string, config: TldConfig): Promise<Store> {
  const { openStore } = await import('../store/index.js');
  return openStore(dataDir, config.store);
}
