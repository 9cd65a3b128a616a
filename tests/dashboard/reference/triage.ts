/** The previous implementation, kept as the reference of tests/dashboard/alert-queries-equivalence.test.ts (see queries.ts). */
/**
 * The triage queue and its counts ("12 new critical"): alerts and GuardDuty findings in the range, each with its
 * triage state from the triage log (triage-log.ts). The log's current states go into the query as one JSON
 * parameter (only what someone touched; an item missing from it is `new`), so the read-only store is joined with
 * the dashboard's own file without writing anything into DuckDB.
 *
 * A GuardDuty finding is one row (the `findings` table keeps one row per finding id with its history); the
 * alerts its emissions raised are folded into it, not listed again (issue 15, item 11).
 */
import type { Store } from '../../../src/store/index.js';
import type { Range } from './queries.js';
import type { TriageLog } from '../../../src/dashboard/triage-log.js';
import type { QueueFilter } from '../../../src/dashboard/triage-params.js';

const T = (i: number) => `make_timestamp($${i}::BIGINT * 1000)`;
const ALERT_TIME = 'coalesce(event_ts, ts)';
/** the overview's alert bands (rule levels) and GuardDuty's own severity bands */
export const ALERT_BAND = `CASE WHEN level >= 12 THEN 'critical' WHEN level >= 8 THEN 'high' WHEN level >= 5 THEN 'medium' ELSE 'low' END`;
export const FINDING_BAND = `CASE WHEN severity >= 9 THEN 'critical' WHEN severity >= 7 THEN 'high' WHEN severity >= 4 THEN 'medium' ELSE 'low' END`;

/** $1 from, $2 to, $3 the triage states as JSON; every row of the queue with its state. */
function items(): string {
  return `WITH t AS (SELECT unnest(from_json($3, '[{"kind":"VARCHAR","id":"VARCHAR","status":"VARCHAR","assignee":"VARCHAR"}]'), recursive := true)),
    i AS (
      SELECT 'alert' AS kind, id, epoch_ms(${ALERT_TIME}) AS t, level::DOUBLE AS severity, ${ALERT_BAND} AS band, rule_id AS what, description AS title,
        account, src_ip AS ip, NULL::BIGINT AS count, NULL::INTEGER AS updates
      FROM alerts WHERE ${ALERT_TIME} BETWEEN ${T(1)} AND ${T(2)} AND source IS DISTINCT FROM 'guardduty'
      UNION ALL
      SELECT 'finding', id, epoch_ms(last_seen), severity, ${FINDING_BAND}, type, title, account, remote_ip, count, json_array_length(history)::INTEGER
      FROM findings WHERE last_seen BETWEEN ${T(1)} AND ${T(2)})
    SELECT i.*, coalesce(t.status, 'new') AS status, t.assignee FROM i LEFT JOIN t ON t.kind = i.kind AND t.id = i.id`;
}

function states(log: TriageLog): string {
  return JSON.stringify(log.touched());
}

/** One page of the queue (newest first) and how many rows match in all. */
export async function triageQueue(s: Store, log: TriageLog, r: Range, f: QueueFilter) {
  const where: string[] = [];
  const params: (string | number)[] = [r.from, r.to, states(log)];
  const add = (sql: string, v: string) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.status) add('status = ?', f.status);
  if (f.band) add('band = ?', f.band);
  if (f.kind) add('kind = ?', f.kind);
  if (f.assignee) add('assignee = ?', f.assignee);
  const filtered = `SELECT * FROM (${items()}) ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
  const [total] = await s.query(`SELECT count(*)::INTEGER AS n FROM (${filtered})`, params);
  const rows = await s.query(`${filtered} ORDER BY t DESC, kind, id LIMIT ${f.limit} OFFSET ${f.offset}`, params);
  return { total: Number(total?.n ?? 0), offset: f.offset, rows };
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
