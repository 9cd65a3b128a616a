/**
 * The fetch threads, seen from the collector's thread: `read` hands an object to the least busy thread and gives
 * back its content as it arrives (the same `ObjectContent` that `readContent` gives in-process), so the AWS SDK's
 * per-request work, the network wait and decompression run on other cores. The collector keeps the order: it
 * starts reads ahead (prefetch) and consumes them one object after another. `source` gives a bucket's listings,
 * folder listings and deletes to the threads as well, so the collector's thread needs no AWS SDK of its own.
 *
 * A thread that dies fails the objects it was reading (and its listings) as a transient read error (they are read
 * again, never marked bad) and is replaced.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { BucketConfig } from '../../config/types.js';
import { ObjectDecodeError, type DecodeErrorCode } from '../../decoders/index.js';
import { startThread } from '../../shared/threads.js';
import { S3AccessError, type S3ErrorCode } from './errors.js';
import type { FetchFailure, FlowDecodeRequest, FromFetchThread, ListedWire, ToFetchThread } from './fetch-messages.js';
import type { ListedObject, ObjectSource } from './client.js';
import type { FlowBatch } from '../../decoders/vpcflow/flow-batch.js';
import type { RecordErrors } from './decode-object.js';
import { TransientReadError, type ContentRequest, type ObjectContent } from './read-object.js';

interface Thread {
  worker: Worker;
  /** streams being read on it */
  open: Set<number>;
  /** keys of the bucket configurations it was sent */
  buckets: Set<number>;
}

/** A piece of a stream: content bytes, or a decoded batch; `bytes` is acknowledged once it is consumed. */
type Item = { chunk: Uint8Array; bytes: number } | { batch: FlowBatch; bytes: number };

interface Stream {
  thread: Thread;
  items: Item[];
  ended: boolean;
  recordErrors: RecordErrors | undefined;
  error: Error | undefined;
  wake: (() => void) | undefined;
  onBytes: (n: number) => void;
}

/** A listing, folder listing or delete asked of a thread: it takes the thread's answers and its death. */
interface Request {
  thread: Thread;
  receive(m: FromFetchThread): void;
  fail(e: Error): void;
}

/** A VPC object being read as FlowBatches (see `FetchPool.readFlows`). */
export interface FlowContent {
  /** throws TransientReadError, S3AccessError or ObjectDecodeError, after the batches decoded before the failure */
  batches: AsyncIterable<FlowBatch>;
  discard(): void;
  /** records that could not be read (complete once `batches` ended) */
  recordErrors(): RecordErrors;
}

/**
 * The fetch threads a `<workers>` setting asks for: 0 means one per core but one (the collector's thread and the
 * store's take the last core), at least one.
 */
export function fetchThreadCount(workers: number, cores = availableParallelism()): number {
  return workers > 0 ? workers : Math.max(1, cores - 1);
}

function errorOf(f: FetchFailure): Error {
  switch (f.kind) {
    case 'access':
      return new S3AccessError(f.code as S3ErrorCode, f.message);
    case 'transient':
      return new TransientReadError(f.message);
    case 'decode':
      return new ObjectDecodeError(f.code as DecodeErrorCode, f.message);
    case 'other':
      return new Error(f.message);
  }
}

export class FetchPool {
  readonly #threads: Thread[] = [];
  readonly #streams = new Map<number, Stream>();
  readonly #requests = new Map<number, Request>();
  /** a key per bucket configuration: by object, and by content (a queue worker makes one per announced object) */
  readonly #bucketKeys = new WeakMap<BucketConfig, number>();
  readonly #bucketsByContent = new Map<string, number>();
  #next = 1;
  #closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.#threads.push(this.#start());
  }

  #start(): Thread {
    // a fetch thread holds little JavaScript (the SDK's requests, pieces in flight): a small heap keeps RSS low
    const worker = startThread(import.meta.url, 'fetch-thread', { resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 } });
    const thread: Thread = { worker, open: new Set(), buckets: new Set() };
    // an idle thread does not keep the process alive; one reading an object does
    worker.unref();
    worker.on('message', (m: FromFetchThread) => this.#receive(m));
    const died = (why: string) => {
      const at = this.#threads.indexOf(thread);
      if (at < 0) return;
      for (const id of thread.open) this.#fail(id, new TransientReadError(`the fetch thread reading it stopped (${why})`));
      thread.open.clear();
      if (this.#closed) this.#threads.splice(at, 1);
      else this.#threads[at] = this.#start();
    };
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    return thread;
  }

  #receive(m: FromFetchThread): void {
    const r = this.#requests.get(m.id);
    if (r) return r.receive(m);
    if (m.op === 'listed' || m.op === 'answer') return;
    const s = this.#streams.get(m.id);
    if (!s) return;
    if (m.compressed > 0) s.onBytes(m.compressed);
    if (m.op === 'data') s.items.push({ chunk: m.chunk, bytes: m.chunk.byteLength });
    else if (m.op === 'flows') s.items.push({ batch: m.batch, bytes: m.bytes });
    else if (m.op === 'end') {
      s.ended = true;
      s.recordErrors = m.recordErrors;
    } else s.error = errorOf(m.error);
    if (m.op === 'end' || m.op === 'error') this.#closedStream(s.thread, m.id);
    s.wake?.();
  }

  #opened(thread: Thread, id: number): void {
    if (thread.open.size === 0) thread.worker.ref();
    thread.open.add(id);
  }

  #closedStream(thread: Thread, id: number): void {
    if (thread.open.delete(id) && thread.open.size === 0) thread.worker.unref();
  }

  #fail(id: number, e: Error): void {
    this.#requests.get(id)?.fail(e);
    const s = this.#streams.get(id);
    if (!s || s.ended || s.error) return;
    s.error = e;
    s.wake?.();
  }

  #post(thread: Thread, m: ToFetchThread): void {
    thread.worker.postMessage(m);
  }

  /** Starts reading an object on the least busy thread; its content is consumed through `chunks`, once. */
  read(bucket: BucketConfig, req: ContentRequest, onBytes: (n: number) => void): ObjectContent {
    const { items, discard } = this.#open(bucket, req, onBytes, undefined);
    async function* chunks(): AsyncGenerator<Buffer> {
      // a Buffer view of the transferred bytes (the decoders take Buffers), no copy
      for await (const item of items) if ('chunk' in item) yield Buffer.from(item.chunk.buffer, item.chunk.byteOffset, item.chunk.byteLength);
    }
    return { chunks: chunks(), discard };
  }

  /**
   * Starts reading a VPC flow-log object, decoded on the thread into FlowBatches (columns, moved without a
   * copy); `recordErrors()` tells, once the batches ended, which records could not be read.
   */
  readFlows(bucket: BucketConfig, req: ContentRequest, onBytes: (n: number) => void, flows: FlowDecodeRequest): FlowContent {
    const { items, discard, stream } = this.#open(bucket, req, onBytes, flows);
    async function* batches(): AsyncGenerator<FlowBatch> {
      for await (const item of items) if ('batch' in item) yield item.batch;
    }
    return { batches: batches(), discard, recordErrors: () => stream.recordErrors ?? { count: 0, first: [] } };
  }

  /** The key that names `bucket` on `thread`, its configuration sent there first if it was not yet. */
  #bucketOn(thread: Thread, bucket: BucketConfig): number {
    let key = this.#bucketKeys.get(bucket);
    if (key === undefined) {
      const content = JSON.stringify(bucket);
      key = this.#bucketsByContent.get(content);
      if (key === undefined) this.#bucketsByContent.set(content, (key = this.#next++));
      this.#bucketKeys.set(bucket, key);
    }
    if (!thread.buckets.has(key)) {
      this.#post(thread, { op: 'bucket', key, bucket });
      thread.buckets.add(key);
    }
    return key;
  }

  #leastBusy(): Thread {
    if (this.#closed) throw new Error('the fetch threads were stopped');
    return this.#threads.reduce((a, b) => (b.open.size < a.open.size ? b : a));
  }

  /**
   * The bucket as an ObjectSource whose listings, folder listings and deletes run on a fetch thread, so the
   * collector's thread never loads the AWS SDK (~13 MB of heap and code in each thread that loads it, measured).
   * Objects are read with `read` and `readFlows`, not with its `get`.
   */
  source(bucket: BucketConfig): ObjectSource {
    return {
      bucket: bucket.name,
      list: (prefix, o = {}) => this.#list(bucket, prefix, o),
      listPrefixes: async (prefix) => (await this.#ask(bucket, (id, key) => ({ op: 'prefixes', id, bucket: key, prefix }))) ?? [],
      get: () => Promise.reject(new Error('objects of a bucket served by the fetch threads are read with FetchPool.read or readFlows')),
      delete: async (key) => {
        await this.#ask(bucket, (id, b) => ({ op: 'delete', id, bucket: b, key }));
      },
    };
  }

  /** One request answered once: the folders of a `prefixes`, nothing for a `delete`. */
  #ask(bucket: BucketConfig, make: (id: number, bucketKey: number) => ToFetchThread): Promise<string[] | undefined> {
    const thread = this.#leastBusy();
    const id = this.#next++;
    return new Promise<string[] | undefined>((resolve, reject) => {
      const done = () => {
        this.#requests.delete(id);
        this.#closedStream(thread, id);
      };
      this.#requests.set(id, {
        thread,
        receive: (m) => {
          done();
          if (m.op === 'error') reject(errorOf(m.error));
          else resolve(m.op === 'answer' ? m.prefixes : undefined);
        },
        fail: (e) => {
          done();
          reject(e);
        },
      });
      this.#opened(thread, id);
      this.#post(thread, make(id, this.#bucketOn(thread, bucket)));
    });
  }

  /**
   * A listing read on a fetch thread, LIST_CHUNK keys per message, the next chunk asked for as soon as one
   * arrives (the thread's own listing asks S3 for its next page ahead too, see client.ts).
   */
  async *#list(bucket: BucketConfig, prefix: string, o: { startAfter?: string; delimiter?: string }): AsyncGenerator<ListedObject> {
    const thread = this.#leastBusy();
    const id = this.#next++;
    const chunks: { objects: ListedWire[]; last: boolean }[] = [];
    let ended = false;
    let error: Error | undefined;
    let wake: (() => void) | undefined;
    this.#requests.set(id, {
      thread,
      receive: (m) => {
        if (m.op === 'listed') {
          chunks.push({ objects: m.objects, last: m.done });
          if (m.done) ended = true;
        } else if (m.op === 'error') error = errorOf(m.error);
        if (ended || error) this.#closedStream(thread, id);
        wake?.();
      },
      fail: (e) => {
        error = e;
        wake?.();
      },
    });
    this.#opened(thread, id);
    this.#post(thread, { op: 'list', id, bucket: this.#bucketOn(thread, bucket), prefix, ...(o.startAfter !== undefined ? { startAfter: o.startAfter } : {}), ...(o.delimiter !== undefined ? { delimiter: o.delimiter } : {}) });
    try {
      for (;;) {
        const chunk = chunks.shift();
        if (chunk) {
          if (!chunk.last) this.#post(thread, { op: 'more', id });
          for (const w of chunk.objects) yield { key: w.key, size: w.size, ...(w.lastModified !== undefined ? { lastModified: new Date(w.lastModified) } : {}) };
          continue;
        }
        if (error) throw error;
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      if (!ended && !error) this.#post(thread, { op: 'stop', id });
      this.#requests.delete(id);
      this.#closedStream(thread, id);
    }
  }

  #open(bucket: BucketConfig, req: ContentRequest, onBytes: (n: number) => void, flows: FlowDecodeRequest | undefined): { items: AsyncGenerator<Item>; discard: () => void; stream: Stream } {
    const thread = this.#leastBusy();
    const id = this.#next++;
    const stream: Stream = { thread, items: [], ended: false, recordErrors: undefined, error: undefined, wake: undefined, onBytes };
    this.#streams.set(id, stream);
    this.#opened(thread, id);
    this.#post(thread, { op: 'open', id, bucket: this.#bucketOn(thread, bucket), req, ...(flows ? { flows } : {}) });
    const streams = this.#streams;
    const post = (m: ToFetchThread) => {
      if (streams.has(id)) this.#post(stream.thread, m);
    };
    const release = () => {
      streams.delete(id);
      this.#closedStream(stream.thread, id);
    };
    async function* items(): AsyncGenerator<Item> {
      try {
        for (;;) {
          const item = stream.items.shift();
          if (item !== undefined) {
            post({ op: 'ack', id, bytes: item.bytes });
            yield item;
            continue;
          }
          if (stream.error) throw stream.error;
          if (stream.ended) return;
          await new Promise<void>((r) => (stream.wake = r));
          stream.wake = undefined;
        }
      } finally {
        if (!stream.ended && !stream.error) post({ op: 'discard', id });
        release();
      }
    }
    const discard = () => {
      if (!streams.has(id)) return;
      if (!stream.ended && !stream.error) post({ op: 'discard', id });
      release();
    };
    return { items: items(), discard, stream };
  }

  /** The threads (for tests and diagnostics). */
  get workers(): readonly Worker[] {
    return this.#threads.map((t) => t.worker);
  }

  /** Stops the threads; reads still open fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
