/**
 * Builds the stages the pipeline composes (rules engine, embedded store). They are imported lazily, so
 * commands that do not need them (check-config, iam-policy) start fast.
 */
import type { TldConfig } from '../config/types.js';
import type { Store } from '../store/index.js';
import type { Logger } from 'pino';
import type { AnalyzerPort, StorePort } from './ports.js';
import type { BulkCounters } from '../indexer/bulk-writer.js';
import type { IndexerPort } from '../indexer/client.js';
import type { CompiledRuleset } from '../analysis/load-rules.js';

/** The rules engine as the pipeline uses it: the port, plus closing the correlation file at the end. */
export type PipelineAnalyzer = AnalyzerPort & {
  analyzeFlows: NonNullable<AnalyzerPort['analyzeFlows']>;
  /** `committedSeq`: seq of the last object marked processed (hits up to it can no longer be undone) */
  persistCorrelation(upToSeq: number, committedSeq?: number): Promise<void>;
  closeCorrelation(): Promise<void>;
  readonly ruleset: CompiledRuleset;
};

/**
 * The rules engine for a configuration; throws the engine's own error (file, line, rule id) on bad rules.
 * `correlationDir`: where `restoreCorrelation` / `persistCorrelation` keep the frequency rules' state
 * (without it the state lives in memory only). `onNote` hears what the loader skipped or replaced. `deferWindows`:
 * frequency rules do not fire here, their occurrences go to the indexer's correlator (the indexer store).
 */
export async function buildAnalyzer(config: TldConfig, now: () => Date, correlationDir?: string, onNote?: (message: string) => void, deferWindows = false): Promise<PipelineAnalyzer> {
  const { loadRuleset, createAnalyzer } = await import('../analysis/index.js');
  const ruleset = await loadRuleset(config.ruleset);
  // what the loader skipped or replaced (rules of other log types in a Wazuh install…), said once per load
  for (const note of ruleset.notes) onNote?.(note.message);
  // rules left out (an element that cannot be evaluated, or a parent left out): the others run
  for (const skipped of ruleset.skipped) onNote?.(skipped);
  return createAnalyzer(ruleset, { logAlertLevel: config.alerts.logAlertLevel, now, ...(correlationDir === undefined ? {} : { correlationDir }), ...(deferWindows ? { deferWindows } : {}) });
}

/** The embedded store (DuckDB) of a data folder, on a thread of its own so its appends run beside decoding. */
export async function openEmbeddedStore(dataDir: string, config: TldConfig): Promise<Store> {
  const { ThreadedStore } = await import('../store/threaded-store.js');
  return ThreadedStore.open(dataDir, config.store);
}

/** The indexer (`<store><backend>indexer</backend>`): Wazuh indexer / OpenSearch / Elasticsearch, src/indexer/. */
export async function openIndexerStore(config: TldConfig, logger: Logger): Promise<StorePort & { close(): Promise<void>; readonly counters: Readonly<BulkCounters>; readonly port: IndexerPort }> {
  const { openIndexerStore: open } = await import('../indexer/index.js');
  return open(config, logger);
}
