/**
 * What one batch of an object adds to the store, as plain columns and rows: flow records as columns (typed arrays
 * for numbers, string arrays for text), GuardDuty findings and alerts as rows. They are built where the events are
 * (`storeRowsOf`); typed arrays can be transferred to another thread without a copy, which is what the store on a
 * thread of its own (branch wip/threaded-store) needs.
 */
import type { Alert, EventBatch, ObjectRef } from '../shared/events.js';
import { alertRow, findingRow, ms, type AlertRow, type FindingRow } from './extract.js';

/** Flow records of a batch, one entry per row in every column; numbers are NaN where absent. */
export interface FlowColumns {
  rows: number;
  /** record index within the object */
  idx: Int32Array;
  /** epoch milliseconds */
  start: Float64Array;
  end: Float64Array;
  sport: Float64Array;
  dport: Float64Array;
  proto: Float64Array;
  packets: Float64Array;
  bytes: Float64Array;
  account: (string | null)[];
  region: (string | null)[];
  eni: (string | null)[];
  src: (string | null)[];
  dst: (string | null)[];
  action: (string | null)[];
  logStatus: (string | null)[];
}

export interface StoreRows {
  object: ObjectRef;
  /** first record index of the batch (0: the object's first batch) */
  firstIndex: number;
  flows: FlowColumns | undefined;
  findings: FindingRow[];
  alerts: AlertRow[];
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const time = (v: unknown): number => ms(v) ?? NaN;

function flowColumns(capacity: number): FlowColumns {
  const f64 = () => new Float64Array(capacity);
  return { rows: 0, idx: new Int32Array(capacity), start: f64(), end: f64(), sport: f64(), dport: f64(), proto: f64(), packets: f64(), bytes: f64(), account: [], region: [], eni: [], src: [], dst: [], action: [], logStatus: [] };
}

/** The store's rows of a batch and its alerts. */
export function storeRowsOf(batch: EventBatch, alerts: Alert[]): StoreRows {
  const region = batch.object.region ?? null;
  let flows: FlowColumns | undefined;
  const findings: FindingRow[] = [];
  const events = batch.events;
  for (let i = 0; i < events.length; i++) {
    const f = events[i]!.aws;
    const source = f.source;
    if (source === 'vpc') {
      flows ??= flowColumns(events.length);
      const r = flows.rows++;
      flows.idx[r] = batch.firstIndex + i;
      flows.start[r] = time(f.start);
      flows.end[r] = time(f.end);
      flows.sport[r] = num(f.srcport);
      flows.dport[r] = num(f.dstport);
      flows.proto[r] = num(f.protocol);
      flows.packets[r] = num(f.packets);
      flows.bytes[r] = num(f.bytes);
      flows.account.push(text(f.aws_account_id) ?? text(f.account_id));
      flows.region.push(text(f.region) ?? region);
      flows.eni.push(text(f.interface_id));
      flows.src.push(text(f.srcaddr));
      flows.dst.push(text(f.dstaddr));
      flows.action.push(text(f.action));
      flows.logStatus.push(text(f.log_status));
    } else if (source === 'guardduty') {
      const row = findingRow(events[i]!);
      if (row) findings.push(row);
    }
  }
  return { object: batch.object, firstIndex: batch.firstIndex, flows, findings, alerts: alerts.map(alertRow) };
}
