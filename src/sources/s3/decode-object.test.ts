/**
 * decodeFlowObject hands each FlowBatch to the sink and frees its buffers once the sink returns (a batch waiting
 * its turn outlives V8's young generation; freed at a full collection only, they held tens of MB): the sink reads
 * every value while it has the batch, and nothing after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFlowDecoder, transferables, columnOf, type FlowBatch } from '../../decoders/index.js';
import type { ObjectRef } from '../../shared/events.js';
import type { EventSink } from '../../shared/sink.js';
import { decodeFlowObject } from './decode-object.js';
import type { FlowContent } from './fetch-pool.js';
import { releaseBuffers } from '../../shared/release-buffers.js';

const header = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const line = (i: number) => `2 123456789012 eni-0a1b2c3d 10.0.0.${i % 250} 172.16.0.1 ${40000 + i} 443 6 ${i + 1} ${100 * (i + 1)} 1700000000 1700000060 ACCEPT OK`;

function contentOf(lines: number, batchRows: number): FlowContent {
  const decoder = createFlowDecoder({ bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: 'b' } }, { batchRows });
  const text = [header, ...Array.from({ length: lines }, (_, i) => line(i))].join('\n') + '\n';
  const batches = [...decoder.push(Buffer.from(text)), ...decoder.end()];
  return {
    batches: (async function* () {
      yield* batches;
    })(),
    discard: () => {},
    recordErrors: () => ({ count: 0, first: [] }),
  };
}

test('each batch is read whole by the sink, then its buffers are released', async () => {
  const seen: FlowBatch[] = [];
  const bytes: number[] = [];
  const sink: EventSink = {
    write: () => assert.fail('VPC batches go to writeFlows'),
    writeFlows: (_ref: ObjectRef, batch: FlowBatch) => {
      // while the sink has it, the batch is whole
      seen.push(batch);
      const column = batch.columns[columnOf(batch, 'bytes')] as { values: Float64Array };
      bytes.push(column.values.reduce((a, b) => a + b, 0));
      return Promise.resolve();
    },
  } as unknown as EventSink;
  const ref = { objectId: 'o', bucket: 'b', key: 'k' } as ObjectRef;
  const written = { events: 0 };
  const r = await decodeFlowObject(ref, contentOf(2500, 1000), sink, written);
  assert.equal(r.records, 2500);
  assert.equal(written.events, 2500);
  assert.deepEqual(seen.map((b) => b.length), [1000, 1000, 500]);
  // 100 × (i + 1) summed over each batch's rows
  const sum = (from: number, to: number) => (100 * (to * (to + 1) - from * (from + 1))) / 2;
  assert.deepEqual(bytes, [sum(0, 1000), sum(1000, 2000), sum(2000, 2500)]);
  for (const b of seen) for (const buffer of transferables(b)) assert.equal(buffer.byteLength, 0, 'released after the sink returned');
});

test('releaseBuffers detaches what it is given and skips empty buffers', () => {
  const a = new ArrayBuffer(1 << 20);
  const view = new Float64Array(a);
  view[0] = 1;
  const empty = new ArrayBuffer(0);
  releaseBuffers([a, empty, a]);
  assert.equal(a.byteLength, 0);
  assert.equal(view.length, 0, 'a view over it reads as empty');
  assert.equal(empty.byteLength, 0);
});
