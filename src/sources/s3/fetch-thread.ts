/**
 * A fetch thread (started by fetch-pool.ts): reads the objects the collector's thread asks for — GetObject through
 * the AWS SDK, the length check, decompression (read-object.ts) — and sends their plain content back in pieces,
 * at most STREAM_CREDIT bytes of each object ahead of what was acknowledged. Several objects are read at once,
 * so request latency and the SDK's per-request work overlap with the collector's decoding. It also lists and
 * deletes for the collector (`FetchPool.source`), which then never loads the SDK.
 */
import { parentPort } from 'node:worker_threads';
import type { BucketConfig } from '../../config/types.js';
import { createFlowDecoder, doneWith, ObjectDecodeError } from '../../decoders/index.js';
import { transferables, type FlowBatch } from '../../decoders/vpcflow/flow-batch.js';
import { QUOTED_RECORD_ERRORS, type RecordErrors } from './decode-object.js';
import { createS3Source, type ObjectSource } from './client.js';
import { S3AccessError } from './errors.js';
import { LIST_CHUNK, MESSAGE_BYTES, STREAM_CREDIT, type FetchFailure, type FlowDecodeRequest, type FromFetchThread, type ListedWire, type ToFetchThread } from './fetch-messages.js';
import type { ListedObject } from './client.js';
import { readContent, TransientReadError, type ObjectContent } from './read-object.js';

const port = parentPort!;

/** the bucket configurations the collector sent, by key */
const buckets = new Map<number, BucketConfig>();
/** one S3 client per bucket configuration, made at its first object */
const sources = new Map<number, Promise<ObjectSource>>();

interface Stream {
  content: ObjectContent | undefined;
  /** bytes sent and not acknowledged */
  inFlight: number;
  /** wakes the stream waiting for credit */
  wake: (() => void) | undefined;
  discarded: boolean;
}
const streams = new Map<number, Stream>();

function send(m: FromFetchThread, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

function failureOf(e: unknown): FetchFailure {
  const cause = (e as { cause?: unknown }).cause;
  if (e instanceof TransientReadError || cause instanceof TransientReadError) return { kind: 'transient', message: (e instanceof TransientReadError ? e : (cause as Error)).message };
  if (e instanceof S3AccessError) return { kind: 'access', code: e.code, message: e.message };
  if (e instanceof ObjectDecodeError) return { kind: 'decode', code: e.code, message: e.message };
  return { kind: 'other', message: e instanceof Error ? e.message : String(e) };
}

function sourceFor(key: number): Promise<ObjectSource> {
  let s = sources.get(key);
  if (!s) {
    const bucket = buckets.get(key);
    s = bucket ? createS3Source(bucket) : Promise.reject(new Error(`no bucket configuration ${key} was sent to this fetch thread`));
    s.catch(() => sources.delete(key));
    sources.set(key, s);
  }
  return s;
}

/** Copies the gathered pieces into one buffer of its own, which is transferred to the collector's thread. */
function joined(pieces: Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Bytes of a batch's columns (what it holds while in flight). */
function batchBytes(batch: FlowBatch): number {
  let n = 0;
  for (const b of transferables(batch)) n += b.byteLength;
  return n;
}

/**
 * Rows of the last VPC object this thread decoded: the first batch of the next one makes room for as many (objects
 * of a flow log are alike in size), instead of growing to them by doubling.
 */
let lastObjectRows: number | undefined;

async function read(id: number, bucket: number, req: Extract<ToFetchThread, { op: 'open' }>['req'], flows: FlowDecodeRequest | undefined): Promise<void> {
  const stream: Stream = { content: undefined, inFlight: 0, wake: undefined, discarded: false };
  streams.set(id, stream);
  let compressed = 0;
  /** rows of the object sent so far */
  let rows = 0;
  let pieces: Uint8Array[] = [];
  let gathered = 0;
  /** sends what was gathered; waits while the collector is more than STREAM_CREDIT behind */
  const flush = async () => {
    if (gathered === 0) return;
    const chunk = joined(pieces, gathered);
    pieces = [];
    stream.inFlight += gathered;
    gathered = 0;
    send({ op: 'data', id, chunk, compressed }, [chunk.buffer as ArrayBuffer]);
    compressed = 0;
    while (stream.inFlight > STREAM_CREDIT && !stream.discarded) await new Promise<void>((r) => (stream.wake = r));
  };
  /** sends decoded batches; waits while the collector is more than STREAM_CREDIT behind */
  const sendBatches = async (batches: FlowBatch[]) => {
    for (const batch of batches) {
      if (batch.length === 0) continue;
      rows += batch.length;
      const bytes = batchBytes(batch);
      stream.inFlight += bytes;
      send({ op: 'flows', id, batch, bytes, compressed }, transferables(batch));
      compressed = 0;
      while (stream.inFlight > STREAM_CREDIT && !stream.discarded) await new Promise<void>((r) => (stream.wake = r));
    }
  };
  // a count and the first few: an object of millions of bad lines must not hold millions of messages
  const recordErrors: RecordErrors = { count: 0, first: [] };
  const decoder = flows
    ? createFlowDecoder({
        bucketType: 'vpcflow',
        logInfo: flows.logInfo,
        ...(flows.accountId !== undefined ? { accountId: flows.accountId } : {}),
        ...(flows.discard ? { discard: flows.discard } : {}),
        onRecordError: (line, message) => {
          if (recordErrors.count++ < QUOTED_RECORD_ERRORS) recordErrors.first.push(`line ${line}: ${message}`);
        },
      }, lastObjectRows === undefined ? {} : { rowsHint: lastObjectRows })
    : undefined;
  try {
    const source = await sourceFor(bucket);
    const content = readContent(source, req, (n) => (compressed += n));
    stream.content = content;
    if (decoder) {
      try {
        for await (const piece of content.chunks) {
          if (stream.discarded) break;
          const batches = decoder.push(piece);
          // the decoder keeps a copy of a line cut at the piece's end, not the piece
          doneWith(piece);
          await sendBatches(batches);
        }
        if (!stream.discarded) {
          await sendBatches(decoder.end());
          lastObjectRows = rows;
        }
      } catch (e) {
        // what was decoded before the failure goes first, as on the collector's own thread
        if (!(e instanceof ObjectDecodeError) || e.code !== 'TLD_ERR_DECODE_EMPTY_OBJECT') await sendBatches(decoder.flush()).catch(() => undefined);
        throw e;
      }
      if (!stream.discarded) send({ op: 'end', id, compressed, recordErrors });
      return;
    }
    for await (const piece of content.chunks) {
      if (stream.discarded) break;
      pieces.push(piece);
      gathered += piece.byteLength;
      if (gathered >= MESSAGE_BYTES) await flush();
    }
    if (!stream.discarded) {
      await flush();
      send({ op: 'end', id, compressed });
    }
  } catch (e) {
    if (!stream.discarded) {
      // what was decompressed before the failure is delivered first, as on the collector's own thread (the
      // records before a cut in a truncated gzip are kept)
      await flush().catch(() => undefined);
      if (!stream.discarded) send({ op: 'error', id, compressed, error: failureOf(e) });
    }
  } finally {
    stream.content?.discard();
    streams.delete(id);
  }
}

/** A request's failure (a listing, folders, a delete), as a read's crosses over. */
function sendFailure(id: number, e: unknown): void {
  send({ op: 'error', id, compressed: 0, error: failureOf(e) });
}

/**
 * listings being read for the collector, each waiting for its next `more` (a promise: the bucket's client may
 * still be being made when the listing is asked for, or stopped), with the key asked for and not yet sent
 */
const listings = new Map<number, Promise<AsyncIterator<ListedObject>>>();
const pendingKeys = new Map<number, Promise<IteratorResult<ListedObject>>>();

/** settles after the promise jobs queued now: a key of a page already here comes before it, the next page's after */
const pageUsedUp = () => new Promise<'wait'>((resolve) => setImmediate(() => resolve('wait')));

/**
 * Sends the next LIST_CHUNK keys of a listing (fewer, with `done`, at its end), or its failure. A chunk also ends
 * where the keys of the pages already here end: the collector reads the first page's keys (client.ts
 * FIRST_PAGE_KEYS) while the next page is on its way, instead of waiting for it to fill a chunk.
 */
async function listMore(id: number): Promise<void> {
  const listing = listings.get(id);
  if (!listing) return;
  const objects: ListedWire[] = [];
  try {
    const it = await listing;
    while (objects.length < LIST_CHUNK) {
      const next = pendingKeys.get(id) ?? it.next();
      pendingKeys.delete(id);
      const r = objects.length === 0 ? await next : await Promise.race([next, pageUsedUp()]);
      if (r === 'wait') {
        next.catch(() => undefined); // its failure is sent with the next `more`
        pendingKeys.set(id, next);
        break;
      }
      if (r.done) {
        listings.delete(id);
        send({ op: 'listed', id, objects, done: true });
        return;
      }
      const o = r.value;
      objects.push({ key: o.key, size: o.size, ...(o.lastModified ? { lastModified: o.lastModified.getTime() } : {}) });
    }
    if (listings.has(id)) send({ op: 'listed', id, objects, done: false });
  } catch (e) {
    listings.delete(id);
    pendingKeys.delete(id);
    sendFailure(id, e);
  }
}

/** A request answered once (folders, a delete); its failure crosses over as for a read. */
async function answer(id: number, bucket: number, work: (s: ObjectSource) => Promise<string[] | undefined>): Promise<void> {
  try {
    const prefixes = await work(await sourceFor(bucket));
    send({ op: 'answer', id, ...(prefixes ? { prefixes } : {}) });
  } catch (e) {
    sendFailure(id, e);
  }
}

port.on('message', (m: ToFetchThread) => {
  switch (m.op) {
    case 'bucket':
      buckets.set(m.key, m.bucket);
      break;
    case 'open':
      void read(m.id, m.bucket, m.req, m.flows);
      break;
    case 'ack': {
      const s = streams.get(m.id);
      if (!s) break;
      s.inFlight -= m.bytes;
      if (s.inFlight <= STREAM_CREDIT) s.wake?.();
      break;
    }
    case 'discard': {
      const s = streams.get(m.id);
      if (!s) break;
      s.discarded = true;
      s.content?.discard();
      s.wake?.();
      break;
    }
    case 'list': {
      const { prefix, startAfter, delimiter } = m;
      listings.set(m.id, sourceFor(m.bucket).then((source) => source.list(prefix, { ...(startAfter !== undefined ? { startAfter } : {}), ...(delimiter !== undefined ? { delimiter } : {}) })[Symbol.asyncIterator]()));
      void listMore(m.id);
      break;
    }
    case 'more':
      void listMore(m.id);
      break;
    case 'stop': {
      const listing = listings.get(m.id);
      listings.delete(m.id);
      pendingKeys.delete(m.id);
      // ends the listing (once its client is made): the page it asked for ahead is aborted (client.ts)
      void listing?.then((it) => it.return?.(), () => undefined).catch(() => undefined);
      break;
    }
    case 'prefixes':
      void answer(m.id, m.bucket, (s) => s.listPrefixes(m.prefix));
      break;
    case 'delete':
      void answer(m.id, m.bucket, async (s) => {
        await s.delete(m.key);
        return undefined;
      });
      break;
  }
});
