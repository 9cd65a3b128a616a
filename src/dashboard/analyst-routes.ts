/**
 * The analyst's routes (issue 15, items 6, 7, 8, 10, 11): entity pages, the alert view, triage (queue, counts,
 * state with its audit trail, changes), attacker locations, and the two map assets served from node_modules.
 *
 * Triage changes are the dashboard's only writes. They are POSTs of JSON (a cross-site form cannot send JSON
 * without a CORS preflight this server never answers), refused when the browser says the request is cross-site
 * (Sec-Fetch-Site) or the Origin is not this dashboard; with a sign-in session an Origin is required (browsers
 * send one on every POST). The actor is the signed-in user when the dashboard has sign-in; without it, the name
 * the analyst gave (or "anonymous").
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../store/index.js';
import { readRange, type Query } from './params.js';
import { TriageLog, TriageWriteError, type TriageKind } from './triage-log.js';
import { readId, readKind, readQueueFilter, readTriageUpdate } from './triage-params.js';
import { exists, triageCounts, triageQueue } from './triage.js';
import { entityPage, readEntity } from './entity-queries.js';
import { alertView } from './alert-view.js';
import { attackLocations } from './attack-map.js';

/** How a request was let in (server.ts decides). */
export interface Identity {
  via: 'session' | 'token' | 'open';
  /** the signed-in user (session or token); null when the dashboard has no sign-in */
  user: string | null;
}

export interface AnalystDeps {
  store: Store;
  triage: TriageLog;
  identify(req: FastifyRequest): Identity;
}

const require = createRequire(import.meta.url);
const MAP_ASSETS: Record<string, { file: string; type: string }> = {
  '/assets/vendor/topojson-client.min.js': { file: join(require.resolve('topojson-client'), '../../dist/topojson-client.min.js'), type: 'text/javascript; charset=utf-8' },
  '/assets/vendor/countries-110m.json': { file: require.resolve('world-atlas/countries-110m.json'), type: 'application/json; charset=utf-8' },
};

/** Why a triage POST is refused as a possible cross-site request, or undefined when it is fine. */
export function crossSiteReason(req: FastifyRequest, via: Identity['via']): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `the browser marked this request ${String(site)}`;
  const origin = req.headers.origin;
  if (origin === undefined) return via === 'session' ? 'a signed-in browser request must carry an Origin header' : undefined;
  let same = false;
  try {
    const o = new URL(origin);
    // the Host header normalised as the Origin is (a default port is left out of both)
    same = o.host === new URL(`${o.protocol}//${req.headers.host ?? ''}`).host;
  } catch {
    return 'unreadable Origin or Host header';
  }
  return same ? undefined : `Origin ${origin.slice(0, 100)} is not this dashboard`;
}

export async function registerAnalystRoutes(app: FastifyInstance, deps: AnalystDeps): Promise<void> {
  const { store, triage } = deps;
  type Q = FastifyRequest<{ Querystring: Query; Params: Record<string, string> }>;

  for (const [url, asset] of Object.entries(MAP_ASSETS)) {
    const body = readFileSync(asset.file);
    app.get(url, async (_req, reply) => reply.type(asset.type).header('Cache-Control', 'max-age=86400').send(body));
  }

  app.get('/api/entity/:kind/:value', async (req: Q) => {
    const { kind, value } = readEntity(req.params.kind, req.params.value);
    return entityPage(store, kind, value, readRange(req.query));
  });

  app.get('/api/alert-view/:id', async (req: Q, reply) => {
    const view = await alertView(store, readId(req.params.id));
    if (!view) return reply.code(404).send({ error: 'no such alert' });
    // a GuardDuty alert is triaged as its finding (one finding, however many updates raised alerts)
    const target: [TriageKind, string] = view.facts.findingId && view.finding ? ['finding', view.facts.findingId] : ['alert', view.id];
    return { ...view, triage: triage.get(...target) };
  });

  app.get('/api/attack-map', async (req: Q) => attackLocations(store, readRange(req.query)));

  app.get('/api/triage', async (req: Q) => triageQueue(store, triage, readRange(req.query), readQueueFilter(req.query)));
  app.get('/api/triage/counts', async (req: Q) => triageCounts(store, triage, readRange(req.query)));
  app.get('/api/triage/:kind/:id', async (req: Q) => triage.get(readKind(req.params.kind), readId(req.params.id)));

  app.post('/api/triage/:kind/:id', async (req: FastifyRequest<{ Params: Record<string, string>; Body: unknown }>, reply: FastifyReply) => {
    if (!req.headers['content-type']?.startsWith('application/json')) return reply.code(415).send({ error: 'send the change as JSON (Content-Type: application/json)' });
    const who = deps.identify(req);
    const refused = crossSiteReason(req, who.via);
    if (refused) return reply.code(403).send({ error: `refused as a possible cross-site request: ${refused}` });
    const kind = readKind(req.params.kind);
    const id = readId(req.params.id);
    const update = readTriageUpdate(req.body);
    if (!(await exists(store, kind, id))) return reply.code(404).send({ error: `no ${kind} with id ${id.slice(0, 100)} in the store` });
    const actor = who.user ?? update.actor ?? 'anonymous';
    const { actor: _given, ...fields } = update;
    try {
      return triage.append({ at: new Date().toISOString(), actor, kind, id, ...fields });
    } catch (e) {
      if (e instanceof TriageWriteError) return reply.code(503).send({ error: e.message });
      throw e;
    }
  });
}
