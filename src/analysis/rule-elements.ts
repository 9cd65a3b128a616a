/**
 * The parts of Wazuh's rule language beyond `<field>`, `<match>` and `<regex>`, each as analysisd reads it for an
 * event the `json` decoder decoded (wazuh/wazuh 4.x src/analysisd/rules.c `Rules_OP_ReadRules` for the syntax and
 * default pattern types, `OS_CheckIfRuleMatch` for the evaluation, decoders/plugins/json_decoder.c `fillData`
 * for which static fields a JSON event fills, src/os_xml/os_xml_variables.c for `<var>`,
 * src/shared/validate_op.c for `<time>` and `<weekday>`).
 */
import type { XmlElement } from '../config/xml.js';
import { compileOsMatch, compileOsRegex, compilePcre2 } from './osregex.js';
import type { Compliance, FieldCondition, ValueTest } from './rule-types.js';

/**
 * Static fields. The JSON decoder fills them only from top-level keys of the same name (srcip, dstip, srcport,
 * dstport, protocol, action, srcuser, dstuser, id, status, url, data, systemname), so on AWS events, whose data
 * is all under `aws.`, they are absent and a rule testing them does not match, as in analysisd.
 * `program_name` comes only from a syslog header and `srcgeoip` from GeoIP lookups analysisd 4.x no longer
 * does: always absent. `location` is the queue's location (`Wazuh-AWS`), `hostname` the manager's name (an
 * event without a syslog header keeps the host it was received on). Default pattern types as rules.c sets
 * them: OS_Match, except `<action>`, an exact string.
 */
const STATIC: Record<string, { path?: string[]; alt?: string[]; fixed?: FieldCondition['fixed']; type: 'osmatch' | 'string' | 'ip' }> = {
  srcip: { path: ['srcip'], type: 'ip' },
  dstip: { path: ['dstip'], type: 'ip' },
  srcport: { path: ['srcport'], type: 'osmatch' },
  dstport: { path: ['dstport'], type: 'osmatch' },
  protocol: { path: ['protocol'], type: 'osmatch' },
  action: { path: ['action'], type: 'string' },
  user: { path: ['dstuser'], alt: ['srcuser'], type: 'osmatch' },
  id: { path: ['id'], type: 'osmatch' },
  status: { path: ['status'], type: 'osmatch' },
  url: { path: ['url'], type: 'osmatch' },
  data: { path: ['data'], type: 'osmatch' },
  extra_data: { path: ['extra_data'], type: 'osmatch' },
  system_name: { path: ['systemname'], type: 'osmatch' },
  program_name: { fixed: 'absent', type: 'osmatch' },
  srcgeoip: { fixed: 'absent', type: 'osmatch' },
  dstgeoip: { fixed: 'absent', type: 'osmatch' },
  location: { fixed: 'location', type: 'osmatch' },
  hostname: { fixed: 'hostname', type: 'osmatch' },
};

export function isStaticElement(name: string): boolean {
  return Object.hasOwn(STATIC, name);
}

/** The names `<field name>` may not use (rules.c `w_check_attr_field_name`: "Field '%s' is static"). */
const STATIC_FIELD_NAMES = new Set(['srcip', 'dstip', 'srcgeoip', 'dstgeoip', 'srcport', 'dstport', 'user', 'srcuser', 'dstuser', 'url', 'id', 'data', 'extra_data', 'status', 'protocol', 'system_name', 'action']);

export function checkFieldName(name: string): void {
  if (STATIC_FIELD_NAMES.has(name.toLowerCase())) throw new Error(`<field name="${name}"> names a static field: use <${name}> instead`);
}

/** A `type` attribute: osregex, osmatch or pcre2 (rules.c `w_check_attr_type`; `number` is our extension for <field>). */
export function patternTest(type: string, text: string): ValueTest {
  const re = type === 'pcre2' ? compilePcre2(text) : type === 'osmatch' ? compileOsMatch(text) : compileOsRegex(text);
  return (v) => re.test(v);
}

function ipv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

/** `<srcip>` / `<dstip>`: an address or CIDR block, `!` to negate (shared/validate_op.c OS_IsValidIP, OS_IPFound). */
function ipTest(spec: string): ValueTest {
  const s = spec.trim();
  const neg = s.startsWith('!');
  const body = neg ? s.slice(1).trim() : s;
  const [addr, bitsText] = body.split('/');
  const net = ipv4(addr ?? '');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (net === undefined && bitsText !== undefined) throw new Error(`'${spec}' is not an IP address or CIDR block`);
  if (net !== undefined && (!Number.isInteger(bits) || bits < 0 || bits > 32)) throw new Error(`'${spec}' has an invalid prefix length`);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const inside = (v: string): boolean => {
    if (net === undefined) return v.toLowerCase() === (addr ?? '').toLowerCase();
    const ip = ipv4(v);
    return ip !== undefined && ((ip & mask) >>> 0) === ((net & mask) >>> 0);
  };
  return neg ? (v) => !inside(v) : inside;
}

/** A static-field element as a field condition; `type` and `negate` attributes as for <field>. */
export function staticCondition(el: XmlElement, text: string, negate: boolean): FieldCondition {
  const spec = STATIC[el.name]!;
  const type = el.attributes.type?.toLowerCase() ?? spec.type;
  let test: ValueTest;
  if (spec.type === 'ip') test = ipTest(text);
  else if (type === 'string') test = (v) => v === text;
  else if (type === 'osmatch' || type === 'osregex' || type === 'pcre2') test = patternTest(type, text);
  else throw new Error(`unknown type '${type}' on <${el.name}> (osmatch, osregex, pcre2)`);
  return { name: el.name, path: spec.path ?? [el.name], ...(spec.alt ? { alt: spec.alt } : {}), ...(spec.fixed ? { fixed: spec.fixed } : {}), test, negate, key: `static\u0000${el.name}\u0000${type}\u0000${text}` };
}

/** `<time>`: `hh[:mm] [am|pm] - hh[:mm] [am|pm]`, `!` to negate; a range may cross midnight. */
export function timeTest(spec: string): (now: Date) => boolean {
  let s = spec.trim().toLowerCase();
  const neg = s.startsWith('!');
  if (neg) s = s.slice(1).trim();
  const parts = s.split('-').map((p) => p.trim());
  if (parts.length !== 2) throw new Error(`'${spec}' is not a time range (e.g. 6 pm - 8:30 am, 9:00-17:00)`);
  const minutes = (t: string): number => {
    const m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/.exec(t);
    if (!m) throw new Error(`'${spec}' is not a time range (e.g. 6 pm - 8:30 am, 9:00-17:00)`);
    let h = Number(m[1]);
    const min = Number(m[2] ?? 0);
    if (m[3] === 'pm' && h < 12) h += 12;
    if (m[3] === 'am' && h === 12) h = 0;
    if (h > 23 || min > 59) throw new Error(`'${spec}' has an hour out of range`);
    return h * 60 + min;
  };
  const from = minutes(parts[0]!);
  const to = minutes(parts[1]!);
  return (now) => {
    const t = now.getHours() * 60 + now.getMinutes();
    const inside = from <= to ? t >= from && t < to : t >= from || t < to;
    return inside !== neg;
  };
}

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** `<weekday>`: day names (or their first three letters), `weekdays`, `weekends`, comma separated; `!` negates. */
export function weekdayTest(spec: string): (now: Date) => boolean {
  let s = spec.trim().toLowerCase();
  const neg = s.startsWith('!');
  if (neg) s = s.slice(1).trim();
  const days = new Set<number>();
  for (const word of s.split(/[\s,]+/).filter(Boolean)) {
    if (word === 'weekdays') [1, 2, 3, 4, 5].forEach((d) => days.add(d));
    else if (word === 'weekends') [0, 6].forEach((d) => days.add(d));
    else {
      const d = DAYS.findIndex((name) => name === word || name.slice(0, 3) === word);
      if (d < 0) throw new Error(`'${word}' is not a week day (sunday…saturday, weekdays, weekends)`);
      days.add(d);
    }
  }
  if (days.size === 0) throw new Error(`'${spec}' names no week day`);
  return (now) => days.has(now.getDay()) !== neg;
}

const COMPLIANCE_PREFIXES: [keyof Compliance, string][] = [
  ['pci_dss', 'pci_dss_'],
  ['gdpr', 'gdpr_'],
  ['hipaa', 'hipaa_'],
  ['nist_800_53', 'nist_800_53_'],
  ['tsc', 'tsc_'],
  ['gpg13', 'gpg13_'],
];

/** Splits compliance tags (`pci_dss_10.6.1` → pci_dss `10.6.1`) from the other groups, as to_json.c does. */
export function splitCompliance(groups: readonly string[]): { groups: string[]; compliance: Compliance } {
  const compliance: Compliance = { pci_dss: [], gdpr: [], hipaa: [], nist_800_53: [], tsc: [], gpg13: [] };
  const rest: string[] = [];
  for (const g of groups) {
    const hit = COMPLIANCE_PREFIXES.find(([, p]) => g.startsWith(p));
    if (hit) compliance[hit[0]].push(g.slice(hit[1].length));
    else rest.push(g);
  }
  return { groups: rest, compliance };
}

/**
 * `<var name="X">value</var>` at the top of a rule file, used as `$X` in any element's text or attribute after
 * it (os_xml_variables.c). A `$` not followed by a defined name stays as written (`^foo$`, `$(aws.field)`).
 */
export function applyVariables(root: XmlElement): void {
  const vars = new Map<string, string>();
  const expand = (s: string): string => (s.includes('$') ? s.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, name: string) => vars.get(name) ?? all) : s);
  const walk = (el: XmlElement): void => {
    el.text = expand(el.text);
    for (const k of Object.keys(el.attributes)) el.attributes[k] = expand(el.attributes[k]!);
    for (const ch of el.children) walk(ch);
  };
  for (const ch of root.children) {
    if (ch.name === 'var') {
      const name = ch.attributes.name;
      if (name) vars.set(name, expand(ch.text.trim()));
    } else walk(ch);
  }
}
