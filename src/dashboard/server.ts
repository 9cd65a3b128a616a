/**
 * The dashboard's HTTP server: static web app, JSON API (docs/api.md), Prometheus metrics. `buildServer`
 * never listens (tests inject requests); `startDashboard` listens and refuses a non-loopback address
 * without a password hash or token.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifyCookie from '@fastify/cookie';
import type { Logger } from 'pino';
import type { DashboardConfig } from '../config/types.js';
import type { Store } from '../store/index.js';
import { Sessions, sameSecret, verifyPassword } from './auth.js';
import * as q from './queries.js';

export interface DashboardDeps {
  store: Store;
  config: DashboardConfig;
  logger: Logger;
  /** Prometheus registry renderer (from the collector), if any */
  metrics?: { render(): Promise<string>; contentType: string };
}

const WEB = fileURLToPath(new URL('./web/', import.meta.url));
const ECHARTS = join(createRequire(import.meta.url).resolve('echarts'), '../../dist/');
const COOKIE = 'tld_session';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

function range(query: Record<string, string | undefined>): q.Range {
  const now = Date.now();
  const to = Number(query.to ?? now);
  const from = Number(query.from ?? to - 7 * 86_400_000);
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) throw Object.assign(new Error('from/to must be epoch milliseconds with from ≤ to'), { statusCode: 400 });
  return { from, to };
}

function readPem(file: string, tag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read <${tag}> ${file}: ${(e as Error).message}`);
  }
}

/** Builds the app (routes, auth, headers) without listening. */
export async function buildServer(deps: DashboardDeps): Promise<FastifyInstance> {
  const { store, config } = deps;
  const app = (config.tlsCert && config.tlsKey
    ? Fastify({ logger: false, bodyLimit: 16 * 1024, https: { cert: readPem(config.tlsCert, 'tls_cert'), key: readPem(config.tlsKey, 'tls_key') } })
    : Fastify({ logger: false, bodyLimit: 16 * 1024 })) as unknown as FastifyInstance;
  const sessions = new Sessions();
  const authRequired = config.passwordHash !== undefined || config.token !== undefined;
  await app.register(fastifyCookie);

  app.addHook('onSend', async (_req, reply) => {
    reply.header('Content-Security-Policy', CSP);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
  });

  const authenticated = (req: FastifyRequest): boolean => {
    if (!authRequired) return true;
    const auth = req.headers.authorization;
    if (config.token && auth?.startsWith('Bearer ') && sameSecret(auth.slice(7), config.token)) return true;
    return sessions.valid(req.cookies[COOKIE]);
  };
  app.addHook('onRequest', async (req, reply) => {
    const open = req.url.startsWith('/api/login') || req.url === '/login.html' || req.url.startsWith('/assets/') || req.url === '/api/session';
    if (open || authenticated(req)) return;
    if (req.url.startsWith('/api/') || req.url === '/metrics') return reply.code(401).send({ error: 'sign in first' });
    return reply.redirect('/login.html');
  });

  app.get('/api/session', async (req) => ({ authRequired, signedIn: authenticated(req), user: authRequired ? config.user : null }));
  app.post('/api/login', async (req: FastifyRequest<{ Body: { user?: unknown; password?: unknown } }>, reply: FastifyReply) => {
    if (!req.headers['content-type']?.startsWith('application/json')) return reply.code(415).send({ error: 'JSON only' });
    const { user, password } = req.body ?? {};
    if (!config.passwordHash || typeof password !== 'string' || user !== config.user || !verifyPassword(password, config.passwordHash)) {
      return reply.code(401).send({ error: 'wrong user name or password' });
    }
    reply.setCookie(COOKIE, sessions.create(), { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
    return { ok: true };
  });
  app.post('/api/logout', async (req, reply) => {
    sessions.drop(req.cookies[COOKIE]);
    reply.clearCookie(COOKIE, { path: '/' });
    return { ok: true };
  });

  type Q = FastifyRequest<{ Querystring: Record<string, string | undefined>; Params: Record<string, string> }>;
  app.get('/api/range', async () => q.dataRange(store));
  app.get('/api/overview', async (req: Q) => q.overview(store, range(req.query)));
  app.get('/api/vpc', async (req: Q) => q.vpc(store, range(req.query)));
  app.get('/api/ip/:ip', async (req: Q) => q.ipPivot(store, req.params.ip ?? '', range(req.query)));
  app.get('/api/guardduty', async (req: Q) => q.guardduty(store, range(req.query)));
  app.get('/api/cloudtrail', async (req: Q) => q.cloudtrail(store, range(req.query)));
  app.get('/api/alerts', async (req: Q) => {
    const f: q.AlertFilter = { ...range(req.query) };
    if (req.query.level) f.level = Number(req.query.level);
    if (req.query.rule) f.rule = req.query.rule;
    if (req.query.ip) f.ip = req.query.ip;
    if (req.query.account) f.account = req.query.account;
    if (req.query.q) f.q = req.query.q;
    if (req.query.limit) f.limit = Number(req.query.limit);
    return q.alerts(store, f);
  });
  app.get('/api/alerts/:id', async (req: Q, reply) => (await q.alertById(store, req.params.id ?? '')) ?? reply.code(404).send({ error: 'no such alert' }));
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
  return app;
}

/** Listens on the configured host/port; refuses a non-loopback address without authentication. */
export async function startDashboard(deps: DashboardDeps & { dataDir?: string }): Promise<{ url: string; close(): Promise<void> }> {
  const { host, port, passwordHash, token } = deps.config;
  if (!LOOPBACK.has(host) && !passwordHash && !token) {
    throw new Error(`refusing to serve the dashboard on ${host} without authentication: set <password_hash> or <token> in <dashboard>`);
  }
  const app = await buildServer(deps);
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
  return { url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${actual}/`, close: () => app.close() };
}
