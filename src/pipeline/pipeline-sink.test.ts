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
