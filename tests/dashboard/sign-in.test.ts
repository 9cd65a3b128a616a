/**
 * Sign-in under attack: password checks run off the event loop (the collector keeps running), an unknown user
 * name costs the same check as a wrong password, and repeated failures lock out the client address and the
 * user name for a while (429 + Retry-After), doubling up to a cap.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, scryptSync } from 'node:crypto';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildDashboard, buildServer } from '../../src/dashboard/server.js';
import { LoginThrottle } from '../../src/dashboard/throttle.js';
import { dummyHashLike, verifyPassword } from '../../src/dashboard/auth.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { DashboardConfig } from '../../src/config/types.js';
import { loadConfig } from '../../src/config/load.js';

const PASSWORD = 'correct horse battery';
function scryptHash(password: string, N: number, p: number): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N, r: 8, p });
  return `scrypt$${N}$8$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}
/** costlier than `tld dashboard hash-password` makes (p = 4), so one check takes clearly measurable time */
const COSTLY = scryptHash(PASSWORD, 16384, 4);
/** cheap, for the lockout tests, which count answers and not time */
const CHEAP = scryptHash(PASSWORD, 1024, 1);
const logger = pino({ level: 'silent' });
let store: Store;
let clock = Date.now();
let app: FastifyInstance;

before(async () => {
  store = await openStore(mkdtempSync(join(tmpdir(), 'tld-signin-')), { flowRetentionDays: 0, alertRetentionDays: 0 });
});
after(async () => store?.close());

async function server(passwordHash = CHEAP, trustedProxies?: string[]): Promise<FastifyInstance> {
  await app?.close();
  const config: DashboardConfig = { host: '127.0.0.1', port: 0, user: 'admin', passwordHash, ...(trustedProxies ? { trustedProxies } : {}) };
  app = await buildServer({ store, config, logger, now: () => clock });
  return app;
}
after(async () => app?.close());

function login(a: FastifyInstance, from: string, user: string, password: string, forwardedFor?: string) {
  return a.inject({ method: 'POST', url: '/api/login', remoteAddress: from, payload: { user, password }, ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}) });
}

test('a password check leaves the event loop free: timers keep firing during the check', async () => {
  const a = await server(COSTLY);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  try {
    for (const [i, user] of ['admin', 'nobody'].entries()) {
      ticks = 0;
      const started = Date.now();
      const r = await login(a, `192.0.2.${10 + i}`, user, 'wrong password');
      assert.equal(r.statusCode, 401);
      // a blocking check runs in one go: no tick in between
      assert.ok(ticks >= 10, `${user}: ${ticks} timer ticks during a ${Date.now() - started} ms sign-in`);
    }
  } finally {
    clearInterval(timer);
  }
});

test('an unknown user name costs the same check as a wrong password: a dummy hash with the configured parameters', async () => {
  // the server checks an unknown name's password against dummyHashLike(the configured hash) through the same
  // verifyPassword (server.ts): the same scrypt work when N, r, p, salt and hash lengths are the configured ones.
  // Checked by parameters, not by timing the answers (a busy machine makes times say nothing).
  const parts = (h: string) => {
    const [kind, n, r, p, salt, hash] = h.split('$');
    return { kind, n, r, p, salt: Buffer.from(salt!, 'base64').length, hash: Buffer.from(hash!, 'base64').length };
  };
  for (const configured of [COSTLY, CHEAP]) {
    const dummy = await dummyHashLike(configured);
    assert.deepEqual(parts(dummy), parts(configured));
    assert.notEqual(dummy, configured);
    assert.equal(await verifyPassword(PASSWORD, dummy), false, 'the configured password does not open the dummy');
  }
  // and the server answers an unknown name exactly as a wrong password
  const a = await server(COSTLY);
  const known = await login(a, '198.51.100.1', 'admin', 'wrong password');
  const unknown = await login(a, '198.51.100.51', 'someone', 'wrong password');
  assert.deepEqual([unknown.statusCode, unknown.json()], [known.statusCode, known.json()]);
});

test('an address is locked out after 5 failures (429 + Retry-After), the lock doubles, other addresses sign in', async () => {
  const a = await server();
  for (let i = 0; i < 5; i++) assert.equal((await login(a, '203.0.113.7', 'admin', `guess-${i}`)).statusCode, 401);
  const locked = await login(a, '203.0.113.7', 'admin', PASSWORD);
  assert.equal(locked.statusCode, 429, 'even the right password waits');
  assert.equal(locked.headers['retry-after'], '60');
  assert.match(locked.json().error, /too many failed sign-ins: try again in 60 s/);
  assert.equal((await login(a, '203.0.113.8', 'admin', PASSWORD)).statusCode, 200, 'another address signs in');

  clock += 61_000;
  assert.equal((await login(a, '203.0.113.7', 'admin', 'guess-5')).statusCode, 401, 'lock over: tried again');
  const again = await login(a, '203.0.113.7', 'admin', PASSWORD);
  assert.equal(again.statusCode, 429);
  assert.equal(again.headers['retry-after'], '120', 'each failure past the limit doubles the lock');
  clock += 121_000;
  assert.equal((await login(a, '203.0.113.7', 'admin', PASSWORD)).statusCode, 200);
});

test('behind a listed reverse proxy the lockout counts the forwarded client; X-Forwarded-For from anyone else is ignored', async () => {
  const proxy = '10.0.0.5';
  const behind = await server(CHEAP, ['10.0.0.0/24']);
  for (let i = 0; i < 5; i++) assert.equal((await login(behind, proxy, 'admin', `guess-${i}`, '198.51.100.20')).statusCode, 401);
  assert.equal((await login(behind, proxy, 'admin', PASSWORD, '198.51.100.20')).statusCode, 429, 'the guessing client is locked out');
  // another user through the same proxy signs in (the nearest untrusted address is the client: a forged first entry does not count)
  assert.equal((await login(behind, proxy, 'admin', PASSWORD, '198.51.100.20, 198.51.100.21')).statusCode, 200, 'another client behind the proxy signs in');
  // a client that is not a listed proxy cannot escape its lockout by naming other addresses
  // (its guesses go to another user name, so the lockout seen is its address's, not admin's)
  for (let i = 0; i < 5; i++) assert.equal((await login(behind, '203.0.113.9', 'operator', `guess-${i}`, `192.0.2.${i}`)).statusCode, 401);
  assert.equal((await login(behind, '203.0.113.9', 'admin', PASSWORD, '192.0.2.99')).statusCode, 429);

  // without trusted_proxies the proxy's address is the client: its users share one lockout
  clock += 24 * 3600_000;
  const plain = await server();
  for (let i = 0; i < 5; i++) assert.equal((await login(plain, proxy, 'admin', `guess-${i}`, '198.51.100.20')).statusCode, 401);
  assert.equal((await login(plain, proxy, 'admin', PASSWORD, '198.51.100.21')).statusCode, 429);
});

test('a user name is locked out after 10 failures from any addresses; an unknown name the same way', async () => {
  const a = await server();
  for (const user of ['admin', 'not-a-user']) {
    for (let i = 0; i < 10; i++) assert.equal((await login(a, `10.1.${user.length}.${i}`, user, 'wrong')).statusCode, 401);
    const r = await login(a, '10.9.9.9', user, PASSWORD);
    assert.equal(r.statusCode, 429, user);
    assert.equal(r.headers['retry-after'], '60');
  }
  clock += 61_000;
  assert.equal((await login(a, '10.9.9.9', 'admin', PASSWORD)).statusCode, 200);
});

test('a successful sign-in clears its address; failures are forgotten 30 minutes after the last one', async () => {
  const a = await server();
  const fail4 = async (from: string) => {
    for (let i = 0; i < 4; i++) assert.equal((await login(a, from, 'admin', `nope-${i}`)).statusCode, 401);
  };
  await fail4('192.0.2.50');
  assert.equal((await login(a, '192.0.2.50', 'admin', PASSWORD)).statusCode, 200);
  await fail4('192.0.2.50');
  assert.equal((await login(a, '192.0.2.50', 'admin', PASSWORD)).statusCode, 200, '4 + 4 failures with a success between: no lock');
  clock += 31 * 60_000; // (the user name's 8 failures are forgotten too)
  await fail4('192.0.2.51');
  clock += 31 * 60_000;
  await fail4('192.0.2.51');
  assert.equal((await login(a, '192.0.2.51', 'admin', 'nope')).statusCode, 401, '4 forgotten + 5: the fifth failure locks');
  assert.equal((await login(a, '192.0.2.51', 'admin', PASSWORD)).statusCode, 429);
});

test('a burst of 30 wrong passwords: 5 are checked, the rest are turned away at once', async () => {
  const a = await server();
  const codes: number[] = [];
  for (let i = 0; i < 30; i++) codes.push((await login(a, '192.0.2.99', 'admin', `burst-${i}`)).statusCode);
  assert.deepEqual(codes, [...Array(5).fill(401), ...Array(25).fill(429)]);
});

test('password checks pass a gate: at most 2 at once, a bounded queue, then "busy"', async () => {
  const t = new LoginThrottle({ queue: 3 }); // the default: 2 at once
  let running = 0;
  let most = 0;
  const work = async () => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 20));
    running--;
    return true;
  };
  const results = await Promise.all(Array.from({ length: 7 }, () => t.gate(work)));
  assert.equal(most, 2);
  assert.deepEqual(results, [true, true, true, true, true, undefined, undefined]);
  assert.equal(await t.gate(work), true, 'the gate opens again');
});

test('<trusted_proxies> in the configuration file: addresses and CIDR ranges, checked; a change waits for a restart', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tld-proxies-')), 'proxies.conf');
  writeFileSync(file, '<ossec_config><dashboard><trusted_proxies>10.0.0.5, 10.1.0.0/16, fd00::/8</trusted_proxies></dashboard></ossec_config>');
  assert.deepEqual((await loadConfig([file])).config.dashboard.trustedProxies, ['10.0.0.5', '10.1.0.0/16', 'fd00::/8']);
  for (const bad of ['proxy.example.com', '10.0.0.0/33', '10.0.0.1/8/2']) {
    writeFileSync(file, `<ossec_config><dashboard><trusted_proxies>${bad}</trusted_proxies></dashboard></ossec_config>`);
    await assert.rejects(loadConfig([file]), (e: Error & { issues?: { message: string }[] }) => String(e.issues?.[0]?.message).includes(`not an IP address or CIDR range: '${bad}'`));
  }
  const d = await buildDashboard({ store, config: { host: '127.0.0.1', port: 0, user: 'admin', passwordHash: CHEAP }, logger });
  try {
    const report = await d.reconfigure({ host: '127.0.0.1', port: 0, user: 'admin', passwordHash: CHEAP, trustedProxies: ['10.0.0.5'] });
    assert.deepEqual(report.restartNeeded, ['trusted_proxies']);
  } finally {
    await d.app.close();
  }
});

test('sign-in limits from the configuration file: failures per address and per user, first and longest lockout; a reload applies them', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tld-signin-limits-')), 'limits.conf');
  const conf = (inner: string) => writeFileSync(file, `<ossec_config><dashboard>${inner}</dashboard></ossec_config>`);
  conf('');
  const defaults = (await loadConfig([file])).config.dashboard;
  assert.deepEqual([defaults.signinFailuresPerAddress, defaults.signinFailuresPerUser, defaults.signinLockoutSeconds, defaults.signinMaxLockoutSeconds], [5, 10, 60, 900]);
  conf('<signin_failures_per_address>2</signin_failures_per_address><signin_failures_per_user>4</signin_failures_per_user><signin_lockout_seconds>30</signin_lockout_seconds><signin_max_lockout_seconds>45</signin_max_lockout_seconds>');
  const config = { ...(await loadConfig([file])).config.dashboard, passwordHash: CHEAP, port: 0 };
  for (const [inner, message] of [
    ['<signin_failures_per_address>0</signin_failures_per_address>', 'signin_failures_per_address'],
    ['<signin_lockout_seconds>ten</signin_lockout_seconds>', 'signin_lockout_seconds'],
    ['<signin_lockout_seconds>600</signin_lockout_seconds><signin_max_lockout_seconds>300</signin_max_lockout_seconds>', 'shorter than the first lockout'],
  ] as const) {
    conf(inner);
    await assert.rejects(loadConfig([file]), (e: Error & { issues?: { message: string; tag?: string }[] }) => (e.issues ?? []).some((i) => `${i.tag} ${i.message}`.includes(message)), inner);
  }

  const d = await buildDashboard({ store, config, logger, now: () => clock });
  try {
    // two failures lock the address out for 30 s; the next failure would double it, but 45 s is the longest
    for (let i = 0; i < 2; i++) assert.equal((await login(d.app, '192.0.2.30', 'admin', 'wrong')).statusCode, 401);
    const locked = await login(d.app, '192.0.2.30', 'admin', PASSWORD);
    assert.equal(locked.statusCode, 429);
    assert.equal(locked.headers['retry-after'], '30');
    clock += 31_000;
    assert.equal((await login(d.app, '192.0.2.30', 'admin', 'wrong')).statusCode, 401);
    assert.equal((await login(d.app, '192.0.2.30', 'admin', PASSWORD)).headers['retry-after'], '45', 'capped at signin_max_lockout_seconds');
    clock += 46_000;
    // four failures for a user name, from four addresses, lock the name out
    for (let i = 0; i < 4; i++) assert.equal((await login(d.app, `198.51.100.${40 + i}`, 'analyst', 'wrong')).statusCode, 401);
    assert.equal((await login(d.app, '198.51.100.50', 'analyst', 'wrong')).statusCode, 429);

    // a reload back to the defaults: five failures per address again
    const report = await d.reconfigure({ host: '127.0.0.1', port: 0, user: 'admin', passwordHash: CHEAP });
    assert.deepEqual(report.applied, ['signin limits']);
    assert.deepEqual(report.restartNeeded, []);
    for (let i = 0; i < 4; i++) assert.equal((await login(d.app, '192.0.2.31', 'admin', 'wrong')).statusCode, 401);
    assert.equal((await login(d.app, '192.0.2.31', 'admin', PASSWORD)).statusCode, 200, 'four failures are below the default five');
  } finally {
    await d.app.close();
  }
});
