/**
 * A worker on an SQS queue of S3 event notifications: the collector with a queue instead of a listing. It receives
 * messages (long polling), reads each announced object with the collector's stages (read-object.ts or the fetch
 * threads, decode-object.ts, the pipeline sink) and hands it to object-commits.ts, which marks it processed once
 * the sink made its output durable. A message is deleted only when every object it announced is marked (or was
 * already); until then a heartbeat keeps it hidden from other workers.
 *
 * What is left on the queue (to come back after its visibility timeout, and after the queue's maxReceiveCount in
 * its dead-letter queue; the object is never deleted from the bucket):
 * - an object that cannot be read (bad content, access refused, a body that kept breaking, a Parquet object), or
 *   that has records the decoder could not read while skip_on_error is off: what it wrote is taken back first;
 * - a key whose layout names no source type and no `<key_prefix>` matches (reported, never guessed);
 * - a body that is no S3 notification.
 * A message whose objects were not made durable because an output or the state store failed is not left: the
 * worker keeps it in flight (its heartbeat goes on), receives nothing new, and reads its objects again once the
 * sink took the failure back, pausing longer after each failure. An outage of the outputs (an indexer restarting,
 * a full disk) then does not raise the messages' receive count toward maxReceiveCount and the dead-letter queue.
 * A message held for 10 minutes (`holdMaxMs`) is handed back, for a worker whose outputs work (a failure may be
 * this machine's own, a full disk): one receive counted per 10 minutes of an outage. A worker that stops meanwhile
 * hands them back at once.
 * An object with unreadable records among good ones is, with skip_on_error, kept as the collector keeps it (its
 * good records, an error event, marked with status error) and its message deleted.
 *
 * The same object delivered twice (a redelivery, a duplicate notification) is read once: the state store's scope
 * `(bucket, 'sqs:', type, account, region, flow log)` remembers the object under the day its message was first sent
 * (SentTimestamp, the same on every redelivery) and the day before.
 */
import type { Logger } from 'pino';
import type { BucketConfig, SubscriberConfig } from '../../config/types.js';
import type { AwsEvent, ObjectRef } from '../../shared/events.js';
import type { EventSink } from '../../shared/sink.js';
import type { ScopeKey, StateStore } from '../s3/state/types.js';
import type { CollectorMetrics } from '../../pipeline/metrics.js';
import { createS3Source, type ObjectSource } from '../s3/client.js';
import { readContent, TransientReadError } from '../s3/read-object.js';
import { decodeFlowObject, decodeObject, QUOTED_RECORD_ERRORS, type DecodedObject } from '../s3/decode-object.js';
import type { FetchPool, FlowContent } from '../s3/fetch-pool.js';
import type { ObjectContent } from '../s3/read-object.js';
import { ObjectCommits } from '../s3/object-commits.js';
import { objectIdOf } from '../s3/collect-bucket.js';
import { S3AccessError } from '../s3/errors.js';
import { OutputError } from '../../outputs/output-error.js';
import { classifyKey } from '../s3/layout.js';
import type { MessageQueue, QueueMessage } from './queue.js';
import { parseNotification, type ObjectNotice } from './notifications.js';
import { sourceOfKey } from './source-type.js';

export interface WorkerDeps {
  subscriber: SubscriberConfig;
  queue: MessageQueue;
  state: StateStore;
  /** the pipeline sink; `resume` accepts work again after an output failure */
  sink: EventSink & { resume?(): Promise<void> };
  logger: Logger;
  signal: AbortSignal;
  skipOnError: boolean;
  metrics?: CollectorMetrics;
  /** threads that fetch and decompress objects (absent: read on this thread, or when `sourceFor` is given) */
  fetchPool?: FetchPool;
  /** builds the ObjectSource of a bucket (default: the AWS SDK one, with the subscriber's credentials) */
  sourceFor?: (b: BucketConfig) => Promise<ObjectSource>;
  /** buckets the same configuration also lists (`<bucket>` blocks): their objects would be read twice (warned once) */
  listedBuckets?: ReadonlySet<string>;
  /** how long a message is kept in flight through output failures before it is handed back (ms; default 10 minutes) */
  holdMaxMs?: number;
  now?: () => Date;
}

/** Reads of one object before it is left on the queue, and the pause before each new attempt (ms). */
const READ_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 200;
/** Pause after a failed ReceiveMessage or an output failure, doubling up to the maximum (ms). */
const BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
/** How long a message is kept in flight through output failures before it is handed back (ms). */
const HOLD_MAX_MS = 600_000;
/** The window over which worker utilization is measured (ms). */
const UTILIZATION_WINDOW_MS = 60_000;

/** The state-store scope of objects read through a queue (`path` 'sqs:' keeps them apart from listed buckets). */
export function queueScope(bucket: string, type: string, info: { account?: string; region?: string; flowLogId?: string } | undefined): ScopeKey {
  return { bucket, path: 'sqs:', type, account: info?.account ?? '', region: info?.region ?? '', flowLogId: info?.flowLogId ?? '' };
}

const dayOfMs = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** An object whose read has started: its bytes, or (VPC on fetch threads) its decoded FlowBatches. */
type StartedRead = { bytes: ObjectContent } | { flows: FlowContent };
const discardRead = (r: StartedRead | undefined) => (r === undefined ? undefined : 'bytes' in r ? r.bytes.discard() : r.flows.discard());

/**
 * Reads started ahead of the object being decoded (as the collector's prefetch: the request latency of small
 * objects overlaps); with fetch threads, enough to keep each of them busy with two.
 */
const prefetchFor = (pool: FetchPool | undefined) => (pool ? Math.max(4, 2 * pool.size + 2) : 4);

/** A received message, parsed, with the reads started ahead for its objects. */
interface Planned {
  flight: InFlight;
  notification: ReturnType<typeof parseNotification>;
  reads: Map<ObjectNotice, StartedRead>;
}

/** How one announced object ended. */
type ObjectEnd = { done: Promise<boolean> } | { failed: string } | { output: OutputError };

/** An object to read: the bucket configuration and reference it is read with, and where its mark goes. */
interface Described {
  b: BucketConfig;
  ref: ObjectRef;
  account: string | undefined;
  stateKey: ScopeKey;
  day: string;
}

/** A received message while it is being handled: its heartbeat, and whether it was settled. */
class InFlight {
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** when an output failure first kept it in flight (epoch ms) */
  heldSince: number | undefined;
  constructor(
    readonly msg: QueueMessage,
    readonly deps: WorkerDeps,
  ) {
    const { subscriber, queue, metrics, logger } = deps;
    const every = (subscriber.visibilityTimeoutSecs * 1000) / 2;
    // extended by a whole timeout every half of it: a slow object never outlives the message's invisibility
    this.#timer = setInterval(() => {
      queue.setVisibility(msg.receiptHandle, subscriber.visibilityTimeoutSecs).then(
        () => metrics?.sqsVisibilityExtensions.inc({ queue: queue.name }),
        (e: unknown) => logger.warn({ queue: queue.name, messageId: msg.id, code: (e as { code?: string }).code }, `Could not extend the visibility of a message: ${(e as Error).message}`),
      );
    }, every);
    this.#timer.unref();
  }

  #stop(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    clearInterval(this.#timer);
    return true;
  }

  /** Every object is durable: the message goes. */
  async delete(): Promise<void> {
    if (!this.#stop()) return;
    const { queue, metrics, logger } = this.deps;
    try {
      await queue.delete(this.msg.receiptHandle);
      metrics?.sqsDeleted.inc({ queue: queue.name });
    } catch (e) {
      // the objects are marked: a redelivery is recognised and deleted then
      logger.warn({ queue: queue.name, messageId: this.msg.id, code: (e as { code?: string }).code }, `${(e as Error).message}; the message comes back and is deleted then without reading its objects again`);
    }
  }

  /** Not handled (the worker stops, or an output failed before its turn): visible again at once, not a failure. */
  async handBack(): Promise<void> {
    if (!this.#stop()) return;
    await this.deps.queue.setVisibility(this.msg.receiptHandle, 0).catch(() => undefined);
  }

  /**
   * Left for redelivery: it comes back after its visibility timeout (not at once: a failing object must not burn
   * through maxReceiveCount in seconds), and after maxReceiveCount in the dead-letter queue.
   */
  leave(reason: 'object' | 'message'): void {
    if (!this.#stop()) return;
    this.deps.metrics?.sqsFailed.inc({ queue: this.deps.queue.name, reason });
  }
}

export class QueueWorker {
  readonly #deps: WorkerDeps;
  #commits: ObjectCommits;
  readonly #sources = new Map<string, Promise<ObjectSource>>();
  /** objects read and not yet marked (objectId → marked): a second notice of one waits for the first read */
  readonly #unmarked = new Map<string, Promise<boolean>>();
  /** messages whose objects are read, waiting for their commit */
  readonly #pending = new Set<Promise<void>>();
  /** an output failed while reading: the sink refuses work until it is resumed */
  #outputFailed = false;
  /** messages kept in flight because an output or the state failed: handled again before anything is received */
  #held: InFlight[] = [];
  /** listed buckets already warned about */
  readonly #warnedListed = new Set<string>();
  #busyMs = 0;
  #windowStart = Date.now();
  /** what the worker did, for tests and the log */
  readonly counts = { messages: 0, deleted: 0, left: 0, held: 0, objects: 0, duplicates: 0, records: 0 };

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
    this.#commits = this.#newCommits();
  }

  #newCommits(): ObjectCommits {
    const { sink, state, logger } = this.#deps;
    return new ObjectCommits({ sink, state, logger });
  }

  /** The synthetic bucket configuration an announced object is read with (the subscriber's credentials and endpoint). */
  bucketOf(bucket: string, type: BucketConfig['type']): BucketConfig {
    const s = this.#deps.subscriber;
    return {
      type,
      name: bucket,
      path: '',
      pathSuffix: '',
      awsAccountAlias: s.awsAccountAlias,
      removeFromBucket: false,
      lookbackDays: 1,
      origin: s.origin,
      ...(s.awsProfile ? { awsProfile: s.awsProfile } : {}),
      ...(s.iamRoleArn ? { iamRoleArn: s.iamRoleArn } : {}),
      ...(s.iamRoleDuration ? { iamRoleDuration: s.iamRoleDuration } : {}),
      ...(s.externalId ? { externalId: s.externalId } : {}),
      ...(s.stsEndpoint ? { stsEndpoint: s.stsEndpoint } : {}),
      ...(s.serviceEndpoint ? { serviceEndpoint: s.serviceEndpoint } : {}),
      ...(s.discardRegex ? { discardRegex: s.discardRegex } : {}),
    };
  }

  #source(b: BucketConfig): Promise<ObjectSource> {
    let s = this.#sources.get(b.name);
    if (!s) {
      s = (this.#deps.sourceFor ?? createS3Source)(b);
      s.catch(() => this.#sources.delete(b.name));
      this.#sources.set(b.name, s);
    }
    return s;
  }

  /** Runs until the signal aborts; then commits what was read, deletes those messages and hands the rest back. */
  async run(): Promise<void> {
    const { queue, subscriber, logger, signal, sink, metrics } = this.#deps;
    let backoff = 0;
    logger.info({ queue: queue.name, url: queue.url }, 'Worker started on queue %s.', queue.name);
    try {
      while (!signal.aborted) {
        if (this.#commits.stopped || this.#outputFailed) {
          // an output or the state failed: its messages stay on the queue; start again once the sink took back
          await this.#commits.settle().catch((e: unknown) => logger.error({ queue: queue.name, code: (e as { code?: string }).code }, `Objects were not committed and their messages are left on the queue: ${(e as Error).message}`));
          await sink.resume?.();
          this.#commits = this.#newCommits();
          this.#outputFailed = false;
          backoff = Math.min(MAX_BACKOFF_MS, Math.max(BACKOFF_MS, backoff * 2));
          await pause(backoff, signal);
          continue;
        }
        let flights: InFlight[];
        if (this.#held.length > 0) {
          // kept through an output failure: read again before anything new is received
          flights = this.#held;
          this.#held = [];
        } else {
          let messages: QueueMessage[];
          try {
            messages = await queue.receive({ max: subscriber.maxMessages, waitSecs: subscriber.waitTimeSecs, visibilitySecs: subscriber.visibilityTimeoutSecs, signal });
            backoff = 0;
          } catch (e) {
            backoff = Math.min(MAX_BACKOFF_MS, Math.max(BACKOFF_MS, backoff * 2));
            logger.error({ queue: queue.name, code: (e as { code?: string }).code }, `${(e as Error).message}; trying again in ${backoff / 1000} s`);
            await pause(backoff, signal);
            continue;
          }
          this.#utilization(0);
          if (messages.length === 0) continue;
          metrics?.sqsReceived.inc({ queue: queue.name }, messages.length);
          const now = Date.now();
          metrics?.sqsOldestMessageAge.set({ queue: queue.name }, Math.max(...messages.map((m) => (now - m.sentAt) / 1000)));
          flights = messages.map((m) => new InFlight(m, this.#deps));
        }
        const busyStart = Date.now();
        for (const p of this.#plan(flights)) {
          if (signal.aborted || this.#commits.stopped || this.#outputFailed) {
            for (const r of p.reads.values()) discardRead(r);
            // not read: kept for after the failure (handed back at once when the worker stops)
            if (signal.aborted) await p.flight.handBack();
            else this.#hold(p.flight, false);
            continue;
          }
          await this.#message(p);
        }
        this.#utilization(Date.now() - busyStart);
      }
    } finally {
      // what was read is committed; the messages of what was committed are deleted
      await this.#commits.settle().catch(() => undefined);
      await Promise.all(this.#pending);
      // kept through an output failure: visible again at once, for another worker or the next start
      for (const f of this.#held.splice(0)) await f.handBack();
      for (const s of this.#sources.values()) void s.then((src) => src.close?.(), () => undefined);
      logger.info({ queue: queue.name, ...this.counts }, 'Worker stopped.');
    }
  }

  #utilization(busy: number): void {
    this.#busyMs += busy;
    const elapsed = Date.now() - this.#windowStart;
    if (elapsed <= 0) return;
    this.#deps.metrics?.sqsUtilization.set({ queue: this.#deps.queue.name }, Math.min(1, this.#busyMs / elapsed));
    if (elapsed > UTILIZATION_WINDOW_MS) {
      this.#busyMs = 0;
      this.#windowStart = Date.now();
    }
  }

  /**
   * Parses the received messages and starts reading their objects ahead (the first prefetchFor(pool) of them that
   * are not already read; a duplicate within the batch is read once). What is not started here starts in turn.
   */
  #plan(flights: InFlight[]): Planned[] {
    let budget = prefetchFor(this.#deps.fetchPool);
    const starting = new Set<string>();
    return flights.map((flight) => {
      const notification = parseNotification(flight.msg.body);
      const reads = new Map<ObjectNotice, StartedRead>();
      if (notification.kind === 'objects') {
        for (const notice of notification.objects) {
          if (budget <= 0) break;
          const d = this.#describe(flight.msg, notice);
          if (!('ref' in d) || starting.has(d.ref.objectId) || this.#unmarked.has(d.ref.objectId) || this.#isMarked(d, flight.msg)) continue;
          starting.add(d.ref.objectId);
          reads.set(notice, this.#startRead(d.b, d.ref, d.account));
          budget--;
        }
      }
      return { flight, notification, reads };
    });
  }

  async #message(p: Planned): Promise<void> {
    const { logger, queue } = this.#deps;
    const { flight: f, notification: n } = p;
    const { msg } = f;
    this.counts.messages++;
    if (n.kind === 'test') {
      logger.info({ queue: queue.name, messageId: msg.id }, 'S3 test event received (the notification is set up); deleted.');
      return f.delete().then(() => void this.counts.deleted++);
    }
    if (n.kind === 'invalid') {
      logger.error({ queue: queue.name, messageId: msg.id, receiveCount: msg.receiveCount, code: 'TLD_ERR_SQS_MESSAGE' }, `Message ${msg.id} on queue ${queue.name} is not an S3 event notification (${n.reason}); it is left on the queue and ends in its dead-letter queue after maxReceiveCount.`);
      this.counts.left++;
      return f.leave('message');
    }
    const ends: ObjectEnd[] = [];
    for (const notice of n.objects) {
      const started = p.reads.get(notice);
      p.reads.delete(notice);
      if (ends.some((e) => 'output' in e)) {
        discardRead(started);
        continue;
      }
      let end: ObjectEnd;
      try {
        end = await this.#object(msg, notice, started);
      } catch (e) {
        // not expected (each failure has its own path): the message is left rather than the worker stopped
        logger.error({ queue: queue.name, messageId: msg.id, key: notice.key }, `Unexpected failure while reading s3://${notice.bucket}/${notice.key}: ${(e as Error).stack ?? String(e)}`);
        end = { failed: (e as Error).message };
      }
      ends.push(end);
    }
    if (ends.some((e) => 'output' in e)) {
      this.#outputFailed = true;
      return this.#hold(f, true);
    }
    if (ends.some((e) => 'failed' in e)) {
      this.counts.left++;
      return f.leave('object');
    }
    // deleted once every object is durable and marked; reading goes on meanwhile
    const settled = Promise.all(ends.map((e) => ('done' in e ? e.done : Promise.resolve(true)))).then(async (marks) => {
      if (marks.every(Boolean)) {
        await f.delete();
        this.counts.deleted++;
      } else this.#hold(f, true);
    });
    this.#pending.add(settled);
    void settled.finally(() => this.#pending.delete(settled));
  }

  /**
   * An output or the state failed before the message's objects were durable (`failed`), or before its turn: kept
   * in flight and read again after the failure, unless it has been kept that way for `holdMaxMs` already.
   */
  #hold(f: InFlight, failed: boolean): void {
    const { logger, queue, signal } = this.#deps;
    f.heldSince ??= Date.now();
    const heldMs = Date.now() - f.heldSince;
    if (heldMs >= (this.#deps.holdMaxMs ?? HOLD_MAX_MS)) {
      // maybe this machine's own failure: another worker may have outputs that work
      this.counts.left++;
      logger.warn({ queue: queue.name, messageId: f.msg.id, code: 'TLD_ERR_OUTPUT' }, `The outputs have failed for ${Math.round(heldMs / 1000)} s while message ${f.msg.id} was kept in flight; it is handed back to the queue (one more receive toward maxReceiveCount) for any worker to read.`);
      void f.handBack();
      return;
    }
    if (failed) {
      this.counts.held++;
      logger.warn({ queue: queue.name, messageId: f.msg.id, code: 'TLD_ERR_OUTPUT' }, `The objects of message ${f.msg.id} were not made durable (an output or the state store failed); the message is kept in flight and read again once the outputs take writes, so its receive count does not grow.`);
    }
    if (signal.aborted) void f.handBack();
    else this.#held.push(f);
  }

  /**
   * What an announced object is: not to read (a folder marker, a digest: `skip`), not readable (`failed`: no layout,
   * Parquet), or the bucket configuration, reference and state place it is read with.
   */
  #describe(msg: QueueMessage, notice: ObjectNotice): { skip: string } | { failed: { code: string; cause: string } } | Described {
    const { subscriber, listedBuckets, logger, queue } = this.#deps;
    if (listedBuckets?.has(notice.bucket) && !this.#warnedListed.has(notice.bucket)) {
      this.#warnedListed.add(notice.bucket);
      logger.warn({ queue: queue.name, bucket: notice.bucket, code: 'TLD_WARN_BUCKET_TWICE' }, `Queue ${queue.name} announces objects of bucket ${notice.bucket}, which a <bucket> block of this configuration also lists: each of its objects is read twice (once listed, once announced), so its records are in the outputs twice. Keep the <bucket> block or the queue for it, not both.`);
    }
    const source = sourceOfKey(notice.key, subscriber.keyPrefixes);
    if (!source) return { failed: { code: 'TLD_ERR_SQS_UNKNOWN_LAYOUT', cause: 'its key fits no known layout (AWSLogs/<account>/vpcflowlogs|CloudTrail|GuardDuty/…) and no <key_prefix type="…"> of the subscriber matches it' } };
    const verdict = classifyKey(source.type, notice.key);
    if (!verdict.read && !verdict.error) return { skip: verdict.reason };
    if (!verdict.read) return { failed: { code: 'TLD_ERR_S3_UNSUPPORTED_OBJECT', cause: verdict.error ?? verdict.reason } };
    const b = this.bucketOf(notice.bucket, source.type);
    const lastModified = notice.eventTime ? new Date(notice.eventTime) : undefined;
    const ref: ObjectRef = {
      bucket: b.name,
      key: notice.key,
      objectId: objectIdOf(notice.bucket, notice.key),
      bucketType: b.type,
      size: notice.size ?? 0,
      ...(source.info?.account ? { accountId: source.info.account } : {}),
      ...(source.info?.region ? { region: source.info.region } : {}),
      ...(source.info?.flowLogId ? { flowLogId: source.info.flowLogId } : {}),
      ...(lastModified && !Number.isNaN(lastModified.getTime()) ? { lastModified } : {}),
    };
    return { b, ref, account: source.info?.account, stateKey: queueScope(notice.bucket, source.type, source.info), day: dayOfMs(msg.sentAt) };
  }

  /** Marked already under the day the message was first sent, or the day before (a duplicate sent around midnight). */
  #isMarked(d: Described, msg: QueueMessage): boolean {
    const { state } = this.#deps;
    return state.isProcessed(d.stateKey, d.day, d.ref.key, { exact: true }) || state.isProcessed(d.stateKey, dayOfMs(msg.sentAt - 86_400_000), d.ref.key, { exact: true });
  }

  /** Reads one announced object into the sink (its read perhaps started ahead) and hands it to the commits. */
  async #object(msg: QueueMessage, notice: ObjectNotice, started: StartedRead | undefined): Promise<ObjectEnd> {
    const { logger, skipOnError, sink, queue, metrics } = this.#deps;
    const where = `s3://${notice.bucket}/${notice.key}`;
    const failed = (code: string, cause: string): ObjectEnd => {
      logger.error({ queue: queue.name, messageId: msg.id, receiveCount: msg.receiveCount, bucket: notice.bucket, key: notice.key, code }, `Cannot read ${where}: ${cause}; its message stays on queue ${queue.name} (dead-letter queue after maxReceiveCount), the object stays in the bucket.`);
      metrics?.errors.inc({ bucket: notice.bucket, type: 'unknown' });
      return { failed: cause };
    };
    const d = this.#describe(msg, notice);
    if ('skip' in d) {
      logger.debug({ key: notice.key, reason: d.skip }, 'Announced key is not a log object; nothing to read.');
      return { done: Promise.resolve(true) };
    }
    if ('failed' in d) return failed(d.failed.code, d.failed.cause);
    const { b, ref, stateKey, day } = d;
    const objectId = ref.objectId;
    const reading = this.#unmarked.get(objectId);
    if (reading || this.#isMarked(d, msg)) {
      discardRead(started);
      this.counts.duplicates++;
      logger.debug({ key: notice.key, messageId: msg.id }, 'Object already read (a redelivery or a duplicate notification); not read again.');
      return { done: reading ?? Promise.resolve(true) };
    }
    const written = { events: 0 };
    let decoded: DecodedObject | undefined;
    let failure: { code: string; message: string } | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        decoded = await this.#decode(ref, (attempt === 1 ? started : undefined) ?? this.#startRead(b, ref, d.account), written);
        break;
      } catch (e) {
        if (e instanceof OutputError) return { output: e };
        if (written.events > 0) await sink.abortObject?.(ref);
        written.events = 0;
        if (e instanceof S3AccessError && e.code === 'TLD_ERR_S3_NO_SUCH_KEY') {
          // deleted since it was announced: there is nothing to read, ever
          logger.warn({ bucket: b.name, key: notice.key, code: e.code }, `${e.message}; its message is deleted`);
          return { done: Promise.resolve(true) };
        }
        if (e instanceof TransientReadError && attempt < READ_ATTEMPTS) {
          logger.warn({ bucket: b.name, key: notice.key, attempt }, `${e.message}; reading it again`);
          await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS * attempt));
          continue;
        }
        failure = { code: (e as { code?: string }).code ?? 'TLD_ERR_S3_BODY', message: (e as Error).message };
        break;
      }
    }
    if (failure || !decoded) return failed(failure?.code ?? 'TLD_ERR_S3_OTHER', failure?.message ?? 'nothing was read');
    let status: 'ok' | 'error' = 'ok';
    let error: string | undefined;
    let records = decoded.records;
    if (decoded.recordErrors.count > 0) {
      const n = decoded.recordErrors.count;
      error = `${n} record${n === 1 ? '' : 's'} could not be read (${decoded.recordErrors.first.join('; ')}${n > QUOTED_RECORD_ERRORS ? '; …' : ''}); the ${records} other${records === 1 ? '' : 's'} were kept`;
      if (!skipOnError) {
        if (written.events > 0) await sink.abortObject?.(ref);
        return failed('TLD_ERR_DECODE_RECORDS', `${error.replace(/; the .* kept$/, '')} and skip_on_error is off`);
      }
      // as the collector does: good records kept, an error event after them, marked with status error
      status = 'error';
      logger.error({ bucket: b.name, key: notice.key, code: 'TLD_ERR_DECODE_RECORDS' }, `Cannot read all of ${where}: ${error}`);
      const errorEvent: AwsEvent = {
        integration: 'aws',
        aws: { log_info: { aws_account_alias: b.awsAccountAlias, log_file: notice.key, s3bucket: b.name }, ...(ref.accountId ? { aws_account_id: ref.accountId } : {}) },
        error_msg: `Failed to read ${where}: ${error}`,
      };
      try {
        await sink.write({ object: ref, firstIndex: written.events, events: [errorEvent] });
      } catch (e) {
        if (e instanceof OutputError) return { output: e };
        throw e;
      }
      records = written.events;
      metrics?.errors.inc({ bucket: b.name, type: b.type });
    }
    this.counts.objects++;
    this.counts.records += records;
    metrics?.objects.inc({ bucket: b.name, type: b.type, status });
    metrics?.records.inc({ bucket: b.name, type: b.type }, records);
    let resolve!: (marked: boolean) => void;
    const done = new Promise<boolean>((r) => (resolve = r));
    let once = false;
    this.#unmarked.set(objectId, done);
    void done.then(() => this.#unmarked.delete(objectId));
    await this.#commits.objectRead(ref, { status, records, ...(error ? { error } : {}) }, { stateKey, day }, (marked) => {
      if (once) return;
      once = true;
      resolve(marked);
    });
    return { done };
  }

  /** Starts reading the object (on a fetch thread when there are some, VPC decoded there too); failures surface in #decode. */
  #startRead(b: BucketConfig, ref: ObjectRef, account: string | undefined): StartedRead & { b: BucketConfig; account: string | undefined } {
    const { fetchPool, sourceFor, metrics } = this.#deps;
    const req = { key: ref.key, listedSize: ref.size };
    const counted = (n: number) => metrics?.bytes.inc({ bucket: b.name, type: b.type }, n);
    // a source given by the caller cannot cross to another thread
    if (fetchPool && !sourceFor) {
      if (b.type === 'vpcflow') {
        const logInfo = { aws_account_alias: b.awsAccountAlias, log_file: ref.key, s3bucket: b.name };
        return { b, account, flows: fetchPool.readFlows(b, req, counted, { logInfo, ...(account ? { accountId: account } : {}), ...(b.discardRegex ? { discard: b.discardRegex } : {}) }) };
      }
      return { b, account, bytes: fetchPool.read(b, req, counted) };
    }
    // the bucket's source is built on first use; the GET waits for it
    const source = this.#source(b);
    const opened = source.then((s) => s.get(ref.key));
    return { b, account, bytes: readContent(getOnly(b.name, source), req, counted, opened) };
  }

  /** Decodes a started read into the sink (see decode-object.ts). */
  #decode(ref: ObjectRef, read: StartedRead, written: { events: number }): Promise<DecodedObject> {
    const { sink } = this.#deps;
    const r = read as StartedRead & { b: BucketConfig; account: string | undefined };
    return 'bytes' in r ? decodeObject(r.b, r.account, ref, r.bytes, sink, written) : decodeFlowObject(ref, r.flows, sink, written);
  }
}

/** An ObjectSource that is still being built: a worker only gets objects, it never lists or deletes. */
function getOnly(bucket: string, source: Promise<ObjectSource>): ObjectSource {
  const never = (): never => {
    throw new Error('a queue worker does not list or delete objects');
  };
  return { bucket, list: never, listPrefixes: never, get: (key) => source.then((s) => s.get(key)), delete: never };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
