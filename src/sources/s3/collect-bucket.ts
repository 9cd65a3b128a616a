/**
 * Reads one configured bucket: finds its scopes (discovery.ts), lists each from the start of its look-back
 * window (listing.ts), and hands every object not yet processed to the pipeline exactly once, in key order.
 * Per object: its read is started ahead (read-object.ts, on the fetch threads of fetch-pool.ts when there are
 * some), its content decoded into the sink (decode-object.ts), a body that broke read again, a bad object
 * reported (and, without skip_on_error, the bucket stopped there); then object-commits.ts marks it processed
 * once durable and deletes it with remove_from_bucket.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { BucketConfig } from '../../config/types.js';
import type { AwsEvent, ObjectRef } from '../../shared/events.js';
import type { EventSink } from '../../shared/sink.js';
import type { ScopeKey, StateStore } from './state/types.js';
import { ObjectDecodeError } from '../../decoders/index.js';
import type { ListedObject, ObjectSource } from './client.js';
import { readContent, TransientReadError, type ObjectContent } from './read-object.js';
import { decodeFlowObject, decodeObject, QUOTED_RECORD_ERRORS, type DecodedObject } from './decode-object.js';
import type { FlowContent } from './fetch-pool.js';

/** An object whose read has started: its bytes, or (VPC on fetch threads) its decoded FlowBatches. */
type StartedRead = { bytes: ObjectContent } | { flows: FlowContent };
const discardRead = (r: StartedRead | undefined) => (r === undefined ? undefined : 'bytes' in r ? r.bytes.discard() : r.flows.discard());
import { ObjectCommits } from './object-commits.js';
import type { FetchPool } from './fetch-pool.js';
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
  /**
   * threads that fetch and decompress objects; without it (or with `sourceFor`, whose source cannot cross to
   * another thread) objects are read on this thread
   */
  fetchPool?: FetchPool;
}

/**
 * Reads started ahead of the object being decoded, which hide the requests' latency: up to MAX_AHEAD objects
 * while their listed (compressed) sizes stay within AHEAD_BYTES, and never fewer than one per fetch thread and one
 * more. Small objects need many (1,000-record objects: 4 ahead kept the fetch thread waiting on the S3 server, 32
 * read 20% more per second); large ones are bounded by their bytes: each object ahead is decoded up to its stream
 * credit (STREAM_CREDIT), so with 100k-record objects (~2 MB each) 8 MiB ahead held ~40 MB of batches on the
 * fetch thread, and two ahead keep it as busy.
 */
const MAX_AHEAD = 32;
const AHEAD_BYTES = 2 << 20;
const minAhead = (pool: FetchPool | undefined) => (pool ? pool.size + 1 : 4);

function aheadFull(ahead: Ahead[], pool: FetchPool | undefined): boolean {
  if (ahead.length <= minAhead(pool)) return false;
  if (ahead.length > MAX_AHEAD) return true;
  let bytes = 0;
  for (const a of ahead) bytes += a.obj.size;
  return bytes > AHEAD_BYTES;
}

interface Ahead {
  key: ScopeKey;
  day: string;
  obj: ListedObject;
  refusal: string | undefined;
  done: boolean;
  content: StartedRead | undefined;
}


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

/** Reads of one object before it is left for the next cycle, and the pause before each new attempt (ms). */
const READ_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 200;


class BucketRun {
  readonly summary: BucketSummary;
  /** a bad object without skip_on_error stopped the bucket */
  #halted = false;
  /** objects read and waiting to be durable, marked and deleted */
  readonly #commits: ObjectCommits;

  /** whether the bucket stopped reading (a bad object without skip_on_error, a failed commit or mark) */
  get #stopped(): boolean {
    return this.#halted || this.#commits.stopped;
  }

  constructor(
    readonly b: BucketConfig,
    readonly source: ObjectSource,
    readonly deps: CollectDeps,
  ) {
    this.summary = { bucket: b.name, type: b.type, path: b.path, objects: 0, records: 0, bytes: 0, skipped: 0, retryLater: 0, errors: [], failed: false };
    this.#commits = new ObjectCommits({ sink: deps.sink, state: deps.state, logger: deps.logger, ...(b.removeFromBucket ? { remove: (key: string) => this.#remove(key) } : {}) });
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
      await this.#commits.settle();
    }
    return this.summary;
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
      ahead.push({ key, day, obj, refusal, done, content: refusal ? undefined : this.#startRead(scope, obj) });
      while (aheadFull(ahead, this.deps.fetchPool) && !this.#stopped && !this.deps.signal.aborted) await this.#next(scope, ahead);
    }
    while (ahead.length > 0 && !this.#stopped && !this.deps.signal.aborted) await this.#next(scope, ahead);
    for (const a of ahead.splice(0)) discardRead(a.content);
    if (listing.outside > 0) {
      logger.warn({ bucket: this.b.name, prefix: scope.prefix, count: listing.outside, example: listing.outsideExample }, 'Objects without YYYY/MM/DD/ folders right after the path were not read (Firehose layout expected).');
    }
  }

  /**
   * Starts reading an object (on a fetch thread when there are some); a failure surfaces when the object's turn
   * comes, and it is read again then.
   */
  #startRead(scope: Scope, obj: ListedObject): StartedRead {
    const b = this.b;
    const req = { key: obj.key, listedSize: obj.size, ...(obj.lastModified ? { listedModified: obj.lastModified.getTime() } : {}) };
    const counted = (n: number) => (this.summary.bytes += n);
    const pool = this.deps.fetchPool;
    if (!pool) return { bytes: readContent(this.source, req, counted) };
    // VPC flow logs, the volume: decoded into columns on the fetch thread too
    if (b.type === 'vpcflow') {
      const logInfo = { aws_account_alias: b.awsAccountAlias, log_file: obj.key, s3bucket: b.name };
      return { flows: pool.readFlows(b, req, counted, { logInfo, ...(scope.account ? { accountId: scope.account } : {}), ...(b.discardRegex ? { discard: b.discardRegex } : {}) }) };
    }
    return { bytes: pool.read(b, req, counted) };
  }

  /** Decodes a started read into the sink (see decode-object.ts). */
  #decode(scope: Scope, ref: ObjectRef, read: StartedRead, written: { events: number }): Promise<DecodedObject> {
    return 'bytes' in read ? decodeObject(this.b, scope.account, ref, read.bytes, this.deps.sink, written) : decodeFlowObject(ref, read.flows, this.deps.sink, written);
  }

  async #next(scope: Scope, ahead: Ahead[]): Promise<void> {
    const a = ahead.shift()!;
    await this.#object(scope, a.key, a.day, a.obj, a.refusal, a.done, a.content);
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

  async #object(scope: Scope, stateKey: ScopeKey, day: string, obj: ListedObject, refusal: string | undefined, replayed: boolean, started?: StartedRead): Promise<void> {
    const { sink, logger, skipOnError } = this.deps;
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
          const read = await this.#decode(scope, ref, (attempt === 1 ? started : undefined) ?? this.#startRead(scope, obj), written);
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
        this.#halted = true;
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
    // marked processed (and deleted) once the sink made it durable; reading goes on meanwhile
    await this.#commits.objectRead(ref, { status, records, ...(failure ? { error: failure.message } : {}) }, { stateKey, day });
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
        // with fetch threads, listings and deletes run there too: this thread does not load the AWS SDK
        source = deps.sourceFor ? await deps.sourceFor(b) : deps.fetchPool ? deps.fetchPool.source(b) : await (await import('./client.js')).createS3Source(b);
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
