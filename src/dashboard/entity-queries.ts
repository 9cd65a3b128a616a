/**
 * Entity pages (issue 15, item 6): everything about an instance, ENI, account, user/ARN, port, GuardDuty finding,
 * finding type or rule in the range: its alerts, findings, flows, timeline and peers, like the IP page.
 *
 * Matching is exact. Columns where the store has one (account, rule, instance, finding type, port); otherwise the
 * value as a whole JSON string inside the stored alert or finding (`"eni-0a1b"` with its quotes, so eni-0a1 never
 * matches eni-0a1b). Values are always bound as parameters; only numbers this module computed are put in SQL.
 * Flows are filtered on the store's compact columns (schema.ts): ENIs and accounts through `flow_interfaces`,
 * addresses as numbers. Kinds that flow logs never name (user, rule, finding type) have no flow panels.
 */
import type { Store } from '../store/index.js';
import { ipv4Number } from '../shared/ipv4.js';
import { bucketSeconds, bucketStartMs, type Range } from './queries.js';
import { ALERT_BAND, FINDING_BAND } from './triage.js';
import { BadParameter } from './params.js';
import { readId } from './triage-params.js';
import { flowSource, Params, planRange, type RollupShape } from './flow-sources.js';
import { HOUR_MS, TIME_BUCKET_MS } from '../store/rollups.js';

export const ENTITY_KINDS = ['instance', 'eni', 'account', 'user', 'port', 'finding', 'finding-type', 'rule'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

const T = (i: number) => `make_timestamp($${i}::BIGINT * 1000)`;
type Row = Record<string, unknown>;
type Param = string | number;

export function readEntity(kind: string | undefined, value: string | undefined): { kind: EntityKind; value: string } {
  if (!(ENTITY_KINDS as readonly (string | undefined)[]).includes(kind)) throw new BadParameter('kind', `one of ${ENTITY_KINDS.join(', ')}`);
  const v = readId(value, 'value');
  if (kind === 'port' && !(/^\d{1,5}$/.test(v) && Number(v) <= 65535)) throw new BadParameter('value', `a port number from 0 to 65535, not '${v.slice(0, 40)}'`);
  return { kind: kind as EntityKind, value: v };
}

/** A filter on one table: SQL with `?` where the value goes (and `?2` where a second one goes), and the values. */
interface Where {
  sql: string;
  value: Param;
  value2?: Param;
  /** a filter on plain columns (no text searched): reading its rows again costs less than keeping them */
  columns?: true;
}

/**
 * A filter of flows; without `value` the SQL takes no parameter. `timeline`: the rollup whose rows carry the
 * filtered column at the finest grain (rollups.ts); the peers always come from the pair rollup, which has them all.
 */
interface FlowWhere {
  sql: string;
  value?: Param;
  timeline: RollupShape;
}

/** The quoted JSON form of a value: how it appears as a whole string inside stored JSON. */
const needle = (v: string) => JSON.stringify(v);

/** The ENIs and private addresses GuardDuty reported for an instance (findings know them; flow logs do not name instances). */
async function instanceInterfaces(s: Store, instance: string): Promise<{ enis: string[]; addresses: string[] }> {
  const rows = await s.query(`SELECT json FROM findings WHERE instance_id = $1 ORDER BY last_seen DESC LIMIT 50`, [instance]);
  const enis = new Set<string>();
  const addresses = new Set<string>();
  for (const r of rows) {
    let f: Row;
    try {
      f = JSON.parse(String(r.json)) as Row;
    } catch {
      continue;
    }
    const nics = ((f.resource as Row | undefined)?.instanceDetails as Row | undefined)?.networkInterfaces;
    for (const n of ([] as unknown[]).concat(nics ?? [])) {
      const nic = n as Row;
      if (typeof nic?.networkInterfaceId === 'string') enis.add(nic.networkInterfaceId);
      if (typeof nic?.privateIpAddress === 'string') addresses.add(nic.privateIpAddress);
    }
  }
  return { enis: [...enis].sort(), addresses: [...addresses].sort() };
}

/** Flows naming an address (either side). */
function addressFlows(ip: string): FlowWhere {
  const n = ipv4Number(ip);
  return n >= 0 ? { sql: '(src4 = ?::UINTEGER OR dst4 = ?::UINTEGER)', value: n, timeline: 'pairs' } : { sql: '(src_text = ? OR dst_text = ?)', value: ip, timeline: 'pairs' };
}

/**
 * Flows of some interfaces. The interface numbers are looked up first (the dictionary is small) and written into
 * the filter as a list of numbers (they come from the store, integers only): a constant list costs less per flow
 * than a join with `flow_interfaces`.
 */
async function interfaceFlows(s: Store, where: string, value: Param): Promise<FlowWhere> {
  const rows = await s.query(`SELECT DISTINCT iface FROM flow_interfaces WHERE ${where.replaceAll('?', '$1')} ORDER BY iface`, [value]);
  const ifaces = rows.map((r) => Number(r.iface)).filter((n) => Number.isSafeInteger(n) && n >= 0);
  return { sql: ifaces.length ? `iface IN (${ifaces.join(',')})` : 'false', timeline: 'time' };
}

interface Plan {
  alerts: Where;
  findings: Where;
  flows?: FlowWhere;
  /** the finding's flows: only while it was active (an hour either side), within the range */
  flowWindow?: { from: number; to: number };
  /** what the page says about the entity beyond the panels (an instance's ENIs, a finding's history) */
  facts: Row;
}

async function plan(s: Store, kind: EntityKind, value: string): Promise<Plan> {
  switch (kind) {
    case 'account':
      return { alerts: { sql: 'account = ?', value, columns: true }, findings: { sql: 'account = ?', value }, flows: await interfaceFlows(s, 'account = ?', value), facts: {} };
    case 'eni':
      return { alerts: { sql: 'position(? IN json) > 0', value: needle(value) }, findings: { sql: 'position(? IN json) > 0', value: needle(value) }, flows: await interfaceFlows(s, 'eni = ?', value), facts: {} };
    case 'port':
      return {
        // a VPC record's destination port, or the local port GuardDuty reports: whole JSON numbers only
        // (the plain text search first: a regular expression on every alert's text costs ten times more)
        alerts: { sql: `position(?2 IN json) > 0 AND regexp_matches(json, '"(dstport|port)":' || ? || '[,}]')`, value, value2: `":${value}` },
        findings: { sql: 'port = ?::INTEGER', value: Number(value) },
        flows: { sql: 'dport = ?::INTEGER', value: Number(value), timeline: 'ports' },
        facts: {},
      };
    case 'instance': {
      const nics = await instanceInterfaces(s, value);
      return {
        alerts: { sql: 'position(? IN json) > 0', value: needle(value) },
        findings: { sql: 'instance_id = ?', value },
        // its ENIs as GuardDuty reported them; none known: no flows
        flows: await interfaceFlows(s, `list_contains(from_json(?, '["VARCHAR"]'), eni)`, JSON.stringify(nics.enis)),
        facts: { enis: nics.enis, addresses: nics.addresses },
      };
    }
    case 'user':
      return { alerts: { sql: 'position(? IN json) > 0', value: needle(value) }, findings: { sql: 'position(? IN json) > 0', value: needle(value) }, facts: {} };
    case 'finding': {
      const [f] = await s.query(`SELECT id, type, severity, title, account, region, instance_id, user_name, remote_ip, country, city, port, resource_role,
          epoch_ms(first_seen) AS first_seen, epoch_ms(last_seen) AS last_seen, count, history FROM findings WHERE id = $1`, [value]);
      const history = f ? (JSON.parse(String(f.history)) as unknown[]) : [];
      const remote = typeof f?.remote_ip === 'string' ? f.remote_ip : undefined;
      return {
        // the id as a whole JSON string first (a text search), then parsed: parsing every alert costs far more
        alerts: { sql: `source = 'guardduty' AND position(?2 IN json) > 0 AND json_extract_string(json, '$.data.aws.id') = ?`, value, value2: needle(value) },
        findings: { sql: 'id = ?', value },
        // the flows of its remote address (the attacker side) while it was active, an hour either side
        ...(remote ? { flows: addressFlows(remote), flowWindow: { from: Number(f!.first_seen) - 3_600_000, to: Number(f!.last_seen) + 3_600_000 } } : {}),
        facts: { finding: f ? { ...f, history: undefined } : null, history },
      };
    }
    case 'finding-type':
      return { alerts: { sql: `source = 'guardduty' AND position(?2 IN json) > 0 AND json_extract_string(json, '$.data.aws.type') = ?`, value, value2: needle(value) }, findings: { sql: 'type = ?', value }, facts: {} };
    case 'rule':
      return {
        alerts: { sql: 'rule_id = ?', value, columns: true },
        findings: { sql: `id IN (SELECT json_extract_string(json, '$.data.aws.id') FROM alerts WHERE rule_id = ? AND source = 'guardduty')`, value },
        facts: {},
      };
  }
}

/** `sql` with every `?` bound to parameter `$i` (and `?2` to `$j`). */
const bind = (w: Where | FlowWhere, i: number, j = i) => w.sql.replaceAll('?2', `$${j}`).replaceAll('?', `$${i}`);

/** Everything about one entity in the range. */
export async function entityPage(s: Store, kind: EntityKind, value: string, r: Range) {
  const p = await plan(s, kind, value);
  const b = bucketSeconds(r, 120);
  // One statement for the alert and finding panels. The matching alerts are kept small (rowid, time, id, level,
  // addresses): found once (MATERIALIZED) when finding them searches every alert's text, read again for each use
  // when the filter is on plain columns (an account can have millions of alerts in a day, too many to keep under
  // the store's memory limit). The counts, timeline and addresses come from one grouping of them (GROUPING(t, k,
  // src_ip, dst_ip) tells the sets apart: 3 = (t, k), 13 = (src_ip), 14 = (dst_ip)); only the 200 alerts listed are
  // read whole, by rowid. $1 from, $2 to, $3 the alert filter's value, $4 the findings', $5 the bucket, $6 the alert
  // filter's second value.
  const [row] = await s.query(`WITH a AS ${p.alerts.columns ? 'NOT MATERIALIZED' : 'MATERIALIZED'} (
        SELECT rid, ats, id, level, src_ip, dst_ip FROM (
          SELECT rowid AS rid, event_ts AS ats, * FROM alerts WHERE event_ts BETWEEN ${T(1)} AND ${T(2)}
          UNION ALL SELECT rowid AS rid, ts AS ats, * FROM alerts WHERE event_ts IS NULL AND ts BETWEEN ${T(1)} AND ${T(2)})
        WHERE ${bind(p.alerts, 3, 6)}),
      g AS MATERIALIZED (
        SELECT grouping(t, k, src_ip, dst_ip)::INTEGER AS grouped, t, k, src_ip, dst_ip, count(*)::INTEGER AS n
        FROM (SELECT ${bucketStartMs('ats', `$5`)} AS t, ${ALERT_BAND} AS k, src_ip, dst_ip FROM a)
        GROUP BY GROUPING SETS ((t, k), (src_ip), (dst_ip))),
      listed AS (SELECT rid FROM a ORDER BY ats DESC, id LIMIT 200),
      f AS MATERIALIZED (
        SELECT id, type, severity, title, account, instance_id, user_name, remote_ip, country, port, first_seen, last_seen, count, json_array_length(history)::INTEGER AS updates
        FROM findings WHERE last_seen BETWEEN ${T(1)} AND ${T(2)} AND ${bind(p.findings, 4)})
    SELECT
      (SELECT coalesce(sum(n), 0)::INTEGER FROM g WHERE grouped = 3) AS "alertCount",
      (SELECT coalesce(list(x ORDER BY x.t DESC, x.id), []) FROM (
        SELECT id, epoch_ms(coalesce(event_ts, ts)) AS t, level, rule_id, description, source, account, src_ip, dst_ip FROM alerts WHERE rowid IN (SELECT rid FROM listed)) x) AS alerts,
      (SELECT coalesce(list({'t': t, 'k': k, 'n': n} ORDER BY t, k), []) FROM g WHERE grouped = 3) AS "alertTimeline",
      (SELECT coalesce(list(x ORDER BY x.last_seen DESC, x.id), []) FROM (
        SELECT * REPLACE (epoch_ms(first_seen) AS first_seen, epoch_ms(last_seen) AS last_seen) FROM f ORDER BY last_seen DESC, id LIMIT 100) x) AS findings,
      (SELECT coalesce(list(x ORDER BY x.t, x.k), []) FROM (
        SELECT ${bucketStartMs('last_seen', `$5`)} AS t, ${FINDING_BAND} AS k, count(*)::INTEGER AS n FROM f GROUP BY ALL) x) AS "findingTimeline",
      (SELECT coalesce(list(x ORDER BY x.n DESC, x.ip), []) FROM (
        SELECT ip, sum(n)::INTEGER AS n FROM (SELECT src_ip AS ip, n FROM g WHERE grouped = 13 UNION ALL SELECT dst_ip, n FROM g WHERE grouped = 14 UNION ALL SELECT remote_ip, 1 FROM f)
        WHERE ip IS NOT NULL GROUP BY ip ORDER BY n DESC, ip LIMIT 15) x) AS addresses`, [r.from, r.to, p.alerts.value, p.findings.value, b, ...(p.alerts.value2 === undefined ? [] : [p.alerts.value2])]);
  const out: Row = { kind, value, facts: p.facts, bucketSeconds: b, ...row, hasFlows: p.flows !== undefined };
  if (p.flows) {
    const flows = p.flows;
    const w = p.flowWindow ? { from: Math.max(r.from, p.flowWindow.from), to: Math.min(r.to, p.flowWindow.to) } : r;
    // (a window outside the range is from > to: it finds nothing)
    out.flowWindow = w;
    // the filter with its value bound among a statement's parameters
    const filter = (q: Params) => (flows.value === undefined ? flows.sql : flows.sql.replaceAll('?', q.add(flows.value)));
    // the timeline from the rollup that carries the filtered column when its bucket is whole rollup buckets
    const grain = flows.timeline === 'pairs' ? HOUR_MS : TIME_BUCKET_MS;
    const tq = new Params();
    const bucket = tq.add(b);
    const tsrc = flowSource(await planRange(s, flows.timeline, w, (b * 1000) % grain === 0), tq, filter(tq));
    // the summary is added up from the timeline's buckets: one pass over the rows instead of two
    const timeline = await s.query(`SELECT ${bucketStartMs('bucket', bucket)} AS t, sum(bytes)::BIGINT AS bytes, sum(flows)::INTEGER AS flows,
        sum(rejected)::INTEGER AS rejected, epoch_ms(min(first_ts)) AS first, epoch_ms(max(last_ts)) AS last
        FROM ${tsrc} GROUP BY 1 ORDER BY 1`, tq.values);
    out.flowTimeline = timeline.map(({ t, bytes, flows }) => ({ t, bytes, flows }));
    out.flowSummary = {
      flows: timeline.reduce((n, x) => n + Number(x.flows), 0),
      // bytes as text, as the API gives large integers (no JSON parser loses precision)
      bytes: String(timeline.reduce((n, x) => n + BigInt(String(x.bytes ?? 0)), 0n)),
      rejected: timeline.reduce((n, x) => n + Number(x.rejected), 0),
      first: timeline.length ? timeline[0]!.first : null,
      last: timeline.length ? timeline[timeline.length - 1]!.last : null,
    };
    const pq = new Params();
    const psrc = flowSource(await planRange(s, 'pairs', w), pq, filter(pq));
    out.peers = await s.query(`SELECT ip_text(src4, src_text) AS src, ip_text(dst4, dst_text) AS dst, bytes, flows FROM (
        SELECT src4, src_text, dst4, dst_text, sum(bytes)::BIGINT AS bytes, sum(flows)::INTEGER AS flows FROM ${psrc}
        GROUP BY ALL ORDER BY bytes DESC, src4, src_text, dst4, dst_text LIMIT 15) ORDER BY bytes DESC, src4, src_text, dst4, dst_text`, pq.values);
    // the newest 100: only from the timeline bucket where, counting back from the newest, the flows reach 100
    // (every flow left out is older than those); the whole window otherwise
    const newest = (x: Range) => {
      const q = new Params();
      const flowsIn = `ts BETWEEN make_timestamp(${q.add(x.from)}::BIGINT * 1000) AND make_timestamp(${q.add(x.to)}::BIGINT * 1000) AND ${filter(q)}`;
      return s.query(`SELECT epoch_ms(f.ts) AS t, ip_text(f.src4, f.src_text) AS src, f.sport, ip_text(f.dst4, f.dst_text) AS dst, f.dport, f.proto, f.bytes, f.action::VARCHAR AS action, i.eni, i.account
          FROM (SELECT * FROM flows WHERE ${flowsIn} ORDER BY ts DESC, object_id, idx LIMIT 100) f LEFT JOIN flow_interfaces i USING (iface) ORDER BY f.ts DESC, f.object_id, f.idx`, q.values);
    };
    let from = w.from;
    for (let i = timeline.length - 1, seen = 0; i >= 0; i--) {
      seen += Number(timeline[i]!.flows);
      if (seen >= 100) {
        from = Math.max(w.from, Number(timeline[i]!.t));
        break;
      }
    }
    out.flows = await newest({ from, to: w.to });
    // rows taken back between the statements: the narrower window may hold fewer than counted
    if ((out.flows as Row[]).length < 100 && from > w.from) out.flows = await newest(w);
  }
  return out;
}
