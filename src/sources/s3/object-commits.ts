/**
 * The collector's half of exactly once (the sink's half is src/pipeline/pipeline-sink.ts; the whole protocol is in
 * docs/architecture.md): an object that was read is marked processed in the state store only once the sink made
 * everything it wrote durable, marks happen in commit order, and after one failed no later object is marked;
 * only then, and only for an object read whole, DeleteObject (`remove_from_bucket`). Reading goes on meanwhile.
 * The marks of one group commit are written together: one state-store sync per group, not one per object.
 */
import type { Logger } from 'pino';
import type { ObjectRef } from '../../shared/events.js';
import type { EventSink, ObjectOutcome } from '../../shared/sink.js';
import type { Mark, ScopeKey, StateStore } from './state/types.js';

/** Objects waiting for their group commit at most before the collector waits for them. */
const MAX_WAITING = 1024;

export interface CommitDeps {
  sink: EventSink;
  state: StateStore;
  logger: Logger;
  /** DeleteObject of a key; failures are reported, not thrown */
  remove?: (key: string) => Promise<void>;
}

/** Where the object's mark goes in the state store. */
export interface MarkPlace {
  stateKey: ScopeKey;
  day: string;
}

export class ObjectCommits {
  /** one per object read and not yet durable, marked and deleted */
  #waiting: Promise<void>[] = [];
  #error: unknown;
  /** a commit or mark failed: the bucket stops reading (what is unmarked is read again next cycle) */
  stopped = false;

  constructor(readonly deps: CommitDeps) {}

  /**
   * The object is read: hand its outcome to the sink and, once durable, mark it (unless replayed) and delete it
   * (with `remove`, when it was read whole). Waits only when too many objects are waiting for their commit.
   * `settled` is told once the object is durable and marked (true), or will be read again (false): a queue worker
   * deletes the object's message only then (src/sources/sqs/worker.ts).
   */
  async objectRead(ref: ObjectRef, outcome: ObjectOutcome, place: MarkPlace, settled?: (marked: boolean) => void): Promise<void> {
    const committed = this.deps.sink.objectDone(ref, outcome).then(async (checkpoint) => {
      if (!ref.replayed) {
        const marked = await this.#mark({ scope: place.stateKey, day: place.day, key: ref.key, info: { status: outcome.status, ...(checkpoint ? { checkpoint } : {}) } }, ref);
        if (!marked) return settled?.(false);
      }
      settled?.(true);
      // only an object read whole is deleted: one with unreadable records stays for a look
      if (this.deps.remove && outcome.status === 'ok' && !ref.replayed) await this.deps.remove(ref.key);
    });
    this.#waiting.push(
      committed.catch((e: unknown) => {
        this.#error ??= e;
        this.stopped = true;
        settled?.(false);
      }),
    );
    if (this.#waiting.length >= MAX_WAITING) await this.settle();
  }

  /** marks of objects whose group is durable, written together (see #writeMarks) */
  #marks: { mark: Mark; ref: ObjectRef; done: (marked: boolean) => void }[] = [];

  /**
   * Queues the object's mark; a group commit resolves all its objects at once, and their marks are written by one
   * `markProcessedAll` (one fsync) right after. Resolves false when the mark was not made.
   */
  #mark(mark: Mark, ref: ObjectRef): Promise<boolean> {
    return new Promise<boolean>((done) => {
      if (this.#marks.length === 0) queueMicrotask(() => void this.#writeMarks());
      this.#marks.push({ mark, ref, done });
    });
  }

  async #writeMarks(): Promise<void> {
    const batch = this.#marks.splice(0);
    const { state, sink } = this.deps;
    // marks happen in commit order; after one failed, none of the later objects may be marked either
    try {
      if (this.#error !== undefined) throw this.#error;
      state.markProcessedAll(batch.map((m) => m.mark));
    } catch (e) {
      this.#error ??= e;
      this.stopped = true;
      await sink.markFailed?.(e, state.lastCheckpoint(), batch.map((m) => m.ref));
      for (const m of batch) m.done(false);
      return;
    }
    for (const m of batch) m.done(true);
  }

  /** Waits until every object read is durable, marked and deleted; throws the first commit or mark failure. */
  async settle(): Promise<void> {
    await this.deps.sink.commitPending?.();
    await Promise.all(this.#waiting);
    this.#waiting = [];
    if (this.#error !== undefined) {
      const e = this.#error;
      this.#error = undefined;
      throw e;
    }
  }
}
