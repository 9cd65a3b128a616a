import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, AwsEvent, EventBatch } from '../shared/events.js';
import { JsonLinesFile } from '../outputs/json-lines-file.js';
import { PipelineSink, recoverOutputs } from './pipeline-sink.js';
import type { AnalyzerPort } from './ports.js';

const event = (n: number): AwsEvent => ({ integration: 'aws', aws: { log_info: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, source: 'vpc', n } });
const batch = (replayed = false): EventBatch => ({
  object: { bucket: 'b', key: 'k', objectId: 'obj1', bucketType: 'vpcflow', size: 1, ...(replayed ? { replayed } : {}) },
  firstIndex: 0,
  events: [event(1), event(2)],
});
/** Alerts on every event, with the id derived from the record. */
const analyzer: AnalyzerPort = {
  analyze(b, emit) {
    b.events.forEach((_, i) => emit({ id: `${b.object.objectId}-${b.firstIndex + i}-1`, rule: { id: '1' } } as unknown as Alert));
  },
};
const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('alerts and archives are durable at objectDone; replayed objects write neither known alerts nor archives again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-sink-'));
  const alertsFile = new JsonLinesFile(join(dir, 'a.json'));
  const archivesFile = new JsonLinesFile(join(dir, 'r.json'));
  const sink = new PipelineSink({ analyzer, alertsFile, archivesFile, knownAlertIds: new Set(['obj1-0-1']) });
  await sink.write(batch(true));
  const cp = await sink.objectDone(batch().object, { status: 'ok', records: 2 });
  assert.deepEqual(lines(alertsFile.path).map((a) => a.id), ['obj1-1-1'], 'the known alert is not written again');
  assert.equal(lines(archivesFile.path).length, 0, 'a replayed object is not archived again');
  assert.deepEqual(cp, { alerts: alertsFile.size(), archives: 0, seq: 1 });
  await sink.write(batch());
  assert.equal(lines(alertsFile.path).length, 1, 'both alerts of the second pass are known now');
  await sink.objectDone(batch().object, { status: 'ok', records: 2 });
  assert.deepEqual(lines(archivesFile.path).map((e) => e.id), ['obj1-0', 'obj1-1']);
});

test('abortObject and recoverOutputs cut the files back to the last committed sizes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-sink-'));
  const alertsFile = new JsonLinesFile(join(dir, 'a.json'));
  const sink = new PipelineSink({ analyzer, alertsFile });
  await sink.write(batch());
  const cp = await sink.objectDone(batch().object, { status: 'ok', records: 2 });
  await sink.write({ ...batch(), object: { ...batch().object, objectId: 'obj2' } });
  await alertsFile.flush();
  assert.equal(lines(alertsFile.path).length, 4);
  await sink.abortObject({ ...batch().object, objectId: 'obj2' });
  assert.equal(lines(alertsFile.path).length, 2);
  await sink.write({ ...batch(), object: { ...batch().object, objectId: 'obj3' } });
  await alertsFile.flush();
  const before = alertsFile.size();
  assert.deepEqual(recoverOutputs(cp, { alerts: alertsFile }), { alerts: before - (cp.alerts ?? 0) });
  assert.equal(alertsFile.size(), cp.alerts);
  assert.equal(lines(alertsFile.path).length, 2);
});

test('group commit: finished objects share one flush, each resolves with its own sizes; an abort keeps the finished ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-sink-'));
  const alertsFile = new JsonLinesFile(join(dir, 'a.json'));
  let flushes = 0;
  const flush = alertsFile.flush.bind(alertsFile);
  alertsFile.flush = () => {
    flushes++;
    return flush();
  };
  const sink = new PipelineSink({ analyzer, alertsFile, groupMs: 10_000 });
  const obj = (id: string) => ({ ...batch(), object: { ...batch().object, objectId: id } });
  await sink.write(obj('g1'));
  const first = sink.objectDone(obj('g1').object, { status: 'ok', records: 2 });
  await sink.write(obj('g2'));
  const second = sink.objectDone(obj('g2').object, { status: 'ok', records: 2 });
  let settled = false;
  void first.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, 'nothing is durable before the group commits');
  assert.equal(flushes, 0);
  await sink.write(obj('g3'));
  await sink.abortObject(obj('g3').object);
  const [c1, c2] = await Promise.all([first, second]);
  assert.equal(flushes, 1, 'one flush for the whole group');
  assert.ok(c1.alerts! > 0 && c2.alerts! > c1.alerts!, 'each object has its own checkpoint');
  assert.equal(alertsFile.size(), c2.alerts, 'the aborted object was cut back, the finished ones kept');
  assert.deepEqual(lines(alertsFile.path).map((a) => a.id), ['g1-0-1', 'g1-1-1', 'g2-0-1', 'g2-1-1']);
});

test('group commit: a group closes at groupObjects without waiting for the timer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-sink-'));
  const alertsFile = new JsonLinesFile(join(dir, 'a.json'));
  const sink = new PipelineSink({ analyzer, alertsFile, groupMs: 60_000, groupObjects: 3 });
  const done = [];
  for (const id of ['x1', 'x2', 'x3']) {
    await sink.write({ ...batch(), object: { ...batch().object, objectId: id } });
    done.push(sink.objectDone({ ...batch().object, objectId: id }, { status: 'ok', records: 2 }));
  }
  const sizes = await Promise.all(done);
  assert.equal(sizes[2]!.alerts, alertsFile.size());
  assert.equal(lines(alertsFile.path).length, 6);
});

/** A real file whose writes start failing like a full disk once `failing` is set (the fd stays the real one). */
class FillingFile extends JsonLinesFile {
  failing = false;
  override append(item: unknown): void {
    if (this.failing) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    super.append(item);
  }
}

test('a failed output write fails every unfinished object, takes back what they wrote, and the next cycle writes each once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-sink-'));
  const alertsFile = new JsonLinesFile(join(dir, 'a.json'));
  const archivesFile = new FillingFile(join(dir, 'r.json'));
  const discarded: string[] = [];
  const untaught: string[] = [];
  const store = {
    path: join(dir, 'store.duckdb'),
    ingest: async () => {},
    discardObject: async (o: { objectId: string }) => void discarded.push(o.objectId),
    flush: async () => {},
    recordObject: () => {},
    close: async () => {},
  };
  const counting: AnalyzerPort = { ...analyzer, discardObject: (id) => void untaught.push(id) };
  const sink = new PipelineSink({ analyzer: counting, alertsFile, archivesFile, store, groupMs: 60_000 });
  const obj = (id: string) => ({ ...batch(), object: { ...batch().object, objectId: id } });
  // one object committed, two finished and waiting for their group, a third being read when the disk fills
  await sink.write(obj('c1'));
  const c1 = sink.objectDone(obj('c1').object, { status: 'ok', records: 2 });
  await sink.commitPending();
  const committed = await c1;
  await sink.write(obj('w1'));
  const w1 = sink.objectDone(obj('w1').object, { status: 'ok', records: 2 });
  await sink.write(obj('w2'));
  const w2 = sink.objectDone(obj('w2').object, { status: 'ok', records: 2 });
  archivesFile.failing = true;
  await assert.rejects(sink.write(obj('r1')), (e: Error) => e.message.startsWith(`cannot write ${archivesFile.path}: no space left on the device`));
  await assert.rejects(w1, /no space left/, 'a finished object of the failed group is not committed (never marked)');
  await assert.rejects(w2, /no space left/);
  await assert.rejects(sink.write(obj('r2')), /no space left/, 'no more work until the next cycle');
  assert.deepEqual(discarded.sort(), ['r1', 'w1', 'w2'], "the store drops every unfinished object's rows");
  assert.deepEqual(untaught.sort(), ['r1', 'w1', 'w2'], 'and the correlation windows what they added');
  assert.equal(alertsFile.size(), committed.alerts, 'alerts.json is back at the last commit');
  assert.equal(archivesFile.size(), committed.archives);

  archivesFile.failing = false;
  await sink.resume();
  for (const id of ['w1', 'w2', 'r1']) {
    await sink.write(obj(id));
    void sink.objectDone(obj(id).object, { status: 'ok', records: 2 });
  }
  await sink.commitPending();
  assert.deepEqual(lines(alertsFile.path).map((a) => a.id), ['c1-0-1', 'c1-1-1', 'w1-0-1', 'w1-1-1', 'w2-0-1', 'w2-1-1', 'r1-0-1', 'r1-1-1']);
  assert.deepEqual(lines(archivesFile.path).map((a) => a.id), ['c1-0', 'c1-1', 'w1-0', 'w1-1', 'w2-0', 'w2-1', 'r1-0', 'r1-1']);
});

test('a state mark that fails takes the object (and later ones) back to the state\'s last checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-sink-'));
  const alertsFile = new JsonLinesFile(join(dir, 'a.json'));
  const sink = new PipelineSink({ analyzer, alertsFile, groupMs: 60_000 });
  const obj = (id: string) => ({ ...batch(), object: { ...batch().object, objectId: id } });
  await sink.write(obj('m1'));
  const m1 = sink.objectDone(obj('m1').object, { status: 'ok', records: 2 });
  await sink.write(obj('m2'));
  const m2 = sink.objectDone(obj('m2').object, { status: 'ok', records: 2 });
  await sink.commitPending();
  const [cp1] = await Promise.all([m1, m2]);
  // m1 was marked (cp1 is the state's last checkpoint); marking m2 failed
  await sink.markFailed(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }), cp1, [obj('m2').object]);
  assert.equal(alertsFile.size(), cp1.alerts);
  await assert.rejects(sink.write(obj('m3')), /cannot write the collector state: no space left/, 'no more work until the next cycle');
  await sink.resume();
  await sink.write(obj('m2'));
  void sink.objectDone(obj('m2').object, { status: 'ok', records: 2 });
  await sink.commitPending();
  assert.deepEqual(lines(alertsFile.path).map((a) => a.id), ['m1-0-1', 'm1-1-1', 'm2-0-1', 'm2-1-1']);
});
