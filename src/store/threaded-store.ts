/**
 * The embedded store on a thread of its own: DuckDB's appends and commits (a quarter of the collector's time when
 * they shared its thread) run beside decoding instead of in turn with it. Same API as the in-process Store; the
 * rows of each batch are taken out of the events here (store-rows.ts) and posted, numbers transferred, not
 * copied. Ingests are pipelined: `ingestRows` returns once the thread has room (at most MAX_INFLIGHT_ROWS
 * waiting), and a failed ingest fails the next `flush`, which the pipeline's commit awaits before marking
 * anything processed.
 */
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startThread } from '../shared/threads.js';
import type { StoreConfig } from '../config/types.js';
import type { Alert, EventBatch } from '../shared/events.js';
import type { ObjectHealth, Store } from './index.js';
import { storeRowsOf, transferablesOf, type StoreRows } from './store-rows.js';

type Row = Record<string, unknown>;

export type StoreCall =
  | { op: 'ingestRows'; rows: StoreRows }
  | { op: 'recordObject'; info: ObjectHealth }
  | { op: 'discardObject'; object: { objectId: string; bucket: string; key: string } }
  | { op: 'flush' }
  | { op: 'applyRetention'; now: Date }
  | { op: 'close' }
  | { op: 'query'; sql: string; params: (string | number | null)[] };

export type StoreRequest = StoreCall & { id: number };

export type StoreReply = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: { message: string; name: string } });

/** flow rows posted and not yet appended by the thread, at most (then `ingest` waits) */
const MAX_INFLIGHT_ROWS = 200_000;

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  rows: number;
}

export class ThreadedStore implements Store {
  readonly readOnly = false;
  readonly path: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #inflightRows = 0;
  #roomWaiters: (() => void)[] = [];
  /** a pipelined ingest that failed: the next flush (or ingest) throws it */
  #ingestError: Error | undefined;
  /** the thread died: every call fails with this */
  #dead: Error | undefined;

  private constructor(worker: Worker, path: string) {
    this.#worker = worker;
    this.path = path;
    worker.on('message', (m: StoreReply) => this.#settle(m));
    worker.on('error', (e) => this.#die(new Error(`the store's thread failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => this.#die(new Error(`the store's thread stopped (exit code ${code})`)));
  }

  /** Starts the thread and opens the store there; rejects with the reason the store could not be opened. */
  static async open(dataDir: string, cfg: StoreConfig, opts: { reopenRows?: number } = {}): Promise<ThreadedStore> {
    const worker = startThread(import.meta.url, 'store-thread', { workerData: { dataDir, cfg, ...opts } });
    const opened = await new Promise<StoreReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (!opened.ok) {
      await worker.terminate();
      throw new Error(opened.error.message);
    }
    return new ThreadedStore(worker, join(dataDir, 'store', 'tld.duckdb'));
  }

  #die(e: Error): void {
    this.#dead ??= e;
    for (const p of this.#pending.values()) p.reject(this.#dead);
    this.#pending.clear();
    for (const w of this.#roomWaiters.splice(0)) w();
  }

  #settle(m: StoreReply): void {
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (p.rows > 0) {
      this.#inflightRows -= p.rows;
      if (this.#inflightRows <= MAX_INFLIGHT_ROWS / 2) for (const w of this.#roomWaiters.splice(0)) w();
    }
    if (m.ok) p.resolve(m.value);
    else p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
  }

  #call<T>(request: StoreCall, transfer: ArrayBuffer[] = [], rows = 0): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, rows });
      this.#inflightRows += rows;
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  /** Takes the batch's rows out of its events and posts them; resolves once the thread has room for more. */
  ingest(batch: EventBatch, alerts: Alert[]): Promise<void> {
    return this.ingestRows(storeRowsOf(batch, alerts));
  }

  async ingestRows(rows: StoreRows): Promise<void> {
    if (this.#ingestError) throw this.#ingestError;
    if (this.#dead) throw this.#dead;
    const n = Math.max(1, rows.flows?.rows ?? 0);
    this.#call<void>({ op: 'ingestRows', rows }, transferablesOf(rows), n).catch((e: Error) => {
      this.#ingestError ??= e;
    });
    if (this.#inflightRows > MAX_INFLIGHT_ROWS) await new Promise<void>((r) => this.#roomWaiters.push(r));
  }

  recordObject(info: ObjectHealth): void {
    void this.#call<void>({ op: 'recordObject', info }).catch((e: Error) => {
      this.#ingestError ??= e;
    });
  }

  async discardObject(object: { objectId: string; bucket: string; key: string }): Promise<void> {
    await this.#call<void>({ op: 'discardObject', object: { objectId: object.objectId, bucket: object.bucket, key: object.key } });
  }

  /** Commits everything sent so far; throws what failed since the last flush. */
  async flush(): Promise<void> {
    await this.#call<void>({ op: 'flush' });
    const e = this.#ingestError;
    if (e) {
      this.#ingestError = undefined;
      throw e;
    }
  }

  applyRetention(now: Date): Promise<unknown> {
    return this.#call({ op: 'applyRetention', now });
  }

  query(sql: string, params: (string | number | null)[] = []): Promise<Row[]> {
    return this.#call<Row[]>({ op: 'query', sql, params });
  }

  async close(): Promise<void> {
    if (this.#dead) return;
    try {
      await this.#call<void>({ op: 'close' });
    } finally {
      await this.#worker.terminate();
    }
  }
}
