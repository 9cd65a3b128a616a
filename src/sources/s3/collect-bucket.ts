/**
 * Reads one configured bucket: finds its scopes (account × region, or the Firehose prefix), lists each from
 * the start of its look-back window, and hands every object not yet processed to the pipeline exactly once:
 * decode → `sink.write` batches → `sink.objectDone` → `state.markProcessed` (per object) → optional delete.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { BucketConfig } from '../../config/types.js';
import type { AwsEvent, ObjectRef } from '../../shared/events.js';
import type { EventSink } from '../../shared/sink.js';
import type { ScopeKey, StateStore } from './state/types.js';
import { createObjectDecoder, decompress, detectCompression } from '../../decoders/index.js';
import { createS3Source, type ListedObject, type ObjectSource } from './client.js';
import { S3AccessError } from './errors.js';
import { ACCOUNT_FOLDER, ORG_FOLDER, SERVICE_FOLDER, awsLogsBase, classifyKey, dayFolder, dayOf, flowLogIdOf, lastFolder } from './layout.js';

export interface BucketSummary {
  bucket: string;
  type: string;
  path: string;
  objects: number;
  records: number;
  bytes: number;
  /** objects already processed earlier (seen in the look-back window) */
  skipped: number;
  /** one line per bad object: `s3://bucket/key: cause` */
  errors: string[];
  /** a bucket-level failure (access, endpoint, credentials…) stopped the bucket */
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
}

interface Scope {
  /** state scope without the flow-log id */
  key: ScopeKey;
  /** where the date folders start */
  prefix: string;
  account?: string;
  region?: string;
}

const BATCH = 5000;

function today(now: Date): string {
  return now.toISOString().slice(0, 10);
}

function shiftDay(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function objectIdOf(bucket: string, key: string): string {
  return createHash('sha1').update(`${bucket}/${key}`).digest('hex').slice(0, 16);
}

/** Account × region scopes of an AWSLogs-layout service folder (discovered when not configured; paginated). */
async function awsLogsScopes(b: BucketConfig, source: ObjectSource, service: string): Promise<Scope[]> {
  const base = awsLogsBase(b);
  const roots: { prefix: string; account: string; org?: string }[] = [];
  if (b.awsAccountIds) {
    for (const account of b.awsAccountIds) roots.push({ prefix: `${base}${account}/`, account });
  } else {
    for (const folder of await source.listPrefixes(base)) {
      const name = lastFolder(folder);
      if (ACCOUNT_FOLDER.test(name)) roots.push({ prefix: folder, account: name });
      else if (ORG_FOLDER.test(name) && !b.awsOrganizationId) {
        for (const sub of await source.listPrefixes(folder)) {
          const acct = lastFolder(sub);
          if (ACCOUNT_FOLDER.test(acct)) roots.push({ prefix: sub, account: acct, org: name });
        }
      }
    }
  }
  const scopes: Scope[] = [];
  for (const root of roots) {
    const servicePrefix = `${root.prefix}${service}/`;
    const regions = b.regions ?? (await source.listPrefixes(servicePrefix)).map(lastFolder);
    const path = `${b.path}${b.pathSuffix}${b.awsOrganizationId ? `${b.awsOrganizationId}/` : root.org ? `${root.org}/` : ''}`;
    for (const region of regions) {
      scopes.push({
        key: { bucket: b.name, path, type: b.type, account: root.account, region, flowLogId: '' },
        prefix: `${servicePrefix}${region}/`,
        account: root.account,
        region,
      });
    }
  }
  return scopes;
}

function firehoseScope(b: BucketConfig): Scope {
  return { key: { bucket: b.name, path: b.path, type: b.type, account: '', region: '', flowLogId: '' }, prefix: b.path };
}

/** Every scope of a bucket. GuardDuty buckets may hold the native export (`AWSLogs/`), Firehose output, or both. */
export async function scopesOf(b: BucketConfig, source: ObjectSource): Promise<Scope[]> {
  if (b.type === 'vpcflow' || b.type === 'cloudtrail') return awsLogsScopes(b, source, SERVICE_FOLDER[b.type]);
  if (b.type === 'custom') return [firehoseScope(b)];
  const folders = await source.listPrefixes(b.path);
  const scopes: Scope[] = [];
  if (folders.includes(`${b.path}AWSLogs/`)) scopes.push(...(await awsLogsScopes(b, source, SERVICE_FOLDER.guardduty)));
  if (folders.some((f) => /^\d{4}$/.test(lastFolder(f)))) scopes.push(firehoseScope(b));
  return scopes;
}

class BucketRun {
  readonly summary: BucketSummary;
  #stopped = false;

  constructor(
    readonly b: BucketConfig,
    readonly source: ObjectSource,
    readonly deps: CollectDeps,
  ) {
    this.summary = { bucket: b.name, type: b.type, path: b.path, objects: 0, records: 0, bytes: 0, skipped: 0, errors: [], failed: false };
  }

  /** First day to list in a scope: the look-back window, or (first run) only_logs_after / today. */
  #startDay(scopeKeys: ScopeKey[]): string {
    const { state, now } = this.deps;
    const lookback = this.b.lookbackDays;
    const known = scopeKeys.map((k) => state.newestDay(k)).filter((d): d is string => d !== undefined);
    let start = known.length > 0 ? shiftDay(known.sort()[0] as string, -lookback) : (this.b.onlyLogsAfter ?? today(now()));
    if (this.b.onlyLogsAfter && start < this.b.onlyLogsAfter) start = this.b.onlyLogsAfter;
    return start;
  }

  async run(): Promise<BucketSummary> {
    const scopes = await scopesOf(this.b, this.source);
    if (scopes.length === 0) {
      this.deps.logger.warn({ bucket: this.b.name, path: this.b.path, type: this.b.type }, 'No logs found under this bucket and path; run `tld doctor` to see why.');
    }
    for (const scope of scopes) {
      if (this.#stopped || this.deps.signal.aborted) break;
      await this.#scope(scope);
    }
    return this.summary;
  }

  async #scope(scope: Scope): Promise<void> {
    const { state, window } = this.deps;
    const flowScopes = state.scopes().filter((k) => k.bucket === scope.key.bucket && k.path === scope.key.path && k.type === scope.key.type && k.account === scope.key.account && k.region === scope.key.region);
    const startDay = window ? window.from : this.#startDay(flowScopes.length ? flowScopes : [scope.key]);
    for await (const obj of this.source.list(scope.prefix, { startAfter: `${scope.prefix}${dayFolder(startDay)}` })) {
      if (this.#stopped || this.deps.signal.aborted) return;
      const day = dayOf(obj.key, scope.prefix) ?? (obj.lastModified ?? this.deps.now()).toISOString().slice(0, 10);
      if (window && day > window.to) return;
      if (this.b.onlyLogsAfter && day < this.b.onlyLogsAfter && !window) continue;
      const key: ScopeKey = this.b.type === 'vpcflow' ? { ...scope.key, flowLogId: flowLogIdOf(obj.key) } : scope.key;
      const verdict = classifyKey(this.b.type, obj.key);
      if (!verdict.read && !verdict.error) continue;
      const done = state.isProcessed(key, day, obj.key, { exact: window !== undefined });
      if (done && !window) {
        this.summary.skipped++;
        continue;
      }
      await this.#object(scope, key, day, obj, verdict.read ? undefined : verdict.error, done);
    }
  }

  async #object(scope: Scope, stateKey: ScopeKey, day: string, obj: ListedObject, refusal: string | undefined, replayed: boolean): Promise<void> {
    const { sink, state, logger, skipOnError } = this.deps;
    const b = this.b;
    const ref: ObjectRef = {
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
    const logInfo = { aws_account_alias: b.awsAccountAlias, log_file: obj.key, s3bucket: b.name };
    let index = 0;
    let batch: AwsEvent[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const events = batch;
      batch = [];
      await sink.write({ object: ref, firstIndex: index - events.length, events });
    };
    const lineErrors: string[] = [];
    let failure: string | undefined;
    let body: Buffer | undefined;
    try {
      if (refusal) throw new Error(refusal);
      body = await this.source.get(obj.key);
    } catch (e) {
      if (e instanceof S3AccessError && e.code !== 'TLD_ERR_S3_ACCESS_DENIED' && e.code !== 'TLD_ERR_S3_NO_SUCH_KEY') throw e;
      if (e instanceof S3AccessError) {
        // this object cannot be read now; it is not marked, so it is tried again next cycle
        this.summary.errors.push(`s3://${b.name}/${obj.key}: ${e.message}`);
        logger.error({ bucket: b.name, key: obj.key, code: e.code }, e.message);
        return;
      }
      failure = (e as Error).message;
    }
    if (body) {
      this.summary.bytes += body.length;
      const decoder = createObjectDecoder({
        bucketType: b.type,
        logInfo,
        ...(scope.account && b.type !== 'guardduty' ? { accountId: scope.account } : {}),
        ...(b.discardRegex ? { discard: b.discardRegex } : {}),
        onRecordError: (line, message) => lineErrors.push(`line ${line}: ${message}`),
      });
      try {
        const kind = detectCompression(body.subarray(0, 64), body.length);
        for await (const chunk of decompress(body, kind)) {
          for (const e of decoder.push(chunk)) {
            batch.push(e);
            index++;
          }
          if (batch.length >= BATCH) await flush();
        }
        for (const e of decoder.end()) {
          batch.push(e);
          index++;
        }
        await flush();
      } catch (e) {
        await flush();
        const err = e as Error & { code?: string };
        failure = err.code?.startsWith('TLD_ERR_DECODE') ? err.message : `unexpected error: ${err.message}`;
      }
    }
    if (lineErrors.length > 0) {
      logger.warn({ bucket: b.name, key: obj.key, count: lineErrors.length, first: lineErrors.slice(0, 3) }, 'Some records of the object could not be read; the others were kept.');
    }
    if (failure !== undefined) {
      const line = `s3://${b.name}/${obj.key}: ${failure}`;
      this.summary.errors.push(line);
      logger.error({ bucket: b.name, key: obj.key }, `Cannot read object: ${failure}`);
      if (!skipOnError) {
        await sink.abortObject?.(ref);
        this.summary.failed = true;
        this.summary.failure = `stopped at s3://${b.name}/${obj.key} (skip_on_error is off; it is read again next cycle): ${failure}`;
        this.#stopped = true;
        return;
      }
      const errorEvent: AwsEvent = {
        integration: 'aws',
        aws: { log_info: logInfo, ...(scope.account ? { aws_account_id: scope.account } : {}) },
        error_msg: `Failed to read s3://${b.name}/${obj.key}: ${failure}`,
      };
      await sink.write({ object: ref, firstIndex: index, events: [errorEvent] });
    }
    const status = failure === undefined ? 'ok' : 'error';
    const checkpoint = await sink.objectDone(ref, { status, records: index, ...(failure ? { error: failure } : {}) });
    if (!replayed) state.markProcessed(stateKey, day, obj.key, { status, ...(checkpoint ? { checkpoint } : {}) });
    this.summary.objects++;
    this.summary.records += index;
    if (obj.lastModified && (!this.summary.newest || obj.lastModified > this.summary.newest)) this.summary.newest = obj.lastModified;
    this.deps.onProgress?.({ bucket: b.name, objects: this.summary.objects, records: this.summary.records, bytes: this.summary.bytes, key: obj.key });
    if (b.removeFromBucket && status === 'ok') {
      try {
        await this.source.delete(obj.key);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        this.summary.errors.push(`s3://${b.name}/${obj.key}: not deleted: ${msg}`);
        logger.error({ bucket: b.name, key: obj.key }, msg);
      }
    }
  }
}

/** Reads one bucket. Bucket-level failures (access, endpoint, credentials) end up in the summary, not thrown. */
export async function collectBucket(b: BucketConfig, source: ObjectSource, deps: CollectDeps): Promise<BucketSummary> {
  const run = new BucketRun(b, source, deps);
  try {
    return await run.run();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    deps.logger.error({ bucket: b.name, code: (e as { code?: string }).code }, msg);
    return { ...run.summary, failed: true, failure: msg };
  }
}

/** Reads every bucket, one after another; one failing bucket never stops the others. */
export async function collectAll(buckets: BucketConfig[], deps: CollectDeps): Promise<BucketSummary[]> {
  const out: BucketSummary[] = [];
  for (const b of buckets) {
    if (deps.signal.aborted) break;
    deps.logger.info({ bucket: b.name, type: b.type, path: b.path }, 'Reading bucket.');
    let source: ObjectSource;
    try {
      source = await (deps.sourceFor ?? createS3Source)(b);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      out.push({ bucket: b.name, type: b.type, path: b.path, objects: 0, records: 0, bytes: 0, skipped: 0, errors: [], failed: true, failure: msg });
      continue;
    }
    out.push(await collectBucket(b, source, deps));
  }
  return out;
}
