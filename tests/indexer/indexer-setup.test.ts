/**
 * `tld indexer setup` through the real CLI against the indexer DOUBLE (tests/helpers/indexer-double.ts; also
 * standing in for OpenSearch Dashboards' saved-objects import API): templates installed, saved objects
 * imported, credentials from the file; an unreachable cluster is one clear line, without the password.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startIndexerDouble, type IndexerDouble } from '../helpers/indexer-double.js';
import { savedObjects } from '../../src/indexer/saved-objects.js';
import { templates } from '../../src/indexer/templates.js';

const root = new URL('../../', import.meta.url).pathname;
let double: IndexerDouble;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-indexer-setup-'));
  double = await startIndexerDouble({ auth: { username: 'admin', password: 'Adm1n-secret' } });
  writeFileSync(join(dir, 'creds'), 'admin:Adm1n-secret\n');
});
after(async () => double?.close());

function tld(args: string[]): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin/tld.js'), ...args], { env: { ...process.env, TLD_LOG_LEVEL: 'error' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status) => resolve({ status, out, err }));
  });
}

function conf(name: string, host: string): string {
  const file = join(dir, name);
  writeFileSync(file, `<ossec_config><indexer><enabled>yes</enabled><hosts><host>${host}</host></hosts><credentials_file>creds</credentials_file></indexer></ossec_config>\n`);
  return file;
}

test('tld indexer setup installs every template and imports every saved object; a second run keeps the templates', async () => {
  const file = conf('setup.conf', double.url);
  const r = await tld(['indexer', 'setup', '-c', file, '--dashboards-url', double.url]);
  assert.equal(r.status, 0, r.out + r.err);
  assert.deepEqual([...double.composable.keys()].sort(), Object.keys(templates()).sort());
  assert.deepEqual([...double.savedObjects.keys()].sort(), savedObjects().map((o) => `${o.type}:${o.id}`).sort());
  assert.match(r.out, new RegExp(`Saved objects imported: ${savedObjects().length}`));
  const again = await tld(['indexer', 'setup', '-c', file]);
  assert.equal(again.status, 0, again.err);
  assert.match(again.out, /Templates installed: none/);
  assert.match(again.out, /deploy\/indexer\/saved-objects\.ndjson/);
});

test('an unreachable indexer: one line naming the host and what to do, exit 1, no stack, no password', async () => {
  const r = await tld(['indexer', 'setup', '-c', conf('down.conf', 'http://admin:Adm1n-secret@127.0.0.1:9')]);
  assert.equal(r.status, 1);
  assert.match(r.err, /^tld: indexer http:\/\/127\.0\.0\.1:9: GET \/ failed: ConnectionError/);
  assert.doesNotMatch(r.err, /Adm1n-secret|\n\s+at /);
});
