/**
 * Reads one or more ossec.conf-style files into a typed `TldConfig`. Every problem is collected (file, line,
 * tag, what is allowed) and thrown together as one `ConfigError`; warnings are returned. Sections we do not
 * use (syscheck, localfile, other wodles…) are ignored, because users point us at their whole ossec.conf (a
 * near miss of one of ours, `<globl>`, is a warning). Inside the blocks we own (`<wodle name="aws-s3">`,
 * `<bucket>`, `<dashboard>`, `<store>`) unknown tags are errors; in the blocks Wazuh shares with its other parts
 * see `readOptions`. Empty values are errors unless the schema says otherwise (`ifEmpty`).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { AwsS3Config, BucketConfig, IndexerConfig, SubscriberConfig, TldConfig } from './types.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { parseXml, type XmlElement } from './xml.js';
import { BUCKET_TYPES, SECTIONS, SUBSCRIBER_TYPES, UNSUPPORTED_BUCKET_TYPES, UNSUPPORTED_SUBSCRIBER_TYPES, defaults, section, type SectionName } from './schema.js';
import * as v from './values.js';
import { WAZUH_BLOCKS, WAZUH_ONLY_OPTIONS, didYouMean } from './wazuh-options.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const MONTH = 2_592_000;
const WEEK = 604_800;
const DAY = 86_400;

class Collector {
  readonly issues: ConfigIssue[] = [];
  constructor(public file: string) {}
  error(line: number, tag: string, message: string, allowed?: string): void {
    this.issues.push({ severity: 'error', file: this.file, line, tag, message, ...(allowed ? { allowed } : {}) });
  }
  warn(line: number, tag: string, message: string): void {
    this.issues.push({ severity: 'warning', file: this.file, line, tag, message });
  }
}

/**
 * Reads the children of `el` as options of `sectionName` into `target`. `skip`: child tags handled by the caller.
 * Unknown children: in blocks ThreatLockDown owns (`own`), errors, as Wazuh rejects unknown options. In blocks
 * Wazuh shares with its other parts (`<global>`, `<alerts>`, `<ruleset>`), Wazuh's own options are ignored, a
 * near miss of one of ours (`<logall_jsn>`) is an error, since the option the user meant is silently off
 * otherwise, and anything else is a warning (a Wazuh option of a version we do not know must not stop a run).
 */
function readOptions(el: XmlElement, sectionName: SectionName, target: Record<string, unknown>, c: Collector, own: boolean, skip: string[] = []): void {
  const def = section(sectionName);
  const ours = def.options.filter((o) => !o.deprecated).map((o) => o.tag);
  const wazuhOnly = WAZUH_ONLY_OPTIONS[sectionName] ?? [];
  const seen = new Map<string, number>();
  for (const child of el.children) {
    if (skip.includes(child.name)) continue;
    const opt = def.options.find((o) => o.tag === child.name);
    if (!opt) {
      if (!own && wazuhOnly.includes(child.name)) continue;
      const guess = didYouMean(child.name, [...ours, ...skip]);
      const hint = guess ? `; did you mean <${guess}>?` : '';
      if (own) c.error(child.line, child.name, `no such option in ${def.element}${hint}`, ours.join(', '));
      else if (guess && !wazuhOnly.includes(guess)) c.error(child.line, child.name, `no such option in ${def.element}${hint}`, ours.join(', '));
      else c.warn(child.line, child.name, `unknown option in ${def.element}, ignored: neither ThreatLockDown nor Wazuh has it${hint || ` (ours: ${ours.join(', ')})`}`);
      continue;
    }
    if (!opt.repeatable && seen.has(opt.tag)) {
      c.error(child.line, opt.tag, `given twice (first on line ${seen.get(opt.tag)})`);
      continue;
    }
    seen.set(opt.tag, child.line);
    const extraAttrs = Object.keys(child.attributes).filter((a) => !(opt.attributes ?? []).includes(a));
    if (extraAttrs.length) c.error(child.line, opt.tag, `unknown attribute ${extraAttrs.map((a) => `'${a}'`).join(', ')}`, (opt.attributes ?? []).join(', ') || 'none');
    if (opt.deprecated) c.warn(child.line, opt.tag, `deprecated: ${opt.deprecated}`);
    const raw = child.text.trim();
    if (raw === '' && opt.ifEmpty !== 'value') {
      if (opt.ifEmpty === 'ignored') c.warn(child.line, opt.tag, 'empty value; the option is ignored');
      else c.error(child.line, opt.tag, 'empty value', opt.allowed);
      continue;
    }
    const parsed = opt.parse(raw);
    if ('error' in parsed) {
      c.error(child.line, opt.tag, parsed.error, opt.allowed);
      continue;
    }
    if (opt.repeatable) ((target[opt.key] ??= []) as unknown[]).push(parsed.value);
    else target[opt.key] = parsed.value;
  }
}

function readBucket(el: XmlElement, c: Collector): BucketConfig | undefined {
  const type = el.attributes.type;
  const extra = Object.keys(el.attributes).filter((a) => a !== 'type');
  if (extra.length) c.error(el.line, 'bucket', `attribute ${extra.map((a) => `'${a}'`).join(', ')} is not valid`, 'type');
  if (type === undefined) {
    if (el.children.length === 0 && el.text.trim() !== '') {
      c.error(el.line, 'bucket', 'the legacy form <bucket>NAME</bucket> is not supported; write <bucket type="cloudtrail"><name>NAME</name></bucket>');
    } else {
      c.error(el.line, 'bucket', 'missing attribute type', BUCKET_TYPES.join(', '));
    }
    return undefined;
  }
  if (UNSUPPORTED_BUCKET_TYPES.includes(type)) {
    c.error(el.line, 'bucket', `bucket type '${type}' is not supported yet`, BUCKET_TYPES.join(', '));
    return undefined;
  }
  if (!(BUCKET_TYPES as readonly string[]).includes(type)) {
    c.error(el.line, 'bucket', `invalid bucket type '${type}'`, BUCKET_TYPES.join(', '));
    return undefined;
  }
  const b: Record<string, unknown> = { ...defaults('bucket'), type, origin: { file: c.file, line: el.line } };
  readOptions(el, 'bucket', b, c, true);
  discardOf(el, b, c);
  if (!el.children.some((ch) => ch.name === 'name')) c.error(el.line, 'bucket', 'missing <name>', 'S3 bucket name');
  if (b.iamRoleDuration !== undefined && b.iamRoleArn === undefined) {
    c.error(el.line, 'iam_role_duration', 'needs <iam_role_arn>');
  }
  if ((b.accessKey === undefined) !== (b.secretKey === undefined)) {
    c.error(el.line, 'access_key', '<access_key> and <secret_key> must be given together');
  }
  return b as unknown as BucketConfig;
}

/** `<discard_regex field="…">`: the regex read by readOptions joined with its field attribute. */
function discardOf(el: XmlElement, target: Record<string, unknown>, c: Collector): void {
  const discardEl = el.children.find((ch) => ch.name === 'discard_regex');
  if (!discardEl || target.discardRegex === undefined) return;
  const field = discardEl.attributes.field?.trim();
  if (!field) {
    c.error(discardEl.line, 'discard_regex', "required attribute 'field' is missing", 'field="dotted.path"');
    delete target.discardRegex;
  } else {
    target.discardRegex = { field, regex: target.discardRegex };
  }
}

function readSubscriber(el: XmlElement, c: Collector): SubscriberConfig | undefined {
  const type = el.attributes.type;
  const extra = Object.keys(el.attributes).filter((a) => a !== 'type');
  if (extra.length) c.error(el.line, 'subscriber', `attribute ${extra.map((a) => `'${a}'`).join(', ')} is not valid`, 'type');
  if (type !== undefined && UNSUPPORTED_SUBSCRIBER_TYPES.includes(type)) {
    c.error(el.line, 'subscriber', `<subscriber> (${type}) is not supported yet`, `type="${SUBSCRIBER_TYPES.join('|')}"`);
    return undefined;
  }
  if (!(SUBSCRIBER_TYPES as readonly string[]).includes(type ?? '')) {
    c.error(el.line, 'subscriber', type === undefined ? 'missing attribute type' : `invalid subscriber type '${type}'`, SUBSCRIBER_TYPES.join(', '));
    return undefined;
  }
  const s: Record<string, unknown> = { ...defaults('subscriber'), type, keyPrefixes: [], origin: { file: c.file, line: el.line } };
  readOptions(el, 'subscriber', s, c, true, ['key_prefix']);
  discardOf(el, s, c);
  const prefixes: { prefix: string; type: string }[] = [];
  for (const ch of el.children.filter((x) => x.name === 'key_prefix')) {
    const t = ch.attributes.type;
    const bad = Object.keys(ch.attributes).filter((a) => a !== 'type');
    if (bad.length) c.error(ch.line, 'key_prefix', `unknown attribute ${bad.map((a) => `'${a}'`).join(', ')}`, 'type');
    if (!t || !(BUCKET_TYPES as readonly string[]).includes(t)) {
      c.error(ch.line, 'key_prefix', t ? `invalid type '${t}'` : 'missing attribute type', BUCKET_TYPES.join(', '));
      continue;
    }
    const raw = ch.text.trim();
    const parsed = section('subscriber').options.find((o) => o.tag === 'key_prefix')!.parse(raw);
    if ('error' in parsed) c.error(ch.line, 'key_prefix', parsed.error);
    else if (prefixes.some((p) => p.prefix === parsed.value)) c.error(ch.line, 'key_prefix', `prefix '${raw}' given twice`);
    else prefixes.push({ prefix: parsed.value as string, type: t });
  }
  // longest first: the most specific prefix decides
  s.keyPrefixes = prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  if (!el.children.some((ch) => ch.name === 'sqs_name')) c.error(el.line, 'subscriber', 'missing <sqs_name>', 'SQS queue name');
  if (s.iamRoleDuration !== undefined && s.iamRoleArn === undefined) c.error(el.line, 'iam_role_duration', 'needs <iam_role_arn>');
  if (s.externalId !== undefined && s.iamRoleArn === undefined) c.error(el.line, 'external_id', 'needs <iam_role_arn>');
  return s as unknown as SubscriberConfig;
}

function readWodle(el: XmlElement, c: Collector): AwsS3Config {
  const w: Record<string, unknown> = { ...defaults('wodle') };
  readOptions(el, 'wodle', w, c, true, ['bucket', 'service', 'subscriber', 'access_key', 'secret_key', 'remove_from_bucket']);
  const buckets: BucketConfig[] = [];
  const subscribers: SubscriberConfig[] = [];
  for (const child of el.children) {
    if (child.name === 'bucket') {
      const b = readBucket(child, c);
      if (b) buckets.push(b);
    } else if (child.name === 'subscriber') {
      const s = readSubscriber(child, c);
      if (s) subscribers.push(s);
    } else if (child.name === 'service') {
      c.error(child.line, child.name, `<${child.name}> (${child.attributes.type ?? 'no type'}) is not supported yet`, '<bucket type="vpcflow|guardduty|cloudtrail|custom">');
    } else if (['access_key', 'secret_key', 'remove_from_bucket'].includes(child.name)) {
      c.error(child.line, child.name, `the legacy module-level <${child.name}> is not supported; set it inside <bucket type="…">`);
    }
  }
  if (buckets.length === 0 && subscribers.length === 0 && !c.issues.some((i) => i.severity === 'error' && (i.tag === 'bucket' || i.tag === 'subscriber'))) {
    c.error(el.line, 'wodle', 'no <bucket> or <subscriber> defined in the aws-s3 module', '<bucket type="vpcflow|guardduty|cloudtrail|custom">, <subscriber type="buckets">');
  }
  let interval = w.intervalSeconds as number;
  const day = w.day as number | undefined;
  const wday = w.wday as number | undefined;
  const time = w.time as string | undefined;
  if (day !== undefined && wday !== undefined) c.error(el.line, 'wday', "options 'day' and 'wday' are not compatible");
  else if (day !== undefined && interval % MONTH !== 0) {
    c.warn(el.line, 'interval', 'with <day> the interval must be a multiple of one month; using 1M');
    interval = MONTH;
  } else if (wday !== undefined && interval % WEEK !== 0) {
    c.warn(el.line, 'interval', 'with <wday> the interval must be a multiple of one week; using 1w');
    interval = WEEK;
  } else if (time !== undefined && day === undefined && wday === undefined && interval % DAY !== 0) {
    c.warn(el.line, 'interval', 'with <time> the interval must be a multiple of one day; using 1d');
    interval = DAY;
  }
  return {
    disabled: w.disabled as boolean,
    intervalSeconds: interval,
    runOnStart: w.runOnStart as boolean,
    skipOnError: w.skipOnError as boolean,
    workers: w.workers as number,
    schedule: {
      ...(day !== undefined ? { day } : {}),
      ...(wday !== undefined ? { wday } : {}),
      ...(time !== undefined ? { time } : {}),
    },
    buckets,
    subscribers,
  };
}

/**
 * Wazuh's `<indexer>` block: `<enabled>`, `<hosts><host>…`, `<ssl>` (`<certificate_authorities><ca>…`,
 * `<certificate>`, `<key>`), plus our `<credentials_file>` and `<bulk_max_bytes>`. Paths are made absolute.
 * Wazuh shares the block with its other parts, but it has no other options: unknown tags are errors.
 */
function readIndexer(el: XmlElement, c: Collector, base: string): IndexerConfig {
  const x: Record<string, unknown> = { ...defaults('indexer') };
  readOptions(el, 'indexer', x, c, true, ['hosts', 'ssl']);
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const hosts: string[] = [];
  for (const h of el.children.filter((ch) => ch.name === 'hosts')) {
    for (const ch of h.children) {
      if (ch.name !== 'host') {
        c.error(ch.line, ch.name, 'no such option in <indexer><hosts>', 'host');
        continue;
      }
      const parsed = v.url(ch.text.trim());
      if ('error' in parsed) c.error(ch.line, 'host', parsed.error, 'http(s) URL such as https://127.0.0.1:9200');
      else hosts.push(parsed.value.replace(/\/+$/, ''));
    }
  }
  const ssl: IndexerConfig['ssl'] = { certificateAuthorities: [] };
  for (const s of el.children.filter((ch) => ch.name === 'ssl')) {
    const o: Record<string, unknown> = {};
    readOptions(s, 'indexer_ssl', o, c, true, ['certificate_authorities']);
    if (typeof o.certificate === 'string') ssl.certificate = abs(o.certificate);
    if (typeof o.key === 'string') ssl.key = abs(o.key);
    for (const cas of s.children.filter((ch) => ch.name === 'certificate_authorities')) {
      for (const ca of cas.children) {
        if (ca.name !== 'ca' || ca.text.trim() === '') c.error(ca.line, ca.name, ca.name === 'ca' ? 'empty value' : 'no such option in <certificate_authorities>', 'ca');
        else ssl.certificateAuthorities.push(abs(ca.text.trim()));
      }
    }
  }
  if ((ssl.certificate === undefined) !== (ssl.key === undefined)) c.error(el.line, 'ssl', 'a client certificate needs both <certificate> and <key>');
  if (x.enabled === true && hosts.length === 0) c.error(el.line, 'hosts', 'no <hosts><host> in <indexer>', 'http(s) URL such as https://127.0.0.1:9200');
  return {
    enabled: x.enabled as boolean,
    hosts,
    ssl,
    ...(typeof x.credentialsFile === 'string' ? { credentialsFile: abs(x.credentialsFile) } : {}),
    bulkMaxBytes: x.bulkMaxBytes as number,
    correlationGraceSeconds: x.correlationGraceSeconds as number,
    correlationIntervalSeconds: x.correlationIntervalSeconds as number,
    origin: { file: c.file, line: el.line },
  };
}

/** Where a `<ruleset>` entry was written: its resolved path (the file name for `<rule_exclude>`) → file, line, tag. */
export type RulesetOrigins = Map<string, { file: string; line: number; tag: string }>;

/** `<ruleset>` tags that hold a path, and the RulesetConfig list each goes to. */
const RULESET_PATHS: Record<string, 'ruleDirs' | 'ruleFiles' | 'lists' | 'ruleExcludes' | 'decoderDirs'> = {
  rule_dir: 'ruleDirs',
  rule_include: 'ruleFiles',
  list: 'lists',
  rule_exclude: 'ruleExcludes',
  decoder_dir: 'decoderDirs',
};

interface RulesetEntry {
  tag: string;
  path: string;
  file: string;
  line: number;
  /** the install folder of the file it was written in, when no <install_dir> says otherwise */
  installDir: string;
}

/**
 * Wazuh reads `<ruleset>` paths from its install folder (`/var/ossec`), whose `etc/` holds ossec.conf: a config
 * file in a folder named `etc` has its install folder above it. Anywhere else (a ThreatLockDown config of its
 * own) relative paths are read from the config file's folder, as they always were.
 */
export function defaultInstallDir(configFile: string): string {
  const dir = dirname(resolve(configFile));
  return basename(dir) === 'etc' ? dirname(dir) : dir;
}

/**
 * Fills the ruleset's path lists from what the files said, resolved from the install folder (`<install_dir>`,
 * else each file's own). A `<rule_exclude>` stays a bare file name (it excludes that name everywhere, as in
 * Wazuh) unless it holds a `/`, when it is a path like the others.
 */
function resolveRuleset(ruleset: Record<string, unknown>, entries: RulesetEntry[], installDir: string | undefined, firstFile: string | undefined, origins: RulesetOrigins): void {
  for (const key of Object.values(RULESET_PATHS)) ruleset[key] = [];
  for (const e of entries) {
    const bare = e.tag === 'rule_exclude' && !e.path.includes('/');
    const path = bare || isAbsolute(e.path) ? e.path : resolve(installDir ?? e.installDir, e.path);
    (ruleset[RULESET_PATHS[e.tag] as string] as string[]).push(path);
    origins.set(path, { file: e.file, line: e.line, tag: e.tag });
  }
  const install = installDir ?? (firstFile === undefined ? undefined : defaultInstallDir(firstFile));
  if (install !== undefined) ruleset.installDir = install;
}

/** Top-level blocks ThreatLockDown reads (besides `<wodle name="aws-s3">`). */
const SECTION_TAGS = new Set(SECTIONS.filter((s) => !['wodle', 'bucket', 'subscriber', 'indexer_ssl'].includes(s.name)).map((s) => s.element.slice(1, -1)));

/** Loads and validates the configuration files (their sections merge, in order). */
export async function loadConfig(files: string[]): Promise<{ config: TldConfig; warnings: ConfigIssue[]; rulesetOrigins: RulesetOrigins }> {
  const issues: ConfigIssue[] = [];
  const rulesetOrigins: RulesetOrigins = new Map();
  const global: Record<string, unknown> = { ...defaults('global') };
  const alerts: Record<string, unknown> = { ...defaults('alerts') };
  const ruleset: Record<string, unknown> = {};
  const dashboard: Record<string, unknown> = { ...defaults('dashboard') };
  const store: Record<string, unknown> = { ...defaults('store') };
  let awsS3: AwsS3Config | null = null;
  let installDir: string | undefined;
  const rulesetEntries: RulesetEntry[] = [];
  let indexer: IndexerConfig | null = null;
  let backendAt = { file: '', line: 0 };
  let wodleAt: string | undefined;
  let dashboardLine = 0;
  let dashboardFile = '';

  if (files.length === 0) issues.push({ severity: 'error', file: '(none)', line: 0, tag: 'ossec_config', message: 'no configuration file given; pass -c FILE' });
  for (const file of files) {
    const c = new Collector(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      c.error(0, 'ossec_config', err.code === 'ENOENT' ? 'file not found' : `cannot read the file: ${err.message}`);
      issues.push(...c.issues);
      continue;
    }
    const { root, problems } = parseXml(text);
    for (const p of problems) c.error(p.line, 'xml', `malformed XML: ${p.message}`);
    const base = dirname(resolve(file));
    const roots = root.children.filter((r) => r.name === 'ossec_config');
    if (roots.length === 0 && problems.length === 0) c.error(1, 'ossec_config', 'no <ossec_config> element in the file');
    for (const r of root.children) {
      if (r.name !== 'ossec_config') c.error(r.line, r.name, 'top-level elements must be <ossec_config>');
    }
    for (const r of roots) {
      for (const el of r.children) {
        if (el.name === 'wodle' && el.attributes.name === 'aws-s3') {
          if (awsS3) {
            c.error(el.line, 'wodle', `a second <wodle name="aws-s3"> (the first is at ${wodleAt}); merge their buckets into one`);
            continue;
          }
          wodleAt = `${file}:${el.line}`;
          awsS3 = readWodle(el, c);
        } else if (el.name === 'global') readOptions(el, 'global', global, c, false);
        else if (el.name === 'alerts') readOptions(el, 'alerts', alerts, c, false);
        else if (el.name === 'ruleset') {
          const errorsBefore = c.issues.length;
          readOptions(el, 'ruleset', ruleset, c, false);
          // paths are resolved once every file is read: an <install_dir> anywhere applies to all of them
          const rejected = new Set(c.issues.slice(errorsBefore).filter((i) => i.severity === 'error').map((i) => i.line));
          for (const ch of el.children) {
            const path = ch.text.trim();
            if (!path || rejected.has(ch.line)) continue;
            if (ch.name === 'install_dir') installDir = isAbsolute(path) ? path : resolve(base, path);
            else if (ch.name in RULESET_PATHS) rulesetEntries.push({ tag: ch.name, path, file, line: ch.line, installDir: defaultInstallDir(file) });
          }
        } else if (el.name === 'dashboard') {
          readOptions(el, 'dashboard', dashboard, c, true);
          for (const key of ['tlsCert', 'tlsKey'] as const) {
            const p = dashboard[key];
            if (typeof p === 'string' && !isAbsolute(p)) dashboard[key] = resolve(base, p);
          }
          dashboardLine = el.line;
          dashboardFile = file;
        } else if (el.name === 'store') {
          readOptions(el, 'store', store, c, true);
          const backend = el.children.find((ch) => ch.name === 'backend');
          if (backend) backendAt = { file, line: backend.line };
        }
        else if (el.name === 'indexer') {
          if (indexer) c.error(el.line, 'indexer', `a second <indexer> (the first is at ${indexer.origin.file}:${indexer.origin.line})`);
          else indexer = readIndexer(el, c, base);
        }
        else if (el.name === 'wodle') {
          const guess = didYouMean(el.attributes.name ?? '', ['aws-s3']);
          if (guess) c.warn(el.line, 'wodle', `<wodle name="${el.attributes.name ?? ''}"> is not read by ThreatLockDown; did you mean <wodle name="aws-s3">?`);
        } else if (!WAZUH_BLOCKS.includes(el.name)) {
          const guess = didYouMean(el.name, [...SECTION_TAGS]);
          if (guess) c.warn(el.line, el.name, `<${el.name}> is not read by ThreatLockDown; did you mean <${guess}>?`);
        }
      }
    }
    issues.push(...c.issues);
  }
  if (!LOOPBACK.has(dashboard.host as string) && dashboard.passwordHash === undefined && dashboard.token === undefined) {
    issues.push({ severity: 'error', file: dashboardFile, line: dashboardLine, tag: 'host', message: `the dashboard would listen on ${String(dashboard.host)} without authentication; add <password_hash> or <token>, or keep host 127.0.0.1` });
  }
  if ((dashboard.signinMaxLockoutSeconds as number) < (dashboard.signinLockoutSeconds as number)) {
    issues.push({ severity: 'error', file: dashboardFile, line: dashboardLine, tag: 'signin_max_lockout_seconds', message: `<signin_max_lockout_seconds> (${String(dashboard.signinMaxLockoutSeconds)}) is shorter than the first lockout, <signin_lockout_seconds> (${String(dashboard.signinLockoutSeconds)}); raise it or lower the first` });
  }
  if ((dashboard.tlsCert === undefined) !== (dashboard.tlsKey === undefined)) {
    issues.push({ severity: 'error', file: dashboardFile, line: dashboardLine, tag: dashboard.tlsCert === undefined ? 'tls_cert' : 'tls_key', message: 'HTTPS needs both <tls_cert> and <tls_key>' });
  } else if (!LOOPBACK.has(dashboard.host as string) && dashboard.tlsCert === undefined && dashboard.passwordHash !== undefined) {
    issues.push({ severity: 'warning', file: dashboardFile, line: dashboardLine, tag: 'host', message: `the dashboard on ${String(dashboard.host)} speaks plain HTTP: browsers keep the Secure session cookie only over HTTPS, so add <tls_cert>/<tls_key> or put a TLS proxy in front` });
  }
  resolveRuleset(ruleset, rulesetEntries, installDir, files[0], rulesetOrigins);
  if (store.backend === 'indexer' && (indexer === null || !(indexer as IndexerConfig).enabled)) {
    issues.push({ severity: 'error', file: backendAt.file, line: backendAt.line, tag: 'backend', message: indexer === null ? '<backend>indexer</backend> needs an <indexer> block with <hosts>' : 'the <indexer> block is disabled (<enabled>no</enabled>) but <backend> is indexer', allowed: 'embedded, or an enabled <indexer>' });
  }
  issues.sort((a, b) => (a.file === b.file ? a.line - b.line : 0));
  if (issues.some((i) => i.severity === 'error')) throw new ConfigError(issues);
  const config: TldConfig = {
    files: files.map((f) => resolve(f)),
    global: global as TldConfig['global'],
    alerts: alerts as TldConfig['alerts'],
    awsS3,
    ruleset: ruleset as unknown as TldConfig['ruleset'],
    dashboard: dashboard as unknown as TldConfig['dashboard'],
    store: store as unknown as TldConfig['store'],
    indexer,
  };
  return { config, warnings: issues, rulesetOrigins };
}
