/**
 * The triage queue and its counts ("12 new critical"): alerts and GuardDuty findings in the range, each with its
 * triage state from the triage log (triage-log.ts). The log's current states go into the query as one JSON
 * parameter (only what someone touched; an item missing from it is `new`), so the read-only store is joined with
 * the dashboard's own file without writing anything into DuckDB.
 *
 * A GuardDuty finding is one row (the `findings` table keeps one row per finding id with its history); the
 * alerts its emissions raised are folded into it, not listed again (issue 15, item 11).
 */
import type { Store } from '../store/index.js';
import type { Range } from './queries.js';
import type { TriageLog } from './triage-log.js';
import type { QueueFilter } from './triage-params.js';

const T = (i: number) => `make_timestamp($${i}::BIGINT * 1000)`;
/** the overview's alert bands (rule levels) and GuardDuty's own severity bands */
export const ALERT_BAND = `CASE WHEN level >= 12 THEN 'critical' WHEN level >= 8 THEN 'high' WHEN level >= 5 THEN 'medium' ELSE 'low' END`;
export const FINDING_BAND = `CASE WHEN severity >= 9 THEN 'critical' WHEN severity >= 7 THEN 'high' WHEN severity >= 4 THEN 'medium' ELSE 'low' END`;
const STATES = `t AS (SELECT unnest(from_json($3, '[{"kind":"VARCHAR","id":"VARCHAR","status":"VARCHAR","assignee":"VARCHAR"}]'), recursive := true))`;
/** Alerts in the range ($1, $2) as two halves on plain columns, so only the range's row groups are read (alert-range.ts). */
const ALERTS_IN = `(SELECT rowid AS rid, event_ts AS ats, * FROM alerts WHERE event_ts BETWEEN ${T(1)} AND ${T(2)}
    UNION ALL SELECT rowid AS rid, ts AS ats, * FROM alerts WHERE event_ts IS NULL AND ts BETWEEN ${T(1)} AND ${T(2)})`;
/** a queue row's columns, from an alert or a finding */
const ALERT_ITEM = `'alert' AS kind, id, epoch_ms(ats) AS t, level::DOUBLE AS severity, ${ALERT_BAND} AS band, rule_id AS what, description AS title,
        account, src_ip AS ip, NULL::BIGINT AS count, NULL::INTEGER AS updates`;
const FINDING_ITEM = `'finding', id, epoch_ms(last_seen), severity, ${FINDING_BAND}, type, title, account, remote_ip, count, json_array_length(history)::INTEGER`;

/** $1 from, $2 to, $3 the triage states as JSON; every row of the queue with its state. */
function items(): string {
  return `WITH ${STATES},
    i AS (
      SELECT ${ALERT_ITEM} FROM ${ALERTS_IN} WHERE source IS DISTINCT FROM 'guardduty'
      UNION ALL
      SELECT ${FINDING_ITEM} FROM findings WHERE last_seen BETWEEN ${T(1)} AND ${T(2)})
    SELECT i.*, coalesce(t.status, 'new') AS status, t.assignee FROM i LEFT JOIN t ON t.kind = i.kind AND t.id = i.id`;
}

function states(log: TriageLog): string {
  return JSON.stringify(log.touched());
}

/**
 * One page of the queue (newest first) and how many rows match in all, from one pass. The kind and band filters
 * go into each table's own scan (a band is a function of one column, which DuckDB tests there); the queue's
 * rows that pass are kept small (kind, rowid, id, time, state: a MATERIALIZED CTE, computed once for the page
 * and the total), and only the page's rows are read whole, by rowid. The total rides on the page's rows; a page
 * past the end is counted on its own.
 */
export async function triageQueue(s: Store, log: TriageLog, r: Range, f: QueueFilter) {
  const params: (string | number)[] = [r.from, r.to, states(log)];
  const bind = (v: string) => {
    params.push(v);
    return `$${params.length}`;
  };
  const band = f.band === undefined ? undefined : bind(f.band);
  const branches: string[] = [];
  if (f.kind === undefined || f.kind === 'alert') branches.push(`SELECT 'alert' AS kind, rid, id, ats FROM ${ALERTS_IN} WHERE source IS DISTINCT FROM 'guardduty'${band ? ` AND ${ALERT_BAND} = ${band}` : ''}`);
  if (f.kind === undefined || f.kind === 'finding') branches.push(`SELECT 'finding' AS kind, rowid AS rid, id, last_seen AS ats FROM findings WHERE last_seen BETWEEN ${T(1)} AND ${T(2)}${band ? ` AND ${FINDING_BAND} = ${band}` : ''}`);
  const where: string[] = [];
  if (f.status) where.push(`status = ${bind(f.status)}`);
  if (f.assignee) where.push(`assignee = ${bind(f.assignee)}`);
  const keys = `WITH ${STATES},
    m AS MATERIALIZED (SELECT * FROM (SELECT x.kind, x.rid, x.id, epoch_ms(x.ats) AS t, coalesce(t.status, 'new') AS status, t.assignee
      FROM (${branches.join(' UNION ALL ')}) x LEFT JOIN t ON t.kind = x.kind AND t.id = x.id) ${where.length ? `WHERE ${where.join(' AND ')}` : ''})`;
  const rows = await s.query(`${keys},
      p AS (SELECT * FROM m ORDER BY t DESC, kind, id LIMIT ${f.limit} OFFSET ${f.offset})
    SELECT i.*, p.status, p.assignee, (SELECT count(*) FROM m)::BIGINT AS tld_total FROM p JOIN (
        SELECT rid, ${ALERT_ITEM} FROM (SELECT rowid AS rid, *, coalesce(event_ts, ts) AS ats FROM alerts WHERE rowid IN (SELECT rid FROM p WHERE kind = 'alert'))
        UNION ALL SELECT rowid, ${FINDING_ITEM} FROM findings WHERE rowid IN (SELECT rid FROM p WHERE kind = 'finding')) i ON i.kind = p.kind AND i.rid = p.rid
    ORDER BY i.t DESC, i.kind, i.id`, params);
  const total = rows.length > 0 ? Number(rows[0]!.tld_total) : f.offset === 0 ? 0 : Number((await s.query(`${keys} SELECT count(*)::BIGINT AS n FROM m`, params))[0]?.n ?? 0);
  for (const row of rows) {
    delete row.rid;
    delete row.tld_total;
  }
  return { total, offset: f.offset, rows };
}

/** Counts by status, band and kind in the range (the "12 new critical" line and the queue's filter chips). */
export async function triageCounts(s: Store, log: TriageLog, r: Range) {
  return s.query(`SELECT status, band, kind, count(*)::INTEGER AS n FROM (${items()}) GROUP BY ALL ORDER BY status, band, kind`, [r.from, r.to, states(log)]);
}

/** Whether an alert or finding with this id is in the store (triage is only recorded for what exists). */
export async function exists(s: Store, kind: 'alert' | 'finding', id: string): Promise<boolean> {
  const rows = await s.query(`SELECT 1 FROM ${kind === 'alert' ? 'alerts' : 'findings'} WHERE id = $1 LIMIT 1`, [id]);
  return rows.length > 0;
}
