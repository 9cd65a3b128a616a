/**
 * VPC Flow Logs (plain text): a header line names the columns, then one record per line, fields separated
 * by single spaces. Streaming: lines may span chunks. `-` means the field is absent. The header is not an
 * event; a later header re-sets the columns; NODATA/SKIPDATA lines are kept as status records.
 */
import { StringDecoder } from 'node:string_decoder';
import type { AwsEvent } from '../../shared/events.js';
import type { DecodeContext, ObjectDecoder } from '../decoder.js';
import { ObjectDecodeError } from '../errors.js';
import { compileDiscard, type DiscardTest } from '../discard.js';
import { CANONICAL_FIELDS, HEADERLESS_FIELD_COUNTS, columnFor, isHeaderLine, isoSeconds, type Column } from './fields.js';

const timeCache = new Map<number, string>();

function convertTime(token: string): string | number {
  const n = Number(token);
  if (!Number.isInteger(n)) return token;
  let iso = timeCache.get(n);
  if (iso === undefined) {
    if (timeCache.size > 100_000) timeCache.clear();
    iso = isoSeconds(n);
    timeCache.set(n, iso);
  }
  return iso;
}

export class VpcFlowDecoder implements ObjectDecoder {
  readonly #ctx: DecodeContext;
  readonly #text = new StringDecoder('utf8');
  readonly #discard: DiscardTest | undefined;
  #rest = '';
  #columns: Column[] | undefined;
  #line = 0;
  #sawHeader = false;

  constructor(ctx: DecodeContext) {
    this.#ctx = ctx;
    this.#discard = ctx.discard ? compileDiscard(ctx.discard) : undefined;
  }

  push(chunk: Buffer): AwsEvent[] {
    const text = this.#rest + this.#text.write(chunk);
    const out: AwsEvent[] = [];
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl !== -1) {
      this.#handleLine(text, start, nl, out);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.#rest = text.slice(start);
    return out;
  }

  end(): AwsEvent[] {
    const text = this.#rest + this.#text.end();
    this.#rest = '';
    const out: AwsEvent[] = [];
    if (text.length > 0) this.#handleLine(text, 0, text.length, out);
    if (this.#line === 0) throw new ObjectDecodeError('TLD_ERR_DECODE_EMPTY_OBJECT', 'the object holds no lines');
    return out;
  }

  #handleLine(text: string, from: number, to: number, out: AwsEvent[]): void {
    this.#line++;
    let end = to;
    if (end > from && text.charCodeAt(end - 1) === 13) end--; // CRLF
    if (end === from) return;
    const tokens = text.slice(from, end).split(' ');
    if (this.#columns === undefined || (tokens[0] === 'version' || !/^[\d-]/.test(tokens[0] ?? ''))) {
      if (isHeaderLine(tokens)) {
        this.#columns = tokens.map(columnFor);
        this.#sawHeader = true;
        return;
      }
      if (this.#columns === undefined) {
        if (HEADERLESS_FIELD_COUNTS.includes(tokens.length) && /^\d+$/.test(tokens[0] ?? '')) {
          this.#columns = CANONICAL_FIELDS.slice(0, tokens.length).map(columnFor);
        } else {
          throw new ObjectDecodeError(
            'TLD_ERR_DECODE_FORMAT',
            `line ${this.#line} is neither a flow-log header nor a record of a known all-fields format (${tokens.length} fields); a custom format needs its header line`,
          );
        }
      }
    }
    if (!this.#sawHeader && tokens.length !== this.#columns.length && HEADERLESS_FIELD_COUNTS.includes(tokens.length)) {
      // header-less files may mix all-fields formats of several versions: pick each line's by its field count
      this.#columns = CANONICAL_FIELDS.slice(0, tokens.length).map(columnFor);
    }
    const columns = this.#columns;
    if (tokens.length !== columns.length) {
      this.#ctx.onRecordError?.(this.#line, `${tokens.length} fields where the ${this.#sawHeader ? 'header' : 'header-less format'} has ${columns.length}`);
      return;
    }
    const aws: AwsEvent['aws'] = { log_info: this.#ctx.logInfo };
    for (let i = 0; i < columns.length; i++) {
      const token = tokens[i] as string;
      if (token === '-') continue;
      const col = columns[i] as Column;
      if (col.kind === 'str') aws[col.key] = token;
      else if (col.kind === 'int') {
        const n = Number(token);
        aws[col.key] = Number.isFinite(n) && token !== '' ? n : token;
      } else aws[col.key] = convertTime(token);
    }
    if (this.#discard?.(aws)) {
      this.#ctx.onDiscard?.();
      return;
    }
    aws.source = 'vpc';
    if (this.#ctx.accountId !== undefined) aws.aws_account_id = this.#ctx.accountId;
    out.push({ integration: 'aws', aws });
  }
}
