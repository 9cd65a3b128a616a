/** CLI errors: what the user sees when a command fails (one line, optional detail lines, an exit code). */
import { RuleLoadError } from '../analysis/errors.js';
import { ConfigError, formatIssue } from '../config/errors.js';
import { StateStoreError } from '../sources/s3/state/errors.js';

/** An error the CLI reports as one line (plus optional detail lines) and maps to an exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly details: string[];
  constructor(message: string, options: { exitCode?: number; details?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details ?? [];
  }
}

/**
 * The errors a user can fix, whichever command meets them, as a CliError (reported without a stack trace):
 * configuration and rule problems (exit 2), and the state store's (a data folder in use by another tld
 * process, a damaged state: exit 1, the message says what to do).
 */
export function userFacing(error: unknown): CliError | undefined {
  if (error instanceof CliError) return error;
  if (error instanceof ConfigError) {
    return new CliError('the configuration has errors (`tld check-config -c FILE` lists them all):', { exitCode: 2, details: error.issues.map(formatIssue), cause: error });
  }
  if (error instanceof RuleLoadError) {
    return new CliError('the rules cannot be loaded; fix these rule or list files (`tld check-config -c FILE` checks them too):', { exitCode: 2, details: error.problems, cause: error });
  }
  if (error instanceof StateStoreError) return new CliError(error.message, { exitCode: 1, cause: error });
  // the indexer store's errors (src/indexer/errors.ts) name the cluster, the cause and what to do
  const code = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof Error && typeof code === 'string' && code.startsWith('TLD_ERR_INDEXER')) return new CliError(error.message, { exitCode: 1, cause: error });
  return undefined;
}
