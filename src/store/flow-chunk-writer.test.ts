/** Flow rows through DuckDB data chunks: every value lands in its column across chunk boundaries, constant and varying strings, NULLs, and numbers that do not fit their column. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { SCHEMA } from './schema.js';
import { FlowChunkWriter } from './flow-chunk-writer.js';

async function table() {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(SCHEMA[0]!);
  const appender = await conn.createAppender('flows');
  return { conn, appender, writer: new FlowChunkWriter(appender) };
}

test('5,000 rows over three chunks: per-row strings, per-object constants that change mid-chunk, NULLs and numbers, all exact', async () => {
  const { conn, appender, writer } = await table();
  const N = 5000;
  for (let i = 0; i < N; i++) {
    // objects change every 1,500 rows, so some chunks hold one object (constant vector) and some two
    const object = `obj-${Math.floor(i / 1500)}`;
    writer.add(object, i, 1_700_000_000_000 + i * 1000, i % 10 === 0 ? null : 1_700_000_060_000 + i, '111122223333', i % 3 ? 'eu-west-1' : null, `eni-${i % 7}`, `10.0.${i % 256}.${i % 200}`, i % 5 ? '192.0.2.1' : null, 40_000 + i, i % 4 ? 443 : null, 6, i, 2 ** 40 + i, i % 9 ? 'ACCEPT' : 'REJECT', 'OK', 'bucket');
  }
  assert.equal(writer.pendingRows, N % 2048);
  writer.flush();
  appender.flushSync();
  const rows = (await conn.runAndReadAll('SELECT object_id, idx, epoch_ms(ts) AS t, epoch_ms(end_ts) AS e, account, region, eni, src, dst, sport, dport, proto, packets, bytes, action, log_status, bucket FROM flows ORDER BY idx')).getRowObjectsJson();
  assert.equal(rows.length, N);
  for (const i of [0, 1, 2, 3, 1499, 1500, 2047, 2048, 2049, 3000, 4095, 4096, 4999]) {
    assert.deepEqual(rows[i], {
      object_id: `obj-${Math.floor(i / 1500)}`, idx: i, t: String(1_700_000_000_000 + i * 1000), e: i % 10 === 0 ? null : String(1_700_000_060_000 + i),
      account: '111122223333', region: i % 3 ? 'eu-west-1' : null, eni: `eni-${i % 7}`, src: `10.0.${i % 256}.${i % 200}`, dst: i % 5 ? '192.0.2.1' : null,
      sport: 40_000 + i, dport: i % 4 ? 443 : null, proto: 6, packets: String(i), bytes: String(2 ** 40 + i), action: i % 9 ? 'ACCEPT' : 'REJECT', log_status: 'OK', bucket: 'bucket',
    }, `row ${i}`);
  }
  const [sums] = (await conn.runAndReadAll('SELECT sum(packets) AS p, count(dst) AS d, count(DISTINCT object_id) AS o FROM flows')).getRowObjectsJson();
  assert.deepEqual(sums, { p: String((N * (N - 1)) / 2), d: String(N - N / 5), o: String(4) });
});

test('numbers outside their column become NULL, never wrapped: ports beyond int32, protocol beyond smallint, fractions, beyond-safe and beyond-int64 counts', async () => {
  const { conn, appender, writer } = await table();
  writer.add('o', 0, 0, -1000, null, null, null, null, null, 99_999_999_999, 1.5, 70_000, 2 ** 60, 2 ** 70, null, null, 'b');
  writer.add('o', 1, Number.NaN, null, null, null, null, null, null, -1, 0, -1, -5, 0, null, null, 'b');
  writer.flush();
  appender.flushSync();
  const rows = (await conn.runAndReadAll('SELECT idx, epoch_ms(ts) AS t, epoch_ms(end_ts) AS e, sport, dport, proto, packets, bytes, account FROM flows ORDER BY idx')).getRowObjectsJson();
  assert.deepEqual(rows, [
    { idx: 0, t: '0', e: '-1000', sport: null, dport: null, proto: null, packets: String(2n ** 60n), bytes: null, account: null },
    { idx: 1, t: null, e: null, sport: -1, dport: 0, proto: -1, packets: '-5', bytes: '0', account: null },
  ]);
});

test('strings written inline (short ASCII) and by DuckDB (long, non-ASCII) are the same values to every query', async () => {
  const { conn, appender, writer } = await table();
  // 12 and 13 characters (inline limit), empty, non-ASCII short, and values that also appear as chunk constants
  const values = ['', 'ACCEPT', '123456789012', '1234567890123', 'é', 'zürich-1', '2001:db8::1', 'x'.repeat(40)];
  let idx = 0;
  // two mixed chunks with the values in different slots: an inlined value never keeps bytes of the one before
  for (const order of [values, [...values].reverse()]) {
    for (let round = 0; round < (order === values ? 2 : 1); round++) for (const v of order) writer.add('o', idx++, 0, 0, v, v, v, v, v, 1, 1, 1, 1, 1, v, v, 'b');
    writer.flush();
  }
  for (const v of values) for (let i = 0; i < 10; i++) writer.add('o', idx++, 0, 0, v, v, v, v, v, 1, 1, 1, 1, 1, v, v, 'b'); // constant chunks
  writer.flush();
  for (let i = 0; i < 10; i++) writer.add('o', idx++, 0, 0, 'ACCEPT', 'ACCEPT', 'ACCEPT', 'ACCEPT', 'ACCEPT', 1, 1, 1, 1, 1, 'ACCEPT', 'ACCEPT', 'b');
  writer.flush();
  appender.flushSync();
  for (const v of values) {
    const [r] = (await conn.runAndReadAll('SELECT count(*) AS n, count(DISTINCT account || region || eni || src || dst || action || log_status) AS d FROM flows WHERE src = $1 AND action = $1 AND account = $1', [v])).getRowObjectsJson();
    assert.deepEqual(r, { n: String(v === 'ACCEPT' ? 3 + 10 + 10 : 3 + 10), d: '1' }, JSON.stringify(v));
  }
  const [g] = (await conn.runAndReadAll('SELECT count(DISTINCT src) AS d, max(length(src)) AS m FROM flows')).getRowObjectsJson();
  assert.deepEqual(g, { d: String(values.length), m: '40' });
});
