/**
 * An S3-compatible server on loopback, inside this process (s3rver, patched: see patches/), for the demo
 * and the tests. Nothing leaves the machine; data lives in `directory`.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { S3Client, PutObjectCommand, CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';

export interface LocalS3 {
  endpoint: string;
  /** an SDK client for the server (any credentials are accepted) */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  put(bucket: string, key: string, body: Buffer | string): Promise<void>;
  remove(bucket: string, key: string): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalS3(opts: { directory: string; port?: number }): Promise<LocalS3> {
  mkdirSync(opts.directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: opts.port ?? 0, silent: true, directory: opts.directory });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    client,
    async createBucket(name) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } catch (e) {
        if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test((e as Error).name)) throw e;
      }
    },
    async put(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body }));
    },
    async remove(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async close() {
      client.destroy();
      await server.close();
    },
  };
}
