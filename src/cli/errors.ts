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
