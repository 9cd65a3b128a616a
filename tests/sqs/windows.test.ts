/**
 * Frequency windows across worker processes (issue 13 item 5): two real `tld start` workers on one fauxqs queue,
 * reading from s3rver and writing to the indexer DOUBLE (tests/helpers/indexer-double.ts, a protocol double, not
 * an OpenSearch server). The two halves of a port scan are read by different workers, one after the other, so no
 * worker sees the whole window: the correlators fire it from the partials in the indexer, exactly once, also
 * while both workers' correlators keep passing over it. The expected alert is the one a single analyzer raises
 * over all the records (computed here, not written down).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startSqsServer, type TestSqsServer } from '../helpers/sqs-server.js';
import { startIndexerDouble, type IndexerDouble } from '../helpers/indexer-double.js';
import { notificationOf } from '../../src/sources/sqs/backfill.js';
import { decodeBuffer } from '../../src/decoders/index.js';
import { createAnalyzer, loadRuleset } from '../../src/analysis/index.js';
import { alertsFilePath } from '../../src/outputs/json-lines-file.js';
import type { Alert } from '../../src/shared/events.js';
import { sleep, startTld, until } from '../helpers/tld-process.js';

const BUCKET = 'windows';
const QUEUE = 'windows';
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const T0 = Date.parse('2025-06-26T19:00:00Z') / 1000;
const SRC = '203.0.113.50';
/** a scan of ports from..to, port p at T0 + p seconds */
const scanLines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => {
  const p = from + i;
  return `2 111111111111 eni-0a1b2c3d4e5f60718 ${SRC} 10.0.1.208 ${40000 + p} ${p} 6 1 40 ${T0 + p} ${T0 + p + 1} REJECT OK`;
});
const PARTS = [scanLines(1, 60), scanLines(61, 150)];
const keyOf = (n: number) => `AWSLogs/111111111111/vpcflowlogs/us-west-2/2025/06/26/111111111111_vpcflowlogs_us-west-2_fl-0aaaaaaaaaaaaaaaa_20250626T190${n}Z_scan${n}.log.gz`;

let s3: TestS3Server;
let sqs: TestSqsServer;
let double: IndexerDouble;
let dir: string;
let config: string;
const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-windows-'));
  s3 = await startS3Server();
  sqs = await startSqsServer();
  double = await startIndexerDouble();
  await sqs.createQueue(QUEUE, { visibilitySecs: 5 });
  for (const [n, lines] of PARTS.entries()) await s3.putObject(BUCKET, keyOf(n), gzipSync(`${[HEADER, ...lines].join('\n')}\n`));
  config = join(dir, 'ossec.conf');
  writeFileSync(config, `<ossec_config>
  <store><backend>indexer</backend></store>
  <indexer><enabled>yes</enabled><hosts><host>${double.url}</host></hosts>
    <correlation_grace_seconds>0</correlation_grace_seconds><correlation_interval_seconds>1</correlation_interval_seconds>
  </indexer>
  <wodle name="aws-s3">
    <subscriber type="buckets">
      <sqs_name>${QUEUE}</sqs_name><sqs_endpoint>${sqs.endpoint}</sqs_endpoint><service_endpoint>${s3.endpoint}</service_endpoint>
      <visibility_timeout>5</visibility_timeout><wait_time>1</wait_time>
    </subscriber>
  </wodle>
</ossec_config>
`);
});

after(async () => {
  await double?.close();
  await sqs?.close();
  await s3?.close();
});

// (info: the test waits for "Module AWS started." — a SIGTERM before the handlers are in would kill it)
const startWorker = (name: string) => startTld(config, join(dir, name), env, 'info');
const scanAlerts = () => double.docs('wazuh-alerts-4.x-*').filter((d) => (d.source.rule as { id?: string }).id === '80640');
const partials = () => double.docs('tld-correlation-partials').filter((d) => d.source.rule === '80640');
const localScanAlerts = (name: string): string[] => {
  const path = alertsFilePath(join(dir, name));
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('"80640"')) : [];
};

test('a scan split over two objects read by two worker processes raises exactly one 80640 alert in the indexer, with two correlators passing', async () => {
  const ruleset = await loadRuleset({ ruleDirs: [], ruleFiles: [], lists: [], ruleExcludes: [] });
  const reference: Alert[] = [];
  const all = decodeBuffer(Buffer.from([HEADER, ...PARTS.flat()].join('\n') + '\n'), { bucketType: 'vpcflow', logInfo: { aws_account_alias: '', log_file: 'k', s3bucket: BUCKET } });
  createAnalyzer(ruleset, { logAlertLevel: 3, managerName: 'm' }).analyze({ object: { bucket: BUCKET, key: 'all', objectId: 'all', bucketType: 'vpcflow', size: 0 }, firstIndex: 0, events: all }, (a) => a.correlation && reference.push(a));
  assert.equal(reference.length, 1, 'the single process fires the scan once');

  // worker a reads the first half alone, and stops
  const a = startWorker('a');
  assert.ok(await until(() => a.out.includes('Module AWS started'), 60_000), a.out);
  await sqs.send(QUEUE, [notificationOf(BUCKET, { key: keyOf(0), size: 1 }, 'us-west-2')]);
  assert.ok(await until(() => sqs.depth(QUEUE) === 0 && partials().length === 1, 60_000), `worker a did not read the first half:\n${a.out}`);
  await sleep(2500); // a few correlator passes over the first half alone: nothing to fire
  assert.equal(scanAlerts().length, 0, 'half a scan fires nothing');
  a.child.kill('SIGTERM');
  assert.equal(await a.exited, 0, a.out);

  // worker b reads the second half: only the two halves together complete the window
  const b = startWorker('b');
  assert.ok(await until(() => b.out.includes('Module AWS started'), 60_000), b.out);
  await sqs.send(QUEUE, [notificationOf(BUCKET, { key: keyOf(1), size: 1 }, 'us-west-2')]);
  assert.ok(await until(() => scanAlerts().length > 0, 60_000), `no scan alert:\n${b.out}`);
  // both workers' correlators pass over the same window, again and again (c): still one alert
  const again = startWorker('a');
  assert.ok(await until(() => again.out.includes('Module AWS started'), 60_000), again.out);
  await sleep(4000);
  again.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  const statuses = await Promise.all([again.exited, b.exited]);
  assert.deepEqual(statuses, [0, 0], `${again.out}\n${b.out}`);

  const objects = new Set(partials().map((d) => d.source.object_key));
  assert.deepEqual([...objects].sort(), [keyOf(0), keyOf(1)], 'the window\'s partials came from two objects');
  const alerts = scanAlerts();
  assert.equal(alerts.length, 1, `80640 alerts: ${alerts.map((d) => d.id).join(', ')}`);
  const got = alerts[0]!.source as unknown as Alert;
  assert.equal(alerts[0]!.id, reference[0]!.id);
  assert.deepEqual([got.rule.description, got.correlation], [reference[0]!.rule.description, reference[0]!.correlation]);
  assert.deepEqual([localScanAlerts('a'), localScanAlerts('b')], [[], []], 'no worker fired the window itself');
});
