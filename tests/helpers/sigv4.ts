/**
 * AWS Signature Version 4 verification on node:crypto, for the test doubles (sigv4-proxy.ts, sts-double.ts).
 * It recomputes the signature of an incoming request from the secret of the access key it names, exactly as
 * AWS does (canonical request → string to sign → HMAC chain), and answers with AWS's error codes.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** An identity the doubles know: long-term keys (`AKIA…`) or temporary ones issued by the STS double (`ASIA…`). */
export interface Principal {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** `arn:aws:iam::<acct>:user/<name>` or `arn:aws:sts::<acct>:assumed-role/<role>/<session>` */
  arn: string;
  expiration?: Date;
  /** buckets this identity may read; undefined = every bucket */
  buckets?: string[];
}

/** The access keys the doubles accept (shared, so credentials issued by the STS double work at the proxy). */
export class KeyRing {
  readonly #keys = new Map<string, Principal>();
  add(p: Principal): Principal {
    this.#keys.set(p.accessKeyId, p);
    return p;
  }
  get(accessKeyId: string): Principal | undefined {
    return this.#keys.get(accessKeyId);
  }
}

/** Random long-term keys for a test user. */
export function newUser(account: string, name: string, buckets?: string[]): Principal {
  return {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    arn: `arn:aws:iam::${account}:user/${name}`,
    ...(buckets ? { buckets } : {}),
  };
}

export type VerifyResult =
  | { ok: true; principal: Principal; region: string; service: string }
  | { ok: false; status: number; code: string; message: string };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it (everything but unreserved characters). */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const i = p.indexOf('=');
      const k = decodeURIComponent((i === -1 ? p : p.slice(0, i)).replace(/\+/g, '%20'));
      const v = i === -1 ? '' : decodeURIComponent(p.slice(i + 1).replace(/\+/g, '%20'));
      return [encode(k), encode(v)] as const;
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Verifies the SigV4 `Authorization` header of `req` (whose body is `body`) for `service`.
 * Errors: 403 MissingAuthenticationToken / InvalidAccessKeyId / SignatureDoesNotMatch / InvalidToken /
 * ExpiredToken / RequestTimeTooSkewed (±15 minutes), as AWS answers them.
 */
export function verifySigV4(req: IncomingMessage, body: Buffer, keys: KeyRing, service: string, now = new Date()): VerifyResult {
  const fail = (code: string, message: string, status = 403): VerifyResult => ({ ok: false, status, code, message });
  const auth = header(req, 'authorization');
  if (!auth) return fail('MissingAuthenticationToken', 'Request is missing Authentication Token');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return fail('AuthorizationHeaderMalformed', 'The authorization header is malformed', 400);
  const [, accessKeyId, date, region, signedService, signedHeaders, signature] = m as unknown as string[];
  const principal = keys.get(accessKeyId!);
  if (!principal) {
    return service === 's3'
      ? fail('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.')
      : fail('InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  if (signedService !== service) return fail('SignatureDoesNotMatch', `Credential should be scoped to correct service: '${service}'.`);
  const amzDate = header(req, 'x-amz-date') ?? '';
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when || amzDate.slice(0, 8) !== date) return fail('SignatureDoesNotMatch', 'X-Amz-Date is missing or does not match the credential scope date.');
  const at = Date.UTC(+when[1]!, +when[2]! - 1, +when[3]!, +when[4]!, +when[5]!, +when[6]!);
  if (Math.abs(at - now.getTime()) > 15 * 60_000) {
    return fail('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  const names = signedHeaders!.split(';');
  if (!names.includes('host')) return fail('SignatureDoesNotMatch', 'The host header must be signed.');
  const canonicalHeaders = names.map((n) => `${n}:${(header(req, n) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const declared = header(req, 'x-amz-content-sha256');
  const actual = sha256(body);
  if (declared && declared !== 'UNSIGNED-PAYLOAD' && !declared.startsWith('STREAMING-') && declared !== actual) {
    return fail('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.', 400);
  }
  const payloadHash = declared ?? actual;
  const canonicalPath = service === 's3' ? path : path.split('/').map((s) => encode(decodeURIComponent(s))).join('/');
  const canonical = [req.method ?? 'GET', canonicalPath, canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${principal.secretAccessKey}`, date!), region!), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(toSign).digest('hex');
  if (expected !== signature) {
    return fail('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  if (principal.sessionToken !== undefined && header(req, 'x-amz-security-token') !== principal.sessionToken) {
    return fail(service === 's3' ? 'InvalidToken' : 'InvalidClientTokenId', 'The provided token is malformed or otherwise invalid.', service === 's3' ? 400 : 403);
  }
  if (principal.expiration && principal.expiration.getTime() <= now.getTime()) {
    return fail('ExpiredToken', 'The provided token has expired.', service === 's3' ? 400 : 403);
  }
  return { ok: true, principal, region: region!, service };
}

/** Reads a whole request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Escapes text for an XML element. */
export function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
