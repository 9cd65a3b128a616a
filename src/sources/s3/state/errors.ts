/**
 * Errors of the collector's state store. Every one names the state directory or file (and line) it is about,
 * and says what to do; none of them is ever handled by silently starting over.
 */

export type StateStoreErrorCode =
  /** another live process holds the directory's lock */
  | 'TLD_ERR_STATE_LOCKED'
  /** a snapshot or journal line cannot be understood */
  | 'TLD_ERR_STATE_CORRUPT'
  /** a caller passed a malformed day, key or scope */
  | 'TLD_ERR_STATE_INPUT'
  /** a write or fsync failed; the store refuses further marks */
  | 'TLD_ERR_STATE_IO'
  /** the store was used after close() */
  | 'TLD_ERR_STATE_CLOSED';

export class StateStoreError extends Error {
  readonly code: StateStoreErrorCode;
  constructor(code: StateStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StateStoreError';
    this.code = code;
  }
}
