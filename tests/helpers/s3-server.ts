/**
 * Test harness: an S3-compatible server (s3rver, patched by patches/s3rver+3.7.1.patch) running inside the
 * test process on a random loopback port, plus an SDK client configured for it (path-style, checksums only
 * when required — s3rver stores aws-chunked uploads verbatim otherwise).
 *
 * s3rver accepts any credentials; put `startSigV4Proxy` (sigv4-proxy.ts) in front of it to check them.
 */
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';

export interface TestS3Server {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** where s3rver keeps its files */
  dir: string;
  /** an SDK client for the server (any credentials are accepted) */
  client: S3Client;
  /** Creates the bucket if needed. */
  createBucket(bucket: string): Promise<void>;
  /** Creates the bucket if needed, stores the object, and optionally sets its LastModified. */
  putObject(bucket: string, key: string, body: string | Uint8Array, lastModified?: Date): Promise<void>;
  /** Stops the server and removes its directory when the harness created it. */
  close(): Promise<void>;
}

/** s3rver keeps object `a/b/c` as `<dir>/<bucket>/a/b/c._S3rver_object`; LastModified is that file's mtime. */
function objectFile(dir: string, bucket: string, key: string): string {
  const parts = key.split('/');
  const name = parts.pop() ?? '';
  return join(dir, bucket, ...parts, `${name}._S3rver_object`);
}

/**
 * Starts s3rver on 127.0.0.1 with a random free port. `dir` defaults to a fresh temporary folder that
 * `close()` removes.
 */
export async function startS3Server(opts: { dir?: string } = {}): Promise<TestS3Server> {
  const owned = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tld-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
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
  const buckets = new Set<string>();
  const createBucket = async (bucket: string): Promise<void> => {
    if (buckets.has(bucket)) return;
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (e) {
      if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test((e as Error).name)) throw e;
    }
    buckets.add(bucket);
  };
  return {
    endpoint,
    dir,
    client,
    createBucket,
    async putObject(bucket, key, body, lastModified) {
      await createBucket(bucket);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body }));
      if (lastModified) utimesSync(objectFile(dir, bucket, key), lastModified, lastModified);
    },
    async close() {
      client.destroy();
      await server.close();
      if (owned) rmSync(dir, { recursive: true, force: true });
    },
  };
}
