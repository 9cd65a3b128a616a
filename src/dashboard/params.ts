/**
 * Query parameters of the JSON API, checked before any SQL runs: a bad value is a 400 whose message names the
 * parameter and says what it takes (docs/api.md). Only `rule` may be repeated (any of the rules); any other
 * parameter given twice is a 400. An empty value counts as absent (the web app's empty filter fields).
 */
import type { AlertFilter, Range } from './queries.js';
import { compileSearch, SearchError } from './search.js';

export type Query = Record<string, string | string[] | undefined>;

export class BadParameter extends Error {
  readonly statusCode = 400;
  constructor(readonly parameter: string, message: string) {
    super(`${parameter}: ${message}`);
  }
}

const DAY_MS = 86_400_000;
/** JavaScript's Date range, in epoch milliseconds: everything DuckDB's timestamps take */
const MAX_MS = 8.64e15;
const MAX_RULES = 50;

/** The single value of a parameter (undefined when absent or empty). */
export function single(query: Query, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) {
    const given = v.filter((x) => x !== '');
    if (given.length > 1) throw new BadParameter(name, 'given more than once; give it once');
    return given[0];
  }
  return v === '' ? undefined : v;
}

function integer(query: Query, name: string, min: number, max: number, what: string): number | undefined {
  const text = single(query, name);
  if (text === undefined) return undefined;
  const n = /^-?\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadParameter(name, `${what}, not '${text.slice(0, 40)}'`);
  return n;
}

/** `from` and `to` in epoch ms; defaults: the 7 days up to `to`, `to` = now. */
export function readRange(query: Query, now = Date.now()): Range {
  const what = 'epoch milliseconds (an integer)';
  const to = integer(query, 'to', -MAX_MS, MAX_MS, what) ?? now;
  const from = integer(query, 'from', -MAX_MS, MAX_MS, what) ?? Math.max(-MAX_MS, to - 7 * DAY_MS);
  if (from > to) throw new BadParameter('from', `must not be after to (both epoch milliseconds, from ≤ to)`);
  return { from, to };
}

/** The alert search's filters (GET /api/alerts). */
export function readAlertFilter(query: Query, now = Date.now()): AlertFilter {
  const f: AlertFilter = { ...readRange(query, now) };
  const level = integer(query, 'level', 0, 16, 'a rule level from 0 to 16');
  if (level !== undefined) f.level = level;
  const limit = integer(query, 'limit', 1, Number.MAX_SAFE_INTEGER, 'a whole number of rows, at least 1 (at most 1000 are returned)');
  if (limit !== undefined) f.limit = Math.min(limit, 1000);
  const rules = ([] as (string | undefined)[]).concat(query.rule).filter((r): r is string => r !== undefined && r !== '');
  if (rules.length > MAX_RULES) throw new BadParameter('rule', `at most ${MAX_RULES} rules at once`);
  if (rules.length) f.rules = [...new Set(rules)];
  for (const name of ['ip', 'account', 'q'] as const) {
    const v = single(query, name);
    if (v === undefined) continue;
    if (v.length > (name === 'q' ? 2000 : 1000)) throw new BadParameter(name, `at most ${name === 'q' ? 2000 : 1000} characters`);
    f[name] = v;
  }
  if (f.q !== undefined) {
    try {
      compileSearch(f.q);
    } catch (e) {
      if (e instanceof SearchError) throw new BadParameter('q', e.message);
      throw e;
    }
  }
  return f;
}
