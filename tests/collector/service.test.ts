/**
 * `tld start` as a real process against the loopback S3 server: cycles on the schedule, SIGHUP reload with a
 * bad then a good configuration, SIGTERM stops cleanly; retention at start; a reload reaching the dashboard.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { SAMPLES_DIR } from '../../testdata/samples.js';

const root = new URL('../../', import.meta.url).pathname;

/** `tld start` as a child process; `out.log` collects what it prints (stdout and stderr). */
function startService(conf: string, data: string, extra: string[] = []): { child: ChildProcess; out: { log: string }; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [join(root, 'bin/tld.js'), 'start', '-c', conf, '--data-dir', data, ...extra, '--log-level', 'info'], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } });
  const out = { log: '' };
  child.stderr?.on('data', (d) => (out.log += d));
  child.stdout?.on('data', (d) => (out.log += d));
  return { child, out, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}
const VPC = readFileSync(SAMPLES_DIR + 'vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1920Z_21f4b1b7.log');
let s3: LocalS3;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-service-'));
  s3 = await startLocalS3({ directory: join(dir, 's3') });
  await s3.createBucket('flows');
});
after(async () => s3?.close());

const key = (n: number) => `AWSLogs/111111111111/vpcflowlogs/us-east-1/2025/06/26/111111111111_vpcflowlogs_us-east-1_fl-0aaaaaaaaaaaaaaaa_20250626T19${String(n).padStart(2, '0')}Z_0000000${n}.log`;

function writeConf(file: string, body: string): void {
  writeFileSync(file, `<ossec_config><global><logall_json>yes</logall_json></global><wodle name="aws-s3">${body}</wodle></ossec_config>`);
}
const goodWodle = () => `<interval>1s</interval><run_on_start>yes</run_on_start><bucket type="vpcflow"><name>flows</name><service_endpoint>${s3.endpoint}</service_endpoint><only_logs_after>2025-JUN-01</only_logs_after><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket>`;

function lines(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

// generous deadlines: these wait for a service under test on a machine that may be busy, they time nothing
const DEADLINE_MS = 120_000;

async function until(what: string, check: () => boolean, ms = DEADLINE_MS): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

test('tld start collects on its schedule, refuses a bad reload, applies a good one and stops on SIGTERM', async () => {
  const conf = join(dir, 'ossec.conf');
  writeConf(conf, goodWodle());
  const data = join(dir, 'data');
  const archives = join(data, 'logs/archives/archives.json');
  await s3.put('flows', key(1), VPC);
  const { child, out, exited } = startService(conf, data, ['--no-dashboard']);
  try {
    await until('first cycle', () => lines(archives) === 53);
    await s3.put('flows', key(2), VPC);
    await until('a later cycle picks up a new object', () => lines(archives) === 106);

    writeConf(conf, '<interval>soon</interval>');
    child.kill('SIGHUP');
    await until('bad reload refused', () => /new configuration was refused/.test(out.log));
    assert.match(out.log, /invalid interval 'soon'/);
    await s3.put('flows', key(3), VPC);
    await until('the old configuration keeps running', () => lines(archives) === 159);

    writeConf(conf, goodWodle().replace('<interval>1s</interval>', '<interval>2s</interval>'));
    child.kill('SIGHUP');
    await until('good reload applied', () => /Configuration and rules reloaded/.test(out.log));
    assert.ok(/Starting fetching of logs/.test(out.log));
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out.log.slice(-2000));
  assert.match(out.log, /Stopped\./);
  assert.equal(lines(archives), 159, 'nothing read twice');
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

test('tld start serves the dashboard and Prometheus metrics behind its token; a reload brings in a new rule', async () => {
  await s3.createBucket('flows2');
  const token = 'scrape-token-0123456789abcdef';
  const port = await freePort();
  const conf = join(dir, 'ossec-dash.conf');
  const rules = join(dir, 'my-rules');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(rules, { recursive: true });
  const wodle = goodWodle().replace('<name>flows</name>', '<name>flows2</name>');
  const write = (withRules: boolean) =>
    writeFileSync(conf, `<ossec_config><dashboard><port>${port}</port><token>${token}</token></dashboard>${withRules ? '<ruleset><rule_dir>my-rules</rule_dir></ruleset>' : ''}<wodle name="aws-s3">${wodle}</wodle></ossec_config>`);
  write(false);
  writeFileSync(join(rules, 'local.xml'), '<group name="local,"><rule id="100001" level="6"><if_sid>80402</if_sid><description>Local: rejected flow from $(aws.srcaddr)</description></rule></group>');
  const data = join(dir, 'data-dash');
  const alertsFile = join(data, 'logs/alerts/alerts.json');
  await s3.put('flows2', key(1), VPC);
  const { child, out, exited } = startService(conf, data);
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${token}` };
  try {
    let metrics = '';
    for (const end = Date.now() + DEADLINE_MS; Date.now() < end && !/tld_records_total\{[^}]*bucket="flows2"[^}]*\} 53/.test(metrics); ) {
      metrics = await fetch(`${base}/metrics`, { headers: auth }).then((r) => r.text()).catch(() => '');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(metrics, /tld_records_total\{bucket="flows2",type="vpcflow"\} 53/);
    assert.match(metrics, /tld_objects_total\{bucket="flows2",type="vpcflow",status="ok"\} 1/);
    assert.match(metrics, /tld_bucket_lag_seconds\{bucket="flows2",type="vpcflow"\} \d/);
    assert.equal((await fetch(`${base}/metrics`)).status, 401, 'no scrape without the token');
    const vpc = (await fetch(`${base}/api/vpc?from=0&to=${Date.now() + 86_400_000}`, { headers: auth }).then((r) => r.json())) as { series: { flows: number }[] };
    assert.ok(vpc.series.reduce((s, r) => s + r.flows, 0) > 0, 'the dashboard reads the store the collector writes');
    assert.ok(!existsSync(alertsFile) || !readFileSync(alertsFile, 'utf8').includes('"100001"'));

    write(true);
    child.kill('SIGHUP');
    await until('reload applied', () => /Configuration and rules reloaded/.test(out.log));
    await s3.put('flows2', key(2), VPC);
    await until('the new rule raises alerts on new objects', () => existsSync(alertsFile) && readFileSync(alertsFile, 'utf8').includes('"100001"'));
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out.log.slice(-2000));
});

test('tld start: retention at start shows in the log and /metrics; SIGHUP rotates the dashboard token and names what needs a restart', async () => {
  const { agedStore, countsIn, AGED } = await import('./aged-store.js');
  const data = join(dir, 'data-retention');
  await agedStore(data);
  const port = await freePort();
  const conf = join(dir, 'ossec-reload.conf');
  const OLD = 'first-token-0123456789abcdef';
  const NEW = 'second-token-0123456789abcdef';
  const write = (token: string, extra = '', p = port) => writeFileSync(conf, `<ossec_config><dashboard><port>${p}</port><token>${token}</token></dashboard>${extra}</ossec_config>`);
  write(OLD);
  const { child, out, exited } = startService(conf, data);
  const base = `http://127.0.0.1:${port}`;
  const status = (token: string) => fetch(`${base}/api/range`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status, () => 0);
  try {
    await until('retention at start', () => /Retention applied/.test(out.log));
    let metrics = '';
    for (const end = Date.now() + DEADLINE_MS; Date.now() < end && !/^tld_retention_last_run_timestamp_seconds [1-9]/m.test(metrics); ) {
      metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${OLD}` } }).then((r) => r.text(), () => '');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(metrics, new RegExp(`^tld_retention_removed_rows_total\\{table="flows"\\} ${AGED.oldFlows}$`, 'm'));
    assert.match(metrics, new RegExp(`^tld_retention_removed_rows_total\\{table="alerts"\\} ${AGED.oldAlerts}$`, 'm'));
    assert.match(metrics, new RegExp(`^tld_retention_removed_rows_total\\{table="objects"\\} ${AGED.oldObjects}$`, 'm'));
    assert.match(out.log, new RegExp(`"removed":\\{"flows":${AGED.oldFlows},"alerts":${AGED.oldAlerts},"objects":${AGED.oldObjects},"findings":${AGED.oldFindings}\\}`));

    assert.equal(await status(OLD), 200);
    write(NEW);
    child.kill('SIGHUP');
    await until('reload applied', () => /Configuration and rules reloaded\./.test(out.log));
    assert.equal(await status(OLD), 401, 'the rotated-out token no longer opens the API');
    assert.equal(await status(NEW), 200);

    write(NEW, '<store><flow_retention_days>7</flow_retention_days></store>', port + 1);
    child.kill('SIGHUP');
    await until('a partial reload', () => /a restart is needed for/.test(out.log));
    assert.match(out.log, /Configuration and rules reloaded, except the options named next/);
    assert.match(out.log, /a restart is needed for: <store> flow_retention_days, <dashboard> port\. The running values stay/);
    assert.equal(await status(NEW), 200, 'still serving on the old port');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out.log.slice(-2000));
  assert.deepEqual(await countsIn(data), { flows: AGED.recentFlows, alerts: AGED.recentAlerts, objects: AGED.recentObjects, findings: AGED.recentFindings }, 'old rows gone, recent ones kept');
});
