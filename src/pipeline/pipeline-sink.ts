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
 *
 * A failed output (disk full, file-size limit, the store) fails every object not yet durable, never only the one
 * being read: the sink takes back what they wrote (files cut back to the last durable sizes, their store rows and
 * correlation contributions dropped), refuses further work until `resume` (the next cycle) and every waiting
 * `objectDone` rejects with the OutputError, so none of them is marked processed and all are read again.
 */
import { hostname } from 'node:os';
import type { Alert, AwsEvent, EventBatch, ObjectRef } from '../shared/events.js';
import type { EventSink, ObjectOutcome, OutputCheckpoint } from '../shared/sink.js';
import type { AnalyzerPort, AppendFilePort, StorePort } from './ports.js';
import { OutputError, outputError } from '../outputs/output-error.js';
import type { FlowBatch } from '../decoders/vpcflow/flow-batch.js';
import { eventsOf } from '../decoders/vpcflow/flow-events.js';
import { storeRowsOfFlows } from '../store/store-rows-flows.js';

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
  /** seq of the last object marked processed (the state's last checkpoint): finished objects are numbered after it */
  lastSeq?: number;
}

interface Waiting {
  object: ObjectRef;
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
  /** output sizes after the last durable object (what abortObject and a failure go back to) */
  #committed: OutputCheckpoint;
  #group: Waiting[] = [];
  #groupRecords = 0;
  #timer: NodeJS.Timeout | undefined;
  /** commits run one after another */
  #commitChain: Promise<void> = Promise.resolve();
  /** sequence number of the last finished object */
  #seq: number;
  /** objects that wrote something and are not durable yet (being read, finished, or in a commit in flight) */
  readonly #open = new Map<string, ObjectRef>();
  /** the output failure that stopped the sink (until `resume`) */
  #broken: OutputError | undefined;
  /** the rollback after a failure; `resume` waits for it */
  #rollback: Promise<void> = Promise.resolve();

  constructor(deps: PipelineSinkDeps) {
    this.#deps = deps;
    this.#committed = this.#sizes();
    this.#seq = deps.lastSeq ?? 0;
  }

  #sizes(): OutputCheckpoint {
    const { alertsFile, archivesFile } = this.#deps;
    return { alerts: alertsFile.logicalSize(), ...(archivesFile ? { archives: archivesFile.logicalSize() } : {}) };
  }

  async write(batch: EventBatch): Promise<void> {
    await this.#take(batch.object, batch.events.length, (emit) => this.#deps.analyzer.analyze(batch, emit), () => batch.events, batch.firstIndex, (alerts) => this.#deps.store?.ingest(batch, alerts));
  }

  /**
   * A FlowBatch (VPC records as columns): the rules read the columns, the store takes its rows from them, and
   * events are built only for alerts and, with logall_json, for archives.json.
   */
  async writeFlows(object: ObjectRef, batch: FlowBatch): Promise<void> {
    const { analyzer, store } = this.#deps;
    const analyzeFlows = analyzer.analyzeFlows?.bind(analyzer);
    const ingestRows = store?.ingestRows?.bind(store);
    if (!analyzeFlows || (store && !ingestRows)) return this.write({ object, firstIndex: batch.firstIndex, events: eventsOf(batch) });
    await this.#take(object, batch.length, (emit) => analyzeFlows(object, batch, emit), () => eventsOf(batch), batch.firstIndex, (alerts) => ingestRows?.(storeRowsOfFlows(object, batch, alerts)));
  }

  /** One batch of an object through the rules, alerts.json, archives.json (events made only then) and the store. */
  async #take(object: ObjectRef, records: number, analyze: (emit: (a: Alert) => void) => void, events: () => AwsEvent[], firstIndex: number, ingest: (alerts: Alert[]) => void | Promise<void> | undefined): Promise<void> {
    if (this.#broken) throw this.#broken;
    const { alertsFile, archivesFile, store } = this.#deps;
    const alerts: Alert[] = [];
    const known = this.#deps.knownAlertIds;
    if (!this.#open.has(object.objectId)) this.#open.set(object.objectId, object);
    try {
      analyze((alert) => {
        if (known?.has(alert.id)) return;
        known?.add(alert.id);
        alerts.push(alert);
        append(alertsFile, alert);
      });
      if (archivesFile && !object.replayed) {
        const ts = (this.#deps.now ?? (() => new Date()))().toISOString();
        const manager = this.#deps.managerName ?? hostname();
        events().forEach((event, i) => append(archivesFile, archiveEntry(event, `${object.objectId}-${firstIndex + i}`, ts, manager)));
      }
    } catch (e) {
      if (e instanceof OutputError) throw await this.#fail(e);
      throw e;
    }
    try {
      await ingest(alerts);
    } catch (e) {
      throw await this.#fail(outputError(store?.path ?? 'the store', e));
    }
    this.counters.records += records;
    this.counters.alerts += alerts.length;
  }

  objectDone(object: ObjectRef, outcome: ObjectOutcome): Promise<OutputCheckpoint> {
    if (this.#broken) return Promise.reject(this.#broken);
    const { store, analyzer } = this.#deps;
    this.counters.objects += 1;
    if (outcome.status === 'error') this.counters.errors += 1;
    this.#open.set(object.objectId, object);
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
    // deferred windows: the object's occurrences go with its documents (durable with them)
    const partials = analyzer.takePartials?.(object.objectId);
    if (partials?.length) store?.ingestPartials?.(object, partials);
    const seq = ++this.#seq;
    analyzer.objectDone?.(object.objectId, seq);
    const checkpoint = { ...this.#sizes(), seq };
    return new Promise<OutputCheckpoint>((resolve, reject) => {
      this.#group.push({ object, checkpoint, resolve, reject });
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
    // objects that finished while a failing commit was in flight: they are taken back with the others (never
    // dropped without an answer, which would leave the collector waiting for them forever)
    if (this.#broken) {
      for (const w of group) w.reject(this.#broken);
      return this.#commitChain;
    }
    this.#commitChain = this.#commitChain.then(async () => {
      if (this.#broken) {
        for (const w of group) w.reject(this.#broken);
        return;
      }
      const { alertsFile, archivesFile, store, analyzer } = this.#deps;
      const last = group[group.length - 1]!.checkpoint;
      try {
        await alertsFile.flush();
        await archivesFile?.flush();
        try {
          await store?.flush();
        } catch (e) {
          throw outputError(store?.path ?? 'the store', e);
        }
        await analyzer.persistCorrelation?.(last.seq ?? this.#seq);
      } catch (e) {
        // the group's objects are still in #open: the failure takes them back with the others (when a write
        // failed meanwhile, its rollback, queued after this commit, does it)
        if (!this.#broken) {
          this.#broken = outputError('the outputs', e);
          this.#rollback = this.#takeBack();
        }
        for (const w of group) w.reject(this.#broken);
        // and the next group, gathered while this one was being written
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = undefined;
        for (const w of this.#group.splice(0)) w.reject(this.#broken);
        this.#groupRecords = 0;
        return;
      }
      this.#committed = last;
      for (const w of group) this.#open.delete(w.object.objectId);
      for (const w of group) w.resolve(w.checkpoint);
    });
    return this.#commitChain;
  }

  /**
   * An output failed: stop taking work, fail the objects waiting for a commit, and (after a commit in flight
   * ends) take back everything not durable. Returns the error to throw.
   */
  #fail(e: OutputError): Promise<OutputError> {
    if (this.#broken) return this.#rollback.then(() => this.#broken!);
    this.#broken = e;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const group = this.#group;
    this.#group = [];
    this.#groupRecords = 0;
    for (const w of group) w.reject(e);
    this.#rollback = this.#commitChain.then(() => this.#takeBack());
    return this.#rollback.then(() => e);
  }

  /** Cuts the files back to the last durable sizes and drops every non-durable object's rows and contributions. */
  async #takeBack(): Promise<void> {
    const { alertsFile, archivesFile, store, analyzer } = this.#deps;
    const problems: unknown[] = [];
    const attempt = (f: () => void) => {
      try {
        f();
      } catch (err) {
        problems.push(err);
      }
    };
    attempt(() => alertsFile.truncate(this.#committed.alerts ?? alertsFile.size()));
    if (archivesFile) attempt(() => archivesFile.truncate(this.#committed.archives ?? archivesFile.size()));
    for (const object of this.#open.values()) {
      analyzer.discardObject?.(object.objectId);
      await store?.discardObject(object).catch((err: unknown) => problems.push(err));
    }
    this.#open.clear();
    // a file that cannot even be cut back keeps lines of objects that will be read again: say so loudly
    if (problems.length > 0 && this.#broken) this.#broken.message += ` (taking back the unfinished objects' output also failed: ${problems.map((p) => (p as Error).message).join('; ')}; restart to recover from the last checkpoint)`;
  }

  /**
   * After a failure, the next cycle starts clean: waits for the rollback and accepts work again. The failed
   * objects were not marked processed, so that cycle reads them again.
   */
  async resume(): Promise<void> {
    await this.#rollback;
    this.#broken = undefined;
  }

  /**
   * The state store could not mark a committed object processed: it and every object after it are read again,
   * so their output goes back to `checkpoint` (the state's last checkpoint) and they are taken back like a
   * failed group. The sink stays stopped until `resume`.
   */
  markFailed(error: unknown, checkpoint: OutputCheckpoint | undefined, objects: ObjectRef[]): Promise<void> {
    const e = outputError('the collector state', error);
    if (!this.#broken) {
      this.#broken = e;
      for (const w of this.#group.splice(0)) w.reject(e);
      this.#groupRecords = 0;
    }
    for (const o of objects) this.#open.set(o.objectId, o);
    this.#rollback = this.#rollback
      .then(() => this.#commitChain)
      .then(() => {
        if (checkpoint) this.#committed = { ...checkpoint };
        return this.#takeBack();
      });
    return this.#rollback;
  }

  async abortObject(object: ObjectRef): Promise<void> {
    const { alertsFile, archivesFile, store, analyzer } = this.#deps;
    await this.commitPending();
    if (this.#broken) return;
    analyzer.discardObject?.(object.objectId);
    this.#open.delete(object.objectId);
    await store?.discardObject(object);
    alertsFile.truncate(this.#committed.alerts ?? alertsFile.logicalSize());
    if (archivesFile) archivesFile.truncate(this.#committed.archives ?? archivesFile.logicalSize());
  }
}

/** Appends to an output file; any failure becomes an OutputError naming the file. */
function append(file: AppendFilePort, item: unknown): void {
  try {
    file.append(item);
  } catch (e) {
    throw outputError(file.path, e);
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
