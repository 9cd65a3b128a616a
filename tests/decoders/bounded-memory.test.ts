/**
 * Large objects decode under the heap limit the shipped systemd unit gives the service
 * (deploy/threatlockdown.service, NODE_OPTIONS=--max-old-space-size=…): a CloudTrail file used to be parsed
 * as one JSON document, and a 400k-record object aborted the process ("Reached heap limit") on every restart.
 * Each object is generated on the fly as a gzip stream in a child process (decode-memory.ts) that runs
 * with that limit; the child must finish and count every record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url).pathname;
const unit = readFileSync(root + 'deploy/threatlockdown.service', 'utf8');
const heapMb = Number(/^Environment=NODE_OPTIONS=.*--max-old-space-size=(\d+)/m.exec(unit)?.[1]);

function decodeInChild(kind: string, records: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [`--max-old-space-size=${heapMb}`, '--import', 'tsx', root + 'tests/decoders/decode-memory.ts', kind, String(records)],
      { cwd: root, maxBuffer: 1 << 20, env: { ...process.env, NODE_OPTIONS: '' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`the decode of a ${records}-record ${kind} object under --max-old-space-size=${heapMb} failed (${error.message}): ${stderr.slice(-600)}${stdout}`));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
  });
}

test('the systemd unit sets a heap limit (the figure these tests run under)', () => {
  assert.ok(Number.isInteger(heapMb) && heapMb > 0, 'deploy/threatlockdown.service sets NODE_OPTIONS=--max-old-space-size=<MB>');
});

test('a 400k-record CloudTrail object (about 190 MB of JSON) decodes under the unit\'s heap limit, every record counted', async () => {
  const r = await decodeInChild('cloudtrail', 400_000);
  assert.equal(r.events, 400_000);
  assert.equal(r.recordErrors, 0);
});

test('GuardDuty objects of 200k findings (Firehose concatenated JSON, native JSON Lines) decode under the same limit', async () => {
  for (const kind of ['guardduty-firehose', 'guardduty-native']) {
    const r = await decodeInChild(kind, 200_000);
    assert.equal(r.events, 200_000, kind);
    assert.equal(r.recordErrors, 0, kind);
  }
});
