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
import { dropOrphans, linkTree } from './rule-tree.js';
import { splitPath } from './fields.js';
import { loadCdbList, type CdbList } from './lists.js';
import { compileOsMatch, compileOsRegex, compilePcre2 } from './osregex.js';
import { applyVariables, checkFieldName, isStaticElement, patternTest, splitCompliance, staticCondition, timeTest, weekdayTest } from './rule-elements.js';
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
  /** rules left out, each with why (an element we cannot evaluate, or a parent left out): report them once */
  skipped: string[];
}

const LOOKUPS = new Set(['match_key', 'not_match_key', 'match_key_value', 'not_match_key_value', 'address_match_key', 'not_address_match_key', 'address_match_key_value']);

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
  return patternTest(type ?? 'osregex', text);
}

interface Pending {
  rule: Rule;
  listRefs: { el: XmlElement; lookup: string; field: string; check?: string }[];
}

/** `same_<static>` / `different_<static>` elements: the static field they compare (rules.c FIELD_*). */
const SAME_STATIC: Record<string, string[]> = {
  srcip: ['srcip'],
  source_ip: ['srcip'],
  dstip: ['dstip'],
  srcport: ['srcport'],
  src_port: ['srcport'],
  dstport: ['dstport'],
  dst_port: ['dstport'],
  protocol: ['protocol'],
  action: ['action'],
  id: ['id'],
  url: ['url'],
  data: ['data'],
  extra_data: ['extra_data'],
  status: ['status'],
  system_name: ['systemname'],
  srcuser: ['srcuser'],
  user: ['dstuser'],
  srcgeoip: ['srcgeoip'],
  dstgeoip: ['dstgeoip'],
};

/** Elements analysisd accepts that change nothing for our events (documentation, or sources we do not have). */
const INERT = new Set(['info', 'cve', 'compliance', 'global_frequency', 'same_location', 'same_agent', 'check_if_ignored']);

const OPTIONS = new Set(['no_log', 'no_full_log', 'alert_by_email', 'no_email_alert', 'no_counter', 'no_ar']);

const CATEGORIES = new Set(['firewall', 'ids', 'syslog', 'web-log', 'squid', 'windows', 'ossec']);

/**
 * One `<rule>`. Problems with its id or level go to `problems` (the ruleset is refused, as analysisd refuses it);
 * an element the rule cannot use (unknown, or a pattern that does not compile) makes the rule unusable: it is
 * reported in `skipped` and left out, and the other rules load.
 */
function compileRule(el: XmlElement, file: string, groupNames: string[], problems: string[], skipped: string[]): Pending | undefined {
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
    oncePerWindow: el.attributes.once_per_window === 'yes',
    fields: [],
    lists: [],
    when: [],
    sameField: [],
    differentField: [],
    description: '',
    groups: [...groupNames],
    alertGroups: [],
    compliance: { pci_dss: [], gdpr: [], hipaa: [], nist_800_53: [], tsc: [], gpg13: [] },
    mitre: [],
    noLog: false,
    noFullLog: false,
    noAlert: el.attributes.noalert === '1',
    mail: false,
    noCounter: false,
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
  const unusable: string[] = [];
  for (const ch of el.children) {
    const text = ch.text.trim();
    const at = `${file}:${ch.line}: rule ${id}`;
    const negate = ch.attributes.negate === 'yes';
    try {
      if (isStaticElement(ch.name)) {
        rule.fields.push(staticCondition(ch, text, negate));
        continue;
      }
      const sameDiff = /^(same|different|not_same)_(.+)$/.exec(ch.name);
      if (sameDiff && sameDiff[2] !== 'field' && SAME_STATIC[sameDiff[2]!]) {
        (sameDiff[1] === 'same' ? rule.sameField : rule.differentField).push(SAME_STATIC[sameDiff[2]!]!);
        continue;
      }
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
        case 'if_level':
          if (!/^\d+$/.test(text)) throw new Error(`<if_level> must be a level 0–16, not '${text}'`);
          rule.ifLevel = Number(text);
          break;
        case 'decoded_as':
          rule.decodedAs = text;
          break;
        case 'category':
          if (!CATEGORIES.has(text)) throw new Error(`unknown category '${text}' (${[...CATEGORIES].join(', ')})`);
          // the JSON decoder is of the default type, syslog: rules of another category never see its events
          if (text !== 'syslog') rule.never = `its <category> is ${text}; events decoded as JSON are of category syslog`;
          break;
        case 'field': {
          const name = ch.attributes.name;
          if (!name) throw new Error('<field> needs a name attribute');
          checkFieldName(name);
          const type = ch.attributes.type?.toLowerCase();
          if (type && !['osregex', 'pcre2', 'number', 'osmatch'].includes(type)) throw new Error(`unknown field type '${type}' (osregex, osmatch, pcre2, number)`);
          const cond: FieldCondition = { name, path: splitPath(name), test: valueTest(type, text), negate, key: `${type}\u0000${name}\u0000${text}` };
          rule.fields.push(cond);
          break;
        }
        case 'match':
          rule.match = { re: ch.attributes.type === 'pcre2' ? compilePcre2(text) : ch.attributes.type === 'osregex' ? compileOsRegex(text) : compileOsMatch(text), negate };
          break;
        case 'regex':
          rule.regex = { re: ch.attributes.type === 'pcre2' ? compilePcre2(text) : ch.attributes.type === 'osmatch' ? compileOsMatch(text) : compileOsRegex(text), negate };
          break;
        case 'list': {
          const lookup = ch.attributes.lookup ?? 'match_key';
          if (!LOOKUPS.has(lookup)) throw new Error(`unknown list lookup '${lookup}'`);
          if (!ch.attributes.field) throw new Error('<list> needs a field attribute');
          const check = ch.attributes.check_value ?? ch.attributes.check;
          listRefs.push({ el: ch, lookup, field: ch.attributes.field, ...(check !== undefined ? { check } : {}) });
          break;
        }
        case 'time':
          rule.when.push(timeTest(text));
          break;
        case 'weekday':
          rule.when.push(weekdayTest(text));
          break;
        case 'same_field':
          rule.sameField.push(splitPath(text));
          break;
        case 'different_field':
          rule.differentField.push(splitPath(text));
          break;
        case 'description':
          rule.description = text.replace(/\n/g, ' ');
          break;
        case 'group':
          rule.groups.push(...text.split(',').map((g) => g.trim()).filter(Boolean));
          break;
        case 'mitre':
          for (const m of ch.children) if (m.name === 'id') rule.mitre.push(m.text.trim());
          break;
        case 'options':
          for (const o of text.split(',').map((x) => x.trim()).filter(Boolean)) {
            if (!OPTIONS.has(o)) throw new Error(`unknown option '${o}' (${[...OPTIONS].join(', ')})`);
            if (o === 'no_log') rule.noLog = true;
            else if (o === 'no_full_log') rule.noFullLog = true;
            else if (o === 'alert_by_email') rule.mail = true;
            else if (o === 'no_email_alert') rule.mail = false;
            else if (o === 'no_counter') rule.noCounter = true;
          }
          break;
        default:
          if (!INERT.has(ch.name)) throw new Error(`<${ch.name}> is not an element ThreatLockDown evaluates`);
      }
    } catch (e) {
      unusable.push(`${at}: ${(e as Error).message}`);
    }
  }
  if (rule.frequency !== undefined && rule.timeframe === undefined) bad('frequency needs timeframe');
  if (!rule.description) bad('missing <description>');
  const split = splitCompliance(rule.groups);
  rule.alertGroups = split.groups;
  rule.compliance = split.compliance;
  if (unusable.length) {
    skipped.push(`${unusable.join('; ')} (rule ${id} skipped; the other rules are loaded)`);
    return undefined;
  }
  return { rule, listRefs };
}

function readRuleFile(file: string, problems: string[], skipped: string[]): Pending[] {
  const { root, problems: xml } = parseXml(readFileSync(file, 'utf8'));
  for (const p of xml) problems.push(`${file}:${p.line}: malformed XML: ${p.message}`);
  applyVariables(root);
  const out: Pending[] = [];
  const walk = (el: XmlElement, groups: string[]) => {
    for (const ch of el.children) {
      if (ch.name === 'group') walk(ch, [...groups, ...(ch.attributes.name ?? '').split(',').map((g) => g.trim()).filter(Boolean)]);
      else if (ch.name === 'rule') {
        const p = compileRule(ch, file, groups, problems, skipped);
        if (p) out.push(p);
      } else if (ch.name === 'var') continue;
      else problems.push(`${file}:${ch.line}: unexpected <${ch.name}> (rule files hold <group> and <rule>)`);
    }
  };
  walk(root, []);
  return out;
}

function resolveList(ref: string, lists: CdbList[]): CdbList | undefined {
  // the user's lists (loaded after the shipped ones) win over a shipped list of the same name
  return [...lists].reverse().find((l) => l.path === ref || l.path.endsWith(`/${ref}`) || ref.endsWith(`/${basename(l.path)}`) || basename(l.path) === basename(ref));
}

/** Loads the shipped ruleset, then the user's rules and lists; throws RuleLoadError with every problem. */
export async function loadRuleset(cfg: RulesetConfig): Promise<CompiledRuleset> {
  const problems: string[] = [];
  const skipped: string[] = [];
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
    for (const { rule, listRefs } of readRuleFile(file, problems, skipped)) {
      for (const ref of listRefs) {
        const list = resolveList(ref.el.text.trim(), lists);
        if (!list) {
          problems.push(`${file}:${ref.el.line}: rule ${rule.id}: list '${ref.el.text.trim()}' is not loaded (add it with <list> in <ruleset>)`);
          continue;
        }
        const cond: ListCondition = { field: ref.field, path: splitPath(ref.field), lookup: ref.lookup as ListCondition['lookup'], list, ...(ref.check !== undefined ? { check: compileOsMatch(ref.check) } : {}) };
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
  const kept = dropOrphans(order, rules, skipped);
  const roots = linkTree(kept, rules, problems);
  if (problems.length) throw new RuleLoadError([...problems, ...skipped]);
  return { rules, roots, files, lists: lists.map((l) => l.path), skipped };
}
