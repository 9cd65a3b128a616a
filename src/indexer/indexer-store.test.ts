/**
 * The indexer store through the real OpenSearch client against the indexer DOUBLE (tests/helpers/indexer-double.ts,
 * a protocol double, not a real OpenSearch: none can run here). What is checked is what the double models: the
 * `_bulk` protocol, 409 on create, external versions, 429/5xx, per-item errors, mappings from the templates.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIndexerDouble, type IndexerDouble } from '../../tests/helpers/indexer-double.js';
import type { IndexerConfig } from '../config/types.js';
import type { Alert, AwsEvent, EventBatch, ObjectRef } from '../shared/events.js';
import { IndexerStore } from './indexer-store.js';
import { IndexerDocumentError, IndexerRequestError } from './errors.js';
import { alertsTemplate } from './templates.js';
import { SHARED } from '../../testdata/shared.js';

const SAMPLES = `${SHARED}/aws-log-samples`;
const WAZUH_TEMPLATE = `${SHARED}/reference/wazuh-ruleset/wazuh-template.json`;
const tmp = mkdtempSync(join(tmpdir(), 'tld-indexer-'));
const fast = { retries: 4, backoffMs: 1, maxBackoffMs: 5 };
const logInfo = { aws_account_alias: '', log_file: 'k', s3bucket: 'b' };

let double: IndexerDouble;
before(async () => {
  double = await startIndexerDouble();
});
after(async () => double.close());

function config(over: Partial<IndexerConfig> = {}): IndexerConfig {
  return { enabled: true, hosts: [double.url], ssl: { certificateAuthorities: [] }, bulkMaxBytes: 5_242_880, origin: { file: 't', line: 1 }, ...over };
}

function object(key: string): ObjectRef {
  return { bucket: 'flows', key, objectId: key.padStart(16, '0').slice(-16), bucketType: 'vpcflow', size: 1, lastModified: new Date('2025-06-26T12:00:00Z') };
}

/** `n` flows of one object; record i starts at 2025-06-26T10:00:00Z + i s (one day: one index). */
function flows(obj: ObjectRef, n: number, first = 0): EventBatch {
  const events: AwsEvent[] = [];
  for (let i = 0; i < n; i++) {
    const t = Date.parse('2025-06-26T10:00:00Z') + (first + i) * 1000;
    events.push({ integration: 'aws', aws: { log_info: logInfo, source: 'vpc', srcaddr: `10.0.0.${(first + i) % 250}`, dstaddr: i % 7 === 0 ? '2001:db8::1' : '10.1.0.1', srcport: 1024 + i, dstport: 22, protocol: 6, packets: 1, bytes: 40 + i, start: new Date(t).toISOString(), end: new Date(t + 60_000).toISOString(), action: 'REJECT', log_status: 'OK', interface_id: 'eni-1', account_id: '111111111111', region: 'us-east-1' } });
  }
  return { object: obj, firstIndex: first, events };
}

function alertOf(batch: EventBatch, i: number): Alert {
  return {
    timestamp: '2026-11-28T00:00:00.000Z', rule: { id: '80201', level: 5, description: 'AWS VPC flow rejected', groups: ['aws', 'amazon'], firedtimes: 1, mail: false },
    agent: { id: '000', name: 'm' }, manager: { name: 'm' }, id: `${batch.object.objectId}-${batch.firstIndex + i}`, decoder: { name: 'json' }, data: batch.events[i]!, location: 'Wazuh-AWS',
  };
}

function finding(file: string, over: Record<string, unknown> = {}): EventBatch {
  const f = JSON.parse(readFileSync(join(SAMPLES, 'guardduty', file), 'utf8')) as Record<string, unknown>;
  const obj = { ...object('findings-object'), bucketType: 'guardduty' as const };
  return { object: obj, firstIndex: 0, events: [{ integration: 'aws', aws: { ...f, ...over, source: 'guardduty', log_info: logInfo } }] };
}

test('flows, alerts and findings land in their indices with deterministic ids; the same rows again store nothing twice (409s counted)', async () => {
  const store = await IndexerStore.open(config(), { retry: fast });
  try {
    const batch = flows(object('obj-a'), 50);
    const alerts = [alertOf(batch, 3), alertOf(batch, 9)];
    const gd = finding('real_unauthorizedaccess-ec2-rdpbruteforce_mozilla-2019.json');
    for (let round = 0; round < 2; round++) {
      await store.ingest(batch, alerts);
      await store.ingest(gd, []);
      await store.flush();
    }
    const flowDocs = double.docs('tld-flows-*');
    assert.deepEqual(new Set(flowDocs.map((d) => d.index)), new Set(['tld-flows-2025.06.26']));
    assert.deepEqual(flowDocs.map((d) => d.id).sort(), Array.from({ length: 50 }, (_, i) => `00000000000obj-a-${i}`).sort());
    const ipv6 = flowDocs.find((d) => d.id.endsWith('-0'));
    assert.equal(ipv6?.source.dstaddr, '2001:db8::1', 'IPv6 kept as an ip');
    const alertDocs = double.docs('wazuh-alerts-4.x-*');
    assert.deepEqual(alertDocs.map((d) => [d.index, d.id]).sort(), alerts.map((a) => ['wazuh-alerts-4.x-2025.06.26', a.id]).sort(), 'alerts in the index of the event day');
    assert.equal(alertDocs[0]?.source['@timestamp'], '2026-11-28T00:00:00.000Z');
    const id = (gd.events[0]!.aws as unknown as { id: string }).id;
    assert.deepEqual(double.docs('tld-guardduty-findings').map((d) => d.id), [id]);
    assert.equal(double.docs('tld-guardduty-history').length, 1);
    // the same through the search API, as a dashboard would ask
    const counted = (await store.port.request('POST', '/tld-flows-*/_count', { query: { bool: { filter: [{ term: { action: 'REJECT' } }, { range: { '@timestamp': { gte: '2025-06-26T10:00:00Z', lt: '2025-06-26T10:00:10Z' } } }] } } })) as { count: number };
    assert.equal(counted.count, 10);
    const found = (await store.port.request('POST', '/wazuh-alerts-4.x-*/_search', { size: 1, query: { term: { 'rule.id': '80201' } } })) as { hits: { total: { value: number }; hits: { _source: { id: string } }[] } };
    assert.equal(found.hits.total.value, 2);
    assert.ok(alerts.some((a) => a.id === found.hits.hits[0]?._source.id));
    assert.equal(store.counters.written, 50 + 2 + 2);
    assert.equal(store.counters.alreadyWritten, 50 + 2 + 2, 'the second round answered 409 for every document');
    assert.deepEqual(double.items.filter((i) => i.status >= 400 && i.status !== 409), [], 'no mapping error: every document fits its template');
  } finally {
    await store.close();
  }
});

test('bulk requests are sized by bytes: none above bulk_max_bytes, several for many documents', async () => {
  const store = await IndexerStore.open(config({ bulkMaxBytes: 4096 }), { retry: fast });
  try {
    const before = double.bulkBodies.length;
    await store.ingest(flows(object('obj-size'), 300), []);
    await store.flush();
    const sizes = double.bulkBodies.slice(before);
    assert.ok(sizes.length >= 10, `${sizes.length} requests`);
    assert.ok(sizes.every((s) => s <= 4096), `largest ${Math.max(...sizes)} bytes`);
    assert.equal(double.docs('tld-flows-*').filter((d) => d.id.includes('obj-size')).length, 300);
  } finally {
    await store.close();
  }
});

test('an abandoned read (discardObject) drops what was not sent; the re-read stores every record once', async () => {
  const store = await IndexerStore.open(config(), { retry: fast });
  try {
    const obj = object('obj-retry');
    const before = double.items.length;
    await store.ingest(flows(obj, 30), []);
    await store.discardObject(obj);
    await store.flush();
    assert.equal(double.items.length, before, 'nothing of the abandoned read was sent');
    await store.ingest(flows(obj, 30), []);
    await store.ingest(flows(obj, 20, 30), []);
    await store.flush();
    assert.equal(double.docs('tld-flows-*').filter((d) => d.id.includes('obj-retry')).length, 50);
  } finally {
    await store.close();
  }
});

test('two bulk requests are in flight at once, never more; flush waits for all of them', async () => {
  const store = await IndexerStore.open(config({ bulkMaxBytes: 4096 }), { retry: fast });
  try {
    double.bulkDelayMs = 30;
    double.maxBulkInFlight = 0;
    await store.ingest(flows(object('obj-conc'), 200), []);
    await store.flush();
    assert.equal(double.maxBulkInFlight, 2);
    assert.equal(double.bulkInFlight, 0, 'nothing pending once flush resolved');
    assert.equal(double.docs('tld-flows-*').filter((d) => d.id.includes('obj-conc')).length, 200);
  } finally {
    double.bulkDelayMs = 0;
    await store.close();
  }
});

for (const status of [429, 503]) {
  test(`whole requests answered ${status} are sent again with backoff; every document arrives once`, async () => {
    const store = await IndexerStore.open(config({ bulkMaxBytes: 8192 }), { retry: fast });
    try {
      double.shedRequests(3, status);
      await store.ingest(flows(object(`obj-shed${status}`), 200), []);
      await store.flush();
      assert.equal(store.counters.retriedRequests, 3);
      assert.equal(double.docs('tld-flows-*').filter((d) => d.id.includes(`obj-shed${status}`)).length, 200);
    } finally {
      await store.close();
    }
  });
}

test('per-item 429s are sent again; a per-item 400 makes flush reject naming the document, its object and the cause', async () => {
  const store = await IndexerStore.open(config(), { retry: fast });
  try {
    double.failItems(5, 429, 'es_rejected_execution_exception');
    await store.ingest(flows(object('obj-item429'), 20), []);
    await store.flush();
    assert.equal(store.counters.retriedItems, 5);
    assert.equal(double.docs('tld-flows-*').filter((d) => d.id.includes('obj-item429')).length, 20);

    double.failItems(1, 400, 'mapper_parsing_exception');
    await store.ingest(flows(object('obj-item400'), 20), []);
    const err = await store.flush().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof IndexerDocumentError, String(err));
    assert.match(err.message, /tld-flows-2025\.06\.26\/00000obj-item400-0 \(from s3:\/\/flows\/obj-item400\): HTTP 400 mapper_parsing_exception/);
    assert.match(err.message, /not marked processed/);
    // the pipeline reads the object again: the same documents, now accepted (19 already there: 409)
    await store.ingest(flows(object('obj-item400'), 20), []);
    await store.flush();
    assert.equal(double.docs('tld-flows-*').filter((d) => d.id.includes('obj-item400')).length, 20);
  } finally {
    await store.close();
  }
});

test('a finding keeps its newest update whatever the order (external versions); the history keeps each update once', async () => {
  const store = await IndexerStore.open(config(), { retry: fast });
  try {
    const file = 'awssample_cryptocurrency-ec2-bitcointool.b-dns_via-mozilla-2019.json';
    const newer = finding(file, { updatedAt: '2019-10-25T10:00:00.000Z', severity: 8 });
    const older = finding(file, { updatedAt: '2019-10-24T10:00:00.000Z', severity: 5 });
    await store.ingest(newer, []);
    await store.flush();
    await store.ingest(older, []);
    await store.ingest(newer, []);
    await store.flush();
    const id = (newer.events[0]!.aws as unknown as { id: string }).id;
    const [doc] = double.docs('tld-guardduty-findings').filter((d) => d.id === id);
    assert.equal(doc?.source.severity, 8);
    assert.equal(doc?.version, Date.parse('2019-10-25T10:00:00.000Z'));
    const history = double.docs('tld-guardduty-history').filter((d) => d.source.finding_id === id).map((d) => d.source.severity).sort();
    assert.deepEqual(history, [5, 8]);
  } finally {
    await store.close();
  }
});

test('credentials come from credentials_file; a refusal (401) names the cluster and never the password', async () => {
  const secured = await startIndexerDouble({ auth: { username: 'tld', password: 's3cret-Pa55' } });
  try {
    const good = join(tmp, 'creds');
    writeFileSync(good, 'tld:s3cret-Pa55\n');
    const store = await IndexerStore.open({ ...config(), hosts: [secured.url], credentialsFile: good }, { retry: fast });
    await store.ingest(flows(object('obj-auth'), 3), []);
    await store.flush();
    await store.close();
    assert.equal(secured.docs('tld-flows-*').length, 3);

    const bad = join(tmp, 'bad-creds');
    writeFileSync(bad, 'tld:wrong-Pa55\n');
    const err = await IndexerStore.open({ ...config(), hosts: [secured.url], credentialsFile: bad }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof IndexerRequestError);
    assert.equal(err.status, 401);
    assert.match(err.message, /check the credentials/);
    assert.doesNotMatch(err.message, /Pa55/);
    const viaEnv = await IndexerStore.open({ ...config(), hosts: [secured.url] }, { env: { TLD_INDEXER_USERNAME: 'tld', TLD_INDEXER_PASSWORD: 's3cret-Pa55' } });
    await viaEnv.close();
  } finally {
    await secured.close();
  }
});

test("with Wazuh's own template present, ours for the alert indices is not installed, and alerts fit Wazuh's", async () => {
  const wazuh = await startIndexerDouble();
  try {
    // as a Wazuh install has it: the legacy template "wazuh" from wazuh-template.json
    await fetch(`${wazuh.url}/_template/wazuh`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: readFileSync(WAZUH_TEMPLATE) });
    const store = await IndexerStore.open({ ...config(), hosts: [wazuh.url] }, { retry: fast });
    try {
      assert.equal(store.templates.alertsTemplate, 'wazuh');
      assert.ok(!wazuh.composable.has('tld-wazuh-alerts'));
      assert.ok(wazuh.composable.has('tld-flows'));
      const batch = flows(object('obj-wazuh'), 5);
      const gd = finding('real_recon-ec2-portprobeunprotectedport_mozilla-2019.json');
      await store.ingest(batch, [alertOf(batch, 0)]);
      await store.ingest(gd, [{ ...alertOf(gd, 0), id: 'gd-alert' }]);
      await store.flush();
      assert.equal(wazuh.docs('wazuh-alerts-4.x-*').length, 2);
      assert.equal(wazuh.fieldsOf('wazuh-alerts-4.x-2025.06.26')?.get('data.aws.srcaddr'), 'ip', "typed by Wazuh's template");
    } finally {
      await store.close();
    }
  } finally {
    await wazuh.close();
  }
});

test("our alerts template types every field it shares with Wazuh's template exactly as Wazuh does", () => {
  const flatten = (props: Record<string, unknown>, prefix: string, out: Map<string, string>): Map<string, string> => {
    for (const [k, v] of Object.entries(props)) {
      const d = v as { type?: string; properties?: Record<string, unknown> };
      if (d.properties) flatten(d.properties, `${prefix}${k}.`, out);
      else if (d.type) out.set(prefix + k, d.type);
    }
    return out;
  };
  const wazuh = flatten((JSON.parse(readFileSync(WAZUH_TEMPLATE, 'utf8')) as { mappings: { properties: Record<string, unknown> } }).mappings.properties, '', new Map());
  const ours = flatten((alertsTemplate() as { template: { mappings: { properties: Record<string, unknown> } } }).template.mappings.properties, '', new Map());
  const shared = [...ours.keys()].filter((k) => wazuh.has(k));
  assert.ok(shared.length >= 40, `${shared.length} shared fields`);
  for (const k of shared) assert.equal(ours.get(k), wazuh.get(k), k);
  // the rest is `correlation` (ours) or strings Wazuh's dynamic template (string_as_keyword) maps as keyword
  const extra = [...ours.keys()].filter((k) => !wazuh.has(k));
  assert.deepEqual(extra.filter((k) => k.startsWith('correlation.')), ['correlation.count', 'correlation.distinct', 'correlation.window_start']);
  for (const k of extra.filter((x) => !x.startsWith('correlation.'))) assert.equal(ours.get(k), 'keyword', k);
});
