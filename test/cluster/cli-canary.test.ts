// `mmoctl upgrade --canary` on the rig, with helm 3 and 4, for the canaries that must never be
// promoted whatever the players feel: one that never becomes ready, one that crash-loops, and one
// nobody plays on (kwok's pods serve no metrics, so no window has players). Each is aborted with
// exit 3, and the stable pods are never restarted (same names, same start times). The canary judged
// on live numbers (a good one promoted, a slow one aborted) runs on the live rig.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LABELS } from '../../contract/labels.ts';
import { json, mmoctl } from '../support/cli.ts';
import { HELM_MAJORS, clients, eventually, uniqueName } from './kube.ts';
import { podSecurityNamespace } from './mmo-chart.ts';

const rig = inject('rig');
const admin = clients(rig.kubeconfig);

interface CanaryDoc {
  kind: string;
  decision: string;
  reason: string;
  fromVersion: string;
  toVersion: string;
  steps: { verdict: { outcome: string } }[];
}

describe.each(HELM_MAJORS)('mmoctl upgrade --canary with helm %i aborts a canary it cannot judge well', (major) => {
  let ns = '';
  const cli = (args: string[]) => mmoctl([...args, '-n', ns], { kubeconfig: rig.kubeconfig, helm: inject('helmPaths')[major] });
  const stablePods = async () =>
    (await admin.core.listNamespacedPod({ namespace: ns, labelSelector: `${LABELS.component}=game-server,${LABELS.track}=stable` })).items
      .map((p) => `${p.metadata?.name}@${p.metadata?.creationTimestamp?.toISOString()}`)
      .sort();
  let before: string[] = [];

  beforeAll(async () => {
    ns = await podSecurityNamespace(admin, uniqueName(`canary-h${major}`), 'restricted');
    const r = await cli(['install', '--profile', 'dev', '--version', '1.0.0', '--skip-preflight']);
    if (r.code !== 0) throw new Error(`install failed: ${r.stderr}`);
    before = await stablePods();
  });

  afterAll(async () => {
    await cli(['uninstall', '--yes', '--purge']);
    await admin.core.deleteNamespace({ name: ns }).catch(() => {});
  });

  const noCanaryLeft = () =>
    eventually('the canary Deployment gone', async () => {
      const d = await admin.apps.listNamespacedDeployment({ namespace: ns, labelSelector: `${LABELS.track}=canary` });
      return d.items.length === 0 ? true : undefined;
    });

  it('aborts a canary whose pod is reported never ready, stable untouched', async () => {
    const r = await cli(['upgrade', '--canary', '--profile', 'dev', '--version', '1.1.0', '--set', 'canary.podAnnotations.mmo\\.dev/rig-fault=never-ready', '--timeout', '20s', '-o', 'json']);
    expect(r.code, r.stderr).toBe(3);
    expect(json<CanaryDoc>(r)).toMatchObject({ kind: 'CanaryResult', decision: 'aborted', fromVersion: '1.0.0', toVersion: '1.1.0', reason: expect.stringMatching(/never became ready within 20 s/) });
    await noCanaryLeft();
    expect(await stablePods()).toEqual(before);
  });

  it('aborts a canary as soon as its pod is reported crash-looping, stable untouched', async () => {
    const r = await cli(['upgrade', '--canary', '--profile', 'dev', '--version', '1.1.0', '--set', 'canary.podAnnotations.mmo\\.dev/rig-fault=crashloop', '--timeout', '5m', '-o', 'json']);
    expect(r.code, r.stderr).toBe(3);
    expect(json<CanaryDoc>(r).reason).toMatch(/^the canary crash-loops: mmo-server-canary-\S+ restarted \d+ times/);
    // The reason is the crash loop seen while helm waited, not helm's 5-minute timeout.
    await noCanaryLeft();
    expect(await stablePods()).toEqual(before);
  });

  it('never promotes a canary without players: windows without them are inconclusive, then it aborts', async () => {
    const r = await cli(['upgrade', '--canary', '--profile', 'dev', '--version', '1.1.0', '--interval', '2s', '--steps', '2', '--max-extensions', '1', '-o', 'json']);
    expect(r.code, r.stderr).toBe(3);
    const doc = json<CanaryDoc>(r);
    expect(doc.steps.map((s) => s.verdict.outcome)).toEqual(['inconclusive', 'inconclusive']);
    expect(doc.reason).toBe('too few players to judge the canary in 2 windows');
    await noCanaryLeft();
    expect(await stablePods()).toEqual(before);
    const human = await cli(['history']);
    expect(human.stdout).toMatch(/deployed\s+mmo-[\d.]+\s+1\.0\.0/);
  });

  it('refuses a canary of the version already running, or without a version, as invalid input', async () => {
    expect((await cli(['upgrade', '--canary', '--profile', 'dev', '--version', '1.0.0'])).code).toBe(2);
    const none = await cli(['upgrade', '--canary', '--profile', 'dev']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--canary needs the version to try: --version V/);
  });

  it('refuses --canary-weight on a release outside the Istio mesh as invalid input, changing nothing', async () => {
    const r = await cli(['upgrade', '--canary', '--profile', 'dev', '--version', '1.1.0', '--canary-weight', '10']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--canary-weight 10 routes WebSocket players through the Istio mesh, which release mmo does not run (mesh.istio.enabled is false)');
    await noCanaryLeft();
    expect(await stablePods()).toEqual(before);
  });
});
