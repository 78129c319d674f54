import { describe, expect, inject, it } from 'vitest';
import { ENV } from '../../contract/env.ts';
import { find, render, type Preset } from '../support/chart.ts';

// The capacity arithmetic of templates/_helpers.tpl, as a table: players the release is sized for and
// players per pod in, replica counts and MMO_MAX_PLAYERS out.
const CASES: { name: string; presets?: Preset[]; values?: object; min: number; max: number; perPod: number }[] = [
  { name: 'production preset: 5,000 players at 1,250 per pod', presets: ['production'], min: 5, max: 9, perPod: 1250 },
  { name: 'production preset re-measured at 500 per pod', presets: ['production'], values: { capacity: { playersPerPod: 500 } }, min: 11, max: 21, perPod: 500 },
  { name: 'production preset at 1,200 per pod (rounds up)', presets: ['production'], values: { capacity: { playersPerPod: 1200 } }, min: 6, max: 11, perPod: 1200 },
  { name: 'explicit counts win over the derivation', presets: ['production'], values: { gameServer: { autoscaling: { minReplicas: 3, maxReplicas: 30 } } }, min: 3, max: 30, perPod: 1250 },
  { name: 'no target: defaults', values: { gameServer: { autoscaling: { enabled: true } } }, min: 2, max: 10, perPod: 1000 },
];

describe('capacity sizing', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const manifests = await render(inject('helmPaths')[4], { presets: c.presets ?? [], values: c.values ? [c.values] : [] });
    const hpa = find(manifests, 'HorizontalPodAutoscaler', 'game-mmo-server').spec as { minReplicas: number; maxReplicas: number };
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([c.min, c.max]);
    const cm = find(manifests, 'ConfigMap', 'game-mmo-server') as unknown as { data: Record<string, string> };
    expect(cm.data[ENV.maxPlayers.name]).toBe(String(c.perPod));
  });

  it('sizes replicas from capacity when autoscaling is off', async () => {
    const manifests = await render(inject('helmPaths')[3], { presets: ['production'], values: [{ gameServer: { autoscaling: { enabled: false } } }] });
    expect((find(manifests, 'Deployment', 'game-mmo-server').spec as { replicas: number }).replicas).toBe(5);
  });

  it('scales on players per pod at scaleAtPercent of capacity', async () => {
    const manifests = await render(inject('helmPaths')[4], { presets: ['production'], values: [{ gameServer: { autoscaling: { playersPerPod: { enabled: true } } } }] });
    const metrics = (find(manifests, 'HorizontalPodAutoscaler', 'game-mmo-server').spec as { metrics: { type: string; pods?: { target: { averageValue: string } } }[] }).metrics;
    expect(metrics.find((m) => m.type === 'Pods')?.pods?.target.averageValue).toBe('1000');
  });
});
