/**
 * The dashboard's HTTP server: static web app, JSON API (docs/api.md), Prometheus metrics. `buildServer`
 * never listens (tests inject requests); `startDashboard` listens and refuses a non-loopback address
 * without a password hash or token.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyCookie from '@fastify/cookie';
import type { Logger } from 'pino';
import type { DashboardConfig } from '../config/types.js';
import type { Store } from '../store/index.js';
import { Sessions, dummyHashLike, sameSecret, verifyPassword } from './auth.js';
import { hostPolicy, type HostPolicy } from './hosts.js';
import { readAlertFilter, readRange, type Query } from './params.js';
import { LoginThrottle, type LoginLimits } from './throttle.js';
import * as q from './queries.js';
import { list } from './lists.js';
import { registerAnalystRoutes, type Identity } from './analyst-routes.js';
import { TriageLog } from './triage-log.js';

export interface DashboardDeps {
  store: Store;
  config: DashboardConfig;
  logger: Logger;
  /** Prometheus registry renderer (from the collector), if any */
  metrics?: { render(): Promise<string>; contentType: string };
  /** sign-in throttling (default DEFAULT_LOGIN_LIMITS) */
  loginLimits?: Partial<LoginLimits>;
  /** clock of the sign-in lockouts, epoch ms (tests) */
  now?: () => number;
  /** the triage audit log (default: `<data dir>/dashboard/triage.jsonl`, beside the store's folder) */
  triageFile?: string;
}

/** What a reload did to a running dashboard; the option names are the config's tags. */
export interface ReconfigureReport {
  /** in force from now on */
  applied: string[];
  /** changed in the file but only taken up by a restart: the running values stay */
  restartNeeded: string[];
  /** could not be applied (with the reason): the running values stay */
  failed: string[];
}

export interface Dashboard {
  app: FastifyInstance;
  /** Applies a reloaded `<dashboard>` to the running server: authentication and host names live; host, port and HTTP↔HTTPS need a restart. */
  reconfigure(next: DashboardConfig): Promise<ReconfigureReport>;
}

const WEB = fileURLToPath(new URL('./web/', import.meta.url));
const ECHARTS = join(createRequire(import.meta.url).resolve('echarts'), '../../dist/');
const COOKIE = 'tld_session';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

function readPem(file: string, tag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read <${tag}> ${file}: ${(e as Error).message}`);
  }
}

const hasAuth = (c: DashboardConfig): boolean => c.passwordHash !== undefined || c.token !== undefined;

/** The settings a request is checked against; replaced as a whole by a reload. */
interface Live {
  config: DashboardConfig;
  authRequired: boolean;
  hosts: HostPolicy;
  /** what an unknown user name's password is checked against (same cost as the real hash) */
  dummy: Promise<string>;
}

const SIGNIN_KEYS = ['signinFailuresPerAddress', 'signinFailuresPerUser', 'signinLockoutSeconds', 'signinMaxLockoutSeconds'] as const;

/** The sign-in limits a configuration sets (those it leaves out keep throttle.ts's defaults). */
function loginLimitsOf(config: DashboardConfig): Partial<LoginLimits> {
  const limits: Partial<LoginLimits> = {};
  if (config.signinFailuresPerAddress !== undefined) limits.perAddress = config.signinFailuresPerAddress;
  if (config.signinFailuresPerUser !== undefined) limits.perUser = config.signinFailuresPerUser;
  if (config.signinLockoutSeconds !== undefined) limits.lockoutMs = config.signinLockoutSeconds * 1000;
  if (config.signinMaxLockoutSeconds !== undefined) limits.maxLockoutMs = config.signinMaxLockoutSeconds * 1000;
  return limits;
}

function live(config: DashboardConfig, previous?: Live): Live {
  const sameParams = previous && previous.config.passwordHash?.split('$').slice(0, 4).join('$') === config.passwordHash?.split('$').slice(0, 4).join('$');
  return { config, authRequired: hasAuth(config), hosts: hostPolicy(config), dummy: sameParams ? previous.dummy : dummyHashLike(config.passwordHash) };
}

/** Builds the app (routes, auth, headers) without listening. */
export async function buildServer(deps: DashboardDeps): Promise<FastifyInstance> {
  return (await buildDashboard(deps)).app;
}

/** Builds the app and its reconfiguration hook without listening. */
export async function buildDashboard(deps: DashboardDeps): Promise<Dashboard> {
  const { store, logger } = deps;
  const boot = deps.config;
  let tls = boot.tlsCert && boot.tlsKey ? { cert: readPem(boot.tlsCert, 'tls_cert'), key: readPem(boot.tlsKey, 'tls_key') } : undefined;
  // the client's address (sign-in lockouts, logs): X-Forwarded-For counts only from a listed reverse proxy
  const trustProxy = boot.trustedProxies?.length ? boot.trustedProxies : false;
  const app = (tls
    ? Fastify({ logger: false, bodyLimit: 16 * 1024, trustProxy, https: tls })
    : Fastify({ logger: false, bodyLimit: 16 * 1024, trustProxy })) as unknown as FastifyInstance;
  const sessions = new Sessions();
  const throttle = new LoginThrottle({ ...loginLimitsOf(boot), ...deps.loginLimits }, deps.now);
  let cur = live(boot);
  await app.register(fastifyCookie);

  app.addHook('onSend', async (req, reply) => {
    reply.header('Content-Security-Policy', CSP);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    if (req.url.startsWith('/api/') || req.url === '/metrics' || req.url.startsWith('/metrics?')) reply.header('Cache-Control', 'no-store');
  });

  const authenticated = (req: FastifyRequest): boolean => {
    const { config, authRequired } = cur;
    if (!authRequired) return true;
    const auth = req.headers.authorization;
    if (config.token && auth?.startsWith('Bearer ') && sameSecret(auth.slice(7), config.token)) return true;
    return sessions.valid(req.cookies[COOKIE]);
  };
  // DNS rebinding: a name that is not this dashboard's gets nothing, not even the sign-in page
  app.addHook('onRequest', async (req, reply) => {
    if (cur.hosts.allows(req.headers.host)) return;
    return reply
      .code(421)
      .type('text/plain; charset=utf-8')
      .send(`Misdirected request: this dashboard does not answer to the host name '${String(req.headers.host ?? '').slice(0, 100)}'. If it is one of its names, add it to <dashboard><allowed_hosts>.\n`);
  });
  app.addHook('onRequest', async (req, reply) => {
    const open = req.url.startsWith('/api/login') || req.url === '/login.html' || req.url.startsWith('/assets/') || req.url === '/api/session';
    if (open || authenticated(req)) return;
    if (req.url.startsWith('/api/') || req.url === '/metrics') return reply.code(401).send({ error: 'sign in first' });
    return reply.redirect('/login.html');
  });

  const tooMany = (reply: FastifyReply, ms: number, why: string) => {
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    return reply.code(429).header('Retry-After', String(seconds)).send({ error: `${why}: try again in ${seconds} s`, retryAfterSeconds: seconds });
  };
  app.get('/api/session', async (req) => ({ authRequired: cur.authRequired, signedIn: authenticated(req), user: cur.authRequired ? cur.config.user : null }));
  app.post('/api/login', async (req: FastifyRequest<{ Body: { user?: unknown; password?: unknown } }>, reply: FastifyReply) => {
    if (!req.headers['content-type']?.startsWith('application/json')) return reply.code(415).send({ error: 'JSON only' });
    const body = req.body ?? {};
    const user = typeof body.user === 'string' ? body.user : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const address = LoginThrottle.addressKey(req.ip);
    const keys = [address, LoginThrottle.userKey(user)];
    const wait = throttle.retryAfterMs(keys);
    if (wait > 0) return tooMany(reply, wait, 'too many failed sign-ins');
    const at = cur;
    const hash = at.config.passwordHash;
    const known = hash !== undefined && sameSecret(user, at.config.user);
    // an unknown user name costs the same scrypt as a wrong password: the time tells nothing
    const ok = await throttle.gate(async () => verifyPassword(password, known ? hash : await at.dummy));
    if (ok === undefined) return tooMany(reply, 1000, 'too many sign-ins at once');
    if (!ok || !known || cur.config.passwordHash !== hash || cur.config.user !== at.config.user) {
      for (const k of throttle.fail(keys)) logger.warn({ lockedOut: k.key, seconds: Math.ceil(k.ms / 1000) }, 'Dashboard sign-ins locked out after repeated failures.');
      return reply.code(401).send({ error: 'wrong user name or password' });
    }
    throttle.succeed(address);
    reply.setCookie(COOKIE, sessions.create(), { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
    return { ok: true };
  });
  app.post('/api/logout', async (req, reply) => {
    sessions.drop(req.cookies[COOKIE]);
    reply.clearCookie(COOKIE, { path: '/' });
    return { ok: true };
  });

  type Q = FastifyRequest<{ Querystring: Query; Params: Record<string, string> }>;
  app.get('/api/range', async () => q.dataRange(store));
  app.get('/api/overview', async (req: Q) => q.overview(store, readRange(req.query)));
  app.get('/api/vpc', async (req: Q) => q.vpc(store, readRange(req.query)));
  app.get('/api/ip/:ip', async (req: Q) => q.ipPivot(store, req.params.ip ?? '', readRange(req.query)));
  app.get('/api/guardduty', async (req: Q) => q.guardduty(store, readRange(req.query)));
  app.get('/api/cloudtrail', async (req: Q) => q.cloudtrail(store, readRange(req.query)));
  app.get('/api/alerts', async (req: Q) => q.alerts(store, readAlertFilter(req.query)));
  app.get('/api/list/:name', async (req: Q) => list(store, req.params.name ?? '', readRange(req.query), req.query));
  app.get('/api/alerts/:id', async (req: Q, reply) => (await q.alertById(store, req.params.id ?? '')) ?? reply.code(404).send({ error: 'no such alert' }));
  const identify = (req: FastifyRequest): Identity => {
    const { config, authRequired } = cur;
    if (!authRequired) return { via: 'open', user: null };
    const auth = req.headers.authorization;
    if (config.token && auth?.startsWith('Bearer ') && sameSecret(auth.slice(7), config.token)) return { via: 'token', user: config.user };
    return { via: 'session', user: config.user };
  };
  const triage = new TriageLog(deps.triageFile ?? join(dirname(dirname(store.path)), 'dashboard', 'triage.jsonl'), (m) => logger.warn(m));
  await registerAnalystRoutes(app, { store, triage, identify });
  app.get('/metrics', async (_req, reply) => {
    if (!deps.metrics) return reply.code(404).send('no collector in this process\n');
    reply.header('Content-Type', deps.metrics.contentType);
    return deps.metrics.render();
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) deps.logger.error({ err: err.message }, 'Dashboard request failed.');
    reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });

  await app.register(fastifyStatic, { root: WEB, prefix: '/', index: ['index.html'] });
  await app.register(fastifyStatic, { root: ECHARTS, prefix: '/assets/vendor/', decorateReply: false, allowedPath: (p) => p === '/echarts.min.js' });

  async function reconfigure(next: DashboardConfig): Promise<ReconfigureReport> {
    const report: ReconfigureReport = { applied: [], restartNeeded: [], failed: [] };
    if (next.host !== boot.host) report.restartNeeded.push('host');
    if (next.port !== boot.port) report.restartNeeded.push('port');
    if (JSON.stringify(next.trustedProxies ?? []) !== JSON.stringify(boot.trustedProxies ?? [])) report.restartNeeded.push('trusted_proxies');
    const nextTls = Boolean(next.tlsCert && next.tlsKey);
    if (nextTls !== Boolean(tls)) report.restartNeeded.push(nextTls ? 'tls_cert, tls_key (HTTP → HTTPS)' : 'tls_cert, tls_key (HTTPS → HTTP)');
    else if (tls && next.tlsCert && next.tlsKey) {
      // a renewed certificate (same or new files) is taken up by new connections
      try {
        const fresh = { cert: readPem(next.tlsCert, 'tls_cert'), key: readPem(next.tlsKey, 'tls_key') };
        if (!fresh.cert.equals(tls.cert) || !fresh.key.equals(tls.key)) {
          (app.server as unknown as { setSecureContext(o: { cert: Buffer; key: Buffer }): void }).setSecureContext(fresh);
          tls = fresh;
          report.applied.push('tls_cert, tls_key (certificate re-read)');
        }
      } catch (e) {
        report.failed.push(`tls_cert, tls_key: ${(e as Error).message}; the certificate in use stays`);
      }
    }
    const running = cur.config;
    const authTags = [['user', 'user'], ['password_hash', 'passwordHash'], ['token', 'token']] as const;
    const changed = authTags.filter(([, key]) => next[key] !== running[key]).map(([tag]) => tag);
    let auth: Pick<DashboardConfig, 'user' | 'passwordHash' | 'token'> = running;
    if (changed.length && !LOOPBACK.has(boot.host) && !hasAuth(next)) {
      report.failed.push(`password_hash, token: the dashboard listens on ${boot.host}, which needs authentication; the running sign-in settings stay`);
    } else if (changed.length) {
      auth = next;
      report.applied.push(...changed);
    }
    if (JSON.stringify(next.allowedHosts ?? []) !== JSON.stringify(running.allowedHosts ?? [])) report.applied.push('allowed_hosts');
    if (JSON.stringify(loginLimitsOf(next)) !== JSON.stringify(loginLimitsOf(running))) {
      throttle.setLimits({ ...loginLimitsOf(next), ...deps.loginLimits });
      report.applied.push('signin limits');
    }
    // host, port and TLS stay those the server is bound with
    const applied: DashboardConfig = { ...boot, user: auth.user };
    delete applied.passwordHash;
    delete applied.token;
    delete applied.allowedHosts;
    if (auth.passwordHash !== undefined) applied.passwordHash = auth.passwordHash;
    if (auth.token !== undefined) applied.token = auth.token;
    if (next.allowedHosts !== undefined) applied.allowedHosts = next.allowedHosts;
    for (const key of SIGNIN_KEYS) {
      delete applied[key];
      if (next[key] !== undefined) applied[key] = next[key];
    }
    const signOut = applied.passwordHash !== running.passwordHash || applied.user !== running.user;
    cur = live(applied, cur);
    if (signOut) sessions.clear(); // a new password or user name signs everybody out
    return report;
  }

  return { app, reconfigure };
}

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
  reconfigure: Dashboard['reconfigure'];
}

/** Listens on the configured host/port; refuses a non-loopback address without authentication. */
export async function startDashboard(deps: DashboardDeps & { dataDir?: string }): Promise<RunningDashboard> {
  const { host, port, passwordHash, token } = deps.config;
  if (!LOOPBACK.has(host) && !passwordHash && !token) {
    throw new Error(`refusing to serve the dashboard on ${host} without authentication: set <password_hash> or <token> in <dashboard>`);
  }
  const { app, reconfigure } = await buildDashboard(deps);
  try {
    await app.listen({ host, port });
  } catch (e) {
    await app.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${port} on ${host} is already in use: choose another with --port or <dashboard><port>`);
    if (code === 'EADDRNOTAVAIL') throw new Error(`${host} is not an address of this machine: fix <dashboard><host> or --host`);
    throw e;
  }
  const addr = app.server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  const scheme = deps.config.tlsCert ? 'https' : 'http';
  return { url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${actual}/`, close: () => app.close(), reconfigure };
}
