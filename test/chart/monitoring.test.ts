// The PrometheusRule's alerts: each reads contract metrics of this release only, and the ones an
// on-call engineer relies on exist with their thresholds from values.
import { describe, expect, inject, it } from 'vitest';
import { METRICS } from '../../contract/metrics.ts';
import { find, render } from '../support/chart.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
}

async function rules(values: object = {}): Promise<Rule[]> {
  const ms = await render(inject('helmPaths')[4], { includeTests: false, values: [{ monitoring: { prometheusRule: { enabled: true } } }, values] });
  return (find(ms, 'PrometheusRule', 'game-mmo-server').spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
}

/** The alerts an on-call engineer relies on, and the contract metric each reads. */
const ALERTS = [
  ['GameLatencyHigh', METRICS.inputAckLatency.name],
  ['GameTickOverruns', METRICS.tickOverruns.name],
  ['GameRejectedMessagesHigh', METRICS.messagesRejected.name],
  ['GamePlayersNearCapacity', METRICS.maxPlayers.name],
  ['GameDependencyDown', METRICS.dependencyUp.name],
  ['GameSavesFailing', METRICS.storeSaveFailures.name],
] as const;

describe('alerts', () => {
  it('query only metric names of the contract, scoped to the release namespace', async () => {
    const known = new Set<string>(Object.values(METRICS).map((m) => m.name));
    const all = await rules();
    // The loop below proves nothing over an empty list: the six alerts checked by name below, at least.
    expect(all.length).toBeGreaterThanOrEqual(ALERTS.length);
    for (const r of all) {
      const used = [...r.expr.matchAll(/game_server_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, ''));
      expect(used.filter((n) => !known.has(n)), r.alert).toEqual([]);
      expect(r.expr, r.alert).toContain('namespace="mmo"');
    }
  });

  it.each(ALERTS)('%s reads %s', async (alert, metric) => {
    const rule = (await rules()).find((r) => r.alert === alert);
    expect(rule?.expr).toContain(metric);
  });

  it('pages (critical) when saves keep failing for saveFailuresFor', async () => {
    const rule = (await rules({ monitoring: { prometheusRule: { saveFailuresFor: '10m' } } })).find((r) => r.alert === 'GameSavesFailing')!;
    expect(rule.for).toBe('10m');
    expect(rule.labels.severity).toBe('critical');
    expect(rule.expr).toMatch(/increase\(game_server_store_save_failures_total\{[^}]*\}\[5m\]\)\) > 0$/);
  });
});
