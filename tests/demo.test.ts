/** `tld demo` from a clean data dir: generates, collects, raises the scenario alerts; a second run reuses the data. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

const bin = new URL('../bin/tld.js', import.meta.url).pathname;

test('tld demo: clean data dir → generated logs → every scenario alerted; a second run reuses the data, reads nothing twice and serves the dashboard', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tld-demo-')), 'demo');
  const run = () => spawnSync(process.execPath, [bin, 'demo', '-d', dir, '--no-serve', '--no-progress'], { encoding: 'utf8', env: { ...process.env, TLD_LOG_LEVEL: 'error' }, timeout: 180_000 });
  const first = run();
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /Uploaded \d+ objects to s3:\/\/tld-demo-logs/);
  assert.match(first.stdout, /vpcflow\s+\d{3,}\s+\d{4,}/);
  const alerts = readFileSync(join(dir, 'logs/alerts/alerts.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rule: { id: string; groups: string[] } });
  const ids = new Set(alerts.map((a) => a.rule.id));
  for (const id of ['80202', '80203', '80254', '80255', '80305', '80640', '80641']) assert.ok(ids.has(id), `rule ${id} fired`);
  // detections carry the Wazuh id a user searches by (GuardDuty type rules their band's 80301-80303, CloudTrail
  // detections 80202/80203); their groups say which they are
  const withGroup = (group: string) => new Set(alerts.filter((a) => a.rule.groups.includes(group)).map((a) => a.rule.id));
  for (const group of ['aws_compromised_instance', 'aws_brute_force', 'aws_unusual_api_call']) assert.ok(withGroup(group).size > 0, `a ${group} alert`);
  for (const [group, id] of [['aws_vpc_created', '80202'], ['aws_vpc_creation_denied', '80203'], ['aws_defense_evasion', '80202'], ['aws_security_group_opened', '80202']] as const) {
    assert.deepEqual([...withGroup(group)], [id], `the ${group} alerts are ${id}`);
  }
  // the second run reuses the data, reads nothing new, and serves the dashboard until stopped
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const child = spawn(process.execPath, [bin, 'demo', '-d', dir, '--no-progress', '--port', String(port)], { env: { ...process.env, TLD_LOG_LEVEL: 'error' } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const deadline = Date.now() + 120_000;
    while (!/Dashboard: http/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, new RegExp(`Dashboard: http://127\\.0\\.0\\.1:${port}/`), out);
    assert.match(out, /Reusing the generated logs/);
    assert.match(out, /vpcflow\s+0\s+0/);
    const overview = (await (await fetch(`http://127.0.0.1:${port}/api/overview?from=0&to=${Date.now() + 86_400_000}`)).json()) as { topRules: { rule_id: string }[] };
    assert.ok(overview.topRules.length >= 5, 'the served dashboard shows the alerts');
    assert.match(await (await fetch(`http://127.0.0.1:${port}/`)).text(), /ThreatLockDown/);
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, out);
  assert.equal(readFileSync(join(dir, 'logs/alerts/alerts.json'), 'utf8').trim().split('\n').length, alerts.length);
  assert.match(readFileSync(join(dir, 'ossec.conf'), 'utf8'), /<bucket type="guardduty">[\s\S]*<path>firehose\/<\/path>/);
});
