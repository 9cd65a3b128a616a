/**
 * What one batch of an object adds to the store, as plain columns and rows: flow records as columns laid out
 * for the flows table (store format 2, schema.ts), GuardDuty findings and alerts as rows. They are built where
 * the events are (`storeRowsOf`); a columnar decoder can fill FlowColumns directly without a string per value:
 * numbers in typed arrays, IPv4 addresses as uint32, text only for ENIs, accounts, regions and the addresses
 * that are not IPv4. Typed arrays can be handed to another thread without a copy.
 */
import type { Alert, EventBatch, ObjectRef } from '../shared/events.js';
import { alertRow, findingRow, ms, type AlertRow, type FindingRow } from './extract.js';
import { ipv4Number } from '../shared/ipv4.js';
import { FLOW_ACTIONS, FLOW_LOG_STATUSES } from './schema.js';

/**
 * Rows whose address is not in the uint32 column, in ascending row order: the text of an address that is not
 * plain IPv4 (IPv6, anything else), or null when the record has no address.
 */
export interface SparseText {
  at: number[];
  text: (string | null)[];
}

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
  /** IPv4 addresses as numbers (ipv4Number); meaningless at the rows listed in srcOther/dstOther */
  src4: Uint32Array;
  dst4: Uint32Array;
  srcOther: SparseText;
  dstOther: SparseText;
  /** 1 + index in FLOW_ACTIONS / FLOW_LOG_STATUSES; 0: absent or another value */
  action: Uint8Array;
  logStatus: Uint8Array;
  /** the interface each row was recorded on: an index into `places` */
  place: Uint32Array;
  /** the batch's interfaces, each once (a batch names few: posting a string per row cost the collector's thread more than the rest of the batch) */
  places: FlowPlace[];
}

/** The interface a flow was recorded on; any part may be absent. */
export interface FlowPlace {
  eni: string | null;
  account: string | null;
  region: string | null;
}

/** A value per interface (ENI, account, region), any part absent (null). */
export class PlaceMap<V> {
  /** account → region → eni → value */
  readonly #byAccount = new Map<string | null, Map<string | null, Map<string | null, V>>>();

  get(p: FlowPlace): V | undefined {
    return this.#byAccount.get(p.account)?.get(p.region)?.get(p.eni);
  }

  set(p: FlowPlace, v: V): void {
    let regions = this.#byAccount.get(p.account);
    if (!regions) this.#byAccount.set(p.account, (regions = new Map()));
    let enis = regions.get(p.region);
    if (!enis) regions.set(p.region, (enis = new Map()));
    enis.set(p.eni, v);
  }
}

/** Numbers a batch's interfaces in the order they are first seen. */
export class PlaceList {
  readonly list: FlowPlace[] = [];
  readonly #index = new PlaceMap<number>();

  indexOf(eni: string | null, account: string | null, region: string | null): number {
    const p = { eni, account, region };
    let i = this.#index.get(p);
    if (i === undefined) {
      i = this.list.length;
      this.#index.set(p, i);
      this.list.push(p);
    }
    return i;
  }
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

/** The code of an enum value (1-based; 0 for anything else). */
export function enumCode(values: readonly string[], v: unknown): number {
  return typeof v === 'string' ? values.indexOf(v) + 1 : 0;
}

/**
 * Empty columns for `capacity` rows. Every numeric column is a view into one ArrayBuffer (8-byte columns first,
 * then 4-byte, then 1-byte, so each view is aligned): posting a batch to the store's thread transfers one buffer,
 * not fifteen (each transfer has a fixed cost that dominated batches of small objects).
 */
export function flowColumns(capacity: number): FlowColumns {
  const buffer = new ArrayBuffer(capacity * (7 * 8 + 4 * 4 + 2));
  let at = 0;
  const view = <T>(make: new (b: ArrayBuffer, offset: number, length: number) => T, width: number): T => {
    const v = new make(buffer, at, capacity);
    at += width * capacity;
    return v;
  };
  const f64 = () => view(Float64Array, 8);
  return {
    rows: 0, start: f64(), end: f64(), sport: f64(), dport: f64(), proto: f64(), packets: f64(), bytes: f64(),
    idx: view(Int32Array, 4), src4: view(Uint32Array, 4), dst4: view(Uint32Array, 4), place: view(Uint32Array, 4),
    action: view(Uint8Array, 1), logStatus: view(Uint8Array, 1),
    srcOther: { at: [], text: [] }, dstOther: { at: [], text: [] }, places: [],
  };
}

/** Sets row `r`'s address: a number when it is plain IPv4 text, else listed with its text (or null). */
export function setAddress(numbers: Uint32Array, other: SparseText, r: number, v: unknown): void {
  const n = typeof v === 'string' ? ipv4Number(v) : -1;
  if (n >= 0) numbers[r] = n;
  else {
    other.at.push(r);
    other.text.push(typeof v === 'string' ? v : null);
  }
}

/** The store's rows of a batch and its alerts. */
export function storeRowsOf(batch: EventBatch, alerts: Alert[]): StoreRows {
  const region = batch.object.region ?? null;
  let flows: FlowColumns | undefined;
  const places = new PlaceList();
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
      setAddress(flows.src4, flows.srcOther, r, f.srcaddr);
      setAddress(flows.dst4, flows.dstOther, r, f.dstaddr);
      flows.action[r] = enumCode(FLOW_ACTIONS, f.action);
      flows.logStatus[r] = enumCode(FLOW_LOG_STATUSES, f.log_status);
      flows.place[r] = places.indexOf(text(f.interface_id), text(f.aws_account_id) ?? text(f.account_id), text(f.region) ?? region);
    } else if (source === 'guardduty') {
      const row = findingRow(events[i]!);
      if (row) findings.push(row);
    }
  }
  if (flows) flows.places = places.list;
  return { object: batch.object, firstIndex: batch.firstIndex, flows, findings, alerts: alerts.map(alertRow) };
}
