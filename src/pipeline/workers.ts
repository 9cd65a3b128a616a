/**
 * The queue workers of a runtime: one per `<subscriber type="buckets">`, each on its own queue, all writing into
 * the runtime's sink (one exactly-once protocol, see docs/architecture.md "Workers on a queue"). `tld start` runs
 * them beside the bucket cycles until its stop signal.
 */
import type { Logger } from 'pino';
import type { Runtime } from './runtime.js';
import type { MessageQueue } from '../sources/sqs/queue.js';
import type { SubscriberConfig } from '../config/types.js';

/** Runs a worker per subscriber until `signal` aborts. A queue that cannot be opened is retried, with its cause logged. */
export async function runWorkers(rt: Runtime, logger: Logger, signal: AbortSignal, openWith?: (s: SubscriberConfig) => Promise<MessageQueue>): Promise<void> {
  const aws = rt.config.awsS3;
  if (!aws || aws.disabled || aws.subscribers.length === 0) return;
  // the SQS client and the worker (the AWS SDK) are loaded only when there are subscribers
  const open = openWith ?? (await import('../sources/sqs/queue.js')).openQueue;
  const { QueueWorker } = await import('../sources/sqs/worker.js');
  const listedBuckets = new Set(aws.buckets.map((b) => b.name));
  await Promise.all(
    aws.subscribers.map(async (subscriber) => {
      let wait = 1000;
      while (!signal.aborted) {
        let queue: MessageQueue;
        try {
          queue = await open(subscriber);
        } catch (e) {
          logger.error({ queue: subscriber.sqsName, code: (e as { code?: string }).code }, `${(e as Error).message}; trying again in ${wait / 1000} s`);
          await new Promise((r) => setTimeout(r, wait).unref());
          wait = Math.min(60_000, wait * 2);
          continue;
        }
        try {
          await new QueueWorker({ subscriber, queue, state: rt.state, sink: rt.sink, logger, signal, skipOnError: aws.skipOnError, metrics: rt.metrics, listedBuckets, ...(rt.fetchPool ? { fetchPool: rt.fetchPool } : {}) }).run();
        } finally {
          queue.close();
        }
      }
    }),
  );
}
