/** Configuration problems: every one names the file, the line, the tag and what is allowed. */

export interface ConfigIssue {
  /** `note`: something done that the user should know of (rules of other log types not loaded…), not a problem */
  severity: 'error' | 'warning' | 'note';
  file: string;
  line: number;
  tag: string;
  message: string;
  allowed?: string;
}

/** `FILE:LINE: error: <tag>: message (allowed: …)` */
export function formatIssue(issue: ConfigIssue): string {
  const allowed = issue.allowed ? ` (allowed: ${issue.allowed})` : '';
  return `${issue.file}:${issue.line}: ${issue.severity}: <${issue.tag}>: ${issue.message}${allowed}`;
}

export class ConfigError extends Error {
  readonly code = 'TLD_ERR_CONFIG_INVALID';
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    super(`The configuration has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
