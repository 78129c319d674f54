/**
 * Checks as data, after Linkerd's healthcheck: categories of checkers, each with an id, a sentence
 * that reads as the assertion, a severity, a hint anchor into docs/checks.md, and a `check(ctx)` that
 * returns (pass, or an explicit skip / pass-with-a-note) or throws (fail). One runner executes them —
 * every checker as soon as the checkers it needs have finished, each under its own timeout — and
 * reports each result to an observer as it lands.
 */
import { DOCS_URL } from '../package.ts';
import { describeError } from '../errors.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** A checker's answer when it does not throw: nothing (pass), a note, or an explicit skip or warning. */
export type CheckOutcome = void | string | { readonly status: 'pass' | 'warn' | 'skip'; readonly message: string };

/** Thrown by a checker to say its assertion does not hold; the message says why and what to do. */
export class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
}

/**
 * Thrown by a checker (or a helper it calls) that cannot decide, such as when the user may not read
 * what it needs: the check ends as a warning or a skip with the message, whatever its severity.
 */
export class Inconclusive extends Error {
  override readonly name = 'Inconclusive';
  readonly status: 'warn' | 'skip';

  constructor(status: 'warn' | 'skip', message: string) {
    super(message);
    this.status = status;
  }
}

export interface Checker<C> {
  /** Stable id (`cluster.version`); also the anchor in docs/checks.md. */
  readonly id: string;
  /** The assertion, as a sentence: "the cluster runs a Kubernetes version the chart supports". */
  readonly description: string;
  /** Why the assertion matters and what to do when it does not hold (docs/checks.md). */
  readonly explain: string;
  /** `fatal`: a failed check fails the run (exit 3); `warning`: it only warns (exit 4). */
  readonly severity: 'fatal' | 'warning';
  /** Ids of earlier checkers that must pass (or warn) first; if one fails or is skipped, this one is skipped. */
  readonly needs?: readonly string[];
  /** Default: the runner's timeout. */
  readonly timeoutMs?: number;
  check(ctx: C): Promise<CheckOutcome> | CheckOutcome;
}

export interface Category<C> {
  readonly id: string;
  readonly title: string;
  readonly checkers: readonly Checker<C>[];
}

export interface CheckResult {
  readonly id: string;
  readonly category: string;
  readonly description: string;
  readonly status: CheckStatus;
  readonly message?: string;
  /** Where the check and its fixes are explained. */
  readonly hint: string;
  readonly durationMs: number;
}

export interface RunOptions {
  /** Per checker, unless it sets its own. */
  readonly timeoutMs: number;
  /** Called with each result as soon as it is known (for progressive output). */
  readonly observer?: (result: CheckResult) => void;
}

/** The docs/checks.md anchor of a check id. */
export function checkHint(id: string): string {
  return `${DOCS_URL}/checks.md#${id.replace(/\./g, '-')}`;
}

/** Runs every checker of every category; results come back in declaration order. */
export async function runChecks<C>(categories: readonly Category<C>[], ctx: C, opts: RunOptions): Promise<CheckResult[]> {
  const all = categories.flatMap((cat) => cat.checkers.map((checker) => ({ cat, checker })));
  // A checker may only need checkers declared before it: no cycles, and each need is started first.
  const declared = new Set<string>();
  for (const { checker } of all) {
    for (const need of checker.needs ?? []) if (!declared.has(need)) throw new Error(`check ${checker.id} needs ${need}, which is not declared before it`);
    declared.add(checker.id);
  }
  const pending = new Map<string, Promise<CheckResult>>();
  const runOne = async (cat: Category<C>, checker: Checker<C>): Promise<CheckResult> => {
    const needed = await Promise.all((checker.needs ?? []).map((n) => pending.get(n)!));
    const blocked = needed.find((r) => r.status === 'fail' || r.status === 'skip');
    const base = { id: checker.id, category: cat.id, description: checker.description, hint: checkHint(checker.id) };
    if (blocked) return { ...base, status: 'skip', message: `not checked: "${blocked.description}" did not pass`, durationMs: 0 };
    const t0 = performance.now();
    const timeoutMs = checker.timeoutMs ?? opts.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        Promise.resolve().then(() => checker.check(ctx)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CheckFailed(`did not finish within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`)), timeoutMs);
        }),
      ]);
      const durationMs = Math.round(performance.now() - t0);
      if (outcome === undefined) return { ...base, status: 'pass', durationMs };
      if (typeof outcome === 'string') return { ...base, status: 'pass', message: outcome, durationMs };
      return { ...base, status: outcome.status, message: outcome.message, durationMs };
    } catch (err) {
      if (err instanceof Inconclusive) return { ...base, status: err.status, message: err.message, durationMs: Math.round(performance.now() - t0) };
      const status: CheckStatus = checker.severity === 'fatal' ? 'fail' : 'warn';
      return { ...base, status, message: describeError(err), durationMs: Math.round(performance.now() - t0) };
    } finally {
      clearTimeout(timer);
    }
  };
  for (const { cat, checker } of all) {
    const p = runOne(cat, checker).then((r) => {
      opts.observer?.(r);
      return r;
    });
    pending.set(checker.id, p);
  }
  return Promise.all(all.map(({ checker }) => pending.get(checker.id)!));
}

/** Counts by status. */
export function tally(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const t = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) t[r.status]++;
  return t;
}
