/**
 * The embedded store on a thread of its own: DuckDB's appends and commits (a quarter of the collector's time when
 * they shared its thread) run beside decoding instead of in turn with it. Same API as the in-process Store; the
 * rows of each batch are taken out of the events here (store-rows.ts) and posted, numbers transferred, not copied.
 *
 * The thread runs writes strictly in the order they were posted, reads at once. Ingests are pipelined:
 * `ingestRows` returns once the thread has room (at most MAX_INFLIGHT_BYTES posted and not yet applied), not
 * once its rows are appended. So that no object is ever marked processed without its rows, a posted write that
 * failed (an ingest, a health row) is held against the store until one of these reports or undoes it:
 * - a `flush` posted after it fails with it (the pipeline then marks nothing of that group and takes back
 *   every object not yet durable), whatever that flush's own outcome;
 * - a `discardObject` of the same object posted after it takes its rows back (a retried read, a rollback);
 * until then every `ingestRows` fails with it too, so the collector stops reading instead of piling work on a
 * broken store. A thread that dies fails every call, pending and later, with an error naming the store.
 */
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as workerThreads from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { startThread } from '../shared/threads.js';
import { storeThreadHeapMb } from './thread-heap.js';
import type { StoreConfig } from '../config/types.js';
import type { Alert, EventBatch } from '../shared/events.js';
import type { ObjectHealth, Store } from './index.js';
import { storeRowsOf, type StoreRows } from './store-rows.js';

type Row = Record<string, unknown>;
type ObjectName = { objectId: string; bucket: string; key: string };

export type StoreCall =
  | { op: 'ingestRows'; rows: StoreRows }
  | { op: 'recordObject'; info: ObjectHealth }
  | { op: 'discardObject'; object: ObjectName }
  | { op: 'flush' }
  | { op: 'applyRetention'; now: Date }
  | { op: 'close' }
  | { op: 'query'; sql: string; params: (string | number | null)[] };

export type StoreRequest = StoreCall & { id: number };

export type StoreReply = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: { message: string; name: string } });

/**
 * Bytes of rows posted and not yet applied by the thread, at most (then `ingestRows` waits). The thread holds them
 * as messages (strings copied into its heap); 4 MiB is ~16k flow rows, about half a second of the collector's
 * decoding, longer than the thread's commits, so the collector rarely waits, and memory stays bounded whatever the
 * batch sizes (500k records in 1k-record objects: peak RSS 284 MB with 16 MiB and V8's default young generation
 * for the thread, 265 MB with 4 MiB and its 8 MB young generation).
 */
const MAX_INFLIGHT_BYTES = 4 * 2 ** 20;

/**
 * The thread's young generation, MB: what it allocates is short-lived (each batch's rows, until appended), so a small
 * one serves it. Its old generation's bound: thread-heap.ts.
 */
const YOUNG_MB = 8;

/**
 * Node 21+ refuses to transfer a buffer marked untransferable (Buffer's shared pool: a small Buffer.from or
 * allocUnsafe); Node 20 copies it instead and has no way to ask. Such a buffer is left out of the transfer list
 * (it is copied, as any other value).
 */
const untransferable: (b: ArrayBuffer) => boolean = (workerThreads as { isMarkedAsUntransferable?: (o: unknown) => boolean }).isMarkedAsUntransferable ?? (() => false);

/**
 * What posting a batch's rows costs: every ArrayBuffer behind a typed array (or DataView, Buffer) among its
 * values, once each, to transfer instead of copying, and an estimate of the bytes the thread will hold. Found by
 * walking the rows, not by naming their fields: the columns' layout changes (IPv4 as numbers, text as offsets
 * into bytes) without this file knowing.
 */
function measure(rows: StoreRows): { transfer: ArrayBuffer[]; bytes: number } {
  const transfer = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  let bytes = 0;
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      bytes += 16 + v.length;
      return;
    }
    if (typeof v !== 'object' || v === null) {
      bytes += 8;
      return;
    }
    if (seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      const b = v.buffer;
      if (b instanceof ArrayBuffer && !transfer.has(b)) {
        bytes += b.byteLength;
        if (b.byteLength > 0 && !untransferable(b)) transfer.add(b);
      }
      return;
    }
    // arrays included (a column of strings costs one look per row, a few microseconds a batch)
    for (const item of Array.isArray(v) ? v : Object.values(v)) walk(item);
  };
  walk(rows.flows);
  walk(rows.findings);
  walk(rows.alerts);
  return { transfer: [...transfer], bytes };
}

/** The buffers of a batch's flow columns to transfer (not copy) when its rows are posted to the store's thread. */
export function transferablesOf(rows: StoreRows): ArrayBuffer[] {
  return measure({ ...rows, findings: [], alerts: [] }).transfer;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  bytes: number;
}

/** A posted write that failed, not yet reported by a flush or undone by a discard of its object. */
interface Failure {
  id: number;
  object: string;
  error: Error;
}

/** Stores open in this process, by real path: DuckDB's file lock is per process and does not refuse a second opening here. */
const openHere = new Set<string>();

const objectName = (o: { bucket: string; key: string }) => `${o.bucket}\n${o.key}`;

export class ThreadedStore implements Store {
  readonly readOnly = false;
  /** the database file, for error messages */
  readonly path: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #inflightBytes = 0;
  #roomWaiters: (() => void)[] = [];
  #failures: Failure[] = [];
  /** the thread is gone (died, or closed): every call fails with this */
  #dead: Error | undefined;
  #closing = false;
  readonly #registered: string;

  private constructor(worker: Worker, path: string, registered: string, heapMb: number) {
    this.#worker = worker;
    this.path = path;
    this.#registered = registered;
    worker.on('message', (m: StoreReply) => this.#settle(m));
    worker.on('error', (e) => this.#die((e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? `its thread used all of its ${heapMb} MB of heap (raise TLD_STORE_HEAP_MB)` : `its thread failed: ${e.message}`, e));
    worker.on('exit', (code) => this.#die(this.#closing ? 'it is closed' : `its thread stopped (exit code ${code})`));
  }

  /**
   * Starts the thread and opens the store of `dataDir` there; rejects with why it could not be opened. Refuses a
   * second opening of the same store in this process (two DuckDB instances of one file in one process corrupt it).
   */
  static async open(dataDir: string, cfg: StoreConfig, opts: { reopenRows?: number; resourceLimits?: workerThreads.ResourceLimits } = {}): Promise<ThreadedStore> {
    const path = join(resolve(dataDir), 'store', 'tld.duckdb');
    let registered: string;
    try {
      registered = realpathSync(resolve(dataDir));
    } catch {
      registered = resolve(dataDir);
    }
    // before anything starts: a bad TLD_STORE_HEAP_MB is refused with what to set
    const limits: workerThreads.ResourceLimits = { maxYoungGenerationSizeMb: YOUNG_MB, maxOldGenerationSizeMb: storeThreadHeapMb(), ...opts.resourceLimits };
    if (openHere.has(registered)) {
      throw new Error(`the store ${path} is already open in this process: use that store (tld start's dashboard queries it) instead of opening it again`);
    }
    openHere.add(registered);
    try {
      const { resourceLimits: _limits, ...threadOpts } = opts;
      const worker = startThread(import.meta.url, 'store-thread', { workerData: { dataDir, cfg, ...threadOpts }, resourceLimits: limits });
      const opened = await new Promise<StoreReply>((done, fail) => {
        worker.once('message', done);
        worker.once('error', fail);
        worker.once('exit', (code) => fail(new Error(`its thread stopped (exit code ${code}) before opening it`)));
      }).catch((e: Error): StoreReply => ({ id: 0, ok: false, error: { message: e.message, name: e.name } }));
      if (!opened.ok) {
        await worker.terminate();
        throw new Error(explainOpenError(path, opened.error.message));
      }
      return new ThreadedStore(worker, path, registered, limits.maxOldGenerationSizeMb as number);
    } catch (e) {
      openHere.delete(registered);
      throw e;
    }
  }

  #die(reason: string, cause?: Error): void {
    if (!this.#dead) {
      const next = this.#closing ? '' : ': nothing written since its last commit was marked processed; restart tld (those objects are read again)';
      this.#dead = new Error(`the store ${this.path} cannot be used: ${reason}${next}`, cause ? { cause } : {});
      openHere.delete(this.#registered);
    }
    for (const p of this.#pending.values()) p.reject(this.#dead);
    this.#pending.clear();
    this.#inflightBytes = 0;
    for (const w of this.#roomWaiters.splice(0)) w();
  }

  #settle(m: StoreReply): void {
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (p.bytes > 0) {
      this.#inflightBytes -= p.bytes;
      if (this.#inflightBytes <= MAX_INFLIGHT_BYTES / 2) for (const w of this.#roomWaiters.splice(0)) w();
    }
    if (m.ok) p.resolve(m.value);
    else p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
  }

  /** Posts a call; its id orders it among the writes (the thread runs them in id order). */
  #post<T>(request: StoreCall, transfer: ArrayBuffer[] = [], bytes = 0): { id: number; done: Promise<T> } {
    const id = this.#next++;
    if (this.#dead) return { id, done: Promise.reject(this.#dead) };
    const done = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, bytes });
      this.#inflightBytes += bytes;
      this.#worker.postMessage({ ...request, id }, transfer);
    });
    return { id, done };
  }

  /** A write whose outcome nobody awaits: its failure is held until reported by a flush or undone by a discard. */
  #postDetached(request: StoreCall, object: string, transfer?: ArrayBuffer[], bytes?: number): void {
    const { id, done } = this.#post<void>(request, transfer, bytes);
    done.catch((error: Error) => {
      if (!this.#dead || error !== this.#dead) this.#failures.push({ id, object, error });
    });
  }

  /** Throws when the store cannot take more work: its thread is gone, or a posted write failed and is not yet undone. */
  #check(): void {
    if (this.#dead) throw this.#dead;
    const f = this.#failures[0];
    if (f) throw f.error;
  }

  /** Takes the batch's rows out of its events and posts them; resolves once the thread has room for more. */
  ingest(batch: EventBatch, alerts: Alert[]): Promise<void> {
    return this.ingestRows(storeRowsOf(batch, alerts));
  }

  async ingestRows(rows: StoreRows): Promise<void> {
    this.#check();
    const { transfer, bytes } = measure(rows);
    this.#postDetached({ op: 'ingestRows', rows }, objectName(rows.object), transfer, Math.max(1, bytes));
    while (this.#inflightBytes > MAX_INFLIGHT_BYTES && !this.#dead) await new Promise<void>((r) => this.#roomWaiters.push(r));
    this.#check();
  }

  recordObject(info: ObjectHealth): void {
    this.#postDetached({ op: 'recordObject', info }, objectName(info));
  }

  /** Takes back what was posted for the object (after everything posted before); undoes its failed writes. */
  async discardObject(object: ObjectName): Promise<void> {
    const { id, done } = this.#post<void>({ op: 'discardObject', object: { objectId: object.objectId, bucket: object.bucket, key: object.key } });
    await done;
    const name = objectName(object);
    this.#failures = this.#failures.filter((f) => f.id > id || f.object !== name);
  }

  /**
   * Commits everything posted before it. Fails when the commit fails, or when a write posted before it failed
   * (reported once: the pipeline then takes back every object not yet durable).
   */
  async flush(): Promise<void> {
    const { id, done } = this.#post<void>({ op: 'flush' });
    let failed: unknown;
    await done.catch((e: unknown) => (failed = e));
    // failures arrive in id order, each before the reply of any later write, so this flush sees all before it
    const before = this.#failures.filter((f) => f.id < id);
    this.#failures = this.#failures.filter((f) => f.id > id);
    if (failed !== undefined) throw failed;
    if (before.length > 0) {
      const e = before[0]!.error;
      const more = before.length > 1 ? ` (and ${before.length - 1} other write${before.length === 2 ? '' : 's'} since the last commit)` : '';
      throw new Error(`a write to the store ${this.path} failed: ${e.message}${more}`, { cause: e });
    }
  }

  async applyRetention(now: Date): Promise<unknown> {
    return this.#post({ op: 'applyRetention', now }).done;
  }

  query(sql: string, params: (string | number | null)[] = []): Promise<Row[]> {
    return this.#post<Row[]>({ op: 'query', sql, params }).done;
  }

  /** Commits what is pending and closes the database; the thread ends. A store whose thread died closes quietly. */
  async close(): Promise<void> {
    if (this.#dead) return;
    this.#closing = true;
    try {
      await this.#post<void>({ op: 'close' }).done;
    } finally {
      await this.#worker.terminate();
      openHere.delete(this.#registered);
    }
  }
}

/** What to do when the store cannot be opened, from DuckDB's message. */
function explainOpenError(path: string, message: string): string {
  const lock = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message);
  if (lock || /Could not set lock/i.test(message)) {
    const holder = lock ? ` (PID ${lock[2]}, ${lock[1]})` : '';
    return `the store ${path} is in use by another process${holder}. One process writes it: stop that one (a tld dashboard, or another collector on this data folder; tld start serves the dashboard itself) and start again. DuckDB said: ${message}`;
  }
  return `the store ${path} could not be opened: ${message}. Check that the data folder is writable and that ${path} is a DuckDB file (move away anything else there); the store is created when missing.`;
}
