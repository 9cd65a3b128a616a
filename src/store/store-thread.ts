/**
 * The store's own thread (see threaded-store.ts): opens the DuckDB store of a data folder and runs what the
 * collector's thread asks, writes strictly in the order they were posted (so a flush commits every ingest posted
 * before it, and a discard follows every ingest of its object), reads at once on their own connection.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StoreConfig } from '../config/types.js';
import { openStore, type EmbeddedStore } from './index.js';
import { transferablesOf, type StoreRequest, type StoreReply } from './threaded-store.js';
import { releaseBuffers } from '../shared/release-buffers.js';

const { dataDir, cfg, reopenRows } = workerData as { dataDir: string; cfg: StoreConfig; reopenRows?: number };
const port = parentPort!;

function reply(message: StoreReply): void {
  port.postMessage(message);
}

function failure(e: unknown): { message: string; name: string } {
  return { message: e instanceof Error ? e.message : String(e), name: e instanceof Error ? e.name : 'Error' };
}

async function run(store: EmbeddedStore, request: StoreRequest): Promise<unknown> {
  switch (request.op) {
    case 'ingestRows':
      // the rows' buffers came to this thread with the message and are copied into DuckDB's chunks: freed at once
      return store.ingestRows(request.rows).finally(() => releaseBuffers(transferablesOf(request.rows)));
    case 'recordObject':
      return store.recordObject(request.info);
    case 'discardObject':
      return store.discardObject(request.object);
    case 'flush':
      return store.flush();
    case 'applyRetention':
      return store.applyRetention(request.now);
    case 'close':
      return store.close();
    case 'query':
      return store.query(request.sql, request.params);
  }
}

let store: EmbeddedStore | undefined;
try {
  store = await openStore(dataDir, cfg, reopenRows === undefined ? {} : { reopenRows });
  reply({ id: 0, ok: true, value: null });
} catch (e) {
  reply({ id: 0, ok: false, error: failure(e) });
  port.close();
}

if (store) {
  const opened = store;
  /** writes, one after another in the order posted */
  let writes: Promise<unknown> = Promise.resolve();
  let closed = false;
  port.on('message', (request: StoreRequest) => {
    const answer = (p: Promise<unknown>) =>
      p.then(
        (value) => reply({ id: request.id, ok: true, value: value ?? null }),
        (e: unknown) => reply({ id: request.id, ok: false, error: failure(e) }),
      );
    if (closed) {
      reply({ id: request.id, ok: false, error: { name: 'Error', message: 'the store is closed' } });
      return;
    }
    if (request.op === 'query') {
      void answer(Promise.resolve().then(() => run(opened, request)));
      return;
    }
    if (request.op === 'close') closed = true;
    const done = writes.then(() => run(opened, request));
    writes = done.catch(() => undefined);
    void answer(done).then(() => {
      if (request.op === 'close') port.close();
    });
  });
}
