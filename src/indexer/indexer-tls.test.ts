/**
 * `<indexer><ssl>` over real TLS: the indexer DOUBLE (tests/helpers/indexer-double.ts) serves HTTPS with a
 * certificate from a test CA made here with openssl, and requires a client certificate from the same CA.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIndexerDouble, type IndexerDouble } from '../../tests/helpers/indexer-double.js';
import type { IndexerConfig } from '../config/types.js';
import { IndexerStore } from './indexer-store.js';
import { IndexerConfigError, IndexerRequestError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tld-indexer-tls-'));
const f = (name: string): string => join(dir, name);
let double: IndexerDouble;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

before(async () => {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tld-test-ca');
  openssl('req', ...ec, '-keyout', 'other-ca.key', '-x509', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=another-ca');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn, ext] of [['node', '127.0.0.1', true], ['client', 'threatlockdown', false]] as const) {
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', ...(ext ? ['-extfile', 'san.ext'] : []));
  }
  double = await startIndexerDouble({ tls: { key: readFileSync(f('node.key')), cert: readFileSync(f('node.pem')), ca: readFileSync(f('ca.pem')) } });
});
after(async () => double?.close());

function config(ssl: IndexerConfig['ssl']): IndexerConfig {
  return { enabled: true, hosts: [double.url], ssl, bulkMaxBytes: 1 << 20, origin: { file: 't', line: 1 } };
}

test('with the CA and a client certificate the store writes over HTTPS, presenting the certificate', async () => {
  const store = await IndexerStore.open(config({ certificateAuthorities: [f('ca.pem')], certificate: f('client.pem'), key: f('client.key') }));
  try {
    store.recordObject({ bucket: 'b', key: 'k', type: 'vpcflow', status: 'ok', records: 1, bytes: 2, processedAt: new Date() });
    await store.flush();
    assert.equal(double.docs('tld-objects').length, 1);
    assert.equal(double.clientCertificate, 'threatlockdown');
  } finally {
    await store.close();
  }
});

const refusals: [string, IndexerConfig['ssl']][] = [
  ['a node certificate from a CA not listed', { certificateAuthorities: [f('other-ca.pem')], certificate: f('client.pem'), key: f('client.key') }],
  ['no CA (the system CAs do not know the test CA)', { certificateAuthorities: [], certificate: f('client.pem'), key: f('client.key') }],
  ['no client certificate where the node asks for one', { certificateAuthorities: [f('ca.pem')] }],
];
for (const [name, ssl] of refusals) {
  test(`refused, not retried, pointing at <ssl>: ${name}`, async () => {
    const err = await IndexerStore.open(config(ssl)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof IndexerRequestError, String(err));
    assert.equal(err.retryable, false);
    assert.match(err.message, /check <ssl> in <indexer>/, err.message);
  });
}

test('a CA file that cannot be read is named, with the fix', async () => {
  const err = await IndexerStore.open(config({ certificateAuthorities: [f('missing-ca.pem')] })).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof IndexerConfigError);
  assert.match(err.message, /missing-ca\.pem: cannot read the CA certificate \(ENOENT\); fix the path in <indexer><ssl>/);
});
