/**
 * `tld doctor` and `tld check-config` know queue workers: the doctor checks the queue on a real SQS-protocol server
 * (fauxqs) without receiving anything; check-config prints what each worker will do.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startSqsServer, type TestSqsServer } from '../helpers/sqs-server.js';
import { diagnoseSubscriber } from '../../src/operations/doctor.js';
import { openQueue } from '../../src/sources/sqs/queue.js';
import type { SubscriberConfig } from '../../src/config/types.js';

let sqs: TestSqsServer;

before(async () => {
  sqs = await startSqsServer();
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' });
});

after(async () => {
  await sqs?.close();
});

const sub = (sqsName: string): SubscriberConfig => ({ type: 'buckets', sqsName, sqsEndpoint: sqs.endpoint, awsAccountAlias: '', keyPrefixes: [], visibilityTimeoutSecs: 300, waitTimeSecs: 20, maxMessages: 10, origin: { file: 'ossec.conf', line: 1 } });
const lines = (checks: { verdict: string; what: string; detail: string }[]) => checks.map((c) => `${c.verdict} ${c.what}: ${c.detail}`);

test('the doctor finds the queue, its dead-letter queue and what waits, and receives nothing', async () => {
  await sqs.createQueue('doc-ok', { maxReceiveCount: 5 });
  await sqs.send('doc-ok', ['{}', '{}']);
  const checks = lines(await diagnoseSubscriber(sub('doc-ok'), openQueue));
  assert.match(checks[0] ?? '', /^ok queue: doc-ok found/);
  assert.ok(checks.includes('info messages: 2 waiting, 0 being handled'), checks.join('\n'));
  assert.ok(checks.some((c) => /^ok dead-letter queue: arn:aws:sqs:.*doc-ok-dlq after 5 receives$/.test(c)), checks.join('\n'));
  assert.equal(sqs.depth('doc-ok'), 2);
  assert.deepEqual((await sqs.receive('doc-ok')).length, 2, 'nothing was left hidden by the doctor');
});

test('no dead-letter queue is a warning; a missing queue fails with the fix', async () => {
  await sqs.createQueue('doc-nodlq');
  const warn = lines(await diagnoseSubscriber(sub('doc-nodlq'), openQueue));
  assert.ok(warn.some((c) => c.startsWith('warn dead-letter queue: none') && c.includes('RedrivePolicy')), warn.join('\n'));
  const missing = lines(await diagnoseSubscriber(sub('doc-missing'), openQueue));
  assert.equal(missing.length, 1);
  assert.match(missing[0] ?? '', /^fail queue: queue 'doc-missing' does not exist at http:\/\/127\.0\.0\.1:\d+: check <sqs_name>$/);
});

test('check-config prints each worker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tld-sqs-check-'));
  const conf = join(dir, 'ossec.conf');
  writeFileSync(conf, '<ossec_config><wodle name="aws-s3"><subscriber type="buckets"><sqs_name>events</sqs_name><sqs_endpoint>http://127.0.0.1:9324</sqs_endpoint><key_prefix type="guardduty">firehose/</key_prefix></subscriber></wodle></ossec_config>');
  const r = spawnSync(process.execPath, [new URL('../../bin/tld.js', import.meta.url).pathname, 'check-config', '-c', conf], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /worker {5}queue events {2}sqs_endpoint=http:\/\/127\.0\.0\.1:9324 {2}visibility=300s {2}types=firehose\/→guardduty/);
});
