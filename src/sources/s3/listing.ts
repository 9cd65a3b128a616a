/**
 * Which objects of a scope the collector considers, in S3 order: the one listing code shared by collection,
 * `tld replay` and `tld replay --dry-run` (so a plan always matches what a run reads). Starts at the scope's day
 * folder of `startDay` (plain or Hive date folders), stops after `until`, skips days before `onlyLogsAfter`, folder
 * markers and CloudTrail digests; Firehose scopes hold `<path>YYYY/MM/DD/HH/…` only (as Wazuh's check_prefix).
 */
import type { BucketConfig } from '../../config/types.js';
import type { ListedObject, ObjectSource } from './client.js';
import type { Scope } from './discovery.js';
import { classifyKey, dayMarker, dayOf } from './layout.js';

export interface ListedEntry {
  obj: ListedObject;
  /** the object's day folder (`YYYY-MM-DD`), or its LastModified day where the layout has none */
  day: string;
  /** set when the object is one we cannot read (Parquet): it is reported, not fetched */
  refusal: string | undefined;
}

export interface ListingOptions {
  /** first day folder to list */
  startDay: string;
  /** last day folder (inclusive): listing stops after it (replay) */
  until?: string;
  /** days before it are skipped (without a window: only_logs_after) */
  onlyLogsAfter?: string;
  now: () => Date;
}

/** A scope's listing; the counters are final once the iteration ends. */
export class ScopeListing implements AsyncIterable<ListedEntry> {
  /** keys listed (for the request count of a plan) */
  listed = 0;
  /** keys of a Firehose scope outside its `YYYY/MM/DD/` folders, left unread, and one of them */
  outside = 0;
  outsideExample = '';

  constructor(
    readonly b: BucketConfig,
    readonly source: ObjectSource,
    readonly scope: Scope,
    readonly opts: ListingOptions,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<ListedEntry> {
    const { scope, opts } = this;
    for await (const obj of this.source.list(scope.prefix, { startAfter: `${scope.prefix}${dayMarker(opts.startDay, scope.dateStyle)}` })) {
      this.listed++;
      let day = dayOf(obj.key, scope.prefix);
      if (day === undefined) {
        if (scope.firehose) {
          if (obj.key.charAt(scope.prefix.length) > '9') break;
          this.outside++;
          this.outsideExample ||= obj.key;
          continue;
        }
        day = (obj.lastModified ?? opts.now()).toISOString().slice(0, 10);
      }
      if (opts.until !== undefined && day > opts.until) break;
      if (opts.onlyLogsAfter !== undefined && day < opts.onlyLogsAfter) continue;
      const verdict = classifyKey(this.b.type, obj.key);
      if (!verdict.read && !verdict.error) continue;
      yield { obj, day, refusal: verdict.read ? undefined : verdict.error };
    }
  }
}
