/**
 * The dashboard's JSON API over a real DuckDB store with known content (fastify inject, no socket), and the
 * listening server: loopback by default, refusal without authentication elsewhere, HTTPS when configured.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer, startDashboard } from '../../src/dashboard/server.js';
import { hashPassword } from '../../src/dashboard/auth.js';
import type { Store } from '../../src/store/index.js';
import type { DashboardConfig } from '../../src/config/types.js';
import { buildStore, HOUR, PEAK_HOUR, T0, XSS } from './store-fixture.js';

const logger = pino({ level: 'silent' });
const open: DashboardConfig = { host: '127.0.0.1', port: 0, user: 'admin' };
let store: Store;
let dataDir: string;
let app: FastifyInstance;
const DAY = `from=${T0}&to=${T0 + 24 * HOUR}`;

before(async () => {
  ({ store, dataDir } = await buildStore());
  app = await buildServer({ store, config: open, logger });
});
after(async () => {
  await app?.close();
  await store?.close();
});

async function get(path: string, a: FastifyInstance = app, headers: Record<string, string> = {}) {
  const res = await a.inject({ method: 'GET', url: path, headers });
  return { status: res.statusCode, body: res.headers['content-type']?.toString().includes('json') ? res.json() : res.body, headers: res.headers };
}

test('VPC traffic: hourly series by record time with the peak where the data put it; exact totals', async () => {
  const { status, body } = await get(`/api/vpc?${DAY}`);
  assert.equal(status, 200);
  assert.equal(body.bucketSeconds, 900, '24 hours in at most 240 points, on a round step');
  const peak = body.series.reduce((a: { bytes: string }, b: { bytes: string }) => (Number(b.bytes) > Number(a.bytes) ? b : a));
  assert.equal(Number(peak.t), T0 + PEAK_HOUR * HOUR, 'the peak bucket is the peak hour');
  assert.equal(Number(peak.bytes), 100 * 1000 + 5 * 60);
  assert.equal(body.series.reduce((s: number, r: { flows: number }) => s + r.flows, 0), 23 * 10 + 100 + 5);
  assert.deepEqual(body.rejectedPorts, [{ dport: 22, n: 5, sources: 1 }]);
});

test('narrowing to the peak: who talked in that hour only', async () => {
  const { body } = await get(`/api/vpc?from=${T0 + PEAK_HOUR * HOUR}&to=${T0 + (PEAK_HOUR + 1) * HOUR - 1}`);
  assert.deepEqual(body.talkers.map((t: Record<string, unknown>) => [t.src, t.dst, Number(t.bytes), t.flows, t.rejected]), [
    ['10.0.0.5', '10.0.1.9', 100_000, 100, 0],
    ['198.51.100.66', '10.0.1.9', 300, 5, 5],
  ]);
  const outside = await get(`/api/vpc?from=${T0}&to=${T0 + HOUR - 1}`);
  assert.deepEqual(outside.body.talkers.map((t: { bytes: string }) => Number(t.bytes)), [10_000]);
});

test('IP pivot: flows in the range and alerts from every source that name the address', async () => {
  const { body } = await get(`/api/ip/198.51.100.66?${DAY}`);
  assert.equal(body.summary.flows, 5);
  assert.equal(body.summary.rejected, 5);
  assert.deepEqual(body.peers.map((p: { peer: string }) => p.peer), ['10.0.1.9']);
  const rules = new Set(body.alerts.map((a: { rule_id: string }) => a.rule_id));
  assert.ok(rules.has('80254') || rules.has('80253'), `console login alerts: ${[...rules]}`);
  const gd = await get(`/api/ip/198.51.100.0?from=0&to=${T0}`);
  assert.ok(gd.body.alerts.some((a: { source: string }) => a.source === 'guardduty'), 'the GuardDuty brute force names its attacker');
});

test('GuardDuty: type pie, severity bands and the brute-force panel (instance, attacker, port)', async () => {
  const { body } = await get(`/api/guardduty?from=0&to=${T0}`);
  assert.deepEqual(body.byType, [{ k: 'UnauthorizedAccess:EC2/SSHBruteForce', n: 1 }]);
  assert.equal(body.bySeverity[0].k, 'low');
  assert.equal(body.bruteForce.length, 1);
  assert.equal(body.bruteForce[0].instance_id, 'i-99999999');
  assert.equal(body.bruteForce[0].remote_ip, '198.51.100.0');
  assert.equal(body.bruteForce[0].port, 22);
});

test('alert search filters by level, rule, IP, account and free text; the whole alert by id', async () => {
  const all = (await get(`/api/alerts?from=0&to=${T0 + 48 * HOUR}`)).body as { id: string; level: number; rule_id: string; src_ip: string }[];
  assert.ok(all.length >= 3);
  const high = (await get(`/api/alerts?from=0&to=${T0 + 48 * HOUR}&level=5`)).body as { level: number }[];
  assert.ok(high.length > 0 && high.every((a) => a.level >= 5) && high.length <= all.length);
  const rule = all[0]!.rule_id;
  assert.ok(((await get(`/api/alerts?from=0&to=${T0 + 48 * HOUR}&rule=${rule}`)).body as { rule_id: string }[]).every((a) => a.rule_id === rule));
  const text = (await get(`/api/alerts?from=0&to=${T0 + 48 * HOUR}&q=onerror`)).body as { id: string }[];
  assert.equal(text.length, 1, 'free text reaches fields of the whole alert');
  const whole = await get(`/api/alerts/${encodeURIComponent(text[0]!.id)}`);
  assert.equal(whole.body.data.aws.userAgent, XSS, 'stored and returned as data');
  assert.equal((await get('/api/alerts/nope')).status, 404);
  assert.equal(((await get(`/api/alerts?from=0&to=${T0 + 48 * HOUR}&account=222222222222`)).body as unknown[]).length, 0);
});

test('values only ever travel as parameters: SQL in a filter is a search string', async () => {
  const r = await get(`/api/alerts?from=0&to=${T0 + 48 * HOUR}&ip=${encodeURIComponent("' OR 1=1 --")}`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, []);
  const p = await get(`/api/ip/${encodeURIComponent("x' OR '1'='1")}?${DAY}`);
  assert.equal(p.body.summary.flows, 0);
});

test('a bad time range is a 400 that says what is expected', async () => {
  const r = await get('/api/vpc?from=abc');
  assert.equal(r.status, 400);
  assert.match(r.body.error, /epoch milliseconds/);
  assert.equal((await get(`/api/vpc?from=${T0 + 1}&to=${T0}`)).status, 400);
});

test('every response carries a strict Content-Security-Policy and nosniff', async () => {
  const { headers } = await get('/');
  assert.match(String(headers['content-security-policy']), /script-src 'self'/);
  assert.equal(headers['x-content-type-options'], 'nosniff');
});

test('with a token: API and /metrics need it; the collector metrics are Prometheus text', async () => {
  const token = 'x'.repeat(12) + 'secret-token-1234';
  const metrics = { contentType: 'text/plain; version=0.0.4', render: async () => 'tld_objects_total{bucket="logs",type="vpcflow",status="ok"} 1\n' };
  const secured = await buildServer({ store, config: { ...open, token }, logger, metrics });
  try {
    assert.equal((await get(`/api/vpc?${DAY}`, secured)).status, 401);
    assert.equal((await get('/metrics', secured)).status, 401);
    assert.equal((await get('/', secured)).status, 302, 'pages redirect to sign-in');
    assert.equal((await get(`/api/vpc?${DAY}`, secured, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get(`/api/vpc?${DAY}`, secured, { authorization: `Bearer ${token}` })).status, 200);
    const m = await get('/metrics', secured, { authorization: `Bearer ${token}` });
    assert.equal(m.status, 200);
    assert.match(String(m.body), /^tld_objects_total\{bucket="logs"/m);
  } finally {
    await secured.close();
  }
});

test('sign-in: JSON only (a cross-site form cannot post), wrong password 401, session cookie Secure+HttpOnly+Strict', async () => {
  const secured = await buildServer({ store, config: { ...open, passwordHash: hashPassword('pw-for-tests') }, logger });
  try {
    const form = await secured.inject({ method: 'POST', url: '/api/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'user=admin&password=pw-for-tests' });
    assert.equal(form.statusCode, 415);
    const wrong = await secured.inject({ method: 'POST', url: '/api/login', payload: { user: 'admin', password: 'nope' } });
    assert.equal(wrong.statusCode, 401);
    const ok = await secured.inject({ method: 'POST', url: '/api/login', payload: { user: 'admin', password: 'pw-for-tests' } });
    assert.equal(ok.statusCode, 200);
    const cookie = String(ok.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /Secure/);
    assert.match(cookie, /SameSite=Strict/);
    const session = cookie.split(';')[0]!;
    assert.equal((await get(`/api/vpc?${DAY}`, secured, { cookie: session })).status, 200);
    await secured.inject({ method: 'POST', url: '/api/logout', headers: { cookie: session } });
    assert.equal((await get(`/api/vpc?${DAY}`, secured, { cookie: session })).status, 401, 'signed out');
  } finally {
    await secured.close();
  }
});

test('listening: loopback by default, refused elsewhere without authentication', async () => {
  const server = await startDashboard({ store, config: open, logger });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(`${server.url}api/range`);
    assert.equal(res.status, 200);
  } finally {
    await server.close();
  }
  await assert.rejects(startDashboard({ store, config: { ...open, host: '0.0.0.0' }, logger }), /without authentication/);
  const first = await startDashboard({ store, config: open, logger });
  try {
    const port = Number(new URL(first.url).port);
    await assert.rejects(startDashboard({ store, config: { ...open, port }, logger }), new RegExp(`port ${port} on 127.0.0.1 is already in use: choose another with --port`));
  } finally {
    await first.close();
  }
});

test('HTTPS with <tls_cert>/<tls_key> (a self-signed certificate made by openssl)', async () => {
  const cert = join(dataDir, 'cert.pem');
  const key = join(dataDir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const server = await startDashboard({ store, config: { ...open, tlsCert: cert, tlsKey: key }, logger });
  try {
    assert.match(server.url, /^https:\/\//);
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${server.url}api/range`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(status, 200);
  } finally {
    await server.close();
  }
  await assert.rejects(startDashboard({ store, config: { ...open, tlsCert: join(dataDir, 'missing.pem'), tlsKey: key }, logger }), /cannot read <tls_cert>/);
});

function runDashboard(dir: string): { status: number | null; stderr: string } {
  const root = join(import.meta.dirname, '..', '..');
  try {
    execFileSync(process.execPath, [join(root, 'bin/tld.js'), 'dashboard', '--data-dir', dir, '--port', '0'], { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
    return { status: 0, stderr: '' };
  } catch (e) {
    const err = e as { status: number | null; stderr: string };
    return { status: err.status, stderr: err.stderr };
  }
}

test('tld dashboard says what to do when the data directory has no store, or another tld process holds it', () => {
  const missing = runDashboard(join(dataDir, 'not-collected-yet'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no store in .*not-collected-yet yet .*tld run-once/);
  // This test process holds the store read-write, as a running `tld start` would.
  const busy = runDashboard(dataDir);
  assert.equal(busy.status, 1);
  assert.match(busy.stderr, new RegExp(`in use by another process \\(PID ${process.pid}`));
  assert.match(busy.stderr, /serves this dashboard itself/);
});
