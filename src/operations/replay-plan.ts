/**
 * `tld replay --dry-run`: what re-reading a window would cost, without reading any object: objects, bytes
 * and S3 requests (list pages + one GET per object) per bucket.
 */
import type { BucketConfig } from '../config/types.js';
import { listRequests, type ObjectSource } from '../sources/s3/client.js';
import { scopesOf } from '../sources/s3/collect-bucket.js';
import { ScopeListing } from '../sources/s3/listing.js';

export interface ReplayPlan {
  bucket: string;
  type: string;
  path: string;
  /** objects the replay handles: read, or reported as unsupported */
  objects: number;
  bytes: number;
  listRequests: number;
  getRequests: number;
}

/** Lists the window with the collector's own listing code (ScopeListing), so the plan is what a replay reads. */
export async function planReplay(b: BucketConfig, source: ObjectSource, window: { from: string; to: string }, now: () => Date = () => new Date()): Promise<ReplayPlan> {
  const plan: ReplayPlan = { bucket: b.name, type: b.type, path: b.path, objects: 0, bytes: 0, listRequests: 0, getRequests: 0 };
  for (const scope of await scopesOf(b, source)) {
    const listing = new ScopeListing(b, source, scope, { startDay: window.from, until: window.to, now });
    for await (const { obj, refusal } of listing) {
      plan.objects++;
      if (refusal) continue;
      plan.bytes += obj.size;
      plan.getRequests++;
    }
    // the pages the listing read (one stopped by the window's end may also have asked for the page after it)
    plan.listRequests += listRequests(listing.listed);
  }
  return plan;
}
