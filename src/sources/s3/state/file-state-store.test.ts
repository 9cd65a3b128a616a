import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { openStateStore, StateStoreError } from './file-state-store.js';
import type { ScopeKey } from './types.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tld-state-'));
const scope = (p: Partial<ScopeKey> = {}): ScopeKey => ({ bucket: 'b', path: '', type: 'vpcflow', account: '111111111111', region: 'us-east-1', flowLogId: 'fl-1', ...p });
const dayN = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
const dirSize = (dir: string) => readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

test('membership is exact inside the window and survives a restart, with the last checkpoint', () => {
  const dir = tmp();
  const s = openStateStore(dir, { lookbackDays: 1 });
  s.markProcessed(scope(), '2025-01-02', 'k/b', { status: 'ok', checkpoint: { alerts: 10 } });
  s.markProcessed(scope(), '2025-01-02', 'k/d', { status: 'error', checkpoint: { alerts: 20, archives: 5 } });
  assert.equal(s.isProcessed(scope(), '2025-01-02', 'k/a'), false, 'a key sorting before processed keys is not processed (late files are read)');
  assert.equal(s.isProcessed(scope(), '2025-01-02', 'k/c'), false);
  s.close();
  const r = openStateStore(dir, { lookbackDays: 1 });
  assert.equal(r.isProcessed(scope(), '2025-01-02', 'k/b'), true);
  assert.equal(r.isProcessed(scope(), '2025-01-02', 'k/d'), true);
  assert.equal(r.isProcessed(scope(), '2025-01-02', 'k/c'), false);
  assert.equal(r.newestDay(scope()), '2025-01-02');
  assert.deepEqual(r.lastCheckpoint(), { alerts: 20, archives: 5 });
  r.close();
});

test('scopes never share anything: bucket, path, account, region and flow log are independent', () => {
  const s = openStateStore(tmp());
  s.markProcessed(scope(), '2025-01-02', 'key', { status: 'ok' });
  for (const other of [{ bucket: 'b2' }, { path: 'p/' }, { account: '222222222222' }, { region: 'eu-west-1' }, { flowLogId: 'fl-2' }, { type: 'cloudtrail' }]) {
    assert.equal(s.isProcessed(scope(other), '2025-01-02', 'key'), false, JSON.stringify(other));
    assert.equal(s.newestDay(scope(other)), undefined);
  }
  s.close();
});

test('the window: days older than newest − lookback count as done and are forgotten', () => {
  const s = openStateStore(tmp(), { lookbackDays: 1 });
  s.markProcessed(scope(), '2025-01-01', 'old', { status: 'ok' });
  s.markProcessed(scope(), '2025-01-05', 'new', { status: 'ok' });
  assert.equal(s.isProcessed(scope(), '2025-01-01', 'anything'), true);
  assert.equal(s.isProcessed(scope(), '2025-01-04', 'late'), false, 'the day before the newest is still exact');
  assert.equal(s.entries(), 1);
  s.close();
});

test('bounded: a million objects over 200 days keep memory and disk proportional to the window', () => {
  const dir = tmp();
  const s = openStateStore(dir, { lookbackDays: 1, fsync: false });
  for (let i = 0; i < 1_000_000; i++) s.markProcessed(scope(), dayN(Math.floor(i / 5000)), `AWSLogs/x/${i}`, { status: 'ok' });
  assert.ok(s.entries() <= 10_000, `entries ${s.entries()}`);
  s.close();
  assert.ok(dirSize(dir) < 1_000_000, `state on disk ${dirSize(dir)} bytes`);
});

test('a second process cannot open the same state; a stale lock of a dead process is taken over', () => {
  const dir = tmp();
  const s = openStateStore(dir);
  writeFileSync(join(dir, 'lock'), '1'); // pid 1 is alive (init)
  assert.throws(() => openStateStore(dir), (e: unknown) => e instanceof StateStoreError && /in use by process 1/.test(e.message));
  writeFileSync(join(dir, 'lock'), '999999999');
  const t = openStateStore(dir);
  t.close();
  s.close();
});

test('a torn last journal line (crash mid-write) is ignored; damage elsewhere is an error naming the file and line', () => {
  const dir = tmp();
  const s = openStateStore(dir);
  s.markProcessed(scope(), '2025-01-02', 'a', { status: 'ok' });
  // simulate a crash: the process dies without close()
  appendFileSync(join(dir, 'journal.jsonl'), '{"s":{"bucket":"b"');
  writeFileSync(join(dir, 'lock'), '999999999');
  const r = openStateStore(dir);
  assert.equal(r.isProcessed(scope(), '2025-01-02', 'a'), true);
  r.close();
  writeFileSync(join(dir, 'journal.jsonl'), 'garbage\n{"s":{"bucket":"b","path":"","type":"vpcflow","account":"1","region":"r","flowLogId":""},"d":"2025-01-02","h":"00"}\n');
  assert.throws(() => openStateStore(dir), /journal\.jsonl:1 is not valid JSON/);
});

test('killed with SIGKILL mid-way: every key reported as marked is processed after reopening', async () => {
  const dir = tmp();
  const script = join(dir, 'child.ts');
  writeFileSync(script, `
import { openStateStore } from ${JSON.stringify(new URL('./file-state-store.ts', import.meta.url).pathname)};
const s = openStateStore(${JSON.stringify(dir)}, { lookbackDays: 2 });
for (let i = 0; ; i++) {
  s.markProcessed({ bucket: 'b', path: '', type: 'vpcflow', account: '1', region: 'r', flowLogId: '' }, '2025-01-0' + (1 + (i % 3)), 'key-' + i, { status: 'ok' });
  process.stdout.write('key-' + i + '\\n');
}
`);
  const child = spawn(process.execPath, ['--import', 'tsx', script]);
  const marked: string[] = [];
  let buf = '';
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      marked.push(...lines);
      if (marked.length >= 300 && !child.killed) child.kill('SIGKILL');
    });
    child.on('close', () => resolve());
  });
  assert.ok(marked.length >= 300);
  const r = openStateStore(dir, { lookbackDays: 2 });
  const sc = { bucket: 'b', path: '', type: 'vpcflow', account: '1', region: 'r', flowLogId: '' };
  for (const key of marked) {
    const i = Number(key.slice(4));
    assert.equal(r.isProcessed(sc, '2025-01-0' + (1 + (i % 3)), key), true, key);
  }
  assert.equal(r.isProcessed(sc, '2025-01-03', 'key-never'), false);
  r.close();
});
