/**
 * The store on its own thread: the same rows as in-process, errors of pipelined ingests surface at the next
 * flush, reads do not wait behind writes, and a thread that dies fails every call instead of hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBuffer } from '../decoders/index.js';
import type { AwsEvent, ObjectRef } from '../shared/events.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { openStore } from './index.js';
import { ThreadedStore } from './threaded-store.js';
import { storeRowsOf } from './store-rows.js';

const VPC = readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'));
const events: AwsEvent[] = decodeBuffer(VPC, { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, accountId: '149519528842' });
const ref = (key: string): ObjectRef => ({ bucket: 'b', key, objectId: `id-${key}`, bucketType: 'vpcflow', size: 1, region: 'us-west-2' });
const cfg = { flowRetentionDays: 0, alertRetentionDays: 0 };
const health = (key: string) => ({ bucket: 'b', key, type: 'vpcflow', status: 'ok' as const, records: events.length, bytes: 1, processedAt: new Date() });

test('rows written through the thread are the rows the in-process store writes', async () => {
  const threaded = await ThreadedStore.open(mkdtempSync(join(tmpdir(), 'tld-threaded-')), cfg);
  const local = await openStore(mkdtempSync(join(tmpdir(), 'tld-local-')), cfg);
  for (const s of [threaded, local]) {
    for (const key of ['a', 'b']) {
      for (let i = 0; i < events.length; i += 20) await s.ingest({ object: ref(key), firstIndex: i, events: events.slice(i, i + 20) }, []);
      s.recordObject(health(key));
    }
    await s.flush();
  }
  const sql = 'SELECT object_id, idx, ts, end_ts, account, region, eni, src, dst, sport, dport, proto, packets, bytes, action, log_status, bucket FROM flows ORDER BY object_id, idx';
  const rows = await threaded.query(sql);
  assert.equal(rows.length, 2 * events.length);
  assert.deepEqual(rows, await local.query(sql));
  assert.deepEqual(await threaded.query('SELECT key, records FROM objects ORDER BY key'), await local.query('SELECT key, records FROM objects ORDER BY key'));
  await threaded.close();
  await local.close();
});

test('a pipelined ingest that fails makes the next flush fail (so nothing is marked), and the store goes on afterwards', async () => {
  const s = await ThreadedStore.open(mkdtempSync(join(tmpdir(), 'tld-threaded-')), cfg);
  const rows = storeRowsOf({ object: ref('bad'), firstIndex: 0, events }, []);
  // a row the appender cannot take: an action string where the thread expects the column arrays to line up
  (rows.flows as unknown as { action: unknown }).action = undefined;
  await s.ingestRows(rows);
  await assert.rejects(s.flush(), /TypeError|Cannot read|undefined/);
  await s.discardObject(ref('bad'));
  await s.ingest({ object: ref('good'), firstIndex: 0, events }, []);
  s.recordObject(health('good'));
  await s.flush();
  assert.deepEqual(await s.query("SELECT count(*)::INTEGER AS n FROM flows WHERE object_id = 'id-good'"), [{ n: events.length }]);
  await s.close();
});

test('a store that cannot be opened says why; calls after the thread is gone fail instead of hanging', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-threaded-'));
  const first = await ThreadedStore.open(dir, cfg);
  // DuckDB allows one writer process per file, but in one process a second instance of the same file is refused too
  await assert.rejects(ThreadedStore.open(dir, cfg), /lock|already|open/i);
  await first.close();
  await assert.rejects(first.query('SELECT 1'), /stopped|failed/);
});
