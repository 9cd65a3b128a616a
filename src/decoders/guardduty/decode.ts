/**
 * GuardDuty findings, as Kinesis Firehose writes EventBridge envelopes (`{…}{…}`, or newline-delimited) and
 * as GuardDuty's native export writes them (JSON Lines of bare findings, gzip). Also used by `custom`
 * buckets for any EventBridge source. Events keep Wazuh's shape: the finding (the envelope's `detail`)
 * under `aws`, plus `source` (envelope source without `aws.`, or `service.serviceName`). A finding with
 * several `portProbeDetails` becomes one event per entry, as in Wazuh (we reshape every copy the same way).
 */
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext, ObjectDecoder } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { compileDiscard, type DiscardTest } from '../discard.js';
import { ConcatenatedJsonSplitter } from '../json/concatenated.js';
import { isObject, reformat, removeNulls } from '../reshape.js';

type Json = Record<string, unknown>;

/** The record and its `source` for one parsed JSON value; undefined for values to skip. */
export function unwrapEnvelope(value: unknown, index: number): { record: Json; source: string } | undefined {
  if (!isObject(value)) throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `JSON value ${index + 1} is not an object`);
  if ('detail' in value) {
    if (!isObject(value.detail)) return undefined;
    const src = typeof value.source === 'string' ? value.source.replace(/^aws\./, '') : 'unknown';
    return { record: value.detail, source: src };
  }
  if ('detail-type' in value) return undefined; // an envelope without detail: nothing to analyse
  if ('SchemaVersion' in value || 'Service' in value || 'AccountId' in value) {
    throw new ObjectDecodeError(
      'TLD_ERR_DECODE_FORMAT',
      `JSON value ${index + 1} is a PascalCase (SDK/Security Hub style) finding; GuardDuty writes lowerCamelCase to S3 and EventBridge`,
    );
  }
  if ('schemaVersion' in value || 'service' in value) {
    const service = isObject(value.service) ? value.service : {};
    return { record: value, source: typeof service.serviceName === 'string' ? service.serviceName : 'guardduty' };
  }
  throw new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `JSON value ${index + 1} is neither an EventBridge event nor a GuardDuty finding`);
}

function portProbeDetails(record: Json): unknown[] | undefined {
  const service = record.service;
  if (!isObject(service) || !isObject(service.action) || !isObject(service.action.portProbeAction)) return undefined;
  const details = service.action.portProbeAction.portProbeDetails;
  return Array.isArray(details) && details.length > 1 ? details : undefined;
}

/** One copy of the finding per port-probe detail (copies only the objects on the path). */
function splitPortProbe(record: Json, details: unknown[]): Json[] {
  const service = record.service as Json;
  const action = service.action as Json;
  const probe = action.portProbeAction as Json;
  return details.map((detail) => ({
    ...record,
    service: { ...service, action: { ...action, portProbeAction: { ...probe, portProbeDetails: detail } } },
  }));
}

export class FindingsDecoder implements ObjectDecoder {
  readonly #ctx: DecodeContext;
  readonly #splitter = new ConcatenatedJsonSplitter();
  readonly #discard: DiscardTest | undefined;
  #count = 0;

  constructor(ctx: DecodeContext) {
    this.#ctx = ctx;
    this.#discard = ctx.discard ? compileDiscard(ctx.discard) : undefined;
  }

  push(chunk: Buffer): AwsEvent[] {
    return this.#events(this.#splitter.push(chunk));
  }

  end(): AwsEvent[] {
    const tail = this.#splitter.end();
    const events = this.#events(tail);
    if (this.#count === 0) throw new ObjectDecodeError('TLD_ERR_DECODE_EMPTY_OBJECT', 'the object holds no JSON');
    return events;
  }

  #events(values: unknown[]): AwsEvent[] {
    const out: AwsEvent[] = [];
    for (const value of values) {
      const unwrapped = unwrapEnvelope(value, this.#count++);
      if (!unwrapped) continue;
      const { record, source } = unwrapped;
      if (this.#discard?.(record)) {
        this.#ctx.onDiscard?.();
        continue;
      }
      removeNulls(record);
      const details = portProbeDetails(record);
      for (const copy of details ? splitPortProbe(record, details) : [record]) {
        const aws: AwsEvent['aws'] = { log_info: this.#ctx.logInfo, ...copy, source };
        reformat(aws);
        out.push({ integration: 'aws', aws });
      }
    }
    return out;
  }
}
