/** A rule or list file the engine cannot use; names the file, the line and the rule id. */
export class RuleLoadError extends Error {
  readonly code = 'TLD_ERR_RULES_INVALID';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`The rules cannot be loaded:\n${problems.join('\n')}`);
    this.name = 'RuleLoadError';
    this.problems = problems;
  }
}
