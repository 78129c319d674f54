import { describe, expect, inject, it } from 'vitest';
import type { HelmMajor } from '../../scripts/setup/helm.ts';
import { PRESETS, lint, type Preset } from '../support/chart.ts';

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

  it('fails on a value the schema rejects', async () => {
    const res = await lint(inject('helmPaths')[major], { values: [{ udp: { mode: 'satellite' } }] });
    expect(res.code).not.toBe(0);
    expect(res.stdout + res.stderr).toContain('udp');
  });
});
