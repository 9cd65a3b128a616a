/**
 * Reads Wazuh-format rule files into compiled rules and links them into the evaluation tree. Errors name the
 * file, the line and the rule id; all of them are reported at once.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
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
  /** every CDB list file read (shipped, the user's, the install folder's): only those a loaded rule uses */
  lists: string[];
  /** what was skipped or replaced, to tell the user once */
  notes: RulesetNote[];
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

interface Compiled {
  rule: Rule;
  listRefs: { el: XmlElement; lookup: string; field: string; check?: string }[];
}

/** Words of a rule's `<if_sid>`-like children (split as compileRule splits them). */
function words(el: XmlElement, name: string): string[] {
  return el.children.filter((c) => c.name === name).flatMap((c) => c.text.trim().split(/[,\s]+/).filter(Boolean));
}

/**
 * A rule as read from its file. Its id, groups, parents and log type come from the XML; the rule itself is
 * compiled (patterns, lists…) only when asked, so the thousands of rules of a whole Wazuh ruleset that are for
 * other log types cost a parse, not a compile.
 */
class Pending {
  readonly id: string;
  readonly groups: string[];
  readonly parentIds: string[];
  readonly parentGroups: string[];
  /** `<decoded_as>` other than json, or a `<category>`: a rule for another log type */
  readonly otherLogType: string | undefined;
  #compiled: { compiled: Compiled | undefined; problems: string[]; skipped: string[] } | undefined;

  constructor(
    readonly el: XmlElement,
    readonly file: string,
    readonly groupNames: string[],
  ) {
    this.id = el.attributes.id ?? '';
    this.groups = [...groupNames, ...el.children.filter((c) => c.name === 'group').flatMap((c) => c.text.split(',').map((g) => g.trim()).filter(Boolean))];
    this.parentIds = [...words(el, 'if_sid'), ...words(el, 'if_matched_sid')];
    this.parentGroups = [...words(el, 'if_group'), ...words(el, 'if_matched_group')];
    this.otherLogType = otherLogType(el);
  }

  #compile(): { compiled: Compiled | undefined; problems: string[]; skipped: string[] } {
    if (!this.#compiled) {
      const problems: string[] = [];
      const skipped: string[] = [];
      const compiled = compileRule(this.el, this.file, this.groupNames, problems, skipped); // the id was checked when read
      this.#compiled = { compiled, problems, skipped };
    }
    return this.#compiled;
  }

  /** the compiled rule; undefined when it is left out (see `skipped`) */
  get compiled(): Compiled | undefined {
    return this.#compile().compiled;
  }
  /** what is wrong with the rule: errors when it applies to AWS events, nothing to report otherwise */
  get problems(): string[] {
    return this.#compile().problems;
  }
  /** why the rule is left out (an element it uses cannot be evaluated): reported, the other rules load */
  get skipped(): string[] {
    return this.#compile().skipped;
  }
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
function compileRule(el: XmlElement, file: string, groupNames: string[], problems: string[], skipped: string[]): Compiled | undefined {
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
  const alertId = el.attributes.alert_id;
  if (alertId !== undefined) {
    if (/^\d+$/.test(alertId)) rule.alertId = alertId;
    else bad('the alert_id attribute must be a rule id (a number)');
  }
  const frequency = num('frequency');
  const timeframe = num('timeframe');
  const ignore = num('ignore');
  if (frequency !== undefined) rule.frequency = frequency;
  if (timeframe !== undefined) rule.timeframe = timeframe;
  if (ignore !== undefined) rule.ignore = ignore;
  if (el.attributes.timefield) rule.timeField = splitPath(el.attributes.timefield);
  const listRefs: Compiled['listRefs'] = [];
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

/** Why a rule is for another log type than AWS events (JSON from the aws-s3 module), or undefined. */
function otherLogType(el: XmlElement): string | undefined {
  const decoder = el.children.find((c) => c.name === 'decoded_as')?.text.trim();
  if (decoder && decoder !== 'json') return 'decoded_as';
  // the JSON decoder's events are of category syslog: a rule of another category never sees them
  if (el.children.some((c) => c.name === 'category' && c.text.trim() !== 'syslog')) return 'category';
  return undefined;
}

function readRuleFile(file: string, fileProblems: string[]): Pending[] {
  const { root, problems: xml } = parseXml(readFileSync(file, 'utf8'));
  for (const p of xml) fileProblems.push(`${file}:${p.line}: malformed XML: ${p.message}`);
  applyVariables(root);
  const out: Pending[] = [];
  const walk = (el: XmlElement, groups: string[]) => {
    for (const ch of el.children) {
      if (ch.name === 'group') walk(ch, [...groups, ...(ch.attributes.name ?? '').split(',').map((g) => g.trim()).filter(Boolean)]);
      else if (ch.name === 'rule') {
        const id = ch.attributes.id ?? '';
        if (/^\d+$/.test(id)) out.push(new Pending(ch, file, groups));
        else if (!otherLogType(ch)) fileProblems.push(`${file}:${ch.line}: rule ${id || '(no id)'}: the id attribute must be a number`);
      } else if (ch.name === 'var') continue;
      else fileProblems.push(`${file}:${ch.line}: unexpected <${ch.name}> (rule files hold <group> and <rule>)`);
    }
  };
  walk(root, []);
  return out;
}

/** A root rule that can see AWS events: not another log type, and an `integration` condition, if any, lets "aws" through. */
function rootSeesAws(p: Pending): boolean {
  if (p.otherLogType) return false;
  return p.el.children.every((c) => {
    if (c.name !== 'field' || c.attributes.name !== 'integration') return true;
    try {
      const text = c.text.trim();
      const matches = c.attributes.type === 'osmatch' ? compileOsMatch(text).test('aws') : valueTest(c.attributes.type, text)('aws');
      return matches !== (c.attributes.negate === 'yes');
    } catch {
      return true; // a broken condition: the rule is loaded, and its compile error reported
    }
  });
}

function parentsOf(rule: Rule): { ids: string[]; groups: string[] } {
  return { ids: [...rule.ifSid, ...rule.ifMatchedSid], groups: [...rule.ifGroup, ...rule.ifMatchedGroup] };
}

/**
 * The rules that apply to AWS events: roots that can see them, and rules with at least one parent (by id or
 * group) that applies. Everything else is for other log types (a whole Wazuh ruleset holds thousands of them).
 */
function rulesForAws(pending: Pending[], unreadable: Set<Pending>): Set<Pending> {
  const byId = new Map<string, Pending[]>();
  const byGroup = new Map<string, Pending[]>();
  const add = (map: Map<string, Pending[]>, key: string, p: Pending) => {
    const list = map.get(key);
    if (list) list.push(p);
    else map.set(key, [p]);
  };
  for (const p of pending) {
    add(byId, p.id, p);
    for (const g of p.groups) add(byGroup, g, p);
  }
  const applies = new Set<Pending>();
  const children: Pending[] = [];
  for (const p of pending) {
    if (unreadable.has(p)) continue;
    if (p.parentIds.length === 0 && p.parentGroups.length === 0) {
      if (rootSeesAws(p)) applies.add(p);
    } else if (!p.otherLogType) children.push(p);
  }
  // parents before children is not guaranteed across files, so repeat until nothing changes (depth of the tree)
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of children) {
      if (applies.has(p)) continue;
      if (p.parentIds.some((id) => byId.get(id)?.some((q) => applies.has(q))) || p.parentGroups.some((g) => byGroup.get(g)?.some((q) => q !== p && applies.has(q)))) {
        applies.add(p);
        changed = true;
      }
    }
  }
  return applies;
}

/** Something the loader did that the user should hear about once (run-once logs it, check-config prints it). */
export interface RulesetNote {
  /** the configured path it is about (a `<rule_dir>`, `<list>`…), for check-config to name its line */
  path: string;
  message: string;
}

function plural(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}

/** Where a rule file comes from: the shipped ruleset, a `<rule_dir>` (and which), or a `<rule_include>`. */
interface RuleFile {
  path: string;
  /** the configured folder or file it was found through ('' for the shipped ruleset) */
  origin: string;
}

/** Loads the shipped ruleset, then the user's rules and lists; throws RuleLoadError with every problem. */
export async function loadRuleset(cfg: RulesetConfig): Promise<CompiledRuleset> {
  const problems: string[] = [];
  const notes: RulesetNote[] = [];
  const wazuhDefault = cfg.installDir === undefined ? undefined : join(cfg.installDir, 'ruleset', 'rules');
  const excluded = (f: string) => cfg.ruleExcludes.some((x) => x === f || x === basename(f));
  // a path into Wazuh's default folder stands for the shipped file of that name too
  const shippedExcluded = (name: string) => cfg.ruleExcludes.some((x) => x === name || (wazuhDefault !== undefined && x === join(wazuhDefault, name)));

  const userFiles: RuleFile[] = [];
  for (const d of cfg.ruleDirs) {
    if (!existsSync(d)) problems.push(`${d}: rule folder not found`);
    else if (!statSync(d).isDirectory()) problems.push(`${d}: not a folder (use <rule_include> for one rule file)`);
    else userFiles.push(...xmlFiles(d).map((path) => ({ path, origin: d })));
  }
  userFiles.push(...cfg.ruleFiles.map((path) => ({ path, origin: path })));
  const shippedNames = new Set(xmlFiles(SHIPPED_RULES_DIR).map((f) => basename(f)));
  const inWazuhDefault = (f: RuleFile) => wazuhDefault !== undefined && f.origin === wazuhDefault;
  // Wazuh's own copy of a file we ship is what the shipped file stands in for; anywhere else, the user's file wins
  const standIns = userFiles.filter((f) => inWazuhDefault(f) && shippedNames.has(basename(f.path)) && !excluded(f.path));
  for (const f of standIns) {
    notes.push({ path: f.origin, message: `${f.path} is Wazuh's own ${basename(f.path)}: the shipped ruleset stands in for it (the same rule ids and groups, plus ThreatLockDown's detections). To run Wazuh's file instead, copy it into another <rule_dir> such as etc/rules.` });
  }
  const replacing = userFiles.filter((f) => !inWazuhDefault(f) && shippedNames.has(basename(f.path)) && !excluded(f.path));
  for (const f of replacing) {
    notes.push({ path: f.origin, message: `${f.path} replaces the shipped ${basename(f.path)} (a rule file of the same name, as with Wazuh's <rule_exclude>); the shipped rule ids it does not define are gone with it.` });
  }
  const replaced = new Set(replacing.map((f) => basename(f.path)));
  const files: RuleFile[] = [
    ...xmlFiles(SHIPPED_RULES_DIR).filter((f) => !shippedExcluded(basename(f)) && !replaced.has(basename(f))).map((path) => ({ path, origin: '' })),
    ...userFiles.filter((f) => !excluded(f.path) && !standIns.includes(f)),
  ];

  // every rule of every file first: whether a rule applies to AWS events depends on its parents, wherever they are
  const pending: Pending[] = [];
  const fileOf = new Map<Pending, RuleFile>();
  const fileProblems = new Map<RuleFile, string[]>();
  for (const f of files) {
    if (!existsSync(f.path)) {
      problems.push(`${f.path}: rule file not found`);
      continue;
    }
    const own: string[] = [];
    for (const p of readRuleFile(f.path, own)) {
      pending.push(p);
      fileOf.set(p, f);
    }
    fileProblems.set(f, own);
  }
  // a rule of Wazuh's own ruleset that this engine cannot read is Wazuh's, not the user's, to fix: it is left out
  // and counted (with the rules below it), never an error that stops the run
  const unreadable = new Set<Pending>();
  let applies = rulesForAws(pending, unreadable);
  // leaving a rule out may leave its descendants without a parent for AWS events: repeat until none is left out
  for (let more = true; more; ) {
    more = false;
    for (const p of applies) {
      if ((p.problems.length > 0 || p.skipped.length > 0) && !unreadable.has(p) && inWazuhDefault(fileOf.get(p) as RuleFile)) {
        unreadable.add(p);
        more = true;
      }
    }
    if (more) applies = rulesForAws(pending, unreadable);
  }
  const loadedFiles = new Set([...applies].map((p) => fileOf.get(p) as RuleFile));
  // a file's own problems count when it gives rules for AWS events, or is the user's own (not Wazuh's default folder)
  for (const [f, own] of fileProblems) if (loadedFiles.has(f) || !inWazuhDefault(f)) problems.push(...own);

  const ids = new Set(pending.map((p) => p.id));
  const groups = new Set(pending.flatMap((p) => p.groups));
  // rules for other log types, per configured folder or file, with why
  const skipped = new Map<string, { rules: number; files: Set<string>; why: Map<string, number>; example: string | undefined }>();
  for (const p of pending) {
    if (applies.has(p)) continue;
    const f = fileOf.get(p) as RuleFile;
    const pids = p.parentIds;
    const pgroups = p.parentGroups;
    const orphan = !p.otherLogType && (pids.length > 0 || pgroups.length > 0) && pids.every((id) => !ids.has(id)) && pgroups.every((g) => !groups.has(g));
    if (orphan && !inWazuhDefault(f)) {
      // the user's rule whose parents exist nowhere: the mistake is theirs to fix, as before
      problems.push(...p.problems, ...p.skipped);
      for (const id of pids) problems.push(`${p.file}:${p.el.line}: rule ${p.id}: parent rule ${id} does not exist`);
      for (const g of pgroups) problems.push(`${p.file}:${p.el.line}: rule ${p.id}: no rule is in group '${g}'`);
      continue;
    }
    const s = skipped.get(f.origin) ?? { rules: 0, files: new Set<string>(), why: new Map<string, number>(), example: undefined as string | undefined };
    s.rules++;
    s.files.add(f.path);
    const why = p.otherLogType === 'decoded_as' ? 'another decoder (<decoded_as>)' : p.otherLogType === 'category' ? 'a <category>' : unreadable.has(p) ? 'not readable here' : orphan ? 'parents not loaded' : 'parents for other log types only';
    if (why === 'not readable here') s.example ??= (p.problems[0] ?? p.skipped[0] ?? '').replace(/^.*?: rule /, 'rule ').replace(/ \(rule \d+ skipped; the other rules are loaded\)$/, '');
    s.why.set(why, (s.why.get(why) ?? 0) + 1);
    skipped.set(f.origin, s);
  }
  for (const [origin, s] of skipped) {
    const why = [...s.why].sort((a, b) => b[1] - a[1]).map(([w, n]) => `${n.toLocaleString('en-US')} ${w}`).join(', ');
    const example = s.example ? ` One not readable here: ${s.example}.` : '';
    notes.push({ path: origin, message: `${origin}: ${plural(s.rules, 'rule')} in ${plural(s.files.size, 'file')} ${s.rules === 1 ? 'is' : 'are'} for other log types than AWS events and ${s.rules === 1 ? 'was' : 'were'} not loaded (${why}).${example}` });
  }
  const decoders = cfg.decoderDirs ?? [];
  if (decoders.length > 0) {
    notes.push({ path: decoders[0] as string, message: `Wazuh decoders are not read (${decoders.join(', ')}): ThreatLockDown decodes VPC Flow Logs, GuardDuty and CloudTrail itself, into the fields Wazuh's json decoder gives.` });
  }

  // lists: the user's (declared) first, then the install folder's file a rule names, then the shipped ones
  const declared: string[] = [];
  for (const path of cfg.lists) {
    if (!existsSync(path)) problems.push(`${path}: CDB list file not found`);
    else declared.push(path);
  }
  const shippedLists = listFilesUnder(SHIPPED_LISTS_DIR);
  const loadedLists = new Map<string, CdbList | undefined>();
  const listAt = (path: string): CdbList | undefined => {
    if (!loadedLists.has(path)) {
      try {
        loadedLists.set(path, loadCdbList(path));
      } catch (e) {
        const message = (e as Error).message;
        problems.push(message.startsWith(`${path}:`) ? message : `${path}: ${message}`);
        loadedLists.set(path, undefined);
      }
    }
    return loadedLists.get(path);
  };
  const pick = (ref: string, among: string[]) => among.find((l) => l === ref) ?? among.find((l) => l.endsWith(`/${ref}`)) ?? among.find((l) => basename(l) === basename(ref));
  const resolveList = (ref: string): string | undefined => {
    const inInstall = isAbsolute(ref) ? ref : cfg.installDir === undefined ? undefined : resolve(cfg.installDir, ref);
    return pick(inInstall ?? ref, declared) ?? (inInstall !== undefined && existsSync(inInstall) && statSync(inInstall).isFile() ? inInstall : undefined) ?? pick(ref, shippedLists);
  };

  const rules = new Map<string, Rule>();
  const order: Rule[] = [];
  const skippedRules: string[] = [];
  for (const p of pending) {
    if (!applies.has(p)) continue;
    problems.push(...p.problems);
    skippedRules.push(...p.skipped);
    if (!p.compiled) continue;
    const { rule, listRefs } = p.compiled;
    for (const ref of listRefs) {
      const name = ref.el.text.trim();
      const path = resolveList(name);
      const list = path === undefined ? undefined : listAt(path);
      if (!list) {
        if (path === undefined) problems.push(`${rule.file}:${ref.el.line}: rule ${rule.id}: list '${name}' is not loaded (add it with <list> in <ruleset>)`);
        continue;
      }
      const cond: ListCondition = { field: ref.field, path: splitPath(ref.field), lookup: ref.lookup as ListCondition['lookup'], list, ...(ref.check !== undefined ? { check: compileOsMatch(ref.check) } : {}) };
      rule.lists.push(cond);
    }
    const prev = rules.get(rule.id);
    if (prev) {
      if (!rule.overwrite) {
        const shipped = prev.file.startsWith(SHIPPED_RULES_DIR) ? basename(prev.file) : undefined;
        const fix = shipped
          ? `it is a shipped rule: to replace the whole shipped file, name your file ${shipped} or add <rule_exclude>${shipped}</rule_exclude>; to change this one rule, add overwrite="yes"`
          : 'use overwrite="yes" to replace it';
        problems.push(`${rule.file}:${rule.line}: rule ${rule.id}: id already used at ${prev.file}:${prev.line} (${fix})`);
        continue;
      }
      order[order.indexOf(prev)] = rule;
    } else order.push(rule);
    rules.set(rule.id, rule);
  }
  for (const path of declared) {
    const shipped = shippedLists.find((l) => basename(l) === basename(path));
    if (shipped && loadedLists.get(path)) notes.push({ path, message: `${path} replaces the shipped CDB list ${basename(shipped)} (a list of the same name).` });
  }
  const unused = declared.filter((l) => !loadedLists.has(l));
  if (unused.length > 0) {
    notes.push({ path: unused[0] as string, message: `${plural(unused.length, 'CDB list')} no rule for AWS events uses ${unused.length === 1 ? 'was' : 'were'} not read: ${unused.join(', ')}.` });
  }

  // link the tree (siblings by level, as analysisd); a parent for another log type is not loaded and simply not
  // linked; the children of a rule left out are left out too
  const kept = dropOrphans(order, rules, skippedRules);
  const roots = linkTree(kept, rules, problems, { id: (x) => ids.has(x), group: (g) => groups.has(g) });
  if (problems.length) throw new RuleLoadError([...problems, ...skippedRules]);
  const filesRead = [...new Set(kept.map((r) => r.file))];
  return { rules, roots, files: filesRead, lists: [...loadedLists.keys()].filter((l) => loadedLists.get(l)), notes, skipped: skippedRules };
}
