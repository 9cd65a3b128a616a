/**
 * S3/STS failures turned into one line that says what to fix. Transient errors (throttling, 5xx, resets,
 * timeouts) are retried by the SDK before they get here.
 */

export type S3ErrorCode =
  | 'TLD_ERR_S3_ACCESS_DENIED'
  | 'TLD_ERR_S3_NO_SUCH_BUCKET'
  | 'TLD_ERR_S3_NO_SUCH_KEY'
  | 'TLD_ERR_S3_ENDPOINT'
  | 'TLD_ERR_S3_CREDENTIALS'
  | 'TLD_ERR_S3_CREDENTIALS_EXPIRED'
  | 'TLD_ERR_S3_PROFILE'
  | 'TLD_ERR_S3_ASSUME_ROLE'
  | 'TLD_ERR_S3_CLOCK_SKEW'
  | 'TLD_ERR_S3_THROTTLED'
  | 'TLD_ERR_S3_OTHER';

export class S3AccessError extends Error {
  readonly code: S3ErrorCode;
  constructor(code: S3ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'S3AccessError';
    this.code = code;
  }
}

export interface ErrorContext {
  bucket: string;
  /** what was being done: `list s3://b/prefix`, `get s3://b/key`, `delete …` */
  action: 'list' | 'get' | 'delete';
  key?: string;
  endpoint?: string;
  profile?: string;
  roleArn?: string;
}

function details(e: unknown): { name: string; message: string; status?: number; errno?: string } {
  const err = e as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string; cause?: { code?: string } };
  return {
    name: err.Code ?? err.name ?? 'Error',
    message: err.message ?? String(e),
    ...(err.$metadata?.httpStatusCode ? { status: err.$metadata.httpStatusCode } : {}),
    ...(err.code ? { errno: err.code } : err.cause?.code ? { errno: err.cause.code } : {}),
  };
}

/** Maps an SDK error to an S3AccessError with an actionable message. */
export function classifyS3Error(e: unknown, ctx: ErrorContext): S3AccessError {
  if (e instanceof S3AccessError) return e;
  const d = details(e);
  const where = `s3://${ctx.bucket}/${ctx.key ?? ''}`;
  const arn = `arn:aws:s3:::${ctx.bucket}`;
  const text = `${d.name} ${d.message} ${d.errno ?? ''}`;
  const make = (code: S3ErrorCode, msg: string) => new S3AccessError(code, msg, { cause: e });

  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|getaddrinfo|socket hang up|TimeoutError/.test(text)) {
    return make('TLD_ERR_S3_ENDPOINT', `cannot reach ${ctx.endpoint ?? 'the S3 endpoint'} (${d.errno ?? d.name}): check <service_endpoint> and the network`);
  }
  if (/Could not load credentials|CredentialsProviderError|Unable to locate credentials/i.test(text) && !ctx.profile) {
    return make('TLD_ERR_S3_CREDENTIALS', 'no AWS credentials found: set <aws_profile>, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run on an instance with a role');
  }
  if (/profile/i.test(text) && /not found|could not|does not exist/i.test(text) && ctx.profile) {
    const files = `${process.env.AWS_SHARED_CREDENTIALS_FILE ?? '~/.aws/credentials'} and ${process.env.AWS_CONFIG_FILE ?? '~/.aws/config'}`;
    return make('TLD_ERR_S3_PROFILE', `no usable credentials for profile '${ctx.profile}' in ${files}: add the profile (aws_access_key_id and aws_secret_access_key, or a role/SSO setting) or fix <aws_profile>`);
  }
  if (ctx.roleArn && /AssumeRole|sts/i.test(text) && /AccessDenied|not authorized/i.test(text)) {
    return make('TLD_ERR_S3_ASSUME_ROLE', `cannot assume ${ctx.roleArn}: the reading identity needs sts:AssumeRole on it and the role's trust policy must allow that identity`);
  }
  if (/ExpiredToken|TokenRefreshRequired|expired/i.test(d.name)) {
    return make('TLD_ERR_S3_CREDENTIALS_EXPIRED', `the credentials have expired: refresh them (new keys, aws sso login) ${ctx.profile ? `for profile '${ctx.profile}'` : ''}`.trim());
  }
  if (/InvalidAccessKeyId|SignatureDoesNotMatch|InvalidToken|InvalidClientTokenId/.test(d.name)) {
    return make('TLD_ERR_S3_CREDENTIALS', `the credentials were rejected (${d.name}): check the access key and secret${ctx.profile ? ` of profile '${ctx.profile}'` : ''}`);
  }
  if (/RequestTimeTooSkewed/.test(d.name)) {
    return make('TLD_ERR_S3_CLOCK_SKEW', 'the system clock is too far off for AWS to accept requests: synchronise it (NTP)');
  }
  if (/NoSuchBucket/.test(d.name)) {
    return make('TLD_ERR_S3_NO_SUCH_BUCKET', `bucket '${ctx.bucket}' does not exist${ctx.endpoint ? ` at ${ctx.endpoint}` : ''}: check <name>`);
  }
  if (/NoSuchKey|NotFound/.test(d.name) && ctx.action !== 'list') {
    return make('TLD_ERR_S3_NO_SUCH_KEY', `${where} no longer exists (deleted between listing and reading)`);
  }
  if (/AccessDenied|Forbidden|AllAccessDisabled/.test(d.name) || d.status === 403) {
    const need =
      ctx.action === 'list'
        ? `grant s3:ListBucket on ${arn}`
        : ctx.action === 'get'
          ? `grant s3:GetObject on ${arn}/* (objects encrypted with SSE-KMS also need kms:Decrypt on the key)`
          : `grant s3:DeleteObject on ${arn}/*, or turn <remove_from_bucket> off`;
    const identity = /User: (arn:[^\s]+) is not authorized/.exec(d.message)?.[1];
    const who = identity ? ` to ${identity}` : ctx.roleArn ? ` to ${ctx.roleArn}` : ctx.profile ? ` to the identity of profile '${ctx.profile}'` : '';
    return make('TLD_ERR_S3_ACCESS_DENIED', `access denied to ${ctx.action} ${where}: ${need}${who}`);
  }
  if (/SlowDown|Throttl/.test(d.name)) {
    return make('TLD_ERR_S3_THROTTLED', `S3 kept throttling requests for ${where} after retries: lower the number of buckets read at once or raise <interval>`);
  }
  return make('TLD_ERR_S3_OTHER', `${ctx.action} ${where} failed: ${d.name}${d.status ? ` (HTTP ${d.status})` : ''}: ${d.message}`);
}
