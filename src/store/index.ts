/**
 * The embedded store (DuckDB file `DATA_DIR/store/tld.duckdb`): every VPC flow record (typed columns, store
 * format 2: schema.ts), alerts, GuardDuty findings kept per finding id (first/last seen, count, severity history)
 * and ingestion health per object. Flow rows go straight from their columns into DuckDB data chunks handed to an
 * appender (no row objects kept in JavaScript), other rows are buffered; `flush` commits everything.
 * Re-ingesting an object replaces its earlier rows, alerts are keyed by id, so replays and crash re-reads never
 * duplicate.
 *
 * This module keeps the `Store` interface, `openStore` and `EmbeddedStore`, which only composes the parts, each
 * the one owner of its job:
 * - database.ts: the DuckDB instance, the writer queue, the reader connection, reopening;
 * - store-open.ts: tables, format conversion, crash clean-up on open;
 * - flow-writer.ts (with flow-chunk-writer.ts, interface-dictionary.ts): flow rows, commits, open_objects, the
 *   deletes that take an object's rows back;
 * - health-rows.ts: the objects table; alerts-findings.ts: alerts and findings; retention.ts: pruning by age;
 * - rollups.ts: the flow rollups the dashboard reads, refreshed here off the commits (see `#scheduleRefresh`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { StoreConfig } from '../config/types.js';
import type { Alert, EventBatch } from '../shared/events.js';
import { storeRowsOf, type StoreRows } from './store-rows.js';
import { REOPEN_ROWS, StoreDatabase, reopenDatabase } from './database.js';
import { checkFormat, prepareDatabase, storeFormat } from './store-open.js';
import { FlowWriter } from './flow-writer.js';
import { HealthRows, type ObjectHealth } from './health-rows.js';
import { AlertRows, FindingRows } from './alerts-findings.js';
import { pruneByAge } from './retention.js';
import { FlowRollups, type RefreshOptions, type RefreshOutcome } from './rollups.js';

export { reopenDatabase } from './database.js';
export { sqlString } from './sql.js';
export type { ObjectHealth } from './health-rows.js';

type Row = Record<string, unknown>;

const OUT_OF_MEMORY = 'the store ran out of memory';

/**
 * When dirty rollup hours are recomputed while collecting: at most every `everyMs`, hours no commit touched for
 * `quietMs` (the hour being collected keeps changing: recomputing it at every commit would redo its rows again
 * and again), at most `maxHours` a pass, and no hour started after `budgetMs` (the collector's writes wait for a
 * pass: an hour of 580k flows takes ~0.3 s; a store catching up, every hour dirty, is refreshed a second's worth
 * every `everyMs`).
 */
export interface RollupRefreshPolicy {
  everyMs: number;
  quietMs: number;
  maxHours: number;
  budgetMs?: number;
}

export const ROLLUP_REFRESH: RollupRefreshPolicy = { everyMs: 30_000, quietMs: 120_000, maxHours: 24, budgetMs: 1_000 };

/**
 * What the rest of the product uses of the store (`EmbeddedStore` implements it), so that the store can move to a
 * thread of its own without its users changing.
 */
export interface Store {
  readonly readOnly: boolean;
  /** the database file, for error messages */
  readonly path: string;
  ingest(batch: EventBatch, alerts: Alert[]): Promise<void>;
  ingestRows(rows: StoreRows): Promise<void>;
  recordObject(info: ObjectHealth): void;
  discardObject(object: { objectId: string; bucket: string; key: string }): Promise<void>;
  flush(): Promise<void>;
  applyRetention(now: Date): Promise<unknown>;
  query(sql: string, params?: (string | number | null)[]): Promise<Row[]>;
  close(): Promise<void>;
}

export class EmbeddedStore implements Store {
  readonly #db: StoreDatabase;
  readonly #cfg: StoreConfig;
  readonly #flows: FlowWriter;
  readonly #health = new HealthRows();
  readonly #alerts = new AlertRows();
  readonly #findings = new FindingRows();
  readonly #rollups: FlowRollups;
  readonly #refreshPolicy: RollupRefreshPolicy | false;
  #refreshing: Promise<unknown> | undefined;
  #lastRefresh = 0;
  #refreshTimer: ReturnType<typeof setInterval> | undefined;
  /** the last background refresh's failure (the hours stay dirty: answers stay right, read from flows) */
  rollupError: Error | undefined;

  constructor(db: StoreDatabase, cfg: StoreConfig, flows: FlowWriter, rollups: FlowRollups, refresh: RollupRefreshPolicy | false = ROLLUP_REFRESH) {
    this.#db = db;
    this.#cfg = cfg;
    this.#flows = flows;
    this.#rollups = rollups;
    this.#refreshPolicy = db.readOnly ? false : refresh;
    // an idle collector flushes nothing: the timer refreshes what the last commits left
    if (this.#refreshPolicy) {
      this.#refreshTimer = setInterval(() => this.#scheduleRefresh(), this.#refreshPolicy.everyMs);
      this.#refreshTimer.unref();
    }
  }

  /**
   * A pass of the rollup refresher after the writes queued before it, unless one is queued or ran less than
   * `everyMs` ago. Not awaited by the flush: the collector's group commit does not wait for it (its next
   * writes do, behind it in the writer queue: a pass is bounded by `maxHours`).
   */
  #scheduleRefresh(): void {
    const policy = this.#refreshPolicy;
    if (!policy || this.#refreshTimer === undefined || this.#refreshing || Date.now() - this.#lastRefresh < policy.everyMs) return;
    this.#refreshing = this.#db
      .exclusive(() => this.#rollups.refresh(this.#db.conn, { quietMs: policy.quietMs, maxHours: policy.maxHours, ...(policy.budgetMs === undefined ? {} : { budgetMs: policy.budgetMs }) }))
      .then(
        () => (this.rollupError = undefined),
        (e: Error) => (this.rollupError = e),
      )
      .finally(() => {
        this.#lastRefresh = Date.now();
        this.#refreshing = undefined;
      });
  }

  /** Recomputes every dirty rollup hour now (tests, the benchmark, and tools that want them current). */
  refreshRollups(opts: RefreshOptions = {}): Promise<RefreshOutcome> {
    return this.#db.exclusive(() => this.#rollups.refresh(this.#db.conn, opts));
  }

  /** Marks every hour holding flows and recomputes them all (after flows were written around the writer). */
  rebuildRollups(): Promise<RefreshOutcome> {
    return this.#db.exclusive(async () => {
      await this.#rollups.markAll(this.#db.conn);
      return this.#rollups.refresh(this.#db.conn);
    });
  }

  get readOnly(): boolean {
    return this.#db.readOnly;
  }

  /** The keys read before, for the lookup of each object's first batch (health-rows.ts); the writer's open. */
  async loadHealthKeys(): Promise<void> {
    await this.#health.loadKeys(this.#db.conn);
  }

  /** the database file, for error messages */
  get path(): string {
    return this.#db.path;
  }

  /** how many times the database was opened by this store (see StoreDatabase.reopen) */
  get openings(): number {
    return this.#db.openings;
  }

  /** Appends a batch's flows (an object's first batch first drops rows of an earlier read of it). */
  ingest(batch: EventBatch, alerts: Alert[]): Promise<void> {
    return this.ingestRows(storeRowsOf(batch, alerts));
  }

  /** `ingest` with the rows already taken out of the events (see store-rows.ts). */
  ingestRows(rows: StoreRows): Promise<void> {
    return this.#db.exclusive(() => this.#ingest(rows));
  }

  async #ingest({ object, firstIndex, flows, findings, alerts }: StoreRows): Promise<void> {
    if (firstIndex === 0) await this.#flows.replaceEarlierRead(object, await this.#health.earlierReads(this.#db.conn, object));
    if (flows && flows.rows > 0) await this.#flows.add(object, flows).catch((e: Error) => Promise.reject(this.#explain(e)));
    this.#findings.add(findings);
    this.#alerts.add(alerts);
  }

  /**
   * Takes back an object whose read failed midway or whose commit failed (it will be read again): its flows,
   * and its health row if that is still waiting for the next flush.
   */
  discardObject(object: { objectId: string; bucket: string; key: string }): Promise<void> {
    return this.#db.exclusive(async () => {
      this.#health.discard(object.bucket, object.key);
      await this.#flows.discard(object);
    });
  }

  recordObject(info: ObjectHealth): void {
    this.#health.record(info);
  }

  async flush(): Promise<void> {
    if (this.readOnly) return;
    try {
      await this.#db.exclusive(() => this.#flush());
    } catch (e) {
      throw this.#explain(e as Error);
    }
    this.#scheduleRefresh();
  }

  /** DuckDB's out-of-memory errors, with the setting to raise. */
  #explain(e: Error): Error {
    if (!/memory limit|failed to pin block|out of memory/i.test(e.message) || e.message.startsWith(OUT_OF_MEMORY)) return e;
    const now = this.#cfg.memoryLimitMb === undefined ? "DuckDB's default" : `${this.#cfg.memoryLimitMb} MB`;
    return new Error(`${OUT_OF_MEMORY} (<store><memory_limit_mb> is ${now}): raise <memory_limit_mb> in the config and restart. DuckDB said: ${e.message}`, { cause: e });
  }

  async #flush(): Promise<void> {
    const conn = this.#db.conn;
    // the health row first: an object whose row is committed may have flows, and is cleaned before a re-read
    const objects = this.#health.take();
    const flowsOf = objects.map((o) => this.#flows.closeReading(o));
    await this.#health.write(conn, objects, flowsOf);
    await this.#flows.commit();
    await this.#flows.unlistClosed();
    await this.#alerts.write(conn);
    await this.#findings.write(conn);
    await this.#db.reopenIfDue();
  }

  /** Drops flows, alerts and object health rows older than the retention settings. */
  applyRetention(now: Date): Promise<void> {
    return this.#db.exclusive(async () => {
      // rows handed but not committed may use interface numbers the prune would otherwise drop
      await this.#flows.commit();
      if (await pruneByAge(this.#db.conn, this.#cfg, now)) await this.#flows.load();
    });
  }

  /**
   * Runs a read query with positional parameters; rows as plain JSON values. Reads (the dashboard's) go
   * through their own connection, so a long query never holds up the collector's commits on the writer's.
   */
  query(sql: string, params: (string | number | null)[] = []): Promise<Row[]> {
    return this.#db.query(sql, params);
  }

  async close(): Promise<void> {
    clearInterval(this.#refreshTimer);
    this.#refreshTimer = undefined;
    await this.flush();
    await this.#db.exclusive(() => this.#db.close());
  }
}

export interface OpenOptions {
  /** for a dashboard next to no writer */
  readOnly?: boolean;
  /** tests: open the database again after that many flow rows instead of REOPEN_ROWS, with this function */
  reopenRows?: number;
  reopen?: typeof reopenDatabase;
  /** when dirty rollup hours are recomputed in the background (false: only by refreshRollups) */
  rollupRefresh?: RollupRefreshPolicy | false;
}

/** Opens (creating) the store of a data directory. */
export async function openStore(dataDir: string, cfg: StoreConfig, opts: OpenOptions = {}): Promise<EmbeddedStore> {
  const dir = join(dataDir, 'store');
  const readOnly = opts.readOnly ?? false;
  if (!readOnly) mkdirSync(dir, { recursive: true });
  const settings: Record<string, string> = readOnly ? { access_mode: 'READ_ONLY' } : {};
  if (cfg.memoryLimitMb !== undefined) settings.memory_limit = `${cfg.memoryLimitMb}MB`;
  const path = join(dir, 'tld.duckdb');
  const instance = await DuckDBInstance.create(path, settings);
  const conn = await instance.connect();
  let flows: FlowWriter | undefined;
  try {
    if (readOnly) checkFormat(await storeFormat(conn), path, true);
    else await prepareDatabase(conn, path);
  } catch (e) {
    conn.closeSync();
    instance.closeSync();
    throw e;
  }
  const db = new StoreDatabase(instance, conn, {
    path,
    settings,
    readOnly,
    reopenRows: readOnly ? Infinity : (opts.reopenRows ?? REOPEN_ROWS),
    reopen: opts.reopen ?? reopenDatabase,
    afterReopen: () => flows!.load(),
  });
  const rollups = new FlowRollups();
  flows = new FlowWriter(db, rollups);
  if (!readOnly) await flows.load();
  const store = new EmbeddedStore(db, cfg, flows, rollups, opts.rollupRefresh);
  if (!readOnly) await store.loadHealthKeys();
  return store;
}
