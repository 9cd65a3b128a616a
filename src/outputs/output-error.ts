/**
 * An output (alerts.json, archives.json, the store, the collector's state) could not be written. It is never an
 * error of the object being read: the collector stops, nothing of the unfinished objects is marked processed, and
 * they are read again at the next cycle once the cause is fixed.
 */
export class OutputError extends Error {
  readonly code = 'TLD_ERR_OUTPUT';

  /** `target`: the file (or store) that could not be written */
  constructor(target: string, cause: unknown) {
    super(`cannot write ${target}: ${describeWriteFailure(cause)}; the objects not yet committed are read again at the next cycle`, { cause });
  }
}

const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device (free some, or move the data folder)',
  EFBIG: 'file too large (the process file-size limit was reached: raise it, e.g. LimitFSIZE= in the systemd unit or ulimit -f)',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EIO: 'input/output error (check the disk)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EMFILE: 'too many open files',
};

/** One line naming what went wrong, from a Node.js system error (`code`) or any other error. */
function describeWriteFailure(cause: unknown): string {
  if (cause instanceof OutputError) return describeWriteFailure(cause.cause);
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && CAUSES[code]) return `${CAUSES[code]} [${code}]`;
  return cause instanceof Error ? cause.message : String(cause);
}

/** `cause` as an OutputError for `target` (kept as it is when it already is one). */
export function outputError(target: string, cause: unknown): OutputError {
  return cause instanceof OutputError ? cause : new OutputError(target, cause);
}
