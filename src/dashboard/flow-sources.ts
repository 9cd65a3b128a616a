/**
 * Where the flow panels read their rows: the store's rollups (src/store/rollups.ts) for the buckets wholly inside
 * the range that are current, and `flows` itself for the rest (the partial buckets at the range's edges, and the
 * hours marked dirty: changed since their last refresh). Both are read as rows of one shape (a raw flow is a
 * group of one), so a panel's SQL sums them the same way and answers exactly as a scan of `flows` would.
 *
 * Shapes (every one has `bucket`, `flows`, `rejected`, `bytes`, `first_ts`, `last_ts`):
 * - time: 15 minutes × iface × action × log_status, with packets;
 * - ports: 15 minutes × dport × action;
 * - pairs: hour × iface × src4/src_text × dst4/dst_text × dport, with packets.
 * A bucket of the series must be a whole number of rollup buckets to use them (`planRange`'s `use`).
 */
import type { Store } from '../store/index.js';
import { HOUR_MS, TIME_BUCKET_MS } from '../store/rollups.js';
import type { Range } from './queries.js';

export type Param = string | number;

/** Positional parameters of one statement: `add` binds a value and gives its `$n`. */
export class Params {
  readonly values: Param[] = [];
  add(v: Param): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

export type RollupShape = 'time' | 'ports' | 'pairs';

const GRAIN_MS: Record<RollupShape, number> = { time: TIME_BUCKET_MS, ports: TIME_BUCKET_MS, pairs: HOUR_MS };

/**
 * What to read for a range: rollup buckets starting in [lo, hi), and flows with ts in [lo, hi), or [lo, hi]
 * for the last raw interval when `toIncluded` (epoch ms).
 */
export interface RangePlan {
  shape: RollupShape;
  rollup: [number, number][];
  raw: [number, number][];
  toIncluded: boolean;
}

const REJECT = `action = 'REJECT'::flow_action`;

const SHAPES: Record<RollupShape, { table: string; bucket: string; rollup: string; raw: string }> = {
  time: {
    table: 'flow_rollup_time',
    bucket: 'bucket',
    rollup: `bucket, iface, action, log_status, flows, CASE WHEN ${REJECT} THEN flows ELSE 0 END AS rejected, bytes, packets, first_ts, last_ts`,
    raw: `ts AS bucket, iface, action, log_status, 1::BIGINT AS flows, CASE WHEN ${REJECT} THEN 1 ELSE 0 END::BIGINT AS rejected, bytes, packets, ts AS first_ts, ts AS last_ts`,
  },
  ports: {
    table: 'flow_rollup_ports',
    bucket: 'bucket',
    rollup: `bucket, dport, action, flows, CASE WHEN ${REJECT} THEN flows ELSE 0 END AS rejected, bytes, first_ts, last_ts`,
    raw: `ts AS bucket, dport, action, 1::BIGINT AS flows, CASE WHEN ${REJECT} THEN 1 ELSE 0 END::BIGINT AS rejected, bytes, ts AS first_ts, ts AS last_ts`,
  },
  pairs: {
    table: 'flow_rollup_pairs',
    bucket: 'hour',
    rollup: `hour AS bucket, iface, src4, src_text, dst4, dst_text, dport, flows, rejected, bytes, packets, first_ts, last_ts`,
    raw: `ts AS bucket, iface, src4, src_text, dst4, dst_text, dport, 1::BIGINT AS flows, CASE WHEN ${REJECT} THEN 1 ELSE 0 END::BIGINT AS rejected, bytes, packets, ts AS first_ts, ts AS last_ts`,
  },
};

/** A store without rollups (a read-only dashboard on a store no collector of this version has opened yet). */
const missingRollups = (e: unknown) => /flow_rollup_dirty/.test(String((e as Error)?.message)) && /does not exist/i.test(String((e as Error)?.message));

/**
 * Splits a range (epoch ms, both ends included, as `ts BETWEEN from AND to`) into the rollup buckets wholly
 * inside it that are current and the flow intervals to read raw. `use` false: all raw (a series bucket narrower
 * than the rollup's, or a caller that wants the flows).
 */
export async function planRange(s: Store, shape: RollupShape, r: Range, use = true): Promise<RangePlan> {
  if (r.from > r.to) return { shape, rollup: [], raw: [], toIncluded: false };
  const g = GRAIN_MS[shape];
  // buckets [k·g, (k+1)·g) with from ≤ k·g and (k+1)·g ≤ to: every flow time in them is in the range
  const a = Math.ceil(r.from / g) * g;
  const b = Math.floor(r.to / g) * g;
  const all: RangePlan = { shape, rollup: [], raw: [[r.from, r.to]], toIncluded: true };
  if (!use || a >= b) return all;
  let dirty: number[];
  try {
    const rows = await s.query(`SELECT DISTINCT (epoch_ms(hour) // ${HOUR_MS})::BIGINT AS h FROM flow_rollup_dirty
        WHERE hour >= make_timestamp($1::BIGINT * 1000) AND hour < make_timestamp($2::BIGINT * 1000) ORDER BY h`, [Math.floor(a / HOUR_MS) * HOUR_MS, b]);
    dirty = rows.map((x) => Number(x.h) * HOUR_MS);
  } catch (e) {
    if (missingRollups(e)) return all;
    throw e;
  }
  const rollup: [number, number][] = [];
  const raw: [number, number][] = [];
  const addRaw = (lo: number, hi: number) => {
    if (lo >= hi) return;
    const last = raw[raw.length - 1];
    if (last && last[1] === lo) last[1] = hi;
    else raw.push([lo, hi]);
  };
  const addRollup = (lo: number, hi: number) => {
    if (lo >= hi) return;
    const last = rollup[rollup.length - 1];
    if (last && last[1] === lo) last[1] = hi;
    else rollup.push([lo, hi]);
  };
  addRaw(r.from, a);
  let at = a;
  for (const h of dirty) {
    // a dirty hour's part inside [a, b): read raw (g divides an hour, so what is left stays whole buckets)
    const lo = Math.max(h, a);
    const hi = Math.min(h + HOUR_MS, b);
    if (lo >= hi) continue;
    addRollup(at, lo);
    addRaw(lo, hi);
    at = hi;
  }
  addRollup(at, b);
  addRaw(b, r.to);
  // the range's end is included (BETWEEN): the last raw interval ends at `to` inclusive
  const last = raw[raw.length - 1];
  if (!last || last[1] !== r.to) raw.push([r.to, r.to]);
  return { shape, rollup, raw, toIncluded: true };
}

/**
 * The rows of a plan as one subquery of its shape: rollup rows and raw flows, both filtered by `where` (SQL on
 * columns both have: iface, dport, src4, src_text, dst4, dst_text; values already bound through `p`).
 */
export function flowSource(plan: RangePlan, p: Params, where = 'true'): string {
  const shape = SHAPES[plan.shape];
  const ms = (v: number) => `make_timestamp(${p.add(v)}::BIGINT * 1000)`;
  const parts: string[] = [];
  if (plan.rollup.length > 0) {
    const col = shape.bucket;
    const lo = plan.rollup[0]![0];
    const hi = plan.rollup[plan.rollup.length - 1]![1];
    // the overall bounds first: DuckDB skips row groups outside them
    const within = plan.rollup.length === 1 ? 'true' : plan.rollup.map(([x, y]) => `(${col} >= ${ms(x)} AND ${col} < ${ms(y)})`).join(' OR ');
    parts.push(`SELECT ${shape.rollup} FROM ${shape.table} WHERE ${col} >= ${ms(lo)} AND ${col} < ${ms(hi)} AND (${within}) AND (${where})`);
  }
  plan.raw.forEach(([lo, hi], i) => {
    const end = plan.toIncluded && i === plan.raw.length - 1 ? '<=' : '<';
    parts.push(`SELECT ${shape.raw} FROM flows WHERE ts >= ${ms(lo)} AND ts ${end} ${ms(hi)} AND (${where})`);
  });
  // nothing to read (an empty range): no rows, in the shape's columns (the filter still names its parameters)
  if (parts.length === 0) parts.push(`SELECT ${shape.raw} FROM flows WHERE false AND (${where})`);
  return `(${parts.join(' UNION ALL ')})`;
}
