/**
 * The collector's half of exactly once with the real pipeline sink and the real state store: an object is marked
 * only once its group is durable, the marks of a group are written together (one sync), and a mark that fails
 * stops the bucket and hands the objects back to the sink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Alert } from '../../shared/events.js';
import { JsonLinesFile } from '../../outputs/json-lines-file.js';
import { PipelineSink } from '../../pipeline/pipeline-sink.js';
import { openStateStore } from './state/file-state-store.js';
import type { Mark, ScopeKey, StateStore } from './state/types.js';
import { ObjectCommits } from './object-commits.js';

const scope: ScopeKey = { bucket: 'b', path: '', type: 'vpcflow', account: '111111111111', region: 'us-east-1', flowLogId: 'fl-1' };
const ref = (i: number) => ({ bucket: 'b', key: `k${i}`, objectId: `o${i}`, bucketType: 'vpcflow' as const, size: 1 });
const analyzer = { analyze: (_b: unknown, emit: (a: Alert) => void) => emit({ id: 'x', rule: { id: '1' } } as unknown as Alert) };

function setup(wrap: (s: StateStore) => StateStore = (s) => s) {
  const dir = mkdtempSync(join(tmpdir(), 'tld-commits-'));
  const real = openStateStore(join(dir, 'state'), { lookbackDays: 1 });
  const calls: number[] = [];
  const state = wrap(
    new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'markProcessedAll') return (marks: Mark[]) => (calls.push(marks.length), target.markProcessedAll(marks));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }),
  );
  const sink = new PipelineSink({ analyzer, alertsFile: new JsonLinesFile(join(dir, 'alerts.json')), groupMs: 60_000 });
  return { real, state, sink, calls };
}

test("a group commit's objects are marked together, after the group is durable, in order", async () => {
  const { real, state, sink, calls } = setup();
  const commits = new ObjectCommits({ sink, state, logger: pino({ level: 'silent' }) });
  for (let i = 0; i < 10; i++) {
    await sink.write({ object: ref(i), firstIndex: 0, events: [{ integration: 'aws', aws: { log_info: { aws_account_alias: '', log_file: `k${i}`, s3bucket: 'b' } } }] });
    await commits.objectRead(ref(i), { status: 'ok', records: 1 }, { stateKey: scope, day: '2025-06-26' });
  }
  assert.equal(real.isProcessed(scope, '2025-06-26', 'k0', { exact: true }), false, 'nothing is marked before its group is durable');
  await commits.settle();
  assert.deepEqual(calls, [10], 'one write (one sync) for the ten marks of the group');
  for (let i = 0; i < 10; i++) assert.equal(real.isProcessed(scope, '2025-06-26', `k${i}`, { exact: true }), true);
  assert.equal(real.lastCheckpoint()?.seq, 10, "the last object's checkpoint is the state's");
  real.close();
});

test('a mark that fails stops the bucket, is thrown by settle, and no later object is marked', async () => {
  let fail = true;
  const { real, state, sink } = setup((s) =>
    new Proxy(s, {
      get(target, prop, receiver) {
        if (prop === 'markProcessedAll')
          return (marks: Mark[]) => {
            if (fail) throw new Error('EIO: i/o error, write');
            return target.markProcessedAll(marks);
          };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }),
  );
  const commits = new ObjectCommits({ sink, state, logger: pino({ level: 'silent' }) });
  await commits.objectRead(ref(1), { status: 'ok', records: 0 }, { stateKey: scope, day: '2025-06-26' });
  await assert.rejects(commits.settle(), /EIO/);
  assert.equal(commits.stopped, true);
  fail = false;
  await sink.resume();
  assert.equal(real.isProcessed(scope, '2025-06-26', 'k1', { exact: true }), false, 'read again next cycle');
  real.close();
});
