/**
 * The S3 side of the collector behind a narrow port (`ObjectSource`): list, list folders, get, delete.
 * This is the only module that talks to the AWS SDK for S3/STS. Credentials: static keys (deprecated),
 * a named profile, or the SDK's default chain; then STS AssumeRole when `iam_role_arn` is set.
 */
import { S3Client, ListObjectsV2Command, GetObjectCommand, DeleteObjectCommand, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { BucketConfig } from '../../config/types.js';
import { classifyS3Error, type ErrorContext } from './errors.js';
import { directGetter, type DirectGet } from './direct-get.js';

export interface ListedObject {
  key: string;
  size: number;
  lastModified?: Date;
}

/** An object being read: its body streams (the whole object is never held in memory). */
export interface ObjectBody {
  body: AsyncIterable<Uint8Array>;
  size: number;
  lastModified?: Date;
  /** Stops reading early (frees the connection); harmless after the body was fully read. */
  discard(): void;
}

export interface ObjectSource {
  readonly bucket: string;
  /**
   * Every key under `prefix` in S3 order, after `startAfter` when given (paginated). With `delimiter`, keys
   * inside sub-folders are left out (they are folders, see `listPrefixes`). The first page asks for at most
   * FIRST_PAGE_KEYS keys, the next ones for `pageSize`; each next page is requested as soon as the previous
   * one arrives (one page ahead), and its failure is thrown when the iteration reaches it. Stopping early
   * aborts the page requested ahead. `listRequests` counts the requests of a listing.
   */
  list(prefix: string, opts?: { startAfter?: string; delimiter?: string }): AsyncIterable<ListedObject>;
  /** Folder names directly under `prefix` (Delimiter '/', paginated), as full prefixes ending in '/'. */
  listPrefixes(prefix: string): Promise<string[]>;
  /** GetObject, streamed. */
  get(key: string): Promise<ObjectBody>;
  delete(key: string): Promise<void>;
  /** Frees the connections (optional). */
  close?(): void;
}

export interface ClientOptions {
  /** attempts per request, the first included (default 8: throttling, 5xx, resets and timeouts are retried with backoff) */
  maxAttempts?: number;
  /** milliseconds to establish a connection (default 10 s) */
  connectionTimeout?: number;
  /** milliseconds of socket inactivity before a request fails and is retried (default 120 s) */
  requestTimeout?: number;
  /** keys (and folders) per listing page, at most 1000 (default 1000; smaller in tests to exercise pagination); `list` asks for at most FIRST_PAGE_KEYS in its first page */
  pageSize?: number;
  /** GetObject's successful case without the SDK command's per-request work (direct-get.ts; default true) */
  directGet?: boolean;
}

/**
 * Keys asked for by the first page of a `list`. A short page comes back sooner (s3rver on loopback, a 1,000-object
 * folder: 20–30 ms for 100 keys against 85–145 ms for 1,000), so reading starts sooner, and the rest of the folder
 * is listed while the first objects are read. The cost: one more LIST request per listing of more than 100 keys.
 */
export const FIRST_PAGE_KEYS = 100;

const clampPageSize = (pageSize: number | undefined): number => Math.min(1000, Math.max(1, pageSize ?? 1000));

/** LIST requests of a `list` that yields `keys` keys (at least one: an empty listing is one request) with `pageSize`. */
export function listRequests(keys: number, pageSize = 1000): number {
  const size = clampPageSize(pageSize);
  const first = Math.min(FIRST_PAGE_KEYS, size);
  return keys <= first ? 1 : 1 + Math.ceil((keys - first) / size);
}

/** Region of a named profile in the shared config files, if any. */
export async function profileRegion(profile: string | undefined): Promise<string | undefined> {
  try {
    const files = await loadSharedConfigFiles();
    const name = profile ?? process.env.AWS_PROFILE ?? 'default';
    return files.configFile?.[name]?.region ?? files.credentialsFile?.[name]?.region;
  } catch {
    return undefined;
  }
}

/** Credentials of a bucket (or a subscriber, which has the same options): also used by the SQS client (src/sources/sqs/queue.ts). */
export function credentialsFor(b: Pick<BucketConfig, 'accessKey' | 'secretKey' | 'awsProfile' | 'iamRoleArn' | 'iamRoleDuration' | 'stsEndpoint' | 'externalId'>, region: string): AwsCredentialIdentity | AwsCredentialIdentityProvider {
  const base: AwsCredentialIdentity | AwsCredentialIdentityProvider =
    b.accessKey && b.secretKey
      ? { accessKeyId: b.accessKey, secretAccessKey: b.secretKey }
      : b.awsProfile
        ? fromIni({ profile: b.awsProfile })
        : fromNodeProviderChain();
  if (!b.iamRoleArn) return base;
  return fromTemporaryCredentials({
    masterCredentials: base,
    params: { RoleArn: b.iamRoleArn, RoleSessionName: 'ThreatLockDown', ...(b.iamRoleDuration ? { DurationSeconds: b.iamRoleDuration } : {}), ...(b.externalId ? { ExternalId: b.externalId } : {}) },
    clientConfig: { region, ...(b.stsEndpoint ? { endpoint: b.stsEndpoint } : {}) },
  });
}

/**
 * Builds the SDK client of a bucket: credentials (static keys, profile, default chain; then AssumeRole), region
 * (AWS_REGION, the profile's, else us-east-1), endpoint (path-style for S3-compatible stores), standard retries.
 */
export async function createS3Client(b: BucketConfig, opts: ClientOptions = {}): Promise<S3Client> {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (await profileRegion(b.awsProfile)) ?? 'us-east-1';
  return new S3Client({
    region,
    credentials: credentialsFor(b, region),
    maxAttempts: opts.maxAttempts ?? 8,
    retryMode: 'standard',
    followRegionRedirects: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({ connectionTimeout: opts.connectionTimeout ?? 10_000, requestTimeout: opts.requestTimeout ?? 120_000 }),
    ...(b.serviceEndpoint ? { endpoint: b.serviceEndpoint, forcePathStyle: true } : {}),
  });
}

/** The ObjectSource of one configured bucket. Errors are S3AccessErrors with an actionable message. */
export async function createS3Source(b: BucketConfig, opts: ClientOptions = {}): Promise<ObjectSource> {
  const client = await createS3Client(b, opts);
  const pageSize = clampPageSize(opts.pageSize);
  const ctx = (action: ErrorContext['action'], key?: string): ErrorContext => ({
    bucket: b.name,
    action,
    ...(key !== undefined ? { key } : {}),
    ...(b.serviceEndpoint ? { endpoint: b.serviceEndpoint } : {}),
    ...(b.awsProfile ? { profile: b.awsProfile } : {}),
    ...(b.iamRoleArn ? { roleArn: b.iamRoleArn } : {}),
  });
  let directGet: Promise<DirectGet | undefined> | undefined;
  return {
    bucket: b.name,
    async *list(prefix, o = {}) {
      /** One page, started now; its failure is kept (handled at once, so never an unhandled rejection) until awaited. */
      const request = (token: string | undefined, maxKeys: number) => {
        const abort = new AbortController();
        const page = client
          .send(
            new ListObjectsV2Command({
              Bucket: b.name,
              Prefix: prefix,
              MaxKeys: maxKeys,
              ...(o.delimiter ? { Delimiter: o.delimiter } : {}),
              ...(token ? { ContinuationToken: token } : o.startAfter ? { StartAfter: o.startAfter } : {}),
            }),
            { abortSignal: abort.signal },
          )
          .catch((e: unknown): never => {
            throw classifyS3Error(e, ctx('list', prefix));
          });
        page.catch(() => {});
        return { page, abort };
      };
      let next: { page: Promise<ListObjectsV2CommandOutput>; abort: AbortController } | undefined = request(undefined, Math.min(FIRST_PAGE_KEYS, pageSize));
      try {
        while (next) {
          const page: ListObjectsV2CommandOutput = await next.page;
          const token = page.IsTruncated ? page.NextContinuationToken : undefined;
          // the next page is on its way while this one's keys are read (one page ahead)
          next = token ? request(token, pageSize) : undefined;
          for (const o of page.Contents ?? []) {
            if (!o.Key) continue;
            yield { key: o.Key, size: o.Size ?? 0, ...(o.LastModified ? { lastModified: o.LastModified } : {}) };
          }
        }
      } finally {
        // stopped early (break, return, a throw in the loop): the page asked ahead is not wanted (its failure is already handled)
        next?.abort.abort();
      }
    },
    async listPrefixes(prefix) {
      const out: string[] = [];
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: b.name, Prefix: prefix, Delimiter: '/', MaxKeys: pageSize, ...(token ? { ContinuationToken: token } : {}) }));
        } catch (e) {
          throw classifyS3Error(e, ctx('list', prefix));
        }
        for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async get(key) {
      const direct = await (directGet ??= opts.directGet === false ? Promise.resolve(undefined) : directGetter(client, b.name));
      const d = await direct?.(key);
      if (d) return { body: d.body, size: d.size, ...(d.lastModified ? { lastModified: d.lastModified } : {}), discard: () => d.body.destroy() };
      let res;
      try {
        res = await client.send(new GetObjectCommand({ Bucket: b.name, Key: key }));
      } catch (e) {
        throw classifyS3Error(e, ctx('get', key));
      }
      const stream = res.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
      return {
        body: stream ?? (async function* () {})(),
        size: res.ContentLength ?? 0,
        ...(res.LastModified ? { lastModified: res.LastModified } : {}),
        discard: () => stream?.destroy?.(),
      };
    },
    async delete(key) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: b.name, Key: key }));
      } catch (e) {
        throw classifyS3Error(e, ctx('delete', key));
      }
    },
    close() {
      client.destroy();
    },
  };
}
