/**
 * What the indexer store writes, as `_bulk` items: the index, a deterministic id, the operation and the JSON
 * source. Same input, same items: a re-read of an object (a retry, a crash, a redelivered message) produces the
 * very same ids, and `create` turns the second copy into a 409 that counts as already written.
 *
 * - Alerts: Wazuh's alert shape into `wazuh-alerts-4.x-YYYY.MM.DD`, the day of the *event* (record time), so a
 *   re-read lands in the same index whatever the day it is re-read; the id is the alert id.
 * - Flows: one compact document per record into `tld-flows-YYYY.MM.DD` (day of the flow's start), id
 *   `<object id>-<record index>`; times as epoch milliseconds, addresses as `ip` (text that is not an address
 *   goes to `*_text`).
 * - GuardDuty findings: one document per finding id in `tld-guardduty-findings`, written with `index` and an
 *   external version (the finding's `updatedAt` in ms), so the newest update wins whatever the order of arrival
 *   and an older or repeated one is a 409; every update is also kept in `tld-guardduty-history` (`create`, id
 *   `<finding id>@<version>`): the severity history.
 * - Window partials (frequency rules across workers, window-correlator.ts): per object and (rule, same_field key),
 *   the occurrences the object contributed, into `tld-correlation-partials` with `create`, id
 *   `<object id>-<rule id>-<key hash>`; `ingested` (the writer's clock) tells the correlator what is new.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { WindowPartial } from '../analysis/window-partials.js';
import type { ObjectRef } from '../shared/events.js';
import type { AlertRow, FindingRow } from '../store/extract.js';
import type { StoreRows } from '../store/store-rows.js';
import { ipv4Text } from '../shared/ipv4.js';
import { FLOW_ACTIONS, FLOW_LOG_STATUSES } from '../store/schema.js';

export const ALERTS_PREFIX = 'wazuh-alerts-4.x-';
export const FLOWS_PREFIX = 'tld-flows-';
export const FINDINGS_INDEX = 'tld-guardduty-findings';
export const HISTORY_INDEX = 'tld-guardduty-history';
export const PARTIALS_INDEX = 'tld-correlation-partials';

export interface BulkItem {
  index: string;
  id: string;
  /** `create`: written once, a second copy is a 409; `index` with `version`: external versioning */
  op: 'create' | 'index';
  version?: number;
  /** the document, serialized */
  source: string;
  /** the object the document came from (for messages and for dropping what is not sent yet) */
  objectId: string;
}

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `YYYY.MM.DD` (UTC) of epoch milliseconds; Wazuh's daily index suffix. */
export function daySuffix(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}.${pad(d.getUTCMonth() + 1)}.${pad(d.getUTCDate())}`;
}

/** The record time an object's documents fall back to when a record has none: fixed for the object. */
function objectTime(object: ObjectRef): number {
  return object.lastModified?.getTime() ?? 0;
}

/**
 * Wazuh's alert as its indexer pipeline (filebeat's wazuh-module) would index it: `@timestamp` from `timestamp`,
 * `data.aws.region` from `awsRegion` and `data.aws.accountId` from `aws_account_id` when absent (the Wazuh
 * dashboard's AWS views read those two).
 */
export function alertItem(row: AlertRow, object: ObjectRef): BulkItem {
  const alert = JSON.parse(row.json) as Record<string, unknown> & { timestamp?: unknown; data?: { aws?: Record<string, unknown> } };
  const aws = alert.data?.aws;
  if (aws) {
    if (aws.region === undefined && typeof aws.awsRegion === 'string') aws.region = aws.awsRegion;
    if (aws.accountId === undefined && aws.aws_account_id !== undefined) aws.accountId = aws.aws_account_id;
  }
  const doc = { '@timestamp': alert.timestamp, ...alert };
  const when = row.eventTs ?? (object.lastModified ? objectTime(object) : row.ts);
  return { index: ALERTS_PREFIX + daySuffix(Number.isFinite(when) ? when : 0), id: row.id, op: 'create', source: JSON.stringify(doc), objectId: object.objectId };
}

const numOrNull = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);

/** One document per flow record of the batch's columns. */
export function flowItems(rows: StoreRows, out: BulkItem[]): void {
  const f = rows.flows;
  if (!f) return;
  const { object } = rows;
  const srcOther = new Map<number, string | null>();
  const dstOther = new Map<number, string | null>();
  f.srcOther.at.forEach((r, i) => srcOther.set(r, f.srcOther.text[i] ?? null));
  f.dstOther.at.forEach((r, i) => dstOther.set(r, f.dstOther.text[i] ?? null));
  const fallback = objectTime(object);
  // (building an object and JSON.stringify measured faster than writing the JSON text field by field)
  let lastDay = NaN;
  let index = '';
  for (let r = 0; r < f.rows; r++) {
    const start = f.start[r] as number;
    const when = Number.isNaN(start) ? fallback : start;
    const day = Math.floor(when / 86_400_000);
    if (day !== lastDay) {
      lastDay = day;
      index = FLOWS_PREFIX + daySuffix(when);
    }
    const doc: Record<string, unknown> = { '@timestamp': Number.isNaN(start) ? null : start, end: numOrNull(f.end[r]) };
    if (srcOther.has(r)) address(doc, 'srcaddr', 'src_text', srcOther.get(r) ?? null);
    else doc.srcaddr = ipv4Text(f.src4[r] as number);
    if (dstOther.has(r)) address(doc, 'dstaddr', 'dst_text', dstOther.get(r) ?? null);
    else doc.dstaddr = ipv4Text(f.dst4[r] as number);
    doc.srcport = numOrNull(f.sport[r]);
    doc.dstport = numOrNull(f.dport[r]);
    doc.protocol = numOrNull(f.proto[r]);
    doc.packets = numOrNull(f.packets[r]);
    doc.bytes = numOrNull(f.bytes[r]);
    doc.action = FLOW_ACTIONS[(f.action[r] as number) - 1] ?? null;
    doc.log_status = FLOW_LOG_STATUSES[(f.logStatus[r] as number) - 1] ?? null;
    const place = f.places[f.place[r] as number];
    doc.interface_id = place?.eni ?? null;
    doc.account_id = place?.account ?? null;
    doc.region = place?.region ?? null;
    doc.s3bucket = object.bucket;
    const idx = f.idx[r] as number;
    out.push({ index, id: `${object.objectId}-${idx}`, op: 'create', source: JSON.stringify(doc), objectId: object.objectId });
  }
}

/** An address into its `ip` field, or (text that is not an address, e.g. `-`) into its keyword field. */
function address(doc: Record<string, unknown>, ipField: string, textField: string, value: string | null): void {
  if (value !== null && isIP(value) !== 0) doc[ipField] = value;
  else if (value !== null) doc[textField] = value;
}

/** GuardDuty's severity bands (1.0–3.9 Low, 4.0–6.9 Medium, 7.0–8.9 High, 9.0–10.0 Critical). */
export function severityLabel(severity: number | null): string | null {
  if (severity === null) return null;
  return severity >= 9 ? 'Critical' : severity >= 7 ? 'High' : severity >= 4 ? 'Medium' : 'Low';
}

/** The finding's state and its history entry. */
export function findingItems(row: FindingRow, object: ObjectRef, out: BulkItem[]): void {
  const finding = JSON.parse(row.json) as { updatedAt?: unknown };
  const updated = typeof finding.updatedAt === 'string' ? Date.parse(finding.updatedAt) : NaN;
  // external versions must grow with each update of the finding: its updatedAt does
  const version = Number.isFinite(updated) ? updated : row.lastSeen ?? 1;
  const purpose = row.type?.split(':')[0] ?? null;
  const label = severityLabel(row.severity);
  const state = {
    '@timestamp': Number.isFinite(updated) ? updated : row.lastSeen,
    id: row.id, type: row.type, purpose, severity: row.severity, severity_label: label, title: row.title,
    account_id: row.account, region: row.region, instance_id: row.instanceId, user_name: row.userName, api: row.api,
    action_type: row.actionType, remote_ip: row.remoteIp !== null && isIP(row.remoteIp) ? row.remoteIp : null, country: row.country, city: row.city,
    location: row.lat !== null && row.lon !== null ? { lat: row.lat, lon: row.lon } : null,
    port: row.port, resource_role: row.role, first_seen: row.firstSeen, last_seen: row.lastSeen, count: row.count,
    s3bucket: object.bucket,
  };
  out.push({ index: FINDINGS_INDEX, id: row.id, op: 'index', version, source: JSON.stringify(state), objectId: object.objectId });
  const history = { '@timestamp': state['@timestamp'], finding_id: row.id, type: row.type, purpose, severity: row.severity, severity_label: label, count: row.count, account_id: row.account, region: row.region };
  out.push({ index: HISTORY_INDEX, id: `${row.id}@${version}`, op: 'create', source: JSON.stringify(history), objectId: object.objectId });
}

/** A rule's same_field key as a short fixed token (keys are log values: any length, any characters). */
export function keyHash(ruleId: string, key: string): string {
  return createHash('sha1').update(`${ruleId}\u0000${key}`).digest('hex').slice(0, 20);
}

/**
 * What the correlator reads of a partial document: the searchable fields, and `w`, the occurrences as columns
 * (mapped `enabled: false`: kept, never parsed or indexed; the key and the logs are the log's own text).
 */
export interface PartialDoc {
  '@timestamp': number;
  ingested: number;
  rule: string;
  key_hash: string;
  object_id: string;
  bucket: string;
  object_key: string;
  first: number;
  last: number;
  count: number;
  /** the process that wrote it (host/pid): which worker read the object, for whoever investigates */
  writer: string;
  w: { key: string; t: number[]; idx: number[]; value?: string[]; log: string[] };
}

/** One object's contribution to one window key. */
export function partialItem(object: ObjectRef, partial: WindowPartial, ingested: number, writer: string): BulkItem {
  const occ = partial.occurrences;
  let first = Infinity;
  let last = -Infinity;
  for (const o of occ) {
    if (o.t < first) first = o.t;
    if (o.t > last) last = o.t;
  }
  const distinct = occ.some((o) => o.value !== '');
  const doc: PartialDoc = {
    '@timestamp': first, ingested, rule: partial.ruleId, key_hash: keyHash(partial.ruleId, partial.key),
    object_id: object.objectId, bucket: object.bucket, object_key: object.key, first, last, count: occ.length, writer,
    w: { key: partial.key, t: occ.map((o) => o.t), idx: occ.map((o) => o.idx), ...(distinct ? { value: occ.map((o) => o.value) } : {}), log: occ.map((o) => o.log) },
  };
  return { index: PARTIALS_INDEX, id: `${object.objectId}-${partial.ruleId}-${doc.key_hash}`, op: 'create', source: JSON.stringify(doc), objectId: object.objectId };
}

/** Every item of one batch's rows: flows, findings, alerts. */
export function itemsOf(rows: StoreRows): BulkItem[] {
  const out: BulkItem[] = [];
  flowItems(rows, out);
  for (const f of rows.findings) findingItems(f, rows.object, out);
  for (const a of rows.alerts) out.push(alertItem(a, rows.object));
  return out;
}

/** Ids and index names that need no escaping in JSON (ours always are; a finding id comes from the log). */
const PLAIN = /^[\w.@:-]*$/;

/** The two NDJSON lines of an item in a `_bulk` body. */
export function bulkLines(item: BulkItem): string {
  const index = PLAIN.test(item.index) ? `"${item.index}"` : JSON.stringify(item.index);
  const id = PLAIN.test(item.id) ? `"${item.id}"` : JSON.stringify(item.id);
  const version = item.version === undefined ? '' : `,"version":${item.version},"version_type":"external"`;
  return `{"${item.op}":{"_index":${index},"_id":${id}${version}}}\n${item.source}\n`;
}
