/**
 * The store's rows of a FlowBatch (VPC records decoded into columns, src/decoders/vpcflow/flow-batch.ts), straight
 * from its columns: numbers copied, an address's IPv4 number and an action's enum code looked up once per
 * dictionary entry, no event object and no string per value. Gives the same FlowColumns as `storeRowsOf` over the
 * batch's events.
 */
import type { Alert, ObjectRef } from '../shared/events.js';
import { entryText, type FlowBatch, type FlowColumn } from '../decoders/vpcflow/flow-batch.js';
import { FieldKind } from '../decoders/vpcflow/fields.js';
import { alertRow } from './extract.js';
import { FLOW_ACTIONS, FLOW_LOG_STATUSES } from './schema.js';
import { enumCode, flowColumns, PlaceList, type FlowPlace, type SparseText, type StoreRows } from './store-rows.js';

function column(batch: FlowBatch, key: string): FlowColumn | undefined {
  const i = batch.layout.keys.indexOf(key);
  return i < 0 ? undefined : batch.columns[i];
}

/** Numbers of a column into `out` (NaN where absent or where the column is text or missing), times `scale`. */
function numbers(c: FlowColumn | undefined, rows: number, out: Float64Array, scale = 1): void {
  if (c === undefined || c.kind === FieldKind.Text) {
    out.fill(NaN, 0, rows);
    return;
  }
  const v = c.values;
  if (scale === 1) out.set(v.subarray(0, rows));
  else for (let r = 0; r < rows; r++) out[r] = (v[r] as number) * scale;
}

/** A text column's codes and the value of each code (0: absent, or `fallback`), or one code 0 for every row. */
function textCodes(c: FlowColumn | undefined, fallback: string | null): { codes: ArrayLike<number> | undefined; values: (string | null)[] } {
  if (c === undefined || c.kind !== FieldKind.Text) return { codes: undefined, values: [fallback] };
  return { codes: c.codes, values: c.dict.map((_, i) => (i === 0 ? fallback : entryText(c, i))) };
}

/**
 * Each row's interface (ENI, account, region) as an index into the batch's list of interfaces: one lookup per
 * distinct combination of the three columns' dictionary codes, not per row.
 */
function places(batch: FlowBatch, object: ObjectRef, rows: number, out: Uint32Array): FlowPlace[] {
  const eni = textCodes(column(batch, 'interface_id'), null);
  const account = batch.accountId !== undefined ? { codes: undefined, values: [batch.accountId] } : textCodes(column(batch, 'account_id'), null);
  const region = textCodes(column(batch, 'region'), object.region ?? null);
  const list = new PlaceList();
  const seen = new Map<number, number>();
  const ne = eni.values.length;
  const na = account.values.length;
  for (let r = 0; r < rows; r++) {
    const e = eni.codes ? (eni.codes[r] as number) : 0;
    const a = account.codes ? (account.codes[r] as number) : 0;
    const g = region.codes ? (region.codes[r] as number) : 0;
    const key = e + ne * (a + na * g);
    let i = seen.get(key);
    if (i === undefined) {
      i = list.indexOf(eni.values[e] ?? null, account.values[a] ?? null, region.values[g] ?? null);
      seen.set(key, i);
    }
    out[r] = i;
  }
  return list.list;
}

/** An address column: IPv4 numbers, and the other texts (or null where absent) listed by row. */
function addresses(c: FlowColumn | undefined, rows: number, numbersOut: Uint32Array, other: SparseText): void {
  for (let r = 0; r < rows; r++) {
    if (c === undefined || c.kind !== FieldKind.Text) {
      other.at.push(r);
      other.text.push(null);
      continue;
    }
    const code = c.codes[r] as number;
    const n = code === 0 || c.ipv4 === undefined ? -1 : (c.ipv4[code] as number);
    if (n >= 0) numbersOut[r] = n;
    else {
      other.at.push(r);
      other.text.push(code === 0 ? null : entryText(c, code));
    }
  }
}

/** A text column's enum code per row, computed once per dictionary entry. */
function codes(c: FlowColumn | undefined, rows: number, values: readonly string[], out: Uint8Array): void {
  if (c === undefined || c.kind !== FieldKind.Text) return;
  const byEntry = c.dict.map((_, i) => (i === 0 ? 0 : enumCode(values, entryText(c, i))));
  for (let r = 0; r < rows; r++) out[r] = byEntry[c.codes[r] as number] as number;
}

export function storeRowsOfFlows(object: ObjectRef, batch: FlowBatch, alerts: Alert[]): StoreRows {
  const rows = batch.length;
  const f = flowColumns(rows);
  f.rows = rows;
  for (let r = 0; r < rows; r++) f.idx[r] = batch.firstIndex + r;
  numbers(column(batch, 'start'), rows, f.start, 1000);
  numbers(column(batch, 'end'), rows, f.end, 1000);
  numbers(column(batch, 'srcport'), rows, f.sport);
  numbers(column(batch, 'dstport'), rows, f.dport);
  numbers(column(batch, 'protocol'), rows, f.proto);
  numbers(column(batch, 'packets'), rows, f.packets);
  numbers(column(batch, 'bytes'), rows, f.bytes);
  addresses(column(batch, 'srcaddr'), rows, f.src4, f.srcOther);
  addresses(column(batch, 'dstaddr'), rows, f.dst4, f.dstOther);
  codes(column(batch, 'action'), rows, FLOW_ACTIONS, f.action);
  codes(column(batch, 'log_status'), rows, FLOW_LOG_STATUSES, f.logStatus);
  // as the event path: the account of the key path, else the record's account-id field; the record's region, else the key path's
  f.places = places(batch, object, rows, f.place);
  return { object, firstIndex: batch.firstIndex, flows: rows > 0 ? f : undefined, findings: [], alerts: alerts.map(alertRow) };
}
