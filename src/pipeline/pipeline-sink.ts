/**
 * The sink the collector writes into: every batch goes through the rules, alerts are appended to
 * alerts.json, events to archives.json (when `logall_json` is on), and batch + alerts to the store.
 * `objectDone` resolves once all of it is durable, with the output file sizes after the object, which the
 * collector stores with the object's "processed" mark; on start-up `recoverOutputs` cuts the files back to
 * the last committed sizes, so an object interrupted by a crash is re-read without leaving a partial copy.
 *
 * Commits are grouped: finished objects wait up to `groupMs` (or until `groupObjects` objects or
 * `groupRecords` records are pending) and share one fsync of each file and one store transaction, so
 * thousands of small objects do not cost thousands of fsyncs. The collector goes on reading meanwhile and
 * marks each object processed only when its group is durable.
 */
import { hostname } from 'node:os';
import type { Alert, AwsEvent, EventBatch, ObjectRef } from '../shared/events.js';
import type { EventSink, ObjectOutcome, OutputCheckpoint } from '../shared/sink.js';
import type { AnalyzerPort, AppendFilePort, StorePort } from './ports.js';

export interface PipelineCounters {
  objects: number;
  records: number;
  alerts: number;
  errors: number;
}

export interface PipelineSinkDeps {
  analyzer: AnalyzerPort;
  alertsFile: AppendFilePort;
  /** present only when `logall_json` is on */
  archivesFile?: AppendFilePort;
  store?: StorePort;
  now?: () => Date;
  /** `manager.name` / `agent.name` of archive entries (default: the host name) */
  managerName?: string;
  /** ids of alerts already in alerts.json (replay): those are not written again */
  knownAlertIds?: Set<string>;
  /** group commit: longest wait of a finished object (ms, default 50), objects and records per group */
  groupMs?: number;
  groupObjects?: number;
  groupRecords?: number;
}

interface Waiting {
  checkpoint: OutputCheckpoint;
  resolve(c: OutputCheckpoint): void;
  reject(e: unknown): void;
}

/** Wazuh's archives.json entry for a JSON event (without `full_log`, which would double the size). */
export function archiveEntry(event: AwsEvent, id: string, timestamp: string, manager: string): Record<string, unknown> {
  return { timestamp, agent: { id: '000', name: manager }, manager: { name: manager }, id, decoder: { name: 'json' }, data: event, location: 'Wazuh-AWS' };
}

export class PipelineSink implements EventSink {
  readonly counters: PipelineCounters = { objects: 0, records: 0, alerts: 0, errors: 0 };
  readonly #deps: PipelineSinkDeps;
  /** output sizes after the last durable object (what abortObject goes back to) */
  #committed: OutputCheckpoint;
  #group: Waiting[] = [];
  #groupRecords = 0;
  #timer: NodeJS.Timeout | undefined;
  /** commits run one after another */
  #commitChain: Promise<void> = Promise.resolve();

  constructor(deps: PipelineSinkDeps) {
    this.#deps = deps;
    this.#committed = this.#sizes();
  }

  #sizes(): OutputCheckpoint {
    const { alertsFile, archivesFile } = this.#deps;
    return { alerts: alertsFile.logicalSize(), ...(archivesFile ? { archives: archivesFile.logicalSize() } : {}) };
  }

  async write(batch: EventBatch): Promise<void> {
    const { analyzer, alertsFile, archivesFile, store } = this.#deps;
    const alerts: Alert[] = [];
    const known = this.#deps.knownAlertIds;
    analyzer.analyze(batch, (alert) => {
      if (known?.has(alert.id)) return;
      known?.add(alert.id);
      alerts.push(alert);
      alertsFile.append(alert);
    });
    if (archivesFile && !batch.object.replayed) {
      const ts = (this.#deps.now ?? (() => new Date()))().toISOString();
      const manager = this.#deps.managerName ?? hostname();
      batch.events.forEach((event, i) => archivesFile.append(archiveEntry(event, `${batch.object.objectId}-${batch.firstIndex + i}`, ts, manager)));
    }
    await store?.ingest(batch, alerts);
    this.counters.records += batch.events.length;
    this.counters.alerts += alerts.length;
  }

  objectDone(object: ObjectRef, outcome: ObjectOutcome): Promise<OutputCheckpoint> {
    const { store } = this.#deps;
    this.counters.objects += 1;
    if (outcome.status === 'error') this.counters.errors += 1;
    store?.recordObject({
      bucket: object.bucket,
      key: object.key,
      type: object.bucketType,
      status: outcome.status,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      records: outcome.records,
      bytes: object.size,
      ...(object.lastModified === undefined ? {} : { lastModified: object.lastModified }),
      processedAt: (this.#deps.now ?? (() => new Date()))(),
    });
    const checkpoint = this.#sizes();
    return new Promise<OutputCheckpoint>((resolve, reject) => {
      this.#group.push({ checkpoint, resolve, reject });
      this.#groupRecords += outcome.records;
      const { groupObjects = 256, groupRecords = 50_000, groupMs = 50 } = this.#deps;
      if (this.#group.length >= groupObjects || this.#groupRecords >= groupRecords) void this.commitPending();
      else this.#timer ??= setTimeout(() => void this.commitPending(), groupMs);
    });
  }

  /** Makes every finished object durable now (end of a bucket, before stopping). */
  commitPending(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const group = this.#group;
    this.#group = [];
    this.#groupRecords = 0;
    if (group.length === 0) return this.#commitChain;
    this.#commitChain = this.#commitChain.then(async () => {
      const { alertsFile, archivesFile, store } = this.#deps;
      try {
        await alertsFile.flush();
        await archivesFile?.flush();
        await store?.flush();
      } catch (e) {
        for (const w of group) w.reject(e);
        return;
      }
      this.#committed = group[group.length - 1]!.checkpoint;
      for (const w of group) w.resolve(w.checkpoint);
    });
    return this.#commitChain;
  }

  async abortObject(object: ObjectRef): Promise<void> {
    const { alertsFile, archivesFile, store } = this.#deps;
    await this.commitPending();
    await store?.discardObject(object.objectId);
    alertsFile.truncate(this.#committed.alerts ?? alertsFile.logicalSize());
    if (archivesFile) archivesFile.truncate(this.#committed.archives ?? archivesFile.logicalSize());
  }
}

/**
 * Cuts alerts.json / archives.json back to the sizes recorded with the last committed object. Anything
 * beyond them was written for an object whose commit never happened; that object will be read again.
 * Returns the bytes removed per file.
 */
export function recoverOutputs(
  checkpoint: OutputCheckpoint | undefined,
  files: Record<string, AppendFilePort | undefined>,
): Record<string, number> {
  const removed: Record<string, number> = {};
  if (!checkpoint) return removed;
  for (const [name, file] of Object.entries(files)) {
    const committed = checkpoint[name];
    if (!file || committed === undefined) continue;
    const size = file.size();
    if (size > committed) {
      file.truncate(committed);
      removed[name] = size - committed;
    }
  }
  return removed;
}
