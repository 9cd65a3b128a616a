/**
 * TEST DOUBLE of an OpenSearch / Elasticsearch / Wazuh indexer node — not a real server. No such server can be
 * installed on these machines (docs: ../shared/reference/toolchain-notes.md), so tests of the indexer store talk
 * to this: a real HTTP server on a loopback port that speaks the subset of the REST API we use, with the
 * server's observable behaviour where our code depends on it:
 *
 * - `POST /_bulk` (NDJSON): `create` (409 version_conflict_engine_exception when the id exists), `index` (with
 *   `version_type: external`: 409 unless the version is greater), one result per item in order, `errors` set;
 *   an index is created on first write from the matching templates (composable by priority, else legacy by
 *   order), and every document is checked against its mapping as the server would: `ip`, `date`, integer and
 *   floating types, `boolean`, `geo_point`, `keyword`/`text` given an object; unmapped fields are refused under
 *   `dynamic: strict`, else mapped dynamically (strings through `dynamic_templates` match_mapping_type, else
 *   keyword/text) and kept, so a later conflicting type is refused (400 mapper_parsing_exception).
 * - load shedding on demand: `shedRequests(n, status)` answers the next n requests to `_bulk` as a whole with
 *   429 (or 5xx); `failItems(n, status, type)` answers the next n documents with a per-item error.
 * - `_index_template`, `_template` (PUT/GET), index create/exists (`PUT /i`, `HEAD /i`), `_refresh`,
 *   `_search` / `_count` (match_all, term, terms, range on numbers/dates, bool filter/must; size; `sort` on
 *   fields holding numbers or strings, asc/desc, with `search_after`; `_source` as a list of top-level fields),
 *   objects mapped `enabled: false`,
 *   `_cluster/health`, root info; OpenSearch Dashboards' `POST /api/saved_objects/_import` (multipart, needs
 *   `osd-xsrf`).
 * - optional basic auth (401 without it), optional HTTPS with a client certificate required (`tls`).
 *
 * What it does not do (so what was not tested against it): shards, replicas, refresh delays (documents are
 * searchable at once), scripts, aggregations, ingest pipelines, Elasticsearch's product header check.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';

type Json = Record<string, unknown>;
interface StoredDoc {
  source: Json;
  version: number;
}
interface Index {
  docs: Map<string, StoredDoc>;
  /** full dotted path → type */
  fields: Map<string, string>;
  strict: boolean;
  stringMapping: string | undefined;
}
export interface DoubleOptions {
  auth?: { username: string; password: string };
  /** HTTPS with this key and certificate (PEM); with `ca`, a client certificate signed by it is required */
  tls?: { key: Buffer; cert: Buffer; ca?: Buffer };
}
export interface ItemCall {
  action: string;
  index: string;
  id: string;
  status: number;
}

function flattenMapping(props: Json, prefix: string, out: Map<string, string>): void {
  for (const [name, def] of Object.entries(props)) {
    const d = def as Json;
    const path = prefix + name;
    // `enabled: false`: kept in _source, neither parsed nor indexed (any value fits)
    if (d.enabled === false) out.set(path, DISABLED);
    else if (d.properties) flattenMapping(d.properties as Json, `${path}.`, out);
    else if (typeof d.type === 'string' && d.type !== 'object' && d.type !== 'nested') out.set(path, d.type);
  }
}

const DISABLED = '(enabled: false)';
const INTEGER = new Set(['long', 'integer', 'short', 'byte']);
const FLOAT = new Set(['float', 'double', 'half_float', 'scaled_float']);

/** Why `value` does not fit `type` (undefined: it fits). */
function misfit(type: string, value: unknown): string | undefined {
  if (value === null || type === DISABLED) return undefined;
  if (Array.isArray(value)) return value.map((v) => misfit(type, v)).find(Boolean);
  if (type === 'geo_point') {
    // {lat, lon} as numbers or numeric strings: the servers coerce strings here as for numeric fields (Wazuh's
    // JSON decoder gives every value as a string, and its template maps GuardDuty's geoLocation as geo_point)
    const v = value as Json;
    const coord = (x: unknown, max: number) => (typeof x === 'number' || (typeof x === 'string' && x.trim() !== '')) && Math.abs(Number(x)) <= max;
    return typeof value === 'object' && coord(v.lat, 90) && coord(v.lon, 180) ? undefined : 'failed to parse field of type [geo_point]';
  }
  if (typeof value === 'object') return `tried to parse field as [${type}] but found an object`;
  if (type === 'ip') return typeof value === 'string' && isIP(value) ? undefined : `'${String(value)}' is not an IP string literal.`;
  if (type === 'date') return typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(Date.parse(value))) ? undefined : `failed to parse date field [${String(value)}]`;
  if (INTEGER.has(type)) return Number.isInteger(typeof value === 'string' ? Number(value) : value) && value !== '' ? undefined : `For input string: "${String(value)}"`;
  if (FLOAT.has(type)) return Number.isFinite(typeof value === 'string' ? Number(value) : value) && value !== '' ? undefined : `For input string: "${String(value)}"`;
  if (type === 'boolean') return typeof value === 'boolean' || value === 'true' || value === 'false' ? undefined : `Failed to parse value [${String(value)}] as only [true] or [false] are allowed.`;
  return undefined;
}

/** Leaves of a document: dotted path → value (arrays of scalars stay arrays; arrays of objects are walked). */
function leaves(doc: unknown, prefix: string, out: [string, unknown][]): void {
  if (Array.isArray(doc) && doc.some((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
    for (const v of doc) leaves(v, prefix, out);
    return;
  }
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && prefix !== '') {
    out.push([prefix.slice(0, -1), doc]);
  }
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    for (const [k, v] of Object.entries(doc as Json)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) leaves(v, `${prefix}${k}.`, out);
      else if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) leaves(v, `${prefix}${k}.`, out);
      else out.push([prefix + k, v]);
    }
  }
}

/** `_source` filtering by a list of top-level fields (other forms: the whole source). */
function pick(source: Json, fields: unknown): Json {
  if (!Array.isArray(fields)) return source;
  return Object.fromEntries(fields.filter((f): f is string => typeof f === 'string' && f in source).map((f) => [f, source[f]]));
}

/** A search's `sort` as [field, order] pairs: `["f"]`, `[{"f": "desc"}]`, `[{"f": {"order": "asc"}}]`. */
function sortOf(sort: unknown): [string, 'asc' | 'desc'][] {
  if (sort === undefined) return [];
  return [sort].flat().map((s) => {
    if (typeof s === 'string') return [s, 'asc'];
    const [field, o] = Object.entries(s as Json)[0]!;
    const order = typeof o === 'string' ? o : String((o as Json).order ?? 'asc');
    return [field, order === 'desc' ? 'desc' : 'asc'];
  });
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export class IndexerDouble {
  readonly indices = new Map<string, Index>();
  readonly composable = new Map<string, Json>();
  readonly legacy = new Map<string, Json>();
  readonly savedObjects = new Map<string, Json>();
  /** every bulk item answered, in order */
  readonly items: ItemCall[] = [];
  readonly bulkBodies: number[] = [];
  requests = 0;
  /** `_bulk` requests being answered now, and the most at once */
  bulkInFlight = 0;
  maxBulkInFlight = 0;
  /** answer each `_bulk` after this many ms (a busy cluster) */
  bulkDelayMs = 0;
  #shed: { n: number; status: number } = { n: 0, status: 429 };
  #failItems: { n: number; status: number; type: string } = { n: 0, status: 400, type: 'mapper_parsing_exception' };
  #server;
  url = '';
  /** subject CN of the client certificate of the last request (HTTPS with `tls.ca`) */
  clientCertificate: string | undefined;

  constructor(readonly opts: DoubleOptions = {}) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const socket = req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } };
      this.clientCertificate = socket.getPeerCertificate?.()?.subject?.CN;
      // a request its client cut off (a collector killed mid-bulk) is dropped, as a real server drops it
      this.#handle(req, res).catch(() => res.destroy());
    };
    const tls = opts.tls;
    this.#server = tls ? createTlsServer({ key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handler) : createServer(handler);
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  /** The next `n` `_bulk` requests are answered as a whole with `status` (429: overloaded; 5xx: failing node). */
  shedRequests(n: number, status = 429): void {
    this.#shed = { n, status };
  }

  /** The next `n` documents get a per-item error (`status` 400/`type` mapper_parsing_exception by default). */
  failItems(n: number, status = 400, type = 'mapper_parsing_exception'): void {
    this.#failItems = { n, status, type };
  }

  /** Documents of the indices matching `pattern` (comma-separated, wildcards). */
  docs(pattern: string): { index: string; id: string; source: Json; version: number }[] {
    const res = pattern.split(',').map(wildcard);
    const out: { index: string; id: string; source: Json; version: number }[] = [];
    for (const [name, idx] of this.indices) {
      if (!res.some((r) => r.test(name))) continue;
      for (const [id, d] of idx.docs) out.push({ index: name, id, source: d.source, version: d.version });
    }
    return out;
  }

  /** The mapping the index got (dotted path → type), as `GET /i/_mapping` would show it flattened. */
  fieldsOf(index: string): Map<string, string> | undefined {
    return this.indices.get(index)?.fields;
  }

  #createIndex(name: string): Index {
    const composable = [...this.composable.values()].filter((t) => [t.index_patterns].flat().some((p) => wildcard(String(p)).test(name)));
    composable.sort((a, b) => Number(b.priority ?? 0) - Number(a.priority ?? 0));
    const mappings: Json[] = [];
    if (composable[0]) mappings.push(((composable[0].template as Json | undefined)?.mappings ?? {}) as Json);
    else {
      const legacy = [...this.legacy.values()].filter((t) => [t.index_patterns].flat().some((p) => wildcard(String(p)).test(name)));
      legacy.sort((a, b) => Number(a.order ?? 0) - Number(b.order ?? 0));
      for (const t of legacy) mappings.push((t.mappings ?? {}) as Json);
    }
    const idx: Index = { docs: new Map(), fields: new Map(), strict: false, stringMapping: undefined };
    for (const m of mappings) {
      flattenMapping((m.properties ?? {}) as Json, '', idx.fields);
      if (m.dynamic === 'strict') idx.strict = true;
      for (const dt of (m.dynamic_templates ?? []) as Json[]) {
        const t = Object.values(dt)[0] as Json;
        if (t.match_mapping_type === 'string') idx.stringMapping = String((t.mapping as Json).type);
      }
    }
    this.indices.set(name, idx);
    return idx;
  }

  /** The mapping problem of a document, or undefined; dynamic fields are added to the index's mapping. */
  #check(idx: Index, source: Json): { type: string; reason: string } | undefined {
    const found: [string, unknown][] = [];
    leaves(source, '', found);
    const added = new Map<string, string>();
    // a field mapped as a whole object (geo_point {lat, lon}): its inner keys are its value, not fields
    const whole: string[] = [];
    for (const [path, value] of found) {
      if (whole.some((w) => path.startsWith(`${w}.`))) continue;
      const type = idx.fields.get(path) ?? added.get(path);
      if (type && value !== null && typeof value === 'object' && !Array.isArray(value)) whole.push(path);
      if (type) {
        const why = misfit(type, value);
        if (why) return { type: 'mapper_parsing_exception', reason: `failed to parse field [${path}] of type [${type}] in document. Preview of field's value: '${JSON.stringify(value)}'. ${why}` };
        continue;
      }
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) continue; // an object: its leaves decide
      if ([...idx.fields.keys()].some((f) => f.startsWith(`${path}.`))) return { type: 'mapper_parsing_exception', reason: `object mapping for [${path}] tried to parse field [${path}] as object, but found a concrete value` };
      if (idx.strict) return { type: 'strict_dynamic_mapping_exception', reason: `mapping set to strict, dynamic introduction of [${path}] is not allowed` };
      const sample = Array.isArray(value) ? value.find((v) => v !== null) : value;
      if (sample === undefined || sample === null) continue;
      added.set(path, typeof sample === 'string' ? idx.stringMapping ?? 'keyword' : typeof sample === 'boolean' ? 'boolean' : Number.isInteger(sample) ? 'long' : 'float');
    }
    for (const [k, v] of added) idx.fields.set(k, v);
    return undefined;
  }

  #bulk(body: string): Json {
    const lines = body.split('\n').filter((l) => l.trim() !== '');
    const items: Json[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const meta = JSON.parse(lines[i]!) as Json;
      const action = Object.keys(meta)[0]!;
      const m = meta[action] as Json;
      const index = String(m._index);
      const id = String(m._id);
      const source = JSON.parse(lines[i + 1] ?? 'null') as Json;
      const answer = (status: number, error?: { type: string; reason: string }, result?: string, version?: number): void => {
        this.items.push({ action, index, id, status });
        items.push({ [action]: { _index: index, _id: id, status, ...(error ? { error: { ...error, index } } : { result, _version: version }) } });
      };
      if (this.#failItems.n > 0) {
        this.#failItems.n -= 1;
        answer(this.#failItems.status, { type: this.#failItems.type, reason: 'failure asked for by the test' });
        continue;
      }
      const idx = this.indices.get(index) ?? this.#createIndex(index);
      const existing = idx.docs.get(id);
      const external = m.version_type === 'external';
      if (action === 'create' && existing) {
        answer(409, { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [${existing.version}])` });
        continue;
      }
      if (external && existing && existing.version >= Number(m.version)) {
        answer(409, { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, current version [${existing.version}] is higher or equal to the one provided [${String(m.version)}]` });
        continue;
      }
      const problem = this.#check(idx, source);
      if (problem) {
        answer(400, problem);
        continue;
      }
      const version = external ? Number(m.version) : (existing?.version ?? 0) + 1;
      idx.docs.set(id, { source, version });
      answer(existing ? 200 : 201, undefined, existing ? 'updated' : 'created', version);
    }
    return { took: 1, errors: items.some((it) => Number((Object.values(it)[0] as Json).status) >= 300), items };
  }

  #matches(doc: Json, query: Json | undefined): boolean {
    if (!query || query.match_all) return true;
    const get = (path: string): unknown => {
      const direct = path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), doc);
      return direct;
    };
    if (query.term) {
      const [path, v] = Object.entries(query.term as Json)[0]!;
      const want = v !== null && typeof v === 'object' ? (v as Json).value : v;
      return [get(path)].flat().includes(want);
    }
    if (query.terms) {
      const [path, v] = Object.entries(query.terms as Json)[0]!;
      return [get(path)].flat().some((x) => (v as unknown[]).includes(x));
    }
    if (query.range) {
      const [path, r] = Object.entries(query.range as Json)[0]!;
      const x = get(path);
      const n = typeof x === 'number' ? x : Date.parse(String(x));
      const bound = (b: unknown): number => (typeof b === 'number' ? b : Date.parse(String(b)));
      const rr = r as Json;
      return (rr.gte === undefined || n >= bound(rr.gte)) && (rr.lte === undefined || n <= bound(rr.lte)) && (rr.gt === undefined || n > bound(rr.gt)) && (rr.lt === undefined || n < bound(rr.lt));
    }
    if (query.bool) {
      const must = ((query.bool as Json).filter ?? (query.bool as Json).must ?? []) as Json[];
      return [must].flat().every((q) => this.#matches(doc, q));
    }
    throw new Error(`the indexer double does not support this query: ${JSON.stringify(query)}`);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests += 1;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const send = (status: number, body?: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (status: number, type: string, reason: string): void => send(status, { error: { root_cause: [{ type, reason }], type, reason }, status });
    if (this.opts.auth) {
      const expected = `Basic ${Buffer.from(`${this.opts.auth.username}:${this.opts.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return error(401, 'security_exception', 'missing authentication credentials for REST request');
    }
    const method = req.method ?? 'GET';
    const body = (): Json => (raw.trim() === '' ? {} : (JSON.parse(raw) as Json));
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (path === '/' && method === 'GET') return send(200, { name: 'indexer-double', cluster_name: 'double', version: { distribution: 'opensearch', number: '2.19.0' }, tagline: 'The OpenSearch Project: https://opensearch.org/' });
    if (path === '/' && method === 'HEAD') return send(200);
    if (path === '/_cluster/health') return send(200, { cluster_name: 'double', status: 'green', number_of_nodes: 1 });
    if (path === '/_bulk' && (method === 'POST' || method === 'PUT')) {
      this.bulkBodies.push(Buffer.byteLength(raw));
      this.bulkInFlight += 1;
      this.maxBulkInFlight = Math.max(this.maxBulkInFlight, this.bulkInFlight);
      if (this.bulkDelayMs > 0) await new Promise((r) => setTimeout(r, this.bulkDelayMs));
      this.bulkInFlight -= 1;
      if (this.#shed.n > 0) {
        this.#shed.n -= 1;
        return this.#shed.status === 429 ? error(429, 'rejected_execution_exception', 'rejected execution of coordinating operation') : error(this.#shed.status, 'node_not_connected_exception', 'the node answering is failing (asked for by the test)');
      }
      return send(200, this.#bulk(raw));
    }
    if (parts[0] === '_index_template' || parts[0] === '_template') {
      const store = parts[0] === '_index_template' ? this.composable : this.legacy;
      if (method === 'PUT' || method === 'POST') {
        store.set(parts[1]!, body());
        return send(200, { acknowledged: true });
      }
      const names = parts[1] ? parts[1].split(',') : [...store.keys()];
      const found = names.filter((n) => store.has(n));
      if (parts[1] && found.length === 0) return error(404, 'resource_not_found_exception', `index template matching [${parts[1]}] not found`);
      if (parts[0] === '_index_template') return send(200, { index_templates: found.map((n) => ({ name: n, index_template: store.get(n) })) });
      return send(200, Object.fromEntries(found.map((n) => [n, store.get(n)])));
    }
    if (path === '/api/saved_objects/_import' && method === 'POST') {
      if (!req.headers['osd-xsrf'] && !req.headers['kbn-xsrf']) return send(400, { statusCode: 400, error: 'Bad Request', message: 'Request must contain a osd-xsrf header.' });
      const ndjson = raw.split(/\r?\n/).filter((l) => l.startsWith('{'));
      for (const l of ndjson) {
        const o = JSON.parse(l) as Json;
        this.savedObjects.set(`${String(o.type)}:${String(o.id)}`, o);
      }
      return send(200, { success: true, successCount: ndjson.length });
    }
    const last = parts[parts.length - 1];
    if (last === '_refresh') return send(200, { _shards: { total: 1, successful: 1, failed: 0 } });
    if (last === '_search' || last === '_count') {
      const pattern = parts.length > 1 ? parts[0]! : '*';
      const q = body();
      const hits = this.docs(pattern).filter((d) => this.#matches(d.source, q.query as Json | undefined));
      if (last === '_count') return send(200, { count: hits.length });
      const size = Number(q.size ?? url.searchParams.get('size') ?? 10);
      const sort = sortOf(q.sort);
      let sorted = hits;
      if (sort.length) {
        const values = (h: (typeof hits)[number]) => sort.map(([path]) => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), h.source) as number | string);
        const cmp = (a: (number | string)[], b: (number | string)[]) => {
          for (let i = 0; i < sort.length; i++) {
            const x = a[i]!;
            const y = b[i]!;
            if (x !== y) return (x < y ? -1 : 1) * (sort[i]![1] === 'desc' ? -1 : 1);
          }
          return 0;
        };
        sorted = [...hits].sort((a, b) => cmp(values(a), values(b)));
        const after = q.search_after as (number | string)[] | undefined;
        if (after) sorted = sorted.filter((h) => cmp(values(h), after) > 0);
        return send(200, { hits: { total: { value: hits.length, relation: 'eq' }, hits: sorted.slice(0, size).map((h) => ({ _index: h.index, _id: h.id, _version: h.version, _source: pick(h.source, q._source), sort: values(h) })) } });
      }
      return send(200, { hits: { total: { value: hits.length, relation: 'eq' }, hits: hits.slice(0, size).map((h) => ({ _index: h.index, _id: h.id, _version: h.version, _source: pick(h.source, q._source) })) } });
    }
    if (parts.length === 1 && !parts[0]!.startsWith('_')) {
      const name = parts[0]!;
      if (method === 'HEAD') return send(this.indices.has(name) ? 200 : 404);
      if (method === 'PUT') {
        if (this.indices.has(name)) return error(400, 'resource_already_exists_exception', `index [${name}] already exists`);
        this.#createIndex(name);
        return send(200, { acknowledged: true, index: name });
      }
    }
    return error(400, 'illegal_argument_exception', `the indexer double does not implement ${method} ${path}`);
  }
}

/** Starts a double on a loopback port. */
export async function startIndexerDouble(opts: DoubleOptions = {}): Promise<IndexerDouble> {
  return new IndexerDouble(opts).start();
}
