/** The embedded DuckDB store: typed flow rows, re-reads that never duplicate, finding upserts with history, alerts keyed by id, retention. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBuffer } from '../decoders/index.js';
import type { Alert, AwsEvent, EventBatch, ObjectRef } from '../shared/events.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import { openStore, reopenDatabase, type Store } from './index.js';

const VPC = readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'));
const logInfo = { aws_account_alias: '', log_file: 'k', s3bucket: 'b' };
const vpcEvents = decodeBuffer(VPC, { bucketType: 'vpcflow', logInfo, accountId: '149519528842' });
const ref = (key: string, extra: Partial<ObjectRef> = {}): ObjectRef => ({ bucket: 'b', key, objectId: `id-${key}`, bucketType: 'vpcflow', size: 1, region: 'us-west-2', ...extra });
const health = (key: string) => ({ bucket: 'b', key, type: 'vpcflow', status: 'ok' as const, records: vpcEvents.length, bytes: VPC.length, processedAt: new Date() });

async function fresh(): Promise<Store> {
  return openStore(mkdtempSync(join(tmpdir(), 'tld-store-')), { flowRetentionDays: 0, alertRetentionDays: 0 });
}
const count = async (s: Store, sql: string, p: (string | number)[] = []) => Number((await s.query(sql, p))[0]?.n);

async function ingestObject(s: Store, object: ObjectRef, events: AwsEvent[], perBatch = 20): Promise<void> {
  for (let i = 0; i < events.length; i += perBatch) await s.ingest({ object, firstIndex: i, events: events.slice(i, i + perBatch) }, []);
}

/** One whole read of object `key`, committed as the pipeline does: batches, health row, flush. */
async function readObject(s: Store, key: string, events: AwsEvent[] = vpcEvents): Promise<void> {
  await ingestObject(s, ref(key), events);
  s.recordObject(health(key));
  await s.flush();
}

test('flow records become typed rows with their record time, addresses, ports and action', async () => {
  const s = await fresh();
  await readObject(s, 'a');
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 53);
  const [row] = await s.query("SELECT src, dst, dport, proto, bytes, action, account, region, epoch_ms(ts) AS t, idx FROM flows WHERE idx = 0");
  assert.equal(row?.account, '149519528842');
  assert.equal(row?.region, 'us-west-2');
  assert.equal(row?.action, 'REJECT');
  assert.equal(typeof row?.dport, 'number');
  assert.equal(Number(row?.t), Date.parse(String(vpcEvents[0]!.aws.start)));
  await s.close();
});

test('an object read again after its commit (crash before the state mark) replaces its rows; a replay too', async () => {
  const s = await fresh();
  await readObject(s, 'a');
  await readObject(s, 'a');
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 53, 'no duplicate rows');
  await ingestObject(s, ref('a', { replayed: true }), vpcEvents);
  await s.flush();
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 53);
  assert.equal(await count(s, 'SELECT count(DISTINCT idx) AS n FROM flows'), 53);
  await s.close();
});

test('object keys are data: a key full of quotes and SQL is read twice without duplicates and without running anything', async () => {
  const s = await fresh();
  const hostile = "AWSLogs/x/'; DROP TABLE flows; --/it''s \\' .log.gz";
  await readObject(s, hostile);
  await readObject(s, hostile);
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 53, 'the second read replaced the first');
  assert.equal(await count(s, 'SELECT count(*) AS n FROM objects WHERE key = $1', [hostile]), 1, 'one health row: the older one was deleted by key, as data');
  await s.close();
});

test('a process killed while an object is half stored: the next open takes those rows back, committed objects stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-store-crash-'));
  // the child stores object A whole and the first batch of object B, commits (as a group commit does while B
  // is still being read), then dies by SIGKILL before B's own commit
  const child = `
    import { openStore } from ${JSON.stringify(new URL('./index.ts', import.meta.url).pathname)};
    import { decodeBuffer } from ${JSON.stringify(new URL('../decoders/index.ts', import.meta.url).pathname)};
    import { readFileSync } from 'node:fs';
    const events = decodeBuffer(readFileSync(${JSON.stringify(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'))}), { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, accountId: '149519528842' });
    const s = await openStore(${JSON.stringify(dir)}, { flowRetentionDays: 0, alertRetentionDays: 0 });
    const ref = (key) => ({ bucket: 'b', key, objectId: 'id-' + key, bucketType: 'vpcflow', size: 1, region: 'us-west-2' });
    await s.ingest({ object: ref('a'), firstIndex: 0, events }, []);
    s.recordObject({ bucket: 'b', key: 'a', type: 'vpcflow', status: 'ok', records: events.length, bytes: 1, processedAt: new Date() });
    await s.ingest({ object: ref('b'), firstIndex: 0, events: events.slice(0, 20) }, []);
    await s.flush();
    const n = (await s.query("SELECT count(*) AS n FROM flows WHERE object_id = 'id-b'"))[0].n;
    process.stdout.write(String(n));
    process.kill(process.pid, 'SIGKILL');
  `;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { encoding: 'utf8' });
  assert.equal(out.signal, 'SIGKILL', out.stderr);
  assert.equal(out.stdout, '20', "B's first rows were committed before the kill");
  const s = await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0 });
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-b'"), 0, 'the half-stored object is taken back (it will be read again)');
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-a'"), 53, 'the committed object stays');
  await readObject(s, 'b');
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-b'"), 53, 'read again: each row once');
  assert.equal(await count(s, 'SELECT count(*) AS n FROM open_objects'), 0);
  await s.close();
});

test('a long dashboard query does not hold up the collector: reads have their own connection', async () => {
  const s = await fresh();
  let queryDone = 0;
  const slow = s.query('SELECT sum(hash(i)) AS h FROM range(400000000) t(i)').then(() => (queryDone = Date.now()));
  await new Promise((r) => setTimeout(r, 50)); // the query is running
  await readObject(s, 'during');
  const committed = Date.now();
  await slow;
  assert.ok(committed < queryDone, `the commit finished ${queryDone - committed} ms before the query`);
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-during'"), 53);
  await s.close();
});

test('a store made before the flow range columns opens, and its objects re-read without duplicates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-store-old-'));
  const { DuckDBInstance } = await import('@duckdb/node-api');
  mkdirSync(join(dir, 'store'));
  const old = await DuckDBInstance.create(join(dir, 'store', 'tld.duckdb'));
  const c = await old.connect();
  await c.run(`CREATE TABLE objects (bucket VARCHAR, key VARCHAR, type VARCHAR, status VARCHAR, error VARCHAR, records BIGINT, bytes BIGINT, last_modified TIMESTAMP, processed_at TIMESTAMP)`);
  await c.run(`INSERT INTO objects VALUES ('b', 'a', 'vpcflow', 'ok', NULL, 53, 1, NULL, now())`);
  await c.run(`CREATE TABLE flows (object_id VARCHAR, idx INTEGER, ts TIMESTAMP, end_ts TIMESTAMP, account VARCHAR, region VARCHAR, eni VARCHAR, src VARCHAR, dst VARCHAR, sport INTEGER, dport INTEGER, proto SMALLINT, packets BIGINT, bytes BIGINT, action VARCHAR, log_status VARCHAR, bucket VARCHAR)`);
  await c.run(`INSERT INTO flows (object_id, idx, ts) SELECT 'id-a', i, TIMESTAMP '2001-01-01' FROM range(53) t(i)`); // far outside the records' times
  c.closeSync();
  old.closeSync();
  const s = await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0 });
  await readObject(s, 'a');
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-a'"), 53, 'the old rows went (no range known for them)');
  const [row] = await s.query("SELECT flow_rows, epoch_ms(first_ts) AS f, epoch_ms(last_ts) AS l FROM objects WHERE key = 'a' AND flow_rows IS NOT NULL");
  const times = vpcEvents.map((e) => Date.parse(String(e.aws.start)));
  assert.deepEqual(row, { flow_rows: '53', f: String(Math.min(...times)), l: String(Math.max(...times)) });
  // a third read deletes within that range only, and still leaves each row once
  await readObject(s, 'a');
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-a'"), 53);
  await s.close();
});

test('rows without a record time: a re-read deletes without a time range, so nothing is left twice', async () => {
  const s = await fresh();
  const untimed = vpcEvents.map((e, i) => (i % 2 ? e : { ...e, aws: { ...e.aws, start: undefined } })) as AwsEvent[];
  for (let read = 0; read < 2; read++) {
    await readObject(s, 'u', untimed);
  }
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-u'"), 53);
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-u' AND ts IS NULL"), 27);
  await s.close();
});

test('<memory_limit_mb> bounds DuckDB: what it wrote does not stay cached beyond the limit', async () => {
  // 48 MB, not less: nearer the appender's own working set (a 100k-row commit) DuckDB could fail an append on a
  // busy machine ("could not allocate block", 30.6 of 30.5 MiB at 32 MB)
  const limitMb = Number(process.env.TLD_TEST_STORE_LIMIT_MB ?? 48);
  const s = await openStore(mkdtempSync(join(tmpdir(), 'tld-store-mem-')), { flowRetentionDays: 0, alertRetentionDays: 0, ...(limitMb > 0 ? { memoryLimitMb: limitMb } : {}) });
  const [setting] = await s.query("SELECT current_setting('memory_limit') AS m");
  if (limitMb > 0) assert.match(String(setting?.m), /^4[4-8](\.\d+)? ?Mi?B$/);
  // 4M varied rows written and committed: without a limit DuckDB keeps ~73 MB of their blocks cached
  const batch = Array.from({ length: 5000 }, (_, j) => ({ ...vpcEvents[j % vpcEvents.length]!, aws: { ...vpcEvents[j % vpcEvents.length]!.aws } }));
  for (let o = 0; o < 40; o++) {
    for (let first = 0; first < 100_000; first += batch.length) {
      batch.forEach((e, j) => {
        const n = o * 100_000 + first + j;
        Object.assign(e.aws, { srcaddr: `10.${o}.${(n >> 8) & 255}.${n & 255}`, dstaddr: `172.16.${(n * 7) & 255}.${(n * 13) & 255}`, srcport: (n * 7919) % 65536, bytes: n * 7919, start: new Date(1750960000000 + n * 37).toISOString() });
      });
      await s.ingest({ object: ref(`m${o}`), firstIndex: first, events: batch }, []);
    }
    s.recordObject(health(`m${o}`));
    await s.flush();
  }
  assert.equal(await count(s, 'SELECT count(DISTINCT bytes) AS n FROM flows'), 4_000_000);
  const [mem] = await s.query('SELECT sum(memory_usage_bytes) AS b FROM duckdb_memory()');
  assert.ok(Number(mem?.b) <= 48 * 2 ** 20, `DuckDB holds ${Math.round(Number(mem?.b) / 2 ** 20)} MB`);
  await s.close();
});

test('a store out of memory says which setting to raise', async () => {
  const s = await openStore(mkdtempSync(join(tmpdir(), 'tld-store-oom-')), { flowRetentionDays: 0, alertRetentionDays: 0, memoryLimitMb: 4 });
  const events = Array.from({ length: 100_000 }, (_, n) => ({ ...vpcEvents[n % vpcEvents.length]!, aws: { ...vpcEvents[n % vpcEvents.length]!.aws, srcaddr: `10.${n >> 16}.${(n >> 8) & 255}.${n & 255}`, bytes: n } }));
  await ingestObject(s, ref('big'), events, 5000);
  s.recordObject(health('big'));
  await assert.rejects(s.flush(), /the store ran out of memory \(<store><memory_limit_mb> is 4 MB\): raise <memory_limit_mb>/);
});

test('an abandoned read is taken back (discardObject), so its retry does not double the rows; other objects stay', async () => {
  const s = await fresh();
  await readObject(s, 'keep');
  await ingestObject(s, ref('b'), vpcEvents.slice(0, 30));
  await s.discardObject(ref('b'));
  await readObject(s, 'b');
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-b'"), 53);
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-keep'"), 53);
  await s.close();
});

test('a finished object whose commit failed is taken back with its health row still waiting for the flush', async () => {
  const s = await fresh();
  await ingestObject(s, ref('c'), vpcEvents);
  s.recordObject(health('c'));
  await s.discardObject(ref('c'));
  await s.flush();
  assert.equal(await count(s, 'SELECT count(*) AS n FROM objects'), 0, 'no health row for an object that will be read again');
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 0);
  await s.close();
});

test('an object read again (after a crash between the store commit and its mark, or a replay) counts once in the health table', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-store-'));
  const cfg = { flowRetentionDays: 0, alertRetentionDays: 0 };
  let s = await openStore(dir, cfg);
  await readObject(s, 'a');
  // an empty object: no batch ever comes for it
  s.recordObject({ ...health('empty'), records: 0 });
  await s.flush();
  await s.close();
  // the "crash": the same objects are read again by the next run
  s = await openStore(dir, cfg);
  await new Promise((r) => setTimeout(r, 5));
  await readObject(s, 'a');
  s.recordObject({ ...health('empty'), records: 0 });
  await s.flush();
  assert.deepEqual(
    (await s.query('SELECT key, count(*) AS n, sum(records) AS records FROM objects GROUP BY key ORDER BY key')).map((r) => [r.key, Number(r.n), Number(r.records)]),
    [['a', 1, vpcEvents.length], ['empty', 1, 0]],
  );
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), vpcEvents.length);
  await s.close();
});

function finding(id: string, count: number, severity: number, updatedAt: string): AwsEvent {
  return {
    integration: 'aws',
    aws: {
      log_info: logInfo, source: 'guardduty', id, type: 'UnauthorizedAccess:EC2/SSHBruteForce', severity, title: 'SSH brute force', accountId: '111111111111', region: 'us-east-1',
      createdAt: '2025-06-26T10:00:00.000Z', updatedAt,
      resource: { instanceDetails: { instanceId: 'i-1' } },
      service: { count, action: { actionType: 'NETWORK_CONNECTION', networkConnectionAction: { remoteIpDetails: { ipAddressV4: '198.51.100.9', country: { countryName: 'X' } }, localPortDetails: { port: 22 } } } },
    },
  };
}

test('a GuardDuty finding is one row per id: first seen kept, newest state wins, each count/severity change in history; late older copies ignored', async () => {
  const s = await fresh();
  const gd = (key: string, events: AwsEvent[]): EventBatch => ({ object: { ...ref(key), bucketType: 'guardduty' }, firstIndex: 0, events });
  await s.ingest(gd('g1', [finding('f1', 5, 5, '2025-06-26T11:00:00.000Z')]), []);
  await s.flush();
  await s.ingest(gd('g2', [finding('f1', 40, 8, '2025-06-26T12:00:00.000Z')]), []);
  await s.flush();
  await s.ingest(gd('g3', [finding('f1', 20, 5, '2025-06-26T11:30:00.000Z')]), []);
  await s.flush();
  const rows = await s.query('SELECT count, severity, epoch_ms(first_seen) AS first, epoch_ms(last_seen) AS last, history, port, remote_ip, instance_id FROM findings');
  assert.equal(rows.length, 1);
  const r = rows[0]!;
  assert.equal(Number(r.count), 40);
  assert.equal(Number(r.severity), 8);
  assert.equal(Number(r.last), Date.parse('2025-06-26T12:00:00.000Z'));
  assert.ok(Number(r.first) <= Date.parse('2025-06-26T11:00:00.000Z'));
  assert.deepEqual(r.port, 22);
  assert.equal(r.remote_ip, '198.51.100.9');
  assert.equal(r.instance_id, 'i-1');
  const history = JSON.parse(String(r.history)) as { count: number; severity: number }[];
  assert.deepEqual(history.map((h) => [h.count, h.severity]).slice(0, 2), [[5, 5], [40, 8]]);
  await s.close();
});

test('alerts are keyed by id (a re-read writes the same alert once); retention drops old flows, alerts and object health rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-store-'));
  const s = await openStore(dir, { flowRetentionDays: 30, alertRetentionDays: 30 });
  const alert = (id: string, at: string): Alert => ({
    timestamp: at, rule: { id: '80402', level: 4, description: 'x', groups: ['aws'], firedtimes: 1, mail: false }, agent: { id: '000', name: 'm' }, manager: { name: 'm' }, id, decoder: { name: 'json' }, data: vpcEvents[0]!, location: 'Wazuh-AWS',
  });
  const b: EventBatch = { object: ref('a'), firstIndex: 0, events: vpcEvents };
  await s.ingest(b, [alert('x-1', '2025-06-26T20:00:00.000Z'), alert('x-1', '2025-06-26T20:00:00.000Z')]);
  s.recordObject({ ...health('a'), processedAt: new Date('2025-06-26T20:00:00Z') });
  await s.flush();
  await s.ingest({ ...b, object: ref('a-again'), events: [] }, [alert('x-1', '2025-06-26T20:00:00.000Z')]);
  await s.flush();
  assert.equal(await count(s, 'SELECT count(*) AS n FROM alerts'), 1);
  await s.applyRetention(new Date('2025-07-10T00:00:00Z'));
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 53, 'inside 30 days');
  assert.equal(await count(s, 'SELECT count(*) AS n FROM objects'), 1);
  await s.applyRetention(new Date('2025-08-30T00:00:00Z'));
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 0);
  assert.equal(await count(s, 'SELECT count(*) AS n FROM alerts'), 0);
  assert.equal(await count(s, 'SELECT count(*) AS n FROM objects'), 0);
  await s.close();
});

test('commits that run while the next objects are read (group commits) never overlap a read on the writer connection', async () => {
  // The pipeline starts a group commit and goes on reading: ingest (the "read before?" lookup, appends) and
  // flush (health rows, open-list cleanup, alert deletes) then run at the same time. On one DuckDB connection
  // two statements at once fail ("unsuccessful or closed pending query result"): a million-object run hit it.
  const s = await fresh();
  const alert = (id: string): Alert => ({
    timestamp: '2025-06-26T20:00:00.000Z', rule: { id: '80402', level: 4, description: 'x', groups: ['aws'], firedtimes: 1, mail: false }, agent: { id: '000', name: 'm' }, manager: { name: 'm' }, id, decoder: { name: 'json' }, data: vpcEvents[0]!, location: 'Wazuh-AWS',
  });
  const commits: Promise<void>[] = [];
  const objects = 60;
  for (let i = 0; i < objects; i++) {
    const object = ref(`o${i}`);
    // the first half of the object, a group commit of what came before (this object is still open), the rest
    await s.ingest({ object, firstIndex: 0, events: vpcEvents.slice(0, 20) }, [alert(`a${i}`)]);
    commits.push(s.flush());
    await s.ingest({ object, firstIndex: 20, events: vpcEvents.slice(20) }, []);
    s.recordObject(health(`o${i}`));
    commits.push(s.flush());
  }
  await Promise.all(commits);
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), objects * vpcEvents.length);
  assert.equal(await count(s, 'SELECT count(DISTINCT object_id) AS n FROM flows'), objects);
  assert.equal(await count(s, 'SELECT count(*) AS n FROM alerts'), objects);
  assert.equal(await count(s, 'SELECT count(*) AS n FROM objects'), objects);
  assert.equal(await count(s, 'SELECT count(*) AS n FROM open_objects'), 0, 'every open object left the list');
  await s.close();
});

test('the database is opened again after many rows (memory): an object read across it, and reads during it, lose nothing', async () => {
  const s = await openStore(mkdtempSync(join(tmpdir(), 'tld-store-')), { flowRetentionDays: 0, alertRetentionDays: 0 }, { reopenRows: 30 });
  const a = ref('a');
  await s.ingest({ object: a, firstIndex: 0, events: vpcEvents.slice(0, 20) }, []);
  await s.flush(); // 20 rows of A committed while A is still being read: A is on the open list
  assert.equal(s.openings, 1);
  await ingestObject(s, ref('b'), vpcEvents);
  s.recordObject(health('b'));
  // 73 rows since the opening: this flush opens the database again, while dashboard reads keep arriving
  let flushed = false;
  const flush = s.flush().then(() => (flushed = true));
  const reads: Promise<Record<string, unknown>[]>[] = [];
  while (!flushed) {
    reads.push(s.query('SELECT count(*) AS n FROM flows'));
    await new Promise((r) => setTimeout(r, 1));
  }
  await flush;
  assert.equal(s.openings, 2);
  for (const r of await Promise.all(reads)) assert.ok([20, 73].includes(Number(r[0]?.n)), `a read saw committed rows only (${r[0]?.n})`);
  await s.ingest({ object: a, firstIndex: 20, events: vpcEvents.slice(20) }, []);
  s.recordObject(health('a'));
  await s.flush();
  assert.equal(await count(s, "SELECT count(*) AS n FROM flows WHERE object_id = 'id-a'"), 53);
  assert.deepEqual((await s.query("SELECT flow_rows FROM objects WHERE key = 'a'")).map((r) => Number(r.flow_rows)), [53], "A's health row counts the rows of both openings");
  assert.equal(await count(s, 'SELECT count(*) AS n FROM open_objects'), 0);
  await readObject(s, 'a');
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 106, 'a re-read after the reopen still replaces its rows');
  await s.close();
});

test('a reopen that finds the store taken by another process says which process to stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-store-'));
  await (await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0 })).close();
  const path = join(dir, 'store', 'tld.duckdb');
  // another process (as a `tld dashboard` would) opens the file while the store has it closed
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    import { DuckDBInstance } from '@duckdb/node-api';
    await DuckDBInstance.create(${JSON.stringify(path)}, { access_mode: 'READ_ONLY' });
    process.stdout.write('ready\\n');
    setTimeout(() => {}, 30000);
  `], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    await assert.rejects(reopenDatabase(path, {}, 2), /could not be opened again .*If another process \(tld dashboard\) has it open, stop that process/);
  } finally {
    holder.kill();
  }
});

test('a reopen that fails leaves the store closed, not broken: reads say so, and the next write opens it again', async () => {
  let failures = 1;
  const s = await openStore(mkdtempSync(join(tmpdir(), 'tld-store-')), { flowRetentionDays: 0, alertRetentionDays: 0 }, {
    reopenRows: 30,
    reopen: async (path, settings) => {
      if (failures-- > 0) throw new Error('the disk is gone for a moment');
      return reopenDatabase(path, settings);
    },
  });
  await ingestObject(s, ref('a'), vpcEvents);
  s.recordObject(health('a'));
  await assert.rejects(s.flush(), /the disk is gone/, 'A is committed (53 rows), then the reopen fails');
  assert.equal(s.openings, 1);
  await assert.rejects(s.query('SELECT 1'), /is closed: opening it again failed; the collector retries at its next write/);
  await readObject(s, 'b'); // the next write opens the database again first
  assert.equal(s.openings, 3, 'opened again before the write, and again after its 53 rows');
  assert.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 106, "A's committed rows survived, B's were added");
  await s.close();
});
