/** Errors raised while decoding one object. The collector adds bucket and key when it reports them. */

export type DecodeErrorCode =
  | 'TLD_ERR_DECODE_EMPTY_OBJECT'
  | 'TLD_ERR_DECODE_UNKNOWN_COMPRESSION'
  | 'TLD_ERR_DECODE_GZIP_CORRUPT'
  | 'TLD_ERR_DECODE_GZIP_TRUNCATED'
  | 'TLD_ERR_DECODE_ZIP'
  | 'TLD_ERR_DECODE_ZSTD'
  | 'TLD_ERR_DECODE_SNAPPY'
  | 'TLD_ERR_DECODE_TOO_LARGE'
  | 'TLD_ERR_DECODE_JSON'
  | 'TLD_ERR_DECODE_FORMAT';

/** The object (not one record) cannot be decoded; `code` is stable, `message` names the cause plainly. */
export class ObjectDecodeError extends Error {
  readonly code: DecodeErrorCode;
  /** byte offset in the decompressed content where the problem starts, when known */
  readonly offset: number | undefined;
  constructor(code: DecodeErrorCode, message: string, options?: { cause?: unknown; offset?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ObjectDecodeError';
    this.code = code;
    this.offset = options?.offset;
  }
}
