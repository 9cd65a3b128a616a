/**
 * A reload (SIGHUP) never reports as reloaded an option the running service keeps: the fetch threads
 * (`<workers>`) are started once, and the state keeps exact the day folders of the `<lookback_days>` it was
 * opened with (older days count as read, so a longer lookback lists them and reads nothing there). Both are
 * named as needing a restart; a shorter lookback applies at once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runService } from '../../src/pipeline/service.js';
import type { Runtime } from '../../src/pipeline/runtime.js';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { captureLogger } from '../helpers/collector.js';

let s3: LocalS3;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-reload-restart-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  await s3.createBucket('flows');
});
after(async () => s3?.close());

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

test('a reload names <workers> and a longer <lookback_days> as needing a restart, and keeps the running values', async () => {
  const conf = join(dir, 'ossec.conf');
  const write = (workers: number, lookbackDays: number) =>
    writeFileSync(conf, `<ossec_config><wodle name="aws-s3"><interval>1h</interval><run_on_start>yes</run_on_start><workers>${workers}</workers><bucket type="vpcflow"><name>flows</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after><lookback_days>${lookbackDays}</lookback_days><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle></ossec_config>`);
  write(1, 3);
  const { logger, lines } = captureLogger();
  const signals = new EventEmitter();
  let rt: Runtime | undefined;
  const service = runService({ configFiles: [conf], dataDir: join(dir, 'data'), logger, signals, onReady: async (r) => void (rt = r) });
  const reloads = () => lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('Configuration and rules reloaded'));
  /** rewrites the file, sends SIGHUP, and returns the options the reload named as needing a restart */
  const reload = async (workers: number, lookbackDays: number): Promise<string[]> => {
    const before = reloads().length;
    const warned = lines.length;
    write(workers, lookbackDays);
    signals.emit('SIGHUP');
    await until('the reload', () => reloads().length > before);
    const warning = lines.slice(warned).find((l) => typeof l.msg === 'string' && l.msg.startsWith('Not reloaded, a restart is needed'));
    if (reloads().at(-1)!.msg === 'Configuration and rules reloaded.') assert.equal(warning, undefined);
    return (warning?.options as string[] | undefined) ?? [];
  };
  try {
    await until('the first cycle', () => lines.some((l) => l.msg === 'Fetching logs finished.'));
    assert.equal(rt!.fetchPool?.size, 1);

    assert.deepEqual(await reload(1, 3), [], 'nothing changed');
    assert.deepEqual(await reload(4, 3), ['<wodle name="aws-s3"> workers']);
    assert.equal(rt!.fetchPool?.size, 1, 'the running fetch threads stay');
    assert.deepEqual(await reload(4, 7), ['<wodle name="aws-s3"> workers', '<bucket> lookback_days']);
    assert.deepEqual(await reload(1, 2), [], 'back to the running thread count, and a shorter lookback: both in force');
  } finally {
    signals.emit('SIGTERM');
    await service;
  }
});
