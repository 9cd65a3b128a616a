/**
 * STS protocol double: a faithful stand-in for the AWS STS Query API's `AssumeRole` (POST form body,
 * `Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…[&DurationSeconds=…][&ExternalId=…]`,
 * SigV4-signed for service `sts`), answering with STS's XML: temporary credentials (`ASIA…` key, secret,
 * session token, expiration) and the assumed-role user. Each role has a trust list of caller ARNs; others get
 * STS's `AccessDenied`. Issued credentials are added to the shared KeyRing, so the SigV4 proxy accepts them
 * (and can restrict them to the role's buckets).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { verifySigV4, readBody, xml, type KeyRing, type Principal } from './sigv4.js';

export interface RoleDefinition {
  /** caller ARNs allowed by the role's trust policy */
  trusted: string[];
  /** buckets the role may read (undefined = every bucket) */
  buckets?: string[];
}

export interface AssumeRoleCall {
  callerArn?: string;
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number;
  externalId?: string;
  /** issued access key id, or the error code */
  result: string;
}

export interface StsDouble {
  endpoint: string;
  calls: AssumeRoleCall[];
  close(): Promise<void>;
}

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

function errorXml(type: 'Sender' | 'Receiver', code: string, message: string): string {
  return `<ErrorResponse xmlns="${NS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${code}</Code>\n    <Message>${xml(message)}</Message>\n  </Error>\n  <RequestId>${randomUUID()}</RequestId>\n</ErrorResponse>\n`;
}

function assumeRoleXml(p: Principal, roleId: string, session: string): string {
  return `<AssumeRoleResponse xmlns="${NS}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>${roleId}:${xml(session)}</AssumedRoleId>
      <Arn>${xml(p.arn)}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${p.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${p.secretAccessKey}</SecretAccessKey>
      <SessionToken>${p.sessionToken ?? ''}</SessionToken>
      <Expiration>${(p.expiration ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z')}</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`;
}

/** Starts the STS protocol double on a random loopback port. `roles` maps role ARNs to their trust lists. */
export async function startStsDouble(opts: { keys: KeyRing; roles: Record<string, RoleDefinition>; now?: () => Date }): Promise<StsDouble> {
  const calls: AssumeRoleCall[] = [];
  const now = opts.now ?? (() => new Date());
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const send = (status: number, text: string) => {
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(text);
      };
      const form = new URLSearchParams(req.method === 'POST' ? body.toString('utf8') : (req.url ?? '').split('?')[1] ?? '');
      const v = verifySigV4(req, body, opts.keys, 'sts', now());
      const roleArn = form.get('RoleArn') ?? '';
      const roleSessionName = form.get('RoleSessionName') ?? '';
      const durationSeconds = Number(form.get('DurationSeconds') ?? '3600');
      const externalId = form.get('ExternalId') ?? undefined;
      const record = (result: string, callerArn?: string) =>
        calls.push({ roleArn, roleSessionName, durationSeconds, result, ...(callerArn ? { callerArn } : {}), ...(externalId ? { externalId } : {}) });
      if (!v.ok) {
        record(v.code);
        return send(v.status, errorXml('Sender', v.code, v.message));
      }
      if (form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15') {
        record('InvalidAction', v.principal.arn);
        return send(400, errorXml('Sender', 'InvalidAction', `Could not find operation ${form.get('Action') ?? ''} for version ${form.get('Version') ?? ''}`));
      }
      if (!/^[\w+=,.@-]{2,64}$/.test(roleSessionName) || !Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43200) {
        record('ValidationError', v.principal.arn);
        return send(400, errorXml('Sender', 'ValidationError', "1 validation error detected: Value at 'durationSeconds' or 'roleSessionName' failed to satisfy constraint"));
      }
      const role = opts.roles[roleArn];
      if (!role || !role.trusted.includes(v.principal.arn)) {
        record('AccessDenied', v.principal.arn);
        return send(403, errorXml('Sender', 'AccessDenied', `User: ${v.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`));
      }
      const [, account = '000000000000', roleName = 'role'] = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn) ?? [];
      const issued = opts.keys.add({
        accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString('base64'),
        sessionToken: randomBytes(48).toString('base64'),
        arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${roleSessionName}`,
        expiration: new Date(now().getTime() + durationSeconds * 1000),
        ...(role.buckets ? { buckets: role.buckets } : {}),
      });
      record(issued.accessKeyId, v.principal.arn);
      send(200, assumeRoleXml(issued, `AROA${randomBytes(8).toString('hex').toUpperCase()}`, roleSessionName));
    })().catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
