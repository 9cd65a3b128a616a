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
 * - a body that is no S3 notification;
 * - any message whose objects were not made durable because an output or the state store failed.
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
import type { FetchPool } from '../s3/fetch-pool.js';
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
  now?: () => Date;
}

/** Reads of one object before it is left on the queue, and the pause before each new attempt (ms). */
const READ_ATTEMPTS = 3;
const RETRY_PAUSE_MS = 200;
/** Pause after a failed ReceiveMessage or an output failure, doubling up to the maximum (ms). */
const BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
/** The window over which worker utilization is measured (ms). */
const UTILIZATION_WINDOW_MS = 60_000;

/** The state-store scope of objects read through a queue (`path` 'sqs:' keeps them apart from listed buckets). */
export function queueScope(bucket: string, type: string, info: { account?: string; region?: string; flowLogId?: string } | undefined): ScopeKey {
  return { bucket, path: 'sqs:', type, account: info?.account ?? '', region: info?.region ?? '', flowLogId: info?.flowLogId ?? '' };
}

const dayOfMs = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** How one announced object ended. */
type ObjectEnd = { done: Promise<boolean> } | { failed: string } | { output: OutputError };

/** A received message while it is being handled: its heartbeat, and whether it was settled. */
class InFlight {
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
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

  /** Left for redelivery: it comes back after its visibility timeout (or at once with `now`). */
  async leave(reason: 'object' | 'message' | 'output', now = false): Promise<void> {
    if (!this.#stop()) return;
    const { queue, metrics } = this.deps;
    metrics?.sqsFailed.inc({ queue: queue.name, reason });
    if (now) await queue.setVisibility(this.msg.receiptHandle, 0).catch(() => undefined);
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
  #busyMs = 0;
  #windowStart = Date.now();
  /** what the worker did, for tests and the log */
  readonly counts = { messages: 0, deleted: 0, left: 0, objects: 0, duplicates: 0, records: 0 };

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
        const busyStart = Date.now();
        metrics?.sqsReceived.inc({ queue: queue.name }, messages.length);
        const now = Date.now();
        metrics?.sqsOldestMessageAge.set({ queue: queue.name }, Math.max(...messages.map((m) => (now - m.sentAt) / 1000)));
        const flights = messages.map((m) => new InFlight(m, this.#deps));
        for (const f of flights) {
          if (signal.aborted || this.#commits.stopped || this.#outputFailed) {
            await f.leave('output', true);
            continue;
          }
          await this.#message(f);
        }
        this.#utilization(Date.now() - busyStart);
      }
    } finally {
      // what was read is committed; the messages of what was committed are deleted
      await this.#commits.settle().catch(() => undefined);
      await Promise.all(this.#pending);
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

  async #message(f: InFlight): Promise<void> {
    const { logger, queue } = this.#deps;
    const { msg } = f;
    this.counts.messages++;
    const n = parseNotification(msg.body);
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
      const end = await this.#object(msg, notice);
      ends.push(end);
      if ('output' in end) break;
    }
    if (ends.some((e) => 'output' in e)) {
      this.#outputFailed = true;
      this.counts.left++;
      return f.leave('output');
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
      } else {
        this.counts.left++;
        await f.leave('output');
      }
    });
    this.#pending.add(settled);
    void settled.finally(() => this.#pending.delete(settled));
  }

  /** Reads one announced object into the sink and hands it to the commits. */
  async #object(msg: QueueMessage, notice: ObjectNotice): Promise<ObjectEnd> {
    const { subscriber, state, logger, skipOnError, sink, queue, metrics } = this.#deps;
    const where = `s3://${notice.bucket}/${notice.key}`;
    const failed = (code: string, cause: string): ObjectEnd => {
      logger.error({ queue: queue.name, messageId: msg.id, receiveCount: msg.receiveCount, bucket: notice.bucket, key: notice.key, code }, `Cannot read ${where}: ${cause}; its message stays on queue ${queue.name} (dead-letter queue after maxReceiveCount), the object stays in the bucket.`);
      metrics?.errors.inc({ bucket: notice.bucket, type: 'unknown' });
      return { failed: cause };
    };
    const source = sourceOfKey(notice.key, subscriber.keyPrefixes);
    if (!source) return failed('TLD_ERR_SQS_UNKNOWN_LAYOUT', 'its key fits no known layout (AWSLogs/<account>/vpcflowlogs|CloudTrail|GuardDuty/…) and no <key_prefix type="…"> of the subscriber matches it');
    const verdict = classifyKey(source.type, notice.key);
    if (!verdict.read && !verdict.error) {
      logger.debug({ key: notice.key, reason: verdict.reason }, 'Announced key is not a log object; nothing to read.');
      return { done: Promise.resolve(true) };
    }
    if (!verdict.read) return failed('TLD_ERR_S3_UNSUPPORTED_OBJECT', verdict.error ?? verdict.reason);

    const objectId = objectIdOf(notice.bucket, notice.key);
    const reading = this.#unmarked.get(objectId);
    if (reading) {
      this.counts.duplicates++;
      return { done: reading };
    }
    const stateKey = queueScope(notice.bucket, source.type, source.info);
    const day = dayOfMs(msg.sentAt);
    const before = dayOfMs(msg.sentAt - 86_400_000);
    if (state.isProcessed(stateKey, day, notice.key, { exact: true }) || state.isProcessed(stateKey, before, notice.key, { exact: true })) {
      this.counts.duplicates++;
      logger.debug({ key: notice.key, messageId: msg.id }, 'Object already read (a redelivery or a duplicate notification); not read again.');
      return { done: Promise.resolve(true) };
    }
    const b = this.bucketOf(notice.bucket, source.type);
    const lastModified = notice.eventTime ? new Date(notice.eventTime) : undefined;
    const ref: ObjectRef = {
      bucket: b.name,
      key: notice.key,
      objectId,
      bucketType: b.type,
      size: notice.size ?? 0,
      ...(source.info?.account ? { accountId: source.info.account } : {}),
      ...(source.info?.region ? { region: source.info.region } : {}),
      ...(source.info?.flowLogId ? { flowLogId: source.info.flowLogId } : {}),
      ...(lastModified && !Number.isNaN(lastModified.getTime()) ? { lastModified } : {}),
    };
    const written = { events: 0 };
    let decoded: DecodedObject | undefined;
    let failure: { code: string; message: string } | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        decoded = await this.#decode(b, ref, source.info?.account, written);
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

  /** Reads and decodes the object (on a fetch thread when there are some, VPC decoded there too). */
  async #decode(b: BucketConfig, ref: ObjectRef, account: string | undefined, written: { events: number }): Promise<DecodedObject> {
    const { fetchPool, sourceFor, sink, metrics } = this.#deps;
    const req = { key: ref.key, listedSize: ref.size };
    const counted = (n: number) => metrics?.bytes.inc({ bucket: b.name, type: b.type }, n);
    // a source given by the caller cannot cross to another thread
    if (fetchPool && !sourceFor) {
      if (b.type === 'vpcflow') {
        const logInfo = { aws_account_alias: b.awsAccountAlias, log_file: ref.key, s3bucket: b.name };
        const flows = fetchPool.readFlows(b, req, counted, { logInfo, ...(account ? { accountId: account } : {}), ...(b.discardRegex ? { discard: b.discardRegex } : {}) });
        return decodeFlowObject(ref, flows, sink, written);
      }
      return decodeObject(b, account, ref, fetchPool.read(b, req, counted), sink, written);
    }
    const source = await this.#source(b);
    return decodeObject(b, account, ref, readContent(source, req, counted), sink, written);
  }
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
