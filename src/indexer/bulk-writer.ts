/**
 * Sends documents to the cluster in `_bulk` requests sized by bytes, and says when all of them are in.
 *
 * Contract: `add` queues items (a request leaves as soon as `maxBytes` are pending; `concurrency` requests are in
 * flight at once, at most `maxQueued` more wait, which `backpressure` holds the pipeline to: the order of requests
 * does not matter, since ids are fixed and findings carry external versions); `flush` resolves only once the
 * cluster answered every item queued before it with a success or a 409 (already there: `create` of an id that
 * exists, or an external version not newer). Whole requests answered 429/5xx or not answered, and items answered
 * 429/5xx, are sent again with exponential backoff (`retries` times); any other per-item answer is a refusal:
 * `flush` rejects with an IndexerDocumentError naming the documents and their objects. After a failure the
 * requests still waiting are not sent (their objects are read again anyway) and the next `flush` or `add`
 * reports it once.
 */
import { bulkLines, type BulkItem } from './documents.js';
import { IndexerDocumentError, IndexerRequestError } from './errors.js';

/** One item's answer in a `_bulk` response. */
export interface BulkItemResult {
  _index?: string;
  _id?: string;
  status: number;
  error?: { type?: string; reason?: string } | string;
}

export interface BulkResponse {
  errors?: boolean;
  items: Record<string, BulkItemResult>[];
}

/** What the writer needs of a client: one `_bulk` call; throws IndexerRequestError when the request fails as a whole. */
export interface BulkPort {
  /** the cluster's hosts without credentials, for messages */
  readonly hosts: string;
  bulk(body: string): Promise<BulkResponse>;
}

export interface BulkWriterOptions {
  maxBytes: number;
  /** attempts after the first, for a request or an item answered 429/5xx (default 8) */
  retries?: number;
  /** first backoff in ms, doubled each time up to `maxBackoffMs` (defaults 100 and 10,000) */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** requests waiting to be sent before `backpressure` waits (default 2) */
  maxQueued?: number;
  /** requests in flight at once (default 2) */
  concurrency?: number;
  /** `bucket/key` of an object id, for messages */
  describeObject?: (objectId: string) => string;
}

export interface BulkCounters {
  requests: number;
  /** documents the cluster created (or updated, for findings) */
  written: number;
  /** 409: already written by an earlier read */
  alreadyWritten: number;
  /** requests or items sent again after a 429/5xx or no answer */
  retriedRequests: number;
  retriedItems: number;
  refused: number;
}

interface Chunk {
  items: BulkItem[];
  body: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class BulkWriter {
  readonly counters: BulkCounters = { requests: 0, written: 0, alreadyWritten: 0, retriedRequests: 0, retriedItems: 0, refused: 0 };
  readonly #port: BulkPort;
  readonly #opts: Required<Omit<BulkWriterOptions, 'describeObject'>> & Pick<BulkWriterOptions, 'describeObject'>;
  #pending: BulkItem[] = [];
  #pendingLines: string[] = [];
  #pendingBytes = 0;
  /** requests queued or being sent */
  readonly #sending = new Set<Promise<void>>();
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #failure: Error | undefined;

  constructor(port: BulkPort, opts: BulkWriterOptions) {
    this.#port = port;
    this.#opts = { retries: 8, backoffMs: 100, maxBackoffMs: 10_000, maxQueued: 2, concurrency: 2, ...opts };
  }

  /**
   * Queues items. With `check` (the default) a failure of an earlier request is thrown here (once); without it the
   * failure stays for `flush` (callers that cannot fail, e.g. a health row recorded as an object finishes).
   */
  add(items: BulkItem[], check = true): void {
    if (check) {
      const failure = this.#takeFailure();
      if (failure) throw failure;
    }
    for (const item of items) {
      const lines = bulkLines(item);
      const bytes = Buffer.byteLength(lines);
      if (this.#pending.length > 0 && this.#pendingBytes + bytes > this.#opts.maxBytes) this.#ship();
      this.#pending.push(item);
      this.#pendingLines.push(lines);
      this.#pendingBytes += bytes;
    }
  }

  /** Resolves once at most `maxQueued` requests wait (the pipeline does not read faster than the cluster takes). */
  async backpressure(): Promise<void> {
    while (this.#sending.size > this.#opts.maxQueued + this.#opts.concurrency) await Promise.race(this.#sending);
  }

  /** Drops the items of an object not sent yet (its read was abandoned; what was sent is harmless: same ids). */
  drop(objectId: string): void {
    if (!this.#pending.some((i) => i.objectId === objectId)) return;
    const keep: number[] = [];
    this.#pending.forEach((item, i) => item.objectId !== objectId && keep.push(i));
    this.#pending = keep.map((i) => this.#pending[i]!);
    this.#pendingLines = keep.map((i) => this.#pendingLines[i]!);
    this.#pendingBytes = this.#pendingLines.reduce((n, l) => n + Buffer.byteLength(l), 0);
  }

  /** Sends what is pending and waits for every request queued so far; rejects with the first failure. */
  async flush(): Promise<void> {
    if (this.#pending.length > 0) this.#ship();
    await Promise.all([...this.#sending]);
    const failure = this.#takeFailure();
    if (failure) throw failure;
  }

  #takeFailure(): Error | undefined {
    const f = this.#failure;
    this.#failure = undefined;
    return f;
  }

  #ship(): void {
    const chunk: Chunk = { items: this.#pending, body: this.#pendingLines.join('') };
    this.#pending = [];
    this.#pendingLines = [];
    this.#pendingBytes = 0;
    const run = (async () => {
      await this.#slot();
      try {
        if (!this.#failure) await this.#send(chunk);
      } catch (e) {
        this.#failure ??= e instanceof Error ? e : new Error(String(e));
      } finally {
        // the place goes straight to the next waiting request, so no newcomer slips in between
        const next = this.#waiting.shift();
        if (next) next();
        else this.#active -= 1;
      }
    })();
    this.#sending.add(run);
    void run.then(() => this.#sending.delete(run));
  }

  /** Waits for one of the `concurrency` places (first come, first served). */
  async #slot(): Promise<void> {
    if (this.#active < this.#opts.concurrency) {
      this.#active += 1;
      return;
    }
    await new Promise<void>((r) => this.#waiting.push(r));
  }

  #backoff(attempt: number): number {
    return Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** attempt);
  }

  async #send(chunk: Chunk): Promise<void> {
    let { items, body } = chunk;
    const hosts = this.#port.hosts;
    for (let attempt = 0; ; attempt++) {
      let res: BulkResponse;
      try {
        this.counters.requests += 1;
        res = await this.#port.bulk(body);
      } catch (e) {
        if (e instanceof IndexerRequestError && e.retryable && attempt < this.#opts.retries) {
          this.counters.retriedRequests += 1;
          await sleep(this.#backoff(attempt));
          continue;
        }
        throw e;
      }
      if (!Array.isArray(res.items) || res.items.length !== items.length) {
        throw new IndexerRequestError('a _bulk request', hosts, 200, `the answer lists ${Array.isArray(res.items) ? res.items.length : 'no'} items for ${items.length} documents`);
      }
      const again: BulkItem[] = [];
      const refused: IndexerDocumentError['failures'] = [];
      res.items.forEach((entry, i) => {
        const result = Object.values(entry)[0];
        const item = items[i]!;
        const status = result?.status ?? 0;
        if (status >= 200 && status < 300) this.counters.written += 1;
        else if (status === 409) this.counters.alreadyWritten += 1;
        else {
          const err = result?.error;
          const failure = {
            index: item.index, id: item.id, status,
            type: typeof err === 'object' ? (err.type ?? 'error') : 'error',
            reason: typeof err === 'object' ? (err.reason ?? '') : (err ?? ''),
            object: this.#opts.describeObject?.(item.objectId) ?? item.objectId,
          };
          if (status === 429 || status >= 500) again.push(item);
          refused.push(failure);
        }
      });
      const permanent = refused.filter((f) => !(f.status === 429 || f.status >= 500));
      if (permanent.length > 0) {
        this.counters.refused += permanent.length;
        throw new IndexerDocumentError(hosts, permanent, false);
      }
      if (again.length === 0) return;
      if (attempt >= this.#opts.retries) throw new IndexerDocumentError(hosts, refused, true);
      this.counters.retriedItems += again.length;
      items = again;
      body = again.map(bulkLines).join('');
      await sleep(this.#backoff(attempt));
    }
  }
}
