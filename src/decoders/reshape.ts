/**
 * Wazuh's generic record reshaping (reference wazuh-aws.md §4.5), so rules and searches written for Wazuh
 * see the same field paths: null fields removed, the record wrapped under `aws` after `log_info`,
 * single-element lists unwrapped, `source_ip_address`, `tags` wrapping.
 * Records come from attacker-controlled JSON: keys are copied as data (a `__proto__` key stays a plain key).
 */
import type { AwsEvent, LogInfo } from '../shared/events.js';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets an own data property even for the key `__proto__`. */
export function setKey(obj: Json, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** Deletes keys whose value is null, recursively through nested objects (not inside arrays). */
export function removeNulls(obj: Json): Json {
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === null) delete obj[k];
    else if (isObject(v)) removeNulls(v);
  }
  return obj;
}

/**
 * Replaces every array of exactly one element by that element, recursively through objects (not into
 * arrays). As in Wazuh, the element that replaces a list is not processed further in the same pass, so a
 * single-element list inside it stays a list (e.g. `networkInterfaces[0].securityGroups`).
 */
export function unwrapSingleLists(obj: Json): Json {
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (Array.isArray(v)) {
      if (v.length === 1) setKey(obj, k, v[0]);
    } else if (isObject(v)) unwrapSingleLists(v);
  }
  return obj;
}

/**
 * Wraps a raw record as Wazuh does: `log_info` first, then the record's keys in order, then `tail` keys
 * (e.g. `aws_account_id`), which replace a same-named record field and come last. A record's own
 * `log_info` key is kept as `record_log_info` so the object's provenance cannot be forged.
 */
export function wrapRecord(logInfo: LogInfo, record: Json, tail?: Json): AwsEvent['aws'] {
  const aws: AwsEvent['aws'] = { log_info: logInfo };
  for (const k of Object.keys(record)) {
    if (tail !== undefined && Object.hasOwn(tail, k)) continue;
    setKey(aws, k === 'log_info' ? 'record_log_info' : k, record[k]);
  }
  if (tail !== undefined) for (const k of Object.keys(tail)) setKey(aws, k, tail[k]);
  return aws;
}

const IPV4_AT_START = /^\d+\.\d+.\d+.\d+/;

/** The steps Wazuh applies to every message after wrapping (`aws` is the event's `aws` object). */
export function reformat(aws: Json): void {
  unwrapSingleLists(aws);
  const ip = aws.sourceIPAddress;
  if (typeof ip === 'string' && IPV4_AT_START.test(ip)) aws.source_ip_address = ip;
  if (aws.tags !== undefined && !isObject(aws.tags)) aws.tags = { value: aws.tags };
}
