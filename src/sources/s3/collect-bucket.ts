/**
 * Reads one configured bucket: finds its scopes (discovery.ts), lists each from the start of its look-back
 * window, and hands every object not yet processed to the pipeline exactly once, in key order:
 * GetObject (streamed) → decompress (sniffed from the bytes) → decode → `sink.write` batches →
 * `sink.objectDone` → `state.markProcessed` (per object) → optional DeleteObject (only when it was read fine).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { BucketConfig } from '../../config/types.js';
import type { AwsEvent, ObjectRef } from '../../shared/events.js';
import type { EventSink } from '../../shared/sink.js';
import type { ScopeKey, StateStore } from './state/types.js';
import { createObjectDecoder, decompressStream, ObjectDecodeError } from '../../decoders/index.js';
import { createS3Source, type ListedObject, type ObjectBody, type ObjectSource } from './client.js';
import { S3AccessError } from './errors.js';
import { OutputError } from '../../outputs/output-error.js';
import { flowLogIdOf } from './layout.js';
import { ScopeListing } from './listing.js';
import { scopesOf, type Scope } from './discovery.js';

export { scopesOf, type Scope } from './discovery.js';

export interface BucketSummary {
  bucket: string;
  type: string;
  path: string;
  /** objects read (ok or error) this run */
  objects: number;
  records: number;
  /** compressed bytes read */
  bytes: number;
  /** objects already processed earlier (seen in the look-back window) */
  skipped: number;
  /** one line per bad object: `s3://bucket/key: cause` */
  errors: string[];
  /** objects whose body broke or came short on every attempt: left unmarked, read again next cycle (also in `errors`) */
  retryLater: number;
  /** a bucket-level failure (access, endpoint, credentials…), or skip_on_error off and a bad object, stopped the bucket */
  failed: boolean;
  failure?: string;
  /** LastModified of the newest object read */
  newest?: Date;
}

export interface CollectProgress {
  bucket: string;
  objects: number;
  records: number;
  bytes: number;
  key: string;
}

export interface CollectDeps {
  state: StateStore;
  sink: EventSink;
  logger: Logger;
  signal: AbortSignal;
  skipOnError: boolean;
  now: () => Date;
  onProgress?: (p: CollectProgress) => void;
  /** builds the bucket's ObjectSource (default: the AWS SDK one) */
  sourceFor?: (b: BucketConfig) => Promise<ObjectSource>;
  /** replay: read exactly these days (inclusive), ignoring and not consulting the state's window */
  window?: { from: string; to: string };
  /** collectAll: buckets read at the same time (default 1) */
  concurrency?: number;
}

/** GetObject requests started ahead of the object being read (hides the request latency of small objects). */
const PREFETCH = 4;

interface Ahead {
  key: ScopeKey;
  day: string;
  obj: ListedObject;
  refusal: string | undefined;
  done: boolean;
  body: Promise<ObjectBody> | undefined;
}

/** Events per `sink.write` at most. */
export const BATCH_SIZE = 5000;

function today(now: Date): string {
  return now.toISOString().slice(0, 10);
}

function shiftDay(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Stable id of an object: the first 16 hex digits of sha1(`bucket/key`). */
export function objectIdOf(bucket: string, key: string): string {
  return createHash('sha1').update(`${bucket}/${key}`).digest('hex').slice(0, 16);
}

/**
 * The body stream broke (connection reset mid-object…) or ended before the size the listing gave: the object is
 * read again at once, and if that keeps failing, left unmarked for the next cycle.
 */
class TransientReadError extends Error {}

/** Reads of one object before it is left for the next cycle, and the pause before each new attempt (ms). */
const READ_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 200;

/** At most this many record errors are quoted in an object's error line (the count says how many in all). */
const QUOTED_RECORD_ERRORS = 3;

class BucketRun {
  readonly summary: BucketSummary;
  #stopped = false;

  constructor(
    readonly b: BucketConfig,
    readonly source: ObjectSource,
    readonly deps: CollectDeps,
  ) {
    this.summary = { bucket: b.name, type: b.type, path: b.path, objects: 0, records: 0, bytes: 0, skipped: 0, retryLater: 0, errors: [], failed: false };
  }

  /** First day to list in a scope: the look-back window behind the newest day seen, or (first run) only_logs_after / today. */
  #startDay(scopeKeys: ScopeKey[]): string {
    const { state, now } = this.deps;
    const known = scopeKeys.map((k) => state.newestDay(k)).filter((d): d is string => d !== undefined);
    let start = known.length > 0 ? shiftDay(known.sort()[0] as string, -this.b.lookbackDays) : (this.b.onlyLogsAfter ?? today(now()));
    if (this.b.onlyLogsAfter && start < this.b.onlyLogsAfter) start = this.b.onlyLogsAfter;
    return start;
  }

  async run(): Promise<BucketSummary> {
    try {
      const scopes = await scopesOf(this.b, this.source);
      if (scopes.length === 0) {
        this.deps.logger.warn({ bucket: this.b.name, path: this.b.path, type: this.b.type }, 'No logs found under this bucket and path; run `tld doctor` to see why.');
      }
      for (const scope of scopes) {
        if (this.#stopped || this.deps.signal.aborted) break;
        await this.#scope(scope);
      }
    } finally {
      await this.#settle();
    }
    return this.summary;
  }

  /** Objects read but not yet durable (group commit): their marks and deletions wait for their group. */
  #commits: Promise<void>[] = [];
  #commitError: unknown;

  /** Waits until every finished object is durable, marked and (with remove_from_bucket) deleted. */
  async #settle(): Promise<void> {
    await this.deps.sink.commitPending?.();
    await Promise.all(this.#commits);
    this.#commits = [];
    if (this.#commitError !== undefined) {
      const e = this.#commitError;
      this.#commitError = undefined;
      throw e;
    }
  }

  async #scope(scope: Scope): Promise<void> {
    const { state, window, logger } = this.deps;
    const same = (k: ScopeKey) => k.bucket === scope.key.bucket && k.path === scope.key.path && k.type === scope.key.type && k.account === scope.key.account && k.region === scope.key.region;
    const known = state.scopes().filter(same);
    const startDay = window ? window.from : this.#startDay(known.length ? known : [scope.key]);
    const listing = new ScopeListing(this.b, this.source, scope, {
      startDay,
      now: this.deps.now,
      ...(window ? { until: window.to } : this.b.onlyLogsAfter ? { onlyLogsAfter: this.b.onlyLogsAfter } : {}),
    });
    const ahead: Ahead[] = [];
    for await (const { obj, day, refusal } of listing) {
      if (this.#stopped || this.deps.signal.aborted) break;
      const key: ScopeKey = this.b.type === 'vpcflow' ? { ...scope.key, flowLogId: flowLogIdOf(obj.key) } : scope.key;
      const done = state.isProcessed(key, day, obj.key, { exact: window !== undefined });
      if (done && !window) {
        this.summary.skipped++;
        continue;
      }
      ahead.push({ key, day, obj, refusal, done, body: refusal ? undefined : this.#prefetch(obj.key) });
      if (ahead.length > PREFETCH) await this.#next(scope, ahead);
    }
    while (ahead.length > 0 && !this.#stopped && !this.deps.signal.aborted) await this.#next(scope, ahead);
    for (const a of ahead.splice(0)) void a.body?.then((o) => o.discard(), () => undefined);
    if (listing.outside > 0) {
      logger.warn({ bucket: this.b.name, prefix: scope.prefix, count: listing.outside, example: listing.outsideExample }, 'Objects without YYYY/MM/DD/ folders right after the path were not read (Firehose layout expected).');
    }
  }

  /** Starts a GetObject early; a failure surfaces when the object's turn comes (read again then). */
  #prefetch(key: string): Promise<ObjectBody> {
    const p = this.source.get(key);
    p.catch(() => undefined);
    return p;
  }

  async #next(scope: Scope, ahead: Ahead[]): Promise<void> {
    const a = ahead.shift()!;
    await this.#object(scope, a.key, a.day, a.obj, a.refusal, a.done, a.body);
  }

  #ref(scope: Scope, stateKey: ScopeKey, obj: ListedObject, replayed: boolean): ObjectRef {
    const b = this.b;
    return {
      bucket: b.name,
      key: obj.key,
      objectId: objectIdOf(b.name, obj.key),
      bucketType: b.type,
      size: obj.size,
      ...(scope.account ? { accountId: scope.account } : {}),
      ...(scope.region ? { region: scope.region } : {}),
      ...(stateKey.flowLogId ? { flowLogId: stateKey.flowLogId } : {}),
      ...(obj.lastModified ? { lastModified: obj.lastModified } : {}),
      ...(replayed ? { replayed } : {}),
    };
  }

  /**
   * Streams one object through decompression and the decoder into the sink. Returns the record count and the
   * records that could not be read, or throws: ObjectDecodeError (bad content), S3AccessError (GetObject
   * refused), TransientReadError (the body broke or came short), OutputError (an output failed).
   */
  async #read(scope: Scope, ref: ObjectRef, written: { events: number }, prefetched?: Promise<ObjectBody>): Promise<{ records: number; recordErrors: { count: number; first: string[] } }> {
    const b = this.b;
    const logInfo = { aws_account_alias: b.awsAccountAlias, log_file: ref.key, s3bucket: b.name };
    // a count and the first few: an object of millions of bad lines must not hold millions of messages
    const recordErrors = { count: 0, first: [] as string[] };
    const decoder = createObjectDecoder({
      bucketType: b.type,
      logInfo,
      ...(scope.account && b.type !== 'guardduty' ? { accountId: scope.account } : {}),
      ...(b.discardRegex ? { discard: b.discardRegex } : {}),
      onRecordError: (line, message) => {
        if (recordErrors.count++ < QUOTED_RECORD_ERRORS) recordErrors.first.push(`line ${line}: ${message}`);
      },
    });
    const object = await (prefetched ?? this.source.get(ref.key));
    // the size the listing gave, unless the object was replaced since (then the GET's own Content-Length)
    const replaced = object.lastModified !== undefined && ref.lastModified !== undefined && object.lastModified.getTime() > ref.lastModified.getTime();
    const expected = replaced ? object.size : ref.size;
    let index = 0;
    let batch: AwsEvent[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const events = batch;
      batch = [];
      await this.deps.sink.write({ object: ref, firstIndex: index - events.length, events });
      written.events += events.length;
    };
    const counted = (async function* (src: AsyncIterable<Uint8Array>, onBytes: (n: number) => void) {
      let read = 0;
      try {
        for await (const chunk of src) {
          read += chunk.byteLength;
          onBytes(chunk.byteLength);
          yield chunk;
        }
      } catch (e) {
        throw new TransientReadError(`the object's body could not be read to the end (${(e as Error).message})`, { cause: e });
      }
      // a body cut short with a Content-Length that matches it ends "normally": only the listed size tells
      if (read < expected) throw new TransientReadError(`the object's body ended after ${read} of its ${expected} bytes`);
    })(object.body, (n) => (this.summary.bytes += n));
    try {
      for await (const chunk of decompressStream(counted)) {
        for (const e of decoder.push(chunk)) {
          batch.push(e);
          index++;
          if (batch.length >= BATCH_SIZE) await flush();
        }
      }
      for (const e of decoder.end()) {
        batch.push(e);
        index++;
        if (batch.length >= BATCH_SIZE) await flush();
      }
      await flush();
    } catch (e) {
      object.discard();
      if (e instanceof OutputError) throw e;
      const cause = (e as { cause?: unknown }).cause;
      if (cause instanceof OutputError) throw cause;
      await flush();
      if (e instanceof TransientReadError || e instanceof ObjectDecodeError) throw e;
      if (cause instanceof TransientReadError) throw cause;
      throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `unexpected error while decoding: ${(e as Error).message}`, { cause: e });
    }
    return { records: index, recordErrors };
  }

  async #object(scope: Scope, stateKey: ScopeKey, day: string, obj: ListedObject, refusal: string | undefined, replayed: boolean, prefetched?: Promise<ObjectBody>): Promise<void> {
    const { sink, state, logger, skipOnError } = this.deps;
    const b = this.b;
    const ref = this.#ref(scope, stateKey, obj, replayed);
    const written = { events: 0 };
    let records = 0;
    let failure: { code: string; message: string } | undefined;
    if (refusal) {
      failure = { code: 'TLD_ERR_S3_UNSUPPORTED_OBJECT', message: refusal };
    } else {
      for (let attempt = 1; ; attempt++) {
        try {
          const read = await this.#read(scope, ref, written, attempt === 1 ? prefetched : undefined);
          records = read.records;
          if (read.recordErrors.count > 0) {
            const n = read.recordErrors.count;
            const quoted = read.recordErrors.first.join('; ');
            failure = { code: 'TLD_ERR_DECODE_RECORDS', message: `${n} record${n === 1 ? '' : 's'} could not be read (${quoted}${n > QUOTED_RECORD_ERRORS ? '; …' : ''}); the ${records} other${records === 1 ? '' : 's'} were kept` };
          }
          break;
        } catch (e) {
          if (e instanceof OutputError) throw e; // not this object's fault: the bucket stops, nothing unfinished is marked
          if (e instanceof S3AccessError) {
            if (e.code === 'TLD_ERR_S3_NO_SUCH_KEY') {
              logger.warn({ bucket: b.name, key: obj.key, code: e.code }, e.message);
              return; // deleted by someone else meanwhile: nothing to read
            }
            throw e; // access, endpoint, credentials: the bucket stops with this one line
          }
          if (e instanceof TransientReadError) {
            const canRetry = written.events === 0 || sink.abortObject !== undefined;
            if (written.events > 0) await sink.abortObject?.(ref);
            written.events = 0;
            if (attempt < READ_ATTEMPTS && canRetry) {
              logger.warn({ bucket: b.name, key: obj.key, attempt }, `${e.message}; reading it again`);
              await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS * attempt));
              continue;
            }
            // this object only: it stays unmarked and is read again next cycle; the bucket goes on
            const line = `s3://${b.name}/${obj.key}: ${e.message} (${attempt} attempts); it is read again next cycle`;
            this.summary.errors.push(line);
            this.summary.retryLater++;
            logger.error({ bucket: b.name, key: obj.key, code: 'TLD_ERR_S3_BODY' }, line);
            return;
          }
          const err = e as ObjectDecodeError;
          failure = { code: err.code, message: err.message };
          records = 0;
          break;
        }
      }
    }

    if (failure !== undefined) {
      const line = `s3://${b.name}/${obj.key}: ${failure.message}`;
      this.summary.errors.push(line);
      logger.error({ bucket: b.name, key: obj.key, code: failure.code, cause: failure.message }, `Cannot read object s3://${b.name}/${obj.key}: ${failure.message}`);
      // an unsupported object (Parquet) never becomes readable: it does not block the bucket even without skip_on_error
      if (!skipOnError && !refusal) {
        if (written.events > 0) await sink.abortObject?.(ref);
        this.summary.failed = true;
        this.summary.failure = `stopped at s3://${b.name}/${obj.key} (skip_on_error is off; it is read again next cycle): ${failure.message}`;
        this.#stopped = true;
        return;
      }
      // events decoded before (or around) the failure stay delivered; the error event follows them
      const errorEvent: AwsEvent = {
        integration: 'aws',
        aws: { log_info: { aws_account_alias: b.awsAccountAlias, log_file: obj.key, s3bucket: b.name }, ...(scope.account ? { aws_account_id: scope.account } : {}) },
        error_msg: `Failed to read s3://${b.name}/${obj.key}: ${failure.message}`,
      };
      records = written.events;
      await sink.write({ object: ref, firstIndex: records, events: [errorEvent] });
    }
    const status = failure === undefined ? 'ok' : 'error';
    this.summary.objects++;
    this.summary.records += records;
    if (obj.lastModified && (!this.summary.newest || obj.lastModified > this.summary.newest)) this.summary.newest = obj.lastModified;
    this.deps.onProgress?.({ bucket: b.name, objects: this.summary.objects, records: this.summary.records, bytes: this.summary.bytes, key: obj.key });
    // the object is marked processed (and deleted) once the sink made it durable; reading goes on meanwhile
    const committed = sink.objectDone(ref, { status, records, ...(failure ? { error: failure.message } : {}) }).then(async (checkpoint) => {
      if (!replayed) {
        // marks happen in commit order; after one failed, none of the later objects may be marked either
        try {
          if (this.#commitError !== undefined) throw this.#commitError;
          state.markProcessed(stateKey, day, obj.key, { status, ...(checkpoint ? { checkpoint } : {}) });
        } catch (e) {
          this.#commitError ??= e;
          this.#stopped = true;
          await sink.markFailed?.(e, state.lastCheckpoint(), [ref]);
          return;
        }
      }
      // only an object read whole is deleted: one with unreadable records stays for a look
      if (b.removeFromBucket && status === 'ok' && !replayed) await this.#remove(obj.key);
    });
    this.#commits.push(
      committed.catch((e: unknown) => {
        this.#commitError ??= e;
        this.#stopped = true;
      }),
    );
    if (this.#commits.length >= 1024) await this.#settle();
  }

  async #remove(key: string): Promise<void> {
    try {
      await this.source.delete(key);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.summary.errors.push(`s3://${this.b.name}/${key}: not deleted: ${msg}`);
      this.deps.logger.error({ bucket: this.b.name, key, code: (e as { code?: string }).code }, msg);
    }
  }
}

/**
 * Reads one bucket through `deps.source`. Bucket-level failures (access, endpoint, credentials) end up in the
 * summary as one actionable line (`failed: true`), never thrown.
 */
export async function collectBucket(b: BucketConfig, deps: CollectDeps & { source: ObjectSource }): Promise<BucketSummary> {
  const run = new BucketRun(b, deps.source, deps);
  try {
    return await run.run();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    deps.logger.error({ bucket: b.name, code: (e as { code?: string }).code }, msg);
    return { ...run.summary, failed: true, failure: msg };
  }
}

/** Reads every bucket (one after another, or `deps.concurrency` at a time); one failing bucket never stops the others. */
export async function collectAll(buckets: BucketConfig[], deps: CollectDeps): Promise<BucketSummary[]> {
  const out: BucketSummary[] = new Array<BucketSummary>(buckets.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < buckets.length; i = next++) {
      const b = buckets[i]!;
      if (deps.signal.aborted) break;
      deps.logger.info({ bucket: b.name, type: b.type, path: b.path }, 'Reading bucket.');
      let source: ObjectSource;
      try {
        source = await (deps.sourceFor ?? createS3Source)(b);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        deps.logger.error({ bucket: b.name }, msg);
        out[i] = { bucket: b.name, type: b.type, path: b.path, objects: 0, records: 0, bytes: 0, skipped: 0, retryLater: 0, errors: [], failed: true, failure: msg };
        continue;
      }
      try {
        out[i] = await collectBucket(b, { ...deps, source });
      } finally {
        if (!deps.sourceFor) source.close?.();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.concurrency ?? 1, buckets.length)) }, worker));
  return out.filter((s): s is BucketSummary => s !== undefined);
}
