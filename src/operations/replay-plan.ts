/**
 * `tld replay --dry-run`: what re-reading a window would cost, without reading any object: objects, bytes
 * and S3 requests (list pages + one GET per object) per bucket.
 */
import type { BucketConfig } from '../config/types.js';
import type { ObjectSource } from '../sources/s3/client.js';
import { scopesOf } from '../sources/s3/collect-bucket.js';
import { classifyKey, dayFolder, dayOf } from '../sources/s3/layout.js';

export interface ReplayPlan {
  bucket: string;
  type: string;
  path: string;
  objects: number;
  bytes: number;
  listRequests: number;
  getRequests: number;
}

export async function planReplay(b: BucketConfig, source: ObjectSource, window: { from: string; to: string }): Promise<ReplayPlan> {
  const plan: ReplayPlan = { bucket: b.name, type: b.type, path: b.path, objects: 0, bytes: 0, listRequests: 0, getRequests: 0 };
  const scopes = await scopesOf(b, source);
  for (const scope of scopes) {
    let listed = 0;
    for await (const obj of source.list(scope.prefix, { startAfter: `${scope.prefix}${dayFolder(window.from)}` })) {
      listed++;
      const day = dayOf(obj.key, scope.prefix) ?? (obj.lastModified ?? new Date()).toISOString().slice(0, 10);
      if (day > window.to) break;
      if (!classifyKey(b.type, obj.key).read) continue;
      plan.objects++;
      plan.bytes += obj.size;
    }
    plan.listRequests += Math.max(1, Math.ceil(listed / 1000));
  }
  plan.getRequests = plan.objects;
  return plan;
}
