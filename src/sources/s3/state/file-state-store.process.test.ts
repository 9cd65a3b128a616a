/**
 * The state store across processes: a SIGKILL mid-way loses no reported mark and invents none; a second process
 * is refused while the first lives and takes over once it is dead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeState, openStateStore, StateStoreError } from './file-state-store.js';
import type { ScopeKey } from './types.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tld-state-proc-'));
const moduleUrl = new URL('./file-state-store.ts', import.meta.url).href;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-east-1'];
const scopeOf = (i: number): ScopeKey => ({ bucket: 'b', path: '', type: 'cloudtrail', account: '111111111111', region: REGIONS[i % 3] as string, flowLogId: '' });
const dayOf = (i: number) => `2025-01-0${1 + (i % 4)}`;
const keyOf = (i: number) => `AWSLogs/111111111111/CloudTrail/key-${i}.json.gz`;

/** Starts `node --import tsx` on a script, collecting its stdout lines; `onLine` may kill it. */
function runChild(script: string, onLine: (line: string, lines: string[], child: ChildProcessWithoutNullStreams) => void): { child: ChildProcessWithoutNullStreams; done: Promise<string[]> } {
  const child = spawn(process.execPath, ['--import', 'tsx', script]);
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      onLine(line, lines, child);
    }
  });
  const done = new Promise<string[]>((resolve, reject) => {
    child.on('close', (code, signal) => (signal === 'SIGKILL' || code === 0 ? resolve(lines) : reject(new Error(`child failed (${code}): ${stderr}`))));
  });
  return { child, done };
}

test('SIGKILL mid-way: every key the child reported as marked is processed after reopening, and nothing else', async () => {
  const dir = tmp();
  const script = join(dir, 'child.ts');
  writeFileSync(
    script,
    `import { openStateStore } from ${JSON.stringify(moduleUrl)};
const REGIONS = ${JSON.stringify(REGIONS)};
// a small compaction threshold, so that the kill may also land inside a snapshot rewrite
const s = openStateStore(${JSON.stringify(join(dir, 'state'))}, { lookbackDays: 7, compactMinBytes: 4096 });
for (let i = 0; ; i++) {
  const scope = { bucket: 'b', path: '', type: 'cloudtrail', account: '111111111111', region: REGIONS[i % 3], flowLogId: '' };
  s.markProcessed(scope, '2025-01-0' + (1 + (i % 4)), 'AWSLogs/111111111111/CloudTrail/key-' + i + '.json.gz', { status: 'ok', checkpoint: { alerts: i } });
  process.stdout.write(i + '\\n');
}
`,
  );
  const { done } = runChild(script, (_line, lines, child) => {
    if (lines.length === 400) child.kill('SIGKILL');
  });
  const reported = (await done).map(Number);
  assert.ok(reported.length >= 400, `${reported.length} keys reported`);
  const last = reported[reported.length - 1] as number;
  assert.deepEqual(reported, Array.from({ length: reported.length }, (_, i) => i));

  const r = openStateStore(join(dir, 'state'), { lookbackDays: 7 });
  for (const i of reported) assert.equal(r.isProcessed(scopeOf(i), dayOf(i), keyOf(i)), true, `reported key ${i}`);
  // the key being marked when the signal came may or may not have reached the journal; later ones cannot
  const inFlight = r.isProcessed(scopeOf(last + 1), dayOf(last + 1), keyOf(last + 1));
  for (let i = last + 2; i < last + 200; i++) assert.equal(r.isProcessed(scopeOf(i), dayOf(i), keyOf(i)), false, `unreported key ${i}`);
  assert.equal(r.isProcessed(scopeOf(0), dayOf(0), 'AWSLogs/never-marked'), false);
  assert.deepEqual(r.lastCheckpoint(), { alerts: inFlight ? last + 1 : last });
  assert.equal(r.entries(), reported.length + (inFlight ? 1 : 0));
  r.close();
});

test('a second process is refused (the error names the dir and the pid); once it is dead its lock is taken over', async () => {
  const dir = join(tmp(), 'state');
  const script = join(dir, '..', 'holder.ts');
  writeFileSync(
    script,
    `import { openStateStore } from ${JSON.stringify(moduleUrl)};
const s = openStateStore(${JSON.stringify(dir)});
s.markProcessed({ bucket: 'b', path: '', type: 'vpcflow', account: '1', region: 'r', flowLogId: 'fl-1' }, '2025-01-02', 'held-key', { status: 'ok' });
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`,
  );
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const { child, done } = runChild(script, (line) => line === 'ready' && ready());
  await isReady;
  assert.throws(
    () => openStateStore(dir),
    (e: unknown) => e instanceof StateStoreError && e.code === 'TLD_ERR_STATE_LOCKED' && e.message.includes(dir) && e.message.includes(`process ${child.pid}`),
  );
  const described = describeState(dir);
  assert.equal(described.lockedBy?.pid, child.pid);
  assert.equal(described.lockedBy?.live, true);
  child.kill('SIGKILL');
  await done;
  const s = openStateStore(dir);
  assert.equal(s.isProcessed({ bucket: 'b', path: '', type: 'vpcflow', account: '1', region: 'r', flowLogId: 'fl-1' }, '2025-01-02', 'held-key'), true);
  s.close();
});

test('locks: same process twice is refused; other host is respected; a reused pid or a dead pid is stale', () => {
  const dir = tmp();
  const s = openStateStore(dir);
  assert.throws(() => openStateStore(dir), /already open in this process/);
  s.close();
  const lock = join(dir, 'lock');
  writeFileSync(lock, JSON.stringify({ pid: 12345, hostname: `not-${hostname()}` }));
  assert.throws(() => openStateStore(dir), (e: unknown) => e instanceof StateStoreError && /process 12345 on not-/.test(e.message) && e.message.includes(lock));
  // a live pid (our parent) whose start time differs from the recorded one: the pid was reused, the lock is stale
  writeFileSync(lock, JSON.stringify({ pid: process.ppid, hostname: hostname(), startTicks: '1' }));
  openStateStore(dir).close();
  // a live pid without a start time (older lock): respected
  writeFileSync(lock, String(process.ppid));
  assert.throws(() => openStateStore(dir), new RegExp(`in use by process ${process.ppid}`));
  // a dead pid: taken over
  writeFileSync(lock, '999999999');
  openStateStore(dir).close();
});
