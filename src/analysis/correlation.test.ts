/**
 * Frequency rules across object boundaries, retries, restarts and crashes, with the shipped rules 80640 (port
 * scan: 100 distinct ports in 300 s) and 80641 (SSH brute force: 20 connections in 300 s) on VPC flow lines
 * decoded by the real decoder, and the correlation state saved in a real folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, AwsEvent, EventBatch } from '../shared/events.js';
import { decodeBuffer } from '../decoders/index.js';
import { createAnalyzer, loadRuleset, type Analyzer } from './index.js';
import { keyText } from './window-key.js';
import { seededRandom } from '../../tests/helpers/seeded-random.js';

const ruleset = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
const T0 = Date.parse('2025-06-26T03:10:00Z') / 1000;
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

/** Rejected flows from `src` to `dst`, one a second from `start` (seconds after T0). */
function flows(src: string, dst: string, ports: number[], start: number, srcport = (i: number) => 40000 + i): AwsEvent[] {
  const lines = ports.map((p, i) => `2 111111111111 eni-0a1b2c3d4e5f60718 ${src} ${dst} ${srcport(i)} ${p} 6 1 40 ${T0 + start + i} ${T0 + start + i + 1} REJECT OK`);
  return decodeBuffer(Buffer.from([HEADER, ...lines].join('\n') + '\n'), { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' } });
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** `n` SSH attempts from one source (distinct source ports) */
const ssh = (n: number, start: number, first = 0) => flows('198.51.100.23', '10.0.1.5', Array(n).fill(22), start, (i) => 50000 + first + i);

const batch = (objectId: string, events: AwsEvent[], firstIndex = 0): EventBatch => ({ object: { bucket: 'b', key: objectId, objectId, bucketType: 'vpcflow', size: 0 }, firstIndex, events });

function analyzer(dir?: string, rs = ruleset, maxKeysPerRule?: number): Analyzer {
  return createAnalyzer(rs, { logAlertLevel: 3, now: () => new Date('2026-01-01T00:00:00Z'), ...(dir ? { correlationDir: dir } : {}), ...(maxKeysPerRule ? { maxKeysPerRule } : {}) });
}

/** The shipped rules and one of ours: `frequency` rejected flows between one pair of addresses within `timeframe` s. */
async function withPairRule(id: string, frequency: number, timeframe: number): Promise<typeof ruleset> {
  const dir = mkdtempSync(join(tmpdir(), 'tld-corr-'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(
    join(dir, 'rules', 'local.xml'),
    `<group name="local,"><rule id="${id}" level="8" frequency="${frequency}" timeframe="${timeframe}" timefield="aws.start">
      <if_matched_sid>80402</if_matched_sid><same_field>aws.srcaddr</same_field><same_field>aws.dstaddr</same_field>
      <description>$(count) rejected flows from $(aws.srcaddr) to $(aws.dstaddr)</description></rule></group>`,
  );
  return loadRuleset({ ruleDirs: [join(dir, 'rules')], ruleFiles: [], lists: [], ruleExcludes: [] });
}

/** Analyses a whole object (in batches of `size`), returns its alerts of frequency rules. */
function read(a: Analyzer, objectId: string, events: AwsEvent[], size = events.length): Alert[] {
  const out: Alert[] = [];
  for (let i = 0; i < events.length; i += size) a.analyze(batch(objectId, events.slice(i, i + size), i), (x) => x.correlation && out.push(x));
  return out;
}

/** The window keys of saved lines, as text. */
function savedKeys(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('['))
    .flatMap((l) => {
      const rec = JSON.parse(l) as unknown[];
      if (rec[0] === 'A') return (rec[2] as string[]).map(keyText);
      return rec[0] === 'w' || rec[0] === 'a' || rec[0] === 'd' ? [keyText(rec[2] as string)] : [];
    });
}

const SCAN = (ports: number[], start: number) => flows('203.0.113.50', '10.0.1.208', ports, start);

test('a port scan split over two objects fires once, on the record that completes it', () => {
  const a = analyzer();
  assert.deepEqual(read(a, 'o1', SCAN(range(1, 60), 0)), []);
  const hits = read(a, 'o2', SCAN(range(61, 150), 60));
  assert.deepEqual(hits.map((h) => [h.rule.id, h.correlation?.distinct, (h.data as AwsEvent).aws.dstport]), [['80640', 100, '100']]);
});

test('crash: restored with committedSeq below the last save, later objects are taken back and their hit undone; read again, the scan fires exactly once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-corr-'));
  const first = analyzer(dir);
  await first.restoreCorrelation(0);
  read(first, 'o1', SCAN(range(1, 60), 0));
  first.objectDone('o1', 1);
  await first.persistCorrelation(1, 0);
  const original = read(first, 'o2', SCAN(range(61, 100), 60));
  assert.equal(original.length, 1);
  first.objectDone('o2', 2);
  // the group of o2 was saved, then the process died before o2 was marked processed
  await first.persistCorrelation(2, 1);

  const again = analyzer(dir);
  await again.restoreCorrelation(1);
  const hits = read(again, 'o2', SCAN(range(61, 100), 60));
  assert.deepEqual(hits.map((h) => [h.id, h.correlation?.distinct, h.rule.firedtimes]), [[original[0]!.id, 100, 1]], 'the same alert, once; firedtimes does not count the undone one');
  again.objectDone('o2', 2);
  await again.persistCorrelation(2, 1);

  // o2 was marked this time: after a restart the hit stands, and the rest of the scan is in its quiet period
  const later = analyzer(dir);
  await later.restoreCorrelation(2);
  assert.deepEqual(read(later, 'o3', SCAN(range(101, 180), 100)), []);

  // had nothing been marked, o1 is read again too: the saved window must not already hold it
  const none = analyzer(dir);
  await none.restoreCorrelation(0);
  assert.deepEqual(read(none, 'o2', SCAN(range(61, 100), 60)), [], 'o1 was taken back with o2');
});

test('crash: contributions of an object still being read when the state was saved are dropped at restore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-corr-'));
  const first = analyzer(dir);
  await first.restoreCorrelation(0);
  read(first, 'o1', SCAN(range(1, 60), 0));
  first.objectDone('o1', 1);
  read(first, 'o2', SCAN(range(61, 95), 60)); // o2's first part only
  await first.persistCorrelation(1, 0);

  const again = analyzer(dir);
  await again.restoreCorrelation(1);
  // without the drop, o2's saved part would complete the scan five records early
  const hits = read(again, 'o2', SCAN(range(61, 100), 60));
  assert.deepEqual(hits.map((h) => (h.data as AwsEvent).aws.dstport), ['100']);
});

test('an object read twice counts once: read again without being taken back, or taken back (retry) and read again', () => {
  const a = analyzer();
  read(a, 'o1', ssh(12, 0));
  assert.deepEqual(read(a, 'o1', ssh(12, 0)), [], 'twelve records read twice are still twelve');
  const hits = read(a, 'o2', ssh(8, 12, 12));
  assert.deepEqual(hits.map((h) => [h.rule.id, h.correlation?.count, (h.data as AwsEvent).aws.srcport]), [['80641', 20, '50019']]);

  const b = analyzer();
  read(b, 'o1', ssh(6, 0)); // a read that broke after six records
  b.discardObject('o1');
  read(b, 'o1', ssh(12, 0), 5);
  assert.deepEqual(read(b, 'o2', ssh(8, 12, 12)).map((h) => (h.data as AwsEvent).aws.srcport), ['50019']);
});

test('a hit of an object taken back is undone: the retry raises the alert again, once', () => {
  const a = analyzer();
  const firstTry = read(a, 'o1', ssh(25, 0));
  assert.equal(firstTry.length, 1);
  a.discardObject('o1'); // the sink took its alert back (output failure): o1 is read again
  const retry = read(a, 'o1', ssh(25, 0));
  assert.deepEqual(retry.map((h) => [h.id, h.rule.firedtimes]), [[firstTry[0]!.id, 1]]);
});

test('a reload keeps the object tags: an object taken back after the reload leaves no trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-corr-'));
  const before = analyzer(dir);
  await before.restoreCorrelation(0);
  read(before, 'o1', ssh(12, 0));
  const after = analyzer();
  after.adoptState(before);
  after.discardObject('o1');
  read(after, 'o1', ssh(12, 0));
  after.objectDone('o1', 1);
  await after.persistCorrelation(1, 0);
  assert.deepEqual(read(after, 'o2', ssh(8, 12, 12)).map((h) => (h.data as AwsEvent).aws.srcport), ['50019']);
  // the reloaded analyzer saves to the same file
  const restored = analyzer(dir);
  await restored.restoreCorrelation(1);
  assert.deepEqual(read(restored, 'o2', ssh(8, 12, 12)).map((h) => (h.data as AwsEvent).aws.srcport), ['50019']);
});

/** One rejected flow from each of `n` sources to 10.0.9.9 (as many port-scan windows), at `start` seconds. */
const manySources = (n: number, start: number) => Array.from({ length: n }, (_, i) => flows(`192.0.${i >> 8}.${i & 255}`, '10.0.9.9', [7], start)).flat();

test('ended windows go as records move on, before the key map is full; a record up to a timeframe late still meets its window', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-corr-'));
  const file = join(dir, 'correlation.jsonl');
  const a = analyzer(dir);
  await a.restoreCorrelation(0);
  read(a, 'o1', manySources(1100, 0));
  a.objectDone('o1', 1);
  await a.persistCorrelation(1, 0);
  const size1 = readFileSync(file).length;
  // 1,000 s later (over two timeframes after their records) the map has doubled: the ended windows go, no snapshot
  read(a, 'o2', flows('198.51.100.2', '10.0.0.2', [7], 1000));
  a.objectDone('o2', 2);
  await a.persistCorrelation(2, 1);
  const deleted = readFileSync(file)
    .subarray(size1)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('["d","80640",') && keyText((JSON.parse(l) as string[])[2]!).startsWith('192.0.'));
  assert.equal(deleted.length, 1100, 'every ended window is deleted from the saved state');
  // a scan's first 60 ports, then many other keys 300 s later (the map doubles: the windows are looked over again),
  // then the scan's last 40 ports, which come late (before those keys' time): its window is still there and fires
  read(a, 'o3', [...SCAN(range(1, 60), 2000), ...manySources(1100, 2300)]);
  read(a, 'o4', flows('198.51.100.4', '10.0.0.4', [9], 2400));
  const hits = read(a, 'o5', SCAN(range(61, 100), 2060));
  assert.deepEqual(hits.map((h) => [h.rule.id, h.correlation?.distinct]), [['80640', 100]]);
});

test('saved state: only changes are appended, a snapshot keeps only windows within their timeframe of the newest record, a torn last line is cut off', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-corr-'));
  const file = join(dir, 'correlation.jsonl');
  const a = analyzer(dir);
  await a.restoreCorrelation(0);
  read(a, 'o1', flows('192.0.2.1', '10.0.0.1', range(1, 50), 0));
  a.objectDone('o1', 1);
  await a.persistCorrelation(1, 0);
  const size1 = readFileSync(file).length;
  read(a, 'o2', flows('192.0.2.2', '10.0.0.2', [7], 100));
  a.objectDone('o2', 2);
  await a.persistCorrelation(2, 1);
  const added = savedKeys(readFileSync(file).subarray(size1).toString('utf8'));
  assert.ok(!added.some((k) => k.includes('192.0.2.1')), 'an unchanged window is not written again');
  assert.ok(added.some((k) => k.includes('192.0.2.2')));
  // an hour later: the first windows are past their timeframe
  read(a, 'o3', flows('192.0.2.3', '10.0.0.3', [8], 3600));
  a.objectDone('o3', 3);
  await a.persistCorrelation(3, 2);
  appendFileSync(file, '["w","80640","torn'); // a save cut short by a crash

  const b = analyzer(dir);
  await b.restoreCorrelation(3);
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes('torn'));
  const kept = savedKeys(text);
  assert.ok(!kept.some((k) => k.includes('192.0.2.1') || k.includes('192.0.2.2')), 'old windows are not kept');
  assert.ok(kept.some((k) => k.includes('192.0.2.3')));

  writeFileSync(file, '["tld-correlation",1,{}]\nnot json\n["F",{}]\n');
  await assert.rejects(analyzer(dir).restoreCorrelation(3), /correlation\.jsonl is damaged at line 2 .*Move the file away/);
});

test('a window of one contribution (held inline) is saved, restored, grown and taken back like any other', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-corr-'));
  const a = analyzer(dir);
  await a.restoreCorrelation(0);
  read(a, 'o1', SCAN([1], 0));
  a.objectDone('o1', 1);
  await a.persistCorrelation(1, 1);

  // restored, its one contribution counts: the 99 more ports complete the scan on the last one, from o1's record on
  const b = analyzer(dir);
  await b.restoreCorrelation(1);
  const original = read(b, 'o2', SCAN(range(2, 100), 1));
  assert.deepEqual(original.map((h) => [h.correlation?.distinct, h.correlation?.window_start, (h.data as AwsEvent).aws.dstport]), [[100, new Date(T0 * 1000).toISOString(), '100']]);
  // after the quiet period a new window of one contribution follows the hit (o2 may still be taken back)
  assert.deepEqual(read(b, 'o3', SCAN([500], 400)), []);
  // taking o3 back leaves the fired window; read again, it starts the next window again
  b.discardObject('o3');
  assert.deepEqual(read(b, 'o3', SCAN([500], 400)), []);
  // taking o2 back undoes the hit: o3's contribution joins the window again, and the re-read fires once
  b.discardObject('o2');
  const again = read(b, 'o2', SCAN(range(2, 100), 1));
  assert.deepEqual(again.map((h) => [h.correlation?.distinct, (h.data as AwsEvent).aws.dstport, h.rule.firedtimes]), [[100, '100', 1]]);
  b.objectDone('o3', 2);
  b.objectDone('o2', 3);
  await b.persistCorrelation(3, 3);

  // what was saved is what was in memory: restored, the rest of the scan is in the quiet period of the hit
  const c = analyzer(dir);
  await c.restoreCorrelation(3);
  assert.deepEqual(read(c, 'o4', SCAN(range(101, 200), 100)), []);
});

/** `n` rejected flows from the scanner to `ports` in turn, all at `start` seconds (one capture window). */
const hammer = (ports: number[], n: number, start: number) => {
  const lines = Array.from({ length: n }, (_, i) => `2 111111111111 eni-0a1b2c3d4e5f60718 203.0.113.50 10.0.1.208 ${40000 + (i % 20000)} ${ports[i % ports.length]} 6 1 40 ${T0 + start} ${T0 + start + 60} REJECT OK`);
  return decodeBuffer(Buffer.from([HEADER, ...lines].join('\n') + '\n'), { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' } });
};
const HAMMERED = [81, 82, 83];
const REST = range(1, 100).filter((p) => !HAMMERED.includes(p));

test('a window hammered by a few ports holds a bounded state, and its hit still counts every occurrence (count, window_start)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-corr-'));
  const file = join(dir, 'correlation.jsonl');
  const a = analyzer(dir);
  await a.restoreCorrelation(0);
  const memory = analyzer(); // the same records without a file: settled as each object's group is durable
  for (let k = 1; k <= 20; k++) {
    for (const x of [a, memory]) {
      assert.deepEqual(read(x, `o${k}`, hammer(HAMMERED, 5000, 0)), []);
      x.objectDone(`o${k}`, k);
    }
    await a.persistCorrelation(k, k);
    await memory.persistCorrelation(k);
  }
  // restored (a snapshot of what 100,000 occurrences left): a few contributions, not one per occurrence
  const b = analyzer(dir);
  await b.restoreCorrelation(20);
  const size = readFileSync(file).length;
  assert.ok(size < 20_000, `the saved window holds ${size} bytes`);
  for (const x of [b, memory]) {
    const hits = read(x, 'o21', SCAN(REST, 1));
    assert.deepEqual(
      hits.map((h) => [h.rule.id, h.correlation?.count, h.correlation?.distinct, h.correlation?.window_start]),
      [['80640', 100_097, 100, new Date(T0 * 1000).toISOString()]],
    );
  }
});

test('occurrences of an object still being read are kept apart from settled ones: taken back, exactly they go', async () => {
  const a = analyzer();
  for (let k = 1; k <= 3; k++) {
    read(a, `o${k}`, hammer(HAMMERED, 1000, 0));
    a.objectDone(`o${k}`, k);
  }
  await a.persistCorrelation(3); // o1-o3 settled
  read(a, 'o4', hammer(HAMMERED, 4000, 0)); // merged among themselves while o4 is read
  a.discardObject('o4');
  // read again as a shorter object (its retry found 500 records), then the rest of the scan completes the window
  read(a, 'o4', hammer(HAMMERED, 500, 0));
  const hits = read(a, 'o5', SCAN(REST, 1));
  assert.deepEqual(hits.map((h) => [h.correlation?.count, h.correlation?.distinct]), [[3000 + 500 + 97, 100]]);
});

test('states saved by earlier formats (1: no multiplicities; 1 and 2: keys as text) are restored as they were', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-corr-'));
  const file = join(dir, 'correlation.jsonl');
  const a = analyzer(dir);
  await a.restoreCorrelation(0);
  read(a, 'o1', SCAN(range(1, 60), 0));
  a.objectDone('o1', 1);
  await a.persistCorrelation(1, 1);
  await analyzer(dir).restoreCorrelation(1); // rewrites the file as one snapshot
  const v3 = readFileSync(file, 'utf8');
  assert.match(v3, /^\["tld-correlation",3,/);
  // the same state as version 2 wrote it: window keys as the values' text
  const v2 = v3
    .split('\n')
    .map((line) => {
      if (!line) return line;
      const rec = JSON.parse(line) as unknown[];
      if (rec[0] === 'tld-correlation') rec[1] = 2;
      if (rec[0] === 'A') rec[2] = (rec[2] as string[]).map(keyText);
      if (rec[0] === 'w' || rec[0] === 'a' || rec[0] === 'd') rec[2] = keyText(rec[2] as string);
      return JSON.stringify(rec);
    })
    .join('\n');
  assert.match(v2, /"203\.0\.113\.50\\u000010\.0\.1\.208"/);
  const v1 = v2.replace(/^\["tld-correlation",2,/, '["tld-correlation",1,').replace(/^(\["A",.*),0\]$/gm, '$1]');
  assert.notEqual(v1, v2);
  for (const [version, text] of [['2', v2], ['1', v1]] as const) {
    writeFileSync(file, text);
    const b = analyzer(dir);
    await b.restoreCorrelation(1);
    assert.deepEqual(read(b, 'o2', SCAN(range(61, 100), 60)).map((h) => [h.correlation?.count, h.correlation?.distinct]), [[100, 100]], `version ${version}`);
    assert.match(readFileSync(file, 'utf8'), /^\["tld-correlation",3,/, `version ${version} saved again as 3`);
  }
});

test('a full key map spares windows near firing: a flood of new pairs does not push out a scan under way', () => {
  const a = createAnalyzer(ruleset, { logAlertLevel: 3, now: () => new Date('2026-01-01T00:00:00Z'), maxKeysPerRule: 100 });
  // the scan's first 60 ports, then each of its last 40 after ten flows of new pairs in the same second (400 keys:
  // the map overflows again and again while the scan's window was the first one made)
  const events = [...SCAN(range(1, 60), 0)];
  let flood = 0;
  for (let p = 61; p <= 100; p++) {
    const t = p - 1;
    for (let k = 0; k < 10; k++, flood++) events.push(...flows(`192.0.${flood >> 8}.${flood & 255}`, '10.0.9.9', [7], t));
    events.push(...SCAN([p], t));
  }
  const hits = read(a, 'o1', events);
  assert.deepEqual(hits.map((h) => [h.rule.id, h.correlation?.distinct, (h.data as AwsEvent).aws.dstport]), [['80640', 100, '100']]);
});

test('a full key map keeps a fired window\'s quiet period: the scan going on after its alert does not fire again', () => {
  const a = createAnalyzer(ruleset, { logAlertLevel: 3, now: () => new Date('2026-01-01T00:00:00Z'), maxKeysPerRule: 100 });
  const events = [...SCAN(range(1, 100), 0)];
  // 300 new pairs overflow the map (the scan's window, made first, is the earliest inserted), then the scan goes on
  // with 100 more ports within the 300 s quiet period of its alert
  for (let i = 0; i < 300; i++) events.push(...flows(`192.0.${i >> 8}.${i & 255}`, '10.0.9.9', [7], 100 + (i >> 4)));
  events.push(...SCAN(range(101, 200), 130));
  const hits = read(a, 'o1', events);
  assert.deepEqual(hits.map((h) => [h.rule.id, (h.data as AwsEvent).aws.dstport]), [['80640', '100']]);
});

test('restarts between any two commits change no alert: windows created and gone between two saves leave no line, the others are saved and removed', async () => {
  // a low frequency and timeframe: windows fire, and expire between saves and within an object
  const rs = await withPairRule('100100', 3, 30);
  const make = (state?: string) => analyzer(state, rs);
  let lines = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const r = seededRandom(seed);
    const objects = Array.from({ length: 8 }, (_, k) =>
      Array.from({ length: 150 }, (_, i) => flows(`192.0.2.${Math.floor(r() * 12)}`, `10.0.0.${Math.floor(r() * 6)}`, [443], k * 90 + Math.floor(i / 2))[0]!),
    );
    const alone = make();
    const want = objects.flatMap((events, k) => read(alone, `o${k}`, events).map((x) => x.id));
    const state = mkdtempSync(join(tmpdir(), 'tld-corr-state-'));
    let a = make(state);
    await a.restoreCorrelation(0);
    const got: string[] = [];
    for (let k = 0; k < objects.length; k++) {
      got.push(...read(a, `o${k}`, objects[k]!).map((x) => x.id));
      a.objectDone(`o${k}`, k + 1);
      await a.persistCorrelation(k + 1, k + 1);
      if (r() < 0.5) {
        await a.closeCorrelation();
        a = make(state);
        await a.restoreCorrelation(k + 1);
      }
    }
    await a.closeCorrelation();
    assert.ok(want.length > 5, `seed ${seed}: windows fired (${want.length})`);
    assert.deepEqual(got, want, `seed ${seed}`);
    lines += readFileSync(join(state, 'correlation.jsonl'), 'utf8').split('\n').length;
  }
  assert.ok(lines > 12, 'the states were saved');
});

test('a window pushed out by the key cap after it was saved stays out across a restart; one made and pushed out between two saves leaves no line', async () => {
  const rs = await withPairRule('100101', 20, 300);
  const make = (state?: string) => analyzer(state, rs, 4);
  const pair = (n: number, start: number) => flows('203.0.113.9', '10.0.0.9', Array(n).fill(443), start);
  // o1: two flows of the pair (saved); o2: new pairs, one flow each, overflow the map: the pair's window goes first
  const o1 = pair(2, 0);
  const o2 = Array.from({ length: 6 }, (_, i) => flows(`192.0.2.${i}`, '10.0.0.1', [443], 10 + i)[0]!);
  // o3: eighteen more flows of the pair: twenty with the two pushed out, so nothing fires
  const o3 = pair(18, 20);
  const alone = make();
  const want = [o1, o2, o3].flatMap((events, k) => read(alone, `o${k}`, events));
  assert.deepEqual(want, [], 'the two flows pushed out do not count');

  const state = mkdtempSync(join(tmpdir(), 'tld-corr-state-'));
  const file = join(state, 'correlation.jsonl');
  const a = make(state);
  await a.restoreCorrelation(0);
  read(a, 'o1', o1);
  a.objectDone('o1', 1);
  await a.persistCorrelation(1, 1);
  const size1 = readFileSync(file).length;
  read(a, 'o2', o2);
  a.objectDone('o2', 2);
  await a.persistCorrelation(2, 2);
  await a.closeCorrelation();
  const deleted = savedKeys(readFileSync(file).subarray(size1).toString('utf8').split('\n').filter((l) => l.startsWith('["d","100101"')).join('\n'));
  // the pair's window was in the file: it goes; o2's first windows went before any save: no line for them
  assert.deepEqual(deleted, ['203.0.113.9\u000010.0.0.9']);
  const b = make(state);
  await b.restoreCorrelation(2);
  assert.deepEqual(read(b, 'o3', o3), []);
});
