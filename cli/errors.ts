/**
 * Errors a command reports to its user. Each carries the exit code it ends the command with
 * (contract/exit-codes.ts) and, where one exists, a hint that itself works. Anything else that
 * escapes a command is unexpected (exit 1) and is shown with its cause chain, not a stack trace.
 */
import { EXIT, type ExitCode } from '../contract/exit-codes.ts';
import type { Style } from './ui/style.ts';

/** One thing wrong with the user's input, located as precisely as the input allows. */
export interface Problem {
  /** Dotted path of the value, as `--set` writes it (`gameServer.replicas`, `ingress.hosts[0]`). */
  readonly key?: string;
  /** Where the value came from: `file.yaml:12:5`, `--set gameServer.replicas=0`, `--profile production`. */
  readonly source?: string;
  /** What is wrong and what was expected. */
  readonly message: string;
  /** A change that fixes it (a `--set`, a command). */
  readonly fix?: string;
}

/** More than a message: a report that explains the error (a preflight's results), for both outputs. */
export interface ErrorDetails {
  /** Fields added to the error document (`-o json|yaml`). */
  readonly document: Record<string, unknown>;
  /** Printed before the error message in human output. */
  readonly human: (style: Style) => string;
}

export interface CliErrorOptions {
  readonly hint?: string;
  readonly problems?: readonly Problem[];
  readonly cause?: unknown;
  readonly details?: ErrorDetails;
}

export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly hint?: string;
  readonly problems: readonly Problem[];
  readonly details?: ErrorDetails;

  constructor(exitCode: ExitCode, message: string, opts: CliErrorOptions = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = opts.hint;
    this.problems = opts.problems ?? [];
    this.details = opts.details;
  }
}

/** Flags, values files or arguments that cannot work. Nothing was sent to the cluster (exit 2). */
export class InvalidInputError extends CliError {
  constructor(message: string, opts: CliErrorOptions = {}) {
    super(EXIT.invalidInput, message, opts);
  }
}

/** The command ran and the answer is no: unreachable cluster, forbidden, a failed check (exit 3). */
export class FailedError extends CliError {
  constructor(message: string, opts: CliErrorOptions = {}) {
    super(EXIT.failed, message, opts);
  }
}

/**
 * Marks an error whose message already says all a user needs (what failed and why): describeError
 * does not add its causes, which would only repeat it at length (an HTTP exchange, helm's stderr).
 */
export interface Complete {
  readonly complete: true;
}

function isComplete(e: unknown): e is Complete {
  return typeof e === 'object' && e !== null && (e as Partial<Complete>).complete === true;
}

/** The message of any thrown value, with its causes (`a: b: c`), never a stack. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg);
    if (isComplete(e)) break;
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ');
}
