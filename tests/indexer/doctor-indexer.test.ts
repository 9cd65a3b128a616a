/**
 * `tld doctor` with `<store><backend>indexer</backend>`: the real CLI against the indexer DOUBLE
 * (tests/helpers/indexer-double.ts, with basic auth) and a healthy bucket on s3rver. Unreachable, refused
 * credentials and missing templates each get a line that says what to fix.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { startIndexerDouble, type IndexerDouble } from '../helpers/indexer-double.js';
import { SHARED } from '../../testdata/shared.js';

const root = new URL('../../', import.meta.url).pathname;
const VPC = `${SHARED}/aws-log-samples/vpcflow/real-world/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log`;
const AUTH = { username: 'tld-writer', password: 'right-password' };

let s3: TestS3Server;
let double: IndexerDouble;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-doctor-indexer-'));
  s3 = await startS3Server();
  double = await startIndexerDouble({ auth: AUTH });
  await s3.putObject('doctor-logs', 'AWSLogs/149519528842/vpcflowlogs/us-west-2/2025/06/26/149519528842_vpcflowlogs_us-west-2_fl-04c78c53ca5809c08_20250626T1820Z_1ab9f65a.log', readFileSync(VPC));
});
after(async () => {
  await s3?.close();
  await double?.close();
});

/** A loopback URL nothing listens on: a port taken and given back. */
async function deadUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return `http://127.0.0.1:${port}`;
}

function doctor(host: string, password: string, args: string[] = ['doctor']): Promise<{ status: number | null; out: string }> {
  const conf = join(dir, `c${Math.random()}.conf`);
  writeFileSync(conf, `<ossec_config>
  <store><backend>indexer</backend></store>
  <indexer><enabled>yes</enabled><hosts><host>${host}</host></hosts></indexer>
  <wodle name="aws-s3"><bucket type="vpcflow"><name>doctor-logs</name><service_endpoint>${s3.endpoint}</service_endpoint><access_key>S3RVER</access_key><secret_key>S3RVER</secret_key></bucket></wodle>
</ossec_config>
`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), ...args, '-c', conf], { env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', TLD_INDEXER_USERNAME: AUTH.username, TLD_INDEXER_PASSWORD: password } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (status) => resolve({ status, out }));
  });
}

const line = (out: string, what: string): string => out.split('\n').find((l) => l.includes(` ${what}: `)) ?? `(no ${what} line in)\n${out}`;

test('an indexer nothing answers on: a ✘ reachable line, exit 1', async () => {
  const r = await doctor(await deadUrl(), AUTH.password);
  assert.equal(r.status, 1, r.out);
  assert.match(line(r.out, 'reachable'), /^ {2}✘ reachable: .*unreachable/);
  assert.match(r.out, /the indexer .*will not deliver logs until the ✘ lines are fixed/);
});

test('refused credentials: a ✘ credentials line that says where they come from, exit 1', async () => {
  const r = await doctor(double.url, 'wrong-password');
  assert.equal(r.status, 1, r.out);
  assert.match(line(r.out, 'credentials'), /^ {2}✘ credentials: .*HTTP 401.*TLD_INDEXER_USERNAME/);
  assert.doesNotMatch(r.out, /wrong-password/, 'the password is never printed');
});

test('missing templates say to run tld indexer setup; once it ran, they are ✔', async () => {
  const missing = await doctor(double.url, AUTH.password);
  assert.equal(missing.status, 0, missing.out);
  assert.match(line(missing.out, 'reachable'), /✔ reachable: /);
  assert.match(line(missing.out, 'credentials'), /✔ credentials: accepted/);
  assert.match(line(missing.out, 'templates'), /^ {2}! templates: missing .*tld-flows.*tld indexer setup/);

  const setup = await doctor(double.url, AUTH.password, ['indexer', 'setup']);
  assert.equal(setup.status, 0, setup.out);
  const ok = await doctor(double.url, AUTH.password);
  assert.equal(ok.status, 0, ok.out);
  assert.match(line(ok.out, 'templates'), /^ {2}✔ templates: installed/);
});
