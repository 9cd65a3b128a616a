/**
 * The flow panels read rollups (src/store/rollups.ts) and the flows around them (flow-sources.ts): their answers
 * must be those of a scan of `flows`. The scans are kept here as the panels ran them before the rollups (the
 * reference), and both are compared on a random store, on many random ranges, after inserts (refreshed, partly
 * refreshed, not refreshed), a replay, a re-read, an aborted read, retention and a crash-restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openStore, type EmbeddedStore, type Store } from '../store/index.js';
import { ipv4Number } from '../shared/ipv4.js';
import type { AwsEvent, ObjectRef } from '../shared/events.js';
import { seededRandom } from '../../tests/helpers/seeded-random.js';
import { bucketSeconds, bucketStartMs, ipPivot, topTalkers, vpc, vpcSeries, type Range } from './queries.js';
import { entityPage } from './entity-queries.js';
import { planRange } from './flow-sources.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const t0 = Date.UTC(2025, 5, 20);

// ---- the reference: the panels' scans of `flows`, as they were before the rollups ----

const T = (i: number) => `make_timestamp($${i}::BIGINT * 1000)`;
const flowsIn = `ts BETWEEN ${T(1)} AND ${T(2)}`;
const REJECTED = `action = 'REJECT'::flow_action`;

const raw = {
  series: (s: Store, r: Range, b = bucketSeconds(r)) =>
    s.query(`SELECT ${bucketStartMs('ts', '$3')} AS t, sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets, count(*)::INTEGER AS flows,
      count(*) FILTER (WHERE ${REJECTED})::INTEGER AS rejected FROM flows WHERE ${flowsIn} GROUP BY 1 ORDER BY 1`, [r.from, r.to, b]),
  talkers: (s: Store, r: Range) =>
    s.query(`SELECT ip_text(src4, src_text) AS src, ip_text(dst4, dst_text) AS dst, bytes, packets, flows, rejected FROM (
      SELECT src4, src_text, dst4, dst_text, sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets, count(*)::INTEGER AS flows, count(*) FILTER (WHERE ${REJECTED})::INTEGER AS rejected
      FROM flows WHERE ${flowsIn} AND (src4 IS NOT NULL OR src_text IS NOT NULL) GROUP BY ALL ORDER BY bytes DESC, src4, src_text, dst4, dst_text LIMIT 20) ORDER BY bytes DESC, src4, src_text, dst4, dst_text`, [r.from, r.to]),
  async vpc(s: Store, r: Range) {
    const b = bucketSeconds(r);
    const [row] = await s.query(`WITH g AS (
      SELECT grouping(t, action, log_status, iface)::INTEGER AS grouped, t, action, log_status, iface, sum(bytes)::BIGINT AS bytes, sum(packets)::BIGINT AS packets,
        count(*)::INTEGER AS flows, count(*) FILTER (WHERE ${REJECTED})::INTEGER AS rejected
      FROM (SELECT ${bucketStartMs('ts', '$3')} AS t, action, log_status, iface, bytes, packets FROM flows WHERE ${flowsIn})
      GROUP BY GROUPING SETS ((t), (action, log_status), (iface)))
    SELECT
      (SELECT coalesce(list({'t': t, 'bytes': bytes, 'packets': packets, 'flows': flows, 'rejected': rejected} ORDER BY t), []) FROM g WHERE grouped = 7) AS series,
      (SELECT coalesce(list({'k': k, 'n': n} ORDER BY n DESC, k), []) FROM (
        SELECT coalesce(action::VARCHAR, log_status::VARCHAR) AS k, sum(flows)::INTEGER AS n FROM g WHERE grouped = 9 GROUP BY 1)) AS actions,
      (SELECT coalesce(list({'eni': eni, 'account': account, 'region': region, 'bytes': bytes, 'flows': flows} ORDER BY bytes DESC, eni, account, region), []) FROM (
        SELECT i.eni, i.account, i.region, sum(g.bytes)::BIGINT AS bytes, sum(g.flows)::INTEGER AS flows FROM g LEFT JOIN flow_interfaces i USING (iface)
        WHERE g.grouped = 14 GROUP BY ALL ORDER BY bytes DESC, eni, account, region LIMIT 15)) AS "byEni"`, [r.from, r.to, b]);
    return {
      bucketSeconds: b,
      series: row?.series ?? [],
      talkers: await raw.talkers(s, r),
      rejectedPorts: await s.query(`SELECT dport, count(*)::INTEGER AS n, (count(DISTINCT src4) + count(DISTINCT src_text))::INTEGER AS sources FROM flows WHERE ${flowsIn} AND ${REJECTED} GROUP BY dport ORDER BY n DESC, dport LIMIT 15`, [r.from, r.to]),
      actions: row?.actions ?? [],
      byEni: row?.byEni ?? [],
    };
  },
  async pivot(s: Store, ip: string, r: Range) {
    const n = ipv4Number(ip);
    const [src, dst, value] = n >= 0 ? ['src4 = $3::UINTEGER', 'dst4 = $3::UINTEGER', n] : ['src_text = $3', 'dst_text = $3', ip];
    const [row] = await s.query(`WITH m AS MATERIALIZED (
        SELECT ts, object_id, idx, src4, src_text, dst4, dst_text, sport, dport, proto, packets, bytes, action, iface, (${src}) AS outgoing FROM flows WHERE ts BETWEEN ${T(1)} AND ${T(2)} AND (${src} OR ${dst}))
    SELECT
      (SELECT {'flows': count(*)::INTEGER, 'bytes': sum(bytes)::BIGINT, 'rejected': count(*) FILTER (WHERE ${REJECTED})::INTEGER, 'ports': count(DISTINCT dport)::INTEGER,
        'first': epoch_ms(min(ts)), 'last': epoch_ms(max(ts))} FROM m) AS summary,
      (SELECT coalesce(list({'peer': ip_text(p4, pt), 'bytes': bytes, 'flows': flows} ORDER BY bytes DESC, p4, pt), []) FROM (
        SELECT CASE WHEN outgoing THEN dst4 ELSE src4 END AS p4, CASE WHEN outgoing THEN dst_text ELSE src_text END AS pt, sum(bytes)::BIGINT bytes, count(*)::INTEGER flows
        FROM m GROUP BY 1, 2 ORDER BY bytes DESC, p4, pt LIMIT 15)) AS peers,
      (SELECT coalesce(list({'t': epoch_ms(f.ts), 'src': ip_text(f.src4, f.src_text), 'sport': f.sport, 'dst': ip_text(f.dst4, f.dst_text), 'dport': f.dport, 'proto': f.proto,
          'packets': f.packets, 'bytes': f.bytes, 'action': f.action::VARCHAR, 'eni': i.eni, 'account': i.account, 'region': i.region} ORDER BY f.ts DESC, f.object_id, f.idx), [])
        FROM (SELECT * FROM m ORDER BY ts DESC, object_id, idx LIMIT 200) f LEFT JOIN flow_interfaces i USING (iface)) AS flows`, [r.from, r.to, value]);
    return { summary: row?.summary ?? {}, peers: row?.peers ?? [], flows: row?.flows ?? [] };
  },
  /** an entity page's flow panels, for a filter (`?` = its value) as entity-queries.ts builds it */
  async entity(s: Store, filter: { sql: string; value?: string | number }, r: Range) {
    const b = bucketSeconds(r, 120);
    const fIn = `ts BETWEEN ${T(1)} AND ${T(2)} AND ${filter.sql.replaceAll('?', '$3')}`;
    const fl = filter.value === undefined ? [r.from, r.to] : [r.from, r.to, filter.value];
    const timeline = await s.query(`SELECT ${bucketStartMs('ts', `$${fl.length + 1}`)} AS t, sum(bytes)::BIGINT AS bytes, count(*)::INTEGER AS flows,
        count(*) FILTER (WHERE action = 'REJECT'::flow_action)::INTEGER AS rejected, epoch_ms(min(ts)) AS first, epoch_ms(max(ts)) AS last
        FROM flows WHERE ${fIn} GROUP BY 1 ORDER BY 1`, [...fl, b]);
    return {
      timeline,
      peers: await s.query(`SELECT ip_text(src4, src_text) AS src, ip_text(dst4, dst_text) AS dst, bytes, flows FROM (
        SELECT src4, src_text, dst4, dst_text, sum(bytes)::BIGINT AS bytes, count(*)::INTEGER AS flows FROM flows WHERE ${fIn}
        GROUP BY ALL ORDER BY bytes DESC, src4, src_text, dst4, dst_text LIMIT 15) ORDER BY bytes DESC, src4, src_text, dst4, dst_text`, fl),
      flows: await s.query(`SELECT epoch_ms(f.ts) AS t, ip_text(f.src4, f.src_text) AS src, f.sport, ip_text(f.dst4, f.dst_text) AS dst, f.dport, f.proto, f.bytes, f.action::VARCHAR AS action, i.eni, i.account
        FROM (SELECT * FROM flows WHERE ${fIn} ORDER BY ts DESC, object_id, idx LIMIT 100) f LEFT JOIN flow_interfaces i USING (iface) ORDER BY f.ts DESC, f.object_id, f.idx`, fl),
    };
  },
};

// ---- a random store, written by the collector's path (the store's writer) ----

const SRC = [...Array.from({ length: 24 }, (_, i) => `10.0.${i % 3}.${i}`), '2001:db8::1', '2001:db8::2', '010.0.0.1', '-'];
const DST = [...Array.from({ length: 8 }, (_, i) => `10.1.0.${i}`), '2001:db8::9', '-'];
const PORTS = [22, 80, 443, 3389, 5432, 49152, 50001, 65535];
const ENIS = ['eni-0', 'eni-1', 'eni-2', 'eni-3', 'eni-4'];

const idOf = (key: string) => createHash('sha1').update(`b/${key}`).digest('hex').slice(0, 16);
const ref = (key: string, extra: Partial<ObjectRef> = {}): ObjectRef => ({ bucket: 'b', key, objectId: idOf(key), bucketType: 'vpcflow', size: 1, region: 'us-east-1', ...extra });

/** An object's flows: around a random moment (an object covers minutes to an hour), times often on whole minutes. */
function objectEvents(rand: () => number, center: number, count: number): AwsEvent[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: count }, () => {
    const jitter = (rand() - 0.5) * 2 * HOUR;
    const start = rand() < 0.5 ? Math.round((center + jitter) / 60_000) * 60_000 : Math.round(center + jitter);
    const eni = pick(ENIS);
    return {
      integration: 'aws' as const,
      aws: {
        log_info: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' },
        source: 'vpc',
        start: new Date(start).toISOString(),
        end: new Date(start + 60_000).toISOString(),
        srcaddr: pick(SRC),
        dstaddr: pick(DST),
        srcport: Math.floor(rand() * 65536),
        dstport: rand() < 0.05 ? '-' : pick(PORTS),
        protocol: 6,
        packets: 1 + Math.floor(rand() * 100),
        bytes: rand() < 0.05 ? '-' : Math.floor(rand() * 1e6),
        action: rand() < 0.05 ? '-' : rand() < 0.3 ? 'REJECT' : 'ACCEPT',
        log_status: rand() < 0.05 ? 'NODATA' : 'OK',
        interface_id: eni,
        account_id: eni === 'eni-4' ? '222222222222' : '111111111111',
      },
    };
  });
}

async function readObject(s: Store, key: string, events: AwsEvent[], extra: Partial<ObjectRef> = {}): Promise<void> {
  const object = ref(key, extra);
  for (let i = 0; i < events.length; i += 50) await s.ingest({ object, firstIndex: i, events: events.slice(i, i + 50) }, []);
  s.recordObject({ bucket: 'b', key, type: 'vpcflow', status: 'ok', records: events.length, bytes: 1, processedAt: new Date() });
  await s.flush();
}

/** Ranges a person or the API could ask: aligned days and hours, the whole span, random ones of every length. */
async function rangesOf(s: Store, rand: () => number): Promise<Range[]> {
  const times = (await s.query('SELECT epoch_ms(ts) AS t FROM flows ORDER BY random() LIMIT 6')).map((x) => Number(x.t));
  const ranges: Range[] = [
    { from: t0 - DAY, to: t0 + 5 * DAY },
    { from: t0 + DAY, to: t0 + 2 * DAY },
    { from: t0 + 30 * HOUR, to: t0 + 31 * HOUR },
    { from: t0 + 21 * HOUR, to: t0 + 2 * DAY + 3 * HOUR },
    // on flows' own times: an end that is a flow's time is included
    { from: times[0]! - DAY, to: times[1]! },
    { from: times[2]!, to: times[2]! + 3 * DAY },
    { from: Math.min(times[3]!, times[4]!), to: Math.max(times[3]!, times[4]!) },
  ];
  for (const length of [7 * 60_000, 5 * HOUR, 26 * HOUR]) {
    const from = t0 - HOUR + Math.floor(rand() * 3 * DAY);
    ranges.push({ from, to: from + length + Math.floor(rand() * 60_000) });
  }
  return ranges;
}

/** Every flow panel against the reference, on every range. */
async function assertSameAnswers(s: Store, rand: () => number, when: string): Promise<void> {
  const ifaces = async (where: string, v: string) => {
    const ids = (await s.query(`SELECT DISTINCT iface FROM flow_interfaces WHERE ${where} ORDER BY iface`, [v])).map((x) => Number(x.iface));
    return { sql: ids.length ? `iface IN (${ids.join(',')})` : 'false' };
  };
  for (const r of await rangesOf(s, rand)) {
    const at = `${when}, range ${new Date(r.from).toISOString()} – ${new Date(r.to).toISOString()}`;
    assert.deepEqual(await vpcSeries(s, r), await raw.series(s, r), `series, ${at}`);
    assert.deepEqual(await vpcSeries(s, r, 3600), await raw.series(s, r, 3600), `hourly series, ${at}`);
    assert.deepEqual(await topTalkers(s, r), await raw.talkers(s, r), `talkers, ${at}`);
    assert.deepEqual(await vpc(s, r), await raw.vpc(s, r), `VPC page, ${at}`);
    for (const ip of ['10.0.1.4', '2001:db8::1']) {
      const got = await ipPivot(s, ip, r);
      assert.deepEqual({ summary: got.summary, peers: got.peers, flows: got.flows }, await raw.pivot(s, ip, r), `pivot of ${ip}, ${at}`);
    }
    for (const [kind, value, filter] of [
      ['account', '111111111111', await ifaces('account = ?', '111111111111')],
      ['eni', 'eni-2', await ifaces('eni = ?', 'eni-2')],
      ['port', '22', { sql: 'dport = ?::INTEGER', value: 22 }],
    ] as const) {
      const got = await entityPage(s, kind, value, r);
      const want = await raw.entity(s, filter, r);
      assert.deepEqual(got.flowTimeline, want.timeline.map(({ t, bytes, flows }) => ({ t, bytes, flows })), `${kind} timeline, ${at}`);
      assert.deepEqual(got.flowSummary, {
        flows: want.timeline.reduce((n, x) => n + Number(x.flows), 0),
        bytes: String(want.timeline.reduce((n, x) => n + BigInt(String(x.bytes ?? 0)), 0n)),
        rejected: want.timeline.reduce((n, x) => n + Number(x.rejected), 0),
        first: want.timeline.length ? want.timeline[0]!.first : null,
        last: want.timeline.length ? want.timeline[want.timeline.length - 1]!.last : null,
      }, `${kind} summary, ${at}`);
      assert.deepEqual(got.peers, want.peers, `${kind} peers, ${at}`);
      assert.deepEqual(got.flows, want.flows, `${kind} flows, ${at}`);
    }
  }
}

const dirtyHours = async (s: Store) => Number((await s.query('SELECT count(DISTINCT hour) AS n FROM flow_rollup_dirty'))[0]?.n);
const rollupRows = async (s: Store) => Number((await s.query('SELECT count(*) AS n FROM flow_rollup_pairs'))[0]?.n);

async function open(dir: string): Promise<EmbeddedStore> {
  return openStore(dir, { flowRetentionDays: 2, alertRetentionDays: 0 }, { rollupRefresh: false });
}

test('rollup-backed flow panels answer exactly as scans of the flows, through inserts, replays, aborts, retention and a crash-restart', async () => {
  const rand = seededRandom(15);
  const dir = mkdtempSync(join(tmpdir(), 'tld-rollups-'));
  let s = await open(dir);
  const keys = Array.from({ length: 24 }, (_, i) => `AWSLogs/o${i}.log.gz`);
  for (const key of keys) await readObject(s, key, objectEvents(rand, t0 + rand() * 3 * DAY, 100 + Math.floor(rand() * 300)));
  assert.ok((await dirtyHours(s)) > 0, 'the inserts marked their hours');
  await assertSameAnswers(s, rand, 'inserted, nothing refreshed');
  const partly = await s.refreshRollups({ maxHours: 20 });
  assert.equal(partly.hours, 20);
  assert.ok(partly.left > 0);
  await assertSameAnswers(s, rand, 'inserted, partly refreshed');
  await s.refreshRollups();
  assert.equal(await dirtyHours(s), 0);
  assert.ok((await rollupRows(s)) > 0);
  await assertSameAnswers(s, rand, 'inserted, refreshed');

  // a replay replaces an object's rows (its earlier rows deleted first), with flows at other times
  await readObject(s, keys[3]!, objectEvents(rand, t0 + 40 * HOUR, 250), { replayed: true });
  // a re-read after a crash between the store's commit and the state mark (health row known)
  await readObject(s, keys[7]!, objectEvents(rand, t0 + 10 * HOUR, 120));
  assert.ok((await dirtyHours(s)) > 0, 'the deletes and inserts marked their hours');
  await assertSameAnswers(s, rand, 'replayed and re-read, not refreshed');
  await s.refreshRollups();
  await assertSameAnswers(s, rand, 'replayed and re-read, refreshed');

  // a read that fails midway is taken back after part of it was committed
  const aborted = ref('AWSLogs/aborted.log.gz');
  const events = objectEvents(rand, t0 + 50 * HOUR, 200);
  await s.ingest({ object: aborted, firstIndex: 0, events: events.slice(0, 100) }, []);
  await s.flush();
  await s.refreshRollups();
  await s.ingest({ object: aborted, firstIndex: 100, events: events.slice(100) }, []);
  await s.discardObject(aborted);
  await s.flush();
  assert.equal(Number((await s.query('SELECT count(*) AS n FROM flows WHERE object_id = $1::UBIGINT', [BigInt(`0x${aborted.objectId}`).toString()]))[0]?.n), 0);
  await assertSameAnswers(s, rand, 'aborted, not refreshed');
  await s.refreshRollups();
  await assertSameAnswers(s, rand, 'aborted, refreshed');

  // retention: the horizon (2 days before `now`) falls inside an hour, at no round time
  await s.applyRetention(new Date(t0 + 2 * DAY + 29 * HOUR + 17 * 60_000 + 3_456));
  assert.equal(Number((await s.query(`SELECT count(*) AS n FROM flow_rollup_time WHERE bucket < make_timestamp($1::BIGINT * 1000)`, [t0 + 29 * HOUR]))[0]?.n), 0, 'rollups of pruned hours are gone');
  await assertSameAnswers(s, rand, 'pruned, not refreshed');
  await s.refreshRollups();
  await assertSameAnswers(s, rand, 'pruned, refreshed');

  // a crash while an object is listed open (part of it committed, and rolled up since): the next open takes its
  // rows back and must mark their hours
  const open1 = ref(keys[12]!);
  await s.query('INSERT INTO open_objects VALUES ($1::UBIGINT)', [BigInt(`0x${open1.objectId}`).toString()]);
  const before = Number((await s.query('SELECT count(*) AS n FROM flows'))[0]?.n);
  await s.close();
  s = await open(dir);
  assert.ok(Number((await s.query('SELECT count(*) AS n FROM flows'))[0]?.n) < before, 'the open object’s rows were taken back');
  assert.ok((await dirtyHours(s)) > 0, 'their hours are marked');
  await assertSameAnswers(s, rand, 'after a crash-restart, not refreshed');
  await s.refreshRollups();
  await assertSameAnswers(s, rand, 'after a crash-restart, refreshed');
  await s.close();
});

test('a range of whole days reads rollups, and flows only for its end and for hours changed since their refresh', async () => {
  const rand = seededRandom(7);
  const s = await open(mkdtempSync(join(tmpdir(), 'tld-rollups-plan-')));
  await readObject(s, 'a', objectEvents(rand, t0 + 36 * HOUR, 400));
  const day = { from: t0 + DAY, to: t0 + 2 * DAY };
  const hours = (await s.query(`SELECT DISTINCT epoch_ms(time_bucket(INTERVAL 1 HOUR, ts)) AS h FROM flows ORDER BY h`)).map((x) => Number(x.h));
  const before = await planRange(s, 'time', day);
  for (const h of hours) assert.ok(before.raw.some(([lo, hi]) => lo <= h && h + HOUR <= hi), `the hour ${new Date(h).toISOString()} of the new flows is read raw until refreshed`);
  await s.refreshRollups();
  assert.deepEqual(await planRange(s, 'time', day), { shape: 'time', rollup: [[day.from, day.to]], raw: [[day.to, day.to]], toIncluded: true });
  // an object read later with flows in one hour: that hour is read raw until refreshed
  await readObject(s, 'b', objectEvents(() => 0.5, t0 + 30 * HOUR + 1_000, 3));
  const plan = await planRange(s, 'pairs', { from: day.from + 1, to: day.to });
  assert.deepEqual(plan.rollup, [[day.from + HOUR, day.from + 6 * HOUR], [day.from + 7 * HOUR, day.to]]);
  assert.deepEqual(plan.raw, [[day.from + 1, day.from + HOUR], [day.from + 6 * HOUR, day.from + 7 * HOUR], [day.to, day.to]]);
  await s.close();
});

test('a store whose rollups are missing (a read-only dashboard on a store not yet opened by this version) is read from flows', async () => {
  const rand = seededRandom(3);
  const dir = mkdtempSync(join(tmpdir(), 'tld-rollups-none-'));
  const s = await open(dir);
  await readObject(s, 'a', objectEvents(rand, t0 + 36 * HOUR, 300));
  await s.refreshRollups();
  for (const t of ['flow_rollup_dirty', 'flow_rollup_time', 'flow_rollup_ports', 'flow_rollup_pairs']) await s.query(`DROP TABLE ${t}`);
  const r = { from: t0, to: t0 + 3 * DAY };
  assert.deepEqual(await vpcSeries(s, r), await raw.series(s, r));
  assert.deepEqual(await topTalkers(s, r), await raw.talkers(s, r));
  await s.close();
});
