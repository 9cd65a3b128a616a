/**
 * Windows across workers, without the indexer: analyzers with `deferWindows` (one per "worker") read parts of a
 * port scan and an SSH brute force, their partials are merged and replayed, and the alerts are compared with
 * those of one ordinary analyzer reading every record in one object (not hard-coded answers: the single process
 * is the reference). Shipped rules 80640 (100 distinct ports in 300 s, once per window) and 80641 (20
 * connections in 300 s), VPC lines decoded by the real decoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert, AwsEvent } from '../shared/events.js';
import { decodeBuffer } from '../decoders/index.js';
import { createAnalyzer, loadRuleset, type Analyzer } from './index.js';
import { compareOccurrences, replayAlerts, replayCore, type Occurrence, type WindowPartial } from './window-partials.js';

const ruleset = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
const T0 = Date.parse('2025-06-26T03:10:00Z') / 1000;
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const NOW = () => new Date('2026-01-01T00:00:00Z');

interface Flow {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** seconds after T0 */
  at: number;
}

function decode(flows: Flow[]): AwsEvent[] {
  const lines = flows.map((f) => `2 111111111111 eni-0a1b2c3d4e5f60718 ${f.src} ${f.dst} ${f.sport} ${f.dport} 6 1 40 ${T0 + f.at} ${T0 + f.at + 1} REJECT OK`);
  return decodeBuffer(Buffer.from([HEADER, ...lines].join('\n') + '\n'), { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' } });
}

/** a port scan of `n` distinct ports from `from`, one a second; an SSH brute force of `m` attempts beside it */
function attack(n: number, m: number): Flow[] {
  const out: Flow[] = [];
  for (let i = 0; i < n; i++) out.push({ src: '203.0.113.50', dst: '10.0.1.208', sport: 40000 + i, dport: 1 + i, at: i });
  for (let i = 0; i < m; i++) out.push({ src: '198.51.100.23', dst: '10.0.1.5', sport: 50000 + i, dport: 22, at: 2 * i });
  return out.sort((a, b) => a.at - b.at);
}

function analyzer(deferWindows: boolean): Analyzer {
  return createAnalyzer(ruleset, { logAlertLevel: 3, now: NOW, managerName: 'm', ...(deferWindows ? { deferWindows } : {}) });
}

/** The reference: every record in one object, one analyzer; the alerts of frequency rules. */
function singleProcess(flows: Flow[]): Alert[] {
  const out: Alert[] = [];
  analyzer(false).analyze({ object: { bucket: 'b', key: 'all', objectId: 'all', bucketType: 'vpcflow', size: 0 }, firstIndex: 0, events: decode(flows) }, (a) => a.correlation && out.push(a));
  return out;
}

/** Each part read by a worker of its own (deferred windows); their partials merged per rule and key and replayed. */
function acrossWorkers(parts: Flow[][]): { alerts: Alert[]; local: Alert[] } {
  const partials: WindowPartial[] = [];
  const local: Alert[] = [];
  parts.forEach((flows, n) => {
    const a = analyzer(true);
    const objectId = `o${n}`;
    a.analyze({ object: { bucket: 'b', key: objectId, objectId, bucketType: 'vpcflow', size: 0 }, firstIndex: 0, events: decode(flows) }, (x) => x.correlation && local.push(x));
    partials.push(...a.takePartials(objectId));
  });
  const byKey = new Map<string, { ruleId: string; key: string; occurrences: Occurrence[] }>();
  for (const p of partials) {
    const k = `${p.ruleId}\u0000${p.key}`;
    const into = byKey.get(k) ?? { ruleId: p.ruleId, key: p.key, occurrences: [] };
    into.occurrences.push(...p.occurrences);
    byKey.set(k, into);
  }
  const alerts: Alert[] = [];
  for (const { ruleId, key, occurrences } of byKey.values()) {
    const core = replayCore(ruleset, { logAlertLevel: 3, managerName: 'm', now: NOW });
    alerts.push(...replayAlerts(core, ruleset.rules.get(ruleId)!, key, occurrences.sort(compareOccurrences)).map((r) => r.alert));
  }
  return { alerts, local };
}

/** What must be equal: the whole alert but firedtimes (the single process counts across keys, a replay per key). */
const comparable = (alerts: Alert[]) => alerts.map((a) => ({ ...a, rule: { ...a.rule, firedtimes: undefined } })).sort((x, y) => (x.id < y.id ? -1 : 1));

test('a scan and a brute force split in halves over two workers raise the alerts of the single process, and no worker fires alone', () => {
  const flows = attack(150, 30);
  const reference = singleProcess(flows);
  assert.deepEqual(reference.map((a) => a.rule.id).sort(), ['80640', '80641'], 'the reference fires both rules');
  const half = Math.floor(flows.length / 2);
  const { alerts, local } = acrossWorkers([flows.slice(0, half), flows.slice(half)]);
  assert.deepEqual(local, [], 'a worker with deferred windows fires nothing itself');
  assert.deepEqual(comparable(alerts), comparable(reference));
});

test('records of one window interleaved in time between three workers: merged in time order, the same alerts', () => {
  const flows = attack(150, 45);
  const reference = singleProcess(flows);
  const parts: Flow[][] = [[], [], []];
  flows.forEach((f, i) => parts[i % 3]!.push(f));
  assert.deepEqual(comparable(acrossWorkers(parts).alerts), comparable(reference));
  // and in another split: the answer does not depend on who read what
  const other: Flow[][] = [[], []];
  flows.forEach((f) => other[f.sport % 2]!.push(f));
  assert.deepEqual(comparable(acrossWorkers(other).alerts), comparable(reference));
});

test('several windows of one key (a long scan: the window fires, stays quiet for its timeframe, fires again) replay alike', () => {
  const flows = attack(600, 0);
  const reference = singleProcess(flows);
  assert.ok(reference.length >= 2, `the reference fires more than one window (${reference.length})`);
  const parts: Flow[][] = [flows.slice(0, 250), flows.slice(250, 420), flows.slice(420)];
  assert.deepEqual(comparable(acrossWorkers(parts).alerts), comparable(reference));
});

test('an object read twice without being taken back contributes each record once; a discarded read contributes nothing', () => {
  const a = analyzer(true);
  const flows = decode(attack(60, 0));
  const object = { bucket: 'b', key: 'o', objectId: 'o', bucketType: 'vpcflow' as const, size: 0 };
  a.analyze({ object, firstIndex: 0, events: flows }, () => {});
  a.analyze({ object, firstIndex: 0, events: flows }, () => {});
  const [p] = a.takePartials('o');
  assert.equal(p?.occurrences.length, 60);
  a.analyze({ object, firstIndex: 0, events: flows }, () => {});
  a.discardObject('o');
  assert.deepEqual(a.takePartials('o'), []);
});

test('records repeating a port in the same second keep no log (they cannot complete a window), and the alerts stay the single process\'s', () => {
  // every port probed three times in its second, from different source ports (as VPC records of one capture window)
  const flows = attack(150, 0).flatMap((f) => [f, { ...f, sport: f.sport + 10_000 }, { ...f, sport: f.sport + 20_000 }]);
  const reference = singleProcess(flows);
  assert.equal(reference.length, 1);
  const third = Math.floor(flows.length / 3);
  assert.deepEqual(comparable(acrossWorkers([flows.slice(0, third), flows.slice(third, 2 * third), flows.slice(2 * third)]).alerts), comparable(reference));
  const a = analyzer(true);
  a.analyze({ object: { bucket: 'b', key: 'o', objectId: 'o', bucketType: 'vpcflow', size: 0 }, firstIndex: 0, events: decode(flows) }, () => {});
  const [p] = a.takePartials('o').filter((x) => x.ruleId === '80640');
  assert.equal(p?.occurrences.length, 450);
  assert.equal(p?.occurrences.filter((o) => o.log !== '').length, 150, 'one log per port and second');
});
