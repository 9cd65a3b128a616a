/**
 * DNS rebinding: the dashboard answers only to its own names (the bound address, loopback names when bound to
 * loopback, `<allowed_hosts>`); any other `Host` gets 421 with a short text, pages, API and sign-in alike.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer, startDashboard } from '../../src/dashboard/server.js';
import { hostOfHeader } from '../../src/dashboard/hosts.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { DashboardConfig } from '../../src/config/types.js';
import { loadConfig } from '../../src/config/load.js';
import { writeFileSync } from 'node:fs';

const logger = pino({ level: 'silent' });
const open: DashboardConfig = { host: '127.0.0.1', port: 0, user: 'admin' };
let store: Store;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tld-hosts-'));
  store = await openStore(dir, { flowRetentionDays: 0, alertRetentionDays: 0 });
});
after(async () => store?.close());

const apps = new Map<string, FastifyInstance>();
after(async () => {
  for (const app of apps.values()) await app.close();
});

async function status(config: DashboardConfig, host: string, url = '/api/range', method: 'GET' | 'POST' = 'GET') {
  const key = JSON.stringify(config);
  let app = apps.get(key);
  if (!app) apps.set(key, (app = await buildServer({ store, config, logger })));
  const r = await app.inject({ method, url, headers: { host }, ...(method === 'POST' ? { payload: { user: 'admin', password: 'x' } } : {}) });
  return { status: r.statusCode, body: r.body, type: String(r.headers['content-type']) };
}

test('bound to loopback: loopback names answer, any other name gets 421 and nothing else', async () => {
  for (const host of ['127.0.0.1:8080', '127.0.0.1', 'localhost:8080', 'LOCALHOST', 'localhost.', '[::1]:8080', 'app.localhost:8080']) {
    assert.equal((await status(open, host)).status, 200, host);
  }
  for (const host of ['evil.example', 'evil.example:8080', '127.0.0.1.evil.example', 'localhost.evil.example', '[::1]evil']) {
    for (const [url, method] of [['/api/range', 'GET'], ['/', 'GET'], ['/login.html', 'GET'], ['/metrics', 'GET'], ['/api/login', 'POST']] as const) {
      const r = await status(open, host, url, method);
      assert.equal(r.status, 421, `${host} ${method} ${url}`);
      assert.match(r.type, /^text\/plain/);
      assert.match(r.body, /does not answer to the host name .*allowed_hosts/);
      assert.ok(r.body.length < 300 && !r.body.includes('"alerts"'));
    }
  }
});

test('<allowed_hosts> adds names (a reverse proxy\'s); `*` answers any; a wildcard bind answers the machine\'s own names', async () => {
  const proxied = { ...open, allowedHosts: ['tld.example.com'] };
  assert.equal((await status(proxied, 'tld.example.com')).status, 200);
  assert.equal((await status(proxied, 'TLD.example.com:443')).status, 200);
  assert.equal((await status(proxied, 'other.example.com')).status, 421);
  assert.equal((await status({ ...open, allowedHosts: ['*'] }, 'anything.example')).status, 200);
  const wide = { ...open, host: '0.0.0.0', token: 't'.repeat(24) };
  assert.equal((await status(wide, '127.0.0.1:8080')).status, 401, 'past the host check, to authentication');
  assert.equal((await status(wide, 'evil.example')).status, 421);
});

test('<allowed_hosts> in the configuration file: a comma-separated list, checked', async () => {
  const file = join(dir, 'hosts.conf');
  writeFileSync(file, '<ossec_config><dashboard><allowed_hosts>tld.example.com, Dash.Example.com</allowed_hosts></dashboard></ossec_config>');
  assert.deepEqual((await loadConfig([file])).config.dashboard.allowedHosts, ['tld.example.com', 'dash.example.com']);
  writeFileSync(file, '<ossec_config><dashboard><allowed_hosts>tld.example.com, not a host</allowed_hosts></dashboard></ossec_config>');
  await assert.rejects(loadConfig([file]), (e: Error & { issues?: { message: string }[] }) => /not a host name or address: 'not a host'/.test(String(e.issues?.[0]?.message)));
});

test('over a real socket: Host: evil.example gets 421, the bound address 200', async () => {
  const server = await startDashboard({ store, config: open, logger });
  try {
    const port = Number(new URL(server.url).port);
    const ask = (host: string) =>
      new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/api/alerts', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject).end();
      });
    assert.equal(await ask('evil.example'), 421);
    assert.equal(await ask(`127.0.0.1:${port}`), 200);
    // HTTP/1.0 without a Host header: no name, no answer
    const { connect } = await import('node:net');
    const raw = await new Promise<string>((resolve, reject) => {
      let got = '';
      const c = connect(port, '127.0.0.1', () => c.write('GET /api/alerts HTTP/1.0\r\n\r\n'));
      c.on('data', (d) => (got += d)).on('end', () => resolve(got)).on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.[01] 421 /);
  } finally {
    await server.close();
  }
});

test('Host header parsing: port, brackets, case and trailing dot', () => {
  assert.equal(hostOfHeader('Example.COM.:80'), 'example.com');
  assert.equal(hostOfHeader('[::1]:8080'), '::1');
  assert.equal(hostOfHeader('[::1]'), '::1');
  assert.equal(hostOfHeader('::1'), undefined, 'an IPv6 address needs brackets');
  assert.equal(hostOfHeader('a:b:c'), undefined);
  assert.equal(hostOfHeader(undefined), undefined);
});
