/** Wazuh's `<indexer>` block and `<store><backend>`: what loads, what is refused, and the messages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './load.js';
import { ConfigError, type ConfigIssue } from './errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'tld-indexer-config-'));
let n = 0;
function conf(body: string): string {
  const file = join(tmp, `c${n++}.conf`);
  writeFileSync(file, `<ossec_config>\n${body}\n</ossec_config>\n`);
  return file;
}
async function errorsOf(file: string): Promise<ConfigIssue[]> {
  try {
    await loadConfig([file]);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.filter((i) => i.severity === 'error');
    throw e;
  }
  return [];
}

// Wazuh 4.x manager's default block (filebeat certificates), with our backend choice
const WAZUH_BLOCK = `<indexer>
  <enabled>yes</enabled>
  <hosts>
    <host>https://10.0.0.1:9200</host>
    <host>https://10.0.0.2:9200/</host>
  </hosts>
  <ssl>
    <certificate_authorities>
      <ca>/etc/filebeat/certs/root-ca.pem</ca>
    </certificate_authorities>
    <certificate>certs/filebeat.pem</certificate>
    <key>certs/filebeat-key.pem</key>
  </ssl>
</indexer>`;

test("Wazuh's <indexer> block loads: hosts, CA, client certificate (relative to the config file), defaults", async () => {
  const file = conf(`<store><backend>indexer</backend></store>\n${WAZUH_BLOCK}`);
  const { config, warnings } = await loadConfig([file]);
  assert.deepEqual(warnings, []);
  assert.equal(config.store.backend, 'indexer');
  assert.deepEqual(config.indexer, {
    enabled: true,
    hosts: ['https://10.0.0.1:9200', 'https://10.0.0.2:9200'],
    ssl: { certificateAuthorities: ['/etc/filebeat/certs/root-ca.pem'], certificate: join(tmp, 'certs/filebeat.pem'), key: join(tmp, 'certs/filebeat-key.pem') },
    bulkMaxBytes: 5_242_880,
    correlationGraceSeconds: 900,
    correlationIntervalSeconds: 60,
    origin: { file, line: 3 },
  });
});

test('the embedded store stays the default: an <indexer> block alone does not switch the backend', async () => {
  const { config } = await loadConfig([conf(WAZUH_BLOCK)]);
  assert.equal(config.store.backend, 'embedded');
  assert.equal(config.indexer?.enabled, true);
});

test('credentials_file and bulk_max_bytes are read; the file path is made absolute', async () => {
  const { config } = await loadConfig([conf('<indexer><hosts><host>http://127.0.0.1:9200</host></hosts><credentials_file>creds</credentials_file><bulk_max_bytes>65536</bulk_max_bytes></indexer>')]);
  assert.equal(config.indexer?.credentialsFile, join(tmp, 'creds'));
  assert.equal(config.indexer?.bulkMaxBytes, 65_536);
});

for (const [name, body, tag, fragment] of [
  ['backend indexer without an <indexer> block', '<store><backend>indexer</backend></store>', 'backend', 'needs an <indexer> block'],
  ['backend indexer with the block disabled', '<store><backend>indexer</backend></store><indexer><enabled>no</enabled></indexer>', 'backend', 'disabled'],
  ['an unknown backend', '<store><backend>opensearch</backend></store>', 'backend', 'not one of embedded, indexer'],
  ['an enabled block without hosts', '<indexer><enabled>yes</enabled></indexer>', 'hosts', 'no <hosts><host>'],
  ['a host that is not an http(s) URL', '<indexer><hosts><host>ftp://x:9200</host></hosts></indexer>', 'host', 'not an http(s) URL'],
  ['a certificate without its key', '<indexer><hosts><host>https://x:9200</host></hosts><ssl><certificate>a.pem</certificate></ssl></indexer>', 'ssl', 'needs both'],
  ['an unknown option in <ssl>', '<indexer><hosts><host>https://x:9200</host></hosts><ssl><cert>a.pem</cert></ssl></indexer>', 'cert', 'no such option'],
  ['a bulk size below 1 KiB', '<indexer><hosts><host>https://x:9200</host></hosts><bulk_max_bytes>10</bulk_max_bytes></indexer>', 'bulk_max_bytes', ''],
] as const) {
  test(`refused with the tag named: ${name}`, async () => {
    const errors = await errorsOf(conf(body));
    const hit = errors.find((e) => e.tag === tag);
    assert.ok(hit, `an error on <${tag}>: ${JSON.stringify(errors)}`);
    assert.ok(hit.line > 0, 'at its line');
    assert.match(hit.message, new RegExp(fragment.replace(/[<>()]/g, '\\$&')));
  });
}
