/**
 * A store written by the previous code (store format 1: addresses, ENIs, accounts, actions as text) opens with
 * the current code: its flows are converted on open, and the dashboard answers exactly as it does for the same
 * records ingested by the current code. A conversion that fails midway leaves the old table as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { decodeBuffer } from '../decoders/index.js';
import type { AwsEvent, ObjectRef } from '../shared/events.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';
import * as q from '../dashboard/queries.js';
import { openStore, type Store } from './index.js';

const VPC = readFileSync(join(SAMPLES_DIR, 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log'));
const real = decodeBuffer(VPC, { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, accountId: '149519528842' });
/** the real records, and copies with what a custom format can carry: IPv6, text that is no address, no address, other actions and statuses */
const odd = (i: number, aws: Record<string, unknown>): AwsEvent => ({ ...real[i % real.length]!, aws: { ...real[i % real.length]!.aws, ...aws } });
const events: AwsEvent[] = [
  ...real,
  odd(1, { srcaddr: '2001:db8::7', dstaddr: '10.0.1.208' }),
  odd(2, { srcaddr: '2001:db8::7', dstaddr: '2001:db8::1', action: '-', log_status: 'NODATA' }),
  odd(3, { srcaddr: 'not-an-address', dstaddr: '010.0.1.208', interface_id: 'eni-0ffffffffffffffff' }),
  odd(4, { srcaddr: undefined, dstaddr: undefined, action: undefined, log_status: 'SKIPDATA' }),
  odd(5, { srcaddr: '10.0.1.20', dstaddr: '10.0.1.2', aws_account_id: '222222222222', region: 'eu-west-1' }),
];
const KEY = 'AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/flows.log.gz';
const objectId = createHash('sha1').update(`b/${KEY}`).digest('hex').slice(0, 16);
const object: ObjectRef = { bucket: 'b', key: KEY, objectId, bucketType: 'vpcflow', size: VPC.length, region: 'us-west-2' };
const str = (v: unknown) => (typeof v === 'string' ? v : null);
const num = (v: unknown) => (typeof v === 'number' ? v : null);
const lit = (v: string | number | null) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replaceAll("'", "''")}'`);
const time = (v: unknown) => (typeof v === 'string' ? `make_timestamp(${Date.parse(v) * 1000})` : 'NULL');

/** The previous code's flows table, as it created it (src/store/schema.ts before store format 2). */
const FORMAT_1 = [
  `CREATE TABLE IF NOT EXISTS flows (
     object_id VARCHAR, idx INTEGER, ts TIMESTAMP, end_ts TIMESTAMP, account VARCHAR, region VARCHAR, eni VARCHAR,
     src VARCHAR, dst VARCHAR, sport INTEGER, dport INTEGER, proto SMALLINT, packets BIGINT, bytes BIGINT,
     action VARCHAR, log_status VARCHAR, bucket VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS objects (
     bucket VARCHAR, key VARCHAR, type VARCHAR, status VARCHAR, error VARCHAR, records BIGINT, bytes BIGINT,
     last_modified TIMESTAMP, processed_at TIMESTAMP, flow_rows BIGINT, first_ts TIMESTAMP, last_ts TIMESTAMP)`,
  `CREATE TABLE IF NOT EXISTS open_objects (object_id VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS alerts (
     id VARCHAR, ts TIMESTAMP, event_ts TIMESTAMP, level INTEGER, rule_id VARCHAR, description VARCHAR, groups VARCHAR,
     source VARCHAR, account VARCHAR, region VARCHAR, src_ip VARCHAR, dst_ip VARCHAR, bucket VARCHAR, json VARCHAR)`,
];

/** A format 1 store holding `events` as the previous code stored them, plus the rows of an object a crash cut off. */
async function format1Store(dir: string, prepare?: (c: DuckDBConnection) => Promise<unknown>): Promise<void> {
  mkdirSync(join(dir, 'store'));
  const db = await DuckDBInstance.create(join(dir, 'store', 'tld.duckdb'));
  const c = await db.connect();
  for (const sql of FORMAT_1) await c.run(sql);
  const rows = events.map((e, i) => {
    const f = e.aws;
    return `(${lit(objectId)}, ${i}, ${time(f.start)}, ${time(f.end)}, ${lit(str(f.aws_account_id))}, ${lit(str(f.region) ?? 'us-west-2')}, ${lit(str(f.interface_id))}, ${lit(str(f.srcaddr))}, ${lit(str(f.dstaddr))},
      ${lit(num(f.srcport))}, ${lit(num(f.dstport))}, ${lit(num(f.protocol))}, ${lit(num(f.packets))}, ${lit(num(f.bytes))}, ${lit(str(f.action))}, ${lit(str(f.log_status))}, 'b')`;
  });
  await c.run(`INSERT INTO flows VALUES ${rows.join(',\n')}`);
  const times = events.map((e) => Date.parse(String(e.aws.start)));
  await c.run(`INSERT INTO objects VALUES ('b', ${lit(KEY)}, 'vpcflow', 'ok', NULL, ${events.length}, ${VPC.length}, NULL, now(), ${events.length}, make_timestamp(${Math.min(...times) * 1000}), make_timestamp(${Math.max(...times) * 1000}))`);
  // an object whose read a crash cut off: on the list of open objects, its rows must go on the next open
  await c.run(`INSERT INTO flows (object_id, idx, ts, src) SELECT 'cut0ff0000000000', i, now(), '10.9.9.9' FROM range(7) t(i)`);
  await c.run(`INSERT INTO open_objects VALUES ('cut0ff0000000000')`);
  await prepare?.(c);
  c.closeSync();
  db.closeSync();
}

/** Every flow panel of the dashboard over the records' day, and a pivot on each kind of address. */
async function dashboard(s: Store) {
  const r = { from: Date.parse('2025-06-26T00:00:00Z'), to: Date.parse('2025-06-27T00:00:00Z') };
  return {
    range: await q.dataRange(s),
    vpc: await q.vpc(s, r),
    pivots: await Promise.all(['10.0.1.208', '10.0.1.20', '2001:db8::7', 'not-an-address', '010.0.1.208', String(real[0]!.aws.srcaddr)].map((ip) => q.ipPivot(s, ip, r))),
  };
}

test('a format 1 store is converted on open: same rows, addresses back as text, and the dashboard answers as for the same records ingested now', async () => {
  const oldDir = mkdtempSync(join(tmpdir(), 'tld-store-format1-'));
  await format1Store(oldDir);
  const converted = await openStore(oldDir, { flowRetentionDays: 0, alertRetentionDays: 0 });
  const freshDir = mkdtempSync(join(tmpdir(), 'tld-store-format2-'));
  const fresh = await openStore(freshDir, { flowRetentionDays: 0, alertRetentionDays: 0 });
  await fresh.ingest({ object, firstIndex: 0, events }, []);
  fresh.recordObject({ bucket: 'b', key: KEY, type: 'vpcflow', status: 'ok', records: events.length, bytes: VPC.length, processedAt: new Date() });
  await fresh.flush();

  assert.deepEqual(await converted.query(`SELECT value FROM store_meta WHERE key = 'format'`), [{ value: '2' }]);
  assert.equal(Number((await converted.query('SELECT count(*) AS n FROM flows'))[0]?.n), events.length, "the cut-off object's rows went, every other row stayed");
  const [text] = await converted.query(`SELECT count(*) FILTER (WHERE src_text IS NOT NULL) AS texts, count(*) FILTER (WHERE src4 IS NOT NULL) AS numbers FROM flows`);
  const sources = events.map((e) => e.aws.srcaddr);
  const plainIpv4 = sources.filter((v) => typeof v === 'string' && /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(v)).length;
  const otherText = sources.filter((v) => typeof v === 'string').length - plainIpv4;
  assert.ok(otherText >= 3 && plainIpv4 > 40);
  assert.deepEqual(text, { texts: String(otherText), numbers: String(plainIpv4) }, 'IPv4 as numbers; IPv6 and a non-address kept as text');
  const all = 'SELECT object_id, idx, epoch_ms(ts) AS t, eni, account, region, src, dst, sport, dport, proto, packets, bytes, action, log_status FROM flows_v ORDER BY idx';
  const stored = await converted.query(all);
  assert.deepEqual(stored, await fresh.query(all));
  assert.deepEqual(stored.slice(-5).map((r) => [r.src, r.dst, r.action, r.log_status]), [
    ['2001:db8::7', '10.0.1.208', 'REJECT', 'OK'],
    ['2001:db8::7', '2001:db8::1', null, 'NODATA'],
    ['not-an-address', '010.0.1.208', 'REJECT', 'OK'],
    [null, null, null, 'SKIPDATA'],
    ['10.0.1.20', '10.0.1.2', 'REJECT', 'OK'],
  ]);
  const answers = await dashboard(converted);
  assert.deepEqual(answers, await dashboard(fresh));
  assert.ok(answers.vpc.talkers.length > 0);
  assert.deepEqual(answers.pivots.filter((p) => !(Number(p.summary.flows) > 0)).map((p) => p.ip), [], 'every pivot found its flows');
  assert.deepEqual([...new Set(answers.vpc.byEni.map((e) => e.account))].sort(), ['149519528842', '222222222222']);
  // the health row learnt its object's id: a flow's bucket and key are found through it
  assert.deepEqual(await converted.query(`SELECT o.bucket, o.key, count(*) AS n FROM flows f JOIN objects o USING (object_id) GROUP BY ALL`), [{ bucket: 'b', key: KEY, n: String(events.length) }]);
  // and the converted object is replaced, not doubled, when read again
  await converted.ingest({ object, firstIndex: 0, events }, []);
  converted.recordObject({ bucket: 'b', key: KEY, type: 'vpcflow', status: 'ok', records: events.length, bytes: VPC.length, processedAt: new Date() });
  await converted.flush();
  assert.deepEqual(await converted.query(all), stored);
  await converted.close();
  await fresh.close();
});

test('a conversion that fails midway changes nothing: the old table stays whole, and the next open converts it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-store-format1-'));
  // a view in the way of the conversion's new table makes it fail after it has started
  await format1Store(dir, (c) => c.run('CREATE VIEW flows_format2 AS SELECT 1 AS x'));
  await assert.rejects(openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0 }), /could not be converted from store format 1 to 2 \(nothing was changed; it is tried again at the next start\)/);
  const db = await DuckDBInstance.create(join(dir, 'store', 'tld.duckdb'));
  const c = await db.connect();
  const [old] = (await c.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT src) AS s, any_value(typeof(src)) AS type FROM flows`)).getRowObjectsJson();
  assert.deepEqual(old, { n: String(events.length + 7), s: old!.s, type: 'VARCHAR' }, 'format 1 rows, all of them');
  assert.equal((await c.runAndReadAll(`SELECT count(*) AS n FROM open_objects`)).getRowObjectsJson()[0]?.n, '1');
  await c.run('DROP VIEW flows_format2');
  c.closeSync();
  db.closeSync();
  const s = await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0 });
  assert.equal(Number((await s.query('SELECT count(*) AS n FROM flows'))[0]?.n), events.length);
  await s.close();
});

test('a dashboard opening a format 1 store read-only says how to convert it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-store-format1-'));
  await format1Store(dir);
  await assert.rejects(openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0 }, { readOnly: true }), /older format \(1\) that is converted when the collector opens it: run tld run-once or tld start once/);
});
