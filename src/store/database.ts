/**
 * Owns the DuckDB database of the store: opening it (schema, migration, crash clean-up: store-open.ts), the
 * writer connection and its queue, the dashboard's reader connection, and opening it again every REOPEN_ROWS
 * flow rows to bound DuckDB's memory. Other parts of the store reach the writer connection through `conn`
 * inside `exclusive`, and register what must be released before the database closes (`onClose`).
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

/** flow rows written in one opening of the database before it is opened again (see StoreDatabase.reopen) */
export const REOPEN_ROWS = 10_000_000;

type Row = Record<string, unknown>;

/**
 * Opens the database file again after the store closed it. Another process (a `tld dashboard`) could take
 * the file in the moment it was closed: it is retried for ten seconds, then the error says what to do.
 */
export async function reopenDatabase(path: string, settings: Record<string, string>, attempts = 50): Promise<DuckDBInstance> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await DuckDBInstance.create(path, settings);
    } catch (e) {
      if (!/lock/i.test((e as Error).message) || attempt >= attempts) {
        throw new Error(`the store ${path} could not be opened again (it is reopened every ${REOPEN_ROWS.toLocaleString('en-US')} flow rows to bound its memory): ${(e as Error).message}. If another process (tld dashboard) has it open, stop that process; use the dashboard that tld start serves.`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export interface DatabaseOptions {
  path: string;
  settings: Record<string, string>;
  readOnly: boolean;
  reopenRows: number;
  reopen: typeof reopenDatabase;
  /** run on the writer connection after each reopen (the store reads its in-memory state back) */
  afterReopen?: (conn: DuckDBConnection) => Promise<void>;
}

export class StoreDatabase {
  #instance: DuckDBInstance;
  #conn: DuckDBConnection;
  readonly #opts: DatabaseOptions;
  #openings = 1;
  /** the last reopen failed: the database is closed until the next piece of writer work opens it */
  #lost = false;
  /** flow rows committed since the database was opened (see REOPEN_ROWS) */
  rowsSinceOpen = 0;
  readonly #closeHooks: (() => void | Promise<void>)[] = [];

  constructor(instance: DuckDBInstance, conn: DuckDBConnection, opts: DatabaseOptions) {
    this.#instance = instance;
    this.#conn = conn;
    this.#opts = opts;
  }

  get path(): string {
    return this.#opts.path;
  }

  get readOnly(): boolean {
    return this.#opts.readOnly;
  }

  /** the writer connection (use it inside `exclusive`) */
  get conn(): DuckDBConnection {
    return this.#conn;
  }

  /** how many times the database was opened (see reopen) */
  get openings(): number {
    return this.#openings;
  }

  /** Registers what to release (appenders) before the writer connection closes. */
  onClose(hook: () => void | Promise<void>): void {
    this.#closeHooks.push(hook);
  }

  /**
   * Every use of the writer connection, one after another. The pipeline goes on reading while a group commit
   * runs, so an ingest (a lookup, appends) and a flush (appenders, deletes) would otherwise meet on the
   * connection, and an appender used while a statement of the same connection is pending fails that
   * statement ("unsuccessful or closed pending query result"; a million-object run hit it).
   */
  #writerQueue: Promise<unknown> = Promise.resolve();

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#writerQueue.then(async () => {
      if (this.#lost) await this.reopen();
      return work();
    });
    this.#writerQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs a read query with positional parameters; rows as plain JSON values. Reads (the dashboard's) go
   * through their own connection, so a long query never holds up the collector's commits on the writer's.
   */
  async query(sql: string, params: (string | number | null)[] = []): Promise<Row[]> {
    while (this.#reopening) await this.#reopening;
    if (this.#lost) throw new Error(`the store ${this.path} is closed: opening it again failed; the collector retries at its next write`);
    this.#readers++;
    try {
      const conn = this.readOnly ? this.#conn : await (this.#reader ??= this.#instance.connect());
      const reader = await conn.runAndReadAll(sql, params as DuckDBValue[]);
      return reader.getRowObjectsJson() as Row[];
    } finally {
      if (--this.#readers === 0) this.#readersDone?.();
    }
  }

  /** reads in flight, and what a reopen waits on (no new read starts while `#reopening` is set) */
  #readers = 0;
  #readersDone: (() => void) | undefined;
  #reopening: Promise<void> | undefined;
  #reader: Promise<DuckDBConnection> | undefined;

  /** Opens the database again once enough flow rows were committed in this opening (between commits). */
  async reopenIfDue(): Promise<void> {
    if (this.rowsSinceOpen >= this.#opts.reopenRows) await this.reopen();
  }

  /**
   * Closes and opens the database again, between commits (nothing uncommitted is held; ~40 ms). While open,
   * DuckDB holds memory outside <memory_limit_mb> that grows with what was written: the collector's RSS rose
   * from 313 to 345 MB over 100M records in one opening, and from 307 to 326 MB when opened again every 10M.
   * Reads wait for the reopen; it waits for the reads in flight.
   */
  async reopen(): Promise<void> {
    let release!: () => void;
    this.#reopening = new Promise<void>((r) => (release = r));
    try {
      if (this.#readers > 0) await new Promise<void>((r) => (this.#readersDone = r));
      this.#readersDone = undefined;
      if (!this.#lost) await this.close();
      this.#lost = true;
      this.#instance = await this.#opts.reopen(this.path, this.#opts.settings);
      this.#conn = await this.#instance.connect();
      this.#reader = undefined;
      await this.#opts.afterReopen?.(this.#conn);
      this.#lost = false;
      this.rowsSinceOpen = 0;
      this.#openings++;
    } finally {
      this.#reopening = undefined;
      release();
    }
  }

  /** Releases what the other parts hold, then closes connections and the database (after a flush). */
  async close(): Promise<void> {
    for (const hook of this.#closeHooks) await hook();
    (await this.#reader)?.closeSync();
    this.#reader = undefined;
    this.#conn.closeSync();
    this.#instance.closeSync();
  }
}
