/**
 * A FlowBatch row back as the Wazuh-shaped event decode.ts produces for that record: same keys in the same
 * order (absent fields present as undefined keys), numbers as numbers, start/end as ISO text, `log_info` shared
 * by reference. Built only where an event is needed (an alert, an archive, a rule that reads the whole event).
 */
import type { AwsEvent } from '../../shared/events.js';
import { FieldKind, eventTemplate, isoSeconds } from './fields.js';
import { entryText, type FlowBatch } from './flow-batch.js';

/** The events of one batch, row by row (the template and the last ISO times are kept between rows). */
export class FlowEvents {
  readonly batch: FlowBatch;
  readonly #template: AwsEvent['aws'];
  readonly #lastSeconds: number[];
  readonly #lastIso: string[];

  constructor(batch: FlowBatch) {
    this.batch = batch;
    this.#template = eventTemplate(batch.layout.keys, batch.logInfo, batch.accountId);
    this.#lastSeconds = batch.layout.keys.map(() => -1);
    this.#lastIso = batch.layout.keys.map(() => '');
  }

  event(row: number): AwsEvent {
    const aws: AwsEvent['aws'] = { ...this.#template };
    const { columns, layout } = this.batch;
    const keys = layout.keys;
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      if (c.kind === FieldKind.Text) {
        const code = c.codes[row] as number;
        if (code !== 0) aws[keys[i] as string] = entryText(c, code);
        continue;
      }
      const v = c.values[row] as number;
      if (Number.isNaN(v)) continue;
      aws[keys[i] as string] = c.kind === FieldKind.Int ? v : this.isoAt(i, v);
    }
    return { integration: 'aws', aws };
  }

  /** `seconds` of column `col` as ISO text (consecutive records usually share start/end). */
  isoAt(col: number, seconds: number): string {
    if (this.#lastSeconds[col] === seconds) return this.#lastIso[col] as string;
    const iso = isoSeconds(seconds);
    this.#lastSeconds[col] = seconds;
    this.#lastIso[col] = iso;
    return iso;
  }
}

/** The event of one row (for a few rows; `FlowEvents` for many). */
export function materialize(batch: FlowBatch, row: number): AwsEvent {
  return new FlowEvents(batch).event(row);
}

/** Every event of a batch, in row order. */
export function eventsOf(batch: FlowBatch): AwsEvent[] {
  const shaper = new FlowEvents(batch);
  const out = new Array<AwsEvent>(batch.length);
  for (let r = 0; r < batch.length; r++) out[r] = shaper.event(r);
  return out;
}
