/** Exit codes of every `mmoctl` command (troubleshoot style). */
export const EXIT = {
  ok: 0,
  /** An unexpected error: a bug or an unreachable dependency the command did not check for. */
  unexpected: 1,
  /** Invalid input: flags, values files, arguments. Nothing was changed. */
  invalidInput: 2,
  /** The command ran and the answer is "no": checks failed, unhealthy, canary aborted. */
  failed: 3,
  /** Passed, with warnings worth reading. */
  warnings: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
