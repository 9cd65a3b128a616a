/** `tld demo` from a clean data dir: generates, collects, raises the scenario alerts; a second run reuses the data. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const bin = new URL('../bin/tld.js', import.meta.url).pathname;

test('tld demo: clean data dir → generated logs → every scenario alerted; a second run reuses the data and reads nothing twice', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tld-demo-')), 'demo');
  const run = () => spawnSync(process.execPath, [bin, 'demo', '-d', dir, '--no-serve', '--no-progress'], { encoding: 'utf8', env: { ...process.env, TLD_LOG_LEVEL: 'error' }, timeout: 180_000 });
  const first = run();
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /Uploaded \d+ objects to s3:\/\/tld-demo-logs/);
  assert.match(first.stdout, /vpcflow\s+\d{3,}\s+\d{4,}/);
  const alerts = readFileSync(join(dir, 'logs/alerts/alerts.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rule: { id: string } });
  const ids = new Set(alerts.map((a) => a.rule.id));
  for (const id of ['80610', '80611', '80254', '80255', '80620', '80621', '80305', '80630', '80631', '80632', '80640', '80641']) assert.ok(ids.has(id), `rule ${id} fired`);
  const second = run();
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /Reusing the generated logs/);
  assert.match(second.stdout, /vpcflow\s+0\s+0/);
  assert.equal(readFileSync(join(dir, 'logs/alerts/alerts.json'), 'utf8').trim().split('\n').length, alerts.length);
  assert.match(readFileSync(join(dir, 'ossec.conf'), 'utf8'), /<bucket type="guardduty">[\s\S]*<path>firehose\/<\/path>/);
});
