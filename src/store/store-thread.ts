/**
 * The store's own thread (see threaded-store.ts): opens the DuckDB store of a data folder and runs what the
 * collector's thread asks, writes strictly in the order they were sent, reads at once on their own connection.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { StoreConfig } from '../config/types.js';
import { openStore, type EmbeddedStore } from './index.js';
import type { StoreRequest, StoreReply } from './threaded-store.js';

const { dataDir, cfg, reopenRows } = workerData as { dataDir: string; cfg: StoreConfig; reopenRows?: number };
const port = parentPort!;

function reply(message: StoreReply): void {
  port.postMessage(message);
}

function failure(e: unknown): { message: string; name: string } {
  return { message: e instanceof Error ? e.message : String(e), name: e instanceof Error ? e.name : 'Error' };
}

let store: EmbeddedStore;
try {
  store = await openStore(dataDir, cfg, reopenRows === undefined ? {} : { reopenRows });
  reply({ id: 0, ok: true, value: null });
} catch (e) {
  reply({ id: 0, ok: false, error: failure(e) });
  process.exit(0);
}

/** writes, one after another in the order sent */
let writes: Promise<unknown> = Promise.resolve();

async function run(request: StoreRequest): Promise<unknown> {
  switch (request.op) {
    case 'ingestRows':
      return store.ingestRows(request.rows);
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

port.on('message', (request: StoreRequest) => {
  const answer = (p: Promise<unknown>) =>
    p.then(
      (value) => reply({ id: request.id, ok: true, value: value ?? null }),
      (e: unknown) => reply({ id: request.id, ok: false, error: failure(e) }),
    );
  if (request.op === 'query') {
    void answer(run(request));
    return;
  }
  const done = writes.then(() => run(request));
  writes = done.catch(() => undefined);
  void answer(done).then(() => {
    if (request.op === 'close') port.close();
  });
});
