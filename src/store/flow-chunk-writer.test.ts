/** Flow rows through DuckDB data chunks: every value lands in its column across chunk and object boundaries, IPv4 as numbers and other addresses as text, NULLs, and numbers that do not fit their column. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { BASE_SCHEMA, FLOW_SCHEMA, MACROS } from './schema.js';
import { FlowChunkWriter } from './flow-chunk-writer.js';
import { enumCode, flowColumns, setAddress, type FlowColumns } from './store-rows.js';
import { FLOW_ACTIONS, FLOW_LOG_STATUSES } from './schema.js';
import { sqlString } from './sql.js';

async function table() {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  for (const sql of [...BASE_SCHEMA, ...MACROS, ...FLOW_SCHEMA]) await conn.run(sql);
  const appender = await conn.createAppender('flows');
  return { conn, appender, writer: new FlowChunkWriter(appender) };
}

interface Row {
  idx: number;
  start: number;
  end: number;
  src: unknown;
  dst: unknown;
  sport: number;
  dport: number;
  proto: number;
  packets: number;
  bytes: number;
  action: unknown;
  status: unknown;
}

function columns(rows: Row[]): FlowColumns {
  const c = flowColumns(rows.length);
  for (const [r, v] of rows.entries()) {
    c.rows++;
    c.idx[r] = v.idx;
    c.start[r] = v.start;
    c.end[r] = v.end;
    setAddress(c.src4, c.srcOther, r, v.src);
    setAddress(c.dst4, c.dstOther, r, v.dst);
    c.sport[r] = v.sport;
    c.dport[r] = v.dport;
    c.proto[r] = v.proto;
    c.packets[r] = v.packets;
    c.bytes[r] = v.bytes;
    c.action[r] = enumCode(FLOW_ACTIONS, v.action);
    c.logStatus[r] = enumCode(FLOW_LOG_STATUSES, v.status);
    c.place[r] = 0;
  }
  c.places = [{ eni: null, account: null, region: null }];
  return c;
}

const SELECT = `SELECT printf('%016x', object_id) AS o, idx, epoch_ms(ts) AS t, epoch_ms(end_ts) AS e, iface, ip_text(src4, src_text) AS src, ip_text(dst4, dst_text) AS dst,
  src4, src_text, sport, dport, proto, packets, bytes, action::VARCHAR AS action, log_status::VARCHAR AS log_status FROM flows ORDER BY idx`;

test('5,000 rows over three chunks and two objects: IPv4 and other addresses, NULLs and numbers, all exact', async () => {
  const { conn, appender, writer } = await table();
  const N = 5000;
  const addr = (i: number) => (i % 11 === 0 ? `2001:db8::${i.toString(16)}` : i % 13 === 0 ? null : `10.${i % 256}.${(i * 7) % 256}.${i % 200}`);
  const rows: Row[] = Array.from({ length: N }, (_, i) => ({
    idx: i, start: 1_700_000_000_000 + i * 1000, end: i % 10 === 0 ? NaN : 1_700_000_060_000 + i, src: addr(i), dst: i % 5 ? '192.0.2.1' : 'not an address',
    sport: 40_000 + i, dport: i % 4 ? 443 : NaN, proto: 6, packets: i, bytes: 2 ** 40 + i, action: i % 9 ? 'ACCEPT' : i % 2 ? 'REJECT' : '-', status: i % 3 ? 'OK' : 'NODATA',
  }));
  const cols = columns(rows);
  const iface = new Uint32Array(N).map((_, i) => i % 7);
  // the object changes at row 1,500 (mid-chunk): a chunk holds one object's rows
  writer.add(0x1234n, cols, 0, 1500, iface);
  writer.add(0xffffffffffffffffn, cols, 1500, N, iface.subarray(1500));
  writer.flush();
  appender.flushSync();
  const got = (await conn.runAndReadAll(SELECT)).getRowObjectsJson();
  assert.equal(got.length, N);
  for (const i of [0, 1, 2, 11, 13, 143, 1499, 1500, 2047, 2048, 2049, 3000, 3548, 4095, 4096, 4999]) {
    const src = addr(i);
    assert.deepEqual(got[i], {
      o: i < 1500 ? '0000000000001234' : 'ffffffffffffffff', idx: i, t: String(1_700_000_000_000 + i * 1000), e: i % 10 === 0 ? null : String(1_700_000_060_000 + i), iface: i % 7,
      src, dst: i % 5 ? '192.0.2.1' : 'not an address', src4: src === null || src.includes(':') ? null : got[i]!.src4, src_text: src !== null && src.includes(':') ? src : null,
      sport: 40_000 + i, dport: i % 4 ? 443 : null, proto: 6, packets: String(i), bytes: String(2 ** 40 + i), action: i % 9 ? 'ACCEPT' : i % 2 ? 'REJECT' : null, log_status: i % 3 ? 'OK' : 'NODATA',
    }, `row ${i}`);
  }
  const [sums] = (await conn.runAndReadAll(`SELECT sum(packets) AS p, count(src4) AS s4, count(src_text) AS st, count(DISTINCT object_id) AS o FROM flows`)).getRowObjectsJson();
  const v6 = rows.filter((r) => typeof r.src === 'string' && r.src.includes(':')).length;
  const none = rows.filter((r) => r.src === null).length;
  assert.deepEqual(sums, { p: String((N * (N - 1)) / 2), s4: String(N - v6 - none), st: String(v6), o: '2' });
});

test('numbers outside their column become NULL, never wrapped: ports beyond int32, protocol beyond smallint, fractions, beyond-safe and beyond-int64 counts', async () => {
  const { conn, appender, writer } = await table();
  const cols = columns([
    { idx: 0, start: 0, end: -1000, src: null, dst: null, sport: 99_999_999_999, dport: 1.5, proto: 70_000, packets: 2 ** 60, bytes: 2 ** 70, action: null, status: null },
    { idx: 1, start: NaN, end: NaN, src: null, dst: null, sport: -1, dport: 0, proto: -1, packets: -5, bytes: 0, action: null, status: null },
  ]);
  writer.add(1n, cols, 0, 2, new Uint32Array(2));
  writer.flush();
  appender.flushSync();
  const rows = (await conn.runAndReadAll('SELECT idx, epoch_ms(ts) AS t, epoch_ms(end_ts) AS e, sport, dport, proto, packets, bytes, src4, src_text FROM flows ORDER BY idx')).getRowObjectsJson();
  assert.deepEqual(rows, [
    { idx: 0, t: '0', e: '-1000', sport: null, dport: null, proto: null, packets: String(2n ** 60n), bytes: null, src4: null, src_text: null },
    { idx: 1, t: null, e: null, sport: -1, dport: 0, proto: -1, packets: '-5', bytes: '0', src4: null, src_text: null },
  ]);
});

test('addresses: only plain IPv4 text becomes a number, and comes back exactly; everything else is kept as text', async () => {
  const { conn, appender, writer } = await table();
  const values = ['0.0.0.0', '255.255.255.255', '10.0.1.1', '10.0.1.10', '010.0.1.1', '10.0.1', '10.0.1.1.1', '256.0.0.1', '1.2.3.4 ', '::1', 'fe80::1%eth0', '-', '', 'é.1.1.1', 'x'.repeat(40)];
  const cols = columns(values.map((v, i) => ({ idx: i, start: 0, end: 0, src: v, dst: v, sport: 1, dport: 1, proto: 6, packets: 1, bytes: 1, action: 'ACCEPT', status: 'OK' })));
  writer.add(1n, cols, 0, values.length, new Uint32Array(values.length));
  writer.flush();
  appender.flushSync();
  const rows = (await conn.runAndReadAll('SELECT ip_text(src4, src_text) AS src, ip_text(dst4, dst_text) AS dst, src4 IS NOT NULL AS number FROM flows ORDER BY idx')).getRowObjectsJson();
  assert.deepEqual(rows.map((r) => [r.src, r.dst]), values.map((v) => [v, v]));
  assert.deepEqual(rows.map((r) => r.number), values.map((_, i) => i < 4));
  // the SQL rule (ipv4 macro: filters and the format 1 conversion) is the same as the JavaScript one
  const sql = (await conn.runAndReadAll(`SELECT ipv4(v) AS n FROM (VALUES ${values.map((v, i) => `(${i}, ${sqlString(v)})`).join(', ')}) t(i, v) ORDER BY i`)).getRowObjectsJson();
  assert.deepEqual(sql.map((r) => r.n !== null), values.map((_, i) => i < 4));
  const [exact] = (await conn.runAndReadAll(`SELECT count(*) AS n FROM flows WHERE src4 = ipv4('10.0.1.1')`)).getRowObjectsJson();
  assert.equal(exact?.n, '1', '10.0.1.1 does not match 10.0.1.10');
  const [range] = (await conn.runAndReadAll(`SELECT count(*) AS n FROM flows WHERE src4 BETWEEN ipv4('10.0.0.0') AND ipv4('10.0.255.255')`)).getRowObjectsJson();
  assert.equal(range?.n, '2', 'a CIDR is a range of numbers');
});
