/**
 * The indexer store's bulk counters on /metrics: the collector (openRuntime + runCycle, in process) reads a VPC
 * Flow Logs object from s3rver into the indexer DOUBLE (tests/helpers/indexer-double.ts), and the registry the
 * /metrics route renders shows what the double answered: written, 409 already written, retried.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startIndexerDouble, type IndexerDouble } from '../helpers/indexer-double.js';
import { openRuntime, runCycle } from '../../src/pipeline/runtime.js';
import { SHARED } from '../../testdata/shared.js';

const VPC = `${SHARED}/aws-log-samples/vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log`;

let s3: TestS3Server;
let double: IndexerDouble;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-indexer-metrics-'));
  s3 = await startS3Server();
  double = await startIndexerDouble();
  await s3.putObject('metric-logs', 'AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log', readFileSync(VPC));
});
after(async () => {
  await s3?.close();
  await double?.close();
});

function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(labels ? `${name}{${labels}}` : `${name} `));
  assert.ok(line, `${name}{${labels}} on /metrics:\n${text}`);
  return Number(line.split(' ').pop());
}

/** One cycle with a fresh data directory (no state: everything is read again); returns the metrics text. */
async function cycle(name: string): Promise<string> {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, `<ossec_config>
  <store><backend>indexer</backend></store>
  <indexer><enabled>yes</enabled><hosts><host>${double.url}</host></hosts></indexer>
  <wodle name="aws-s3"><bucket type="vpcflow"><name>metric-logs</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2019-JAN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle>
</ossec_config>
`);
  const rt = await openRuntime({ configFiles: [conf], dataDir: join(dir, name), logger: pino({ level: 'silent' }) });
  try {
    await runCycle(rt, pino({ level: 'silent' }), { signal: new AbortController().signal });
    return await rt.metrics.render();
  } finally {
    await rt.close();
  }
}

test('/metrics shows the documents the indexer wrote, answered 409 for, and the requests retried', async () => {
  const first = await cycle('first');
  const flows = double.docs('tld-flows-*').length;
  assert.ok(flows > 0, 'the sample reached the indexer');
  const written = double.items.filter((i) => i.status >= 200 && i.status < 300).length;
  assert.equal(metric(first, 'tld_indexer_documents_total', 'result="written"'), written);
  assert.equal(metric(first, 'tld_indexer_documents_total', 'result="already_written"'), 0);
  assert.equal(metric(first, 'tld_indexer_documents_total', 'result="refused"'), 0);
  assert.equal(metric(first, 'tld_indexer_bulk_requests_total'), double.bulkBodies.length);
  assert.equal(metric(first, 'tld_indexer_retries_total', 'kind="request"'), 0);

  // state lost: the same object read again, every document already there; the double sheds the first request
  const before = double.items.length;
  const requestsBefore = double.bulkBodies.length;
  double.shedRequests(1, 429);
  const again = await cycle('again');
  const conflicts = double.items.slice(before).filter((i) => i.status === 409).length;
  assert.ok(conflicts >= flows, 'every flow answered 409');
  assert.equal(metric(again, 'tld_indexer_documents_total', 'result="already_written"'), conflicts);
  assert.equal(metric(again, 'tld_indexer_retries_total', 'kind="request"'), 1);
  assert.equal(metric(again, 'tld_indexer_bulk_requests_total'), double.bulkBodies.length - requestsBefore, 'the shed request counts too (the double keeps every body it got)');
});

test('/metrics shows the correlator\'s passes and the windows it wrote or found written', async () => {
  const header = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
  const t0 = Date.parse('2025-06-26T21:00:00Z') / 1000;
  const lines = Array.from({ length: 120 }, (_, i) => `2 149519528842 eni-0a1b2c3d4e5f60718 203.0.113.9 10.0.1.208 ${40000 + i} ${i + 1} 6 1 40 ${t0 + i} ${t0 + i + 1} REJECT OK`);
  await s3.putObject('metric-scan', 'AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/149519528842_vpcflowlogs_us-west-2_fl-0cccccccccccccccc_20250626T2100Z_scan.log.gz', gzipSync(`${[header, ...lines].join('\n')}\n`));
  const conf = join(dir, 'scan.conf');
  writeFileSync(conf, `<ossec_config>
  <store><backend>indexer</backend></store>
  <indexer><enabled>yes</enabled><hosts><host>${double.url}</host></hosts><correlation_grace_seconds>0</correlation_grace_seconds></indexer>
  <wodle name="aws-s3"><bucket type="vpcflow"><name>metric-scan</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2019-JAN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle>
</ossec_config>
`);
  const rt = await openRuntime({ configFiles: [conf], dataDir: join(dir, 'scan'), logger: pino({ level: 'silent' }) });
  try {
    await runCycle(rt, pino({ level: 'silent' }), { signal: new AbortController().signal });
    await rt.correlator!.pass();
    await rt.correlator!.pass();
    const text = await rt.metrics.render();
    assert.equal(metric(text, 'tld_correlator_passes_total', 'result="ok"'), 2);
    assert.equal(metric(text, 'tld_correlator_windows_total', 'result="written"'), 1);
    assert.equal(metric(text, 'tld_correlator_windows_total', 'result="already_written"'), 0, 'its second pass does not replay what it replayed whole');
    assert.equal(metric(text, 'tld_correlator_settled_until_timestamp_seconds'), t0 + 119);
  } finally {
    await rt.close();
  }
  // another worker (a data folder of its own) passing over the same partials finds the alert written
  const other = await openRuntime({ configFiles: [conf], dataDir: join(dir, 'scan-other'), logger: pino({ level: 'silent' }) });
  try {
    await other.correlator!.pass();
    const text = await other.metrics.render();
    assert.equal(metric(text, 'tld_correlator_windows_total', 'result="written"'), 0);
    assert.equal(metric(text, 'tld_correlator_windows_total', 'result="already_written"'), 1);
  } finally {
    await other.close();
  }
  assert.equal(double.docs('wazuh-alerts-4.x-*').filter((d) => (d.source.rule as { id?: string }).id === '80640').length, 1);
});
