/**
 * `tld backfill`: the objects of a window of a configured `<bucket>`, listed with the collector's own listing code
 * (discovery.ts scopes, listing.ts ScopeListing, as `tld replay` lists them), put on a subscriber's queue as S3 event
 * notifications, one object per message: history then goes through the same workers as live data, with the same
 * exactly-once path. Before anything is sent, each key is checked against what the workers will make of it (the
 * subscriber's `<key_prefix>` overrides, else the key's layout): a key they would not read as the bucket's type
 * stops the bucket with the fix to make.
 */
import type { BucketConfig, SubscriberConfig } from '../../config/types.js';
import type { ObjectSource, ListedObject } from '../s3/client.js';
import { scopesOf } from '../s3/discovery.js';
import { ScopeListing } from '../s3/listing.js';
import type { MessageQueue } from './queue.js';
import { encodeNotificationKey } from './notifications.js';
import { sourceOfKey } from './source-type.js';

export interface BackfillSummary {
  bucket: string;
  type: string;
  path: string;
  /** objects put on the queue (or, in a dry run, that would be) */
  enqueued: number;
  bytes: number;
  /** objects the workers cannot read (Parquet): reported, not enqueued */
  refused: number;
}

/** The S3 event notification (as S3 → SQS sends it) announcing one listed object. */
export function notificationOf(bucket: string, obj: ListedObject, region: string | undefined): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region ?? '',
        eventTime: (obj.lastModified ?? new Date()).toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: { s3SchemaVersion: '1.0', configurationId: 'tld-backfill', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: encodeNotificationKey(obj.key), size: obj.size } },
      },
    ],
  });
}

export class BackfillError extends Error {
  readonly code = 'TLD_ERR_SQS_BACKFILL';
}

/** Messages sent in one go (SendMessageBatch takes ten; a few batches at once). */
const SEND_CHUNK = 100;

/** Lists the window of `b` and enqueues every readable object (nothing is sent with `dryRun`). */
export async function backfillBucket(
  b: BucketConfig,
  source: ObjectSource,
  subscriber: Pick<SubscriberConfig, 'keyPrefixes' | 'sqsName'>,
  queue: Pick<MessageQueue, 'send'> | undefined,
  window: { from: string; to: string },
  opts: { now?: () => Date; onProgress?: (s: BackfillSummary) => void } = {},
): Promise<BackfillSummary> {
  const summary: BackfillSummary = { bucket: b.name, type: b.type, path: b.path, enqueued: 0, bytes: 0, refused: 0 };
  const now = opts.now ?? (() => new Date());
  let bodies: string[] = [];
  const flush = async () => {
    if (queue && bodies.length) await queue.send(bodies);
    bodies = [];
    opts.onProgress?.(summary);
  };
  for (const scope of await scopesOf(b, source)) {
    const listing = new ScopeListing(b, source, scope, { startDay: window.from, until: window.to, now });
    for await (const { obj, refusal } of listing) {
      if (refusal) {
        summary.refused++;
        continue;
      }
      const seen = sourceOfKey(obj.key, subscriber.keyPrefixes);
      if (seen?.type !== b.type) {
        const fix = seen ? `it would be read as ${seen.type}` : 'its layout names no source type';
        throw new BackfillError(`s3://${b.name}/${obj.key}: the workers of queue '${subscriber.sqsName}' would not read it as ${b.type} (${fix}); add <key_prefix type="${b.type}">${b.path || '…'}</key_prefix> to the <subscriber>, then run the backfill again (nothing of this bucket after ${summary.enqueued} objects was enqueued)`);
      }
      bodies.push(notificationOf(b.name, obj, scope.region));
      summary.enqueued++;
      summary.bytes += obj.size;
      if (bodies.length >= SEND_CHUNK) await flush();
    }
  }
  await flush();
  return summary;
}
