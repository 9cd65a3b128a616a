/**
 * The narrow shapes the pipeline needs from each stage. The concrete modules (src/analysis, src/outputs,
 * src/store) satisfy them structurally; tests can pass small fakes.
 */
import type { Alert, EventBatch, ObjectRef } from '../shared/events.js';
import type { FlowBatch } from '../decoders/vpcflow/flow-batch.js';
import type { StoreRows } from '../store/store-rows.js';
import type { WindowPartial } from '../analysis/window-partials.js';

export interface AnalyzerPort {
  /** Runs every event of the batch through the rules; calls `emit` for each alert to write. */
  analyze(batch: EventBatch, emit: (alert: Alert) => void): void;
  /** `analyze` over VPC records decoded into columns (the same alerts; events built only where needed) */
  analyzeFlows?(object: ObjectRef, batch: FlowBatch, emit: (alert: Alert) => void): void;
  /** on reload: keep the correlation windows of the analyzer being replaced */
  adoptState?(previous: object): void;
  /**
   * Correlation state across runs and crashes (see docs/architecture.md). The sink numbers finished objects
   * with a sequence that grows by one per object and continues across restarts (it is stored in each object's
   * checkpoint, so the state store's last checkpoint holds the seq of the last object marked processed; marks
   * happen in seq order).
   * - `objectDone`: every batch of `objectId` went through `analyze`; its contributions now carry `seq`.
   * - `discardObject`: the object's read was abandoned (it is read again from the start): take back what it added.
   * - `persistCorrelation`: called in each group commit after the outputs are durable and before any object of
   *   the group is marked processed: durably save the state so that it holds the contributions of every object
   *   with seq <= `upToSeq` (it may hold others too, tagged with their object).
   * - `restoreCorrelation` (at start-up, before anything is read): load the saved state, dropping what objects
   *   with seq > `committedSeq` (or without a seq) added, and undoing hits they triggered: those objects were
   *   not marked processed, their alerts were cut from alerts.json, and they will be read again.
   */
  objectDone?(objectId: string, seq: number): void;
  discardObject?(objectId: string): void;
  persistCorrelation?(upToSeq: number): Promise<void>;
  restoreCorrelation?(committedSeq: number): Promise<void>;
  /**
   * With windows counted by the indexer's correlator (deferred windows): what the object, read whole, contributed
   * to each frequency window; the sink hands it to the store (`ingestPartials`) in `objectDone`.
   */
  takePartials?(objectId: string): WindowPartial[];
}

/** An append-only JSON-lines file (alerts.json, archives.json). */
export interface AppendFilePort {
  /** where it is, for error messages */
  readonly path: string;
  append(item: unknown): void;
  /** Writes what is buffered and fsyncs; resolves to the file size afterwards. */
  flush(): Promise<number>;
  size(): number;
  /** Cuts the file back to `size` bytes (crash recovery). */
  truncate(size: number): void;
  /** size once buffered lines are written */
  logicalSize(): number;
  close(): void | Promise<void>;
}

export interface ObjectHealth {
  bucket: string;
  key: string;
  type: string;
  status: 'ok' | 'error';
  error?: string;
  records: number;
  bytes: number;
  lastModified?: Date;
  processedAt: Date;
}

export interface StorePort {
  ingest(batch: EventBatch, alerts: Alert[]): void | Promise<void>;
  /** rows already taken out of a batch (FlowBatches go straight from their columns) */
  ingestRows?(rows: StoreRows): void | Promise<void>;
  /** where it is, for error messages */
  readonly path?: string;
  /**
   * drops what was ingested for an object whose read is abandoned or whose commit failed (it will be read
   * again): its flow rows, and its health row when that is still waiting for the next flush
   */
  discardObject(object: { objectId: string; bucket: string; key: string }): Promise<void>;
  flush(): Promise<void>;
  recordObject(info: ObjectHealth): void;
  /** an object's frequency-window partials, written with its documents (the indexer; see AnalyzerPort.takePartials) */
  ingestPartials?(object: ObjectRef, partials: WindowPartial[]): void;
  close(): Promise<void> | void;
}
