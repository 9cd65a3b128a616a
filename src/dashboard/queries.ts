/**
 * The SQL behind every panel; all take a time range (epoch ms) and only ever bind values as parameters.
 * Flows are stored compactly (src/store/schema.ts): addresses as numbers where they are IPv4 (`src4`/`dst4`)
 * and as text otherwise (`src_text`/`dst_text`), (ENI, account, region) as a number into `flow_interfaces`,
 * actions as an ENUM. Queries filter and group on those columns and turn only the rows they return into text
 * (`ip_text`), so a panel costs what it did when the columns were text, or less.
 */
import type { Store } from '../store/index.js';
import { ipv4Number } from '../shared/ipv4.js';
import { addressCondition, addressPattern } from './lists.js';
import { compileSearch } from './search.js';
import { alertSelectionSql, CLOUDTRAIL_PANELS, type AlertSelection } from './cloudtrail-panels.js';
import { TIME_BUCKET_MS } from '../store/rollups.js';
import { flowSource, Params, planRange } from './flow-sources.js';
import { alertsInRange } from './alert-range.js';

export interface Range {
  from: number;
  to: number;
}

const T = (i: number) => `make_timestamp($${i}::BIGINT * 1000)`;
const NICE = [60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400];

/**
 * Start (epoch ms) of the `seconds`-wide bucket holding `time`, as `epoch_ms(time_bucket(to_seconds(seconds),
 * time))` gives it (weeks start on Monday: time_bucket's origin, 2000-01-03), in integer arithmetic: half the
 * time over a day of flows at 100M rows. The origin is moved 2,000 weeks back (1961-09-04, a Monday) so the
 * integer division never sees a negative number for any time after it.
 */
export function bucketStartMs(time: string, seconds: string): string {
  const origin = '(-262742400000000)';
  return `((epoch_us(${time}) - ${origin}) // (${seconds}::BIGINT * 1000000) * (${seconds}::BIGINT * 1000000) + ${origin}) // 1000`;
}

/** A round bucket size giving at most `points` points over the range (findings are sparse: fewer, wider bars). */
export function bucketSeconds(r: Range, points = 240): number {
  const want = (r.to - r.from) / 1000 / points;
  return NICE.find((s) => s >= want) ?? NICE[NICE.length - 1]!;
}

export async function dataRange(s: Store): Promise<{ min: number | null; max: number | null }> {
  const [row] = await s.query(`SELECT min(m) AS min, max(x) AS max FROM (
      SELECT epoch_ms(min(ts)) m, epoch_ms(max(ts)) x FROM flows
      UNION ALL SELECT epoch_ms(min(coalesce(event_ts, ts))), epoch_ms(max(coalesce(event_ts, ts))) FROM alerts
      UNION ALL SELECT epoch_ms(min(last_seen)), epoch_ms(max(last_seen)) FROM findings)`);
  return { min: row?.min === null || row?.min === undefined ? null : Number(row.min), max: row?.max === null || row?.max === undefined ? null : Number(row.max) };
}

const ALERT_TIME = 'coalesce(event_ts, ts)';

/** the overview's level bands, from a rule level */
const LEVEL_BAND = (level: string) => `CASE WHEN ${level} >= 12 THEN 'critical (12+)' WHEN ${level} >= 8 THEN 'high (8–11)' WHEN ${level} >= 5 THEN 'medium (5–7)' ELSE 'low (≤4)' END`;

const OVERVIEW_COLUMNS = ['t', 'level', 'source', 'rule_id', 'account', 'region', 'src_ip', 'dst_ip'];
/** GROUPING(OVERVIEW_COLUMNS) of a grouping set: a bit for each column the set leaves out, the first column highest */
const OVERVIEW_SET = (...set: string[]) => OVERVIEW_COLUMNS.reduce((bits, c, i) => (set.includes(c) ? bits : bits | (1 << (OVERVIEW_COLUMNS.length - 1 - i))), 0);

export async function overview(s: Store, r: Range) {
  const b = bucketSeconds(r, 96);
  // Every alert panel from one scan of the range (grouping sets: a day can hold millions of alerts, and a scan
  // per panel was most of the page's time), the range as two halves on plain columns (alert-range.ts).
  // GROUPING(…) tells the sets apart (OVERVIEW_SET); each panel is derived from the small grouped result. A rule's description is its first alert's in the range (the one with the smallest
  // rowid and a description): read for the ten rules shown only, not for every alert.
  const [row] = await s.query(`WITH g AS MATERIALIZED (
      SELECT grouping(${OVERVIEW_COLUMNS.join(', ')})::INTEGER AS grouped, t, level, source, rule_id, account, region, src_ip, dst_ip,
        count(*)::INTEGER AS n, max(level) AS top, min(rid) AS first
      FROM (SELECT ${bucketStartMs('ats', '$3')} AS t, level, source, rule_id, account, region, src_ip, dst_ip, rid FROM (
          SELECT rowid AS rid, event_ts AS ats, * FROM alerts WHERE event_ts BETWEEN ${T(1)} AND ${T(2)}
          UNION ALL SELECT rowid AS rid, ts AS ats, * FROM alerts WHERE event_ts IS NULL AND ts BETWEEN ${T(1)} AND ${T(2)}))
      GROUP BY GROUPING SETS ((t, level, source), (rule_id), (account), (region), (src_ip, source), (dst_ip, source))),
    rules AS (SELECT rule_id, top AS level, n, first FROM g WHERE grouped = ${OVERVIEW_SET('rule_id')} ORDER BY n DESC, rule_id LIMIT 10)
    SELECT
      (SELECT coalesce(list({'t': t, 'k': k, 'n': n} ORDER BY t, k), []) FROM (
        SELECT t, ${LEVEL_BAND('level')} AS k, sum(n)::INTEGER AS n FROM g WHERE grouped = ${OVERVIEW_SET('t', 'level', 'source')} GROUP BY ALL)) AS "byLevel",
      (SELECT coalesce(list({'t': t, 'k': k, 'n': n} ORDER BY t, k), []) FROM (
        SELECT t, coalesce(source, 'other') AS k, sum(n)::INTEGER AS n FROM g WHERE grouped = ${OVERVIEW_SET('t', 'level', 'source')} GROUP BY ALL)) AS "bySource",
      (SELECT coalesce(list({'rule_id': r.rule_id, 'description': a.description, 'level': r.level, 'n': r.n} ORDER BY r.n DESC, r.rule_id), []) FROM rules r
        LEFT JOIN (SELECT rowid AS first, description FROM alerts WHERE rowid IN (SELECT first FROM rules)) a USING (first)) AS "topRules",
      (SELECT coalesce(list({'ip': ip, 'alerts': alerts, 'sources': sources, 'level': level} ORDER BY alerts DESC, ip), []) FROM (
        SELECT ip, sum(n)::INTEGER AS alerts, count(DISTINCT source)::INTEGER AS sources, max(top) AS level FROM (
          SELECT src_ip AS ip, source, n, top FROM g WHERE grouped = ${OVERVIEW_SET('src_ip', 'source')} UNION ALL SELECT dst_ip, source, n, top FROM g WHERE grouped = ${OVERVIEW_SET('dst_ip', 'source')})
        WHERE ip IS NOT NULL GROUP BY ip ORDER BY alerts DESC, ip LIMIT 10)) AS "topIps",
      (SELECT coalesce(list({'k': account, 'n': n} ORDER BY n DESC, account), []) FROM g WHERE grouped = ${OVERVIEW_SET('account')} AND account IS NOT NULL) AS accounts,
      (SELECT coalesce(list({'k': region, 'n': n} ORDER BY n DESC, region), []) FROM g WHERE grouped = ${OVERVIEW_SET('region')} AND region IS NOT NULL) AS regions`, [r.from, r.to, b]);
  const rows = (v: unknown) => (v ?? []) as Record<string, unknown>[];
  const topRules = rows(row?.topRules);
  // a rule whose first alert has no description: its first alert that has one, as any_value would find it
  for (const rule of topRules.filter((x) => x.description === null)) {
    const [d] = await s.query(`SELECT arg_min(description, rid) AS description FROM (
        SELECT rowid AS rid, description, rule_id FROM alerts WHERE event_ts BETWEEN ${T(1)} AND ${T(2)}
        UNION ALL SELECT rowid, description, rule_id FROM alerts WHERE event_ts IS NULL AND ts BETWEEN ${T(1)} AND ${T(2)})
      WHERE rule_id IS NOT DISTINCT FROM $3 AND description IS NOT NULL`, [r.from, r.to, rule.rule_id as string | null]);
    rule.description = d?.description ?? null;
  }
  return {
    bucketSeconds: b,
    byLevel: rows(row?.byLevel),
    bySource: rows(row?.bySource),
    topRules,
    topIps: rows(row?.topIps),
    accounts: rows(row?.accounts),
    regions: rows(row?.regions),
    health: await s.query(`SELECT bucket, type, count(*)::INTEGER objects, sum(records)::BIGINT records, count(*) FILTER (WHERE status = 'error')::INTEGER errors,
        epoch_ms(max(processed_at)) AS last_processed, epoch_ms(max(last_modified)) AS newest_object, any_value(error) FILTER (WHERE status = 'error') AS last_error
        FROM objects GROUP BY bucket, type ORDER BY bucket, type`),
  };
}

/** compared as the ENUM (a text literal would turn every row's action into text first) */
const REJECTED = `action = 'REJECT'::flow_action`;

/** The time rollups serve a series whose bucket is a whole number of theirs (ranges over ~20 hours). */
const timeRollupsServe = (b: number) => (b * 1000) % TIME_BUCKET_MS === 0;

/**
 * The flow panels read rollups and the flows around them (flow-sources.ts): sums of sums, so every figure is the
 * one a scan of `flows` gives; ties are broken by the stored values as before, so a panel shows the same rows.
 */

/** Bytes, packets, flows and rejected flows per time bucket, by record time (where peaks show). */
export async function vpcSeries(s: Store, r: Range, b = bucketSeconds(r)) {
  const p = new Params();
  const bucket = p.add(b);
  const src = flowSource(await planRange(s, 'time', r, timeRollupsServe(b)), p);
  return s.query(`SELECT ${bucketStartMs('bucket', bucket)} AS t, sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets, sum(flows)::INTEGER AS flows,
      sum(rejected)::INTEGER AS rejected FROM ${src} GROUP BY 1 ORDER BY 1`, p.values);
}

/** Which IP pairs talked most (bytes) in the range. */
export async function topTalkers(s: Store, r: Range) {
  const p = new Params();
  const src = flowSource(await planRange(s, 'pairs', r), p, 'src4 IS NOT NULL OR src_text IS NOT NULL');
  return s.query(`SELECT ip_text(src4, src_text) AS src, ip_text(dst4, dst_text) AS dst, bytes, packets, flows, rejected FROM (
      SELECT src4, src_text, dst4, dst_text, sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets, sum(flows)::INTEGER AS flows, sum(rejected)::INTEGER AS rejected
      FROM ${src} GROUP BY ALL ORDER BY bytes DESC, src4, src_text, dst4, dst_text LIMIT 20) ORDER BY bytes DESC, src4, src_text, dst4, dst_text`, p.values);
}

export async function vpc(s: Store, r: Range) {
  const b = bucketSeconds(r);
  const p = new Params();
  const bucket = p.add(b);
  const src = flowSource(await planRange(s, 'time', r, timeRollupsServe(b)), p);
  // the series, the actions and the interfaces from one read of the range (grouping sets); GROUPING(t, action,
  // log_status, iface) sets a bit for each column a set leaves out: 7 = (t), 9 = (action, log_status), 14 = (iface)
  const [row] = await s.query(`WITH g AS (
      SELECT grouping(t, action, log_status, iface)::INTEGER AS grouped, t, action, log_status, iface, sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets,
        sum(flows)::INTEGER AS flows, sum(rejected)::INTEGER AS rejected
      FROM (SELECT ${bucketStartMs('bucket', bucket)} AS t, action, log_status, iface, bytes, packets, flows, rejected FROM ${src})
      GROUP BY GROUPING SETS ((t), (action, log_status), (iface)))
    SELECT
      (SELECT coalesce(list({'t': t, 'bytes': bytes, 'packets': packets, 'flows': flows, 'rejected': rejected} ORDER BY t), []) FROM g WHERE grouped = 7) AS series,
      (SELECT coalesce(list({'k': k, 'n': n} ORDER BY n DESC, k), []) FROM (
        SELECT coalesce(action::VARCHAR, log_status::VARCHAR) AS k, sum(flows)::INTEGER AS n FROM g WHERE grouped = 9 GROUP BY 1)) AS actions,
      (SELECT coalesce(list({'eni': eni, 'account': account, 'region': region, 'bytes': bytes, 'flows': flows} ORDER BY bytes DESC, eni, account, region), []) FROM (
        SELECT i.eni, i.account, i.region, sum(g.bytes)::BIGINT AS bytes, sum(g.flows)::INTEGER AS flows FROM g LEFT JOIN flow_interfaces i USING (iface)
        WHERE g.grouped = 14 GROUP BY ALL ORDER BY bytes DESC, eni, account, region LIMIT 15)) AS "byEni"`, p.values);
  const rows = (v: unknown) => (v ?? []) as Record<string, unknown>[];
  return {
    bucketSeconds: b,
    series: rows(row?.series),
    talkers: await topTalkers(s, r),
    rejectedPorts: await rejectedPorts(s, r),
    actions: rows(row?.actions),
    byEni: rows(row?.byEni),
  };
}

/** The destination ports most rejected, with how many distinct sources were rejected on each. */
async function rejectedPorts(s: Store, r: Range) {
  const p = new Params();
  const src = flowSource(await planRange(s, 'pairs', r), p);
  // a row's source is a number or a text, never both: the distinct sources are the sum of the two counts (a
  // source is counted for a port when any of its rows there has a rejected flow)
  return s.query(`SELECT dport, sum(rejected)::INTEGER AS n, (count(DISTINCT src4) + count(DISTINCT src_text))::INTEGER AS sources FROM ${src}
      WHERE rejected > 0 GROUP BY dport ORDER BY n DESC, dport LIMIT 15`, p.values);
}

export async function ipPivot(s: Store, ip: string, r: Range) {
  // Ties are broken by the stored values, so a panel shows the same rows each time.
  // Plain IPv4 text is only ever stored as its number (exact: 10.0.1.1 is not 10.0.1.10); anything else as text.
  // A CIDR search would be a range on the numbers: src4 BETWEEN ipv4('10.0.0.0') AND ipv4('10.0.255.255').
  const n = ipv4Number(ip);
  const address = (p: Params) => {
    const v = n >= 0 ? `${p.add(n)}::UINTEGER` : p.add(ip);
    return n >= 0 ? [`src4 = ${v}`, `dst4 = ${v}`] : [`src_text = ${v}`, `dst_text = ${v}`];
  };
  // summary and peers from one statement over the address's pair rows (rollups and the flows around them)
  const p = new Params();
  const [src, dst] = address(p);
  const m = flowSource(await planRange(s, 'pairs', r), p, `${src} OR ${dst}`);
  const [row] = await s.query(`WITH m AS MATERIALIZED (SELECT *, (${src}) AS outgoing FROM ${m})
    SELECT
      (SELECT {'flows': coalesce(sum(flows), 0)::INTEGER, 'bytes': sum(bytes)::BIGINT, 'rejected': coalesce(sum(rejected), 0)::INTEGER, 'ports': count(DISTINCT dport)::INTEGER,
        'first': epoch_ms(min(first_ts)), 'last': epoch_ms(max(last_ts))} FROM m) AS summary,
      (SELECT coalesce(list({'peer': ip_text(p4, pt), 'bytes': bytes, 'flows': flows} ORDER BY bytes DESC, p4, pt), []) FROM (
        SELECT CASE WHEN outgoing THEN dst4 ELSE src4 END AS p4, CASE WHEN outgoing THEN dst_text ELSE src_text END AS pt, sum(bytes)::BIGINT bytes, sum(flows)::INTEGER flows
        FROM m GROUP BY 1, 2 ORDER BY bytes DESC, p4, pt LIMIT 15)) AS peers,
      (SELECT coalesce(list({'h': h, 'n': n} ORDER BY h DESC), []) FROM (
        SELECT epoch_ms(time_bucket(INTERVAL 1 HOUR, bucket)) AS h, sum(flows)::BIGINT AS n FROM m GROUP BY 1)) AS hours`, p.values);
  // the newest 200 of the address's flows: only from the hour where, counting back from the newest, the
  // address's rows reach 200 (every flow left out is older than those); a scan of the range otherwise
  const newest = async (w: Range) => {
    const q = new Params();
    const [qs, qd] = address(q);
    const where = `ts BETWEEN make_timestamp(${q.add(w.from)}::BIGINT * 1000) AND make_timestamp(${q.add(w.to)}::BIGINT * 1000) AND (${qs} OR ${qd})`;
    const [x] = await s.query(`SELECT coalesce(list({'t': epoch_ms(f.ts), 'src': ip_text(f.src4, f.src_text), 'sport': f.sport, 'dst': ip_text(f.dst4, f.dst_text), 'dport': f.dport, 'proto': f.proto,
          'packets': f.packets, 'bytes': f.bytes, 'action': f.action::VARCHAR, 'eni': i.eni, 'account': i.account, 'region': i.region} ORDER BY f.ts DESC, f.object_id, f.idx), []) AS flows
        FROM (SELECT * FROM flows WHERE ${where} ORDER BY ts DESC, object_id, idx LIMIT 200) f LEFT JOIN flow_interfaces i USING (iface)`, q.values);
    return (x?.flows ?? []) as Record<string, unknown>[];
  };
  let from = r.from;
  let seen = 0;
  for (const { h, n: count } of (row?.hours ?? []) as { h: number; n: number | string }[]) {
    seen += Number(count);
    if (seen >= 200) {
      from = Math.max(r.from, Number(h));
      break;
    }
  }
  let flows = await newest({ from, to: r.to });
  // rows taken back between the two statements: the window may hold fewer than counted
  if (flows.length < 200 && from > r.from) flows = await newest(r);
  return {
    ip,
    summary: (row?.summary ?? {}) as Record<string, unknown>,
    peers: (row?.peers ?? []) as Record<string, unknown>[],
    flows,
    // exact: the address fields, or the whole address in the text (10.0.1.1 never matches 10.0.1.10), in the range
    // (the range as two halves on plain columns, alert-range.ts: only its row groups are read)
    alerts: await s.query(`SELECT id, epoch_ms(ats) AS t, level, rule_id, description, source, account FROM ${alertsInRange(1, 2)}
        WHERE ${addressCondition('$3', '$4')} ORDER BY level DESC, t DESC, id LIMIT 200`, [r.from, r.to, ip, addressPattern(ip)]),
  };
}

export async function guardduty(s: Store, r: Range) {
  const b = bucketSeconds(r, 60);
  const where = `last_seen BETWEEN ${T(1)} AND ${T(2)}`;
  const band = `CASE WHEN severity >= 9 THEN 'critical' WHEN severity >= 7 THEN 'high' WHEN severity >= 4 THEN 'medium' ELSE 'low' END`;
  const cols = `id, type, severity, title, account, region, instance_id, user_name, api, remote_ip, country, city, port, resource_role, epoch_ms(last_seen) AS last_seen, count`;
  return {
    bucketSeconds: b,
    byType: await s.query(`SELECT type k, count(*)::INTEGER n FROM findings WHERE ${where} GROUP BY 1 ORDER BY n DESC`, [r.from, r.to]),
    bySeverity: await s.query(`SELECT ${bucketStartMs('last_seen', '$3')} AS t, ${band} k, count(*)::INTEGER n FROM findings WHERE ${where} GROUP BY ALL ORDER BY t`, [r.from, r.to, b]),
    byTypeOverTime: await s.query(`SELECT ${bucketStartMs('last_seen', '$3')} AS t, split_part(type, '/', 1) AS k, count(*)::INTEGER n FROM findings WHERE ${where} GROUP BY ALL ORDER BY t`, [r.from, r.to, b]),
    locations: await s.query(`SELECT country, city, any_value(lat) AS lat, any_value(lon) AS lon, count(*)::INTEGER findings, string_agg(DISTINCT remote_ip, ', ') AS ips FROM findings WHERE ${where} AND country IS NOT NULL GROUP BY country, city ORDER BY findings DESC`, [r.from, r.to]),
    bruteForce: await s.query(`SELECT ${cols} FROM findings WHERE ${where} AND type LIKE '%BruteForce%' ORDER BY last_seen DESC LIMIT 50`, [r.from, r.to]),
    unusualApi: await s.query(`SELECT ${cols} FROM findings WHERE ${where} AND action_type = 'AWS_API_CALL' ORDER BY last_seen DESC LIMIT 50`, [r.from, r.to]),
    compromised: await s.query(`SELECT ${cols} FROM findings WHERE ${where} AND regexp_matches(type, '^(Backdoor|Trojan|CryptoCurrency):EC2/|C&CActivity|Exfiltration|BitcoinDomainRequest') ORDER BY severity DESC LIMIT 50`, [r.from, r.to]),
  };
}

export async function cloudtrail(s: Store, r: Range) {
  const q = (selection: AlertSelection) => {
    const params: (string | number)[] = [r.from, r.to];
    const selected = alertSelectionSql(selection, params);
    return s.query(`SELECT id, epoch_ms(${ALERT_TIME}) AS t, level, rule_id, description, account, region, src_ip FROM alerts WHERE ${ALERT_TIME} BETWEEN ${T(1)} AND ${T(2)} AND ${selected} ORDER BY t DESC LIMIT 100`, params);
  };
  return {
    vpcChanges: await q(CLOUDTRAIL_PANELS.vpcChanges),
    errors: await q(CLOUDTRAIL_PANELS.errors),
    logins: await q(CLOUDTRAIL_PANELS.logins),
    evasion: await q(CLOUDTRAIL_PANELS.evasion),
  };
}

export interface AlertFilter extends Range {
  level?: number;
  /** any of these rule ids */
  rules?: string[];
  ip?: string;
  account?: string;
  q?: string;
  limit?: number;
}

export async function alerts(s: Store, f: AlertFilter) {
  const where = ['true'];
  const params: (string | number)[] = [f.from, f.to];
  const add = (sql: string, v: string | number) => {
    params.push(v);
    where.push(sql.replaceAll('?', `$${params.length}`));
  };
  if (f.level !== undefined) add('level >= ?', f.level);
  if (f.rules?.length) {
    const first = params.length + 1;
    params.push(...f.rules);
    where.push(`rule_id IN (${f.rules.map((_, i) => `$${first + i}`).join(', ')})`);
  }
  if (f.ip) add('(src_ip = ? OR dst_ip = ?)', f.ip);
  if (f.account) add('account = ?', f.account);
  const search = f.q ? compileSearch(f.q, params.length + 1) : undefined;
  if (search) {
    params.push(...search.params);
    where.push(search.sql);
  }
  params.push(Math.min(f.limit ?? 200, 1000));
  // the range as two halves on plain columns (alert-range.ts): only its row groups are read
  return s.query(`SELECT id, epoch_ms(ats) AS t, level, rule_id, description, source, account, region, src_ip, dst_ip FROM ${alertsInRange(1, 2)} WHERE ${where.join(' AND ')} ORDER BY t DESC LIMIT $${params.length}`, params);
}

export async function alertById(s: Store, id: string) {
  const [row] = await s.query('SELECT json FROM alerts WHERE id = $1', [id]);
  return row ? (JSON.parse(String(row.json)) as unknown) : undefined;
}
