/**
 * The narrow shapes the pipeline needs from each stage. The concrete modules (src/analysis, src/outputs,
 * src/store) satisfy them structurally; tests can pass small fakes.
 */
import type { Alert, EventBatch } from '../shared/events.js';

export interface AnalyzerPort {
  /** Runs every event of the batch through the rules; calls `emit` for each alert to write. */
  analyze(batch: EventBatch, emit: (alert: Alert) => void): void;
  /** on reload: keep the correlation windows of the analyzer being replaced */
  adoptState?(previous: object): void;
}

/** An append-only JSON-lines file (alerts.json, archives.json). */
export interface AppendFilePort {
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
  /** drops what was ingested for an object whose read is abandoned (it will be read again) */
  discardObject(objectId: string): Promise<void>;
  flush(): Promise<void>;
  recordObject(info: ObjectHealth): void;
  close(): Promise<void> | void;
}
