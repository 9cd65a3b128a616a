/** The previous implementation, kept as the reference of tests/dashboard/alert-queries-equivalence.test.ts (see queries.ts). */
/**
 * Every row listing of the dashboard (alerts, CloudTrail panels, GuardDuty panels, an address's flows and
 * alerts) as one paged query: `GET /api/list/<name>?from&to&sort&dir&offset&limit[&q][&ip]` answers
 * `{ rows, total, offset, limit, sort, dir }`. The sort key is looked up in the listing's own table of
 * columns (never SQL from the request); ties are broken by a fixed key so a page shows the same rows each time.
 * The total is a count over the same condition.
 */
import type { Store } from '../../../src/store/index.js';
import { ipv4Number } from '../../../src/shared/ipv4.js';
import { BadParameter, single, type Query } from '../../../src/dashboard/params.js';
import type { Range } from './queries.js';
import { compileSearch, SearchError } from './search.js';
import { alertSelectionSql, CLOUDTRAIL_PANELS, type AlertSelection } from '../../../src/dashboard/cloudtrail-panels.js';

export interface Page {
  sort: string;
  dir: 'asc' | 'desc';
  offset: number;
  limit: number;
}

export interface ListResult {
  rows: Record<string, unknown>[];
  total: number;
  offset: number;
  limit: number;
  sort: string;
  dir: 'asc' | 'desc';
}

interface Listing {
  /** `FROM … WHERE …` with $1/$2 the range; more parameters appended by `where` */
  from: string;
  select: string;
  /** sort key → SQL expression (the only place ORDER BY text comes from) */
  sorts: Record<string, string>;
  defaultSort: string;
  defaultDir: 'asc' | 'desc';
  /** appended to every ORDER BY: a unique key, so pages never overlap or skip */
  tieBreak: string;
  /** extra conditions from the request (search, address); pushes its values onto params */
  where?: (query: Query, params: (string | number)[]) => string[];
  /** rows (a page) are read from a subquery and then joined (flows → their interface) */
  wrap?: (inner: string) => string;
}

const T = (i: number) => `make_timestamp($${i}::BIGINT * 1000)`;
const ALERT_TIME = 'coalesce(event_ts, ts)';
const ALERTS_IN = `FROM alerts WHERE ${ALERT_TIME} BETWEEN ${T(1)} AND ${T(2)}`;
const ALERT_SELECT = `id, epoch_ms(${ALERT_TIME}) AS t, level, rule_id, description, source, account, region, src_ip, dst_ip`;
const ALERT_SORTS = { t: ALERT_TIME, level: 'level', rule_id: 'rule_id', description: 'description', source: 'source', account: 'account', region: 'region', src_ip: 'src_ip', dst_ip: 'dst_ip' };
export const MAX_LIMIT = 1000;
const MAX_OFFSET = 10_000_000;

/** The search box (`q`) as a condition (search.ts); bad syntax is a 400 naming the position. */
function searchWhere(query: Query, params: (string | number)[]): string[] {
  const text = single(query, 'q');
  if (text === undefined) return [];
  try {
    const c = compileSearch(text, params.length + 1);
    if (!c) return [];
    params.push(...c.params);
    return [c.sql];
  } catch (e) {
    if (e instanceof SearchError) throw new BadParameter('q', e.message);
    throw e;
  }
}

/** A CloudTrail panel's alerts (cloudtrail-panels.ts), with the search box applied. */
const cloudtrailAlerts = (selection: AlertSelection): Listing => ({
  from: ALERTS_IN,
  select: ALERT_SELECT,
  sorts: ALERT_SORTS,
  defaultSort: 't',
  defaultDir: 'desc',
  tieBreak: 'id',
  where: (query, params) => [alertSelectionSql(selection, params), ...searchWhere(query, params)],
});

const FINDINGS_IN = `FROM findings WHERE last_seen BETWEEN ${T(1)} AND ${T(2)}`;
const FINDING_SELECT = 'id, type, severity, title, account, region, instance_id, user_name, api, remote_ip, country, city, port, resource_role, epoch_ms(last_seen) AS last_seen, count';
const FINDING_SORTS = { last_seen: 'last_seen', severity: 'severity', type: 'type', title: 'title', account: 'account', region: 'region', instance_id: 'instance_id', user_name: 'user_name', api: 'api', remote_ip: 'remote_ip', country: 'country', city: 'city', port: 'port', resource_role: 'resource_role', count: 'count' };
const findings = (condition: string, defaultSort = 'last_seen'): Listing => ({
  from: `${FINDINGS_IN} AND ${condition}`,
  select: FINDING_SELECT,
  sorts: FINDING_SORTS,
  defaultSort,
  defaultDir: 'desc',
  tieBreak: 'id',
});

/** An address as the IP page takes it: exact on the fields, and as a whole address in free text. */
export function addressPattern(ip: string): string {
  const escaped = ip.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`);
  // 10.0.1.1 must not match 10.0.1.10, 110.0.1.1 or 10.0.1.1.5, but does match "10.0.1.1:22" and "10.0.1.1."
  return ip.includes(':') ? `(^|[^0-9A-Fa-f:])${escaped}($|[^0-9A-Fa-f:])` : `(^|[^0-9A-Za-z.])${escaped}($|[^0-9A-Za-z.]|\\.($|[^0-9]))`;
}

/** `ip` (the address page): alerts whose fields hold it, or whose description or whole alert names it. */
/** The `ip` parameter: required, at most 100 characters (an IPv6 address with a zone is under 64). */
function address(query: Query, what: string): string {
  const ip = single(query, 'ip');
  if (ip === undefined) throw new BadParameter('ip', `the address to list ${what} (ip=10.0.1.1)`);
  if (ip.length > 100) throw new BadParameter('ip', 'at most 100 characters');
  return ip;
}

function addressAlerts(query: Query, params: (string | number)[]): string[] {
  const ip = address(query, 'alerts about');
  params.push(ip, addressPattern(ip));
  const [v, re] = [`$${params.length - 1}`, `$${params.length}`];
  // the plain substring test first: it is cheap and rules out almost every row before the regex runs
  return [`(src_ip = ${v} OR dst_ip = ${v} OR (contains(description, ${v}) AND regexp_matches(description, ${re})) OR (contains(json, ${v}) AND regexp_matches(json, ${re})))`, ...searchWhere(query, params)];
}

function addressFlows(query: Query, params: (string | number)[]): string[] {
  const ip = address(query, 'flows of');
  // plain IPv4 text is only ever stored as its number (exact: 10.0.1.1 is not 10.0.1.10); anything else as text
  const n = ipv4Number(ip);
  params.push(n >= 0 ? n : ip);
  const v = `$${params.length}`;
  return [n >= 0 ? `(src4 = ${v}::UINTEGER OR dst4 = ${v}::UINTEGER)` : `(src_text = ${v} OR dst_text = ${v})`];
}

const FLOW_SORTS = { t: 'ts', src: 'src4', sport: 'sport', dst: 'dst4', dport: 'dport', proto: 'proto', packets: 'packets', bytes: 'bytes', action: 'action' };

export const LISTINGS: Record<string, Listing> = {
  alerts: { from: ALERTS_IN, select: ALERT_SELECT, sorts: ALERT_SORTS, defaultSort: 't', defaultDir: 'desc', tieBreak: 'id', where: searchWhere },
  'ip-alerts': { from: ALERTS_IN, select: ALERT_SELECT, sorts: ALERT_SORTS, defaultSort: 'level', defaultDir: 'desc', tieBreak: `${ALERT_TIME} DESC, id`, where: addressAlerts },
  'ip-flows': {
    from: `FROM flows WHERE ts BETWEEN ${T(1)} AND ${T(2)}`,
    select: '*',
    sorts: FLOW_SORTS,
    defaultSort: 't',
    defaultDir: 'desc',
    tieBreak: 'object_id, idx',
    where: addressFlows,
    wrap: (inner) => `SELECT epoch_ms(f.ts) AS t, ip_text(f.src4, f.src_text) AS src, f.sport, ip_text(f.dst4, f.dst_text) AS dst, f.dport, f.proto, f.packets, f.bytes, f.action::VARCHAR AS action, i.eni, i.account, i.region
        FROM (${inner}) f LEFT JOIN flow_interfaces i USING (iface)`,
  },
  'ct-vpc-changes': cloudtrailAlerts(CLOUDTRAIL_PANELS.vpcChanges),
  'ct-errors': cloudtrailAlerts(CLOUDTRAIL_PANELS.errors),
  'ct-logins': cloudtrailAlerts(CLOUDTRAIL_PANELS.logins),
  'ct-evasion': cloudtrailAlerts(CLOUDTRAIL_PANELS.evasion),
  'gd-brute-force': findings(`type LIKE '%BruteForce%'`),
  'gd-unusual-api': findings(`action_type = 'AWS_API_CALL'`),
  'gd-compromised': findings(`regexp_matches(type, '^(Backdoor|Trojan|CryptoCurrency):EC2/|C&CActivity|Exfiltration|BitcoinDomainRequest')`, 'severity'),
};

function integer(query: Query, name: string, min: number, max: number, fallback: number): number {
  const text = single(query, name);
  if (text === undefined) return fallback;
  const n = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new BadParameter(name, `a whole number from ${min} to ${max}, not '${text.slice(0, 40)}'`);
  return n;
}

/** sort/dir/offset/limit of a listing, checked against its sort keys. */
export function readPage(name: string, query: Query): Page {
  const l = LISTINGS[name]!;
  const sort = single(query, 'sort') ?? l.defaultSort;
  if (!(sort in l.sorts)) throw new BadParameter('sort', `one of ${Object.keys(l.sorts).join(', ')}; not '${sort.slice(0, 40)}'`);
  const dirText = single(query, 'dir') ?? (sort === l.defaultSort ? l.defaultDir : 'asc');
  if (dirText !== 'asc' && dirText !== 'desc') throw new BadParameter('dir', `asc or desc, not '${dirText.slice(0, 40)}'`);
  return { sort, dir: dirText, offset: integer(query, 'offset', 0, MAX_OFFSET, 0), limit: integer(query, 'limit', 1, MAX_LIMIT, 50) };
}

export async function list(s: Store, name: string, r: Range, query: Query): Promise<ListResult> {
  const l = LISTINGS[name];
  if (!l) throw Object.assign(new Error(`no listing '${name.slice(0, 40)}': one of ${Object.keys(LISTINGS).join(', ')}`), { statusCode: 404 });
  const page = readPage(name, query);
  const params: (string | number)[] = [r.from, r.to];
  const extra = l.where?.(query, params) ?? [];
  const from = [l.from, ...extra].join(' AND ');
  // NULLs last whichever way, as a spreadsheet sorts
  const order = `${l.sorts[page.sort]} ${page.dir.toUpperCase()} NULLS LAST, ${l.tieBreak}`;
  const inner = `SELECT ${l.select} ${from} ORDER BY ${order} LIMIT ${page.limit} OFFSET ${page.offset}`;
  // a wrapped page (flows joined to their interface) keeps the order: the sort columns are the inner ones
  const sql = l.wrap ? `${l.wrap(inner)} ORDER BY ${order}` : inner;
  const rows = await s.query(sql, params);
  const count = await s.query(`SELECT count(*)::BIGINT AS n ${from}`, params);
  return { rows, total: Number(count[0]?.n ?? 0), ...page };
}
