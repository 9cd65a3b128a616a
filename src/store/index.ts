/**
 * The embedded store (DuckDB file `DATA_DIR/store/tld.duckdb`): every VPC flow record (typed columns),
 * alerts, GuardDuty findings kept per finding id (first/last seen, count, severity history) and ingestion
 * health per object. Flow rows go straight from the events into DuckDB data chunks handed to an appender
 * (flow-chunk-writer.ts; no row objects kept in JavaScript), other rows are buffered; `flush` commits
 * everything. Re-ingesting an object replaces its earlier rows, alerts are keyed by id, so replays and crash
 * re-reads never duplicate.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { StoreConfig } from '../config/types.js';
import type { Alert, AwsEvent, EventBatch } from '../shared/events.js';
import { SCHEMA } from './schema.js';
import type { AlertRow, FindingRow } from './extract.js';
import { storeRowsOf, type StoreRows } from './store-rows.js';
import { FlowChunkWriter } from './flow-chunk-writer.js';

export interface ObjectHealth {
  bucket: string;
  key: string;
  type: string;
  status: 'ok' | 'error';
  error?: string;
  records: number;
  bytes: number;
  lastModified?: Date;
  processedAt: Date;
}

type Json = Record<string, unknown>;
type Row = Record<string, unknown>;

const ts = (msValue: number | null | undefined) => (msValue === null || msValue === undefined ? null : new DuckDBTimestampValue(BigInt(Math.round(msValue)) * 1000n));

function put(a: DuckDBAppender, v: string | number | bigint | DuckDBTimestampValue | null, kind: 'v' | 'i' | 'b' | 'd' | 't' | 's'): void {
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
    case 'd':
      return a.appendDouble(Number(v));
    case 't':
      return a.appendTimestamp(v as DuckDBTimestampValue);
  }
}

/** Flow rows of an object being read: how many, and the range of their record times (for a later re-read). */
interface Reading {
  id: string;
  rows: number;
  first: number;
  last: number;
  /** a row without a record time: a re-read must then delete without a time range */
  untimed: boolean;
}

/** A TIMESTAMP literal from epoch milliseconds (digits only: safe to put in SQL). */
const sqlTimestamp = (msValue: number): string => `make_timestamp(${Math.round(msValue) * 1000})`;

/** A SQL string literal: quotes doubled (DuckDB's standard strings have no other escapes). */
export const sqlString = (v: string): string => `'${v.replaceAll("'", "''")}'`;

const OUT_OF_MEMORY = 'the store ran out of memory';

/** flow rows per commit at most (below the 204,800 at which DuckDB's appender would commit by itself) */
const COMMIT_ROWS = 100_000;

/** flow rows written in one opening of the database before it is opened again (see Store.#reopen) */
const REOPEN_ROWS = 10_000_000;


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
  #conn: DuckDBConnection;
  #instance: DuckDBInstance;
  readonly #cfg: StoreConfig;
  readonly readOnly: boolean;
  /** open appender of the flows table and the chunk writer that feeds it (rows are committed by flush) */
  #flowAppender: DuckDBAppender | undefined;
  #flows: FlowChunkWriter | undefined;
  #alerts: AlertRow[] = [];
  #findings: FindingRow[] = [];
  #objects: ObjectHealth[] = [];
  /** objects with flow rows handed to the writer and no health row yet, by `bucket\nkey` */
  #reading = new Map<string, Reading>();
  /** of those, the ids already listed in open_objects; and ids to take off that list at the next flush */
  #listedOpen = new Set<string>();
  #closed: string[] = [];

  readonly #path: string;
  readonly #settings: Record<string, string>;
  readonly #reopenRows: number;
  readonly #open: typeof reopenDatabase;
  #openings = 1;
  /** the last reopen failed: the database is closed until the next piece of writer work opens it */
  #lost = false;

  constructor(instance: DuckDBInstance, conn: DuckDBConnection, cfg: StoreConfig, readOnly: boolean, opened: Required<Pick<OpenOptions, 'reopenRows' | 'reopen'>> & { path: string; settings: Record<string, string> }) {
    this.#path = opened.path;
    this.#settings = opened.settings;
    this.#reopenRows = opened.reopenRows;
    this.#open = opened.reopen;
    this.#instance = instance;
    this.#conn = conn;
    this.#cfg = cfg;
    this.readOnly = readOnly;
  }

  /**
   * Every use of the writer connection, one after another. The pipeline goes on reading while a group commit
   * runs, so an ingest (a lookup, appends) and a flush (appenders, deletes) would otherwise meet on the
   * connection, and an appender used while a statement of the same connection is pending fails that
   * statement ("unsuccessful or closed pending query result"; a million-object run hit it).
   */
  #writerQueue: Promise<unknown> = Promise.resolve();

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#writerQueue.then(async () => {
      if (this.#lost) await this.#reopen();
      return work();
    });
    this.#writerQueue = run.catch(() => undefined);
    return run;
  }

  /** Appends a batch's flows (an object's first batch first drops rows of an earlier read of it). */
  ingest(batch: EventBatch, alerts: Alert[]): Promise<void> {
    return this.ingestRows(storeRowsOf(batch, alerts));
  }

  /** `ingest` with the rows already taken out of the events (see store-rows.ts). */
  ingestRows(rows: StoreRows): Promise<void> {
    return this.#exclusive(() => this.#ingest(rows));
  }

  async #ingest({ object, firstIndex, flows, findings, alerts }: StoreRows): Promise<void> {
    const { objectId, bucket } = object;
    if (firstIndex === 0) await this.#replaceEarlierRead(object);
    if (flows && flows.rows > 0) {
      const readingKey = `${bucket}\n${object.key}`;
      let reading = this.#reading.get(readingKey);
      if (reading === undefined) {
        reading = { id: objectId, rows: 0, first: Infinity, last: -Infinity, untimed: false };
        this.#reading.set(readingKey, reading);
      }
      let w = await this.#flowWriter();
      const { idx, start, end, sport, dport, proto, packets, bytes, account, region, eni, src, dst, action, logStatus } = flows;
      const orNull = (v: number) => (Number.isNaN(v) ? null : v);
      for (let r = 0; r < flows.rows; r++) {
        if (w.handedRows >= COMMIT_ROWS) {
          await this.#commitFlows().catch((e: Error) => Promise.reject(this.#explain(e)));
          w = await this.#flowWriter();
        }
        const t = start[r]!;
        reading.rows++;
        if (Number.isNaN(t)) reading.untimed = true;
        else {
          if (t < reading.first) reading.first = t;
          if (t > reading.last) reading.last = t;
        }
        w.add(objectId, idx[r]!, orNull(t), orNull(end[r]!), account[r]!, region[r]!, eni[r]!, src[r]!, dst[r]!, orNull(sport[r]!), orNull(dport[r]!), orNull(proto[r]!), orNull(packets[r]!), orNull(bytes[r]!), action[r]!, logStatus[r]!, bucket);
      }
    }
    for (const f of findings) this.#findings.push(f);
    for (const a of alerts) this.#alerts.push(a);
  }

  async #flowWriter(): Promise<FlowChunkWriter> {
    if (this.#flows) return this.#flows;
    this.#flowAppender = await this.#conn.createAppender('flows');
    return (this.#flows = new FlowChunkWriter(this.#flowAppender));
  }

  /**
   * The object's read is over (committed or taken back): it leaves the open list at the next flush. Returns
   * what was read of it. `reading` is keyed by bucket + newline + key (bucket names have no newline; keys may).
   */
  #closeReading(readingKey: string): Reading | undefined {
    const reading = this.#reading.get(readingKey);
    if (reading === undefined) return undefined;
    this.#reading.delete(readingKey);
    if (this.#listedOpen.delete(reading.id)) this.#closed.push(reading.id);
    return reading;
  }

  /**
   * Commits the flow rows handed so far (they are visible to queries after this). Objects still being read
   * whose rows this commits are put on the open list first, so that a crash before their own commit takes
   * their rows back on the next open instead of leaving them to be stored twice.
   */
  async #commitFlows(): Promise<void> {
    const w = this.#flows;
    if (!w) return;
    const a = await (this.#openAppender ??= this.#conn.createAppender('open_objects'));
    // from here to the commit nothing awaits, so no rows arrive for an object missing from the list
    const open = [...this.#reading.values()].map((r) => r.id).filter((id) => !this.#listedOpen.has(id));
    if (open.length) {
      for (const id of open) {
        put(a, id, 'v');
        a.endRow();
        this.#listedOpen.add(id);
      }
      a.flushSync();
      // an object read again after a discard is listed anew: the delete of its old listing must not take this one
      this.#closed = this.#closed.filter((id) => !this.#listedOpen.has(id));
    }
    w.flush();
    this.#flowAppender!.flushSync();
    this.#rowsSinceOpen += w.handedRows;
    w.committed();
  }

  #openAppender: Promise<DuckDBAppender> | undefined;

  /**
   * An object read before (committed: it has a health row; the health row is written before its flows) or
   * replayed: its earlier rows go before the new ones come. The health rows say how many flow rows it had and
   * their time range, so the delete reads only the row groups of that range instead of every stored flow.
   */
  async #replaceEarlierRead(object: EventBatch['object']): Promise<void> {
    // A literal key and no other condition: that is what DuckDB answers from the index on objects.key (a
    // parameter, or a second condition, makes it scan every object ever read). The bucket is checked here.
    const earlier = (await this.#conn.runAndReadAll(`SELECT bucket, flow_rows, epoch_ms(first_ts) AS first, epoch_ms(last_ts) AS last FROM objects WHERE key = ${sqlString(object.key)}`))
      .getRowObjectsJson()
      .filter((r) => r.bucket === object.bucket);
    this.#readBefore.set(`${object.bucket}\n${object.key}`, earlier.length > 0);
    if (earlier.length === 0 && !object.replayed) return;
    const withFlows = earlier.filter((r) => r.flow_rows === null || Number(r.flow_rows) > 0);
    if (earlier.length > 0 && withFlows.length === 0) return; // read before, with no flow rows
    const bounded = withFlows.length > 0 && withFlows.every((r) => r.first !== null && r.last !== null);
    await this.#dropFlows(object.objectId, bounded ? { first: Math.min(...withFlows.map((r) => Number(r.first))), last: Math.max(...withFlows.map((r) => Number(r.last))) } : undefined);
  }

  /** Deletes an object's flow rows, only in the given time range when it is known (see #replaceEarlierRead). */
  async #dropFlows(objectId: string, range?: { first: number; last: number }): Promise<void> {
    const within = range ? ` AND ts BETWEEN ${sqlTimestamp(range.first)} AND ${sqlTimestamp(range.last)}` : '';
    await this.#conn.run(`DELETE FROM flows WHERE object_id = ${sqlString(objectId)}${within}`);
  }

  /**
   * Takes back an object whose read failed midway or whose commit failed (it will be read again): its flows,
   * and its health row if that is still waiting for the next flush.
   */
  discardObject(object: { objectId: string; bucket: string; key: string }): Promise<void> {
    return this.#exclusive(() => this.#discardObject(object));
  }

  async #discardObject(object: { objectId: string; bucket: string; key: string }): Promise<void> {
    this.#objects = this.#objects.filter((o) => o.bucket !== object.bucket || o.key !== object.key);
    this.#readBefore.delete(`${object.bucket}\n${object.key}`);
    await this.#commitFlows();
    const reading = this.#closeReading(`${object.bucket}\n${object.key}`);
    await this.#dropFlows(object.objectId, reading && !reading.untimed && reading.rows > 0 ? reading : undefined);
  }

  recordObject(info: ObjectHealth): void {
    this.#objects.push(info);
  }

  /** the database file, for error messages */
  get path(): string {
    return this.#path;
  }

  /**
   * `bucket\nkey` → whether the object had a health row when its first batch came (see #replaceEarlierRead);
   * a re-read's older health row is deleted once the new one is written, so each object counts once.
   */
  readonly #readBefore = new Map<string, boolean>();

  /** Deletes the older health rows of objects read again (after a crash, a failed commit, or a replay). */
  async #dropOlderHealthRows(objects: ObjectHealth[]): Promise<void> {
    for (const o of objects) {
      const id = `${o.bucket}\n${o.key}`;
      let before = this.#readBefore.get(id);
      this.#readBefore.delete(id);
      if (before === undefined) {
        // no batch came (an empty object): ask by key alone, which DuckDB answers from the index
        const rows = (await this.#conn.runAndReadAll(`SELECT bucket FROM objects WHERE key = ${sqlString(o.key)}`)).getRowObjectsJson();
        before = rows.filter((r) => r.bucket === o.bucket).length > 1;
      }
      if (before) await this.#conn.run(`DELETE FROM objects WHERE key = ${sqlString(o.key)} AND bucket = ${sqlString(o.bucket)} AND processed_at < ${sqlTimestamp(o.processedAt.getTime())}`);
    }
  }

  async flush(): Promise<void> {
    if (this.readOnly) return;
    try {
      await this.#exclusive(() => this.#flush());
    } catch (e) {
      throw this.#explain(e as Error);
    }
  }

  /** DuckDB's out-of-memory errors, with the setting to raise. */
  #explain(e: Error): Error {
    if (!/memory limit|failed to pin block|out of memory/i.test(e.message) || e.message.startsWith(OUT_OF_MEMORY)) return e;
    const now = this.#cfg.memoryLimitMb === undefined ? "DuckDB's default" : `${this.#cfg.memoryLimitMb} MB`;
    return new Error(`${OUT_OF_MEMORY} (<store><memory_limit_mb> is ${now}): raise <memory_limit_mb> in the config and restart. DuckDB said: ${e.message}`, { cause: e });
  }

  async #flush(): Promise<void> {
    const c = this.#conn;
    // the health row first: an object whose row is committed may have flows, and is cleaned before a re-read
    const objects = this.#objects;
    this.#objects = [];
    const flowsOf = objects.map((o) => this.#closeReading(`${o.bucket}\n${o.key}`));
    if (objects.length) {
      const a = await c.createAppender('objects');
      for (const [i, o] of objects.entries()) {
        const flows = flowsOf[i];
        put(a, o.bucket, 'v');
        put(a, o.key, 'v');
        put(a, o.type, 'v');
        put(a, o.status, 'v');
        put(a, o.error ?? null, 'v');
        put(a, o.records, 'b');
        put(a, o.bytes, 'b');
        put(a, ts(o.lastModified?.getTime()), 't');
        put(a, ts(o.processedAt.getTime()), 't');
        put(a, flows?.rows ?? 0, 'b');
        const timed = flows !== undefined && !flows.untimed && flows.rows > 0;
        put(a, timed ? ts(flows.first) : null, 't');
        put(a, timed ? ts(flows.last) : null, 't');
        a.endRow();
      }
      a.flushSync();
      a.closeSync();
      // after the new rows are committed: a crash in between leaves two rows (counted once later), never none
      await this.#dropOlderHealthRows(objects);
    }
    await this.#commitFlows();
    if (this.#closed.length) {
      await c.run(`DELETE FROM open_objects WHERE object_id IN (${this.#closed.map(sqlString).join(',')})`);
      this.#closed = [];
    }
    if (this.#alerts.length) {
      const ids = [...new Set(this.#alerts.map((r) => r.id))];
      for (let i = 0; i < ids.length; i += 500) {
        const part = ids.slice(i, i + 500);
        await c.run(`DELETE FROM alerts WHERE id IN (${part.map((_, j) => `$${j + 1}`).join(',')})`, part);
      }
      const a = await c.createAppender('alerts');
      const seen = new Set<string>();
      for (const r of this.#alerts) {
        if (seen.has(r.id)) continue;
        seen.add(r.id);
        put(a, r.id, 'v');
        put(a, ts(r.ts), 't');
        put(a, ts(r.eventTs), 't');
        put(a, r.level, 'i');
        put(a, r.ruleId, 'v');
        put(a, r.description, 'v');
        put(a, r.groups, 'v');
        put(a, r.source, 'v');
        put(a, r.account, 'v');
        put(a, r.region, 'v');
        put(a, r.src, 'v');
        put(a, r.dst, 'v');
        put(a, r.bucket, 'v');
        put(a, r.json, 'v');
        a.endRow();
      }
      a.flushSync();
      a.closeSync();
      this.#alerts = [];
    }
    // every emission in order, so the severity/count history sees each step; the newest state wins
    const findings = this.#findings.sort((x, y) => (x.lastSeen ?? 0) - (y.lastSeen ?? 0));
    this.#findings = [];
    for (const f of findings) await this.#upsertFinding(f);
    if (this.#rowsSinceOpen >= this.#reopenRows) await this.#reopen();
  }

  /** A finding seen again keeps its first-seen time, takes the newest state, and records each severity/count change. */
  async #upsertFinding(f: FindingRow): Promise<void> {
    const prev = (await this.#conn.runAndReadAll('SELECT first_seen, last_seen, history, count, severity FROM findings WHERE id = $1', [f.id])).getRowObjectsJson()[0] as Row | undefined;
    const history = prev ? (JSON.parse(String(prev.history)) as Json[]) : [];
    if (!prev || Number(prev.count) !== f.count || Number(prev.severity) !== f.severity) history.push({ at: f.lastSeen === null ? null : new Date(f.lastSeen).toISOString(), severity: f.severity, count: f.count });
    if (prev && prev.last_seen && Date.parse(String(prev.last_seen) + 'Z') > (f.lastSeen ?? 0)) return; // an older emission arriving late
    const first = prev?.first_seen ? Math.min(Date.parse(String(prev.first_seen) + 'Z'), f.firstSeen ?? Infinity) : f.firstSeen;
    await this.#conn.run('DELETE FROM findings WHERE id = $1', [f.id]);
    await this.#conn.run(
      `INSERT INTO findings VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,to_timestamp($18/1000.0)::TIMESTAMP,to_timestamp($19/1000.0)::TIMESTAMP,$20,$21,$22)`,
      [f.id, f.type, f.severity, f.title, f.account, f.region, f.instanceId, f.userName, f.api, f.actionType, f.remoteIp, f.country, f.city, f.lat, f.lon, f.port, f.role, first ?? 0, f.lastSeen ?? 0, BigInt(Math.round(f.count)), JSON.stringify(history), f.json] as DuckDBValue[],
    );
  }

  /** Drops flows, alerts and object health rows older than the retention settings. */
  applyRetention(now: Date): Promise<void> {
    return this.#exclusive(() => this.#applyRetention(now));
  }

  async #applyRetention(now: Date): Promise<void> {
    if (this.#cfg.flowRetentionDays > 0) await this.#conn.run(`DELETE FROM flows WHERE ts < $1::TIMESTAMP - INTERVAL (${this.#cfg.flowRetentionDays}) DAY`, [now.toISOString()]);
    if (this.#cfg.alertRetentionDays > 0) {
      await this.#conn.run(`DELETE FROM alerts WHERE ts < $1::TIMESTAMP - INTERVAL (${this.#cfg.alertRetentionDays}) DAY`, [now.toISOString()]);
      // ingestion health per object: the same horizon (the table would otherwise grow with every object ever read)
      await this.#conn.run(`DELETE FROM objects WHERE processed_at < $1::TIMESTAMP - INTERVAL (${this.#cfg.alertRetentionDays}) DAY`, [now.toISOString()]);
    }
  }

  /**
   * Runs a read query with positional parameters; rows as plain JSON values. Reads (the dashboard's) go
   * through their own connection, so a long query never holds up the collector's commits on the writer's.
   */
  async query(sql: string, params: (string | number | null)[] = []): Promise<Row[]> {
    while (this.#reopening) await this.#reopening;
    if (this.#lost) throw new Error(`the store ${this.#path} is closed: opening it again failed; the collector retries at its next write`);
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
  /** flow rows committed since the database was opened (see REOPEN_ROWS) */
  #rowsSinceOpen = 0;

  /**
   * Closes and opens the database again, between commits (nothing uncommitted is held; ~40 ms). While open,
   * DuckDB holds memory outside <memory_limit_mb> that grows with what was written: the collector's RSS rose
   * from 313 to 345 MB over 100M records in one opening, and from 307 to 326 MB when opened again every 10M.
   * Reads wait for the reopen; it waits for the reads in flight.
   */
  async #reopen(): Promise<void> {
    let release!: () => void;
    this.#reopening = new Promise<void>((r) => (release = r));
    try {
      if (this.#readers > 0) await new Promise<void>((r) => (this.#readersDone = r));
      this.#readersDone = undefined;
      if (!this.#lost) await this.#closeDatabase();
      this.#lost = true;
      this.#instance = await this.#open(this.#path, this.#settings);
      this.#conn = await this.#instance.connect();
      this.#reader = undefined;
      this.#lost = false;
      this.#rowsSinceOpen = 0;
      this.#openings++;
    } finally {
      this.#reopening = undefined;
      release();
    }
  }

  #reader: Promise<DuckDBConnection> | undefined;

  /** how many times the database was opened by this store (see #reopen) */
  get openings(): number {
    return this.#openings;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#exclusive(() => this.#closeDatabase());
  }

  /** Closes appenders, connections and the database (after a flush: nothing is left uncommitted). */
  async #closeDatabase(): Promise<void> {
    this.#flowAppender?.closeSync();
    this.#flowAppender = undefined;
    this.#flows = undefined;
    (await this.#openAppender)?.closeSync();
    this.#openAppender = undefined;
    (await this.#reader)?.closeSync();
    this.#reader = undefined;
    this.#conn.closeSync();
    this.#instance.closeSync();
  }
}

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

export interface OpenOptions {
  /** for a dashboard next to no writer */
  readOnly?: boolean;
  /** tests: open the database again after that many flow rows instead of REOPEN_ROWS, with this function */
  reopenRows?: number;
  reopen?: typeof reopenDatabase;
}

/** Opens (creating) the store of a data directory. */
export async function openStore(dataDir: string, cfg: StoreConfig, opts: OpenOptions = {}): Promise<EmbeddedStore> {
  const dir = join(dataDir, 'store');
  if (!opts.readOnly) mkdirSync(dir, { recursive: true });
  const settings: Record<string, string> = opts.readOnly ? { access_mode: 'READ_ONLY' } : {};
  if (cfg.memoryLimitMb !== undefined) settings.memory_limit = `${cfg.memoryLimitMb}MB`;
  const path = join(dir, 'tld.duckdb');
  const instance = await DuckDBInstance.create(path, settings);
  const conn = await instance.connect();
  if (opts.readOnly) return new EmbeddedStore(instance, conn, cfg, true, { path, settings, reopenRows: Infinity, reopen: reopenDatabase });
  for (const sql of SCHEMA) await conn.run(sql);
  // rows of objects whose read was cut off by a crash after part of them was committed: they are read again
  await conn.run('DELETE FROM flows WHERE object_id IN (SELECT object_id FROM open_objects)');
  await conn.run('DELETE FROM open_objects');
  return new EmbeddedStore(instance, conn, cfg, false, { path, settings, reopenRows: opts.reopenRows ?? REOPEN_ROWS, reopen: opts.reopen ?? reopenDatabase });
}
