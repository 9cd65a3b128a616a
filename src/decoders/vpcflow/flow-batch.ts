/**
 * A FlowBatch: consecutive records of one VPC flow-log object under one header, as columns (one per header
 * field), so the rules and the store can read them without an event object per record.
 * - numbers (version, ports, protocol, packets, bytes, tcp-flags…) and start/end (Unix seconds, kept as numbers
 *   until something needs text) are Float64Array, NaN where the field is absent (`-`);
 * - text fields are dictionary-encoded: a Uint32Array of codes (0: absent) into `dict` (entry 0 unused); each
 *   distinct text of the batch is one string, so a condition on it is tested once per entry, not per record;
 *   address columns (`*addr`) also give each entry's IPv4 address as a number (`ipv4At`).
 * Record `firstIndex + row` of the object is row `row`; `materialize` (flow-events.ts) gives its Wazuh-shaped
 * event. The typed arrays can be moved to another thread (`transferables`); the rest is plain data.
 */
import type { LogInfo } from '../../shared/events.js';
import { FieldKind } from './fields.js';
import { releaseBuffers } from '../../shared/release-buffers.js';
import { ipv4Text } from '../../shared/ipv4.js';

/** The columns of one header: `keys[i]` is the event key of column i, `kinds[i]` its FieldKind. */
export interface FlowLayout {
  /** field names as the header spells them (`log-status`) */
  names: string[];
  /** event keys (`log_status`), in header order */
  keys: string[];
  /** FieldKind per column */
  kinds: number[];
  /** whether the columns came from a header line (false: header-less default format) */
  fromHeader: boolean;
  /** names joined: equal layouts have equal signatures (batches posted between threads lose identity) */
  signature: string;
}

export interface NumberColumn {
  kind: typeof FieldKind.Int | typeof FieldKind.Time;
  /** per row; NaN: absent */
  values: Float64Array;
}

export interface TextColumn {
  kind: typeof FieldKind.Text;
  /** per row: index into `dict`, 0 when absent */
  codes: Uint32Array;
  /**
   * distinct texts of the batch; entry 0 is unused. In an address column the decoder leaves out (undefined) the
   * text of an entry that is a plain dotted quad: `entryText` makes it from the entry's IPv4 number when first
   * read, so a batch crosses threads without a string per address and only the addresses something reads get one
   */
  dict: (string | undefined)[];
  /** address columns: per dictionary entry, the IPv4 address as an unsigned number, -1 when not a dotted quad */
  ipv4: Float64Array | undefined;
}

export type FlowColumn = NumberColumn | TextColumn;

export interface FlowBatch {
  /** record index of row 0 within its object */
  firstIndex: number;
  /** rows in the batch (the columns may be longer) */
  length: number;
  layout: FlowLayout;
  /** `aws.log_info` of every event of the object */
  logInfo: LogInfo;
  /** `aws.aws_account_id` (from the key path), when known */
  accountId: string | undefined;
  /** one per layout column */
  columns: FlowColumn[];
}

/** Rows per batch unless the decoder is told otherwise: bounded memory on huge objects, few batches on usual ones. */
export const DEFAULT_BATCH_ROWS = 16_384;

/** Columns whose text is an address: their dictionary entries also carry the IPv4 number. */
export function isAddressField(name: string): boolean {
  return name.endsWith('addr');
}

/** The layout of a header's field names (keys and kinds from fields.ts `columnsFor`). */
export function layoutOf(names: readonly string[], keys: readonly string[], kinds: ArrayLike<number>, fromHeader: boolean): FlowLayout {
  return { names: [...names], keys: [...keys], kinds: Array.from(kinds), fromHeader, signature: `${fromHeader ? 'h' : 'd'}:${names.join(' ')}` };
}

/** The column index of an event key (`srcaddr`), -1 when the layout has none. */
export function columnOf(batch: FlowBatch, key: string): number {
  return batch.layout.keys.indexOf(key);
}

/** The IPv4 address of a row of an address column as an unsigned 32-bit number; -1 when absent or not IPv4 (IPv6). */
export function ipv4At(batch: FlowBatch, column: number, row: number): number {
  const c = batch.columns[column];
  if (c === undefined || c.kind !== FieldKind.Text || c.ipv4 === undefined) return -1;
  const code = c.codes[row] as number;
  return code === 0 ? -1 : (c.ipv4[code] as number);
}

/** The text of dictionary entry `code` (not 0) of a text column (see `TextColumn.dict`). */
export function entryText(c: TextColumn, code: number): string {
  const text = c.dict[code];
  if (text !== undefined) return text;
  return (c.dict[code] = ipv4Text((c.ipv4 as Float64Array)[code] as number));
}


/** The buffers to list as transferables when posting the batch to another thread (they move, not copy). */
export function transferables(batch: FlowBatch): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const c of batch.columns) {
    if (c.kind === FieldKind.Text) {
      out.add(c.codes.buffer as ArrayBuffer);
      if (c.ipv4) out.add(c.ipv4.buffer as ArrayBuffer);
    } else out.add(c.values.buffer as ArrayBuffer);
  }
  return [...out];
}

/** Frees a batch's buffers once every stage is done with it (its columns then read as empty). */
export function releaseBatch(batch: FlowBatch): void {
  releaseBuffers(transferables(batch));
}
