/**
 * CloudTrail log files: one JSON document `{"Records":[…]}` (also accepted: a top-level array of records and
 * an EventBridge "AWS API Call via CloudTrail" event). Digest files and Insights records are skipped.
 * Reshaping follows Wazuh (reference §4.4/§4.5): `source: "cloudtrail"`, `aws_account_id` from the key,
 * `source_ip_address`, single-element lists unwrapped, and non-object `requestParameters`,
 * `responseElements`, `additionalEventData` wrapped as `{"string": "<JSON text>"}`.
 *
 * Streaming: the records array is cut into records as the bytes arrive (json/records-array.ts) and each
 * record is parsed and yielded at once, so a file of any size decodes in memory bounded by its largest
 * record (measured on generated gzip objects: 400k records, 190 MB of JSON, used to peak at 1.4 GB of heap, over
 * the service's 256 MB limit; now 1M records, 480 MB, peak at 37 MB of heap and 135 MB RSS).
 * A record that cannot be read (invalid JSON, over MAX_RECORD_BYTES, not an object) is reported through
 * `onRecordError` with its index, byte offset and cause, and skipped (without a handler the object fails
 * after the records before it); a broken document structure is an ObjectDecodeError after the records
 * before it.
 */
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext, ObjectDecoder } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { compileDiscard, type DiscardTest } from '../discard.js';
import { MAX_RECORD_BYTES, RecordsArrayScanner, type RecordItem } from '../json/records-array.js';
import { isObject, reformat, removeNulls, wrapRecord, type Json } from '../reshape.js';

const DYNAMIC_FIELDS = ['additionalEventData', 'responseElements', 'requestParameters'];
const DIGEST_KEYS = ['digestStartTime', 'digestS3Object'];

/** The records of a document that has no "Records" array (given its other members). */
function recordsWithoutArray(doc: Json): unknown[] {
  if (DIGEST_KEYS.some((k) => k in doc)) return []; // a CloudTrail digest file
  if (isObject(doc.detail) && typeof doc['detail-type'] === 'string') return [doc.detail];
  if (typeof doc.eventName === 'string' && typeof doc.eventSource === 'string') return [doc];
  throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', 'no "Records" array: not a CloudTrail log file');
}

function isInsight(r: Json): boolean {
  return r.eventCategory === 'Insight' || r.eventType === 'AwsCloudTrailInsight' || 'insightDetails' in r;
}

export class CloudTrailDecoder implements ObjectDecoder {
  readonly #ctx: DecodeContext;
  readonly #scanner = new RecordsArrayScanner({ key: 'Records' });
  readonly #discard: DiscardTest | undefined;
  readonly #tail: Json;
  /** an error met while producing events already returned; thrown by the next call */
  #deferred: ObjectDecodeError | undefined;

  constructor(ctx: DecodeContext) {
    this.#ctx = ctx;
    this.#discard = ctx.discard ? compileDiscard(ctx.discard) : undefined;
    this.#tail = ctx.accountId === undefined ? { source: 'cloudtrail' } : { source: 'cloudtrail', aws_account_id: ctx.accountId };
  }

  push(chunk: Buffer): AwsEvent[] {
    if (this.#deferred) throw this.#deferred;
    const out: AwsEvent[] = [];
    for (const item of this.#scanner.push(chunk)) {
      if (this.#deferred) break;
      this.#item(item, out);
    }
    this.#deferred ??= this.#scanner.fatal;
    return out;
  }

  end(): AwsEvent[] {
    if (this.#deferred) throw this.#deferred;
    const error = this.#scanner.finish();
    if (error) throw error;
    if (this.#scanner.foundArray) return [];
    const doc = this.#scanner.otherMembers();
    if (doc === undefined) {
      if (DIGEST_KEYS.some((k) => this.#scanner.memberNames.has(k))) return [];
      throw new ObjectDecodeError('TLD_ERR_DECODE_TOO_LARGE', `no "Records" array, and the document is larger than ${MAX_RECORD_BYTES} bytes: not a CloudTrail log file`);
    }
    const out: AwsEvent[] = [];
    for (const [i, r] of recordsWithoutArray(doc).entries()) this.#item({ index: i + 1, offset: 0, line: 1, value: r }, out);
    return out;
  }

  #item(item: RecordItem, out: AwsEvent[]): void {
    if (item.error !== undefined) {
      if (this.#ctx.onRecordError) this.#ctx.onRecordError(item.line, `${item.error}; record skipped`, { record: item.index, offset: item.offset, cause: item.error });
      else this.#deferred = new ObjectDecodeError('TLD_ERR_DECODE_JSON', item.error, { offset: item.offset });
      return;
    }
    const r = item.value;
    if (!isObject(r)) {
      const cause = `record ${item.index} (from byte ${item.offset}) is not a JSON object`;
      if (this.#ctx.onRecordError) this.#ctx.onRecordError(item.line, `${cause}; record skipped`, { record: item.index, offset: item.offset, cause });
      else this.#deferred = new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', cause, { offset: item.offset });
      return;
    }
    if (isInsight(r)) return;
    if (this.#discard?.({ ...r, source: 'cloudtrail' })) {
      this.#ctx.onDiscard?.();
      return;
    }
    removeNulls(r);
    const aws = wrapRecord(this.#ctx.logInfo, r, this.#tail);
    reformat(aws);
    for (const f of DYNAMIC_FIELDS) {
      if (Object.hasOwn(aws, f) && !isObject(aws[f])) aws[f] = { string: JSON.stringify(aws[f]) };
    }
    const params = aws.requestParameters;
    if (isObject(params) && typeof params.disableApiTermination === 'boolean') {
      params.disableApiTermination = { value: params.disableApiTermination };
    }
    out.push({ integration: 'aws', aws });
  }
}
