/**
 * `discard_regex`: drops records whose field matches, applied to the raw record before wrapping, so paths
 * are relative to the record (`action`, `eventSource`, `partition`). The regex is anchored at the start
 * only (Python `re.match`). Arrays on the way fan out over their elements with the rest of the path (Wazuh
 * dropped the rest of the path there; we keep it); a leaf array matches when any element does.
 */
import type { DiscardRegex } from '../config/types.js';

export type DiscardTest = (record: Record<string, unknown>) => boolean;

function leafMatches(value: unknown, re: RegExp): boolean {
  if (Array.isArray(value)) return value.some((v) => leafMatches(v, re));
  if (value === undefined || value === null || typeof value === 'object') return false;
  return re.test(String(value));
}

function walk(value: unknown, path: string[], i: number, re: RegExp): boolean {
  if (i === path.length) return leafMatches(value, re);
  if (Array.isArray(value)) return value.some((v) => walk(v, path, i, re));
  if (typeof value !== 'object' || value === null) return false;
  return walk((value as Record<string, unknown>)[path[i] ?? ''], path, i + 1, re);
}

/** Compiles a discard rule once; the returned test says whether a raw record must be dropped. */
export function compileDiscard(rule: DiscardRegex): DiscardTest {
  const re = new RegExp(`^(?:${rule.regex})`);
  const path = rule.field.split('.');
  return (record) => walk(record, path, 0, re);
}
