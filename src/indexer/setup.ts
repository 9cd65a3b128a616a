/**
 * `tld indexer setup`: installs the index templates (templates.ts) and imports the saved objects
 * (saved-objects.ts) into OpenSearch Dashboards or Kibana through their saved-objects import API
 * (`POST /api/saved_objects/_import?overwrite=true`, multipart, with the `osd-xsrf` / `kbn-xsrf` header), with the
 * indexer's credentials. Running it again is harmless: templates are kept when current, objects overwritten.
 */
import type { IndexerConfig } from '../config/types.js';
import { indexerCredentials, openIndexerClient } from './client.js';
import { IndexerRequestError, redactUrl } from './errors.js';
import { savedObjectsNdjson } from './saved-objects.js';
import { installTemplates, type TemplateReport } from './templates.js';

export interface SetupReport {
  cluster: { distribution: string; number: string };
  templates: TemplateReport;
  /** objects imported, when a dashboards URL was given */
  imported?: number;
}

/** Imports the NDJSON; throws an IndexerRequestError naming the URL and the answer. */
export async function importSavedObjects(dashboardsUrl: string, auth: { username: string; password: string } | undefined): Promise<number> {
  const form = new FormData();
  form.append('file', new Blob([savedObjectsNdjson()], { type: 'application/ndjson' }), 'threatlockdown.ndjson');
  const url = `${dashboardsUrl.replace(/\/+$/, '')}/api/saved_objects/_import?overwrite=true`;
  const headers: Record<string, string> = { 'osd-xsrf': 'true', 'kbn-xsrf': 'true' };
  if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body: form, headers });
  } catch (e) {
    throw new IndexerRequestError('the saved objects import', redactUrl(dashboardsUrl), 0, (e as Error).message);
  }
  const body = (await res.json().catch(() => ({}))) as { success?: boolean; successCount?: number; errors?: unknown[]; message?: string };
  if (!res.ok || body.success === false) {
    throw new IndexerRequestError('the saved objects import', redactUrl(dashboardsUrl), res.status, body.message ?? JSON.stringify(body.errors ?? body).slice(0, 500));
  }
  return body.successCount ?? 0;
}

export async function setupIndexer(config: IndexerConfig, opts: { env: Record<string, string | undefined>; dashboardsUrl?: string }): Promise<SetupReport> {
  const port = await openIndexerClient(config, opts.env);
  try {
    const cluster = await port.info();
    const templates = await installTemplates(port);
    const report: SetupReport = { cluster, templates };
    if (opts.dashboardsUrl !== undefined) report.imported = await importSavedObjects(opts.dashboardsUrl, await indexerCredentials(config, opts.env));
    return report;
  } finally {
    await port.close();
  }
}
