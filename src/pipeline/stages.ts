/**
 * Loads the optional stages (rules engine, embedded store) that the pipeline composes. They are imported
 * lazily, so commands that do not need them (check-config, iam-policy) start fast.
 */
import type { Logger } from 'pino';
import type { TldConfig } from '../config/types.js';
import type { AnalyzerPort, StorePort } from './ports.js';

interface AnalysisModule {
  loadRuleset(cfg: TldConfig['ruleset']): Promise<unknown>;
  createAnalyzer(ruleset: unknown, opts: { logAlertLevel: number; now?: () => Date }): AnalyzerPort;
}

interface StoreModule {
  openStore(dataDir: string, cfg: TldConfig['store']): Promise<StorePort & Record<string, unknown>>;
}

/** Imports `../<relative>` if that module exists in this build; other import errors are real errors. */
async function optionalImport<T>(relative: string): Promise<T | undefined> {
  try {
    return (await import(new URL(`../${relative}`, import.meta.url).href)) as T;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(relative.replace(/\.js$/, ''));
    if (missing) return undefined;
    throw e;
  }
}

/** The rules engine for a configuration; throws the engine's own error (file, line, rule id) on bad rules. */
export async function buildAnalyzer(config: TldConfig, now: () => Date, logger: Logger): Promise<AnalyzerPort> {
  const mod = await optionalImport<AnalysisModule>('analysis/index.js');
  if (!mod) {
    logger.warn('The rules engine is not part of this build: events are collected, archived and stored, but no alert is raised.');
    return { analyze() {} };
  }
  const ruleset = await mod.loadRuleset(config.ruleset);
  return mod.createAnalyzer(ruleset, { logAlertLevel: config.alerts.logAlertLevel, now });
}

/** The embedded store, or undefined when this build has none. */
export async function openEmbeddedStore(dataDir: string, config: TldConfig): Promise<(StorePort & Record<string, unknown>) | undefined> {
  const mod = await optionalImport<StoreModule>('store/index.js');
  return mod ? mod.openStore(dataDir, config.store) : undefined;
}
