/**
 * The key of a frequency rule's window: its `same_field` values, joined with U+0000 as analysisd compares them,
 * each plain dotted-quad IPv4 value written as three characters (U+0001 and the address's two 16-bit halves).
 *
 * Why: the key is looked up for every record a frequency rule sees (every rejected flow, for the port-scan rule),
 * and most are new. A key of two addresses as text is ~25 characters made per record (the addresses' text, then a
 * joined string V8 must flatten before hashing it); as numbers it is 7 characters made in one call from the batch's
 * address numbers, without their text (flow-rules.ts). Both evaluation paths make the same key for the same values
 * (engine.ts from the event's text, through `keyPart`), so a window counts a record alike whichever path read it.
 *
 * A text value that starts with U+0001 or U+0002, or holds a U+0000, is written as U+0002 and its JSON literal, so
 * no text is taken for an address and no value's U+0000 for the separator: different values, different keys.
 * The correlation file saves keys as they are; the alert id of a hit and the workers' partial counts use their text
 * (`keyText`, the values joined as before).
 */
import { ipv4Number, ipv4Text } from '../shared/ipv4.js';

const SEPARATOR = 0;
const IPV4 = 1;
const ESCAPE = 2;

/** An address (uint32) as its part of a key. */
export function ipv4Part(n: number): string {
  return String.fromCharCode(IPV4, n >>> 16, n & 0xffff);
}

/** Two addresses as a whole key (the port-scan rule's source and destination), in one call. */
export function ipv4PairKey(a: number, b: number): string {
  return String.fromCharCode(IPV4, a >>> 16, a & 0xffff, SEPARATOR, IPV4, b >>> 16, b & 0xffff);
}

/** A value's part of a key: an address as `ipv4Part`, other text as it is (escaped when it could be misread). */
export function keyPart(text: string): string {
  const n = ipv4Number(text);
  if (n >= 0) return ipv4Part(n);
  const c = text.charCodeAt(0);
  return c === IPV4 || c === ESCAPE || text.includes('\u0000') ? `\u0002${JSON.stringify(text)}` : text;
}

/** The key of `same_field` values; undefined when one is absent. */
export function windowKey(values: readonly (string | undefined)[]): string | undefined {
  let key = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === undefined) return undefined;
    key = i === 0 ? keyPart(v) : `${key}\u0000${keyPart(v)}`;
  }
  return key;
}

/** The values of a key joined as text (`a\u0000b`, as analysisd joins them): what is saved and hashed into ids. */
export function keyText(key: string): string {
  if (key.indexOf('\u0001') < 0 && key.indexOf('\u0002') < 0) return key;
  let out = '';
  let i = 0;
  for (;;) {
    const c = key.charCodeAt(i);
    let end: number;
    if (c === IPV4) {
      out += ipv4Text(key.charCodeAt(i + 1) * 65536 + key.charCodeAt(i + 2));
      end = i + 3;
    } else {
      // an escaped value's JSON literal holds no raw U+0000
      end = key.indexOf('\u0000', i);
      if (end < 0) end = key.length;
      out += c === ESCAPE ? (JSON.parse(key.slice(i + 1, end)) as string) : key.slice(i, end);
    }
    if (end >= key.length) return out;
    out += '\u0000';
    i = end + 1;
  }
}

/**
 * A key from the text of its values (a correlation file of version 2 or earlier, a worker's partial count). Text
 * is ambiguous where a value held a U+0000; such a value was split there before keys had parts, and still is.
 */
export function keyFromText(text: string): string {
  return windowKey(text.split('\u0000')) as string;
}
