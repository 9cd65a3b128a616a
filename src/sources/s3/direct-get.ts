/**
 * GetObject without the SDK's per-request machinery, for the successful case only.
 *
 * Through `client.send(new GetObjectCommand(…))` each GET costs ~2–3 ms of CPU on this project's benchmark
 * machine (input and output schemas, endpoint rules, ~20 middlewares), against ~0.5 ms for the HTTP request
 * itself: with real-sized objects (a few hundred to a few thousand records) that, not decoding, bounds how many
 * objects a core can take in (`npm run bench`, row "ceiling: GetObject alone"). This module resolves the
 * bucket's endpoint and signing scheme once, with the SDK's own resolver and the client's configuration, then
 * signs each GET with the SDK's SigV4 signer and sends it through the client's own HTTP handler (same sockets,
 * timeouts and credentials).
 *
 * Only a 200 answer is taken here. Anything else (an error status, a redirect to another region, a reset
 * connection) returns `undefined`, and the caller sends the same request through the SDK command, which retries,
 * follows region redirects and raises the errors `errors.ts` classifies: the behaviour on failures is the SDK's.
 * After such a fallback the direct path rests for a minute, so a bucket that always answers differently (wrong
 * region, policy) does not pay for two requests per object.
 */
import type { IncomingMessage } from 'node:http';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, ChecksumConstructor, HashConstructor, Provider } from '@smithy/types';

/** how long the direct path rests after a request it could not complete */
const REST_MS = 60_000;

export interface DirectBody {
  body: IncomingMessage;
  size: number;
  lastModified?: Date;
}

export type DirectGet = (key: string) => Promise<DirectBody | undefined>;

/** The config fields of an S3Client this module reads (all resolved by the SDK at construction). */
interface ResolvedConfig {
  credentials: Provider<AwsCredentialIdentity>;
  sha256: ChecksumConstructor | HashConstructor;
  systemClockOffset: number;
  requestHandler: { handle(request: HttpRequest): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: unknown } }> };
}

/** S3's encoding of a key in the path: each segment URI-encoded (RFC 3986 unreserved kept), `/` kept. */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/**
 * The direct GET for `bucket`, or undefined when its endpoint needs more than plain SigV4 (S3 Express, multi-
 * region access points, Outposts), which the SDK command keeps handling.
 */
export async function directGetter(client: S3Client, bucket: string): Promise<DirectGet | undefined> {
  let endpoint;
  try {
    endpoint = await getEndpointFromInstructions({ Bucket: bucket, Key: 'k' }, GetObjectCommand as never, client.config as never);
  } catch {
    return undefined;
  }
  const schemes = (endpoint.properties?.authSchemes ?? []) as { name?: string; signingName?: string; signingRegion?: string; disableDoubleEncoding?: boolean }[];
  const scheme = schemes[0];
  if (!scheme || scheme.name !== 'sigv4' || !scheme.signingRegion) return undefined;
  if (endpoint.headers && Object.keys(endpoint.headers).length > 0) return undefined;
  const cfg = client.config as unknown as ResolvedConfig;
  const url = endpoint.url;
  const base = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const port = url.port ? Number(url.port) : undefined;
  const signer = new SignatureV4({
    credentials: cfg.credentials,
    region: scheme.signingRegion,
    service: scheme.signingName ?? 's3',
    sha256: cfg.sha256,
    uriEscapePath: scheme.disableDoubleEncoding !== true,
  });
  let restUntil = 0;
  const rest = () => {
    restUntil = Date.now() + REST_MS;
    return undefined;
  };

  return async (key) => {
    if (Date.now() < restUntil) return undefined;
    const request = new HttpRequest({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(port !== undefined ? { port } : {}),
      path: base + encodeKey(key),
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    let response;
    try {
      const signed = await signer.sign(request, { signingDate: new Date(Date.now() + (cfg.systemClockOffset ?? 0)) });
      ({ response } = await cfg.requestHandler.handle(signed as HttpRequest));
    } catch {
      return rest();
    }
    const body = response.body as IncomingMessage;
    if (response.statusCode !== 200) {
      body?.resume?.();
      return rest();
    }
    const size = Number(response.headers['content-length']);
    const modified = response.headers['last-modified'];
    return { body, size: Number.isFinite(size) ? size : 0, ...(modified ? { lastModified: new Date(modified) } : {}) };
  };
}
