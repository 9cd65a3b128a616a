/**
 * Owns the `objects` table: one ingestion health row per object read (status, counts, and the count and time
 * range of its flow rows, which a later re-read uses to delete them cheaply). Health rows wait for the next
 * flush; an object read again (after a crash between the store commit and its mark, or a replay) keeps one
 * row: the older one is deleted after the new one is committed.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { EventBatch } from '../shared/events.js';
import { KeyFilter } from './key-filter.js';
import { put, sqlString, sqlTimestamp, ts } from './sql.js';

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

/** Flow rows of an object being read: how many, and the range of their record times (for a later re-read). */
export interface Reading {
  /** objectKey of the object (the flows table's object_id) */
  id: bigint;
  rows: number;
  first: number;
  last: number;
  /** a row without a record time: a re-read must then delete without a time range */
  untimed: boolean;
}

/** An earlier read of an object, from its health row. */
export interface EarlierRead {
  flowRows: number | null;
  first: number | null;
  last: number | null;
}

/** keys per lookup of objects that sent no batch */
const LOOKUP_KEYS = 1000;

export class HealthRows {
  #pending: ObjectHealth[] = [];
  /**
   * `bucket\nkey` → whether the object had a health row when its first batch came (see earlierReads);
   * a re-read's older health row is deleted once the new one is written, so each object counts once.
   */
  readonly #readBefore = new Map<string, boolean>();
  /** keys with a health row, built from the table when the writer opens (and again, larger, once it fills up) */
  #filter: KeyFilter | undefined;

  record(info: ObjectHealth): void {
    this.#pending.push(info);
  }

  /** The object will be read again: its health row, if still waiting, is not written. */
  discard(bucket: string, key: string): void {
    this.#pending = this.#pending.filter((o) => o.bucket !== bucket || o.key !== key);
    this.#readBefore.delete(`${bucket}\n${key}`);
  }

  /**
   * The health rows of earlier reads of an object (asked at its first batch). A literal key and no other
   * condition: that is what DuckDB answers from the index on objects.key (a parameter, or a second condition,
   * makes it scan every object ever read). The bucket is checked here.
   */
  async earlierReads(conn: DuckDBConnection, object: EventBatch['object']): Promise<EarlierRead[]> {
    if (!(await this.#keys(conn)).mayHave(object.key)) {
      this.#readBefore.set(`${object.bucket}\n${object.key}`, false);
      return [];
    }
    const earlier = (await conn.runAndReadAll(`SELECT bucket, flow_rows, epoch_ms(first_ts) AS first, epoch_ms(last_ts) AS last FROM objects WHERE key = ${sqlString(object.key)}`))
      .getRowObjectsJson()
      .filter((r) => r.bucket === object.bucket);
    this.#readBefore.set(`${object.bucket}\n${object.key}`, earlier.length > 0);
    const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return earlier.map((r) => ({ flowRows: n(r.flow_rows), first: n(r.first), last: n(r.last) }));
  }

  async #keys(conn: DuckDBConnection): Promise<KeyFilter> {
    return this.#filter && !this.#filter.full ? this.#filter : this.loadKeys(conn);
  }

  /** Builds the filter of keys with a health row from the table (the writer's open; again once it fills up). */
  async loadKeys(conn: DuckDBConnection): Promise<KeyFilter> {
    const count = Number((await conn.runAndReadAll('SELECT count(*) AS n FROM objects')).getRowObjectsJson()[0]?.n ?? 0);
    const filter = new KeyFilter(count);
    // streamed chunk by chunk: a million keys never sit in memory at once
    const result = await conn.stream('SELECT key FROM objects');
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      for (const key of chunk.getColumnValues(0)) if (typeof key === 'string') filter.add(key);
    }
    this.#filter = filter;
    return filter;
  }

  /** The health rows waiting for the flush (taken: they are written by `write`). */
  take(): ObjectHealth[] {
    const objects = this.#pending;
    this.#pending = [];
    return objects;
  }

  /**
   * Writes health rows (committed at once), `flows[i]` being what was read of `objects[i]`'s flows, then deletes
   * the older rows of objects read again: a crash in between leaves two rows (counted once later), never none.
   */
  async write(conn: DuckDBConnection, objects: ObjectHealth[], flows: (Reading | undefined)[]): Promise<void> {
    if (objects.length === 0) return;
    const a = await conn.createAppender('objects');
    for (const [i, o] of objects.entries()) {
      const read = flows[i];
      put(a, o.bucket, 'v');
      put(a, o.key, 'v');
      put(a, o.type, 'v');
      put(a, o.status, 'v');
      put(a, o.error ?? null, 'v');
      put(a, o.records, 'b');
      put(a, o.bytes, 'b');
      put(a, ts(o.lastModified?.getTime()), 't');
      put(a, ts(o.processedAt.getTime()), 't');
      put(a, read?.rows ?? 0, 'b');
      const timed = read !== undefined && !read.untimed && read.rows > 0;
      put(a, timed ? ts(read.first) : null, 't');
      put(a, timed ? ts(read.last) : null, 't');
      put(a, read?.id ?? null, 'u');
      a.endRow();
    }
    a.flushSync();
    a.closeSync();
    for (const o of objects) this.#filter?.add(o.key);
    await this.#dropOlderRows(conn, objects);
  }

  /** Deletes the older health rows of objects read again (after a crash, a failed commit, or a replay). */
  async #dropOlderRows(conn: DuckDBConnection, objects: ObjectHealth[]): Promise<void> {
    const id = (o: { bucket: string; key: string }) => `${o.bucket}\n${o.key}`;
    // objects that sent no batch (an empty object) were not looked up on their way in: asked here, many keys per
    // query (one query per object made a flush of a million such objects take hours)
    const unknown = objects.filter((o) => !this.#readBefore.has(id(o)));
    const rowsOf = new Map<string, number>();
    for (let i = 0; i < unknown.length; i += LOOKUP_KEYS) {
      const part = unknown.slice(i, i + LOOKUP_KEYS);
      const rows = (await conn.runAndReadAll(`SELECT bucket, key, count(*)::INTEGER AS n FROM objects WHERE key IN (${[...new Set(part.map((o) => sqlString(o.key)))].join(',')}) GROUP BY bucket, key`)).getRowObjectsJson();
      for (const r of rows) rowsOf.set(`${String(r.bucket)}\n${String(r.key)}`, Number(r.n));
    }
    for (const o of objects) {
      let before = this.#readBefore.get(id(o));
      this.#readBefore.delete(id(o));
      // the new row is already in: an earlier one makes two
      if (before === undefined) before = (rowsOf.get(id(o)) ?? 0) > 1;
      if (before) await conn.run(`DELETE FROM objects WHERE key = ${sqlString(o.key)} AND bucket = ${sqlString(o.bucket)} AND processed_at < ${sqlTimestamp(o.processedAt.getTime())}`);
    }
  }
}
