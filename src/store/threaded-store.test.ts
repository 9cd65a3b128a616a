/**
 * The store on its own thread: the same rows as in-process; a posted write that fails keeps every later flush
 * from succeeding until a flush reports it or its object is taken back (so nothing is marked without its rows),
 * and does not outlive that; reads do not wait behind writes; a thread that dies fails every call with an error
 * naming the store instead of hanging; one process opens a store once, another process is refused plainly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBuffer } from '../decoders/index.js';
import type { AwsEvent, ObjectRef } from '../shared/events.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { openStore } from './index.js';
import { ThreadedStore, transferablesOf } from './threaded-store.js';
import { STORE_THREAD_HEAP_MB, storeThreadHeapMb } from './thread-heap.js';
import { objectKey } from './addresses.js';
import { storeRowsOf, type StoreRows } from './store-rows.js';

const VPC = readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'));
const events: AwsEvent[] = decodeBuffer(VPC, { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, accountId: '149519528842' });
const ref = (key: string): ObjectRef => ({ bucket: 'b', key, objectId: `id-${key}`, bucketType: 'vpcflow', size: 1, region: 'us-west-2' });
const cfg = { flowRetentionDays: 0, alertRetentionDays: 0 };
const health = (key: string) => ({ bucket: 'b', key, type: 'vpcflow', status: 'ok' as const, records: events.length, bytes: 1, processedAt: new Date() });
const tmp = () => mkdtempSync(join(tmpdir(), 'tld-threaded-'));
const flowsOf = async (s: ThreadedStore, key: string) => (await s.query(`SELECT count(*)::INTEGER AS n FROM flows WHERE object_id = ${objectKey(`id-${key}`)}`))[0]!.n;

/** A batch the thread cannot append: flow rows announced without their columns (whatever the columns are called). */
function unappendable(key: string): StoreRows {
  const rows = storeRowsOf({ object: ref(key), firstIndex: 0, events }, []);
  return { ...rows, flows: { rows: rows.flows!.rows } as unknown as StoreRows['flows'] };
}

test('rows written through the thread are the rows the in-process store writes', async () => {
  const threaded = await ThreadedStore.open(tmp(), cfg);
  const local = await openStore(tmp(), cfg);
  for (const s of [threaded, local]) {
    for (const key of ['a', 'b']) {
      for (let i = 0; i < events.length; i += 20) await s.ingest({ object: ref(key), firstIndex: i, events: events.slice(i, i + 20) }, []);
      s.recordObject(health(key));
    }
    await s.flush();
  }
  const sql = 'SELECT * FROM flows ORDER BY object_id, idx';
  const rows = await threaded.query(sql);
  assert.equal(rows.length, 2 * events.length);
  assert.deepEqual(rows, await local.query(sql));
  assert.deepEqual(await threaded.query('SELECT key, records FROM objects ORDER BY key'), await local.query('SELECT key, records FROM objects ORDER BY key'));
  await threaded.close();
  await local.close();
});

test('every buffer behind the flow columns is transferred once, found without naming the columns', () => {
  const rows = storeRowsOf({ object: ref('t'), firstIndex: 0, events }, []);
  const f = rows.flows as unknown as Record<string, unknown>;
  const views = Object.values(f).filter((v): v is ArrayBufferView => ArrayBuffer.isView(v));
  assert.ok(views.length > 0);
  // a column added later, sharing a buffer with another (as offsets into one byte array would)
  const shared = new Uint8Array(64);
  f.extraA = shared.subarray(0, 8);
  f.extraB = { nested: shared.subarray(8) };
  const buffers = transferablesOf(rows);
  assert.equal(new Set(buffers).size, buffers.length, 'each buffer once');
  for (const v of views) assert.ok(buffers.includes(v.buffer as ArrayBuffer));
  assert.ok(buffers.includes(shared.buffer));
  assert.equal(buffers.length, new Set([...views.map((v) => v.buffer), shared.buffer]).size);
});

test('a posted ingest that fails: every later flush fails until one reports it, and a flush posted before it is not blamed', async () => {
  const s = await ThreadedStore.open(tmp(), cfg);
  await s.ingest({ object: ref('early'), firstIndex: 0, events }, []);
  s.recordObject(health('early'));
  // the flush of an earlier group is posted before the bad write: it commits and succeeds
  const earlier = s.flush();
  await s.ingestRows(unappendable('bad'));
  s.recordObject(health('bad'));
  await earlier;
  assert.equal(await flowsOf(s, 'early'), events.length);
  // the group holding the bad object: its flush fails (nothing of it may be marked processed)
  await assert.rejects(s.flush(), (e: Error) => e.message.includes(s.path) && e.message.includes('failed'));
  // reported once: the pipeline has taken everything back, the next cycle starts clean
  await s.discardObject(ref('bad'));
  await s.ingest({ object: ref('good'), firstIndex: 0, events }, []);
  s.recordObject(health('good'));
  await s.flush();
  assert.equal(await flowsOf(s, 'good'), events.length);
  await s.close();
});

test('after a failed ingest the collector is stopped at its next write, and taking the object back lets the next cycle write', async () => {
  const s = await ThreadedStore.open(tmp(), cfg);
  await s.ingestRows(unappendable('bad'));
  // a read answered after the thread ran the bad ingest: its failure has come back by then
  await s.query('SELECT 1');
  await assert.rejects(s.ingest({ object: ref('next'), firstIndex: 0, events }, []));
  // the rollback (PipelineSink.#takeBack) takes back every object not durable, the bad one among them
  await s.discardObject(ref('next'));
  await s.discardObject(ref('bad'));
  await s.ingest({ object: ref('next'), firstIndex: 0, events }, []);
  s.recordObject(health('next'));
  await s.flush();
  assert.equal(await flowsOf(s, 'next'), events.length);
  assert.equal(await flowsOf(s, 'bad'), 0);
  await s.close();
});

test('a failed ingest of an object taken back and read again fails no commit', async () => {
  const s = await ThreadedStore.open(tmp(), cfg);
  // an object whose read is retried (collect-bucket's abortObject): its bad first read is discarded
  await s.ingestRows(unappendable('retried'));
  await s.discardObject(ref('retried'));
  await s.ingest({ object: ref('retried'), firstIndex: 0, events }, []);
  s.recordObject(health('retried'));
  await s.flush();
  assert.equal(await flowsOf(s, 'retried'), events.length);
  await s.close();
});

test('a thread that dies fails every pending and later call with an error naming the store, and never hangs', async () => {
  const s = await ThreadedStore.open(tmp(), cfg, { resourceLimits: { maxOldGenerationSizeMb: 48 } });
  await s.ingest({ object: ref('a'), firstIndex: 0, events }, []);
  s.recordObject(health('a'));
  await s.flush();
  // rows too big for the thread's heap: it runs out of memory and dies (as on a native out-of-memory)
  const rows = storeRowsOf({ object: ref('huge'), firstIndex: 0, events: events.slice(0, 1) }, []);
  (rows as { findings: unknown[] }).findings = [Array.from({ length: 2_000_000 }, (_, i) => `row ${i} of an object too big for the store's thread`)];
  const dead = (e: Error) => e.message.includes(s.path) && /cannot be used/.test(e.message) && /restart/.test(e.message);
  const ingest = s.ingestRows(rows);
  // the first call to fail says why: the thread's heap, and its size
  const outOfHeap = (e: Error) => dead(e) && /its thread used all of its 48 MB of heap \(raise TLD_STORE_HEAP_MB\)/.test(e.message);
  const flush = s.flush();
  // the ingest waits for room (more than the thread may hold is in flight), then fails with the thread
  await assert.rejects(ingest, outOfHeap);
  await assert.rejects(flush, outOfHeap);
  await assert.rejects(s.ingest({ object: ref('b'), firstIndex: 0, events }, []), dead);
  await assert.rejects(s.discardObject(ref('b')), dead);
  await assert.rejects(s.flush(), dead);
  await assert.rejects(s.query('SELECT 1'), dead);
  await s.close();
});

test('TLD_STORE_HEAP_MB bounds the heap of the store thread (default 256 MB); a value that is not a whole number of at least 64 is refused', async () => {
  const before = process.env.TLD_STORE_HEAP_MB;
  try {
    assert.equal(storeThreadHeapMb({}), STORE_THREAD_HEAP_MB);
    assert.equal(STORE_THREAD_HEAP_MB, 256);
    for (const bad of ['63', '100.5', 'lots', '-1']) {
      process.env.TLD_STORE_HEAP_MB = bad;
      await assert.rejects(ThreadedStore.open(tmp(), cfg), new RegExp(`TLD_STORE_HEAP_MB must be a whole number of MB of at least 64, not "${bad.replace('.', '\\.')}"`));
    }
    // the refused openings left nothing behind: the same folder opens once the value is good
    process.env.TLD_STORE_HEAP_MB = '64';
    const dir = tmp();
    const s = await ThreadedStore.open(dir, cfg);
    const rows = storeRowsOf({ object: ref('huge'), firstIndex: 0, events: events.slice(0, 1) }, []);
    (rows as { findings: unknown[] }).findings = [Array.from({ length: 2_000_000 }, (_, i) => `row ${i} of an object too big for the store's thread`)];
    await assert.rejects(s.ingestRows(rows), /its thread used all of its 64 MB of heap \(raise TLD_STORE_HEAP_MB\)/);
    await s.close();
  } finally {
    if (before === undefined) delete process.env.TLD_STORE_HEAP_MB;
    else process.env.TLD_STORE_HEAP_MB = before;
  }
});

/** Runs `body` (module code with `store`, `ref` and `events` in scope) in a process of its own that is killed with SIGKILL at the end. */
function killedAfter(dir: string, body: string): void {
  const module = (name: string) => JSON.stringify(fileURLToPath(new URL(name, import.meta.url)));
  const script = `import { readFileSync } from 'node:fs';
import { ThreadedStore } from ${module('./threaded-store.ts')};
import { decodeBuffer } from ${module('../decoders/index.ts')};
const events = decodeBuffer(readFileSync(${JSON.stringify(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'))}), { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, accountId: '149519528842' });
const ref = (key) => ({ bucket: 'b', key, objectId: 'id-' + key, bucketType: 'vpcflow', size: 1, region: 'us-west-2' });
const store = await ThreadedStore.open(${JSON.stringify(dir)}, ${JSON.stringify(cfg)});
${body}
process.kill(process.pid, 'SIGKILL');
`;
  const file = join(dir, 'killed.mjs');
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
}

test('killed while an object is read again after a discard, with its new rows committed: they are taken back on the next open', async () => {
  const dir = tmp();
  // a read that broke after a group commit stored its first rows (collect-bucket: abortObject, then a retry), and
  // a group commit during the retry; no health row for it yet: the crash must leave none of its rows
  killedAfter(
    dir,
    `await store.ingest({ object: ref('x'), firstIndex: 0, events: events.slice(0, 20) }, []);
await store.flush();
await store.discardObject(ref('x'));
await store.ingest({ object: ref('x'), firstIndex: 0, events: events.slice(0, 20) }, []);
await store.ingest({ object: ref('done'), firstIndex: 0, events }, []);
store.recordObject({ bucket: 'b', key: 'done', type: 'vpcflow', status: 'ok', records: events.length, bytes: 1, processedAt: new Date() });
await store.flush();`,
  );
  const s = await ThreadedStore.open(dir, cfg);
  try {
    assert.equal(await flowsOf(s, 'done'), events.length);
    assert.equal(await flowsOf(s, 'x'), 0, 'the unfinished read is taken back (it is read again whole)');
  } finally {
    await s.close();
  }
});

test('one process opens a store once; the store is the one a later opening finds', async () => {
  const dir = tmp();
  const first = await ThreadedStore.open(dir, cfg);
  // two DuckDB instances of one file in one process are not refused by DuckDB (its lock is per process) and corrupt it
  await assert.rejects(ThreadedStore.open(dir, cfg), /already open in this process/);
  await first.ingest({ object: ref('a'), firstIndex: 0, events }, []);
  first.recordObject(health('a'));
  await first.close();
  await assert.rejects(first.query('SELECT 1'), /closed/);
  const again = await ThreadedStore.open(dir, cfg);
  assert.equal(await flowsOf(again, 'a'), events.length);
  await again.close();
});

test('a second process is refused with the store, the process holding it, and what to do', async () => {
  const dir = tmp();
  const s = await ThreadedStore.open(dir, cfg);
  const here = fileURLToPath(new URL('./threaded-store.ts', import.meta.url));
  const script = `import { ThreadedStore } from ${JSON.stringify(here)};\ntry { await ThreadedStore.open(${JSON.stringify(dir)}, ${JSON.stringify(cfg)}); console.log('opened'); } catch (e) { console.log(e.message); }\n`;
  const file = join(dir, 'second.mts');
  writeFileSync(file, script);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 60_000 });
  assert.match(r.stdout, new RegExp(`the store ${join(dir, 'store', 'tld.duckdb').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another process \\(PID ${process.pid}`));
  assert.match(r.stdout, /stop that one/);
  await s.close();
});

test('a store that cannot be opened says which file and why', async () => {
  const taken = tmp();
  mkdirSync(join(taken, 'store', 'tld.duckdb'), { recursive: true });
  await assert.rejects(ThreadedStore.open(taken, cfg), (e: Error) => e.message.startsWith(`the store ${join(taken, 'store', 'tld.duckdb')} could not be opened`) && /DuckDB file/.test(e.message));
  // a data folder that is a file
  const file = join(tmp(), 'not-a-folder');
  writeFileSync(file, 'x');
  await assert.rejects(ThreadedStore.open(file, cfg), (e: Error) => e.message.includes(join(file, 'store', 'tld.duckdb')) && /could not be opened/.test(e.message));
  // and neither failure keeps the store counted as open in this process
  await assert.rejects(ThreadedStore.open(taken, cfg), /could not be opened/);
});
