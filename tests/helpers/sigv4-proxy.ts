/**
 * Test double: an HTTP front for s3rver that does what s3rver does not — it verifies each request's AWS
 * SigV4 signature against known key pairs (sigv4.ts) and enforces which buckets an identity may read.
 * Accepted requests are forwarded unchanged to the S3 server; rejected ones get S3's XML error
 * (403 SignatureDoesNotMatch / InvalidAccessKeyId / AccessDenied …). Every request is recorded with the
 * identity that signed it, so tests can prove which credentials the collector used.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { verifySigV4, readBody, xml, type KeyRing } from './sigv4.js';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** the query string, without `?` ('' when none): the SDK's commands add `x-id=<Operation>` */
  query: string;
  accessKeyId: string;
  arn?: string;
  /** region of the signature's credential scope (accepted requests) */
  region?: string;
  /** status returned to the client */
  status: number;
  /** AWS error code when rejected by the proxy */
  error?: string;
}

/** A failure the proxy plays instead of (or in the middle of) the next accepted request. */
export type Fault =
  | { kind: 'status'; status: number; code: string }
  /** forwards, then cuts the connection after `afterBytes` bytes of the response body */
  | { kind: 'cut-body'; afterBytes: number }
  /** forwards only the first `afterBytes` bytes of the body, with a Content-Length that matches them (a clean end) */
  | { kind: 'short-body'; afterBytes: number }
  /** closes the connection without answering */
  | { kind: 'reset' };

export interface SigV4Proxy {
  endpoint: string;
  requests: ProxiedRequest[];
  /** Queues faults for the next accepted requests (GET/HEAD only when `onlyGet`). */
  inject(faults: Fault[], opts?: { onlyGet?: boolean; onlyObjects?: boolean; pathEndsWith?: string }): void;
  close(): Promise<void>;
}

function s3Error(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message><RequestId>${randomBytes(8).toString('hex').toUpperCase()}</RequestId></Error>`;
}

/** What an S3 request does, for AccessDenied messages shaped like S3's. */
function actionOf(method: string, path: string): { action: string; bucket: string; resource: string } {
  const [bucket = '', ...rest] = path.replace(/^\//, '').split('/');
  const key = decodeURIComponent(rest.join('/'));
  if ((method === 'GET' || method === 'HEAD') && !key) {
    return { action: 's3:ListBucket', bucket, resource: `arn:aws:s3:::${bucket}` };
  }
  const action = method === 'DELETE' ? 's3:DeleteObject' : method === 'PUT' ? 's3:PutObject' : 's3:GetObject';
  return { action, bucket, resource: `arn:aws:s3:::${bucket}/${key}` };
}

/** Starts the verifying front on a random loopback port, forwarding to `target` (`http://host:port`). */
/** `now` is the proxy's clock (skew it to test clock errors). */
export async function startSigV4Proxy(opts: { target: string; keys: KeyRing; now?: () => Date }): Promise<SigV4Proxy> {
  const target = new URL(opts.target);
  const requests: ProxiedRequest[] = [];
  let faults: { fault: Fault; onlyGet: boolean; onlyObjects: boolean; pathEndsWith: string | undefined }[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      const path = url.split('?')[0] ?? '/';
      const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
      const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const v = verifySigV4(req, body, opts.keys, 's3', opts.now?.() ?? new Date());
      const reject = (status: number, code: string, message: string, arn?: string) => {
        requests.push({ method, path, query, accessKeyId, status, error: code, ...(arn ? { arn } : {}) });
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(method === 'HEAD' ? undefined : s3Error(code, message));
      };
      if (!v.ok) return reject(v.status, v.code, v.message);
      const { action, bucket, resource } = actionOf(method, path);
      if (v.principal.buckets && !v.principal.buckets.includes(bucket)) {
        return reject(403, 'AccessDenied', `User: ${v.principal.arn} is not authorized to perform: ${action} on resource: "${resource}" because no identity-based policy allows the ${action} action`, v.principal.arn);
      }
      const fi = faults.findIndex((f) => (!f.onlyGet || method === 'GET') && (!f.onlyObjects || path.split('/').slice(2).join('/') !== '') && (f.pathEndsWith === undefined || path.endsWith(f.pathEndsWith)));
      const fault = fi === -1 ? undefined : faults.splice(fi, 1)[0]!.fault;
      if (fault?.kind === 'status') return reject(fault.status, fault.code, 'injected fault', v.principal.arn);
      if (fault?.kind === 'reset') {
        requests.push({ method, path, query, accessKeyId, arn: v.principal.arn, status: 0, error: 'reset' });
        req.socket.destroy();
        return;
      }
      // s3rver knows only its own key id (it does not check v4 signatures): the proxy did the checking
      const headers = { ...req.headers, host: target.host, authorization: (req.headers.authorization ?? '').replace(/Credential=[^/]+\//, 'Credential=S3RVER/') };
      const upstream = httpRequest({ host: target.hostname, port: target.port, method, path: url, headers }, (up) => {
        requests.push({ method, path, query, accessKeyId, arn: v.principal.arn, region: v.region, status: up.statusCode ?? 0 });
        if (fault?.kind === 'short-body') {
          res.writeHead(up.statusCode ?? 502, { ...up.headers, 'content-length': String(fault.afterBytes) });
          let sent = 0;
          up.on('data', (chunk: Buffer) => {
            const part = chunk.subarray(0, Math.max(0, fault.afterBytes - sent));
            sent += part.length;
            if (part.length) res.write(part);
          });
          up.on('end', () => res.end());
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (fault?.kind !== 'cut-body') return void up.pipe(res);
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent >= fault.afterBytes) return;
          const part = chunk.subarray(0, fault.afterBytes - sent);
          sent += part.length;
          res.write(part);
          if (sent >= fault.afterBytes) setTimeout(() => res.socket?.destroy(), 20);
        });
        up.on('end', () => {
          if (sent < fault.afterBytes) res.end();
        });
      });
      upstream.on('error', (e) => reject(502, 'BadGateway', e.message));
      upstream.end(body);
    })().catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    inject(list, o = {}) {
      faults = [...faults, ...list.map((fault) => ({ fault, onlyGet: o.onlyGet ?? false, onlyObjects: o.onlyObjects ?? false, pathEndsWith: o.pathEndsWith }))];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
