/**
 * The Wazuh indexer (OpenSearch, or Elasticsearch through the same API subset) as the pipeline's store
 * (`StorePort`), chosen with `<store><backend>indexer</backend></store>`.
 *
 * Exactly once without taking anything back: every document has a deterministic id (documents.ts) and is
 * written with `create` (findings: external versions), so a document sent twice is stored once and its second
 * copy answers 409, counted as already written. Hence `discardObject` only drops what is not sent yet, and a
 * crash between sending and marking the object processed costs a re-send, never a duplicate. `flush` (called in
 * each group commit, before any object of the group is marked processed) resolves only once the cluster
 * accepted every document ingested before it; a refusal rejects it and the pipeline takes the objects back.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Alert, EventBatch, ObjectRef } from '../shared/events.js';
import type { WindowPartial } from '../analysis/window-partials.js';
import type { ObjectHealth, StorePort } from '../pipeline/ports.js';
import type { IndexerConfig } from '../config/types.js';
import { storeRowsOf, type StoreRows } from '../store/store-rows.js';
import { BulkWriter, type BulkCounters, type BulkWriterOptions } from './bulk-writer.js';
import { itemsOf, partialItem, type BulkItem } from './documents.js';
import { openIndexerClient, type IndexerPort } from './client.js';
import { installTemplates, OBJECTS_INDEX, type TemplateReport } from './templates.js';

export interface IndexerStoreOptions {
  logger?: Logger;
  /** where TLD_INDEXER_USERNAME / TLD_INDEXER_PASSWORD are read (the CLI passes process.env) */
  env?: Record<string, string | undefined>;
  /** retry tuning (tests shorten the backoff) */
  retry?: Pick<BulkWriterOptions, 'retries' | 'backoffMs' | 'maxBackoffMs'>;
}

/** The id the pipeline gives an object (ObjectRef.objectId): sha1 of `bucket/key`, 16 hex digits. */
function objectIdOf(bucket: string, key: string): string {
  return createHash('sha1').update(`${bucket}/${key}`).digest('hex').slice(0, 16);
}

/** this process, in the partials it writes */
const WRITER = `${hostname()}/${process.pid}`;

export class IndexerStore implements StorePort {
  /** for the pipeline's error messages: which cluster */
  readonly path: string;
  readonly port: IndexerPort;
  readonly templates: TemplateReport;
  readonly #writer: BulkWriter;
  /** objects with documents not yet accepted: id → bucket/key (messages name the object) */
  readonly #objects = new Map<string, string>();

  private constructor(port: IndexerPort, config: IndexerConfig, templates: TemplateReport, opts: IndexerStoreOptions) {
    this.port = port;
    this.path = `the indexer (${port.hosts})`;
    this.templates = templates;
    this.#writer = new BulkWriter(port, { maxBytes: config.bulkMaxBytes, ...opts.retry, describeObject: (id) => this.#objects.get(id) ?? id });
  }

  /** Connects, checks the cluster answers, installs the templates (see templates.ts). */
  static async open(config: IndexerConfig, opts: IndexerStoreOptions = {}): Promise<IndexerStore> {
    const port = await openIndexerClient(config, opts.env ?? {});
    try {
      const info = await port.info();
      const templates = await installTemplates(port);
      opts.logger?.info({ hosts: port.hosts, distribution: info.distribution, version: info.number, installed: templates.installed, alertsTemplate: templates.alertsTemplate ?? 'tld-wazuh-alerts' }, 'Writing flows, alerts and findings to the indexer.');
      return new IndexerStore(port, config, templates, opts);
    } catch (e) {
      await port.close();
      throw e;
    }
  }

  get counters(): Readonly<BulkCounters> {
    return this.#writer.counters;
  }

  ingest(batch: EventBatch, alerts: Alert[]): Promise<void> {
    return this.ingestRows(storeRowsOf(batch, alerts));
  }

  async ingestRows(rows: StoreRows): Promise<void> {
    const { object } = rows;
    if (!this.#objects.has(object.objectId)) this.#objects.set(object.objectId, `s3://${object.bucket}/${object.key}`);
    this.#writer.add(itemsOf(rows));
    await this.#writer.backpressure();
  }

  /**
   * An object's frequency-window partials (read whole): written with its other documents, so they are durable
   * when its commit is, before its message is deleted. `ingested` is this machine's clock (see window-correlator.ts).
   */
  ingestPartials(object: ObjectRef, partials: WindowPartial[]): void {
    if (!this.#objects.has(object.objectId)) this.#objects.set(object.objectId, `s3://${object.bucket}/${object.key}`);
    const now = Date.now();
    this.#writer.add(partials.map((p) => partialItem(object, p, now, WRITER)), false);
  }

  async discardObject(object: { objectId: string; bucket: string; key: string }): Promise<void> {
    this.#writer.drop(object.objectId);
  }

  /** Ingestion health, one document per object (the last outcome wins: `index`, not `create`). */
  recordObject(info: ObjectHealth): void {
    const objectId = objectIdOf(info.bucket, info.key);
    const doc = {
      '@timestamp': info.processedAt.getTime(), bucket: info.bucket, key: info.key, type: info.type, status: info.status,
      ...(info.error === undefined ? {} : { error: info.error }), records: info.records, bytes: info.bytes,
      ...(info.lastModified === undefined ? {} : { last_modified: info.lastModified.getTime() }),
    };
    const item: BulkItem = { index: OBJECTS_INDEX, id: objectId, op: 'index', source: JSON.stringify(doc), objectId };
    this.#writer.add([item], false);
  }

  async flush(): Promise<void> {
    await this.#writer.flush();
    this.#objects.clear();
  }

  async close(): Promise<void> {
    await this.port.close();
  }
}
