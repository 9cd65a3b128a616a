/**
 * `discard_regex` exactly as Wazuh applies it (reference wazuh-aws.md §4.6): on the raw record before
 * wrapping, so paths are relative to the record (`action`, `eventSource`, `partition`).
 * - The dotted path is walked through objects; a missing step means "keep".
 * - When a step reaches an array, each element is tried with the NEXT path segment only; later segments are
 *   dropped (Wazuh's quirk: `a.b.c` with `a` an array tests `a[*].b`). Any match wins.
 * - At the leaf, Python `re.match`: anchored at the start, not at the end. Only strings are tested (Python
 *   raises TypeError on numbers, booleans and objects, which Wazuh treats as "no match"); a leaf array
 *   matches when any element (recursively) does.
 */
import type { DiscardRegex } from '../config/types.js';

export type DiscardTest = (record: Record<string, unknown>) => boolean;

function leafMatches(value: unknown, re: RegExp): boolean {
  if (typeof value === 'string') {
    re.lastIndex = 0;
    return re.test(value);
  }
  return Array.isArray(value) && value.some((v) => leafMatches(v, re));
}

function check(item: unknown, path: string, re: RegExp): boolean {
  const dot = path.indexOf('.');
  const head = dot === -1 ? path : path.slice(0, dot);
  if (Array.isArray(item)) return item.some((el) => check(el, head, re));
  if (typeof item !== 'object' || item === null || !Object.hasOwn(item, head)) return false;
  const value = (item as Record<string, unknown>)[head];
  return dot === -1 ? leafMatches(value, re) : check(value, path.slice(dot + 1), re);
}

/** Python inline flags at the very start (`(?i)`, `(?s)`, `(?m)`, combined) become JS flags. */
function translate(regex: string): { source: string; flags: string } {
  const m = /^\(\?([ism]+)\)/.exec(regex);
  if (!m) return { source: regex, flags: '' };
  return { source: regex.slice(m[0].length), flags: [...new Set(m[1])].join('') };
}

/** Compiles a discard rule once; the returned test says whether a raw record must be dropped. */
export function compileDiscard(rule: DiscardRegex): DiscardTest {
  const { source, flags } = translate(rule.regex);
  // sticky: a match must begin at index 0 (Python re.match), and may end anywhere
  const re = new RegExp(source, flags + 'y');
  return (record) => check(record, rule.field, re);
}
