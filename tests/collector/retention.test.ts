/**
 * Store retention (`<flow_retention_days>`, `<alert_retention_days>`) as users run it: the service applies it
 * at start and then on its timer (here every 300 ms instead of daily), `tld run-once` before it collects, and
 * `tld replay` never. Old rows go, recent ones stay, and what went is logged and counted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { runService } from '../../src/pipeline/service.js';
import type { Store } from '../../src/store/index.js';
import type { CollectorMetrics } from '../../src/pipeline/metrics.js';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { captureLogger } from '../helpers/collector.js';
import { AGED, addAgedRows, agedStore, counts, countsIn } from './aged-store.js';

const root = new URL('../../', import.meta.url).pathname;
let s3: LocalS3;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-retention-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  await s3.createBucket('empty');
});
after(async () => s3?.close());

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

test('the service prunes at start and again on its timer: old rows go, recent ones stay, each run logged and counted', async () => {
  const data = join(dir, 'service');
  await agedStore(data);
  const conf = join(dir, 'service.conf');
  writeFileSync(conf, '<ossec_config><store><flow_retention_days>30</flow_retention_days><alert_retention_days>365</alert_retention_days></store></ossec_config>');
  const { logger, lines } = captureLogger();
  const signals = new EventEmitter();
  let store: Store | undefined;
  let metrics: CollectorMetrics | undefined;
  const runs = () => lines.filter((l) => l.msg === 'Retention applied.') as unknown as { removed: Record<string, number> }[];
  const service = runService({
    configFiles: [conf],
    dataDir: data,
    logger,
    signals,
    retentionEveryMs: 300,
    onReady: async (rt) => {
      store = rt.store;
      metrics = rt.metrics;
    },
  });
  try {
    await until('the run at start', () => runs().length >= 1);
    assert.deepEqual(runs()[0]!.removed, { flows: AGED.oldFlows, alerts: AGED.oldAlerts, objects: AGED.oldObjects, findings: AGED.oldFindings });
    assert.deepEqual(await counts(store!), { flows: AGED.recentFlows, alerts: AGED.recentAlerts, objects: AGED.recentObjects, findings: AGED.recentFindings });

    // rows that are already old arrive later (a late delivery): the next timed run takes them
    const before = runs().length;
    await addAgedRows(store!, Date.now(), 'late');
    await until('a later timed run removes them', () => runs().slice(before).some((r) => r.removed.flows === AGED.oldFlows));
    assert.deepEqual(await counts(store!), { flows: 2 * AGED.recentFlows, alerts: 2 * AGED.recentAlerts, objects: 2 * AGED.recentObjects, findings: 2 * AGED.recentFindings });
    const text = await metrics!.render();
    assert.match(text, new RegExp(`tld_retention_removed_rows_total\\{table="flows"\\} ${2 * AGED.oldFlows}\\b`));
    assert.match(text, new RegExp(`tld_retention_removed_rows_total\\{table="alerts"\\} ${2 * AGED.oldAlerts}\\b`));
    assert.match(text, new RegExp(`tld_retention_removed_rows_total\\{table="findings"\\} ${2 * AGED.oldFindings}\\b`));
    const last = Number(/^tld_retention_last_run_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
    assert.ok(Math.abs(last - Date.now() / 1000) < 60, `last run ${last}`);
  } finally {
    signals.emit('SIGTERM');
    await service;
  }
  assert.ok(lines.some((l) => l.msg === 'Stopped.'));
});

function tld(args: string[]): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), ...args], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status) => resolve({ status, out, err }));
  });
}

function collectConf(name: string): string {
  const file = join(dir, name);
  writeFileSync(file, `<ossec_config><wodle name="aws-s3"><bucket type="vpcflow"><name>empty</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
  return file;
}

test('tld run-once prunes the store (default horizons: flows 30 days, alerts 365) and says what it removed', async () => {
  const data = join(dir, 'once');
  await agedStore(data);
  const r = await tld(['run-once', '-c', collectConf('once.conf'), '--data-dir', data, '--no-progress']);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, new RegExp(`Retention removed ${AGED.oldFlows} flows, ${AGED.oldAlerts} alerts, ${AGED.oldFindings} GuardDuty findings and ${AGED.oldObjects} object health rows`));
  assert.deepEqual(await countsIn(data), { flows: AGED.recentFlows, alerts: AGED.recentAlerts, objects: AGED.recentObjects, findings: AGED.recentFindings });
});

test('tld replay (a backfill) leaves retention to the next run-once or start', async () => {
  const data = join(dir, 'replay');
  await agedStore(data);
  const day = new Date().toISOString().slice(0, 10);
  const r = await tld(['replay', '-c', collectConf('replay.conf'), '--data-dir', data, '--from', day, '--to', day, '--no-progress']);
  assert.equal(r.status, 0, r.err);
  assert.doesNotMatch(r.out, /Retention/);
  assert.deepEqual(await countsIn(data), { flows: AGED.oldFlows + AGED.recentFlows, alerts: AGED.oldAlerts + AGED.recentAlerts, objects: AGED.oldObjects + AGED.recentObjects, findings: AGED.oldFindings + AGED.recentFindings });
});
