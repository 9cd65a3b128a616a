/**
 * CloudTrail log files: one JSON document `{"Records":[…]}` (also accepted: a top-level array of records and
 * an EventBridge "AWS API Call via CloudTrail" event). Digest files and Insights records are skipped.
 * Reshaping follows Wazuh (reference §4.4/§4.5): `source: "cloudtrail"`, `aws_account_id` from the key,
 * `source_ip_address`, single-element lists unwrapped, and non-object `requestParameters`,
 * `responseElements`, `additionalEventData` wrapped as `{"string": "<JSON text>"}`.
 */
import { StringDecoder } from 'node:string_decoder';
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext, ObjectDecoder } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { compileDiscard, type DiscardTest } from '../discard.js';
import { isObject, reformat, removeNulls, wrapRecord, type Json } from '../reshape.js';
/** JSON.parse needs the document as one string; V8 strings stop at about 512 Mi characters. */
const MAX_DOCUMENT_BYTES = 400 * 1024 * 1024;
const DYNAMIC_FIELDS = ['additionalEventData', 'responseElements', 'requestParameters'];

function recordsOf(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (!isObject(doc)) throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', 'the file is not a JSON object or array');
  if (Array.isArray(doc.Records)) return doc.Records;
  if ('digestStartTime' in doc || 'digestS3Object' in doc) return []; // a CloudTrail digest file
  if (isObject(doc.detail) && typeof doc['detail-type'] === 'string') return [doc.detail];
  if (typeof doc.eventName === 'string' && typeof doc.eventSource === 'string') return [doc];
  throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', 'no "Records" array: not a CloudTrail log file');
}

function isInsight(r: Json): boolean {
  return r.eventCategory === 'Insight' || r.eventType === 'AwsCloudTrailInsight' || 'insightDetails' in r;
}

export class CloudTrailDecoder implements ObjectDecoder {
  readonly #ctx: DecodeContext;
  readonly #text = new StringDecoder('utf8');
  readonly #parts: string[] = [];
  #bytes = 0;
  readonly #discard: DiscardTest | undefined;

  constructor(ctx: DecodeContext) {
    this.#ctx = ctx;
    this.#discard = ctx.discard ? compileDiscard(ctx.discard) : undefined;
  }

  push(chunk: Buffer): AwsEvent[] {
    this.#bytes += chunk.length;
    if (this.#bytes > MAX_DOCUMENT_BYTES) {
      throw new ObjectDecodeError('TLD_ERR_DECODE_TOO_LARGE', `a CloudTrail log file larger than ${MAX_DOCUMENT_BYTES} bytes cannot be parsed as one JSON document`);
    }
    this.#parts.push(this.#text.write(chunk));
    return [];
  }

  end(): AwsEvent[] {
    this.#parts.push(this.#text.end());
    const text = this.#parts.join('');
    this.#parts.length = 0;
    if (text.trim() === '') throw new ObjectDecodeError('TLD_ERR_DECODE_EMPTY_OBJECT', 'the object is empty');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new ObjectDecodeError('TLD_ERR_DECODE_JSON', `invalid JSON: ${(e as Error).message}`);
    }
    const out: AwsEvent[] = [];
    for (const [i, r] of recordsOf(doc).entries()) {
      if (!isObject(r)) {
        this.#ctx.onRecordError?.(0, `record ${i + 1} is not a JSON object`);
        continue;
      }
      if (isInsight(r)) continue;
      if (this.#discard?.({ ...r, source: 'cloudtrail' })) {
        this.#ctx.onDiscard?.();
        continue;
      }
      removeNulls(r);
      const tail: Json = this.#ctx.accountId === undefined ? { source: 'cloudtrail' } : { source: 'cloudtrail', aws_account_id: this.#ctx.accountId };
      const aws = wrapRecord(this.#ctx.logInfo, r, tail);
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
    return out;
  }
}
