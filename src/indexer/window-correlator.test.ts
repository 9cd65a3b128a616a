/**
 * The window correlator against the indexer DOUBLE (tests/helpers/indexer-double.ts, a protocol double, not an
 * OpenSearch server): partials written by the real indexer store from analyzers with deferred windows (one per
 * "worker"), correlators talking to the double over HTTP through the real client. The reference for what must
 * fire is one ordinary analyzer reading every record (not hard-coded answers).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIndexerDouble, type IndexerDouble } from '../../tests/helpers/indexer-double.js';
import type { IndexerConfig } from '../config/types.js';
import type { Alert, AwsEvent, ObjectRef } from '../shared/events.js';
import { decodeBuffer } from '../decoders/index.js';
import { createAnalyzer, loadRuleset } from '../analysis/index.js';
import { IndexerStore } from './indexer-store.js';
import { openIndexerClient, type IndexerPort } from './client.js';
import { WindowCorrelator } from './window-correlator.js';
import { ALERTS_PREFIX, PARTIALS_INDEX } from './documents.js';

const ruleset = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
const T0 = Date.parse('2025-06-26T03:10:00Z') / 1000;
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const NOW = () => new Date('2026-01-01T00:00:00Z');

let double: IndexerDouble;
const ports: IndexerPort[] = [];
before(async () => {
  double = await startIndexerDouble();
});
after(async () => {
  for (const p of ports) await p.close();
  await double.close();
});

function config(): IndexerConfig {
  return { enabled: true, hosts: [double.url], ssl: { certificateAuthorities: [] }, bulkMaxBytes: 5_242_880, origin: { file: 't', line: 1 } };
}

/** A port scan of ports `from`..`to` (one a second, port p at second p) from `src`. */
function scan(src: string, from: number, to: number): AwsEvent[] {
  const lines: string[] = [];
  for (let p = from; p <= to; p++) lines.push(`2 111111111111 eni-0a1b2c3d4e5f60718 ${src} 10.0.1.208 ${40000 + p} ${p} 6 1 40 ${T0 + p} ${T0 + p + 1} REJECT OK`);
  return decodeBuffer(Buffer.from([HEADER, ...lines].join('\n') + '\n'), { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' } });
}

const objectOf = (key: string): ObjectRef => ({ bucket: 'flows', key, objectId: key.padStart(16, '0').slice(-16), bucketType: 'vpcflow', size: 1 });

/** A worker with deferred windows reading `events` as object `key` and writing its partials to the double. */
async function work(key: string, events: AwsEvent[]): Promise<Alert[]> {
  const store = await IndexerStore.open(config());
  const analyzer = createAnalyzer(ruleset, { logAlertLevel: 3, now: NOW, managerName: 'm', deferWindows: true });
  const object = objectOf(key);
  const fired: Alert[] = [];
  analyzer.analyze({ object, firstIndex: 0, events }, (a) => a.correlation && fired.push(a));
  store.ingestPartials(object, analyzer.takePartials(object.objectId));
  await store.flush();
  await store.close();
  return fired;
}

async function correlator(graceMs: number, pageSize?: number): Promise<WindowCorrelator> {
  const port = await openIndexerClient(config(), {});
  ports.push(port);
  return new WindowCorrelator(port, { rules: () => ruleset, logAlertLevel: () => 3, managerName: 'm', graceMs, now: NOW, ...(pageSize ? { pageSize } : {}) });
}

const scanAlerts = (src: string) => double.docs(`${ALERTS_PREFIX}*`).filter((d) => (d.source.data as { aws?: { srcaddr?: string } }).aws?.srcaddr === src);

test('a scan split over two workers: neither fires it; two correlators passing at once write its alert once, as the single process raises it', async () => {
  const src = '203.0.113.50';
  assert.deepEqual(await work('scan-part-1', scan(src, 1, 60)), []);
  assert.deepEqual(await work('scan-part-2', scan(src, 61, 150)), []);
  // (port 22 among the ports is also one occurrence of the SSH brute force rule 80641)
  assert.equal(double.docs(PARTIALS_INDEX).filter((d) => d.source.rule === '80640').length, 2, 'one partial per object and key');

  const a = await correlator(0);
  const b = await correlator(0, 1); // one partial per search page: paging through search_after
  const [ra, rb] = await Promise.all([a.pass(), b.pass()]);
  assert.equal(ra.alerts, 1);
  assert.equal(rb.alerts, 1);
  assert.equal(ra.written + rb.written, 1, 'one of them created it, the other got a 409');
  const docs = scanAlerts(src);
  assert.equal(docs.length, 1);

  const reference: Alert[] = [];
  createAnalyzer(ruleset, { logAlertLevel: 3, now: NOW, managerName: 'm' }).analyze({ object: objectOf('all'), firstIndex: 0, events: scan(src, 1, 150) }, (x) => x.correlation && reference.push(x));
  assert.equal(reference.length, 1);
  const got = docs[0]!.source as unknown as Alert;
  assert.equal(docs[0]!.id, reference[0]!.id);
  assert.deepEqual([got.rule.id, got.rule.description, got.correlation, got.data], [reference[0]!.rule.id, reference[0]!.rule.description, reference[0]!.correlation, reference[0]!.data]);
  assert.equal(docs[0]!.index, `${ALERTS_PREFIX}2025.06.26`, 'in the index of the event day');

  // passing again (the same correlator, or a new one looking back over everything) writes nothing new
  assert.equal((await a.pass()).written, 0);
  const c = await correlator(0);
  const rc = await c.pass();
  assert.deepEqual([rc.alerts, rc.written], [1, 0]);
  assert.equal(scanAlerts(src).length, 1);
});

test('a window fires only once its records are settled (grace behind the newest record time), then once', async () => {
  const src = '198.51.100.77';
  // the scan ends at T0+150; a later record elsewhere moves the fleet's newest time
  await work('settle-1', scan(src, 1, 75));
  await work('settle-2', scan(src, 76, 150));
  const grace = 60_000;
  const k = await correlator(grace);
  await work('settle-clock-1', scan('192.0.2.1', 160, 170)); // newest: T0+171 s → cutoff T0+111 s: port 100 at T0+100 is settled
  const first = await k.pass();
  assert.equal(scanAlerts(src).length, 1, 'the hit (100th port, at T0+100 s) is 60 s behind the newest record: settled');
  assert.ok(first.written >= 1);

  const src2 = '198.51.100.78';
  await work('late-1', scan(src2, 201, 260));
  await work('late-2', scan(src2, 261, 320));
  const early = await k.pass();
  assert.equal(scanAlerts(src2).length, 0, 'newest is T0+321 s: the hit at T0+300 s is within the grace period, not yet');
  assert.ok(early.unsettled >= 1);
  await work('late-clock', scan('192.0.2.2', 400, 410));
  await k.pass();
  assert.equal(scanAlerts(src2).length, 1, 'settled now');
  await k.pass();
  assert.equal(scanAlerts(src2).length, 1);
});

test('the documented limit: a record arriving after its window settled, that moves the window\'s first occurrence, fires the window again under a new id', async () => {
  const src = '198.51.100.90';
  await work('limit-1', scan(src, 51, 150)); // 100 distinct ports from T0+51 s: fires, window start T0+51 s
  const k = await correlator(0);
  await k.pass();
  const before = scanAlerts(src).map((d) => d.id);
  assert.equal(before.length, 1);
  await work('limit-late', scan(src, 1, 50)); // late: the same scan began 50 s earlier
  const late = await k.pass();
  const after = scanAlerts(src).map((d) => d.id);
  assert.equal(late.written, 1);
  assert.equal(after.length, 2, 'the earlier alert stays; the window now starting at T0+1 s is a new alert');
  assert.ok(after.includes(before[0]!));
  const starts = scanAlerts(src).map((d) => (d.source.correlation as { window_start: string }).window_start).sort();
  assert.deepEqual(starts, [new Date((T0 + 1) * 1000).toISOString(), new Date((T0 + 51) * 1000).toISOString()]);
});
