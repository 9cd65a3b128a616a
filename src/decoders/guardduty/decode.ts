/**
 * GuardDuty findings, as Kinesis Firehose writes EventBridge envelopes (`{…}{…}`, newline-delimited or
 * pretty-printed) and as GuardDuty's native export writes them (JSON Lines of bare findings, gzip). The
 * `custom` bucket type reuses it for EventBridge envelopes of any source.
 *
 * Events keep Wazuh's shape: the record (the envelope's `detail`, or the bare finding) under `aws`, plus
 * `source` (envelope `source` without `aws.`, or the finding's `service.serviceName`). Envelope fields
 * (`version`, `id`, `detail-type`, `account`, `time`, `region`, `resources`) are dropped, as in Wazuh.
 *
 * Port probes: a finding with several `portProbeDetails` becomes one event per entry, each with the list
 * replaced by that entry (Wazuh §4.3). Wazuh skips the generic reshaping on those copies (its "no-reformat
 * quirk"); we DO reshape every copy, so a port-probe finding has the same field paths (e.g.
 * `resource.instanceDetails.networkInterfaces.privateIpAddress`) whether it probed one port or five.
 */
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext, ObjectDecoder } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { compileDiscard, type DiscardTest } from '../discard.js';
import { ConcatenatedJsonSplitter, type SplitItem } from '../json/concatenated.js';
import { isObject, reformat, removeNulls, wrapRecord, type Json } from '../reshape.js';

/** `guardduty`: envelopes and bare findings; `custom`: envelopes only (any source), as Wazuh's custom bucket. */
export type FindingsMode = 'guardduty' | 'custom';

type Unwrapped = { record: Json; source: string } | { skip: string } | { fatal: string };

const PASCAL_KEYS = ['SchemaVersion', 'AccountId', 'AwsAccountId', 'Findings', 'Service', 'Resource', 'ProductArn'];

/** What one top-level JSON value holds: a record to emit, something to skip (and why), or a wrong format. */
export function unwrapValue(value: unknown, mode: FindingsMode): Unwrapped {
  if (!isObject(value)) return { skip: 'not a JSON object' };
  if (Object.hasOwn(value, 'detail')) {
    if (!isObject(value.detail)) return { skip: 'its "detail" is not an object' };
    const source = typeof value.source === 'string' ? value.source.replace(/^aws\./, '') : 'unknown';
    return { record: value.detail, source };
  }
  if (mode === 'custom') return { skip: 'no "detail" (only EventBridge events are read)' };
  if (PASCAL_KEYS.some((k) => Object.hasOwn(value, k)) && !Object.hasOwn(value, 'accountId')) {
    return {
      fatal:
        'PascalCase finding (AWS SDK or Security Hub ASFF style, e.g. "AccountId", "Service"); GuardDuty writes ' +
        'lowerCamelCase JSON to S3 and EventBridge (export findings natively, or through EventBridge → Firehose)',
    };
  }
  if (typeof value.type === 'string' && (isObject(value.service) || Object.hasOwn(value, 'schemaVersion'))) {
    const service = isObject(value.service) ? value.service : {};
    const source = typeof service.serviceName === 'string' ? service.serviceName : 'guardduty';
    return { record: value, source };
  }
  if (Object.hasOwn(value, 'detail-type')) return { skip: 'EventBridge event without "detail"' };
  return { skip: 'neither an EventBridge event nor a GuardDuty finding' };
}

function portProbeDetails(record: Json): unknown[] | undefined {
  const service = record.service;
  if (!isObject(service) || !isObject(service.action) || !isObject(service.action.portProbeAction)) return undefined;
  const details = service.action.portProbeAction.portProbeDetails;
  return Array.isArray(details) && details.length > 1 ? details : undefined;
}

/** One independent copy of the finding per port-probe entry (deep copies: reshaping mutates). */
function splitPortProbe(record: Json, details: unknown[]): Json[] {
  return details.map((detail) => {
    const copy = structuredClone(record);
    ((copy.service as Json).action as Json & { portProbeAction: Json }).portProbeAction.portProbeDetails = structuredClone(detail);
    return copy;
  });
}

export class FindingsDecoder implements ObjectDecoder {
  readonly #ctx: DecodeContext;
  readonly #mode: FindingsMode;
  readonly #splitter = new ConcatenatedJsonSplitter();
  readonly #discard: DiscardTest | undefined;
  /** an error met while producing events already returned; thrown by the next call */
  #deferred: ObjectDecodeError | undefined;

  constructor(ctx: DecodeContext, mode: FindingsMode = 'guardduty') {
    this.#ctx = ctx;
    this.#mode = mode;
    this.#discard = ctx.discard ? compileDiscard(ctx.discard) : undefined;
  }

  push(chunk: Buffer): AwsEvent[] {
    if (this.#deferred) throw this.#deferred;
    const events = this.#events(this.#splitter.push(chunk));
    this.#deferred ??= this.#splitter.fatal;
    return events;
  }

  end(): AwsEvent[] {
    if (this.#deferred) throw this.#deferred;
    const error = this.#splitter.finish();
    if (error) throw error;
    if (this.#splitter.objects === 0) throw new ObjectDecodeError('TLD_ERR_DECODE_EMPTY_OBJECT', 'the object holds no JSON objects');
    return [];
  }

  #events(items: SplitItem[]): AwsEvent[] {
    const out: AwsEvent[] = [];
    for (const item of items) {
      if (this.#deferred) break;
      const where = { record: item.index, offset: item.offset };
      if (item.error !== undefined) {
        if (this.#ctx.onRecordError) this.#ctx.onRecordError(item.line, `${item.error}; object skipped`, { ...where, cause: item.error });
        else this.#deferred = new ObjectDecodeError('TLD_ERR_DECODE_JSON', item.error, { offset: item.offset });
        continue;
      }
      const unwrapped = unwrapValue(item.value, this.#mode);
      if ('fatal' in unwrapped) {
        this.#deferred = new ObjectDecodeError('TLD_ERR_DECODE_FORMAT', `object ${item.index} (from byte ${item.offset}) is a ${unwrapped.fatal}`, { offset: item.offset });
        break;
      }
      if ('skip' in unwrapped) {
        this.#ctx.onRecordError?.(item.line, `object ${item.index} (from byte ${item.offset}) skipped: ${unwrapped.skip}`, { ...where, cause: unwrapped.skip });
        continue;
      }
      this.#emit(unwrapped.record, unwrapped.source, out);
    }
    return out;
  }

  #emit(record: Json, source: string, out: AwsEvent[]): void {
    if (this.#discard?.({ ...record, source })) {
      this.#ctx.onDiscard?.();
      return;
    }
    removeNulls(record);
    const details = source === 'guardduty' ? portProbeDetails(record) : undefined;
    for (const copy of details ? splitPortProbe(record, details) : [record]) {
      const aws = wrapRecord(this.#ctx.logInfo, copy, { source });
      reformat(aws);
      out.push({ integration: 'aws', aws });
    }
  }
}
