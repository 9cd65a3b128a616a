/**
 * Owns the `flows` table's writes and what makes them exactly-once: the appender and its chunk writer, the
 * commits (every COMMIT_ROWS rows, and at each flush), the bookkeeping of objects being read (how many rows,
 * their time range), `open_objects` (objects with rows committed while still being read: a crash takes them
 * back on the next open), the interface dictionary's new entries (written before the flows that use them),
 * and the deletes that take an object's rows back (a re-read replaces its earlier rows; a discarded read goes).
 * Every change marks the rollup hours it touches first (rollups.ts): a commit the hours of its rows, a delete
 * the hours of the rows it takes.
 */
import type { DuckDBAppender } from '@duckdb/node-api';
import type { EventBatch } from '../shared/events.js';
import type { StoreDatabase } from './database.js';
import { FlowChunkWriter } from './flow-chunk-writer.js';
import type { EarlierRead, Reading } from './health-rows.js';
import { InterfaceDictionary } from './interface-dictionary.js';
import { objectKey } from './addresses.js';
import { put, sqlTimestamp } from './sql.js';
import { HOUR_MS, markRowsDirty, type FlowRollups } from './rollups.js';
import type { FlowColumns } from './store-rows.js';

/**
 * Flow rows per commit at most: one DuckDB row group. A commit of whole row groups is written compressed
 * straight to the database file; a smaller one goes through the write-ahead log first and is compressed again
 * at the next checkpoint (and one of 100,000 rows or more makes DuckDB checkpoint at once, rewriting the last
 * partly filled row group): 122,880-row commits ingested about 1.4× the rows per CPU second of 100,000-row ones
 * and stored them in fewer bytes (bench/exp measurements in docs/architecture.md).
 */
export const COMMIT_ROWS = 122_880;

/** `reading` is keyed by bucket + newline + key (bucket names have no newline; keys may). */
export const readingKey = (o: { bucket: string; key: string }) => `${o.bucket}\n${o.key}`;

export class FlowWriter {
  readonly #db: StoreDatabase;
  readonly #rollups: FlowRollups;
  /** hours (floor(ms / HOUR_MS)) of the rows handed since the last commit */
  readonly #hours = new Set<number>();
  readonly #interfaces = new InterfaceDictionary();
  /** open appender of the flows table and the chunk writer that feeds it (rows are committed by `commit`) */
  #appender: DuckDBAppender | undefined;
  #chunks: FlowChunkWriter | undefined;
  #openAppender: Promise<DuckDBAppender> | undefined;
  /** objects with flow rows handed to the writer and no health row yet, by readingKey */
  readonly #reading = new Map<string, Reading>();
  /** of those, the ids already listed in open_objects; and ids to take off that list at the next flush */
  readonly #listedOpen = new Set<bigint>();
  #closed: bigint[] = [];
  /** interface numbers of the batch being added */
  #iface = new Uint32Array(0);

  constructor(db: StoreDatabase, rollups: FlowRollups) {
    this.#db = db;
    this.#rollups = rollups;
    db.onClose(async () => {
      this.#appender?.closeSync();
      this.#appender = undefined;
      this.#chunks = undefined;
      (await this.#openAppender)?.closeSync();
      this.#openAppender = undefined;
    });
  }

  /** Reads what the writer keeps in memory from the database (on open and after each reopen). */
  async load(): Promise<void> {
    await this.#interfaces.reload(this.#db.conn);
  }

  /**
   * An object read before (committed: it has a health row; the health row is written before its flows) or
   * replayed: its earlier rows go before the new ones come. The health rows say how many flow rows it had and
   * their time range, so the delete reads only the row groups of that range instead of every stored flow.
   */
  async replaceEarlierRead(object: EventBatch['object'], earlier: EarlierRead[]): Promise<void> {
    if (earlier.length === 0 && !object.replayed) return;
    const withFlows = earlier.filter((r) => r.flowRows === null || r.flowRows > 0);
    if (earlier.length > 0 && withFlows.length === 0) return; // read before, with no flow rows
    const bounded = withFlows.length > 0 && withFlows.every((r) => r.first !== null && r.last !== null);
    await this.#drop(objectKey(object.objectId), bounded ? { first: Math.min(...withFlows.map((r) => r.first!)), last: Math.max(...withFlows.map((r) => r.last!)) } : undefined);
  }

  /** Deletes an object's flow rows, only in the given time range when it is known (see replaceEarlierRead). */
  async #drop(id: bigint, range?: { first: number; last: number }): Promise<void> {
    const within = range ? ` AND ts BETWEEN ${sqlTimestamp(range.first)} AND ${sqlTimestamp(range.last)}` : '';
    if (range) await this.#rollups.markRange(this.#db.conn, range.first, range.last);
    else await markRowsDirty(this.#db.conn, `object_id = ${id}`);
    await this.#db.conn.run(`DELETE FROM flows WHERE object_id = ${id}${within}`);
  }

  /** Hands a batch's flow rows to the appender, committing every COMMIT_ROWS rows. */
  async add(object: EventBatch['object'], flows: FlowColumns): Promise<void> {
    const key = readingKey(object);
    let reading = this.#reading.get(key);
    if (reading === undefined) {
      reading = { id: objectKey(object.objectId), rows: 0, first: Infinity, last: -Infinity, untimed: false };
      this.#reading.set(key, reading);
    }
    const start = flows.start;
    let hour = NaN;
    const hours = new Set<number>();
    for (let r = 0; r < flows.rows; r++) {
      const t = start[r]!;
      if (t !== t) reading.untimed = true;
      else {
        if (t < reading.first) reading.first = t;
        if (t > reading.last) reading.last = t;
        // rows of a batch mostly share their hour: the set is touched when it changes
        const h = Math.floor(t / HOUR_MS);
        if (h !== hour) hours.add((hour = h));
      }
    }
    reading.rows += flows.rows;
    for (const h of hours) this.#hours.add(h);
    if (this.#iface.length < flows.rows) this.#iface = new Uint32Array(flows.rows);
    this.#interfaces.idsOf(flows.places, flows.place, flows.rows, this.#iface);
    let w = await this.#writer();
    for (let r = 0; r < flows.rows; ) {
      const room = COMMIT_ROWS - w.handedRows - w.pendingRows;
      if (room <= 0) {
        await this.commit();
        // the rest of the batch is committed later: its hours are marked again then (a refresh may come between)
        for (const h of hours) this.#hours.add(h);
        w = await this.#writer();
        continue;
      }
      const n = Math.min(room, flows.rows - r);
      w.add(reading.id, flows, r, r + n, this.#iface.subarray(r));
      r += n;
    }
  }

  async #writer(): Promise<FlowChunkWriter> {
    if (this.#chunks) return this.#chunks;
    this.#appender = await this.#db.conn.createAppender('flows');
    return (this.#chunks = new FlowChunkWriter(this.#appender));
  }

  /**
   * Commits the flow rows handed so far (they are visible to queries after this). Objects still being read
   * whose rows this commits are put on the open list first, so that a crash before their own commit takes
   * their rows back on the next open instead of leaving them to be stored twice; new interface numbers are
   * written first too.
   */
  async commit(): Promise<void> {
    const w = this.#chunks;
    if (!w || w.handedRows + w.pendingRows === 0) return;
    await this.#interfaces.write(this.#db.conn);
    // before the rows become visible: a reader then treats their hours as raw until they are refreshed
    await this.#rollups.markHours(this.#db.conn, this.#hours);
    this.#hours.clear();
    const a = await (this.#openAppender ??= this.#db.conn.createAppender('open_objects'));
    // from here to the commit nothing awaits, so no rows arrive for an object missing from the list
    const open = [...this.#reading.values()].map((r) => r.id).filter((id) => !this.#listedOpen.has(id));
    if (open.length) {
      for (const id of open) {
        put(a, id, 'u');
        a.endRow();
        this.#listedOpen.add(id);
      }
      a.flushSync();
      // an object read again after a discard is listed anew: the delete of its old listing must not take this one
      this.#closed = this.#closed.filter((id) => !this.#listedOpen.has(id));
    }
    w.flush();
    this.#appender!.flushSync();
    this.#db.rowsSinceOpen += w.handedRows;
    w.committed();
  }

  /**
   * The object's read is over (committed or taken back): it leaves the open list at the next flush. Returns
   * what was read of it.
   */
  closeReading(o: { bucket: string; key: string }): Reading | undefined {
    const key = readingKey(o);
    const reading = this.#reading.get(key);
    if (reading === undefined) return undefined;
    this.#reading.delete(key);
    if (this.#listedOpen.delete(reading.id)) this.#closed.push(reading.id);
    return reading;
  }

  /** Takes the objects whose reads are over off the open list (after their rows are committed). */
  async unlistClosed(): Promise<void> {
    if (this.#closed.length === 0) return;
    await this.#db.conn.run(`DELETE FROM open_objects WHERE object_id IN (${this.#closed.join(',')})`);
    this.#closed = [];
  }

  /** Takes back the flow rows of an object whose read failed midway or whose commit failed (it is read again). */
  async discard(object: { objectId: string; bucket: string; key: string }): Promise<void> {
    await this.commit();
    const reading = this.closeReading(object);
    // a read stopped before its first flow row has no time range (its bounds are still ±Infinity)
    await this.#drop(objectKey(object.objectId), reading && !reading.untimed && reading.rows > 0 ? reading : undefined);
  }
}
