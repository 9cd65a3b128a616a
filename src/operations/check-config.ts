/**
 * `tld check-config`'s whole check: the configuration files (src/config/load.ts), then the rules and CDB lists
 * exactly as `tld run-once` loads them (the shipped ruleset plus the user's `<ruleset>`). Every problem comes
 * back as a ConfigIssue naming a file and a line: a rule file's own line for a broken rule, the `<rule_dir>`,
 * `<rule_include>` or `<list>` line of the configuration for a path that is not there.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadConfig, type RulesetOrigins } from '../config/load.js';
import { ConfigError, type ConfigIssue } from '../config/errors.js';
import type { TldConfig } from '../config/types.js';
import { loadRuleset, RuleLoadError } from '../analysis/index.js';
import { SHIPPED_RULES_DIR, type RulesetNote } from '../analysis/load-rules.js';

export interface ConfigCheck {
  /** undefined when the configuration itself has errors */
  config?: TldConfig;
  /** errors and warnings, configuration first, then rules and lists */
  issues: ConfigIssue[];
  /** what was loaded, when the rules loaded */
  rules?: { rules: number; files: number; lists: number };
}

const NOT_FOUND = { rule_dir: 'rule folder', rule_include: 'rule file', list: 'CDB list file' } as const;

/** A RuleLoadError line (`FILE:LINE: message` or `PATH: message`) as an issue. */
function issueOf(problem: string, lists: Set<string>, origins: RulesetOrigins): ConfigIssue {
  const at = /^(.+?):(\d+): (.*)$/s.exec(problem);
  if (at) {
    const [, file = '', line = '0', message = ''] = at;
    const tag = lists.has(file) ? 'list' : message.startsWith('malformed XML') ? 'xml' : 'rule';
    return { severity: 'error', file, line: Number(line), tag, message };
  }
  const [path = '', message = problem] = problem.split(/: (.*)$/s);
  const origin = origins.get(path);
  if (origin) return { severity: 'error', file: origin.file, line: origin.line, tag: origin.tag, message: `${path}: ${message}` };
  return { severity: 'error', file: path, line: 0, tag: lists.has(path) ? 'list' : 'rule', message };
}

/** A loader note at the configuration line of what it is about (a `<rule_dir>`, a `<list>`…). */
function noteIssue(note: RulesetNote, config: TldConfig, origins: RulesetOrigins): ConfigIssue {
  const origin = origins.get(note.path);
  return { severity: 'note', file: origin?.file ?? config.files[0] ?? '', line: origin?.line ?? 0, tag: origin?.tag ?? 'ruleset', message: note.message };
}

export async function checkConfiguration(files: string[]): Promise<ConfigCheck> {
  let loaded;
  try {
    loaded = await loadConfig(files);
  } catch (e) {
    if (e instanceof ConfigError) return { issues: e.issues };
    throw e;
  }
  const { config, warnings, rulesetOrigins } = loaded;
  const issues: ConfigIssue[] = [...warnings];
  const missing = new Set<string>();
  const from = config.ruleset.installDir === undefined ? '' : ` (relative paths are read from the install folder ${config.ruleset.installDir}; set <install_dir> if that is not it)`;
  for (const [path, origin] of rulesetOrigins) {
    if (origin.tag === 'rule_exclude' || origin.tag === 'decoder_dir') continue;
    if (!existsSync(path)) {
      missing.add(path);
      const what = NOT_FOUND[origin.tag as keyof typeof NOT_FOUND] ?? 'file';
      issues.push({ severity: 'error', file: origin.file, line: origin.line, tag: origin.tag, message: `${what} ${path} not found${from}` });
    }
  }
  // an exclude is a file name (any folder) or a path; warn when it matches no file that would be read
  const shipped = readdirSync(SHIPPED_RULES_DIR);
  const candidates = new Set([...shipped, ...config.ruleset.ruleFiles, ...config.ruleset.ruleFiles.map((f) => basename(f))]);
  for (const dir of config.ruleset.ruleDirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir)) candidates.add(name).add(join(dir, name));
  }
  const wazuhDefault = config.ruleset.installDir === undefined ? undefined : join(config.ruleset.installDir, 'ruleset', 'rules');
  for (const name of config.ruleset.ruleExcludes) {
    if (candidates.has(name) || (wazuhDefault !== undefined && dirname(name) === wazuhDefault && shipped.includes(basename(name)))) continue;
    const origin = rulesetOrigins.get(name);
    issues.push({ severity: 'warning', file: origin?.file ?? config.files[0] ?? '', line: origin?.line ?? 0, tag: 'rule_exclude', message: `no shipped rule file is named '${name}' and no <rule_dir> holds it; nothing is excluded (shipped: ${shipped.join(', ')})` });
  }
  try {
    const ruleset = await loadRuleset(config.ruleset);
    for (const note of ruleset.notes) issues.push(noteIssue(note, config, rulesetOrigins));
    // rules left out (an element we cannot evaluate, or their parent left out): the others run
    for (const skipped of ruleset.skipped) issues.push({ ...issueOf(skipped, new Set(config.ruleset.lists), rulesetOrigins), severity: 'warning' });
    return { config, issues, rules: { rules: ruleset.rules.size, files: ruleset.files.length, lists: ruleset.lists.length } };
  } catch (e) {
    if (!(e instanceof RuleLoadError)) throw e;
    const lists = new Set(config.ruleset.lists);
    for (const problem of e.problems) {
      const issue = issueOf(problem, lists, rulesetOrigins);
      // a path already reported as not found at its configuration line
      if ([...missing].some((p) => issue.message.startsWith(`${p}: `) || issue.file === p)) continue;
      issues.push(issue);
    }
    return { config, issues };
  }
}
