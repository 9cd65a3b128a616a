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

export class ObjectDecodeError extends Error {
  readonly code: DecodeErrorCode;
  constructor(code: DecodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ObjectDecodeError';
    this.code = code;
  }
}
