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
  assert.deepEqual(cp, { alerts: alertsFile.size(), archives: 0 });
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
