import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeState, openStateStore, StateStoreError } from './file-state-store.js';
import type { ScopeKey } from './types.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tld-state-'));
const scope = (p: Partial<ScopeKey> = {}): ScopeKey => ({ bucket: 'b', path: '', type: 'vpcflow', account: '111111111111', region: 'us-east-1', flowLogId: 'fl-1', ...p });
const dayN = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
const dirSize = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
const ct = (slot: string, r: string) => `AWSLogs/111111111111/CloudTrail/us-east-1/2025/01/02/111111111111_CloudTrail_us-east-1_20250102T${slot}Z_${r}.json.gz`;

test('late CloudTrail files sorting before processed ones are not processed (issue #33108), also after a restart', () => {
  const dir = tmp();
  const s = openStateStore(dir, { lookbackDays: 1, fsync: false });
  s.markProcessed(scope(), '2025-01-02', ct('1825', 'aaaa'), { status: 'ok', checkpoint: { alerts: 10 } });
  s.markProcessed(scope(), '2025-01-02', ct('1830', 'bbbb'), { status: 'ok', checkpoint: { alerts: 20 } });
  assert.equal(s.isProcessed(scope(), '2025-01-02', ct('1820', 'late')), false, 'a file of an earlier slot delivered later is read');
  assert.equal(s.isProcessed(scope(), '2025-01-02', ct('1825', 'aaab')), false);
  s.close();
  const r = openStateStore(dir, { lookbackDays: 1 });
  assert.equal(r.isProcessed(scope(), '2025-01-02', ct('1825', 'aaaa')), true);
  assert.equal(r.isProcessed(scope(), '2025-01-02', ct('1830', 'bbbb')), true);
  assert.equal(r.isProcessed(scope(), '2025-01-02', ct('1820', 'late')), false);
  assert.equal(r.newestDay(scope()), '2025-01-02');
  r.close();
});

test('GuardDuty UUID names in random order: exactly the marked ones are processed (issue #34615)', () => {
  const s = openStateStore(tmp(), { lookbackDays: 1, fsync: false });
  const gd = scope({ type: 'guardduty', flowLogId: '' });
  const names = Array.from({ length: 400 }, () => `AWSLogs/111111111111/GuardDuty/us-east-1/2025/01/02/${randomUUID()}.jsonl.gz`);
  const marked = names.filter((_, i) => i % 2 === 0);
  for (const k of marked) s.markProcessed(gd, '2025-01-02', k, { status: 'ok' });
  for (const [i, k] of names.entries()) assert.equal(s.isProcessed(gd, '2025-01-02', k), i % 2 === 0, k);
  s.close();
});

test('lastCheckpoint is the one stored with the latest mark that had one, any scope, and survives a restart', () => {
  const dir = tmp();
  const s = openStateStore(dir, { fsync: false });
  assert.equal(s.lastCheckpoint(), undefined);
  s.markProcessed(scope(), '2025-01-02', 'a', { status: 'ok', checkpoint: { alerts: 10 } });
  s.markProcessed(scope({ region: 'eu-west-1' }), '2025-01-02', 'b', { status: 'error', checkpoint: { alerts: 20, archives: 5 } });
  s.markProcessed(scope(), '2025-01-02', 'c', { status: 'ok' });
  assert.deepEqual(s.lastCheckpoint(), { alerts: 20, archives: 5 });
  s.close();
  const r = openStateStore(dir);
  assert.deepEqual(r.lastCheckpoint(), { alerts: 20, archives: 5 });
  r.close();
});

test('scopes never share anything: region A/B, flow log X/Y, path P/Q, bucket 1/2, account, type', () => {
  const dir = tmp();
  const s = openStateStore(dir, { fsync: false });
  const pairs: [Partial<ScopeKey>, Partial<ScopeKey>][] = [
    [{ region: 'us-east-2' }, { region: 'ap-east-1' }],
    [{ flowLogId: 'fl-0aaa' }, { flowLogId: 'fl-0bbb' }],
    [{ path: 'P/' }, { path: 'Q/' }],
    [{ bucket: 'bucket-1' }, { bucket: 'bucket-2' }],
    [{ account: '111111111111' }, { account: '222222222222' }],
    [{ type: 'cloudtrail' }, { type: 'guardduty' }],
  ];
  for (const [a] of pairs) s.markProcessed(scope(a), '2025-01-05', 'same/key.log.gz', { status: 'ok' });
  const check = (st: typeof s) => {
    for (const [a, b] of pairs) {
      assert.equal(st.isProcessed(scope(a), '2025-01-05', 'same/key.log.gz'), true, JSON.stringify(a));
      assert.equal(st.isProcessed(scope(b), '2025-01-05', 'same/key.log.gz'), false, JSON.stringify(b));
      assert.equal(st.newestDay(scope(b)), undefined, 'no shared cursor (issue #27781)');
      assert.equal(st.isProcessed(scope(b), '2025-01-01', 'old/key'), false, 'an unknown scope has no window either');
    }
  };
  check(s);
  s.close();
  const r = openStateStore(dir);
  check(r);
  assert.equal(r.scopes().length, pairs.length);
  r.close();
});

test('the window: [newest − lookback, newest] is exact; older days count as done unless exact is asked', () => {
  const s = openStateStore(tmp(), { lookbackDays: 2, fsync: false });
  s.markProcessed(scope(), '2025-01-01', 'old', { status: 'ok' });
  s.markProcessed(scope(), '2025-01-03', 'mid', { status: 'ok' });
  s.markProcessed(scope(), '2025-01-05', 'new', { status: 'ok' });
  assert.equal(s.isProcessed(scope(), '2025-01-02', 'anything'), true, 'behind the window');
  assert.equal(s.isProcessed(scope(), '2025-01-02', 'anything', { exact: true }), false, 'replay asks for exact membership');
  assert.equal(s.isProcessed(scope(), '2025-01-01', 'old', { exact: true }), false, 'days out of the window are forgotten');
  assert.equal(s.isProcessed(scope(), '2025-01-03', 'late'), false, 'the first day of the window is exact');
  assert.equal(s.isProcessed(scope(), '2025-01-03', 'mid'), true);
  assert.equal(s.isProcessed(scope(), '2025-01-06', 'next'), false);
  assert.equal(s.entries(), 2);
  s.close();
});

test('raising lookbackDays later does not re-read days that were already forgotten', () => {
  const dir = tmp();
  const s = openStateStore(dir, { lookbackDays: 1, fsync: false });
  s.markProcessed(scope(), '2025-01-01', 'k1', { status: 'ok' });
  s.markProcessed(scope(), '2025-01-05', 'k5', { status: 'ok' });
  s.close();
  const r = openStateStore(dir, { lookbackDays: 5 });
  assert.equal(r.isProcessed(scope(), '2025-01-01', 'k1'), true, 'forgotten, so behind the cursor');
  assert.equal(r.isProcessed(scope(), '2025-01-03', 'unknown'), true);
  assert.equal(r.isProcessed(scope(), '2025-01-04', 'unknown'), false);
  r.close();
  assert.equal(describeState(dir).lookbackDays, 5, 'the look-back in use is stored');
  const d = openStateStore(dir); // no lookbackDays (e.g. tld doctor): the stored one, nothing pruned
  assert.equal(d.isProcessed(scope(), '2025-01-04', 'unknown'), false);
  d.close();
});

test('an object dated in the future (wrong key or clock) does not move the window', () => {
  const s = openStateStore(tmp(), { lookbackDays: 1, fsync: false, now: () => new Date('2025-01-10T12:00:00Z') });
  s.markProcessed(scope(), '2025-01-10', 'today', { status: 'ok' });
  s.markProcessed(scope(), '2099-12-31', 'AWSLogs/x/2099/12/31/evil', { status: 'ok' });
  s.markProcessed(scope(), '2025-13-45', 'AWSLogs/x/2025/13/45/odd', { status: 'ok' });
  assert.equal(s.newestDay(scope()), '2025-01-10');
  assert.equal(s.isProcessed(scope(), '2025-01-09', 'late'), false, 'yesterday stays exact');
  assert.equal(s.isProcessed(scope(), '2099-12-31', 'AWSLogs/x/2099/12/31/evil'), true);
  assert.equal(s.isProcessed(scope(), '2025-13-45', 'AWSLogs/x/2025/13/45/odd'), true);
  s.markProcessed(scope(), '2025-01-11', 'tomorrow', { status: 'ok' });
  assert.equal(s.newestDay(scope()), '2025-01-11', 'one day ahead is allowed (time zones, skew)');
  s.close();
});

test('bad input is refused with a clear error; a closed store refuses use', () => {
  const s = openStateStore(tmp(), { fsync: false });
  assert.throws(() => s.markProcessed(scope(), '2025/01/02', 'k', { status: 'ok' }), (e: unknown) => e instanceof StateStoreError && e.code === 'TLD_ERR_STATE_INPUT' && /YYYY-MM-DD/.test(e.message));
  assert.throws(() => s.isProcessed(scope(), '2025-01-02', ''), /non-empty/);
  assert.throws(() => s.markProcessed(scope(), '2025-01-02', 'k', { status: 'ok', checkpoint: { alerts: -1 } }), /checkpoint/);
  assert.throws(() => openStateStore(tmp(), { lookbackDays: 1.5 }), /lookbackDays/);
  s.close();
  assert.throws(() => s.isProcessed(scope(), '2025-01-02', 'k'), (e: unknown) => e instanceof StateStoreError && e.code === 'TLD_ERR_STATE_CLOSED');
});

test('bounded: 1,000,000 objects over 200 days keep memory and disk proportional to the window', () => {
  const dir = tmp();
  const s = openStateStore(dir, { lookbackDays: 1, fsync: false });
  let maxDisk = 0;
  let maxEntries = 0;
  for (let i = 0; i < 1_000_000; i++) {
    s.markProcessed(scope(), dayN(Math.floor(i / 5000)), `AWSLogs/111111111111/vpcflowlogs/us-east-1/${i}.log.gz`, { status: 'ok', checkpoint: { alerts: i } });
    if (i % 50_000 === 49_999) {
      maxDisk = Math.max(maxDisk, dirSize(dir));
      maxEntries = Math.max(maxEntries, s.entries());
    }
  }
  // window = 2 days × 5,000 objects; snapshot ≈ 11 bytes per object, journal ≤ max(512 KiB, 2 × snapshot)
  assert.ok(maxEntries <= 10_000, `entries ${maxEntries}`);
  assert.ok(maxDisk < 800_000, `state on disk reached ${maxDisk} bytes`);
  assert.ok(s.stats().compactions > 10, 'the journal was folded into snapshots as it grew');
  s.close();
  assert.ok(dirSize(dir) < 200_000, `state on disk after close ${dirSize(dir)} bytes`);
  const r = openStateStore(dir, { lookbackDays: 1 });
  assert.equal(r.entries(), 10_000);
  assert.equal(r.isProcessed(scope(), dayN(199), 'AWSLogs/111111111111/vpcflowlogs/us-east-1/999999.log.gz'), true);
  assert.equal(r.isProcessed(scope(), dayN(199), 'AWSLogs/111111111111/vpcflowlogs/us-east-1/1000000.log.gz'), false);
  assert.deepEqual(r.lastCheckpoint(), { alerts: 999_999 });
  r.close();
});

test('reopening a store of 100,000 entries takes well under a second', () => {
  const dir = tmp();
  const s = openStateStore(dir, { lookbackDays: 3, fsync: false });
  for (let i = 0; i < 100_000; i++) s.markProcessed(scope({ region: `r${i % 4}` }), dayN(i % 3), `k${i}`, { status: 'ok' });
  s.close();
  const t0 = performance.now();
  const r = openStateStore(dir, { lookbackDays: 3 });
  const ms = performance.now() - t0;
  assert.equal(r.entries(), 100_000);
  assert.equal(r.isProcessed(scope({ region: 'r1' }), dayN(1), 'k1'), true);
  assert.ok(ms < 400, `reopen took ${ms.toFixed(0)} ms`);
  r.close();
});

test('a torn last journal line (crash mid-write) is ignored and cleaned up', () => {
  const dir = tmp();
  const s = openStateStore(dir, { compactMinBytes: 1 << 30 });
  s.markProcessed(scope(), '2025-01-02', 'a', { status: 'ok' });
  s.markProcessed(scope(), '2025-01-02', 'b', { status: 'ok', checkpoint: { alerts: 7 } });
  // what a crash leaves: the journal as it is (copy it before close() folds it in), plus half a line
  const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
  const snapshot = readFileSync(join(dir, 'snapshot.jsonl'), 'utf8');
  assert.equal(journal.split('\n').length, 4, 'one scope line and two object lines');
  s.close();
  writeFileSync(join(dir, 'snapshot.jsonl'), snapshot);
  writeFileSync(join(dir, 'journal.jsonl'), `${journal}{"s":0,"d":"2025-01-02","h":"0123`);
  const r = openStateStore(dir);
  assert.equal(r.isProcessed(scope(), '2025-01-02', 'a'), true);
  assert.equal(r.isProcessed(scope(), '2025-01-02', 'b'), true);
  assert.equal(r.entries(), 2);
  assert.deepEqual(r.lastCheckpoint(), { alerts: 7 });
  assert.equal(statSync(join(dir, 'journal.jsonl')).size, 0, 'opening folded the journal into a snapshot');
  r.close();
});

test('damage is an error naming the file and line, and leaves the files as they were (never a silent reset)', () => {
  const dir = tmp();
  const s = openStateStore(dir, { compactMinBytes: 1 << 30 });
  s.markProcessed(scope(), '2025-01-02', 'a', { status: 'ok' });
  s.markProcessed(scope(), '2025-01-02', 'b', { status: 'ok' });
  const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
  s.close();
  const snapshot = readFileSync(join(dir, 'snapshot.jsonl'), 'utf8');
  const expectDamage = (files: Record<string, string>, pattern: RegExp) => {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    assert.throws(() => openStateStore(dir), (e: unknown) => e instanceof StateStoreError && e.code === 'TLD_ERR_STATE_CORRUPT' && pattern.test(e.message));
    for (const [f, text] of Object.entries(files)) assert.equal(readFileSync(join(dir, f), 'utf8'), text, `${f} untouched`);
    assert.throws(() => describeState(dir), pattern);
  };
  const lines = journal.split('\n');
  expectDamage({ 'snapshot.jsonl': snapshot, 'journal.jsonl': [lines[0], 'garbage', lines[1], ''].join('\n') }, /journal\.jsonl:2: not valid JSON/);
  expectDamage({ 'journal.jsonl': [lines[1], lines[0], ''].join('\n') }, /journal\.jsonl:1: scope number 0 is not defined/);
  expectDamage({ 'journal.jsonl': [lines[0], (lines[1] ?? '').replace(/"h":"[0-9a-f]+"/, '"h":"zz"'), ''].join('\n') }, /journal\.jsonl:2: hash "h"/);
  const snapLines = snapshot.split('\n');
  expectDamage({ 'journal.jsonl': '', 'snapshot.jsonl': snapLines.slice(0, 2).join('\n') }, /snapshot\.jsonl:2: .*(end line|truncated)/);
  expectDamage({ 'snapshot.jsonl': snapshot.replace('"salt":"', '"salt":"x') }, /snapshot\.jsonl:1: salt/);
  rmSync(join(dir, 'snapshot.jsonl'));
  expectDamage({ 'journal.jsonl': journal }, /snapshot\.jsonl is missing/);
});

test('describeState reports scopes, window days and counts, without the lock, while the store is open', () => {
  const dir = tmp();
  const s = openStateStore(dir, { lookbackDays: 1, fsync: false });
  s.markProcessed(scope(), '2025-01-01', 'a', { status: 'ok' });
  s.markProcessed(scope(), '2025-01-02', 'b', { status: 'ok' });
  s.markProcessed(scope(), '2025-01-03', 'c', { status: 'error' });
  s.markProcessed(scope(), '2025-01-03', 'd', { status: 'ok', checkpoint: { alerts: 3 } });
  s.markProcessed(scope({ region: 'eu-west-1' }), '2025-01-03', 'e', { status: 'ok' });
  const d = describeState(dir);
  assert.equal(d.lookbackDays, 1);
  assert.equal(d.entries, 4);
  assert.deepEqual(d.lastCheckpoint, { alerts: 3 });
  assert.equal(d.lockedBy?.pid, process.pid);
  assert.equal(d.lockedBy?.live, true);
  const east = d.scopes.find((x) => x.scope.region === 'us-east-1');
  assert.deepEqual(
    { newestDay: east?.newestDay, windowStart: east?.windowStart, days: east?.days, objects: east?.objects, errors: east?.errors },
    { newestDay: '2025-01-03', windowStart: '2025-01-02', days: [{ day: '2025-01-02', objects: 1, errors: 0 }, { day: '2025-01-03', objects: 2, errors: 1 }], objects: 3, errors: 1 },
  );
  assert.equal(d.scopes.find((x) => x.scope.region === 'eu-west-1')?.objects, 1);
  s.close();
  assert.equal(describeState(dir).lockedBy, undefined);
  assert.equal(describeState(dir).entries, 4);
});

test('a refused mark writes nothing: the journal stays readable and the key unprocessed', () => {
  const dir = tmp();
  const s = openStateStore(dir, { fsync: false });
  s.markProcessed(scope(), '2025-01-02', 'a', { status: 'ok' });
  // a checkpoint JSON cannot carry (NaN would be written as null) is refused before anything is written
  assert.throws(() => s.markProcessed(scope(), '2025-01-02', 'b', { status: 'ok', checkpoint: { alerts: Number.NaN } }), /checkpoint/);
  assert.equal(s.isProcessed(scope(), '2025-01-02', 'b'), false);
  s.markProcessed(scope(), '2025-01-02', 'c', { status: 'ok' });
  const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
  assert.equal(journal.split('\n').length, 4, 'scope line, a, c');
  s.close();
  const r = openStateStore(dir);
  assert.equal(r.isProcessed(scope(), '2025-01-02', 'c'), true);
  assert.equal(r.isProcessed(scope(), '2025-01-02', 'b'), false);
  r.close();
});

test('recordCheckpoint stores output sizes before any object is marked, durably', () => {
  const dir = tmp();
  const s = openStateStore(dir, { compactMinBytes: 1 << 30 });
  s.recordCheckpoint({ alerts: 100, archives: 2000 });
  assert.deepEqual(s.lastCheckpoint(), { alerts: 100, archives: 2000 });
  const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
  const snapshot = readFileSync(join(dir, 'snapshot.jsonl'), 'utf8');
  s.close();
  // as if the process had died right after recordCheckpoint returned
  writeFileSync(join(dir, 'snapshot.jsonl'), snapshot);
  writeFileSync(join(dir, 'journal.jsonl'), journal);
  const r = openStateStore(dir);
  assert.deepEqual(r.lastCheckpoint(), { alerts: 100, archives: 2000 });
  r.markProcessed(scope(), '2025-01-02', 'a', { status: 'ok', checkpoint: { alerts: 150, archives: 2500 } });
  assert.deepEqual(r.lastCheckpoint(), { alerts: 150, archives: 2500 });
  assert.throws(() => r.recordCheckpoint({ alerts: 1.5 }), /checkpoint/);
  r.close();
});

test('markProcessedAll: several marks (a new scope among them) durable together, all or none, the last checkpoint wins', () => {
  const dir = tmp();
  const s = openStateStore(dir, { lookbackDays: 1 });
  s.markProcessed(scope(), '2025-01-02', 'before', { status: 'ok', checkpoint: { alerts: 5 } });
  const other = scope({ region: 'eu-west-1' });
  // the third mark is invalid: none of the three is recorded
  assert.throws(() => s.markProcessedAll([
    { scope: scope(), day: '2025-01-02', key: 'x1', info: { status: 'ok', checkpoint: { alerts: 10 } } },
    { scope: other, day: '2025-01-02', key: 'x2', info: { status: 'ok' } },
    { scope: scope(), day: '2025/01/02', key: 'x3', info: { status: 'ok' } },
  ]), /YYYY-MM-DD/);
  assert.equal(s.isProcessed(scope(), '2025-01-02', 'x1'), false);
  assert.equal(s.isProcessed(other, '2025-01-02', 'x2'), false);
  s.markProcessedAll([
    { scope: scope(), day: '2025-01-02', key: 'a', info: { status: 'ok', checkpoint: { alerts: 10 } } },
    { scope: other, day: '2025-01-03', key: 'b', info: { status: 'error', checkpoint: { alerts: 20 } } },
    { scope: other, day: '2025-01-03', key: 'c', info: { status: 'ok', checkpoint: { alerts: 30 } } },
  ]);
  assert.deepEqual(s.lastCheckpoint(), { alerts: 30 });
  s.close();
  const r = openStateStore(dir, { lookbackDays: 1 });
  for (const [sc, day, key] of [[scope(), '2025-01-02', 'before'], [scope(), '2025-01-02', 'a'], [other, '2025-01-03', 'b'], [other, '2025-01-03', 'c']] as const) assert.equal(r.isProcessed(sc, day, key, { exact: true }), true, key);
  assert.deepEqual(r.lastCheckpoint(), { alerts: 30 });
  assert.equal(r.newestDay(other), '2025-01-03');
  r.close();
});
