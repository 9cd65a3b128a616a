/**
 * Test harness: a real SQS-protocol server (fauxqs: long polling, visibility timeouts, ChangeMessageVisibility,
 * redrive to a dead-letter queue) inside the test process on a random loopback port, plus an SDK client for it.
 * fauxqs has no bucket notifications: tests put the notification bodies on the queue themselves.
 */
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { SQSClient, GetQueueUrlCommand, SendMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';

export interface TestSqsServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  server: FauxqsServer;
  client: SQSClient;
  /** Creates `name` with a dead-letter queue `<name>-dlq` after `maxReceiveCount` receives (when given). */
  createQueue(name: string, opts?: { visibilitySecs?: number; maxReceiveCount?: number }): Promise<void>;
  send(queue: string, bodies: string[]): Promise<void>;
  /** messages still in the queue (ready, delayed or in flight) */
  depth(queue: string): number;
  /** bodies of the messages ready in a queue (without receiving them) */
  readyBodies(queue: string): string[];
  /** ReceiveMessage as another worker would (hidden for `visibilitySecs`, 1 by default) */
  receive(queue: string, waitSecs?: number, visibilitySecs?: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startSqsServer(): Promise<TestSqsServer> {
  const server = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const urls = new Map<string, string>();
  const urlOf = async (name: string) => {
    let url = urls.get(name);
    if (!url) {
      url = (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
      urls.set(name, url);
    }
    return url;
  };
  const count = (name: string) => {
    const q = server.inspectQueue(name);
    return q ? q.messages.ready.length + q.messages.delayed.length + q.messages.inflight.length : 0;
  };
  return {
    endpoint,
    server,
    client,
    async createQueue(name, opts = {}) {
      const attributes: Record<string, string> = { VisibilityTimeout: String(opts.visibilitySecs ?? 30) };
      if (opts.maxReceiveCount !== undefined) {
        const dlq = server.createQueue(`${name}-dlq`);
        attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: opts.maxReceiveCount });
      }
      server.createQueue(name, { attributes });
    },
    async send(queue, bodies) {
      const url = await urlOf(queue);
      for (let i = 0; i < bodies.length; i += 10) {
        await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody })) }));
      }
    },
    depth: count,
    readyBodies(queue) {
      return (server.inspectQueue(queue)?.messages.ready ?? []).map((m) => (m as { body: string }).body);
    },
    async receive(queue, waitSecs = 0, visibilitySecs = 1) {
      const res = await client.send(new ReceiveMessageCommand({ QueueUrl: await urlOf(queue), WaitTimeSeconds: waitSecs, VisibilityTimeout: visibilitySecs, MaxNumberOfMessages: 10 }));
      return (res.Messages ?? []).map((m) => m.Body ?? '');
    },
    async close() {
      client.destroy();
      await server.stop();
    },
  };
}
