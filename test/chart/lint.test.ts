import { describe, expect, inject, it } from 'vitest';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { PRESETS, lint, type Preset } from '../support/chart.ts';
import { keySegments, parseProblems, schemaErrorPaths } from '../support/problems.ts';
import { CORPUS } from './bad-values.ts';

const majors: HelmMajor[] = [3, 4];

describe.each(majors)('helm %i lint --strict', (major) => {
  const cases: [string, readonly Preset[]][] = [['chart defaults', []], ...PRESETS.map((p): [string, Preset[]] => [`preset ${p}`, [p]])];
  it.each(cases)('passes with %s', async (_name, presets) => {
    // helm lint has no --api-versions, so it never sees prometheus-operator's kinds and the chart
    // refuses the monitoring toggles (the chart suite renders those templates with the kinds).
    const noMonitoring = { monitoring: { serviceMonitor: { enabled: false }, prometheusRule: { enabled: false } } };
    const res = await lint(inject('helmPaths')[major], { presets, values: [noMonitoring] });
    expect(res.stderr + res.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(res.code).toBe(0);
  });

  // The bad-values corpus: lint fails wherever install would, the chart's own rules included (they
  // reach lint as the same message, see mmo.validateValues), and names the key.
  describe.concurrent('fails on every value of the bad-values corpus', () => {
    it.for(CORPUS.filter((c) => !c.notUnderLint).map((c) => [`${c.class}: ${c.name}`, c] as const))('%s', async ([, c], { expect }) => {
      const res = await lint(inject('helmPaths')[major], { presets: c.presets ?? [], values: [c.values] });
      const output = res.stdout + res.stderr;
      expect(res.code, output).not.toBe(0);
      expect(output).toMatch(/1 chart\(s\) linted, 1 chart\(s\) failed/);
      const problems = parseProblems(output);
      if (problems.length) expect(problems.map((p) => p.key)).toContain(c.key);
      else expect(schemaErrorPaths(output)).toContain(keySegments(c.key).join('.'));
    });
  });
});

describe('the lint corpus', () => {
  it('leaves out only cases lint cannot see, each saying why', () => {
    const skipped = CORPUS.filter((c) => c.notUnderLint);
    expect(skipped.length).toBeLessThanOrEqual(3);
    for (const c of skipped) expect(c.notUnderLint!.length).toBeGreaterThan(20);
  });
});
