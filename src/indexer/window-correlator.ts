/**
 * Fires the frequency windows of a worker fleet (docs/architecture.md "Workers on a queue"): workers with the
 * indexer as the store do not fire frequency rules; each object's occurrences go to `tld-correlation-partials`
 * (documents.ts `partialItem`, durable with the object's other documents). A pass of this correlator:
 *
 * 1. takes the newest record time any partial holds (the fleet's clock of record time); occurrences up to it
 *    minus `graceMs` are *settled*: records of that time are expected to have arrived;
 * 2. lists the (rule, key) pairs with partials ingested since its last pass (minus `overlapMs`: the refresh
 *    interval and clock differences between machines), plus those a previous pass left unsettled;
 * 3. per pair, loads every partial of the pair, keeps the settled occurrences, sorts them (time, object, record:
 *    window-partials.ts `compareOccurrences`) and replays them through the single process's `correlate`;
 * 4. writes each window that fired as Wazuh's alert, with the single process's id (rule, window start, key),
 *    with `create`: a 409 means this or another worker's correlator already wrote it.
 *
 * The replay is causal (a hit depends only on the occurrences before it), so only hits at or after the
 * earliest new occurrence can differ from what earlier passes saw; older ones are not written again.
 * Two correlators at once, or one run twice, write each alert once; a crash loses nothing (the partials stay).
 */
import type { Logger } from 'pino';
import type { CompiledRuleset } from '../analysis/load-rules.js';
import { compareOccurrences, replayAlerts, replayCore, type Occurrence } from '../analysis/window-partials.js';
import type { ObjectRef } from '../shared/events.js';
import { alertRow } from '../store/extract.js';
import { BulkWriter, type BulkCounters } from './bulk-writer.js';
import type { IndexerPort } from './client.js';
import { alertItem, PARTIALS_INDEX, type BulkItem, type PartialDoc } from './documents.js';

export interface CorrelatorOptions {
  /** the rules now (a reload replaces them) */
  rules: () => CompiledRuleset;
  logAlertLevel: () => number;
  managerName: string;
  /** how far behind the newest record time an occurrence must be to be settled (ms) */
  graceMs: number;
  /** the alerts' `timestamp` (the watermark over `ingested` is always this machine's clock, as the store's) */
  now?: () => Date;
  logger?: Logger;
  /** ingest-time overlap between passes (default 2 min) */
  overlapMs?: number;
  /** at start, partials ingested this long ago are looked at again (default a day) */
  startLookbackMs?: number;
  /** partials per search page (default 500) */
  pageSize?: number;
  /** `_bulk` body size of the alerts written */
  maxBytes?: number;
  /** told after each pass (metrics) */
  onPass?: (report: PassReport | undefined, error?: unknown) => void;
}

export interface PassReport {
  /** (rule, key) pairs replayed */
  keys: number;
  /** windows that fired in the replayed span (written now, or already there) */
  alerts: number;
  /** of them, created by this pass */
  written: number;
  /** pairs left with unsettled occurrences (looked at again next pass) */
  unsettled: number;
  /** the newest record time of the fleet (ms), when any partial exists */
  newest: number | undefined;
  /** record time up to which occurrences were settled (newest − grace) */
  settledUntil: number | undefined;
}

interface Hit<T> {
  _id: string;
  _source: T;
  sort?: unknown[];
}

export class WindowCorrelator {
  readonly #port: IndexerPort;
  readonly #opts: CorrelatorOptions;
  readonly #writer: BulkWriter;
  /** ingest time (this machine's clock) of the last pass's start */
  #since: number;
  /** pairs with unsettled occurrences: rule \0 key hash → the earliest record time not yet replayed */
  readonly #unsettled = new Map<string, number>();
  /** partials replayed with every occurrence settled: id → ingested (kept while the overlap can list them again) */
  readonly #replayed = new Map<string, number>();
  #chain: Promise<unknown> = Promise.resolve();

  constructor(port: IndexerPort, opts: CorrelatorOptions) {
    this.#port = port;
    this.#opts = opts;
    this.#writer = new BulkWriter(port, { maxBytes: opts.maxBytes ?? 5 * 1024 * 1024 });
    this.#since = this.#now() - (opts.startLookbackMs ?? 86_400_000);
  }

  get counters(): Readonly<BulkCounters> {
    return this.#writer.counters;
  }

  #now(): number {
    return Date.now();
  }

  /** One pass (passes of one correlator run one after another). Rejects with the indexer's error; the next pass retries. */
  pass(): Promise<PassReport> {
    const run = this.#chain.then(() => this.#pass());
    this.#chain = run.then(
      (r) => this.#opts.onPass?.(r),
      (e: unknown) => this.#opts.onPass?.(undefined, e),
    );
    return run;
  }

  async #pass(): Promise<PassReport> {
    const started = this.#now();
    const report: PassReport = { keys: 0, alerts: 0, written: 0, unsettled: 0, newest: undefined, settledUntil: undefined };
    // what was accepted just now (run-once's last objects) is searchable only after a refresh
    await this.#port.request('POST', `/${PARTIALS_INDEX}/_refresh?ignore_unavailable=true`);
    const newestHit = await this.#search<Pick<PartialDoc, 'last'>>({ size: 1, sort: [{ last: 'desc' }], _source: ['last'], query: { match_all: {} } });
    const newest = newestHit[0]?._source.last;
    if (newest === undefined) {
      this.#since = started;
      return report;
    }
    report.newest = newest;
    const cutoff = newest - this.#opts.graceMs;
    report.settledUntil = cutoff;
    const since = this.#since - (this.#opts.overlapMs ?? 120_000);
    for (const [id, ingested] of this.#replayed) if (ingested < since) this.#replayed.delete(id);
    // pairs touched since the last pass (partials not yet replayed whole), with the earliest record time they brought
    const touched = new Map<string, number>(this.#unsettled);
    await this.#each<Pick<PartialDoc, 'rule' | 'key_hash' | 'first' | 'object_id'>>({ query: { range: { ingested: { gte: since } } }, _source: ['rule', 'key_hash', 'first', 'object_id'] }, [{ ingested: 'asc' }, { object_id: 'asc' }, { rule: 'asc' }, { key_hash: 'asc' }], (s, id) => {
      if (this.#replayed.has(id)) return;
      const k = `${s.rule}\u0000${s.key_hash}`;
      const from = touched.get(k);
      if (from === undefined || s.first < from) touched.set(k, s.first);
    });
    this.#unsettled.clear();
    const rules = this.#opts.rules();
    for (const [k, from] of touched) {
      // nothing new is settled yet: no hit at or after `from` can be decided (the usual case within the grace period)
      if (from > cutoff) {
        this.#unsettled.set(k, from);
        continue;
      }
      const [ruleId, keyHash] = k.split('\u0000') as [string, string];
      const rule = rules.rules.get(ruleId);
      // a rule removed, or no longer a frequency rule, since its partials were written: nothing to fire
      if (!rule || rule.frequency === undefined) continue;
      const occurrences: Occurrence[] = [];
      const objects = new Map<string, ObjectRef>();
      const whole: [string, number][] = [];
      let key = '';
      let later = false;
      await this.#each<PartialDoc>({ query: { bool: { filter: [{ term: { rule: ruleId } }, { term: { key_hash: keyHash } }] } } }, [{ object_id: 'asc' }], (s, id) => {
        key = s.w.key;
        // (only the object's identity matters to the alert's document: its id and index come from the alert)
        objects.set(s.object_id, { bucket: s.bucket, key: s.object_key, objectId: s.object_id, bucketType: 'vpcflow', size: 0 });
        if (s.last <= cutoff) whole.push([id, s.ingested]);
        for (let i = 0; i < s.w.t.length; i++) {
          const t = s.w.t[i]!;
          if (t > cutoff) {
            later = true;
            continue;
          }
          occurrences.push({ t, objectId: s.object_id, idx: s.w.idx[i]!, value: s.w.value?.[i] ?? '', log: s.w.log[i]! });
        }
      });
      if (later) this.#unsettled.set(k, Math.min(from, cutoff));
      occurrences.sort(compareOccurrences);
      report.keys += 1;
      const core = replayCore(rules, { logAlertLevel: this.#opts.logAlertLevel(), managerName: this.#opts.managerName, now: this.#opts.now ?? (() => new Date()) });
      const items: BulkItem[] = [];
      for (const { alert, occurrence } of replayAlerts(core, rule, key, occurrences)) {
        // hits before the earliest new occurrence came out the same in an earlier pass (the replay is causal)
        if (occurrence.t < from) continue;
        items.push(alertItem(alertRow(alert), objects.get(occurrence.objectId)!));
      }
      report.alerts += items.length;
      if (items.length) this.#writer.add(items);
      // partials replayed whole are not touched again by the overlap of the next passes (only by new partials)
      for (const [id, ingested] of whole) this.#replayed.set(id, ingested);
    }
    const before = this.#writer.counters.written;
    try {
      await this.#writer.flush();
    } catch (e) {
      // written again by the next pass: what this one replayed is not taken as done
      for (const k of touched.keys()) if (!this.#unsettled.has(k)) this.#unsettled.set(k, touched.get(k)!);
      this.#replayed.clear();
      throw e;
    }
    report.written = this.#writer.counters.written - before;
    report.unsettled = this.#unsettled.size;
    this.#since = started;
    if (report.alerts > 0) this.#opts.logger?.info({ ...report }, 'Frequency windows replayed from the partials of the fleet.');
    return report;
  }

  async #search<T>(body: object): Promise<Hit<T>[]> {
    const res = (await this.#port.request('POST', `/${PARTIALS_INDEX}/_search?ignore_unavailable=true`, body)) as { hits?: { hits?: Hit<T>[] } };
    return res.hits?.hits ?? [];
  }

  /** Every hit of `query`, page by page (`search_after` on `sort`, which must order the hits totally). */
  async #each<T>(query: object, sort: object[], f: (source: T, id: string) => void): Promise<void> {
    const size = this.#opts.pageSize ?? 500;
    let after: unknown[] | undefined;
    for (;;) {
      const hits = await this.#search<T>({ ...query, size, sort, ...(after ? { search_after: after } : {}) });
      for (const h of hits) f(h._source, h._id);
      if (hits.length < size) return;
      after = hits[hits.length - 1]!.sort;
      if (!after) throw new Error(`the indexer (${this.#port.hosts}) answered a sorted search of ${PARTIALS_INDEX} without sort values: cannot page through it`);
    }
  }
}
