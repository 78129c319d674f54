/**
 * Running the preflight checks and rendering their results: ✔/‼/×/○ lines grouped by category for
 * people, a `PreflightReport` document for machines.
 */
import { EXIT, type ExitCode } from '../../contract/exit-codes.ts';
import type { ReleaseRef } from '../helm/helm.ts';
import { document, type Document } from '../ui/output.ts';
import type { Style } from '../ui/style.ts';
import { PreflightContext, type PreflightInput } from './context.ts';
import { PREFLIGHT } from './preflight.ts';
import { runChecks, tally, type Category, type CheckResult, type CheckStatus } from './runner.ts';

/** Per check, unless it sets its own. */
export const CHECK_TIMEOUT_MS = 30_000;

export interface PreflightReport {
  readonly release: string;
  readonly namespace: string;
  readonly results: readonly CheckResult[];
  readonly summary: Record<CheckStatus, number>;
  readonly durationMs: number;
}

/** Runs every preflight check once. */
export async function runPreflight(input: PreflightInput, categories: readonly Category<PreflightContext>[] = PREFLIGHT): Promise<PreflightReport> {
  const t0 = performance.now();
  const results = await runChecks(categories, new PreflightContext(input), { timeoutMs: CHECK_TIMEOUT_MS });
  return { release: input.ref.release, namespace: input.ref.namespace, results, summary: tally(results), durationMs: Math.round(performance.now() - t0) };
}

/** 3 when a check failed, 4 when one warned, else 0. */
export function checksExitCode(summary: Record<CheckStatus, number>): ExitCode {
  return summary.fail ? EXIT.failed : summary.warn ? EXIT.warnings : EXIT.ok;
}

export function preflightDocument(r: PreflightReport): Document {
  return document('PreflightReport', { ...r, passed: r.summary.fail === 0 });
}

/** Results grouped by category, each check on one line; what failed or warned with its message and hint. */
export function renderChecks(results: readonly CheckResult[], titles: ReadonlyMap<string, string>, s: Style): string {
  const lines: string[] = [];
  let category = '';
  for (const r of results) {
    if (r.category !== category) {
      category = r.category;
      if (lines.length) lines.push('');
      lines.push(s.bold(titles.get(category) ?? category));
    }
    const inline = r.status === 'pass' && r.message && !r.message.includes('\n');
    lines.push(`${s.mark(r.status)} ${r.description}${inline ? s.dim(`  ${r.message}`) : ''}`);
    if (r.message && !inline) {
      for (const l of r.message.split('\n')) lines.push(`    ${r.status === 'skip' || r.status === 'pass' ? s.dim(l) : l}`);
    }
    if (r.status === 'fail' || r.status === 'warn') lines.push(`    ${s.dim(`see ${r.hint}`)}`);
  }
  return lines.join('\n');
}

export function renderSummary(what: string, summary: Record<CheckStatus, number>, durationMs: number, s: Style): string {
  const parts = [`${summary.pass} passed`];
  if (summary.warn) parts.push(s.warn(`${summary.warn} ${summary.warn === 1 ? 'warning' : 'warnings'}`));
  if (summary.fail) parts.push(s.fail(`${summary.fail} failed`));
  if (summary.skip) parts.push(`${summary.skip} skipped`);
  const verdict = summary.fail ? s.fail('×') : summary.warn ? s.warn('‼') : s.ok('✔');
  return `${verdict} ${what}: ${parts.join(', ')} (${(durationMs / 1000).toFixed(1)} s)`;
}

export function renderPreflight(r: PreflightReport, s: Style): string {
  const titles = new Map(PREFLIGHT.map((c) => [c.id, c.title]));
  return `${renderChecks(r.results, titles, s)}\n\n${renderSummary(`preflight of ${r.namespace}/${r.release}`, r.summary, r.durationMs, s)}\n`;
}

export type { ReleaseRef };
