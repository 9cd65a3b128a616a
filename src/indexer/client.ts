/**
 * The cluster as the indexer store sees it: the only module that imports the OpenSearch client. It builds the
 * client from Wazuh's `<indexer>` block (hosts, CA, client certificate, basic-auth credentials from a file or
 * the environment) and turns its errors into IndexerRequestError (status, retryable, hosts without credentials).
 * The client's own retries are off: the bulk writer retries with backoff, and knows which items to send again.
 */
import { readFile } from 'node:fs/promises';
import { Client, errors } from '@opensearch-project/opensearch';
import type { IndexerConfig } from '../config/types.js';
import type { BulkPort, BulkResponse } from './bulk-writer.js';
import { IndexerConfigError, IndexerRequestError, redactUrl } from './errors.js';

export interface TemplateInfo {
  name: string;
  indexPatterns: string[];
  version?: number;
}

export interface IndexerPort extends BulkPort {
  /** root info (`GET /`): distribution and version */
  info(): Promise<{ distribution: string; number: string }>;
  bulk(body: string): Promise<BulkResponse>;
  /** composable (`_index_template`) and legacy (`_template`) templates */
  templates(): Promise<{ composable: TemplateInfo[]; legacy: TemplateInfo[] }>;
  putIndexTemplate(name: string, body: object): Promise<void>;
  /** any other JSON request (search, count, refresh); resolves to the body */
  request(method: string, path: string, body?: object): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Credentials: `credentials_file` (`username:password`, one line), else `TLD_INDEXER_USERNAME` and
 * `TLD_INDEXER_PASSWORD` from `env`, else none. Never logged, never put in messages.
 */
export async function indexerCredentials(config: IndexerConfig, env: Record<string, string | undefined>): Promise<{ username: string; password: string } | undefined> {
  if (config.credentialsFile !== undefined) {
    let text: string;
    try {
      text = await readFile(config.credentialsFile, 'utf8');
    } catch (e) {
      throw new IndexerConfigError(config.credentialsFile, `cannot read the credentials file (${(e as NodeJS.ErrnoException).code ?? 'error'}); create it with one line username:password, readable only by the collector's user`, { cause: e });
    }
    const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
    const at = line.indexOf(':');
    if (at <= 0) throw new IndexerConfigError(config.credentialsFile, 'the credentials file must hold one line username:password');
    return { username: line.slice(0, at), password: line.slice(at + 1) };
  }
  const username = env.TLD_INDEXER_USERNAME;
  if (username) return { username, password: env.TLD_INDEXER_PASSWORD ?? '' };
  return undefined;
}

async function pem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new IndexerConfigError(file, `cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? 'error'}); fix the path in <indexer><ssl>`, { cause: e });
  }
}

function reasonOf(body: unknown): string {
  const err = (body as { error?: unknown } | undefined)?.error;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object') {
    const e = err as { type?: string; reason?: string };
    return `${e.type ?? 'error'}: ${e.reason ?? ''}`;
  }
  return typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body ?? '').slice(0, 300);
}

/** The client's error as ours; the message never holds credentials (the client's own messages may hold the URL). */
function requestError(what: string, hosts: string, e: unknown): IndexerRequestError {
  if (e instanceof errors.ResponseError) return new IndexerRequestError(what, hosts, e.statusCode ?? e.meta.statusCode ?? 0, reasonOf(e.meta.body), { cause: e });
  if (e instanceof errors.OpenSearchClientError) return new IndexerRequestError(what, hosts, 0, `${e.name} (${e.message.replace(/\/\/[^@/]*@/g, '//')})`);
  return new IndexerRequestError(what, hosts, 0, e instanceof Error ? e.message : String(e));
}

/** Opens a client for the block's hosts. `env`: where TLD_INDEXER_USERNAME/PASSWORD are read. */
export async function openIndexerClient(config: IndexerConfig, env: Record<string, string | undefined>): Promise<IndexerPort> {
  const auth = await indexerCredentials(config, env);
  const ca = await Promise.all(config.ssl.certificateAuthorities.map((f) => pem(f, 'CA certificate')));
  const cert = config.ssl.certificate === undefined ? undefined : await pem(config.ssl.certificate, 'client certificate');
  const key = config.ssl.key === undefined ? undefined : await pem(config.ssl.key, 'client key');
  const hosts = config.hosts.map(redactUrl).join(', ');
  const client = new Client({
    nodes: config.hosts,
    ...(auth ? { auth } : {}),
    ssl: { ...(ca.length ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: true },
    maxRetries: 0,
    requestTimeout: 120_000,
  });
  const call = async (what: string, params: { method: string; path: string; body?: unknown; bulkBody?: string; querystring?: Record<string, string> }, ignore?: number[]) => {
    try {
      const res = await client.transport.request(params as Parameters<typeof client.transport.request>[0], ignore ? { ignore } : {});
      return res as { body: unknown; statusCode: number | null };
    } catch (e) {
      throw requestError(what, hosts, e);
    }
  };
  const list = (body: unknown, key: 'index_templates' | 'legacy'): TemplateInfo[] => {
    if (key === 'index_templates') {
      const arr = (body as { index_templates?: { name: string; index_template: { index_patterns: string[] | string; version?: number } }[] }).index_templates ?? [];
      return arr.map((t) => ({ name: t.name, indexPatterns: [t.index_template.index_patterns].flat(), ...(t.index_template.version === undefined ? {} : { version: t.index_template.version }) }));
    }
    return Object.entries((body ?? {}) as Record<string, { index_patterns?: string[] | string; version?: number }>).map(([name, t]) => ({ name, indexPatterns: [t.index_patterns ?? []].flat(), ...(t.version === undefined ? {} : { version: t.version }) }));
  };
  return {
    hosts,
    async info() {
      const { body } = await call('GET /', { method: 'GET', path: '/' });
      const v = (body as { version?: { distribution?: string; number?: string } }).version ?? {};
      return { distribution: v.distribution ?? 'elasticsearch', number: v.number ?? 'unknown' };
    },
    async bulk(bulkBody) {
      const { body } = await call('a _bulk request', { method: 'POST', path: '/_bulk', bulkBody });
      return body as BulkResponse;
    },
    async templates() {
      const composable = await call('GET _index_template', { method: 'GET', path: '/_index_template' }, [404]);
      const legacy = await call('GET _template', { method: 'GET', path: '/_template' }, [404]);
      return { composable: composable.statusCode === 404 ? [] : list(composable.body, 'index_templates'), legacy: legacy.statusCode === 404 ? [] : list(legacy.body, 'legacy') };
    },
    async putIndexTemplate(name, body) {
      await call(`PUT _index_template/${name}`, { method: 'PUT', path: `/_index_template/${encodeURIComponent(name)}`, body });
    },
    async request(method, path, body) {
      return (await call(`${method} ${path}`, { method, path, ...(body === undefined ? {} : { body }) })).body;
    },
    async close() {
      await client.close();
    },
  };
}
