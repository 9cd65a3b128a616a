/**
 * Owns the flow rollups: pre-aggregated copies of `flows` that the dashboard's flow panels read instead of
 * scanning every flow of a day (docs/architecture.md "Rollups"). Three tables, each a GROUP BY of `flows`:
 * - `flow_rollup_time`: per 15 minutes × interface × action × log status (series, actions, interfaces, the
 *   timelines of an account, ENI or instance);
 * - `flow_rollup_ports`: per 15 minutes × destination port × action (a port's timeline);
 * - `flow_rollup_pairs`: per hour × interface × source × destination × destination port (talkers, an address's
 *   summary and peers, rejected ports and their distinct sources, an entity's peers).
 *
 * Kept right by hours: every change to `flows` first marks the hours it touches in `flow_rollup_dirty` (an insert
 * at its commit, a delete before it runs), and `refresh` recomputes dirty hours from `flows`. Readers treat a
 * dirty hour as raw (they read its flows), so an answer never depends on whether the refresh has run: marking
 * before the change means no reader can see a changed hour whose rollup is not marked, and a crash between the
 * mark and the change only leaves an hour to recompute.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export const HOUR_MS = 3_600_000;
/** the time rollups' bucket; it divides an hour, and the series' bucket sizes of 15 minutes and more */
export const TIME_BUCKET_MS = 900_000;

/** bumped when the rollups' layout or meaning changes: a store with another version rebuilds them */
export const ROLLUP_VERSION = '1';

export const ROLLUP_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS flow_rollup_dirty (hour TIMESTAMP)`,
  `CREATE TABLE IF NOT EXISTS flow_rollup_time (bucket TIMESTAMP, iface UINTEGER, action flow_action, log_status flow_log_status,
     flows BIGINT, bytes BIGINT, packets BIGINT, first_ts TIMESTAMP, last_ts TIMESTAMP)`,
  `CREATE TABLE IF NOT EXISTS flow_rollup_ports (bucket TIMESTAMP, dport INTEGER, action flow_action, flows BIGINT, bytes BIGINT, first_ts TIMESTAMP, last_ts TIMESTAMP)`,
  `CREATE TABLE IF NOT EXISTS flow_rollup_pairs (hour TIMESTAMP, iface UINTEGER, src4 UINTEGER, src_text VARCHAR, dst4 UINTEGER, dst_text VARCHAR, dport INTEGER,
     flows BIGINT, rejected BIGINT, bytes BIGINT, packets BIGINT, first_ts TIMESTAMP, last_ts TIMESTAMP)`,
];

/*
 * Sums are BIGINT, as the panels give them: a HUGEINT column reads ~100 times slower (2.5M rows: 1.3 s against
 * 10 ms). An hour whose sum does not fit fails its refresh and stays dirty: read from flows, still exact.
 */
const ROLLUP_TABLES = ['flow_rollup_time', 'flow_rollup_ports', 'flow_rollup_pairs'] as const;

/** A TIMESTAMP from epoch milliseconds held in an integer (safe to put in SQL). */
const at = (ms: number) => `make_timestamp(${Math.trunc(ms)}::BIGINT * 1000)`;

/** The SQL of the hour (TIMESTAMP) holding `ts`: the same hour as floor(ms / HOUR_MS) in JavaScript. */
export const hourOf = (ts: string) => `time_bucket(INTERVAL 1 HOUR, ${ts})`;

/**
 * The tables, and on a store that has never had them (or has another version), every hour holding flows marked
 * dirty, so the refresher builds them; in one transaction, so a reader never sees the tables without the marks.
 */
export async function prepareRollups(conn: DuckDBConnection): Promise<void> {
  const [row] = (await conn.runAndReadAll(`SELECT value FROM store_meta WHERE key = 'rollups'`)).getRows();
  await conn.run('BEGIN TRANSACTION');
  try {
    for (const sql of ROLLUP_SCHEMA) await conn.run(sql);
    if (row?.[0] !== ROLLUP_VERSION) {
      for (const t of ROLLUP_TABLES) await conn.run(`DELETE FROM ${t}`);
      await conn.run('DELETE FROM flow_rollup_dirty');
      await conn.run(`INSERT INTO flow_rollup_dirty SELECT DISTINCT ${hourOf('ts')} FROM flows WHERE ts IS NOT NULL`);
      await conn.run(`DELETE FROM store_meta WHERE key = 'rollups'`);
      await conn.run(`INSERT INTO store_meta VALUES ('rollups', '${ROLLUP_VERSION}')`);
    }
    await conn.run('COMMIT');
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Marks the hours of the rows a statement is about to delete (`where` selects them from `flows`). */
export async function markRowsDirty(conn: DuckDBConnection, where: string): Promise<void> {
  await conn.run(`INSERT INTO flow_rollup_dirty SELECT DISTINCT ${hourOf('ts')} FROM flows WHERE ts IS NOT NULL AND (${where})`);
}

/**
 * Retention: rollup rows of the hours wholly before the horizon go with their flows; the hour holding the
 * horizon is marked (part of its flows go). `horizon` is SQL of a TIMESTAMP (parameters bound by the caller).
 */
export async function pruneRollups(conn: DuckDBConnection, horizon: string, params: string[]): Promise<void> {
  await conn.run(`INSERT INTO flow_rollup_dirty SELECT ${hourOf(horizon)}`, params);
  await conn.run(`DELETE FROM flow_rollup_time WHERE bucket < ${hourOf(horizon)}`, params);
  await conn.run(`DELETE FROM flow_rollup_ports WHERE bucket < ${hourOf(horizon)}`, params);
  await conn.run(`DELETE FROM flow_rollup_pairs WHERE hour < ${hourOf(horizon)}`, params);
  await conn.run(`DELETE FROM flow_rollup_dirty WHERE hour < ${hourOf(horizon)}`, params);
}

export interface RefreshOptions {
  /** only hours not marked by this process for that long (the current hour keeps changing while collected) */
  quietMs?: number;
  /** at most that many hours in one call (the writer waits for a refresh) */
  maxHours?: number;
  /** no hour after the first is started once a call has run that long: hours are then recomputed one per statement */
  budgetMs?: number;
}

export interface RefreshOutcome {
  hours: number;
  /** dirty hours left (not quiet yet, or beyond maxHours) */
  left: number;
  ms: number;
}

/** Hours recomputed in one statement at most: a day of flows is 14M rows at 100M a week. */
const HOURS_PER_STATEMENT = 24;

/**
 * Marks and refreshes the rollups on the writer connection. Marks are remembered here until the hour is
 * refreshed, so a commit that adds rows to an hour already marked writes nothing.
 */
export class FlowRollups {
  /** hours (floor(ms / HOUR_MS)) marked dirty by this process and not refreshed since, with when they were last touched */
  readonly #marked = new Map<number, number>();
  /** hours whose recompute failed on its own (a sum beyond BIGINT): left dirty, not tried again by this process */
  readonly #failed = new Set<number>();

  /** Marks hours (floor(ms / HOUR_MS) numbers) dirty before a change to their flows is committed. */
  async markHours(conn: DuckDBConnection, hours: Iterable<number>): Promise<void> {
    const now = Date.now();
    const fresh: number[] = [];
    for (const h of hours) {
      this.#failed.delete(h); // changed: worth another try
      if (!this.#marked.has(h)) fresh.push(h);
      this.#marked.set(h, now);
    }
    if (fresh.length === 0) return;
    await conn.run(`INSERT INTO flow_rollup_dirty SELECT make_timestamp(h * ${HOUR_MS * 1000}) FROM unnest([${fresh.join(',')}]::BIGINT[]) t(h)`);
  }

  /** Marks every hour from the one holding `first` to the one holding `last` (epoch ms). */
  markRange(conn: DuckDBConnection, first: number, last: number): Promise<void> {
    const hours: number[] = [];
    for (let h = Math.floor(first / HOUR_MS); h <= Math.floor(last / HOUR_MS); h++) hours.push(h);
    return this.markHours(conn, hours);
  }

  /** Marks every hour holding flows (after they were written without the writer, e.g. by the benchmark). */
  async markAll(conn: DuckDBConnection): Promise<void> {
    await conn.run(`INSERT INTO flow_rollup_dirty SELECT DISTINCT ${hourOf('ts')} FROM flows WHERE ts IS NOT NULL`);
  }

  /**
   * Recomputes dirty hours from `flows`, oldest first, in runs of consecutive hours; each run in one
   * transaction (its rollup rows replaced and its marks removed together).
   */
  async refresh(conn: DuckDBConnection, opts: RefreshOptions = {}): Promise<RefreshOutcome> {
    const started = Date.now();
    const rows = (await conn.runAndReadAll(`SELECT DISTINCT (epoch_ms(hour) // ${HOUR_MS})::BIGINT AS h FROM flow_rollup_dirty ORDER BY h`)).getRows();
    const dirty = rows.map((r) => Number(r[0]));
    const quietBefore = Date.now() - (opts.quietMs ?? 0);
    const due = dirty.filter((h) => !this.#failed.has(h) && (this.#marked.get(h) ?? -Infinity) <= quietBefore).slice(0, opts.maxHours ?? Infinity);
    let done = 0;
    const perStatement = opts.budgetMs === undefined ? HOURS_PER_STATEMENT : 1;
    for (let i = 0; i < due.length; ) {
      // (the first hour always: a pass makes progress however slow the machine)
      if (i > 0 && opts.budgetMs !== undefined && Date.now() - started >= opts.budgetMs) break;
      let j = i + 1;
      while (j < due.length && due[j] === due[j - 1]! + 1 && j - i < perStatement) j++;
      const run = due.slice(i, j);
      try {
        await this.#recompute(conn, run[0]! * HOUR_MS, (run[run.length - 1]! + 1) * HOUR_MS);
        done += run.length;
      } catch (e) {
        if (run.length === 1 && !/memory/i.test((e as Error).message)) this.#failed.add(run[0]!);
        // one hour at a time, so that one hour that cannot be rolled up leaves only itself dirty
        if (run.length > 1) {
          for (const h of run) {
            try {
              await this.#recompute(conn, h * HOUR_MS, (h + 1) * HOUR_MS);
              done++;
            } catch (e1) {
              if (!/memory/i.test((e1 as Error).message)) this.#failed.add(h);
            }
          }
        }
      }
      for (const h of run) if (!this.#failed.has(h)) this.#marked.delete(h);
      i = j;
    }
    return { hours: done, left: dirty.length - done, ms: Date.now() - started };
  }

  /** Replaces the rollup rows of [lo, hi) (whole hours, all dirty) by a GROUP BY of their flows. */
  async #recompute(conn: DuckDBConnection, lo: number, hi: number): Promise<void> {
    const inHours = (col: string) => `${col} >= ${at(lo)} AND ${col} < ${at(hi)}`;
    await conn.run('BEGIN TRANSACTION');
    try {
      await conn.run(`DELETE FROM flow_rollup_time WHERE ${inHours('bucket')}`);
      await conn.run(`INSERT INTO flow_rollup_time SELECT time_bucket(INTERVAL ${TIME_BUCKET_MS / 1000} SECOND, ts) AS bucket, iface, action, log_status,
          count(*), sum(bytes), sum(packets), min(ts), max(ts) FROM flows WHERE ${inHours('ts')} GROUP BY ALL`);
      await conn.run(`DELETE FROM flow_rollup_ports WHERE ${inHours('bucket')}`);
      await conn.run(`INSERT INTO flow_rollup_ports SELECT time_bucket(INTERVAL ${TIME_BUCKET_MS / 1000} SECOND, ts) AS bucket, dport, action,
          count(*), sum(bytes), min(ts), max(ts) FROM flows WHERE ${inHours('ts')} GROUP BY ALL`);
      await conn.run(`DELETE FROM flow_rollup_pairs WHERE ${inHours('hour')}`);
      // in hour order: a range's rows are then in few row groups (DuckDB skips the others by their min/max)
      await conn.run(`INSERT INTO flow_rollup_pairs SELECT ${hourOf('ts')} AS hour, iface, src4, src_text, dst4, dst_text, dport,
          count(*), count(*) FILTER (WHERE action = 'REJECT'::flow_action), sum(bytes), sum(packets), min(ts), max(ts) FROM flows WHERE ${inHours('ts')} GROUP BY ALL
          ORDER BY hour`);
      await conn.run(`DELETE FROM flow_rollup_dirty WHERE ${inHours('hour')}`);
      await conn.run('COMMIT');
    } catch (e) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }
}
