/**
 * The indexer store as the pipeline opens it (`<store><backend>indexer</backend></store>`), and what
 * `tld indexer setup` uses. See README.md (the indexer section) and the modules' comments.
 */
import type { Logger } from 'pino';
import type { TldConfig } from '../config/types.js';
import { IndexerStore } from './indexer-store.js';

export { IndexerStore } from './indexer-store.js';
export { installTemplates, templates } from './templates.js';
export { openIndexerClient, type IndexerPort } from './client.js';

/**
 * Opens the indexer of the configuration's `<indexer>` block as the pipeline's store. Credentials come from
 * `credentials_file`, else from TLD_INDEXER_USERNAME / TLD_INDEXER_PASSWORD in the process environment (read
 * here, as src/sources/s3/client.ts reads AWS_PROFILE: the pipeline takes no environment parameter).
 */
export async function openIndexerStore(config: TldConfig, logger: Logger): Promise<IndexerStore> {
  if (!config.indexer?.enabled) throw new Error('<store><backend>indexer</backend> needs an enabled <indexer> block (the loader checks this)');
  return IndexerStore.open(config.indexer, { logger, env: process.env });
}
