/**
 * The dashboard's queries before issue 15's speed work (commit de810b8), kept as the reference the faster ones are
 * compared with (tests/dashboard/alert-queries-equivalence.test.ts). Where the old SQL left an answer open (the
 * order of ties, any_value), it is made definite here the way the new queries make it.
 */
/**
 * The SQL behind every panel; all take a time range (epoch ms) and only ever bind values as parameters.
 * Flows are stored compactly (src/store/schema.ts): addresses as numbers where they are IPv4 (`src4`/`dst4`)
 * and as text otherwise (`src_text`/`dst_text`), (ENI, account, region) as a number into `flow_interfaces`,
 * actions as an ENUM. Queries filter and group on those columns and turn only the rows they return into text
 * (`ip_text`), so a panel costs what it did when the columns were text, or less.
 */
import type { Store } from '../../../src/store/index.js';
import { ipv4Number } from '../../../src/shared/ipv4.js';
import { addressPattern } from './lists.js';
import { compileSearch } from './search.js';
import { alertSelectionSql, CLOUDTRAIL_PANELS, type AlertSelection } from '../../../src/dashboard/cloudtrail-panels.js';

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

export async function overview(s: Store, r: Range) {
  const b = bucketSeconds(r, 96);
  const p = [r.from, r.to, b];
  const inRange = `${ALERT_TIME} BETWEEN ${T(1)} AND ${T(2)}`;
  return {
    bucketSeconds: b,
    byLevel: await s.query(`SELECT ${bucketStartMs(ALERT_TIME, '$3')} AS t, CASE WHEN level >= 12 THEN 'critical (12+)' WHEN level >= 8 THEN 'high (8–11)' WHEN level >= 5 THEN 'medium (5–7)' ELSE 'low (≤4)' END k, count(*)::INTEGER n FROM alerts WHERE ${inRange} GROUP BY ALL ORDER BY t, k`, p),
    bySource: await s.query(`SELECT ${bucketStartMs(ALERT_TIME, '$3')} AS t, coalesce(source, 'other') AS k, count(*)::INTEGER n FROM alerts WHERE ${inRange} GROUP BY ALL ORDER BY t, k`, p),
    topRules: await s.query(`SELECT rule_id, arg_min(description, rowid) FILTER (WHERE description IS NOT NULL) AS description, max(level) AS level, count(*)::INTEGER n FROM alerts WHERE ${inRange} GROUP BY rule_id ORDER BY n DESC, rule_id LIMIT 10`, [r.from, r.to]),
    topIps: await s.query(`SELECT ip, count(*)::INTEGER alerts, count(DISTINCT source)::INTEGER sources, max(level) AS level FROM (SELECT src_ip ip, source, level FROM alerts WHERE ${inRange} UNION ALL SELECT dst_ip, source, level FROM alerts WHERE ${inRange}) WHERE ip IS NOT NULL GROUP BY ip ORDER BY alerts DESC, ip LIMIT 10`, [r.from, r.to]),
    accounts: await s.query(`SELECT account k, count(*)::INTEGER n FROM alerts WHERE ${inRange} AND account IS NOT NULL GROUP BY 1 ORDER BY n DESC, k`, [r.from, r.to]),
    regions: await s.query(`SELECT region k, count(*)::INTEGER n FROM alerts WHERE ${inRange} AND region IS NOT NULL GROUP BY 1 ORDER BY n DESC, k`, [r.from, r.to]),
    health: await s.query(`SELECT bucket, type, count(*)::INTEGER objects, sum(records)::BIGINT records, count(*) FILTER (WHERE status = 'error')::INTEGER errors,
        epoch_ms(max(processed_at)) AS last_processed, epoch_ms(max(last_modified)) AS newest_object, any_value(error) FILTER (WHERE status = 'error') AS last_error
        FROM objects GROUP BY bucket, type ORDER BY bucket, type`),
  };
}

const flowsIn = `ts BETWEEN ${T(1)} AND ${T(2)}`;
/** compared as the ENUM (a text literal would turn every row's action into text first) */
const REJECTED = `action = 'REJECT'::flow_action`;

/** Bytes, packets, flows and rejected flows per time bucket, by record time (where peaks show). */
export async function vpcSeries(s: Store, r: Range, b = bucketSeconds(r)) {
  return s.query(`SELECT ${bucketStartMs('ts', '$3')} AS t, sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets, count(*)::INTEGER AS flows,
      count(*) FILTER (WHERE ${REJECTED})::INTEGER AS rejected FROM flows WHERE ${flowsIn} GROUP BY 1 ORDER BY 1`, [r.from, r.to, b]);
}

/** Which IP pairs talked most (bytes) in the range. */
export async function topTalkers(s: Store, r: Range) {
  return s.query(`SELECT ip_text(src4, src_text) AS src, ip_text(dst4, dst_text) AS dst, bytes, packets, flows, rejected FROM (
      SELECT src4, src_text, dst4, dst_text, sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets, count(*)::INTEGER AS flows, count(*) FILTER (WHERE ${REJECTED})::INTEGER AS rejected
      FROM flows WHERE ${flowsIn} AND (src4 IS NOT NULL OR src_text IS NOT NULL) GROUP BY ALL ORDER BY bytes DESC, src4, src_text, dst4, dst_text LIMIT 20) ORDER BY bytes DESC, src4, src_text, dst4, dst_text`, [r.from, r.to]);
}

export async function vpc(s: Store, r: Range) {
  const b = bucketSeconds(r);
  // the series, the actions and the interfaces from one scan of the range (grouping sets; a day at 100M flows is
  // 14M rows, and each panel scanning them again was most of the page's time); GROUPING(t, action, log_status,
  // iface) sets a bit for each column a set leaves out: 7 = (t), 9 = (action, log_status), 14 = (iface)
  const [row] = await s.query(`WITH g AS (
      SELECT grouping(t, action, log_status, iface)::INTEGER AS grouped, t, action, log_status, iface, sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets,
        count(*)::INTEGER AS flows, count(*) FILTER (WHERE ${REJECTED})::INTEGER AS rejected
      FROM (SELECT ${bucketStartMs('ts', '$3')} AS t, action, log_status, iface, bytes, packets FROM flows WHERE ${flowsIn})
      GROUP BY GROUPING SETS ((t), (action, log_status), (iface)))
    SELECT
      (SELECT coalesce(list({'t': t, 'bytes': bytes, 'packets': packets, 'flows': flows, 'rejected': rejected} ORDER BY t), []) FROM g WHERE grouped = 7) AS series,
      (SELECT coalesce(list({'k': k, 'n': n} ORDER BY n DESC, k), []) FROM (
        SELECT coalesce(action::VARCHAR, log_status::VARCHAR) AS k, sum(flows)::INTEGER AS n FROM g WHERE grouped = 9 GROUP BY 1)) AS actions,
      (SELECT coalesce(list({'eni': eni, 'account': account, 'region': region, 'bytes': bytes, 'flows': flows} ORDER BY bytes DESC, eni, account, region), []) FROM (
        SELECT i.eni, i.account, i.region, sum(g.bytes)::BIGINT AS bytes, sum(g.flows)::INTEGER AS flows FROM g LEFT JOIN flow_interfaces i USING (iface)
        WHERE g.grouped = 14 GROUP BY ALL ORDER BY bytes DESC, eni, account, region LIMIT 15)) AS "byEni"`, [r.from, r.to, b]);
  const rows = (v: unknown) => (v ?? []) as Record<string, unknown>[];
  return {
    bucketSeconds: b,
    series: rows(row?.series),
    talkers: await topTalkers(s, r),
    // a row's source is a number or a text, never both: the distinct sources are the sum of the two counts
    rejectedPorts: await s.query(`SELECT dport, count(*)::INTEGER AS n, (count(DISTINCT src4) + count(DISTINCT src_text))::INTEGER AS sources FROM flows WHERE ${flowsIn} AND ${REJECTED} GROUP BY dport ORDER BY n DESC, dport LIMIT 15`, [r.from, r.to]),
    actions: rows(row?.actions),
    byEni: rows(row?.byEni),
  };
}

export async function ipPivot(s: Store, ip: string, r: Range) {
  // Ties are broken by the stored values, so a panel shows the same rows each time.
  // Plain IPv4 text is only ever stored as its number (exact: 10.0.1.1 is not 10.0.1.10); anything else as text.
  // A CIDR search would be a range on the numbers: src4 BETWEEN ipv4('10.0.0.0') AND ipv4('10.0.255.255').
  const n = ipv4Number(ip);
  const [src, dst, value] = n >= 0 ? ['src4 = $3::UINTEGER', 'dst4 = $3::UINTEGER', n] : ['src_text = $3', 'dst_text = $3', ip];
  const where = `ts BETWEEN ${T(1)} AND ${T(2)} AND (${src} OR ${dst})`;
  // one statement: the address's flows are found once (a scan of the range) and each panel is derived from them
  const [row] = await s.query(`WITH m AS MATERIALIZED (
        SELECT ts, object_id, idx, src4, src_text, dst4, dst_text, sport, dport, proto, packets, bytes, action, iface, (${src}) AS outgoing FROM flows WHERE ${where})
    SELECT
      (SELECT {'flows': count(*)::INTEGER, 'bytes': sum(bytes)::BIGINT, 'rejected': count(*) FILTER (WHERE ${REJECTED})::INTEGER, 'ports': count(DISTINCT dport)::INTEGER,
        'first': epoch_ms(min(ts)), 'last': epoch_ms(max(ts))} FROM m) AS summary,
      (SELECT coalesce(list({'peer': ip_text(p4, pt), 'bytes': bytes, 'flows': flows} ORDER BY bytes DESC, p4, pt), []) FROM (
        SELECT CASE WHEN outgoing THEN dst4 ELSE src4 END AS p4, CASE WHEN outgoing THEN dst_text ELSE src_text END AS pt, sum(bytes)::BIGINT bytes, count(*)::INTEGER flows
        FROM m GROUP BY 1, 2 ORDER BY bytes DESC, p4, pt LIMIT 15)) AS peers,
      (SELECT coalesce(list({'t': epoch_ms(f.ts), 'src': ip_text(f.src4, f.src_text), 'sport': f.sport, 'dst': ip_text(f.dst4, f.dst_text), 'dport': f.dport, 'proto': f.proto,
          'packets': f.packets, 'bytes': f.bytes, 'action': f.action::VARCHAR, 'eni': i.eni, 'account': i.account, 'region': i.region} ORDER BY f.ts DESC, f.object_id, f.idx), [])
        FROM (SELECT * FROM m ORDER BY ts DESC, object_id, idx LIMIT 200) f LEFT JOIN flow_interfaces i USING (iface)) AS flows`, [r.from, r.to, value]);
  return {
    ip,
    summary: (row?.summary ?? {}) as Record<string, unknown>,
    peers: (row?.peers ?? []) as Record<string, unknown>[],
    flows: (row?.flows ?? []) as Record<string, unknown>[],
    // exact: the address fields, or the whole address in the text (10.0.1.1 never matches 10.0.1.10), in the range
    alerts: await s.query(`SELECT id, epoch_ms(${ALERT_TIME}) AS t, level, rule_id, description, source, account FROM alerts
        WHERE ${ALERT_TIME} BETWEEN ${T(1)} AND ${T(2)} AND (src_ip = $3 OR dst_ip = $3 OR (contains(description, $3) AND regexp_matches(description, $4)) OR (contains(json, $3) AND regexp_matches(json, $4)))
        ORDER BY level DESC, t DESC, id LIMIT 200`, [r.from, r.to, ip, addressPattern(ip)]),
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
  const where = [`${ALERT_TIME} BETWEEN ${T(1)} AND ${T(2)}`];
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
  return s.query(`SELECT id, epoch_ms(${ALERT_TIME}) AS t, level, rule_id, description, source, account, region, src_ip, dst_ip FROM alerts WHERE ${where.join(' AND ')} ORDER BY t DESC LIMIT $${params.length}`, params);
}

export async function alertById(s: Store, id: string) {
  const [row] = await s.query('SELECT json FROM alerts WHERE id = $1', [id]);
  return row ? (JSON.parse(String(row.json)) as unknown) : undefined;
}
