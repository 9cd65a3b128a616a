/** The analysis engine: load the ruleset once, then analyse batches of events into alerts. */
import type { RulesetConfig } from '../config/types.js';
import { Analyzer, type AnalyzerOptions } from './engine.js';
import { loadRuleset as load, type CompiledRuleset } from './load-rules.js';

export { Analyzer, type AnalyzerOptions, type Explanation } from './engine.js';
export { RuleLoadError } from './errors.js';
export type { CompiledRuleset } from './load-rules.js';

/** The shipped AWS ruleset plus the user's rules and lists; throws RuleLoadError (file, line, rule id). */
export function loadRuleset(cfg: RulesetConfig): Promise<CompiledRuleset> {
  return load(cfg);
}

export function createAnalyzer(ruleset: CompiledRuleset, opts: AnalyzerOptions): Analyzer {
  return new Analyzer(ruleset, opts);
}
export { compareOccurrences, replayAlerts, replayCore, replayWindows, type Occurrence, type ReplayedAlert, type WindowPartial } from './window-partials.js';
