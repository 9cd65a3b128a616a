/**
 * A group commit that fails while later objects finish: those objects (waiting for the next group) fail with it
 * instead of waiting forever; the collector, which waits for every finished object before it ends a bucket, hung
 * on them (tests/collector/output-failure.test.ts timed out now and then once the store ran on its own thread).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, AwsEvent, EventBatch } from '../shared/events.js';
import { JsonLinesFile } from '../outputs/json-lines-file.js';
import { PipelineSink } from './pipeline-sink.js';
import type { AnalyzerPort } from './ports.js';

const event = (n: number): AwsEvent => ({ integration: 'aws', aws: { log_info: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' }, source: 'vpc', n } });
const batch = (objectId: string): EventBatch => ({ object: { bucket: 'b', key: objectId, objectId, bucketType: 'vpcflow', size: 1 }, firstIndex: 0, events: [event(1), event(2)] });
const analyzer: AnalyzerPort = { analyze: (b, emit) => b.events.forEach((_, i) => emit({ id: `${b.object.objectId}-${i}`, rule: { id: '1' } } as unknown as Alert)) };

test('objects finished while a group commit fails are failed too, not left waiting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-sink-'));
  let failCommit!: (e: Error) => void;
  const discarded: string[] = [];
  const store = {
    path: join(dir, 'store.duckdb'),
    ingest: async () => {},
    // the first commit waits until the test makes it fail
    flush: () => new Promise<void>((_, reject) => (failCommit = reject)),
    discardObject: async (o: { objectId: string }) => void discarded.push(o.objectId),
    recordObject: () => {},
    close: async () => {},
  };
  const sink = new PipelineSink({ analyzer, alertsFile: new JsonLinesFile(join(dir, 'a.json')), store, groupMs: 60_000 });
  await sink.write(batch('first'));
  const first = sink.objectDone(batch('first').object, { status: 'ok', records: 2 });
  const committing = sink.commitPending();
  while (!failCommit) await new Promise((r) => setImmediate(r));
  // reading goes on during the commit: the next object finishes and waits for the next group
  await sink.write(batch('later'));
  const later = sink.objectDone(batch('later').object, { status: 'ok', records: 2 });
  let settled = false;
  later.then(
    () => (settled = true),
    () => (settled = true),
  );
  failCommit(new Error('disk I/O error'));
  await assert.rejects(first, /disk I\/O error/);
  await committing;
  // the collector ends the bucket: it commits what is pending and waits for every finished object
  await sink.commitPending();
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, true, 'the later object is settled, not left waiting');
  await assert.rejects(later, /disk I\/O error/, 'and not committed (never marked processed)');
  await sink.resume();
  assert.deepEqual(discarded.sort(), ['first', 'later'], 'both are taken back, to be read again');
});
