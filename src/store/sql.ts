/** Small helpers for the store's SQL and appenders: literals that are safe to put in SQL, and typed appends. */
import { DuckDBTimestampValue, type DuckDBAppender } from '@duckdb/node-api';

/** A TIMESTAMP literal from epoch milliseconds (digits only: safe to put in SQL). */
export const sqlTimestamp = (msValue: number): string => `make_timestamp(${Math.round(msValue) * 1000})`;

/** A SQL string literal: quotes doubled (DuckDB's standard strings have no other escapes). */
export const sqlString = (v: string): string => `'${v.replaceAll("'", "''")}'`;

/** A TIMESTAMP value from epoch milliseconds. */
export const ts = (msValue: number | null | undefined) => (msValue === null || msValue === undefined ? null : new DuckDBTimestampValue(BigInt(Math.round(msValue)) * 1000n));

/** Appends one value of a row: v(archar), i(nteger), s(mallint), b(igint), u(bigint), d(ouble), t(imestamp). */
export function put(a: DuckDBAppender, v: string | number | bigint | DuckDBTimestampValue | null, kind: 'v' | 'i' | 'b' | 'u' | 'd' | 't' | 's'): void {
  if (v === null) return a.appendNull();
  switch (kind) {
    case 'v':
      return a.appendVarchar(String(v));
    case 'i':
      return a.appendInteger(Number(v));
    case 's':
      return a.appendSmallInt(Number(v));
    case 'b':
      return a.appendBigInt(BigInt(Math.round(Number(v))));
    case 'u':
      return a.appendUBigInt(v as bigint);
    case 'd':
      return a.appendDouble(Number(v));
    case 't':
      return a.appendTimestamp(v as DuckDBTimestampValue);
  }
}
