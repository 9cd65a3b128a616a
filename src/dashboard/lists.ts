/**
 * Every row listing of the dashboard (alerts, CloudTrail panels, GuardDuty panels, an address's flows and
 * alerts) as one paged query: `GET /api/list/<name>?from&to&sort&dir&offset&limit[&q][&ip]` answers
 * `{ rows, total, offset, limit, sort, dir }`. The sort key is looked up in the listing's own table of
 * columns (never SQL from the request); ties are broken by a fixed key so a page shows the same rows each time.
 * The total is a count over the same condition.
 */
import type { Store } from '../store/index.js';
import { ipv4Number } from '../shared/ipv4.js';
import { BadParameter, single, type Query } from './params.js';
import type { Range } from './queries.js';
import { compileSearch, SearchError } from './search.js';
import { alertSelectionSql, CLOUDTRAIL_PANELS, type AlertSelection } from './cloudtrail-panels.js';

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
  /**
   * the listing's rows carry their table's `rowid` as `rid` (alerts): a listing with conditions from the request
   * then finds its rows once for both the page and the total (see onePass)
   */
  rowids?: { table: string; select: string; hidden: string };
}

const T = (i: number) => `make_timestamp($${i}::BIGINT * 1000)`;
/**
 * Alerts in the range with their time as `ats` (coalesce(event_ts, ts)) and their `rowid` as `rid`: two halves on
 * plain columns, so DuckDB's zone maps skip the row groups outside the range (alert-range.ts says why).
 */
const ALERTS_IN = `FROM (SELECT rowid AS rid, *, event_ts AS ats FROM alerts WHERE event_ts BETWEEN ${T(1)} AND ${T(2)}
    UNION ALL SELECT rowid AS rid, *, ts AS ats FROM alerts WHERE event_ts IS NULL AND ts BETWEEN ${T(1)} AND ${T(2)}) WHERE true`;
const ALERT_SELECT = `id, epoch_ms(ats) AS t, level, rule_id, description, source, account, region, src_ip, dst_ip`;
const ALERT_SORTS = { t: 'ats', level: 'level', rule_id: 'rule_id', description: 'description', source: 'source', account: 'account', region: 'region', src_ip: 'src_ip', dst_ip: 'dst_ip' };
/** a page of alerts read back by rowid (the same columns as ALERT_SELECT, the time computed again) */
const ALERT_ROWS = { table: 'alerts', select: `rowid AS rid, coalesce(event_ts, ts) AS ats, ${ALERT_SELECT}`, hidden: 'rid, ats' };
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
  rowids: ALERT_ROWS,
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

/**
 * `ip` (the address page): alerts whose fields hold it, or whose description or whole alert names it; `v` and `re`
 * are the parameters holding the address and its addressPattern. The plain substring test first (CASE: DuckDB
 * keeps that order): it is cheap and rules out almost every row before the regular expression runs.
 */
export const addressCondition = (v: string, re: string): string =>
  `(src_ip = ${v} OR dst_ip = ${v} OR CASE WHEN contains(description, ${v}) THEN regexp_matches(description, ${re}) ELSE false END
    OR CASE WHEN contains(json, ${v}) THEN regexp_matches(json, ${re}) ELSE false END)`;

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
  return [addressCondition(v, re), ...searchWhere(query, params)];
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
  alerts: { from: ALERTS_IN, select: ALERT_SELECT, sorts: ALERT_SORTS, defaultSort: 't', defaultDir: 'desc', tieBreak: 'id', where: searchWhere, rowids: ALERT_ROWS },
  'ip-alerts': { from: ALERTS_IN, select: ALERT_SELECT, sorts: ALERT_SORTS, defaultSort: 'level', defaultDir: 'desc', tieBreak: 'ats DESC, id', where: addressAlerts, rowids: ALERT_ROWS },
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
  if (l.rowids && extra.length) return onePass(s, l, page, from, order, params);
  const inner = `SELECT ${l.select} ${from} ORDER BY ${order} LIMIT ${page.limit} OFFSET ${page.offset}`;
  // a wrapped page (flows joined to their interface) keeps the order: the sort columns are the inner ones
  const sql = l.wrap ? `${l.wrap(inner)} ORDER BY ${order}` : inner;
  const rows = await s.query(sql, params);
  const count = await s.query(`SELECT count(*)::BIGINT AS n ${from}`, params);
  return { rows, total: Number(count[0]?.n ?? 0), ...page };
}

/** The columns an ORDER BY of a listing reads (its sort expression and tie-break are column names, with DESC). */
const orderColumns = (order: string): string[] => [...new Set(order.split(',').map((k) => k.trim().split(/\s+/)[0]!))];

/**
 * A page and its total from one pass over the rows that match. A search or an address reads every alert's text in
 * the range (the cost of such a listing), and the page and the count each did it again. Here the matching rows
 * are found once and kept small (rowid and the sort columns; a MATERIALIZED CTE is computed once for both uses);
 * the page's rows are then read back by rowid. The total rides on the page's rows; a page past the end has no
 * rows to carry it and is counted on its own.
 */
async function onePass(s: Store, l: Listing, page: Page, from: string, order: string, params: (string | number)[]): Promise<ListResult> {
  const back = l.rowids!;
  const sql = `WITH m AS MATERIALIZED (SELECT rid, ${orderColumns(order).join(', ')} ${from}),
      p AS (SELECT rid FROM m ORDER BY ${order} LIMIT ${page.limit} OFFSET ${page.offset})
    SELECT * EXCLUDE (${back.hidden}), (SELECT count(*) FROM m)::BIGINT AS tld_total
    FROM (SELECT ${back.select} FROM ${back.table} WHERE rowid IN (SELECT rid FROM p)) ORDER BY ${order}`;
  const rows = await s.query(sql, params);
  const total = rows.length > 0 ? Number(rows[0]!.tld_total) : page.offset === 0 ? 0 : Number((await s.query(`SELECT count(*)::BIGINT AS n ${from}`, params))[0]?.n ?? 0);
  for (const row of rows) delete row.tld_total;
  return { rows, total, ...page };
}
