/**
 * Helpers for collector tests: a capturing EventSink that behaves like the pipeline's (events count as
 * delivered only once `objectDone` resolves; `abortObject` takes back what was written since), a bucket
 * configuration builder, and a pino logger whose lines are kept for assertions.
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { AwsEvent, EventBatch, ObjectRef } from '../../src/shared/events.js';
import type { EventSink, ObjectOutcome, OutputCheckpoint } from '../../src/shared/sink.js';
import type { BucketConfig } from '../../src/config/types.js';

export interface Delivered {
  key: string;
  index: number;
  event: AwsEvent;
}

export class CaptureSink implements EventSink {
  readonly delivered: Delivered[] = [];
  readonly outcomes: { ref: ObjectRef; outcome: ObjectOutcome }[] = [];
  readonly aborted: string[] = [];
  /** every batch size seen */
  readonly batchSizes: number[] = [];
  #pending = new Map<string, Delivered[]>();

  write(batch: EventBatch): void {
    const pending = this.#pending.get(batch.object.objectId) ?? [];
    const expected = pending.length === 0 ? 0 : pending[pending.length - 1]!.index + 1;
    if (batch.firstIndex !== expected) throw new Error(`batch of ${batch.object.key} starts at ${batch.firstIndex}, expected ${expected}`);
    this.batchSizes.push(batch.events.length);
    batch.events.forEach((event, i) => pending.push({ key: batch.object.key, index: batch.firstIndex + i, event }));
    this.#pending.set(batch.object.objectId, pending);
  }

  async objectDone(object: ObjectRef, outcome: ObjectOutcome): Promise<OutputCheckpoint> {
    this.delivered.push(...(this.#pending.get(object.objectId) ?? []));
    this.#pending.delete(object.objectId);
    this.outcomes.push({ ref: object, outcome });
    return { events: this.delivered.length };
  }

  async abortObject(object: ObjectRef): Promise<void> {
    this.aborted.push(object.key);
    this.#pending.delete(object.objectId);
  }

  /** delivered events per object key */
  countByKey(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.delivered) out[d.key] = (out[d.key] ?? 0) + 1;
    return out;
  }

  /** (key, index) pairs delivered more than once */
  duplicates(): string[] {
    const seen = new Set<string>();
    const dup: string[] = [];
    for (const d of this.delivered) {
      const id = `${d.key}#${d.index}`;
      if (seen.has(id)) dup.push(id);
      seen.add(id);
    }
    return dup;
  }
}

/** A bucket configuration with the loader's defaults. */
export function bucketConfig(over: Partial<BucketConfig> & Pick<BucketConfig, 'type' | 'name'>): BucketConfig {
  return { path: '', pathSuffix: '', awsAccountAlias: '', removeFromBucket: false, lookbackDays: 1, origin: { file: 'test.conf', line: 1 }, ...over };
}

/** A debug-level pino logger whose JSON lines are kept in `lines`. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}
