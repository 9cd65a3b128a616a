/** The flow rollups' upkeep: what the refresher leaves equals a GROUP BY of the flows; the pass policy (quiet hours, a bound per pass); the background pass after commits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openStore, type EmbeddedStore, type RollupRefreshPolicy } from './index.js';
import type { AwsEvent, ObjectRef } from '../shared/events.js';

const HOUR = 3_600_000;
const t0 = Date.UTC(2025, 5, 20);

const ref = (key: string): ObjectRef => ({ bucket: 'b', key, objectId: createHash('sha1').update(`b/${key}`).digest('hex').slice(0, 16), bucketType: 'vpcflow', size: 1, region: 'us-east-1' });

/** `n` flows from `start`, one every `stepMs`, over a few addresses, ports and both actions. */
function flows(start: number, n: number, stepMs: number): AwsEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    integration: 'aws' as const,
    aws: {
      log_info: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' },
      source: 'vpc',
      start: new Date(start + i * stepMs).toISOString(),
      end: new Date(start + i * stepMs + 60_000).toISOString(),
      srcaddr: i % 7 === 0 ? '2001:db8::7' : `10.0.0.${i % 5}`,
      dstaddr: `10.1.0.${i % 3}`,
      srcport: 40000 + i,
      dstport: [22, 443, 3389][i % 3],
      protocol: 6,
      packets: 1 + (i % 9),
      bytes: 100 * (i % 13),
      action: i % 4 === 0 ? 'REJECT' : 'ACCEPT',
      log_status: 'OK',
      interface_id: `eni-${i % 2}`,
      account_id: '111111111111',
    },
  }));
}

async function read(s: EmbeddedStore, key: string, events: AwsEvent[]): Promise<void> {
  await s.ingest({ object: ref(key), firstIndex: 0, events }, []);
  s.recordObject({ bucket: 'b', key, type: 'vpcflow', status: 'ok', records: events.length, bytes: 1, processedAt: new Date() });
  await s.flush();
}

/** Each rollup table against the same GROUP BY of `flows`, computed now (rows sorted, as JSON). */
async function assertRollupsMatchFlows(s: EmbeddedStore): Promise<void> {
  const same = async (rollup: string, fromFlows: string) => {
    const a = await s.query(`SELECT * FROM (${rollup}) ORDER BY ALL`);
    const b = await s.query(`SELECT * FROM (${fromFlows}) ORDER BY ALL`);
    assert.ok(b.length > 0);
    assert.deepEqual(a.map(Object.values), b.map(Object.values), rollup);
  };
  await same('SELECT bucket, iface, action, log_status, flows, bytes, packets, first_ts, last_ts FROM flow_rollup_time',
    `SELECT time_bucket(INTERVAL 15 MINUTE, ts), iface, action, log_status, count(*), sum(bytes), sum(packets), min(ts), max(ts) FROM flows GROUP BY ALL`);
  await same('SELECT bucket, dport, action, flows, bytes, first_ts, last_ts FROM flow_rollup_ports',
    `SELECT time_bucket(INTERVAL 15 MINUTE, ts), dport, action, count(*), sum(bytes), min(ts), max(ts) FROM flows GROUP BY ALL`);
  await same('SELECT hour, iface, src4, src_text, dst4, dst_text, dport, flows, rejected, bytes, packets, first_ts, last_ts FROM flow_rollup_pairs',
    `SELECT time_bucket(INTERVAL 1 HOUR, ts), iface, src4, src_text, dst4, dst_text, dport, count(*), count(*) FILTER (WHERE action = 'REJECT'), sum(bytes), sum(packets), min(ts), max(ts) FROM flows GROUP BY ALL`);
}

const dirty = async (s: EmbeddedStore) => Number((await s.query('SELECT count(DISTINCT hour) AS n FROM flow_rollup_dirty'))[0]?.n);

const open = (policy: RollupRefreshPolicy | false) => openStore(mkdtempSync(join(tmpdir(), 'tld-rollup-upkeep-')), { flowRetentionDays: 0, alertRetentionDays: 0 }, { rollupRefresh: policy });

test('the refresher leaves hours just written (not quiet yet) for later, takes at most maxHours, and its rollups equal a GROUP BY of the flows', async () => {
  const s = await open(false);
  await read(s, 'a', flows(t0 + 10 * 60_000, 600, 30_000)); // 00:10 to 05:09:30: 6 hours
  await read(s, 'b', flows(t0 + 2 * HOUR + 5_000, 50, 61_000));
  assert.equal(await dirty(s), 6);
  const waiting = await s.refreshRollups({ quietMs: 600_000 });
  assert.deepEqual([waiting.hours, waiting.left], [0, 6], 'every hour was touched just now');
  const some = await s.refreshRollups({ maxHours: 2 });
  assert.deepEqual([some.hours, some.left], [2, 4]);
  const budget = await s.refreshRollups({ budgetMs: 0 });
  assert.deepEqual([budget.hours, budget.left], [1, 3], 'a spent budget still refreshes one hour, and no more');
  await s.refreshRollups();
  assert.equal(await dirty(s), 0);
  await assertRollupsMatchFlows(s);
  // a re-read of 'b' with other flows: its old hours and its new ones are recomputed
  await read(s, 'b', flows(t0 + 4 * HOUR + 7_000, 30, 90_000));
  assert.ok((await dirty(s)) > 0);
  await s.refreshRollups();
  await assertRollupsMatchFlows(s);
  await s.close();
});

test('the collector path refreshes by itself: a pass follows the commits, bounded, until no hour is dirty', async () => {
  const s = await open({ everyMs: 1, quietMs: 0, maxHours: 24, budgetMs: 0 });
  await read(s, 'a', flows(t0, 500, 40_000)); // ~5.5 hours
  // each flush queues a pass after it (when none is queued); nothing is written meanwhile
  for (let i = 0; i < 200 && (await dirty(s)) > 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
    await s.flush();
  }
  assert.equal(await dirty(s), 0);
  assert.equal(s.rollupError, undefined);
  await assertRollupsMatchFlows(s);
  await s.close();
});
