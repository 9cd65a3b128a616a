/**
 * Reads Wazuh-format rule files into compiled rules and links them into the evaluation tree. Errors name the
 * file, the line and the rule id; all of them are reported at once.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RulesetConfig } from '../config/types.js';
import { parseXml, type XmlElement } from '../config/xml.js';
import { RuleLoadError } from './errors.js';
import { splitPath } from './fields.js';
import { loadCdbList, type CdbList } from './lists.js';
import { compileOsMatch, compileOsRegex, compilePcre2 } from './osregex.js';
import type { FieldCondition, ListCondition, Rule, ValueTest } from './rule-types.js';

export const SHIPPED_RULES_DIR = fileURLToPath(new URL('./ruleset/rules/', import.meta.url));
export const SHIPPED_LISTS_DIR = fileURLToPath(new URL('./ruleset/lists/', import.meta.url));

export interface CompiledRuleset {
  rules: Map<string, Rule>;
  /** rules without a parent, in load order */
  roots: Rule[];
  files: string[];
  /** every CDB list file loaded (shipped and the user's) */
  lists: string[];
}

const LOOKUPS = new Set(['match_key', 'not_match_key', 'match_key_value', 'not_match_key_value', 'address_match_key', 'not_address_match_key']);
const RULE_CHILDREN = new Set(['if_sid', 'if_group', 'if_matched_sid', 'if_matched_group', 'decoded_as', 'field', 'match', 'regex', 'list', 'same_field', 'different_field', 'description', 'group', 'mitre', 'options', 'info', 'compliance']);

function xmlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

function listFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFilesUnder(p));
    else if (!name.startsWith('.') && !name.endsWith('.cdb')) out.push(p);
  }
  return out;
}

/** `>=7`, `<4`, `4..6.9`, `=5`: a numeric comparison (ThreatLockDown extension, `type="number"`). */
function numericTest(spec: string): ValueTest {
  const range = /^(-?[\d.]+)\.\.(-?[\d.]+)$/.exec(spec);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    return (v) => v !== '' && Number(v) >= lo && Number(v) <= hi;
  }
  const m = /^(>=|<=|>|<|=|==)?\s*(-?\d+(?:\.\d+)?)$/.exec(spec);
  if (!m) throw new Error(`'${spec}' is not a numeric condition (>=N, <N, A..B)`);
  const n = Number(m[2]);
  const op = m[1] ?? '=';
  return (v) => {
    if (v === '') return false;
    const x = Number(v);
    if (Number.isNaN(x)) return false;
    return op === '>=' ? x >= n : op === '<=' ? x <= n : op === '>' ? x > n : op === '<' ? x < n : x === n;
  };
}

function valueTest(type: string | undefined, text: string): ValueTest {
  if (type === 'number') return numericTest(text.trim());
  const re = type === 'pcre2' ? compilePcre2(text) : compileOsRegex(text);
  return (v) => re.test(v);
}

interface Pending {
  rule: Rule;
  listRefs: { el: XmlElement; lookup: string; field: string; check?: string }[];
}

function compileRule(el: XmlElement, file: string, groupNames: string[], problems: string[]): Pending | undefined {
  const id = el.attributes.id ?? '';
  const where = `${file}:${el.line}: rule ${id || '(no id)'}`;
  const bad = (msg: string) => problems.push(`${where}: ${msg}`);
  if (!/^\d+$/.test(id)) {
    bad('the id attribute must be a number');
    return undefined;
  }
  const level = Number(el.attributes.level);
  if (!/^\d+$/.test(el.attributes.level ?? '') || level > 16) bad('the level attribute must be 0–16');
  const num = (attr: string) => {
    const v = el.attributes[attr];
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) bad(`${attr} must be a whole number`);
    return Number(v);
  };
  const rule: Rule = {
    id,
    level,
    file,
    line: el.line,
    overwrite: el.attributes.overwrite === 'yes',
    ifSid: [],
    ifGroup: [],
    ifMatchedSid: [],
    ifMatchedGroup: [],
    fields: [],
    lists: [],
    sameField: [],
    differentField: [],
    description: '',
    groups: [...groupNames],
    mitre: [],
    noLog: false,
    noFullLog: false,
    children: [],
  };
  const frequency = num('frequency');
  const timeframe = num('timeframe');
  const ignore = num('ignore');
  if (frequency !== undefined) rule.frequency = frequency;
  if (timeframe !== undefined) rule.timeframe = timeframe;
  if (ignore !== undefined) rule.ignore = ignore;
  if (el.attributes.timefield) rule.timeField = splitPath(el.attributes.timefield);
  const listRefs: Pending['listRefs'] = [];
  for (const ch of el.children) {
    const text = ch.text.trim();
    const at = `${file}:${ch.line}: rule ${id}`;
    try {
      switch (ch.name) {
        case 'if_sid':
          rule.ifSid.push(...text.split(/[,\s]+/).filter(Boolean));
          break;
        case 'if_group':
          rule.ifGroup.push(...text.split(/[,\s]+/).filter(Boolean));
          break;
        case 'if_matched_sid':
          rule.ifMatchedSid.push(...text.split(/[,\s]+/).filter(Boolean));
          break;
        case 'if_matched_group':
          rule.ifMatchedGroup.push(...text.split(/[,\s]+/).filter(Boolean));
          break;
        case 'decoded_as':
          rule.decodedAs = text;
          break;
        case 'field': {
          const name = ch.attributes.name;
          if (!name) throw new Error('<field> needs a name attribute');
          const type = ch.attributes.type;
          if (type && !['osregex', 'pcre2', 'number', 'osmatch'].includes(type)) throw new Error(`unknown field type '${type}' (osregex, pcre2, number)`);
          const cond: FieldCondition = { name, path: splitPath(name), test: type === 'osmatch' ? ((re) => (v: string) => re.test(v))(compileOsMatch(text)) : valueTest(type, text), negate: ch.attributes.negate === 'yes', key: `${type}\u0000${name}\u0000${text}` };
          rule.fields.push(cond);
          break;
        }
        case 'match':
          rule.match = { re: ch.attributes.type === 'pcre2' ? compilePcre2(text) : compileOsMatch(text), negate: ch.attributes.negate === 'yes' };
          break;
        case 'regex':
          rule.regex = { re: ch.attributes.type === 'pcre2' ? compilePcre2(text) : compileOsRegex(text), negate: ch.attributes.negate === 'yes' };
          break;
        case 'list': {
          const lookup = ch.attributes.lookup ?? 'match_key';
          if (!LOOKUPS.has(lookup)) throw new Error(`unknown list lookup '${lookup}'`);
          if (!ch.attributes.field) throw new Error('<list> needs a field attribute');
          listRefs.push({ el: ch, lookup, field: ch.attributes.field, ...(ch.attributes.check ? { check: ch.attributes.check } : {}) });
          break;
        }
        case 'same_field':
          rule.sameField.push(splitPath(text));
          break;
        case 'different_field':
          rule.differentField.push(splitPath(text));
          break;
        case 'description':
          rule.description = text;
          break;
        case 'group':
          rule.groups.push(...text.split(',').map((g) => g.trim()).filter(Boolean));
          break;
        case 'mitre':
          for (const m of ch.children) if (m.name === 'id') rule.mitre.push(m.text.trim());
          break;
        case 'options':
          for (const o of text.split(',').map((s) => s.trim())) {
            if (o === 'no_log') rule.noLog = true;
            else if (o === 'no_full_log') rule.noFullLog = true;
          }
          break;
        default:
          if (!RULE_CHILDREN.has(ch.name)) throw new Error(`unknown element <${ch.name}>`);
      }
    } catch (e) {
      problems.push(`${at}: ${(e as Error).message}`);
    }
  }
  if (rule.frequency !== undefined && rule.timeframe === undefined) bad('frequency needs timeframe');
  if (!rule.description) bad('missing <description>');
  return { rule, listRefs };
}

function readRuleFile(file: string, problems: string[]): Pending[] {
  const { root, problems: xml } = parseXml(readFileSync(file, 'utf8'));
  for (const p of xml) problems.push(`${file}:${p.line}: malformed XML: ${p.message}`);
  const out: Pending[] = [];
  const walk = (el: XmlElement, groups: string[]) => {
    for (const ch of el.children) {
      if (ch.name === 'group') walk(ch, [...groups, ...(ch.attributes.name ?? '').split(',').map((g) => g.trim()).filter(Boolean)]);
      else if (ch.name === 'rule') {
        const p = compileRule(ch, file, groups, problems);
        if (p) out.push(p);
      } else if (ch.name === 'var') continue;
      else problems.push(`${file}:${ch.line}: unexpected <${ch.name}> (rule files hold <group> and <rule>)`);
    }
  };
  walk(root, []);
  return out;
}

function resolveList(ref: string, lists: CdbList[]): CdbList | undefined {
  return lists.find((l) => l.path === ref || l.path.endsWith(`/${ref}`) || ref.endsWith(`/${basename(l.path)}`) || basename(l.path) === basename(ref));
}

/** Loads the shipped ruleset, then the user's rules and lists; throws RuleLoadError with every problem. */
export async function loadRuleset(cfg: RulesetConfig): Promise<CompiledRuleset> {
  const problems: string[] = [];
  const lists: CdbList[] = [];
  for (const path of [...listFilesUnder(SHIPPED_LISTS_DIR), ...cfg.lists]) {
    try {
      lists.push(loadCdbList(path));
    } catch (e) {
      const message = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'CDB list file not found' : (e as Error).message;
      problems.push(message.startsWith(`${path}:`) ? message : `${path}: ${message}`);
    }
  }
  const files = [
    ...xmlFiles(SHIPPED_RULES_DIR).filter((f) => !cfg.ruleExcludes.includes(basename(f))),
    ...cfg.ruleDirs.flatMap((d) => {
      if (!existsSync(d)) problems.push(`${d}: rule folder not found`);
      else if (!statSync(d).isDirectory()) problems.push(`${d}: not a folder (use <rule_include> for one rule file)`);
      else return xmlFiles(d);
      return [];
    }),
    ...cfg.ruleFiles,
  ];
  const rules = new Map<string, Rule>();
  const order: Rule[] = [];
  for (const file of files) {
    if (!existsSync(file)) {
      problems.push(`${file}: rule file not found`);
      continue;
    }
    for (const { rule, listRefs } of readRuleFile(file, problems)) {
      for (const ref of listRefs) {
        const list = resolveList(ref.el.text.trim(), lists);
        if (!list) {
          problems.push(`${file}:${ref.el.line}: rule ${rule.id}: list '${ref.el.text.trim()}' is not loaded (add it with <list> in <ruleset>)`);
          continue;
        }
        const cond: ListCondition = { field: ref.field, path: splitPath(ref.field), lookup: ref.lookup as ListCondition['lookup'], list, ...(ref.check ? { check: compileOsRegex(ref.check) } : {}) };
        rule.lists.push(cond);
      }
      const prev = rules.get(rule.id);
      if (prev) {
        if (!rule.overwrite) {
          problems.push(`${file}:${rule.line}: rule ${rule.id}: id already used at ${prev.file}:${prev.line} (use overwrite="yes" to replace it)`);
          continue;
        }
        order[order.indexOf(prev)] = rule;
      } else order.push(rule);
      rules.set(rule.id, rule);
    }
  }
  // link the tree: if_sid / if_matched_sid parents, if_group / if_matched_group parents
  const roots: Rule[] = [];
  for (const rule of order) {
    const parentIds = [...rule.ifSid, ...rule.ifMatchedSid];
    const parentGroups = [...rule.ifGroup, ...rule.ifMatchedGroup];
    if (parentIds.length === 0 && parentGroups.length === 0) {
      roots.push(rule);
      continue;
    }
    for (const pid of parentIds) {
      const parent = rules.get(pid);
      if (!parent) problems.push(`${rule.file}:${rule.line}: rule ${rule.id}: parent rule ${pid} does not exist`);
      else parent.children.push(rule);
    }
    for (const g of parentGroups) {
      const parents = order.filter((r) => r !== rule && r.groups.includes(g));
      if (parents.length === 0) problems.push(`${rule.file}:${rule.line}: rule ${rule.id}: no rule is in group '${g}'`);
      for (const p of parents) p.children.push(rule);
    }
  }
  if (problems.length) throw new RuleLoadError(problems);
  return { rules, roots, files, lists: lists.map((l) => l.path) };
}
