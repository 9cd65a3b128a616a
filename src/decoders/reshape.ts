/**
 * Wazuh's generic record reshaping (reference §4.5), so rules and searches written for Wazuh see the same
 * field paths: null fields removed, single-element lists unwrapped, `source_ip_address`, `tags` wrapping.
 */

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
 * arrays). As in Wazuh, the element that replaces a list is not processed further in the same pass.
 */
export function unwrapSingleLists(obj: Json): Json {
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (Array.isArray(v)) {
      if (v.length === 1) obj[k] = v[0];
    } else if (isObject(v)) unwrapSingleLists(v);
  }
  return obj;
}

const IPV4_AT_START = /^\d+\.\d+.\d+.\d+/;

/** The steps Wazuh applies to every message after wrapping (`aws` is the event's `aws` object). */
export function reformat(aws: Json): void {
  unwrapSingleLists(aws);
  const ip = aws.sourceIPAddress;
  if (typeof ip === 'string' && IPV4_AT_START.test(ip)) aws.source_ip_address = ip;
  if (aws.tags !== undefined && !isObject(aws.tags)) aws.tags = { value: aws.tags };
}

export { isObject };
