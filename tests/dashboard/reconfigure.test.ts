/**
 * A reload (SIGHUP) reaching the running dashboard: a rotated token or password takes over at once (the old one
 * stops working, a new password signs everybody out), host names apply live; host, port and HTTP↔HTTPS are
 * reported as needing a restart and left as they are; authentication is never dropped beyond loopback.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, scryptSync } from 'node:crypto';
import { pino } from 'pino';
import { buildDashboard } from '../../src/dashboard/server.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { DashboardConfig } from '../../src/config/types.js';

const logger = pino({ level: 'silent' });
let store: Store;
const OLD = 'old-token-0123456789abcdefgh';
const NEW = 'new-token-0123456789abcdefgh';

function hash(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$1024$8$1$${salt.toString('base64')}$${scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64')}`;
}

before(async () => {
  store = await openStore(mkdtempSync(join(tmpdir(), 'tld-reconf-')), { flowRetentionDays: 0, alertRetentionDays: 0 });
});
after(async () => store?.close());

test('a rotated token replaces the old one at once; nothing needs a restart', async () => {
  const base: DashboardConfig = { host: '127.0.0.1', port: 0, user: 'admin', token: OLD };
  const { app, reconfigure } = await buildDashboard({ store, config: base, logger });
  try {
    const status = async (token: string) => (await app.inject({ url: '/api/range', headers: { authorization: `Bearer ${token}` } })).statusCode;
    assert.equal(await status(OLD), 200);
    assert.deepEqual(await reconfigure({ ...base, token: NEW }), { applied: ['token'], restartNeeded: [], failed: [] });
    assert.equal(await status(OLD), 401, 'the rotated-out token is refused');
    assert.equal(await status(NEW), 200);
  } finally {
    await app.close();
  }
});

test('a new password or user name: the old password fails, sessions end, the new one signs in', async () => {
  const base: DashboardConfig = { host: '127.0.0.1', port: 0, user: 'admin', passwordHash: hash('first password') };
  const { app, reconfigure } = await buildDashboard({ store, config: base, logger });
  try {
    const login = (user: string, password: string) => app.inject({ method: 'POST', url: '/api/login', payload: { user, password } });
    const ok = await login('admin', 'first password');
    assert.equal(ok.statusCode, 200);
    const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
    const signedIn = async () => (await app.inject({ url: '/api/range', headers: { cookie } })).statusCode;
    assert.equal(await signedIn(), 200);

    const report = await reconfigure({ ...base, user: 'analyst', passwordHash: hash('second password') });
    assert.deepEqual(report.applied.sort(), ['password_hash', 'user']);
    assert.equal(await signedIn(), 401, 'signed out by the change');
    assert.equal((await login('admin', 'first password')).statusCode, 401);
    assert.equal((await login('analyst', 'second password')).statusCode, 200);
    assert.equal((await app.inject({ url: '/api/session' })).json().user, 'analyst');
  } finally {
    await app.close();
  }
});

test('host, port and HTTP→HTTPS are reported as needing a restart, and the running ones stay; allowed_hosts applies', async () => {
  const base: DashboardConfig = { host: '127.0.0.1', port: 8080, user: 'admin', token: OLD };
  const { app, reconfigure } = await buildDashboard({ store, config: base, logger });
  try {
    const report = await reconfigure({ ...base, host: '0.0.0.0', port: 9090, tlsCert: '/x/cert.pem', tlsKey: '/x/key.pem', token: NEW, allowedHosts: ['tld.example.com'] });
    assert.deepEqual(report.restartNeeded, ['host', 'port', 'tls_cert, tls_key (HTTP → HTTPS)']);
    assert.deepEqual(report.applied, ['token', 'allowed_hosts']);
    const get = (host: string) => app.inject({ url: '/api/range', headers: { host, authorization: `Bearer ${NEW}` } });
    assert.equal((await get('tld.example.com')).statusCode, 200, 'the new name is answered');
    assert.equal((await get('127.0.0.1:8080')).statusCode, 200, 'still the loopback dashboard');
    assert.equal((await get('evil.example')).statusCode, 421);
  } finally {
    await app.close();
  }
});

test('beyond loopback, a reload that would drop authentication is refused for that part', async () => {
  const base: DashboardConfig = { host: '0.0.0.0', port: 0, user: 'admin', token: OLD };
  const { app, reconfigure } = await buildDashboard({ store, config: base, logger });
  try {
    const { host: _h, token: _t, ...open } = base;
    const report = await reconfigure({ ...open, host: '127.0.0.1' });
    assert.deepEqual(report.restartNeeded, ['host']);
    assert.equal(report.applied.length, 0);
    assert.match(report.failed.join(), /listens on 0\.0\.0\.0, which needs authentication/);
    assert.equal((await app.inject({ url: '/api/range', headers: { host: '127.0.0.1' } })).statusCode, 401, 'still needs the token');
  } finally {
    await app.close();
  }
});

test('HTTPS: a renewed certificate is re-read by a reload and served to new connections', async () => {
  const { execFileSync } = await import('node:child_process');
  const { connect } = await import('node:tls');
  const { startDashboard } = await import('../../src/dashboard/server.js');
  const dir = mkdtempSync(join(tmpdir(), 'tld-reconf-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const make = (cn: string) => execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${cn}`], { stdio: 'ignore' });
  make('first.test');
  const base: DashboardConfig = { host: '127.0.0.1', port: 0, user: 'admin', tlsCert: cert, tlsKey: key };
  const server = await startDashboard({ store, config: base, logger });
  const served = () =>
    new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: Number(new URL(server.url).port), rejectUnauthorized: false }, () => {
        resolve(String(s.getPeerCertificate().subject.CN));
        s.end();
      }).on('error', reject);
    });
  try {
    assert.equal(await served(), 'first.test');
    assert.deepEqual(await server.reconfigure(base), { applied: [], restartNeeded: [], failed: [] }, 'unchanged files: nothing to report');
    make('second.test');
    assert.deepEqual((await server.reconfigure(base)).applied, ['tls_cert, tls_key (certificate re-read)']);
    assert.equal(await served(), 'second.test');
    const missing = await server.reconfigure({ ...base, tlsCert: join(dir, 'gone.pem') });
    assert.match(missing.failed.join(), /cannot read <tls_cert> .*gone\.pem.*the certificate in use stays/);
    assert.equal(await served(), 'second.test');
  } finally {
    await server.close();
  }
});
