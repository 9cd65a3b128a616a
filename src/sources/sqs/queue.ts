/**
 * The SQS side of a worker behind a narrow port (`MessageQueue`): receive (long polling), delete, extend the
 * visibility, send (backfill), read the queue's attributes. This is the only module that talks to the AWS SDK for
 * SQS. Credentials, region and AssumeRole (with `external_id`) as for S3 (src/sources/s3/client.ts); the endpoint
 * is `<sqs_endpoint>` when set.
 */
import {
  SQSClient,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  GetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SubscriberConfig } from '../../config/types.js';
import { credentialsFor, profileRegion } from '../s3/client.js';

export type QueueErrorCode = 'TLD_ERR_SQS_NO_QUEUE' | 'TLD_ERR_SQS_ACCESS_DENIED' | 'TLD_ERR_SQS_ENDPOINT' | 'TLD_ERR_SQS_CREDENTIALS' | 'TLD_ERR_SQS_OTHER';

export class QueueError extends Error {
  constructor(
    readonly code: QueueErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'QueueError';
  }
}

export interface QueueMessage {
  id: string;
  receiptHandle: string;
  body: string;
  /** ApproximateReceiveCount: 1 on the first delivery */
  receiveCount: number;
  /** SentTimestamp (ms): when the message was first sent, the same on every redelivery */
  sentAt: number;
}

export interface MessageQueue {
  readonly name: string;
  readonly url: string;
  /** Long polling: waits up to `waitSecs` for up to `max` messages, hidden for `visibilitySecs`. */
  receive(opts: { max: number; waitSecs: number; visibilitySecs: number; signal?: AbortSignal }): Promise<QueueMessage[]>;
  delete(receiptHandle: string): Promise<void>;
  /** ChangeMessageVisibility: hidden for `secs` more from now (0 hands it back at once). */
  setVisibility(receiptHandle: string, secs: number): Promise<void>;
  /** SendMessageBatch, ten at a time; throws when any entry failed. */
  send(bodies: string[]): Promise<void>;
  attributes(names?: string[]): Promise<Record<string, string>>;
  close(): void;
}

function classify(e: unknown, queue: string, action: string, endpoint: string | undefined): QueueError {
  if (e instanceof QueueError) return e;
  const err = e as { name?: string; Code?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = err.Code ?? err.name ?? 'Error';
  const text = `${name} ${err.message ?? ''} ${err.code ?? ''}`;
  const make = (code: QueueErrorCode, msg: string) => new QueueError(code, msg, { cause: e });
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|socket hang up|TimeoutError/.test(text)) {
    return make('TLD_ERR_SQS_ENDPOINT', `cannot reach ${endpoint ?? 'the SQS endpoint'} to ${action} on queue '${queue}' (${err.code ?? name}): check <sqs_endpoint> and the network`);
  }
  if (/NonExistentQueue|QueueDoesNotExist/.test(text)) {
    return make('TLD_ERR_SQS_NO_QUEUE', `queue '${queue}' does not exist${endpoint ? ` at ${endpoint}` : ' in this region (AWS_REGION or the profile\'s region)'}: check <sqs_name>`);
  }
  if (/Could not load credentials|CredentialsProviderError|InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken/i.test(text)) {
    return make('TLD_ERR_SQS_CREDENTIALS', `the credentials were missing or refused when trying to ${action} on queue '${queue}' (${name}): check <aws_profile>, <iam_role_arn> or the environment`);
  }
  if (/AccessDenied|not authorized/i.test(text) || err.$metadata?.httpStatusCode === 403) {
    return make('TLD_ERR_SQS_ACCESS_DENIED', `access denied to ${action} on queue '${queue}': grant sqs:${action} on the queue (\`tld iam-policy\` lists what a worker needs)`);
  }
  return make('TLD_ERR_SQS_OTHER', `${action} on queue '${queue}' failed: ${name}: ${err.message ?? String(e)}`);
}

/** Opens the subscriber's queue (GetQueueUrl). Errors are QueueErrors that say what to fix. */
export async function openQueue(s: SubscriberConfig): Promise<MessageQueue> {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (await profileRegion(s.awsProfile)) ?? 'us-east-1';
  const client = new SQSClient({
    region,
    credentials: credentialsFor(s, region),
    maxAttempts: 8,
    retryMode: 'standard',
    // a long poll holds the connection for up to 20 s: the request timeout must outlast it
    requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 60_000 }),
    ...(s.sqsEndpoint ? { endpoint: s.sqsEndpoint } : {}),
  });
  const name = s.sqsName;
  const fail = (e: unknown, action: string) => classify(e, name, action, s.sqsEndpoint);
  let url: string;
  try {
    const res = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!res.QueueUrl) throw new QueueError('TLD_ERR_SQS_NO_QUEUE', `queue '${name}' has no URL`);
    url = res.QueueUrl;
  } catch (e) {
    client.destroy();
    throw fail(e, 'GetQueueUrl');
  }
  return {
    name,
    url,
    async receive({ max, waitSecs, visibilitySecs, signal }) {
      let res;
      try {
        res = await client.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: max, WaitTimeSeconds: waitSecs, VisibilityTimeout: visibilitySecs, MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'] }),
          signal ? { abortSignal: signal } : {},
        );
      } catch (e) {
        if (signal?.aborted) return [];
        throw fail(e, 'ReceiveMessage');
      }
      return (res.Messages ?? []).flatMap((m) =>
        m.ReceiptHandle && m.MessageId
          ? [{ id: m.MessageId, receiptHandle: m.ReceiptHandle, body: m.Body ?? '', receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1), sentAt: Number(m.Attributes?.SentTimestamp ?? Date.now()) }]
          : [],
      );
    },
    async delete(receiptHandle) {
      try {
        await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receiptHandle }));
      } catch (e) {
        throw fail(e, 'DeleteMessage');
      }
    },
    async setVisibility(receiptHandle, secs) {
      try {
        await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: receiptHandle, VisibilityTimeout: secs }));
      } catch (e) {
        throw fail(e, 'ChangeMessageVisibility');
      }
    },
    async send(bodies) {
      for (let i = 0; i < bodies.length; i += 10) {
        const entries = bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody }));
        let res;
        try {
          res = await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
        } catch (e) {
          throw fail(e, 'SendMessage');
        }
        const failed = res.Failed ?? [];
        if (failed.length > 0) throw new QueueError('TLD_ERR_SQS_OTHER', `SendMessage on queue '${name}' refused ${failed.length} of ${entries.length} messages (${failed[0]?.Code ?? ''}: ${failed[0]?.Message ?? ''})`);
      }
    },
    async attributes(names = ['All']) {
      try {
        const res = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names as never }));
        return res.Attributes ?? {};
      } catch (e) {
        throw fail(e, 'GetQueueAttributes');
      }
    },
    close() {
      client.destroy();
    },
  };
}
